import Foundation
import XCTest

@testable import RamkollPipeline

/// The external sorter gives the order an in-memory sort gives, whether its records stay in
/// memory or go through many run files; reconcile's outputs do not depend on it.
final class ExternalSorterTests: XCTestCase {
    struct Item: Equatable { let text: String; let number: Int64; let down: String; let seq: Int64; let payload: String }

    func sorted(budget: Int, _ items: [Item], in dir: String) throws -> ([Item], Int) {
        let s = ExternalSorter(directory: dir, name: "t\(budget)", budget: budget)
        for i in items {
            var r = SortRecord()
            r.key(i.text); r.key(i.number); r.keyDescending(i.down); r.key(i.seq)
            r.field(i.payload); r.field(i.number)
            try s.add(r)
        }
        let runs = s.runCount
        var out: [Item] = []
        try s.forEach { bytes in
            var r = SortRecord.Reader(bytes)
            let text = r.key(), number = r.int(), down = r.keyDescending(), seq = r.int(), payload = r.field()
            XCTAssertEqual(r.fieldInt(), number)
            out.append(Item(text: text, number: number, down: down, seq: seq, payload: payload))
        }
        return (out, runs)
    }

    func testRecordsComeOutInKeyOrderFromMemoryAndFromRuns() throws {
        let dir = try TestPaths.temporaryDirectory()
        var rng = SystemRandomNumberGenerator()
        let texts = ["", "A", "AB", "B", "PL-1", "PL-10", "PL-2", "Å", "ä"]
        var items: [Item] = []
        for k in 0..<5000 {
            let number: Int64 = [Int64.min, -5, -1, 0, 1, 7, Int64.max, Int64.random(in: -1000...1000, using: &rng)].randomElement(using: &rng)!
            items.append(
                Item(
                    text: texts.randomElement(using: &rng)!, number: number, down: texts.randomElement(using: &rng)!, seq: Int64(k),
                    payload: String(repeating: "x", count: Int.random(in: 0...300, using: &rng))))
        }
        // The order wanted: text and number ascending, `down` descending (by UTF-8 bytes), then as added.
        let expected = items.sorted { a, b in
            if a.text != b.text { return Array(a.text.utf8).lexicographicallyPrecedes(Array(b.text.utf8)) }
            if a.number != b.number { return a.number < b.number }
            if a.down != b.down { return Array(b.down.utf8).lexicographicallyPrecedes(Array(a.down.utf8)) }
            return a.seq < b.seq
        }
        let (inMemory, noRuns) = try sorted(budget: 1 << 30, items, in: dir)
        XCTAssertEqual(noRuns, 0)
        XCTAssertEqual(inMemory, expected)
        let (merged, runs) = try sorted(budget: 4096, items, in: dir)
        XCTAssertGreaterThan(runs, 50)
        XCTAssertEqual(merged, expected)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".run") }.count, 0, "runs are removed")
    }

    /// The sample's reconcile outputs (invoice matching, accruals, overlapping placements) are the
    /// same bytes when its sorters spill to hundreds of runs.
    func testReconcileIsTheSameWhenItsSortersSpill() throws {
        let dir = try TestPaths.temporaryDirectory()
        let pipeline = try SampleTablesTests.samplePipelineCopy(in: dir)
        func run(budget: Int) throws -> [String: Data] {
            try? FileManager.default.removeItem(atPath: dir + "/run")
            ExternalSorter.defaultBudget = budget
            let before = ExternalSorter.defaultBudget
            defer { ExternalSorter.defaultBudget = before }
            try runPipeline(pipeline, runDir: dir + "/run", asOf: "2022-12")
            return try LedgerBlocksTests.files(dir + "/run", stages: ["03-reconcile"])
        }
        let inMemory = try run(budget: 32 << 20)
        let before = ExternalSorter.runsWritten
        let spilled = try run(budget: 512)
        XCTAssertGreaterThan(ExternalSorter.runsWritten - before, 100)
        XCTAssertEqual(spilled.keys.sorted(), inMemory.keys.sorted())
        for (name, data) in inMemory { XCTAssertEqual(spilled[name], data, "\(name) differs when the sorters spill") }
        for name in ["03-reconcile/invoice_matching.csv", "03-reconcile/accruals.csv", "03-reconcile/placement_overlaps.csv"] {
            XCTAssertGreaterThan(String(decoding: inMemory[name] ?? Data(), as: UTF8.self).split(separator: "\n").count, 1, "\(name) has rows")
        }
        let left = try FileManager.default.subpathsOfDirectory(atPath: dir + "/run").filter { $0.contains(".sort") }
        XCTAssertEqual(left, [], "the spill folder is removed")
        // What a killed run left behind goes with the next run of the stage.
        let stale = dir + "/run/03-reconcile/" + ReconcileStage.spillFolder
        try FileManager.default.createDirectory(atPath: stale, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: stale + "/stays-0.run"))
        try runPipeline(pipeline, runDir: dir + "/run", selection: .only(.reconcile), asOf: "2022-12")
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale), "a killed run's spill folder is removed by the next run")
    }
}
