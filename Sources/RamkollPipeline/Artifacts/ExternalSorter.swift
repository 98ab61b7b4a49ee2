import Foundation
import RamkollModel

/// Records sorted bytewise with bounded memory, for stages that must order or join more rows than
/// memory should hold (placement-months of a whole extract): records gather in a buffer of
/// `budget` bytes; a full buffer is sorted and written to a run file in `directory`; `forEach`
/// merges the runs. A record is compared as a whole, so its sort key goes first (`SortRecord`
/// writes keys whose bytes order as the values do) and a sequence number after the key keeps
/// equal keys in the order they were added.
final class ExternalSorter {
    let directory: String
    private let budget: Int
    /// Records, each a 4-byte length and its bytes.
    private var buffer: [UInt8] = []
    /// Each record's first eight bytes as a big-endian number (zeros past a shorter record's end),
    /// and where the record is in `buffer`: most comparisons end at the number, without reading
    /// the records themselves.
    private var offsets: [(prefix: UInt64, offset: Int)] = []
    private var runs: [String] = []
    private(set) var count = 0
    private let name: String

    /// Bytes of records held before a run is written (tests make it tiny, so that runs are merged).
    /// A sorter holds up to two such buffers, one being written while the other fills: 16 MiB
    /// each keeps a sorter's memory where one buffer of 32 MiB had it.
    nonisolated(unsafe) static var defaultBudget = 16 << 20
    /// Runs written by all sorters (what tests look at).
    nonisolated(unsafe) static var runsWritten = 0

    /// Runs are written as `directory/<name>-<n>.run` and removed when the sorter goes.
    init(directory: String, name: String, budget: Int = ExternalSorter.defaultBudget) {
        self.directory = directory; self.name = name; self.budget = budget
    }

    deinit {
        spilling.wait()
        for r in runs { unlink(r) }
    }

    /// Runs spilled to disk (what tests look at).
    var runCount: Int { runs.count }

    func add(_ record: SortRecord) throws {
        var prefix: UInt64 = 0
        for k in 0..<8 { prefix = prefix << 8 | UInt64(k < record.bytes.count ? record.bytes[k] : 0) }
        // Room for a whole buffer at once (pages are touched only as records come), so that a
        // buffer filling up does not double past its budget.
        if buffer.capacity == 0 { buffer.reserveCapacity(budget + 4096) }
        offsets.append((prefix, buffer.count))
        withUnsafeBytes(of: UInt32(record.bytes.count).littleEndian) { buffer.append(contentsOf: $0) }
        buffer.append(contentsOf: record.bytes)
        count += 1
        if buffer.count >= budget { try spill() }
    }

    /// Bytewise order, a shorter record before a longer one it begins.
    @inline(__always)
    static func less(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        let n = min(a.count, b.count)
        if n > 0 {
            let c = memcmp(a.baseAddress!, b.baseAddress!, n)
            if c != 0 { return c < 0 }
        }
        return a.count < b.count
    }

    @inline(__always)
    private static func record(_ base: UnsafeBufferPointer<UInt8>, at offset: Int) -> UnsafeBufferPointer<UInt8> {
        let n = Int(UInt32(littleEndian: UnsafeRawPointer(base.baseAddress! + offset).loadUnaligned(as: UInt32.self)))
        return UnsafeBufferPointer(start: base.baseAddress! + offset + 4, count: n)
    }

    /// Bytewise order as `less`, in one comparison: negative, zero or positive.
    @inline(__always)
    static func compare(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Int {
        let n = min(a.count, b.count)
        if n > 0 {
            let c = memcmp(a.baseAddress!, b.baseAddress!, n)
            if c != 0 { return Int(c) }
        }
        return a.count - b.count
    }

    private static func sort(_ buffer: [UInt8], _ offsets: inout [(prefix: UInt64, offset: Int)]) {
        buffer.withUnsafeBufferPointer { b in
            offsets.sort { x, y in
                if x.prefix != y.prefix { return x.prefix < y.prefix }
                let c = ExternalSorter.compare(ExternalSorter.record(b, at: x.offset), ExternalSorter.record(b, at: y.offset))
                return c != 0 ? c < 0 : x.offset < y.offset
            }
        }
    }

    /// A full buffer is sorted and written on this queue while records go on gathering in the
    /// other buffer (two cores: reconcile reads placements while a run is written). One run at a
    /// time: memory holds at most two buffers.
    private let spiller = DispatchQueue(label: "ramkoll.sort-spill")
    private let spilling = DispatchGroup()
    /// The buffers the last run was written from, emptied, for the next records (after `spilling`).
    private var spare: (buffer: [UInt8], offsets: [(prefix: UInt64, offset: Int)])?
    /// Why the last run could not be written (after `spilling`).
    private var spillFailure: Error?

    /// Waits for the run being written; throws if it could not be.
    private func awaitSpill() throws {
        spilling.wait()
        if let e = spillFailure { throw e }
    }

    /// Hands the buffer, to be sorted, to a run file written in the background.
    private func spill() throws {
        guard !offsets.isEmpty else { return }
        try awaitSpill()
        if runs.isEmpty { try FileIO.createDirectory(directory) }
        let path = directory + "/\(name)-\(runs.count).run"
        runs.append(path)
        ExternalSorter.runsWritten += 1
        let full = UnsafeSendable((buffer, offsets))
        if let (b, o) = spare {
            buffer = b; offsets = o; spare = nil
        } else {
            buffer = []; offsets = []
            buffer.reserveCapacity(budget + 4096)
        }
        let me = UnsafeSendable(self)
        spiller.async(group: spilling) {
            var (b, o) = full.value
            do {
                ExternalSorter.sort(b, &o)
                try ExternalSorter.writeRun(b, o, to: path)
            } catch {
                me.value.spillFailure = error
            }
            b.removeAll(keepingCapacity: true); o.removeAll(keepingCapacity: true)
            me.value.spare = (b, o)
        }
    }

    /// Writes records, in the order of `offsets`, as a run file.
    private static func writeRun(_ buffer: [UInt8], _ offsets: [(prefix: UInt64, offset: Int)], to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let file = FileHandle(forWritingAtPath: path) else {
            throw RamkollError(.internalFailure, "\(path): cannot create a sort run")
        }
        defer { try? file.close() }
        var out: [UInt8] = []
        out.reserveCapacity(1 << 20)
        try buffer.withUnsafeBufferPointer { b in
            for (_, o) in offsets {
                let r = ExternalSorter.record(b, at: o)
                out.append(contentsOf: UnsafeBufferPointer(rebasing: b[o..<(o + 4 + r.count)]))
                if out.count >= 1 << 20 { try file.write(contentsOf: out); out.removeAll(keepingCapacity: true) }
            }
        }
        try file.write(contentsOf: out)
    }

    /// Every record in order (each valid only during its call). The sorter is spent afterwards.
    func forEach(_ body: (UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        if runs.isEmpty {
            ExternalSorter.sort(buffer, &offsets)
            try buffer.withUnsafeBufferPointer { b in
                for (_, o) in offsets { try body(ExternalSorter.record(b, at: o)) }
            }
            buffer = []; offsets = []
            return
        }
        try spill()
        try awaitSpill()
        buffer = []; offsets = []; spare = nil
        let readers = try runs.map { try RunReader(path: $0) }
        // A binary heap of run numbers by their current record (ties: the earlier run, whose
        // records were added first).
        var heap: [Int] = []
        func before(_ i: Int, _ j: Int) -> Bool {
            let a = readers[i].current!, b = readers[j].current!
            if ExternalSorter.less(a, b) { return true }
            if ExternalSorter.less(b, a) { return false }
            return i < j
        }
        func down(_ k0: Int) {
            var k = k0
            while true {
                let l = 2 * k + 1, r = l + 1
                var m = k
                if l < heap.count && before(heap[l], heap[m]) { m = l }
                if r < heap.count && before(heap[r], heap[m]) { m = r }
                if m == k { return }
                heap.swapAt(k, m); k = m
            }
        }
        for (i, r) in readers.enumerated() where try r.advance() { heap.append(i) }
        for k in stride(from: heap.count / 2 - 1, through: 0, by: -1) { down(k) }
        while let top = heap.first {
            try body(readers[top].current!)
            if try readers[top].advance() {
                down(0)
            } else {
                heap[0] = heap[heap.count - 1]; heap.removeLast()
                if !heap.isEmpty { down(0) }
            }
        }
    }

    /// Reads a run file record by record through a 1 MiB window.
    private final class RunReader {
        let fd: Int32
        let path: String
        var buf: UnsafeMutablePointer<UInt8>
        var capacity = 1 << 20
        var start = 0, end = 0, eof = false
        private(set) var current: UnsafeBufferPointer<UInt8>?

        init(path: String) throws {
            self.path = path
            fd = open(path, O_RDONLY)
            guard fd >= 0 else { throw RamkollError(.internalFailure, "\(path): cannot read a sort run") }
            buf = .allocate(capacity: capacity)
        }
        deinit { close(fd); buf.deallocate() }

        /// Makes `need` bytes from `start` available; false at end of file.
        private func fill(_ need: Int) throws -> Bool {
            if end - start >= need { return true }
            if start > 0 { memmove(buf, buf + start, end - start); end -= start; start = 0 }
            if need > capacity {
                let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: need * 2)
                bigger.update(from: buf, count: end)
                buf.deallocate(); buf = bigger; capacity = need * 2
            }
            while end < need && !eof {
                let n = read(fd, buf + end, capacity - end)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw RamkollError(.internalFailure, "\(path): cannot read a sort run")
                }
                if n == 0 { eof = true } else { end += n }
            }
            return end - start >= need
        }

        /// Moves to the next record; false (and no current record) at the end.
        func advance() throws -> Bool {
            if let c = current { start += 4 + c.count; current = nil }
            guard try fill(4) else { return false }
            let n = Int(UInt32(littleEndian: UnsafeRawPointer(buf + start).loadUnaligned(as: UInt32.self)))
            guard try fill(4 + n) else { throw RamkollError(.internalFailure, "\(path): a sort run ends inside a record") }
            current = UnsafeBufferPointer(start: buf + start + 4, count: n)
            return true
        }
    }
}

/// A record for `ExternalSorter`: keys first (their bytes order as their values do), then fields
/// read back in the same order with `SortRecord.Reader`.
struct SortRecord {
    private(set) var bytes: [UInt8] = []

    /// A text key in ascending order (ended by a zero byte; texts hold none).
    mutating func key(_ s: String) {
        bytes.append(contentsOf: s.utf8); bytes.append(0)
    }
    /// A text key in descending order.
    mutating func keyDescending(_ s: String) {
        for b in s.utf8 { bytes.append(~b) }
        bytes.append(0xFF)
    }
    /// An integer key in ascending order (big-endian, sign bit flipped).
    mutating func key(_ v: Int64) {
        withUnsafeBytes(of: (UInt64(bitPattern: v) ^ (1 << 63)).bigEndian) { bytes.append(contentsOf: $0) }
    }
    mutating func keyDescending(_ v: Int64) {
        withUnsafeBytes(of: (~(UInt64(bitPattern: v) ^ (1 << 63))).bigEndian) { bytes.append(contentsOf: $0) }
    }
    mutating func field(_ s: String) {
        withUnsafeBytes(of: UInt32(s.utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: s.utf8)
    }
    mutating func field(_ v: Int64) { key(v) }

    /// Reads a record's keys and fields back, in the order they were written.
    struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var at = 0
        init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        /// A text key's bytes (valid while the record is).
        mutating func keyBytes() -> UnsafeBufferPointer<UInt8> {
            var end = at
            while bytes[end] != 0 { end += 1 }
            defer { at = end + 1 }
            return UnsafeBufferPointer(rebasing: bytes[at..<end])
        }
        mutating func key() -> String {
            var end = at
            while bytes[end] != 0 { end += 1 }
            defer { at = end + 1 }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[at..<end]), as: UTF8.self)
        }
        mutating func keyDescending() -> String {
            var end = at
            while bytes[end] != 0xFF { end += 1 }
            defer { at = end + 1 }
            return String(decoding: bytes[at..<end].map { ~$0 }, as: UTF8.self)
        }
        mutating func int() -> Int64 {
            var v: UInt64 = 0
            for k in 0..<8 { v = v << 8 | UInt64(bytes[at + k]) }
            at += 8
            return Int64(bitPattern: v ^ (1 << 63))
        }
        mutating func intDescending() -> Int64 {
            var v: UInt64 = 0
            for k in 0..<8 { v = v << 8 | UInt64(bytes[at + k]) }
            at += 8
            return Int64(bitPattern: ~v ^ (1 << 63))
        }
        mutating func field() -> String {
            var n = 0
            for k in 0..<4 { n |= Int(bytes[at + k]) << (8 * k) }
            at += 4
            defer { at += n }
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[at..<(at + n)]), as: UTF8.self)
        }
        mutating func fieldInt() -> Int64 { int() }
    }
}
