import RamkollModel
import RamkollReaders

/// Streams a table that an earlier stage wrote (`;`, UTF-8, header line), by column name.
public struct TableReader {
    public let path: String
    let reader: CSVReader
    public let index: [String: Int]
    /// The column names, in file order.
    public var header: [String] { index.sorted { $0.value < $1.value }.map(\.key) }

    public init(path: String, required: [String]) throws {
        self.path = path
        reader = try CSVReader(path: path, delimiter: UInt8(ascii: ";"))
        guard try reader.next() else { throw RamkollError(.input, "\(path): empty; rerun the stage that writes it") }
        var idx: [String: Int] = [:]
        for i in 0..<reader.fieldCount { idx[String(decoding: reader.bytes(i), as: UTF8.self)] = i }
        for r in required where idx[r] == nil {
            throw RamkollError(.input, "\(path): no column \"\(r)\"; the file was written by another version — rerun that stage")
        }
        index = idx
    }

    /// The position of a column the reader was told is required (look it up once, then read rows
    /// by position: no dictionary lookup per field).
    public func column(_ name: String) -> Int {
        guard let i = index[name] else { preconditionFailure("\(name) is not a column of \(path); name it in required:") }
        return i
    }

    /// Calls `body` for each row with a column accessor.
    public func forEach(_ body: (Row) throws -> Void) throws {
        while try reader.next() {
            try checkFields()
            try body(Row(reader: reader, index: index, path: path))
        }
    }

    /// A row with another number of fields than the header is a file changed by hand.
    private func checkFields() throws {
        guard reader.fieldCount == index.count, reader.recordError == nil else {
            throw RamkollError(
                .input,
                "\(path):\(reader.line): has \(reader.fieldCount) fields, the header has \(index.count); the file was changed by hand — rerun the stage that writes it"
            )
        }
    }

    /// `forEach` on two cores, for the long tables (placements): a reader thread reads the file
    /// and splits its rows into fields, a batch of rows at a time, while `body` runs on the calling
    /// thread over the batch before. The same rows in the same order, the same errors after the
    /// rows before them; at most `Batches.depth` batches of about 1 MiB wait.
    public func forEachReadAhead(_ body: (Row) throws -> Void) throws {
        let me = UnsafeSendable(self)
        let ending = try Batches<RowBatch>.readAhead(
            { put in
                let table = me.value
                var batch = RowBatch(fields: table.index.count)
                do {
                    while try table.reader.next() {
                        try table.checkFields()
                        batch.append(table.reader)
                        if batch.isFull {
                            guard put(batch) else { return }  // the caller stopped
                            batch = RowBatch(fields: table.index.count)
                        }
                    }
                } catch {
                    if batch.count > 0 { _ = put(batch) }  // the rows before the broken one
                    throw error
                }
                if batch.count > 0 { _ = put(batch) }
            },
            consume: { b in
                for r in 0..<b.count { try body(Row(batch: b, record: r, index: index, path: path)) }
            })
        if let ending { throw ending }
    }

    public struct Row {
        /// The row is the reader's current record, or record `record` of a batch read ahead.
        private let reader: CSVReader?
        private let batch: RowBatch?
        private let record: Int
        let index: [String: Int]
        let path: String
        init(reader: CSVReader, index: [String: Int], path: String) {
            self.reader = reader; batch = nil; record = 0; self.index = index; self.path = path
        }
        init(batch: RowBatch, record: Int, index: [String: Int], path: String) {
            reader = nil; self.batch = batch; self.record = record; self.index = index; self.path = path
        }
        @inline(__always) private func bytes(_ i: Int) -> UnsafeBufferPointer<UInt8> {
            if let batch { return batch.field(record, i) }
            return reader!.bytes(i)
        }
        public subscript(_ k: String) -> String { String(decoding: bytes(index[k]!), as: UTF8.self) }
        public func int(_ k: String) throws -> Int64 { try int(column: index[k]!) }
        public func period(_ k: String) throws -> Period {
            guard let v = Period(self[k]) else { throw RamkollError(.input, "\(path):\(line): \(k) \"\(self[k])\" is not a period") }
            return v
        }
        /// Column `i` (see `TableReader.column`) as a String.
        public subscript(column i: Int) -> String { String(decoding: bytes(i), as: UTF8.self) }
        /// Column `i` as an integer, read from its bytes (the same rule as `int(_:)`: an optional
        /// `-` or `+` and up to 18 digits).
        public func int(column i: Int) throws -> Int64 {
            let b = bytes(i)
            var k = 0, negative = false
            if b.count > 1 && (b[0] == UInt8(ascii: "-") || b[0] == UInt8(ascii: "+")) { negative = b[0] == UInt8(ascii: "-"); k = 1 }
            var v: Int64 = 0
            if b.count - k >= 1 && b.count - k <= 18 {
                while k < b.count, b[k] >= 48, b[k] <= 57 { v = v * 10 + Int64(b[k] - 48); k += 1 }
                if k == b.count { return negative ? -v : v }
            }
            // Anything else (a longer number, or not a number) as `int(_:)` has it.
            let text = self[column: i]
            guard let v = Int64(text) else {
                throw RamkollError(
                    .input,
                    "\(path):\(line): \(index.first { $0.value == i }!.key) \"\(text)\" is not an integer; the file was changed by hand — rerun the stage that writes it"
                )
            }
            return v
        }
        public var line: Int { batch?.lines[record] ?? reader!.line }
        /// Field `i`'s bytes (valid during the call), without making a String.
        public func withField(_ i: Int, _ body: (UnsafeBufferPointer<UInt8>) -> Void) { body(bytes(i)) }
    }
}

/// Rows read ahead: their fields' bytes one after another in one buffer, each field's end, and
/// each row's line. Filled by the reader thread, then only read.
final class RowBatch: @unchecked Sendable {
    let fields: Int
    private var storage: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var used = 0
    /// Field k of the batch (row × fields + column) ends at ends[k] and starts where field k − 1 ends.
    private var ends: [Int] = []
    private(set) var lines: [Int] = []
    static let bytes = 1 << 20
    static let rows = 8192

    init(fields: Int) {
        self.fields = fields
        capacity = RowBatch.bytes + (1 << 16)
        storage = .allocate(capacity: capacity)
        ends.reserveCapacity(RowBatch.rows * fields)
        lines.reserveCapacity(RowBatch.rows)
    }
    deinit { storage.deallocate() }

    var count: Int { lines.count }
    var isFull: Bool { used >= RowBatch.bytes || lines.count >= RowBatch.rows }

    /// The reader's current record.
    func append(_ reader: CSVReader) {
        for i in 0..<fields {
            let b = reader.bytes(i)
            if used + b.count > capacity {
                let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: max(capacity * 2, used + b.count))
                bigger.update(from: storage, count: used)
                storage.deallocate()
                storage = bigger; capacity = max(capacity * 2, used + b.count)
            }
            if let base = b.baseAddress { (storage + used).update(from: base, count: b.count) }
            used += b.count
            ends.append(used)
        }
        lines.append(reader.line)
    }

    @inline(__always) func field(_ record: Int, _ i: Int) -> UnsafeBufferPointer<UInt8> {
        let k = record * fields + i
        let start = k == 0 ? 0 : ends[k - 1]
        return UnsafeBufferPointer(start: storage + start, count: ends[k] - start)
    }
}
