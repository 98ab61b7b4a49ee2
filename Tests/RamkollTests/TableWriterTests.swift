import Foundation
import RamkollModel
import XCTest

@testable import RamkollPipeline

/// The table writer's bytes: integers as `String` writes them, and a big table the same file
/// (and SHA-256) whether its full buffers go out with direct I/O or the ordinary way.
final class TableWriterTests: XCTestCase {
    func testIntegersAreWrittenAsDecimal() throws {
        let dir = try TestPaths.temporaryDirectory()
        var values: [Int64] = [0, 1, -1, 9, -9, 10, -10, 99, 100, -100, 101, Int64.max, Int64.min, Int64.max - 1, Int64.min + 1]
        var p: Int64 = 1
        for _ in 0..<18 { p *= 10; values += [p - 1, p, p + 1, -(p - 1), -p, -(p + 1)] }
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<2000 { values.append(Int64.random(in: Int64.min...Int64.max, using: &rng) >> Int64.random(in: 0...62, using: &rng)) }
        let w = try TableWriter(directory: dir, name: "ints.csv", header: ["value", "period", "day"])
        func day(_ v: Int64) -> Day { Day(year: Int(v.magnitude % 9999) + 1, month: Int(v.magnitude % 12) + 1, day: Int(v.magnitude % 28) + 1)! }
        for v in values {
            w.field(v); w.field(Period(year: 2022, month: Int(v.magnitude % 12) + 1)!); w.field(day(v))
            try w.endRow()
        }
        _ = try w.commit()
        let lines = try String(contentsOfFile: dir + "/ints.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        XCTAssertEqual(lines.count, values.count)
        for (line, v) in zip(lines, values) {
            let d = day(v)
            XCTAssertEqual(
                String(line),
                "\(v);2022-\(String(format: "%02d", Int(v.magnitude % 12) + 1));\(String(format: "%04d-%02d-%02d", d.year, d.month, d.day))")
        }
    }

    /// A row written in place (`fields(maxBytes:)`, the ledger fast path's) is the row the field
    /// methods write; line numbers counted on in place are the numbers in decimal.
    /// Whether a field needs quotes: every length to 24 with each special byte (and its
    /// neighbours) at every position, against byte by byte.
    func testNeedsQuotesMatchesByteByByte() {
        var quoted = 0, cases = 0
        let values: [UInt8] = [0x3B, 0x22, 0x0A, 0x0D, 0x3A, 0x3C, 0x21, 0x23, 0x09, 0x0B, 0x0C, 0x0E, 0xBB, 0xA2, 0x8A]
        let special: Set<UInt8> = [0x3B, 0x22, 0x0A, 0x0D]
        for n in 0...24 {
            for at in 0..<max(n, 1) {
                for v in values {
                    var b = [UInt8](repeating: 0x41, count: n)
                    if n > 0 { b[at] = v }
                    let want = b.contains { special.contains($0) }
                    XCTAssertEqual(b.withUnsafeBufferPointer { TableWriter.needsQuotes($0) }, want, "\(b)")
                    if want { quoted += 1 }
                    cases += 1
                }
            }
        }
        XCTAssertEqual(quoted, 4 * 300)  // four special bytes at each of 1 + 2 + … + 24 positions
        XCTAssertGreaterThan(cases - quoted, 3000)
    }

    func testRowsWrittenInPlaceMatchTheFieldMethods() throws {
        let dir = try TestPaths.temporaryDirectory()
        var rng = SystemRandomNumberGenerator()
        var values: [Int64] = [0, -1, 9, 10, 99, 100, -100, Int64.max, Int64.min]
        for _ in 0..<3000 { values.append(Int64.random(in: Int64.min...Int64.max, using: &rng) >> Int64.random(in: 0...62, using: &rng)) }
        let a = try TableWriter(directory: dir, name: "fields.csv", header: ["x"]),
            b = try TableWriter(directory: dir, name: "inplace.csv", header: ["x"])
        for (i, v) in values.enumerated() {
            let day = Day(year: [1, 999, 2022, 9999][i % 4], month: 1 + i % 12, day: 1 + i % 28)!
            let text = Array(String(repeating: "åx", count: i % 23).utf8.dropFirst(i % 2))  // 0–68 bytes: every copy width
            a.field(v); a.field(day); a.field(day.period); a.field(bytes: text); a.field(i)
            try a.endRow()
            text.withUnsafeBufferPointer { t in
                b.fields(maxBytes: 20 + 16 + 7 + t.count + 20 + 4) { r in
                    r.int(v); r.separator(); r.day(day); r.separator(); r.period(day.period); r.separator(); r.put(t); r.separator(); r.int(Int64(i))
                }
            }
            try b.endRow()
        }
        _ = try a.commit(); _ = try b.commit()
        XCTAssertEqual(
            try Data(contentsOf: URL(fileURLWithPath: dir + "/inplace.csv")), try Data(contentsOf: URL(fileURLWithPath: dir + "/fields.csv")))

        // Digit counts at every bit length and power of ten, against String.
        var edges: [UInt64] = [0, UInt64.max]
        for k in 0..<64 { edges += [(UInt64(1) << k) - 1, UInt64(1) << k, (UInt64(1) << k) + 1] }
        var p10: UInt64 = 1
        for _ in 0..<19 { p10 *= 10; edges += [p10 - 1, p10, p10 + 1] }
        for m in edges { XCTAssertEqual(RowBytes.digitCount(m), String(m).count, "\(m)") }

        let digits = LineDigits()
        var lines = Array(0...2000) + [9, 10, 11, 99, 100, 101, 999_999, 1_000_000, 1_000_001, 5, 123_456_789]
        for _ in 0..<200 { lines.append(Int.random(in: 0...Int.max, using: &rng)) }
        for n in lines { XCTAssertEqual(String(decoding: digits.text(of: n), as: UTF8.self), String(n)) }
    }

    /// Voucher totals quote a source id or voucher that needs it, whether the run's source was
    /// set once or changed (the quoting is worked out when it changes).
    func testVoucherRowsQuoteWhatNeedsIt() throws {
        let dir = try TestPaths.temporaryDirectory()
        let w = try TableWriter(directory: dir, name: "v.csv", header: ["source", "voucher", "first_line", "rows", "amount_ore"])
        var run = LedgerBooks.Run()
        for (source, voucher) in [("gl", "A1"), ("g;l", "A2"), ("g;l", "A\"3"), ("gl", "A4"), ("\"q\"", "A5"), ("x", "B;6")] {
            run.source = source
            run.voucher = Array(voucher.utf8); run.firstLine = 7; run.rows = 2; run.amount = Ore(-150)
            NormalizeStage.writeVoucher(run, to: w)
            try w.endRow()
        }
        _ = try w.commit()
        XCTAssertEqual(
            try String(contentsOfFile: dir + "/v.csv", encoding: .utf8),
            """
            source;voucher;first_line;rows;amount_ore
            gl;A1;7;2;-150
            "g;l";A2;7;2;-150
            "g;l";"A""3";7;2;-150
            gl;A4;7;2;-150
            \"\"\"q\"\"\";A5;7;2;-150
            x;"B;6";7;2;-150

            """)
    }

    func testABigTableIsTheSameFileWithAndWithoutDirectIO() throws {
        let dir = try TestPaths.temporaryDirectory()
        func write(direct: Bool) throws -> (OutputRecord, Data, Int64) {
            TableWriter.directIO = direct
            defer { TableWriter.directIO = true }
            let name = direct ? "direct.csv" : "ordinary.csv"
            let w = try TableWriter(directory: dir, name: name, header: ["line", "text"])
            // About 3 MiB in rows of odd lengths, so buffer edges fall everywhere.
            for i in 0..<120_000 {
                w.field(i)
                w.field(String(repeating: "x", count: i % 37) + (i % 5 == 0 ? "; \"q\"" : ""))
                try w.endRow()
            }
            let record = try w.commit()
            return (record, try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name)), w.directBytes)
        }
        let (direct, directData, directBytes) = try write(direct: true)
        let (ordinary, ordinaryData, ordinaryDirect) = try write(direct: false)
        XCTAssertEqual(ordinaryDirect, 0)
        XCTAssertEqual(directData, ordinaryData)
        XCTAssertGreaterThan(directData.count, 3 << 20)
        XCTAssertEqual(direct.sha256, ordinary.sha256)
        XCTAssertEqual(direct.sha256, FileIO.sha256(directData))
        XCTAssertEqual(direct.bytes, Int64(directData.count))
        XCTAssertEqual(direct.rows, 120_000)
        // Where the file system takes direct I/O (ext4, xfs; not tmpfs), whole blocks went that way.
        XCTAssertEqual(directBytes % 4096, 0)
        print("TableWriterTests: \(directBytes) of \(directData.count) bytes written with direct I/O")
    }
}
