import Foundation
import RamkollModel

/// Deviation: the avvikelse file per unit × report line (budget, budget YTD, utfall YTD, avvikelse
/// YTD, avvikelse %, over-threshold flag), and the year-end table in the shape of the annual report's
/// "Drift" for every node of the unit hierarchy, in tkr. Every tkr figure, totals included, is
/// rounded once from its exact öre value, so a rounded total need not equal its rounded parts.
public struct DeviationStage: Stage {
    public let name = StageName.deviation
    public init() {}

    public func run(_ context: StageContext) throws -> StageResult {
        let cfg = context.config, maps = context.mappings
        let grid = try context.output(of: .reconcile, named: "actuals_vs_budget.csv")
        let figures = try Figures.load(path: grid.path, mappings: maps)
        let m = cfg.asOf.month
        let dir = context.directory(name)
        let avv = try TableWriter(
            directory: dir, name: "avvikelse.csv",
            header: [
                "unit", "unit_name", "level", "line", "line_name", "budget_year_ore", "budget_ytd_ore", "actual_ytd_ore",
                "deviation_ytd_ore", "deviation_pct", "over_threshold",
            ])
        // drift.csv and drift.txt: the Drift table of every unit; see DriftTable.
        try DriftTable.validate(cfg, maps)
        let driftColumns = DriftTable.columns(of: cfg)
        let drift = try TableWriter(
            directory: dir, name: "drift.csv", header: ["unit", "unit_name", "level", "line", "line_name"] + driftColumns.map(\.key))
        var text = ""
        var over = 0
        let fy = cfg.fiscalYear
        let shape = cfg.committeeTables.shapes["drift"]
        if let unknown = Set(shape?.hideLines ?? []).subtracting(maps.lineByID.keys).sorted().first {
            throw RamkollError(
                .config, "committee_tables: tables: drift: hide_lines names \"\(unknown)\", which is not a report line of the pipeline")
        }
        for unit in maps.units.depthFirst() {
            let level = String(maps.units.depth(of: unit.id))
            let budgetYear = figures.lines(of: unit.id, mappings: maps) { $0.budgetYear }
            let budgetYTD = figures.lines(of: unit.id, mappings: maps) { $0.budgetThrough(m) }
            let actualYTD = figures.lines(of: unit.id, mappings: maps) { $0.actualThrough(m) }
            for l in maps.reportLines {
                let bY = budgetYear[l.id]!, bYTD = budgetYTD[l.id]!, aYTD = actualYTD[l.id]!
                let dev = aYTD - bYTD
                let pct = Ore.basisPoints(dev, of: Ore(Int64(bYTD.value.magnitude)))
                let isOver =
                    dev.value.magnitude >= cfg.deviationThreshold.value.magnitude
                    && (pct.map { $0.magnitude >= cfg.deviationThresholdPercent.magnitude } ?? true) && dev != .zero
                if isOver && !l.isSum { over += 1 }
                try avv.write([
                    unit.id, unit.name, level, l.id, l.name, String(bY.value), String(bYTD.value), String(aYTD.value),
                    String(dev.value), pct.map(DeviationStage.percentText) ?? "", isOver ? "yes" : "no",
                ])
            }
            // A pipeline without a ledger or a budget has no report lines, and no Drift tables.
            guard cfg.readsMoney else { continue }
            let table = DriftTable.build(unit: unit.id, figures: figures, mappings: maps, config: cfg)
            for r in table.rows {
                try drift.write([unit.id, unit.name, level, r.line.id, r.line.name] + r.cells.map { $0.map { String($0.tkr) } ?? "" })
            }
            let sheet = table.sheet(config: cfg, rootName: unit.name)
            text +=
                "\(sheet.title) — \(unit.name) (\(unit.id)); budget: \(cfg.budgetVersionsText)\n" + TextTable.render(sheet.textRows(sumMarker: true))
                + "\n"
        }
        let root = maps.units.root
        var frameTotals: [String: Int64] = [:]
        // The budget's result for the year is the frame the pipeline states (0 for a nämnd whose
        // kommunbidrag covers its net costs): a line lost or mistyped shows here.
        var dataErrors: [String] = []
        if !cfg.budgets.isEmpty, let resultLine = maps.lineByID[maps.resultLine] {
            let b = figures.lines(of: root, mappings: maps) { $0.budgetYear }[resultLine.id] ?? .zero
            frameTotals["root.budget_result_ore"] = b.value
            frameTotals["budget_result_frame_ore"] = cfg.budgetResult.value
            if b != cfg.budgetResult {
                dataErrors.append(
                    "budget: \(resultLine.name) of the budget \(fy) is \(b.swedish) kr, not the frame's \(cfg.budgetResult.swedish) kr (settings.budget_result_kr), a difference of \((b - cfg.budgetResult).swedish) kr; a budget line is missing, rejected or wrong — see 02-normalize/rejects.csv and 03-reconcile/exceptions.csv"
                )
            }
        }
        var outs = [try avv.commit(), try drift.commit()]
        if cfg.readsMoney {
            outs.append(
                try FileIO.writeText(
                    text, directory: dir, name: "drift.txt", banner: DataErrors.textBanner(DataErrors.upstream(context, before: name) + dataErrors)))
        }

        let rootActual = figures.lines(of: root, mappings: maps) { $0.actualThrough(12) }
        let baseSum = maps.reportLines.filter { !$0.isSum && $0.partOf == nil }.reduce(Ore.zero) { $0 + rootActual[$1.id]! }
        let gridTotal = figures.byUnit[root]?.values.reduce(Ore.zero) { $0 + $1.actual.reduce(.zero, +) } ?? .zero
        var totals: [String: Int64] = [
            "units": Int64(maps.units.units.count), "report_lines": Int64(maps.reportLines.count),
            "root.actual_ytd_ore": baseSum.value, "deviations_over_threshold": Int64(over),
        ]
        totals.merge(frameTotals) { $1 }
        let balances = [
            Balance("Σ base lines at the root (actual) = Σ actual_ore in actuals_vs_budget.csv", left: baseSum.value, right: gridTotal.value)
        ]
        let manifest = context.manifest(
            name, inputs: [grid.input], outputs: outs, totals: totals, balances: balances,
            notes: [
                "budget versions in force: \(cfg.budgetVersionsText)",
                "over_threshold: |avvikelse YTD| ≥ \(cfg.deviationThreshold.swedish) kr and |avvikelse %| ≥ \(Ore.formatPercent(cfg.deviationThresholdPercent)) % of |budget YTD|",
            ])
        var summary =
            cfg.readsMoney
            ? ["deviation: \(over) unit × line deviations over threshold; Drift tables in 04-deviation/drift.txt"]
            : ["deviation: the pipeline reads no ledger and no budget: no deviations, no Drift tables"]
        if let resultLine = maps.lineByID[maps.resultLine] {
            let r = actualYTD(root: root, figures: figures, maps: maps, m: m)[resultLine.id] ?? .zero
            summary.append("deviation: \(resultLine.name), \(maps.units.byID[root]?.name ?? root): \(Ore.formatWhole(r.tkr)) tkr")
        }
        var result = StageResult(manifest: manifest, summary: summary, dataErrors: dataErrors)
        result.deviationsOverThreshold = over
        return result
    }

    private func actualYTD(root: String, figures: Figures, maps: MappingTables, m: Int) -> [String: Ore] {
        figures.lines(of: root, mappings: maps) { $0.actualThrough(m) }
    }

    /// Basis points → percent with one decimal and a point, e.g. `-3.4` (machine form).
    static func percentText(_ bp: Int64) -> String {
        Ore.formatPercent(bp).replacingOccurrences(of: ",", with: ".")
    }
}

extension String {
    /// Sum lines are marked with "= " in the text tables, as committee documents set them in bold.
    func uppercasedFirstMarker() -> String { "= " + self }
}
