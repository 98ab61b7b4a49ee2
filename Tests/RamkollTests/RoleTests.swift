import Foundation
import XCTest

/// Report-line roles instead of the Kommun-Bas ids: a chart whose sum lines are named otherwise
/// gives the same committee tables through `ramkoll run` when its role column says which line is
/// the net cost, the costs and the result; a chart that says nothing and has no NETTO is refused.
final class RoleTests: XCTestCase {
    func testAChartWithOtherIdsGivesTheSameTablesByRoles() throws {
        let dir = try TestPaths.temporaryDirectory()
        let root = TestPaths.root.path
        let standard = try SampleTablesTests.samplePipelineCopy(in: dir)
        try FileManager.default.createDirectory(atPath: dir + "/roles", withIntermediateDirectories: true)
        let renamed = try SampleTablesTests.samplePipelineCopy(in: dir + "/roles")
        try String(contentsOfFile: renamed, encoding: .utf8).replacingOccurrences(
            of: root + "/Pipelines/exempelby/report-lines.csv", with: TestPaths.fixture("roles/report-lines.csv")
        ).write(toFile: renamed, atomically: true, encoding: .utf8)
        for (path, run) in [(standard, "/a"), (renamed, "/b")] {
            let r = try runRamkoll(["run", path, "--run-dir", dir + run, "--no-warehouse"])
            XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        }
        for file in ["06-report/tabeller.txt", "04-deviation/drift.txt", "03-reconcile/volumes.txt"] {
            XCTAssertEqual(
                try String(contentsOfFile: dir + "/b/" + file, encoding: .utf8), try String(contentsOfFile: dir + "/a/" + file, encoding: .utf8),
                file)
        }
        let tables = try String(contentsOfFile: dir + "/b/06-report/tabeller.txt", encoding: .utf8)
        XCTAssertTrue(tables.contains("\nSumma Socialnämnden                        188,0        198,7"), "the driftsammandrag by the net-cost role")
    }

    func testAChartWithoutANetCostLineOrWithBadRolesIsRefused() throws {
        let dir = try TestPaths.temporaryDirectory()
        let root = TestPaths.root.path
        let fixture = try String(contentsOfFile: TestPaths.fixture("roles/report-lines.csv"), encoding: .utf8)
        let pipeline = try SampleTablesTests.samplePipelineCopy(in: dir)
        try String(contentsOfFile: pipeline, encoding: .utf8).replacingOccurrences(
            of: root + "/Pipelines/exempelby/report-lines.csv", with: dir + "/report-lines.csv"
        ).write(toFile: pipeline, atomically: true, encoding: .utf8)
        for (chart, message) in [
            (
                fixture.replacingOccurrences(of: ";;net_cost", with: ";;"),
                "no report line is the net cost: give that line (Verksamhetens nettokostnader) the role net_cost in a role column — the unit tables, the Drift tables of units and the report's charts are made from it"
            ),
            (
                fixture.replacingOccurrences(of: ";;costs", with: ";;kostnader"),
                "role \"kostnader\" is not known; use net_cost, result, costs (or leave it empty)"
            ),
            (
                fixture.replacingOccurrences(of: ";;costs", with: ";;net_cost"),
                "role net_cost is given to \"SUMKOST\" already; each role belongs to one line"
            ),
        ] {
            try chart.write(toFile: dir + "/report-lines.csv", atomically: true, encoding: .utf8)
            let check = try runRamkoll(["check", pipeline])
            XCTAssertEqual(check.status, 78, check.stdout + check.stderr)
            XCTAssertTrue(check.stdout.contains(message), check.stdout)
        }
    }
}
