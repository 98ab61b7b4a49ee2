import Foundation
import RamkollModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Sealed runs (README "Runs are sealed records"). Under a pipeline's runs folder:
///
///     all/2022-12.001/       one run: run.json and the stage folders; never written again once
///     all/2022-12.002/       the run has ended (a new run gets a new folder)
///     2022-12 -> all/2022-12.002   the newest run of a period
///     latest  -> all/2022-12.002   the newest run
///     locks/2022-12.lock     held while a run of that period is under way
///     ramkoll.sqlite         run history and warehouse (RamkollHistory)
///
/// Run ids are `<as-of>.<NNN>`, numbered per period; a new folder is made with `mkdir`, which
/// fails if it exists, so no run ever writes into another's folder.
public struct RunStore: Sendable {
    public let root: String
    public init(root: String) { self.root = URL(fileURLWithPath: root).standardizedFileURL.path }

    public var allDirectory: String { root + "/all" }
    public func directory(of id: String) -> String { allDirectory + "/" + id }
    public func lockPath(asOf: Period) -> String { root + "/locks/\(asOf).lock" }
    public var historyPath: String { root + "/ramkoll.sqlite" }

    /// `2022-12.003` → (2022-12, 3).
    public static func parse(_ id: String) -> (asOf: Period, number: Int)? {
        let parts = id.split(separator: ".")
        guard parts.count == 2, let p = Period(String(parts[0])), let n = Int(parts[1]), n > 0 else { return nil }
        return (p, n)
    }

    /// Run ids, oldest first; of one period when given.
    public func runs(asOf: Period? = nil) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: allDirectory)) ?? []
        return names.compactMap { n in RunStore.parse(n).map { (n, $0) } }
            .filter { asOf == nil || $0.1.asOf == asOf }
            .sorted { ($0.1.asOf, $0.1.number) < ($1.1.asOf, $1.1.number) }
            .map(\.0)
    }

    /// A run id given as `latest`, a period (its newest run) or an id; a path to a run folder is
    /// taken as it is.
    public func resolve(_ given: String) -> String? {
        if given == "latest" { return pointer("latest") }
        if let p = Period(given) { return runs(asOf: p).last.map(directory(of:)) }
        if RunStore.parse(given) != nil, FileIO.exists(directory(of: given)) { return directory(of: given) }
        if FileIO.exists(given + "/run.json") || FileIO.exists(given + "/01-ingest") {
            return URL(fileURLWithPath: given).standardizedFileURL.path
        }
        return nil
    }

    private func pointer(_ name: String) -> String? {
        guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: root + "/" + name) else { return nil }
        return URL(fileURLWithPath: target, relativeTo: URL(fileURLWithPath: root + "/")).standardizedFileURL.path
    }

    /// Makes the next run's folder of a period (the caller holds the period's lock).
    public func newRun(asOf: Period) throws -> (id: String, directory: String) {
        try FileIO.createDirectory(allDirectory)
        let next = (runs(asOf: asOf).last.flatMap { RunStore.parse($0)?.number } ?? 0) + 1
        let id = "\(asOf).\(String(repeating: "0", count: max(0, 3 - String(next).count)))\(next)"
        let dir = directory(of: id)
        guard mkdir(dir, 0o755) == 0 else {
            throw RamkollError(.internalFailure, "cannot make the run folder \(dir): \(String(cString: strerror(errno)))")
        }
        return (id, dir)
    }

    /// Points each period's link at its newest good run (finished with 0 or 3) and `latest` at the
    /// good run that finished last, and removes the temporary links of a switch that was killed;
    /// returns what it changed (`latest → 2022-12.002`). Runs after every sealed run and before
    /// each run and retry, so a kill between the two renames is mended by the next one.
    @discardableResult
    public func repairPointers() -> [String] {
        var changes: [String] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] where name.hasSuffix(".link") {
            if unlink(root + "/" + name) == 0 { changes.append("removed \(name)") }
        }
        var newestOfPeriod: [Period: String] = [:]
        var latest: (finished: String, id: String)?
        for id in runs() {
            guard let record = RunRecord.read(from: directory(of: id)), record.isGood, let p = RunStore.parse(id)?.asOf else { continue }
            newestOfPeriod[p] = id
            let finished = record.finishedAt ?? ""
            if latest == nil || (finished, id) >= (latest!.finished, latest!.id) { latest = (finished, id) }
        }
        var wanted = newestOfPeriod.map { ($0.key.description, $0.value) }
        if let latest { wanted.append(("latest", latest.id)) }
        for (name, id) in wanted.sorted(by: { $0.0 < $1.0 }) where pointer(name) != directory(of: id) {
            do {
                try point(name, at: id)
                changes.append("\(name) → \(id)")
            } catch { changes.append("\(name): \((error as? RamkollError)?.message ?? "\(error)")") }
        }
        return changes
    }

    /// Points one link at a run, replaced atomically (a new link renamed over the old one). A real
    /// folder at the link's name (the layout before sealed runs) is refused.
    func point(_ name: String, at id: String) throws {
        let path = root + "/" + name
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), isDir.boolValue,
            (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) == nil
        {
            throw RamkollError(
                .input, "\(path) is a folder, not a link to a run (an older layout); move it away, e.g. to \(allDirectory)/\(name).legacy")
        }
        let temp = path + ".\(getpid()).link"
        unlink(temp)
        guard symlink("all/" + id, temp) == 0, rename(temp, path) == 0 else {
            throw RamkollError(.internalFailure, "cannot point \(path) at \(id): \(String(cString: strerror(errno)))")
        }
    }

    /// Links (or, across file systems, copies) every file of a stage folder of an earlier run into
    /// the same folder of a new run: the bytes are the earlier run's, and sealed runs never change.
    public static func reuse(folder: String, from source: String, into target: String) throws {
        let from = source + "/" + folder, to = target + "/" + folder
        try FileIO.createDirectory(to)
        for name in try FileManager.default.contentsOfDirectory(atPath: from).sorted() where !name.hasPrefix(".") {
            if link(from + "/" + name, to + "/" + name) != 0 {
                try FileManager.default.copyItem(atPath: from + "/" + name, toPath: to + "/" + name)
            }
        }
    }
}

extension RunStore {
    /// Makes every file of an ended run read-only (its folders stay writable, so old runs can be
    /// removed). Reused files are links shared with earlier runs: they were sealed already.
    public static func seal(_ directory: String) {
        guard let e = FileManager.default.enumerator(atPath: directory) else { return }
        while let p = e.nextObject() as? String {
            var isDir: ObjCBool = false
            let path = directory + "/" + p
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue { chmod(path, 0o444) }
        }
    }
}

/// `run.json`: the record of one sealed run, rewritten (atomically) after each stage so that a run
/// that dies leaves a record of how far it got.
public struct RunRecord: Codable, Sendable {
    public var schema = "ramkoll.run/1"
    public var runID: String
    public var pipeline: String
    public var pipelineFile: String
    public var asOf: String
    /// `cron` or `user`.
    public var trigger: String
    public var arguments: [String]
    public var toolVersion: String = RamkollVersion.string
    /// The build that made the run (`RamkollVersion.build`).
    public var build: String? = RamkollVersion.build
    public var settingsSha256: String
    public var startedAt: String
    public var finishedAt: String?
    /// `running`, `finished` or `failed`.
    public var state: String
    public var exitStatus: Int32?
    public var error: String?
    /// Closed months (before the as-of month) whose ledger totals changed or vanished since the
    /// period's previous good run; nil when there was none to compare with.
    public var closedMonths: [String]?
    /// The warehouse load: `loading`, `loaded`, `failed: …`; nil when the run was not loaded.
    public var warehouse: String?
    public var stages: [StageEntry] = []

    /// Finished with 0 or 3, and loaded into the warehouse when it was to be: the run may be the
    /// period's link and latest, and there is nothing to retry.
    public var isGood: Bool {
        state == "finished" && (exitStatus == ExitStatus.ok.rawValue || exitStatus == ExitStatus.deviationsOverThreshold.rawValue)
            && (warehouse == nil || warehouse == "loaded")
    }

    public struct StageEntry: Codable, Sendable {
        public var stage: String
        /// `ran`, `reused` or `failed`.
        public var status: String
        public var reason: String
        public var reusedFrom: String?
        public var seconds: Double?
        public var rowsRead: Int64
        public var rowsRejected: Int64
        public var deviationsOverThreshold: Int
        public var dataErrors: [String]
        public var summary: [String]
        public var manifestSha256: String?
        public var inputs: [InputRecord]
        public var outputs: [OutputRecord]
        enum CodingKeys: String, CodingKey {
            case stage, status, reason, reusedFrom = "reused_from", seconds, rowsRead = "rows_read", rowsRejected = "rows_rejected",
                deviationsOverThreshold = "deviations_over_threshold", dataErrors = "data_errors", summary,
                manifestSha256 = "manifest_sha256", inputs, outputs
        }
    }

    enum CodingKeys: String, CodingKey {
        case schema, runID = "run_id", pipeline, pipelineFile = "pipeline_file", asOf = "as_of", trigger, arguments,
            toolVersion = "tool_version", build, settingsSha256 = "settings_sha256", startedAt = "started_at", finishedAt = "finished_at", state,
            exitStatus = "exit_status", error, closedMonths = "closed_months", warehouse, stages
    }

    public func write(to directory: String) throws {
        var data = try StageManifest.encoder().encode(self)
        data.append(0x0A)
        try FileIO.writeAtomically(data, to: directory + "/run.json")
    }

    public static func read(from directory: String) -> RunRecord? {
        guard let data = FileManager.default.contents(atPath: directory + "/run.json") else { return nil }
        return try? JSONDecoder().decode(RunRecord.self, from: data)
    }
}
