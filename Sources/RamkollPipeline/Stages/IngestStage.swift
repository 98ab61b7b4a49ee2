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
            // A ledger CSV's whole-file encoding check runs beside the hash (two passes over the
            // file, one per core); its finding is used only if the file is read.
            var encodingProblem: Result<(line: Int, message: String)?, Error> = .success(nil)
            let (hex, bytes): (String, Int64)
            if case .ledgerCSV(let p) = s.profile {
                let check = EncodingCheckTask(path: s.path, encoding: p.encoding)
                let group = DispatchGroup()
                DispatchQueue.global().async(group: group) { check.run() }
                let hashed = Result { try FileIO.sha256(ofFile: s.path) }
                group.wait()
                encodingProblem = check.result
                (hex, bytes) = try hashed.get()
            } else {
                (hex, bytes) = try FileIO.sha256(ofFile: s.path)
            }
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
            var encoding = "", bom = ""
            switch s.profile {
            case .ledgerCSV(let p):
                if let (line, message) = try encodingProblem.get() {
                    throw RamkollError(.data, "\(s.displayPath):\(line): \(message) (profile \(p.file))")
                }
                let info = try LedgerHeader.check(path: s.path, display: s.displayPath, profile: p)
                encoding = p.encoding.rawValue
                bom = info.hadBOM ? "yes" : "no"
                if info.hadBOM && p.encoding != .utf8 {
                    throw RamkollError(
                        .data,
                        "\(s.displayPath):1: file starts with a UTF-8 byte order mark but profile \(p.name) says \(p.encoding.rawValue) — set encoding: utf-8 in \(p.file)"
                    )
                }
            case .placementXML, .decisionXML, .paymentXML:
                encoding = "declared"; bom = ""
            case .sie(let p):
                encoding = p.encoding?.rawValue ?? "detected"; bom = ""
            }
            totalBytes += bytes
            try table.write([s.id, "source", cfg.display(s.path), s.profile.name, hex, String(bytes), encoding, bom, "read"])
            context.logger.debug(
                "input fingerprinted",
                metadata: ["source": "\(s.id)", "file": "\(cfg.display(s.path))", "bytes": "\(bytes)", "sha256": "\(hex)", "encoding": "\(encoding)"])
            inputs.append(
                InputRecord(
                    path: cfg.display(s.path), sha256: hex, bytes: bytes, role: "source \(s.id) (\(s.profile.kind), profile \(s.profile.name))"))
        }
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
        for p in cfg.mappings.all {
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
                "sources": Int64(cfg.sources.count), "budget_files": Int64(cfg.budgets.count), "input_bytes": totalBytes,
                "duplicate_sources_not_read": Int64(duplicates),
            ],
            balances: [Balance("inputs.csv rows = sources + budget files", left: out.rows, right: Int64(cfg.sources.count + cfg.budgets.count))],
            notes: notes)
        return StageResult(
            manifest: manifest,
            summary: ["ingest: \(cfg.sources.count) sources and \(cfg.budgets.count) budget files fingerprinted (\(totalBytes) bytes)"]
                + notes.map { "ingest: " + $0 })
    }
}

/// The whole-file encoding check of one file, run on another thread.
final class EncodingCheckTask: @unchecked Sendable {
    let path: String, encoding: TextEncoding
    /// Set by `run()`; read after waiting for it.
    var result: Result<(line: Int, message: String)?, Error> = .success(nil)
    init(path: String, encoding: TextEncoding) { self.path = path; self.encoding = encoding }
    func run() { result = Result { try EncodingCheck.problem(path: path, encoding: encoding) } }
}

/// Reads a ledger file's header line and maps the profile's columns to positions.
enum LedgerHeader {
    struct Info {
        let index: [LedgerField: Int]; let columns: Int; let hadBOM: Bool; let totalMarkerColumn: Int?
        /// The header's line (after any title lines).
        var line = 1
        /// Column positions by `LedgerField.ordinal` (an array: looked up per row, not a dictionary).
        var positions: [Int?] {
            var position = [Int?](repeating: nil, count: LedgerField.allCases.count)
            for (f, i) in index { position[f.ordinal] = i }
            return position
        }
    }

    /// The header line's names, after the profile's skip_lines, decoded with its encoding.
    static func names(_ reader: CSVReader, display: String, profile p: LedgerCSVProfile) throws -> (names: [String], line: Int) {
        for _ in 0..<p.skipLines { _ = try reader.next() }
        guard try reader.next() else {
            throw RamkollError(.data, "\(display): file is empty; expected a header line with \(p.columns.values.sorted().joined(separator: ", "))")
        }
        var names: [String] = []
        for i in 0..<reader.fieldCount {
            guard let s = p.encoding.decode(reader.bytes(i)) else {
                throw RamkollError(
                    .data,
                    "\(display):\(reader.line): header is not valid \(p.encoding.rawValue) — the file is probably Windows-1252; set encoding in profile \(p.file)"
                )
            }
            names.append(s.trimmingCharacters(in: " \t"))
        }
        return (names, reader.line)
    }

    /// Positions of the profile's columns in a header, and the columns it lacks.
    static func match(_ names: [String], profile p: LedgerCSVProfile) -> (index: [LedgerField: Int], totalMarker: Int?, missing: [String]) {
        var index: [LedgerField: Int] = [:]
        var missing: [String] = []
        for (f, h) in p.columns.sorted(by: { $0.value < $1.value }) {
            if let i = names.firstIndex(of: h) { index[f] = i } else { missing.append("\"\(h)\" (\(f.rawValue))") }
        }
        var totalMarker: Int?
        if let t = p.totalRow {
            totalMarker = names.firstIndex(of: t.column)
            if totalMarker == nil { missing.append("\"\(t.column)\" (total_row)") }
        }
        return (index, totalMarker, missing)
    }

    /// The header as a message quotes it: personnummer redacted, at most 200 characters (a file
    /// that is not an export can have a "header" of megabytes).
    static func quotedHeader(_ names: [String], profile p: LedgerCSVProfile) -> String {
        let h = PersonalIdentity.redact(names.joined(separator: String(UnicodeScalar(p.delimiter))))
        return "\"" + (h.count > 200 ? String(h.prefix(200)) + "…\" (\(h.utf8.count) bytes)" : h + "\"")
    }

    static func read(_ reader: CSVReader, display: String, profile p: LedgerCSVProfile) throws -> Info {
        let (names, line) = try names(reader, display: display, profile: p)
        let (index, totalMarker, missing) = match(names, profile: p)
        if !missing.isEmpty {
            throw RamkollError(
                .data,
                "\(display):\(line): header has no column \(missing.joined(separator: ", ")); the header is \(quotedHeader(names, profile: p))"
                    + (delimiterHint(names, profile: p) ?? " — is this the right profile (\(p.file))?"))
        }
        var info = Info(index: index, columns: names.count, hadBOM: reader.hadBOM, totalMarkerColumn: totalMarker)
        info.line = line
        return info
    }

    /// When the header is one field that another separator would split into the profile's
    /// columns, says so: a file saved with "," or a tab instead of the profile's delimiter.
    static func delimiterHint(_ names: [String], profile p: LedgerCSVProfile) -> String? {
        guard names.count == 1, let only = names.first else { return nil }
        let wanted = Set(p.columns.values)
        for (c, name) in [(",", "\",\""), ("\t", "a tab"), (";", "\";\""), ("|", "\"|\"")] where UInt8(ascii: c.unicodeScalars.first!) != p.delimiter
        {
            let parts = only.split(separator: Character(c), omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: CharacterSet(charactersIn: " \t\""))
            }
            if parts.count > 1, wanted.isSubset(of: Set(parts)) || Set(parts).intersection(wanted).count * 2 > wanted.count {
                return
                    " — the header looks separated by \(name), but profile \(p.file) says delimiter \"\(String(UnicodeScalar(p.delimiter)))\": set delimiter in the profile, or export the file with \"\(String(UnicodeScalar(p.delimiter)))\""
            }
        }
        return nil
    }

    static func check(path: String, display: String, profile: LedgerCSVProfile) throws -> Info {
        let r = try CSVReader(path: path, delimiter: profile.delimiter)
        return try read(r, display: display, profile: profile)
    }
}
