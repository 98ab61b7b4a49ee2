import Foundation
import XCTest

/// The benchmark scripts (docs/benchmark.md, docs/operations.md), run the way a user runs them —
/// small sizes, and the tests' build through `--binary` instead of a release build. Their targets
/// are ratios of one run on a quiet machine; here only that every table is printed and every
/// ratio is there. Scripts/bench installs DuckDB and pandas from PyPI into bench/.venv.
final class BenchScriptTests: XCTestCase {
    var script: (String) -> URL { { TestPaths.root.appendingPathComponent("Scripts/" + $0) } }

    /// From a checkout as git makes it: the sample pseudonym key at 644, which Ramkoll refuses
    /// (the placement runs of Scripts/bench stopped with 78 on a fresh clone).
    func testBenchPrintsEveryTableFromAFreshCheckout() throws {
        let exe = try ramkollExecutable()
        let out = try TestPaths.temporaryDirectory()
        let key = TestPaths.root.appendingPathComponent("SampleInputs/pseudonym-sample.key").path
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: key)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: key) }
        let r = try runProcess(
            script("bench"), ["--sizes", "10k", "--xml", "10k", "--variants", "utf8", "--out", out, "--binary", exe.path],
            environment: ProcessInfo.processInfo.environment)
        XCTAssertEqual(r.status, 0, r.stderr.suffix(3000).description)
        for heading in [
            "The job: a sealed run with the warehouse against DuckDB's equal work",
            "The engine: ramkoll run --no-warehouse against the bare aggregation",
            "Placement extract (with a 100k-row ledger): ramkoll run, and xmllint --stream --noout on the same file",
        ] {
            XCTAssertTrue(r.stdout.contains(heading), "no table \"\(heading)\" in:\n\(r.stdout)")
        }
        let results = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/results.json"))) as? [String: Any]
        let ledger = results?["ledger"] as? [[String: Any]] ?? []
        XCTAssertEqual(ledger.count, 1)
        XCTAssertEqual(ledger.first?["exact"] as? Bool, true, "Ramkoll's totals equal DuckDB's")
        for ratio in ["ratio_job_duckdb_equal", "job_stored_per_input", "duckdb_stored_per_input", "ratio_ramkoll_duckdb"] {
            XCTAssertGreaterThan(ledger.first?[ratio] as? Double ?? 0, 0, ratio)
        }
        let xml = results?["xml"] as? [[String: Any]] ?? []
        XCTAssertEqual(xml.first?["records"] as? Int, 10_000)
        XCTAssertGreaterThan(xml.first?["ratio_placements_xmllint"] as? Double ?? 0, 0)
        let keyMode = try FileManager.default.attributesOfItem(atPath: out + "/data/pseudonym.key")[.posixPermissions] as? Int
        XCTAssertEqual(keyMode, 0o600, "the bench's copy of the key is the owner's alone")
    }

    /// Three nights into the SQLite warehouse: every row new, then 0.1 % new, then the same file.
    func testBenchWarehousePrintsThreeNights() throws {
        let exe = try ramkollExecutable()
        let out = try TestPaths.temporaryDirectory() + "/warehouse"
        let r = try runProcess(
            script("bench-warehouse"), ["--rows", "10000", "--out", out, "--binary", exe.path],
            environment: ProcessInfo.processInfo.environment)
        XCTAssertEqual(r.status, 0, r.stderr.suffix(3000).description)
        // "  night 1:     10,000 rows loaded,     10,000 new,    0.05 s, …"
        var nights: [(loaded: Int, new: Int)] = []
        for line in r.stdout.split(separator: "\n") where line.hasPrefix("  night ") {
            let numbers = line.split(separator: ",", omittingEmptySubsequences: false).joined().split(separator: " ").compactMap { Int($0) }
            guard numbers.count >= 2 else { continue }
            nights.append((numbers[0], numbers[1]))
        }
        XCTAssertEqual(nights.count, 3, r.stdout)
        guard nights.count == 3 else { return }
        XCTAssertGreaterThanOrEqual(nights[0].loaded, 10_000)
        XCTAssertEqual(nights[0].new, nights[0].loaded, "night 1 stores every row")
        XCTAssertGreaterThan(nights[1].new, 0)
        XCTAssertLessThan(nights[1].new, nights[1].loaded / 10, "night 2 stores only what is new")
        XCTAssertEqual(nights[2].loaded, 0, "night 3's file was loaded the night before")
    }
}
