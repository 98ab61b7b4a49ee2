import Foundation
import XCTest
import ZIPFoundation

/// `committee_tables: tables:` — how each committee table is set out, through `ramkoll run` on the
/// sample: labels with the month's Swedish name and the years, a line hidden from Resultatbudget,
/// Driftsammandrag in whole mnkr, a title of the pipeline's own.
final class TableShapeTests: XCTestCase {
    static let shapes = """
          tables:
            resultatbudget:
              title: Resultatbudget per rad
              labels: {forecast_ore: "Årsprognos {månad}", budget_ore: "Budget {år}", deviation_ore: "Avv. prognos/budget", budget_next_year_ore: "Budget {år+1}"}
              hide_lines: [NETTO]
            driftsammandrag:
              unit: mnkr
              decimals: 0
              labels: {corner: "Nettokostnad, mnkr", actual_previous_year_ore: "Bokslut {år-1}"}
            budget_verksamhet:
              unit: tkr

        """

    func testEachCommitteeTableIsSetOutAsThePipelineSays() throws {
        let dir = try TestPaths.temporaryDirectory()
        let path = try SampleTablesTests.samplePipelineCopy(in: dir)
        let text = try String(contentsOfFile: path, encoding: .utf8).replacingOccurrences(
            of: "committee_tables:\n", with: "committee_tables:\n" + Self.shapes)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try runRamkoll(["run", path, "--as-of", "2022-09", "--run-dir", dir + "/run", "--no-warehouse"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let tables = try String(contentsOfFile: dir + "/run/06-report/tabeller.txt", encoding: .utf8)
        // Resultatbudget: the labels, no "Verksamhetens nettokostnader" row, one decimal of mnkr.
        let rb = tables.components(separatedBy: "Resultatbudget per rad — Socialnämnden")[1].components(separatedBy: "\n\n")[0]
        XCTAssertTrue(
            rb.contains("Intäkter och kostnader, mnkr  Årsprognos sept  Budget 2022  Avv. prognos/budget  Budget 2023"), rb)
        XCTAssertFalse(rb.contains("Verksamhetens nettokostnader"), rb)
        XCTAssertTrue(rb.contains("Verksamhetens kostnader"), rb)
        XCTAssertNotNil(rb.range(of: #"Personalkostnader +-\d+,\d "#, options: .regularExpression), rb)
        // Driftsammandrag in whole mnkr, its corner and the previous year's label as set.
        let ds = tables.components(separatedBy: "Driftsammandrag\n")[1].components(separatedBy: "\n\n")[0]
        XCTAssertTrue(ds.hasPrefix("Nettokostnad, mnkr"), ds)
        XCTAssertTrue(ds.contains("Bokslut 2021"), ds)
        XCTAssertNil(ds.range(of: #"\d,\d"#, options: .regularExpression), "whole mnkr: \(ds)")
        XCTAssertNotNil(ds.range(of: #"Summa Socialnämnden +\d+ +\d+"#, options: .regularExpression), ds)
        // The machine table keeps every line, exact.
        let json = try String(contentsOfFile: dir + "/run/06-report/tables.json", encoding: .utf8)
        XCTAssertTrue(json.contains("\"NETTO\",\n          \"Verksamhetens nettokostnader\""), "tables.json keeps the hidden line")
        // The workbook sets them out the same way: whole mnkr are whole numbers, the hidden line is gone.
        let archive = try Archive(url: URL(fileURLWithPath: dir + "/run/06-report/rapport.xlsx"), accessMode: .read)
        func sheet(_ i: Int) throws -> [WorkbookTests.Cell] { WorkbookTests.cells(try zipPart(archive, "xl/worksheets/sheet\(i).xml")) }
        let rbSheet = try sheet(2), dsSheet = try sheet(5)
        XCTAssertTrue(rbSheet.contains { $0.row == 1 && $0.value == "Resultatbudget per rad — Socialnämnden" })
        XCTAssertEqual(
            rbSheet.filter { $0.row == 4 }.map(\.value),
            ["Intäkter och kostnader, mnkr", "Årsprognos sept", "Budget 2022", "Avv. prognos/budget", "Budget 2023"])
        XCTAssertFalse(rbSheet.contains { $0.value == "Verksamhetens nettokostnader" })
        XCTAssertEqual(dsSheet.filter { $0.row == 4 }.first?.value, "Nettokostnad, mnkr")
        let summa = dsSheet.first { $0.value == "Summa Socialnämnden" }!.row
        XCTAssertTrue(dsSheet.filter { $0.row == summa && $0.column != "A" }.allSatisfy { Int($0.value) != nil && $0.style == 5 }, "whole mnkr, bold")
        // A line that is not a report line is a configuration error naming it (as varav rows are).
        try text.replacingOccurrences(of: "hide_lines: [NETTO]", with: "hide_lines: [NETO]").write(toFile: path, atomically: true, encoding: .utf8)
        let bad = try runRamkoll(["run", path, "--as-of", "2022-09", "--run-dir", dir + "/run2", "--no-warehouse"])
        XCTAssertEqual(bad.status, 78, bad.stdout + bad.stderr)
        // A label for a column the table does not have, and hide_lines on a table of units: said by check.
        try text.replacingOccurrences(of: "budget_next_year_ore:", with: "budget_nextyear_ore:").replacingOccurrences(
            of: "budget_verksamhet:\n      unit: tkr", with: "budget_verksamhet:\n      hide_lines: [KOP]"
        ).write(toFile: path, atomically: true, encoding: .utf8)
        let check = try runRamkoll(["check", path])
        XCTAssertEqual(check.status, 78, check.stdout + check.stderr)
        XCTAssertTrue(check.stdout.contains("committee_tables table resultatbudget labels: \"budget_nextyear_ore\" is not a column"), check.stdout)
        XCTAssertTrue(check.stdout.contains("committee_tables table budget_verksamhet: hide_lines applies to drift and resultatbudget"), check.stdout)
        try text.replacingOccurrences(of: "unit: tkr", with: "unit: mkr").replacingOccurrences(of: "decimals: 0", with: "decimals: 3").write(
            toFile: path, atomically: true, encoding: .utf8)
        let check2 = try runRamkoll(["check", path])
        XCTAssertEqual(check2.status, 78, check2.stdout + check2.stderr)
        XCTAssertTrue(check2.stdout.contains("committee_tables table budget_verksamhet: unit \"mkr\" is not known; use tkr or mnkr"), check2.stdout)
        XCTAssertTrue(check2.stdout.contains("committee_tables table driftsammandrag: decimals must be 0, 1 or 2 (mnkr)"), check2.stdout)
        XCTAssertTrue(
            (bad.stdout + bad.stderr).contains("hide_lines names \"NETO\", which is not a report line of the pipeline"), bad.stdout + bad.stderr)
    }

    /// `committee_tables.kommunbidrag`: on the committee alone (a unit's Drift ends at its net
    /// cost), or allocated to units as a frame equal to each one's budgeted net cost; `columns:`
    /// picks a table's columns and their order.
    func testKommunbidragOnTheCommitteeOrAllocatedToUnitsAndTheColumnsATableShows() throws {
        let dir = try TestPaths.temporaryDirectory()
        let path = try SampleTablesTests.samplePipelineCopy(in: dir)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        func drift(_ run: String, _ unit: String) throws -> String {
            let t = try String(contentsOfFile: dir + "/\(run)/04-deviation/drift.txt", encoding: .utf8)
            return t.components(separatedBy: "\n\n").first { $0.hasPrefix("Drift — ") && $0.contains("(\(unit));") }!
        }
        // The default: the kommunbidrag booked on Förvaltningsledning (NG-LED) is the committee's.
        let r = try runRamkoll(["run", path, "--run-dir", dir + "/root", "--no-warehouse"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        for unit in ["NG", "NG-LED", "BU"] {
            let block = try drift("root", unit)
            XCTAssertTrue(block.hasPrefix("Drift — ") && block.split(separator: "\n").last!.hasPrefix("= Verksamhetens nettokostnader "), block)
            if unit == "NG" {
                XCTAssertTrue(block.hasSuffix("= Verksamhetens nettokostnader      -17 830       -17 721        109       -16 873  -848"), block)
            }
            XCTAssertFalse(block.contains("Kommunbidrag") || block.contains("Årets resultat"), block)
        }
        XCTAssertTrue(try drift("root", "SN").contains("Kommunbidrag                        198 650       198 650          0       190 704    7 946"))

        // Units: each unit's frame is its budgeted net cost, so its result is its deviation.
        try text.replacingOccurrences(
            of: "committee_tables:\n",
            with: "committee_tables:\n  kommunbidrag: units\n  tables:\n    driftsammandrag:\n      columns: [plan_2023_ore, budget_ore]\n"
        ).write(toFile: path, atomically: true, encoding: .utf8)
        let u = try runRamkoll(["run", path, "--run-dir", dir + "/units", "--no-warehouse"])
        XCTAssertEqual(u.status, 0, u.stdout + u.stderr)
        let ng = try drift("units", "NG")
        XCTAssertTrue(ng.contains("\nKommunbidrag                         17 830        17 830          0\n"), ng)
        XCTAssertTrue(ng.hasSuffix("\n= Årets resultat                          0           109        109"), ng)
        XCTAssertEqual(try drift("units", "SN"), try drift("root", "SN"), "the committee's own table is the same")
        let csv = try String(contentsOfFile: dir + "/units/04-deviation/drift.csv", encoding: .utf8)
        XCTAssertTrue(csv.contains("\nNG;Nämnd och förvaltningsledning;1;KB;Kommunbidrag;17830;17830;0;;\n"), csv)
        // The driftsammandrag shows the columns asked for, in that order; tables.json keeps all.
        let tables = try String(contentsOfFile: dir + "/units/06-report/tabeller.txt", encoding: .utf8)
        XCTAssertTrue(tables.contains("Driftsammandrag\nNettokostnad, mnkr                   Plan 2023  Budget 2022\n"), tables)

        // A placement that is not known, and a kommunbidrag line inside the net cost.
        try text.replacingOccurrences(of: "committee_tables:\n", with: "committee_tables:\n  kommunbidrag: both\n").write(
            toFile: path, atomically: true, encoding: .utf8)
        let check = try runRamkoll(["check", path])
        XCTAssertEqual(check.status, 78, check.stdout + check.stderr)
        XCTAssertTrue(
            check.stdout.contains(
                "committee_tables: kommunbidrag \"both\" is not known; use root (shown on the committee only) or units (a frame per unit)"),
            check.stdout)
        try text.replacingOccurrences(of: "committee_tables:\n", with: "committee_tables:\n  kommunbidrag: units\n  kommunbidrag_line: KOP\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        let bad = try runRamkoll(["run", path, "--run-dir", dir + "/bad", "--no-warehouse"])
        XCTAssertEqual(bad.status, 78, bad.stdout + bad.stderr)
        XCTAssertTrue(
            bad.stderr.contains(
                "committee_tables: kommunbidrag_line \"KOP\" must be a report line that is not a sum and lies outside the net cost NETTO (kommunbidrag: units allocates it to the units)"
            ), bad.stderr)
    }
}
