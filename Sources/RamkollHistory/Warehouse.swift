import Foundation
import RamkollModel
import RamkollPipeline

/// A value bound to a SQL statement.
public enum SQLValue: Sendable, Equatable {
    case text(String)
    case int(Int64)
    case double(Double)
    case null
}

/// A database the warehouse writes to: the embedded SQLite file (GRDB) or PostgreSQL
/// (postgres-nio). Statements use `?` placeholders; a target translates them when it must.
public protocol WarehouseTarget: AnyObject {
    var name: String { get }
    /// Runs `body` in one transaction: all of it lands, or none.
    func transaction(_ body: (_ execute: (String, [SQLValue]) throws -> Void) throws -> Void) throws
    /// The first column of the first row, as an integer (nil when there is no row).
    func integer(_ sql: String, _ args: [SQLValue]) throws -> Int64?
    /// Column names of a table (empty when it does not exist).
    func columns(of table: String) throws -> [String]
}

/// The warehouse: a run's record, its normalized data and its results in SQL tables with one
/// schema on SQLite and PostgreSQL (README "Warehouse").
///
/// - `runs`, `stage_runs`, `artifacts`: the run record (as in `run.json`), keyed by pipeline and run id;
/// - `datasets` (sha256, table_name, rows) and one table per loaded file — `ledger`,
///   `placements`, `decisions`, `payments`, `budget`, `plan`, `rejects`, `actuals_vs_budget`,
///   `avvikelse`, `prognos` — whose rows carry their file's SHA-256 (`dataset`) and row number;
/// - `run_datasets` (pipeline, run_id, table_name, dataset): which file each run used.
///
/// A file is loaded once, whatever number of runs use it (a reused stage's files are the same
/// bytes); loading a run again replaces its rows in `runs`, `stage_runs`, `artifacts` and
/// `run_datasets` and never duplicates anything. Each run is loaded in one transaction.
public enum Warehouse {
    /// The stage files loaded, as table name → path in the run folder.
    public static let files: [(table: String, path: String)] = [
        ("ledger", "02-normalize/ledger.csv"), ("placements", "02-normalize/placements.csv"), ("decisions", "02-normalize/decisions.csv"),
        ("payments", "02-normalize/payments.csv"), ("budget", "02-normalize/budget.csv"), ("plan", "02-normalize/plan.csv"),
        ("rejects", "02-normalize/rejects.csv"), ("actuals_vs_budget", "03-reconcile/actuals_vs_budget.csv"),
        ("avvikelse", "04-deviation/avvikelse.csv"), ("prognos", "05-prognosis/prognos.csv"),
    ]

    static let integerColumns: Set<String> = ["record", "row_no", "rows", "level", "households", "payments", "care_days", "placements"]
    /// In the normalized tables `line` is the source file's line; in the results, a report line's id.
    static let sourceTables: Set<String> = ["ledger", "placements", "decisions", "payments", "budget", "plan", "rejects"]

    /// A column name as a quoted identifier (the files have columns such as `end` and `text`).
    static func quoted(_ column: String) -> String { "\"" + column.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    static func type(of column: String, in table: String) -> String {
        column.hasSuffix("_ore") || integerColumns.contains(column) || (column == "line" && sourceTables.contains(table)) ? "BIGINT" : "TEXT"
    }

    /// The fixed tables, in SQL both databases accept.
    public static let ddl: [String] = [
        """
        CREATE TABLE IF NOT EXISTS runs (
          pipeline TEXT NOT NULL, run_id TEXT NOT NULL, as_of TEXT NOT NULL, trigger TEXT NOT NULL, arguments TEXT NOT NULL,
          tool_version TEXT NOT NULL, settings_sha256 TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT, state TEXT NOT NULL,
          exit_status BIGINT, error TEXT, directory TEXT NOT NULL, PRIMARY KEY (pipeline, run_id))
        """,
        """
        CREATE TABLE IF NOT EXISTS stage_runs (
          pipeline TEXT NOT NULL, run_id TEXT NOT NULL, position BIGINT NOT NULL, stage TEXT NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL,
          reused_from TEXT, seconds DOUBLE PRECISION, rows_read BIGINT NOT NULL, rows_rejected BIGINT NOT NULL,
          deviations_over_threshold BIGINT NOT NULL, manifest_sha256 TEXT, PRIMARY KEY (pipeline, run_id, stage))
        """,
        """
        CREATE TABLE IF NOT EXISTS artifacts (
          pipeline TEXT NOT NULL, run_id TEXT NOT NULL, stage TEXT NOT NULL, direction TEXT NOT NULL, path TEXT NOT NULL,
          sha256 TEXT NOT NULL, bytes BIGINT NOT NULL, PRIMARY KEY (pipeline, run_id, stage, direction, path))
        """,
        "CREATE TABLE IF NOT EXISTS datasets (sha256 TEXT NOT NULL, table_name TEXT NOT NULL, rows BIGINT NOT NULL, PRIMARY KEY (sha256, table_name))",
        "CREATE TABLE IF NOT EXISTS run_datasets (pipeline TEXT NOT NULL, run_id TEXT NOT NULL, table_name TEXT NOT NULL, dataset TEXT NOT NULL, PRIMARY KEY (pipeline, run_id, table_name))",
    ]

    public static func createTables(_ target: WarehouseTarget) throws {
        try target.transaction { execute in for s in ddl { try execute(s, []) } }
    }

    /// Stores a run's record only (the history).
    public static func loadRecord(_ r: RunRecord, directory: String, into target: WarehouseTarget) throws {
        try createTables(target)
        try target.transaction { execute in try record(r, directory: directory, execute) }
    }

    static func record(_ r: RunRecord, directory: String, _ execute: (String, [SQLValue]) throws -> Void) throws {
        for t in ["artifacts", "stage_runs", "runs"] {
            try execute("DELETE FROM \(t) WHERE pipeline = ? AND run_id = ?", [.text(r.pipeline), .text(r.runID)])
        }
        func opt(_ s: String?) -> SQLValue { s.map { .text($0) } ?? .null }
        try execute(
            "INSERT INTO runs (run_id, pipeline, as_of, trigger, arguments, tool_version, settings_sha256, started_at, finished_at, state, exit_status, error, directory) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                .text(r.runID), .text(r.pipeline), .text(r.asOf), .text(r.trigger), .text(r.arguments.joined(separator: " ")),
                .text(r.toolVersion), .text(r.settingsSha256), .text(r.startedAt), opt(r.finishedAt), .text(r.state),
                r.exitStatus.map { .int(Int64($0)) } ?? .null, opt(r.error), .text(directory),
            ])
        for (i, s) in r.stages.enumerated() {
            try execute(
                "INSERT INTO stage_runs (pipeline, run_id, position, stage, status, reason, reused_from, seconds, rows_read, rows_rejected, deviations_over_threshold, manifest_sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    .text(r.pipeline), .text(r.runID), .int(Int64(i + 1)), .text(s.stage), .text(s.status), .text(s.reason), opt(s.reusedFrom),
                    s.seconds.map { .double($0) } ?? .null, .int(s.rowsRead), .int(s.rowsRejected), .int(Int64(s.deviationsOverThreshold)),
                    opt(s.manifestSha256),
                ])
            var seen = Set<String>()
            for (direction, files) in [
                ("input", s.inputs.map { ($0.path, $0.sha256, $0.bytes) }), ("output", s.outputs.map { ($0.path, $0.sha256, $0.bytes) }),
            ] {
                for f in files where seen.insert(direction + f.0).inserted {
                    try execute(
                        "INSERT INTO artifacts (pipeline, run_id, stage, direction, path, sha256, bytes) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [.text(r.pipeline), .text(r.runID), .text(s.stage), .text(direction), .text(f.0), .text(f.1), .int(f.2)])
                }
            }
        }
    }

    public struct LoadReport: Sendable, Equatable {
        public var loaded: [String: Int64] = [:]  // table → rows inserted by this load
        public var alreadyThere: [String] = []  // tables whose file was loaded before
    }

    /// Loads a finished run — record, normalized data, results — in one transaction.
    @discardableResult
    public static func load(runDirectory dir: String, into target: WarehouseTarget, batch: Int = 400) throws -> LoadReport {
        guard let r = RunRecord.read(from: dir) else { throw RamkollError(.input, "\(dir) has no run.json; the warehouse loads sealed runs") }
        try createTables(target)
        var report = LoadReport()
        // Tables for the files, from their headers (checked against what an existing table has).
        var plan: [(table: String, path: String, sha: String, header: [String])] = []
        for (table, rel) in files {
            let path = dir + "/" + rel
            guard FileIO.exists(path) else { continue }
            let header = try TableReader(path: path, required: []).header
            let columns = ["dataset", "row_no"] + header
            let existing = try target.columns(of: table)
            if existing.isEmpty {
                let defs = columns.map { "\(quoted($0)) \(type(of: $0, in: table))\($0 == "dataset" || $0 == "row_no" ? " NOT NULL" : "")" }.joined(
                    separator: ", ")
                try target.transaction { execute in
                    try execute("CREATE TABLE IF NOT EXISTS \(table) (\(defs), PRIMARY KEY (dataset, row_no))", [])
                }
            } else if existing != columns {
                throw RamkollError(
                    .data,
                    "\(target.name): table \(table) has the columns \(existing.joined(separator: ",")), the run's \(rel) has \(columns.dropFirst(2).joined(separator: ",")); the warehouse was made by another tool version — load into a new database or migrate it"
                )
            }
            plan.append((table, path, try FileIO.sha256(ofFile: path).hex, header))
        }
        try target.transaction { execute in
            try record(r, directory: dir, execute)
            try execute("DELETE FROM run_datasets WHERE pipeline = ? AND run_id = ?", [.text(r.pipeline), .text(r.runID)])
            for f in plan {
                try execute(
                    "INSERT INTO run_datasets (pipeline, run_id, table_name, dataset) VALUES (?, ?, ?, ?)",
                    [.text(r.pipeline), .text(r.runID), .text(f.table), .text(f.sha)])
            }
        }
        for f in plan {
            if try target.integer("SELECT rows FROM datasets WHERE sha256 = ? AND table_name = ?", [.text(f.sha), .text(f.table)]) != nil {
                report.alreadyThere.append(f.table)
                continue
            }
            // One transaction per file: its rows and its datasets row land together.
            try target.transaction { execute in
                let columns = ["dataset", "row_no"] + f.header
                let types = columns.map { type(of: $0, in: f.table) }
                var rows: [[SQLValue]] = []
                var n: Int64 = 0
                func flush() throws {
                    guard !rows.isEmpty else { return }
                    let one = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
                    try execute(
                        "INSERT INTO \(f.table) (\(columns.map(quoted).joined(separator: ", "))) VALUES "
                            + Array(repeating: one, count: rows.count).joined(separator: ", "),
                        rows.flatMap { $0 })
                    rows.removeAll(keepingCapacity: true)
                }
                try TableReader(path: f.path, required: []).forEach { row in
                    n += 1
                    var values: [SQLValue] = [.text(f.sha), .int(n)]
                    for (i, c) in f.header.enumerated() {
                        let v = row[c]
                        if types[i + 2] == "BIGINT" {
                            values.append(v.isEmpty ? .null : Int64(v).map { .int($0) } ?? .text(v))
                        } else {
                            values.append(.text(v))
                        }
                    }
                    rows.append(values)
                    if rows.count >= batch { try flush() }
                }
                try flush()
                try execute("INSERT INTO datasets (sha256, table_name, rows) VALUES (?, ?, ?)", [.text(f.sha), .text(f.table), .int(n)])
                report.loaded[f.table] = n
            }
        }
        return report
    }
}
