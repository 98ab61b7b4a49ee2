import Foundation
import XCTest

@testable import RamkollModel

/// The monthly aid table's deviation row and its forecasts from the case system's own outcome,
/// through `ramkoll run` on the sample, each figure worked out again here from assistance.csv and
/// the table's own budget column.
final class AssistanceForecastTests: XCTestCase {
    func testForecastsFromThePaymentsBesideTheLedgersAndTheDeviationRow() throws {
        let dir = try TestPaths.temporaryDirectory()
        let pipeline = try SampleTablesTests.samplePipelineCopy(in: dir)
        for asOf in ["2022-08", "2022-12"] {
            let r = try runRamkoll(["run", pipeline, "--as-of", asOf, "--run-dir", dir + "/" + asOf, "--no-warehouse"])
            XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        }
        func rows(_ path: String) throws -> [[String: String]] {
            let records = SampleEndToEndTests.parseCSV(try String(contentsOfFile: path, encoding: .utf8))
            return records.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(records[0], $0)) }
        }
        let table = try rows(dir + "/2022-08/03-reconcile/assistance_table.csv")
        let cells = try rows(dir + "/2022-08/03-reconcile/assistance.csv")
        XCTAssertEqual(table.count, 12)
        func int(_ s: String?) -> Int64? { s.flatMap { Int64($0) } }
        // Outcome by the month the aid is for, January–August, and households per month.
        var paid: [String: Int64] = [:], households: [String: Int64] = [:]
        for c in cells where c["period"]! <= "2022-08" && c["period"]!.hasPrefix("2022") {
            paid[c["period"]!, default: 0] += int(c["paid_ore"])!
        }
        let toDate = paid.values.reduce(0, +)
        for row in table where row["period"]! <= "2022-08" { households[row["period"]!] = int(row["households"])! }
        let budgetToDate = table.filter { $0["period"]! <= "2022-08" }.reduce(Int64(0)) { $0 + int($1["budget_ore"])! }
        let householdMonths = households.values.reduce(0, +)
        let recent = ["2022-06", "2022-07", "2022-08"].map { households[$0]! }
        for row in table {
            let p = row["period"]!, budget = int(row["budget_ore"])!
            if p <= "2022-08" {
                XCTAssertEqual(int(row["paid_ore"]), paid[p], p)
                XCTAssertEqual(int(row["deviation_ore"]), budget - paid[p]!, "budget − outcome \(p)")
                XCTAssertEqual(int(row["forecast_run_rate_ore"]), paid[p], "a closed month is its outcome")
                XCTAssertEqual(int(row["forecast_ledger_ore"]), int(row["ledger_ore"]), p)
            } else {
                XCTAssertNil(int(row["deviation_ore"]), p)
                XCTAssertEqual(int(row["forecast_run_rate_ore"]), Ore.divideRoundingHalfAwayFromZero(toDate, by: 8), p)
                XCTAssertEqual(int(row["forecast_seasonal_ore"]), Ore.mulDivRoundingHalfAwayFromZero(budget, toDate, budgetToDate), p)
                XCTAssertEqual(
                    int(row["forecast_households_ore"]),
                    Ore.divideRoundingHalfAwayFromZero(toDate, by: householdMonths) * Ore.divideRoundingHalfAwayFromZero(recent.reduce(0, +), by: 3),
                    p)
                XCTAssertEqual(int(row["forecast_ledger_ore"]), budget, "the ledger's: the remaining budget")
            }
        }
        let text = try String(contentsOfFile: dir + "/2022-08/03-reconcile/assistance_table.txt", encoding: .utf8)
        for label in [
            "Avvikelse budget − utfall (överskott +)", "Prognos hushåll × belopp per hushåll", "Prognos årstakt", "Prognos säsong",
            "Prognos huvudboken (utfall + återstående budget)",
        ] {
            XCTAssertTrue(text.contains("\n" + label + " "), label)
        }
        // At the close there is nothing left to forecast; the deviation row stays.
        let close = try String(contentsOfFile: dir + "/2022-12/03-reconcile/assistance_table.txt", encoding: .utf8)
        XCTAssertFalse(close.contains("Prognos"), close)
        XCTAssertTrue(close.contains("\nAvvikelse budget − utfall (överskott +) "), close)
    }
}
