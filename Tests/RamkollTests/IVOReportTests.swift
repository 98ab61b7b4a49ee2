import Foundation
import XCTest

@testable import RamkollModel
@testable import RamkollPipeline

/// Seed 001's "Ej verkställda beslut" for Q4 2022 (reported 2023-01-11), and its quarterly counts
/// for 2021 and 2022, reproduced from a decision extract (Fixtures/ivo/decisions.xml).
final class IVOReportTests: XCTestCase {
    func testSeed001Q4ListsAndQuarterlyCounts() throws {
        let run = try TestPaths.temporaryDirectory()
        let o = try runPipeline(TestPaths.fixture("ivo/pipeline.yaml"), runDir: run)
        XCTAssertEqual(o.status, .ok)
        let text = try String(contentsOfFile: run + "/03-reconcile/ivo_report.txt", encoding: .utf8)
        // The seed's rows (tab-separated there), in the seed's order.
        func row(_ cells: String...) -> String { cells.joined(separator: "|") }
        let rows = text.split(separator: "\n").map {
            $0.split(separator: "  ", omittingEmptySubsequences: true).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: "|")
        }
        let list1 = rows.firstIndex(of: "1. Gynnande beslut som ej verkställts inom tre månader från dagen för beslut")!
        let list2 = rows.firstIndex(of: "2. Gynnande beslut som avbrutits och ej verkställts inom tre månader från dagen för avbrottet")!
        let list3 = rows.firstIndex(of: "3. Beslut som tidigare rapporterats som ej verkställt och som nu verkställts eller avslutats")!
        XCTAssertEqual(
            Array(rows[(list1 + 2)..<list2]),
            [
                row("2022-07-25", "Kontaktfamilj", "Lämplig kontaktfamilj har inte hittats", "4.1 § SoL"),
                row("2022-07-25", "Kontaktfamilj", "Lämplig kontaktfamilj har inte hittats", "4.1 § SoL"),
            ])
        XCTAssertEqual(list2 + 2, list3, "list 2 is empty, as in the seed")
        XCTAssertEqual(
            Array(rows[(list3 + 2)...]),
            [
                row("2022-06-21", "Daglig sysselsättning", "2022-10-31", "4.1 § SoL"),
                row("2022-06-15", "Boendestöd", "2023-01-09", "4.1 § SoL"),
            ])
        // "Sammanställning": per quarter, lists 1, 2 and 3.
        let counts = try String(contentsOfFile: run + "/03-reconcile/ivo_quarterly_counts.csv", encoding: .utf8)
        XCTAssertEqual(
            counts,
            """
            quarter;not_executed;interrupted;executed_or_ended
            2021-Q1;1;0;0
            2021-Q2;0;0;1
            2021-Q3;0;0;0
            2021-Q4;0;0;0
            2022-Q1;2;0;0
            2022-Q2;0;0;2
            2022-Q3;2;0;0
            2022-Q4;2;0;2

            """)
        // "Statistik för kvartalen 2022": per type of decision.
        let stats = try String(contentsOfFile: run + "/03-reconcile/ivo_statistics.csv", encoding: .utf8).split(separator: "\n").filter {
            $0.hasPrefix("2022")
        }
        XCTAssertEqual(
            stats,
            [
                "2022-Q1;Behandlingshem;ej verkställda;1", "2022-Q1;Bostad;ej verkställda;1",
                "2022-Q2;Behandlingshem;verkställda;1", "2022-Q2;Bostad;verkställda;1",
                "2022-Q3;Boendestöd;ej verkställda;1", "2022-Q3;Daglig sysselsättning;ej verkställda;1",
                "2022-Q4;Boendestöd;avslutad;1", "2022-Q4;Daglig sysselsättning;avslutad;1", "2022-Q4;Kontaktfamilj;ej verkställda;2",
            ])
        // No personnummer anywhere in what the run wrote.
        for f in filesBelow(run) {
            // rapport.xlsx is binary; SHA-256 digests and the build's GNU build id (64 and 40 hex
            // digits) can hold any run of digits, so hex strings that long are left out of the scan.
            let t = String(decoding: try Data(contentsOf: URL(fileURLWithPath: run + "/" + f)), as: UTF8.self).replacingOccurrences(
                of: #"[0-9a-f]{32,}"#, with: "<hex>", options: .regularExpression)
            XCTAssertNil(t.range(of: #"(19|20)\d{6}-?\d{4}"#, options: .regularExpression), f)
        }
    }

    func decision(_ id: String, decided: String, executed: String? = nil, interrupted: String? = nil, resumed: String? = nil, ended: String? = nil)
        -> Decision
    {
        Decision(
            source: SourceRef(file: "t", line: 1), id: id, person: "p", ansvar: "", decisionDate: Day(iso: decided)!, measure: "Insats",
            legalBasis: "",
            favourable: true, executed: executed.flatMap(Day.init(iso:)), interrupted: interrupted.flatMap(Day.init(iso:)),
            resumed: resumed.flatMap(Day.init(iso:)), ended: ended.flatMap(Day.init(iso:)), reason: "")
    }

    func testTheThreeMonthRuleAndInterruptions() {
        let ds = [
            decision("deadline-on-quarter-end", decided: "2022-09-30"),  // three months end 2022-12-30: reported
            decision("deadline-after-quarter", decided: "2022-10-01"),  // 2023-01-01: not yet
            decision("executed-on-deadline", decided: "2022-08-15", executed: "2022-11-15"),  // within three months: never reported
            decision("executed-late-unreported", decided: "2022-08-15", executed: "2022-12-20"),  // late, executed before any report: list 3
            decision("interrupted", decided: "2022-01-10", executed: "2022-02-01", interrupted: "2022-09-01"),  // 2022-12-01 ≤ end: list 2
            decision("interrupted-resumed", decided: "2022-01-10", executed: "2022-02-01", interrupted: "2022-09-01", resumed: "2022-11-01"),
        ]
        let q = IVOReport.quarters(ds, through: Quarter("2022-Q4")!, lagDays: 11).last!
        XCTAssertEqual(q.quarter, Quarter("2022-Q4"))
        XCTAssertEqual(q.list(.notExecuted).map(\.decision.id), ["deadline-on-quarter-end"])
        XCTAssertEqual(q.list(.interrupted).map(\.decision.id), ["interrupted"])
        XCTAssertEqual(q.list(.executedOrEnded).map(\.decision.id), ["executed-late-unreported"])
        XCTAssertEqual(Day(iso: "2022-11-30")!.addingMonths(3).description, "2023-02-28")
        XCTAssertEqual(Day(iso: "2024-02-29")!.addingMonths(12).description, "2025-02-28")
        XCTAssertEqual(Day(iso: "2022-12-31")!.addingDays(11).description, "2023-01-11")
        XCTAssertEqual(Day(ordinal: Day(iso: "2000-02-29")!.ordinal).description, "2000-02-29")
    }
}

extension IVOReportTests {
    /// One extract holding placements and decisions, read by two sources with two profiles: both
    /// record kinds are read (the same bytes are a duplicate only for the same kind of profile).
    func testOneExtractReadForTwoRecordKinds() throws {
        let dir = try TestPaths.temporaryDirectory()
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Extrakt>
              <Arende id="A1" ansvar="200" personnummer="20000229-2399">
                <Placering id="P1" start="2022-03-01" slut="2022-03-10"><Vardform>HVB</Vardform><Dygnskostnad>1 000,00</Dygnskostnad></Placering>
                <Beslut id="B1" gynnande="ja"><Beslutsdatum>2022-02-01</Beslutsdatum><Insats lagrum="4.1 § SoL">HVB</Insats><Verkstallt>2022-03-01</Verkstallt></Beslut>
              </Arende>
            </Extrakt>
            """
        let file = try TestPaths.write(xml, name: "extrakt.xml", in: dir)
        let root = TestPaths.root.path
        let p = try smallPipelineCopy(in: dir) {
            $0.replacingOccurrences(
                of: "  - id: plac\n    path: \(TestPaths.fixture("small"))/placements.xml\n", with: "  - id: plac\n    path: \(file)\n"
            )
            .replacingOccurrences(
                of: "budget:\n", with: "  - id: beslut\n    path: \(file)\n    profile: \(root)/Pipelines/profiles/lifecare-beslut.yaml\nbudget:\n")
        }
        let o = try runPipeline(p, runDir: dir + "/run")
        let t = o.results.first { $0.manifest.stage == "normalize" }!.manifest.totals
        XCTAssertEqual(t["source.plac.rows_normalized"], 1)
        XCTAssertEqual(t["source.beslut.rows_normalized"], 1)
        XCTAssertEqual(o.results[0].manifest.totals["duplicate_sources_not_read"], 0)
    }
}

extension IVOReportTests {
    /// A case-system extract cut off part-way: the records before the break are kept, the break is a
    /// file-level reject naming the line, and the run ends with a data error (exit 65) — no crash.
    func testABrokenExtractKeepsTheRecordsBeforeTheBreak() throws {
        let dir = try TestPaths.temporaryDirectory()
        let whole = try String(contentsOfFile: TestPaths.fixture("small/placements.xml"), encoding: .utf8)
        let cut =
            String(whole[..<whole.range(of: "<Arende id=\"A2\"")!.upperBound])
            + " ansvar=\"200\" personnummer=\"19700428-9895\">\n    <Placering id=\"P3\""
        let file = try TestPaths.write(cut, name: "cut.xml", in: dir)
        let p = try smallPipelineCopy(in: dir) { $0.replacingOccurrences(of: "\(TestPaths.fixture("small"))/placements.xml", with: file) }
        // Records reach the importer in batches from the reader thread: one record per batch puts
        // the break after full batches, the usual size inside the first.
        let saved = XMLSource.batchSize
        defer { XMLSource.batchSize = saved }
        for size in [1, saved] {
            XMLSource.batchSize = size
            let o = try runPipeline(p, runDir: dir + "/run-\(size)")
            XCTAssertEqual(o.status, .dataError)
            let t = o.results.first { $0.manifest.stage == "normalize" }!.manifest.totals
            XCTAssertEqual(t["source.plac.rows_normalized"], 2, "P1 and P2 came before the break (batches of \(size))")
            let rejects = try String(contentsOfFile: dir + "/run-\(size)/02-normalize/rejects.csv", encoding: .utf8)
            XCTAssertTrue(rejects.contains("XML extract is broken: XML is not well-formed:"), rejects)
            XCTAssertFalse(rejects.contains("19700428"), "no personnummer in the reject")
        }
    }
}
