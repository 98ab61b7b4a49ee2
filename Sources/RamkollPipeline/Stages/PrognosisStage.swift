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
/// - activity-based (for the line `line_methods` names, purchased placements): the line's
///   non-placement part by run-rate, plus the placement part from the case system — delivered to
///   date + committed remaining + expected new placements (03-reconcile/placement_forecast.csv);
/// - driver-based (ekonomiskt bistånd): utfall YTD + remaining months × households in the as-of
///   month × amount per household over the last three months (03-reconcile/assistance.csv).
///   Units without case-system figures keep the selected method, and at the close (as-of
///   December) the outcome is the figure.
///
/// The selected forecast is set per unit without children and added up the hierarchy, so a manual
/// figure moves every total above it and nothing else. Lines listed in `volatile_lines` carry a
/// range: the lowest and the highest of the computed methods and the chosen figure. All division is exact, rounded once.
public struct PrognosisStage: Stage {
    public let name = StageName.prognosis
    public init() {}

    /// Within `Ore.runLimit` (normalize stops a run beyond it) the result always fits; the
    /// 128-bit product keeps the intermediate exact.
    static func runRate(_ ytd: Ore, monthsElapsed m: Int) -> Ore {
        Ore(Ore.mulDivRoundingHalfAwayFromZero(ytd.value, 12, Int64(m)) ?? (ytd.value < 0 ? Int64.min : Int64.max))
    }

    static func seasonal(_ ytd: Ore, previousYear: Ore, previousSameMonths: Ore) -> Ore? {
        guard previousSameMonths != .zero else { return nil }
        return Ore.mulDivRoundingHalfAwayFromZero(ytd.value, previousYear.value, previousSameMonths.value).map { Ore($0) }
    }

    struct Manual { let amount: Ore; let comment: String; let author: String; let line: Int }

    /// Per unit, the placement outlook from reconcile (costs positive).
    struct PlacementOutlook { let ledgerYTD: Ore; let fullYear: Ore }

    static func placementOutlook(_ path: String) throws -> [String: PlacementOutlook] {
        var out: [String: PlacementOutlook] = [:]
        try TableReader(path: path, required: PlacementForecast.header).forEach { row in
            out[row["unit"]] = PlacementOutlook(
                ledgerYTD: Ore(try row.int("placement_ledger_ytd_ore")), fullYear: Ore(try row.int("placement_full_year_ore")))
        }
        return out
    }

    /// activity-based: run-rate of the line without its placement postings, plus the case
    /// system's full year of placements (report sign: costs negative).
    static func activity(lineYTD: Ore, outlook: PlacementOutlook, monthsElapsed m: Int) -> Ore {
        runRate(lineYTD + outlook.ledgerYTD, monthsElapsed: m) - outlook.fullYear
    }

    /// Households and paid amount per unit × aid month (03-reconcile/assistance.csv).
    static func assistanceDrivers(_ path: String) throws -> [String: [Period: (households: Int64, paid: Ore)]] {
        var out: [String: [Period: (households: Int64, paid: Ore)]] = [:]
        try TableReader(path: path, required: ["unit", "period", "households", "paid_ore"]).forEach { row in
            out[row["unit"], default: [:]][try row.period("period")] = (try row.int("households"), Ore(try row.int("paid_ore")))
        }
        return out
    }

    /// driver-based: YTD − remaining months × households (as-of month) × amount per household
    /// (Σ paid ÷ Σ households over the last three aid months through the as-of month). Nil when
    /// the unit has no households in those months.
    static func driver(lineYTD: Ore, months: [Period: (households: Int64, paid: Ore)], asOf: Period) -> Ore? {
        let window = (0..<3).compactMap { Period(year: asOf.year, month: asOf.month - $0) }.filter { $0.month >= 1 }
        let h = window.reduce(Int64(0)) { $0 + (months[$1]?.households ?? 0) }
        let paid = window.reduce(Ore.zero) { $0 + (months[$1]?.paid ?? .zero) }
        guard h > 0, let latest = months[asOf]?.households else { return nil }
        let remaining = Int64(12 - asOf.month)
        guard let rest = Ore.mulDivRoundingHalfAwayFromZero(remaining * latest, paid.value, h) else { return nil }
        return lineYTD - Ore(rest)
    }

    /// One row of the manual forecast file `enhet;rad;prognos;kommentar;författare`, with a
    /// `fail` that names its file and line. Every row needs its author; the amount is the caller's
    /// to read (report sign for report lines, expenditure positive for investments).
    struct ManualRow {
        let unit: String, line: String, amountText: String, comment: String, author: String, fileLine: Int
        let fail: (String) -> RamkollError
        func manual(_ amount: Ore) -> Manual { Manual(amount: amount, comment: comment, author: author, line: fileLine) }
    }

    static func manualRows(_ path: String, display: String) throws -> [ManualRow] {
        var diagnostics: [Diagnostic] = []
        guard
            let t = DataTable.read(
                path: path, display: display, required: ["enhet", "rad", "prognos", "kommentar", "författare"], diagnostics: &diagnostics)
        else { throw RamkollError(.data, diagnostics.map(\.description).joined(separator: "\n")) }
        return try t.rows.map { row in
            let line = row.line
            let r = ManualRow(
                unit: row["enhet"], line: row["rad"], amountText: row["prognos"], comment: row["kommentar"], author: row["författare"],
                fileLine: line, fail: { RamkollError(.data, "\(display):\(line): \($0)") })
            guard !r.author.isEmpty else { throw r.fail("a manual forecast needs its author (författare)") }
            return r
        }
    }

    /// The manual forecasts of units × report lines (prognos in kronor, report sign).
    static func manualForecasts(_ path: String, display: String, mappings maps: MappingTables) throws -> [String: [String: Manual]] {
        let parents = Set(maps.units.units.compactMap(\.parent))
        var out: [String: [String: Manual]] = [:]
        for row in try manualRows(path, display: display) {
            let unit = row.unit, line = row.line
            // Investment rows (enhet "investering") are reconcile's (InvestmentBook.manualForecasts).
            if unit == InvestmentBook.manualUnit && maps.investments != nil { continue }
            guard maps.units.byID[unit] != nil else { throw row.fail("unit \"\(unit)\" is not in the unit hierarchy") }
            guard !parents.contains(unit) else {
                throw row.fail("unit \"\(unit)\" has units under it; give manual forecasts for the units without children — their totals follow")
            }
            guard let rl = maps.lineByID[line], !rl.isSum else {
                throw row.fail("report line \"\(line)\" is not a base report line (sums are computed)")
            }
            guard case .success(let amount) = AmountParser().parse(Array(row.amountText.utf8)) else {
                throw row.fail("prognos \"\(row.amountText)\" is not an amount in kronor (report sign: costs negative), e.g. -12 500 000")
            }
            guard out[unit]?[line] == nil else { throw row.fail("unit \(unit), line \(line) is given twice") }
            out[unit, default: [:]][line] = row.manual(amount)
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
        for (line, method) in cfg.lineMethods.sorted(by: { $0.key < $1.key }) where maps.lineByID[line].map({ $0.isSum }) ?? true {
            throw RamkollError(.config, "settings: line_methods names \"\(line)\" (\(method.rawValue)), which is not a base report line")
        }
        var placementOutlook: [String: PlacementOutlook] = [:]
        var drivers: [String: [Period: (households: Int64, paid: Ore)]] = [:]
        if cfg.lineMethods.values.contains(.activityBased) {
            let f = try context.output(of: .reconcile, named: "placement_forecast.csv")
            inputs.append(f.input)
            placementOutlook = try PrognosisStage.placementOutlook(f.path)
        }
        if cfg.lineMethods.values.contains(.driverBased) {
            let f = try context.output(of: .reconcile, named: "assistance.csv")
            inputs.append(f.input)
            drivers = try PrognosisStage.assistanceDrivers(f.path)
        }
        /// The case-system forecast of a unit without children, where its line has one and the unit has figures.
        func caseBased(_ unit: String, _ line: String, _ months: Figures.Months) -> (Ore, String)? {
            // At the close the year's outcome is the figure; the case system forecasts nothing more.
            guard m < 12, let method = cfg.lineMethods[line] else { return nil }
            let ytd = months.actualThrough(m)
            switch method {
            case .activityBased:
                return placementOutlook[unit].map { (PrognosisStage.activity(lineYTD: ytd, outlook: $0, monthsElapsed: m), method.rawValue) }
            case .driverBased:
                return drivers[unit].flatMap { PrognosisStage.driver(lineYTD: ytd, months: $0, asOf: cfg.asOf) }.map { ($0, method.rawValue) }
            }
        }

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
        var caseUnder: [String: [String: Set<String>]] = [:]  // unit → line → case-system methods used under it
        var caseValue: [String: [String: Ore]] = [:]  // units without children: the case-system figure
        for unit in maps.units.units where !parents.contains(unit.id) {
            for l in baseLines {
                let months = figures.byUnit[unit.id]?[l.id] ?? Figures.Months()
                let cb = caseBased(unit.id, l.id, months)
                if let cb { caseValue[unit.id, default: [:]][l.id] = cb.0 }
                let f = manual[unit.id]?[l.id]?.amount ?? cb?.0 ?? computed(methods(months))
                for node in maps.units.path(to: unit.id) {
                    selected[node, default: [:]][l.id, default: .zero] += f
                    if manual[unit.id]?[l.id] != nil { manualUnder[node, default: []].insert(l.id) }
                    if let cb, manual[unit.id]?[l.id] == nil { caseUnder[node, default: [:]][l.id, default: []].insert(cb.1) }
                }
            }
        }

        // A unit with children may have figures of its own (an ansvar mapped to it, a budget line
        // on it): they are forecast as that unit, by the selected computed method, and added up
        // the tree like a leaf's — never shown in the budget and then left out of the forecast.
        var ownOfParents = Ore.zero
        for unit in maps.units.units where parents.contains(unit.id) {
            for l in baseLines {
                guard let months = figures.own[unit.id]?[l.id] else { continue }
                let f = computed(methods(months))
                ownOfParents += f
                for node in maps.units.path(to: unit.id) { selected[node, default: [:]][l.id, default: .zero] += f }
            }
        }

        let out = try TableWriter(
            directory: dir, name: "prognos.csv",
            header: [
                "unit", "unit_name", "line", "line_name", "budget_year_ore", "actual_ytd_ore", "run_rate_ore", "ytd_plus_budget_ore", "seasonal_ore",
                "case_based_ore", "forecast_ore", "forecast_method", "deviation_ore", "range_low_ore", "range_high_ore", "manual_comment",
                "manual_author",
            ])
        let methodText = ([cfg.forecastMethod.rawValue] + cfg.lineMethods.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.rawValue)" })
            .joined(separator: ", ")
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
                // The case-system methods used in this figure (its own, or of the units and lines under it).
                let caseMethods = parts.reduce(into: Set<String>()) { $0.formUnion(caseUnder[unit.id]?[$1] ?? []) }.sorted()
                let isLeafCase = !parents.contains(unit.id) && caseValue[unit.id]?[l.id] != nil && !l.isSum
                var method = own != nil ? "manual" : isLeafCase ? caseMethods.joined() : cfg.forecastMethod.rawValue
                if own == nil && !isLeafCase && !caseMethods.isEmpty { method += " with " + caseMethods.joined(separator: ", ") }
                if own == nil && manualHere { method += " with manual" }
                let cbValue = isLeafCase ? caseValue[unit.id]?[l.id] : nil
                var low: Ore?, high: Ore?
                if cfg.volatileLines.contains(l.id) {
                    // The computed methods and the figure chosen (which, above units forecast from the
                    // case system, is their sum and may lie outside the line-level methods).
                    let values = [rr[l.id] ?? nil, yb[l.id] ?? nil, se[l.id] ?? nil, cbValue, f].compactMap { $0 }
                    low = values.min(); high = values.max()
                }
                func t(_ o: Ore??) -> String { (o ?? nil).map { String($0.value) } ?? "" }
                try out.write([
                    unit.id, unit.name, l.id, l.name, String(b.value), String(ytd[l.id]!.value), t(rr[l.id]), t(yb[l.id]), t(se[l.id]),
                    t(cbValue), String(f.value),
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
            text += "Helårsprognos — \(unit.name) (\(unit.id)), metod: \(methodText)\n" + TextTable.render(rows) + "\n"
        }
        if !footnotes.isEmpty { text += "* innehåller en manuell prognos:\n" + footnotes.map { "  " + $0 }.joined(separator: "\n") + "\n" }
        let csv = try out.commit()
        let banner = DataErrors.textBanner(DataErrors.upstream(context, before: name))
        // A pipeline without a ledger or a budget has no report lines, and no forecast tables.
        let txt = cfg.readsMoney ? try FileIO.writeText(text, directory: dir, name: "prognos.txt", banner: banner) : nil

        // Forecast history: keep this checkpoint, read the year's checkpoints, show the changes.
        var historyOuts: [OutputRecord] = []
        if let h = cfg.forecastHistory {
            // This run's own forecast, and each earlier checkpoint's from that checkpoint's own run.
            var own: [String: ForecastHistory.Entry] = [:]
            for unit in maps.units.depthFirst() {
                let budget = figures.lines(of: unit.id, mappings: maps) { $0.budgetYear }
                let chosen = maps.withSums(selected[unit.id] ?? [:])
                for l in maps.reportLines {
                    own[unit.id + "|" + l.id] = ForecastHistory.Entry(budget: budget[l.id]!, forecast: chosen[l.id] ?? .zero)
                }
            }
            var (history, historyInputs) = try ForecastHistory.read(
                store: context.store, checkpoints: h.checkpointNames.keys.sorted(), asOf: cfg.asOf)
            history[cfg.asOf] = own
            inputs += historyInputs.map {
                var r = $0; r.path = cfg.display(r.path); return r
            }
            historyOuts = try ForecastHistory.writeReport(
                directory: dir, history: history, settings: h, asOf: cfg.asOf, maps: maps, banner: banner,
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
            name, inputs: inputs, outputs: [csv] + (txt.map { [$0] } ?? []) + historyOuts,
            totals: [
                "rows": csv.rows, "months_elapsed": Int64(m), "manual_forecasts": Int64(manual.values.reduce(0) { $0 + $1.count }),
                "manual_forecasts_applied": changed,
            ],
            balances: [
                Balance("prognos.csv rows = units × report lines", left: csv.rows, right: expected),
                Balance(
                    "Σ base lines of the root's forecast = Σ forecasts of the units without children + Σ forecasts of the own figures of units with children",
                    left: baseLines.reduce(Ore.zero) { $0 + (selected[root]?[$1.id] ?? .zero) }.value,
                    right: leafTotal.value + ownOfParents.value),
                Balance("manual forecasts applied = manual forecasts given", left: changed, right: Int64(manual.values.reduce(0) { $0 + $1.count })),
            ],
            notes: ["selected method: \(methodText)"]
                + (manual.isEmpty ? [] : ["manual forecasts from \(cfg.display(cfg.manualForecasts!))"]))
        guard let resultLine = maps.lineByID[maps.resultLine] else {
            return StageResult(manifest: manifest, summary: ["prognosis: the pipeline reads no ledger and no budget: no forecasts"])
        }
        var summary = [
            "prognosis: full-year forecast by run-rate, ytd-plus-budget, seasonal\(cfg.lineMethods.isEmpty ? "" : " and the case system") (selected: \(methodText)) in 05-prognosis/"
        ]
        if changed > 0 { summary.append("prognosis: \(changed) manual forecasts override the computed figure (marked * in prognos.txt)") }
        let r = rootSelected[maps.resultLine] ?? .zero
        summary.append("prognosis: \(resultLine.name), \(maps.units.byID[root]?.name ?? root): \(Ore.formatWhole(r.tkr)) tkr")
        return StageResult(manifest: manifest, summary: summary)
    }
}
