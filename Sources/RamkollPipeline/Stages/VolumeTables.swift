import RamkollModel

/// Volume tables in the shape of a budget document's placement tables: for a group of units (and forms of care),
/// care days, budget and net cost — the previous year (care days of the placements the extract
/// holds, last year's budget from the budget's `budget ÅÅÅÅ` column), this year to date, and (before December)
/// a full-year forecast: care days by run-rate, net cost as outcome to date plus the remaining
/// periodised budget; and, when the budget has plan years, the next year's budget with the table's
/// planned care days (`planned_days`). Net cost is the
/// ledger's cost on the placement accounts (costs positive).
enum VolumeTables {
    static func write(
        directory dir: String, config: PipelineConfig, care: CareDayTally, budget: [GridKey: Ore], placementLedger: [GridCell: Ore],
        placementLedgerPrevious: [GridCell: Ore], plan: Plan = Plan(), banner: String = ""
    ) throws -> [OutputRecord] {
        let csv = try TableWriter(
            directory: dir, name: "volumes.csv", header: ["table", "row", "care_days", "budget_ore", "net_cost_ore", "persons"])
        var text = ""
        var presented: [PresentedTable] = []
        let fy = config.fiscalYear, m = config.asOf.month
        let persons = try personsInCare(care: care, tables: config.volumeTables, fiscalYear: fy)
        for (ti, t) in config.volumeTables.enumerated() {
            let units = Set(t.units), forms = Set(t.forms)
            func matches(_ k: CareDayTally.VolumeKey) -> Bool { t.matches(unit: k.unit, form: k.form, basis: k.basis) }
            func volume(_ year: Int) -> CareDayTally.Value {
                care.volume.filter { $0.key.year == year && matches($0.key) }.values.reduce(into: CareDayTally.Value()) {
                    $0.placements += $1.placements; $0.days += $1.days; $0.cost += $1.cost
                }
            }
            let current = volume(fy), previousYear = volume(fy - 1)
            let days = current.days
            let monthly: (Period) -> Ore = { p in units.reduce(Ore.zero) { $0 - (budget[GridKey(unit: $1, line: t.budgetLine, period: p)] ?? .zero) }
            }
            let budgetYear = Period.months(ofYear: fy).reduce(Ore.zero) { $0 + monthly($1) }
            let budgetRest = Period.months(ofYear: fy).filter { $0 > config.asOf }.reduce(Ore.zero) { $0 + monthly($1) }
            // A table of some forms or legal bases inside its units: the case system's cost of those
            // placements (the ledger does not know the form); else the ledger's on the placement accounts.
            let filtered = !forms.isEmpty || !t.legalBasis.isEmpty
            let cost = filtered ? current.cost : placementLedger.filter { units.contains($0.key.unit) }.values.reduce(Ore.zero, +)
            let previous = filtered ? previousYear.cost : placementLedgerPrevious.filter { units.contains($0.key.unit) }.values.reduce(Ore.zero, +)
            let forecastCost = filtered ? Ore(Ore.divideRoundingHalfAwayFromZero(cost.value * 12, by: Int64(m))) : cost + budgetRest
            // The previous year: the care days of the placements the extracts hold, last year's
            // budget when the budget file gives it.
            let previousBudget: Ore? =
                plan.hasPreviousBudget ? units.reduce(Ore.zero) { acc, u in acc - (plan.amounts[u]?[t.budgetLine]?[fy - 1] ?? .zero) } : nil
            // Without a budget line the table has no budget (a table of one form or basis whose budget
            // is not kept apart).
            let hasBudget = !t.budgetLine.isEmpty
            func b(_ o: Ore?) -> Ore? { hasBudget ? o : nil }
            var rows: [(String, Int64?, Ore?, Ore?, Int64?)] = [
                ("\(fy - 1)", previousYear.days == 0 ? nil : previousYear.days, b(previousBudget), previous, persons[ti][0])
            ]
            if m == 12 {
                rows.append(("\(fy)", days, b(budgetYear), cost, persons[ti][1]))
            } else {
                if t.toDateRow { rows.append(("\(fy) t.o.m. \(config.asOf)", days, b(budgetYear), cost, persons[ti][1])) }
                rows.append(("\(fy) prognos", Ore.divideRoundingHalfAwayFromZero(days * 12, by: Int64(m)), b(budgetYear), forecastCost, nil))
            }
            if plan.years.contains(fy + 1) && (hasBudget || t.plannedDays[fy + 1] != nil) {
                let next = units.reduce(Ore.zero) { acc, u in acc - (plan.amounts[u]?[t.budgetLine]?[fy + 1] ?? .zero) }
                rows.append(("Budget \(fy + 1)", t.plannedDays[fy + 1], b(next), nil, nil))
            }
            var table = [
                ["Period", "Antal dygn", "Budget (tkr)", filtered ? "Kostnad enligt verksamhetssystemet (tkr)" : "Nettokostnad (tkr)"]
                    + (t.persons ? ["Antal personer"] : [])
            ]
            for (label, d, b, c, n) in rows {
                try csv.write([
                    t.name, label, d.map(String.init) ?? "", b.map { String($0.value) } ?? "", c.map { String($0.value) } ?? "",
                    n.map(String.init) ?? "",
                ])
                table.append(
                    [label, d.map { Ore.formatWhole($0) } ?? "", b.map { Ore.formatWhole($0.tkr) } ?? "", c.map { Ore.formatWhole($0.tkr) } ?? ""]
                        + (t.persons ? [n.map { Ore.formatWhole($0) } ?? ""] : []))
            }
            text += t.name + "\n" + TextTable.render(table) + "\n"
            presented.append(PresentedTable(title: t.name, rows: table))
        }
        // Without volume tables in the pipeline there is nothing to present.
        guard !config.volumeTables.isEmpty else { return [try csv.commit()] }
        return [
            try csv.commit(), try FileIO.writeText(text, directory: dir, name: "volumes.txt", banner: banner),
            try PresentedTable.write(presented, directory: dir, name: "volumes.sheet.json"),
        ]
    }

    /// Per table, the distinct persons with care days in the previous year and this year to date
    /// (nil when the table does not count persons): a sweep over the records sorted by person.
    static func personsInCare(care: CareDayTally, tables: [PipelineConfig.VolumeTable], fiscalYear: Int) throws -> [[Int64?]] {
        var counts = tables.map { $0.persons ? [Int64(0), Int64(0)] : [nil, nil] as [Int64?] }
        guard let sorted = care.persons, tables.contains(where: \.persons) else { return counts }
        var person: String?
        var masks = [Int64](repeating: 0, count: tables.count)
        func flush() {
            for i in tables.indices where tables[i].persons {
                if masks[i] & 1 != 0 { counts[i][0]! += 1 }
                if masks[i] & 2 != 0 { counts[i][1]! += 1 }
                masks[i] = 0
            }
        }
        try sorted.forEach { bytes in
            var r = SortRecord.Reader(bytes)
            let who = r.key()
            _ = r.int()
            let unit = r.field(), form = r.field(), basis = r.field(), years = r.fieldInt()
            if who != person { flush(); person = who }
            for (i, t) in tables.enumerated() where t.persons && t.matches(unit: unit, form: form, basis: basis) { masks[i] |= years }
        }
        flush()
        return counts
    }
}
