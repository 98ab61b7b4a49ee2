import RamkollModel

/// The committee's tables by unit and by line, from the stages' outputs:
///
/// - `resultatbudget` (an activity plan's "Resultatbudget"): per report line, the full-year forecast (the
///   outcome at the close), the year's budget, avvikelse = forecast − budget, and next year's
///   budget from the plan;
/// - `resultatbudget_enheter` (the activity plan's "underliggande enheter"): the same for the row units'
///   net cost;
/// - `budget_verksamhet` (a budget document's): budget, forecast, next year's proposal and the change;
/// - `driftsammandrag` (an internal budget's): net cost per row unit with its "varav" rows, the residual line,
///   the committee's sum and, under it, "varav intäkter" and "varav kostnader", for the previous
///   year's outcome, the budget and every plan year.
///
/// The residual line ("Ofördelade kostnadsreduceringar") is, for a budget or plan column, what
/// makes the committee's result zero: −(result line of the whole committee), i.e. the frame
/// (kommunbidrag and finansnetto) less the net cost allocated to units. Outcome and forecast
/// columns have none. The sum row is Σ row units + residual, which for a budget column is minus
/// the financing; the manifest checks both identities. Figures are exact öre in `tables.json`;
/// the spreadsheets show tkr; the text shows tkr (as a budget document) or mnkr with one decimal (as an activity plan,
/// 004); every figure rounded once from its exact value.
enum CommitteeTables {
    struct Built {
        var tables: [ReportStage.Table] = []
        /// Per table: Swedish headers and tkr rows (sign as configured) for spreadsheets and XLSX.
        var presentation: [String: (header: [String], rows: [[String]])] = [:]
        var text = ""
        /// The tables as the text shows them (first row the header), with their sum rows, for HTML.
        var display: [(title: String, rows: [[String]], sums: Set<Int>)] = []
        var balances: [Balance] = []
        /// Per table, as the workbook shows it: title, header, rows (label, style, the shown
        /// values in öre) and whether its unit is mnkr (else tkr).
        var sheets: [String: Sheet] = [:]
        /// Sheets set out cell by cell (a table with percentages).
        var extraSheets: [XLSXWriter.Sheet] = []
        /// The row units of the unit tables.
        var rowUnits: [String] = []
    }

    struct Sheet {
        let title: String
        let header: [String]
        var rows: [(label: String, style: XLSXWriter.RowStyle, values: [Ore?])]
        let inMnkr: Bool
        /// Decimals of mnkr (0 or 1).
        var decimals = 1
    }

    /// A figure as the committee's table prints it: tkr whole, or mnkr with 0 or 1 decimal.
    static func shown(_ o: Ore, mnkr inMnkr: Bool, decimals: Int) -> String {
        guard inMnkr else { return Ore.formatWhole(o.tkr) }
        switch decimals {
        case 0: return Ore.formatWhole(o.rounded(toUnitsOf: 100_000_000))
        case 2:
            let h = o.rounded(toUnitsOf: 1_000_000), mag = h.magnitude
            return (h < 0 ? "-" : "") + Ore.formatWhole(Int64(mag / 100)) + "," + (mag % 100 < 10 ? "0" : "") + String(mag % 100)
        default: return mnkr(o)
        }
    }

    /// A figure as a workbook cell in the table's unit (rounded once from its öre).
    static func cell(_ o: Ore, mnkr inMnkr: Bool, decimals: Int) -> XLSXWriter.Cell {
        guard inMnkr else { return .integer(o.tkr) }
        switch decimals {
        case 0: return .integer(o.rounded(toUnitsOf: 100_000_000))
        case 2: return .mnkr2(o.rounded(toUnitsOf: 1_000_000))
        default: return .mnkr(o.rounded(toUnitsOf: 10_000_000))
        }
    }

    /// A column of figures: a measure per unit × report line (sums included).
    struct Column {
        let key: String  // machine column name, e.g. budget_ore, plan_2024_ore
        let label: String
        let hasResidual: Bool
        let value: (_ unit: String) -> [String: Ore]
    }

    static func mnkr(_ o: Ore) -> String {
        let tenths = o.rounded(toUnitsOf: 10_000_000)
        let mag = tenths.magnitude
        return (tenths < 0 ? "-" : "") + Ore.formatWhole(Int64(mag / 10)) + "," + String(mag % 10)
    }

    static func build(
        config cfg: PipelineConfig, mappings maps: MappingTables, figures: Figures, forecast: [String: [String: Ore]], plan: Plan
    ) throws -> Built {
        let fy = cfg.fiscalYear, m = cfg.asOf.month
        let settings = cfg.committeeTables
        let resultLine = maps.resultLine, netLine = maps.netCostLine
        let root = maps.units.root

        // Row units: they must partition the units without children.
        let rowUnits: [String] = {
            if !settings.units.isEmpty { return settings.units }
            let children = maps.units.units.filter { $0.parent == root }.map(\.id)
            return children.isEmpty ? [root] : children
        }()
        let parents = Set(maps.units.units.compactMap(\.parent))
        for u in rowUnits + settings.varav.flatMap(\.units) where maps.units.byID[u] == nil {
            throw RamkollError(.config, "committee_tables: unit \"\(u)\" is not in the unit hierarchy")
        }
        func rowUnit(of u: String) -> [String] { maps.units.path(to: u).filter { rowUnits.contains($0) } }
        for leaf in maps.units.units where !parents.contains(leaf.id) {
            let under = rowUnit(of: leaf.id)
            if under.count != 1 {
                throw RamkollError(
                    .config,
                    "committee_tables: unit \(leaf.id) lies under \(under.isEmpty ? "none" : under.joined(separator: " and ")) of the row units \(rowUnits.joined(separator: ", ")); every unit must lie under exactly one"
                )
            }
        }
        var varavUnder: [String: [PipelineConfig.CommitteeTablesSettings.Varav]] = [:]
        for v in settings.varav {
            let homes = Set(v.units.flatMap { rowUnit(of: $0) })
            guard homes.count == 1, let home = homes.first else {
                throw RamkollError(.config, "committee_tables: the units of varav row \"\(v.name)\" must all lie under one row unit")
            }
            for l in v.lines where maps.lineByID[l] == nil {
                throw RamkollError(.config, "committee_tables: varav row \"\(v.name)\": report line \"\(l)\" is not defined")
            }
            varavUnder[home, default: []].append(v)
        }

        // The columns every table draws from.
        let budget = Column(key: "budget_ore", label: "Budget \(fy)", hasResidual: true) { u in figures.lines(of: u, mappings: maps) { $0.budgetYear }
        }
        let closing = m == 12
        let forecastColumn = Column(
            key: "forecast_ore", label: closing ? "Bokslut \(fy)" : "Årsprognos \(cfg.asOf)", hasResidual: false
        ) { u in forecast[u] ?? [:] }
        let previous = Column(key: "actual_previous_year_ore", label: "Utfall \(fy - 1)", hasResidual: false) { u in
            figures.lines(of: u, mappings: maps) { $0.previousYear }
        }
        let planColumns = plan.years.map { y in
            Column(key: "plan_\(y)_ore", label: "Plan \(y)", hasResidual: true) { u in plan.lines(of: u, year: y, mappings: maps) }
        }
        let next = plan.years.contains(fy + 1) ? planColumns[plan.years.firstIndex(of: fy + 1)!] : nil

        var built = Built()
        built.rowUnits = rowUnits
        /// A table's configured label for a column (`corner` for the first header cell, `total`,
        /// `varav_revenue`, `varav_cost` for those rows), placeholders filled in; the default when none is set.
        func label(_ table: String, _ key: String, _ def: String) -> String {
            settings.shapes[table]?.label(key, def, asOf: cfg.asOf, fiscalYear: fy) ?? def
        }
        /// The unit word of a corner label follows the table's unit.
        func cornerLabel(_ table: String, _ def: String, mnkr: Bool) -> String {
            let unitWord =
                def.hasSuffix(", mnkr") || def.hasSuffix(", tkr")
                ? def.components(separatedBy: ", ").dropLast().joined(separator: ", ") + (mnkr ? ", mnkr" : ", tkr") : def
            return label(table, "corner", unitWord)
        }
        func residual(_ c: Column) -> Ore? { c.hasResidual ? -(c.value(root)[resultLine] ?? .zero) : nil }
        func value(_ c: Column, _ u: String, _ l: String) -> Ore { c.value(u)[l] ?? .zero }

        /// One unit table: row units (and their varav rows), residual, sum; extra rows appended.
        func unitTable(
            name: String, title: String, corner: String, columns: [Column], derived: [(key: String, label: String, of: ([Ore?]) -> Ore?)] = [],
            derivedAt: Int? = nil,
            withVarav: Bool, grossRows: Bool, inMnkr defaultMnkr: Bool, netCostSign: Bool
        ) {
            let shape = settings.shapes[name]
            let inMnkr = shape?.mnkr ?? defaultMnkr, decimals = shape?.decimals ?? 1
            let title = shape?.title ?? title
            let sign: Int64 = netCostSign && settings.netCostPositive ? -1 : 1
            var machine: [[String]] = []
            var present: [[String]] = []
            // Derived columns (a difference) stand after the columns they come from, before any later ones.
            let at = derivedAt ?? columns.count
            func ordered<T>(_ c: [T], _ d: [T]) -> [T] { Array(c[..<at]) + d + Array(c[at...]) }
            let columnLabels = ordered(columns.map { label(name, $0.key, $0.label) }, derived.map { label(name, $0.key, $0.label) })
            // The columns shown (text, workbook, HTML); the machine table and the spreadsheet keep all.
            let show = shape?.shown(ordered(columns.map(\.key), derived.map(\.key))) ?? Array(columnLabels.indices)
            var text: [[String]] = [[cornerLabel(name, corner, mnkr: inMnkr)] + show.map { columnLabels[$0] }]
            var sheet = Sheet(title: title, header: text[0], rows: [], inMnkr: inMnkr, decimals: decimals)
            func add(kind: String, id: String, label: String, _ values: [Ore?], italic: Bool = false) {
                let all = ordered(values, derived.map { $0.of(values) })
                // The residual row shows only the columns that have one (an empty cell, not 0,0).
                let shown: [Ore?] = all.map { o in o.map { Ore($0.value * sign) } }.map { kind == "residual" && $0 == .zero ? nil : $0 }
                machine.append([kind, id, label] + all.map { o in o.map { String($0.value) } ?? "" })
                present.append([label] + shown.map { o in o.map { String($0.tkr) } ?? "" })
                let cells: [String] = shown.map { o -> String in
                    guard let o else { return "" }
                    return CommitteeTables.shown(o, mnkr: inMnkr, decimals: decimals)
                }
                text.append([(italic ? "  " : "") + label] + show.map { cells[$0] })
                sheet.rows.append((label, kind == "total" ? .sum : kind.hasPrefix("varav") ? .varav : .normal, show.map { shown[$0] }))
            }
            for u in rowUnits {
                add(kind: "unit", id: u, label: maps.units.byID[u]?.name ?? u, columns.map { value($0, u, netLine) })
                if withVarav {
                    for v in varavUnder[u] ?? [] {
                        let lines = v.lines.isEmpty ? [netLine] : v.lines
                        add(
                            kind: "varav", id: v.units.joined(separator: "+"), label: v.name,
                            columns.map { c in v.units.reduce(Ore.zero) { acc, vu in lines.reduce(acc) { $0 + value(c, vu, $1) } } }, italic: true)
                    }
                }
            }
            let residuals = columns.map(residual)
            if residuals.contains(where: { ($0 ?? .zero) != .zero }) {
                add(kind: "residual", id: "", label: settings.residualName, residuals)
            }
            let sums = columns.indices.map { i -> Ore? in
                rowUnits.reduce(Ore.zero) { $0 + value(columns[i], $1, netLine) } + (residuals[i] ?? .zero)
            }
            add(kind: "total", id: root, label: label(name, "total", "Summa \(maps.units.byID[root]?.name ?? root)"), sums)
            if grossRows, let costsLine = maps.costsLine {
                // Gross: the committee's costs (the cost sum line) and revenue (net − costs).
                add(
                    kind: "varav-revenue", id: "", label: label(name, "varav_revenue", "varav intäkter"),
                    columns.map { value($0, root, netLine) - value($0, root, costsLine) }, italic: true)
                add(
                    kind: "varav-cost", id: "", label: label(name, "varav_cost", "varav kostnader"), columns.map { value($0, root, costsLine) },
                    italic: true)
            }
            // Identities: the row units partition the committee; a budget column's sum is minus its financing.
            for c in columns {
                let partition = rowUnits.reduce(Ore.zero) { $0 + value(c, $1, netLine) }
                built.balances.append(
                    Balance("\(name) \(c.key): Σ row units = \(netLine) of \(root)", left: partition.value, right: value(c, root, netLine).value))
                if c.hasResidual {
                    let total = partition + (residual(c) ?? .zero)
                    let financing = value(c, root, resultLine) - value(c, root, netLine)
                    built.balances.append(Balance("\(name) \(c.key): sum row = −financing (frame)", left: total.value, right: (-financing).value))
                }
            }
            built.tables.append(
                ReportStage.Table(name: name, columns: ["kind", "id", "name"] + ordered(columns.map(\.key), derived.map(\.key)), rows: machine))
            built.presentation[name] = (
                [corner.replacingOccurrences(of: "mnkr", with: "tkr")]
                    + ordered(columns.map { label(name, $0.key, $0.label) + " (tkr)" }, derived.map { label(name, $0.key, $0.label) + " (tkr)" }),
                present
            )
            built.text += title + "\n" + TextTable.render(text) + "\n"
            built.display.append((title, text, Set(machine.enumerated().filter { $0.element[0] == "total" }.map(\.offset))))
            built.sheets[name] = sheet
        }

        // Resultatbudget, per line.
        do {
            let name = "resultatbudget", shape = settings.shapes[name]
            let inMnkr = shape?.mnkr ?? true, decimals = shape?.decimals ?? 1
            let hidden = Set(shape?.hideLines ?? [])
            if let unknown = hidden.subtracting(maps.lineByID.keys).sorted().first {
                throw RamkollError(
                    .config, "committee_tables: tables: resultatbudget: hide_lines names \"\(unknown)\", which is not a report line of the pipeline")
            }
            var keys = ["forecast_ore", "budget_ore", "deviation_ore"]
            var header = [
                cornerLabel(name, "Intäkter och kostnader, mnkr", mnkr: inMnkr), label(name, "forecast_ore", forecastColumn.label),
                label(name, "budget_ore", "Budget helår \(fy)"), label(name, "deviation_ore", "Avvikelse"),
            ]
            if let next {
                keys.append("budget_next_year_ore"); header.append(label(name, "budget_next_year_ore", "Budget \(fy + 1)"))
            }
            let show = shape?.shown(keys) ?? Array(keys.indices)
            var machine: [[String]] = [], present: [[String]] = [], text = [[header[0]] + show.map { header[$0 + 1] }]
            var sheet = Sheet(title: shape?.title ?? "Resultatbudget", header: text[0], rows: [], inMnkr: inMnkr, decimals: decimals)
            var sums = Set<Int>()
            for l in maps.reportLines {
                let f = value(forecastColumn, root, l.id), b = value(budget, root, l.id)
                var vals = [f, b, f - b]
                if let next { vals.append(value(next, root, l.id)) }
                let shownLabel = l.partOf != nil ? "  " + l.name : l.name
                machine.append([l.id, l.name] + vals.map { String($0.value) })
                // A line hidden from this table stays in the machine table (tables.json) only.
                guard !hidden.contains(l.id) else { continue }
                if l.isSum { sums.insert(present.count) }
                present.append([shownLabel] + vals.map { String($0.tkr) })
                text.append([shownLabel] + show.map { CommitteeTables.shown(vals[$0], mnkr: inMnkr, decimals: decimals) })
                sheet.rows.append((l.name, l.isSum ? .sum : l.partOf != nil ? .varav : .normal, show.map { vals[$0] }))
            }
            built.sheets[name] = sheet
            built.tables.append(ReportStage.Table(name: name, columns: ["line", "line_name"] + keys, rows: machine))
            built.presentation[name] = ([label(name, "corner", "Intäkter och kostnader")] + header.dropFirst().map { $0 + " (tkr)" }, present)
            built.display.append((shape?.title ?? "Resultatbudget", text, sums))
            built.text +=
                "\(shape?.title ?? "Resultatbudget") — \(maps.units.byID[root]?.name ?? root) (resultaträkningens tecken: intäkter positiva, kostnader negativa)\n"
                + TextTable.render(text) + "\n"
        }
        let deviation: (key: String, label: String, of: ([Ore?]) -> Ore?) = (
            "deviation_ore", "Avvikelse", { v in v[0].flatMap { f in v[1].map { f - $0 } } }
        )
        // Resultatbudget, per unit.
        unitTable(
            name: "resultatbudget_enheter", title: "Driftbudget underliggande enheter", corner: "Underliggande enheter, mnkr",
            columns: [forecastColumn, budget]
                + (next.map { [Column(key: "budget_next_year_ore", label: "Budget \(fy + 1)", hasResidual: true, value: $0.value)] } ?? []),
            derived: [deviation], derivedAt: 2, withVarav: false, grossRows: false, inMnkr: true, netCostSign: false)
        // Budget per verksamhet; with next year's proposal and the change when planned.
        if let next {
            let change: (key: String, label: String, of: ([Ore?]) -> Ore?) = (
                "change_ore", "Förändring", { v in v[2].flatMap { n in v[0].map { n - $0 } } }
            )
            let proposal = Column(key: next.key, label: "Förslag budget \(fy + 1)", hasResidual: true, value: next.value)
            unitTable(
                name: "budget_verksamhet", title: "Budget per verksamhet", corner: "Verksamhet, tkr",
                columns: [budget, forecastColumn, proposal], derived: [change], withVarav: false, grossRows: false, inMnkr: false, netCostSign: true)
        } else {
            unitTable(
                name: "budget_verksamhet", title: "Budget per verksamhet", corner: "Verksamhet, tkr", columns: [budget, forecastColumn],
                withVarav: false, grossRows: false, inMnkr: false, netCostSign: true)
        }
        // Driftsammandrag.
        unitTable(
            name: "driftsammandrag", title: "Driftsammandrag",
            corner: "\(settings.netCostPositive ? "Nettokostnad" : "Nettokostnader (resultaträkningens tecken)"), mnkr",
            columns: [previous, budget] + planColumns, withVarav: true, grossRows: true, inMnkr: true, netCostSign: true)
        // The multi-year frame by report line (a budget document's "Ekonomiska ramar"): the
        // previous year's budget when the budget gives it, the year's budget and every plan year.
        do {
            let name = "ekonomiska_ramar", shape = settings.shapes[name]
            let inMnkr = shape?.mnkr ?? false, decimals = shape?.decimals ?? (inMnkr ? 1 : 0)
            let hidden = Set(shape?.hideLines ?? [])
            if let unknown = hidden.subtracting(maps.lineByID.keys).sorted().first {
                throw RamkollError(
                    .config, "committee_tables: tables: ekonomiska_ramar: hide_lines names \"\(unknown)\", which is not a report line of the pipeline"
                )
            }
            var columns: [Column] = []
            if plan.hasPreviousBudget {
                columns.append(
                    Column(key: "budget_previous_year_ore", label: "Budget \(fy - 1)", hasResidual: false) { u in
                        plan.lines(of: u, year: fy - 1, mappings: maps)
                    })
            }
            columns += [budget] + planColumns
            let keys = columns.map(\.key)
            let show = shape?.shown(keys) ?? Array(keys.indices)
            let header =
                [cornerLabel(name, "Belopp i tkr", mnkr: inMnkr).replacingOccurrences(of: "i tkr", with: inMnkr ? "i mnkr" : "i tkr")]
                + show.map { label(name, keys[$0], columns[$0].label) }
            var sheet = Sheet(title: shape?.title ?? "Ekonomiska ramar", header: header, rows: [], inMnkr: inMnkr, decimals: decimals)
            var machine: [[String]] = []
            for l in maps.reportLines {
                let vals = columns.map { value($0, root, l.id) }
                machine.append([l.id, l.name] + vals.map { String($0.value) })
                guard !hidden.contains(l.id) else { continue }
                sheet.rows.append((l.name, l.isSum ? .sum : l.partOf != nil ? .varav : .normal, show.map { vals[$0] }))
            }
            built.sheets[name] = sheet
            built.tables.append(ReportStage.Table(name: name, columns: ["line", "line_name"] + keys, rows: machine))
            built.presentation[name] = (
                ["Belopp"] + columns.map { label(name, $0.key, $0.label) + " (tkr)" },
                machine.map { r in [r[1]] + r[2...].map { String(Ore(Int64($0)!).tkr) } }
            )
            let text = sheet.textRows()
            built.display.append((sheet.title, text, Set(sheet.rows.enumerated().filter { $0.element.style == .sum }.map(\.offset))))
            built.text += "\(sheet.title) — \(maps.units.byID[root]?.name ?? root)\n" + TextTable.render(text) + "\n"
        }
        return built
    }
}
