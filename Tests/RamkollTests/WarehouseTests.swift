import Foundation
import XCTest

@testable import RamkollHistory
@testable import RamkollModel
@testable import RamkollPipeline
@testable import RamkollPostgres

/// The warehouse (issue 6): a sealed run's record, normalized data and results in SQLite and in
/// PostgreSQL with the same schema; loads are idempotent and a file used by several runs is
/// stored once.
final class WarehouseTests: XCTestCase {
    /// Two sealed runs of the small fixture (the second reuses every stage).
    func twoRuns() throws -> (RunStore, [String]) {
        let dir = try TestPaths.temporaryDirectory()
        let pipeline = try smallPipelineCopy(in: dir)
        var o = Runner.Options(pipelinePath: pipeline)
        o.runsRoot = dir + "/runs"
        let a = try Runner(logger: quietLogger).run(o), b = try Runner(logger: quietLogger).run(o)
        return (RunStore(root: dir + "/runs"), [a.runDirectory, b.runDirectory])
    }

    func dataRows(_ file: String) throws -> (rows: Int64, ore: Int64) {
        var n: Int64 = 0, sum: Int64 = 0
        try TableReader(path: file, required: ["amount_ore"]).forEach {
            n += 1; sum += try $0.int("amount_ore")
        }
        return (n, sum)
    }

    func check(_ target: WarehouseTarget, runs: [String]) throws {
        let first = try Warehouse.load(runDirectory: runs[0], into: target)
        let ledger = try dataRows(runs[0] + "/02-normalize/ledger.csv")
        XCTAssertEqual(first.loaded["ledger"], ledger.rows)
        XCTAssertEqual(first.alreadyThere, [])
        XCTAssertEqual(try target.integer("SELECT COUNT(*) FROM ledger", []), ledger.rows)
        XCTAssertEqual(try target.integer("SELECT SUM(amount_ore) FROM ledger", []), ledger.ore)
        XCTAssertEqual(
            try target.integer("SELECT SUM(actual_ytd_ore) FROM avvikelse WHERE unit = ? AND line = ?", [.text("SN"), .text("RES")]),
            try {
                var v: Int64 = 0
                try TableReader(path: runs[0] + "/04-deviation/avvikelse.csv", required: []).forEach {
                    if $0["unit"] == "SN" && $0["line"] == "RES" { v = try $0.int("actual_ytd_ore") }
                }
                return v
            }())
        // Again: nothing duplicated. The second run reuses every file: only its record and links are new.
        XCTAssertEqual(try Warehouse.load(runDirectory: runs[0], into: target).loaded, [:])
        let second = try Warehouse.load(runDirectory: runs[1], into: target)
        XCTAssertEqual(second.loaded, [:])
        // The files of the kinds this run has (a pipeline without investments has no investment files).
        let present = Warehouse.files.filter { FileManager.default.fileExists(atPath: runs[1] + "/" + $0.path) }.count
        XCTAssertEqual(second.alreadyThere.count, present)
        XCTAssertEqual(try target.integer("SELECT COUNT(*) FROM ledger", []), ledger.rows)
        XCTAssertEqual(try target.integer("SELECT COUNT(*) FROM runs", []), 2)
        XCTAssertEqual(try target.integer("SELECT COUNT(*) FROM stage_runs", []), 12)
        XCTAssertEqual(try target.integer("SELECT COUNT(*) FROM run_datasets", []), Int64(2 * present))
        XCTAssertEqual(try target.integer("SELECT COUNT(*) FROM stage_runs WHERE status = ?", [.text("reused")]), 6)
        XCTAssertEqual(
            try target.integer("SELECT COUNT(DISTINCT dataset) FROM run_datasets WHERE table_name = ?", [.text("ledger")]), 1,
            "both runs point at one ledger file")
    }

    func testSQLiteWarehouse() throws {
        let (store, runs) = try twoRuns()
        try check(try SQLiteTarget(path: store.historyPath), runs: runs)
    }

    /// Against the real server Scripts/test starts (RAMKOLL_TEST_POSTGRES_URL), in a schema of its
    /// own; then the same tables and columns as the SQLite file.
    func testPostgreSQLWarehouseHasTheSameSchema() throws {
        guard let url = ProcessInfo.processInfo.environment["RAMKOLL_TEST_POSTGRES_URL"] else {
            throw XCTSkip("RAMKOLL_TEST_POSTGRES_URL is not set (Scripts/test starts a server and sets it)")
        }
        let (store, runs) = try twoRuns()
        let schema = "t_" + UUID().uuidString.prefix(8).lowercased()
        let pg = try PostgresTarget(url: url, schema: schema, logger: quietLogger)
        defer { try? pg.transaction { execute in try execute("DROP SCHEMA \(schema) CASCADE", []) } }
        try check(pg, runs: runs)
        let sqlite = try SQLiteTarget(path: store.historyPath)
        try Warehouse.load(runDirectory: runs[0], into: sqlite)
        let loaded = Warehouse.files.filter { FileManager.default.fileExists(atPath: runs[0] + "/" + $0.path) }.map(\.table)
        for table in ["runs", "stage_runs", "artifacts", "datasets", "run_datasets"] + loaded {
            XCTAssertEqual(try pg.columns(of: table), try sqlite.columns(of: table), table)
            XCTAssertFalse(try pg.columns(of: table).isEmpty, table)
        }
        // Loading after a failure in the middle of a file leaves nothing half: the file's transaction rolls back.
        XCTAssertEqual(
            try pg.integer("SELECT SUM(rows) FROM datasets WHERE table_name = ?", [.text("ledger")]),
            try pg.integer("SELECT COUNT(*) FROM ledger", []))
    }
}

extension WarehouseTests {
    /// A pipeline that names its PostgreSQL warehouse (by environment variable): `ramkoll run`
    /// loads every sealed run there as well as into SQLite; `ramkoll load` again changes nothing.
    func testARunLoadsIntoThePipelinesPostgreSQL() throws {
        guard let url = ProcessInfo.processInfo.environment["RAMKOLL_TEST_POSTGRES_URL"] else {
            throw XCTSkip("RAMKOLL_TEST_POSTGRES_URL is not set (Scripts/test starts a server and sets it)")
        }
        let dir = try TestPaths.temporaryDirectory()
        let schema = "t_" + UUID().uuidString.prefix(8).lowercased()
        let pipeline = try smallPipelineCopy(in: dir) {
            $0 + "\nwarehouse:\n  postgres:\n    env: RAMKOLL_TEST_POSTGRES_URL\n    schema: \(schema)\n"
        }
        let pg = try PostgresTarget(url: url, schema: schema, logger: quietLogger)
        defer { try? pg.transaction { execute in try execute("DROP SCHEMA \(schema) CASCADE", []) } }
        func ramkoll(_ args: [String]) throws -> (Int32, String) {
            let r = try runRamkoll(args)
            return (r.status, r.stdout)
        }
        let (status, text) = try ramkoll(["run", pipeline, "--runs", dir + "/runs"])
        XCTAssertEqual(status, 0, text)
        XCTAssertTrue(text.contains("warehouse: SQLite: "), text)
        XCTAssertTrue(text.contains("warehouse: PostgreSQL ramkoll@127.0.0.1:5432/ramkoll_test: "), text)
        XCTAssertFalse(text.contains(":ramkoll-test@"), "the password is not shown")
        XCTAssertEqual(
            try pg.strings("SELECT state FROM runs WHERE pipeline = ?", [.text("small")]), ["finished"], "the warehouse gets the finished record")
        let rows = try pg.integer("SELECT COUNT(*) FROM ledger", [])
        XCTAssertGreaterThan(rows ?? 0, 0)
        let (again, loadText) = try ramkoll(["load", "latest", pipeline, "--runs", dir + "/runs"])
        XCTAssertEqual(again, 0, loadText)
        XCTAssertTrue(loadText.contains("PostgreSQL ramkoll@127.0.0.1:5432/ramkoll_test: 0 rows loaded"), loadText)
        XCTAssertEqual(try pg.integer("SELECT COUNT(*) FROM ledger", []), rows)
        XCTAssertEqual(try pg.integer("SELECT COUNT(*) FROM runs WHERE pipeline = ?", [.text("small")]), 1)
    }
}

extension WarehouseTests {
    /// A second thread reads and hashes a file's batches while the load inserts: a file that
    /// breaks after several batches stops the load with the reader's error (file and line), the
    /// file's transaction leaves nothing of it, and the same run loads whole once it is mended.
    func testAFileThatBreaksAfterSeveralBatchesLeavesNothingHalf() throws {
        let (store, runs) = try twoRuns()
        let path = runs[0] + "/02-normalize/ledger.csv"
        let original = try String(contentsOfFile: path, encoding: .utf8)
        var lines = original.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        let header = lines.removeFirst()
        // Three full batches and more (a line is not always a row: a text may hold a line break),
        // so the error comes while earlier batches wait to be inserted.
        var grown = [header]
        while grown.count <= 4 * Warehouse.RowBatch.size { grown.append(contentsOf: lines) }
        let broken = grown.count
        try (grown.joined(separator: "\n") + "\nonly;three;fields\n").write(toFile: path, atomically: true, encoding: .utf8)
        let sqlite = try SQLiteTarget(path: store.historyPath)
        XCTAssertThrowsError(try Warehouse.load(runDirectory: runs[0], into: sqlite)) { error in
            XCTAssertEqual(
                "\(error)",
                "\(path):\(broken + 1): has 3 fields, the header has 15; the file was changed by hand — rerun the stage that writes it")
        }
        XCTAssertEqual(try sqlite.integer("SELECT COUNT(*) FROM datasets WHERE table_name = ?", [.text("ledger")]), 0)
        XCTAssertEqual(try sqlite.integer("SELECT COUNT(*) FROM ledger_rows", []), 0)
        XCTAssertEqual(try sqlite.integer("SELECT COUNT(*) FROM ledger_keys", []), 0)
        try (grown.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let whole = try dataRows(path)
        XCTAssertGreaterThan(whole.rows, Int64(3 * Warehouse.RowBatch.size))
        let report = try Warehouse.load(runDirectory: runs[0], into: sqlite)
        XCTAssertEqual(report.loaded["ledger"], whole.rows)
        XCTAssertEqual(try sqlite.integer("SELECT COUNT(*) FROM ledger", []), whole.rows)
        XCTAssertEqual(try sqlite.integer("SELECT SUM(amount_ore) FROM ledger", []), whole.ore)
        XCTAssertEqual(try sqlite.integer("SELECT COUNT(*) FROM ledger_rows", []), whole.rows)
    }
}

extension WarehouseTests {
    /// (source, file) → rows, from a run's file or from the warehouse's view of it.
    func originCounts(csv path: String) throws -> [String: Int64] {
        var out: [String: Int64] = [:]
        try TableReader(path: path, required: ["source", "file"]).forEach { out[$0["source"] + "/" + $0["file"], default: 0] += 1 }
        return out
    }

    func originCounts(_ target: SQLiteTarget, view: String) throws -> [String: Int64] {
        var out: [String: Int64] = [:]
        for r in try target.rows("SELECT source || '/' || file AS k, COUNT(*) AS n FROM \(view) GROUP BY source, file") {
            out[r["k"]!] = Int64(r["n"]!)
        }
        return out
    }

    /// Schema 3: the rows of a file that begins with `source` and `file` name them by an id in
    /// `origins`; the views show both as before. A table made by schema 2 (both on every row)
    /// keeps its layout and loads as before, beside tables made now.
    func testRowsNameTheirSourceFileByOrigin() throws {
        let (store, runs) = try twoRuns()
        let ledgerHeader = try TableReader(path: runs[0] + "/02-normalize/ledger.csv", required: []).header
        let sqlite = try SQLiteTarget(path: store.historyPath)
        try Warehouse.load(runDirectory: runs[0], into: sqlite)
        XCTAssertEqual(try sqlite.columns(of: "ledger_rows"), ["row_id", "origin"] + ledgerHeader.dropFirst(2))
        XCTAssertEqual(try sqlite.columns(of: "ledger"), ["dataset", "row_no"] + ledgerHeader)
        XCTAssertEqual(try sqlite.columns(of: "budget_rows").dropFirst().first, "file", "budget.csv does not begin with source")
        let ledger = try originCounts(csv: runs[0] + "/02-normalize/ledger.csv")
        XCTAssertGreaterThan(ledger.count, 1, "the small fixture has ledger rows from several files")
        XCTAssertEqual(try originCounts(sqlite, view: "ledger"), ledger)
        XCTAssertEqual(try originCounts(sqlite, view: "placements"), try originCounts(csv: runs[0] + "/02-normalize/placements.csv"))
        var all = Set<String>()
        for (_, rel) in Warehouse.files where FileManager.default.fileExists(atPath: runs[0] + "/" + rel) {
            let header = try TableReader(path: runs[0] + "/" + rel, required: []).header
            if Warehouse.hasOrigin(header) { all.formUnion(try originCounts(csv: runs[0] + "/" + rel).keys) }
        }
        XCTAssertEqual(try sqlite.integer("SELECT COUNT(*) FROM origins", []), Int64(all.count), "one origin per source file, shared by the kinds")
        XCTAssertEqual(try sqlite.integer("SELECT MAX(version) FROM warehouse_schema", []), 3)

        // A warehouse whose ledger table schema 2 made: the rows carry source and file.
        let dir = try TestPaths.temporaryDirectory()
        let old = try SQLiteTarget(path: dir + "/old.sqlite")
        try Warehouse.createTables(old)
        try old.transaction { execute in
            try execute("UPDATE warehouse_schema SET version = 2", [])
            let defs = ledgerHeader.map { "\(Warehouse.quoted($0)) \(Warehouse.type(of: $0, in: "ledger"))" }.joined(separator: ", ")
            try execute("CREATE TABLE ledger_rows (row_id INTEGER PRIMARY KEY, \(defs))", [])
        }
        try Warehouse.load(runDirectory: runs[0], into: old)
        XCTAssertEqual(try old.columns(of: "ledger_rows"), ["row_id"] + ledgerHeader)
        XCTAssertEqual(try originCounts(old, view: "ledger"), ledger)
        XCTAssertEqual(try old.integer("SELECT SUM(amount_ore) FROM ledger", []), try dataRows(runs[0] + "/02-normalize/ledger.csv").ore)
        XCTAssertEqual(try old.columns(of: "placements_rows").prefix(2), ["row_id", "origin"], "a table made now has the new layout")
        XCTAssertEqual(try old.integer("SELECT MAX(version) FROM warehouse_schema", []), 3)
    }
}
