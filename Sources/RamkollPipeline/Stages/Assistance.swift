import Foundation
import RamkollModel

/// Ekonomiskt bistånd (a budget document's "Utbetalt bistånd"): paid amount and households per
/// unit × month, by the month the aid is for; and, for the fiscal year, the monthly budget against
/// the outcome in the case system and in the ledger; with plan years, next year's budget in even
/// twelfths (a budget document shows "Budget 2023" under the year's outcome).
enum Assistance {
    struct Cell { var households = Set<String>(); var payments: Int64 = 0; var paid = Ore.zero }

    static func write(
        directory dir: String, paymentsPath: String, config: PipelineConfig, mappings: MappingTables, budget: [GridKey: Ore],
        ledgerByPeriod: [Period: Ore], plan: Plan = Plan(), banner: String = ""
    ) throws -> (outputs: [OutputRecord], totals: [String: Int64]) {
        var cells: [GridCell: Cell] = [:]
        var unmapped: Int64 = 0, read: Int64 = 0, paidTotal = Ore.zero, unmappedOre = Ore.zero
        var byPaymentMonth: [Period: Ore] = [:]  // what the ledger books: by the month it was paid
        try TableReader(path: paymentsPath, required: ["household", "ansvar", "period", "paid_date", "amount_ore"]).forEach { row in
            read += 1
            let period = try row.period("period"), amount = Ore(try row.int("amount_ore"))
            paidTotal += amount
            guard let unit = mappings.ansvar.lookup(row["ansvar"], at: period)?.target else { unmapped += 1; unmappedOre += amount; return }
            if let paid = Day(iso: row["paid_date"]) { byPaymentMonth[paid.period, default: .zero] += amount }
            var c = cells[GridCell(unit: unit, period: period)] ?? Cell()
            c.households.insert(row["household"]); c.payments += 1; c.paid += amount
            cells[GridCell(unit: unit, period: period)] = c
        }
        let per = try TableWriter(directory: dir, name: "assistance.csv", header: ["unit", "period", "households", "payments", "paid_ore"])
        for (k, v) in cells.sorted(by: { $0.key < $1.key }) {
            try per.write([k.unit, k.period.description, String(v.households.count), String(v.payments), String(v.paid.value)])
        }
        var totals: [String: Int64] = [
            "assistance.payments_read": read, "assistance.payments_unmapped_ansvar": unmapped, "assistance.paid_ore": paidTotal.value,
            "assistance.paid_mapped_ore": cells.values.reduce(Ore.zero) { $0 + $1.paid }.value,
            "assistance.paid_unmapped_ansvar_ore": unmappedOre.value,
        ]
        // The table is made when the pipeline has payments or an assistance section: without
        // either it would be a table of zeros.
        guard config.assistance != nil || config.sources.contains(where: { $0.profile.records == .payments }) else {
            return ([try per.commit()], totals)
        }
        // The committee's aid table for the fiscal year, all units together.
        let fy = config.fiscalYear
        let units = Set(cells.keys.map(\.unit))
        let table = try TableWriter(
            directory: dir, name: "assistance_table.csv",
            header: [
                "period", "budget_ore", "paid_ore", "households", "paid_in_month_ore", "ledger_ore", "ledger_minus_paid_in_month_ore", "status",
                "budget_next_year_ore", "deviation_ore", "forecast_households_ore", "forecast_run_rate_ore", "forecast_seasonal_ore",
                "forecast_ledger_ore",
            ])
        // Next year's budget of the same units and line, when the budget has that plan year.
        let nextYear: [Ore]? = config.assistance.flatMap { a in
            plan.years.contains(fy + 1)
                ? BudgetReader.evenTwelfths(-units.reduce(Ore.zero) { $0 + (plan.amounts[$1]?[a.budgetLine]?[fy + 1] ?? .zero) }) : nil
        }
        let tolerance = config.caseReconciliation?.tolerance ?? Ore(kronor: 100)
        var statuses: [String: Int64] = [:]
        var paidInMonthRow: [Ore?] = [], differenceRow: [Ore?] = []
        var rows: [[String]] = [["Belopp i tkr"] + BudgetReader.months.map { $0.capitalized } + ["Snitt"]]
        var budgetRow: [Ore?] = [], nextRow: [Ore?] = [], paidRow: [Ore?] = [], ledgerRow: [Ore?] = [], householdRow: [Int?] = []
        // Forecasts of the months after the as-of month from the case system's own outcome (by the
        // month the aid is for), beside the ledger's (outcome to date + the remaining budget):
        // households × amount per household (the last three months' households, the year's amount
        // per household), run-rate, and seasonal (the remaining budget scaled by outcome ÷ budget to date).
        let closedMonths = Period.months(ofYear: fy).filter { $0 <= config.asOf }
        let paidToDate = cells.filter { $0.key.period.year == fy && $0.key.period <= config.asOf }.values.reduce(Ore.zero) { $0 + $1.paid }
        let householdsBy: [Period: Int] = Dictionary(
            uniqueKeysWithValues: closedMonths.map { p in (p, Set(cells.filter { $0.key.period == p }.values.flatMap(\.households)).count) })
        let householdMonths = Int64(householdsBy.values.reduce(0, +))
        let recent = closedMonths.suffix(3).map { Int64(householdsBy[$0] ?? 0) }
        let budgetOf: (Period) -> Ore? = { period in
            config.assistance.map { a in -units.reduce(Ore.zero) { $0 + (budget[GridKey(unit: $1, line: a.budgetLine, period: period)] ?? .zero) } }
        }
        let budgetToDate = closedMonths.reduce(Ore.zero) { $0 + (budgetOf($1) ?? .zero) }
        let forecasting = config.asOf.year == fy && config.asOf.month < 12 && !closedMonths.isEmpty
        func driverForecast() -> Ore? {
            guard householdMonths > 0, !recent.isEmpty else { return nil }
            let perHousehold = Ore.divideRoundingHalfAwayFromZero(paidToDate.value, by: householdMonths)
            let households = Ore.divideRoundingHalfAwayFromZero(recent.reduce(0, +), by: Int64(recent.count))
            let (product, overflow) = perHousehold.multipliedReportingOverflow(by: households)
            return overflow ? nil : Ore(product)
        }
        let runRate = Ore(Ore.divideRoundingHalfAwayFromZero(paidToDate.value, by: Int64(max(closedMonths.count, 1))))
        var forecastRows: [[Ore?]] = Array(repeating: [], count: 4)
        var deviationRow: [Ore?] = []
        for period in Period.months(ofYear: fy) {
            let open = period > config.asOf
            let b = budgetOf(period)
            let inMonth = cells.filter { $0.key.period == period }
            let paid: Ore? = open ? nil : inMonth.values.reduce(Ore.zero) { $0 + $1.paid }
            let households: Int? = open ? nil : Set(inMonth.values.flatMap(\.households)).count
            let ledger: Ore? = open || config.assistance == nil ? nil : (ledgerByPeriod[period] ?? .zero)
            // The ledger books a payment when it is made: compare it with the payments made that month.
            let paidInMonth: Ore? = open ? nil : (byPaymentMonth[period] ?? .zero)
            let difference: Ore? = ledger.flatMap { l in paidInMonth.map { l - $0 } }
            var status = ""
            if let l = ledger, let p = paidInMonth {
                switch CaseReconciliation.status(caseCost: p, ledgerCost: l, tolerance: tolerance) {
                case .matched: status = "matched"
                case .deliveredNotInvoiced: status = "paid-not-booked"
                case .invoicedWithoutPlacement: status = "booked-without-payments"
                case .invoicedMoreThanDelivered: status = "booked-more-than-paid"
                }
                statuses[status, default: 0] += 1
            }
            let next = nextYear?[period.month - 1]
            // Budget − outcome: a positive figure is money left (a surplus), as in the Drift table.
            let deviation: Ore? = b.flatMap { bb in paid.map { bb - $0 } }
            deviationRow.append(deviation)
            let forecasts: [Ore?] =
                forecasting
                ? (open
                    ? [
                        driverForecast(), runRate,
                        budgetOf(period).flatMap { bm in
                            budgetToDate == .zero
                                ? nil : Ore.mulDivRoundingHalfAwayFromZero(bm.value, paidToDate.value, budgetToDate.value).map { Ore($0) }
                        }, budgetOf(period),
                    ]
                    : [paid, paid, paid, ledger]) : [nil, nil, nil, nil]
            for i in 0..<4 { forecastRows[i].append(forecasts[i]) }
            budgetRow.append(b); nextRow.append(next); paidRow.append(paid); ledgerRow.append(ledger); householdRow.append(households)
            paidInMonthRow.append(paidInMonth); differenceRow.append(difference)
            func text(_ o: Ore?) -> String { o.map { String($0.value) } ?? "" }
            try table.write([
                period.description, text(b), text(paid), households.map(String.init) ?? "", text(paidInMonth), text(ledger), text(difference), status,
                text(next), text(deviation), text(forecasts[0]), text(forecasts[1]), text(forecasts[2]), text(forecasts[3]),
            ])
        }
        func tkrRow(_ label: String, _ values: [Ore?]) -> [String] {
            let known = values.compactMap { $0 }
            let mean =
                known.isEmpty
                ? "" : Ore.formatWhole(Ore(Ore.divideRoundingHalfAwayFromZero(known.reduce(Ore.zero, +).value, by: Int64(known.count))).tkr)
            return [label] + values.map { $0.map { Ore.formatWhole($0.tkr) } ?? "" } + [mean]
        }
        if config.assistance != nil { rows.append(tkrRow("Budget \(fy)", budgetRow)) }
        rows.append(tkrRow("Utfall \(fy) (verksamhetssystemet)", paidRow))
        if config.assistance != nil {
            rows.append(tkrRow("Utbetalt i månaden (verksamhetssystemet)", paidInMonthRow))
            rows.append(tkrRow("Bokfört i månaden (huvudboken)", ledgerRow))
            rows.append(tkrRow("Skillnad huvudbok − verksamhetssystem", differenceRow))
        }
        if config.assistance != nil { rows.append(tkrRow("Avvikelse budget − utfall (överskott +)", deviationRow)) }
        if forecasting {
            // Outcome to date, then each method's forecast of the months left.
            rows.append(tkrRow("Prognos hushåll × belopp per hushåll", forecastRows[0]))
            rows.append(tkrRow("Prognos årstakt", forecastRows[1]))
            if config.assistance != nil {
                rows.append(tkrRow("Prognos säsong", forecastRows[2]))
                rows.append(tkrRow("Prognos huvudboken (utfall + återstående budget)", forecastRows[3]))
            }
        }
        if nextYear != nil { rows.append(tkrRow("Budget \(fy + 1)", nextRow)) }
        let knownHouseholds = householdRow.compactMap { $0 }
        rows.append(
            ["Hushåll"] + householdRow.map { $0.map(String.init) ?? "" }
                + [
                    knownHouseholds.isEmpty
                        ? "" : String(Ore.divideRoundingHalfAwayFromZero(Int64(knownHouseholds.reduce(0, +)), by: Int64(knownHouseholds.count)))
                ])
        let title =
            "Utbetalt ekonomiskt bistånd \(fy): budget och utfall per månad som biståndet avser; huvudboken mot verksamhetssystemet per utbetalningsmånad"
        let text = title + "\n" + TextTable.render(rows)
        let sheet = try PresentedTable.write([PresentedTable(title: title, rows: rows)], directory: dir, name: "assistance_table.sheet.json")
        let txt = try FileIO.writeText(text, directory: dir, name: "assistance_table.txt", banner: banner)
        for (st, n) in statuses { totals["assistance.months.\(st)"] = n }
        return ([try per.commit(), try table.commit(), txt, sheet], totals)
    }
}
