import Foundation
import XCTest
import ZIPFoundation

@testable import RamkollModel
@testable import RamkollPipeline

/// Stage tests on the small fixture (Fixtures/small), whose figures are checked by hand here and
/// whose every output is compared with golden files in Fixtures/small/expected.
final class StageTests: XCTestCase {
    let pipeline = TestPaths.fixture("small/pipeline.yaml")

    func table(_ path: String) throws -> [[String: String]] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var lines = text.split(separator: "\n").map(String.init)
        let header = lines.removeFirst().split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        return lines.map { l in
            let f = l.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
            return Dictionary(uniqueKeysWithValues: zip(header, f))
        }
    }

    func testGoldenOutputsOfEveryStage() throws {
        let run = try TestPaths.temporaryDirectory()
        let outcome = try runPipeline(pipeline, runDir: run)
        XCTAssertEqual(outcome.status, .ok)
        try assertMatchesGolden(run, TestPaths.fixture("small/expected"))
    }

    func testFiguresCheckedByHand() throws {
        let run = try TestPaths.temporaryDirectory()
        let outcome = try runPipeline(pipeline, runDir: run)
        let norm = outcome.results.first { $0.manifest.stage == "normalize" }!.manifest
        XCTAssertEqual(norm.totals["source.a2021.rows_read"], 6)
        XCTAssertEqual(norm.totals["source.a2021.rows_rejected"], 1)
        XCTAssertEqual(norm.totals["source.b2022.rows_read"], 16)
        XCTAssertEqual(norm.totals["source.b2022.rows_rejected"], 4)
        XCTAssertEqual(norm.totals["source.plac.rows_normalized"], 3)
        XCTAssertEqual(norm.totals["budget.rows_rejected"], 3)
        // The rejected "1.250" has no readable amount; the bad date row's 1 250,00 is counted as rejected öre.
        XCTAssertEqual(norm.totals["source.b2022.amount_rejected_ore"], 125_000 + 9_900 + 9_900)

        let rec = outcome.results.first { $0.manifest.stage == "reconcile" }!.manifest
        XCTAssertEqual(rec.totals["rows.current_year"], 7)
        XCTAssertEqual(rec.totals["rows.previous_year"], 5)
        XCTAssertEqual(rec.totals["rows.after_as_of"], 1)
        XCTAssertEqual(rec.totals["rows.other_years"], 1)
        XCTAssertEqual(rec.totals["rows.excluded_by_mapping"], 1)
        XCTAssertEqual(rec.totals["rows.unmapped_account"], 1)
        XCTAssertEqual(rec.totals["amount_ore.unmapped_ansvar"], 25_000)
        // Care days: P1 20 Jan–10 Feb inclusive = 12 days at 3 000 kr + 10 days at 3 200 kr (its price
        // changes on 1 Feb); P2 from 1 May, open = 31 + 30 days at 1 000,50 kr.
        XCTAssertEqual(rec.totals["placements.care_days"], 83)
        let expectedCost: Int64 = 12 * 300_000 + 10 * 320_000 + 61 * 100_050
        XCTAssertEqual(rec.totals["placements.cost_ore"], expectedCost)

        // Ledger ↔ case system (placement accounts 4631x): 129 030,50 kr delivered to June, 30 000 kr
        // invoiced (March), so 99 030,50 kr not yet invoiced; the accrual list explains it with the
        // latest placement-months: June and May of P2, February of P1 and 6 000 kr of its January.
        XCTAssertEqual(rec.totals["case_vs_ledger.delivered-not-invoiced"], 6)
        XCTAssertEqual(rec.totals["accruals.amount_ore"], 9_903_050)
        let accruals = try table(run + "/03-reconcile/accruals.csv")
        XCTAssertEqual(
            accruals.map { $0["period"]! + " " + $0["placement_id"]! + " " + $0["accrual_ore"]! },
            ["2022-06 P2 3001500", "2022-05 P2 3101550", "2022-02 P1 3200000", "2022-01 P1 600000"])

        // Invoice matching: the March invoice "faktura P1 02" charges P1's 10 February days at the old
        // price (3 000 kr), not the 3 200 kr in force from 1 February.
        let matching = try table(run + "/03-reconcile/invoice_matching.csv").map { [$0["placement_id"]!, $0["month"]!, $0["finding"]!] }
        XCTAssertEqual(
            matching,
            [
                ["P1", "2022-01", "not-invoiced"], ["P1", "2022-02", "price-difference"], ["P2", "2022-05", "not-invoiced"],
                ["P2", "2022-06", "not-invoiced"],
            ])

        // Volume table for U2: care days to June 83, by run-rate 166; budget 120 000 kr; net cost on
        // the placement accounts 24 000 kr in 2021, 30 000 kr to June, forecast 30 000 + 50 000 kr
        // (the budget of July–December).
        let volumes = try table(run + "/03-reconcile/volumes.csv").map { [$0["row"]!, $0["care_days"]!, $0["budget_ore"]!, $0["net_cost_ore"]!] }
        XCTAssertEqual(
            volumes,
            [
                ["2021", "", "", "2400000"], ["2022 t.o.m. 2022-06", "83", "12000000", "3000000"], ["2022 prognos", "166", "12000000", "8000000"],
            ])

        let drift = try table(run + "/04-deviation/drift.csv").filter { $0["unit"] == "SN" }
        func tkr(_ line: String, _ col: String) -> String? { drift.first { $0["line"] == line }?[col] }
        XCTAssertEqual(tkr("INT", "actual_tkr"), "2")  // 2 000,50 kr
        XCTAssertEqual(tkr("PERS", "actual_tkr"), "-24")
        XCTAssertEqual(tkr("KOP", "budget_tkr"), "-120")
        XCTAssertEqual(tkr("RES", "actual_tkr"), "-37")  // −37 098,50 kr
        XCTAssertEqual(tkr("RES", "previous_year_tkr"), "4")  // 2021 Jan–Jun: 1 500,50 − 10 000 − 24 000 + 36 000 = 3 500,50 kr
        // Mid-year, the deviation is outcome to date against budget to date (not the year's budget).
        XCTAssertEqual(tkr("NETTO", "deviation_tkr"), "103")
        XCTAssertEqual(tkr("NETTO", "budget_ytd_tkr"), "-158")  // so outcome −55 − budget −158 = 103

        let avv = try table(run + "/04-deviation/avvikelse.csv").filter { $0["unit"] == "U1" }
        let int = avv.first { $0["line"] == "INT" }!
        // 10 000,01 kr in twelfths: the 5 öre that do not divide go to January–May.
        XCTAssertEqual(int["budget_ytd_ore"], String(5 * 83_334 + 83_333))
        XCTAssertEqual(int["actual_ytd_ore"], "200050")
        XCTAssertEqual(int["deviation_ytd_ore"], String(200_050 - 500_003))
        XCTAssertEqual(int["deviation_pct"], "-60.0")
        XCTAssertEqual(int["over_threshold"], "yes")

        let prog = try table(run + "/05-prognosis/prognos.csv").first { $0["unit"] == "U2" && $0["line"] == "KOP" }!
        XCTAssertEqual(prog["run_rate_ore"], String(-3_000_000 * 2))
        // YTD −30 000 + remaining budget Jul–Dec (−10 000 × 4 − 5 000 × 2).
        XCTAssertEqual(prog["ytd_plus_budget_ore"], String(-3_000_000 - 5_000_000))
        // Seasonal: 2021 had all of U2's purchases (24 000) by June, so the year is what June shows.
        XCTAssertEqual(prog["seasonal_ore"], "-3000000")
        // The manual forecast replaces the computed one; KOP is volatile, so it has a range, which
        // holds the computed methods and the figure chosen.
        XCTAssertEqual(prog["forecast_ore"], "-10000000")
        XCTAssertEqual(prog["forecast_method"], "manual")
        XCTAssertEqual(prog["manual_author"], "Anna Controller")
        XCTAssertEqual([prog["range_low_ore"], prog["range_high_ore"]], ["-10000000", "-3000000"])
    }

    /// A manual forecast changes exactly the figures it names — and the totals above them — and is
    /// marked where it shows.
    func testAManualForecastChangesExactlyWhatItNames() throws {
        let dir = try TestPaths.temporaryDirectory()
        let with = try smallPipelineCopy(in: dir, name: "with.yaml")
        let without = try smallPipelineCopy(in: dir, name: "without.yaml") {
            $0.replacingOccurrences(of: "manual_forecasts:", with: "# manual_forecasts:")
        }
        try runPipeline(with, runDir: dir + "/with")
        try runPipeline(without, runDir: dir + "/without")
        let a = try table(dir + "/with/05-prognosis/prognos.csv"), b = try table(dir + "/without/05-prognosis/prognos.csv")
        XCTAssertEqual(a.count, b.count)
        var changed: [String] = []
        for (x, y) in zip(a, b) where x["forecast_ore"] != y["forecast_ore"] { changed.append("\(x["unit"]!) \(x["line"]!)") }
        // U2's purchases, and every total that holds them: U2, IFO and SN × KOP, KOST, NETTO, RES.
        XCTAssertEqual(
            changed.sorted(),
            ["IFO KOP", "IFO KOST", "IFO NETTO", "IFO RES", "SN KOP", "SN KOST", "SN NETTO", "SN RES", "U2 KOP", "U2 KOST", "U2 NETTO", "U2 RES"])
        for (x, y) in zip(a, b) {
            for k in ["run_rate_ore", "ytd_plus_budget_ore", "seasonal_ore", "budget_year_ore", "actual_ytd_ore"] { XCTAssertEqual(x[k], y[k]) }
        }
        let text = try String(contentsOfFile: dir + "/with/05-prognosis/prognos.txt", encoding: .utf8)
        XCTAssertTrue(text.contains("Köp av tjänster *"), text)
        XCTAssertTrue(
            text.contains("Placeringar, Köp av tjänster: manuell prognos av Anna Controller — Två nya placeringar väntas under hösten"), text)
        XCTAssertFalse(try String(contentsOfFile: dir + "/without/05-prognosis/prognos.txt", encoding: .utf8).contains("*"))
    }

    /// The report stage: the spreadsheet CSV opens in a Swedish Excel (BOM, `;`, CRLF, decimal comma,
    /// tkr rounded once from the öre in prognos.csv), and tables.json carries the exact figures.
    func testSpreadsheetAndJSONReport() throws {
        let run = try TestPaths.temporaryDirectory()
        try runPipeline(pipeline, runDir: run)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: run + "/06-report/prognos_kalkyl.csv"))
        XCTAssertEqual(Array(bytes.prefix(3)), [0xEF, 0xBB, 0xBF])
        let text = String(decoding: bytes.dropFirst(3), as: UTF8.self)
        let lines = text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        XCTAssertTrue(lines[0].hasPrefix("Enhet;Enhetsnamn;Rad;Radnamn;Budget helår (tkr);Utfall t.o.m. (tkr)"), lines[0])
        let machine = try table(run + "/05-prognosis/prognos.csv")
        XCTAssertEqual(lines.count - 1, machine.count)
        let u2kop = lines.first { $0.hasPrefix("U2;Placeringar;KOP;") }!.components(separatedBy: ";")
        XCTAssertEqual(u2kop[10], String(Ore(Int64(machine.first { $0["unit"] == "U2" && $0["line"] == "KOP" }!["forecast_ore"]!)!).tkr))
        let avv = String(decoding: try Data(contentsOf: URL(fileURLWithPath: run + "/06-report/avvikelse_kalkyl.csv")).dropFirst(3), as: UTF8.self)
        XCTAssertTrue(avv.contains("SN;Socialnämnden;0;INT;Verksamhetens intäkter;10;5;2;-3;-60,0;ja\r\n"), avv)
        struct Doc: Decodable {
            let schema: String; let tables: [T]; struct T: Decodable { let name: String; let columns: [String]; let rows: [[String]] }
        }
        let doc = try JSONDecoder().decode(Doc.self, from: Data(contentsOf: URL(fileURLWithPath: run + "/06-report/tables.json")))
        XCTAssertEqual(doc.schema, "ramkoll.report/1")
        XCTAssertEqual(
            doc.tables.map(\.name),
            [
                "drift", "avvikelse", "prognos", "resultatbudget", "resultatbudget_enheter", "budget_verksamhet", "driftsammandrag",
                "ekonomiska_ramar", "nyckeltal_budgetfoljsamhet",
            ])
        XCTAssertEqual(doc.tables[2].rows.count, machine.count)
        XCTAssertTrue(doc.tables[2].rows.contains { $0.contains("-10000000") && $0.contains("manual") }, "exact öre of the manual forecast")

        // The workbook, read back: a sheet per table; numbers stored as numbers in the tkr format.
        let archive = try Archive(url: URL(fileURLWithPath: run + "/06-report/rapport.xlsx"), accessMode: .read)
        func entry(_ name: String) throws -> String { try zipPart(archive, name) }
        let workbook = try entry("xl/workbook.xml")
        // The committee's tables first, the unit × line detail (the last three sheets) after them.
        let names = workbook.components(separatedBy: "<sheet name=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        XCTAssertEqual(names.first, "Drift")
        XCTAssertEqual(Array(names.suffix(3)), ["Drift per enhet", "Avvikelse", "Prognos"])
        let drift = try entry("xl/worksheets/sheet\(names.count - 2).xml")
        // Row 5 (under the title, subtitle and header) is SN / INT: budget to date 5 tkr (F5), outcome
        // to date 2 tkr (G5), as numbers with style 1 (#,##0).
        XCTAssertTrue(drift.contains(#"<c r="F5" s="1"><v>5</v></c><c r="G5" s="1"><v>2</v></c>"#), String(drift.prefix(3000)))
        XCTAssertTrue(try entry("xl/styles.xml").contains(##"formatCode="#,##0""##))
        let avvikelse = try entry("xl/worksheets/sheet\(names.count - 1).xml")
        XCTAssertTrue(avvikelse.contains(#"<c r="J5" s="2"><v>-60.0</v></c>"#), "the percentage is a number too")

        // The HTML report opens offline: no scripts, no external resources, charts as inline SVG.
        let html = try String(contentsOfFile: run + "/06-report/rapport.html", encoding: .utf8)
        XCTAssertFalse(html.contains("<script"))
        XCTAssertFalse(html.replacingOccurrences(of: "xmlns=\"http://www.w3.org/2000/svg\"", with: "").contains("http"), "no external resources")
        XCTAssertEqual(html.components(separatedBy: "<svg ").count - 1, 3, "budget vs outcome per month, forecast by method, deviation by unit")
        XCTAssertTrue(
            html.contains("<tr class=\"s\"><td>Årets resultat</td><td class=\"n\">-10</td><td class=\"n\">-37</td><td class=\"n\">-27</td>"),
            "the Drift table's result line: budget to date, outcome to date, their difference")
    }

    /// Budget versions: an additional appropriation counts from the month it was decided; reports
    /// name the versions in force.
    func testBudgetVersionsCountFromTheirDecision() throws {
        let dir = try TestPaths.temporaryDirectory()
        _ = try TestPaths.write(
            "enhet;rad;belopp;periodisering;jan;feb;mar;apr;maj;jun;jul;aug;sep;okt;nov;dec\nU2;KOP;-24 000;jämn;;;;;;;;;;;;\nU1;KB;24 000;jämn;;;;;;;;;;;;\n",
            name: "tillagg.csv", in: dir)
        let p = try smallPipelineCopy(in: dir) {
            $0 + "  - path: \(dir)/tillagg.csv\n    version: tilläggsanslag\n    date: 2022-05-10\n    note: KF § 88 placeringar\n"
        }
        func kopBudget(_ asOf: String) throws -> (String, String) {
            let run = dir + "/" + asOf
            try runPipeline(p, runDir: run, asOf: asOf)
            let row = try table(run + "/04-deviation/drift.csv").first { $0["unit"] == "U2" && $0["line"] == "KOP" }!
            return (row["budget_tkr"]!, try String(contentsOfFile: run + "/04-deviation/drift.txt", encoding: .utf8).components(separatedBy: "\n")[0])
        }
        let (april, aprilTitle) = try kopBudget("2022-04")
        let (june, juneTitle) = try kopBudget("2022-06")
        XCTAssertEqual(april, "-120")
        XCTAssertEqual(june, "-144", "the appropriation of 24 000 kr is in force from May")
        XCTAssertEqual(aprilTitle, "Drift — Socialnämnden (SN); budget: original")
        XCTAssertEqual(juneTitle, "Drift — Socialnämnden (SN); budget: original; tilläggsanslag 2022-05-10 (KF § 88 placeringar)")
    }

    func testEveryManifestBalances() throws {
        let run = try TestPaths.temporaryDirectory()
        let outcome = try runPipeline(pipeline, runDir: run)
        XCTAssertEqual(outcome.results.count, 6)
        for r in outcome.results {
            XCTAssertFalse(r.manifest.balances.isEmpty, "\(r.manifest.stage) states no control-total identity")
            for b in r.manifest.balances { XCTAssertTrue(b.balanced, "\(r.manifest.stage): \(b.identity): \(b.left) ≠ \(b.right)") }
        }
    }

    func testRerunningOneStageReproducesIdenticalBytes() throws {
        let run = try TestPaths.temporaryDirectory()
        try runPipeline(pipeline, runDir: run)
        func snapshot() throws -> [String: Data] {
            var out: [String: Data] = [:]
            for f in filesBelow(run) where !f.hasSuffix("timings.json") { out[f] = try Data(contentsOf: URL(fileURLWithPath: run + "/" + f)) }
            return out
        }
        let before = try snapshot()
        for selection in [Pipeline.Selection.only(.reconcile), .from(.deviation), .only(.normalize), .all] {
            let outcome = try runPipeline(pipeline, runDir: run, selection: selection)
            XCTAssertEqual(outcome.status, .ok)
            XCTAssertEqual(try snapshot(), before, "rerunning \(selection) changed bytes")
        }
    }

    func testAStageRefusesAnInputThatChangedAfterItWasWritten() throws {
        let run = try TestPaths.temporaryDirectory()
        try runPipeline(pipeline, runDir: run)
        // Reconcile reads the ledger as normalize summed it: a hand-edited amount there is refused.
        let groups = run + "/02-normalize/ledger_groups.csv"
        var lines = try String(contentsOfFile: groups, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var fields = lines[1].split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        fields[8] = String(Int64(fields[8])! + 100_000)
        lines[1] = fields.joined(separator: ";")
        try lines.joined(separator: "\n").write(toFile: groups, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try runPipeline(pipeline, runDir: run, selection: .only(.reconcile))) { e in
            let err = e as! RamkollError
            XCTAssertEqual(err.kind, .input)
            XCTAssertTrue(err.message.hasPrefix(run + "/02-normalize/ledger_groups.csv changed after the normalize stage wrote it"), err.message)
            XCTAssertTrue(err.message.hasSuffix("rerun from normalize"), err.message)
        }
    }

    func testAStageRunAloneWithoutEarlierStagesSaysWhatToRun() throws {
        let run = try TestPaths.temporaryDirectory()
        XCTAssertThrowsError(try runPipeline(pipeline, runDir: run, selection: .only(.deviation))) { e in
            XCTAssertEqual(
                (e as! RamkollError).message,
                "\(run)/03-reconcile/manifest.json: no manifest; run the earlier stages first (ramkoll run PIPELINE --from STAGE)")
        }
    }

    func testAsOfOverrideChangesTheBusinessDate() throws {
        let run = try TestPaths.temporaryDirectory()
        let outcome = try runPipeline(pipeline, runDir: run, asOf: "2022-03")
        let rec = outcome.results.first { $0.manifest.stage == "reconcile" }!.manifest
        XCTAssertEqual(rec.asOf, "2022-03")
        XCTAssertEqual(rec.totals["rows.after_as_of"], 3)  // June, July and the May kommunbidrag
        XCTAssertThrowsError(try runPipeline(pipeline, runDir: run, asOf: "2023-01")) { e in
            XCTAssertEqual(
                (e as! RamkollError).message,
                "--as-of 2023-01 is not in the pipeline's fiscal year 2022; the fiscal year 2022 has ended: its year-end runs with --as-of 2022-12, and the months of 2023 need the next year's pipeline (a copy with fiscal_year: 2023, that year's budget and sources)"
            )
        }
    }

    func testPlacementsNeedAPseudonymKey() throws {
        let dir = try TestPaths.temporaryDirectory()
        let p = try smallPipelineCopy(in: dir) {
            $0.replacingOccurrences(
                of: "pseudonym_key:\n  file: \(TestPaths.fixture("small"))/pseudonym.key\n",
                with: "pseudonym_key:\n  env: RAMKOLL_TEST_KEY_THAT_IS_NOT_SET\n")
        }
        XCTAssertThrowsError(try runPipeline(p, runDir: dir + "/run")) { e in
            let err = e as! RamkollError
            XCTAssertEqual(err.kind, .config)
            XCTAssertEqual(
                err.message,
                "environment variable RAMKOLL_TEST_KEY_THAT_IS_NOT_SET (the pseudonym key) is not set or shorter than 16 bytes; Ramkoll will not start without it"
            )
        }
    }
}

extension StageTests {
    func testStaleStagesAreRefusedWithTheStageToRerun() throws {
        let dir = try TestPaths.temporaryDirectory()
        let p = try smallPipelineCopy(in: dir)
        let run = dir + "/run"
        try runPipeline(p, runDir: run)
        // A changed setting: what reconcile wrote no longer follows from the pipeline.
        let q = try smallPipelineCopy(in: dir, name: "other.yaml") {
            $0.replacingOccurrences(of: "deviation_threshold_kr: \"1 000\"", with: "deviation_threshold_kr: \"2 000\"")
        }
        XCTAssertThrowsError(try runPipeline(q, runDir: run, selection: .only(.deviation))) { e in
            XCTAssertEqual(
                (e as! RamkollError).message,
                "\(run)/03-reconcile was made with other settings (the pipeline file, a profile, a mapping table or the tool version changed since); rerun from reconcile"
            )
        }
        // An earlier stage's output changed after the next stage read it: normalize is stale.
        let inputs = run + "/01-ingest/inputs.csv"
        try (try String(contentsOfFile: inputs, encoding: .utf8) + "\n").write(toFile: inputs, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try runPipeline(p, runDir: run, selection: .only(.reconcile))) { e in
            XCTAssertEqual(
                (e as! RamkollError).message,
                "\(run)/02-normalize is older than \(run)/01-ingest/inputs.csv (that file changed after normalize read it); rerun from normalize")
        }
    }
}
