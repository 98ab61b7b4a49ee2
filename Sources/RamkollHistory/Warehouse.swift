import Dispatch
import Foundation
import RamkollModel
import RamkollPipeline

/// A value bound to a SQL statement.
public enum SQLValue: Sendable, Equatable {
    case text(String)
    /// Text given as its UTF-8 bytes (a field of a row batch), bound without making a `String`.
    case utf8(ArraySlice<UInt8>)
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
    /// Column names of a table or view (empty when it does not exist).
    func columns(of table: String) throws -> [String]
    /// The first column of every row, as text.
    func strings(_ sql: String, _ args: [SQLValue]) throws -> [String]
    /// Every row of a query whose three columns are integers, streamed.
    func forEachIntegers(_ sql: String, _ args: [SQLValue], _ body: (Int64, Int64, Int64) throws -> Void) throws
    /// Gives freed space back to the file system after rows were deleted (SQLite's VACUUM).
    func compact() throws
    /// The column type of a 64-bit integer primary key (SQLite's `INTEGER PRIMARY KEY` is the row's own id).
    var integerPrimaryKey: String { get }
}

/// The warehouse: a run's record, its normalized data and its results in SQL tables with one
/// schema on SQLite and PostgreSQL (README "Warehouse").
///
/// - `runs`, `stage_runs`, `artifacts`: the run record (as in `run.json`), keyed by pipeline and run id;
/// - `datasets` (sha256, table_name, rows, seq) and per loaded file kind — `ledger`, `placements`,
///   `decisions`, `payments`, `budget`, `plan`, `rejects`, `actuals_vs_budget`, `avvikelse`,
///   `prognos`, `investment_budget`, `investments` (when the pipeline has investments) — a view of that name with the file's columns, whose rows carry their file's
///   SHA-256 (`dataset`) and row number;
/// - `run_datasets` (pipeline, run_id, table_name, dataset): which file each run used.
///
/// **A row is stored once however many files repeat it.** A nightly export is the year to date,
/// so each night's `ledger.csv` repeats the rows of the night before with a few new ones. Behind
/// each view, `<table>_rows` holds every distinct row once (`row_id`, its columns; in place of
/// `source` and `file`, which every row of one source file repeats, an `origin` id into `origins`
/// when the table was made by schema 3), `<table>_keys`
/// its identity (the first 128 bits of the SHA-256 of its fields as `row_key_1`/`row_key_2`, kept
/// apart so that matching reads a narrow table) and `<table>_spans` says which rows a file holds, as runs of consecutive row ids
/// (`dataset`, `first_row_no`, `first_row_id`, `row_count`): a file whose rows all came the night
/// before in the same order is one span. A new file is matched row by row against the newest file
/// of its kind (by the rows' hashes); only rows not in it are inserted. A row whose content moved
/// (its line number changed, say) is a new row — exact, only less compact.
///
/// A file is loaded once, whatever number of runs use it; loading a run again replaces its rows
/// in `runs`, `stage_runs`, `artifacts` and `run_datasets` and never duplicates anything. Each
/// file loads in one transaction (its rows, spans and `datasets` row together).
public enum Warehouse {
    /// The stage files loaded, as table name → path in the run folder.
    public static let files: [(table: String, path: String)] = [
        ("ledger", "02-normalize/ledger.csv"), ("placements", "02-normalize/placements.csv"), ("decisions", "02-normalize/decisions.csv"),
        ("payments", "02-normalize/payments.csv"), ("budget", "02-normalize/budget.csv"), ("plan", "02-normalize/plan.csv"),
        ("rejects", "02-normalize/rejects.csv"), ("actuals_vs_budget", "03-reconcile/actuals_vs_budget.csv"),
        ("avvikelse", "04-deviation/avvikelse.csv"), ("prognos", "05-prognosis/prognos.csv"),
        ("investment_budget", "02-normalize/investment_budget.csv"), ("investments", "03-reconcile/investments.csv"),
    ]

    /// The layout of the tables a warehouse makes (3: a row names its source file by `origin`;
    /// 2: rows stored once behind views, with `source` and `file` on every row — such tables keep
    /// their layout and load as before; 1, one table per file kind, had no `warehouse_schema`).
    public static let schemaVersion: Int64 = 3

    /// Whether a kind's rows name their source and file by an id in `origins` (schema 3): its
    /// files begin with `source` and `file`, which every row of one source file repeats.
    static func hasOrigin(_ header: [String]) -> Bool { header.count > 2 && header[0] == "source" && header[1] == "file" }

    static let integerColumns: Set<String> = ["record", "row_no", "rows", "level", "households", "payments", "care_days", "placements"]
    /// In the normalized tables `line` is the source file's line; in the results, a report line's id.
    static let sourceTables: Set<String> = ["ledger", "placements", "decisions", "payments", "budget", "plan", "rejects", "investment_budget"]

    /// A column name as a quoted identifier (the files have columns such as `end` and `text`).
    static func quoted(_ column: String) -> String { "\"" + column.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }

    static func type(of column: String, in table: String) -> String {
        column.hasSuffix("_ore") || integerColumns.contains(column) || (column == "line" && sourceTables.contains(table)) ? "BIGINT" : "TEXT"
    }

    /// The fixed tables, in SQL both databases accept.
    public static let ddl: [String] = [
        "CREATE TABLE IF NOT EXISTS warehouse_schema (version BIGINT NOT NULL)",
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
        "CREATE TABLE IF NOT EXISTS datasets (sha256 TEXT NOT NULL, table_name TEXT NOT NULL, rows BIGINT NOT NULL, seq BIGINT NOT NULL, PRIMARY KEY (sha256, table_name))",
        "CREATE TABLE IF NOT EXISTS run_datasets (pipeline TEXT NOT NULL, run_id TEXT NOT NULL, table_name TEXT NOT NULL, dataset TEXT NOT NULL, PRIMARY KEY (pipeline, run_id, table_name))",
        "CREATE TABLE IF NOT EXISTS origins (id BIGINT NOT NULL, source TEXT NOT NULL, file TEXT NOT NULL, PRIMARY KEY (id), UNIQUE (source, file))",
    ]

    public static func createTables(_ target: WarehouseTarget) throws {
        if try !target.columns(of: "runs").isEmpty && target.columns(of: "warehouse_schema").isEmpty {
            throw RamkollError(
                .data,
                "\(target.name) was made by an earlier version of ramkoll (one table per file, every night's rows stored again); move it aside — the runs' folders hold the data, and ramkoll load RUN loads a run into a new one"
            )
        }
        try target.transaction { execute in
            for s in ddl { try execute(s, []) }
        }
        switch try target.integer("SELECT MAX(version) FROM warehouse_schema", []) {
        case nil:
            try target.transaction { execute in try execute("INSERT INTO warehouse_schema (version) VALUES (?)", [.int(schemaVersion)]) }
        case let v? where v < schemaVersion:
            // Tables made before keep their layout; the ones made from now on have this one.
            try target.transaction { execute in try execute("UPDATE warehouse_schema SET version = ?", [.int(schemaVersion)]) }
        default: break
        }
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
        public var loaded: [String: Int64] = [:]  // table → rows of the files loaded by this load
        public var inserted: [String: Int64] = [:]  // table → rows stored anew (the others were there from an earlier file)
        public var alreadyThere: [String] = []  // tables whose file was loaded before
        public var seconds: Double = 0
    }

    /// Loads a finished run — record, normalized data, results — each file in one transaction.
    @discardableResult
    public static func load(runDirectory dir: String, into target: WarehouseTarget, batch: Int = 200) throws -> LoadReport {
        guard let r = RunRecord.read(from: dir) else { throw RamkollError(.input, "\(dir) has no run.json; the warehouse loads sealed runs") }
        let started = Date()
        try createTables(target)
        var report = LoadReport()
        // The tables behind each file kind, from its header (checked against what exists).
        var plan: [(table: String, path: String, sha: String, header: [String], origin: Bool)] = []
        for (table, rel) in files {
            let path = dir + "/" + rel
            guard FileIO.exists(path) else { continue }
            let header = try TableReader(path: path, required: []).header
            let origin = try ensureTables(table, rel: rel, header: header, in: target)
            plan.append((table, path, try FileIO.sha256(ofFile: path).hex, header, origin))
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
            let (rows, inserted) = try loadFile(
                f.table, path: f.path, sha: f.sha, header: f.header, origin: f.origin, into: target, batch: batch)
            report.loaded[f.table] = rows
            report.inserted[f.table] = inserted
        }
        report.seconds = Date().timeIntervalSince(started)
        return report
    }

    /// `<table>_rows`, `<table>_keys`, `<table>_spans` and the view `<table>`, made when missing;
    /// a table of another layout is refused. Returns whether the rows name their origin by id
    /// (true for a table made now, when its file begins with `source` and `file`; a table made by
    /// schema 2 keeps both on every row).
    static func ensureTables(_ table: String, rel: String, header: [String], in target: WarehouseTarget) throws -> Bool {
        let viewColumns = ["dataset", "row_no"] + header
        let existing = try target.columns(of: table)
        if !existing.isEmpty && existing != viewColumns {
            throw RamkollError(
                .data,
                "\(target.name): table \(table) has the columns \(existing.joined(separator: ",")), the run's \(rel) has \(header.joined(separator: ",")); the warehouse was made by another tool version — load into a new database or migrate it"
            )
        }
        let compact = ["row_id", "origin"] + header.dropFirst(2), wide = ["row_id"] + header
        let existingRows = try target.columns(of: table + "_rows")
        let origin: Bool
        if existingRows.isEmpty {
            origin = hasOrigin(header)
        } else if existingRows == wide {
            origin = false
        } else if hasOrigin(header) && existingRows == compact {
            origin = true
        } else {
            throw RamkollError(
                .data,
                "\(target.name): table \(table)_rows has the columns \(existingRows.joined(separator: ",")), the run's \(rel) has \(header.joined(separator: ",")); the warehouse was made by another tool version — load into a new database or migrate it"
            )
        }
        let spansMissing = try target.columns(of: table + "_spans").isEmpty || target.columns(of: table + "_keys").isEmpty
        guard existing.isEmpty || existingRows.isEmpty || spansMissing else { return origin }
        let stored = origin ? Array(header.dropFirst(2)) : header
        let defs = ((origin ? ["\"origin\" BIGINT NOT NULL"] : []) + stored.map { "\(quoted($0)) \(type(of: $0, in: table))" }).joined(
            separator: ", ")
        let columns = ((origin ? ["o.source AS source", "o.file AS file"] : []) + stored.map { "r." + quoted($0) }).joined(separator: ", ")
        let joinOrigin = origin ? " JOIN origins o ON o.id = r.origin" : ""
        try target.transaction { execute in
            try execute("CREATE TABLE IF NOT EXISTS \(table)_rows (row_id \(target.integerPrimaryKey), \(defs))", [])
            try execute(
                "CREATE TABLE IF NOT EXISTS \(table)_keys (row_id \(target.integerPrimaryKey), row_key_1 BIGINT NOT NULL, row_key_2 BIGINT NOT NULL)",
                [])
            try execute(
                "CREATE TABLE IF NOT EXISTS \(table)_spans (dataset TEXT NOT NULL, first_row_no BIGINT NOT NULL, first_row_id BIGINT NOT NULL, row_count BIGINT NOT NULL, PRIMARY KEY (dataset, first_row_no))",
                [])
            if existing.isEmpty {
                try execute(
                    "CREATE VIEW \(table) AS SELECT s.dataset AS dataset, s.first_row_no + (r.row_id - s.first_row_id) AS row_no, \(columns) FROM \(table)_spans s JOIN \(table)_rows r ON r.row_id BETWEEN s.first_row_id AND s.first_row_id + s.row_count - 1\(joinOrigin)",
                    [])
            }
        }
        return origin
    }

    /// A row's identity: the first 128 bits of the SHA-256 of its fields (each followed by a unit separator).
    struct RowKey: Equatable { let a: Int64, b: Int64 }

    /// Row keys → row ids: open addressing on the key's first word (already uniformly random),
    /// linear probing, doubled at half full — no hashing of its own per lookup.
    struct RowIDTable {
        /// One slot holds the key and its id together (one cache line is touched per probe).
        private struct Slot { var a: Int64 = 0, b: Int64 = 0, id: Int64 = 0 }
        private var slots: [Slot]
        private var mask: Int
        private(set) var count = 0

        init(capacity: Int) {
            var size = 16
            while size < capacity * 2 { size <<= 1 }
            slots = Array(repeating: Slot(), count: size)
            mask = size - 1
        }

        subscript(key: RowKey) -> Int64? {
            slots.withUnsafeBufferPointer { s in
                var i = Int(truncatingIfNeeded: key.a) & mask
                while s[i].id != 0 {
                    if s[i].a == key.a && s[i].b == key.b { return s[i].id }
                    i = (i + 1) & mask
                }
                return nil
            }
        }

        /// `id` is a row id (1 or more); a key already there keeps its first id.
        mutating func insert(_ key: RowKey, id: Int64) {
            if (count + 1) * 2 > slots.count { grow() }
            let m = mask
            let added = slots.withUnsafeMutableBufferPointer { s -> Bool in
                var i = Int(truncatingIfNeeded: key.a) & m
                while s[i].id != 0 {
                    if s[i].a == key.a && s[i].b == key.b { return false }
                    i = (i + 1) & m
                }
                s[i] = Slot(a: key.a, b: key.b, id: id)
                return true
            }
            if added { count += 1 }
        }

        private mutating func grow() {
            let old = slots
            self = RowIDTable(capacity: old.count)
            for slot in old where slot.id != 0 { insert(RowKey(a: slot.a, b: slot.b), id: slot.id) }
        }
    }

    /// Rows of a file, their fields copied end to end (each followed by a unit separator, as a
    /// row's key is computed), with where each field ends.
    struct RowBatch: @unchecked Sendable {
        static let size = 8_192
        let columns: Int
        var bytes: [UInt8] = []
        var ends: [Int] = []  // the end of each field's bytes (before its separator), row by row
        var rows = 0

        init(columns: Int) {
            self.columns = columns
            bytes.reserveCapacity(RowBatch.size * 160)
            ends.reserveCapacity(RowBatch.size * columns)
        }

        mutating func append(_ row: TableReader.Row) {
            for i in 0..<columns {
                row.withField(i) { bytes.append(contentsOf: $0) }
                ends.append(bytes.count)
                bytes.append(0x1F)
            }
            rows += 1
        }

        /// Field `i` of row `r` as a value to bind: text as its bytes; in an integer column a
        /// whole number, nothing as NULL, and anything else as the text it is.
        func value(row r: Int, _ i: Int, integer: Bool) -> SQLValue {
            let k = r * columns + i
            let start = k == 0 ? 0 : ends[k - 1] + 1
            let field = bytes[start..<ends[k]]
            guard integer else { return .utf8(field) }
            if field.isEmpty { return .null }
            return RowBatch.integer(field).map { .int($0) } ?? .utf8(field)
        }

        /// The first two fields of row `r` (`source` and `file`) with the separator between them.
        func origin(row r: Int) -> ArraySlice<UInt8> {
            let k = r * columns
            let start = k == 0 ? 0 : ends[k - 1] + 1
            return bytes[start..<ends[k + 1]]
        }

        /// A decimal whole number (an optional `-`, then digits) that fits in 64 bits, or nil.
        static func integer(_ field: ArraySlice<UInt8>) -> Int64? {
            var i = field.startIndex
            let negative = field[i] == UInt8(ascii: "-")
            if negative { i += 1 }
            guard i < field.endIndex else { return nil }
            var n: Int64 = 0
            while i < field.endIndex {
                let d = field[i] &- UInt8(ascii: "0")
                guard d < 10 else { return nil }
                let (m, o1) = n.multipliedReportingOverflow(by: 10)
                let (v, o2) = negative ? m.subtractingReportingOverflow(Int64(d)) : m.addingReportingOverflow(Int64(d))
                guard !o1 && !o2 else { return nil }
                n = v
                i += 1
            }
            return n
        }

        /// Each row's key: the SHA-256 of its fields and separators (as `rowKey`).
        func keys() -> [RowKey] {
            var out: [RowKey] = []
            out.reserveCapacity(rows)
            bytes.withUnsafeBufferPointer { all in
                for r in 0..<rows {
                    let first = r * columns
                    let start = first == 0 ? 0 : ends[first - 1] + 1
                    let end = ends[first + columns - 1] + 1
                    var h = SHA256Hasher()
                    h.update(UnsafeBufferPointer(rebasing: all[start..<end]))
                    let (a, b) = h.key()
                    out.append(RowKey(a: a, b: b))
                }
            }
            return out
        }
    }

    /// The previous file's keys, shared read-only with the hashing thread.
    final class KnownRows: @unchecked Sendable {
        let table: RowIDTable
        init(_ table: RowIDTable) { self.table = table }
    }

    /// A file read in batches on a second thread, each batch hashed and its rows looked up beside
    /// it, while the loading thread inserts the batch before. At most `depth` batches wait, so
    /// memory stays bounded whatever the file's size.
    final class BatchFeed: @unchecked Sendable {
        typealias Item = (batch: RowBatch, found: [(key: RowKey, id: Int64?)])
        private let lock = NSLock()
        private var queue: [(batch: RowBatch, hashing: Hashing)] = []
        private var failure: Error?
        private var cancelled = false
        private let free: DispatchSemaphore
        private let ready = DispatchSemaphore(value: 0)

        struct Cancelled: Error {}

        init(path: String, columns: Int, known: KnownRows, depth: Int = 2) {
            free = DispatchSemaphore(value: depth)
            let thread = Thread { [self] in
                do {
                    var current = RowBatch(columns: columns)
                    try TableReader(path: path, required: []).forEach { row in
                        current.append(row)
                        if current.rows == RowBatch.size {
                            try put(current, known)
                            current = RowBatch(columns: columns)
                        }
                    }
                    if current.rows > 0 { try put(current, known) }
                } catch {
                    lock.withLock { failure = error }
                }
                ready.signal()  // the end (or the error), after every batch
            }
            thread.name = "ramkoll warehouse read"
            thread.start()
        }

        /// A batch's keys and ids, worked out on a third thread, so that reading the next batch
        /// and hashing this one share the cores while the loading thread mostly waits for SQLite
        /// (on a night whose rows the warehouse holds already, it has almost nothing to insert).
        final class Hashing: @unchecked Sendable {
            private var result: [(key: RowKey, id: Int64?)] = []
            private let done = DispatchSemaphore(value: 0)
            init(_ batch: RowBatch, _ known: KnownRows) {
                DispatchQueue.global().async {
                    self.result = batch.keys().map { ($0, known.table[$0]) }
                    self.done.signal()
                }
            }
            func wait() -> [(key: RowKey, id: Int64?)] {
                done.wait()
                return result
            }
        }

        private func put(_ batch: RowBatch, _ known: KnownRows) throws {
            free.wait()
            try lock.withLock {
                if cancelled { throw Cancelled() }
                queue.append((batch, Hashing(batch, known)))
            }
            ready.signal()
        }

        /// The next batch in the file's order; nil after the last.
        func next() throws -> Item? {
            ready.wait()
            let item = try lock.withLock { () -> (batch: RowBatch, hashing: Hashing)? in
                if !queue.isEmpty { return queue.removeFirst() }
                if let failure { throw failure }
                return nil
            }
            guard let item else { return nil }
            let found = item.hashing.wait()
            free.signal()
            return (item.batch, found)
        }

        /// Stops the reading thread at its next batch (when the load ends early).
        func cancel() {
            lock.withLock { cancelled = true }
            free.signal()
        }
    }

    /// One file: its rows matched against the newest earlier file of its kind, the new ones
    /// inserted, its spans and its `datasets` row — in one transaction. Returns (rows, rows inserted).
    static func loadFile(
        _ table: String, path: String, sha: String, header: [String], origin: Bool, into target: WarehouseTarget, batch: Int
    ) throws -> (Int64, Int64) {
        // The origins known (source and file, with the separator between them, → id).
        var origins: [[UInt8]: Int64] = [:]
        if origin {
            let ids = try target.strings("SELECT CAST(id AS TEXT) FROM origins ORDER BY id", [])
            let names = try target.strings("SELECT source FROM origins ORDER BY id", [])
            let files = try target.strings("SELECT file FROM origins ORDER BY id", [])
            for (i, id) in ids.enumerated() where i < names.count && i < files.count {
                if let n = Int64(id) { origins[Array(names[i].utf8) + [0x1F] + Array(files[i].utf8)] = n }
            }
        }
        var nextOrigin = (try target.integer("SELECT MAX(id) FROM origins", []) ?? 0) + 1
        // The newest earlier file of this kind: its rows by hash (what tonight's file will mostly repeat).
        var known = RowIDTable(capacity: 1024)
        if let previous = try target.strings(
            "SELECT sha256 FROM datasets WHERE table_name = ? ORDER BY seq DESC LIMIT 1", [.text(table)]
        ).first {
            if let n = try target.integer("SELECT rows FROM datasets WHERE sha256 = ? AND table_name = ?", [.text(previous), .text(table)]) {
                known = RowIDTable(capacity: Int(n) + 1024)
            }
            try target.forEachIntegers(
                "SELECT k.row_key_1, k.row_key_2, k.row_id FROM \(table)_spans s JOIN \(table)_keys k ON k.row_id BETWEEN s.first_row_id AND s.first_row_id + s.row_count - 1 WHERE s.dataset = ?",
                [.text(previous)]
            ) { a, b, id in known.insert(RowKey(a: a, b: b), id: id) }
        }
        var nextID = (try target.integer("SELECT MAX(row_id) FROM \(table)_rows", []) ?? 0) + 1
        let seq = (try target.integer("SELECT MAX(seq) FROM datasets", []) ?? 0) + 1
        var rowsIn: Int64 = 0, inserted: Int64 = 0
        try target.transaction { execute in
            let integer = header.map { type(of: $0, in: table) == "BIGINT" }
            let first = origin ? 2 : 0  // the fields stored as they are
            let one = "(" + Array(repeating: "?", count: header.count + 1 - first + (origin ? 1 : 0)).joined(separator: ", ") + ")"
            let insertColumns = (["row_id"] + (origin ? ["origin"] : []) + header.dropFirst(first)).map(quoted).joined(separator: ", ")
            // Rows come grouped by source file: the last origin is compared first.
            var last: (bytes: [UInt8], id: Int64)?
            func originID(_ b: RowBatch, _ r: Int) throws -> Int64 {
                let bytes = b.origin(row: r)
                if let l = last, l.bytes.elementsEqual(bytes) { return l.id }
                let key = Array(bytes)
                let id: Int64
                if let known = origins[key] {
                    id = known
                } else {
                    id = nextOrigin
                    nextOrigin += 1
                    origins[key] = id
                    try execute(
                        "INSERT INTO origins (id, source, file) VALUES (?, ?, ?)",
                        [.int(id), b.value(row: r, 0, integer: false), b.value(row: r, 1, integer: false)])
                }
                last = (key, id)
                return id
            }
            var pending: [SQLValue] = [], pendingKeys: [SQLValue] = []
            var pendingRows = 0
            func inserts(_ rows: Int) -> (rows: String, keys: String) {
                (
                    "INSERT INTO \(table)_rows (\(insertColumns)) VALUES " + Array(repeating: one, count: rows).joined(separator: ", "),
                    "INSERT INTO \(table)_keys (row_id, row_key_1, row_key_2) VALUES "
                        + Array(repeating: "(?, ?, ?)", count: rows).joined(separator: ", ")
                )
            }
            let full = inserts(batch)  // the statements of a full batch, made once
            func flush() throws {
                guard pendingRows > 0 else { return }
                let sql = pendingRows == batch ? full : inserts(pendingRows)
                try execute(sql.rows, pending)
                try execute(sql.keys, pendingKeys)
                pending.removeAll(keepingCapacity: true)
                pendingKeys.removeAll(keepingCapacity: true)
                pendingRows = 0
            }
            var span: (rowNo: Int64, id: Int64, count: Int64)?
            func endSpan() throws {
                guard let s = span else { return }
                try execute(
                    "INSERT INTO \(table)_spans (dataset, first_row_no, first_row_id, row_count) VALUES (?, ?, ?, ?)",
                    [.text(sha), .int(s.rowNo), .int(s.id), .int(s.count)])
                span = nil
            }
            func match(_ b: RowBatch, _ found: [(key: RowKey, id: Int64?)]) throws {
                for r in 0..<b.rows {
                    rowsIn += 1
                    let key = found[r].key
                    let id: Int64
                    if let k = found[r].id {
                        id = k
                    } else {
                        id = nextID
                        nextID += 1
                        inserted += 1
                        pending.append(.int(id))
                        pendingKeys.append(.int(id))
                        pendingKeys.append(.int(key.a))
                        pendingKeys.append(.int(key.b))
                        if origin { pending.append(.int(try originID(b, r))) }
                        for i in first..<header.count { pending.append(b.value(row: r, i, integer: integer[i])) }
                        pendingRows += 1
                        if pendingRows >= batch { try flush() }
                    }
                    if let s = span, s.id + s.count == id {
                        span!.count += 1
                    } else {
                        try endSpan()
                        span = (rowsIn, id, 1)
                    }
                }
            }
            // Rows go in batches: a second thread reads the file and hashes each batch (SHA-256 of
            // each row's fields) and looks its rows up among the previous file's keys, which are
            // only read from here on; this thread inserts the batch before. A row not among them
            // gets a new id.
            let feed = BatchFeed(path: path, columns: header.count, known: KnownRows(known))
            defer { feed.cancel() }
            while let item = try feed.next() { try match(item.batch, item.found) }
            try flush()
            try endSpan()
            try execute(
                "INSERT INTO datasets (sha256, table_name, rows, seq) VALUES (?, ?, ?, ?)", [.text(sha), .text(table), .int(rowsIn), .int(seq)])
        }
        return (rowsIn, inserted)
    }

    /// Removes what no kept run uses: the records of the runs not kept, the files (datasets) only
    /// they used, and the rows only those files held. Returns the rows deleted per table.
    @discardableResult
    public static func prune(pipeline: String, keep: Set<String>, in target: WarehouseTarget) throws -> [String: Int64] {
        try createTables(target)
        let runs = try target.strings("SELECT run_id FROM runs WHERE pipeline = ?", [.text(pipeline)])
        var deleted: [String: Int64] = [:]
        try target.transaction { execute in
            for id in runs where !keep.contains(id) {
                for t in ["artifacts", "stage_runs", "run_datasets", "runs"] {
                    try execute("DELETE FROM \(t) WHERE pipeline = ? AND run_id = ?", [.text(pipeline), .text(id)])
                }
            }
        }
        for (table, _) in files where !(try target.columns(of: table + "_rows")).isEmpty {
            let unused = try target.strings(
                "SELECT sha256 FROM datasets WHERE table_name = ? AND sha256 NOT IN (SELECT dataset FROM run_datasets WHERE table_name = ?)",
                [.text(table), .text(table)])
            guard !unused.isEmpty else { continue }
            // The row ids the remaining files cover, as ranges; every other row goes.
            var covered: [(Int64, Int64)] = []
            try target.transaction { execute in
                for d in unused {
                    try execute("DELETE FROM \(table)_spans WHERE dataset = ?", [.text(d)])
                    try execute("DELETE FROM datasets WHERE sha256 = ? AND table_name = ?", [.text(d), .text(table)])
                }
            }
            try target.forEachIntegers(
                "SELECT first_row_id, first_row_id + row_count - 1, row_count FROM \(table)_spans ORDER BY first_row_id", []
            ) { first, last, _ in covered.append((first, last)) }
            let before = try target.integer("SELECT COUNT(*) FROM \(table)_rows", []) ?? 0
            let maxID = try target.integer("SELECT MAX(row_id) FROM \(table)_rows", []) ?? 0
            try target.transaction { execute in
                var next: Int64 = 1
                for (first, last) in covered {
                    for t in ["_rows", "_keys"] where first > next {
                        try execute("DELETE FROM \(table)\(t) WHERE row_id BETWEEN ? AND ?", [.int(next), .int(first - 1)])
                    }
                    next = max(next, last + 1)
                }
                for t in ["_rows", "_keys"] where next <= maxID {
                    try execute("DELETE FROM \(table)\(t) WHERE row_id BETWEEN ? AND ?", [.int(next), .int(maxID)])
                }
            }
            deleted[table] = before - (try target.integer("SELECT COUNT(*) FROM \(table)_rows", []) ?? 0)
        }
        try target.compact()
        return deleted
    }
}
