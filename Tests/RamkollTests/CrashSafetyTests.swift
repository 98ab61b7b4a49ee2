import Foundation
import XCTest

@testable import RamkollPipeline

#if canImport(Glibc)
    import Glibc
#endif

/// Crash safety (issue 6): runs killed with SIGKILL during each stage, at several delays after the
/// stage started. After every kill, no file is visible under its final name unless it is complete
/// (byte-identical to the same file of an uninterrupted run — every output is deterministic);
/// `ramkoll retry` then finishes the period, taking over the dead run's lock, and its outputs are
/// byte-identical to the uninterrupted run's.
final class CrashSafetyTests: XCTestCase {
    static let volatile: Set<String> = ["run.json", "timings.json"]

    func contents(_ dir: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for f in filesBelow(dir) where !Self.volatile.contains((f as NSString).lastPathComponent) {
            out[f] = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + f))
        }
        return out
    }

    func ramkoll(_ args: [String]) throws -> (Process, Pipe) { try startRamkoll(args) }

    func testKilledRunsLeaveNoHalfFilesAndRetryFinishesThem() throws {
        let dir = try TestPaths.temporaryDirectory()
        let pipeline = try smallPipelineCopy(in: dir)
        let (ref, _) = try ramkoll(["run", pipeline, "--runs", dir + "/reference", "-q"])
        ref.waitUntilExit()
        XCTAssertEqual(ref.terminationStatus, 0)
        let reference = try contents(dir + "/reference/all/2022-06.001")

        var kills = 0
        var killedIn: [String: Int] = [:]
        for stage in StageName.allCases {
            for delay in [0, 2_000, 8_000] as [UInt32] {  // microseconds after "stage started"
                let runs = dir + "/killed-\(stage.rawValue)-\(delay)"
                let (p, err) = try ramkoll(["run", pipeline, "--runs", runs])
                // Wait for the stage to start, then kill the process where it stands.
                var seen = ""
                while p.isRunning, !seen.contains("stage started\" stage=\(stage.rawValue)") {
                    let chunk = err.fileHandleForReading.availableData
                    if chunk.isEmpty { break }
                    seen += String(decoding: chunk, as: UTF8.self)
                }
                if delay > 0 { usleep(delay) }
                let wasRunning = p.isRunning
                kill(p.processIdentifier, SIGKILL)
                p.waitUntilExit()
                guard wasRunning, p.terminationReason == .uncaughtSignal else { continue }
                kills += 1
                let killedRun = runs + "/all/2022-06.001"
                let left = try contents(killedRun)
                for (f, data) in left where !(f as NSString).lastPathComponent.hasPrefix(".") {
                    XCTAssertEqual(data, reference[f], "\(stage.rawValue)+\(delay)µs: \(f) is visible under its final name but incomplete")
                }
                let done = StageName.allCases.filter { FileIO.exists(killedRun + "/" + $0.folder + "/manifest.json") }
                killedIn[done.count < 6 ? StageName.allCases[done.count].rawValue : "after report", default: 0] += 1
                XCTAssertEqual(RunRecord.read(from: killedRun)?.state, "running", "the record says the run did not end")
                XCTAssertNil(RunStore(root: runs).resolve("latest"), "a killed run is not pointed at")

                // Retry: takes over the dead run's lock, reuses the stages it finished, completes the rest.
                let (r, rErr) = try ramkoll(["retry", pipeline, "--runs", runs])
                r.waitUntilExit()
                let log = String(decoding: rErr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                XCTAssertEqual(r.terminationStatus, 0, log)
                XCTAssertTrue(log.contains("stale lock taken over"), log)
                let finished = try contents(runs + "/all/2022-06.002")
                XCTAssertEqual(finished.keys.sorted(), reference.keys.sorted())
                for (f, data) in reference { XCTAssertEqual(finished[f], data, "\(stage.rawValue)+\(delay)µs: \(f) differs after retry") }
                let record = try XCTUnwrap(RunRecord.read(from: runs + "/all/2022-06.002"))
                XCTAssertEqual(record.stages.prefix(done.count).map(\.status), Array(repeating: "reused", count: done.count))
            }
        }
        print("crash-safety: \(kills) kills, landed in \(killedIn.sorted { $0.key < $1.key })")
        // The kills landed in every stage (a few may land between stages; none is lost silently).
        XCTAssertGreaterThanOrEqual(kills, 12, "\(killedIn)")
        XCTAssertGreaterThanOrEqual(Set(killedIn.keys).intersection(StageName.allCases.map(\.rawValue)).count, 5, "\(killedIn)")
    }
}
