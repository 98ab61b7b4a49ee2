// The only file that imports libxml2. No libxml2 type crosses its API.
internal import CLibXML2

#if canImport(Glibc)
    import Glibc
#endif

/// The field paths a reader was asked for, numbered (shared by all its records).
public final class XMLFields: Sendable {
    public let paths: [String]
    let ordinals: [String: Int32]
    init(_ paths: [String]) {
        self.paths = paths
        ordinals = Dictionary(uniqueKeysWithValues: paths.enumerated().map { ($1, Int32($0)) })
    }
}

/// A value and the number of its field path (a struct, not a tuple: arrays of it are copied
/// and freed by specialized code, not by the runtime's generic tuple witnesses).
struct FieldValue: Sendable {
    let field: Int32
    let value: String
    init(_ field: Int32, _ value: String) { self.field = field; self.value = value }
}

/// One record read from an XML extract: the values found at the requested field paths.
public struct XMLRecord: Sendable {
    /// 1-based index of the record element in the file (the n-th matching element).
    public let index: Int
    /// Line where the record element starts.
    public let line: Int
    /// The values of the records of one chunk of the file in document order, each with its
    /// path's ordinal in `fields`; this record's are `range`. One array for the records a chunk
    /// holds (not one per record, nor a dictionary of arrays): the reader's thread makes it once
    /// and the importer's thread frees it once.
    let chunk: [FieldValue]
    let range: Range<Int>
    let fields: XMLFields

    init(index: Int, line: Int, chunk: [FieldValue], range: Range<Int>, fields: XMLFields) {
        self.index = index; self.line = line; self.chunk = chunk; self.range = range; self.fields = fields
    }

    /// A record with these values (tests).
    public init(index: Int, line: Int, values: [String: [String]]) {
        let fields = XMLFields(values.keys.sorted())
        var found: [FieldValue] = []
        for (k, vs) in values.sorted(by: { $0.key < $1.key }) { for v in vs { found.append(FieldValue(fields.ordinals[k]!, v)) } }
        self.init(index: index, line: line, chunk: found, range: found.indices, fields: fields)
    }

    /// The first value at `path`, or nil.
    public func first(_ path: String) -> String? {
        guard let f = fields.ordinals[path] else { return nil }
        return first(ordinal: f)
    }

    /// Every value at `path` in document order (repeated elements give several).
    public func all(_ path: String) -> [String] {
        guard let f = fields.ordinals[path] else { return [] }
        return all(ordinal: f)
    }

    /// The number of `path` among the paths the reader was asked for — the same for every record
    /// of one reader, so an importer looks its paths up once, not per record — or nil.
    public func ordinal(of path: String) -> Int32? { fields.ordinals[path] }

    /// The first value of the path numbered `f` (see `ordinal(of:)`), or nil.
    public func first(ordinal f: Int32) -> String? {
        for k in range where chunk[k].field == f { return chunk[k].value }
        return nil
    }

    /// Every value of the path numbered `f`, in document order.
    public func all(ordinal f: Int32) -> [String] {
        var out: [String] = []
        for k in range where chunk[k].field == f { out.append(chunk[k].value) }
        return out
    }

    /// Every value in document order with its path: an element's attributes as it starts, its
    /// text as it ends (so a child's values come before its parent's text).
    public func inOrder(_ body: (_ path: String, _ value: String) throws -> Void) rethrows {
        for e in chunk[range] { try body(fields.paths[Int(e.field)], e.value) }
    }

    /// Field path → values in document order.
    public var values: [String: [String]] {
        var out: [String: [String]] = [:]
        for e in chunk[range] { out[fields.paths[Int(e.field)], default: []].append(e.value) }
        return out
    }
}

/// Streams records out of an XML file with libxml2's SAX2 push parser.
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
/// Hostile documents are refused by the parser's own callbacks, not by a scan of the text: a
/// document type declaration (which is where entities, default attributes and external subsets
/// are declared) stops the parse where libxml2 reports it, and so does any reference to an entity
/// other than the five XML predefines. Network access is off; no tree is built; memory holds the
/// records of one chunk of the file, and the element paths the fields name (not every name a
/// document uses). A record inside another record is an error; so is a field value over 1 MiB.
public final class XMLRecordReader {
    public let path: String
    public let recordElement: String
    private let fields: XMLFields

    /// The longest value a field may have.
    public static let maximumValueBytes = 1 << 20
    /// Bytes handed to the parser at a time.
    static let chunkBytes = 1 << 16

    private var ctxt: xmlParserCtxtPtr?
    private let fd: Int32
    private var buffer: [CChar]
    private var atEnd = false
    private var finished = false
    /// Records parsed and not yet returned, then the error that stopped the parse (returned after them).
    private var queue: [XMLRecord] = []
    private var queueHead = 0
    private var pending: ReaderError?

    /// The open elements outside the current record, as two flat stacks (nothing made per
    /// element once they have grown): their names, and for each the values of the attributes
    /// ancestor fields read — `ancestorAttributes.count` slots an element, nil where it has none.
    private var ancestorNames: [String] = []
    private var ancestorValues: [String?] = []
    /// Names of elements outside records by interned name pointer, and whether each is the record element.
    private struct OutsideName { let name: String; let isRecord: Bool }
    private var outsideNames = ByName<OutsideName>()
    /// The wanted `../@x` and `ancestor::Name/@x` fields, parsed once; `attribute` is the slot of
    /// the attribute's name in `ancestorAttributes`.
    private let ancestorFields: [(key: Int32, up: Int?, name: String?, attribute: Int)]
    private let ancestorAttributes: [String]
    private let ownText: Int32  // the ordinal of `.`, or -1
    /// Element paths inside a record that a field reads or passes through: path 0 is the record
    /// itself; `pathIDs` finds the others by text, `children[i]` by interned name pointer under
    /// path i (-1: no field looks below it). Made once from the fields, so a document's names do
    /// not grow it.
    private let paths: [String]
    /// How many element paths the reader knows (fixed by the fields; tests).
    var knownPaths: Int { paths.count }
    private let pathIDs: [String: Int]
    private let wantedPath: [Int32]
    private var children: [ByName<Int>]
    private var attributeFields: [ByName<Int32>]
    private var ancestorAttributeNames = ByName<Int?>()
    private var recordCount = 0
    /// The root element has begun (a problem before it is the prolog's: `init` throws it).
    private var sawElement = false

    // The record being read.
    private var inRecord = false
    private var recordLine = 0
    private var found: [FieldValue] = []
    /// The records completed in the chunk being parsed: their values, and each one's number, line
    /// and values. `sealChunk` makes them records once the chunk is parsed.
    private var chunkValues: [FieldValue] = []
    private var chunkRecords: [(index: Int, line: Int, range: Range<Int>)] = []
    private var stack: [Int] = []  // path ids of the open elements inside the record (-1: not read)
    private var text: [String] = []  // their text, where a field reads it
    private var own = ""

    /// libxml2 asks programs that use it from several threads to initialize it once first (the
    /// records are parsed on a reader thread: `XMLSource`). Swift runs this once, thread-safely.
    private static let libraryInitialized: Void = xmlInitParser()

    /// Opens the document and parses its prolog (up to the first element): a document type
    /// declaration or a broken prolog throws here.
    public init(path: String, recordElement: String, fieldPaths: [String]) throws {
        XMLRecordReader.libraryInitialized
        self.path = path
        self.recordElement = recordElement
        let fields = XMLFields(Set(fieldPaths).sorted())
        self.fields = fields
        var specs: [(key: String, up: Int?, name: String?, attribute: String)] = []
        var elementPaths: Set<String> = []
        for key in Set(fieldPaths).sorted() {
            if key.hasPrefix("../") {
                var rest = Substring(key)
                var up = 0
                while rest.hasPrefix("../") { up += 1; rest = rest.dropFirst(3) }
                if rest.hasPrefix("@") { specs.append((key, up, nil, String(rest.dropFirst()))) }
            } else if key.hasPrefix("ancestor::") {
                let parts = key.dropFirst("ancestor::".count).split(separator: "/", maxSplits: 1)
                if parts.count == 2, parts[1].hasPrefix("@") { specs.append((key, nil, String(parts[0]), String(parts[1].dropFirst()))) }
            } else if key != "." && !key.hasPrefix("@") {
                // Every element prefix of `A/B/@c` or `A/B`: A, A/B.
                let steps = key.split(separator: "/").filter { !$0.hasPrefix("@") }
                for i in steps.indices { elementPaths.insert(steps[...i].joined(separator: "/")) }
            }
        }
        let attributeNames = Set(specs.map(\.attribute)).sorted()
        ancestorFields = specs.map { (fields.ordinals[$0.key]!, $0.up, $0.name, attributeNames.firstIndex(of: $0.attribute)!) }
        ancestorAttributes = attributeNames
        ownText = fields.ordinals["."] ?? -1
        paths = [""] + elementPaths.sorted()
        pathIDs = Dictionary(uniqueKeysWithValues: paths.enumerated().map { ($1, $0) })
        wantedPath = paths.map { fields.ordinals[$0] ?? -1 }
        children = paths.map { _ in ByName() }
        attributeFields = paths.map { _ in ByName() }
        buffer = [CChar](repeating: 0, count: XMLRecordReader.chunkBytes)

        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ReaderError(file: path, line: nil, "cannot open XML file") }
        var sax = xmlSAXHandler()
        sax.initialized = 0xDEED_BEAF  // XML_SAX2_MAGIC: the namespace-aware callbacks below
        sax.internalSubset = { ctx, _, _, _ in XMLRecordReader.of(ctx).refuseDocumentType() }
        sax.externalSubset = { ctx, _, _, _ in XMLRecordReader.of(ctx).refuseDocumentType() }
        sax.entityDecl = { ctx, _, _, _, _, _ in XMLRecordReader.of(ctx).refuseDocumentType() }
        sax.getEntity = { ctx, name in
            XMLRecordReader.of(ctx).refuseEntity(name); return nil
        }
        sax.getParameterEntity = { ctx, name in
            XMLRecordReader.of(ctx).refuseEntity(name); return nil
        }
        sax.reference = { ctx, name in XMLRecordReader.of(ctx).refuseEntity(name) }
        sax.resolveEntity = { ctx, _, _ in
            XMLRecordReader.of(ctx).refuseDocumentType(); return nil
        }
        sax.startElementNs = { ctx, localname, _, _, _, _, nAttributes, _, attributes in
            XMLRecordReader.with(ctx) { $0.start(localname, Int(nAttributes), attributes) }
        }
        sax.endElementNs = { ctx, _, _, _ in XMLRecordReader.with(ctx) { $0.end() } }
        sax.characters = { ctx, ch, len in XMLRecordReader.with(ctx) { $0.characters(ch, Int(len)) } }
        sax.cdataBlock = { ctx, ch, len in XMLRecordReader.with(ctx) { $0.characters(ch, Int(len)) } }
        sax.serror = { ctx, error in
            guard let ctx, let error else { return }
            XMLRecordReader.of(ctx).parserError(error.pointee)
        }
        // The first bytes tell libxml2 the encoding (a byte-order mark, UTF-16's zero bytes).
        let first = read(fd, &buffer, 4)
        guard first >= 0 else { close(fd); throw ReaderError(file: path, line: nil, "cannot read XML file") }
        let me = Unmanaged.passUnretained(self).toOpaque()
        guard let c = xmlCreatePushParserCtxt(&sax, me, buffer, Int32(first), path) else {
            close(fd)
            throw ReaderError(file: path, line: nil, "cannot start the XML parser")
        }
        ctxt = c
        // NONET: no network. Not NOENT (no entity substitution), not DTDLOAD/DTDATTR (no external
        // subset, no default attributes); the callbacks above refuse a DTD before any of it matters.
        xmlCtxtUseOptions(c, Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOCDATA.rawValue | XML_PARSE_COMPACT.rawValue))
        if first == 0 { atEnd = true; xmlParseChunk(c, nil, 0, 1) }
        // The prolog: a DTD is refused before the first record is asked for.
        while pending == nil && !atEnd && !sawElement { feed() }
        if let e = pending, !sawElement { finish(); throw e }
    }

    deinit { finish() }

    private static func of(_ ctx: UnsafeMutableRawPointer?) -> XMLRecordReader {
        Unmanaged<XMLRecordReader>.fromOpaque(ctx!).takeUnretainedValue()
    }

    /// The reader for an element or text event, without a retain and release around each (the
    /// parser runs inside the reader's own `feed`, which holds it).
    @inline(__always)
    private static func with(_ ctx: UnsafeMutableRawPointer?, _ body: (XMLRecordReader) -> Void) {
        Unmanaged<XMLRecordReader>.fromOpaque(ctx!)._withUnsafeGuaranteedRef(body)
    }

    private func finish() {
        finished = true
        if let c = ctxt { xmlFreeParserCtxt(c); ctxt = nil; close(fd) }
    }

    /// The parser's line (what SAX2's own line lookup returns: the current input's line).
    private var line: Int {
        guard let c = ctxt, let input = c.pointee.input else { return 0 }
        return Int(input.pointee.line)
    }

    /// Stops the parse with `message` (the first problem wins).
    private func stop(_ message: String, line: Int? = nil) {
        if pending == nil { pending = ReaderError(file: path, line: line ?? self.line, message) }
        if let c = ctxt { xmlStopParser(c) }
    }

    private func refuseDocumentType() {
        stop(
            "the document has a document type declaration (<!DOCTYPE …>), where entities are declared; Ramkoll reads no DTD and expands no entities, and an export has no reason to carry one — the file is refused (ask for a plain extract)"
        )
    }

    private func refuseEntity(_ name: UnsafePointer<xmlChar>?) {
        let n = name.map { String(cString: $0) } ?? ""
        stop(
            "the document refers to the entity &\(n.count > 40 ? String(n.prefix(40)) + "…" : n); — Ramkoll expands no entities but the five XML predefines (&amp; &lt; &gt; &quot; &apos;); the file is refused (ask for a plain extract)"
        )
    }

    private func parserError(_ e: xmlError) {
        guard e.level.rawValue >= XML_ERR_ERROR.rawValue else { return }  // warnings are not problems of the data
        let text = e.message.map { String(cString: $0).trimmingTrailingNewlines() } ?? "error \(e.code)"
        stop("XML is not well-formed: \(text)", line: Int(e.line))
    }

    /// Hands the parser the next chunk of the file (the last call says the document ends).
    private func feed() {
        guard let c = ctxt, !atEnd else { return }
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            stop("cannot read XML file (errno \(errno))"); atEnd = true
            return
        }
        if n == 0 { atEnd = true }
        let rc = buffer.withUnsafeBufferPointer { xmlParseChunk(c, $0.baseAddress, Int32(n), n == 0 ? 1 : 0) }
        sealChunk()
        if rc != 0 && pending == nil { stop("XML is not well-formed") }
    }

    /// Queues the records the chunk just parsed completed, sharing one array of values; the next
    /// chunk's records go into a new one (so a queued record's values never change again).
    private func sealChunk() {
        guard !chunkRecords.isEmpty else { return }
        let values = chunkValues
        for r in chunkRecords { queue.append(XMLRecord(index: r.index, line: r.line, chunk: values, range: r.range, fields: fields)) }
        chunkRecords.removeAll(keepingCapacity: true)
        chunkValues = []
        chunkValues.reserveCapacity(values.count)
    }

    /// The next record, or nil at the end of the document. Throws if the XML is not well-formed
    /// (after the records before the break); after that, nil.
    public func next() throws -> XMLRecord? {
        while true {
            if queueHead < queue.count {
                let r = queue[queueHead]
                queueHead += 1
                if queueHead == queue.count { queue.removeAll(keepingCapacity: true); queueHead = 0 }
                return r
            }
            if finished { return nil }
            if let e = pending { finish(); throw e }
            if atEnd {
                finish()
                return nil
            }
            feed()
        }
    }

    // MARK: SAX2 events

    private func localName(_ p: UnsafePointer<xmlChar>) -> String { String(cString: p) }

    private func start(_ name: UnsafePointer<xmlChar>?, _ nAttributes: Int, _ attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?) {
        guard pending == nil, let name else { return }
        sawElement = true
        if !inRecord {
            let known: OutsideName
            if let k = outsideNames.find(name) {
                known = k
            } else {
                let n = localName(name)
                known = OutsideName(name: n, isRecord: n == recordElement)
                outsideNames.remember(name, known)
            }
            if known.isRecord {
                inRecord = true
                recordCount += 1
                recordLine = line
                found.removeAll(keepingCapacity: true)
                found.reserveCapacity(fields.paths.count + 2)
                readAttributes(nAttributes, attributes, path: 0)
                let slots = ancestorAttributes.count
                for f in ancestorFields {
                    if let up = f.up {
                        if up <= ancestorNames.count, let v = ancestorValues[(ancestorNames.count - up) * slots + f.attribute] {
                            found.append(FieldValue(f.key, v))
                        }
                    } else if let a = ancestorNames.lastIndex(where: { $0 == f.name }), let v = ancestorValues[a * slots + f.attribute] {
                        found.append(FieldValue(f.key, v))
                    }
                }
                own = ""
                return
            }
            // An attribute given twice is not well-formed (libxml2 stops there); the last would win.
            let base = ancestorValues.count
            ancestorNames.append(known.name)
            for _ in 0..<ancestorAttributes.count { ancestorValues.append(nil) }
            if !ancestorAttributes.isEmpty, let attributes {
                for i in 0..<nAttributes {
                    let at = attributes + 5 * i
                    guard let ln = at[0], let slot = ancestorAttribute(ln) else { continue }
                    ancestorValues[base + slot] = value(at[3], at[4])
                }
            }
            return
        }
        let parent = stack.last ?? 0
        var rel = -1
        if parent >= 0 {
            if let known = children[parent].find(name) {
                rel = known
            } else {
                let n = localName(name)
                if n == recordElement {
                    stop(
                        "a <\(n)> record inside another <\(n)> record (the one from line \(recordLine)): the extract's structure is not what the profile expects"
                    )
                    return
                }
                rel = pathIDs[parent == 0 ? n : paths[parent] + "/" + n] ?? -1
                children[parent].remember(name, rel)
            }
        } else if xmlStrEqual(name, recordElement) == 1 {
            stop(
                "a <\(recordElement)> record inside another <\(recordElement)> record (the one from line \(recordLine)): the extract's structure is not what the profile expects"
            )
            return
        }
        if rel >= 0 { readAttributes(nAttributes, attributes, path: rel) }
        stack.append(rel); text.append("")
    }

    private func end() {
        guard pending == nil else { return }
        if !inRecord {
            if !ancestorNames.isEmpty {
                ancestorNames.removeLast()
                ancestorValues.removeLast(ancestorAttributes.count)
            }
            return
        }
        if stack.isEmpty {
            if ownText >= 0 { found.append(FieldValue(ownText, own)) }
            let from = chunkValues.count
            chunkValues.append(contentsOf: found)
            chunkRecords.append((recordCount, recordLine, from..<chunkValues.count))
            inRecord = false
            return
        }
        let rel = stack.removeLast(), t = text.removeLast()
        if rel >= 0 && wantedPath[rel] >= 0 { found.append(FieldValue(wantedPath[rel], t)) }
    }

    private func characters(_ ch: UnsafePointer<xmlChar>?, _ len: Int) {
        guard pending == nil, inRecord, let ch, len > 0 else { return }
        let bytes = UnsafeBufferPointer(start: ch, count: len)
        if stack.isEmpty {
            guard ownText >= 0 else { return }
            guard own.utf8.count + len <= XMLRecordReader.maximumValueBytes else { return tooLong() }
            own += String(decoding: bytes, as: UTF8.self)
        } else if let rel = stack.last, rel >= 0, wantedPath[rel] >= 0 {
            guard text[text.count - 1].utf8.count + len <= XMLRecordReader.maximumValueBytes else { return tooLong() }
            text[text.count - 1] += String(decoding: bytes, as: UTF8.self)
        }
    }

    private func tooLong() {
        stop(
            "a value of record \(recordCount) (line \(recordLine)) is longer than \(XMLRecordReader.maximumValueBytes >> 20) MiB; no field of an extract is that long"
        )
    }

    private func value(_ from: UnsafePointer<xmlChar>?, _ to: UnsafePointer<xmlChar>?) -> String {
        guard let from, let to, to > from else { return "" }
        let n = to - from
        guard n <= XMLRecordReader.maximumValueBytes else { tooLong(); return "" }
        let bytes = UnsafeBufferPointer(start: from, count: n)
        // Without entity substitution libxml2 hands an attribute's `&` (written `&amp;` or
        // `&#38;`) on as `&#38;`, for a tree builder to read again; no other `&` can be there.
        guard bytes.contains(UInt8(ascii: "&")) else { return String(decoding: bytes, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(n)
        var i = 0
        let escape = Array("&#38;".utf8)
        while i < n {
            if bytes[i] == UInt8(ascii: "&"), i + 5 <= n, bytes[i..<(i + 5)].elementsEqual(escape) {
                out.append(UInt8(ascii: "&")); i += 5
            } else {
                out.append(bytes[i]); i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private func readAttributes(_ n: Int, _ attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?, path: Int) {
        guard let attributes else { return }
        for i in 0..<n {
            let at = attributes + 5 * i
            guard let ln = at[0], let field = attributeField(path: path, ln) else { continue }
            found.append(FieldValue(field, value(at[3], at[4])))
        }
    }

    /// Field ordinals of attributes by element path inside a record and interned attribute name.
    private func attributeField(path: Int, _ n: UnsafePointer<xmlChar>) -> Int32? {
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

    /// The slot of an attribute name an ancestor field reads, by interned name (nil: none reads it).
    private func ancestorAttribute(_ n: UnsafePointer<xmlChar>) -> Int? {
        if let known = ancestorAttributeNames.find(n) { return known }
        let slot = ancestorAttributes.firstIndex(of: String(cString: n))
        ancestorAttributeNames.remember(n, slot)
        return slot
    }
}

/// Values remembered by libxml2's interned name pointer: the reader's dictionary interns names, so
/// a pointer stands for its name while the reader lives. At most 256 are kept (a document with very
/// many distinct names is not cached beyond these).
private struct ByName<V> {
    private var pointers: [UnsafePointer<xmlChar>] = []
    private var values: [V] = []
    func find(_ p: UnsafePointer<xmlChar>) -> V? {
        for i in pointers.indices where pointers[i] == p { return values[i] }
        return nil
    }
    mutating func remember(_ p: UnsafePointer<xmlChar>, _ v: V) {
        if pointers.count < 256 { pointers.append(p); values.append(v) }
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var s = self
        while s.last == "\n" || s.last == "\r" { s.removeLast() }
        return s
    }
}
