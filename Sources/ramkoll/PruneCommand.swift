import ArgumentParser
import Foundation
import RamkollHistory
import RamkollModel
import RamkollPipeline
import RamkollPostgres

/// `ramkoll prune`: a year of nights fits on a disk. Removes old runs' folders and their rows in
/// the warehouse, keeping the newest runs, every period's newest good run (the month-close run,
/// which the period's link names, and so every checkpoint) and any run still under way.
struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract:
            "Remove old runs' folders and their warehouse rows, keeping the newest runs, every period's newest good run (month-close runs and checkpoints) and runs under way."
    )

    @Argument(help: "The pipeline file (YAML).", completion: .pipelineFile)
    var pipeline: String

    @Option(help: "How many of the newest runs to keep besides every period's newest good run.")
    var keep: Int = 30

    @Option(name: .customLong("runs"), help: "Folder of the pipeline's sealed runs (default: runs/<pipeline> beside the Pipelines folder).")
    var runsRoot: String?

    @Flag(name: .customLong("dry-run"), help: "Say what would be removed, and remove nothing.")
    var dryRun = false

    @Flag(name: [.short, .long], help: "Print nothing when it succeeds.")
    var quiet = false

    func validate() throws {
        guard keep >= 1 else { throw ValidationError("--keep must be at least 1, not \(keep)") }
    }

    func run() throws {
        let logger = RamkollLogging.bootstrapRamkoll(level: quiet ? .warning : .info)
        try failing {
            let runner = Runner(logger: logger)
            var options = Runner.Options(pipelinePath: pipeline)
            options.runsRoot = runsRoot
            let (cfg, _) = try runner.load(options)
            let store = runner.store(options, cfg)
            let (kept, removed) = Retention.plan(store, keep: keep)
            if !dryRun {
                for id in removed { try FileManager.default.removeItem(atPath: store.directory(of: id)) }
            }
            var lines = ["ramkoll prune: \(store.root): \(kept.count) runs kept, \(removed.count) \(dryRun ? "would be " : "")removed"]
            if !removed.isEmpty { lines.append("  removed: " + removed.joined(separator: ", ")) }
            if !dryRun, FileIO.exists(store.historyPath) {
                let sqlite = try SQLiteTarget(path: store.historyPath)
                let deleted = try Warehouse.prune(pipeline: cfg.name, keep: kept, in: sqlite)
                lines.append("  warehouse SQLite: \(deleted.values.reduce(0, +)) rows no kept run uses were deleted")
                if let source = cfg.warehousePostgres, let url = source.resolve() {
                    let pg = try PostgresTarget(url: url, schema: cfg.warehouseSchema, logger: logger)
                    let d = try Warehouse.prune(pipeline: cfg.name, keep: kept, in: pg)
                    lines.append("  warehouse \(pg.name): \(d.values.reduce(0, +)) rows deleted")
                }
            }
            logger.info("runs pruned", metadata: ["kept": "\(kept.count)", "removed": "\(removed.count)", "dry_run": "\(dryRun)"])
            if !quiet { for l in lines { print(l) } }
        }
    }
}
