import RamkollModel

/// The committee's investment tables, from `03-reconcile/investments.csv` (budget, outcome,
/// forecast and last year's outcome per row) and `02-normalize/investment_budget.csv` (the plan
/// years and the projects). Amounts are expenditure positive; a deviation is budget − outcome (or
/// − forecast before the close), so a positive figure is money left, as the Drift table's
/// positive deviation is a surplus.
///
/// - `investeringar` (an annual report's "Investeringar"): per category and its sub-rows, at the
///   close Budget, Bokslut, Avvikelse, last year's Bokslut and Diff; before it the year's budget,
///   outcome to date, the year's forecast, its deviation, last year to date and the change;
/// - `investeringsbudget` (a budget's "Investeringsbudget"): the budget and every plan year;
/// - `investeringar_netto` (a plan's "Investeringar netto"): per category, the sum and varav
///   inkomster / varav utgifter, for the budget and plan years;
/// - `investeringsprojekt` (the decided projects, "Nyinvesteringar"): per project, its amounts;
/// - `genomforandegrad`: outcome (forecast before the close) ÷ budget, per category and in all.
enum InvestmentTables {
    static let names = ["investeringar", "investeringsbudget", "investeringar_netto", "investeringsprojekt", "genomforandegrad"]
    static let columnKeys: Set = [
        "budget_ore", "actual_ore", "forecast_ore", "deviation_ore", "actual_previous_year_ore", "diff_ore", "completion_pct",
    ]

    struct Row {
        let kind: String, id: String, label: String
        let style: XLSXWriter.RowStyle
        var values: [Ore?]
    }

    static func build(config cfg: PipelineConfig, map: InvestmentMap, investments: String, budget: String?) throws -> CommitteeTables.Built {
        let fy = cfg.fiscalYear, closing = cfg.asOf.month == 12, through = Swedish.shortMonth(cfg.asOf)
        let settings = cfg.committeeTables
        // Per row: the figures of investments.csv.
        var figures: [String: [String: Ore]] = [:]
        var manual: [String] = []
        try TableReader(path: investments, required: InvestmentBook.header).forEach { row in
            if row["forecast_method"] == "manual" {
                manual.append(
                    "* \(row["line_name"]): manuell prognos \(Ore.formatWhole(Ore(try row.int("forecast_ore")).tkr)) tkr — \(row["manual_comment"]) (\(row["manual_author"]))"
                )
            }
            var f: [String: Ore] = [:]
            for k in ["budget_ore", "actual_ore", "forecast_ore", "previous_year_ore", "previous_ytd_ore"] { f[k] = Ore(try row.int(k)) }
            figures[row["line"]] = f
        }
        let plan = try InvestmentBook.Budget.load(budget, fiscalYear: fy)
        let years = plan.plan.keys.sorted()

        // Labels that are neither a column nor a row: a configuration error naming them.
        for name in names {
            let rowKeys = Set(map.lines.map(\.id)).union(["total", "varav_revenue", "varav_cost", "corner"])
            if let bad = settings.shapes[name]?.labels.keys.sorted().first(where: {
                !columnKeys.contains($0) && !rowKeys.contains($0) && !($0.hasPrefix("plan_") && $0.hasSuffix("_ore")) && $0 != "budget_next_year_ore"
            }) {
                throw RamkollError(
                    .config,
                    "committee_tables: tables: \(name): labels names \"\(bad)\", which is neither a column (\(columnKeys.sorted().joined(separator: ", ")), plan_YYYY_ore) nor an investment row"
                )
            }
            if let bad = settings.shapes[name]?.hideLines.first(where: { map.byID[$0] == nil }) {
                throw RamkollError(.config, "committee_tables: tables: \(name): hide_lines names \"\(bad)\", which is not an investment row")
            }
        }

        /// A row's measure: a leaf's own figure, a category's the sum of its sub-rows.
        func value(_ l: InvestmentMap.Line, _ f: ([String: Ore]) -> Ore) -> Ore {
            let subs = map.subRows(of: l.id)
            return (subs.isEmpty ? [l] : subs).reduce(Ore.zero) { $0 + f(figures[$1.id] ?? [:]) }
        }
        func planValue(_ l: InvestmentMap.Line, _ year: Int) -> Ore {
            let subs = map.subRows(of: l.id)
            return (subs.isEmpty ? [l] : subs).reduce(Ore.zero) { $0 + (plan.plan[year]?[$1.id] ?? .zero) }
        }
        let leaves = map.leaves
        func total(_ f: ([String: Ore]) -> Ore, income: Bool? = nil) -> Ore {
            leaves.filter { income == nil || $0.income == income }.reduce(Ore.zero) { $0 + f(figures[$1.id] ?? [:]) }
        }
        func planTotal(_ year: Int, income: Bool? = nil) -> Ore {
            leaves.filter { income == nil || $0.income == income }.reduce(Ore.zero) { $0 + (plan.plan[year]?[$1.id] ?? .zero) }
        }
        let totalLabel = map.hasIncome ? "Summa investeringar, netto" : "Totala utgifter"

        var built = CommitteeTables.Built()
        /// Sets a table out as its shape says and adds it to the text, the workbook, the HTML and tables.json.
        func add(_ name: String, title: String, corner: String, columns: [(key: String, label: String)], rows: [Row], defaultMnkr: Bool = false) {
            let shape = settings.shapes[name]
            let inMnkr = shape?.mnkr ?? defaultMnkr, decimals = shape?.decimals ?? (inMnkr ? 1 : 0)
            let label = { (key: String, def: String) in shape?.label(key, def, asOf: cfg.asOf, fiscalYear: fy) ?? def }
            let show = shape?.shown(columns.map(\.key)) ?? Array(columns.indices)
            let hidden = Set(shape?.hideLines ?? [])
            let unitWord = inMnkr ? "mnkr" : "tkr"
            var sheet = CommitteeTables.Sheet(
                title: shape?.title ?? title, header: [label("corner", corner + unitWord)] + show.map { label(columns[$0].key, columns[$0].label) },
                rows: [], inMnkr: inMnkr, decimals: decimals)
            // A project without an amount in any column shown is not a row of this table.
            for r in rows where !hidden.contains(r.id) && !(r.kind == "project" && show.allSatisfy { r.values[$0] == nil }) {
                sheet.rows.append((label(r.kind == "line" ? r.id : r.kind, r.label), r.style, show.map { r.values[$0] }))
            }
            built.tables.append(
                ReportStage.Table(
                    name: name, columns: ["kind", "id", "name"] + columns.map(\.key),
                    rows: rows.map { [$0.kind, $0.id, $0.label] + $0.values.map { $0.map { String($0.value) } ?? "" } }))
            built.sheets[name] = sheet
            let text = sheet.textRows()
            built.text += sheet.title + "\n" + TextTable.render(text) + "\n"
            built.display.append((sheet.title, text, Set(sheet.rows.enumerated().filter { $0.element.style == .sum }.map(\.offset))))
        }
        /// The rows by category: each category (bold), its sub-rows, then the total.
        func rowsByCategory(_ values: (InvestmentMap.Line) -> [Ore?], total totals: [Ore?], subRows: Bool = true, varav: [[Ore?]]? = nil)
            -> [Row]
        {
            var out: [Row] = []
            for c in map.categories {
                let subs = map.subRows(of: c.id)
                out.append(Row(kind: "line", id: c.id, label: c.name, style: subRows ? .sum : .normal, values: values(c)))
                if subRows { for s in subs { out.append(Row(kind: "line", id: s.id, label: s.name, style: .normal, values: values(s))) } }
            }
            out.append(Row(kind: "total", id: "", label: totalLabel, style: .sum, values: totals))
            if let varav {
                out.append(Row(kind: "varav_revenue", id: "", label: "varav inkomster", style: .varav, values: varav[0]))
                out.append(Row(kind: "varav_cost", id: "", label: "varav utgifter", style: .varav, values: varav[1]))
            }
            return out
        }

        // Investeringar: budget against outcome (or forecast), last year beside.
        do {
            let prevKey = closing ? "previous_year_ore" : "previous_ytd_ore"
            func cells(_ get: (([String: Ore]) -> Ore) -> Ore) -> [Ore?] {
                let b = get { $0["budget_ore"] ?? .zero }, a = get { $0["actual_ore"] ?? .zero }
                let f = get { $0["forecast_ore"] ?? .zero }, p = get { $0[prevKey] ?? .zero }
                return closing ? [b, a, b - a, p, a - p] : [b, a, f, b - f, p, a - p]
            }
            let columns: [(key: String, label: String)] =
                closing
                ? [
                    ("budget_ore", "Budget \(fy)"), ("actual_ore", "Bokslut \(fy)"), ("deviation_ore", "Avvikelse"),
                    ("actual_previous_year_ore", "Bokslut \(fy - 1)"), ("diff_ore", "Diff"),
                ]
                : [
                    ("budget_ore", "Budget helår \(fy)"), ("actual_ore", "Utfall t.o.m. \(through)"), ("forecast_ore", "Prognos helår \(fy)"),
                    ("deviation_ore", "Avvikelse"), ("actual_previous_year_ore", "Utfall t.o.m. \(through) \(fy - 1)"), ("diff_ore", "Diff"),
                ]
            add(
                "investeringar", title: "Investeringar", corner: "Belopp i ", columns: columns,
                rows: rowsByCategory(
                    { l in cells { f in value(l, f) } }, total: cells { f in total(f) },
                    varav: map.hasIncome ? [cells { f in total(f, income: true) }, cells { f in total(f, income: false) }] : nil))
        }
        if !manual.isEmpty {
            // The controller's figures, named under the table (the text ends each table with a blank line).
            built.text = String(built.text.dropLast()) + manual.joined(separator: "\n") + "\n\n"
        }
        // Investeringsbudget and Investeringar netto: the budget and the plan years.
        let planColumns = [("budget_ore", "Budget \(fy)")] + years.map { ("plan_\($0)_ore", "Plan \($0)") }
        func planCells(_ l: InvestmentMap.Line) -> [Ore?] { [value(l) { $0["budget_ore"] ?? .zero }] + years.map { planValue(l, $0) } }
        func planTotals(income: Bool? = nil) -> [Ore?] {
            [total({ $0["budget_ore"] ?? .zero }, income: income)] + years.map { planTotal($0, income: income) }
        }
        add(
            "investeringsbudget", title: "Investeringsbudget", corner: "Belopp i ", columns: planColumns,
            rows: rowsByCategory(planCells, total: planTotals(), varav: map.hasIncome ? [planTotals(income: true), planTotals(income: false)] : nil))
        add(
            "investeringar_netto", title: "Investeringar netto", corner: "Investeringar netto, belopp ", columns: planColumns,
            rows: rowsByCategory(planCells, total: planTotals(), subRows: false, varav: [planTotals(income: true), planTotals(income: false)]))
        // The decided projects.
        add(
            "investeringsprojekt", title: "Investeringsprojekt", corner: "Projekt, ", columns: planColumns,
            rows: plan.projects.map { p in
                Row(kind: "project", id: p.line, label: p.name, style: .normal, values: ([fy] + years).map { p.amounts[$0] })
            })

        // Genomförandegrad: outcome (forecast before the close) ÷ budget, per category and in all.
        do {
            let name = "genomforandegrad", shape = settings.shapes[name]
            let measure = closing ? "actual_ore" : "forecast_ore"
            let label = { (key: String, def: String) in shape?.label(key, def, asOf: cfg.asOf, fiscalYear: fy) ?? def }
            let columns = [
                ("budget_ore", "Budget \(fy)"), (measure, closing ? "Bokslut \(fy)" : "Prognos helår \(fy)"),
                ("completion_pct", "Genomförandegrad, %"),
            ]
            let decimals = shape?.decimals ?? 0
            var machine: [[String]] = [], text: [[String]] = [[label("corner", "Genomförandegrad")] + columns.map { label($0.0, $0.1) }]
            var cellsRows: [[XLSXWriter.Cell]] = [], styles: [XLSXWriter.RowStyle] = []
            let entries: [(kind: String, id: String, label: String, b: Ore, o: Ore)] =
                map.categories.map { c in ("line", c.id, c.name, value(c) { $0["budget_ore"] ?? .zero }, value(c) { $0[measure] ?? .zero }) }
                + [("total", "", label("total", totalLabel), total { $0["budget_ore"] ?? .zero }, total { $0[measure] ?? .zero })]
            for e in entries where !(shape?.hideLines ?? []).contains(e.id) {
                let bp = e.b == .zero ? nil : Ore.basisPoints(e.o, of: e.b)
                // Whole percent (rounded once, half away from zero), or one decimal.
                let whole = bp.map { ($0 + ($0 < 0 ? -50 : 50)) / 100 }
                let shownPct = decimals == 0 ? whole.map { String($0) } : bp.map(Ore.formatPercent)
                machine.append([e.kind, e.id, e.label, String(e.b.value), String(e.o.value), bp.map { String($0) } ?? ""])
                let lbl = e.kind == "line" ? label(e.id, e.label) : e.label
                text.append([lbl, Ore.formatWhole(e.b.tkr), Ore.formatWhole(e.o.tkr), shownPct ?? ""])
                let pctCell: XLSXWriter.Cell =
                    decimals == 0
                    ? whole.map { .plain($0) } ?? .text("") : shownPct.map { .decimal($0.replacingOccurrences(of: ",", with: ".")) } ?? .text("")
                cellsRows.append([.text(lbl), .integer(e.b.tkr), .integer(e.o.tkr), pctCell])
                styles.append(e.kind == "total" ? .sum : .normal)
            }
            built.tables.append(
                ReportStage.Table(name: name, columns: ["kind", "id", "name", "budget_ore", measure, "completion_bp"], rows: machine))
            let title = shape?.title ?? "Genomförandegrad investeringar"
            built.text += title + "\n" + TextTable.render(text) + "\n"
            built.display.append((title, text, Set(styles.enumerated().filter { $0.element == .sum }.map(\.offset))))
            built.extraSheets.append(XLSXWriter.Sheet(name: "Genomförandegrad", header: text[0], rows: cellsRows, title: title, styles: styles))
        }
        return built
    }
}
