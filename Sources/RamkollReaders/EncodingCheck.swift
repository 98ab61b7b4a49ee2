/// A whole-file check that a declared text encoding is plausible, before any row is read: a
/// Windows-1252 file declared as UTF-8, or a UTF-8 file declared as Windows-1252, would otherwise
/// turn every å/ä/ö into something else without a single row failing.
public enum EncodingCheck {
    /// Nil when the file reads plausibly in `encoding`; otherwise the first line that does not,
    /// and what to do.
    public static func problem(path: String, encoding: TextEncoding) throws -> (line: Int, message: String)? {
        // One pass over the bytes; ASCII (most of a ledger) is skipped eight bytes at a time, and
        // findings are kept as byte offsets: the line is counted only for the one reported.
        var offset = 0
        var firstLF: Int?
        var pending: [UInt8] = []
        pending.reserveCapacity(4)
        var pendingStart = 0
        var validUTF8 = true
        var firstInvalidUTF8: (Int, UInt8)?
        var firstMultibyte: (Int, [UInt8])?
        var firstUnassigned: (Int, UInt8)?
        var firstControl: (Int, UInt8)?
        var firstNUL: Int?, innerBOM: Int?
        try FileChunks.read(path) { chunk in
            let n = chunk.count
            guard let base = chunk.baseAddress else { return }
            if firstLF == nil, let k = chunk.firstIndex(of: 0x0A) { firstLF = offset + k }
            // A NUL byte: no text export has one (and PostgreSQL refuses it in text).
            if firstNUL == nil, TextEncoding.hasZeroByte(base, count: n), let k = chunk.firstIndex(of: 0) { firstNUL = offset + k }
            var i = 0
            while i < n {
                if pending.isEmpty {
                    // Skip ASCII: eight bytes at a time, then byte by byte.
                    i = TextEncoding.asciiWords(base, from: i, to: n)
                    while i < n && base[i] < 0x80 { i += 1 }
                    if i == n { break }
                }
                let b = base[i], at = offset + i
                i += 1
                if b >= 0x80 && b <= 0x9F {
                    if firstControl == nil { firstControl = (at, b) }
                    if firstUnassigned == nil, TextEncoding.cp1252High[Int(b - 0x80)] == 0 { firstUnassigned = (at, b) }
                }
                guard validUTF8 || firstInvalidUTF8 == nil else { continue }
                if pending.isEmpty {
                    if b < 0x80 { continue }
                    if !(0xC2...0xF4).contains(b) { validUTF8 = false; firstInvalidUTF8 = (at, b); continue }
                    pending.append(b); pendingStart = at
                    continue
                }
                if b & 0xC0 != 0x80 { validUTF8 = false; firstInvalidUTF8 = (at, pending[0]); pending.removeAll(keepingCapacity: true); continue }
                pending.append(b)
                let need = pending[0] >= 0xF0 ? 4 : pending[0] >= 0xE0 ? 3 : 2
                if pending.count == need {
                    if !TextEncoding.isValidUTF8(pending) {
                        validUTF8 = false; firstInvalidUTF8 = (at, pending[0])
                    } else if pending == [0xEF, 0xBB, 0xBF] && pendingStart > 0 && innerBOM == nil {
                        innerBOM = pendingStart
                    } else if firstMultibyte == nil, !(pending == [0xEF, 0xBB, 0xBF] && (firstLF ?? Int.max) > pendingStart) {
                        firstMultibyte = (at, pending)
                    }
                    pending.removeAll(keepingCapacity: true)
                }
            }
            offset += n
        }
        if !pending.isEmpty && firstInvalidUTF8 == nil { firstInvalidUTF8 = (offset, pending[0]) }
        /// The line (1 + the line feeds before it) and column (1-based, in bytes) of the byte at
        /// `at`, counted once for the finding reported.
        func position(_ at: Int) throws -> (line: Int, column: Int) {
            var lf = 0, lastLF = -1, seen = 0
            try FileChunks.read(path) { chunk in
                guard seen <= at else { return }
                let upto = min(chunk.count, at - seen + 1)
                for k in 0..<upto where chunk[k] == 0x0A { lf += 1; lastLF = seen + k }
                seen += chunk.count
            }
            return (1 + lf, at - lastLF)
        }
        func line(_ at: Int) throws -> Int { try position(at).line }
        func hex(_ b: UInt8) -> String { "0x" + String(b, radix: 16, uppercase: true) }
        if let at = firstNUL {
            let p = try position(at)
            return (
                p.line,
                "a NUL byte (0x00) at column \(p.column): the file is not a text export (damaged, or a binary file) — export it again"
            )
        }
        if let at = innerBOM, encoding == .utf8 {
            let p = try position(at)
            return (
                p.line,
                "a UTF-8 byte-order mark at column \(p.column), inside the file: two exports were joined into one — export the file again (or keep the parts as separate sources)"
            )
        }
        switch encoding {
        case .utf8:
            if let (at, b) = firstInvalidUTF8 {
                let l = try line(at)
                let as1252 = TextEncoding.windows1252.decode([b]).map { " (in Windows-1252 it is \"\($0)\")" } ?? ""
                return (
                    l, "byte \(hex(b)) is not valid UTF-8\(as1252): the file is probably Windows-1252 — set encoding: windows-1252 in the profile"
                )
            }
        case .windows1252, .latin1:
            if let (at, seq) = firstMultibyte, firstInvalidUTF8 == nil {
                let l = try line(at)
                let meant = TextEncoding.utf8.decode(seq) ?? "?"
                let shown = encoding.decode(seq) ?? "?"
                return (
                    l,
                    "the file is UTF-8: \"\(meant)\" is written as the bytes of \"\(shown)\" in \(encoding.rawValue) — set encoding: utf-8 in the profile"
                )
            }
            if encoding == .windows1252, let (at, b) = firstUnassigned {
                let l = try line(at)
                return (l, "byte \(hex(b)) is not a character in Windows-1252 (CP437 or another code page?) — check the export's character set")
            }
            if encoding == .latin1, let (at, b) = firstControl {
                let l = try line(at)
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
