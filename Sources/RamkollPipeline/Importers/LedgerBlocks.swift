import Dispatch
import Foundation
import RamkollModel
import RamkollReaders

/// The books normalize keeps for every ledger row, whichever path or worker wrote it: voucher
/// runs (consecutive rows of one source with the same voucher number — a voucher split across
/// the file shows as several runs, so memory stays bounded), rows and öre with a voucher
/// number, and the periods each source has postings in.
struct LedgerBooks {
    struct Run {
        /// Whether voucher_totals.csv must quote the source id (worked out when it changes).
        private(set) var sourceQuoted = false
        var source = "" {
            didSet { sourceQuoted = source.utf8.withContiguousStorageIfAvailable { TableWriter.needsQuotes($0) } ?? true }
        }
        var voucher: [UInt8] = [], firstLine = 0, rows: Int64 = 0, amount = Ore.zero
        /// The voucher is known to need no quotes (`LedgerRowFacts.voucherPlain` of its first row).
        var voucherPlain = false
        func continues(with other: Run) -> Bool { other.source == source && other.voucher == voucher }
    }
    /// The run being totalled (rows 0: none).
    var open = Run()
    var rowsWithVoucher: Int64 = 0, amountWithVoucher = Ore.zero
    var periods: [String: Set<Period>] = [:]
    private var lastPeriod: Period?, lastPeriodSource = ""

    /// ledger.csv summed by source × period × account × ansvar × invoice reference (placement
    /// and month, on placement accounts): ledger_groups.csv, what reconcile reads. Groups in the
    /// order they first appear; memory grows with the groups, not with the rows.
    struct Group {
        let source: String, file: String, period: Period, account: String, ansvar: String, placement: String, month: Period?
        let firstLine: Int
        var rows: Int64 = 0, amount = Ore.zero
    }
    private(set) var groups: [Group] = []
    private var groupTable = ByteKeyTable()
    /// Groups by packed key (see `group`).
    private var recent = PackedKeyTable()
    /// The current source: its id's bytes (byte keys start with them) and its ordinal among the
    /// sources this book has seen (packed keys hold it).
    private var source: (id: String, bytes: [UInt8], ordinal: Int) = ("", [], -1)
    private mutating func note(source id: String) {
        if source.id != id { source = (id, Array(id.utf8), source.ordinal + 1) }
    }
    var rows: Int64 = 0, amount = Ore.zero

    /// Adds a row to its group.
    mutating func group(
        sourceID: String, file: String, period: Period, account: UnsafeBufferPointer<UInt8>, ansvar: UnsafeBufferPointer<UInt8>,
        reference: InvoiceMatching.Key?, line: Int, amount a: Ore
    ) {
        rows += 1; amount += a
        // Most rows: no invoice reference, account and ansvar of at most eight bytes — their
        // group found by three words in `recent` before the byte-key table is asked.
        var packed: PackedKey?
        note(source: sourceID)
        if reference == nil, account.count <= 8, ansvar.count <= 8, source.ordinal < 0xFFFF {
            let k = PackedKey(
                account: PackedKey.word(account), ansvar: PackedKey.word(ansvar),
                rest: UInt64(UInt32(truncatingIfNeeded: period.year * 12 + period.month)) | UInt64(account.count) << 32 | UInt64(ansvar.count) << 40
                    | UInt64(source.ordinal) << 48)
            if let g = recent.find(k) {
                groups[g].rows += 1
                groups[g].amount += a
                return
            }
            packed = k
        }
        let (g, inserted) = slot(sourceID: sourceID, period: period, account: account, ansvar: ansvar, reference: reference)
        if let packed { recent.insert(packed, g) }
        if inserted {
            groups.append(
                Group(
                    source: sourceID, file: file, period: period, account: String(decoding: account, as: UTF8.self),
                    ansvar: String(decoding: ansvar, as: UTF8.self), placement: reference?.placement ?? "", month: reference?.month, firstLine: line))
        }
        groups[g].rows += 1
        groups[g].amount += a
    }

    /// Adds another set of groups (a later block of the file), keeping first-appearance order.
    mutating func absorbGroups(of other: LedgerBooks) {
        for g in other.groups {
            var account = g.account, ansvar = g.ansvar
            let reference = g.month.map { InvoiceMatching.Key(placement: g.placement, month: $0) }
            let (i, inserted) = account.withUTF8 { a in
                ansvar.withUTF8 { s in slot(sourceID: g.source, period: g.period, account: a, ansvar: s, reference: reference) }
            }
            if inserted { var empty = g; empty.rows = 0; empty.amount = .zero; groups.append(empty) }
            groups[i].rows += g.rows; groups[i].amount += g.amount
            rows += g.rows; amount += g.amount
        }
    }

    /// The group of source × period × account × ansvar × reference, and whether it is new (the
    /// caller then appends it to `groups`). The key's bytes: source id, 0, period (Int32), account, `;`, ansvar and, with a
    /// reference, `;` placement `;` month (Int32) — built on the stack, not in an array.
    private mutating func slot(
        sourceID: String, period: Period, account: UnsafeBufferPointer<UInt8>, ansvar: UnsafeBufferPointer<UInt8>, reference: InvoiceMatching.Key?
    ) -> (Int, Bool) {
        note(source: sourceID)
        let placement = reference.map { Array($0.placement.utf8) } ?? []
        let n = source.bytes.count + 1 + 4 + account.count + 1 + ansvar.count + (reference == nil ? 0 : 2 + placement.count + 4)
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: n) { key -> (Int, Bool) in
            var at = 0
            @inline(__always) func put(_ b: UnsafeBufferPointer<UInt8>) {
                if let base = b.baseAddress, b.count > 0 { (key.baseAddress! + at).update(from: base, count: b.count) }
                at += b.count
            }
            @inline(__always) func put(_ month: Period) {
                UnsafeMutableRawPointer(key.baseAddress! + at).storeBytes(of: Int32(month.year * 12 + month.month), as: Int32.self)
                at += 4
            }
            source.bytes.withUnsafeBufferPointer { put($0) }
            key[at] = 0; at += 1
            put(period)
            put(account); key[at] = 0x3B; at += 1
            put(ansvar)
            if let reference {
                key[at] = 0x3B; at += 1
                placement.withUnsafeBufferPointer { put($0) }
                key[at] = 0x3B; at += 1
                put(reference.month)
            }
            return groupTable.index(of: UnsafeBufferPointer(start: key.baseAddress, count: at))
        }
    }

    /// Keeps the books of one ledger row (its voucher run, period and group); when it starts a
    /// new run, `completed` gets the run it ends first.
    mutating func record(_ r: LedgerRowFacts, referencer: InvoiceReferencer, completed: (Run) throws -> Void) rethrows {
        try track(
            sourceID: r.sourceID, voucher: r.voucher, voucherPlain: r.voucherPlain, line: r.line, period: r.period, amount: r.amount,
            completed: completed)
        group(
            sourceID: r.sourceID, file: r.file, period: r.period, account: r.account, ansvar: r.ansvar,
            reference: referencer.find(account: r.account, text: r.text, period: r.period), line: r.line, amount: r.amount)
    }

    /// Counts a row; when it starts a new run, `completed` gets the run it ends first.
    mutating func track(
        sourceID: String, voucher: UnsafeBufferPointer<UInt8>, voucherPlain: Bool, line: Int, period: Period, amount: Ore,
        completed: (Run) throws -> Void
    ) rethrows {
        // Rows come month by month: one set insert per change of period.
        if lastPeriod != period || lastPeriodSource != sourceID {
            periods[sourceID, default: []].insert(period)
            lastPeriod = period; lastPeriodSource = sourceID
        }
        if !voucher.isEmpty { rowsWithVoucher += 1; amountWithVoucher += amount }
        if open.rows > 0, open.voucher.count == voucher.count,
            open.voucher.withUnsafeBufferPointer({ voucher.isEmpty || memcmp($0.baseAddress!, voucher.baseAddress!, voucher.count) == 0 }),
            open.source == sourceID
        {
            open.rows += 1; open.amount += amount
            return
        }
        if open.rows > 0 { try completed(open) }
        if open.source != sourceID { open.source = sourceID }  // mostly the same: no reference counting per run
        if open.voucher.count == voucher.count {
            if let from = voucher.baseAddress {
                open.voucher.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: from, count: voucher.count) }
            }
        } else {
            open.voucher = Array(voucher)
        }
        open.firstLine = line; open.rows = 1; open.amount = amount; open.voucherPlain = voucherPlain
    }

    /// Adds a block's row counts, periods and groups (its runs are joined separately).
    mutating func absorbCounts(of other: LedgerBooks) {
        rowsWithVoucher += other.rowsWithVoucher; amountWithVoucher += other.amountWithVoucher
        for (s, ps) in other.periods { periods[s, default: []].formUnion(ps) }
        lastPeriod = nil
        absorbGroups(of: other)
    }
}

/// Where a worker puts one block of a ledger file: rows, rejects and voucher runs in memory,
/// in the block's order. Its first and last voucher runs are kept apart: they may continue
/// across the block's edges, which only the in-order merge can tell.
final class LedgerBlockSink: LedgerSink {
    let ledger = TableWriter(), rejects = TableWriter(), warnings = TableWriter(), vouchers = TableWriter()
    var books = LedgerBooks()
    private(set) var firstRun: LedgerBooks.Run?
    /// Rows and öre of the runs written to `vouchers` (complete runs between the first and last).
    private(set) var middleRows: Int64 = 0, middleAmount = Ore.zero

    /// The block's last run, when it is not also its first (after `finish()`).
    var lastRun: LedgerBooks.Run? { firstRun == nil ? nil : (books.open.rows > 0 ? books.open : nil) }

    /// Empties the sink for the next block (buffers kept).
    func reset() {
        ledger.reset(); rejects.reset(); warnings.reset(); vouchers.reset()
        books = LedgerBooks(); firstRun = nil; middleRows = 0; middleAmount = .zero
    }

    /// Ends the block: with a single run, that run is the first.
    func finish() {
        if firstRun == nil && books.open.rows > 0 { firstRun = books.open; books.open.rows = 0 }
    }

    private func completed(_ run: LedgerBooks.Run) {
        if firstRun == nil { firstRun = run; return }
        guard !run.voucher.isEmpty else { return }
        middleRows += run.rows; middleAmount += run.amount
        NormalizeStage.writeVoucher(run, to: vouchers)
        try? vouchers.endRow()  // in memory: cannot fail
    }

    let referencer: InvoiceReferencer
    init(referencer: InvoiceReferencer) { self.referencer = referencer }

    func ledgerRow(_ r: LedgerRowFacts, fields: (TableWriter) throws -> Void) throws {
        books.record(r, referencer: referencer) { completed($0) }
        try fields(ledger)
        try ledger.endRow()
    }
    func ledger(_ e: LedgerEntry, sourceID: String) throws {
        let e = e.redacted()
        LedgerRowFacts.of(e, sourceID: sourceID) { r in books.record(r, referencer: referencer) { completed($0) } }
        try ledger.write(NormalizeStage.ledgerFields(e, sourceID: sourceID))
    }
    func reject(sourceID: String, at: SourceRef, field: String, raw: String, reason: String) throws {
        try rejects.write(NormalizeStage.rejectFields(sourceID: sourceID, at: at, field: field, raw: raw, reason: reason))
    }
    func warning(sourceID: String, at: SourceRef, message: String) throws {
        try warnings.write(NormalizeStage.warningFields(sourceID: sourceID, at: at, message: message))
    }
}

/// A big ledger file read on every core: split into blocks at line ends, each block read by a
/// worker into memory, the blocks appended to the stage's tables strictly in file order — so
/// the outputs are byte for byte those of one reader. Line numbers come from the line feeds of
/// the blocks before (each worker counts its block's as it reads it: `LineChain`). An edge that
/// fell inside a quoted field (a block that ends inside quotes) is mended by reading that block on
/// into the next ones with one reader; a bare CR line end, which the count would miss, sends the
/// rest of the file to one reader.
struct LedgerBlocks {
    /// Tests make blocks tiny to put edges everywhere.
    nonisolated(unsafe) static var blockSize = 2 << 20
    /// Files smaller than this are read by one reader (workers would not pay).
    nonisolated(unsafe) static var minimumFile = 24 << 20
    nonisolated(unsafe) static var enabled = true
    /// Workers reading blocks: one per core (tests set two, so blocks are tested on any machine).
    nonisolated(unsafe) static var workers = ProcessInfo.processInfo.activeProcessorCount
    /// Blocks appended, and files (or their rest) handed to one reader: what tests look at.
    nonisolated(unsafe) static var blocksAppended = 0, handedToOneReader = 0, spansReread = 0
    /// Called with the file's path after the split, before any block is read (tests change the
    /// file there, as another program could).
    nonisolated(unsafe) static var afterSplit: ((String) -> Void)?

    let path: String
    let sink: NormalizeStage.Sink
    let firstLine: Int
    let blocks: [Range<Int>]

    /// Nil when the file is read by one reader: small, one core, another sink, or a header not
    /// ended by a line feed.
    init?(path: String, reader: CSVReader, sink: any LedgerSink) {
        guard LedgerBlocks.enabled, LedgerBlocks.workers > 1, let sink = sink as? NormalizeStage.Sink else { return nil }
        var st = stat()
        guard stat(path, &st) == 0, Int(st.st_size) >= LedgerBlocks.minimumFile else { return nil }
        let size = Int(st.st_size)
        let start = reader.offset
        guard start > 0, let fh = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? fh.close() }
        // The byte before the first row must be a line feed (else the count would be off by one).
        guard (try? fh.seek(toOffset: UInt64(start - 1))) != nil, let before = try? fh.read(upToCount: 1), before.first == 0x0A else { return nil }
        guard let blocks = LedgerBlocks.split(fh, from: start, size: size, blockSize: LedgerBlocks.blockSize) else { return nil }
        self.path = path; self.sink = sink; self.firstLine = reader.upcomingLine; self.blocks = blocks
    }

    /// Block edges for bytes `start..<size` of a file: about `blockSize` apart, each just after a
    /// line feed. Nil if the file cannot be read.
    static func split(_ fh: FileHandle, from start: Int, size: Int, blockSize: Int) -> [Range<Int>]? {
        var blocks: [Range<Int>] = []
        var lo = start
        while lo < size {
            var hi = min(size, lo + blockSize)
            if hi < size {
                // Move the edge to just after the next line feed.
                var found = false
                while hi < size && !found {
                    guard (try? fh.seek(toOffset: UInt64(hi))) != nil, let window = try? fh.read(upToCount: 1 << 16), !window.isEmpty else {
                        return nil
                    }
                    if let k = window.firstIndex(of: 0x0A) {
                        hi += (k - window.startIndex) + 1; found = true
                    } else {
                        hi += window.count
                    }
                }
                hi = min(hi, size)
            }
            blocks.append(lo..<hi)
            lo = hi
        }
        return blocks
    }

    /// Line feeds in a block's bytes, and whether it holds a CR not followed by a line feed (a
    /// CR as its last byte counts: a block ends after a line feed, never after a CR). 32 bytes at
    /// a time: line feeds, CRs and CRs followed by a line feed counted in byte lanes (a lane
    /// holds at most 255 before the lanes are summed).
    static func lineFeeds(in bytes: UnsafeBufferPointer<UInt8>) -> (lf: Int, bareCR: Bool) {
        guard let p = bytes.baseAddress else { return (0, false) }
        let n = bytes.count, base = UnsafeRawPointer(p)
        var lf = 0, cr = 0, crlf = 0, k = 0
        let lfs = SIMD32<UInt8>(repeating: 0x0A), crs = SIMD32<UInt8>(repeating: 0x0D)
        // A lane of an equality mask is all ones: subtracting it adds one.
        @inline(__always) func ones(_ m: SIMDMask<SIMD32<Int8>>) -> SIMD32<UInt8> { unsafeBitCast(m, to: SIMD32<UInt8>.self) }
        @inline(__always) func sum(_ v: SIMD32<UInt8>) -> Int { Int(SIMD32<UInt16>(truncatingIfNeeded: v).wrappedSum()) }
        while k + 33 <= n {
            var l = SIMD32<UInt8>(), c = SIMD32<UInt8>(), cl = SIMD32<UInt8>()
            var rounds = 0
            while k + 33 <= n && rounds < 255 {
                let v = base.loadUnaligned(fromByteOffset: k, as: SIMD32<UInt8>.self)
                let next = base.loadUnaligned(fromByteOffset: k + 1, as: SIMD32<UInt8>.self)
                let isCR = v .== crs
                l &-= ones(v .== lfs); c &-= ones(isCR); cl &-= ones(isCR .& (next .== lfs))
                k += 32; rounds += 1
            }
            lf += sum(l); cr += sum(c); crlf += sum(cl)
        }
        while k < n {
            if p[k] == 0x0A { lf += 1 }
            if p[k] == 0x0D {
                cr += 1
                if k + 1 < n && p[k + 1] == 0x0A { crlf += 1 }
            }
            k += 1
        }
        return (lf, cr != crlf)
    }

    /// The line each block starts on, known as soon as the line feeds of the blocks before it are
    /// counted: a worker counts its block's right after reading it and reports them, then waits
    /// for its own first line (workers take blocks in order, so the wait is for a count, not for a
    /// block to be read).
    final class LineChain: @unchecked Sendable {
        private var lineFeeds: [Int?], first: [Int]
        private let condition = NSCondition()
        init(blocks: Int, firstLine: Int) {
            lineFeeds = [Int?](repeating: nil, count: blocks)
            first = [firstLine]
            first.reserveCapacity(blocks + 1)
        }
        func report(_ i: Int, lineFeeds n: Int) {
            condition.lock(); defer { condition.unlock() }
            lineFeeds[i] = n
            while first.count <= lineFeeds.count, let n = lineFeeds[first.count - 1] { first.append(first.last! + n) }
            condition.broadcast()
        }
        func firstLine(of i: Int) -> Int {
            condition.lock(); defer { condition.unlock() }
            while first.count <= i { condition.wait() }
            return first[i]
        }
    }

    /// One block's outcome: what a worker read, and whether it ended outside a quoted field.
    /// A slot is reused block after block (its buffers stay allocated).
    final class Outcome: @unchecked Sendable {
        let sink: LedgerBlockSink
        init(referencer: InvoiceReferencer) { sink = LedgerBlockSink(referencer: referencer) }
        /// The slot's read buffer, reused block after block.
        let buffer = ReadBuffer()
        var counts = ImportCounts()
        var statedTotals: [(line: Int, amount: Ore?)] = []
        var endedInQuotes = false
        /// The block holds a line end the line-feed count misses (a bare CR): the file from
        /// here is read by one reader.
        var bareCR = false
        var firstLine = 0
        var error: Error?
        /// Signalled when the block is read.
        let ready = DispatchSemaphore(value: 0)
        /// Slot k of n serves blocks k, k + n, k + 2n, … in turn: block `turn * n + k` may fill it
        /// once the block before it in this slot has been appended.
        private let condition = NSCondition()
        private var turn = 0, isFree = true
        func claim(turn wanted: Int) {
            condition.lock()
            while !(isFree && turn == wanted) { condition.wait() }
            isFree = false
            condition.unlock()
        }
        func release() {
            condition.lock()
            isFree = true; turn += 1
            condition.broadcast()
            condition.unlock()
        }
        func reset() { sink.reset(); counts = ImportCounts(); statedTotals = []; endedInQuotes = false; bareCR = false; error = nil }
    }

    func read(
        importer: LedgerCSVImporter, header: LedgerHeader.Info, sourceID: String, file: String, counts c: inout ImportCounts,
        statedTotals: inout [(line: Int, amount: Ore?)]
    ) throws {
        let p = importer.profile
        let path = self.path, blocks = self.blocks
        let chain = LineChain(blocks: blocks.count, firstLine: firstLine)
        LedgerBlocks.afterSplit?(path)

        /// Reads block i into the slot's buffer, counts its line feeds for the blocks after it,
        /// then reads its rows from memory.
        @Sendable func readBlock(_ i: Int, into o: Outcome) throws {
            let range = blocks[i]
            var counted = false
            defer { if !counted { chain.report(i, lineFeeds: 0) } }  // a failed block must not hold the ones after it
            o.buffer.reserve(range.count)
            let fd = open(path, O_RDONLY)
            guard fd >= 0 else { throw ReaderError(file: path, line: nil, "cannot open file (\(String(cString: strerror(errno))))") }
            defer { close(fd) }
            var got = 0
            while got < range.count {
                let n = pread(fd, o.buffer.base + got, range.count - got, off_t(range.lowerBound + got))
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { throw ReaderError(file: path, line: nil, "read failed at byte \(range.lowerBound + got)") }
                got += n
            }
            let (lf, cr) = LedgerBlocks.lineFeeds(in: UnsafeBufferPointer(start: o.buffer.base, count: range.count))
            chain.report(i, lineFeeds: lf); counted = true
            o.bareCR = cr
            o.firstLine = chain.firstLine(of: i)
            if cr { return }  // the appender hands the file from here to one reader
            let r = CSVReader(path: path, delimiter: p.delimiter, preloaded: o.buffer, count: range.count, range: range, firstLine: o.firstLine)
            try importer.readRows(r, header: header, sourceID: sourceID, file: file, into: o.sink, counts: &o.counts, statedTotals: &o.statedTotals)
            o.sink.finish()
            o.endedInQuotes = r.endedInQuotes
        }
        /// Reads a span of blocks with one reader from the file (an edge fell inside quotes).
        /// Returns the line after it.
        func readSpan(_ range: Range<Int>, firstLine: Int, into o: Outcome) throws -> Int {
            let r = try CSVReader(path: path, delimiter: p.delimiter, range: range, firstLine: firstLine, buffer: o.buffer)
            try importer.readRows(r, header: header, sourceID: sourceID, file: file, into: o.sink, counts: &o.counts, statedTotals: &o.statedTotals)
            o.sink.finish()
            o.endedInQuotes = r.endedInQuotes
            return r.upcomingLine
        }

        // 2. Workers take blocks in order into a ring of slots; this thread appends them in order
        // and frees their slots. Memory: the slots, whatever the file's size.
        let workers = LedgerBlocks.workers
        let slots = (0..<(2 * workers)).map { _ in Outcome(referencer: InvoiceReferencer(sink.referencer.settings)) }
        final class Cursor: @unchecked Sendable {
            var next = 0, stop = false
            let lock = NSLock()
            func take(below end: Int) -> Int? {
                lock.lock(); defer { lock.unlock() }
                guard !stop, next < end else { return nil }
                next += 1
                return next - 1
            }
            func halt() { lock.lock(); stop = true; lock.unlock() }
            /// After `halt()`: how many blocks were taken (all of them will be done).
            var taken: Int { lock.lock(); defer { lock.unlock() }; return next }
        }
        let cursor = Cursor()
        let group = DispatchGroup()
        for _ in 0..<workers {
            DispatchQueue.global().async(group: group) {
                while let i = cursor.take(below: blocks.count) {
                    let o = slots[i % slots.count]
                    o.claim(turn: i / slots.count)
                    o.reset()
                    do { try readBlock(i, into: o) } catch { o.error = error }
                    o.ready.signal()
                }
            }
        }
        var failure: Error?
        var skipThrough = -1  // blocks already read as part of a mended span
        var afterSpan = 0  // the line after that span
        var sequentialFrom = blocks.count
        var sequentialLine = 0
        var halted = false
        for i in 0..<blocks.count {
            if halted && i >= cursor.taken { break }  // nothing taken beyond here
            let o = slots[i % slots.count]
            o.ready.wait()
            defer { o.release() }
            if failure != nil || i >= sequentialFrom { continue }
            if i <= skipThrough {
                // Read with the span; a bare CR in it makes the counted lines after it wrong.
                if o.bareCR && skipThrough + 1 < blocks.count {
                    sequentialFrom = skipThrough + 1; sequentialLine = afterSpan; cursor.halt(); halted = true
                }
                continue
            }
            if let e = o.error { failure = e; cursor.halt(); halted = true; continue }
            if o.bareCR { sequentialFrom = i; sequentialLine = o.firstLine; cursor.halt(); halted = true; continue }
            do {
                if o.endedInQuotes && i + 1 < blocks.count {
                    // The edge after block i fell inside a quoted field: read block i on into the
                    // blocks after it with one reader, until a read ends outside quotes.
                    var j = i + 1
                    let span = Outcome(referencer: sink.referencer)
                    while true {
                        span.reset()
                        afterSpan = try readSpan(blocks[i].lowerBound..<blocks[j].upperBound, firstLine: o.firstLine, into: span)
                        if span.endedInQuotes && j < blocks.count - 1 { j += 1; continue }
                        break
                    }
                    try append(span)
                    skipThrough = j
                    if j == blocks.count - 1 { sequentialFrom = blocks.count; cursor.halt(); halted = true }
                    LedgerBlocks.spansReread += 1
                } else {
                    try append(o)
                }
            } catch {
                failure = error; cursor.halt(); halted = true
            }
        }
        group.wait()
        if let failure { throw failure }

        func append(_ o: Outcome) throws {
            c.add(o.counts)
            try c.checkTally("the amounts read from \(file)")  // before the block's sums join the file's
            try sink.append(o.sink)
            statedTotals += o.statedTotals
            LedgerBlocks.blocksAppended += 1
        }
        if sequentialFrom < blocks.count {
            LedgerBlocks.handedToOneReader += 1
            let r = try CSVReader(
                path: path, delimiter: p.delimiter, range: blocks[sequentialFrom].lowerBound..<blocks.last!.upperBound,
                firstLine: sequentialLine)
            try importer.readRows(r, header: header, sourceID: sourceID, file: file, into: sink, counts: &c, statedTotals: &statedTotals)
        }
    }
}

extension LedgerRowFacts {
    /// The facts of a row from the general path, for `body` (views of the entry's strings).
    static func of<T>(_ e: LedgerEntry, sourceID: String, _ body: (LedgerRowFacts) throws -> T) rethrows -> T {
        var voucher = e.voucher, account = e.account, ansvar = e.dimensions.ansvar, text = e.text
        return try voucher.withUTF8 { v in
            try account.withUTF8 { a in
                try ansvar.withUTF8 { s in
                    try text.withUTF8 { t in
                        try body(
                            LedgerRowFacts(
                                sourceID: sourceID, file: e.source.file, line: e.source.line, period: e.period, amount: e.amount, voucher: v,
                                account: a,
                                ansvar: s, text: t))
                    }
                }
            }
        }
    }
}

/// Finds the invoice reference (placement and month, `case_reconciliation.invoice_reference`) in
/// the text of a posting on a placement account; nil for other postings or without the setting.
/// One per worker: each has its own compiled expression.
final class InvoiceReferencer: @unchecked Sendable {
    let settings: PipelineConfig.CaseReconciliationSettings?
    private let reference: InvoiceMatching.Reference?

    init(_ settings: PipelineConfig.CaseReconciliationSettings?) {
        self.settings = settings
        reference = InvoiceMatching.Reference(settings?.invoiceReference)
    }

    func find(account: UnsafeBufferPointer<UInt8>, text: UnsafeBufferPointer<UInt8>, period: Period) -> InvoiceMatching.Key? {
        guard let reference, let settings, settings.isPlacementAccount(account) else { return nil }
        return reference.find(String(decoding: text, as: UTF8.self), bookedIn: period)
    }
}

/// A group key of a row without an invoice reference whose account and ansvar fit eight bytes
/// each: their bytes as words, and period, lengths and source in a third.
struct PackedKey: Equatable {
    let account: UInt64, ansvar: UInt64, rest: UInt64

    /// Up to eight bytes as a little-endian word (the rest zero; the length is kept beside it).
    /// From four bytes on, two overlapping loads: the bytes they share are the same, so OR-ing
    /// the tail in at its offset gives the word (no byte outside `b` read).
    @inline(__always) static func word(_ b: UnsafeBufferPointer<UInt8>) -> UInt64 {
        guard let base = b.baseAddress else { return 0 }
        let n = b.count, p = UnsafeRawPointer(base)
        precondition(n <= 8, "a packed key word holds at most eight bytes")
        if n == 8 { return p.loadUnaligned(as: UInt64.self) }
        if n >= 4 {
            let head = UInt64(p.loadUnaligned(as: UInt32.self)), tail = UInt64(p.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self))
            return head | tail << (8 * UInt64(n - 4))
        }
        var w: UInt64 = 0
        for i in 0..<n { w |= UInt64(base[i]) << (8 * UInt64(i)) }
        return w
    }

    var hash: UInt64 {
        var h = (account ^ 0x9E37_79B9_7F4A_7C15) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ ansvar ^ (h >> 31)) &* 0x94D0_49BB_1331_11EB
        h = (h ^ rest ^ (h >> 29)) &* 0xBF58_476D_1CE4_E5B9
        return h ^ (h >> 32)
    }
}

/// Packed keys to group indices (a cache in front of the byte-key table: it holds only keys the
/// table has already placed).
struct PackedKeyTable {
    private var keys: [PackedKey] = []
    private var values: [Int32] = []
    private var slots = ProbeSlots(capacity: 1024)

    @inline(__always) func find(_ k: PackedKey) -> Int? {
        slots.probe(k.hash) { keys[$0] == k }.entry.map { Int(values[$0]) }
    }

    mutating func insert(_ k: PackedKey, _ value: Int) {
        let (s, found) = slots.probe(k.hash) { keys[$0] == k }
        precondition(found == nil, "a packed key is inserted once")
        keys.append(k); values.append(Int32(value))
        slots.put(keys.count - 1, at: s, entries: keys.count) { keys[$0].hash }
    }
}
