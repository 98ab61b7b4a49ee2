import RamkollModel

/// Ledger ↔ case system for purchased placements, per unit × month: what the case
/// system says was delivered (care days × the daily price in force) against what the ledger holds
/// on the placement accounts (ledger sign, costs positive). Purchased care is invoiced late, so a
/// month's invoices pay for earlier months: the status of a unit-month compares the year-to-date
/// sums, and the year-to-date difference is what was delivered but not yet invoiced.
enum CaseReconciliation {
    enum Status: String {
        /// Year to date within the tolerance.
        case matched
        /// More delivered than invoiced: the accrual (periodiseringsunderlag) at that month's close.
        case deliveredNotInvoiced = "delivered-not-invoiced"
        /// Invoiced with no placement at all for the unit so far this year: to investigate.
        case invoicedWithoutPlacement = "invoiced-without-placement"
        /// Invoiced more than delivered: a price or day difference, or a placement missing in the case system.
        case invoicedMoreThanDelivered = "invoiced-more-than-delivered"
    }

    static func status(caseCost: Ore, ledgerCost: Ore, tolerance: Ore) -> Status {
        let difference = caseCost - ledgerCost
        if difference.value.magnitude <= tolerance.value.magnitude { return .matched }
        if caseCost == .zero { return .invoicedWithoutPlacement }
        return difference.value > 0 ? .deliveredNotInvoiced : .invoicedMoreThanDelivered
    }

    struct Totals {
        var unitMonths: [Status: Int64] = [:]; var accrualRows: Int64 = 0; var accrualOre = Ore.zero; var shortfallOre = Ore.zero;
        var overlaps: Int64 = 0
    }

    /// Writes case_vs_ledger.csv, accruals.csv (the accrual list at the as-of close) and
    /// placement_overlaps.csv.
    ///
    /// The accrual list explains each unit's year-to-date shortfall at the as-of month by the
    /// placement-months delivered most recently (invoices are assumed to pay for care in the order
    /// it was delivered): whole months from the latest backwards, the last one in part, so that the
    /// list adds up to the shortfall exactly.
    static func write(
        directory dir: String, care: CareDayTally, ledgerCost: [GridCell: Ore], settings: PipelineConfig.CaseReconciliationSettings?,
        asOf: Period
    ) throws -> (outputs: [OutputRecord], totals: Totals) {
        var totals = Totals()
        let cvl = try TableWriter(
            directory: dir, name: "case_vs_ledger.csv",
            header: [
                "unit", "period", "care_days", "case_cost_ore", "ledger_cost_ore", "case_cost_ytd_ore", "ledger_cost_ytd_ore", "not_invoiced_ytd_ore",
                "status",
            ])
        let acc = try TableWriter(
            directory: dir, name: "accruals.csv",
            header: ["unit", "period", "placement_id", "person", "care_days", "price_periods", "month_cost_ore", "accrual_ore"])
        var caseByCell: [GridCell: (days: Int64, cost: Ore)] = [:]
        for (k, v) in care.cells {
            let c = GridCell(unit: k.unit, period: k.period)
            caseByCell[c, default: (0, .zero)].days += v.days
            caseByCell[c, default: (0, .zero)].cost += v.cost
        }
        var shortfallAtClose: [String: Ore] = [:]
        if let settings {
            let units = Set(caseByCell.keys.map(\.unit)).union(ledgerCost.keys.map(\.unit)).sorted()
            for unit in units {
                var caseYTD = Ore.zero, ledgerYTD = Ore.zero
                for period in Period.months(ofYear: asOf.year) where period <= asOf {
                    let cell = GridCell(unit: unit, period: period)
                    let (days, caseCost) = caseByCell[cell] ?? (0, .zero)
                    let ledger = ledgerCost[cell] ?? .zero
                    caseYTD += caseCost; ledgerYTD += ledger
                    if caseYTD == .zero && ledgerYTD == .zero { continue }
                    let st = status(caseCost: caseYTD, ledgerCost: ledgerYTD, tolerance: settings.tolerance)
                    totals.unitMonths[st, default: 0] += 1
                    try cvl.write([
                        unit, period.description, String(days), String(caseCost.value), String(ledger.value), String(caseYTD.value),
                        String(ledgerYTD.value), String((caseYTD - ledgerYTD).value), st.rawValue,
                    ])
                    if period == asOf && st == .deliveredNotInvoiced { shortfallAtClose[unit] = caseYTD - ledgerYTD }
                }
            }
            totals.shortfallOre = shortfallAtClose.values.reduce(.zero, +)
            // Units in order, each unit's latest placement-months first (the sorter's order).
            var remaining = shortfallAtClose
            try care.forEachAccrualMonth { pm in
                guard let left = remaining[pm.unit], left.value > 0 else { return }
                let part = pm.cost.value <= left.value ? pm.cost : left
                remaining[pm.unit] = left - part
                try acc.write([
                    pm.unit, pm.period.description, pm.id, pm.person, String(pm.days), pm.prices, String(pm.cost.value), String(part.value),
                ])
                totals.accrualRows += 1
                totals.accrualOre += part
            }
        }
        let ov = try TableWriter(
            directory: dir, name: "placement_overlaps.csv", header: ["person", "placement_a", "placement_b", "overlap_from", "overlap_to", "days"])
        try care.forEachOverlap(until: asOf.lastDay) { person, a, b, from, to in
            try ov.write([person, a.id, b.id, from.description, to.description, String(to.ordinal - from.ordinal + 1)])
            totals.overlaps += 1
        }
        return ([try cvl.commit(), try acc.commit(), try ov.commit()], totals)
    }
}

/// A unit × month cell.
struct GridCell: Hashable, Comparable {
    let unit: String
    let period: Period
    static func < (a: GridCell, b: GridCell) -> Bool { (a.unit, a.period) < (b.unit, b.period) }
}
