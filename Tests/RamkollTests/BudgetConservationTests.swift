import Foundation
import XCTest

@testable import RamkollModel
@testable import RamkollPipeline

/// No budget krona vanishes with exit 0 (issue 15): budget files have their own conservation and
/// limit, rows without an ansvar go to a named default unit or are an error, the budget's result
/// is checked against the frame, and a budget on a unit with children is forecast.
final class BudgetConservationTests: XCTestCase {
    /// The sample pipeline in a folder of its own (its runs and forecast history there too), with
    /// the sample's exports; `budget` replaces the internal budget's text.
    static func samplePipeline(in dir: String, budget: ((String) -> String)? = nil, edit: (String) -> String = { $0 }) throws -> String {
        let fm = FileManager.default
        try fm.copyItem(atPath: TestPaths.root.path + "/Pipelines", toPath: dir + "/Pipelines")
        try fm.createSymbolicLink(atPath: dir + "/SampleInputs", withDestinationPath: TestPaths.root.path + "/SampleInputs")
        var yaml = try String(contentsOfFile: dir + "/Pipelines/exempelby.yaml", encoding: .utf8)
        if let budget {
            let original = try String(contentsOfFile: TestPaths.root.path + "/SampleInputs/budget/internbudget-2022.csv", encoding: .utf8)
            try fm.createDirectory(atPath: dir + "/budget", withIntermediateDirectories: true)
            try budget(original).write(toFile: dir + "/budget/internbudget-2022.csv", atomically: true, encoding: .utf8)
            yaml = yaml.replacingOccurrences(of: "../SampleInputs/budget/internbudget-2022.csv", with: "../budget/internbudget-2022.csv")
        }
        try edit(yaml).write(toFile: dir + "/Pipelines/exempelby.yaml", atomically: true, encoding: .utf8)
        return dir + "/Pipelines/exempelby.yaml"
    }

    /// The sample's budget with two lines broken as a controller might break them: a unit that does
    /// not exist, and an amount typed with points.
    static func brokenBudget(_ text: String) -> String {
        text.replacingOccurrences(of: "\nNG-POL;PERS;-1 450 000;", with: "\nNG-XX;PERS;-1 450 000;")
            .replacingOccurrences(of: "-24 500 000;jämn", with: "-24.500.000;jämn")
    }

    func testRejectedBudgetLinesAreADataErrorNamedEvenWhenQuiet() throws {
        let dir = try TestPaths.temporaryDirectory()
        let budget = try String(contentsOfFile: TestPaths.root.path + "/SampleInputs/budget/internbudget-2022.csv", encoding: .utf8)
        XCTAssertTrue(budget.contains("-24 500 000;jämn"), "the sample budget has the line this test breaks")
        let pipeline = try Self.samplePipeline(in: dir, budget: Self.brokenBudget)
        let r = try runRamkoll(["run", pipeline, "--quiet", "--no-warehouse"])
        XCTAssertEqual(r.status, 65, r.stdout + r.stderr)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        let budgetError = try XCTUnwrap(lines.first { $0.hasPrefix("  data error: budget ../budget/") }, r.stdout)
        XCTAssertTrue(
            budgetError.hasPrefix(
                "  data error: budget ../budget/internbudget-2022.csv: 2 of 55 lines rejected (-1 450 000,00 kr of the frame and 1 whose amount could not be read): line 5: unit \"NG-XX\" is not in the unit hierarchy"
            ), budgetError)
        XCTAssertTrue(budgetError.contains("budget amount \"-24.500.000\" is not a number"), budgetError)
        let frame = try XCTUnwrap(lines.first { $0.hasPrefix("  data error: budget: Årets resultat") }, r.stdout)
        XCTAssertEqual(
            frame,
            "  data error: budget: Årets resultat of the budget 2022 is 25 950 000,00 kr, not the frame's 0,00 kr (settings.budget_result_kr), a difference of 25 950 000,00 kr; a budget line is missing, rejected or wrong — see 02-normalize/rejects.csv and 03-reconcile/exceptions.csv"
        )
        XCTAssertFalse(r.stdout.contains("rows rejected, above the limit"), "the ledger's limit does not count budget rows")
        // The manifest proves the budget file's conservation.
        let m = try StageManifest.read(from: dir + "/runs/exempelby/all/2022-12.001/02-normalize")
        XCTAssertEqual(m.totals["budget.budget1.rows_read"], 55)
        XCTAssertEqual(m.totals["budget.budget1.rows_rejected"], 2)
        XCTAssertEqual(m.totals["budget.budget1.rows_rejected_without_amount"], 1)
        XCTAssertTrue(m.balances.contains { $0.identity == "budget1: rows_read = rows_normalized + rows_rejected" && $0.balanced })

        // A pipeline may allow a share of rejected budget lines, and state another frame.
        let lenient = try Self.samplePipeline(in: try TestPaths.temporaryDirectory(), budget: Self.brokenBudget) {
            $0.replacingOccurrences(
                of: "  reject_limit_percent: \"1\"",
                with: "  reject_limit_percent: \"1\"\n  budget_reject_limit_percent: \"5\"\n  budget_result_kr: \"25 950 000\"")
        }
        let l = try runRamkoll(["run", lenient, "--quiet", "--no-warehouse"])
        XCTAssertEqual(l.status, 0, l.stdout + l.stderr)
    }

    func testTheNightlyJobKeepsLatestOnTheLastGoodRunWhenABudgetLineBreaks() throws {
        let dir = try TestPaths.temporaryDirectory()
        let good = try Self.samplePipeline(in: dir, budget: { $0 })
        func nightly() throws -> RamkollResult { try runNightly([good, "2022-12"]) }
        let first = try nightly()
        XCTAssertEqual(first.status, 0, first.stdout + first.stderr)
        XCTAssertEqual(first.stdout + first.stderr, "", "silent on success")

        let budgetFile = dir + "/budget/internbudget-2022.csv"
        let text = try String(contentsOfFile: budgetFile, encoding: .utf8)
        try text.replacingOccurrences(of: "-24 500 000;jämn", with: "-24.500.000;jämn").write(toFile: budgetFile, atomically: true, encoding: .utf8)
        let second = try nightly()
        XCTAssertEqual(second.status, 65, second.stdout + second.stderr)
        XCTAssertTrue(
            second.stdout.contains(
                "  data error: budget ../budget/internbudget-2022.csv: 1 of 55 lines rejected (1 whose amount could not be read): line 25: budget amount \"-24.500.000\" is not a number"
            ), second.stdout)
        XCTAssertTrue(second.stderr.contains("status=65 outcome=data-errors"), second.stderr)
        let store = RunStore(root: dir + "/runs/exempelby")
        XCTAssertEqual(store.runs(), ["2022-12.001", "2022-12.002"])
        XCTAssertEqual(store.resolve("latest"), store.directory(of: "2022-12.001"))
        XCTAssertEqual(
            store.resolve("2022-12").map { _ in try? FileManager.default.destinationOfSymbolicLink(atPath: store.root + "/2022-12") },
            "all/2022-12.001")
    }

    /// An SIE budget read with the default slice `{}` (account totals) carries no ansvar.
    func testBudgetRowsWithoutAnAnsvarAreAnErrorOrGoToTheNamedDefaultUnit() throws {
        let dir = try TestPaths.temporaryDirectory()
        let fixture = TestPaths.fixture("mixed")
        let profile = try String(contentsOfFile: fixture + "/sie-budget.yaml", encoding: .utf8).replacingOccurrences(of: "slice: \"1\"\n", with: "")
        _ = try TestPaths.write(profile, name: "sie-budget-totals.yaml", in: dir)
        func pipeline(_ name: String, _ extra: String) throws -> String {
            var text = try String(contentsOfFile: fixture + "/pipeline.yaml", encoding: .utf8)
            text = text.replacingOccurrences(of: "../../../../", with: TestPaths.root.path + "/")
                .replacingOccurrences(of: "../small/", with: TestPaths.fixture("small") + "/")
                .replacingOccurrences(of: "path: prev-2021.se", with: "path: \(fixture)/prev-2021.se")
                .replacingOccurrences(of: "profile: sie-4e.yaml", with: "profile: \(fixture)/sie-4e.yaml")
                .replacingOccurrences(of: "path: ledger-2022-dk.csv", with: "path: \(fixture)/ledger-2022-dk.csv")
                .replacingOccurrences(of: "profile: debet-kredit.yaml", with: "profile: \(fixture)/debet-kredit.yaml")
                .replacingOccurrences(of: "path: budget-2022.se", with: "path: \(fixture)/budget-2022.se")
                .replacingOccurrences(of: "profile: sie-budget.yaml", with: "profile: \(dir)/sie-budget-totals.yaml")
                .replacingOccurrences(of: "  volatile_lines: [KOP]\n", with: "  volatile_lines: [KOP]\n" + extra)
            return try TestPaths.write(text, name: name, in: dir)
        }
        let without = try runRamkoll(["run", try pipeline("a.yaml", ""), "--run-dir", dir + "/a", "--quiet"])
        XCTAssertEqual(without.status, 65, without.stdout + without.stderr)
        XCTAssertTrue(
            without.stdout.contains(
                "  data error: budget: 60 of 60 account-level budget rows (0,01 kr, report sign) could not be mapped to a unit and report line — see 03-reconcile/exceptions.csv; rows without an ansvar go to settings.budget_default_unit when the pipeline names one\n"
            ), without.stdout)
        let exceptions = try String(contentsOfFile: dir + "/a/03-reconcile/exceptions.csv", encoding: .utf8)
        XCTAssertTrue(
            exceptions.contains(
                "these budget rows have no ansvar: set settings.budget_default_unit to the unit they belong to, or read the budget with an object slice that carries the ansvar"
            ), exceptions)

        let with = try runRamkoll(["run", try pipeline("b.yaml", "  budget_default_unit: U1\n"), "--run-dir", dir + "/b"])
        XCTAssertEqual(with.status, 0, with.stdout + with.stderr)
        XCTAssertTrue(
            with.stdout.contains("reconcile: 60 budget rows without an ansvar (0,01 kr, report sign) went to the default budget unit U1"), with.stdout
        )
        let drift = try String(contentsOfFile: dir + "/b/04-deviation/drift.csv", encoding: .utf8)
        // The year's budget result (budget_tkr: the run is mid-year, so it follows the figures to date) is 0.
        let header = drift.split(separator: "\n")[0].split(separator: ";"),
            result = drift.split(separator: "\n").first { $0.hasPrefix("SN;Socialnämnden;0;RES;") }!
        XCTAssertEqual(result.split(separator: ";", omittingEmptySubsequences: false)[header.firstIndex(of: "budget_tkr")!], "0", drift)

        let unknown = try runRamkoll(["check", try pipeline("c.yaml", "  budget_default_unit: U7\n")])
        XCTAssertEqual(unknown.status, 78)
        XCTAssertTrue(unknown.stdout.contains("error: settings: budget_default_unit \"U7\" is not in the unit hierarchy"), unknown.stdout)
    }

    func testABudgetOnAUnitWithChildrenIsForecast() throws {
        let dir = try TestPaths.temporaryDirectory()
        let small = TestPaths.fixture("small")
        var budget = try String(contentsOfFile: small + "/budget.csv", encoding: .utf8)
        // IFO has units under it; its own line keeps the frame (kommunbidrag follows).
        // (The kommunbidrag row is raised, not repeated: a unit's line given twice is rejected.)
        budget = budget.replacingOccurrences(of: "U1;KB;296 000;", with: "U1;KB;308 000;") + "IFO;OVR;-12 000;jämn;;;;;;;;;;;;\n"
        let budgetPath = try TestPaths.write(budget, name: "budget.csv", in: dir)
        let pipeline = try smallPipelineCopy(in: dir) { $0.replacingOccurrences(of: " \(small)/budget.csv\n", with: " \(budgetPath)\n") }
        let r = try runRamkoll(["run", pipeline, "--run-dir", dir + "/run"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        var forecast: [String: (budget: Int64, forecast: Int64, method: String)] = [:]
        try TableReader(
            path: dir + "/run/05-prognosis/prognos.csv", required: ["unit", "line", "budget_year_ore", "forecast_ore", "forecast_method"]
        )
        .forEach { row in
            forecast[row["unit"] + " " + row["line"]] = (try row.int("budget_year_ore"), try row.int("forecast_ore"), row["forecast_method"])
        }
        // As of June by ytd-plus-budget: nothing booked on IFO itself, six months of its budget left
        // (-6 000 kr), and U1's -99 kr under it.
        XCTAssertEqual(forecast["IFO OVR"]?.budget, -1_200_000)
        XCTAssertEqual(forecast["IFO OVR"]?.forecast, -609_900)
        XCTAssertEqual(forecast["U1 OVR"]?.forecast, -9_900)
        let reference = try runPipeline(try smallPipelineCopy(in: try TestPaths.temporaryDirectory()), runDir: dir + "/reference")
        XCTAssertEqual(reference.status, .ok)
        var before: [String: Int64] = [:]
        try TableReader(path: dir + "/reference/05-prognosis/prognos.csv", required: ["unit", "line", "forecast_ore"]).forEach { row in
            before[row["unit"] + " " + row["line"]] = try row.int("forecast_ore")
        }
        XCTAssertEqual((forecast["SN OVR"]?.forecast ?? 0) - (before["SN OVR"] ?? 0), -600_000, "the root's forecast holds IFO's own line")
    }
}
