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
    case configError = 78

    public init(_ kind: RamkollError.Kind) {
        switch kind {
        case .usage: self = .usage
        case .config: self = .configError
        case .input: self = .missingInput
        case .data: self = .dataError
        case .internalFailure: self = .failure
        }
    }
}

/// Composition: pipeline file → validated config and mappings → stages → outcome.
public struct Runner {
    public struct Options: Sendable {
        public var pipelinePath: String
        public var asOf: Period?
        public var selection: Pipeline.Selection = .all
        public var runDirectory: String?
        public var failOnDeviation = false
        public init(pipelinePath: String) { self.pipelinePath = pipelinePath }
    }

    public struct Outcome: Sendable {
        public var status: ExitStatus
        public var runDirectory: String
        public var results: [StageResult]
        public var summary: [String]
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
        guard !m.reportLines.isEmpty, !m.units.isEmpty, !m.ansvar.isEmpty, !m.accounts.isEmpty,
            m.all.allSatisfy(FileIO.exists)
        else { return (nil, nil, d1) }
        let (maps, d2) = MappingTables.load(cfg)
        let all = d1 + d2
        return (all.contains { $0.severity == .error } ? nil : cfg, maps, all)
    }

    public func run(_ options: Options) throws -> Outcome {
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
                throw RamkollError(.usage, "--as-of \(a) is not in the pipeline's fiscal year \(cfg.fiscalYear)")
            }
            cfg.asOf = a
        }
        let runDir = options.runDirectory ?? (cfg.baseDirectory + "/../runs/\(cfg.name)/\(cfg.asOf)")
        let absRun = URL(fileURLWithPath: runDir).standardizedFileURL.path
        try FileIO.createDirectory(absRun)
        let ctx = StageContext(
            config: cfg, mappings: maps, runDirectory: absRun, settingsHash: try cfg.settingsHash(),
            logger: logger)
        logger.info("run started", metadata: ["pipeline": "\(cfg.name)", "as_of": "\(cfg.asOf)", "run_dir": "\(absRun)"])
        let results = try pipeline.run(ctx, selection: options.selection)

        var summary = results.flatMap(\.summary)
        let unbalanced = results.flatMap { r in
            r.manifest.balances.filter { !$0.balanced }.map { "\(r.manifest.stage): \($0.identity) (\($0.left) ≠ \($0.right))" }
        }
        let rejected = results.reduce(0) { $0 + $1.rejectedRows }, read = results.reduce(0) { $0 + $1.readRows }
        let dataErrors = results.flatMap(\.dataErrors)
        let over = results.reduce(0) { $0 + $1.deviationsOverThreshold }
        var status = ExitStatus.ok
        if !unbalanced.isEmpty {
            summary.append("FAILED: control totals do not balance: " + unbalanced.joined(separator: "; "))
            status = .failure
        } else if !dataErrors.isEmpty {
            summary.append("data error: " + dataErrors.joined(separator: "; "))
            status = .dataError
        } else if read > 0 && rejected * 10_000 > cfg.rejectLimit * read {
            summary.append(
                "data error: \(rejected) of \(read) rows rejected, above the limit of \(Ore.formatPercent(cfg.rejectLimit)) % — see 02-normalize/rejects.csv"
            )
            status = .dataError
        } else if over > 0 && options.failOnDeviation {
            status = .deviationsOverThreshold
        }
        if rejected > 0 && status == .ok { summary.append("normalize: \(rejected) rows rejected in all — see 02-normalize/rejects.csv") }
        logger.info("run finished", metadata: ["status": "\(status.rawValue)", "rejected": "\(rejected)", "deviations_over_threshold": "\(over)"])
        return Outcome(status: status, runDirectory: absRun, results: results, summary: summary)
    }
}
