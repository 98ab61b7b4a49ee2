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
                let got = a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in n == 0 || ByteKeyTable.equal(pa.baseAddress!, pb.baseAddress!, n) } }
                XCTAssertEqual(got, want, "\(a) \(b)")
            }
        }
    }
}
