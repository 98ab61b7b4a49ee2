import Foundation

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
