import Foundation
import XCTest

@testable import RamkollHistory
@testable import RamkollModel
@testable import RamkollPipeline

/// The operational side (issue 6): sealed runs, reuse, retry, locks, the run history.
final class OperationsTests: XCTestCase {
    func sealed(_ pipeline: String, runs: String, asOf: String? = nil, force: Bool = false, selection: Pipeline.Selection = .all)
        -> Runner.Options
    {
        var o = Runner.Options(pipelinePath: pipeline)
        o.runsRoot = runs
        o.force = force
        o.selection = selection
        if let asOf { o.asOf = Period(asOf) }
        return o
    }

    func statuses(_ outcome: Runner.Outcome) -> [String] { outcome.record!.stages.map { "\($0.stage)=\($0.status)" } }

    func hashes(_ dir: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for f in filesBelow(dir) { out[f] = try FileIO.sha256(ofFile: dir + "/" + f).hex }
        return out
    }

    /// A run gets a new folder, never writes into an earlier one, reuses what did not change and
    /// runs what did; `latest` and the period's link follow the newest run.
    func testSealedRunsReuseWhatDidNotChange() throws {
        let dir = try TestPaths.temporaryDirectory()
        let pipeline = try smallPipelineCopy(in: dir)
        // The budget is edited below: give the copy its own.
        let budget = try TestPaths.write(
            try String(contentsOfFile: TestPaths.fixture("small/budget.csv"), encoding: .utf8), name: "budget.csv", in: dir)
        let text = try String(contentsOfFile: pipeline, encoding: .utf8)
        try text.replacingOccurrences(of: TestPaths.fixture("small/budget.csv"), with: budget).write(
            toFile: pipeline, atomically: true, encoding: .utf8)
        let runs = dir + "/runs"
        let runner = Runner(logger: quietLogger)

        let first = try runner.run(sealed(pipeline, runs: runs))
        XCTAssertEqual(first.runID, "2022-06.001")
        XCTAssertEqual(Set(statuses(first)), Set(StageName.allCases.map { "\($0.rawValue)=ran" }))
        let firstFiles = try hashes(first.runDirectory)

        let second = try runner.run(sealed(pipeline, runs: runs))
        XCTAssertEqual(second.runID, "2022-06.002")
        XCTAssertEqual(statuses(second), StageName.allCases.map { "\($0.rawValue)=reused" })
        XCTAssertEqual(second.status, first.status)
        XCTAssertEqual(second.summary.dropFirst().joined(), first.summary.joined(), "a reused stage reports what it reported")
        // The same bytes (run.json and timings aside).
        let secondFiles = try hashes(second.runDirectory)
        XCTAssertEqual(
            secondFiles.filter { !$0.key.hasSuffix("run.json") }, firstFiles.filter { !$0.key.hasSuffix("run.json") })

        // A changed budget: normalize runs (and ingest, which fingerprints it); what follows runs
        // because normalize's outputs changed. `plan` says so before.
        try
            (String(contentsOfFile: budget, encoding: .utf8).replacingOccurrences(of: "U1;KB;296 000;", with: "U1;KB;296 100;")
            .replacingOccurrences(of: "U1;PERS;-150 000;", with: "U1;PERS;-150 100;")).write(toFile: budget, atomically: true, encoding: .utf8)
        let plan = try runner.plan(sealed(pipeline, runs: runs), cfg: runner.load(sealed(pipeline, runs: runs)).0, store: RunStore(root: runs))
        XCTAssertEqual(plan.map(\.run), [true, true, true, true, true, true])
        XCTAssertTrue(plan[0].reason.contains("budget.csv changed since run 2022-06.002"), plan[0].reason)
        XCTAssertTrue(plan[1].reason.contains("budget.csv changed"), plan[1].reason)
        XCTAssertTrue(plan[2].reason.contains("runs unless ingest writes the same bytes"), plan[2].reason)
        let third = try runner.run(sealed(pipeline, runs: runs))
        XCTAssertEqual(statuses(third), StageName.allCases.map { "\($0.rawValue)=ran" })
        XCTAssertEqual(try hashes(first.runDirectory), firstFiles, "an earlier run is never written again")

        // --only reruns one stage; its unchanged outputs leave the later stages reused.
        let fourth = try runner.run(sealed(pipeline, runs: runs, selection: .only(.reconcile)))
        XCTAssertEqual(
            statuses(fourth), ["ingest=reused", "normalize=reused", "reconcile=ran", "deviation=reused", "prognosis=reused", "report=reused"])
        let fifth = try runner.run(sealed(pipeline, runs: runs, force: true))
        XCTAssertEqual(statuses(fifth), StageName.allCases.map { "\($0.rawValue)=ran" })

        let store = RunStore(root: runs)
        XCTAssertEqual(store.runs(), ["2022-06.001", "2022-06.002", "2022-06.003", "2022-06.004", "2022-06.005"])
        XCTAssertEqual(store.resolve("latest"), store.directory(of: "2022-06.005"))
        XCTAssertEqual(store.resolve("2022-06"), store.directory(of: "2022-06.005"))
        XCTAssertEqual(
            try FileManager.default.destinationOfSymbolicLink(atPath: runs + "/2022-06"), "all/2022-06.005")

        // The history (SQLite) lists every run with its stages, and a second sync adds nothing twice.
        let history = try RunHistory(path: store.historyPath)
        XCTAssertEqual(try history.sync(store), 5)
        try history.sync(store)
        let rows = try history.list()
        XCTAssertEqual(rows.map(\.runID), store.runs())
        XCTAssertEqual(rows[1].reused.count, 6)
        XCTAssertEqual(rows[3].ran, ["reconcile"])
        XCTAssertEqual(rows.map(\.exitStatus), [0, 0, 0, 0, 0])
    }

    /// A stage that fails ends the run with a record of how far it got; `retry` resumes from that
    /// stage (reusing what the failed run completed) and is a no-op after success.
    func testRetryResumesFromTheFailedStage() throws {
        struct Broken: Stage {
            let name = StageName.deviation
            func run(_ context: StageContext) throws -> StageResult { throw RamkollError(.internalFailure, "disk full (simulated)") }
        }
        let dir = try TestPaths.temporaryDirectory()
        let pipeline = try smallPipelineCopy(in: dir)
        let runs = dir + "/runs"
        var stages = Pipeline.standard.stages
        stages[3] = Broken()
        XCTAssertThrowsError(try Runner(logger: quietLogger, pipeline: Pipeline(stages: stages)).run(sealed(pipeline, runs: runs)))
        let store = RunStore(root: runs)
        let failed = RunRecord.read(from: store.directory(of: "2022-06.001"))!
        XCTAssertEqual(failed.state, "failed")
        XCTAssertEqual(failed.exitStatus, 1)
        XCTAssertEqual(failed.error, "disk full (simulated)")
        XCTAssertEqual(failed.stages.map(\.status), ["ran", "ran", "ran", "failed"])
        XCTAssertNil(store.resolve("latest"), "a failed run is not pointed at")

        let runner = Runner(logger: quietLogger)
        let retried = try XCTUnwrap(try runner.retry(sealed(pipeline, runs: runs)))
        XCTAssertEqual(
            statuses(retried), ["ingest=reused", "normalize=reused", "reconcile=reused", "deviation=ran", "prognosis=ran", "report=ran"])
        XCTAssertEqual(retried.status, .ok)
        XCTAssertNil(try runner.retry(sealed(pipeline, runs: runs)), "nothing to retry after success")
        XCTAssertEqual(store.runs(), ["2022-06.001", "2022-06.002"])
    }

    /// The cron contract: two overlapping runs — the second exits at once with 75 and names the
    /// holder; the first finishes normally. Then a stale lock (its process gone) is taken over.
    func testOverlappingRunsAndAStaleLock() throws {
        let dir = try TestPaths.temporaryDirectory()
        let pipeline = try SampleTablesTests.samplePipelineCopy(in: dir)  // long enough to overlap
        let runs = dir + "/runs"
        let start = startRamkoll
        let (first, firstErr) = try start(["run", pipeline, "--runs", runs, "-q", "--as-of", "2022-08"])
        let lock = runs + "/locks/2022-08.lock"
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: lock) && first.isRunning && Date() < deadline { usleep(20_000) }
        XCTAssertTrue(first.isRunning, "the first run is still under way")
        let (second, secondErr) = try start(["run", pipeline, "--runs", runs, "-q", "--as-of", "2022-08"])
        second.waitUntilExit()
        let message = String(decoding: secondErr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(second.terminationStatus, 75, message)
        XCTAssertTrue(message.contains("another run holds the lock"), message)
        XCTAssertTrue(message.contains("process \(first.processIdentifier)"), message)
        XCTAssertTrue(first.isRunning, "the second did not wait for the first")
        first.waitUntilExit()
        _ = firstErr.fileHandleForReading.readDataToEndOfFile()
        XCTAssertEqual(first.terminationStatus, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: lock), "the lock is released")
        XCTAssertEqual(RunStore(root: runs).runs(), ["2022-08.001"], "the locked run made no folder")

        // A stale lock: a process that has ended.
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        var holder = RunLock.Holder.current(arguments: ["run", "(a run that was killed)"])
        holder.pid = gone.processIdentifier
        try JSONEncoder().encode(holder).write(to: URL(fileURLWithPath: lock))
        let (third, thirdErr) = try start(["run", pipeline, "--runs", runs, "--as-of", "2022-08"])
        third.waitUntilExit()
        let log = String(decoding: thirdErr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(third.terminationStatus, 0, log)
        XCTAssertTrue(log.contains("stale lock taken over"), log)
        XCTAssertTrue(log.contains("process \(gone.processIdentifier)"), log)
        XCTAssertEqual(RunStore(root: runs).runs(), ["2022-08.001", "2022-08.002"])
    }

    /// The auditor's commands on the sample: `explain` of a Drift figure lists the source rows and
    /// they sum exactly to it; `verify` passes and then names a changed file; `diff` names the
    /// changed input and figures.
    func testExplainVerifyAndDiffOnTheSample() throws {
        let dir = try TestPaths.temporaryDirectory()
        let pipeline = try SampleTablesTests.samplePipelineCopy(in: dir)
        let runs = dir + "/runs"
        let run = try Runner(logger: quietLogger).run(sealed(pipeline, runs: runs))
        XCTAssertEqual(run.status, .ok)

        // The Drift table's Årets resultat for the committee, and one unit's purchased care in May.
        let drift = try SampleEndToEndTests.parseCSV(String(contentsOfFile: run.runDirectory + "/04-deviation/drift.csv", encoding: .utf8))
        let res = drift.first { $0[0] == "SN" && $0[3] == "RES" }!
        let e = try Audit.explain(runDirectory: run.runDirectory, unit: "SN", line: "RES", period: nil)
        XCTAssertEqual(e.total, e.reported)
        XCTAssertEqual(String(e.total.tkr), res[6], "the Drift figure (tkr) is the explained sum rounded once")
        XCTAssertGreaterThan(e.rows.count, 27_000)
        XCTAssertEqual(e.rows.reduce(Ore.zero) { $0 + $1.amount }, e.total)
        let may = try Audit.explain(runDirectory: run.runDirectory, unit: "VM-MYN", line: "KOP", period: Period("2022-05"))
        XCTAssertEqual(may.total, may.reported)
        XCTAssertFalse(may.rows.isEmpty)
        for r in may.rows {
            XCTAssertEqual(r.unit, "VM-MYN")
            XCTAssertTrue(r.raw.contains(";\(r.account);\(r.ansvar);"), "the raw source line: \(r.raw)")
            XCTAssertEqual(r.fileSha256.count, 64)
        }
        // Every row's raw line really is that line of the source file.
        let source = try String(contentsOfFile: TestPaths.root.path + "/SampleInputs/ledger/kontoutdrag-2022-h1.csv", encoding: .windowsCP1252)
        let sourceLines = source.components(separatedBy: "\r\n").flatMap { $0.components(separatedBy: "\n") }
        for r in may.rows where r.file.hasSuffix("kontoutdrag-2022-h1.csv") { XCTAssertEqual(sourceLines[r.line - 1], r.raw) }

        var v = try Audit.verify(runDirectory: run.runDirectory)
        XCTAssertEqual(v.findings, [])
        XCTAssertGreaterThan(v.files, 40)
        let victim = run.runDirectory + "/03-reconcile/care_days.csv"
        XCTAssertEqual(
            (try FileManager.default.attributesOfItem(atPath: victim)[.posixPermissions] as? NSNumber)?.intValue, 0o444,
            "a sealed run's files are read-only")
        chmod(victim, 0o644)
        try (String(contentsOfFile: victim, encoding: .utf8) + "BU-FAM;2022-12;Familjehem;1;1;100\n").write(
            toFile: victim, atomically: false, encoding: .utf8)
        v = try Audit.verify(runDirectory: run.runDirectory)
        XCTAssertEqual(v.findings.map(\.stage), ["reconcile"])
        XCTAssertTrue(v.findings[0].problem.hasPrefix("care_days.csv changed"), v.findings[0].problem)

        // diff: the same inputs give no differences; a run at another period shows its figures.
        let again = try Runner(logger: quietLogger).run(sealed(pipeline, runs: runs, asOf: "2022-08"))
        let d = try Audit.diff(again.runDirectory, run.runDirectory)
        XCTAssertEqual(d.inputs, [])
        XCTAssertTrue(d.settingsChanged, "another as-of period is another settings hash")
        XCTAssertTrue(d.figures.contains { $0.hasPrefix("SN RES: utfall 1 185 ") }, d.figures.first { $0.hasPrefix("SN RES") } ?? "")
    }
}
