import ArgumentParser
import Foundation
import RamkollHistory
import RamkollModel
import RamkollPipeline

/// A run named on the command line: a run folder, or an id / period / `latest` under a pipeline's runs.
struct RunRef: ParsableArguments {
    @Option(
        name: .customLong("pipeline"), help: "The pipeline whose runs RUN names (for ids such as 2022-12.003, a period, or latest).",
        completion: .pipelineFile)
    var pipeline: String?

    @Option(name: .customLong("runs"), help: "Folder of the pipeline's sealed runs (default: runs/<pipeline> beside the Pipelines folder).")
    var runsRoot: String?

    func resolve(_ given: String) throws -> String {
        if FileIO.exists(given + "/01-ingest") || FileIO.exists(given + "/run.json") {
            return URL(fileURLWithPath: given).standardizedFileURL.path
        }
        guard let pipeline else {
            throw RamkollError(.usage, "\(given) is not a run folder; give the run's folder, or --pipeline with a run id, a period or latest")
        }
        let (cfg, _, diagnostics) = Runner.check(pipeline)
        guard let cfg else { throw RamkollError(.config, diagnostics.map(\.description).joined(separator: "\n")) }
        let store = RunStore(root: runsRoot ?? Runner.defaultRunsRoot(cfg))
        guard let dir = store.resolve(given) else { throw RamkollError(.usage, "no run \"\(given)\" under \(store.root)") }
        return dir
    }
}

func failing(_ body: () throws -> Void) throws {
    do { try body() } catch let e as RamkollError {
        ErrorReport.write(e.message, kind: e.kind == .locked ? "locked" : "error", status: ExitStatus(e.kind).rawValue)
        throw ExitCode(ExitStatus(e.kind).rawValue)
    }
}

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Re-hash every artifact of a run against its manifests and re-check its control totals; report any change (exit 1).")

    @Argument(help: "The run: its folder, or with --pipeline an id (2022-12.003), a period (its newest run) or latest.")
    var runName: String
    @OptionGroup var ref: RunRef

    func run() throws {
        try failing {
            let dir = try ref.resolve(runName)
            var (findings, notes, files) = try Audit.verify(runDirectory: dir)
            findings += try VerifyCommand.againstHistory(dir)
            print("ramkoll verify: \(dir)")
            for f in findings { print("  CHANGED \(f.stage): \(f.problem)") }
            for n in notes { print("  note: \(n)") }
            if findings.isEmpty {
                print("  ok: \(files) files match their manifests; manifests match run.json; every control total balances")
            } else {
                print("  \(findings.count) problem\(findings.count == 1 ? "" : "s")")
                throw ExitCode(ExitStatus.failure.rawValue)
            }
        }
    }
}

extension VerifyCommand {
    /// run.json against the run history beside the runs (`runs/<pipeline>/ramkoll.sqlite`),
    /// which the run loaded its finished record into: an edited state, exit status or manifest
    /// hash shows as a difference. Runs the history never held are not compared.
    static func againstHistory(_ dir: String) throws -> [Audit.Finding] {
        let path = ((dir as NSString).deletingLastPathComponent as NSString).deletingLastPathComponent + "/ramkoll.sqlite"
        guard FileManager.default.fileExists(atPath: path), let record = RunRecord.read(from: dir) else { return [] }
        let history = try SQLiteTarget(path: path)
        let rows = try history.rows(
            "SELECT state, exit_status FROM runs WHERE pipeline = ? AND run_id = ?", [.text(record.pipeline), .text(record.runID)])
        guard let row = rows.first, row["state"] != "running" else { return [] }
        var findings: [Audit.Finding] = []
        let exit = record.exitStatus.map(String.init)
        if row["state"] != record.state || row["exit_status"] != exit {
            findings.append(
                Audit.Finding(
                    stage: "run",
                    problem:
                        "run.json says \(record.state), exit \(exit ?? "-"); the run history recorded \(row["state"] ?? "-"), exit \(row["exit_status"] ?? "-") (\(path))"
                ))
        }
        let stages = try history.rows(
            "SELECT stage, manifest_sha256 FROM stage_runs WHERE pipeline = ? AND run_id = ?", [.text(record.pipeline), .text(record.runID)])
        for s in stages {
            let mine = record.stages.first { $0.stage == s["stage"] }?.manifestSha256
            if let theirs = s["manifest_sha256"], mine != theirs {
                findings.append(
                    Audit.Finding(
                        stage: s["stage"] ?? "run",
                        problem:
                            "run.json records manifest \(mine.map { String($0.prefix(12)) + "…" } ?? "none"), the run history \(theirs.prefix(12))…"))
            }
        }
        return findings
    }
}

struct ExplainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "List every source row behind a figure of a run (file, SHA-256, line, raw text, amount) and show they sum to it.")

    @Argument(help: "The run: its folder, or with --pipeline an id, a period or latest.")
    var runName: String
    @OptionGroup var ref: RunRef
    @Option(help: "Unit (it and every unit under it).") var unit: String
    @Option(help: "Report line (a sum line: its base lines).") var line: String
    @Option(help: "One period (YYYY-MM) instead of the year to the as-of period.") var period: String?

    func run() throws {
        try failing {
            let dir = try ref.resolve(runName)
            var p: Period?
            if let period {
                guard let v = Period(period) else { throw RamkollError(.usage, "--period \"\(period)\" is not YYYY-MM") }
                p = v
            }
            let e = try Audit.explain(runDirectory: dir, unit: unit, line: line, period: p)
            print("file;file_sha256;line;period;account;ansvar;unit;report_line;amount_report_sign;raw")
            for r in e.rows {
                print(
                    [r.file, r.fileSha256, String(r.line), r.period, r.account, r.ansvar, r.unit, r.reportLine, r.amount.swedish, r.raw]
                        .map { $0.contains(";") || $0.contains("\"") ? "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : $0 }
                        .joined(separator: ";"))
            }
            let equal = e.total == e.reported
            Stderr.write(
                """
                ramkoll explain: \(e.unit) × \(e.line), \(e.periods): \(e.rows.count) source rows, Σ \(e.total.swedish) kr (report sign)
                  reported: \(e.reported.swedish) kr in \(e.reportedWhere)
                  \(equal ? "equal to the öre" : "NOT EQUAL: difference \((e.total - e.reported).swedish) kr")

                """)
            if !equal { throw ExitCode(ExitStatus.failure.rawValue) }
        }
    }
}

struct DiffCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff", abstract: "Show what changed between two runs: inputs, settings, output files and figures.")

    @Argument(help: "The earlier run.") var a: String
    @Argument(help: "The later run.") var b: String
    @OptionGroup var ref: RunRef

    func run() throws {
        try failing {
            let (da, db) = (try ref.resolve(a), try ref.resolve(b))
            let d = try Audit.diff(da, db)
            print("ramkoll diff: \(da) → \(db)")
            print("  inputs: \(d.inputs.isEmpty ? "unchanged" : "\(d.inputs.count) changed")")
            for i in d.inputs { print("    " + i) }
            print("  settings (pipeline file, profiles, mapping tables, tool version): \(d.settingsChanged ? "changed" : "unchanged")")
            print("  output files: \(d.files.isEmpty ? "identical" : "\(d.files.count) differ")")
            for f in d.files { print("    " + f) }
            print("  figures (unit line: öre): \(d.figures.isEmpty ? "unchanged" : "\(d.figures.count) changed")")
            for f in d.figures { print("    " + f) }
        }
    }
}

struct InboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inbox",
        abstract:
            "Pick up the exports dropped in the pipeline's inbox: identify each by profile, archive it by SHA-256 and install it at its source's path.",
        discussion: "A file received before is skipped with a note; one no source fits is moved aside with a reason (exit 65).")

    @Argument(help: "The pipeline file (YAML).", completion: .pipelineFile)
    var pipeline: String

    @Flag(name: .customLong("if-configured"), help: "Do nothing (exit 0) when the pipeline has no inbox (for the nightly wrapper).")
    var ifConfigured = false

    @Flag(name: [.short, .long], help: "Print nothing when every file was installed or skipped.")
    var quiet = false

    func run() throws {
        try failing {
            let (loaded, diagnostics) = PipelineConfig.load(path: pipeline)
            guard let cfg = loaded, !diagnostics.contains(where: { $0.severity == .error }) else {
                throw RamkollError(
                    .config, "the pipeline is not valid:\n" + diagnostics.filter { $0.severity == .error }.map(\.description).joined(separator: "\n"))
            }
            if cfg.inbox == nil && ifConfigured { return }
            let outcomes = try Inbox.process(cfg)
            let rejected = outcomes.filter { $0.status == .rejected }
            if !quiet || !rejected.isEmpty {
                print("ramkoll inbox: \(cfg.inbox.map { cfg.display($0.directory) } ?? ""): \(outcomes.count) file\(outcomes.count == 1 ? "" : "s")")
                for o in outcomes {
                    print(
                        "  \(o.status.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(o.file)\(o.source.map { " → \($0)" } ?? ""): \(o.detail)"
                    )
                }
            }
            if !rejected.isEmpty { throw ExitCode(ExitStatus.dataError.rawValue) }
        }
    }
}
