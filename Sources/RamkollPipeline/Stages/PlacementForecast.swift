import RamkollModel

/// The placement part of the activity-based forecast, per unit, costs positive:
///
///     full year = delivered to date (case system) + committed remaining + expected new
///
/// - delivered to date: the cost of the care days through the as-of month, by the case system —
///   not the ledger, whose invoices come a month late (the difference is the accrual);
/// - committed remaining: each placement begun by the close of the as-of month, its price × its
///   remaining days in the year, to its (planned) end date or, when open, the year end;
/// - expected new: the year's starts so far continue at the same pace (starts ÷ months elapsed
///   per month) at the mean starting daily price; a new placement starts on the first of a month
///   and lasts the mean length of the placements that have ended (to the year end when none has).
///   Exactly: Σ starting prices × Σ over remaining months of min(mean length, days left) ÷ months.
///
/// The prognosis stage adds the ledger's non-placement part of the line (run-rate) to it.
enum PlacementForecast {
    static let header = [
        "unit", "placement_ledger_ytd_ore", "delivered_ytd_ore", "committed_remaining_ore", "active_placements", "starts_ytd",
        "start_price_sum_ore", "mean_length_days", "expected_new_ore", "placement_full_year_ore",
    ]

    static func expectedNew(_ o: CareDayTally.Outlook, asOf: Period) -> (meanLength: Int64?, amount: Ore) {
        let m = Int64(asOf.month)
        let meanLength = o.endedCount > 0 ? Ore.divideRoundingHalfAwayFromZero(o.endedDays, by: o.endedCount) : nil
        let yearEnd = Period(year: asOf.year, month: 12)!.lastDay.ordinal
        let days = Period.months(ofYear: asOf.year).filter { $0 > asOf }.reduce(Int64(0)) { acc, p in
            let left = Int64(yearEnd - p.firstDay.ordinal + 1)
            return acc + (meanLength.map { min($0, left) } ?? left)
        }
        return (meanLength, Ore(Ore.mulDivRoundingHalfAwayFromZero(o.startPriceSum.value, days, m) ?? 0))
    }

    static func write(directory dir: String, care: CareDayTally, ledger: [GridCell: Ore], asOf: Period) throws -> OutputRecord {
        let out = try TableWriter(directory: dir, name: "placement_forecast.csv", header: header)
        var delivered: [String: Ore] = [:], booked: [String: Ore] = [:]
        for (k, v) in care.cells { delivered[k.unit, default: .zero] += v.cost }
        for (k, v) in ledger { booked[k.unit, default: .zero] += v }
        for unit in Set(care.outlook.keys).union(booked.keys).sorted() {
            let o = care.outlook[unit] ?? CareDayTally.Outlook()
            let (mean, new) = expectedNew(o, asOf: asOf)
            let d = delivered[unit] ?? .zero
            try out.write([
                unit, String((booked[unit] ?? .zero).value), String(d.value), String(o.committedRemaining.value), String(o.active),
                String(o.starts), String(o.startPriceSum.value), mean.map(String.init) ?? "", String(new.value),
                String((d + o.committedRemaining + new).value),
            ])
        }
        return try out.commit()
    }
}
