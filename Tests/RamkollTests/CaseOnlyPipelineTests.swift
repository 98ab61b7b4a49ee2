import Foundation
import XCTest
import ZIPFoundation

/// Sections a pipeline does not use (issue 20): a pipeline of case extracts alone needs no report
/// lines and no account tables, and makes no tables by report line (they would be tables of zeros);
/// a pipeline with a ledger still needs both.
final class CaseOnlyPipelineTests: XCTestCase {
    /// "A pipeline without a ledger still needs sources: [] and all four mapping tables; an
    /// IVO-only pipeline writes tables of zeros."
    func testCaseExtractsAloneNeedNoReportLinesAndMakeNoTablesOfZeros() throws {
        let run = try TestPaths.temporaryDirectory() + "/run"
        let pipeline = TestPaths.fixture("ivo/pipeline.yaml")
        let checked = try runRamkoll(["check", pipeline])
        XCTAssertEqual(checked.status, 0, checked.stdout)
        XCTAssertEqual(checked.stdout, "ok: ivo: 1 sources, 0 budget files, 0 report lines, 4 units, 0 account rules, 2 ansvar rules\n")
        let o = try runRamkoll(["run", pipeline, "--run-dir", run, "--no-warehouse"])
        XCTAssertEqual(o.status, 0, o.stderr)
        XCTAssertTrue(o.stdout.contains("deviation: the pipeline reads no ledger and no budget: no deviations, no Drift tables"), o.stdout)
        let fm = FileManager.default
        for absent in [
            "03-reconcile/assistance_table.txt", "03-reconcile/assistance_table.csv", "03-reconcile/volumes.txt", "04-deviation/drift.txt",
            "05-prognosis/prognos.txt", "06-report/drift_kalkyl.csv", "06-report/resultatbudget_kalkyl.csv",
        ] {
            XCTAssertFalse(fm.fileExists(atPath: run + "/" + absent), "\(absent) is written by a pipeline of decisions alone")
        }
        XCTAssertTrue(fm.fileExists(atPath: run + "/03-reconcile/ivo_report.txt"))
        let tables = try String(contentsOfFile: run + "/06-report/tabeller.txt", encoding: .utf8)
        XCTAssertTrue(tables.hasPrefix("1. Gynnande beslut som ej verkställts inom tre månader från dagen för beslut\n"), tables)
        let workbook = try zipPart(try Archive(url: URL(fileURLWithPath: run + "/06-report/rapport.xlsx"), accessMode: .read), "xl/workbook.xml")
        let sheets = try NSRegularExpression(pattern: #"<sheet name="([^"]*)""#).matches(
            in: workbook, range: NSRange(workbook.startIndex..., in: workbook)
        )
        .map { (workbook as NSString).substring(with: $0.range(at: 1)) }
        XCTAssertEqual(sheets, ["Ej verkställda beslut"])
        let html = try String(contentsOfFile: run + "/06-report/rapport.html", encoding: .utf8)
        XCTAssertFalse(html.contains("Nettokostnad per månad"), "the HTML shows no charts of money")
        XCTAssertTrue(html.contains("1. Gynnande beslut som ej verkställts inom tre månader från dagen för beslut"))

        // The sections the pipeline does not use are not asked for; the ones it does, are.
        let dir = try TestPaths.temporaryDirectory()
        let ledger = """
            name: noreportlines
            fiscal_year: 2022
            mappings:
              units: \(TestPaths.fixture("small/units.csv"))
              ansvar: \(TestPaths.fixture("small/ansvar.csv"))
            sources:
              - id: dk
                path: \(TestPaths.fixture("mixed/ledger-2022-dk.csv"))
                profile: \(TestPaths.fixture("mixed/debet-kredit.yaml"))

            """
        try ledger.write(toFile: dir + "/ledger.yaml", atomically: true, encoding: .utf8)
        let refused = try runRamkoll(["check", dir + "/ledger.yaml"])
        XCTAssertEqual(refused.status, 78)
        XCTAssertTrue(
            refused.stdout.contains(
                "error: mappings: \"report_lines\" is missing; a pipeline with a ledger or a budget reports it by report line"), refused.stdout)
        XCTAssertTrue(
            refused.stdout.contains("error: mappings: \"accounts\" is missing; a pipeline with a ledger or a budget reports it by report line"),
            refused.stdout)
        // A budget alone needs no `sources: []`.
        let root = TestPaths.root.path
        try """
        name: budgetonly
        fiscal_year: 2022
        as_of: 2022-06
        settings:
          budget_reject_limit_percent: "50"
        mappings:
          report_lines: \(root)/Pipelines/kommunbas/report-lines.csv
          accounts: \(root)/Pipelines/kommunbas/accounts.csv
          units: \(TestPaths.fixture("small/units.csv"))
          ansvar: \(TestPaths.fixture("small/ansvar.csv"))
        budget:
          - path: \(TestPaths.fixture("small/budget.csv"))

        """.write(toFile: dir + "/budget.yaml", atomically: true, encoding: .utf8)
        let budgetOnly = try runRamkoll(["check", dir + "/budget.yaml"])
        XCTAssertEqual(budgetOnly.status, 0, budgetOnly.stdout)
        XCTAssertTrue(budgetOnly.stdout.contains("ok: budgetonly: 0 sources, 1 budget files, 10 report lines"), budgetOnly.stdout)
        try
            "name: nothing\nfiscal_year: 2022\nmappings:\n  units: \(TestPaths.fixture("small/units.csv"))\n  ansvar: \(TestPaths.fixture("small/ansvar.csv"))\n"
            .write(toFile: dir + "/nothing.yaml", atomically: true, encoding: .utf8)
        let nothing = try runRamkoll(["check", dir + "/nothing.yaml"])
        XCTAssertEqual(nothing.status, 78)
        XCTAssertTrue(nothing.stdout.contains("error: pipeline: no \"sources\" and no \"budget\": give the exports to read"), nothing.stdout)
    }
}
