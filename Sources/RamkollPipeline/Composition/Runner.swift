import Foundation
import Logging
import RamkollModel

/// Exit codes are interface: the nightly job and wrappers branch on them (README "Exit codes").
public enum ExitStatus: Int32, Sendable {
    case ok = 0
    case failure = 1
    case deviationsOverThreshold = 3
    case usage = 64
    case dataError = 65
    case missingInput = 66
    /// Another run of the same pipeline and period is under way (EX_TEMPFAIL: try again later).
    case locked = 75
    case configError = 78

    /// The status as the README's exit-code table names it, for summaries and logs.
    public var name: String {
        switch self {
        case .ok: return "ok"
        case .failure: return "failure"
        case .deviationsOverThreshold: return "deviations over threshold"
        case .usage: return "usage error"
        case .dataError: return "data error"
        case .missingInput: return "missing input"
        case .locked: return "locked"
        case .configError: return "pipeline not valid"
        }
    }

    public init(_ kind: RamkollError.Kind) {
        switch kind {
        case .usage: self = .usage
        case .config: self = .configError
        case .input: self = .missingInput
        case .data: self = .dataError
        case .internalFailure: self = .failure
        case .locked: self = .locked
        }
    }
}

/// Composition: pipeline file → validated config and mappings → stages → outcome.
///
/// By default a run is sealed (`RunStore`): it holds its period's lock, gets a new folder
/// `runs/<pipeline>/all/<as-of>.<NNN>`, reuses every stage whose inputs, settings and tool version
/// are unchanged since the period's newest earlier run (`Reuse`), runs the others, keeps
/// `run.json` and then points `runs/<pipeline>/<as-of>` and `latest` at it. `--only`/`--from` (and
/// `--force`, all stages) make stages run even when they could be reused. With `--run-dir` the
/// stages run in that folder as they are asked to (a working folder, locked beside it).
public struct Runner {
    public struct Options: Sendable {
        public var pipelinePath: String
        public var asOf: Period?
        public var selection: Pipeline.Selection = .all
        /// A working folder instead of a sealed run.
        public var runDirectory: String?
        /// Where sealed runs live (default `runs/<pipeline>` beside the pipeline's folder).
        public var runsRoot: String?
        public var force = false
        public var failOnDeviation = false
        /// `cron` or `user`, for the run record.
        public var trigger = "user"
        public var arguments: [String] = []
        /// Loads a sealed run into the warehouse once its stages are done (before it is recorded
        /// as finished, so a failed or killed load is in its record and `retry` completes it);
        /// returns the summary lines.
        public var warehouse: (@Sendable (_ runDirectory: String, _ config: PipelineConfig) throws -> [String])?
        public init(pipelinePath: String) { self.pipelinePath = pipelinePath }
    }

    public struct Outcome: Sendable {
        public var status: ExitStatus
        public var runDirectory: String
        public var runID: String?
        public var results: [StageResult]
        public var summary: [String]
        public var record: RunRecord?
    }

    public let logger: Logger
    public let pipeline: Pipeline

    public init(logger: Logger, pipeline: Pipeline = .standard) { self.logger = logger; self.pipeline = pipeline }

    /// Loads and validates a pipeline with its mapping tables (what `ramkoll check` reports).
    public static func check(_ path: String) -> (PipelineConfig?, MappingTables?, [Diagnostic]) {
        let (cfg, d1) = PipelineConfig.load(path: path)
        guard let cfg else { return (nil, nil, d1) }
        // Check the mapping tables too when their files exist, so one pass names every problem.
        let m = cfg.mappings
        guard cfg.readsMoney ? !m.accounts.isEmpty : m.accounts.isEmpty, !m.units.isEmpty, !m.ansvar.isEmpty,
            m.all.allSatisfy(FileIO.exists)
        else { return (nil, nil, d1) }
        let (maps, d2) = MappingTables.load(cfg)
        let all = d1 + d2
        return (all.contains { $0.severity == .error } ? nil : cfg, maps, all)
    }

    /// The validated config (with `--as-of` applied) and mappings, or a config error.
    public func load(_ options: Options) throws -> (PipelineConfig, MappingTables) {
        let (loaded, maps, diagnostics) = Runner.check(options.pipelinePath)
        for d in diagnostics where d.severity == .warning {
            logger.warning("pipeline warning", metadata: ["where": "\(d.location)", "problem": "\(d.message)"])
        }
        guard var cfg = loaded, let maps else {
            let errors = diagnostics.filter { $0.severity == .error }.map(\.description)
            throw RamkollError(
                .config, "the pipeline is not valid (ramkoll check \(options.pipelinePath) lists the problems):\n" + errors.joined(separator: "\n"))
        }
        if let a = options.asOf {
            guard a.year == cfg.fiscalYear else {
                let advice =
                    a.year > cfg.fiscalYear
                    ? "the fiscal year \(cfg.fiscalYear) has ended: its year-end runs with --as-of \(cfg.fiscalYear)-12, and the months of \(a.year) need the next year's pipeline (a copy with fiscal_year: \(a.year), that year's budget and sources)"
                    : "runs of \(a.year) need that year's pipeline"
                throw RamkollError(.usage, "--as-of \(a) is not in the pipeline's fiscal year \(cfg.fiscalYear); \(advice)")
            }
            cfg.asOf = a
        }
        return (cfg, maps)
    }

    public static func defaultRunsRoot(_ cfg: PipelineConfig) -> String {
        URL(fileURLWithPath: cfg.baseDirectory + "/../runs/\(cfg.name)").standardizedFileURL.path
    }

    public func store(_ options: Options, _ cfg: PipelineConfig) -> RunStore {
        RunStore(root: options.runsRoot ?? Runner.defaultRunsRoot(cfg))
    }

    public func run(_ options: Options) throws -> Outcome {
        let (cfg, maps) = try load(options)
        let holder = RunLock.Holder.current(arguments: options.arguments)
        if let runDir = options.runDirectory {
            let absRun = URL(fileURLWithPath: runDir).standardizedFileURL.path
            let lock = try takeLock(path: absRun + ".lock", holder: holder)
            RunInterruption.holding(lock)
            defer { RunInterruption.ended(); lock.release() }
            try FileIO.createDirectory(absRun)
            let ctx = StageContext(
                config: cfg, mappings: maps, runDirectory: absRun, settingsHash: try cfg.settingsHash(), logger: logger, store: store(options, cfg))
            logger.info("run started", metadata: ["pipeline": "\(cfg.name)", "as_of": "\(cfg.asOf)", "run_dir": "\(absRun)"])
            let results = try pipeline.run(ctx, selection: options.selection)
            let (status, summary) = status(results, cfg: cfg, options: options)
            return Outcome(status: status, runDirectory: absRun, runID: nil, results: results, summary: summary, record: nil)
        }
        let store = store(options, cfg)
        let lock = try takeLock(path: store.lockPath(asOf: cfg.asOf), holder: holder)
        RunInterruption.holding(lock)
        defer { RunInterruption.ended(); lock.release() }
        for repair in store.repairPointers() {
            logger.warning("run links repaired", metadata: ["what": "\(repair)"])
        }
        return try runSealed(options, cfg: cfg, maps: maps, store: store)
    }

    /// `ramkoll retry`: nil (nothing to do) when the period's newest run finished with 0 or 3;
    /// otherwise a new run, which reuses what the failed or dead run completed.
    public func retry(_ options: Options) throws -> Outcome? {
        let (cfg, _) = try load(options)
        if let done = Runner.succeeded(store(options, cfg), asOf: cfg.asOf) {
            logger.info("nothing to retry", metadata: ["run": "\(done.id)", "exit": "\(done.exit)"])
            return nil
        }
        return try run(options)
    }

    /// A run that ended with this status may be pointed at (finished 0 or 3).
    public static func isGood(_ status: ExitStatus) -> Bool { status == .ok || status == .deviationsOverThreshold }

    /// The period's newest run, when it finished with 0 or 3 (there is nothing to retry).
    public static func succeeded(_ store: RunStore, asOf: Period) -> (id: String, exit: Int32)? {
        guard let last = store.runs(asOf: asOf).last, let record = RunRecord.read(from: store.directory(of: last)), record.isGood,
            let exit = record.exitStatus
        else { return nil }
        return (last, exit)
    }

    private func takeLock(path: String, holder: RunLock.Holder) throws -> RunLock {
        let lock = try RunLock.acquire(path: path, holder: holder)
        if let stale = lock.replacedStale {
            logger.warning("stale lock taken over", metadata: ["lock": "\(path)", "holder": "\(stale.description)"])
        }
        return lock
    }

    /// The run to compare a stage with: the period's newest run that completed that stage (so a
    /// run that died in reconcile still lends its ingest and normalize).
    static func candidate(for stage: StageName, in store: RunStore, asOf: Period, excluding: String? = nil) -> (String, String)? {
        for id in store.runs(asOf: asOf).reversed() where id != excluding {
            let dir = store.directory(of: id)
            if FileIO.exists(dir + "/" + stage.folder + "/manifest.json") { return (id, dir) }
        }
        return nil
    }

    /// Per stage: run or reuse, against the period's earlier runs (`ramkoll plan`).
    public func plan(_ options: Options, cfg: PipelineConfig, store: RunStore) throws -> [Reuse.Decision] {
        let settingsHash = try cfg.settingsHash()
        var decisions: [Reuse.Decision] = []
        var firstRun: StageName?
        for stage in pipeline.stages.map(\.name) {
            let previous = Runner.candidate(for: stage, in: store, asOf: cfg.asOf)
            let d = decide(stage, options: options, cfg: cfg, settingsHash: settingsHash, previous: previous, upstream: nil, firstRun: firstRun)
            if d.run { firstRun = firstRun ?? stage }
            decisions.append(d)
        }
        return decisions
    }

    /// One stage's decision. `upstream` is the new run's folder (its earlier stages done); nil
    /// when only planning, where a stage after one that runs cannot be known yet.
    func decide(
        _ stage: StageName, options: Options, cfg: PipelineConfig, settingsHash: String, previous: (String, String)?, upstream: String?,
        firstRun: StageName?
    ) -> Reuse.Decision {
        guard let previous else { return .init(stage: stage, run: true, reason: "no earlier run of \(cfg.asOf) completed \(stage.rawValue)") }
        if options.force || (options.selection != .all && options.selection.includes(stage)) {
            return .init(stage: stage, run: true, reason: options.force ? "--force" : "asked for (--only/--from)")
        }
        let check = Reuse.check(stage, candidate: previous, upstream: upstream ?? previous.1, config: cfg, settingsHash: settingsHash)
        if let u = firstRun, upstream == nil {
            return .init(
                stage: stage, run: true,
                reason: check.reusable ? "runs unless \(u.rawValue) writes the same bytes as in run \(previous.0) (then reused)" : check.reason)
        }
        return .init(stage: stage, run: !check.reusable, reason: check.reason, source: check.reusable ? previous : nil)
    }

    private func runSealed(_ options: Options, cfg: PipelineConfig, maps: MappingTables, store: RunStore) throws -> Outcome {
        let settingsHash = try cfg.settingsHash()
        let (id, dir) = try store.newRun(asOf: cfg.asOf)
        var record = RunRecord(
            runID: id, pipeline: cfg.name, pipelineFile: URL(fileURLWithPath: options.pipelinePath).standardizedFileURL.path,
            asOf: cfg.asOf.description, trigger: options.trigger, arguments: options.arguments, settingsSha256: settingsHash,
            startedAt: ISO8601DateFormatter().string(from: Date()), state: "running")
        try RunInterruption.write(record, to: dir)
        let ctx = StageContext(config: cfg, mappings: maps, runDirectory: dir, settingsHash: settingsHash, logger: logger, store: store)
        logger.info("run started", metadata: ["pipeline": "\(cfg.name)", "as_of": "\(cfg.asOf)", "run": "\(id)", "run_dir": "\(dir)"])
        var results: [StageResult] = []
        for stage in pipeline.stages {
            // Decide against the new run's folder: earlier stages are already in it (linked or run).
            let previous = Runner.candidate(for: stage.name, in: store, asOf: cfg.asOf, excluding: id)
            let decision = decide(
                stage.name, options: options, cfg: cfg, settingsHash: settingsHash, previous: previous, upstream: dir, firstRun: nil)
            logger.debug(
                "stage decision",
                metadata: ["stage": "\(stage.name.rawValue)", "decision": "\(decision.run ? "run" : "reuse")", "reason": "\(decision.reason)"])
            if decision.run == false, let source = decision.source {
                try RunStore.reuse(folder: stage.name.folder, from: source.directory, into: dir)
                let manifest = try StageManifest.read(from: dir + "/" + stage.name.folder)
                let old = RunRecord.read(from: source.directory)?.stages.first { $0.stage == stage.name.rawValue }
                var result = StageResult(
                    manifest: manifest, summary: old?.summary ?? [], rejectedRows: old?.rowsRejected ?? 0, readRows: old?.rowsRead ?? 0,
                    dataErrors: old?.dataErrors ?? [])
                result.deviationsOverThreshold = old?.deviationsOverThreshold ?? 0
                results.append(result)
                record.stages.append(entry(stage.name, "reused", decision.reason, reusedFrom: source.id, result: result, seconds: nil, dir: dir))
                logger.info("stage reused", metadata: ["stage": "\(stage.name.rawValue)", "from": "\(source.id)"])
            } else {
                do {
                    let (result, seconds) = try Pipeline.runStage(stage, ctx)
                    results.append(result)
                    record.stages.append(entry(stage.name, "ran", decision.reason, reusedFrom: nil, result: result, seconds: seconds, dir: dir))
                } catch {
                    record.stages.append(
                        RunRecord.StageEntry(
                            stage: stage.name.rawValue, status: "failed", reason: decision.reason, reusedFrom: nil, seconds: nil, rowsRead: 0,
                            rowsRejected: 0, deviationsOverThreshold: 0, dataErrors: [], summary: [], manifestSha256: nil, inputs: [], outputs: []))
                    record.state = "failed"
                    record.error = (error as? RamkollError)?.message ?? "\(error)"
                    record.exitStatus = (error as? RamkollError).map { ExitStatus($0.kind).rawValue } ?? ExitStatus.failure.rawValue
                    record.finishedAt = ISO8601DateFormatter().string(from: Date())
                    try? RunInterruption.write(record, to: dir)
                    RunStore.seal(dir)
                    throw error
                }
            }
            try RunInterruption.write(record, to: dir)
        }
        // Closed months: compared with the period's previous good run (a warning, or locked: a data error).
        let closed = try ClosedMonths.check(run: dir, id: id, store: store, asOf: cfg.asOf)
        record.closedMonths = closed
        for c in closed ?? [] { logger.warning("closed month changed", metadata: ["what": "\(c)"]) }
        var (status, summary) = status(
            results, cfg: cfg, options: options, closedMonths: cfg.closedMonthsLocked ? closed ?? [] : [],
            warnings: cfg.closedMonthsLocked ? [] : (closed ?? []).map { "warning: " + $0 })
        let reused = record.stages.filter { $0.status == "reused" }.map(\.stage)
        if !reused.isEmpty { summary.insert("run \(id): reused \(reused.joined(separator: ", ")) (unchanged since an earlier run)", at: 0) }
        if let load = options.warehouse {
            // The stages are done; the warehouse load is part of the run's record. The record the
            // warehouse gets is the finished one; until the load is done it says "loading", which
            // is not a good run (a load killed half-way is retried). A failed load loses nothing
            // (the run's files are the data) but is not a success: retry loads again.
            record.state = "finished"
            record.exitStatus = status.rawValue
            record.finishedAt = ISO8601DateFormatter().string(from: Date())
            record.warehouse = "loading"
            try RunInterruption.write(record, to: dir)
            do {
                summary += try load(dir, cfg)
                record.warehouse = "loaded"
            } catch {
                let reason = (error as? RamkollError)?.message ?? "\(error)"
                record.warehouse = "failed: " + reason
                summary.append("warehouse: not loaded: \(reason) — ramkoll retry (or ramkoll load \(id)) loads it")
                logger.error("warehouse not loaded", metadata: ["reason": "\(reason)"])
                if status == .ok || status == .deviationsOverThreshold { status = .failure }
            }
        }
        record.state = "finished"
        record.exitStatus = status.rawValue
        record.finishedAt = ISO8601DateFormatter().string(from: Date())
        try RunInterruption.write(record, to: dir)
        RunStore.seal(dir)
        // Only a good run (0 or 3) becomes the period's link and latest.
        for change in store.repairPointers() where !change.hasSuffix("→ \(id)") {
            logger.warning("run links repaired", metadata: ["what": "\(change)"])
        }
        if !Runner.isGood(status) {
            summary.append("run \(id) is not the period's link or latest: it ended with \(status.rawValue) (\(status.name))")
        }
        return Outcome(status: status, runDirectory: dir, runID: id, results: results, summary: summary, record: record)
    }

    private func entry(
        _ stage: StageName, _ status: String, _ reason: String, reusedFrom: String?, result: StageResult, seconds: Double?, dir: String
    ) -> RunRecord.StageEntry {
        let manifestPath = dir + "/" + stage.folder + "/manifest.json"
        return RunRecord.StageEntry(
            stage: stage.rawValue, status: status, reason: reason, reusedFrom: reusedFrom, seconds: seconds, rowsRead: result.readRows,
            rowsRejected: result.rejectedRows, deviationsOverThreshold: result.deviationsOverThreshold, dataErrors: result.dataErrors,
            summary: result.summary, manifestSha256: try? FileIO.sha256(ofFile: manifestPath).hex, inputs: result.manifest.inputs,
            outputs: result.manifest.outputs)
    }

    /// The exit status of a run from its stages' results, and the summary lines.
    func status(
        _ results: [StageResult], cfg: PipelineConfig, options: Options, closedMonths: [String] = [], warnings: [String] = []
    ) -> (ExitStatus, [String]) {
        var summary = results.flatMap(\.summary) + warnings
        let unbalanced = results.flatMap { r in
            r.manifest.balances.filter { !$0.balanced }.map { "\(r.manifest.stage): \($0.identity) (\($0.left) ≠ \($0.right))" }
        }
        let rejected = results.reduce(0) { $0 + $1.rejectedRows }, read = results.reduce(0) { $0 + $1.readRows }
        let dataErrors = results.flatMap(\.dataErrors) + closedMonths.map { $0 + " (settings.closed_months: locked)" }
        let over = results.reduce(0) { $0 + $1.deviationsOverThreshold }
        var status = ExitStatus.ok
        if !unbalanced.isEmpty {
            summary.append("FAILED: control totals do not balance: " + unbalanced.joined(separator: "; "))
            status = .failure
        } else if !dataErrors.isEmpty || DataErrors.rejectLimit(rejected: rejected, read: read, limit: cfg.rejectLimit) != nil {
            // Every data error is named, each on its own line.
            for e in dataErrors { summary.append("data error: " + e) }
            if let e = DataErrors.rejectLimit(rejected: rejected, read: read, limit: cfg.rejectLimit) { summary.append("data error: " + e) }
            status = .dataError
        } else if over > 0 && options.failOnDeviation {
            status = .deviationsOverThreshold
        }
        if rejected > 0 && status == .ok { summary.append("normalize: \(rejected) rows rejected in all — see 02-normalize/rejects.csv") }
        logger.info("run finished", metadata: ["status": "\(status.rawValue)", "rejected": "\(rejected)", "deviations_over_threshold": "\(over)"])
        return (status, summary)
    }
}
