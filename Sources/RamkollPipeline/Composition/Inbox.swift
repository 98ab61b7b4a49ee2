import Foundation
import RamkollModel
import RamkollReaders

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The inbox the nightly job picks new exports up from (README "Inbox"). For each file dropped in
/// the inbox folder, in name order:
///
/// - its SHA-256 is taken; a file whose bytes were received before is **skipped**: noted in the
///   log and removed from the inbox (the archive holds the same bytes);
/// - it is **identified**: the sources with an `inbox:` name pattern that fits its name, whose
///   profile recognises its content (a CSV export by its header line, SIE by its `#FLAGGA`/
///   `#SIETYP` labels, an XML extract by its record element). Exactly one source must fit;
/// - it is **archived** as `<archive>/<first two hex digits>/<sha256>-<name>` (never overwritten)
///   and **installed** at the source's path (a temporary file renamed over the old one);
/// - a file that fits no source, or several, is **moved aside** to the rejected folder with
///   `<name>.reason.txt` saying why.
///
/// Every outcome is a line in `<archive>/inbox-log.csv` (received, file, SHA-256, outcome,
/// source, detail).
public enum Inbox {
    public struct Outcome: Sendable, Equatable {
        public enum Status: String, Sendable { case installed, skipped, rejected }
        public var file: String
        public var sha256: String
        public var status: Status
        public var source: String?
        public var detail: String
    }

    public static let logHeader = ["received_at", "file", "sha256", "outcome", "source", "detail"]

    public static func process(_ cfg: PipelineConfig, now: Date = Date()) throws -> [Outcome] {
        guard let settings = cfg.inbox else { throw RamkollError(.config, "the pipeline has no inbox: section") }
        try FileIO.createDirectory(settings.directory)
        try FileIO.createDirectory(settings.archive)
        let names = try FileManager.default.contentsOfDirectory(atPath: settings.directory).filter { name in
            var isDir: ObjCBool = false
            return !name.hasPrefix(".") && FileManager.default.fileExists(atPath: settings.directory + "/" + name, isDirectory: &isDir)
                && !isDir.boolValue
        }.sorted()
        let logPath = settings.archive + "/inbox-log.csv"
        var seen = Set<String>()
        if FileIO.exists(logPath) {
            try TableReader(path: logPath, required: ["sha256", "outcome"]).forEach { if $0["outcome"] == "installed" { seen.insert($0["sha256"]) } }
        }
        let stamp = ISO8601DateFormatter().string(from: now)
        var outcomes: [Outcome] = []
        for name in names {
            let path = settings.directory + "/" + name
            let sha = try FileIO.sha256(ofFile: path).hex
            if seen.contains(sha) {
                try FileManager.default.removeItem(atPath: path)
                outcomes.append(
                    Outcome(file: name, sha256: sha, status: .skipped, source: nil, detail: "received before (the archive holds these bytes)"))
                continue
            }
            var fits: [PipelineConfig.Source] = []
            var reasons: [String] = []
            for source in cfg.sources {
                guard let pattern = source.inboxPattern else { continue }
                guard fnmatch(pattern, name, 0) == 0 else { reasons.append("\(source.id): name does not fit \(pattern)"); continue }
                switch recognise(path, display: name, source: source) {
                case nil: fits.append(source)
                case let why?: reasons.append("\(source.id): \(why)")
                }
            }
            if fits.count == 1, let source = fits.first {
                let shard = settings.archive + "/" + String(sha.prefix(2))
                try FileIO.createDirectory(shard)
                let archived = shard + "/\(sha)-\(name)"
                if !FileIO.exists(archived) { try FileIO.writeAtomically(try Data(contentsOf: URL(fileURLWithPath: path)), to: archived) }
                try FileIO.createDirectory((source.path as NSString).deletingLastPathComponent)
                try FileIO.writeAtomically(try Data(contentsOf: URL(fileURLWithPath: path)), to: source.path)
                try FileManager.default.removeItem(atPath: path)
                seen.insert(sha)
                outcomes.append(
                    Outcome(file: name, sha256: sha, status: .installed, source: source.id, detail: "installed at \(cfg.display(source.path))"))
            } else {
                let why =
                    fits.isEmpty
                    ? "no source fits: " + (reasons.isEmpty ? "no source has an inbox pattern" : reasons.joined(separator: "; "))
                    : "several sources fit (\(fits.map(\.id).joined(separator: ", "))); give them inbox patterns that tell the files apart"
                try FileIO.createDirectory(settings.rejected)
                let target = settings.rejected + "/" + name
                try? FileManager.default.removeItem(atPath: target)
                try FileManager.default.moveItem(atPath: path, toPath: target)
                try FileIO.writeAtomically(Data((why + "\n").utf8), to: target + ".reason.txt")
                outcomes.append(Outcome(file: name, sha256: sha, status: .rejected, source: nil, detail: why))
            }
        }
        // The log: earlier lines and this pass's, rewritten atomically.
        if !outcomes.isEmpty {
            var text = FileIO.exists(logPath) ? (FileIO.readText(logPath) ?? "") : Inbox.logHeader.joined(separator: ";") + "\n"
            for o in outcomes {
                text +=
                    [stamp, o.file, o.sha256, o.status.rawValue, o.source ?? "", o.detail]
                    .map { $0.contains(";") || $0.contains("\"") ? "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : $0 }
                    .joined(separator: ";") + "\n"
            }
            try FileIO.writeAtomically(Data(text.utf8), to: logPath)
        }
        return outcomes
    }

    /// nil when one of the source's profiles recognises the file; otherwise why not.
    static func recognise(_ path: String, display: String, source: PipelineConfig.Source) -> String? {
        let candidates = source.candidates.isEmpty ? [(source.profilePath, source.profile)] : source.candidates
        var why: [String] = []
        for (_, profile) in candidates {
            guard let w = profile.recognise(path, display: display) else { return nil }
            why.append(w)
        }
        return why.joined(separator: "; ")
    }

    static func firstBytes(_ path: String, _ n: Int) -> String {
        guard let h = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? h.close() }
        let data = (try? h.read(upToCount: n)) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}
