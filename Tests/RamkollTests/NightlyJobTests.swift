import Foundation
import XCTest
import ZIPFoundation

@testable import RamkollHistory
@testable import RamkollModel
@testable import RamkollPipeline

#if canImport(Glibc)
    import Glibc
#endif

/// The nightly job as an operator leaves it (issue 15): every command the README documents runs
/// through the built binary, the cron wrapper is silent on success and passes the exit code on,
/// and a run that is not good never becomes the period's link or `latest`.
final class NightlyJobTests: XCTestCase {
    /// The README's command-line block: each `ramkoll SUB …` line (with its continuation lines) and
    /// the options it names.
    static func documentedCommands() throws -> [(sub: String, options: [String])] {
        let readme = try String(contentsOf: TestPaths.root.appendingPathComponent("README.md"), encoding: .utf8)
        guard let start = readme.range(of: "## Command line\n\n```\n"),
            let end = readme.range(of: "```", range: start.upperBound..<readme.endIndex)
        else { throw XCTSkip("README has no command-line block") }
        var out: [(String, [String])] = []
        for line in readme[start.upperBound..<end.lowerBound].split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.first == "ramkoll", words.count > 1 {
                out.append((String(words[1]), []))
            }
            let options = line.matches(of: /--[a-z][a-z-]*/).map { String($0.output) }
            if !out.isEmpty { out[out.count - 1].1 += options }
        }
        return out
    }

    func testEveryDocumentedCommandAndOptionAnswersThroughTheBinary() throws {
        let commands = try NightlyJobTests.documentedCommands()
        XCTAssertGreaterThanOrEqual(commands.count, 10, "the README's command-line block lists every subcommand")
        for (sub, options) in commands {
            let r = try runRamkoll([sub, "--help"])
            XCTAssertEqual(r.status, 0, "ramkoll \(sub) --help: \(r.stderr)")
            XCTAssertTrue(r.stdout.contains("USAGE: ramkoll \(sub)"), "ramkoll \(sub) is not a registered subcommand:\n\(r.stdout)\(r.stderr)")
            for o in options {
                XCTAssertTrue(r.stdout.contains(o), "the README documents \(o) for ramkoll \(sub), but its help does not list it")
            }
        }
    }

    /// A copy of the small fixture whose 2022 ledger and placements come through an inbox.
    func inboxPipeline(in dir: String) throws -> String {
        let fixture = TestPaths.fixture("small")
        try FileManager.default.createDirectory(atPath: dir + "/current", withIntermediateDirectories: true)
        for f in ["ledger-2022.csv", "placements.xml"] {
            try FileManager.default.copyItem(atPath: fixture + "/" + f, toPath: dir + "/current/" + f)
        }
        return try smallPipelineCopy(in: dir) { text in
            text.replacingOccurrences(of: "\(fixture)/ledger-2022.csv\n", with: "\(dir)/current/ledger-2022.csv\n    inbox: \"kontoutdrag-*.csv\"\n")
                .replacingOccurrences(of: "\(fixture)/placements.xml\n", with: "\(dir)/current/placements.xml\n    inbox: \"*.xml\"\n")
                + "\ninbox:\n  path: \(dir)/inbox\n  archive: \(dir)/archive\n"
        }
    }

    /// The small fixture's 2022 ledger (Windows-1252) with its June row (the as-of month, still open)
    /// once more at the end: the next night's export.
    static func changedLedger() throws -> Data {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: TestPaths.fixture("small/ledger-2022.csv")))
        let june = try XCTUnwrap(bytes.split(separator: 0x0A).first { $0.starts(with: Array("B5;20220601;202206;".utf8)) })
        return bytes + june + Data([0x0A])
    }

    func testInboxThroughTheBinary() throws {
        let dir = try TestPaths.temporaryDirectory()
        let pipeline = try inboxPipeline(in: dir)
        let inbox = dir + "/inbox"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        let changed = try NightlyJobTests.changedLedger()
        try changed.write(to: URL(fileURLWithPath: inbox + "/kontoutdrag-2022-06.csv"))
        _ = try TestPaths.write("minnesanteckningar\n", name: "notes.txt", in: inbox)

        let r = try runRamkoll(["inbox", pipeline])
        XCTAssertEqual(r.status, 65, r.stdout + r.stderr)
        XCTAssertEqual(
            r.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: " ").first.map(String.init) ?? "" }, ["installed", "rejected"],
            r.stdout)
        XCTAssertTrue(r.stdout.contains("installed kontoutdrag-2022-06.csv → b2022"), r.stdout)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/current/ledger-2022.csv")), changed)

        // Quiet and nothing to do: silent, exit 0. Without an inbox, --if-configured does nothing.
        let again = try runRamkoll(["inbox", pipeline, "--quiet"])
        XCTAssertEqual(again.status, 0, again.stdout + again.stderr)
        XCTAssertEqual(again.stdout + again.stderr, "")
        let plain = try smallPipelineCopy(in: dir, name: "plain.yaml")
        let none = try runRamkoll(["inbox", plain, "--if-configured", "--quiet"])
        XCTAssertEqual(none.status, 0, none.stderr)
        XCTAssertEqual(none.stdout + none.stderr, "")
        let refused = try runRamkoll(["inbox", plain])
        XCTAssertEqual(refused.status, 78, refused.stderr)
        XCTAssertEqual(refused.stderr, "ramkoll: error: the pipeline has no inbox: section\n")
    }

    func nightly(_ args: [String], environment: [String: String] = [:]) throws -> RamkollResult {
        try runNightly(args, environment: environment)
    }

    func testNightlyUnderCronIsSilentInstallsExportsAndPassesTheExitCodeOn() throws {
        let dir = try TestPaths.temporaryDirectory()
        let pipeline = try inboxPipeline(in: dir)
        let runs = dir + "/runs"
        let first = try nightly([pipeline, "2022-06", "--", "--runs", runs])
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
        XCTAssertEqual(first.stdout + first.stderr, "", "silent on success")

        // An export dropped in the inbox is archived, installed and read by the same night's run.
        try FileManager.default.createDirectory(atPath: dir + "/inbox", withIntermediateDirectories: true)
        let changed = try NightlyJobTests.changedLedger()
        try changed.write(to: URL(fileURLWithPath: dir + "/inbox/kontoutdrag-2022-06.csv"))
        let second = try nightly([pipeline, "2022-06", "--", "--runs", runs], environment: ["RAMKOLL_KEEP_RUNS": "1"])
        XCTAssertEqual(second.status, 0, second.stdout + second.stderr)
        XCTAssertEqual(second.stdout + second.stderr, "")
        XCTAssertEqual(RunStore(root: runs).runs(), ["2022-06.002"], "the retention pruned the first night's run")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/current/ledger-2022.csv")), changed)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir + "/inbox"), [])
        let sha = FileIO.sha256(changed)
        XCTAssertTrue(FileIO.exists(dir + "/archive/\(sha.prefix(2))/\(sha)-kontoutdrag-2022-06.csv"))
        let record = try XCTUnwrap(RunRecord.read(from: runs + "/latest"))
        XCTAssertEqual(record.runID, "2022-06.002")
        XCTAssertEqual(record.trigger, "cron")
        XCTAssertTrue(record.stages.first { $0.stage == "ingest" }?.status == "ran", "the new export was read")

        // After the fiscal year the run says what to do, and the wrapper passes the usage error on.
        let after = try nightly([pipeline, "2023-02", "--", "--runs", runs])
        XCTAssertEqual(after.status, 64, after.stderr)
        let lines = after.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 2, after.stderr)
        XCTAssertEqual(
            lines.first,
            "ramkoll: error: --as-of 2023-02 is not in the pipeline's fiscal year 2022; the fiscal year 2022 has ended: its year-end runs with --as-of 2022-12, and the months of 2023 need the next year's pipeline (a copy with fiscal_year: 2023, that year's budget and sources)"
        )
        XCTAssertTrue(lines.last?.contains("level=error job=nightly msg=\"run not started\"") == true, after.stderr)
        XCTAssertTrue(lines.last?.hasSuffix("as_of=2023-02 status=64 outcome=usage-error") == true, after.stderr)
    }

    // MARK: - Pointers only to good runs

    func testOnlyGoodRunsBecomeTheLinksAndRunsSaysWhyTheOthersAreNot() throws {
        let dir = try TestPaths.temporaryDirectory()
        let good = try smallPipelineCopy(in: dir)
        let runs = dir + "/runs"
        let store = RunStore(root: runs)
        let first = try runRamkoll(["run", good, "--runs", runs, "--no-warehouse", "-q"])
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)

        // A kill between the two renames of the link switch: a temporary link left, latest not switched.
        XCTAssertEqual(unlink(runs + "/latest"), 0)
        XCTAssertEqual(symlink("all/2022-06.001", runs + "/latest.4242.link"), 0)
        let retry = try runRamkoll(["retry", good, "--runs", runs, "-q"])
        XCTAssertEqual(retry.status, 0, retry.stderr)
        XCTAssertEqual(
            retry.stdout,
            "ramkoll retry: nothing to retry; run 2022-06.001 finished with exit 0; links repaired: removed latest.4242.link, latest → 2022-06.001\n")
        XCTAssertEqual(store.resolve("latest"), store.directory(of: "2022-06.001"))
        XCTAssertFalse(FileIO.exists(runs + "/latest.4242.link"))

        // The same pipeline with a 1 % reject limit: a data error (65), whose outputs are written but never pointed at.
        let bad = try smallPipelineCopy(in: dir, name: "strict.yaml") {
            $0.replacingOccurrences(of: "reject_limit_percent: \"50\"", with: "reject_limit_percent: \"1\"")
        }
        let second = try runRamkoll(["run", bad, "--runs", runs, "--no-warehouse"])
        XCTAssertEqual(second.status, 65, second.stdout + second.stderr)
        XCTAssertTrue(second.stdout.contains("run 2022-06.002 is not the period's link or latest: it ended with 65 (data error)"), second.stdout)
        XCTAssertEqual(store.resolve("latest"), store.directory(of: "2022-06.001"))
        XCTAssertEqual(
            try FileManager.default.destinationOfSymbolicLink(atPath: runs + "/2022-06"), "all/2022-06.001", "the period's link stays on the good run"
        )
        let list = try runRamkoll(["runs", good, "--runs", runs])
        XCTAssertEqual(list.status, 0, list.stderr)
        let lines = list.stdout.split(separator: "\n")
        XCTAssertTrue(lines.contains { $0.contains("2022-06.001") && $0.contains("finished  exit 0 (ok)") }, list.stdout)
        XCTAssertTrue(lines.contains { $0.contains("2022-06.002") && $0.contains("finished  exit 65 (data error)") }, list.stdout)
    }

    func testEveryDeliverableOfADataErrorRunSaysSoAtItsHead() throws {
        let dir = try TestPaths.temporaryDirectory()
        let bad = try smallPipelineCopy(in: dir) {
            $0.replacingOccurrences(of: "\n  reject_limit_percent: \"50\"", with: "\n  reject_limit_percent: \"1\"")
        }
        let r = try runRamkoll(["run", bad, "--run-dir", dir + "/bad", "--quiet"])
        XCTAssertEqual(r.status, 65, r.stdout + r.stderr)
        let error = "7 of 27 rows rejected, above the limit of 1,0 % — see 02-normalize/rejects.csv"
        let head =
            "*** DATAFEL: körningen slutar med datafel (exit 65). Tabellerna bygger på indata som saknar rader eller belopp och ska inte publiceras förrän felen är rättade.\n*** - \(error)\n\n"
        for f in [
            "03-reconcile/ivo_report.txt", "03-reconcile/volumes.txt", "04-deviation/drift.txt",
            "05-prognosis/prognos.txt", "06-report/tabeller.txt",
        ] {
            let text = try String(contentsOfFile: dir + "/bad/" + f, encoding: .utf8)
            XCTAssertTrue(text.hasPrefix(head), "\(f) begins: \(text.prefix(300))")
        }
        let html = try String(contentsOfFile: dir + "/bad/06-report/rapport.html", encoding: .utf8)
        XCTAssertTrue(html.contains("<body><div class=\"datafel\" role=\"alert\""), "the banner comes first")
        XCTAssertTrue(html.contains("<li>\(HTMLReport.escape(error))</li>"), "the banner names the error")
        let json =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/bad/06-report/tables.json"))) as? [String: Any]
        XCTAssertEqual(json?["status"] as? String, "data-error")
        XCTAssertEqual(json?["data_errors"] as? [String], [error])
        let archive = try Archive(url: URL(fileURLWithPath: dir + "/bad/06-report/rapport.xlsx"), accessMode: .read)
        var workbook = Data()
        _ = try archive.extract(archive["xl/workbook.xml"]!) { workbook.append($0) }
        let names = String(decoding: workbook, as: UTF8.self).matches(of: /<sheet name="([^"]*)"/).map { String($0.output.1) }
        XCTAssertEqual(names.first, "DATAFEL", "\(names)")
        XCTAssertEqual(
            try StageManifest.read(from: dir + "/bad/02-normalize").totals["limit.rows_rejected"], 7, "the limit's figures are in the manifest")

        // A good run: no banner, status ok, no extra sheet.
        let good = try runRamkoll(["run", try smallPipelineCopy(in: dir, name: "good.yaml"), "--run-dir", dir + "/good", "--quiet"])
        XCTAssertEqual(good.status, 0, good.stdout + good.stderr)
        XCTAssertFalse(try String(contentsOfFile: dir + "/good/04-deviation/drift.txt", encoding: .utf8).contains("DATAFEL"))
        XCTAssertFalse(try String(contentsOfFile: dir + "/good/06-report/rapport.html", encoding: .utf8).contains("datafel"))
        let okJSON =
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/good/06-report/tables.json"))) as? [String: Any]
        XCTAssertEqual(okJSON?["status"] as? String, "ok")
    }

    func testAFailedWarehouseLoadIsInTheRecordAndRetryCompletesIt() throws {
        let dir = try TestPaths.temporaryDirectory()
        let pipeline = try smallPipelineCopy(in: dir)
        let runs = dir + "/runs"
        // A folder where the SQLite file should be: the load fails after every stage finished.
        try FileManager.default.createDirectory(atPath: runs + "/ramkoll.sqlite", withIntermediateDirectories: true)
        let r = try runRamkoll(["run", pipeline, "--runs", runs, "-q"])
        XCTAssertEqual(r.status, 1, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("warehouse: not loaded: "), r.stdout)
        let record = try XCTUnwrap(RunRecord.read(from: runs + "/all/2022-06.001"))
        XCTAssertEqual(record.state, "finished")
        XCTAssertEqual(record.exitStatus, 1)
        XCTAssertTrue(record.warehouse?.hasPrefix("failed: ") == true, record.warehouse ?? "nil")
        XCTAssertNil(RunStore(root: runs).resolve("latest"))

        try FileManager.default.removeItem(atPath: runs + "/ramkoll.sqlite")
        let retry = try runRamkoll(["retry", pipeline, "--runs", runs, "-q"])
        XCTAssertEqual(retry.status, 0, retry.stdout + retry.stderr)
        let second = try XCTUnwrap(RunRecord.read(from: runs + "/all/2022-06.002"))
        XCTAssertEqual(second.warehouse, "loaded")
        // The warehouse holds the finished record (no sync needed), and a load killed half-way would not be a good run.
        let sqlite = try SQLiteTarget(path: runs + "/ramkoll.sqlite")
        XCTAssertEqual(try sqlite.strings("SELECT state || ' ' || exit_status FROM runs WHERE run_id = ?", [.text("2022-06.002")]), ["finished 0"])
        var loading = second
        loading.warehouse = "loading"
        XCTAssertFalse(loading.isGood)
        XCTAssertEqual(second.stages.map(\.status), Array(repeating: "reused", count: 6))
        XCTAssertEqual(RunStore(root: runs).resolve("latest"), RunStore(root: runs).directory(of: "2022-06.002"))
    }

    // MARK: - A build knows who it is

    func testVersionNamesTheBuildAndAnotherBuildNeverReusesOutputs() throws {
        let version = try runRamkoll(["--version"])
        XCTAssertEqual(version.status, 0, version.stderr)
        let match = try XCTUnwrap(version.stdout.wholeMatch(of: /ramkoll 0\.1\.0 \(build (gnu-build-id:[0-9a-f]{16,}|sha256:[0-9a-f]{64})\)\n/))
        let build = String(match.output.1)

        // A run made in this test process (another build: the test bundle) and one by the binary.
        let dir = try TestPaths.temporaryDirectory()
        let pipeline = try smallPipelineCopy(in: dir)
        var o = Runner.Options(pipelinePath: pipeline)
        o.runsRoot = dir + "/runs"
        XCTAssertEqual(try Runner(logger: quietLogger).run(o).status, .ok)
        XCTAssertNotEqual(RamkollVersion.build, build)
        let r = try runRamkoll(["run", pipeline, "--runs", dir + "/runs", "--no-warehouse", "-q"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let record = try XCTUnwrap(RunRecord.read(from: dir + "/runs/all/2022-06.002"))
        XCTAssertEqual(record.build, build)
        XCTAssertEqual(record.stages.map(\.status), Array(repeating: "ran", count: 6), "nothing reused from another build")
        XCTAssertEqual(
            record.stages.first?.reason,
            "run 2022-06.001 was made by another build of ramkoll (\(RamkollVersion.build)); this is \(build)")
        let manifest = try StageManifest.read(from: dir + "/runs/all/2022-06.002/04-deviation")
        XCTAssertEqual(manifest.build, build)
        // The same build does reuse.
        let again = try runRamkoll(["run", pipeline, "--runs", dir + "/runs", "--no-warehouse", "-q"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(RunRecord.read(from: dir + "/runs/all/2022-06.003")?.stages.map(\.status), Array(repeating: "reused", count: 6))
        // A stage run alone refuses an earlier stage's output made by another build.
        let work = dir + "/work"
        try runPipeline(pipeline, runDir: work, selection: .only(.ingest))
        let only = try runRamkoll(["run", pipeline, "--run-dir", work, "--only", "normalize"])
        XCTAssertEqual(only.status, 66, only.stderr)
        XCTAssertTrue(
            only.stderr.hasSuffix(
                "\nramkoll: error: \(work)/01-ingest was made by another build of ramkoll (\(RamkollVersion.build); this is \(build)); rerun from ingest\n"
            ),
            only.stderr)
    }

    // MARK: - A run never dies without a record

    func testSIGTERMEndsTheRunWithItsRecordAndReleasesTheLock() throws {
        let dir = try TestPaths.temporaryDirectory()
        let runs = dir + "/runs"
        let (p, err) = try startRamkoll(["run", "Pipelines/exempelby.yaml", "--runs", runs, "--no-warehouse"])
        var seen = ""
        while p.isRunning, !seen.contains("stage started\" stage=normalize") {
            let chunk = err.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen += String(decoding: chunk, as: UTF8.self)
        }
        XCTAssertTrue(p.isRunning, "the sample run should still be in normalize")
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        seen += String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(p.terminationReason, .exit)
        XCTAssertEqual(p.terminationStatus, 143, seen)
        XCTAssertTrue(seen.hasSuffix("ramkoll: stopped by SIGTERM; run 2022-12.001 recorded as failed\n"), seen)
        let record = try XCTUnwrap(RunRecord.read(from: runs + "/all/2022-12.001"))
        XCTAssertEqual(record.state, "failed")
        XCTAssertEqual(record.exitStatus, 143)
        XCTAssertEqual(record.error, "stopped by SIGTERM; ramkoll retry resumes from the stage that did not finish")
        XCTAssertFalse(FileIO.exists(runs + "/locks/2022-12.lock"), "the lock is released")
        XCTAssertNil(RunStore(root: runs).resolve("latest"))
        let retry = try runRamkoll(["retry", "Pipelines/exempelby.yaml", "--runs", runs, "--no-warehouse", "-q"])
        XCTAssertEqual(retry.status, 0, retry.stdout + retry.stderr)
        XCTAssertFalse(retry.stderr.contains("stale lock"), retry.stderr)
        XCTAssertEqual(RunRecord.read(from: runs + "/all/2022-12.002")?.stages.first?.status, "reused")
    }

    func testLogWritesThatFailDoNotKillTheRun() throws {
        let dir = try TestPaths.temporaryDirectory()
        let pipeline = try smallPipelineCopy(in: dir)
        let exe = TestPaths.productsDirectory.appendingPathComponent("ramkoll")
        // Standard error on a full disk, and on a pipe whose reader has gone.
        for (name, stderr) in [
            ("full", FileHandle(forWritingAtPath: "/dev/full")!),
            (
                "closed",
                { () -> FileHandle in
                    let pipe = Pipe()
                    try? pipe.fileHandleForReading.close()
                    return pipe.fileHandleForWriting
                }()
            ),
        ] {
            let p = Process()
            p.executableURL = exe
            p.arguments = ["run", pipeline, "--runs", dir + "/runs-\(name)", "--no-warehouse", "--verbose"]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = stderr
            try p.run()
            p.waitUntilExit()
            XCTAssertEqual(p.terminationReason, .exit, name)
            XCTAssertEqual(p.terminationStatus, 0, name)
            let record = RunRecord.read(from: dir + "/runs-\(name)/all/2022-06.001")
            XCTAssertEqual(record?.state, "finished", name)
            XCTAssertEqual(record?.exitStatus, 0, name)
        }
    }

    // MARK: - Logs

    func testVerboseAndJSONLogs() throws {
        let dir = try TestPaths.temporaryDirectory()
        let pipeline = try smallPipelineCopy(in: dir)
        let v = try runRamkoll(["run", pipeline, "--run-dir", dir + "/run", "--verbose"])
        XCTAssertEqual(v.status, 0, v.stderr)
        let debug = v.stderr.split(separator: "\n").filter { $0.contains(" level=debug ") }
        for f in ["ledger-2021.csv", "ledger-2022.csv", "placements.xml", "budget.csv"] {
            XCTAssertTrue(debug.contains { $0.contains("msg=\"input fingerprinted\"") && $0.contains(f) }, "ingest names \(f):\n\(v.stderr)")
        }
        for s in ["a2021", "b2022", "plac"] {
            XCTAssertTrue(
                debug.contains { $0.contains("msg=\"source normalized\"") && $0.contains(" source=\(s)") }, "normalize names \(s):\n\(v.stderr)")
        }
        let plain = try runRamkoll(["run", pipeline, "--run-dir", dir + "/run2"])
        XCTAssertFalse(plain.stderr.contains("level=debug"), "debug lines only with --verbose")

        let j = try runRamkoll(["run", pipeline, "--run-dir", dir + "/run3", "--from", "deviation", "--log-format", "json"])
        XCTAssertEqual(j.status, 66, j.stderr)
        let events = j.stderr.split(separator: "\n")
        XCTAssertFalse(events.isEmpty)
        for e in events {
            let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(e.utf8)) as? [String: String], String(e))
            XCTAssertNotNil(object["ts"]); XCTAssertNotNil(object["level"]); XCTAssertNotNil(object["msg"])
        }
        let last = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(events.last!.utf8)) as? [String: String])
        XCTAssertEqual(last["level"], "error")
        XCTAssertEqual(last["exit"], "66")
        XCTAssertEqual(last["outcome"], "missing input")
        XCTAssertEqual(
            last["reason"], "\(dir)/run3/03-reconcile/manifest.json: no manifest; run the earlier stages first (ramkoll run PIPELINE --from STAGE)")
        let refused = try runRamkoll(["run", pipeline, "--log-format", "xml"])
        XCTAssertEqual(refused.status, 64)
        XCTAssertTrue(refused.stderr.contains("--log-format is key-value or json, not \"xml\""), refused.stderr)
    }
}
