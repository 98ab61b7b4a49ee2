import Foundation
import RamkollModel
import XCTest

@testable import RamkollPipeline

/// Reading a stage's table ahead on a second thread gives what reading it row by row gives: the
/// same fields (quoted, empty, long, over several batches), lines and integers, and a broken row
/// stops it with the same message after the rows before it.
final class TableReaderTests: XCTestCase {
    struct Seen: Equatable { let line: Int; let fields: [String]; let number: Int64 }

    func read(_ path: String, ahead: Bool) throws -> ([Seen], String?) {
        let t = try TableReader(path: path, required: ["id", "text", "n"])
        let id = t.column("id"), text = t.column("text"), n = t.column("n")
        var seen: [Seen] = []
        do {
            let body = { (row: TableReader.Row) throws in
                seen.append(Seen(line: row.line, fields: [row[column: id], row[column: text], row["n"]], number: try row.int(column: n)))
            }
            if ahead { try t.forEachReadAhead(body) } else { try t.forEach(body) }
        } catch {
            return (seen, "\(error)")
        }
        return (seen, nil)
    }

    func testReadingAheadGivesTheSameRowsAndErrors() throws {
        let dir = try TestPaths.temporaryDirectory()
        var lines = ["id;text;n"]
        // More rows than one batch holds, and rows longer than a batch's bytes.
        for k in 0..<(RowBatch.rows * 2 + 17) {
            let text =
                k % 5 == 0
                ? "\"semi;colon and \"\"quote\"\"\"" : k % 7 == 0 ? "" : k == 101 ? String(repeating: "å", count: RowBatch.bytes) : "text \(k)"
            lines.append("P-\(k);\(text);\(k % 3 == 0 ? -k : k)")
        }
        let good = try TestPaths.write(lines.joined(separator: "\n") + "\n", name: "good.csv", in: dir)
        let (byRow, noError) = try read(good, ahead: false)
        XCTAssertNil(noError)
        XCTAssertEqual(byRow.count, RowBatch.rows * 2 + 17)
        XCTAssertEqual(byRow[5].fields[1], "semi;colon and \"quote\"")
        XCTAssertEqual(byRow[101].fields[1].count, RowBatch.bytes)
        let (ahead, noError2) = try read(good, ahead: true)
        XCTAssertNil(noError2)
        XCTAssertEqual(ahead, byRow)

        // A row with a field too many, after more than a batch of good rows.
        var broken = lines
        broken.insert("P-x;a;1;extra", at: RowBatch.rows + 40)
        let bad = try TestPaths.write(broken.joined(separator: "\n") + "\n", name: "bad.csv", in: dir)
        let (rowsBefore, error) = try read(bad, ahead: false)
        let (rowsAhead, errorAhead) = try read(bad, ahead: true)
        XCTAssertEqual(rowsBefore.count, RowBatch.rows + 39)
        XCTAssertEqual(rowsAhead, rowsBefore)
        XCTAssertEqual(
            error, "\(bad):\(RowBatch.rows + 41): has 4 fields, the header has 3; the file was changed by hand — rerun the stage that writes it")
        XCTAssertEqual(errorAhead, error)

        // The body's own error stops the reading thread: nothing is read after it.
        let t = try TableReader(path: good, required: ["id"])
        var rows = 0
        XCTAssertThrowsError(
            try t.forEachReadAhead { _ in
                rows += 1
                if rows == 3 { throw RamkollError(.input, "stop") }
            })
        XCTAssertEqual(rows, 3)
    }
}

/// The care-day tally's byte-keyed names: every distinct value gets the next number, the same
/// bytes always the same number, past the table's growth and with values that share prefixes or
/// are empty.
final class ByteNamesTests: XCTestCase {
    func testEachValueKeepsItsNumber() {
        var names = CareDayTally.ByteNames()
        var values = ["", "SoL 4 kap. 1 §", "LVU 2 §", "LVU 3 §"]
        for k in 0..<5000 { values.append("6\(k)") }
        for round in 0..<2 {
            for (k, v) in values.enumerated() {
                var text = v
                let (id, new) = text.withUTF8 { names.id($0) }
                XCTAssertEqual(id, k, v)
                XCTAssertEqual(new, round == 0, v)
            }
        }
        XCTAssertEqual(names.strings, values)
    }
}

/// The care-day tally names every column it reads as required: a placements table without one
/// (written by another version) stops with the table reader's message instead of trapping on
/// the missing column.
final class CareDayColumnsTests: XCTestCase {
    func testAPlacementsTableWithoutAColumnItReadsIsNamed() throws {
        let (config, mappings, _) = Runner.check(TestPaths.root.appendingPathComponent("Pipelines/exempelby.yaml").path)
        let cfg = try XCTUnwrap(config), maps = try XCTUnwrap(mappings)
        let dir = try TestPaths.temporaryDirectory()
        let path = try TestPaths.write(
            "source;file;record;line;placement_id;person;ansvar;form_of_care;start;end;daily_price_ore;price_periods\n"
                + "plac;p.xml;1;3;PL-1;p-00000000000000000000;62010;HVB;2022-01-01;;100000;\n",
            name: "placements.csv", in: dir)
        XCTAssertThrowsError(try CareDayTally.tally(path: path, config: cfg, mappings: maps, spill: dir + "/spill", matching: false, accruals: false))
        {
            XCTAssertEqual(
                "\($0)", "\(path): no column \"legal_basis\"; the file was written by another version — rerun that stage")
        }
    }
}
