import Crypto
import Foundation
import RamkollModel

/// File helpers: hashing while reading, atomic writes (temporary file, fsync, rename).
public enum FileIO {
    public static func readText(_ path: String) -> String? {
        guard let d = FileManager.default.contents(atPath: path) else { return nil }
        return String(data: d, encoding: .utf8)
    }

    public static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    /// A file's identity for the hash cache: device, inode, size and modification time (ns) —
    /// not its path, which the stages spell in several ways (`03-reconcile/../02-normalize/…`).
    struct Identity: Hashable { let device: UInt64, inode: UInt64, size: Int64, seconds: Int, nanoseconds: Int }

    static func identity(_ path: String) -> Identity? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Identity(
            device: UInt64(st.st_dev), inode: UInt64(st.st_ino), size: Int64(st.st_size), seconds: st.st_mtim.tv_sec,
            nanoseconds: st.st_mtim.tv_nsec)
    }

    /// Hashes already computed in this process (a later stage checks what an earlier one wrote
    /// or read; a 10M-row ledger need not be hashed five times). A file that changes gets another
    /// identity — a new inode when replaced, another size or modification time when written.
    nonisolated(unsafe) static var hashCache: [Identity: (hex: String, bytes: Int64)] = [:]
    static let hashCacheLock = NSLock()

    static func remember(_ path: String, hex: String, bytes: Int64) {
        guard let id = identity(path), id.size == bytes else { return }
        hashCacheLock.lock(); defer { hashCacheLock.unlock() }
        hashCache[id] = (hex, bytes)
    }

    /// SHA-256 (lowercase hex) and size of a file, streamed in 1 MiB chunks.
    public static func sha256(ofFile path: String) throws -> (hex: String, bytes: Int64) {
        let id = identity(path)
        if let id {
            hashCacheLock.lock()
            let hit = hashCache[id]
            hashCacheLock.unlock()
            if let hit { return hit }
        }
        let result = try computeSHA256(ofFile: path)
        if let id, id.size == result.bytes, identity(path) == id {
            hashCacheLock.lock(); hashCache[id] = result; hashCacheLock.unlock()
        }
        return result
    }

    static func computeSHA256(ofFile path: String) throws -> (hex: String, bytes: Int64) {
        guard let h = FileHandle(forReadingAtPath: path) else {
            throw RamkollError(.input, "\(path): cannot open file to compute its SHA-256")
        }
        defer { try? h.close() }
        var hasher = SHA256()
        var total: Int64 = 0
        while true {
            let chunk = try h.read(upToCount: 1 << 20) ?? Data()
            if chunk.isEmpty { break }
            hasher.update(data: chunk)
            total += Int64(chunk.count)
        }
        return (hex(hasher.finalize()), total)
    }

    public static func sha256(_ data: Data) -> String { hex(SHA256.hash(data: data)) }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let chars = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for b in digest { out.append(chars[Int(b >> 4)]); out.append(chars[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Writes `data` to `path` atomically: a temporary file beside it, fsync, then rename.
    public static func writeAtomically(_ data: Data, to path: String) throws {
        let tmp = temporaryName(for: path)
        guard FileManager.default.createFile(atPath: tmp, contents: nil), let h = FileHandle(forWritingAtPath: tmp) else {
            throw RamkollError(.internalFailure, "\(path): cannot create temporary file \(tmp)")
        }
        do {
            try h.write(contentsOf: data)
            try h.synchronize()
            try h.close()
        } catch {
            try? FileManager.default.removeItem(atPath: tmp)
            throw RamkollError(.internalFailure, "\(path): write failed: \(error)")
        }
        try commit(tmp, to: path)
    }

    /// Writes a text artifact atomically and returns its record for the manifest (rows = lines).
    public static func writeText(_ text: String, directory: String, name: String) throws -> OutputRecord {
        let data = Data(text.utf8)
        try writeAtomically(data, to: directory + "/" + name)
        return OutputRecord(path: name, sha256: sha256(data), bytes: Int64(data.count), rows: Int64(text.split(separator: "\n").count))
    }

    static func temporaryName(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())").path
    }

    static func commit(_ tmp: String, to path: String) throws {
        if rename(tmp, path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: tmp)
            throw RamkollError(.internalFailure, "\(path): cannot move the finished file into place (\(reason))")
        }
    }

    public static func createDirectory(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
}

/// Streams a `;`-separated UTF-8 table to a temporary file, hashing as it writes, and moves it into
/// place only on `commit()`. A killed run leaves a `.tmp-` file, never a half table under the real name.
public final class TableWriter {
    public let path: String
    public let name: String
    private let tmp: String
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var hasher = SHA256()
    private var bytes: Int64 = 0
    public private(set) var rows: Int64 = 0

    public init(directory: String, name: String, header: [String]) throws {
        self.name = name
        self.path = directory + "/" + name
        self.tmp = FileIO.temporaryName(for: path)
        guard FileManager.default.createFile(atPath: tmp, contents: nil), let h = FileHandle(forWritingAtPath: tmp) else {
            throw RamkollError(.internalFailure, "\(path): cannot create temporary file")
        }
        handle = h
        buffer.reserveCapacity(1 << 16)
        appendRow(header)
    }

    private func appendRow(_ fields: [String]) {
        for (i, f) in fields.enumerated() {
            if i > 0 { buffer.append(UInt8(ascii: ";")) }
            TableWriter.appendField(f, to: &buffer)
        }
        buffer.append(0x0A)
    }

    static func appendField(_ f: String, to buffer: inout [UInt8]) {
        var s = f
        s.withUTF8 { u in
            var needsQuotes = false
            for b in u where b == UInt8(ascii: ";") || b == UInt8(ascii: "\"") || b == 0x0A || b == 0x0D {
                needsQuotes = true; break
            }
            if !needsQuotes { buffer.append(contentsOf: u); return }
            buffer.append(UInt8(ascii: "\""))
            for b in u {
                if b == UInt8(ascii: "\"") { buffer.append(b) }
                buffer.append(b)
            }
            buffer.append(UInt8(ascii: "\""))
        }
    }

    public func write(_ fields: [String]) throws {
        appendRow(fields)
        rows += 1
        if buffer.count >= 1 << 16 { try flush() }
    }

    // MARK: Rows field by field from bytes (the per-row hot paths: no String per field)

    private var fieldsInRow = 0

    @inline(__always) private func separate() {
        if fieldsInRow > 0 { buffer.append(UInt8(ascii: ";")) }
        fieldsInRow += 1
    }

    /// Appends a field given as UTF-8 bytes, quoted when it holds `;`, `"` or a line break.
    public func field<C: Collection>(bytes: C) where C.Element == UInt8 {
        separate()
        var needsQuotes = false
        for b in bytes where b == UInt8(ascii: ";") || b == UInt8(ascii: "\"") || b == 0x0A || b == 0x0D {
            needsQuotes = true; break
        }
        if !needsQuotes { buffer.append(contentsOf: bytes); return }
        buffer.append(UInt8(ascii: "\""))
        for b in bytes {
            if b == UInt8(ascii: "\"") { buffer.append(b) }
            buffer.append(b)
        }
        buffer.append(UInt8(ascii: "\""))
    }

    public func field(_ s: String) {
        separate()
        TableWriter.appendField(s, to: &buffer)
    }

    /// Appends an integer field in decimal.
    public func field(_ v: Int64) {
        separate()
        TableWriter.appendDecimal(v, to: &buffer)
    }

    public func field(_ v: Int) { field(Int64(v)) }

    /// Appends `YYYY-MM` (years 0–9999; others through `description`).
    public func field(_ p: Period) {
        guard (0...9999).contains(p.year) else { return field(p.description) }
        separate()
        TableWriter.appendDigits(p.year, 4, to: &buffer)
        buffer.append(UInt8(ascii: "-"))
        TableWriter.appendDigits(p.month, 2, to: &buffer)
    }

    /// Appends `YYYY-MM-DD`, or an empty field for nil.
    public func field(_ d: Day?) {
        guard let d else { separate(); return }
        guard (0...9999).contains(d.year) else { return field(d.description) }
        separate()
        TableWriter.appendDigits(d.year, 4, to: &buffer)
        buffer.append(UInt8(ascii: "-"))
        TableWriter.appendDigits(d.month, 2, to: &buffer)
        buffer.append(UInt8(ascii: "-"))
        TableWriter.appendDigits(d.day, 2, to: &buffer)
    }

    /// Ends the row begun with `field` calls.
    public func endRow() throws {
        buffer.append(0x0A)
        fieldsInRow = 0
        rows += 1
        if buffer.count >= 1 << 16 { try flush() }
    }

    @inline(__always) static func appendDigits(_ v: Int, _ width: Int, to buffer: inout [UInt8]) {
        var d = 1
        for _ in 1..<width { d *= 10 }
        while d > 0 { buffer.append(48 + UInt8(v / d % 10)); d /= 10 }
    }

    static func appendDecimal(_ v: Int64, to buffer: inout [UInt8]) {
        var m = v.magnitude
        if v < 0 { buffer.append(UInt8(ascii: "-")) }
        if m < 10 { buffer.append(48 + UInt8(m)); return }
        var tmp: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &tmp) { t in
            while m > 0 { t[19 - n] = 48 + UInt8(m % 10); m /= 10; n += 1 }
            buffer.append(contentsOf: t[(20 - n)...])
        }
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        let d = Data(buffer)
        hasher.update(data: d)
        bytes += Int64(d.count)
        try handle.write(contentsOf: d)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, fsyncs and renames into place; returns the output's record for the manifest.
    public func commit() throws -> OutputRecord {
        try flush()
        try handle.synchronize()
        try handle.close()
        try FileIO.commit(tmp, to: path)
        let hex = FileIO.hex(hasher.finalize())
        FileIO.remember(path, hex: hex, bytes: bytes)
        return OutputRecord(path: name, sha256: hex, bytes: bytes, rows: rows)
    }
}
