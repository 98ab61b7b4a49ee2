import Crypto
import Foundation
import RamkollModel
import RamkollReaders

/// SHA-256 fed piece by piece, for callers without Crypto of their own (the warehouse's row identities).
public struct SHA256Hasher {
    var hasher = SHA256()
    public init() {}
    public mutating func update(_ bytes: UnsafeBufferPointer<UInt8>) { hasher.update(bufferPointer: UnsafeRawBufferPointer(bytes)) }
    public mutating func update(separator: UInt8) { withUnsafeBytes(of: separator) { hasher.update(bufferPointer: $0) } }
    /// The first `prefix` bytes of the digest, as lowercase hex.
    public func hex(prefix: Int) -> String { FileIO.hex(Array(hasher.finalize()).prefix(prefix)) }
    /// The first 16 bytes of the digest as two signed 64-bit integers (big-endian), e.g. for SQL BIGINT columns.
    public func key() -> (Int64, Int64) {
        var a: UInt64 = 0, b: UInt64 = 0
        for (i, byte) in hasher.finalize().prefix(16).enumerated() {
            if i < 8 { a = a << 8 | UInt64(byte) } else { b = b << 8 | UInt64(byte) }
        }
        return (Int64(bitPattern: a), Int64(bitPattern: b))
    }
}

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
        var hasher = SHA256()
        var total: Int64 = 0
        do {
            try FileChunks.read(path) { chunk in
                hasher.update(bufferPointer: UnsafeRawBufferPointer(chunk))
                total += Int64(chunk.count)
            }
        } catch let e as ReaderError {
            throw RamkollError(.input, "\(path): cannot compute its SHA-256: \(e.message)")
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
    /// Writes a text table; `banner` (a data error's notice) goes at its head.
    public static func writeText(_ text: String, directory: String, name: String, banner: String = "") throws -> OutputRecord {
        let text = banner + text
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
///
/// Rows go into a 1 MiB buffer; full buffers are hashed and written by a background queue while
/// the next fills (two in flight at most, so memory stays bounded and the bytes stay in order).
/// Full buffers go to the file with direct I/O (`O_DIRECT`, whole 4 KiB blocks from aligned
/// memory) where the file system takes it: a big table is not copied through the page cache, which
/// on the benchmark machine cost about 3 s of kernel time per GB written; the last partial block is
/// written the ordinary way. Where direct I/O is refused the writer falls back to ordinary writes.
///
/// `@unchecked Sendable`: the hasher and the file are touched only by the queue between `flush`
/// and `commit`, which waits for the queue before it reads them.
public final class TableWriter: @unchecked Sendable {
    /// A full buffer on its way to the file.
    private struct Chunk: @unchecked Sendable { let base: UnsafeMutablePointer<UInt8>; let count: Int; let capacity: Int }
    public let path: String
    public let name: String
    private let tmp: String
    private let fd: Int32
    /// O_DIRECT, which Swift's Glibc does not export (it sits behind _GNU_SOURCE): the kernel's
    /// value on the architectures Ramkoll runs on; 0 (no direct I/O) elsewhere.
    #if os(Linux) && (arch(x86_64) || arch(i386))
        static let oDirect: Int32 = 0o40000
    #elseif os(Linux) && (arch(arm64) || arch(arm))
        static let oDirect: Int32 = 0o200000
    #else
        static let oDirect: Int32 = 0
    #endif
    /// Whether `fd` is in direct I/O (touched by the queue only, after `init`).
    private var direct = false
    /// Off in tests that check the ordinary writes give the same file.
    nonisolated(unsafe) static var directIO = true
    /// Bytes written with direct I/O (read after `commit`).
    private(set) var directBytes: Int64 = 0
    private static let block = 4096
    private var buf: UnsafeMutablePointer<UInt8>
    private var count = 0
    private var capacity: Int
    private static let flushAt = 1 << 20
    private var hasher = SHA256()
    private var bytes: Int64 = 0
    public private(set) var rows: Int64 = 0
    private let queue = DispatchQueue(label: "ramkoll.tablewriter")
    private let inFlight = DispatchSemaphore(value: 2)
    private let failureLock = NSLock()
    nonisolated(unsafe) private var failure: String?

    /// Rows kept in memory (no file, no header): a block of rows written by a worker, to be
    /// appended in order to a real table with `appendRows(of:)`.
    public init() {
        name = ""; path = ""; tmp = ""; fd = -1
        capacity = 1 << 16
        buf = TableWriter.allocate(capacity)
    }

    /// A buffer aligned for direct I/O.
    private static func allocate(_ capacity: Int) -> UnsafeMutablePointer<UInt8> {
        UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: block).bindMemory(to: UInt8.self, capacity: capacity)
    }

    /// Empties an in-memory writer for reuse (its buffer is kept).
    public func reset() {
        precondition(fd < 0, "only an in-memory writer is reset")
        count = 0; rows = 0; fieldsInRow = 0
    }

    /// Appends the rows another (in-memory) writer holds.
    public func appendRows(of other: TableWriter) throws {
        append(UnsafeBufferPointer(start: other.buf, count: other.count))
        rows += other.rows
        try flushIfFull()
    }

    public init(directory: String, name: String, header: [String]) throws {
        self.name = name
        self.path = directory + "/" + name
        self.tmp = FileIO.temporaryName(for: path)
        var fd: Int32 = -1
        if TableWriter.directIO && TableWriter.oDirect != 0 {
            fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | TableWriter.oDirect, 0o644)
            direct = fd >= 0
        }
        if fd < 0 { fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        guard fd >= 0 else { throw RamkollError(.internalFailure, "\(path): cannot create temporary file (\(String(cString: strerror(errno))))") }
        self.fd = fd
        capacity = TableWriter.flushAt + (1 << 16)
        buf = TableWriter.allocate(capacity)
        appendRow(header)
    }

    deinit {
        queue.sync {}
        buf.deallocate()
        for s in spares { s.base.deallocate() }
        if fd >= 0 { close(fd) }
    }

    @inline(__always) private func reserve(_ n: Int) {
        if count + n <= capacity { return }
        let bigger = TableWriter.allocate(max(capacity * 2, count + n))
        bigger.update(from: buf, count: count)
        buf.deallocate()
        buf = bigger; capacity = max(capacity * 2, count + n)
    }

    @inline(__always) private func append(_ b: UInt8) {
        reserve(1)
        buf[count] = b; count += 1
    }

    @inline(__always) private func append(_ p: UnsafeBufferPointer<UInt8>) {
        guard let base = p.baseAddress, p.count > 0 else { return }
        reserve(p.count)
        (buf + count).update(from: base, count: p.count)
        count += p.count
    }

    private func appendRow(_ fields: [String]) {
        for (i, f) in fields.enumerated() {
            if i > 0 { append(UInt8(ascii: ";")) }
            appendQuoted(f)
        }
        append(0x0A)
    }

    private func appendQuoted(_ f: String) {
        var s = f
        s.withUTF8 { appendQuoted($0) }
    }

    /// Whether a field must be quoted: it holds `;`, `"` or a line break (eight bytes at a time).
    static func needsQuotes(_ u: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = u.baseAddress else { return false }
        let n = u.count, p = UnsafeRawPointer(base)
        @inline(__always) func special(_ x: UInt64) -> Bool { CSVReader.specialBytes(x, delimiter: 0x3B3B_3B3B_3B3B_3B3B) != 0 }
        // Eight bytes at a time, the last word overlapping the one before; 4–7 bytes as two
        // overlapping halves of one word (a byte seen twice does not change the answer).
        if n >= 8 {
            var k = 0
            while k + 8 <= n {
                if special(p.loadUnaligned(fromByteOffset: k, as: UInt64.self)) { return true }
                k += 8
            }
            return k < n && special(p.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self))
        }
        if n >= 4 {
            return special(UInt64(p.loadUnaligned(as: UInt32.self)) | UInt64(p.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)) << 32)
        }
        for k in 0..<n {
            let b = base[k]
            if b == UInt8(ascii: ";") || b == UInt8(ascii: "\"") || b == 0x0A || b == 0x0D { return true }
        }
        return false
    }

    /// A field's bytes, quoted when they need it (quotes doubled).
    private func appendQuoted(_ u: UnsafeBufferPointer<UInt8>) {
        if !TableWriter.needsQuotes(u) { append(u); return }
        quotedScratch.removeAll(keepingCapacity: true)
        TableWriter.appendField(u, to: &quotedScratch)
        quotedScratch.withUnsafeBufferPointer { append($0) }
    }
    private var quotedScratch: [UInt8] = []

    /// A field as the tables write it (quoted when needed, quotes doubled), appended to `buffer`.
    static func appendField(_ u: UnsafeBufferPointer<UInt8>, to buffer: inout [UInt8]) {
        if !needsQuotes(u) { buffer.append(contentsOf: u); return }
        buffer.append(UInt8(ascii: "\""))
        for b in u {
            if b == UInt8(ascii: "\"") { buffer.append(b) }
            buffer.append(b)
        }
        buffer.append(UInt8(ascii: "\""))
    }

    static func appendField(_ f: String, to buffer: inout [UInt8]) {
        var s = f
        s.withUTF8 { appendField($0, to: &buffer) }
    }

    public func write(_ fields: [String]) throws {
        appendRow(fields)
        rows += 1
        try flushIfFull()
    }

    // MARK: Rows field by field from bytes (the per-row hot paths: no String per field)

    private var fieldsInRow = 0

    @inline(__always) private func separate() {
        if fieldsInRow > 0 { append(UInt8(ascii: ";")) }
        fieldsInRow += 1
    }

    /// Appends a field given as UTF-8 bytes, quoted when it holds `;`, `"` or a line break.
    public func field(bytes: UnsafeBufferPointer<UInt8>) {
        separate()
        appendQuoted(bytes)
    }

    public func field(bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { field(bytes: $0) }
    }

    public func field(_ s: String) {
        separate()
        appendQuoted(s)
    }

    /// Appends a field as it is: bytes already in the table's form — known to need no quotes (no
    /// `;`, `"` or line break), or made by `quoted(_:)`.
    public func field(verbatim bytes: UnsafeBufferPointer<UInt8>) {
        separate()
        append(bytes)
    }

    /// A value in the form `field(verbatim:)` takes, for a value written on every row.
    public static func quoted(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        appendField(s, to: &out)
        return out
    }

    /// Appends an integer field in decimal.
    public func field(_ v: Int64) {
        separate()
        inPlace(21) { $0.int(v) }
    }

    /// Writes at most `n` bytes through `RowBytes` at the end of the buffer.
    @inline(__always) private func inPlace(_ n: Int, _ body: (inout RowBytes) -> Void) {
        reserve(n)
        var r = RowBytes(at: buf + count)
        body(&r)
        count = r.at - buf
    }

    public func field(_ v: Int) { field(Int64(v)) }

    /// Appends `YYYY-MM` (years 0–9999; others through `description`).
    public func field(_ p: Period) {
        guard (0...9999).contains(p.year) else { return field(p.description) }
        separate()
        inPlace(7) { $0.period(p) }
    }

    /// Appends `YYYY-MM-DD`, or an empty field for nil.
    public func field(_ d: Day?) {
        guard let d else { separate(); return }
        guard (0...9999).contains(d.year) else { return field(d.description) }
        separate()
        inPlace(10) { $0.day(d) }
    }

    /// Appends fields `body` writes straight into the buffer — at most `maxBytes` — as the row's
    /// (the per-row hot path: one capacity check for a whole row). `endRow()` ends the row.
    @inline(__always)
    public func fields(maxBytes: Int, _ body: (inout RowBytes) -> Void) {
        let before = count
        inPlace(maxBytes, body)
        precondition(count - before <= maxBytes, "a row wrote more than it reserved")
        fieldsInRow = 1
    }

    /// Ends the row begun with `field` calls.
    public func endRow() throws {
        append(0x0A)
        fieldsInRow = 0
        rows += 1
        try flushIfFull()
    }

    private func recordFailure(_ message: String) {
        failureLock.lock(); defer { failureLock.unlock() }
        if failure == nil { failure = message }
    }

    private func checkFailure() throws {
        failureLock.lock(); defer { failureLock.unlock() }
        if let failure { throw RamkollError(.internalFailure, "\(path): write failed: \(failure)") }
    }

    /// A file-backed writer hands a full buffer on; an in-memory one keeps growing.
    @inline(__always) private func flushIfFull() throws {
        if count >= TableWriter.flushAt && fd >= 0 { try flush() }
    }

    /// Hands the buffer to the background queue (hash, then write) and starts a fresh one. Before
    /// the last flush only whole blocks go (the rest starts the next buffer), so that the file's
    /// offset stays block-aligned for direct I/O.
    private func flush(last: Bool = false) throws {
        try checkFailure()
        let n = last ? count : count & ~(TableWriter.block - 1)
        guard n > 0 else { return }
        let chunk = Chunk(base: buf, count: n, capacity: capacity)
        buf = takeSpare(capacity) ?? TableWriter.allocate(capacity)
        if n < count { buf.update(from: chunk.base + n, count: count - n) }
        count -= n
        bytes += Int64(n)
        inFlight.wait()
        queue.async { [self] in
            let full = chunk.base, n = chunk.count
            defer { keepSpare(full, capacity: chunk.capacity); inFlight.signal() }
            hasher.update(bufferPointer: UnsafeRawBufferPointer(start: full, count: n))
            if direct && n % TableWriter.block != 0 { endDirect() }
            var done = 0
            while done < n {
                let w = Glibc.write(fd, full + done, n - done)
                if w < 0 {
                    if errno == EINTR { continue }
                    // Direct I/O refused (a file system that opens with O_DIRECT but will not write so): write the ordinary way.
                    if errno == EINVAL && direct { endDirect(); continue }
                    recordFailure(String(cString: strerror(errno))); return
                }
                done += w
                if direct { directBytes += Int64(w) }
            }
        }
    }

    /// Written buffers, kept for the next flushes (fresh megabytes would each be page-faulted in).
    private var spares: [(base: UnsafeMutablePointer<UInt8>, capacity: Int)] = []
    private let sparesLock = NSLock()
    /// A kept buffer of exactly `capacity` bytes (one of another size, after a row outgrew the
    /// buffer, is freed).
    private func takeSpare(_ capacity: Int) -> UnsafeMutablePointer<UInt8>? {
        sparesLock.lock(); defer { sparesLock.unlock() }
        while let s = spares.popLast() {
            if s.capacity == capacity { return s.base }
            s.base.deallocate()
        }
        return nil
    }
    private func keepSpare(_ b: UnsafeMutablePointer<UInt8>, capacity: Int) {
        sparesLock.lock(); defer { sparesLock.unlock() }
        spares.append((b, capacity))
    }

    /// Leaves direct I/O for the rest of the file (on the queue).
    private func endDirect() {
        direct = false
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags & ~TableWriter.oDirect) }
    }

    /// Flushes, fsyncs and renames into place; returns the output's record for the manifest.
    public func commit() throws -> OutputRecord {
        try flush(last: true)
        queue.sync {}
        try checkFailure()
        guard fsync(fd) == 0 else { throw RamkollError(.internalFailure, "\(path): fsync failed (\(String(cString: strerror(errno))))") }
        try FileIO.commit(tmp, to: path)
        let hex = FileIO.hex(hasher.finalize())
        FileIO.remember(path, hex: hex, bytes: bytes)
        return OutputRecord(path: name, sha256: hex, bytes: bytes, rows: rows)
    }
}

/// A row's fields written straight into a table's buffer (`TableWriter.fields(maxBytes:_:)`):
/// the caller has reserved room for all of them, so no write here checks capacity. Bytes must
/// already be in the table's form (no `;`, quote or line break unless quoted by `quoted(_:)`).
public struct RowBytes {
    public fileprivate(set) var at: UnsafeMutablePointer<UInt8>
    init(at: UnsafeMutablePointer<UInt8>) { self.at = at }

    /// "00" … "99": two digits per division when writing integers. A literal, so reading it
    /// costs no check that a lazily made table is there.
    private static let digitPairs: StaticString =
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"
    @inline(__always) static var pairs: UnsafePointer<UInt8> { digitPairs.utf8Start }

    @inline(__always) public mutating func separator() { at.pointee = 0x3B; at += 1 }

    /// One byte that needs no quotes (not `;`, `"` or a line break).
    @inline(__always) public mutating func byte(_ b: UInt8) { at.pointee = b; at += 1 }

    /// Copies a field's bytes. Fields are short (codes, dates, a line of text): up to 32 bytes
    /// go as two overlapping loads and stores of 16, 8, 4, 2 or 1 bytes (no byte outside the
    /// field read or written), longer ones through `memmove`.
    @inline(__always) public mutating func put(_ b: UnsafeBufferPointer<UInt8>) {
        guard let base = b.baseAddress else { return }
        let n = b.count
        let src = UnsafeRawPointer(base), dst = UnsafeMutableRawPointer(at)
        @inline(__always) func pair<T: FixedWidthInteger>(_: T.Type) {
            let head = src.loadUnaligned(as: T.self), tail = src.loadUnaligned(fromByteOffset: n - MemoryLayout<T>.size, as: T.self)
            dst.storeBytes(of: head, as: T.self)
            dst.storeBytes(of: tail, toByteOffset: n - MemoryLayout<T>.size, as: T.self)
        }
        if n >= 8 {
            if n <= 16 {
                pair(UInt64.self)
            } else if n <= 32 {
                let head = src.loadUnaligned(as: SIMD16<UInt8>.self), tail = src.loadUnaligned(fromByteOffset: n - 16, as: SIMD16<UInt8>.self)
                dst.storeBytes(of: head, as: SIMD16<UInt8>.self)
                dst.storeBytes(of: tail, toByteOffset: n - 16, as: SIMD16<UInt8>.self)
            } else {
                at.update(from: base, count: n)
            }
        } else if n >= 4 {
            pair(UInt32.self)
        } else if n >= 2 {
            pair(UInt16.self)
        } else if n == 1 {
            at.pointee = base.pointee
        }
        at += n
    }

    /// `v` (0 ≤ v < 100) in two digits.
    @inline(__always) private mutating func two(_ v: Int) {
        RowBytes.pair(v, at: at); at += 2
    }

    /// The two digits of `v` (0 ≤ v < 100) at `p`: one two-byte load and store.
    @inline(__always) private static func pair(_ v: Int, at p: UnsafeMutablePointer<UInt8>) {
        UnsafeMutableRawPointer(p).storeBytes(of: UnsafeRawPointer(pairs).loadUnaligned(fromByteOffset: 2 * v, as: UInt16.self), as: UInt16.self)
    }

    /// 10^0 … 10^19 (an array literal: made when the program is built).
    static let powersOfTen: [UInt64] = [
        1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000, 10000000000, 100000000000, 1000000000000, 10000000000000,
        100000000000000, 1000000000000000, 10000000000000000, 100000000000000000, 1000000000000000000, 10000000000000000000,
    ]

    /// The number of decimal digits of `m`: from its bit length (log10 2 ≈ 1233 / 4096, never
    /// over), then one comparison.
    @inline(__always) static func digitCount(_ m: UInt64) -> Int {
        let bits = 64 - (m | 1).leadingZeroBitCount
        let guess = (bits * 1233) >> 12
        return max(1, guess + (m >= powersOfTen[guess] ? 1 : 0))
    }

    /// An integer in decimal, as `TableWriter.field(_: Int64)` writes it (at most 20 bytes).
    @inline(__always) public mutating func int(_ v: Int64) {
        var m = v.magnitude
        if v < 0 { at.pointee = UInt8(ascii: "-"); at += 1 }
        let digits = RowBytes.digitCount(m)
        // From the last digit back: four at a time (one 64-bit division per four digits, the
        // two pairs split with 32-bit arithmetic), then two, then the first one or two.
        var end = at + digits
        while m >= 10_000 {
            let r = UInt32(truncatingIfNeeded: m % 10_000); m /= 10_000
            end -= 4
            RowBytes.pair(Int(r / 100), at: end); RowBytes.pair(Int(r % 100), at: end + 2)
        }
        if m >= 100 {
            let r = Int(m % 100); m /= 100
            end -= 2; RowBytes.pair(r, at: end)
        }
        if m >= 10 {
            end -= 2; RowBytes.pair(Int(m), at: end)
        } else {
            end -= 1; end.pointee = 48 + UInt8(m)
        }
        at += digits
    }

    /// `YYYY-MM-DD` as `TableWriter.field(_: Day?)` writes it (10 bytes; years 0–9999, else the
    /// description, at most 16 bytes).
    @inline(__always) public mutating func day(_ d: Day) {
        guard (0...9999).contains(d.year) else { var s = d.description; return s.withUTF8 { put($0) } }
        two(d.year / 100); two(d.year % 100)
        at.pointee = 0x2D; at += 1
        two(d.month)
        at.pointee = 0x2D; at += 1
        two(d.day)
    }

    /// `YYYY-MM` (7 bytes; periods hold years 1–9999).
    @inline(__always) public mutating func period(_ p: Period) {
        two(p.year / 100); two(p.year % 100)
        at.pointee = 0x2D; at += 1
        two(p.month)
    }
}
