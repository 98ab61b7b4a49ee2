import Foundation
import XCTest
import ZIPFoundation

/// The committee documents' tables, set out by `committee_tables` alone from a pipeline of the
/// sample's kind, through `ramkoll run`: the annual report's Drift (tkr), a budget's Ekonomiska
/// ramar (tkr, last year's budget beside the year's and the plan's), the monthly report's
/// Resultatbudget and Driftbudget underliggande enheter (mnkr, one decimal) and the plan's
/// Driftsammandrag (whole mnkr). Each table's header and row labels are asserted as the documents
/// print them; its figures are golden files (`Fixtures/seed-shapes/golden`).
final class SeedShapeTests: XCTestCase {
    static let fixtures = TestPaths.fixture("seed-shapes")

    /// The year-end run: the annual report's Drift and the plan's Driftsammandrag, with the
    /// sample's units under the plan's row names.
    static let yearEnd = """
        committee_tables:
          kommunbidrag: root
          tables:
            drift:
              labels: {deviation_tkr: "Avv. bokslut/ budget {år}", diff_tkr: "Diff. bokslut {år}/{år-1}"}
              hide_lines: [EKB]
            ekonomiska_ramar:
              hide_lines: [EKB]
              columns: [budget_previous_year_ore, budget_ore, plan_2023_ore, plan_2024_ore]
            driftsammandrag:
              unit: mnkr
              decimals: 0
              labels:
                corner: "Nettokostnad, belopp mnkr"
                actual_previous_year_ore: "Utfall {år-1}*"
                budget_ore: "Budget {år}*"
                budget_next_year_ore: "Budget {år+1}"
                total: Summa nämndens internbudget
                varav_revenue: "varav intäkter**"
                varav_cost: "varav kostnader**"

        """

    /// The September run: the monthly report's two tables on a chart that counts the council's
    /// compensation among the revenues, the units grouped in three areas.
    static let september = """
        committee_tables:
          tables:
            resultatbudget:
              labels:
                corner: Intäkter och kostnader
                forecast_ore: "Årsprognos {månad}"
                budget_ore: "Budget helår {år}"
                deviation_ore: "Avvikelse Årsprognos {månad}"
                budget_next_year_ore: "Budget {år+1}"
              hide_lines: [EKB, NETTO, FIN]
            resultatbudget_enheter:
              title: Driftbudget underliggande enheter, mnkr
              labels:
                corner: Underliggande enheter
                forecast_ore: "Prognos helår Årsprognos {månad}"
                budget_ore: "Budget {år}"
                deviation_ore: "Avvikelse Årsprognos {månad}"
                budget_next_year_ore: "Budget {år+1}"

        """

    /// A table of tabeller.txt by its title line's start: the title, header and rows.
    static func block(_ text: String, _ title: String) -> String {
        let parts = text.components(separatedBy: "\n\n").filter { $0.hasPrefix(title) }
        XCTAssertEqual(parts.count, 1, "one table titled \(title)")
        return (parts.first ?? "") + "\n"
    }

    /// A table's header and row labels as the text sets them out (columns two or more spaces apart).
    static func labels(_ block: String) -> (header: [String], rows: [String]) {
        let lines = block.split(separator: "\n").dropFirst().map(String.init)
        let cells = lines.map { $0.components(separatedBy: "  ").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty } }
        return (cells.first ?? [], cells.dropFirst().map { $0.first ?? "" })
    }

    /// A worksheet's header row (row 4: title, subtitle, blank) by sheet name.
    static func sheetHeader(_ xlsx: String, _ name: String) throws -> [String] {
        let archive = try Archive(url: URL(fileURLWithPath: xlsx), accessMode: .read)
        let book = try zipPart(archive, "xl/workbook.xml")
        let names = book.components(separatedBy: "<sheet name=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        guard let i = names.firstIndex(of: name) else {
            XCTFail("no sheet \(name) in \(names)")
            return []
        }
        return WorkbookTests.cells(try zipPart(archive, "xl/worksheets/sheet\(i + 1).xml")).filter { $0.row == 4 }.map(\.value)
    }

    func testTheCommitteeDocumentsTablesAsTheyPrintThem() throws {
        let dir = try TestPaths.temporaryDirectory()
        for sub in ["year-end", "september"] { try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true) }
        let root = TestPaths.root.path
        let golden = try TestPaths.temporaryDirectory()

        // Year end: Drift (annual report) and Driftsammandrag (plan).
        let yearEnd = try SampleTablesTests.samplePipelineCopy(in: dir + "/year-end")
        var text = try String(contentsOfFile: yearEnd, encoding: .utf8)
        text = text.replacingOccurrences(of: "committee_tables:\n", with: Self.yearEnd)
            .replacingOccurrences(of: root + "/Pipelines/exempelby/units.csv", with: Self.fixtures + "/units-driftsammandrag.csv")
            .replacingOccurrences(of: "name: varav placeringar barn och unga", with: "name: varav dygnsplaceringar")
            .replacingOccurrences(of: "name: varav köpta placeringar vuxna", with: "name: varav dygnsplaceringar")
        try text.write(toFile: yearEnd, atomically: true, encoding: .utf8)
        let r1 = try runRamkoll(["run", yearEnd, "--run-dir", dir + "/run-12", "--no-warehouse"])
        XCTAssertEqual(r1.status, 0, r1.stdout + r1.stderr)
        let tables12 = try String(contentsOfFile: dir + "/run-12/06-report/tabeller.txt", encoding: .utf8)

        let drift = Self.block(tables12, "Drift — Socialnämnden\n")
        XCTAssertEqual(
            Self.labels(drift).header,
            ["Belopp i tkr", "Budget 2022", "Bokslut 2022", "Avv. bokslut/ budget 2022", "Bokslut 2021", "Diff. bokslut 2022/2021"])
        XCTAssertEqual(
            Self.labels(drift).rows,
            [
                "Verksamhetens intäkter", "Personalkostnader", "Lokalhyror", "Köp av tjänster", "Övriga kostnader", "Verksamhetens kostnader",
                "Verksamhetens nettokostnader", "Kommunbidrag", "Finansnetto", "Årets resultat",
            ])
        let sammandrag = Self.block(tables12, "Driftsammandrag\n")
        XCTAssertEqual(
            Self.labels(sammandrag).header, ["Nettokostnad, belopp mnkr", "Utfall 2021*", "Budget 2022*", "Budget 2023", "Plan 2024", "Plan 2025"])
        XCTAssertEqual(
            Self.labels(sammandrag).rows,
            [
                "Övergripande verksamhet inkl nämnd", "Individ- och familjeomsorg BoU", "varav dygnsplaceringar", "Individ- och familjeomsorg Vuxna",
                "varav dygnsplaceringar", "Socialpsykiatri", "Ekonomiskt bistånd", "varav utbetalt ekonomiskt bistånd", "Familjerätt",
                "Ofördelade kostnadsreduceringar", "Summa nämndens internbudget", "varav intäkter**", "varav kostnader**",
            ])
        XCTAssertNil(sammandrag.range(of: #"\d,\d"#, options: .regularExpression), "whole mnkr")
        // A budget document's Ekonomiska ramar: last year's budget, the year's, two plan years, by line.
        let ramar = Self.block(tables12, "Ekonomiska ramar — Socialnämnden\n")
        XCTAssertEqual(Self.labels(ramar).header, ["Belopp i tkr", "Budget 2021", "Budget 2022", "Plan 2023", "Plan 2024"])
        XCTAssertEqual(Self.labels(ramar).rows, Self.labels(drift).rows)
        try (drift + "\n" + ramar + "\n" + sammandrag).write(toFile: golden + "/arsredovisning-och-plan.txt", atomically: true, encoding: .utf8)
        // The workbook's sheets carry the same headers.
        let xlsx12 = dir + "/run-12/06-report/rapport.xlsx"
        XCTAssertEqual(try Self.sheetHeader(xlsx12, "Drift"), Self.labels(drift).header)
        XCTAssertEqual(try Self.sheetHeader(xlsx12, "Driftsammandrag"), Self.labels(sammandrag).header)

        // September: Resultatbudget and Driftbudget underliggande enheter (monthly report). The
        // plan years' kommunbidrag equals what is allocated to units, so no residual row.
        let september = try SampleTablesTests.samplePipelineCopy(in: dir + "/september")
        let (_, plan) = try SampleTablesTests.budgetFile()
        var budget = try String(contentsOfFile: root + "/SampleInputs/budget/internbudget-2022.csv", encoding: .utf8)
        let kbRow = budget.split(separator: "\n").first { $0.hasPrefix("NG-LED;KB;") }.map(String.init)!
        let frames = plan.keys.sorted().map { y in String(-plan[y]!.filter { !$0.key.hasSuffix("/KB") }.values.reduce(0, +) / 100) }
        budget = budget.replacingOccurrences(
            of: kbRow,
            with: ({
                let f = kbRow.split(separator: ";", omittingEmptySubsequences: false).map(String.init);
                return f.prefix(16) + frames + f.suffix(from: 16 + frames.count)
            }() as [String]).joined(separator: ";"))
        try budget.write(toFile: dir + "/september/budget.csv", atomically: true, encoding: .utf8)
        text = try String(contentsOfFile: september, encoding: .utf8)
        text = text.replacingOccurrences(of: "committee_tables:\n", with: Self.september)
            .replacingOccurrences(of: root + "/Pipelines/exempelby/units.csv", with: Self.fixtures + "/units-resultatbudget.csv")
            .replacingOccurrences(of: root + "/Pipelines/exempelby/report-lines.csv", with: Self.fixtures + "/report-lines-resultatbudget.csv")
            .replacingOccurrences(of: root + "/SampleInputs/budget/internbudget-2022.csv", with: dir + "/september/budget.csv")
            .replacingOccurrences(
                of: "    planned_days: {\"2023\": \"10 100\"}\n", with: "    planned_days: {\"2023\": \"10 100\"}\n    to_date_row: false\n")
        try text.write(toFile: september, atomically: true, encoding: .utf8)
        let r2 = try runRamkoll(["run", september, "--as-of", "2022-09", "--run-dir", dir + "/run-09", "--no-warehouse"])
        XCTAssertEqual(r2.status, 0, r2.stdout + r2.stderr)
        let tables09 = try String(contentsOfFile: dir + "/run-09/06-report/tabeller.txt", encoding: .utf8)
        let rb = Self.block(tables09, "Resultatbudget — Socialförvaltningen")
        XCTAssertEqual(
            Self.labels(rb).header, ["Intäkter och kostnader", "Årsprognos sept", "Budget helår 2022", "Avvikelse Årsprognos sept", "Budget 2023"])
        XCTAssertEqual(
            Self.labels(rb).rows,
            [
                "Kommunersättning/skolpeng", "Övriga intäkter", "Summa INTÄKTER", "Personalkostnader", "Lokalkostnader", "Köp av verksamhet",
                "Övriga kostnader", "Summa KOSTNADER", "Summa ÅRETS RESULTAT exkl över-/underskott", "Summa RR verksamhetsrapportering",
            ])
        let enheter = Self.block(tables09, "Driftbudget underliggande enheter, mnkr\n")
        XCTAssertEqual(
            Self.labels(enheter).header,
            ["Underliggande enheter", "Prognos helår Årsprognos sept", "Budget 2022", "Avvikelse Årsprognos sept", "Budget 2023"])
        XCTAssertEqual(
            Self.labels(enheter).rows, ["SF Ledning och Stöd", "SF Område Myndighet", "SF Område Resurs", "Summa Socialförvaltningen"])
        XCTAssertNotNil(rb.range(of: #"Personalkostnader +-\d+,\d "#, options: .regularExpression), "mnkr with one decimal: \(rb)")
        // A budget document's Tabell 2: last year, this year's forecast and next year's budget —
        // care days, budget and net cost in every row but the budget's cost.
        let volumes = try String(contentsOfFile: dir + "/run-09/03-reconcile/volumes.txt", encoding: .utf8)
        let tabell2 = Self.block(volumes, "Placeringar barn och unga (institution, SiS, familje- och jourhem)\n")
        XCTAssertEqual(Self.labels(tabell2).header, ["Period", "Antal dygn", "Budget (tkr)", "Nettokostnad (tkr)"])
        XCTAssertEqual(Self.labels(tabell2).rows, ["2021", "2022 prognos", "Budget 2023"])
        let cells = tabell2.split(separator: "\n").dropFirst(2).map { $0.split(separator: " ", omittingEmptySubsequences: true).count }
        XCTAssertTrue(cells[0] >= 4 && cells[1] >= 5 && cells[2] >= 4, "every figure but the budget row's cost: \(tabell2)")
        try (rb + "\n" + enheter + "\n" + tabell2).write(toFile: golden + "/manadsrapport.txt", atomically: true, encoding: .utf8)
        let xlsx09 = dir + "/run-09/06-report/rapport.xlsx"
        XCTAssertEqual(try Self.sheetHeader(xlsx09, "Resultatbudget"), Self.labels(rb).header)
        XCTAssertEqual(try Self.sheetHeader(xlsx09, "Resultatbudget enheter"), Self.labels(enheter).header)

        try assertMatchesGolden(golden, Self.fixtures + "/golden")
    }
}
