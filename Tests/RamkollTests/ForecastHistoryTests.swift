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
            $0 + "forecast_history:\n  path: \(dir)/history\n  checkpoints:\n    \"03\": Fördjupad månadsuppföljning\n    \"06\": Delårsbokslut\n"
        }
        func resultForecast(_ run: String) throws -> (forecast: Int64, budget: Int64) {
            let text = try String(contentsOfFile: run + "/05-prognosis/prognos.csv", encoding: .utf8)
            let rows = SampleEndToEndTests.parseCSV(text)
            let h = rows[0]
            let r = rows.dropFirst().first { $0[h.firstIndex(of: "unit")!] == "SN" && $0[h.firstIndex(of: "line")!] == "RES" }!
            return (Int64(r[h.firstIndex(of: "forecast_ore")!])!, Int64(r[h.firstIndex(of: "budget_year_ore")!])!)
        }
        try runPipeline(p, runDir: dir + "/2022-03", asOf: "2022-03")
        let march = try resultForecast(dir + "/2022-03")
        try runPipeline(p, runDir: dir + "/2022-06", asOf: "2022-06")
        let june = try resultForecast(dir + "/2022-06")
        let close = try runPipeline(p, runDir: dir + "/2022-12", asOf: "2022-12")
        // The fixture's ledger ends in July: a year-end run on it is stale, and says so (its
        // outputs are written all the same).
        XCTAssertEqual(close.status, .dataError)
        XCTAssertTrue(
            close.summary.contains(
                "data error: ledger \"main\" (source b2022) has postings through 2022-07, behind the as-of period 2022-12: the export is stale or cut short — export it again, or run with --as-of 2022-07"
            ), "\(close.summary)")
        // The outcome: the year's result against its budget, from the year-end Drift.
        let drift = SampleEndToEndTests.parseCSV(try String(contentsOfFile: dir + "/2022-12/04-deviation/avvikelse.csv", encoding: .utf8))
        let h = drift[0]
        let res = drift.dropFirst().first { $0[0] == "SN" && $0[h.firstIndex(of: "line")!] == "RES" }!
        let outcome = Int64(res[h.firstIndex(of: "actual_ytd_ore")!])! - Int64(res[h.firstIndex(of: "budget_year_ore")!])!
        let text = try String(contentsOfFile: dir + "/2022-12/05-prognosis/prognosforandring.txt", encoding: .utf8)
        let rows = text.split(separator: "\n").dropFirst(2).map {
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
        let html = try String(contentsOfFile: dir + "/2022-12/06-report/rapport.html", encoding: .utf8)
        XCTAssertTrue(html.contains("<h2>Prognos per uppföljningstillfälle</h2>"))
        XCTAssertTrue(
            html.contains(">Fördjupad månadsuppföljning</text>") && html.contains(">Delårsbokslut</text>") && html.contains(">Bokslut 2022</text>"))
        XCTAssertFalse(html.contains(">Prognos 2022-12</text>"), "at the close the year's own checkpoint is the outcome")

        // Both earlier checkpoints are inputs of the year-end prognosis, with their SHA-256.
        let inputs = close.results.first { $0.manifest.stage == "prognosis" }!.manifest.inputs.filter { $0.role.hasPrefix("forecast history") }
        XCTAssertEqual(inputs.map(\.role), ["forecast history 2022-03", "forecast history 2022-06", "forecast history 2022-12"])
        // Rerunning a checkpoint replaces its file, it does not add one.
        try runPipeline(p, runDir: dir + "/2022-06", selection: .only(.prognosis), asOf: "2022-06")
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: dir + "/history").sorted(),
            ["forecast-2022-03.csv", "forecast-2022-06.csv", "forecast-2022-12.csv"])
        let changes = SampleEndToEndTests.parseCSV(try String(contentsOfFile: dir + "/2022-06/05-prognosis/prognosforandring.csv", encoding: .utf8))
        let sn = changes.filter { $0.count > 1 && $0[0] == "SN" && $0[1] == "RES" }
        XCTAssertEqual(sn.map { $0[2] }, ["2022-03", "2022-06"])
        XCTAssertEqual(sn[1][5], String((june.forecast - june.budget) - (march.forecast - march.budget)), "change since the previous checkpoint")
    }
}
