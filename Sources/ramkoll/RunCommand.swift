import ArgumentParser
import Foundation
import Logging
import RamkollModel
import RamkollPipeline

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the pipeline (or some of its stages) and write the run directory.",
        discussion:
            "Stages: \(StageName.allCases.map(\.rawValue).joined(separator: ", ")). A stage run alone reads the earlier stages' outputs from the same run directory."
    )

    @Argument(help: "The pipeline file (YAML), e.g. Pipelines/exempelby.yaml.")
    var pipeline: String

    @Option(name: .customLong("as-of"), help: "Business date as YYYY-MM (defaults to the pipeline's as_of). Never taken from the clock.")
    var asOf: String?

    @Option(help: "Run only this stage.")
    var only: String?

    @Option(help: "Run this stage and every stage after it.")
    var from: String?

    @Option(name: .customLong("run-dir"), help: "Run directory (default: runs/<pipeline>/<as-of> beside the Pipelines folder).")
    var runDir: String?

    @Flag(name: .customLong("fail-on-deviation"), help: "Exit 3 when deviations are over threshold.")
    var failOnDeviation = false

    @Flag(name: [.short, .long], help: "Print nothing on success.")
    var quiet = false

    @Flag(help: "Log debug events.")
    var verbose = false

    func validate() throws {
        if only != nil && from != nil { throw ValidationError("give --only or --from, not both") }
        for s in [only, from].compactMap({ $0 }) where StageName(rawValue: s) == nil {
            throw ValidationError("unknown stage \"\(s)\"; stages are \(StageName.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let a = asOf, Period(a) == nil { throw ValidationError("--as-of \"\(a)\" is not a period; expected YYYY-MM, e.g. 2022-12") }
    }

    func run() throws {
        let logger = RamkollLogging.bootstrapRamkoll(level: verbose ? .debug : (quiet ? .warning : .info))
        var options = Runner.Options(pipelinePath: pipeline)
        options.asOf = asOf.flatMap(Period.init)
        if let o = only { options.selection = .only(StageName(rawValue: o)!) }
        if let f = from { options.selection = .from(StageName(rawValue: f)!) }
        options.runDirectory = runDir
        options.failOnDeviation = failOnDeviation
        do {
            let outcome = try Runner(logger: logger).run(options)
            if !quiet || outcome.status != .ok {
                print("ramkoll run: \(outcome.runDirectory)")
                for line in outcome.summary { print("  " + line) }
                print("  exit \(outcome.status.rawValue) (\(outcome.status))")
            }
            if outcome.status != .ok { throw ExitCode(outcome.status.rawValue) }
        } catch let e as RamkollError {
            logger.error("run stopped", metadata: ["reason": "\(e.message)"])
            FileHandle.standardError.write(Data("ramkoll: error: \(e.message)\n".utf8))
            throw ExitCode(ExitStatus(e.kind).rawValue)
        } catch let e as ExitCode {
            throw e
        } catch {
            FileHandle.standardError.write(Data("ramkoll: error: \(error)\n".utf8))
            throw ExitCode(ExitStatus.failure.rawValue)
        }
    }
}
