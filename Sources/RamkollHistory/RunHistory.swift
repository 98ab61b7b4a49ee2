import Foundation
import GRDB
import RamkollModel
import RamkollPipeline

/// The run history in SQLite (`runs/<pipeline>/ramkoll.sqlite`, through GRDB): one row per run,
/// per stage of a run, and per input and output file with its SHA-256. It is an index of the runs'
/// own `run.json` records: `record` upserts one run (a rerun of the same id replaces its rows,
/// never duplicates them) and `sync` reads every record under the store again, so a run that died
/// before it could write here is still listed.
public final class RunHistory {
    public let path: String
    let db: DatabaseQueue

    public init(path: String) throws {
        self.path = path
        try FileIO.createDirectory((path as NSString).deletingLastPathComponent)
        var config = Configuration()
        config.busyMode = .timeout(10)
        db = try DatabaseQueue(path: path, configuration: config)
        try RunHistory.migrator.migrate(db)
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("runs v1") { db in
            try db.create(table: "runs") { t in
                t.primaryKey("run_id", .text)
                t.column("pipeline", .text).notNull()
                t.column("as_of", .text).notNull()
                t.column("trigger", .text).notNull()
                t.column("arguments", .text).notNull()
                t.column("tool_version", .text).notNull()
                t.column("settings_sha256", .text).notNull()
                t.column("started_at", .text).notNull()
                t.column("finished_at", .text)
                t.column("state", .text).notNull()
                t.column("exit_status", .integer)
                t.column("error", .text)
                t.column("directory", .text).notNull()
            }
            try db.create(table: "stage_runs") { t in
                t.column("run_id", .text).notNull().references("runs", onDelete: .cascade)
                t.column("position", .integer).notNull()
                t.column("stage", .text).notNull()
                t.column("status", .text).notNull()
                t.column("reason", .text).notNull()
                t.column("reused_from", .text)
                t.column("seconds", .double)
                t.column("rows_read", .integer).notNull()
                t.column("rows_rejected", .integer).notNull()
                t.column("deviations_over_threshold", .integer).notNull()
                t.column("manifest_sha256", .text)
                t.primaryKey(["run_id", "stage"])
            }
            try db.create(table: "artifacts") { t in
                t.column("run_id", .text).notNull().references("runs", onDelete: .cascade)
                t.column("stage", .text).notNull()
                t.column("direction", .text).notNull()  // input or output
                t.column("path", .text).notNull()
                t.column("sha256", .text).notNull()
                t.column("bytes", .integer).notNull()
                t.primaryKey(["run_id", "stage", "direction", "path"])
            }
        }
        return m
    }

    /// Stores one run's record, replacing what an earlier call stored for the same run.
    public func record(_ r: RunRecord, directory: String) throws {
        try db.write { db in
            try db.execute(sql: "DELETE FROM runs WHERE run_id = ?", arguments: [r.runID])
            try db.execute(
                sql: """
                    INSERT INTO runs (run_id, pipeline, as_of, trigger, arguments, tool_version, settings_sha256, started_at, finished_at,
                                      state, exit_status, error, directory)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    r.runID, r.pipeline, r.asOf, r.trigger, r.arguments.joined(separator: " "), r.toolVersion, r.settingsSha256, r.startedAt,
                    r.finishedAt, r.state, r.exitStatus.map { Int($0) }, r.error, directory,
                ])
            for (i, s) in r.stages.enumerated() {
                try db.execute(
                    sql: """
                        INSERT INTO stage_runs (run_id, position, stage, status, reason, reused_from, seconds, rows_read, rows_rejected,
                                                deviations_over_threshold, manifest_sha256)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        r.runID, i + 1, s.stage, s.status, s.reason, s.reusedFrom, s.seconds, s.rowsRead, s.rowsRejected,
                        s.deviationsOverThreshold, s.manifestSha256,
                    ])
                for (direction, files) in [
                    ("input", s.inputs.map { ($0.path, $0.sha256, $0.bytes) }), ("output", s.outputs.map { ($0.path, $0.sha256, $0.bytes) }),
                ] {
                    for f in files {
                        try db.execute(
                            sql: "INSERT OR REPLACE INTO artifacts (run_id, stage, direction, path, sha256, bytes) VALUES (?, ?, ?, ?, ?, ?)",
                            arguments: [r.runID, s.stage, direction, f.0, f.1, f.2])
                    }
                }
            }
        }
    }

    /// Reads every run record under the store into the history.
    @discardableResult
    public func sync(_ store: RunStore) throws -> Int {
        var n = 0
        for id in store.runs() {
            if let r = RunRecord.read(from: store.directory(of: id)) {
                try record(r, directory: store.directory(of: id)); n += 1
            }
        }
        return n
    }

    public struct Row: Sendable {
        public var runID, asOf, trigger, startedAt, state: String
        public var finishedAt: String?
        public var exitStatus: Int?
        public var ran, reused: [String]
        public var error: String?
    }

    public func list(asOf: String? = nil) throws -> [Row] {
        try db.read { db in
            let runs = try SQLRow.fetchAll(
                db,
                sql: "SELECT * FROM runs WHERE (? IS NULL OR as_of = ?) ORDER BY as_of, run_id",
                arguments: [asOf, asOf])
            return try runs.map { r in
                let id: String = r["run_id"]
                let stages = try SQLRow.fetchAll(db, sql: "SELECT stage, status FROM stage_runs WHERE run_id = ? ORDER BY position", arguments: [id])
                return Row(
                    runID: id, asOf: r["as_of"], trigger: r["trigger"], startedAt: r["started_at"], state: r["state"], finishedAt: r["finished_at"],
                    exitStatus: r["exit_status"], ran: stages.filter { ($0["status"] as String) == "ran" }.map { $0["stage"] },
                    reused: stages.filter { ($0["status"] as String) == "reused" }.map { $0["stage"] }, error: r["error"])
            }
        }
    }
}

typealias SQLRow = GRDB.Row
