import Foundation
import XCTest

@testable import RamkollModel
@testable import RamkollPipeline

/// Exports that are short, stale or rewritten are caught (issue 15): a ledger that stops before
/// the as-of month, and closed months that changed or vanished since the period's last good run.
final class ExportFreshnessTests: XCTestCase {
    func testALedgerExportCutShortAtALineBoundaryIsADataError() throws {
        let dir = try TestPaths.temporaryDirectory()
        let original = try Data(contentsOf: TestPaths.root.appendingPathComponent("SampleInputs/ledger/kontoutdrag-2022-h2.csv"))
        // Cut in half, after a whole line: the file reads cleanly, and loses its last months and total row.
        let half = original.prefix(original.count / 2)
        let cut = half.prefix(through: half.lastIndex(of: 0x0A)!)
        try FileManager.default.createDirectory(atPath: dir + "/ledger", withIntermediateDirectories: true)
        try Data(cut).write(to: URL(fileURLWithPath: dir + "/ledger/kontoutdrag-2022-h2.csv"))
        let pipeline = try BudgetConservationTests.samplePipeline(
            in: dir,
            edit: { $0.replacingOccurrences(of: "../SampleInputs/ledger/kontoutdrag-2022-h2.csv", with: "../ledger/kontoutdrag-2022-h2.csv") })
        let r = try runRamkoll(["run", pipeline, "--quiet", "--no-warehouse"])
        XCTAssertEqual(r.status, 65, r.stdout + r.stderr)
        XCTAssertNotNil(
            r.stdout.range(
                of:
                    #"  data error: ledger "main" \(sources ku2022h1, ku2022h2\) has postings through 2022-(0[7-9]|1[01]), behind the as-of period 2022-12: the export is stale or cut short — export it again, or run with --as-of 2022-\d\d\n"#,
                options: .regularExpression), r.stdout)
        XCTAssertNil(RunStore(root: dir + "/runs/exempelby").resolve("latest"), "a data-error run is not pointed at")
    }

    func testClosedMonthsThatChangedAreNamedAndLockedOnesAreAnError() throws {
        let dir = try TestPaths.temporaryDirectory()
        let fixture = TestPaths.fixture("small")
        try FileManager.default.createDirectory(atPath: dir + "/current", withIntermediateDirectories: true)
        let ledger = dir + "/current/ledger-2022.csv"
        try FileManager.default.copyItem(atPath: fixture + "/ledger-2022.csv", toPath: ledger)
        func pipeline(_ name: String, locked: Bool) throws -> String {
            try smallPipelineCopy(in: dir, name: name) {
                $0.replacingOccurrences(of: "\(fixture)/ledger-2022.csv\n", with: "\(ledger)\n")
                    .replacingOccurrences(
                        of: "  volatile_lines: [KOP]\n", with: "  volatile_lines: [KOP]\n" + (locked ? "  closed_months: locked\n" : ""))
            }
        }
        let warn = try pipeline("warn.yaml", locked: false), locked = try pipeline("locked.yaml", locked: true)
        let runs = dir + "/runs"
        XCTAssertEqual(try runRamkoll(["run", warn, "--runs", runs, "--no-warehouse", "-q"]).status, 0)

        // The next night's export: March's fee rewritten, and February's row gone.
        var bytes = try Data(contentsOf: URL(fileURLWithPath: ledger))
        let text = String(decoding: bytes, as: UTF8.self)
        XCTAssertTrue(text.contains("-2 000,50"))
        bytes = Data(
            bytes.split(separator: 0x0A, omittingEmptySubsequences: false).filter { !$0.starts(with: Array("B2;".utf8)) }.joined(separator: [0x0A]))
        if let r = bytes.range(of: Data("-2 000,50".utf8)) { bytes.replaceSubrange(r, with: Data("-2 100,50".utf8)) }
        try bytes.write(to: URL(fileURLWithPath: ledger))

        let second = try runRamkoll(["run", warn, "--runs", runs, "--no-warehouse", "-q"])
        XCTAssertEqual(second.status, 0, second.stdout + second.stderr)
        let warnings = second.stderr.split(separator: "\n").filter { $0.contains("msg=\"closed month changed\"") }
        XCTAssertEqual(warnings.count, 2, second.stderr)
        XCTAssertTrue(
            warnings[0].contains("what=\"closed month 2022-02 of source b2022 vanished since run 2022-06.001: it held 1 rows, 12 000,00 kr\""),
            String(warnings[0]))
        XCTAssertTrue(
            warnings[1].contains(
                "what=\"closed month 2022-03 of source b2022 changed since run 2022-06.001: 2 rows, 27 999,50 kr → 2 rows, 27 899,50 kr (difference -100,00 kr)\""
            ), String(warnings[1]))
        let record = try XCTUnwrap(RunRecord.read(from: runs + "/all/2022-06.002"))
        XCTAssertEqual(record.closedMonths?.count, 2)
        XCTAssertEqual(RunStore(root: runs).resolve("latest"), RunStore(root: runs).directory(of: "2022-06.002"))

        // Locked: the same change is a data error, and latest stays on the good run before it.
        try FileManager.default.copyItem(atPath: fixture + "/ledger-2022.csv", toPath: ledger + ".orig")
        try FileManager.default.removeItem(atPath: ledger)
        try FileManager.default.moveItem(atPath: ledger + ".orig", toPath: ledger)
        XCTAssertEqual(try runRamkoll(["run", locked, "--runs", dir + "/runs-locked", "--no-warehouse", "-q"]).status, 0)
        try bytes.write(to: URL(fileURLWithPath: ledger))
        let refused = try runRamkoll(["run", locked, "--runs", dir + "/runs-locked", "--no-warehouse", "-q"])
        XCTAssertEqual(refused.status, 65, refused.stdout + refused.stderr)
        XCTAssertTrue(
            refused.stdout.contains(
                "  data error: closed month 2022-02 of source b2022 vanished since run 2022-06.001: it held 1 rows, 12 000,00 kr (settings.closed_months: locked)\n"
            ), refused.stdout)
        XCTAssertEqual(RunStore(root: dir + "/runs-locked").resolve("latest"), RunStore(root: dir + "/runs-locked").directory(of: "2022-06.001"))
    }

    func testAProfileCanRequireItsStatedTotal() throws {
        let dir = try TestPaths.temporaryDirectory()
        let original = TestPaths.root.path + "/Pipelines/profiles/agresso-kontoutdrag.yaml"
        let profile = try String(contentsOfFile: original, encoding: .utf8) + "stated_total: required\n"
        let path = try TestPaths.write(profile, name: "agresso-strict.yaml", in: dir)
        // The small fixture's 2022 ledger has no "Summa" row.
        let pipeline = try smallPipelineCopy(in: dir) { $0.replacingOccurrences(of: "profile: \(original)\n", with: "profile: \(path)\n") }
        let r = try runRamkoll(["run", pipeline, "--run-dir", dir + "/run", "--quiet"])
        XCTAssertEqual(r.status, 65, r.stdout + r.stderr)
        // The file as the pipeline shows it (relative to its folder, which depends on where the repository lies).
        let shown = try XCTUnwrap(PipelineConfig.load(path: pipeline).0).display(TestPaths.fixture("small/ledger-2022.csv"))
        XCTAssertTrue(
            r.stdout.contains(
                "  data error: \(shown): the file has no stated total (a row whose \"Bilagsnr\" starts with \"Summa\"), which its profile requires (stated_total: required): the export may be cut short — export it again\n"
            ), r.stdout)
        let bad = try TestPaths.write(
            try String(contentsOfFile: original, encoding: .utf8) + "stated_total: sometimes\n", name: "agresso-bad.yaml", in: dir)
        let c = try runRamkoll([
            "check",
            try smallPipelineCopy(in: dir, name: "bad.yaml") { $0.replacingOccurrences(of: "profile: \(original)\n", with: "profile: \(bad)\n") },
        ])
        XCTAssertEqual(c.status, 78)
        XCTAssertTrue(c.stdout.contains("error: profile: stated_total must be required or optional, not \"sometimes\""), c.stdout)
    }
}
