import ArgumentParser
import Logging
import RamkollPipeline

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@main
struct Ramkoll: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ramkoll",
        abstract: "Batch ETL and reconciliation for the finance of a social-services committee.",
        discussion: """
            Stages, in order: ingest, normalize, reconcile, deviation, prognosis, report. Each writes a numbered folder \
            of the run directory with a manifest (SHA-256 of inputs and outputs, control totals). \
            Exit codes: 0 ok; 1 failure; 3 deviations over threshold (with --fail-on-deviation); \
            64 usage; 65 data error (unreadable input, rejects over the limit); 66 missing input \
            (an earlier stage's output); 75 locked (another run of the pipeline and period is under way); \
            78 invalid pipeline.
            """,
        version: "ramkoll \(RamkollVersion.description)",
        subcommands: [
            RunCommand.self, RetryCommand.self, PlanCommand.self, RunsCommand.self, VerifyCommand.self, ExplainCommand.self, DiffCommand.self,
            InboxCommand.self, LoadCommand.self, PruneCommand.self, CheckCommand.self, InitCommand.self,
        ]
    )

    static func main() {
        // A reader that goes away (`ramkoll runs … | head`, a log pipe closed) must not kill a run:
        // writes to it fail and are dropped instead. SIGTERM and SIGINT end a run with its record.
        signal(SIGPIPE, SIG_IGN)
        RunInterruption.install()
        main(nil)
    }
}
