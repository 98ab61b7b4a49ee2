import RamkollModel

/// Care days (vårddygn) and their cost per unit × month × form of care, from normalized placements,
/// counted by the pipeline's care-day convention (DOMAIN.md §6): by default inclusive of the first
/// and the last day, clipped to the month; a placement without an end date runs to the month's end.
/// Only months of the fiscal year up to the as-of period are counted.
struct CareDayTally {
    struct Key: Hashable, Comparable {
        let unit: String; let period: Period; let form: String
        static func < (a: Key, b: Key) -> Bool { (a.unit, a.period, a.form) < (b.unit, b.period, b.form) }
    }
    struct Value { var placements: Int64 = 0; var days: Int64 = 0; var cost = Ore.zero }

    var cells: [Key: Value] = [:]
    var placementsRead: Int64 = 0
    var placementsMapped: Int64 = 0
    var unmapped: [String: Int64] = [:]  // ansvar → placements

    static func tally(path: String, config: PipelineConfig, mappings: MappingTables) throws -> CareDayTally {
        var t = CareDayTally()
        let months = Period.months(ofYear: config.fiscalYear).filter { $0 <= config.asOf }
        try TableReader(path: path, required: ["ansvar", "form_of_care", "start", "end", "daily_price_ore"]).forEach { row in
            t.placementsRead += 1
            // The unit the ansvar belongs to at the as-of period; otherwise any rule for the code, regardless of validity.
            guard let unit = mappings.ansvar.lookup(row["ansvar"], at: config.asOf)?.target ?? mappings.ansvar.lookup(row["ansvar"])?.target else {
                t.unmapped[row["ansvar"], default: 0] += 1
                return
            }
            t.placementsMapped += 1
            guard let start = Day(iso: row["start"]) else { throw RamkollError(.input, "\(path):\(row.line): start is not a date; rerun normalize") }
            let end = row["end"].isEmpty ? nil : Day(iso: row["end"])
            let price = Ore(try row.int("daily_price_ore"))
            for p in months {
                let days = config.careDays.careDays(start: start, end: end, in: p)
                guard days > 0 else { continue }
                let k = Key(unit: unit, period: p, form: row["form_of_care"])
                var v = t.cells[k] ?? Value()
                v.placements += 1
                v.days += Int64(days)
                v.cost += Ore(price.value * Int64(days))
                t.cells[k] = v
            }
        }
        return t
    }
}
