import Foundation
import XCTest

@testable import RamkollModel
@testable import RamkollPipeline

/// `ramkoll check` catches what `run` would refuse or get wrong (issue 15), each case through the
/// binary with its exact message and exit 78.
final class CheckPreflightTests: XCTestCase {
    /// `ramkoll check` on a copy of the small fixture edited by `edit`; its problems (the lines
    /// that are not `ok:` or the count).
    func check(_ dir: String, environment: [String: String] = [:], _ edit: (String) -> String) throws -> (status: Int32, lines: [String]) {
        let p = try smallPipelineCopy(in: dir, name: "check-\(UUID().uuidString.prefix(6)).yaml") {
            // The fixture's deliberate budget rejects are allowed there; here they would be errors.
            edit($0)
        }
        let r = try runRamkoll(["check", p], environment: environment)
        return (r.status, r.stdout.split(separator: "\n").map(String.init).filter { !$0.hasSuffix("found") && !$0.hasPrefix("ok:") })
    }

    func testThePseudonymKeyMustBeSetReadableAndLong() throws {
        let dir = try TestPaths.temporaryDirectory()
        let key = TestPaths.fixture("small/pseudonym.key")
        let none = try check(dir) { $0.replacingOccurrences(of: "pseudonym_key:\n  file: \(key)\n", with: "") }
        XCTAssertEqual(none.status, 78)
        XCTAssertTrue(
            none.lines.contains {
                $0.hasSuffix(
                    "error: the pipeline reads case-system data but names no pseudonym_key; add pseudonym_key: {env: VARIABLE} or {file: PATH} — Ramkoll will not start without one"
                )
            },
            "\(none.lines)")
        let unset = try check(dir, environment: ["RAMKOLL_TEST_UNSET_KEY": ""]) {
            $0.replacingOccurrences(of: "pseudonym_key:\n  file: \(key)\n", with: "pseudonym_key:\n  env: RAMKOLL_TEST_UNSET_KEY\n")
        }
        XCTAssertEqual(unset.status, 78)
        XCTAssertTrue(
            unset.lines.contains {
                $0.hasSuffix(
                    "error: environment variable RAMKOLL_TEST_UNSET_KEY (the pseudonym key) is not set or shorter than 16 bytes; Ramkoll will not start without it"
                )
            },
            "\(unset.lines)")
        let missing = try check(dir) { $0.replacingOccurrences(of: "file: \(key)\n", with: "file: \(dir)/no-such.key\n") }
        XCTAssertEqual(missing.status, 78)
        XCTAssertTrue(missing.lines.contains { $0.contains("error: pseudonym key file \(dir)/no-such.key cannot be read") }, "\(missing.lines)")
        // A key others can read is refused with the chmod to run.
        let open = try TestPaths.write(String(repeating: "k", count: 32) + "\n", name: "open.key", in: dir)
        chmod(open, 0o666)
        let readable = try check(dir) { $0.replacingOccurrences(of: "file: \(key)\n", with: "file: \(open)\n") }
        XCTAssertEqual(readable.status, 78)
        XCTAssertTrue(
            readable.lines.contains {
                $0.hasSuffix(
                    "error: pseudonym key file \(open) can be read or written by others (mode 666); it must be the owner's alone — run: chmod 600 \(open)"
                )
            }, "\(readable.lines)")
        chmod(open, 0o600)
        XCTAssertEqual(try check(dir) { $0.replacingOccurrences(of: "file: \(key)\n", with: "file: \(open)\n") }.status, 0)
        let short = try TestPaths.write("kort\n", name: "short.key", in: dir)
        chmod(short, 0o600)
        let tooShort = try check(dir) { $0.replacingOccurrences(of: "file: \(key)\n", with: "file: \(short)\n") }
        XCTAssertEqual(tooShort.status, 78)
        XCTAssertTrue(tooShort.lines.contains { $0.contains("error: pseudonym key file \(short) holds fewer than 16 bytes") }, "\(tooShort.lines)")
    }

    func testALedgerSeparatedByAnotherCharacterIsNamedByCheckAndRun() throws {
        let dir = try TestPaths.temporaryDirectory()
        let fixture = TestPaths.fixture("small")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: fixture + "/ledger-2022.csv"))
        for i in bytes.indices where bytes[i] == UInt8(ascii: ";") { bytes[i] = UInt8(ascii: ",") }
        try bytes.write(to: URL(fileURLWithPath: dir + "/ledger-2022-comma.csv"))
        let edit: (String) -> String = { $0.replacingOccurrences(of: "\(fixture)/ledger-2022.csv\n", with: "\(dir)/ledger-2022-comma.csv\n") }
        let c = try check(dir, edit)
        XCTAssertEqual(c.status, 78)
        let hint =
            " — the header looks separated by \",\", but profile \(TestPaths.root.path)/Pipelines/profiles/agresso-kontoutdrag.yaml says delimiter \";\": set delimiter in the profile, or export the file with \";\""
        XCTAssertTrue(
            c.lines.contains { $0.hasPrefix("\(dir)/ledger-2022-comma.csv:1: error: source b2022: header has no column") && $0.hasSuffix(hint) },
            "\(c.lines)")
        let p = try smallPipelineCopy(in: dir, name: "run.yaml", edit: edit)
        let r = try runRamkoll(["run", p, "--run-dir", dir + "/run"])
        XCTAssertEqual(r.status, 65, r.stderr)
        XCTAssertTrue(r.stderr.contains(hint), r.stderr)
    }

    func testBudgetLinesRunWouldRejectAreErrors() throws {
        let dir = try TestPaths.temporaryDirectory()
        let c = try check(dir) { $0.replacingOccurrences(of: "  budget_reject_limit_percent: \"50\"\n", with: "") }
        XCTAssertEqual(c.status, 78)
        // Messages name the file as the pipeline shows it (relative to the pipeline's folder, which
        // depends on where the repository lies): asked of the config.
        let allowedPipeline = try smallPipelineCopy(in: dir, name: "allowed.yaml")
        let budget = try XCTUnwrap(PipelineConfig.load(path: allowedPipeline).0).diagnosticName(TestPaths.fixture("small/budget.csv"))
        XCTAssertEqual(
            c.lines,
            [
                "\(budget):7: error: budget: report line \"XXX\" is not a base report line (sum lines are computed, not budgeted)",
                "\(budget):8: error: budget: unit \"U9\" is not in the unit hierarchy; add it to the units table or fix the budget",
                "\(budget):9: error: budget: month \"feb\" is empty; with periodisering månad every month needs an amount (0 for none)",
            ])
        // Allowed by the pipeline's budget limit: warnings, and check passes.
        let allowed = try runRamkoll(["check", allowedPipeline])
        XCTAssertEqual(allowed.status, 0, allowed.stdout)
        XCTAssertTrue(allowed.stdout.contains("\(budget):8: warning: budget: unit \"U9\" is not in the unit hierarchy"), allowed.stdout)
    }

    func testAnXMLFieldPathThatMatchesNothingIsAnError() throws {
        let dir = try TestPaths.temporaryDirectory()
        let original = TestPaths.root.path + "/Pipelines/profiles/lifecare-placeringar.yaml"
        let profile = try String(contentsOfFile: original, encoding: .utf8).replacingOccurrences(
            of: "  person: \"../@personnummer\"", with: "  person: \"../@persnr\"")
        let path = try TestPaths.write(profile, name: "placeringar.yaml", in: dir)
        let c = try check(dir) { $0.replacingOccurrences(of: "profile: \(original)\n", with: "profile: \(path)\n") }
        XCTAssertEqual(c.status, 78)
        XCTAssertTrue(
            c.lines.contains {
                $0.contains("error: source plac: person (path ../@persnr) has no value in the first")
                    && $0.hasSuffix("<Placering> records; the run would reject every record — check the path in profile \(path)")
            }, "\(c.lines)")
    }

    func testAMisspeltSettingIsAnErrorWithTheKeyItMeant() throws {
        let dir = try TestPaths.temporaryDirectory()
        let c = try check(dir) { $0.replacingOccurrences(of: "deviation_threshold_kr:", with: "deviation_treshold_kr:") }
        XCTAssertEqual(c.status, 78)
        XCTAssertTrue(
            c.lines.contains { $0.contains("error: settings: unknown key \"deviation_treshold_kr\"; did you mean \"deviation_threshold_kr\"?") },
            "\(c.lines)")
        let p = try smallPipelineCopy(in: dir, name: "typo.yaml") {
            $0.replacingOccurrences(of: "deviation_threshold_kr:", with: "deviation_treshold_kr:")
        }
        XCTAssertEqual(try runRamkoll(["run", p, "--run-dir", dir + "/run"]).status, 78, "run refuses it too")
    }
}
