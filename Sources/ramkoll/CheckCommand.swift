import ArgumentParser
import Foundation
import RamkollModel
import RamkollPipeline

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract:
            "Validate a pipeline file, its profiles and mapping tables, the pseudonym key, each present input's header or field paths against its profile, and the budget lines; name file and line of each problem."
    )

    @Argument(help: "The pipeline file (YAML).", completion: .pipelineFile)
    var pipeline: String

    @Flag(help: "Treat warnings as errors.")
    var strict = false

    func run() throws {
        var (cfg, maps, diagnostics) = Runner.check(pipeline)
        // Beyond the pipeline's own files: what run would refuse in the inputs themselves.
        if let c = cfg, let m = maps { diagnostics += Preflight.inputs(c, m) }
        for d in diagnostics { print(d.description) }
        let errors = diagnostics.filter { $0.severity == .error || (strict && $0.severity == .warning) }
        if let cfg, let maps, errors.isEmpty {
            print(
                "ok: \(cfg.name): \(cfg.sources.count) sources, \(cfg.budgets.count) budget files, \(maps.reportLines.count) report lines, \(maps.units.units.count) units, \(maps.accounts.rules.count) account rules, \(maps.ansvar.rules.count) ansvar rules"
                    + (maps.investments.map {
                        "; investments: \($0.lines.count) rows, \($0.accounts.rules.count) account rules\(cfg.investments?.budget == nil ? "" : ", a budget")"
                    } ?? "")
            )
            return
        }
        print("\(errors.count) problem\(errors.count == 1 ? "" : "s") found")
        throw ExitCode(ExitStatus.configError.rawValue)
    }
}
