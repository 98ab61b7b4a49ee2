import Foundation
import Logging
import RamkollModel

/// The stages, in order. Each reads only the previous stages' outputs (through their manifests)
/// and writes one numbered folder of the run directory:
///
///     ingest     → 01-ingest/    inputs.csv (fingerprints: SHA-256, size, profile)
///     normalize  → 02-normalize/ ledger.csv, placements.csv, budget.csv, rejects.csv (common schema)
///     reconcile  → 03-reconcile/ actuals_vs_budget.csv (unit × line × month, YTD), exceptions.csv
///     deviation  → 04-deviation/ avvikelse.csv, drift.csv, drift.txt (tkr, rolled up the unit tree)
///     prognosis  → 05-prognosis/ prognos.csv, prognos.txt (full-year forecast per method)
///     report     → 06-report/    spreadsheet CSV (BOM, ;, decimal comma, tkr) and tables.json
///
/// Every folder also holds `manifest.json` (inputs and outputs with SHA-256, rows, control totals
/// and their identities, settings hash, tool version) and `timings.json`.
public enum StageName: String, CaseIterable, Sendable, Comparable {
    case ingest, normalize, reconcile, deviation, prognosis, report

    public var folder: String {
        let n = StageName.allCases.firstIndex(of: self)! + 1
        return "0\(n)-\(rawValue)"
    }
    public static func < (a: StageName, b: StageName) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// What a stage is given.
public struct StageContext: Sendable {
    public let config: PipelineConfig
    public let mappings: MappingTables
    public let runDirectory: String
    public let settingsHash: String
    public let logger: Logger
    /// The pipeline's sealed runs (where a stage finds other runs it reads, such as the forecast
    /// history's checkpoints); nil when there is none.
    public var store: RunStore?

    public init(
        config: PipelineConfig, mappings: MappingTables, runDirectory: String, settingsHash: String, logger: Logger, store: RunStore? = nil
    ) {
        self.config = config; self.mappings = mappings; self.runDirectory = runDirectory
        self.settingsHash = settingsHash; self.logger = logger; self.store = store
    }

    public func directory(_ stage: StageName) -> String { runDirectory + "/" + stage.folder }

    /// A previous stage's output, checked against that stage's manifest so a stage never works
    /// on a file that changed after it was written.
    public func output(of stage: StageName, named name: String) throws -> (path: String, input: InputRecord) {
        let dir = directory(stage)
        let manifest = try StageManifest.read(from: dir)
        guard manifest.asOf == config.asOf.description else {
            throw RamkollError(.input, "\(dir)/manifest.json is for as-of \(manifest.asOf), not \(config.asOf); rerun from \(stage.rawValue)")
        }
        guard manifest.settingsSha256 == settingsHash else {
            throw RamkollError(
                .input,
                "\(dir) was made with other settings (the pipeline file, a profile, a mapping table or the tool version changed since); rerun from \(stage.rawValue)"
            )
        }
        guard manifest.build == RamkollVersion.build else {
            throw RamkollError(
                .input,
                "\(dir) was made by another build of ramkoll (\(manifest.build ?? "unnamed"); this is \(RamkollVersion.build)); rerun from \(stage.rawValue)"
            )
        }
        // The earlier stage's own inputs from stages before it must still be what it read.
        for input in manifest.inputs where input.path.hasPrefix("../0") {
            let path = dir + "/" + input.path
            let current = FileIO.exists(path) ? try FileIO.sha256(ofFile: path).hex : "missing"
            guard current == input.sha256 else {
                throw RamkollError(
                    .input,
                    "\(dir) is older than \(URL(fileURLWithPath: path).standardizedFileURL.path) (that file changed after \(stage.rawValue) read it); rerun from \(stage.rawValue)"
                )
            }
        }
        guard let out = manifest.outputs.first(where: { $0.path == name }) else {
            throw RamkollError(.input, "\(dir): the \(stage.rawValue) manifest lists no \(name); rerun from \(stage.rawValue)")
        }
        let path = dir + "/" + name
        let (hex, bytes) = try FileIO.sha256(ofFile: path)
        guard hex == out.sha256 else {
            throw RamkollError(
                .input,
                "\(path) changed after the \(stage.rawValue) stage wrote it (SHA-256 \(hex.prefix(12))…, manifest says \(out.sha256.prefix(12))…); rerun from \(stage.rawValue)"
            )
        }
        return (path, InputRecord(path: "../\(stage.folder)/\(name)", sha256: hex, bytes: bytes, role: "\(stage.rawValue) output"))
    }

    /// Like `output(of:named:)`, for an output a stage writes only when configured: nil when the
    /// stage's manifest does not list it.
    public func optionalOutput(of stage: StageName, named name: String) throws -> (path: String, input: InputRecord)? {
        let manifest = try StageManifest.read(from: directory(stage))
        guard manifest.outputs.contains(where: { $0.path == name }) else { return nil }
        return try output(of: stage, named: name)
    }

    public func manifest(
        _ stage: StageName, inputs: [InputRecord], outputs: [OutputRecord], totals: [String: Int64],
        balances: [Balance], notes: [String] = []
    ) -> StageManifest {
        StageManifest(
            stage: stage.rawValue, pipeline: config.name, asOf: config.asOf.description, fiscalYear: config.fiscalYear,
            settingsSha256: settingsHash, inputs: inputs, outputs: outputs, totals: totals, balances: balances, notes: notes)
    }
}

/// What a stage reports back.
public struct StageResult: Sendable {
    public var manifest: StageManifest
    /// Short human lines for the run summary.
    public var summary: [String]
    /// Rows rejected, and rows read, for the reject limit.
    public var rejectedRows: Int64 = 0
    public var readRows: Int64 = 0
    /// Unreadable files or other data problems that did not stop the stage.
    public var dataErrors: [String] = []
    public var deviationsOverThreshold: Int = 0
}

/// One stage of the pipeline. Implementations are pure with respect to their inputs: same inputs
/// and settings, same bytes out.
public protocol Stage: Sendable {
    var name: StageName { get }
    func run(_ context: StageContext) throws -> StageResult
}

/// The pipeline as a value: the stages in order, swappable in tests.
public struct Pipeline: Sendable {
    public var stages: [any Stage]

    public static let standard = Pipeline(stages: [
        IngestStage(), NormalizeStage(), ReconcileStage(), DeviationStage(), PrognosisStage(), ReportStage(),
    ])

    public init(stages: [any Stage]) { self.stages = stages }

    public enum Selection: Sendable, Equatable {
        case all
        case only(StageName)
        case from(StageName)
        func includes(_ s: StageName) -> Bool {
            switch self {
            case .all: return true
            case .only(let o): return s == o
            case .from(let f): return s >= f
            }
        }
    }

    /// Runs the selected stages in order. A stage that throws stops the run; its folder keeps
    /// whatever complete files it had committed, and no manifest is written for it.
    public func run(_ context: StageContext, selection: Selection = .all) throws -> [StageResult] {
        try stages.filter { selection.includes($0.name) }.map { try Pipeline.runStage($0, context).result }
    }

    /// Runs one stage into its folder: the old manifest goes first (until the new one is written
    /// the folder is not complete), then the stage, its manifest and its timings.
    public static func runStage(_ stage: any Stage, _ context: StageContext) throws -> (result: StageResult, seconds: Double) {
        let dir = context.directory(stage.name)
        try FileIO.createDirectory(dir)
        let started = Date()
        context.logger.info("stage started", metadata: ["stage": "\(stage.name.rawValue)"])
        try? FileManager.default.removeItem(atPath: dir + "/manifest.json")
        // Temporary files of a run that was killed (the lock lets one run at a time write here).
        for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where name.hasPrefix(".") && name.contains(".tmp-") {
            try? FileManager.default.removeItem(atPath: dir + "/" + name)
        }
        var result = try stage.run(context)
        result.manifest.dataErrors = result.dataErrors.isEmpty ? nil : result.dataErrors
        try result.manifest.write(to: dir)
        let seconds = Date().timeIntervalSince(started)
        let timings = StageTimings(
            stage: stage.name.rawValue, startedAt: ISO8601DateFormatter().string(from: started), seconds: (seconds * 1000).rounded() / 1000)
        var data = try StageManifest.encoder().encode(timings); data.append(0x0A)
        try FileIO.writeAtomically(data, to: dir + "/timings.json")
        context.logger.info(
            "stage finished",
            metadata: [
                "stage": "\(stage.name.rawValue)", "seconds": "\(timings.seconds)",
                "outputs": "\(result.manifest.outputs.count)", "rejected": "\(result.rejectedRows)",
            ])
        return (result, timings.seconds)
    }
}
