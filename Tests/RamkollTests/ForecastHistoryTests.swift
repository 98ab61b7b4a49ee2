import Foundation
import XCTest

@testable import RamkollModel
@testable import RamkollPipeline

/// Seed 001's "Prognos och prognosförändring": each checkpoint's forecast is kept, and at the year's
/// close every checkpoint is set against the outcome.
final class ForecastHistoryTests: XCTestCase {
    func testCheckpointsAreKeptAndComparedWithTheOutcome() throws {
        let dir = try TestPaths.temporaryDirectory()
        let p = try smallPipelineCopy(in: dir) {
            $0 + "forecast_history:\n  checkpoints:\n    \"03\": Fördjupad månadsuppföljning\n    \"06\": Delårsbokslut\n"
        }
        let runs = dir + "/runs"
        let store = RunStore(root: runs)
        func resultForecast(_ run: String) throws -> (forecast: Int64, budget: Int64) {
            let text = try String(contentsOfFile: run + "/05-prognosis/prognos.csv", encoding: .utf8)
            let rows = SampleEndToEndTests.parseCSV(text)
            let h = rows[0]
            let r = rows.dropFirst().first { $0[h.firstIndex(of: "unit")!] == "SN" && $0[h.firstIndex(of: "line")!] == "RES" }!
            return (Int64(r[h.firstIndex(of: "forecast_ore")!])!, Int64(r[h.firstIndex(of: "budget_year_ore")!])!)
        }
        func sealed(_ asOf: String, selection: Pipeline.Selection = .all) throws -> Runner.Outcome {
            var o = Runner.Options(pipelinePath: p)
            o.runsRoot = runs
            o.asOf = Period(asOf)
            o.selection = selection
            return try Runner(logger: quietLogger).run(o)
        }
        XCTAssertEqual(try sealed("2022-03").status, .ok)
        let march = try resultForecast(store.directory(of: "2022-03.001"))
        XCTAssertEqual(try sealed("2022-06").status, .ok)
        let june = try resultForecast(store.directory(of: "2022-06.001"))
        // A run of a month that is not a checkpoint changes nothing in later runs.
        XCTAssertEqual(try sealed("2022-05").status, .ok)
        let close = try sealed("2022-12")
        // The fixture's ledger ends in July: a year-end run on it is stale, and says so (its
        // outputs are written all the same).
        XCTAssertEqual(close.status, .dataError)
        XCTAssertTrue(
            close.summary.contains(
                "data error: ledger \"main\" (source b2022) has postings through 2022-07, behind the as-of period 2022-12: the export is stale or cut short — export it again, or run with --as-of 2022-07"
            ), "\(close.summary)")
        let year = close.runDirectory
        // The outcome: the year's result against its budget, from the year-end Drift.
        let drift = SampleEndToEndTests.parseCSV(try String(contentsOfFile: year + "/04-deviation/avvikelse.csv", encoding: .utf8))
        let h = drift[0]
        let res = drift.dropFirst().first { $0[0] == "SN" && $0[h.firstIndex(of: "line")!] == "RES" }!
        let outcome = Int64(res[h.firstIndex(of: "actual_ytd_ore")!])! - Int64(res[h.firstIndex(of: "budget_year_ore")!])!
        let text = try String(contentsOfFile: year + "/05-prognosis/prognosforandring.txt", encoding: .utf8)
        // The stale year-end run's tables begin with its data-error banner; the table follows it.
        XCTAssertTrue(text.hasPrefix("*** DATAFEL: "), text)
        let rows = text.split(separator: "\n").filter { !$0.hasPrefix("***") }.dropFirst(2).map {
            $0.split(separator: "  ", omittingEmptySubsequences: true).map { $0.trimmingCharacters(in: .whitespaces) }
        }
        func tkr(_ ore: Int64) -> String { Ore.formatWhole(Ore(ore).tkr) }
        XCTAssertEqual(
            rows,
            [
                ["Fördjupad månadsuppföljning", tkr(march.forecast - march.budget), tkr(outcome - (march.forecast - march.budget))],
                ["Delårsbokslut", tkr(june.forecast - june.budget), tkr(outcome - (june.forecast - june.budget))],
                ["Bokslut 2022", tkr(outcome)],
            ])
        // The year-end HTML report charts the checkpoints and the outcome.
        let html = try String(contentsOfFile: year + "/06-report/rapport.html", encoding: .utf8)
        XCTAssertTrue(html.contains("<h2>Prognos per uppföljningstillfälle</h2>"))
        XCTAssertTrue(
            html.contains(">Fördjupad månadsuppföljning</text>") && html.contains(">Delårsbokslut</text>") && html.contains(">Bokslut 2022</text>"))
        XCTAssertFalse(html.contains(">Prognos 2022-12</text>"), "at the close the year's own checkpoint is the outcome")

        // Both earlier checkpoints are inputs of the year-end prognosis, read from their own runs.
        let inputs = close.results.first { $0.manifest.stage == "prognosis" }!.manifest.inputs.filter { $0.role.hasPrefix("forecast checkpoint") }
        XCTAssertEqual(inputs.map(\.role), ["forecast checkpoint 2022-03 (run 2022-03.001)", "forecast checkpoint 2022-06 (run 2022-06.001)"])
        XCTAssertEqual(inputs.map(\.path), ["runs/all/2022-03.001/05-prognosis/prognos.csv", "runs/all/2022-06.001/05-prognosis/prognos.csv"])
        XCTAssertFalse(FileIO.exists(dir + "/history"), "no history folder outside the runs")
        // A checkpoint run again: the next run reads the newest good run of that period.
        XCTAssertEqual(try sealed("2022-06", selection: .only(.prognosis)).status, .ok)
        let again = try sealed("2022-12")
        let roles = again.results.first { $0.manifest.stage == "prognosis" }!.manifest.inputs.map(\.role).filter {
            $0.hasPrefix("forecast checkpoint")
        }
        XCTAssertEqual(roles, ["forecast checkpoint 2022-03 (run 2022-03.001)", "forecast checkpoint 2022-06 (run 2022-06.002)"])
        XCTAssertEqual(
            try Data(contentsOf: URL(fileURLWithPath: again.runDirectory + "/05-prognosis/prognosforandring.txt")),
            try Data(contentsOf: URL(fileURLWithPath: year + "/05-prognosis/prognosforandring.txt")))
        let changes = SampleEndToEndTests.parseCSV(
            try String(contentsOfFile: store.directory(of: "2022-06.002") + "/05-prognosis/prognosforandring.csv", encoding: .utf8))
        let sn = changes.filter { $0.count > 1 && $0[0] == "SN" && $0[1] == "RES" }
        XCTAssertEqual(sn.map { $0[2] }, ["2022-03", "2022-06"])
        XCTAssertEqual(sn[1][5], String((june.forecast - june.budget) - (march.forecast - march.budget)), "change since the previous checkpoint")
    }

    /// The same through the binary, as the README tells a controller to do it.
    func testCheckpointRunsThroughTheBinary() throws {
        let dir = try TestPaths.temporaryDirectory()
        let p = try smallPipelineCopy(in: dir) { $0 + "forecast_history:\n  checkpoints:\n    \"03\": Fördjupad månadsuppföljning\n" }
        let runs = dir + "/runs"
        XCTAssertEqual(try runRamkoll(["run", p, "--runs", runs, "--as-of", "2022-03", "-q", "--no-warehouse"]).status, 0)
        XCTAssertEqual(try runRamkoll(["run", p, "--runs", runs, "--as-of", "2022-06", "-q", "--no-warehouse"]).status, 0)
        let store = RunStore(root: runs)
        let text = try String(contentsOfFile: store.directory(of: "2022-06.001") + "/05-prognosis/prognosforandring.txt", encoding: .utf8)
        XCTAssertTrue(text.contains("Fördjupad månadsuppföljning"), text)
        let m = try StageManifest.read(from: store.directory(of: "2022-06.001") + "/05-prognosis")
        XCTAssertEqual(m.inputs.filter { $0.role.hasPrefix("forecast checkpoint") }.map(\.role), ["forecast checkpoint 2022-03 (run 2022-03.001)"])
        let old = try runRamkoll([
            "check", try smallPipelineCopy(in: dir, name: "old.yaml") { $0 + "forecast_history:\n  path: history\n  checkpoints:\n    \"03\": X\n" },
        ])
        XCTAssertTrue(old.stdout.contains("warning: forecast_history: path is no longer used and is ignored"), old.stdout)
    }
}
