#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A streaming, byte-level CSV reader (RFC 4180 with a configurable delimiter).
///
/// - Reads the file in 1 MiB chunks with `read(2)`; memory does not grow with the file.
/// - Quoted fields may hold the delimiter, doubled quotes (`""`) and line breaks.
/// - CRLF and LF line ends; a UTF-8 byte order mark at the start is skipped and reported.
/// - Fields are byte slices of one reused buffer: nothing is decoded until a caller asks.
///
/// A malformed record (text after a closing quote, a quote never closed) does not stop the file:
/// `recordError` says what was wrong and the caller rejects that record.
public final class CSVReader {
    public let path: String
    public let delimiter: UInt8
    public let quote: UInt8 = UInt8(ascii: "\"")

    /// 1-based line on which the current record starts.
    public private(set) var line = 0
    /// Physical lines consumed so far (a record with embedded line breaks spans several).
    public private(set) var linesRead = 0
    public private(set) var hadBOM = false
    /// Set when the current record is malformed; its fields are what could be read.
    public private(set) var recordError: String?
    /// Total bytes read from the file so far.
    public private(set) var bytesRead = 0

    private let fd: Int32
    private var chunk: [UInt8]
    private var pos = 0
    private var end = 0
    private var eof = false
    private var started = false

    private var fieldBuf: [UInt8] = []
    private var fieldEnds: [Int] = []
    private var nextLine = 1

    public init(path: String, delimiter: UInt8, chunkSize: Int = 1 << 20) throws {
        self.path = path
        self.delimiter = delimiter
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw ReaderError(file: path, line: nil, "cannot open file (\(String(cString: strerror(errno))))")
        }
        self.fd = fd
        self.chunk = [UInt8](repeating: 0, count: chunkSize)
        fieldBuf.reserveCapacity(4096)
        fieldEnds.reserveCapacity(64)
    }

    deinit { close(fd) }

    public var fieldCount: Int { fieldEnds.count }

    /// The raw bytes of field `i` (quotes removed, doubled quotes undone).
    public func field(_ i: Int) -> ArraySlice<UInt8> {
        let start = i == 0 ? 0 : fieldEnds[i - 1]
        return fieldBuf[start..<fieldEnds[i]]
    }

    private func fill() throws -> Bool {
        if eof { return false }
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 { throw ReaderError(file: path, line: nextLine, "read failed (\(String(cString: strerror(errno))))") }
        if n == 0 { eof = true; return false }
        pos = 0; end = n; bytesRead += n
        return true
    }

    @inline(__always)
    private func nextByte() throws -> UInt8? {
        if pos == end { guard try fill() else { return nil } }
        let b = chunk[pos]; pos += 1
        return b
    }

    @inline(__always)
    private func peekByte() throws -> UInt8? {
        if pos == end { guard try fill() else { return nil } }
        return chunk[pos]
    }

    /// Reads the next record. Returns false at end of file. Blank lines are skipped.
    public func next() throws -> Bool {
        if !started {
            started = true
            if try peekByte() == 0xEF {
                // Look for a full BOM; the chunk is at least 3 bytes unless the file is tiny.
                if end - pos >= 3 && chunk[pos + 1] == 0xBB && chunk[pos + 2] == 0xBF { pos += 3; hadBOM = true }
            }
        }
        while true {
            fieldBuf.removeAll(keepingCapacity: true)
            fieldEnds.removeAll(keepingCapacity: true)
            recordError = nil
            line = nextLine
            guard let first = try peekByte() else { return false }
            if first == 0x0A { pos += 1; nextLine += 1; linesRead += 1; continue }  // blank line
            if first == 0x0D {
                pos += 1
                if try peekByte() == 0x0A { pos += 1 }
                nextLine += 1; linesRead += 1
                continue
            }
            try readRecord()
            return true
        }
    }

    private func readRecord() throws {
        var inQuotes = false
        var fieldWasQuoted = false
        var afterClosingQuote = false
        while true {
            if !inQuotes && !afterClosingQuote && pos < end {
                // Fast path: a run of ordinary bytes in the chunk, appended at once (the byte loop
                // below handles delimiters, line ends and quotes).
                let d = delimiter, q = quote
                let stop = chunk.withUnsafeBufferPointer { buf -> Int in
                    var i = pos
                    while i < end {
                        let c = buf[i]
                        if c == d || c == 0x0A || c == 0x0D || c == q { break }
                        i += 1
                    }
                    return i
                }
                if stop > pos {
                    fieldBuf.append(contentsOf: chunk[pos..<stop])
                    pos = stop
                    continue
                }
            }
            guard let b = try nextByte() else {
                // End of file ends the record.
                if inQuotes {
                    recordError = recordError ?? "a quoted field opened on line \(line) is never closed (reached end of file)"
                }
                fieldEnds.append(fieldBuf.count)
                linesRead += 1; nextLine += 1
                return
            }
            if inQuotes {
                if b == quote {
                    if try peekByte() == quote { pos += 1; fieldBuf.append(quote) } else { inQuotes = false; afterClosingQuote = true }
                } else {
                    if b == 0x0A { nextLine += 1; linesRead += 1 }
                    fieldBuf.append(b)
                }
                continue
            }
            if b == delimiter {
                fieldEnds.append(fieldBuf.count)
                fieldWasQuoted = false; afterClosingQuote = false
                continue
            }
            if b == 0x0A || b == 0x0D {
                if b == 0x0D, try peekByte() == 0x0A { pos += 1 }
                fieldEnds.append(fieldBuf.count)
                nextLine += 1; linesRead += 1
                return
            }
            if afterClosingQuote {
                recordError =
                    recordError
                    ?? "unexpected text after the closing quote of field \(fieldEnds.count + 1); a quote inside a quoted field must be doubled (\"\")"
                fieldBuf.append(b)
                continue
            }
            if b == quote && !fieldWasQuoted {
                let start = fieldEnds.last ?? 0
                if fieldBuf.count == start {
                    inQuotes = true; fieldWasQuoted = true
                    continue
                }
            }
            fieldBuf.append(b)
        }
    }
}

/// An error from a reader that stops reading the file (cannot open, I/O, not well-formed XML).
public struct ReaderError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let line: Int?
    public let message: String
    public init(file: String, line: Int?, _ message: String) { self.file = file; self.line = line; self.message = message }
    public var description: String { (line.map { "\(file):\($0)" } ?? file) + ": " + message }
}
