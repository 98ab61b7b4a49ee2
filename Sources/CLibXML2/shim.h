#ifndef RAMKOLL_CLIBXML2_SHIM_H
#define RAMKOLL_CLIBXML2_SHIM_H
/* Debian's libxml2 is built with ICU, so its encoding.h pulls in the system's ICU headers
 * (<unicode/ucnv.h>). Swift's Foundation carries its own, newer ICU as the module _FoundationICU;
 * with both in one compilation clang may refuse UErrorCode as "different definitions in
 * different modules", depending on which module it loads first. Ramkoll never touches libxml2's
 * ICU converter (it reads UTF-8 and declares nothing else), so the module is built without it:
 * the only difference is two trailing fields of xmlCharEncodingHandler, a struct Ramkoll only
 * ever holds by pointer. */
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/xmlreader.h>
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#endif
