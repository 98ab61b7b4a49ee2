import Foundation
import XCTest

/// `ramkoll verify` covers the whole run: the set of stage folders and files must be what
/// run.json records, run.json itself must be there and agree with the run history and the
/// manifests, and every finding exits 1 (an unreadable manifest is a finding, not exit 66).
final class VerifyTests: XCTestCase {
    /// A sealed run of the small pipeline (warehouse on), and a writable copy maker.
    func sealedRun() throws -> (runs: String, run: String, copy: (String) throws -> String) {
        let dir = try TestPaths.temporaryDirectory()
        let pipeline = try smallPipelineCopy(in: dir)
        let runs = dir + "/runs"
        let r = try runRamkoll(["run", pipeline, "--runs", runs, "--quiet"])
        XCTAssertTrue([0, 3].contains(r.status), r.stderr)
        let all = runs + "/all"
        let id = try FileManager.default.contentsOfDirectory(atPath: all).sorted().last!
        let run = all + "/" + id
        func copy(_ name: String) throws -> String {
            let to = all + "/" + id + "-" + name
            try FileManager.default.copyItem(atPath: run, toPath: to)
            let e = FileManager.default.enumerator(atPath: to)
            chmod(to, 0o755)
            while let f = e?.nextObject() as? String { chmod(to + "/" + f, 0o755) }
            return to
        }
        return (runs, run, copy)
    }

    func verify(_ dir: String) throws -> RamkollResult { try runRamkoll(["verify", dir]) }

    func testEveryChangeToARunIsAFindingWithExit1() throws {
        let (_, run, copy) = try sealedRun()
        let clean = try verify(run)
        XCTAssertEqual(clean.status, 0, clean.stdout + clean.stderr)

        func expect(_ name: String, _ change: (String) throws -> Void, _ finding: String, file: StaticString = #filePath, line: UInt = #line) throws {
            let dir = try copy(name)
            try change(dir)
            let r = try verify(dir)
            XCTAssertEqual(r.status, 1, "\(name): \(r.stdout)\(r.stderr)", file: file, line: line)
            XCTAssertTrue(r.stdout.contains(finding), "\(name): expected «\(finding)» in\n\(r.stdout)\(r.stderr)", file: file, line: line)
        }
        let fm = FileManager.default
        try expect("no-report", { try fm.removeItem(atPath: $0 + "/06-report") }, "CHANGED report: 06-report/ is missing: run.json records the stage")
        try expect(
            "no-reconcile", { try fm.removeItem(atPath: $0 + "/03-reconcile") },
            "CHANGED reconcile: 03-reconcile/ is missing: run.json records the stage")
        try expect("no-record", { try fm.removeItem(atPath: $0 + "/run.json") }, "CHANGED run: run.json is missing: nothing records which stages ran")
        try expect(
            "bad-record", { try Data("{\"run_id\": ".utf8).write(to: URL(fileURLWithPath: $0 + "/run.json")) },
            "CHANGED run: run.json cannot be read as a run record")
        func edit(_ dir: String, _ from: String, _ to: String) throws {
            let path = dir + "/run.json"
            let text = try String(contentsOfFile: path, encoding: .utf8)
            XCTAssertTrue(text.contains(from), "run.json holds \(from)")
            try text.replacingOccurrences(of: from, with: to).write(toFile: path, atomically: true, encoding: .utf8)
        }
        try expect("state", { try edit($0, "\"state\" : \"finished\"", "\"state\" : \"failed\"") }, "CHANGED run: run.json says failed, exit ")
        let status = clean.status == 0 ? "0" : "3"
        try expect(
            "exit", { try edit($0, "\"exit_status\" : \(status)", "\"exit_status\" : 65") },
            "CHANGED run: run.json says finished, exit 65; the run history recorded finished, exit \(status)")
        try expect(
            "extra-folder", { try fm.createDirectory(atPath: $0 + "/07-extra", withIntermediateDirectories: false) },
            "CHANGED run: 07-extra is not part of a run")
        try expect(
            "flipped-manifests",
            { d in
                let a = d + "/04-deviation/manifest.json", b = d + "/05-prognosis/manifest.json"
                let da = try Data(contentsOf: URL(fileURLWithPath: a)), db = try Data(contentsOf: URL(fileURLWithPath: b))
                try db.write(to: URL(fileURLWithPath: a)); try da.write(to: URL(fileURLWithPath: b))
            }, "CHANGED deviation: manifest.json is not the one run.json recorded")
        try expect(
            "garbled-manifest", { try Data("not json".utf8).write(to: URL(fileURLWithPath: $0 + "/02-normalize/manifest.json")) },
            "CHANGED normalize: manifest.json cannot be read: it was changed or damaged")
    }
}
