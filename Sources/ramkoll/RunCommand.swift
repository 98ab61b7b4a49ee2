import ArgumentParser
import Foundation
import Logging
import RamkollHistory
import RamkollModel
import RamkollPipeline
import RamkollPostgres

/// What `run`, `retry` and `plan` share: the pipeline, the business date and where runs live.
struct RunTarget: ParsableArguments {
    @Argument(help: "The pipeline file (YAML), e.g. Pipelines/exempelby.yaml.", completion: .pipelineFile)
    var pipeline: String

    @Option(name: .customLong("as-of"), help: "Business date as YYYY-MM (defaults to the pipeline's as_of). Never taken from the clock.")
    var asOf: String?

    @Option(name: .customLong("runs"), help: "Folder of the pipeline's sealed runs (default: runs/<pipeline> beside the Pipelines folder).")
    var runsRoot: String?

    func validate() throws {
        if let a = asOf, Period(a) == nil { throw ValidationError("--as-of \"\(a)\" is not a period; expected YYYY-MM, e.g. 2022-12") }
    }

    func options() -> Runner.Options {
        var o = Runner.Options(pipelinePath: pipeline)
        o.asOf = asOf.flatMap(Period.init)
        o.runsRoot = runsRoot
        o.arguments = Array(CommandLine.arguments.dropFirst())
        return o
    }
}

extension CompletionKind {
    /// The stages, for `--only` and `--from`.
    static var stages: CompletionKind { .list(StageName.allCases.map(\.rawValue)) }
    /// Pipeline files (YAML).
    static var pipelineFile: CompletionKind { .file(extensions: ["yaml", "yml"]) }
}

/// `--only` and `--from` name a stage, and not both (`run`, `plan`).
func validateStages(only: String?, from: String?) throws {
    if only != nil && from != nil { throw ValidationError("give --only or --from, not both") }
    for s in [only, from].compactMap({ $0 }) where StageName(rawValue: s) == nil {
        throw ValidationError("unknown stage \"\(s)\"; stages are \(StageName.allCases.map(\.rawValue).joined(separator: ", "))")
    }
}

/// Runs the pipeline and reports; shared by `run` and `retry`.
enum RunReport {
    static func execute(_ options: Runner.Options, logger: Logger, quiet: Bool, warehouse: Bool = true) throws {
        do {
            let runner = Runner(logger: logger)
            var options = options
            if warehouse {
                // A sealed run is loaded into the warehouses before it is recorded as finished.
                let runsRoot = options.runsRoot
                options.warehouse = { dir, cfg in
                    let store = RunStore(root: runsRoot ?? Runner.defaultRunsRoot(cfg))
                    return try WarehouseLoad.load(run: dir, cfg: cfg, store: store, logger: logger)
                }
            }
            let outcome = try runner.run(options)
            let status = outcome.status
            let summary = outcome.summary
            if !quiet || status != .ok {
                print("ramkoll run: \(outcome.runDirectory)" + (outcome.runID.map { " (run \($0))" } ?? ""))
                for line in summary { print("  " + line) }
                print("  exit \(status.rawValue) (\(status.name))")
            }
            if status != .ok { throw ExitCode(status.rawValue) }
        } catch let e as RamkollError {
            ErrorReport.write(e.message, kind: e.kind == .locked ? "locked" : "error", status: ExitStatus(e.kind).rawValue)
            throw ExitCode(ExitStatus(e.kind).rawValue)
        } catch let e as ExitCode {
            throw e
        } catch {
            ErrorReport.write("\(error)", status: ExitStatus.failure.rawValue)
            throw ExitCode(ExitStatus.failure.rawValue)
        }
    }
}

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the pipeline into a new sealed run (or a working folder with --run-dir).",
        discussion: """
            Each run gets runs/<pipeline>/all/<as-of>.<NNN>; runs/<pipeline>/<as-of> and latest point at the newest. \
            A stage whose inputs, settings and tool version are unchanged since the period's newest run is reused \
            (its files linked); --only/--from/--force make stages run anyway. One run per pipeline and period at a \
            time: a second exits at once with 75 and names the holder. Stages: \(StageName.allCases.map(\.rawValue).joined(separator: ", ")).
            """
    )

    @OptionGroup var target: RunTarget

    @Option(help: "Run this stage even if it could be reused (with --run-dir: run only this stage).", completion: .stages)
    var only: String?

    @Option(help: "Run this stage and every stage after it even if they could be reused.", completion: .stages)
    var from: String?

    @Flag(help: "Run every stage, reusing nothing.")
    var force = false

    @Option(name: .customLong("run-dir"), help: "A working folder instead of a sealed run (its stages run in place).")
    var runDir: String?

    @Option(help: "What started the run, for the record: user or cron.")
    var trigger: String = "user"

    @Flag(name: .customLong("fail-on-deviation"), help: "Exit 3 when deviations are over threshold.")
    var failOnDeviation = false

    @Flag(name: .customLong("no-warehouse"), help: "Do not load the run into the warehouse now (ramkoll load does it later).")
    var noWarehouse = false

    @OptionGroup var log: LogOptions

    func validate() throws {
        try validateStages(only: only, from: from)
        guard ["user", "cron"].contains(trigger) else { throw ValidationError("--trigger is user or cron, not \"\(trigger)\"") }
    }

    func run() throws {
        let logger = RamkollLogging.bootstrapRamkoll(log)
        var options = target.options()
        if let o = only { options.selection = .only(StageName(rawValue: o)!) }
        if let f = from { options.selection = .from(StageName(rawValue: f)!) }
        options.runDirectory = runDir
        options.force = force
        options.trigger = trigger
        options.failOnDeviation = failOnDeviation
        try RunReport.execute(options, logger: logger, quiet: log.quiet, warehouse: !noWarehouse)
    }
}

struct RetryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Run again after the period's newest run failed or died, resuming from the stage that failed; a no-op after success."
    )

    @OptionGroup var target: RunTarget

    @Option(help: "What started the run, for the record: user or cron.")
    var trigger: String = "user"

    @Flag(name: .customLong("fail-on-deviation"), help: "Exit 3 when deviations are over threshold.")
    var failOnDeviation = false

    @Flag(name: .customLong("no-warehouse"), help: "Do not load the run into the warehouse now (ramkoll load does it later).")
    var noWarehouse = false

    @OptionGroup var log: LogOptions

    func run() throws {
        let quiet = log.quiet
        let logger = RamkollLogging.bootstrapRamkoll(log)
        var options = target.options()
        options.trigger = trigger
        options.failOnDeviation = failOnDeviation
        let runner = Runner(logger: logger)
        var done: (id: String, exit: Int32)?
        var repaired: [String] = []
        try failing {
            let (cfg, _) = try runner.load(options)
            let store = runner.store(options, cfg)
            done = Runner.succeeded(store, asOf: cfg.asOf)
            // A run killed while its links were switched finished well but is not pointed at.
            if done != nil { repaired = store.repairPointers() }
        }
        if let done {
            if !quiet || !repaired.isEmpty {
                print(
                    "ramkoll retry: nothing to retry; run \(done.id) finished with exit \(done.exit)"
                        + (repaired.isEmpty ? "" : "; links repaired: " + repaired.joined(separator: ", ")))
            }
            return
        }
        try RunReport.execute(options, logger: logger, quiet: quiet, warehouse: !noWarehouse)
    }
}

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "Print, per stage, whether a run would run it or reuse it, and why. Changes nothing.")

    @OptionGroup var target: RunTarget

    @Option(help: "As run --only.", completion: .stages) var only: String?
    @Option(help: "As run --from.", completion: .stages) var from: String?
    @Flag(help: "As run --force.") var force = false

    func validate() throws {
        try validateStages(only: only, from: from)
    }

    func run() throws {
        let logger = RamkollLogging.bootstrapRamkoll(level: .warning)
        var options = target.options()
        if let o = only { options.selection = .only(StageName(rawValue: o)!) }
        if let f = from { options.selection = .from(StageName(rawValue: f)!) }
        options.force = force
        let runner = Runner(logger: logger)
        try failing {
            let (cfg, _) = try runner.load(options)
            let store = runner.store(options, cfg)
            let decisions = try runner.plan(options, cfg: cfg, store: store)
            print("ramkoll plan: \(cfg.name) \(cfg.asOf) (newest run: \(store.runs(asOf: cfg.asOf).last ?? "none"))")
            for d in decisions {
                let what = d.run ? "run" : "reuse"
                print(
                    "  \(d.stage.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(what.padding(toLength: 6, withPad: " ", startingAt: 0)) \(d.reason)"
                )
            }
        }
    }
}

struct RunsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "List a pipeline's runs from the run history (SQLite), or show one run's record.")

    @OptionGroup var target: RunTarget

    @Option(help: "Show this run (an id such as 2022-12.003, a period for its newest run, or latest).")
    var show: String?

    func run() throws {
        let logger = RamkollLogging.bootstrapRamkoll(level: .warning)
        let options = target.options()
        let runner = Runner(logger: logger)
        try failing {
            let (cfg, _) = try runner.load(options)
            let store = runner.store(options, cfg)
            if let show {
                guard let dir = store.resolve(show), let record = RunRecord.read(from: dir) else {
                    throw RamkollError(.usage, "no run \"\(show)\" under \(store.root)")
                }
                print(
                    "run \(record.runID): \(record.pipeline) \(record.asOf), \(record.trigger), \(record.state), exit \(record.exitStatus.map(String.init) ?? "-")"
                )
                print(
                    "  started \(record.startedAt), finished \(record.finishedAt ?? "-"), tool \(record.toolVersion) (build \(record.build ?? "unnamed"))"
                )
                print("  arguments: \(record.arguments.joined(separator: " "))")
                if let e = record.error { print("  error: \(e)") }
                for s in record.stages {
                    print(
                        "  \(s.stage.padding(toLength: 10, withPad: " ", startingAt: 0)) \(s.status.padding(toLength: 7, withPad: " ", startingAt: 0)) \(s.reason)"
                    )
                    print(
                        "             \(s.rowsRead) rows read, \(s.rowsRejected) rejected, \(s.inputs.count) inputs, \(s.outputs.count) outputs, manifest \(s.manifestSha256?.prefix(12) ?? "-")"
                    )
                }
                return
            }
            let history = try RunHistory(path: store.historyPath)
            try history.sync(store)
            let rows = try history.list(asOf: target.asOf)
            print("ramkoll runs: \(cfg.name), \(rows.count) run\(rows.count == 1 ? "" : "s") (\(store.historyPath))")
            for r in rows {
                // Why a run is not good: its exit status by name, and the error that stopped it.
                let outcome =
                    r.exitStatus.map { e in ExitStatus(rawValue: Int32(e))?.name ?? (e > 128 ? "killed by signal \(e - 128)" : "failure") } ?? "-"
                let reason = r.error.map { "  reason: " + ($0.split(separator: "\n").first.map(String.init) ?? "") } ?? ""
                print(
                    "  \(r.runID)  \(r.trigger.padding(toLength: 4, withPad: " ", startingAt: 0))  \(r.startedAt)  \(r.state.padding(toLength: 8, withPad: " ", startingAt: 0))  exit \(r.exitStatus.map(String.init) ?? "-") (\(outcome))  ran: \(r.ran.joined(separator: ",").isEmpty ? "-" : r.ran.joined(separator: ","))  reused: \(r.reused.joined(separator: ",").isEmpty ? "-" : r.reused.joined(separator: ","))\(reason)"
                )
            }
        }
    }
}

/// Loads a sealed run into the SQLite warehouse beside the runs and, when the pipeline names one,
/// into PostgreSQL.
enum WarehouseLoad {
    static func load(run dir: String, cfg: PipelineConfig, store: RunStore, logger: Logger, postgresURL: String? = nil) throws -> [String] {
        var lines: [String] = []
        func describe(_ r: Warehouse.LoadReport, _ target: String) -> String {
            let loaded = r.loaded.values.reduce(0, +), inserted = r.inserted.values.reduce(0, +)
            logger.info(
                "warehouse loaded",
                metadata: [
                    "target": "\(target)", "rows": "\(loaded)", "new_rows": "\(inserted)", "seconds": "\((r.seconds * 1000).rounded() / 1000)",
                    "files_there_already": "\(r.alreadyThere.count)",
                ])
            return "warehouse: \(target): \(loaded) rows loaded (\(inserted) stored anew, the others held already)"
                + (r.alreadyThere.isEmpty ? "" : ", \(r.alreadyThere.count) tables' files were there already")
        }
        let sqlite = try SQLiteTarget(path: store.historyPath)
        lines.append(describe(try Warehouse.load(runDirectory: dir, into: sqlite), "SQLite"))
        var url = postgresURL
        if url == nil, let source = cfg.warehousePostgres {
            guard let u = source.resolve() else {
                if case .environment(let v) = source { throw RamkollError(.config, "warehouse postgres: the environment variable \(v) is not set") }
                return lines
            }
            url = u
        }
        if let url {
            let pg = try PostgresTarget(url: url, schema: cfg.warehouseSchema, logger: logger)
            lines.append(describe(try Warehouse.load(runDirectory: dir, into: pg), pg.name))
        }
        return lines
    }
}

struct LoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Load a run into the warehouse again (SQLite, and PostgreSQL when named); idempotent: a run's rows are replaced, never duplicated.")

    @Argument(help: "The run: an id (2022-12.003), a period (its newest run) or latest.")
    var runName: String
    @OptionGroup var target: RunTarget
    @Option(help: "A PostgreSQL URL to load into (default: the pipeline's warehouse postgres).")
    var postgres: String?

    func run() throws {
        let logger = RamkollLogging.bootstrapRamkoll(level: .warning)
        try failing {
            let runner = Runner(logger: logger)
            let options = target.options()
            let (cfg, _) = try runner.load(options)
            let store = runner.store(options, cfg)
            guard let dir = store.resolve(runName) else { throw RamkollError(.usage, "no run \"\(runName)\" under \(store.root)") }
            for line in try WarehouseLoad.load(run: dir, cfg: cfg, store: store, logger: logger, postgresURL: postgres) { print(line) }
        }
    }
}
