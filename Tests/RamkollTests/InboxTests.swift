import Foundation
import XCTest

@testable import RamkollModel
@testable import RamkollPipeline

/// The inbox (issue 6): dropped exports are identified by profile, archived by SHA-256 and
/// installed at their source's path; a file seen before is skipped with a note; a file no source
/// fits is moved aside with its reason — nothing is silently ignored.
final class InboxTests: XCTestCase {
    func testExportsAreIdentifiedArchivedAndInstalled() throws {
        let dir = try TestPaths.temporaryDirectory()
        let fixture = TestPaths.fixture("small")
        let pipeline = try smallPipelineCopy(in: dir) { text in
            text.replacingOccurrences(of: "\(fixture)/ledger-2022.csv\n", with: "\(dir)/current/ledger-2022.csv\n    inbox: \"kontoutdrag-*.csv\"\n")
                .replacingOccurrences(of: "\(fixture)/placements.xml\n", with: "\(dir)/current/placements.xml\n    inbox: \"*.xml\"\n")
                + "\ninbox:\n  path: \(dir)/inbox\n  archive: \(dir)/archive\n"
        }
        let (loaded, diagnostics) = PipelineConfig.load(path: pipeline)
        let cfg = try XCTUnwrap(loaded)
        XCTAssertEqual(diagnostics.filter { $0.severity == .error }.map(\.description), [])
        XCTAssertEqual(diagnostics.filter { $0.message.contains("does not exist yet") }.count, 2, "missing inbox sources are warnings")

        // Before any export has come in, a run stops with a clear message.
        XCTAssertThrowsError(try runPipeline(pipeline, runDir: dir + "/run0")) { error in
            XCTAssertTrue((error as? RamkollError)?.message.contains("no export for it has come through the inbox") == true, "\(error)")
        }

        let inbox = dir + "/inbox"
        try FileManager.default.createDirectory(atPath: inbox, withIntermediateDirectories: true)
        func drop(_ source: String, as name: String) throws { try FileManager.default.copyItem(atPath: source, toPath: inbox + "/" + name) }
        try drop(fixture + "/ledger-2022.csv", as: "kontoutdrag-2022-06.csv")
        try drop(fixture + "/placements.xml", as: "placeringar-juni.xml")
        _ = try TestPaths.write("konto;belopp\n4631;100\n", name: "kontoutdrag-fel.csv", in: inbox)
        _ = try TestPaths.write("minnesanteckningar\n", name: "notes.txt", in: inbox)

        let first = try Inbox.process(cfg)
        XCTAssertEqual(first.map(\.file), ["kontoutdrag-2022-06.csv", "kontoutdrag-fel.csv", "notes.txt", "placeringar-juni.xml"])
        XCTAssertEqual(first.map(\.status), [.installed, .rejected, .rejected, .installed])
        XCTAssertEqual(first.compactMap(\.source), ["b2022", "plac"])
        XCTAssertTrue(first[1].detail.contains("b2022: ") && first[1].detail.contains("lacks"), first[1].detail)
        XCTAssertTrue(first[2].detail.contains("name does not fit"), first[2].detail)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: inbox).sorted(), ["rejected"])
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: inbox + "/rejected").sorted(),
            ["kontoutdrag-fel.csv", "kontoutdrag-fel.csv.reason.txt", "notes.txt", "notes.txt.reason.txt"])
        XCTAssertEqual(
            try Data(contentsOf: URL(fileURLWithPath: dir + "/current/ledger-2022.csv")),
            try Data(contentsOf: URL(fileURLWithPath: fixture + "/ledger-2022.csv")))
        let sha = first[0].sha256
        XCTAssertTrue(FileIO.exists(dir + "/archive/\(sha.prefix(2))/\(sha)-kontoutdrag-2022-06.csv"))

        // The same bytes again, under another name: skipped with a note and taken out of the inbox.
        try drop(fixture + "/ledger-2022.csv", as: "kontoutdrag-igen.csv")
        let second = try Inbox.process(cfg)
        XCTAssertEqual(second.map(\.status), [.skipped])
        XCTAssertEqual(second[0].sha256, sha)
        XCTAssertFalse(FileIO.exists(inbox + "/kontoutdrag-igen.csv"))
        let log = try String(contentsOfFile: dir + "/archive/inbox-log.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(log.count, 1 + 5)
        XCTAssertTrue(log[5].contains(";kontoutdrag-igen.csv;\(sha);skipped;;received before"), String(log[5]))

        // The installed exports run like the fixture's own.
        let run = try runPipeline(pipeline, runDir: dir + "/run")
        XCTAssertEqual(run.status, .ok)
        try runPipeline(try smallPipelineCopy(in: try TestPaths.temporaryDirectory()), runDir: dir + "/reference")
        XCTAssertEqual(
            try Data(contentsOf: URL(fileURLWithPath: dir + "/run/04-deviation/drift.csv")),
            try Data(contentsOf: URL(fileURLWithPath: dir + "/reference/04-deviation/drift.csv")))
    }
}
