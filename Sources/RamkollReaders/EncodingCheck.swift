/// A whole-file check that a declared text encoding is plausible, before any row is read: a
/// Windows-1252 file declared as UTF-8, or a UTF-8 file declared as Windows-1252, would otherwise
/// turn every å/ä/ö into something else without a single row failing.
public enum EncodingCheck {
    /// Nil when the file reads plausibly in `encoding`; otherwise the first line that does not,
    /// and what to do.
    public static func problem(path: String, encoding: TextEncoding) throws -> (line: Int, message: String)? {
        var line = 1
        var pending: [UInt8] = []
        var validUTF8 = true
        var firstInvalidUTF8: (Int, UInt8)?
        var firstMultibyte: (Int, [UInt8])?
        var firstUnassigned: (Int, UInt8)?
        var firstControl: (Int, UInt8)?
        try SIEReader.chunks(path) { chunk in
            for b in chunk {
                if b == 0x0A { line += 1 }
                if b >= 0x80 && b <= 0x9F {
                    if firstControl == nil { firstControl = (line, b) }
                    if firstUnassigned == nil, TextEncoding.windows1252.decode([b]) == nil { firstUnassigned = (line, b) }
                }
                guard validUTF8 || firstInvalidUTF8 == nil else { continue }
                if pending.isEmpty {
                    if b < 0x80 { continue }
                    if !(0xC2...0xF4).contains(b) { validUTF8 = false; firstInvalidUTF8 = (line, b); continue }
                    pending = [b]
                    continue
                }
                if b & 0xC0 != 0x80 { validUTF8 = false; firstInvalidUTF8 = (line, pending[0]); pending = []; continue }
                pending.append(b)
                let need = pending[0] >= 0xF0 ? 4 : pending[0] >= 0xE0 ? 3 : 2
                if pending.count == need {
                    if !TextEncoding.isValidUTF8(pending) {
                        validUTF8 = false; firstInvalidUTF8 = (line, pending[0])
                    } else if firstMultibyte == nil, !(pending == [0xEF, 0xBB, 0xBF] && line == 1) {
                        firstMultibyte = (line, pending)
                    }
                    pending = []
                }
            }
        }
        if !pending.isEmpty && firstInvalidUTF8 == nil { firstInvalidUTF8 = (line, pending[0]) }
        func hex(_ b: UInt8) -> String { "0x" + String(b, radix: 16, uppercase: true) }
        switch encoding {
        case .utf8:
            if let (l, b) = firstInvalidUTF8 {
                let as1252 = TextEncoding.windows1252.decode([b]).map { " (in Windows-1252 it is \"\($0)\")" } ?? ""
                return (
                    l, "byte \(hex(b)) is not valid UTF-8\(as1252): the file is probably Windows-1252 — set encoding: windows-1252 in the profile"
                )
            }
        case .windows1252, .latin1:
            if let (l, seq) = firstMultibyte, firstInvalidUTF8 == nil {
                let meant = TextEncoding.utf8.decode(seq) ?? "?"
                let shown = encoding.decode(seq) ?? "?"
                return (
                    l,
                    "the file is UTF-8: \"\(meant)\" is written as the bytes of \"\(shown)\" in \(encoding.rawValue) — set encoding: utf-8 in the profile"
                )
            }
            if encoding == .windows1252, let (l, b) = firstUnassigned {
                return (l, "byte \(hex(b)) is not a character in Windows-1252 (CP437 or another code page?) — check the export's character set")
            }
            if encoding == .latin1, let (l, b) = firstControl {
                let as1252 = TextEncoding.windows1252.decode([b]).map { " (in Windows-1252 it is \"\($0)\")" } ?? ""
                return (
                    l,
                    "byte \(hex(b)) is a control character in ISO-8859-1\(as1252): the file is probably Windows-1252 — set encoding: windows-1252 in the profile"
                )
            }
        }
        return nil
    }
}
