import Foundation
import RamkollModel
import RamkollReaders

/// Prognosis: a full-year forecast per unit × report line, by every method, and the selected one,
/// with its avvikelse against the annual budget (positive = surplus).
///
/// - run-rate: utfall YTD × 12 / months elapsed
/// - ytd-plus-budget: utfall YTD + the periodised budget of the remaining months
/// - seasonal: utfall YTD × last year's full year / last year's same months (no previous-year
///   months: not available, and ytd-plus-budget is used where seasonal is selected)
/// - manual: a controller's figure from `manual_forecasts` (unit, line, amount, comment, author),
///   which replaces the computed one for exactly that unit and line and is marked as such.
///
/// The selected forecast is set per unit without children and added up the hierarchy, so a manual
/// figure moves every total above it and nothing else. Lines listed in `volatile_lines` carry a
/// range: the lowest and the highest of the computed methods. All division is exact, rounded once.
public struct PrognosisStage: Stage {
    public let name = StageName.prognosis
    public init() {}

    static func runRate(_ ytd: Ore, monthsElapsed m: Int) -> Ore {
        Ore(Ore.divideRoundingHalfAwayFromZero(ytd.value * 12, by: Int64(m)))
    }

    static func seasonal(_ ytd: Ore, previousYear: Ore, previousSameMonths: Ore) -> Ore? {
        guard previousSameMonths != .zero else { return nil }
        return Ore.mulDivRoundingHalfAwayFromZero(ytd.value, previousYear.value, previousSameMonths.value).map { Ore($0) }
    }

    struct Manual { let amount: Ore; let comment: String; let author: String; let line: Int }

    /// Reads `enhet;rad;prognos;kommentar;författare` (prognos in kronor, report sign).
    static func manualForecasts(_ path: String, display: String, mappings maps: MappingTables) throws -> [String: [String: Manual]] {
        var diagnostics: [Diagnostic] = []
        guard
            let t = DataTable.read(
                path: path, display: display, required: ["enhet", "rad", "prognos", "kommentar", "författare"], diagnostics: &diagnostics)
        else { throw RamkollError(.data, diagnostics.map(\.description).joined(separator: "\n")) }
        let parents = Set(maps.units.units.compactMap(\.parent))
        var out: [String: [String: Manual]] = [:]
        for row in t.rows {
            let unit = row["enhet"], line = row["rad"]
            func fail(_ m: String) -> RamkollError { RamkollError(.data, "\(display):\(row.line): \(m)") }
            guard maps.units.byID[unit] != nil else { throw fail("unit \"\(unit)\" is not in the unit hierarchy") }
            guard !parents.contains(unit) else {
                throw fail("unit \"\(unit)\" has units under it; give manual forecasts for the units without children — their totals follow")
            }
            guard let rl = maps.lineByID[line], !rl.isSum else { throw fail("report line \"\(line)\" is not a base report line (sums are computed)") }
            guard case .success(let amount) = AmountParser().parse(Array(row["prognos"].utf8)) else {
                throw fail("prognos \"\(row["prognos"])\" is not an amount in kronor (report sign: costs negative), e.g. -12 500 000")
            }
            guard !row["författare"].isEmpty else { throw fail("a manual forecast needs its author (författare)") }
            guard out[unit]?[line] == nil else { throw fail("unit \(unit), line \(line) is given twice") }
            out[unit, default: [:]][line] = Manual(amount: amount, comment: row["kommentar"], author: row["författare"], line: row.line)
        }
        return out
    }

    public func run(_ context: StageContext) throws -> StageResult {
        let cfg = context.config, maps = context.mappings
        let grid = try context.output(of: .reconcile, named: "actuals_vs_budget.csv")
        let figures = try Figures.load(path: grid.path, mappings: maps)
        let m = cfg.asOf.month
        let dir = context.directory(name)
        var inputs = [grid.input]
        var manual: [String: [String: Manual]] = [:]
        if let path = cfg.manualForecasts {
            let (hex, bytes) = try FileIO.sha256(ofFile: path)
            inputs.append(InputRecord(path: cfg.display(path), sha256: hex, bytes: bytes, role: "manual forecasts"))
            manual = try PrognosisStage.manualForecasts(path, display: cfg.display(path), mappings: maps)
        }
        let baseLines = maps.reportLines.filter { !$0.isSum }
        let parents = Set(maps.units.units.compactMap(\.parent))

        struct Methods { var runRate = Ore.zero, ytdPlusBudget = Ore.zero, seasonal: Ore? }
        func methods(_ months: Figures.Months) -> Methods {
            let ytd = months.actualThrough(m)
            return Methods(
                runRate: PrognosisStage.runRate(ytd, monthsElapsed: m), ytdPlusBudget: ytd + (months.budgetYear - months.budgetThrough(m)),
                seasonal: PrognosisStage.seasonal(ytd, previousYear: months.previousYear, previousSameMonths: months.previousThrough(m)))
        }
        func computed(_ ms: Methods) -> Ore {
            switch cfg.forecastMethod {
            case .runRate: return ms.runRate
            case .ytdPlusBudget: return ms.ytdPlusBudget
            case .seasonal: return ms.seasonal ?? ms.ytdPlusBudget
            }
        }
        // The selected forecast of every unit without children, then added up the tree.
        var selected: [String: [String: Ore]] = [:]
        var manualUnder: [String: Set<String>] = [:]  // unit → lines whose total holds a manual figure
        for unit in maps.units.units where !parents.contains(unit.id) {
            for l in baseLines {
                let f = manual[unit.id]?[l.id]?.amount ?? computed(methods(figures.byUnit[unit.id]?[l.id] ?? Figures.Months()))
                for node in maps.units.path(to: unit.id) {
                    selected[node, default: [:]][l.id, default: .zero] += f
                    if manual[unit.id]?[l.id] != nil { manualUnder[node, default: []].insert(l.id) }
                }
            }
        }

        let out = try TableWriter(
            directory: dir, name: "prognos.csv",
            header: [
                "unit", "unit_name", "line", "line_name", "budget_year_ore", "actual_ytd_ore", "run_rate_ore", "ytd_plus_budget_ore", "seasonal_ore",
                "forecast_ore", "forecast_method", "deviation_ore", "range_low_ore", "range_high_ore", "manual_comment", "manual_author",
            ])
        var text = "", footnotes: [String] = []
        var changed: Int64 = 0
        for unit in maps.units.depthFirst() {
            let months = Dictionary(uniqueKeysWithValues: baseLines.map { ($0.id, figures.byUnit[unit.id]?[$0.id] ?? Figures.Months()) })
            let budget = figures.lines(of: unit.id, mappings: maps) { $0.budgetYear }
            let ytd = figures.lines(of: unit.id, mappings: maps) { $0.actualThrough(m) }
            let baseMethods = months.mapValues(methods)
            func sumOf(_ pick: (Methods) -> Ore?) -> [String: Ore?] {
                var base: [String: Ore] = [:]
                var missing = Set<String>()
                for l in baseLines { if let v = pick(baseMethods[l.id]!) { base[l.id] = v } else { missing.insert(l.id) } }
                let summed = maps.withSums(base)
                var outv: [String: Ore?] = [:]
                for l in maps.reportLines {
                    let parts = maps.components(of: l.id)
                    outv[l.id] = parts.isDisjoint(with: missing) ? summed[l.id] : nil
                }
                return outv
            }
            let rr = sumOf { $0.runRate }, yb = sumOf { $0.ytdPlusBudget }, se = sumOf { $0.seasonal }
            let chosen = maps.withSums(selected[unit.id] ?? [:])
            var rows: [[String]] = [
                ["Belopp i tkr", "Budget \(cfg.fiscalYear)", "Utfall t.o.m. \(cfg.asOf)", "Prognos", "Avvikelse", "Intervall"]
            ]
            for l in maps.reportLines {
                let f = chosen[l.id] ?? .zero, b = budget[l.id]!
                let parts = maps.components(of: l.id)
                let manualHere = !(manualUnder[unit.id] ?? []).isDisjoint(with: parts)
                let own = manual[unit.id]?[l.id]
                let method = own != nil ? "manual" : manualHere ? "\(cfg.forecastMethod.rawValue) with manual" : cfg.forecastMethod.rawValue
                var low: Ore?, high: Ore?
                if cfg.volatileLines.contains(l.id) {
                    let values = [rr[l.id] ?? nil, yb[l.id] ?? nil, se[l.id] ?? nil].compactMap { $0 }
                    low = values.min(); high = values.max()
                }
                func t(_ o: Ore??) -> String { (o ?? nil).map { String($0.value) } ?? "" }
                try out.write([
                    unit.id, unit.name, l.id, l.name, String(b.value), String(ytd[l.id]!.value), t(rr[l.id]), t(yb[l.id]), t(se[l.id]),
                    String(f.value),
                    method, String((f - b).value), t(low), t(high), own?.comment ?? "", own?.author ?? "",
                ])
                var label = l.isSum ? "= " + l.name : l.partOf != nil ? "  " + l.name : l.name
                if manualHere {
                    label += " *"
                    if let own { footnotes.append("\(unit.name), \(l.name): manuell prognos av \(own.author) — \(own.comment)") }
                }
                if own != nil { changed += 1 }
                rows.append([
                    label, Ore.formatWhole(b.tkr), Ore.formatWhole(ytd[l.id]!.tkr), Ore.formatWhole(f.tkr), Ore.formatWhole((f - b).tkr),
                    low.flatMap { lo in high.map { "\(Ore.formatWhole(lo.tkr)) – \(Ore.formatWhole($0.tkr))" } } ?? "",
                ])
            }
            text += "Helårsprognos — \(unit.name) (\(unit.id)), metod: \(cfg.forecastMethod.rawValue)\n" + TextTable.render(rows) + "\n"
        }
        if !footnotes.isEmpty { text += "* innehåller en manuell prognos:\n" + footnotes.map { "  " + $0 }.joined(separator: "\n") + "\n" }
        let csv = try out.commit()
        let txt = try FileIO.writeText(text, directory: dir, name: "prognos.txt")

        // Forecast history: keep this checkpoint, read the year's checkpoints, show the changes.
        var historyOuts: [OutputRecord] = []
        if let h = cfg.forecastHistory {
            var keep: [(unit: String, line: String, budget: Ore, forecast: Ore, method: String)] = []
            for unit in maps.units.depthFirst() {
                let budget = figures.lines(of: unit.id, mappings: maps) { $0.budgetYear }
                let chosen = maps.withSums(selected[unit.id] ?? [:])
                for l in maps.reportLines { keep.append((unit.id, l.id, budget[l.id]!, chosen[l.id] ?? .zero, cfg.forecastMethod.rawValue)) }
            }
            try ForecastHistory.write(directory: h.directory, asOf: cfg.asOf, rows: keep)
            let (history, historyInputs) = try ForecastHistory.read(directory: h.directory, asOf: cfg.asOf)
            inputs += historyInputs.map {
                var r = $0; r.path = cfg.display(r.path); return r
            }
            historyOuts = try ForecastHistory.writeReport(
                directory: dir, history: history, settings: h, asOf: cfg.asOf, maps: maps,
                outcome: { u, l in figures.lines(of: u, mappings: maps) { $0.actualThrough(12) }[l] ?? .zero },
                budget: { u, l in figures.lines(of: u, mappings: maps) { $0.budgetYear }[l] ?? .zero })
        }
        let expected = Int64(maps.units.units.count * maps.reportLines.count)
        let root = maps.units.root
        let rootSelected = maps.withSums(selected[root] ?? [:])
        let leafTotal = maps.units.units.filter { !parents.contains($0.id) }.reduce(Ore.zero) { acc, u in
            acc + baseLines.reduce(Ore.zero) { $0 + (selected[u.id]?[$1.id] ?? .zero) }
        }
        let manifest = context.manifest(
            name, inputs: inputs, outputs: [csv, txt] + historyOuts,
            totals: [
                "rows": csv.rows, "months_elapsed": Int64(m), "manual_forecasts": Int64(manual.values.reduce(0) { $0 + $1.count }),
                "manual_forecasts_applied": changed,
            ],
            balances: [
                Balance("prognos.csv rows = units × report lines", left: csv.rows, right: expected),
                Balance(
                    "Σ base lines of the root's forecast = Σ forecasts of the units without children",
                    left: baseLines.reduce(Ore.zero) { $0 + (selected[root]?[$1.id] ?? .zero) }.value,
                    right: leafTotal.value),
                Balance("manual forecasts applied = manual forecasts given", left: changed, right: Int64(manual.values.reduce(0) { $0 + $1.count })),
            ],
            notes: ["selected method: \(cfg.forecastMethod.rawValue)"]
                + (manual.isEmpty ? [] : ["manual forecasts from \(cfg.display(cfg.manualForecasts!))"]))
        var summary = [
            "prognosis: full-year forecast by run-rate, ytd-plus-budget and seasonal (selected: \(cfg.forecastMethod.rawValue)) in 05-prognosis/"
        ]
        if changed > 0 { summary.append("prognosis: \(changed) manual forecasts override the computed figure (marked * in prognos.txt)") }
        let r = rootSelected[maps.reportLines.last!.id] ?? .zero
        summary.append("prognosis: \(maps.reportLines.last!.name), \(maps.units.byID[root]?.name ?? root): \(Ore.formatWhole(r.tkr)) tkr")
        return StageResult(manifest: manifest, summary: summary)
    }
}
