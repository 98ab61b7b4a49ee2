import Foundation
import XCTest

@testable import RamkollModel

/// The key figures (nyckeltal) of the sample run through `ramkoll run`, each worked out again from
/// the stage files it is made from; the settings' mistakes with their exact messages.
final class KeyFiguresTests: XCTestCase {
    func rows(_ path: String) throws -> [[String: String]] {
        let records = SampleEndToEndTests.parseCSV(try String(contentsOfFile: path, encoding: .utf8))
        return records.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(records[0], $0)) }
    }

    func testKeyFiguresFromTheRunsOwnFiles() throws {
        let dir = try TestPaths.temporaryDirectory()
        let pipeline = try SampleTablesTests.samplePipelineCopy(in: dir)
        let r = try runRamkoll(["run", pipeline, "--run-dir", dir + "/run", "--no-warehouse"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        struct Doc: Decodable { let tables: [T]; struct T: Decodable { let name: String; let columns: [String]; let rows: [[String]] } }
        let doc = try JSONDecoder().decode(Doc.self, from: Data(contentsOf: URL(fileURLWithPath: dir + "/run/06-report/tables.json")))
        func table(_ name: String) -> [[String: String]] {
            let t = doc.tables.first { $0.name == name }!
            return t.rows.map { Dictionary(uniqueKeysWithValues: zip(t.columns, $0)) }
        }
        // Budgetföljsamhet: the Drift table's net cost per unit (budget, outcome), deviation ÷ |budget|.
        let drift = try rows(dir + "/run/04-deviation/drift.csv").filter { $0["line"] == "NETTO" }
        for row in table("nyckeltal_budgetfoljsamhet") {
            let d = drift.first { $0["unit"] == row["unit"] }!
            XCTAssertEqual(Ore(Int64(row["budget_ore"]!)!).tkr, Int64(d["budget_tkr"]!)!, row["unit"]!)
            XCTAssertEqual(Ore(Int64(row["actual_ore"]!)!).tkr, Int64(d["actual_tkr"]!)!, row["unit"]!)
            let dev = Int64(row["deviation_ore"]!)!, budget = Int64(row["budget_ore"]!)!
            XCTAssertEqual(
                Int64(row["deviation_bp"]!)!, Ore.mulDivRoundingHalfAwayFromZero(dev, 10_000, budget.magnitude == 0 ? 1 : Int64(budget.magnitude)))
        }
        XCTAssertEqual(table("nyckeltal_budgetfoljsamhet").last!["unit"], "SN")
        // Households per month: assistance.csv's, with the target.
        let households = try rows(dir + "/run/03-reconcile/assistance.csv")
        let h = table("nyckeltal_hushall").first { $0["year"] == "2022" }!
        for (i, month) in ["jan", "feb", "dec"].enumerated() {
            let period = "2022-" + ["01", "02", "12"][i]
            XCTAssertEqual(Int64(h[month]!)!, households.filter { $0["period"] == period }.reduce(Int64(0)) { $0 + Int64($1["households"]!)! })
        }
        XCTAssertEqual(h["target"], "170")
        // Every year the payments extracts cover (last year's is its own file), the target on this year's.
        XCTAssertEqual(table("nyckeltal_hushall").map { $0["year"]! }, ["2021", "2022"])
        XCTAssertEqual(table("nyckeltal_hushall")[0]["target"], "")
        // Open care: the net cost of the configured units over the committee's, last year and this.
        let open = table("nyckeltal_oppenvard")
        let units = ["BU-UTR", "SP-SYS", "VM-BOE"]
        let openTkr = drift.filter { units.contains($0["unit"]!) }.reduce(Int64(0)) { $0 - Int64($1["actual_tkr"]!)! }
        XCTAssertLessThanOrEqual(abs(Ore(Int64(open[1]["open_care_ore"]!)!).tkr - openTkr), 2, "each tkr rounded once")
        XCTAssertEqual(open.map { $0["period"]! }, ["2021", "2022"])
        // Family homes: the placements of the year by form of care.
        let placements = try rows(dir + "/run/02-normalize/placements.csv").filter {
            $0["source"] != "plac2021" && $0["start"]! <= "2022-12-31" && ($0["end"]!.isEmpty || $0["end"]! >= "2022-01-01")
        }
        let f = table("nyckeltal_familjehem")[0]
        XCTAssertEqual(Int(f["consultant_supported"]!)!, placements.filter { $0["form_of_care"] == "Konsulentstött familjehem" }.count)
        XCTAssertEqual(Int(f["fee_based"]!)!, placements.filter { $0["form_of_care"] == "Familjehem" }.count)
        XCTAssertGreaterThan(Int(f["consultant_supported"]!)!, 0)
        // In the text and the workbook.
        let text = try String(contentsOfFile: dir + "/run/06-report/tabeller.txt", encoding: .utf8)
        XCTAssertTrue(text.contains("\nAntal hushåll med utbetalt ekonomiskt bistånd per månad\n"))
        XCTAssertNotNil(text.range(of: #"\nSumma Socialnämnden +-198 650 +-205 066 +-6 416 +-3,2\n"#, options: .regularExpression), text)
    }

    func testKeyFigureSettingsThatCannotBeUsed() throws {
        let dir = try TestPaths.temporaryDirectory()
        let pipeline = try SampleTablesTests.samplePipelineCopy(in: dir)
        let text = try String(contentsOfFile: pipeline, encoding: .utf8)
        try text.replacingOccurrences(of: "households_target: \"170\"", with: "households_target: \"många\"").replacingOccurrences(
            of: "    fee_based: [Familjehem]\n", with: ""
        ).write(toFile: pipeline, atomically: true, encoding: .utf8)
        let check = try runRamkoll(["check", pipeline])
        XCTAssertEqual(check.status, 78, check.stdout + check.stderr)
        XCTAssertTrue(check.stdout.contains("key_figures: households_target \"många\" is not a number of households, e.g. 1 300"), check.stdout)
        XCTAssertTrue(
            check.stdout.contains(
                "key_figures: family_homes needs consultant and fee_based, each a list of forms of care, e.g. consultant: [Konsulentstött familjehem]"
            ),
            check.stdout)
        try text.replacingOccurrences(of: "open_care_units: [BU-UTR, SP-SYS, VM-BOE]", with: "open_care_units: [BU-UTR, XX]").write(
            toFile: pipeline, atomically: true, encoding: .utf8)
        let run = try runRamkoll(["run", pipeline, "--run-dir", dir + "/run", "--no-warehouse"])
        XCTAssertEqual(run.status, 78, run.stdout + run.stderr)
        XCTAssertTrue(run.stderr.contains("key_figures: open_care_units names \"XX\", which is not in the unit hierarchy"), run.stderr)
    }
}
