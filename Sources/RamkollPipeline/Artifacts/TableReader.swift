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
            guard reader.fieldCount == index.count, reader.recordError == nil else {
                throw RamkollError(
                    .input,
                    "\(path):\(reader.line): has \(reader.fieldCount) fields, the header has \(index.count); the file was changed by hand — rerun the stage that writes it"
                )
            }
            try body(Row(reader: reader, index: index, path: path))
        }
    }

    public struct Row {
        let reader: CSVReader
        let index: [String: Int]
        let path: String
        public subscript(_ k: String) -> String { String(decoding: reader.bytes(index[k]!), as: UTF8.self) }
        public func int(_ k: String) throws -> Int64 { try int(column: index[k]!) }
        public func period(_ k: String) throws -> Period {
            guard let v = Period(self[k]) else { throw RamkollError(.input, "\(path):\(reader.line): \(k) \"\(self[k])\" is not a period") }
            return v
        }
        /// Column `i` (see `TableReader.column`) as a String.
        public subscript(column i: Int) -> String { String(decoding: reader.bytes(i), as: UTF8.self) }
        /// Column `i` as an integer, read from its bytes (the same rule as `int(_:)`: an optional
        /// `-` or `+` and up to 18 digits).
        public func int(column i: Int) throws -> Int64 {
            let b = reader.bytes(i)
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
                    "\(path):\(reader.line): \(index.first { $0.value == i }!.key) \"\(text)\" is not an integer; the file was changed by hand — rerun the stage that writes it"
                )
            }
            return v
        }
        public var line: Int { reader.line }
        /// Field `i`'s bytes (valid during the call), without making a String.
        public func withField(_ i: Int, _ body: (UnsafeBufferPointer<UInt8>) -> Void) { body(reader.bytes(i)) }
    }
}
