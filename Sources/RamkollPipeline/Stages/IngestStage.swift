import Foundation
import RamkollModel
import RamkollReaders

/// Ingest: fingerprint every input (SHA-256, size) with the profile that will read it, and check
/// that each ledger file's header carries the columns its profile names. Nothing is parsed yet.
public struct IngestStage: Stage {
    public let name = StageName.ingest
    public init() {}

    public func run(_ context: StageContext) throws -> StageResult {
        let cfg = context.config
        let dir = context.directory(name)
        let table = try TableWriter(
            directory: dir, name: "inputs.csv",
            header: ["id", "role", "path", "profile", "sha256", "bytes", "encoding", "bom", "status"])
        var inputs: [InputRecord] = []
        // The same bytes read by the same profile kind twice would be counted twice; one extract
        // read for several record kinds (placements and decisions, say) is fine.
        var seen: [String: String] = [:]
        var notes: [String] = []
        var totalBytes: Int64 = 0
        var duplicates = 0
        for s in cfg.sources {
            guard FileIO.exists(s.path) else {
                throw RamkollError(
                    .input,
                    "source \(s.id): \(s.displayPath) does not exist"
                        + (s.inboxPattern != nil ? " yet; no export for it has come through the inbox (ramkoll inbox)" : ""))
            }
            let facts = try s.profile.ingest(s.path, display: s.displayPath)
            let (hex, bytes) = (facts.sha256, facts.bytes)
            let seenKey = hex + " " + s.profile.kind
            if let other = seen[seenKey] {
                // The same bytes twice (a file dropped in again under another name): read once.
                try table.write([s.id, "source", cfg.display(s.path), s.profile.name, hex, String(bytes), "", "", "duplicate of \(other)"])
                inputs.append(
                    InputRecord(path: cfg.display(s.path), sha256: hex, bytes: bytes, role: "source \(s.id): duplicate of \(other), not read"))
                notes.append("\(s.displayPath) has the same content as source \(other) (SHA-256 \(hex.prefix(12))…); it is not read again")
                duplicates += 1
                continue
            }
            seen[seenKey] = s.id
            let (encoding, bom) = try facts.whenRead()
            totalBytes += bytes
            try table.write([s.id, "source", cfg.display(s.path), s.profile.name, hex, String(bytes), encoding, bom, "read"])
            context.logger.debug(
                "input fingerprinted",
                metadata: ["source": "\(s.id)", "file": "\(cfg.display(s.path))", "bytes": "\(bytes)", "sha256": "\(hex)", "encoding": "\(encoding)"])
            inputs.append(
                InputRecord(
                    path: cfg.display(s.path), sha256: hex, bytes: bytes, role: "source \(s.id) (\(s.profile.kind), profile \(s.profile.name))"))
        }
        let budgetFiles = cfg.budgets.count + (cfg.investments?.budget == nil ? 0 : 1)
        for (i, b) in cfg.budgets.enumerated() {
            let (hex, bytes) = try FileIO.sha256(ofFile: b.path)
            totalBytes += bytes
            let profileName = b.profile?.name ?? "budget-csv"
            try table.write([
                "budget\(i + 1)", "budget", cfg.display(b.path), profileName, hex, String(bytes), b.profile == nil ? "utf-8" : "detected", "", "read",
            ])
            inputs.append(InputRecord(path: cfg.display(b.path), sha256: hex, bytes: bytes, role: "budget (\(profileName))"))
            context.logger.debug(
                "input fingerprinted",
                metadata: ["source": "budget\(i + 1)", "file": "\(cfg.display(b.path))", "bytes": "\(bytes)", "sha256": "\(hex)"])
        }
        // The investment budget counts as a budget file; its rows and accounts as mapping tables.
        if let ib = cfg.investments?.budget {
            let (hex, bytes) = try FileIO.sha256(ofFile: ib)
            totalBytes += bytes
            try table.write(["investment_budget", "budget", cfg.display(ib), "investment-budget-csv", hex, String(bytes), "utf-8", "", "read"])
            inputs.append(InputRecord(path: cfg.display(ib), sha256: hex, bytes: bytes, role: "investment budget"))
        }
        for p in cfg.mappings.all + (cfg.investments?.files ?? []) {
            let (hex, bytes) = try FileIO.sha256(ofFile: p)
            inputs.append(InputRecord(path: cfg.display(p), sha256: hex, bytes: bytes, role: "mapping table"))
        }
        for p in cfg.profilePaths {
            let (hex, bytes) = try FileIO.sha256(ofFile: p)
            inputs.append(InputRecord(path: cfg.display(p), sha256: hex, bytes: bytes, role: "profile"))
        }
        if cfg.sources.isEmpty { notes.append("the pipeline names no sources") }
        let out = try table.commit()
        let manifest = context.manifest(
            name, inputs: inputs, outputs: [out],
            totals: [
                "sources": Int64(cfg.sources.count), "budget_files": Int64(budgetFiles), "input_bytes": totalBytes,
                "duplicate_sources_not_read": Int64(duplicates),
            ],
            balances: [Balance("inputs.csv rows = sources + budget files", left: out.rows, right: Int64(cfg.sources.count + budgetFiles))],
            notes: notes)
        return StageResult(
            manifest: manifest,
            summary: ["ingest: \(cfg.sources.count) sources and \(budgetFiles) budget files fingerprinted (\(totalBytes) bytes)"]
                + notes.map { "ingest: " + $0 })
    }
}
