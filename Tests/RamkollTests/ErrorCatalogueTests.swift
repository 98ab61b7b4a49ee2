import Foundation
import XCTest

@testable import RamkollModel
@testable import RamkollPipeline

/// The error catalogue (Fixtures/errors): one folder per user-facing ingestion error or real-world
/// file deviation, with its input, the profile that reads it and the exact outcome in expected.txt
/// — the rows rejected with their reasons, the warnings, or the message that stops the run.
/// RAMKOLL_RECORD=1 rewrites the expected files (and fails, so a re-record is never silent).
final class ErrorCatalogueTests: XCTestCase {
    static let catalogue = TestPaths.fixture("errors")

    /// Runs one case through a one-source pipeline and describes what came out.
    func outcome(of caseDir: String) throws -> String {
        let dir = try TestPaths.temporaryDirectory("catalogue")
        let input = try FileManager.default.contentsOfDirectory(atPath: caseDir).first { $0.hasPrefix("input.") }!
        try FileManager.default.copyItem(atPath: caseDir + "/" + input, toPath: dir + "/" + input)
        try FileManager.default.copyItem(atPath: caseDir + "/profile.yaml", toPath: dir + "/profile.yaml")
        let root = TestPaths.root.path, small = TestPaths.fixture("small")
        // A case with an investment budget reads it beside the source, with the sample's investment rows.
        let investmentBudget = FileManager.default.fileExists(atPath: caseDir + "/investment-budget.csv")
        if investmentBudget { try FileManager.default.copyItem(atPath: caseDir + "/investment-budget.csv", toPath: dir + "/investment-budget.csv") }
        let investments =
            investmentBudget
            ? """
            investments:
              lines: \(root)/Pipelines/exempelby/investment-lines.csv
              accounts: \(root)/Pipelines/exempelby/investment-accounts.csv
              scope: ["11", "12"]
              budget: investment-budget.csv

            """ : ""
        let pipeline = """
            name: catalogue
            fiscal_year: 2022
            as_of: 2022-01
            mappings:
              report_lines: \(root)/Pipelines/kommunbas/report-lines.csv
              accounts: \(root)/Pipelines/kommunbas/accounts.csv
              units: \(small)/units.csv
              ansvar: \(small)/ansvar.csv
            sources:
              - id: input
                path: \(input)
                profile: profile.yaml
            \(investments)
            """
        let p = try TestPaths.write(pipeline, name: "pipeline.yaml", in: dir)
        let run = dir + "/run"
        var lines: [String] = []
        do {
            let o = try runPipeline(p, runDir: run, selection: .only(.ingest))
            _ = o
            let n = try runPipeline(p, runDir: run, selection: .only(.normalize))
            let m = n.results[0].manifest
            func t(_ k: String) -> Int64 { m.totals["source.input.\(k)"] ?? 0 }
            lines.append(
                "read \(t("rows_read")), normalized \(t("rows_normalized")) (\(Ore(t("amount_normalized_ore")).swedish) kr), rejected \(t("rows_rejected")), skipped \(t("rows_skipped"))"
            )
            if investmentBudget {
                func i(_ k: String) -> Int64 { m.totals["investment_budget.\(k)"] ?? 0 }
                lines.append(
                    "investment budget: read \(i("rows_read")), normalized \(i("rows_normalized")) (\(Ore(i("amount_written_ore")).swedish) kr), rejected \(i("rows_rejected")) (\(Ore(i("amount_rejected_ore")).swedish) kr)"
                )
                for row in try csvRows(run + "/02-normalize/investment_budget.csv") {
                    lines.append(
                        "  \(row["row"]!) \(row["projekt"]!.isEmpty ? "" : "(\(row["projekt"]!)) ")\(row["year"]!): \(row["amount_ore"]!) öre")
                }
            }
            for (k, v) in m.totals.sorted(by: { $0.key < $1.key }) where k.hasPrefix("source.input.check.") || k.hasPrefix("source.input.skipped.") {
                lines.append("  \(k.dropFirst("source.input.".count)) = \(v)")
            }
            for b in m.balances where !b.balanced { lines.append("UNBALANCED: \(b.identity)") }
            for row in try csvRows(run + "/02-normalize/rejects.csv") {
                lines.append("reject \(row["file"]!):\(row["line"]!) [\(row["field"]!)] \"\(row["raw_value"]!)\": \(row["reason"]!)")
            }
            for row in try csvRows(run + "/02-normalize/warnings.csv") {
                lines.append("warning \(row["file"]!):\(row["line"]!): \(row["warning"]!)")
            }
            for note in m.notes { lines.append("data error: \(note)") }
            // The normalized text must never carry a personnummer.
            let ledger = try String(contentsOfFile: run + "/02-normalize/ledger.csv", encoding: .utf8)
            for row in try csvRows(run + "/02-normalize/ledger.csv") where !(row["text"] ?? "").isEmpty {
                lines.append("  text: \(row["text"]!)")
            }
            XCTAssertFalse(ledger.contains("1985031"), "personnummer in ledger.csv")
        } catch let e as RamkollError {
            lines.append("stopped (exit \(ExitStatus(e.kind).rawValue)): \(e.message)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func csvRows(_ path: String) throws -> [[String: String]] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let records = SampleEndToEndTests.parseCSV(text)
        guard let header = records.first else { return [] }
        return records.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
    }

    func testEveryCaseGivesItsExactOutcome() throws {
        let cases = try FileManager.default.contentsOfDirectory(atPath: Self.catalogue).filter { !$0.hasSuffix(".py") }.sorted()
        XCTAssertGreaterThanOrEqual(cases.count, 35)
        let record = ProcessInfo.processInfo.environment["RAMKOLL_RECORD"] == "1"
        for c in cases {
            let dir = Self.catalogue + "/" + c
            let got = try outcome(of: dir)
            let expectedPath = dir + "/expected.txt"
            if record {
                try got.write(toFile: expectedPath, atomically: true, encoding: .utf8)
                continue
            }
            let expected = (try? String(contentsOfFile: expectedPath, encoding: .utf8)) ?? "(no expected.txt)"
            XCTAssertEqual(got, expected, "catalogue case \(c)")
        }
        if record { XCTFail("re-recorded the error catalogue's expected.txt files; review them with git diff and run the tests again") }
    }
}
