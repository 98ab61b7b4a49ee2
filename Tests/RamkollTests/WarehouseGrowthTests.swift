import Foundation
import XCTest

@testable import RamkollHistory
@testable import RamkollModel
@testable import RamkollPipeline

/// A year of nights fits on a disk (issue 15): the nightly export is the year to date, so each
/// night's ledger repeats the last one's rows with the day's new ones. Thirty nights through the
/// binary; the warehouse must grow with the data, not with the nights, and `ramkoll prune` must
/// remove old runs' folders and rows while keeping what later runs and the committee need.
final class WarehouseGrowthTests: XCTestCase {
    /// The year-to-date export of night `n`: 3 000 rows in each closed month January–May, and 500
    /// new June rows each night, appended at the end (as a finance system's export grows). Night
    /// 30 holds 30 000 rows: enough that each night's run record (a few tens of kB) is small beside it.
    static func export(night n: Int) -> Data {
        var text = "Bilagsnr;Bokf.datum;Period;Konto;Ansvar;Vht;Akt;Proj;Motp;Belopp;Beskrivning\r\n"
        var voucher = 0
        func row(_ month: Int, _ day: Int, _ i: Int) {
            voucher += 1
            let account = ["50110", "60110", "64100", "46310"][i % 4], ansvar = i % 3 == 0 ? "200" : "100"
            let amount = 1_000 + (i * 37) % 9_000
            text += "B\(voucher);2022\(String(format: "%02d%02d", month, day));2022\(String(format: "%02d", month));\(account);\(ansvar);569;;;;"
            text += "\(amount / 100) \(String(format: "%03d", amount % 1000)),\(String(format: "%02d", i % 100));Rad \(i) manad \(month)\r\n"
        }
        for month in 1...5 { for i in 0..<3_000 { row(month, 1 + i % 28, i) } }
        for day in 1...n { for i in 0..<500 { row(6, day, day * 1000 + i) } }
        return Data(text.utf8)
    }

    func testThirtyNightsGrowWithTheDataAndPruneKeepsWhatIsNeeded() throws {
        let dir = try TestPaths.temporaryDirectory()
        let fixture = TestPaths.fixture("small")
        let ledger = dir + "/ledger-2022.csv"
        let pipeline = try smallPipelineCopy(in: dir) { $0.replacingOccurrences(of: "\(fixture)/ledger-2022.csv\n", with: "\(ledger)\n") }
        let runs = dir + "/runs"
        for night in 1...30 {
            try Self.export(night: night).write(to: URL(fileURLWithPath: ledger))
            let r = try runRamkoll(["run", pipeline, "--runs", runs, "--quiet"])
            XCTAssertEqual(r.status, 0, "night \(night): \(r.stdout)\(r.stderr)")
            guard r.status == 0 else { return }
        }
        let store = RunStore(root: runs)
        XCTAssertEqual(store.runs().count, 30)
        let sqlite = try SQLiteTarget(path: store.historyPath)
        // Night 30's ledger holds 15 000 closed-month rows, 15 000 June rows and the fixture's 2021 rows.
        let last = try XCTUnwrap(store.resolve("latest"))
        let ledgerFile = try FileIO.sha256(ofFile: last + "/02-normalize/ledger.csv").hex
        let rows = try XCTUnwrap(sqlite.integer("SELECT COUNT(*) FROM ledger WHERE dataset = ?", [.text(ledgerFile)]))
        let manifest = try StageManifest.read(from: last + "/02-normalize")
        XCTAssertEqual(rows, manifest.outputs.first { $0.path == "ledger.csv" }?.rows)
        let fileSum = try ledgerSum(last + "/02-normalize/ledger.csv")
        XCTAssertEqual(try sqlite.integer("SELECT SUM(amount_ore) FROM ledger WHERE dataset = ?", [.text(ledgerFile)]), fileSum)
        // The view gives back night 30's file row by row, in its order.
        var fromFile: [String] = []
        try TableReader(path: last + "/02-normalize/ledger.csv", required: ["line", "amount_ore", "text"]).forEach {
            fromFile.append($0["line"] + ";" + $0["amount_ore"] + ";" + $0["text"])
        }
        XCTAssertEqual(
            try sqlite.strings("SELECT line || ';' || amount_ore || ';' || text FROM ledger WHERE dataset = ? ORDER BY row_no", [.text(ledgerFile)]),
            fromFile)
        // Every night's ledger is there, and each row is stored once: as many as night 30 has.
        XCTAssertEqual(try sqlite.integer("SELECT COUNT(*) FROM datasets WHERE table_name = 'ledger'", []), 30)
        XCTAssertEqual(try sqlite.integer("SELECT COUNT(*) FROM ledger_rows", []), rows)

        // Storage: thirty nights against night 30 alone in a new warehouse.
        let alone = dir + "/alone.sqlite"
        try Warehouse.load(runDirectory: last, into: try SQLiteTarget(path: alone))
        let size30 = try fileSize(store.historyPath), sizeAlone = try fileSize(alone)
        XCTAssertLessThanOrEqual(Double(size30), 1.5 * Double(sizeAlone), "30 nights: \(size30) bytes; night 30 alone: \(sizeAlone) bytes")
        print("warehouse growth: 30 nights \(size30) bytes, night 30 alone \(sizeAlone) bytes")

        // Prune: the three newest runs stay, and every period's newest good run; the rest goes,
        // folders and rows, and what stays reads as before.
        let pruned = try runRamkoll(["prune", pipeline, "--runs", runs, "--keep", "3"])
        XCTAssertEqual(pruned.status, 0, pruned.stdout + pruned.stderr)
        XCTAssertTrue(pruned.stdout.hasPrefix("ramkoll prune: \(runs): 3 runs kept, 27 removed\n"), pruned.stdout)
        XCTAssertEqual(store.runs(), ["2022-06.028", "2022-06.029", "2022-06.030"])
        XCTAssertEqual(store.resolve("latest"), store.directory(of: "2022-06.030"))
        XCTAssertEqual(try sqlite.integer("SELECT COUNT(*) FROM runs", []), 3)
        XCTAssertEqual(try sqlite.integer("SELECT COUNT(*) FROM ledger WHERE dataset = ?", [.text(ledgerFile)]), rows)
        XCTAssertEqual(try sqlite.integer("SELECT COUNT(*) FROM ledger_rows", []), rows, "nights 28-29's rows are night 30's too")
        XCTAssertLessThanOrEqual(try fileSize(store.historyPath), size30)
        // Retry and verify still work on what is left.
        XCTAssertEqual(try runRamkoll(["verify", "latest", "--pipeline", pipeline, "--runs", runs]).status, 0)
    }

    func testPruneKeepsEveryPeriodsNewestGoodRunAndRunsUnderWay() throws {
        let dir = try TestPaths.temporaryDirectory()
        let pipeline = try smallPipelineCopy(in: dir)
        let runs = dir + "/runs"
        for asOf in ["2022-03", "2022-03", "2022-04", "2022-05", "2022-05", "2022-06"] {
            XCTAssertEqual(try runRamkoll(["run", pipeline, "--runs", runs, "--as-of", asOf, "--force", "-q"]).status, 0, asOf)
        }
        let dry = try runRamkoll(["prune", pipeline, "--runs", runs, "--keep", "1", "--dry-run"])
        XCTAssertEqual(dry.stdout, "ramkoll prune: \(runs): 4 runs kept, 2 would be removed\n  removed: 2022-03.001, 2022-05.001\n")
        XCTAssertEqual(RunStore(root: runs).runs().count, 6, "a dry run removes nothing")
        let r = try runRamkoll(["prune", pipeline, "--runs", runs, "--keep", "1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(RunStore(root: runs).runs(), ["2022-03.002", "2022-04.001", "2022-05.002", "2022-06.001"])
        let refused = try runRamkoll(["prune", pipeline, "--runs", runs, "--keep", "0"])
        XCTAssertEqual(refused.status, 64)
        XCTAssertTrue(refused.stderr.contains("--keep must be at least 1, not 0"), refused.stderr)
    }

    func fileSize(_ path: String) throws -> Int64 {
        (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
    }

    func ledgerSum(_ path: String) throws -> Int64 {
        var sum: Int64 = 0
        try TableReader(path: path, required: ["amount_ore"]).forEach { sum += try $0.int("amount_ore") }
        return sum
    }
}
