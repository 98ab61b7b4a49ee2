import Foundation

/// An open-addressing hash table from byte strings to dense indices 0, 1, 2, … in insertion
/// order; the keys live in one arena (no allocation per lookup).
struct ByteKeyTable {
    private var slots: ProbeSlots
    private var starts: [Int] = [], lengths: [Int32] = [], hashes: [UInt64] = []
    private var arena: [UInt8] = []
    var count: Int { starts.count }

    init(capacity: Int = 1024) { slots = ProbeSlots(capacity: capacity) }

    /// Eight bytes at a time (the tail zero-padded, the length mixed in), multiply and fold.
    @inline(__always) static func hash(_ k: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325 ^ UInt64(k.count)
        guard let base = k.baseAddress else { return h }
        let raw = UnsafeRawPointer(base)
        var i = 0
        @inline(__always) func mix(_ w: UInt64) {
            h = (h ^ w) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 32
        }
        while i + 8 <= k.count { mix(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)); i += 8 }
        if i < k.count {
            var w: UInt64 = 0
            for j in i..<k.count { w |= UInt64(base[j]) << (8 * UInt64(j - i)) }
            mix(w)
        }
        return h ^ (h >> 29)
    }

    /// Whether `n` bytes at `a` and `b` are equal: eight at a time (group keys are a few words),
    /// the last word overlapping the one before; `memcmp` below eight.
    @inline(__always) static func equal(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
        guard n >= 8 else { return memcmp(a, b, n) == 0 }
        let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
        var i = 0
        while i + 8 < n {
            if ra.loadUnaligned(fromByteOffset: i, as: UInt64.self) != rb.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
            i += 8
        }
        return ra.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self) == rb.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
    }

    /// The key's index, and whether it was just added.
    mutating func index(of k: UnsafeBufferPointer<UInt8>) -> (Int, Bool) {
        let h = ByteKeyTable.hash(k)
        let (s, found) = slots.probe(h) { e in
            hashes[e] == h && Int(lengths[e]) == k.count
                && (k.isEmpty || arena.withUnsafeBufferPointer { a in ByteKeyTable.equal(a.baseAddress! + starts[e], k.baseAddress!, k.count) })
        }
        if let found { return (found, false) }
        let e = starts.count
        starts.append(arena.count); lengths.append(Int32(k.count)); hashes.append(h)
        arena.append(contentsOf: k)
        slots.put(e, at: s, entries: starts.count) { hashes[$0] }
        return (e, true)
    }
}

/// The slots of an open-addressing table: entry indices (dense, 0, 1, 2, …) by hash with linear
/// probing, doubled when half full. The table keeps the entries and says which one matches.
struct ProbeSlots {
    private var slots: [Int32]

    init(capacity: Int) { slots = [Int32](repeating: -1, count: capacity) }

    /// The entry with hash `h` that `matches`, or nil and the free slot where it would go.
    @inline(__always) func probe(_ h: UInt64, _ matches: (Int) -> Bool) -> (slot: Int, entry: Int?) {
        let mask = slots.count - 1
        var s = Int(truncatingIfNeeded: h) & mask
        while true {
            let e = Int(slots[s])
            if e < 0 { return (s, nil) }
            if matches(e) { return (s, e) }
            s = (s + 1) & mask
        }
    }

    /// Puts entry `e` in the free slot `probe` gave; with `entries` entries in all, doubles the
    /// slots when they are half full (`hashOf` gives each entry's hash again).
    mutating func put(_ e: Int, at s: Int, entries: Int, hashOf: (Int) -> UInt64) {
        slots[s] = Int32(e)
        guard entries * 2 > slots.count else { return }
        slots = [Int32](repeating: -1, count: slots.count * 2)
        let mask = slots.count - 1
        for e in 0..<entries {
            var s = Int(truncatingIfNeeded: hashOf(e)) & mask
            while slots[s] >= 0 { s = (s + 1) & mask }
            slots[s] = Int32(e)
        }
    }
}
