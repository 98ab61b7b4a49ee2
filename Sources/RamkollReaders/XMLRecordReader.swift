// The only file that imports libxml2. No libxml2 type crosses its API.
import CLibXML2

/// One record read from an XML extract: the values found at the requested field paths.
public struct XMLRecord: Sendable {
    /// 1-based index of the record element in the file (the n-th matching element).
    public let index: Int
    /// Line where the record element starts.
    public let line: Int
    /// Field path → values in document order (repeated child elements give several).
    public let values: [String: [String]]

    public func first(_ path: String) -> String? { values[path]?.first }
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
    private let wanted: Set<String>
    private let reader: xmlTextReaderPtr
    private let errors = ErrorSink()

    /// Attributes of the open elements outside the current record (name, attributes).
    private var ancestors: [(name: String, attributes: [String: String])] = []
    /// The wanted `../@x` and `ancestor::Name/@x` fields, parsed once: the key, how many levels up
    /// (or the ancestor's name) and the attribute.
    private let ancestorFields: [(key: String, up: Int?, name: String?, attribute: String)]
    /// The attribute names those fields read (other attributes of elements outside a record are
    /// not kept), and whether a field reads the record's own text (`.`).
    private let ancestorAttributes: Set<String>
    private let wantsOwnText: Bool
    /// Element names by libxml2's interned name pointer (names repeat in every record).
    private var names: [(pointer: UnsafePointer<xmlChar>, name: String)] = []
    /// Element paths inside a record, made once: path 0 is the record itself; `children[i]` are
    /// the paths under path i by name pointer; `wantedPath[i]` whether a field reads it.
    private var paths: [String] = [""]
    private var wantedPath: [Bool] = [false]
    private var children: [[(pointer: UnsafePointer<xmlChar>, path: Int)]] = [[]]
    private var recordCount = 0
    private var finished = false

    public init(path: String, recordElement: String, fieldPaths: [String]) throws {
        try XMLRecordReader.refuseEntityDeclarations(path)
        self.path = path
        self.recordElement = recordElement
        self.wanted = Set(fieldPaths)
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
        ancestorFields = specs
        ancestorAttributes = Set(specs.map(\.attribute))
        wantsOwnText = wanted.contains(".")
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
        for n in names where n.pointer == p { return n.name }
        let name = String(cString: p)
        // The dictionary interns names, so a pointer stands for its name while the reader lives;
        // a document with very many distinct names is not cached beyond these.
        if names.count < 256 { names.append((p, name)) }
        return name
    }

    /// The path of the current element under path `parent` (made and remembered on first sight).
    private func childPath(of parent: Int) -> Int {
        let p = xmlTextReaderConstLocalName(reader)
        if let p { for c in children[parent] where c.pointer == p { return c.path } }
        let name = localName()
        let path = parent == 0 ? name : paths[parent] + "/" + name
        paths.append(path); wantedPath.append(wanted.contains(path)); children.append([])
        if let p, children[parent].count < 256 { children[parent].append((p, paths.count - 1)) }
        return paths.count - 1
    }

    /// The current element's attributes that `key` names (by the attribute's local name),
    /// calling `found` with the key and the value; the values of others are not made into strings.
    private func attributes(_ key: (UnsafePointer<xmlChar>) -> String?, _ found: (String, String) -> Void) {
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

    /// Attribute keys by element path and interned attribute name: the field key it is read
    /// under (`@x`, `Child/@x`), or nil when no field reads it. Path -1 is "outside the record":
    /// the key is the bare name when an ancestor field reads an attribute of that name.
    private var attributeKeys: [Int: [(pointer: UnsafePointer<xmlChar>, key: String?)]] = [:]
    private func attributeKey(path: Int, _ n: UnsafePointer<xmlChar>) -> String? {
        if let known = attributeKeys[path] { for a in known where a.pointer == n { return a.key } }
        let name = String(cString: n)
        let key: String?
        if path < 0 {
            key = ancestorAttributes.contains(name) ? name : nil
        } else {
            let k = path == 0 ? "@" + name : paths[path] + "/@" + name
            key = wanted.contains(k) ? k : nil
        }
        if attributeKeys[path, default: []].count < 256 { attributeKeys[path, default: []].append((n, key)) }
        return key
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
                    if !ancestorAttributes.isEmpty { attributes({ attributeKey(path: -1, $0) }) { a[$0] = $1 } }
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
        var values: [String: [String]] = [:]
        values.reserveCapacity(wanted.count)
        attributes({ attributeKey(path: 0, $0) }) { values[$0, default: []].append($1) }
        // Ancestor fields.
        for f in ancestorFields {
            if let up = f.up {
                if up <= ancestors.count, let v = ancestors[ancestors.count - up].attributes[f.attribute] { values[f.key] = [v] }
            } else if let a = ancestors.last(where: { $0.name == f.name }), let v = a.attributes[f.attribute] {
                values[f.key] = [v]
            }
        }
        if !empty {
            var stack: [Int] = []  // relative element paths inside the record (see `paths`)
            var text: [String] = []  // accumulated text per open element (kept only where a field reads it)
            var ownText = ""
            loop: while true {
                let rc = xmlTextReaderRead(reader)
                if rc <= 0 { finished = true; throw fail() }
                switch xmlTextReaderNodeType(reader) {
                case 1:
                    let rel = childPath(of: stack.last ?? 0)
                    attributes({ attributeKey(path: rel, $0) }) { values[$0, default: []].append($1) }
                    if xmlTextReaderIsEmptyElement(reader) == 1 {
                        if wantedPath[rel] { values[paths[rel], default: []].append("") }
                    } else {
                        stack.append(rel); text.append("")
                    }
                case 3, 4, 14:
                    if stack.isEmpty ? wantsOwnText : wantedPath[stack[stack.count - 1]], let v = xmlTextReaderConstValue(reader) {
                        if text.isEmpty { ownText += String(cString: v) } else { text[text.count - 1] += String(cString: v) }
                    }
                case 15:
                    if stack.isEmpty { break loop }
                    let rel = stack.removeLast(), t = text.removeLast()
                    if wantedPath[rel] { values[paths[rel], default: []].append(t) }
                default:
                    break
                }
            }
            if wantsOwnText { values[".", default: []].append(ownText) }
        }
        return XMLRecord(index: recordCount, line: line, values: values)
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
