import RamkollModel

/// Volume tables in the shape of seed 002's Tabell 2–5: for a group of units (and forms of care),
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
        let csv = try TableWriter(directory: dir, name: "volumes.csv", header: ["table", "row", "care_days", "budget_ore", "net_cost_ore"])
        var text = ""
        var presented: [PresentedTable] = []
        let fy = config.fiscalYear, m = config.asOf.month
        for t in config.volumeTables {
            let units = Set(t.units), forms = Set(t.forms)
            let days = care.cells.filter { units.contains($0.key.unit) && (forms.isEmpty || forms.contains($0.key.form)) }.values.reduce(Int64(0)) {
                $0 + $1.days
            }
            let monthly: (Period) -> Ore = { p in units.reduce(Ore.zero) { $0 - (budget[GridKey(unit: $1, line: t.budgetLine, period: p)] ?? .zero) }
            }
            let budgetYear = Period.months(ofYear: fy).reduce(Ore.zero) { $0 + monthly($1) }
            let budgetRest = Period.months(ofYear: fy).filter { $0 > config.asOf }.reduce(Ore.zero) { $0 + monthly($1) }
            let cost = placementLedger.filter { units.contains($0.key.unit) }.values.reduce(Ore.zero, +)
            let previous = placementLedgerPrevious.filter { units.contains($0.key.unit) }.values.reduce(Ore.zero, +)
            // The previous year: the care days of the placements the extract holds, last year's
            // budget when the budget file gives it, the ledger's cost.
            let previousDays = care.previous.filter { units.contains($0.key.unit) && (forms.isEmpty || forms.contains($0.key.form)) }.values
                .reduce(Int64(0)) { $0 + $1.days }
            let previousBudget: Ore? =
                plan.hasPreviousBudget ? units.reduce(Ore.zero) { acc, u in acc - (plan.amounts[u]?[t.budgetLine]?[fy - 1] ?? .zero) } : nil
            var rows: [(String, Int64?, Ore?, Ore?)] = [("\(fy - 1)", previousDays == 0 ? nil : previousDays, previousBudget, previous)]
            if m == 12 {
                rows.append(("\(fy)", days, budgetYear, cost))
            } else {
                rows.append(("\(fy) t.o.m. \(config.asOf)", days, budgetYear, cost))
                rows.append(("\(fy) prognos", Ore.divideRoundingHalfAwayFromZero(days * 12, by: Int64(m)), budgetYear, cost + budgetRest))
            }
            if plan.years.contains(fy + 1) {
                let next = units.reduce(Ore.zero) { acc, u in acc - (plan.amounts[u]?[t.budgetLine]?[fy + 1] ?? .zero) }
                rows.append(("Budget \(fy + 1)", t.plannedDays[fy + 1], next, nil))
            }
            var table = [["Period", "Antal dygn", "Budget (tkr)", "Nettokostnad (tkr)"]]
            for (label, d, b, c) in rows {
                try csv.write([t.name, label, d.map(String.init) ?? "", b.map { String($0.value) } ?? "", c.map { String($0.value) } ?? ""])
                table.append([
                    label, d.map { Ore.formatWhole($0) } ?? "", b.map { Ore.formatWhole($0.tkr) } ?? "", c.map { Ore.formatWhole($0.tkr) } ?? "",
                ])
            }
            text += t.name + "\n" + TextTable.render(table) + "\n"
            presented.append(PresentedTable(title: t.name, rows: table))
        }
        return [
            try csv.commit(), try FileIO.writeText(text, directory: dir, name: "volumes.txt", banner: banner),
            try PresentedTable.write(presented, directory: dir, name: "volumes.sheet.json"),
        ]
    }
}
