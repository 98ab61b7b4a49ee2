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

    /// Reads `path`. `wantsText` is asked once per group; for the groups it accepts, `text` gets
    /// every row's text and amount, in file order.
    static func read(path: String, wantsText: (Group) -> Bool, text: (Group, String, Ore) -> Void) throws -> LedgerGroups {
        let t = try TableReader(path: path, required: ["file", "line", "period", "account", "ansvar", "amount_ore", "text"])
        let r = t.reader
        let columns = t.index.count
        let fi = t.index["file"]!, li = t.index["line"]!, pi = t.index["period"]!, ai = t.index["account"]!
        let si = t.index["ansvar"]!, mi = t.index["amount_ore"]!, ti = t.index["text"]!
        var out = LedgerGroups()
        var table = ByteKeyTable()
        var needsText: [Bool] = []
        var key: [UInt8] = []
        key.reserveCapacity(64)
        var files: [String] = [], fileNumbers: [String: Int] = [:]
        var lastFile: [UInt8] = [], fileNumber = -1
        func fail(_ what: String) -> RamkollError {
            RamkollError(.input, "\(path):\(r.line): \(what); the file was changed by hand — rerun the stage that writes it")
        }
        while try r.next() {
            guard r.fieldCount == columns, r.recordError == nil else {
                throw fail("has \(r.fieldCount) fields, the header has \(columns)")
            }
            let f = r.bytes(fi)
            if fileNumber < 0 || f.count != lastFile.count || lastFile.withUnsafeBufferPointer({ f.count > 0 && memcmp($0.baseAddress!, f.baseAddress!, f.count) != 0 }) {
                let name = String(decoding: f, as: UTF8.self)
                if let n = fileNumbers[name] {
                    fileNumber = n
                } else {
                    fileNumber = files.count; fileNumbers[name] = fileNumber; files.append(name)
                }
                lastFile = Array(f)
            }
            guard let amount = LedgerGroups.integer(r.bytes(mi)) else {
                throw fail("amount_ore \"\(String(decoding: r.bytes(mi), as: UTF8.self))\" is not an integer")
            }
            let p = r.bytes(pi)
            key.removeAll(keepingCapacity: true)
            withUnsafeBytes(of: Int32(fileNumber)) { key.append(contentsOf: $0) }
            key.append(contentsOf: p)
            key.append(0x3B)
            key.append(contentsOf: r.bytes(ai))
            key.append(0x3B)
            key.append(contentsOf: r.bytes(si))
            let (g, inserted) = key.withUnsafeBufferPointer { table.index(of: $0) }
            if inserted {
                guard let period = Period(String(decoding: p, as: UTF8.self)) else {
                    throw fail("period \"\(String(decoding: p, as: UTF8.self))\" is not a period")
                }
                out.groups.append(
                    Group(
                        file: files[fileNumber], period: period, account: String(decoding: r.bytes(ai), as: UTF8.self),
                        ansvar: String(decoding: r.bytes(si), as: UTF8.self), firstLine: String(decoding: r.bytes(li), as: UTF8.self)))
                needsText.append(wantsText(out.groups[g]))
            }
            out.groups[g].rows += 1
            out.groups[g].amount += Ore(amount)
            if needsText[g] { text(out.groups[g], String(decoding: r.bytes(ti), as: UTF8.self), Ore(amount)) }
        }
        return out
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
