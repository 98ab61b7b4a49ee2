#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A read buffer that readers of one block after another can share (so that the blocks of a
/// big file do not each allocate and free megabytes).
public final class ReadBuffer: @unchecked Sendable {
    public private(set) var base: UnsafeMutablePointer<UInt8>
    public private(set) var capacity: Int
    public init(capacity: Int = 2 << 20) {
        self.capacity = capacity
        base = .allocate(capacity: capacity)
    }
    /// Replaces the buffer by a bigger one holding its first `keep` bytes.
    func grow(to n: Int, keep: Int) {
        let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: n)
        bigger.update(from: base, count: keep)
        base.deallocate()
        base = bigger; capacity = n
    }
    /// Makes the buffer hold at least `n` bytes (its contents are not kept).
    public func reserve(_ n: Int) {
        if n > capacity { grow(to: n, keep: 0) }
    }
    deinit { base.deallocate() }
}

/// A streaming, byte-level CSV reader (RFC 4180 with a configurable delimiter).
///
/// - Reads the file in 1 MiB chunks with `read(2)` into one buffer; memory does not grow with the
///   file (only with the longest record).
/// - Quoted fields may hold the delimiter, doubled quotes (`""`) and line breaks.
/// - CRLF and LF line ends; a UTF-8 byte order mark at the start is skipped and reported.
/// - Fields are ranges of the read buffer, nothing is copied or decoded until a caller asks: an
///   unquoted field is the bytes as read, a quoted one is unescaped in place (never longer).
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
    /// Whether the current record holds a quote character anywhere. A record without one, read
    /// with delimiter `d`, has no field containing `d`, a quote or a line break.
    public private(set) var recordHasQuote = false
    /// Whether the current record is known to be ASCII throughout (set by the word-wise read of
    /// a plain record; false where it was not checked).
    public private(set) var recordIsASCII = false
    /// Total bytes read from the file so far.
    public private(set) var bytesRead = 0

    private let fd: Int32
    /// The read buffer: bytes [pos, end) are read and not yet parsed.
    private let storage: ReadBuffer
    @usableFromInline var buf: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private let chunkSize: Int
    private var pos = 0
    private var end = 0
    private var eof = false
    private var started = false

    /// Field i of the current record is buf[starts[i] ..< ends[i]].
    @usableFromInline var starts: UnsafeMutablePointer<Int>
    @usableFromInline var ends: UnsafeMutablePointer<Int>
    private var fieldCapacity = 64
    public private(set) var fieldCount = 0
    private var nextLine = 1

    /// Bytes of the file left to read (a reader of a range stops at its end).
    private var remaining = Int.max
    private let rangeStart: Int
    /// Set when the file (or range) ended inside a quoted field.
    public private(set) var endedInQuotes = false

    /// Reads the whole file; with `range`, only those bytes, as if they were the file, numbering
    /// lines from `firstLine` (a block of a file split at line ends; no byte order mark expected).
    public init(
        path: String, delimiter: UInt8, chunkSize: Int = 1 << 20, range: Range<Int>? = nil, firstLine: Int = 1, buffer: ReadBuffer? = nil
    ) throws {
        self.path = path
        self.delimiter = delimiter
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw ReaderError(file: path, line: nil, "cannot open file (\(String(cString: strerror(errno))))")
        }
        self.fd = fd
        rangeStart = range?.lowerBound ?? 0
        if let range {
            guard lseek(fd, off_t(range.lowerBound), SEEK_SET) == off_t(range.lowerBound) else {
                close(fd)
                throw ReaderError(file: path, line: nil, "cannot seek to byte \(range.lowerBound)")
            }
            remaining = range.count
            started = range.lowerBound > 0
        }
        nextLine = firstLine
        self.chunkSize = max(chunkSize, 1)
        storage = buffer ?? ReadBuffer(capacity: max(self.chunkSize * 2, 8))
        if storage.capacity < max(self.chunkSize * 2, 8) { storage.grow(to: max(self.chunkSize * 2, 8), keep: 0) }
        buf = storage.base
        capacity = storage.capacity
        starts = .allocate(capacity: fieldCapacity)
        ends = .allocate(capacity: fieldCapacity)
    }

    /// Reads bytes a caller has already read into `buffer` (its first `count` bytes): block
    /// `range` of file `path`, numbering lines from `firstLine`, nothing more read from the file.
    public init(path: String, delimiter: UInt8, preloaded buffer: ReadBuffer, count: Int, range: Range<Int>, firstLine: Int) {
        precondition(count == range.count && count <= buffer.capacity, "a preloaded block is the whole range, in the buffer")
        self.path = path
        self.delimiter = delimiter
        fd = -1
        rangeStart = range.lowerBound
        remaining = 0
        started = range.lowerBound > 0
        nextLine = firstLine
        chunkSize = max(count, 1)
        storage = buffer
        buf = buffer.base
        capacity = buffer.capacity
        end = count; bytesRead = count; eof = true
        starts = .allocate(capacity: fieldCapacity)
        ends = .allocate(capacity: fieldCapacity)
    }

    deinit {
        if fd >= 0 { close(fd) }
        starts.deallocate(); ends.deallocate()  // the read buffer is the storage's
    }

    /// The line the next record starts on.
    public var upcomingLine: Int { nextLine }
    /// Offset in the file of the first byte not yet parsed (after the current record).
    public var offset: Int { rangeStart + bytesRead - (end - pos) }

    /// The raw bytes of field `i` (quotes removed, doubled quotes undone).
    public func field(_ i: Int) -> ArraySlice<UInt8> {
        precondition(i >= 0 && i < fieldCount, "field \(i) of \(fieldCount)")
        return ArraySlice(UnsafeBufferPointer(start: buf + starts[i], count: ends[i] - starts[i]))
    }

    /// Bytes from the current record's first field to the end of its last: every field lies
    /// within them (quoted fields are unescaped in place), so no field is longer.
    @inlinable public var recordSpan: Int { fieldCount == 0 ? 0 : ends[fieldCount - 1] - starts[0] }

    /// Field `i` without a copy: valid until the next call to `next()`. Inlinable: the ledger
    /// fast path takes a dozen per row.
    @inlinable @inline(__always)
    public func bytes(_ i: Int) -> UnsafeBufferPointer<UInt8> {
        precondition(i >= 0 && i < fieldCount, "field \(i) of \(fieldCount)")
        return UnsafeBufferPointer(start: buf + starts[i], count: ends[i] - starts[i])
    }

    /// Moves the bytes from `keep` on to the start of the buffer and reads more of the file after
    /// them; returns how far they moved (offsets into the buffer shift by that much). At end of
    /// file nothing more is read: `end` tells.
    private func refill(keep: Int) throws -> Int {
        if eof { return 0 }
        let kept = end - keep
        if keep > 0 && kept > 0 { memmove(buf, buf + keep, kept) }
        if kept + chunkSize > capacity {
            // One record longer than the buffer: grow it.
            storage.grow(to: (kept + chunkSize) * 2, keep: kept)
            buf = storage.base; capacity = storage.capacity
        }
        let n = remaining == 0 ? 0 : read(fd, buf + kept, min(capacity - kept, remaining))
        if n > 0 && remaining != Int.max { remaining -= n }
        if n < 0 { throw ReaderError(file: path, line: nextLine, "read failed (\(String(cString: strerror(errno))))") }
        pos -= keep; end = kept
        if n == 0 { eof = true } else { end += n; bytesRead += n }
        return keep
    }

    @inline(__always)
    private func addField(_ s: Int, _ e: Int) {
        if fieldCount == fieldCapacity { growFields() }
        starts[fieldCount] = s; ends[fieldCount] = e
        fieldCount += 1
    }

    /// Doubles the room for field offsets, keeping the first `fieldCount`.
    @inline(never)
    private func growFields() {
        let n = fieldCapacity * 2
        let ns = UnsafeMutablePointer<Int>.allocate(capacity: n), ne = UnsafeMutablePointer<Int>.allocate(capacity: n)
        ns.update(from: starts, count: fieldCount); ne.update(from: ends, count: fieldCount)
        starts.deallocate(); ends.deallocate()
        starts = ns; ends = ne; fieldCapacity = n
    }

    /// Reads the next record. Returns false at end of file. Blank lines are skipped.
    public func next() throws -> Bool {
        if !started {
            started = true
            while end - pos < 3 && !eof { _ = try refill(keep: pos) }
            if end - pos >= 3 && buf[pos] == 0xEF && buf[pos + 1] == 0xBB && buf[pos + 2] == 0xBF { pos += 3; hadBOM = true }
        }
        while true {
            fieldCount = 0
            recordError = nil
            recordHasQuote = false
            recordIsASCII = false
            line = nextLine
            if pos == end {
                _ = try refill(keep: pos)
                if pos == end { return false }
            }
            let first = buf[pos]
            if first == 0x0A { pos += 1; nextLine += 1; linesRead += 1; continue }  // blank line
            if first == 0x0D {
                pos += 1
                if pos == end { _ = try refill(keep: pos) }
                if pos < end && buf[pos] == 0x0A { pos += 1 }
                nextLine += 1; linesRead += 1
                continue
            }
            try readRecord()
            return true
        }
    }

    /// The delimiter in every byte of a word.
    private var delimiterWord: UInt64 { UInt64(delimiter) &* 0x0101_0101_0101_0101 }

    /// A word with the high bit set in each byte that is the delimiter, a quote, LF or CR — exact
    /// from the lowest such byte on (the borrow of the zero-byte test only runs upwards), which
    /// is the one the scan wants.
    @inlinable @inline(__always)
    public static func specialBytes(_ x: UInt64, delimiter: UInt64) -> UInt64 {
        @inline(__always) func zeroBytes(_ v: UInt64) -> UInt64 { (v &- 0x0101_0101_0101_0101) & ~v & 0x8080_8080_8080_8080 }
        return zeroBytes(x ^ delimiter) | zeroBytes(x ^ 0x2222_2222_2222_2222) | zeroBytes(x ^ 0x0A0A_0A0A_0A0A_0A0A)
            | zeroBytes(x ^ 0x0D0D_0D0D_0D0D_0D0D)
    }

    /// The high bit of every byte of `x` equal to the byte repeated in `w` — exact in every byte
    /// (no borrow from one byte into the next), so all of a word's matches can be taken in turn.
    @inlinable @inline(__always)
    public static func equalBytes(_ x: UInt64, _ w: UInt64) -> UInt64 {
        let v = x ^ w
        return ~(((v & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F) | v) & 0x8080_8080_8080_8080
    }

    /// The common record, read in one pass of eight bytes at a time: its line ends (LF or CRLF)
    /// within the buffer and it holds no quote. Returns false, having changed nothing, for any
    /// other record, which `readRecord` then reads byte by byte.
    @inline(__always)
    private func plainRecord() -> Bool {
        // The reader's fields held in locals for the loop (stores through the field pointers
        // could otherwise make every property a reload), written back once at the end.
        let dw = delimiterWord, d = delimiter, b = buf
        var st = starts, en = ends, cap = fieldCapacity
        var n = 0
        var k = pos, fieldStart = pos
        let e = end
        var high: UInt64 = 0  // the record's bytes OR-ed: their high bits tell whether it is ASCII
        while k + 8 <= e {
            let x = UnsafeRawPointer(b + k).loadUnaligned(as: UInt64.self)
            var m = CSVReader.equalBytes(x, dw) | CSVReader.equalBytes(x, 0x0A0A_0A0A_0A0A_0A0A) | CSVReader.equalBytes(x, 0x2222_2222_2222_2222)
                | CSVReader.equalBytes(x, 0x0D0D_0D0D_0D0D_0D0D)
            while m != 0 {
                let j = k + (m.trailingZeroBitCount >> 3)
                let c = b[j]
                if n == cap {
                    fieldCount = n
                    growFields()
                    st = starts; en = ends; cap = fieldCapacity
                }
                if c == d {
                    st[n] = fieldStart; en[n] = j; n += 1
                    fieldStart = j + 1
                } else if c == 0x0A || (c == 0x0D && j + 1 < e && b[j + 1] == 0x0A) {
                    st[n] = fieldStart; en[n] = j; n += 1
                    fieldCount = n
                    pos = c == 0x0A ? j + 1 : j + 2
                    nextLine += 1; linesRead += 1
                    // Only the bytes before the line end are the record's (the little-endian load
                    // puts byte i of the word in bits 8i…8i+7).
                    let inRecord = j - k
                    high |= inRecord == 0 ? 0 : x & (UInt64.max >> UInt64(64 - 8 * inRecord))
                    recordIsASCII = high & 0x8080_8080_8080_8080 == 0
                    return true
                } else {
                    fieldCount = 0
                    return false
                }
                m &= m - 1
            }
            high |= x
            k += 8
        }
        fieldCount = 0
        return false
    }

    /// Parses one record from `pos`. Offsets are kept relative to the buffer and shifted when a
    /// refill moves the record to the buffer's start.
    private func readRecord() throws {
        if plainRecord() { return }
        let d = delimiter, q = quote
        var i = pos  // next byte to read
        var fieldStart = i  // where the current field's bytes begin
        var w = i  // where the current field's next byte goes (≤ i; only quoted fields write)
        var inQuotes = false, fieldWasQuoted = false, afterClosingQuote = false
        /// Makes sure buf[i] exists; false at end of file.
        func more() throws -> Bool {
            while i == end && !eof {
                let moved = try refill(keep: pos)
                i -= moved; fieldStart -= moved; w -= moved
                for k in 0..<fieldCount { starts[k] -= moved; ends[k] -= moved }
            }
            return i < end
        }
        while true {
            if !inQuotes && !afterClosingQuote && w == i {
                // The common case: an unquoted field, read where it lies up to a special byte —
                // eight bytes at a time (SWAR), then byte by byte.
                var k = i
                let e = end
                var found = false
                while k + 8 <= e {
                    let m = CSVReader.specialBytes(UnsafeRawPointer(buf + k).loadUnaligned(as: UInt64.self), delimiter: delimiterWord)
                    if m != 0 { k += m.trailingZeroBitCount >> 3; found = true; break }
                    k += 8
                }
                if !found {
                    while k < e {
                        let c = buf[k]
                        if c == d || c == 0x0A || c == 0x0D || c == q { break }
                        k += 1
                    }
                }
                i = k; w = k
            }
            guard try more() else {
                // End of file ends the record.
                if inQuotes {
                    recordError = recordError ?? "a quoted field opened on line \(line) is never closed (reached end of file)"
                    endedInQuotes = true
                }
                addField(fieldStart, w)
                linesRead += 1; nextLine += 1
                pos = i
                return
            }
            let b = buf[i]; i += 1
            if b == q { recordHasQuote = true }
            if inQuotes {
                if b == q {
                    if try more(), buf[i] == q { i += 1; buf[w] = q; w += 1 } else { inQuotes = false; afterClosingQuote = true }
                } else {
                    if b == 0x0A { nextLine += 1; linesRead += 1 }
                    buf[w] = b; w += 1
                }
                continue
            }
            if b == d {
                addField(fieldStart, w)
                fieldStart = i; w = i
                fieldWasQuoted = false; afterClosingQuote = false
                continue
            }
            if b == 0x0A || b == 0x0D {
                if b == 0x0D, try more(), buf[i] == 0x0A { i += 1 }
                addField(fieldStart, w)
                nextLine += 1; linesRead += 1
                pos = i
                return
            }
            if afterClosingQuote {
                recordError =
                    recordError
                    ?? "unexpected text after the closing quote of field \(fieldCount + 1); a quote inside a quoted field must be doubled (\"\")"
                buf[w] = b; w += 1
                continue
            }
            if b == q && !fieldWasQuoted && w == fieldStart {
                inQuotes = true; fieldWasQuoted = true
                fieldStart = i; w = i
                continue
            }
            buf[w] = b; w += 1
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
