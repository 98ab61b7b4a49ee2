import Foundation
import XCTest

/// The volume tables through `ramkoll run` on the sample: a table narrowed to one legal basis
/// inside mixed units counts its own placements' care days, the case system's cost of them and
/// the persons in care, each worked out again from the normalized placements.
final class VolumeTableTests: XCTestCase {
    func testATableOfOneLegalBasisCountsItsOwnPlacementsAndPersons() throws {
        let dir = try TestPaths.temporaryDirectory()
        let pipeline = try SampleTablesTests.samplePipelineCopy(in: dir)
        let r = try runRamkoll(["run", pipeline, "--run-dir", dir + "/run", "--no-warehouse"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        func rows(_ path: String) throws -> [[String: String]] {
            let records = SampleEndToEndTests.parseCSV(try String(contentsOfFile: path, encoding: .utf8))
            return records.dropFirst().map { Dictionary(uniqueKeysWithValues: zip(records[0], $0)) }
        }
        let volumes = try rows(dir + "/run/03-reconcile/volumes.csv").filter { $0["table"] == "Placeringar enligt LVU — barn och unga" }
        XCTAssertEqual(volumes.map { $0["row"]! }, ["2021", "2022"], "no budget line, no planned days: no budget row")
        // Persons: the distinct persons of the LVU placements on the units' ansvar with a day in the year.
        let placements = try rows(dir + "/run/02-normalize/placements.csv").filter {
            ["61020", "61030"].contains($0["ansvar"]!) && $0["legal_basis"]!.hasPrefix("LVU")
        }
        func persons(_ year: Int) -> Int {
            // 2021 from last year's extract alone (previous_year: true), 2022 from this year's.
            Set(
                placements.filter {
                    ($0["source"] == "plac2021") == (year == 2021) && $0["start"]! <= "\(year)-12-31"
                        && ($0["end"]!.isEmpty || $0["end"]! >= "\(year)-01-01")
                }.map { $0["person"]! }
            ).count
        }
        XCTAssertEqual(Int(volumes[1]["persons"]!), persons(2022))
        XCTAssertEqual(Int(volumes[0]["persons"]!), persons(2021))
        XCTAssertGreaterThan(persons(2021), 0)
        // Fewer days than the whole units' (their HVB, family-home and SoL placements are left out).
        let all = try rows(dir + "/run/03-reconcile/volumes.csv").first {
            $0["table"] == "Placeringar barn och unga (institution, SiS, familje- och jourhem)" && $0["row"] == "2022"
        }!
        XCTAssertLessThan(Int(volumes[1]["care_days"]!)!, Int(all["care_days"]!)!)
        XCTAssertLessThan(Int64(volumes[1]["net_cost_ore"]!)!, Int64(all["net_cost_ore"]!)!)
        XCTAssertEqual(volumes.map { $0["budget_ore"]! }, ["", ""], "no budget line: no budget figures")
        let text = try String(contentsOfFile: dir + "/run/03-reconcile/volumes.txt", encoding: .utf8)
        XCTAssertNotNil(
            text.range(
                of: #"\nPeriod +Antal dygn +Budget \(tkr\) +Kostnad enligt verksamhetssystemet \(tkr\) +Antal personer\n"#,
                options: .regularExpression),
            text)
    }
}
