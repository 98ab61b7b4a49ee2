import Foundation
import XCTest

@testable import RamkollModel
@testable import RamkollPipeline

/// The seeds' tables from SampleInputs/, as golden files, with the figures the
/// golden files rest on checked against the budget file read here on its own:
///
/// - seed 001: Drift, Prognos och prognosförändring (checkpoints 2022-04 and 2022-08), the IVO report;
/// - seed 002: budget per verksamhet with forecast, monthly bistånd, placement tables;
/// - seed 003: Resultatbudget per line and per unit (at 2022-08: Årsprognos);
/// - seed 004: driftsammandrag with varav rows, the residual line and plan years.
final class SampleTablesTests: XCTestCase {
    static let root = TestPaths.root.path

    /// The sample pipeline, copied with absolute paths into `dir`.
    static func samplePipelineCopy(in dir: String) throws -> String {
        var text = try String(contentsOfFile: root + "/Pipelines/exempelby.yaml", encoding: .utf8)
        text = text.replacingOccurrences(of: "../SampleInputs/", with: root + "/SampleInputs/")
        for sub in ["profiles/", "exempelby/", "kommunbas/"] {
            text = text.replacingOccurrences(of: " " + sub, with: " " + root + "/Pipelines/" + sub)
            text = text.replacingOccurrences(of: "[" + sub, with: "[" + root + "/Pipelines/" + sub)
        }
        return try TestPaths.write(text, name: "exempelby.yaml", in: dir)
    }

    /// The three runs of a year (two checkpoints and the close), shared by the tests below.
    nonisolated(unsafe) static var shared: String?
    static func runs() throws -> String {
        if let s = shared { return s }
        let dir = try TestPaths.temporaryDirectory("sample-tables")
        let pipeline = try samplePipelineCopy(in: dir)
        // Sealed runs: the year-end run reads each checkpoint's forecast from that checkpoint's run.
        for asOf in ["2022-04", "2022-08", "2022-12"] {
            var o = Runner.Options(pipelinePath: pipeline)
            o.runsRoot = dir + "/runs"
            o.asOf = Period(asOf)
            let outcome = try Runner(logger: quietLogger).run(o)
            XCTAssertEqual(outcome.status, .ok, asOf)
            try FileManager.default.createSymbolicLink(atPath: dir + "/" + asOf, withDestinationPath: outcome.runDirectory)
        }
        shared = dir
        return dir
    }

    static let goldenFiles = [
        "2022-08/05-prognosis/prognos.txt", "2022-08/06-report/tabeller.txt", "2022-08/03-reconcile/volumes.txt",
        "2022-08/03-reconcile/placement_forecast.csv",
        "2022-12/04-deviation/drift.txt", "2022-12/05-prognosis/prognosforandring.txt", "2022-12/03-reconcile/ivo_report.txt",
        "2022-12/03-reconcile/assistance_table.txt", "2022-12/03-reconcile/volumes.txt", "2022-12/06-report/tabeller.txt",
        "2022-12/06-report/driftsammandrag_kalkyl.csv", "2022-12/06-report/resultatbudget_kalkyl.csv",
    ]

    func testTheSeedsTablesFromTheSample() throws {
        let dir = try Self.runs()
        let actual = try TestPaths.temporaryDirectory()
        for f in Self.goldenFiles {
            let dest = URL(fileURLWithPath: actual + "/" + f)
            try FileManager.default.createDirectory(at: dest.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: dir + "/" + f, toPath: dest.path)
        }
        try assertMatchesGolden(actual, TestPaths.fixture("sample-tables"))
    }

    /// The budget file read on its own: öre per (unit, line) for the year and per plan year.
    static func budgetFile() throws -> (year: [String: Int64], plan: [Int: [String: Int64]]) {
        let text = try String(contentsOfFile: root + "/SampleInputs/budget/internbudget-2022.csv", encoding: .utf8)
        let records = SampleEndToEndTests.parseCSV(text).filter { !($0.first ?? "").hasPrefix("#") }
        let header = records[0]
        var year: [String: Int64] = [:], plan: [Int: [String: Int64]] = [:]
        for r in records.dropFirst() where r.count == header.count {
            year[r[0] + "/" + r[1], default: 0] += SampleEndToEndTests.ore(r[2])!
            for (i, h) in header.enumerated() where h.hasPrefix("plan ") {
                plan[Int(h.dropFirst(5))!, default: [:]][r[0] + "/" + r[1], default: 0] += SampleEndToEndTests.ore(r[i])!
            }
        }
        return (year, plan)
    }

    /// The driftsammandrag's figures, checked one by one against the budget file: each plan year's
    /// residual is minus the plan's result (frame − allocated), the sum row is the frame, the varav
    /// rows are their units' lines; and every figure in tables.json is exact öre.
    func testDriftsammandragAgainstTheBudgetFile() throws {
        let dir = try Self.runs()
        let (year, plan) = try Self.budgetFile()
        XCTAssertEqual(plan.keys.sorted(), [2023, 2024, 2025])
        struct Doc: Decodable { let tables: [T]; struct T: Decodable { let name: String; let columns: [String]; let rows: [[String]] } }
        let doc = try JSONDecoder().decode(Doc.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/2022-12/06-report/tables.json")))
        let table = doc.tables.first { $0.name == "driftsammandrag" }!
        func cell(_ kind: String, _ id: String?, _ column: String) -> Int64? {
            guard let row = table.rows.first(where: { $0[0] == kind && (id == nil || $0[1] == id) }) else { return nil }
            return Int64(row[table.columns.firstIndex(of: column)!])
        }
        for (y, amounts) in plan {
            let result = amounts.values.reduce(0, +)  // every line of every unit, kommunbidrag included
            let frame = amounts.filter { $0.key.hasSuffix("/KB") }.values.reduce(0, +)
            XCTAssertNotEqual(result, 0, "the plan years are not balanced: there is a residual to show")
            XCTAssertEqual(cell("residual", nil, "plan_\(y)_ore"), -result, "residual \(y)")
            XCTAssertEqual(cell("total", nil, "plan_\(y)_ore"), -frame, "the sum row is the frame \(y)")
            let bu = amounts.filter { $0.key.hasPrefix("BU-") && !$0.key.hasSuffix("/KB") }.values.reduce(0, +)
            XCTAssertEqual(cell("unit", "BU", "plan_\(y)_ore"), bu, "Barn och unga \(y)")
            XCTAssertEqual(
                cell("varav", "BU-INST+BU-FAM", "plan_\(y)_ore"), (amounts["BU-INST/KOP"] ?? 0) + (amounts["BU-FAM/KOP"] ?? 0),
                "varav placements \(y)")
            XCTAssertEqual(cell("varav", "EB-UTB", "plan_\(y)_ore"), amounts["EB-UTB/EKB"], "varav bistånd \(y)")
        }
        XCTAssertEqual(cell("residual", nil, "budget_ore"), -year.values.reduce(0, +), "the year's budget is balanced")
        XCTAssertEqual(cell("total", nil, "budget_ore"), -year["NG-LED/KB"]!)
        // Seed 002's proposal and change columns.
        let verksamhet = doc.tables.first { $0.name == "budget_verksamhet" }!
        let vm = verksamhet.rows.first { $0[1] == "VM" }!
        let col = { (c: String) in Int64(vm[verksamhet.columns.firstIndex(of: c)!])! }
        let vmPlan = plan[2023]!.filter { $0.key.hasPrefix("VM-") }.values.reduce(0, +)
        let vmBudget = year.filter { $0.key.hasPrefix("VM-") }.values.reduce(0, +)
        XCTAssertEqual(col("plan_2023_ore"), vmPlan)
        XCTAssertEqual(col("budget_ore"), vmBudget)
        XCTAssertEqual(col("change_ore"), vmPlan - vmBudget)
    }

    /// The activity- and driver-based forecasts at 2022-08, recomputed here from the stage outputs
    /// they rest on (placement_forecast.csv, assistance.csv, the grid).
    func testCaseSystemForecastsAtACheckpoint() throws {
        let dir = try Self.runs() + "/2022-08"
        func rows(_ f: String) throws -> [[String: String]] {
            let recs = SampleEndToEndTests.parseCSV(try String(contentsOfFile: dir + "/" + f, encoding: .utf8))
            return recs.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(recs[0], $0)) }
        }
        let prognos = try rows("05-prognosis/prognos.csv")
        func forecast(_ u: String, _ l: String) -> (Int64, String) {
            let r = prognos.first { $0["unit"] == u && $0["line"] == l }!
            return (Int64(r["forecast_ore"]!)!, r["forecast_method"]!)
        }
        let grid = try rows("03-reconcile/actuals_vs_budget.csv")
        func ytd(_ u: String, _ l: String) -> Int64 {
            Int64(grid.first { $0["unit"] == u && $0["line"] == l && $0["period"] == "2022-08" }!["actual_ytd_ore"]!)!
        }
        // Activity-based, BU-INST KOP: run-rate of the non-placement part + the placements' full year.
        let pf = try rows("03-reconcile/placement_forecast.csv").first { $0["unit"] == "BU-INST" }!
        let delivered = Int64(pf["delivered_ytd_ore"]!)!, committed = Int64(pf["committed_remaining_ore"]!)!
        let new = Int64(pf["expected_new_ore"]!)!, booked = Int64(pf["placement_ledger_ytd_ore"]!)!
        XCTAssertEqual(Int64(pf["placement_full_year_ore"]!)!, delivered + committed + new)
        XCTAssertGreaterThan(committed, 0)
        XCTAssertGreaterThan(new, 0)
        let nonPlacement = ytd("BU-INST", "KOP") + booked
        XCTAssertEqual(forecast("BU-INST", "KOP").0, Ore.divideRoundingHalfAwayFromZero(nonPlacement * 12, by: 8) - (delivered + committed + new))
        XCTAssertEqual(forecast("BU-INST", "KOP").1, "activity-based")
        // A unit without placements keeps the selected method.
        XCTAssertEqual(forecast("NG-LED", "KOP").1, "ytd-plus-budget")
        // Driver-based, EB-UTB EKB: households in August × amount per household over June–August.
        let ab = try rows("03-reconcile/assistance.csv").filter { $0["unit"] == "EB-UTB" }
        let window = ab.filter { ["2022-06", "2022-07", "2022-08"].contains($0["period"]!) }
        let h = window.reduce(Int64(0)) { $0 + Int64($1["households"]!)! }, paid = window.reduce(Int64(0)) { $0 + Int64($1["paid_ore"]!)! }
        let august = Int64(window.first { $0["period"] == "2022-08" }!["households"]!)!
        let rest = Ore.mulDivRoundingHalfAwayFromZero(4 * august, paid, h)!
        XCTAssertEqual(forecast("EB-UTB", "EKB").0, ytd("EB-UTB", "EKB") - rest)
        XCTAssertEqual(forecast("EB-UTB", "EKB").1, "driver-based")
        // At the close the outcome is the figure, whatever the line's method.
        let close = try SampleEndToEndTests.parseCSV(
            String(contentsOfFile: Self.shared! + "/2022-12/05-prognosis/prognos.csv", encoding: .utf8))
        let kop = close.first { $0.first == "BU-INST" && $0[2] == "KOP" }!
        XCTAssertEqual(kop[close[0].firstIndex(of: "forecast_ore")!], kop[close[0].firstIndex(of: "actual_ytd_ore")!])
    }
}
