import ArgumentParser
import Foundation
import RamkollModel
import RamkollPipeline

/// `ramkoll init DIR`: a new municipality's folder with a pipeline to fill in; `ramkoll init
/// --from-export FILE`: a profile proposed from a CSV export's header and first rows.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract:
            "Start a municipality: a folder with a pipeline, the Kommun-Bas tables, export profiles and templates; or propose a profile for a CSV export.",
        discussion: """
            ramkoll init DIR writes DIR/Pipelines/<name>.yaml (every section present, most commented out), \
            the Kommun-Bas mapping tables, the profiles for Raindance, Unit4/Agresso, SIE 4 and the case-system \
            XML extracts, templates of the committee's units and ansvar codes, a new random pseudonym key and \
            the folders the exports go in. It overwrites nothing. ramkoll init --from-export FILE prints a \
            ledger-csv profile for the export (encoding, delimiter, decimal mark, date layout, columns) with \
            what it could not decide marked TO CONFIRM.
            """
    )

    @Argument(help: "The folder to create (it must not exist or be empty).", completion: .directory)
    var directory: String?

    @Option(help: "The pipeline's name (default: the folder's name, lowercased).")
    var name: String?

    @Option(name: .customLong("fiscal-year"), help: "The fiscal year of the pipeline (default: the current year).")
    var fiscalYear: Int?

    @Option(
        name: .customLong("from-export"), help: "Propose a profile for this CSV export (printed) instead of writing a folder.", completion: .file())
    var fromExport: String?

    func validate() throws {
        if fromExport != nil && directory != nil { throw ValidationError("give a folder or --from-export FILE, not both") }
        if fromExport == nil && directory == nil { throw ValidationError("give the folder to create, e.g. ramkoll init /srv/ramkoll/storstad") }
        if fromExport != nil && (name != nil || fiscalYear != nil) {
            throw ValidationError("--name and --fiscal-year belong to a new folder, not to --from-export")
        }
    }

    func run() throws {
        try failing {
            if let file = fromExport {
                let proposal = try ProfileProposal.propose(path: file)
                print(proposal.yaml(file: (file as NSString).lastPathComponent), terminator: "")
                return
            }
            let dir = directory!
            let folderName = URL(fileURLWithPath: dir).standardizedFileURL.lastPathComponent
            let pipelineName =
                name
                ?? folderName.lowercased().folding(options: .diacriticInsensitive, locale: nil)
                .map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined()
            guard let data = Scaffold.dataDirectory() else {
                throw RamkollError(
                    .input,
                    "the Kommun-Bas tables and profiles were not found beside the program (PREFIX/share/ramkoll, which Scripts/install writes)")
            }
            var key = [UInt8](repeating: 0, count: 32)
            var rng = SystemRandomNumberGenerator()
            for i in key.indices { key[i] = UInt8.random(in: 0...255, using: &rng) }
            let year = fiscalYear ?? Calendar(identifier: .gregorian).component(.year, from: Date())
            let result = try Scaffold.create(directory: dir, name: pipelineName, fiscalYear: year, dataDirectory: data, key: key)
            print("ramkoll init: \(dir): \(result.files.count) files written")
            for f in result.files { print("  \(f)") }
            print(
                """
                Next:
                  1. Put the committee's units in Pipelines/\(pipelineName)/units.csv and its ansvar codes in ansvar.csv.
                  2. Put the exports in Inputs/ (or point the sources at them) and pick each one's profile.
                  3. cd \(dir) && ramkoll check \(result.pipeline)
                  4. ramkoll run \(result.pipeline) --as-of \(year)-01
                """)
        }
    }
}
