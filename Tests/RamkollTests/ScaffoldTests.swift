import Foundation
import XCTest

@testable import RamkollPipeline

/// A new municipality's first afternoon (issue 20), through the program: `ramkoll init` writes a
/// folder that `check` passes and that runs on a real export once its tables are filled in;
/// `ramkoll init --from-export` proposes the profiles the repository ships for the sample exports.
final class ScaffoldTests: XCTestCase {
    func testInitWritesAFolderThatChecksAndRunsOnARealExport() throws {
        let dir = try TestPaths.temporaryDirectory() + "/Storstad"
        let made = try runRamkoll(["init", dir, "--fiscal-year", "2021"])
        XCTAssertEqual(made.status, 0, made.stderr)
        XCTAssertTrue(made.stdout.contains("ramkoll init: \(dir): 13 files written"), made.stdout)
        let pipeline = dir + "/Pipelines/storstad.yaml"
        for f in [
            "Pipelines/kommunbas/accounts.csv", "Pipelines/kommunbas/report-lines.csv", "Pipelines/profiles/raindance-huvudbok.yaml",
            "Pipelines/profiles/agresso-kontoutdrag.yaml", "Pipelines/profiles/sie-4.yaml", "Pipelines/profiles/lifecare-placeringar.yaml",
            "Pipelines/profiles/lifecare-beslut.yaml", "Pipelines/profiles/lifecare-utbetalningar.yaml", "Pipelines/storstad/units.csv",
            "Pipelines/storstad/ansvar.csv", "Pipelines/storstad/accounts-local.csv",
        ] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/" + f), f)
        }
        // The copies are the repository's tables, byte for byte.
        XCTAssertEqual(
            FileManager.default.contents(atPath: dir + "/Pipelines/kommunbas/report-lines.csv"),
            FileManager.default.contents(atPath: TestPaths.root.path + "/Pipelines/kommunbas/report-lines.csv"))
        // A new key, the owner's alone.
        let key = try FileManager.default.attributesOfItem(atPath: dir + "/secret/pseudonym.key")
        XCTAssertEqual((key[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        XCTAssertGreaterThanOrEqual((key[.size] as? NSNumber)?.intValue ?? 0, 40)
        // Every section of a pipeline file is there, written out or commented.
        let text = try String(contentsOfFile: pipeline, encoding: .utf8)
        for section in PipelineConfig.sections {
            XCTAssertNotNil(
                text.range(of: "(?m)^(# )?\(section):", options: .regularExpression), "the scaffold's pipeline has no \(section) section")
        }

        let checked = try runRamkoll(["check", pipeline])
        XCTAssertEqual(checked.status, 0, checked.stdout)
        XCTAssertEqual(
            checked.stdout.split(separator: "\n").last,
            "ok: storstad: 1 sources, 0 budget files, 10 report lines, 7 units, 10 account rules, 5 ansvar rules")
        XCTAssertTrue(checked.stdout.contains("input file ../Inputs/ledger/huvudbok-2021.csv does not exist yet"), checked.stdout)

        // Nothing is overwritten.
        let again = try runRamkoll(["init", dir, "--fiscal-year", "2021"])
        XCTAssertEqual(again.status, 64)
        XCTAssertTrue(again.stderr.contains("\(dir) exists and is not empty; init writes a new folder and overwrites nothing"), again.stderr)

        // The controller fills in the committee's tables and drops the ledger export in the inbox.
        let fm = FileManager.default
        for f in ["units.csv", "ansvar.csv", "accounts-local.csv"] {
            try fm.removeItem(atPath: dir + "/Pipelines/storstad/" + f)
            try fm.copyItem(atPath: TestPaths.root.path + "/Pipelines/exempelby/" + f, toPath: dir + "/Pipelines/storstad/" + f)
        }
        try fm.copyItem(
            atPath: TestPaths.root.path + "/SampleInputs/ledger/huvudbok-2021.csv", toPath: dir + "/Inputs/inkorg/huvudbok-2021.csv")
        let inbox = try runRamkoll(["inbox", pipeline])
        XCTAssertEqual(inbox.status, 0, inbox.stderr)
        XCTAssertTrue(fm.fileExists(atPath: dir + "/Inputs/ledger/huvudbok-2021.csv"))
        let run = try runRamkoll(["run", pipeline, "--as-of", "2021-12", "--run-dir", dir + "/work", "--no-warehouse"])
        XCTAssertTrue([0, 3].contains(run.status), run.stdout + run.stderr)
        XCTAssertTrue(run.stdout.contains("normalize: huvudbok: 26533 read, 26533 normalized, 0 rejected"), run.stdout)
        XCTAssertTrue(fm.fileExists(atPath: dir + "/work/06-report/rapport.xlsx"))
    }

    func testFromExportProposesTheProfilesOfTheSampleExports() throws {
        /// The lines of a profile that say how the file is read (comments and blank lines aside).
        func settings(_ yaml: String) -> [String] {
            yaml.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") && !$0.isEmpty }.map {
                $0.components(separatedBy: "  #")[0].trimmingCharacters(in: .whitespaces)
            }
        }
        for (export, shipped) in [
            ("SampleInputs/ledger/huvudbok-2021.csv", "Pipelines/profiles/raindance-huvudbok.yaml"),
            ("SampleInputs/ledger/kontoutdrag-2022-h1.csv", "Pipelines/profiles/agresso-kontoutdrag.yaml"),
        ] {
            let o = try runRamkoll(["init", "--from-export", export])
            XCTAssertEqual(o.status, 0, o.stderr)
            var expected = settings(try String(contentsOfFile: TestPaths.root.path + "/" + shipped, encoding: .utf8))
            // The shipped Agresso profile also knows the sum row its exports can end with; the
            // sample has none, so the proposal cannot see one.
            if let t = expected.firstIndex(of: "total_row:") { expected.removeSubrange(t..<(t + 3)) }
            XCTAssertEqual(Set(settings(o.stdout)), Set(expected), "\(export):\n\(o.stdout)")
        }
        // Windows-1252 from Excel: two title lines, debit and credit, the account's name in its
        // cell, a closing sum row — what the hand-written profile of that fixture says.
        let dk = try runRamkoll(["init", "--from-export", "Tests/RamkollTests/Fixtures/mixed/ledger-2022-dk.csv"])
        XCTAssertEqual(dk.status, 0, dk.stderr)
        XCTAssertEqual(
            Set(settings(dk.stdout)),
            Set(settings(try String(contentsOfFile: TestPaths.fixture("mixed/debet-kredit.yaml"), encoding: .utf8))), dk.stdout)

        // A proposal is a profile `check` reads: a pipeline using it passes, header included.
        let dir = try TestPaths.temporaryDirectory()
        try Data(dk.stdout.utf8).write(to: URL(fileURLWithPath: dir + "/proposed.yaml"))
        let root = TestPaths.root.path
        try """
        name: proposed
        fiscal_year: 2022
        as_of: 2022-06
        mappings:
          report_lines: \(root)/Pipelines/kommunbas/report-lines.csv
          accounts: [\(root)/Pipelines/kommunbas/accounts.csv]
          units: \(TestPaths.fixture("small/units.csv"))
          ansvar: \(TestPaths.fixture("small/ansvar.csv"))
        sources:
          - id: dk
            path: \(TestPaths.fixture("mixed/ledger-2022-dk.csv"))
            profile: proposed.yaml

        """.write(toFile: dir + "/pipeline.yaml", atomically: true, encoding: .utf8)
        let checked = try runRamkoll(["check", dir + "/pipeline.yaml"])
        XCTAssertEqual(checked.status, 0, checked.stdout)

        // What the lines cannot tell is marked for the controller, and a personnummer in a sample
        // row is not repeated.
        try "Datum,Konto,Belopp,Text\n2022-01-03,3000,100,Ranta\n2022-01-04,45110,250,Bistand 19850312-1234\n".write(
            toFile: dir + "/odd.csv", atomically: true, encoding: .utf8)
        let odd = try runRamkoll(["init", "--from-export", dir + "/odd.csv"])
        XCTAssertEqual(odd.status, 0, odd.stderr)
        XCTAssertTrue(odd.stdout.contains("delimiter: \",\"\n"), odd.stdout)
        XCTAssertTrue(odd.stdout.contains("# TO CONFIRM: no column is named as the ansvar (Ansvar, Kst): add ansvar under columns"), odd.stdout)
        XCTAssertTrue(odd.stdout.contains("# TO CONFIRM: the lines read are plain ASCII"), odd.stdout)
        XCTAssertFalse(odd.stdout.contains("19850312"), odd.stdout)
        try "just one line without columns\n".write(toFile: dir + "/one.csv", atomically: true, encoding: .utf8)
        let one = try runRamkoll(["init", "--from-export", dir + "/one.csv"])
        XCTAssertEqual(one.status, 65)
        XCTAssertTrue(
            one.stderr.contains("\(dir)/one.csv has fewer than two lines; a profile needs a header and rows"), one.stderr)
        let both = try runRamkoll(["init", dir + "/x", "--from-export", dir + "/odd.csv"])
        XCTAssertEqual(both.status, 64)
        XCTAssertTrue(both.stderr.contains("give a folder or --from-export FILE, not both"), both.stderr)
    }
}
