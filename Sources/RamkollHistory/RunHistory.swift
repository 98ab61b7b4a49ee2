import Foundation
import GRDB
import GRDBSQLite
import RamkollModel
import RamkollPipeline

/// The embedded SQLite database (`runs/<pipeline>/ramkoll.sqlite`) through GRDB: the default
/// warehouse target and the run history `ramkoll runs` lists.
public final class SQLiteTarget: WarehouseTarget {
    public let path: String
    let db: DatabaseQueue
    public var name: String { "SQLite \(path)" }

    public init(path: String) throws {
        self.path = path
        try FileIO.createDirectory((path as NSString).deletingLastPathComponent)
        var config = Configuration()
        config.busyMode = .timeout(10)
        db = try DatabaseQueue(path: path, configuration: config)
    }

    static func bind(_ v: SQLValue) -> (any DatabaseValueConvertible)? {
        switch v {
        case .text(let s): return s
        case .utf8(let b): return String(decoding: b, as: UTF8.self)
        case .int(let i): return i
        case .double(let d): return d
        case .null: return nil
        }
    }

    public func transaction(_ body: ((String, [SQLValue]) throws -> Void) throws -> Void) throws {
        try db.write { db in
            // Statements are prepared once and reused (a file's row batches share one statement),
            // and the values are bound straight to SQLite: a warehouse load binds millions of them,
            // and boxing each as a DatabaseValueConvertible cost more than SQLite's own work.
            try body { sql, args in
                let statement = try db.cachedStatement(sql: sql)
                // Schema changes go through GRDB, which then forgets the schema it had cached.
                guard sql.hasPrefix("INSERT ") else {
                    statement.setUncheckedArguments(StatementArguments(args.map(SQLiteTarget.bind)))
                    try statement.execute()
                    return
                }
                let s = statement.sqliteStatement
                sqlite3_reset(s)
                for (i, v) in args.enumerated() {
                    let index = Int32(i + 1)
                    let code: Int32
                    switch v {
                    case .int(let n): code = sqlite3_bind_int64(s, index, n)
                    case .double(let d): code = sqlite3_bind_double(s, index, d)
                    case .null: code = sqlite3_bind_null(s, index)
                    case .utf8(let t): code = t.withUnsafeBufferPointer { SQLiteTarget.bindText(s, index, $0) }
                    case .text(var t): code = t.withUTF8 { SQLiteTarget.bindText(s, index, $0) }
                    }
                    guard code == SQLITE_OK else { throw SQLiteTarget.failure(s, sql) }
                }
                let code = sqlite3_step(s)
                sqlite3_reset(s)
                guard code == SQLITE_DONE || code == SQLITE_ROW else { throw SQLiteTarget.failure(s, sql) }
            }
        }
    }

    /// Binds UTF-8 bytes as text; SQLite copies them (they do not outlive the call).
    static func bindText(_ s: OpaquePointer, _ index: Int32, _ b: UnsafeBufferPointer<UInt8>) -> Int32 {
        guard let base = b.baseAddress, b.count > 0 else { return sqlite3_bind_text(s, index, "", 0, transient) }
        return sqlite3_bind_text(s, index, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self), Int32(b.count), transient)
    }

    /// SQLite copies a value bound with this destructor (the Swift string's bytes do not outlive the call).
    static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    static func failure(_ s: OpaquePointer, _ sql: String) -> RamkollError {
        RamkollError(.internalFailure, "SQLite: \(String(cString: sqlite3_errmsg(sqlite3_db_handle(s)))) in \(sql.prefix(80))…")
    }

    public func strings(_ sql: String, _ args: [SQLValue]) throws -> [String] {
        try db.read { db in
            try String.fetchAll(db, sql: sql, arguments: StatementArguments(args.map(SQLiteTarget.bind)))
        }
    }

    public func forEachIntegers(_ sql: String, _ args: [SQLValue], _ body: (Int64, Int64, Int64) throws -> Void) throws {
        try db.read { db in
            let statement = try db.makeStatement(sql: sql)
            statement.setUncheckedArguments(StatementArguments(args.map(SQLiteTarget.bind)))
            // Three integers a row, read straight from SQLite (a million rows a night: no Row values).
            let s = statement.sqliteStatement
            while true {
                let code = sqlite3_step(s)
                if code == SQLITE_DONE { break }
                guard code == SQLITE_ROW else {
                    throw RamkollError(.internalFailure, "\(name): \(String(cString: sqlite3_errmsg(sqlite3_db_handle(s)))) in \(sql.prefix(80))…")
                }
                try body(sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2))
            }
            sqlite3_reset(s)
        }
    }

    public var integerPrimaryKey: String { "INTEGER PRIMARY KEY" }

    public func compact() throws {
        try db.writeWithoutTransaction { db in try db.execute(sql: "VACUUM") }
    }

    public func integer(_ sql: String, _ args: [SQLValue]) throws -> Int64? {
        try db.read { db in try Int64.fetchOne(db, sql: sql, arguments: StatementArguments(args.map(SQLiteTarget.bind))) }
    }

    public func columns(of table: String) throws -> [String] {
        try db.read { db in try db.tableExists(table) || db.viewExists(table) ? try db.columns(in: table).map(\.name) : [] }
    }

    public func rows(_ sql: String, _ args: [SQLValue] = []) throws -> [[String: String]] {
        try db.read { db in
            try GRDB.Row.fetchAll(db, sql: sql, arguments: StatementArguments(args.map(SQLiteTarget.bind))).map { row in
                var out: [String: String] = [:]
                for (column, value) in row { out[column] = value.isNull ? nil : String(describing: value.storage.value ?? "") }
                return out
            }
        }
    }
}

/// The run history: the runs' records in the SQLite database. It indexes the runs' own
/// `run.json`: `record` upserts one run and `sync` reads every record under the store again, so
/// a run that died before it could write here is still listed.
public final class RunHistory {
    public let target: SQLiteTarget

    public init(path: String) throws {
        target = try SQLiteTarget(path: path)
        try Warehouse.createTables(target)
    }

    public func record(_ r: RunRecord, directory: String) throws {
        try Warehouse.loadRecord(r, directory: directory, into: target)
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
        let runs = try target.rows(
            "SELECT * FROM runs WHERE (? IS NULL OR as_of = ?) ORDER BY as_of, run_id",
            [asOf.map { .text($0) } ?? .null, asOf.map { .text($0) } ?? .null])
        return try runs.map { r in
            let id = r["run_id"]!
            let stages = try target.rows(
                "SELECT stage, status FROM stage_runs WHERE pipeline = ? AND run_id = ? ORDER BY position", [.text(r["pipeline"]!), .text(id)])
            return Row(
                runID: id, asOf: r["as_of"]!, trigger: r["trigger"]!, startedAt: r["started_at"]!, state: r["state"]!,
                finishedAt: r["finished_at"], exitStatus: r["exit_status"].flatMap { Int($0) },
                ran: stages.filter { $0["status"] == "ran" }.map { $0["stage"]! },
                reused: stages.filter { $0["status"] == "reused" }.map { $0["stage"]! }, error: r["error"])
        }
    }
}
