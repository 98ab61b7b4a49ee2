// The only file that imports libxml2. No libxml2 type crosses its API.
import CLibXML2

/// The field paths a reader was asked for, numbered (shared by all its records).
public final class XMLFields: Sendable {
    public let paths: [String]
    let ordinals: [String: Int32]
    init(_ paths: [String]) {
        self.paths = paths
        ordinals = Dictionary(uniqueKeysWithValues: paths.enumerated().map { ($1, Int32($0)) })
    }
}

/// One record read from an XML extract: the values found at the requested field paths.
public struct XMLRecord: Sendable {
    /// 1-based index of the record element in the file (the n-th matching element).
    public let index: Int
    /// Line where the record element starts.
    public let line: Int
    /// The values in document order, each with its path's ordinal in `fields` (one array per
    /// record, not a dictionary of arrays).
    let found: [(field: Int32, value: String)]
    let fields: XMLFields

    init(index: Int, line: Int, found: [(field: Int32, value: String)], fields: XMLFields) {
        self.index = index; self.line = line; self.found = found; self.fields = fields
    }

    /// A record with these values (tests).
    public init(index: Int, line: Int, values: [String: [String]]) {
        let fields = XMLFields(values.keys.sorted())
        var found: [(field: Int32, value: String)] = []
        for (k, vs) in values.sorted(by: { $0.key < $1.key }) { for v in vs { found.append((fields.ordinals[k]!, v)) } }
        self.init(index: index, line: line, found: found, fields: fields)
    }

    /// The first value at `path`, or nil.
    public func first(_ path: String) -> String? {
        guard let f = fields.ordinals[path] else { return nil }
        for e in found where e.field == f { return e.value }
        return nil
    }

    /// Every value at `path` in document order (repeated elements give several).
    public func all(_ path: String) -> [String] {
        guard let f = fields.ordinals[path] else { return [] }
        return found.filter { $0.field == f }.map(\.value)
    }

    /// Field path → values in document order.
    public var values: [String: [String]] {
        var out: [String: [String]] = [:]
        for e in found { out[fields.paths[Int(e.field)], default: []].append(e.value) }
        return out
    }
}

/// Streams records out of an XML file with libxml2's xmlTextReader.
///
/// A record is every element whose local name is `recordElement`. Fields are paths relative to it:
///
/// | path                    | means                                              |
/// |-------------------------|----------------------------------------------------|
/// | `@start`                | attribute of the record element                    |
/// | `Vardform`              | text of a child element (`A/B` for deeper ones)    |
/// | `Person/@pnr`           | attribute of a child element                       |
/// | `../@enhet`             | attribute of the parent (`../../@x` further up)    |
/// | `ancestor::Arende/@id`  | attribute of the nearest ancestor with that name   |
///
/// Network access, DTD loading and entity substitution are off; memory holds one record at a time.
public final class XMLRecordReader {
    public let path: String
    public let recordElement: String
    private let fields: XMLFields
    private let reader: xmlTextReaderPtr
    private let errors = ErrorSink()

    /// Attributes of the open elements outside the current record (name, attributes).
    private var ancestors: [(name: String, attributes: [String: String])] = []
    /// The wanted `../@x` and `ancestor::Name/@x` fields, parsed once: the key, how many levels up
    /// (or the ancestor's name) and the attribute.
    private let ancestorFields: [(key: Int32, up: Int?, name: String?, attribute: String)]
    /// The attribute names those fields read (other attributes of elements outside a record are
    /// not kept), and whether a field reads the record's own text (`.`).
    private let ancestorAttributes: Set<String>
    private let ownText: Int32  // the ordinal of `.`, or -1
    /// Element names by libxml2's interned name pointer (names repeat in every record).
    private var names = ByName<String>()
    /// Element paths inside a record, made once: path 0 is the record itself; `children[i]` are
    /// the paths under path i by name pointer; `wantedPath[i]` the field ordinal that reads it
    /// (-1: none).
    private var paths: [String] = [""]
    private var wantedPath: [Int32] = [-1]
    private var children: [ByName<Int>] = [ByName()]
    private var recordCount = 0
    private var finished = false

    /// libxml2 asks programs that use it from several threads to initialize it once first (the
    /// records are parsed on a reader thread: `XMLSource`). Swift runs this once, thread-safely.
    private static let libraryInitialized: Void = xmlInitParser()

    public init(path: String, recordElement: String, fieldPaths: [String]) throws {
        XMLRecordReader.libraryInitialized
        try XMLRecordReader.refuseEntityDeclarations(path)
        self.path = path
        self.recordElement = recordElement
        let fields = XMLFields(Set(fieldPaths).sorted())
        self.fields = fields
        var specs: [(key: String, up: Int?, name: String?, attribute: String)] = []
        for key in Set(fieldPaths).sorted() {
            if key.hasPrefix("../") {
                var rest = Substring(key)
                var up = 0
                while rest.hasPrefix("../") { up += 1; rest = rest.dropFirst(3) }
                if rest.hasPrefix("@") { specs.append((key, up, nil, String(rest.dropFirst()))) }
            } else if key.hasPrefix("ancestor::") {
                let parts = key.dropFirst("ancestor::".count).split(separator: "/", maxSplits: 1)
                if parts.count == 2, parts[1].hasPrefix("@") { specs.append((key, nil, String(parts[0]), String(parts[1].dropFirst()))) }
            }
        }
        ancestorFields = specs.map { (fields.ordinals[$0.key]!, $0.up, $0.name, $0.attribute) }
        ancestorAttributes = Set(specs.map(\.attribute))
        ownText = fields.ordinals["."] ?? -1
        // NONET: no network. Not NOENT (no entity substitution), not DTDLOAD/DTDATTR (no external DTD).
        let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOCDATA.rawValue | XML_PARSE_COMPACT.rawValue)
        guard let r = xmlReaderForFile(path, nil, options) else {
            throw ReaderError(file: path, line: nil, "cannot open XML file")
        }
        reader = r
        xmlTextReaderSetErrorHandler(
            r,
            { arg, msg, _, locator in
                guard let arg, let msg else { return }
                let sink = Unmanaged<ErrorSink>.fromOpaque(arg).takeUnretainedValue()
                let line = locator.map { Int(xmlTextReaderLocatorLineNumber($0)) } ?? 0
                let text = String(cString: msg).trimmingTrailingNewlines()
                if sink.first == nil { sink.first = (line, text) }
            }, Unmanaged.passUnretained(errors).toOpaque())
    }

    deinit { xmlFreeTextReader(reader) }

    /// A case-system export has no reason to declare entities; a document that does (the "billion
    /// laughs" expansion bomb, an external entity reading a local file or a URL) is refused before
    /// libxml2 sees it. Only the prolog, before the first element, is scanned.
    static func refuseEntityDeclarations(_ path: String) throws {
        var prolog: [UInt8] = []
        try FileChunks.readWhile(path) { chunk in
            var i = 0
            while i < chunk.count {
                let b = chunk[i]
                prolog.append(b)
                // The first element: '<' followed by a name character ends the prolog.
                if prolog.count >= 2, prolog[prolog.count - 2] == UInt8(ascii: "<"),
                    (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == UInt8(ascii: "_")
                {
                    return false
                }
                i += 1
            }
            return prolog.count <= 1 << 20  // no element in the first MiB: scan no further
        }
        let needle = Array("<!ENTITY".utf8)
        if prolog.count >= needle.count,
            let at = (0...(prolog.count - needle.count)).first(where: { prolog[$0..<($0 + needle.count)].elementsEqual(needle) })
        {
            let line = prolog[..<at].filter { $0 == 0x0A }.count + 1
            throw ReaderError(
                file: path, line: line,
                "the document declares entities (<!ENTITY …>); Ramkoll neither expands nor loads entities, and an export has no reason to declare them — the file is refused (ask for a plain extract)"
            )
        }
    }

    private func fail() -> ReaderError {
        if let (line, text) = errors.first {
            return ReaderError(file: path, line: line, "XML is not well-formed: \(text)")
        }
        return ReaderError(file: path, line: Int(xmlTextReaderGetParserLineNumber(reader)), "XML is not well-formed")
    }

    private func localName() -> String {
        guard let p = xmlTextReaderConstLocalName(reader) else { return "" }
        if let name = names.find(p) { return name }
        let name = String(cString: p)
        names.remember(p, name)
        return name
    }

    /// The path of the current element under path `parent` (made and remembered on first sight).
    private func childPath(of parent: Int) -> Int {
        let p = xmlTextReaderConstLocalName(reader)
        if let p, let known = children[parent].find(p) { return known }
        let name = localName()
        let path = parent == 0 ? name : paths[parent] + "/" + name
        paths.append(path); wantedPath.append(fields.ordinals[path] ?? -1); children.append(ByName())
        if let p { children[parent].remember(p, paths.count - 1) }
        return paths.count - 1
    }

    /// The current element's attributes that `key` names (by the attribute's interned local
    /// name), calling `found` with the key and the value; the values of others are not made into
    /// strings.
    private func attributes<K>(_ key: (UnsafePointer<xmlChar>) -> K?, _ found: (K, String) -> Void) {
        guard xmlTextReaderHasAttributes(reader) == 1 else { return }
        if xmlTextReaderMoveToFirstAttribute(reader) == 1 {
            repeat {
                if let n = xmlTextReaderConstLocalName(reader), let k = key(n), let v = xmlTextReaderConstValue(reader) {
                    found(k, String(cString: v))
                }
            } while xmlTextReaderMoveToNextAttribute(reader) == 1
            xmlTextReaderMoveToElement(reader)
        }
    }

    /// Field ordinals of attributes by element path inside a record and interned attribute name
    /// (-1: no field reads it).
    private var attributeFields: [ByName<Int32>] = [ByName()]
    private func attributeField(path: Int, _ n: UnsafePointer<xmlChar>) -> Int32? {
        while attributeFields.count <= path { attributeFields.append(ByName()) }
        let field: Int32
        if let known = attributeFields[path].find(n) {
            field = known
        } else {
            let name = String(cString: n)
            field = fields.ordinals[path == 0 ? "@" + name : paths[path] + "/@" + name] ?? -1
            attributeFields[path].remember(n, field)
        }
        return field < 0 ? nil : field
    }

    /// Attribute names an ancestor field reads, by interned name (nil: none reads it).
    private var ancestorAttributeNames = ByName<String?>()
    private func ancestorAttribute(_ n: UnsafePointer<xmlChar>) -> String? {
        if let known = ancestorAttributeNames.find(n) { return known }
        let name = String(cString: n)
        let wantedName = ancestorAttributes.contains(name) ? name : nil
        ancestorAttributeNames.remember(n, wantedName)
        return wantedName
    }

    /// The next record, or nil at the end of the document. Throws if the XML is not well-formed.
    public func next() throws -> XMLRecord? {
        if finished { return nil }
        while true {
            let rc = xmlTextReaderRead(reader)
            if rc == 0 {
                finished = true
                if errors.first != nil { throw fail() }
                return nil
            }
            if rc < 0 { finished = true; throw fail() }
            let type = xmlTextReaderNodeType(reader)
            if type == 1 {  // element start
                let name = localName()
                let empty = xmlTextReaderIsEmptyElement(reader) == 1
                if name == recordElement {
                    recordCount += 1
                    return try readRecord(empty: empty)
                }
                if !empty {
                    var a: [String: String] = [:]
                    if !ancestorAttributes.isEmpty { attributes({ ancestorAttribute($0) }) { a[$0] = $1 } }
                    ancestors.append((name, a))
                }
            } else if type == 15 {  // element end
                if !ancestors.isEmpty { ancestors.removeLast() }
            }
        }
    }

    private func readRecord(empty: Bool) throws -> XMLRecord {
        // The element's own line (the parser's position may be ahead of it).
        let node = xmlTextReaderCurrentNode(reader)
        let line = node.map { Int(xmlGetLineNo($0)) } ?? Int(xmlTextReaderGetParserLineNumber(reader))
        var found: [(field: Int32, value: String)] = []
        found.reserveCapacity(fields.paths.count + 2)
        attributes({ attributeField(path: 0, $0) }) { found.append(($0, $1)) }
        // Ancestor fields.
        for f in ancestorFields {
            if let up = f.up {
                if up <= ancestors.count, let v = ancestors[ancestors.count - up].attributes[f.attribute] { found.append((f.key, v)) }
            } else if let a = ancestors.last(where: { $0.name == f.name }), let v = a.attributes[f.attribute] {
                found.append((f.key, v))
            }
        }
        if !empty {
            var stack: [Int] = []  // relative element paths inside the record (see `paths`)
            var text: [String] = []  // accumulated text per open element (kept only where a field reads it)
            var own = ""
            loop: while true {
                let rc = xmlTextReaderRead(reader)
                if rc <= 0 { finished = true; throw fail() }
                switch xmlTextReaderNodeType(reader) {
                case 1:
                    let rel = childPath(of: stack.last ?? 0)
                    attributes({ attributeField(path: rel, $0) }) { found.append(($0, $1)) }
                    if xmlTextReaderIsEmptyElement(reader) == 1 {
                        if wantedPath[rel] >= 0 { found.append((wantedPath[rel], "")) }
                    } else {
                        stack.append(rel); text.append("")
                    }
                case 3, 4, 14:
                    if (stack.isEmpty ? ownText : wantedPath[stack[stack.count - 1]]) >= 0, let v = xmlTextReaderConstValue(reader) {
                        if text.isEmpty { own += String(cString: v) } else { text[text.count - 1] += String(cString: v) }
                    }
                case 15:
                    if stack.isEmpty { break loop }
                    let rel = stack.removeLast(), t = text.removeLast()
                    if wantedPath[rel] >= 0 { found.append((wantedPath[rel], t)) }
                default:
                    break
                }
            }
            if ownText >= 0 { found.append((ownText, own)) }
        }
        return XMLRecord(index: recordCount, line: line, found: found, fields: fields)
    }

}

/// Values remembered by libxml2's interned name pointer: the reader's dictionary interns names, so
/// a pointer stands for its name while the reader lives. At most 256 are kept (a document with very
/// many distinct names is not cached beyond these).
private struct ByName<V> {
    private var entries: [(pointer: UnsafePointer<xmlChar>, value: V)] = []
    func find(_ p: UnsafePointer<xmlChar>) -> V? {
        for e in entries where e.pointer == p { return e.value }
        return nil
    }
    mutating func remember(_ p: UnsafePointer<xmlChar>, _ v: V) {
        if entries.count < 256 { entries.append((p, v)) }
    }
}

private final class ErrorSink {
    var first: (Int, String)?
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var s = self
        while s.last == "\n" || s.last == "\r" { s.removeLast() }
        return s
    }
}
