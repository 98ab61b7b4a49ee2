import Foundation
import RamkollModel
import RamkollReaders

/// The auditor's commands on a finished run (README "Auditing a run"): `verify` re-hashes it,
/// `explain` lists the source rows behind a figure and shows they sum to it, `diff` compares two runs.
public enum Audit {
    // MARK: verify

    public struct Finding: Sendable, Equatable {
        public var stage: String
        public var problem: String
        public init(stage: String, problem: String) { self.stage = stage; self.problem = problem }
    }

    /// Every stage folder's files against its manifest (SHA-256, bytes, rows of the tables), every
    /// manifest against the run record's hash of it, every stage's inputs from earlier stages
    /// against those stages' outputs, and every recorded control-total identity. Source files that
    /// changed since the run are reported as notes (the run is still what it was).
    public static func verify(runDirectory dir: String) throws -> (findings: [Finding], notes: [String], files: Int) {
        var findings: [Finding] = [], notes: [String] = []
        var files = 0
        // The record is the run's table of contents: without it nothing says what should be here.
        let record = RunRecord.read(from: dir)
        if record == nil {
            findings.append(
                Finding(
                    stage: "run",
                    problem: FileIO.exists(dir + "/run.json")
                        ? "run.json cannot be read as a run record: it was changed or damaged"
                        : "run.json is missing: nothing records which stages ran and what they wrote"))
        }
        // The run's folder holds run.json and the folders of the stages run.json records, nothing else.
        let recorded = Set((record?.stages ?? []).filter { $0.status == "ran" || $0.status == "reused" }.map(\.stage))
        let folders = Dictionary(uniqueKeysWithValues: StageName.allCases.map { ($0.folder, $0) })
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted() where name != "run.json" {
            if let stage = folders[name] {
                if record != nil && !recorded.contains(stage.rawValue) && (record?.stages.contains { $0.stage == stage.rawValue } != true) {
                    findings.append(Finding(stage: stage.rawValue, problem: "\(name)/ is not a stage run.json records"))
                }
            } else {
                findings.append(Finding(stage: "run", problem: "\(name) is not part of a run (run.json records no such stage or file)"))
            }
        }
        for stage in StageName.allCases where recorded.contains(stage.rawValue) && !FileIO.exists(dir + "/" + stage.folder) {
            findings.append(Finding(stage: stage.rawValue, problem: "\(stage.folder)/ is missing: run.json records the stage"))
        }
        // The recorded outcome must be what the manifests say: a run whose stages found data
        // errors cannot have ended 0 or 3, and a finished run has every stage it records.
        if let r = record {
            if !["finished", "failed", "running"].contains(r.state) {
                findings.append(Finding(stage: "run", problem: "run.json's state \"\(r.state)\" is not a state Ramkoll writes"))
            }
        }
        var dataErrors = 0
        var outputs: [String: String] = [:]  // "02-normalize/ledger.csv" → sha
        for stage in StageName.allCases {
            let folder = dir + "/" + stage.folder
            guard FileIO.exists(folder + "/manifest.json") else {
                if FileIO.exists(folder) { findings.append(Finding(stage: stage.rawValue, problem: "no manifest.json: the stage did not finish")) }
                continue
            }
            let manifest: StageManifest
            do { manifest = try StageManifest.read(from: folder) } catch {
                findings.append(Finding(stage: stage.rawValue, problem: "manifest.json cannot be read: it was changed or damaged"))
                continue
            }
            dataErrors += manifest.dataErrors?.count ?? 0
            if let entry = record?.stages.first(where: { $0.stage == stage.rawValue }), let recorded = entry.manifestSha256 {
                let now = try FileIO.sha256(ofFile: folder + "/manifest.json").hex
                if now != recorded {
                    findings.append(
                        Finding(
                            stage: stage.rawValue,
                            problem: "manifest.json is not the one run.json recorded (SHA-256 \(now.prefix(12))…, recorded \(recorded.prefix(12))…)"))
                }
            }
            let listed = Set(manifest.outputs.map(\.path) + ["manifest.json", "timings.json"])
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted() where !listed.contains(name) {
                findings.append(Finding(stage: stage.rawValue, problem: "\(name) is not in the manifest"))
            }
            for out in manifest.outputs {
                files += 1
                let path = folder + "/" + out.path
                guard FileIO.exists(path) else { findings.append(Finding(stage: stage.rawValue, problem: "\(out.path) is missing")); continue }
                let (hex, bytes) = try FileIO.sha256(ofFile: path)
                outputs[stage.folder + "/" + out.path] = hex
                if hex != out.sha256 || bytes != out.bytes {
                    findings.append(
                        Finding(
                            stage: stage.rawValue,
                            problem:
                                "\(out.path) changed: SHA-256 \(hex.prefix(12))… (\(bytes) bytes), manifest \(out.sha256.prefix(12))… (\(out.bytes) bytes)"
                        ))
                    continue
                }
                if out.path.hasSuffix(".csv"), out.rows > 0 || out.bytes > 0, let rows = try? countRows(path), rows != out.rows,
                    !isSpreadsheet(out.path)
                {
                    findings.append(Finding(stage: stage.rawValue, problem: "\(out.path) has \(rows) rows, the manifest \(out.rows)"))
                }
            }
            for input in manifest.inputs where input.path.hasPrefix("../0") {
                let key = String(input.path.dropFirst(3))
                if let produced = outputs[key], produced != input.sha256 {
                    findings.append(
                        Finding(
                            stage: stage.rawValue,
                            problem:
                                "read \(key) with SHA-256 \(input.sha256.prefix(12))…, which is not what that stage wrote (\(produced.prefix(12))…)"))
                }
            }
            for b in manifest.balances where !b.balanced {
                findings.append(Finding(stage: stage.rawValue, problem: "control total does not balance: \(b.identity) (\(b.left) ≠ \(b.right))"))
            }
            if stage == .ingest, let pipelineFile = record?.pipelineFile {
                let base = (pipelineFile as NSString).deletingLastPathComponent
                for input in manifest.inputs {
                    let path = PipelineConfig.absolute(input.path, base: base)
                    let now = FileIO.exists(path) ? ((try? FileIO.sha256(ofFile: path).hex) ?? "unreadable") : "missing"
                    if now != input.sha256 {
                        notes.append(
                            "\(input.path) is \(now == "missing" ? "gone" : "changed") since the run (the run read \(input.sha256.prefix(12))…)")
                    }
                }
            }
        }
        if let r = record, let exit = r.exitStatus, dataErrors > 0,
            exit == ExitStatus.ok.rawValue || exit == ExitStatus.deviationsOverThreshold.rawValue
        {
            findings.append(
                Finding(
                    stage: "run",
                    problem:
                        "run.json says exit \(exit), but the manifests hold \(dataErrors) data error\(dataErrors == 1 ? "" : "s"): a run with data errors ends with 65"
                ))
        }
        return (findings, notes, files)
    }

    static func isSpreadsheet(_ name: String) -> Bool { name.hasSuffix("_kalkyl.csv") }

    static func countRows(_ path: String) throws -> Int64 {
        var n: Int64 = 0
        try TableReader(path: path, required: []).forEach { _ in n += 1 }
        return n
    }

    // MARK: explain

    public struct SourceRow: Sendable {
        public var file: String
        public var fileSha256: String
        public var line: Int
        public var period: String
        public var account: String
        public var ansvar: String
        public var unit: String
        public var reportLine: String
        /// Report sign.
        public var amount: Ore
        public var raw: String
    }

    public struct Explanation: Sendable {
        public var unit: String
        public var line: String
        public var periods: String
        public var rows: [SourceRow]
        public var total: Ore
        /// The figure as the run reported it (avvikelse.csv actual_ytd_ore, or the grid's month).
        public var reported: Ore
        public var reportedWhere: String
    }

    /// The ledger rows behind one actual figure of a run: unit (and every unit under it) × report
    /// line (a sum line: its base lines; a base line: with its varav lines) for the year to the
    /// as-of period, or one period. The rows are mapped again with the run's own mapping tables —
    /// the pipeline's settings hash must still be the run's — and their raw source lines are read
    /// from the source files, when those are still the bytes the run read (personnummer redacted).
    public static func explain(runDirectory dir: String, unit: String, line: String, period: Period?) throws -> Explanation {
        guard let record = RunRecord.read(from: dir) else {
            throw RamkollError(.input, "\(dir) has no run.json; explain works on sealed runs")
        }
        let (loaded, maps, diagnostics) = Runner.check(record.pipelineFile)
        guard var cfg = loaded, let maps else {
            throw RamkollError(
                .config, "the run's pipeline \(record.pipelineFile) is not valid now: " + diagnostics.map(\.description).joined(separator: "; "))
        }
        cfg.asOf = Period(record.asOf)!
        guard try cfg.settingsHash() == record.settingsSha256 else {
            throw RamkollError(
                .input,
                "the pipeline file, a profile or a mapping table changed since run \(record.runID) (or the tool version did); explain maps rows with the run's own tables — use the tool and files the run used"
            )
        }
        guard maps.units.byID[unit] != nil else { throw RamkollError(.usage, "unit \"\(unit)\" is not in the unit hierarchy") }
        guard maps.lineByID[line] != nil else { throw RamkollError(.usage, "report line \"\(line)\" is not defined") }
        if let p = period, p.year != cfg.fiscalYear || p > cfg.asOf {
            throw RamkollError(.usage, "period \(p) is not in \(cfg.fiscalYear) up to the run's as-of \(cfg.asOf)")
        }
        let lines = maps.components(of: line)
        let units = Set(maps.units.units.map(\.id).filter { maps.units.path(to: $0).contains(unit) })
        // Source files as the run read them, by absolute path (ingest and normalize may name a
        // file differently: as the pipeline wrote it, or relative to the pipeline's folder).
        let absolute = cfg.absolute
        var fileSha: [String: String] = [:]
        var readable: [String: Bool] = [:]
        try TableReader(path: dir + "/01-ingest/inputs.csv", required: ["path", "sha256"]).forEach { row in
            let abs = absolute(row["path"])
            fileSha[abs] = row["sha256"]
            readable[abs] = FileIO.exists(abs) && (try? FileIO.sha256(ofFile: abs).hex) == row["sha256"]
        }
        let mapper = PostingMapper(maps)
        var rows: [SourceRow] = []
        var absolutePath: [String: String] = [:]
        var total = Ore.zero
        try TableReader(path: dir + "/02-normalize/ledger.csv", required: ["file", "line", "period", "account", "ansvar", "amount_ore"]).forEach {
            row in
            let p = try row.period("period")
            guard p.year == cfg.fiscalYear, p <= cfg.asOf, period == nil || p == period else { return }
            guard case .mapped(let u, let l) = mapper.map(account: row["account"], ansvar: row["ansvar"], period: p), units.contains(u),
                lines.contains(l)
            else { return }
            let amount = SignConvention.reportSign(fromLedger: Ore(try row.int("amount_ore")))
            total += amount
            let file = row["file"]
            if absolutePath[file] == nil { absolutePath[file] = absolute(file) }
            rows.append(
                SourceRow(
                    file: file, fileSha256: fileSha[absolutePath[file]!] ?? "", line: Int(try row.int("line")), period: p.description,
                    account: row["account"], ansvar: row["ansvar"], unit: u, reportLine: l, amount: amount, raw: ""))
        }
        // Raw lines, one pass per file.
        for (file, wanted) in Dictionary(grouping: rows.indices, by: { rows[$0].file }) {
            let abs = absolutePath[file]!
            guard readable[abs] == true else {
                for i in wanted { rows[i].raw = "(the source file changed or is gone since the run; raw line not shown)" }
                continue
            }
            let encoding =
                cfg.sources.first { $0.path == abs }?.profile.lineEncoding ?? .utf8
            let byLine = Dictionary(grouping: wanted, by: { rows[$0].line })
            try RawLines.read(abs, lines: Set(byLine.keys)) { n, bytes in
                let text = encoding.decode(bytes) ?? String(decoding: bytes, as: UTF8.self)
                for i in byLine[n] ?? [] { rows[i].raw = PersonalIdentity.redact(text) }
            }
        }
        // The figure as reported.
        var reported = Ore.zero, whereText = ""
        if let p = period {
            let base = Set(lines)
            try TableReader(path: dir + "/03-reconcile/actuals_vs_budget.csv", required: ["unit", "line", "period", "actual_ore"]).forEach { row in
                if units.contains(row["unit"]) && base.contains(row["line"]) && row["period"] == p.description {
                    reported += Ore(try row.int("actual_ore"))
                }
            }
            whereText = "03-reconcile/actuals_vs_budget.csv actual_ore, \(unit) and the units under it, \(line), \(p)"
        } else {
            try TableReader(path: dir + "/04-deviation/avvikelse.csv", required: ["unit", "line", "actual_ytd_ore"]).forEach { row in
                if row["unit"] == unit && row["line"] == line { reported = Ore(try row.int("actual_ytd_ore")) }
            }
            whereText = "04-deviation/avvikelse.csv actual_ytd_ore, \(unit), \(line) (the Drift table's outcome in öre)"
        }
        rows.sort { ($0.file, $0.line) < ($1.file, $1.line) }
        return Explanation(
            unit: unit, line: line, periods: period?.description ?? "\(cfg.fiscalYear)-01–\(cfg.asOf)", rows: rows, total: total, reported: reported,
            reportedWhere: whereText)
    }

    // MARK: diff

    public struct Difference: Sendable {
        public var inputs: [String]
        public var settingsChanged: Bool
        public var files: [String]
        public var figures: [String]
    }

    /// What changed between two runs: inputs (by SHA-256), settings, output files and figures
    /// (per unit × line: budget, outcome to date and forecast, in öre).
    public static func diff(_ a: String, _ b: String) throws -> Difference {
        func inputs(_ dir: String) throws -> [String: String] {
            var out: [String: String] = [:]
            try TableReader(path: dir + "/01-ingest/inputs.csv", required: ["path", "sha256"]).forEach { out[$0["path"]] = $0["sha256"] }
            return out
        }
        let ia = try inputs(a), ib = try inputs(b)
        var changedInputs: [String] = []
        for path in Set(ia.keys).union(ib.keys).sorted() {
            switch (ia[path], ib[path]) {
            case (nil, let y?): changedInputs.append("added   \(path) \(y.prefix(12))…")
            case (let x?, nil): changedInputs.append("removed \(path) \(x.prefix(12))…")
            case (let x?, let y?) where x != y: changedInputs.append("changed \(path) \(x.prefix(12))… → \(y.prefix(12))…")
            default: break
            }
        }
        let ra = RunRecord.read(from: a), rb = RunRecord.read(from: b)
        var files: [String] = []
        for stage in StageName.allCases {
            guard let ma = try? StageManifest.read(from: a + "/" + stage.folder), let mb = try? StageManifest.read(from: b + "/" + stage.folder)
            else { continue }
            let oa = Dictionary(uniqueKeysWithValues: ma.outputs.map { ($0.path, $0.sha256) })
            let ob = Dictionary(uniqueKeysWithValues: mb.outputs.map { ($0.path, $0.sha256) })
            for p in Set(oa.keys).union(ob.keys).sorted() where oa[p] != ob[p] { files.append("\(stage.folder)/\(p)") }
        }
        struct Fig: Equatable { var budget = "", actual = "", forecast = "" }
        func figures(_ dir: String) throws -> [String: Fig] {
            var out: [String: Fig] = [:]
            try TableReader(path: dir + "/04-deviation/avvikelse.csv", required: ["unit", "line", "budget_year_ore", "actual_ytd_ore"]).forEach {
                out[$0["unit"] + " " + $0["line"], default: Fig()].budget = $0["budget_year_ore"]
                out[$0["unit"] + " " + $0["line"], default: Fig()].actual = $0["actual_ytd_ore"]
            }
            if FileIO.exists(dir + "/05-prognosis/prognos.csv") {
                try TableReader(path: dir + "/05-prognosis/prognos.csv", required: ["unit", "line", "forecast_ore"]).forEach {
                    out[$0["unit"] + " " + $0["line"], default: Fig()].forecast = $0["forecast_ore"]
                }
            }
            return out
        }
        let fa = try figures(a), fb = try figures(b)
        var changed: [String] = []
        func show(_ x: String, _ y: String, _ what: String) -> String? {
            guard x != y else { return nil }
            let d = (Int64(y) ?? 0) - (Int64(x) ?? 0)
            return "\(what) \(Ore(Int64(x) ?? 0).swedish) → \(Ore(Int64(y) ?? 0).swedish) kr (\(d >= 0 ? "+" : "")\(Ore(d).swedish))"
        }
        for key in Set(fa.keys).union(fb.keys).sorted() where fa[key] != fb[key] {
            let x = fa[key] ?? Fig(), y = fb[key] ?? Fig()
            let parts = [show(x.budget, y.budget, "budget"), show(x.actual, y.actual, "utfall"), show(x.forecast, y.forecast, "prognos")].compactMap {
                $0
            }
            changed.append("\(key): " + parts.joined(separator: "; "))
        }
        return Difference(inputs: changedInputs, settingsChanged: ra?.settingsSha256 != rb?.settingsSha256, files: files, figures: changed)
    }
}

/// Reads chosen physical lines of a file (1-based, as the CSV reader numbers records) without
/// holding the file: one buffered pass.
enum RawLines {
    static func read(_ path: String, lines: Set<Int>, _ body: (Int, [UInt8]) -> Void) throws {
        guard let h = FileHandle(forReadingAtPath: path) else { throw RamkollError(.input, "cannot open \(path)") }
        defer { try? h.close() }
        var n = 1
        var current: [UInt8] = []
        let last = lines.max() ?? 0
        while n <= last, let chunk = try h.read(upToCount: 1 << 20), !chunk.isEmpty {
            for b in chunk {
                if b == 0x0A {
                    if lines.contains(n) {
                        if current.last == 0x0D { current.removeLast() }
                        body(n, current)
                    }
                    n += 1
                    current.removeAll(keepingCapacity: true)
                    if n > last { return }
                } else if lines.contains(n) {
                    current.append(b)
                }
            }
        }
        if lines.contains(n) && !current.isEmpty { body(n, current) }
    }
}
