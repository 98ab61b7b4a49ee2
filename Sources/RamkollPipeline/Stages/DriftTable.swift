import RamkollModel

/// The Drift table (the annual report's "Drift") of one unit of the hierarchy, in öre, per report line:
///
/// - at the close: the year's budget, the outcome, their difference, last year's outcome and the
///   change from it;
/// - before December, a month report: budget and outcome to date and their difference, the year's
///   budget, and last year's outcome over the same months and the change from it — never the
///   year's budget against outcome to date. The report adds the year's forecast and its
///   difference from the year's budget beside the year's budget.
///
/// The committee's kommunbidrag (`committee_tables.kommunbidrag`): with `root` a unit below the
/// root shows only the lines within its net cost (kommunbidrag and finansnetto are the
/// committee's, and a unit has no result of its own); with `units` each unit gets a frame equal
/// to its budgeted net cost on the kommunbidrag line (for the outcome, the frame over the same
/// months), so its result is its deviation. Last year's frame per unit is not known: those cells
/// are empty.
///
/// Deviation writes it for every unit (drift.csv, drift.txt); the report sets the root's out as
/// the committee's table (title, labels, columns, hidden lines and unit from
/// `committee_tables.tables.drift`).
struct DriftTable {
    /// drift.csv's column keys (…_tkr) and their default Swedish labels.
    let columns: [(key: String, label: String)]
    var rows: [(line: ReportLine, cells: [Ore?])]

    static func columns(of cfg: PipelineConfig) -> [(key: String, label: String)] {
        let fy = cfg.fiscalYear, through = Swedish.shortMonth(cfg.asOf)
        return cfg.asOf.month == 12
            ? [
                ("budget_tkr", "Budget \(fy)"), ("actual_tkr", "Bokslut \(fy)"), ("deviation_tkr", "Avvikelse"),
                ("previous_year_tkr", "Bokslut \(fy - 1)"), ("diff_tkr", "Diff"),
            ]
            : [
                ("budget_ytd_tkr", "Budget t.o.m. \(through)"), ("actual_tkr", "Utfall t.o.m. \(through)"),
                ("deviation_tkr", "Avvikelse t.o.m. \(through)"), ("budget_tkr", "Budget helår \(fy)"),
                ("previous_year_tkr", "Utfall t.o.m. \(through) \(fy - 1)"), ("diff_tkr", "Diff mot \(fy - 1)"),
            ]
    }

    /// The net-cost line the unit tables show (the line with the role net_cost).
    static func netLine(_ maps: MappingTables) -> String { maps.netCostLine }

    /// Checks the kommunbidrag setting against the chart: the line must be a base line outside the net cost.
    static func validate(_ cfg: PipelineConfig, _ maps: MappingTables) throws {
        let s = cfg.committeeTables
        guard s.kommunbidragOnUnits else { return }
        let kb = s.kommunbidragLine
        guard let line = maps.lineByID[kb], !line.isSum, !maps.components(of: netLine(maps)).contains(kb) else {
            throw RamkollError(
                .config,
                "committee_tables: kommunbidrag_line \"\(kb)\" must be a report line that is not a sum and lies outside the net cost \(netLine(maps)) (kommunbidrag: units allocates it to the units)"
            )
        }
    }

    static func build(unit: String, figures: Figures, mappings maps: MappingTables, config cfg: PipelineConfig) -> DriftTable {
        let m = cfg.asOf.month, closing = m == 12
        let isRoot = unit == maps.units.root
        let net = netLine(maps)
        let inside = maps.components(of: net)
        let allocate = !isRoot && cfg.committeeTables.kommunbidragOnUnits
        let kb = cfg.committeeTables.kommunbidragLine
        // The unit's frame over the months of a measure: minus its budgeted net cost.
        func lines(_ measure: (Figures.Months) -> Ore, frame: ((Figures.Months) -> Ore)? = nil) -> [String: Ore] {
            guard allocate, let frame else { return figures.lines(of: unit, mappings: maps, measure) }
            let budgetNet = figures.lines(of: unit, mappings: maps, frame)[net] ?? .zero
            return figures.lines(of: unit, mappings: maps, measure, overriding: [kb: -budgetNet])
        }
        let budgetYear = lines({ $0.budgetYear }, frame: { $0.budgetYear })
        let budgetYTD = lines({ $0.budgetThrough(m) }, frame: { $0.budgetThrough(m) })
        let actualYTD = lines({ $0.actualThrough(m) }, frame: { $0.budgetThrough(m) })
        let previous = figures.lines(of: unit, mappings: maps) { $0.previousThrough(m) }
        var rows: [(line: ReportLine, cells: [Ore?])] = []
        for l in maps.reportLines {
            let parts = maps.components(of: l.id)
            // Root: a unit below the committee has no kommunbidrag, finansnetto or result of its own.
            if !isRoot && !cfg.committeeTables.kommunbidragOnUnits && !parts.isSubset(of: inside) { continue }
            let bY = budgetYear[l.id]!, bYTD = budgetYTD[l.id]!, aYTD = actualYTD[l.id]!
            // Units: last year's frame per unit is not known.
            let p: Ore? = allocate && parts.contains(kb) ? nil : previous[l.id]!
            let diff = p.map { aYTD - $0 }
            rows.append((l, closing ? [bY, aYTD, aYTD - bY, p, diff] : [bYTD, aYTD, aYTD - bYTD, bY, p, diff]))
        }
        return DriftTable(columns: columns(of: cfg), rows: rows)
    }

    /// The root's table as the committee's document sets it: the shape's title, labels, columns,
    /// hidden lines and unit (tkr by default); `extra` columns (the report's forecast) stand after
    /// the year's budget.
    func sheet(
        config cfg: PipelineConfig, rootName: String, extra: [(key: String, label: String, values: [String: Ore])] = []
    ) -> CommitteeTables.Sheet {
        let shape = cfg.committeeTables.shapes["drift"]
        var cols = columns.map { (key: $0.key, label: $0.label) }
        var cells = rows.map(\.cells)
        if !extra.isEmpty, let at = cols.firstIndex(where: { $0.key == "budget_tkr" }).map({ $0 + 1 }) {
            cols.insert(contentsOf: extra.map { ($0.key, $0.label) }, at: at)
            cells = zip(rows, cells).map { r, c in
                var c = c
                c.insert(contentsOf: extra.map { $0.values[r.line.id] }, at: at)
                return c
            }
        }
        let show = shape?.shown(cols.map(\.key)) ?? Array(cols.indices)
        let inMnkr = shape?.mnkr ?? false
        let label = { (key: String, def: String) in shape?.label(key, def, asOf: cfg.asOf, fiscalYear: cfg.fiscalYear) ?? def }
        let header = [label("corner", inMnkr ? "Belopp i mnkr" : "Belopp i tkr")] + show.map { label(cols[$0].key, cols[$0].label) }
        var sheet = CommitteeTables.Sheet(
            title: shape?.title ?? "Drift", header: header, rows: [], inMnkr: inMnkr, decimals: shape?.decimals ?? 1)
        let hidden = Set(shape?.hideLines ?? [])
        for (r, c) in zip(rows, cells) where !hidden.contains(r.line.id) {
            sheet.rows.append((r.line.name, r.line.isSum ? .sum : r.line.partOf != nil ? .varav : .normal, show.map { c[$0] }))
        }
        return sheet
    }
}

extension CommitteeTables.Sheet {
    /// The table as text: the header, then each row's label (varav rows set in by two spaces;
    /// `sumMarker` marks sum rows with "= " as drift.txt does) and its figures in the table's unit.
    func textRows(sumMarker: Bool = false) -> [[String]] {
        [header]
            + rows.map { r in
                [r.style == .sum && sumMarker ? r.label.uppercasedFirstMarker() : r.style == .varav ? "  " + r.label : r.label]
                    + r.values.map { $0.map { CommitteeTables.shown($0, mnkr: inMnkr, decimals: decimals) } ?? "" }
            }
    }
}
