/// Text encodings seen in municipal exports. Readers work on bytes and decode only
/// the fields they keep; the account, ansvar and amount columns are ASCII in every encoding.
public enum TextEncoding: String, Sendable, CaseIterable {
    case utf8 = "utf-8"
    case windows1252 = "windows-1252"
    case latin1 = "iso-8859-1"

    public init?(name: String) {
        switch name.lowercased() {
        case "utf-8", "utf8": self = .utf8
        case "windows-1252", "cp1252", "win1252": self = .windows1252
        case "iso-8859-1", "latin1", "latin-1", "iso8859-1": self = .latin1
        default: return nil
        }
    }

    /// Decodes bytes; nil if the bytes are not valid in this encoding (only UTF-8 can fail, and
    /// Windows-1252's five unassigned bytes 0x81 0x8D 0x8F 0x90 0x9D).
    @_specialize(exported:true,where C == ArraySlice<UInt8>)
    @_specialize(exported:true,where C == [UInt8])
    @_specialize(exported:true,where C == UnsafeBufferPointer<UInt8>)
    public func decode<C: Collection>(_ bytes: C) -> String? where C.Element == UInt8 {
        // Most fields of a ledger are ASCII: the same text in every encoding.
        if bytes.allSatisfy({ $0 < 0x80 }) { return String(decoding: bytes, as: UTF8.self) }
        switch self {
        case .utf8:
            guard TextEncoding.isValidUTF8(bytes) else { return nil }
            return String(decoding: bytes, as: UTF8.self)
        case .latin1, .windows1252:
            // Through the same byte transcoder as the ledger's byte-level path.
            func decodeSingleByte(_ b: UnsafeBufferPointer<UInt8>) -> String? {
                var valid = true
                let s = String(unsafeUninitializedCapacity: 3 * b.count) { out in
                    guard let n = transcodeToUTF8(b, into: out.baseAddress!) else { valid = false; return 0 }
                    return n
                }
                return valid ? s : nil
            }
            if let r = bytes.withContiguousStorageIfAvailable(decodeSingleByte) { return r }
            return Array(bytes).withUnsafeBufferPointer(decodeSingleByte)
        }
    }

    /// Writes `b` as UTF-8 at `out`, which must hold `3 × b.count` bytes, and returns how many it
    /// wrote; nil for a Windows-1252 byte that is not a character. Latin-1 and Windows-1252 map
    /// every byte to one character; UTF-8 is copied as it is (the caller validates it).
    public func transcodeToUTF8(_ b: UnsafeBufferPointer<UInt8>, into out: UnsafeMutablePointer<UInt8>) -> Int? {
        var n = 0
        @inline(__always) func put(_ cp: UInt32) {
            if cp < 0x80 {
                out[n] = UInt8(cp); n += 1
            } else if cp < 0x800 {
                out[n] = 0xC0 | UInt8(cp >> 6); out[n + 1] = 0x80 | UInt8(cp & 0x3F); n += 2
            } else {
                out[n] = 0xE0 | UInt8(cp >> 12); out[n + 1] = 0x80 | UInt8((cp >> 6) & 0x3F); out[n + 2] = 0x80 | UInt8(cp & 0x3F); n += 3
            }
        }
        switch self {
        case .utf8:
            if let base = b.baseAddress { out.update(from: base, count: b.count) }
            return b.count
        case .latin1, .windows1252:
            // ASCII (most of a text around its å, ä or ö) goes over eight bytes at a time.
            guard let base = b.baseAddress else { return 0 }
            let count = b.count
            var k = 0
            while k < count {
                while k + 8 <= count {
                    let w = UnsafeRawPointer(base + k).loadUnaligned(as: UInt64.self)
                    guard w & 0x8080_8080_8080_8080 == 0 else { break }
                    UnsafeMutableRawPointer(out + n).storeBytes(of: w, as: UInt64.self)
                    n += 8; k += 8
                }
                guard k < count else { break }
                let c = base[k]
                k += 1
                if c >= 0x80 && c <= 0x9F && self == .windows1252 {
                    let cp = TextEncoding.cp1252High[Int(c - 0x80)]
                    guard cp != 0 else { return nil }
                    put(cp)
                } else {
                    put(UInt32(c))
                }
            }
        }
        return n
    }

    /// The index of the first byte at or after `i` (and before `n`) in an eight-byte word that is
    /// not all ASCII, or the last index where fewer than eight bytes are left: the word-wise part of
    /// skipping ASCII (callers go on byte by byte from there).
    @inlinable @inline(__always)
    /// Whether any of `count` bytes is 0: eight at a time (a word has a zero byte when
    /// (w − 0x01…01) & ~w & 0x80…80 is not zero).
    public static func hasZeroByte(_ base: UnsafePointer<UInt8>, count n: Int) -> Bool {
        var i = 0
        let p = UnsafeRawPointer(base)
        while i + 8 <= n {
            let w = p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            if (w &- 0x0101_0101_0101_0101) & ~w & 0x8080_8080_8080_8080 != 0 { return true }
            i += 8
        }
        while i < n { if base[i] == 0 { return true }; i += 1 }
        return false
    }

    public static func asciiWords(_ base: UnsafePointer<UInt8>, from i: Int, to n: Int) -> Int {
        var i = i
        while i + 8 <= n && UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0 { i += 8 }
        return i
    }

    /// Whether every byte is below 0x80: eight bytes at a time, the last word overlapping the one
    /// before; 4–7 bytes as two overlapping halves of a word.
    @inlinable @inline(__always)
    public static func isASCII(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = b.baseAddress else { return true }
        let n = b.count, p = UnsafeRawPointer(base)
        let high: UInt64 = 0x8080_8080_8080_8080
        if n >= 8 {
            var k = 0, or: UInt64 = 0
            while k + 8 <= n { or |= p.loadUnaligned(fromByteOffset: k, as: UInt64.self); k += 8 }
            if k < n { or |= p.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self) }
            return or & high == 0
        }
        if n >= 4 {
            return (p.loadUnaligned(as: UInt32.self) | p.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)) & 0x8080_8080 == 0
        }
        var or: UInt8 = 0
        for k in 0..<n { or |= base[k] }
        return or < 0x80
    }

    /// Strict UTF-8 validation (no overlongs, no surrogates, nothing above U+10FFFF), ASCII
    /// skipped eight bytes at a time (a ledger text is mostly ASCII around an å, ä or ö).
    public static func isValidUTF8(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = b.baseAddress else { return true }
        let n = b.count
        var i = 0
        while i < n {
            i = TextEncoding.asciiWords(base, from: i, to: n)
            if i == n { break }
            let b0 = base[i]
            if b0 < 0x80 { i += 1; continue }
            let need: Int
            let min: UInt32
            var cp: UInt32
            switch b0 {
            case 0xC2...0xDF: need = 1; cp = UInt32(b0 & 0x1F); min = 0x80
            case 0xE0...0xEF: need = 2; cp = UInt32(b0 & 0x0F); min = 0x800
            case 0xF0...0xF4: need = 3; cp = UInt32(b0 & 0x07); min = 0x10000
            default: return false
            }
            guard i + need < n else { return false }
            for k in 1...need {
                let c = base[i + k]
                guard c & 0xC0 == 0x80 else { return false }
                cp = (cp << 6) | UInt32(c & 0x3F)
            }
            if cp < min || cp > 0x10FFFF || (0xD800...0xDFFF).contains(cp) { return false }
            i += need + 1
        }
        return true
    }

    /// The same on any bytes (copied first where they are not contiguous).
    public static func isValidUTF8<C: Collection>(_ bytes: C) -> Bool where C.Element == UInt8 {
        if let r = bytes.withContiguousStorageIfAvailable({ isValidUTF8($0) }) { return r }
        return Array(bytes).withUnsafeBufferPointer { isValidUTF8($0) }
    }

    /// Windows-1252 0x80–0x9F; 0 marks the five unassigned bytes.
    public static let cp1252High: [UInt32] = [
        0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
        0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
    ]
}
