import RamkollModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One field of an SIE record: a value, or an object list `{dim obj dim obj}`.
public enum SIEField: Equatable, Sendable {
    case value(String)
    case objects([SIEObject])

    public var text: String? { if case .value(let s) = self { return s }; return nil }
}

public struct SIEObject: Equatable, Hashable, Sendable {
    public let dimension: String
    public let object: String
    public init(dimension: String, object: String) { self.dimension = dimension; self.object = object }
}

/// One line of an SIE file: `#LABEL field field …`, or a lone `{` / `}` around voucher rows.
public struct SIERecord: Sendable {
    public let line: Int
    /// Upper-cased label without `#` ("VER", "TRANS"), or "{" / "}".
    public let label: String
    public let fields: [SIEField]
    /// Set when the line could not be tokenised (unclosed quote or brace).
    public let problem: String?

    public func text(_ i: Int) -> String? { i < fields.count ? fields[i].text : nil }
    public func objects(_ i: Int) -> [SIEObject]? {
        guard i < fields.count, case .objects(let o) = fields[i] else { return nil }
        return o
    }
}

/// Streams an SIE 4 file (types 1, 2, 3, 4E, 4I) record by record.
///
/// Tokenising follows SIE 4B §5 and what real files do (reference notes §1.7): fields separated by
/// spaces, tabs or runs of them; quotes optional unless a field has spaces; `\"` inside quotes;
/// object lists in braces with spaces anywhere; CR optional; blank lines ignored; unquoted
/// non-ASCII text; unknown labels are passed on for the caller to ignore. The encoding is detected
/// from the whole file first (`SIEEncodingDetector`), never taken from `#FORMAT`.
///
/// `#KSUMMA` is verified when the file carries it: CRC-32 (polynomial EDB88320, as zlib) over the
/// characters of every label and field between the opening `#KSUMMA` and the closing one, leaving
/// out the spaces and tabs between fields, the quotes around fields and the braces of object
/// lists. SIE 4B §10.14 sums each character's CP437 value: a UTF-8 or Latin-1 file's characters
/// are summed as their CP437 bytes. (A sum over the file's own bytes is accepted too: some
/// writers compute it so, and either sum proves the content unchanged.)
public final class SIEReader {
    public let path: String
    public private(set) var encoding: SIEEncoding = .cp437
    public private(set) var replacementCharacterLines: [Int] = []

    public enum Checksum: Equatable, Sendable {
        case absent
        case verified(UInt32)
        case mismatch(stated: String, computed: UInt32)
        /// An opening `#KSUMMA` without the closing one: the file was cut off.
        case truncated
        /// The stated value cannot be compared (e.g. not a number).
        case unreadable(String)
    }
    public private(set) var checksum: Checksum = .absent
    /// Records that carry no figure but do not read plausibly in the file's encoding (the first
    /// `SIEEncodingDetector.oddityLimit`), and how many there are: read as they stand, to be warned.
    public private(set) var descriptiveOddities: [SIEEncodingDetector.Oddity] = []
    public private(set) var descriptiveOddityCount = 0

    public init(path: String) throws {
        self.path = path
        var detector = SIEEncodingDetector()
        try FileChunks.read(path) { detector.feed($0) }
        replacementCharacterLines = detector.replacementCharacterLines
        switch detector.verdict() {
        case .encoding(let e):
            encoding = e
            (descriptiveOddities, descriptiveOddityCount) = detector.descriptiveOddities(in: e)
        case .nul(let line, let offset):
            throw ReaderError(
                file: path, line: line,
                "a NUL byte (0x00) at offset \(offset): the file is not an SIE text export (damaged, or binary) — export it again")
        case .brokenUTF8(let line, let offset, let byte):
            throw ReaderError(
                file: path, line: line,
                "the file is UTF-8 but byte 0x\(String(byte, radix: 16, uppercase: true)) at offset \(offset) is not valid UTF-8: the file was damaged or joined from files in two encodings — export it again"
            )
        case .undecidable(let line, let byte, let cp, let l1):
            throw ReaderError(
                file: path, line: line,
                "byte 0x\(String(byte, radix: 16, uppercase: true)) reads as \"\(cp)\" in CP437 and \"\(l1)\" in Latin-1, and the file is not UTF-8: its encoding is mixed or unknown, so å/ä/ö would be lost — export the file again (as CP437 or UTF-8)"
            )
        }
    }

    /// Reads every record in order and hands it to `body`.
    public func read(_ body: (SIERecord) throws -> Void) throws {
        var lineBytes: [UInt8] = []
        var lineNo = 0
        var crc = CRC32()
        /// The sum over the file's own bytes, where they are not CP437.
        var rawCRC = CRC32()
        let transcode = encoding != .cp437
        var cp437Bytes: [UInt8] = []
        func update(_ bytes: [UInt8]) {
            guard transcode else { return crc.update(bytes) }
            rawCRC.update(bytes)
            cp437Bytes.removeAll(keepingCapacity: true)
            SIEEncoding.cp437Bytes(of: bytes, in: encoding, into: &cp437Bytes)
            crc.update(cp437Bytes)
        }
        var ksummaOpen = false, ksummaClosed = false
        var stated: String?
        func handle() throws {
            lineNo += 1
            if lineBytes.last == 0x0D { lineBytes.removeLast() }
            guard let (label, tokens, problem) = SIEReader.tokenize(lineBytes) else { return }
            if label == "#KSUMMA" {
                if !ksummaOpen && tokens.isEmpty { ksummaOpen = true; crc = CRC32(); rawCRC = CRC32(); return }
                if ksummaOpen { ksummaClosed = true; stated = tokens.first.map { String(decoding: $0.bytes, as: UTF8.self) } }
                return
            }
            if ksummaOpen && !ksummaClosed && label != "{" && label != "}" {  // braces are not summed
                update(Array(label.utf8))
                for t in tokens { update(t.bytes) }
            }
            try body(record(line: lineNo, label: label, tokens: tokens, problem: problem))
        }
        try FileChunks.read(path) { chunk in
            for b in chunk {
                if b == 0x0A { try handle(); lineBytes.removeAll(keepingCapacity: true) } else { lineBytes.append(b) }
            }
        }
        if !lineBytes.isEmpty { try handle() }
        if ksummaOpen && !ksummaClosed {
            checksum = .truncated
        } else if ksummaOpen, let s = stated {
            let computed = crc.value
            if let v = Int64(s), v >= Int64(Int32.min), v <= Int64(UInt32.max) {
                let asUnsigned = UInt32(truncatingIfNeeded: v)
                checksum =
                    asUnsigned == computed || (transcode && asUnsigned == rawCRC.value)
                    ? .verified(asUnsigned) : .mismatch(stated: s, computed: computed)
            } else {
                checksum = .unreadable(s)
            }
        }
    }

    struct Token { var bytes: [UInt8]; var objects: [[UInt8]]?; var quoted: Bool }

    /// Splits a line into its label and raw tokens (quotes and `\"` resolved, braces grouped).
    /// Returns nil for blank lines.
    static func tokenize(_ line: [UInt8]) -> (String, [Token], String?)? {
        var i = 0
        let n = line.count
        func skipSpace() { while i < n && (line[i] == 0x20 || line[i] == 0x09) { i += 1 } }
        func readAtom() -> (Token, String?) {
            if line[i] == UInt8(ascii: "\"") {
                i += 1
                var out: [UInt8] = []
                while i < n {
                    if line[i] == UInt8(ascii: "\\") && i + 1 < n && line[i + 1] == UInt8(ascii: "\"") {
                        out.append(UInt8(ascii: "\"")); i += 2; continue
                    }
                    if line[i] == UInt8(ascii: "\"") { i += 1; return (Token(bytes: out, objects: nil, quoted: true), nil) }
                    out.append(line[i]); i += 1
                }
                return (Token(bytes: out, objects: nil, quoted: true), "a quoted field is not closed")
            }
            var out: [UInt8] = []
            while i < n && line[i] != 0x20 && line[i] != 0x09 && line[i] != UInt8(ascii: "{") && line[i] != UInt8(ascii: "}") {
                out.append(line[i]); i += 1
            }
            return (Token(bytes: out, objects: nil, quoted: false), nil)
        }
        skipSpace()
        if i == n { return nil }
        if line[i] == UInt8(ascii: "{") || line[i] == UInt8(ascii: "}") {
            let label = line[i] == UInt8(ascii: "{") ? "{" : "}"
            i += 1; skipSpace()
            return (label, [], i == n ? nil : "text after a lone \(label)")
        }
        let (labelToken, _) = readAtom()
        let label = String(decoding: labelToken.bytes, as: UTF8.self).uppercased()
        var tokens: [Token] = []
        var problem: String?
        while true {
            skipSpace()
            if i >= n { break }
            if line[i] == UInt8(ascii: "{") {
                i += 1
                var items: [[UInt8]] = []
                var closed = false
                while i < n {
                    skipSpace()
                    if i < n && line[i] == UInt8(ascii: "}") { i += 1; closed = true; break }
                    if i >= n { break }
                    let (t, p) = readAtom()
                    if let p { problem = problem ?? p }
                    if t.bytes.isEmpty && !t.quoted { i += 1; continue }  // stray character
                    items.append(t.bytes)
                }
                if !closed { problem = problem ?? "an object list { is not closed" }
                tokens.append(Token(bytes: items.flatMap { $0 }, objects: items, quoted: false))
                continue
            }
            if line[i] == UInt8(ascii: "}") { i += 1; problem = problem ?? "a } without {"; continue }
            let (t, p) = readAtom()
            if let p { problem = problem ?? p }
            tokens.append(t)
        }
        return (label, tokens, problem)
    }

    private func record(line: Int, label: String, tokens: [Token], problem: String?) -> SIERecord {
        var fields: [SIEField] = []
        var prob = problem
        for t in tokens {
            if let items = t.objects {
                if items.count % 2 != 0 { prob = prob ?? "an object list must hold pairs of dimension and object" }
                var objs: [SIEObject] = []
                var k = 0
                while k + 1 < items.count {
                    objs.append(SIEObject(dimension: decode(items[k]), object: decode(items[k + 1])))
                    k += 2
                }
                fields.append(.objects(objs))
            } else {
                fields.append(.value(decode(t.bytes)))
            }
        }
        let l = label.hasPrefix("#") ? String(label.dropFirst()) : label
        return SIERecord(line: line, label: l, fields: fields, problem: prob)
    }

    private func decode(_ b: [UInt8]) -> String {
        encoding.decode(b) ?? String(decoding: b, as: UTF8.self)
    }
}

/// CRC-32 as zlib and the SIE specification compute it (reflected polynomial EDB88320).
struct CRC32 {
    static let table: [UInt32] = (0..<256).map { i -> UInt32 in
        var c = UInt32(i)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
        return c
    }
    private var crc: UInt32 = 0xFFFF_FFFF
    mutating func update(_ bytes: [UInt8]) {
        for b in bytes { crc = CRC32.table[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
    }
    var value: UInt32 { crc ^ 0xFFFF_FFFF }
}

/// SIE amounts: `.` as decimal point, at most two decimals, optional leading minus, no plus,
/// decimals may be left out.
public enum SIEAmount {
    /// Öre, or nil when the text is not an SIE amount or is beyond `Ore.rowLimit`.
    public static func parse(_ s: String) -> Int64? {
        guard let v = unbounded(s), v.magnitude <= Ore.rowLimit else { return nil }
        return v
    }

    /// Why `parse` refused the text.
    public static func failure(_ s: String) -> String {
        unbounded(s) != nil
            ? Ore.amountLimitReason : "amount \"\(s)\" is not an SIE amount (decimal point, at most 2 decimals, no plus sign)"
    }

    static func unbounded(_ s: String) -> Int64? {
        var u = Array(s.utf8)
        guard !u.isEmpty else { return nil }
        var neg = false
        if u[0] == UInt8(ascii: "-") { neg = true; u.removeFirst() }
        guard !u.isEmpty else { return nil }
        var whole: Int64 = 0, frac: Int64 = 0, fracDigits = -1
        for c in u {
            if c == UInt8(ascii: ".") { guard fracDigits < 0 else { return nil }; fracDigits = 0; continue }
            guard c >= 48 && c <= 57 else { return nil }
            if fracDigits >= 0 {
                fracDigits += 1
                guard fracDigits <= 2 else { return nil }
                frac = frac * 10 + Int64(c - 48)
            } else {
                guard whole < Int64.max / 1000 else { return nil }
                whole = whole * 10 + Int64(c - 48)
            }
        }
        if fracDigits == 0 { return nil }
        if fracDigits == 1 { frac *= 10 }
        let v = whole * 100 + frac
        return neg ? -v : v
    }
}
