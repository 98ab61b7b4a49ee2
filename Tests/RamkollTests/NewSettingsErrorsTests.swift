import Foundation
import XCTest

@testable import RamkollHistory
@testable import RamkollModel
@testable import RamkollPipeline
@testable import RamkollPostgres

/// The exact messages of the bad inputs and settings added with the plan, the committee tables,
/// the case-system forecasts, the inbox and the warehouse.
final class NewSettingsErrorsTests: XCTestCase {
    /// A copy of the small fixture whose budget file is `budget` (written beside it).
    func pipeline(budget: String? = nil, extra: String = "") throws -> (dir: String, path: String) {
        let dir = try TestPaths.temporaryDirectory()
        var budgetPath = TestPaths.fixture("small/budget.csv")
        if let budget { budgetPath = try TestPaths.write(budget, name: "budget.csv", in: dir) }
        let path = try smallPipelineCopy(in: dir) {
            $0.replacingOccurrences(of: TestPaths.fixture("small/budget.csv"), with: budgetPath) + extra
        }
        return (dir, path)
    }

    func diagnostics(_ extra: String) throws -> [String] {
        let (_, path) = try pipeline(extra: extra)
        return PipelineConfig.load(path: path).1.map(\.message)
    }

    func error(_ body: () throws -> Void) -> RamkollError? {
        do { try body() } catch let e as RamkollError { return e } catch { XCTFail("\(error)") }
        return nil
    }

    let header = "enhet;rad;belopp;periodisering;jan;feb;mar;apr;maj;jun;jul;aug;sep;okt;nov;dec"

    func testPlanColumns() throws {
        // A plan year that is not after the fiscal year stops normalize.
        let (dir, bad) = try pipeline(budget: header + ";plan 2022\nU1;PERS;-150 000;jämn;;;;;;;;;;;;;-160 000\n")
        let e = error { try runPipeline(bad, runDir: dir + "/run") }
        XCTAssertEqual(e?.kind, .data)
        XCTAssertEqual(
            e?.message,
            "budget.csv: column \"plan 2022\": a plan year must come after the fiscal year 2022; the fiscal year's budget is in belopp")

        // A budget column for another year than the one before stops normalize too.
        let (dir3, wrongYear) = try pipeline(budget: header + ";budget 2020\nU1;PERS;-150 000;jämn;;;;;;;;;;;;;-140 000\n")
        let e3 = error { try runPipeline(wrongYear, runDir: dir3 + "/run") }
        XCTAssertEqual(
            e3?.message,
            "budget.csv: column \"budget 2020\": a budget column names the previous year's budget (budget 2021); the fiscal year's budget is in belopp"
        )

        // An unreadable plan amount rejects its row with the column and the reason.
        let (dir2, rejecting) = try pipeline(
            budget: header + ";plan 2023\nU1;PERS;-150 000;jämn;;;;;;;;;;;;;-160 000\nU2;KOP;-1 000;jämn;;;;;;;;;;;;;tusen\n")
        try runPipeline(rejecting, runDir: dir2 + "/run")
        let rejects = SampleEndToEndTests.parseCSV(try String(contentsOfFile: dir2 + "/run/02-normalize/rejects.csv", encoding: .utf8))
        let row = try XCTUnwrap(rejects.first { $0[4] == "plan 2023" })
        XCTAssertEqual(row[2], "3")
        XCTAssertEqual(row[5], "tusen")
        XCTAssertTrue(row[6].hasPrefix("plan 2023 amount \"tusen\": "), row[6])
        let plan = SampleEndToEndTests.parseCSV(try String(contentsOfFile: dir2 + "/run/02-normalize/plan.csv", encoding: .utf8))
        XCTAssertEqual(plan.dropFirst().map { [$0[2], $0[3], $0[4], $0[5]] }, [["U1", "PERS", "2023", "-16000000"]])
    }

    func testLineMethodsAndCommitteeTablesSettings() throws {
        var d = try diagnostics("\ncommittee_tables:\n  net_cost_sign: sideways\n")
        XCTAssertTrue(d.contains("committee_tables: net_cost_sign \"sideways\" is not known; use negative (report sign) or positive"), "\(d)")
        let (_, volumes) = try pipeline()
        try String(contentsOfFile: volumes, encoding: .utf8).replacingOccurrences(
            of: "    units: [U2]\n    budget_line: KOP\n",
            with: "    units: [U2]\n    budget_line: KOP\n    planned_days: {\"2023\": \"tio tusen\", \"nästa\": \"100\"}\n    persons: kanske\n"
        ).write(toFile: volumes, atomically: true, encoding: .utf8)
        let v = PipelineConfig.load(path: volumes).1.map(\.message)
        XCTAssertTrue(
            v.contains("volume table Placeringar: planned_days \"2023\": tio tusen is not a year and a number of days, e.g. \"2023\": 10 200"), "\(v)"
        )
        XCTAssertTrue(
            v.contains("volume table Placeringar: planned_days \"nästa\": 100 is not a year and a number of days, e.g. \"2023\": 10 200"), "\(v)")
        XCTAssertTrue(v.contains("volume table Placeringar: persons \"kanske\" must be true or false"), "\(v)")
        // previous_year is for a placement extract.
        let (_, previous) = try pipeline()
        try String(contentsOfFile: previous, encoding: .utf8).replacingOccurrences(
            of: "  - id: a2021\n", with: "  - id: a2021\n    previous_year: true\n"
        ).write(toFile: previous, atomically: true, encoding: .utf8)
        let pv = PipelineConfig.load(path: previous).1.map(\.message)
        XCTAssertTrue(
            pv.contains {
                $0.hasPrefix(
                    "source a2021: previous_year applies to a placement extract (placements-xml), whose placements give last year's care days; profile "
                )
                    && $0.hasSuffix(" is ledger-csv")
            }, "\(pv)")
        d = try diagnostics("\ncommittee_tables:\n  varav:\n    - name: varav ingenting\n")
        XCTAssertTrue(d.contains("varav row varav ingenting: units must list at least one unit"), "\(d)")

        // line_methods: an unknown method is a pipeline error; a sum line stops prognosis.
        let (_, bad) = try pipeline()
        var text = try String(contentsOfFile: bad, encoding: .utf8)
        text = text.replacingOccurrences(of: "  volatile_lines: [KOP]\n", with: "  volatile_lines: [KOP]\n  line_methods:\n    KOP: guesswork\n")
        try text.write(toFile: bad, atomically: true, encoding: .utf8)
        XCTAssertTrue(
            PipelineConfig.load(path: bad).1.map(\.message).contains(
                "settings: line_methods KOP: \"guesswork\" is not known; use activity-based or driver-based"))
        let (dir, sum) = try pipeline()
        text = try String(contentsOfFile: sum, encoding: .utf8)
        text = text.replacingOccurrences(
            of: "  volatile_lines: [KOP]\n", with: "  volatile_lines: [KOP]\n  line_methods:\n    NETTO: activity-based\n")
        try text.write(toFile: sum, atomically: true, encoding: .utf8)
        let e = error { try runPipeline(sum, runDir: dir + "/run") }
        XCTAssertEqual(e?.kind, .config)
        XCTAssertEqual(e?.message, "settings: line_methods names \"NETTO\" (activity-based), which is not a base report line")

        // Committee tables: a unit that is not in the hierarchy, units under no row, varav rows across rows.
        for (extra, message) in [
            ("\ncommittee_tables:\n  units: [IFO, X9]\n", "committee_tables: unit \"X9\" is not in the unit hierarchy"),
            (
                "\ncommittee_tables:\n  units: [U1]\n",
                "committee_tables: unit U2 lies under none of the row units U1; every unit must lie under exactly one"
            ),
            (
                "\ncommittee_tables:\n  units: [U1, U2]\n  varav:\n    - name: varav allt\n      units: [U1, U2]\n",
                "committee_tables: the units of varav row \"varav allt\" must all lie under one row unit"
            ),
        ] {
            let (dir, path) = try pipeline(extra: extra)
            let e = error { try runPipeline(path, runDir: dir + "/run") }
            XCTAssertEqual(e?.kind, .config, extra)
            XCTAssertEqual(e?.message, message)
        }
    }

    func testWarehouseAndInboxSettings() throws {
        var d = try diagnostics("\nwarehouse:\n  postgres:\n    schema: x\n")
        XCTAssertTrue(
            d.contains("warehouse postgres: give url (postgres://user:password@host:port/database) or env (the variable holding it)"), "\(d)")
        d = try diagnostics("\ninbox:\n  path: in\n  archive: arkiv\n")
        XCTAssertTrue(
            d.contains("inbox: no source has an inbox pattern, so no export would be picked up; give sources inbox: \"name-*.csv\""), "\(d)")

        // A warehouse made by another layout of a table is refused with both column lists.
        let (dir, path) = try pipeline()
        var o = Runner.Options(pipelinePath: path)
        o.runsRoot = dir + "/runs"
        let run = try Runner(logger: quietLogger).run(o)
        let target = try SQLiteTarget(path: dir + "/warehouse.sqlite")
        try target.transaction { execute in try execute("CREATE TABLE prognos (dataset TEXT, row_no BIGINT, unit TEXT)", []) }
        let e = error { try Warehouse.load(runDirectory: run.runDirectory, into: target) }
        XCTAssertEqual(e?.kind, .data)
        XCTAssertTrue(
            e?.message.hasPrefix(
                "SQLite \(dir)/warehouse.sqlite: table prognos has the columns dataset,row_no,unit, the run's 05-prognosis/prognos.csv has unit,unit_name,"
            )
                == true, e?.message ?? "")
        XCTAssertTrue(e?.message.hasSuffix("the warehouse was made by another tool version — load into a new database or migrate it") == true)

        // A PostgreSQL connection that is not a URL.
        let pg = error { _ = try PostgresTarget(url: "mysql://x", logger: quietLogger) }
        XCTAssertEqual(pg?.message, "the PostgreSQL connection is not a URL of the form postgres://user:password@host:port/database")
    }
}
