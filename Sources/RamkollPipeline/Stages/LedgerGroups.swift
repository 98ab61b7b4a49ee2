import Foundation
import RamkollModel
import RamkollReaders

/// ledger.csv read once at byte level and grouped by file × period × account × ansvar: rows, öre
/// and the group's first source line, groups in the order they first appear. Reconcile maps each
/// group once instead of each posting; memory grows with the distinct groups, not with the rows.
/// Rows whose text a stage needs (invoice references) are handed over one by one.
struct LedgerGroups {
    struct Group {
        let file: String, period: Period, account: String, ansvar: String
        /// The `line` column of the group's first row (the line in the source file).
        let firstLine: String
        var rows: Int64 = 0
        var amount = Ore.zero
    }
    private(set) var groups: [Group] = []

    /// Column positions in ledger.csv.
    struct Columns: Sendable {
        let count: Int, file: Int, line: Int, period: Int, account: Int, ansvar: Int, amount: Int, text: Int
    }

    /// The groups one reader found (the whole file, or a block of it), in first-appearance order.
    final class Partial: @unchecked Sendable {
        var groups: [Group] = [], needsText: [Bool] = []
        var table = ByteKeyTable()
        /// Rows whose text is wanted, when they are handed over after the block (block mode).
        var texts: [(group: Int, text: String, amount: Ore)] = []
        var endedInQuotes = false
        var error: Error?
    }

    /// `wantsText` from several threads: one call at a time.
    final class Asker: @unchecked Sendable {
        let lock = NSLock()
        let ask: (Group) -> Bool
        init(_ ask: @escaping (Group) -> Bool) { self.ask = ask }
        func callAsFunction(_ g: Group) -> Bool { lock.lock(); defer { lock.unlock() }; return ask(g) }
    }

    /// Tests make blocks tiny; files below `minimumFile` are read by one reader.
    nonisolated(unsafe) static var blockSize = 8 << 20
    nonisolated(unsafe) static var minimumFile = 24 << 20
    nonisolated(unsafe) static var enabled = true
    nonisolated(unsafe) static var blocksRead = 0

    /// Reads `path`. `wantsText` is asked once per group; for the groups it accepts, `text` gets
    /// every row's text and amount, in file order. A big file is read in blocks on every core
    /// and the blocks' groups joined in file order (the same groups, order and texts as one
    /// reader); any problem in a block is reported by reading the file again with one reader.
    static func read(path: String, wantsText: @escaping (Group) -> Bool, text: (Group, String, Ore) -> Void) throws -> LedgerGroups {
        let t = try TableReader(path: path, required: ["file", "line", "period", "account", "ansvar", "amount_ore", "text"])
        let ix = t.index
        let columns = Columns(
            count: ix.count, file: ix["file"]!, line: ix["line"]!, period: ix["period"]!, account: ix["account"]!, ansvar: ix["ansvar"]!,
            amount: ix["amount_ore"]!, text: ix["text"]!)
        if let out = try readInBlocks(path: path, start: t.reader.offset, columns: columns, wantsText: wantsText, text: text) { return out }
        let whole = Partial()
        try withoutActuallyEscaping(text) { text in
            try scan(t.reader, path: path, columns: columns, into: whole, wantsText: wantsText, text: text)
        }
        return LedgerGroups(groups: whole.groups)
    }

    private static func readInBlocks(
        path: String, start: Int, columns: Columns, wantsText: @escaping (Group) -> Bool, text: (Group, String, Ore) -> Void
    ) throws -> LedgerGroups? {
        var st = stat()
        guard enabled, ProcessInfo.processInfo.activeProcessorCount > 1, stat(path, &st) == 0, Int(st.st_size) >= minimumFile, start > 0,
            let fh = FileHandle(forReadingAtPath: path)
        else { return nil }
        defer { try? fh.close() }
        guard let blocks = LedgerBlocks.split(fh, from: start, size: Int(st.st_size), blockSize: blockSize) else { return nil }
        let asker = Asker(wantsText)
        let partials = blocks.map { _ in Partial() }
        let workers = ProcessInfo.processInfo.activeProcessorCount
        let buffers = (0..<(2 * workers)).map { _ in ReadBuffer() }  // one per place in a wave, reused
        // Blocks are read a wave at a time so that memory stays bounded; each wave is joined in order.
        var out = LedgerGroups()
        var table = ByteKeyTable()
        var needsText: [Bool] = []
        var key: [UInt8] = []
        var next = 0
        while next < blocks.count {
            let ids = Array(next..<min(blocks.count, next + 2 * workers))
            DispatchQueue.concurrentPerform(iterations: ids.count) { k in
                let p = partials[ids[k]]
                do {
                    let r = try CSVReader(path: path, delimiter: UInt8(ascii: ";"), range: blocks[ids[k]], buffer: buffers[k])
                    try scan(r, path: path, columns: columns, into: p, wantsText: { asker($0) }, text: nil)
                    p.endedInQuotes = r.endedInQuotes
                } catch {
                    p.error = error
                }
            }
            for i in ids {
                let p = partials[i]
                // An edge inside a quoted text, or a row the scan refused: one reader decides.
                if p.error != nil || (p.endedInQuotes && i + 1 < blocks.count) { return nil }
                var map = [Int](repeating: 0, count: p.groups.count)
                for (j, g) in p.groups.enumerated() {
                    key.removeAll(keepingCapacity: true)
                    key.append(contentsOf: g.file.utf8); key.append(0)
                    key.append(contentsOf: g.period.description.utf8); key.append(0x3B)
                    key.append(contentsOf: g.account.utf8); key.append(0x3B)
                    key.append(contentsOf: g.ansvar.utf8)
                    let (gi, inserted) = key.withUnsafeBufferPointer { table.index(of: $0) }
                    if inserted {
                        out.groups.append(Group(file: g.file, period: g.period, account: g.account, ansvar: g.ansvar, firstLine: g.firstLine))
                        needsText.append(p.needsText[j])
                    }
                    out.groups[gi].rows += g.rows
                    out.groups[gi].amount += g.amount
                    map[j] = gi
                }
                for (j, t, amount) in p.texts where needsText[map[j]] { text(out.groups[map[j]], t, amount) }
                partials[i].groups = []; partials[i].texts = []; partials[i].table = ByteKeyTable()
                blocksRead += 1
            }
            next += ids.count
        }
        return out
    }

    /// Groups the rows of `r` into `p`; wanted texts go to `text`, or (nil) into `p.texts`.
    private static func scan(
        _ r: CSVReader, path: String, columns c: Columns, into p: Partial, wantsText: (Group) -> Bool, text: ((Group, String, Ore) -> Void)?
    ) throws {
        var key: [UInt8] = []
        key.reserveCapacity(64)
        var files: [String] = [], fileNumbers: [String: Int] = [:]
        var lastFile: [UInt8] = [], fileNumber = -1
        func fail(_ what: String) -> RamkollError {
            RamkollError(.input, "\(path):\(r.line): \(what); the file was changed by hand — rerun the stage that writes it")
        }
        while try r.next() {
            guard r.fieldCount == c.count, r.recordError == nil else {
                throw fail("has \(r.fieldCount) fields, the header has \(c.count)")
            }
            let f = r.bytes(c.file)
            if fileNumber < 0 || f.count != lastFile.count || lastFile.withUnsafeBufferPointer({ f.count > 0 && memcmp($0.baseAddress!, f.baseAddress!, f.count) != 0 }) {
                let name = String(decoding: f, as: UTF8.self)
                if let n = fileNumbers[name] {
                    fileNumber = n
                } else {
                    fileNumber = files.count; fileNumbers[name] = fileNumber; files.append(name)
                }
                lastFile = Array(f)
            }
            guard let amount = LedgerGroups.integer(r.bytes(c.amount)) else {
                throw fail("amount_ore \"\(String(decoding: r.bytes(c.amount), as: UTF8.self))\" is not an integer")
            }
            let period = r.bytes(c.period)
            key.removeAll(keepingCapacity: true)
            withUnsafeBytes(of: Int32(fileNumber)) { key.append(contentsOf: $0) }
            key.append(contentsOf: period)
            key.append(0x3B)
            key.append(contentsOf: r.bytes(c.account))
            key.append(0x3B)
            key.append(contentsOf: r.bytes(c.ansvar))
            let (g, inserted) = key.withUnsafeBufferPointer { p.table.index(of: $0) }
            if inserted {
                guard let pd = Period(String(decoding: period, as: UTF8.self)) else {
                    throw fail("period \"\(String(decoding: period, as: UTF8.self))\" is not a period")
                }
                p.groups.append(
                    Group(
                        file: files[fileNumber], period: pd, account: String(decoding: r.bytes(c.account), as: UTF8.self),
                        ansvar: String(decoding: r.bytes(c.ansvar), as: UTF8.self), firstLine: String(decoding: r.bytes(c.line), as: UTF8.self)))
                p.needsText.append(wantsText(p.groups[g]))
            }
            p.groups[g].rows += 1
            p.groups[g].amount += Ore(amount)
            if p.needsText[g] {
                let t = String(decoding: r.bytes(c.text), as: UTF8.self)
                if let text { text(p.groups[g], t, Ore(amount)) } else { p.texts.append((g, t, Ore(amount))) }
            }
        }
    }

    /// A decimal integer with an optional minus sign; nil for anything else.
    static func integer(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        var i = b.startIndex
        let negative = i < b.endIndex && b[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        guard i < b.endIndex, b.endIndex - i <= 18 else { return b.isEmpty ? nil : Int64(String(decoding: b, as: UTF8.self)) }
        var v: Int64 = 0
        while i < b.endIndex {
            let c = b[i]
            guard c >= 48 && c <= 57 else { return nil }
            v = v * 10 + Int64(c - 48)
            i += 1
        }
        return negative ? -v : v
    }
}

/// An open-addressing hash table from byte strings to dense indices 0, 1, 2, … in insertion
/// order; the keys live in one arena (no allocation per lookup).
struct ByteKeyTable {
    private var slots: [Int32]
    private var starts: [Int] = [], lengths: [Int32] = [], hashes: [UInt64] = []
    private var arena: [UInt8] = []
    var count: Int { starts.count }

    init(capacity: Int = 1024) { slots = [Int32](repeating: -1, count: capacity) }

    @inline(__always) static func hash(_ k: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in k { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return h ^ (h >> 29)
    }

    /// The key's index, and whether it was just added.
    mutating func index(of k: UnsafeBufferPointer<UInt8>) -> (Int, Bool) {
        let h = ByteKeyTable.hash(k)
        let mask = slots.count - 1
        var s = Int(truncatingIfNeeded: h) & mask
        while true {
            let e = Int(slots[s])
            if e < 0 { break }
            if hashes[e] == h && Int(lengths[e]) == k.count {
                let same = arena.withUnsafeBufferPointer { a in
                    UnsafeBufferPointer(rebasing: a[starts[e]..<(starts[e] + k.count)]).elementsEqual(k)
                }
                if same { return (e, false) }
            }
            s = (s + 1) & mask
        }
        let e = starts.count
        starts.append(arena.count); lengths.append(Int32(k.count)); hashes.append(h)
        arena.append(contentsOf: k)
        slots[s] = Int32(e)
        if starts.count * 2 > slots.count { grow() }
        return (e, true)
    }

    private mutating func grow() {
        slots = [Int32](repeating: -1, count: slots.count * 2)
        let mask = slots.count - 1
        for e in 0..<starts.count {
            var s = Int(truncatingIfNeeded: hashes[e]) & mask
            while slots[s] >= 0 { s = (s + 1) & mask }
            slots[s] = Int32(e)
        }
    }
}
