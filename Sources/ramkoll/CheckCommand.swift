import ArgumentParser
import Foundation
import RamkollModel
import RamkollPipeline

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a pipeline file, its profiles and mapping tables; name file and line of each problem."
    )

    @Argument(help: "The pipeline file (YAML).")
    var pipeline: String

    @Flag(help: "Treat warnings as errors.")
    var strict = false

    func run() throws {
        let (cfg, maps, diagnostics) = Runner.check(pipeline)
        for d in diagnostics { print(d.description) }
        let errors = diagnostics.filter { $0.severity == .error || (strict && $0.severity == .warning) }
        if let cfg, let maps, errors.isEmpty {
            print(
                "ok: \(cfg.name): \(cfg.sources.count) sources, \(cfg.budgets.count) budget files, \(maps.reportLines.count) report lines, \(maps.units.units.count) units, \(maps.accounts.rules.count) account rules, \(maps.ansvar.rules.count) ansvar rules"
            )
            return
        }
        print("\(errors.count) problem\(errors.count == 1 ? "" : "s") found")
        throw ExitCode(ExitStatus.configError.rawValue)
    }
}
