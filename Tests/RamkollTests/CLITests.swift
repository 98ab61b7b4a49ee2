import Foundation
import XCTest

/// Runs the real `ramkoll` executable and checks stdout, stderr and the exit code.
final class CLITests: XCTestCase {
    func ramkoll(_ args: [String], environment: [String: String] = [:]) throws -> RamkollResult {
        try runRamkoll(args, environment: environment)
    }

    func testCheckNamesFileAndLineOfEveryProblem() throws {
        let r = try ramkoll(["check", "Tests/RamkollTests/Fixtures/broken/pipeline.yaml"])
        XCTAssertEqual(r.status, 78)
        let expectedPath = TestPaths.fixture("broken/expected-check.txt")
        if ProcessInfo.processInfo.environment["RAMKOLL_RECORD"] == "1" {
            try r.stdout.write(toFile: expectedPath, atomically: true, encoding: .utf8)
            XCTFail("re-recorded \(expectedPath); review it and run the tests again")
            return
        }
        XCTAssertEqual(r.stdout, try String(contentsOfFile: expectedPath, encoding: .utf8))
    }

    func testCheckAcceptsTheSamplePipeline() throws {
        let r = try ramkoll(["check", "Pipelines/exempelby.yaml"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertEqual(
            r.stdout,
            "ok: exempelby: 8 sources, 1 budget files, 11 report lines, 18 units, 12 account rules, 12 ansvar rules; investments: 9 rows, 6 account rules, a budget\n"
        )
    }

    func testUsageErrorsExit64WithAMessageThatSaysWhatToDo() throws {
        let r = try ramkoll(["run", "Pipelines/exempelby.yaml", "--only", "reconsile"])
        XCTAssertEqual(r.status, 64)
        XCTAssertTrue(r.stderr.contains("unknown stage \"reconsile\"; stages are ingest, normalize, reconcile, deviation, prognosis"), r.stderr)
        let b = try ramkoll(["run", "Pipelines/exempelby.yaml", "--as-of", "2022-8"])
        XCTAssertEqual(b.status, 64)
        XCTAssertTrue(b.stderr.contains("--as-of \"2022-8\" is not a period; expected YYYY-MM, e.g. 2022-12"), b.stderr)
    }

    func testMissingEarlierStageExits66() throws {
        let dir = try TestPaths.temporaryDirectory()
        let r = try ramkoll(["run", "Pipelines/exempelby.yaml", "--only", "deviation", "--run-dir", dir])
        XCTAssertEqual(r.status, 66)
        XCTAssertTrue(r.stderr.contains("ramkoll: error: \(dir)/03-reconcile/manifest.json: no manifest; run the earlier stages first"), r.stderr)
    }

    func testRunSampleQuietlyThenSignalDeviations() throws {
        let dir = try TestPaths.temporaryDirectory()
        let quiet = try ramkoll(["run", "Pipelines/exempelby.yaml", "--run-dir", dir, "--quiet"])
        XCTAssertEqual(quiet.status, 0, quiet.stderr)
        XCTAssertEqual(quiet.stdout, "", "--quiet prints nothing on success")
        XCTAssertEqual(quiet.stderr, "", "--quiet logs only warnings and errors")

        let r = try ramkoll(["run", "Pipelines/exempelby.yaml", "--run-dir", dir, "--from", "deviation", "--fail-on-deviation"])
        XCTAssertEqual(r.status, 3)
        XCTAssertNotNil(r.stdout.range(of: #"deviation: [1-9][0-9]* unit × line deviations over threshold"#, options: .regularExpression), r.stdout)
        XCTAssertTrue(r.stdout.hasSuffix("exit 3 (deviations over threshold)\n"), r.stdout)
        // Logs: one line per event, key=value, and nothing personal.
        let events = r.stderr.split(separator: "\n")
        XCTAssertEqual(events.count, 8, "run started, three stages started and finished, run finished")
        XCTAssertTrue(events.allSatisfy { $0.hasPrefix("ts=") && $0.contains(" level=info msg=") }, r.stderr)
        XCTAssertTrue(events[1].contains("msg=\"stage started\" stage=deviation"), String(events[1]))
        XCTAssertNil(r.stderr.range(of: #"\d{6,8}[-+]\d{4}"#, options: .regularExpression))
    }

    func testRejectLimitTurnsIntoADataError() throws {
        // The small fixture's sources reject 7 of 27 rows; with a 1 % limit that is a data error
        // (65), and every output is still written for the controller to look at. Its budget lines
        // have a limit of their own.
        let dir = try TestPaths.temporaryDirectory()
        let p = try smallPipelineCopy(in: dir) {
            $0.replacingOccurrences(of: "\n  reject_limit_percent: \"50\"", with: "\n  reject_limit_percent: \"1\"")
        }
        let r = try ramkoll(["run", p, "--run-dir", dir + "/run"])
        XCTAssertEqual(r.status, 65, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("  data error: 7 of 27 rows rejected, above the limit of 1,0 % — see 02-normalize/rejects.csv\n"), r.stdout)
        XCTAssertFalse(r.stdout.contains("data error: budget"), r.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/run/05-prognosis/prognos.csv"))
    }
}
