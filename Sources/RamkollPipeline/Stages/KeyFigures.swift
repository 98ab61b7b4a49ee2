import RamkollModel

/// The committee's key figures (nyckeltal) from what the run already holds, each a small table in
/// `tabeller.txt`, the workbook's sheet "Nyckeltal", the HTML and `tables.json`:
///
/// - budgetföljsamhet: per row unit and in all, the year's budget, the forecast (the outcome at
///   the close) and their deviation as a share of the budget (net cost, report sign: a positive
///   deviation is a surplus);
/// - households with paid aid per month, per year the payments extract covers, with the
///   committee's target (`key_figures.households_target`);
/// - the share of net cost in open care (`key_figures.open_care_units`), last year and this year
///   to date;
/// - consultant-supported family homes in relation to fee-based ones (`key_figures.family_homes`):
///   placements in care during the year to date, by form of care.
enum KeyFigures {
    struct Built {
        var tables: [ReportStage.Table] = []
        var presented: [PresentedTable] = []
        var text = ""
    }

    /// A share in percent with one decimal ("−3,4"), or empty when the whole is zero.
    static func percent(_ part: Int64, of whole: Int64) -> String {
        Ore.basisPoints(Ore(part), of: Ore(whole)).map(Ore.formatPercent) ?? ""
    }

    static func build(
        config cfg: PipelineConfig, mappings maps: MappingTables, figures: Figures, forecast: [String: [String: Ore]], rowUnits: [String],
        assistancePath: String?, placementsPath: String
    ) throws -> Built {
        let fy = cfg.fiscalYear, closing = cfg.asOf.month == 12, m = cfg.asOf.month
        let settings = cfg.keyFigures
        let net = DriftTable.netLine(maps), root = maps.units.root
        var built = Built()
        func add(_ name: String, _ title: String, columns: [String], machine: [[String]], shown: [[String]]) {
            built.tables.append(ReportStage.Table(name: name, columns: columns, rows: machine))
            built.presented.append(PresentedTable(title: title, rows: shown))
            built.text += title + "\n" + TextTable.render(shown) + "\n"
        }

        // Budgetföljsamhet.
        do {
            var machine: [[String]] = [],
                shown: [[String]] = [
                    [
                        "Verksamhet", "Budget \(fy) (tkr)", closing ? "Bokslut \(fy) (tkr)" : "Prognos \(fy) (tkr)", "Avvikelse (tkr)",
                        "Budgetföljsamhet, %",
                    ]
                ]
            for u in rowUnits + [root] {
                let b = figures.lines(of: u, mappings: maps) { $0.budgetYear }[net] ?? .zero
                let f = forecast[u]?[net] ?? .zero
                let d = f - b
                let name = u == root ? "Summa \(maps.units.byID[root]?.name ?? root)" : maps.units.byID[u]?.name ?? u
                machine.append([
                    u, name, String(b.value), String(f.value), String(d.value),
                    Ore.basisPoints(d, of: Ore(Int64(b.value.magnitude))).map(String.init) ?? "",
                ])
                shown.append([
                    name, Ore.formatWhole(b.tkr), Ore.formatWhole(f.tkr), Ore.formatWhole(d.tkr), percent(d.value, of: Int64(b.value.magnitude)),
                ])
            }
            add(
                "nyckeltal_budgetfoljsamhet", "Budgetföljsamhet: avvikelse mot budget i procent av budget (nettokostnad, överskott +)",
                columns: ["unit", "unit_name", "budget_ore", closing ? "actual_ore" : "forecast_ore", "deviation_ore", "deviation_bp"],
                machine: machine,
                shown: shown)
        }

        // Households with paid aid per month, per year.
        if let assistancePath {
            var byMonth: [Int: [Int: Int64]] = [:]  // year → month → households (summed over units)
            try TableReader(path: assistancePath, required: ["period", "households"]).forEach { row in
                let p = try row.period("period")
                byMonth[p.year, default: [:]][p.month, default: 0] += try row.int("households")
            }
            var machine: [[String]] = []
            var shown: [[String]] = [["År"] + BudgetReader.months.map { $0.capitalized } + ["Snitt", "Mål"]]
            for y in byMonth.keys.sorted() where y <= fy {
                let months = (1...12).map { mo -> Int64? in y == fy && mo > m ? nil : byMonth[y]?[mo] }
                let known = months.compactMap { $0 }
                let mean = known.isEmpty ? nil : Ore.divideRoundingHalfAwayFromZero(known.reduce(0, +), by: Int64(known.count))
                let target = y == fy ? settings.householdsTarget : nil
                machine.append([String(y)] + months.map { $0.map(String.init) ?? "" } + [mean.map(String.init) ?? "", target.map(String.init) ?? ""])
                shown.append(
                    [String(y)] + months.map { $0.map { Ore.formatWhole($0) } ?? "" } + [
                        mean.map { Ore.formatWhole($0) } ?? "", target.map { Ore.formatWhole($0) } ?? "",
                    ])
            }
            add(
                "nyckeltal_hushall", "Antal hushåll med utbetalt ekonomiskt bistånd per månad",
                columns: ["year"] + BudgetReader.months + ["mean", "target"], machine: machine, shown: shown)
        }

        // Share of net cost in open care.
        if !settings.openCareUnits.isEmpty {
            for u in settings.openCareUnits where maps.units.byID[u] == nil {
                throw RamkollError(.config, "key_figures: open_care_units names \"\(u)\", which is not in the unit hierarchy")
            }
            let rows: [(String, (Figures.Months) -> Ore)] = [
                ("\(fy - 1)", { $0.previousYear }), (closing ? "\(fy)" : "\(fy) t.o.m. \(cfg.asOf)", { $0.actualThrough(m) }),
            ]
            var machine: [[String]] = [], shown: [[String]] = [["År", "Öppenvård (tkr)", "Nettokostnad totalt (tkr)", "Andel öppenvård, %"]]
            for (label, measure) in rows {
                let open = settings.openCareUnits.reduce(Ore.zero) { $0 - (figures.lines(of: $1, mappings: maps, measure)[net] ?? .zero) }
                let total = -(figures.lines(of: root, mappings: maps, measure)[net] ?? .zero)
                machine.append([label, String(open.value), String(total.value), Ore.basisPoints(open, of: total).map(String.init) ?? ""])
                shown.append([label, Ore.formatWhole(open.tkr), Ore.formatWhole(total.tkr), percent(open.value, of: total.value)])
            }
            add(
                "nyckeltal_oppenvard", "Andel av nettokostnaden i öppenvård",
                columns: ["period", "open_care_ore", "net_cost_ore", "share_bp"], machine: machine, shown: shown)
        }

        // Consultant-supported family homes in relation to fee-based ones.
        if let homes = settings.familyHomes {
            // One row per placement in placements.csv: counted, not held.
            var c: Int64 = 0, f: Int64 = 0
            let from = Day(year: fy, month: 1, day: 1)!, to = cfg.asOf.lastDay
            // A previous year's extract repeats this year's open placements: only the current extracts count.
            let previousSources = Set(cfg.sources.filter(\.previousYear).map(\.id))
            try TableReader(path: placementsPath, required: ["source", "placement_id", "form_of_care", "start", "end"]).forEach { row in
                guard !previousSources.contains(row["source"]), let start = Day(iso: row["start"]), start <= to,
                    (Day(iso: row["end"]).map { $0 >= from } ?? true)
                else { return }
                let form = row["form_of_care"]
                if homes.consultant.contains(form) { c += 1 }
                if homes.feeBased.contains(form) { f += 1 }
            }
            let label = closing ? "\(fy)" : "\(fy) t.o.m. \(cfg.asOf)"
            add(
                "nyckeltal_familjehem", "Konsulentstödda familjehem i relation till arvoderade familjehem (placeringar under året)",
                columns: ["period", "consultant_supported", "fee_based", "ratio_bp"],
                machine: [[label, String(c), String(f), Ore.basisPoints(Ore(c), of: Ore(f)).map(String.init) ?? ""]],
                shown: [
                    ["Period", "Konsulentstödda", "Arvoderade", "Konsulentstödda i relation till arvoderade, %"],
                    [label, String(c), String(f), percent(c, of: f)],
                ])
        }
        return built
    }
}
