import Foundation
import XCTest

@testable import RamkollPipeline

/// The group-key table: the same key always gets the same index, different keys different ones
/// (keys that share prefixes and differ in one byte anywhere), indices in insertion order; the
/// word-wise equality agrees with `memcmp` on every length.
final class ByteKeyTableTests: XCTestCase {
    func testKeysGetStableDistinctIndicesInInsertionOrder() {
        var rng = SystemRandomNumberGenerator()
        var keys: [[UInt8]] = []
        var seen = Set<[UInt8]>()
        for _ in 0..<5000 {
            var k = [UInt8](repeating: 0x41, count: Int.random(in: 0...40, using: &rng))
            if !k.isEmpty { k[Int.random(in: 0..<k.count, using: &rng)] = UInt8.random(in: 0...3, using: &rng) }
            if seen.insert(k).inserted { keys.append(k) }
        }
        XCTAssertGreaterThan(keys.count, 100)
        var table = ByteKeyTable(capacity: 4)
        for (i, k) in keys.enumerated() {
            let (index, added) = k.withUnsafeBufferPointer { table.index(of: $0) }
            XCTAssertEqual(index, i); XCTAssertTrue(added)
        }
        for (i, k) in keys.enumerated().reversed() {
            let (index, added) = k.withUnsafeBufferPointer { table.index(of: $0) }
            XCTAssertEqual(index, i, "\(k)"); XCTAssertFalse(added)
        }
        XCTAssertEqual(table.count, keys.count)
    }

    func testWordWiseEqualityAgreesWithMemcmp() {
        var rng = SystemRandomNumberGenerator()
        for n in 0...40 {
            for _ in 0..<200 {
                let a = (0..<n).map { _ in UInt8.random(in: 0...1, using: &rng) }
                var b = a
                if n > 0 && Bool.random(using: &rng) { b[Int.random(in: 0..<n, using: &rng)] ^= 1 }
                let want = a == b
                let got = a.withUnsafeBufferPointer { pa in
                    b.withUnsafeBufferPointer { pb in n == 0 || ByteKeyTable.equal(pa.baseAddress!, pb.baseAddress!, n) }
                }
                XCTAssertEqual(got, want, "\(a) \(b)")
            }
        }
    }

    /// A packed word is the bytes in little-endian order, the rest zero: every length 0–8, at
    /// every offset in a buffer, against byte-by-byte.
    func testPackedWordIsTheBytesInOrder() {
        var x: UInt64 = 5
        let buffer: [UInt8] = (0..<64).map { _ in
            x = x &* 6_364_136_223_846_793_005 &+ 1; return UInt8(truncatingIfNeeded: x >> 40) | 1
        }
        var checked = 0
        buffer.withUnsafeBufferPointer { all in
            for n in 0...8 {
                for at in 0...(all.count - n) {
                    let b = UnsafeBufferPointer(rebasing: all[at..<(at + n)])
                    var want: UInt64 = 0
                    for (i, v) in b.enumerated() { want |= UInt64(v) << (8 * UInt64(i)) }
                    XCTAssertEqual(PackedKey.word(b), want, "\(n) at \(at)")
                    checked += 1
                }
            }
        }
        XCTAssertEqual(checked, 9 * 65 - 36)
    }

    /// The packed-key cache in front of the group table: every key it was given comes back with
    /// its value, keys it was not given are misses — across growth, with keys that differ only in
    /// one word or in their lengths.
    func testPackedKeysFindWhatWasInserted() {
        var rng = SystemRandomNumberGenerator()
        var table = PackedKeyTable()
        var truth: [String: Int] = [:]
        func key(_ a: String, _ s: String, _ period: Int, _ source: Int) -> PackedKey {
            var a = a, s = s
            let aw = a.withUTF8 { PackedKey.word($0) }, sw = s.withUTF8 { PackedKey.word($0) }
            return PackedKey(
                account: aw, ansvar: sw, rest: UInt64(period) | UInt64(a.utf8.count) << 32 | UInt64(s.utf8.count) << 40 | UInt64(source) << 48)
        }
        for i in 0..<20_000 {
            let a = String(Int.random(in: 0...999, using: &rng)), s = String(Int.random(in: 0...99, using: &rng))
            let period = Int.random(in: 24_000...24_011, using: &rng), source = Int.random(in: 0...2, using: &rng)
            let name = "\(a)|\(s)|\(period)|\(source)"
            if let known = truth[name] {
                XCTAssertEqual(table.find(key(a, s, period, source)), known, name)
            } else {
                XCTAssertNil(table.find(key(a, s, period, source)), name)
                table.insert(key(a, s, period, source), i); truth[name] = i
            }
        }
        XCTAssertGreaterThan(truth.count, 5000)
        XCTAssertNil(table.find(key("12", "3", 24_000, 0)).flatMap { v in truth["12|3|24000|0"] == v ? nil : v })
        XCTAssertNotEqual(key("1", "23", 24_000, 0), key("12", "3", 24_000, 0))
        XCTAssertNotEqual(key("10", "", 24_000, 0).rest, key("1", "", 24_000, 0).rest)
    }
}
