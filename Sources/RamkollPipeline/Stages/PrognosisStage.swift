import Foundation
import RamkollModel

/// Prognosis: a full-year forecast per unit × report line by each method, every row naming its
/// method, with the forecast's avvikelse against the annual budget (positive = surplus).
///
/// - run-rate: utfall YTD × 12 / months elapsed (rounded half away from zero, in öre)
/// - ytd-plus-budget: utfall YTD + the periodised budget of the remaining months
public struct PrognosisStage: Stage {
    public let name = StageName.prognosis
    public init() {}

    static func runRate(_ ytd: Ore, monthsElapsed m: Int) -> Ore {
        Ore(Ore.divideRoundingHalfAwayFromZero(ytd.value * 12, by: Int64(m)))
    }

    public func run(_ context: StageContext) throws -> StageResult {
        let cfg = context.config, maps = context.mappings
        let grid = try context.output(of: .reconcile, named: "actuals_vs_budget.csv")
        let figures = try Figures.load(path: grid.path, mappings: maps)
        let m = cfg.asOf.month
        let dir = context.directory(name)
        let out = try TableWriter(
            directory: dir, name: "prognos.csv",
            header: [
                "unit", "unit_name", "line", "line_name", "method", "selected", "budget_year_ore", "actual_ytd_ore", "forecast_ore", "deviation_ore",
            ])
        var text = ""
        for unit in maps.units.depthFirst() {
            let budget = figures.lines(of: unit.id, mappings: maps) { $0.budgetYear }
            let ytd = figures.lines(of: unit.id, mappings: maps) { $0.actualThrough(m) }
            let methods: [(PipelineConfig.ForecastMethod, [String: Ore])] = [
                (.runRate, figures.lines(of: unit.id, mappings: maps) { PrognosisStage.runRate($0.actualThrough(m), monthsElapsed: m) }),
                (.ytdPlusBudget, figures.lines(of: unit.id, mappings: maps) { $0.actualThrough(m) + ($0.budgetYear - $0.budgetThrough(m)) }),
            ]
            var rows: [[String]] = [
                ["Belopp i tkr", "Budget \(cfg.fiscalYear)", "Utfall t.o.m. \(cfg.asOf)", "Prognos (\(cfg.forecastMethod.rawValue))", "Avvikelse"]
            ]
            for l in maps.reportLines {
                for (method, forecast) in methods {
                    let f = forecast[l.id]!, b = budget[l.id]!
                    try out.write([
                        unit.id, unit.name, l.id, l.name, method.rawValue, method == cfg.forecastMethod ? "yes" : "no",
                        String(b.value), String(ytd[l.id]!.value), String(f.value), String((f - b).value),
                    ])
                    if method == cfg.forecastMethod {
                        rows.append([
                            l.isSum ? "= " + l.name : l.name, Ore.formatWhole(b.tkr), Ore.formatWhole(ytd[l.id]!.tkr), Ore.formatWhole(f.tkr),
                            Ore.formatWhole((f - b).tkr),
                        ])
                    }
                }
            }
            text += "Helårsprognos — \(unit.name) (\(unit.id))\n" + TextTable.render(rows) + "\n"
        }
        let csv = try out.commit()
        let txt = try FileIO.writeText(text, directory: dir, name: "prognos.txt")
        let expected = Int64(maps.units.units.count * maps.reportLines.count * 2)
        let manifest = context.manifest(
            name, inputs: [grid.input], outputs: [csv, txt],
            totals: ["rows": csv.rows, "months_elapsed": Int64(m)],
            balances: [Balance("prognos.csv rows = units × report lines × methods", left: csv.rows, right: expected)],
            notes: ["selected method: \(cfg.forecastMethod.rawValue)"])
        return StageResult(
            manifest: manifest,
            summary: ["prognosis: full-year forecast by run-rate and ytd-plus-budget (selected: \(cfg.forecastMethod.rawValue)) in 05-prognosis/"])
    }
}
