import Foundation
import XCTest
import ZIPFoundation

/// Investments through `ramkoll run` on the sample: the investment budget and the investment
/// accounts of the ledger, set out as the committee documents print their investment tables
/// (golden files in `Fixtures/investments`), every amount on the investment accounts mapped,
/// excluded or listed.
final class InvestmentTests: XCTestCase {
    /// The shapes of an annual report's Investeringar (sub-rows as "- inventarier", the deviation
    /// and change labelled as the report does), a budget's Investeringsbudget (the first plan year
    /// called a budget, rows without figures left out), a plan's Investeringar netto in mnkr with
    /// two decimals and the decided projects with one amount each.
    static let shapes = """
        committee_tables:
          tables:
            investeringar:
              labels:
                deviation_ore: "Avv. bokslut/budget {år}"
                diff_ore: "Diff. bokslut {år}/{år-1}"
                INV: "- inventarier"
                IT: "- IT-utrustning"
                TRP: "- transportmedel"
                MAS: "- maskiner"
                LOKA: "- lokalanpassning"
            investeringsbudget:
              labels: {budget_next_year_ore: "Budget {år+1}"}
              hide_lines: [TRP, MAS]
            investeringar_netto:
              unit: mnkr
              decimals: 2
              labels: {corner: "Investeringar netto, belopp mnr", total: Summa investeringar}
            investeringsprojekt:
              columns: [plan_2023_ore]
              labels: {corner: KS/KF-investeringar projekt, plan_2023_ore: Belopp}

        """

    static func pipeline(in dir: String, edit: (String) -> String = { $0 }) throws -> String {
        let path = try SampleTablesTests.samplePipelineCopy(in: dir)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        try edit(text.replacingOccurrences(of: "committee_tables:\n", with: Self.shapes)).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A table of tabeller.txt by its title line.
    static func block(_ text: String, _ title: String) -> String {
        (text.components(separatedBy: "\n\n").first { $0.hasPrefix(title + "\n") } ?? "(no table \(title))") + "\n"
    }

    func testTheInvestmentTablesAsTheCommitteeDocumentsPrintThem() throws {
        let dir = try TestPaths.temporaryDirectory()
        let path = try Self.pipeline(in: dir)
        let golden = try TestPaths.temporaryDirectory()
        for asOf in ["2022-12", "2022-08"] {
            let r = try runRamkoll(["run", path, "--as-of", asOf, "--run-dir", dir + "/" + asOf, "--no-warehouse"])
            XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
            let text = try String(contentsOfFile: dir + "/\(asOf)/06-report/tabeller.txt", encoding: .utf8)
            let tables = ["Investeringar", "Investeringsbudget", "Investeringar netto", "Investeringsprojekt", "Genomförandegrad investeringar"]
            try tables.map { Self.block(text, $0) }.joined(separator: "\n").write(
                toFile: golden + "/investeringar-\(asOf).txt", atomically: true, encoding: .utf8)
        }
        let text = try String(contentsOfFile: dir + "/2022-12/06-report/tabeller.txt", encoding: .utf8)

        // The annual report's Investeringar, cell by cell. The report prints five differences
        // without their sign (an overspend as 156, IT's fall from 227 to 57 as 170); Ramkoll keeps
        // one convention — budget − outcome and this year − last year — so those five are negative.
        let published: [[String]] = [
            ["Belopp i tkr", "Budget 2022", "Bokslut 2022", "Avv. bokslut/budget 2022", "Bokslut 2021", "Diff. bokslut 2022/2021"],
            ["Expansionsinvestering", "0", "0", "0", "0", "0"],
            ["Imageinvestering", "0", "0", "0", "0", "0"],
            ["Reinvestering", "400", "555", "155", "431", "124"],
            ["- inventarier", "250", "406", "156", "186", "220"],
            ["- IT-utrustning", "150", "57", "93", "227", "170"],
            ["- transportmedel", "0", "73", "73", "18", "55"],
            ["- maskiner", "0", "19", "19", "0", "19"],
            ["Anpassningsinvestering", "200", "0", "200", "0", "0"],
            ["- lokalanpassning", "200", "0", "200", "0", "0"],
            ["Totala utgifter", "600", "555", "45", "431", "124"],
        ]
        let unsigned: Set<[Int]> = [[3, 3], [4, 3], [5, 5], [6, 3], [7, 3]]
        let shown = Self.block(text, "Investeringar").split(separator: "\n").dropFirst().map {
            $0.components(separatedBy: "  ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        XCTAssertEqual(shown.count, published.count)
        for (i, (row, seed)) in zip(shown, published).enumerated() {
            for (j, (cell, expected)) in zip(row, seed).enumerated() {
                XCTAssertEqual(cell, unsigned.contains([i, j]) ? "-" + expected : expected, "row \(i) column \(j)")
            }
        }
        // The budget's Investeringsbudget: its rows and columns as published (Budget 2022, Budget
        // 2023, Plan 2024–2027; reinvestering 400/600, anpassning 200/0, 600 every year).
        XCTAssertEqual(
            Self.block(text, "Investeringsbudget"),
            """
            Investeringsbudget
            Belopp i tkr            Budget 2022  Budget 2023  Plan 2024  Plan 2025  Plan 2026  Plan 2027
            Expansionsinvestering             0            0          0          0          0          0
            Imageinvestering                  0            0          0          0          0          0
            Reinvestering                   400          600        600        600        600        600
            Inventarier                     250          400        400        400        400        400
            IT-utrustning                   150          200        200        200        200        200
            Anpassningsinvestering          200            0          0          0          0          0
            Lokalanpassning                 200            0          0          0          0          0
            Totala utgifter                 600          600        600        600        600        600

            """)
        XCTAssertNotNil(
            Self.block(text, "Investeringar netto").range(
                of: #"\nSumma investeringar +0,60 +0,60 +0,60 +0,60 +0,60 +0,60\n"#, options: .regularExpression))

        // The workbook: the mnkr with two decimals are numbers with that format.
        let archive = try Archive(url: URL(fileURLWithPath: dir + "/2022-12/06-report/rapport.xlsx"), accessMode: .read)
        let names = try zipPart(archive, "xl/workbook.xml").components(separatedBy: "<sheet name=\"").dropFirst().map {
            String($0.prefix { $0 != "\"" })
        }
        let netto = WorkbookTests.cells(try zipPart(archive, "xl/worksheets/sheet\(names.firstIndex(of: "Investeringar netto")! + 1).xml"))
        let sum = netto.first { $0.value == "Summa investeringar" }!.row
        XCTAssertEqual(netto.filter { $0.row == sum && $0.column != "A" }.map(\.value), ["0.60", "0.60", "0.60", "0.60", "0.60", "0.60"])
        XCTAssertTrue(netto.filter { $0.row == sum && $0.column != "A" }.allSatisfy { $0.style == 16 }, "bold, #,##0.00")
        XCTAssertTrue(try zipPart(archive, "xl/styles.xml").contains(##"<numFmt numFmtId="167" formatCode="#,##0.00"/>"##))

        // Every amount on the investment accounts is accounted for.
        let manifest = try String(contentsOfFile: dir + "/2022-12/03-reconcile/manifest.json", encoding: .utf8)
        XCTAssertTrue(manifest.contains("\"investments.amount_ore.unmapped\" : 0"), manifest)
        XCTAssertTrue(manifest.contains("\"investments.rows.excluded\" : 2"), "the two years' depreciation postings")
        try assertMatchesGolden(golden, TestPaths.fixture("investments"))
    }

    /// An investment account without a row: its postings are listed, not lost, and the run says so.
    func testAnInvestmentAccountWithoutARowIsListed() throws {
        let dir = try TestPaths.temporaryDirectory()
        let root = TestPaths.root.path
        let accounts = try String(contentsOfFile: root + "/Pipelines/exempelby/investment-accounts.csv", encoding: .utf8)
        try accounts.replacingOccurrences(of: "12240;12240;MAS\n", with: "").write(
            toFile: dir + "/investment-accounts.csv", atomically: true, encoding: .utf8)
        let path = try Self.pipeline(in: dir) {
            $0.replacingOccurrences(of: root + "/Pipelines/exempelby/investment-accounts.csv", with: dir + "/investment-accounts.csv")
        }
        let r = try runRamkoll(["run", path, "--run-dir", dir + "/run", "--no-warehouse"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(
            (r.stdout + r.stderr).contains(
                "reconcile: 4 postings on investment accounts (19 000,00 kr) have no investment row — see 03-reconcile/exceptions.csv (unmapped-investment-account)"
            ), r.stdout + r.stderr)
        let exceptions = try String(contentsOfFile: dir + "/run/03-reconcile/exceptions.csv", encoding: .utf8)
        XCTAssertTrue(exceptions.contains("unmapped-investment-account;2022;12240;60020;"), exceptions)
        let manifest = try String(contentsOfFile: dir + "/run/03-reconcile/manifest.json", encoding: .utf8)
        XCTAssertTrue(manifest.contains("\"investments.amount_ore.unmapped\" : 1900000"), manifest)
        XCTAssertFalse(manifest.contains("\"balanced\" : false"))
        // A category with sub-rows cannot take postings itself: check says which rule.
        try accounts.replacingOccurrences(of: "12240;12240;MAS", with: "12240;12240;REINV").write(
            toFile: dir + "/investment-accounts.csv", atomically: true, encoding: .utf8)
        let check = try runRamkoll(["check", path])
        XCTAssertEqual(check.status, 78, check.stdout + check.stderr)
        XCTAssertTrue(check.stdout.contains("investment account rule 12240–12240 names line \"REINV\", which is not defined"), check.stdout)
    }

    /// A controller's forecast of an investment row, from the manual forecast file (enhet
    /// "investering"), replaces the computed one before the close and is named under the table.
    func testAManualInvestmentForecast() throws {
        let dir = try TestPaths.temporaryDirectory()
        let manual = try TestPaths.write(
            "enhet;rad;prognos;kommentar;författare\ninvestering;IT;120 000;Datorbytet skjuts till 2023;Anna Controller\n", name: "manual.csv",
            in: dir)
        let path = try Self.pipeline(in: dir) { "manual_forecasts: \(manual)\n" + $0 }
        let r = try runRamkoll(["run", path, "--as-of", "2022-08", "--run-dir", dir + "/run", "--no-warehouse"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let csv = try String(contentsOfFile: dir + "/run/03-reconcile/investments.csv", encoding: .utf8)
        XCTAssertTrue(csv.contains(";12000000;22678000;13606800;manual;Datorbytet skjuts till 2023;Anna Controller\n"), csv)
        XCTAssertTrue(csv.contains("\nINV;Inventarier;REINV;utgift;25000000;40620000;40620000;"), "the others computed: \(csv)")
        let text = try String(contentsOfFile: dir + "/run/06-report/tabeller.txt", encoding: .utf8)
        XCTAssertTrue(text.contains("\n* IT-utrustning: manuell prognos 120 tkr — Datorbytet skjuts till 2023 (Anna Controller)\n"), text)
        // A category with sub-rows cannot be given a figure: its forecast is their sum.
        try "enhet;rad;prognos;kommentar;författare\ninvestering;REINV;500 000;Allt;Anna Controller\n".write(
            toFile: manual, atomically: true, encoding: .utf8)
        let bad = try runRamkoll(["run", path, "--as-of", "2022-08", "--run-dir", dir + "/bad", "--no-warehouse"])
        XCTAssertEqual(bad.status, 65, bad.stdout + bad.stderr)
        XCTAssertTrue(
            bad.stderr.contains(
                "manual.csv:2: investment row \"REINV\" is not an investment row without sub-rows (a category's forecast is the sum of its sub-rows)"),
            bad.stderr)
        // The file's other mistakes, for investment rows and report lines alike (one reader).
        let header = "enhet;rad;prognos;kommentar;författare\n"
        for (rows, message) in [
            ("investering;IT;120 000;Byte;\n", "manual.csv:2: a manual forecast needs its author (författare)"),
            (
                "investering;IT;etthundra;Byte;Anna\n",
                "manual.csv:2: prognos \"etthundra\" is not an amount in kronor (investments: expenditure positive), e.g. 450 000"
            ),
            ("investering;IT;1;A;Anna\ninvestering;IT;2;B;Anna\n", "manual.csv:3: investment row IT is given twice"),
            (
                "EB-UTB;EKB;tusen;Fel;Anna\n",
                "manual.csv:2: prognos \"tusen\" is not an amount in kronor (report sign: costs negative), e.g. -12 500 000"
            ),
            ("EB-UTB;EKB;-1 000;A;Anna\nEB-UTB;EKB;-2 000;B;Anna\n", "manual.csv:3: unit EB-UTB, line EKB is given twice"),
        ] {
            try (header + rows).write(toFile: manual, atomically: true, encoding: .utf8)
            let r = try runRamkoll(["run", path, "--as-of", "2022-08", "--run-dir", dir + "/bad", "--no-warehouse"])
            XCTAssertEqual(r.status, 65, r.stdout + r.stderr)
            XCTAssertTrue(r.stderr.contains(message), message + "\n" + r.stderr)
        }
    }
}
