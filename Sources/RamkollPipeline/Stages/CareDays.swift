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
    /// One row per placement × month with care days: the basis of the accrual list.
    struct PlacementMonth {
        let id: String; let person: String; let unit: String; let period: Period; let days: Int; let cost: Ore; let prices: String
    }
    /// The placement × month rows, held compactly (24 bytes a month; a placement's strings and a
    /// unit's name once) and handed out as `PlacementMonth` values.
    struct PlacementMonths: RandomAccessCollection {
        struct Placement { let id: String, person: String, prices: String }
        struct Month { let placement: Int32, unit: Int32, period: Int32, days: Int32, cost: Ore }
        fileprivate(set) var placements: [Placement] = []
        fileprivate(set) var units: [String] = []
        fileprivate var unitNumbers: [String: Int32] = [:]
        fileprivate(set) var months: [Month] = []
        var startIndex: Int { 0 }
        var endIndex: Int { months.count }
        subscript(i: Int) -> PlacementMonth {
            let m = months[i], p = placements[Int(m.placement)]
            let period = Period(year: Int(m.period) / 12, month: Int(m.period) % 12 + 1)!
            return PlacementMonth(id: p.id, person: p.person, unit: units[Int(m.unit)], period: period, days: Int(m.days), cost: m.cost, prices: p.prices)
        }
        fileprivate mutating func add(_ p: Placement) -> Int32 { placements.append(p); return Int32(placements.count - 1) }
        fileprivate mutating func append(placement: Int32, unit: String, period: Period, days: Int, cost: Ore) {
            let u: Int32
            if let n = unitNumbers[unit] { u = n } else { u = Int32(units.count); unitNumbers[unit] = u; units.append(unit) }
            months.append(Month(placement: placement, unit: u, period: Int32(period.year * 12 + period.month - 1), days: Int32(days), cost: cost))
        }
    }
    var placementMonths = PlacementMonths()
    /// Stays per person (pseudonym), to find overlapping placements.
    struct Stay { let id: String; let start: Day; let end: Day?; let line: Int }
    var stays: [String: [Stay]] = [:]
    /// Per unit, what the activity-based forecast needs (DOMAIN.md §8): the cost still committed
    /// after the as-of period (each placement's price × its remaining days to its end or the year
    /// end), placements active at the close of the as-of month, the year's starts so far with the
    /// sum of their starting daily prices, and the lengths of placements that have ended.
    struct Outlook {
        var committedRemaining = Ore.zero
        var active: Int64 = 0
        var starts: Int64 = 0
        var startPriceSum = Ore.zero
        var endedCount: Int64 = 0
        var endedDays: Int64 = 0
    }
    var outlook: [String: Outlook] = [:]
    var placementsRead: Int64 = 0
    var placementsMapped: Int64 = 0
    var unmapped: [String: Int64] = [:]  // ansvar → placements

    static func tally(path: String, config: PipelineConfig, mappings: MappingTables) throws -> CareDayTally {
        var t = CareDayTally()
        let months = Period.months(ofYear: config.fiscalYear).filter { $0 <= config.asOf }
        let remaining = Period.months(ofYear: config.fiscalYear).filter { $0 > config.asOf }
        let close = config.asOf.lastDay
        try TableReader(
            path: path, required: ["placement_id", "person", "ansvar", "form_of_care", "start", "end", "daily_price_ore", "price_periods"]
        ).forEach { row in
            t.placementsRead += 1
            // The unit the ansvar belongs to at the as-of period; otherwise any rule for the code, regardless of validity.
            guard let unit = mappings.ansvar.lookup(row["ansvar"], at: config.asOf)?.target ?? mappings.ansvar.lookup(row["ansvar"])?.target else {
                t.unmapped[row["ansvar"], default: 0] += 1
                return
            }
            t.placementsMapped += 1
            // One String per field and placement, shared by its months (not one per month).
            let id = row["placement_id"], person = row["person"], form = row["form_of_care"], priceText = row["price_periods"]
            guard let start = Day(iso: row["start"]) else { throw RamkollError(.input, "\(path):\(row.line): start is not a date; rerun normalize") }
            let end = row["end"].isEmpty ? nil : Day(iso: row["end"])
            t.stays[person, default: []].append(Stay(id: id, start: start, end: end, line: row.line))
            let prices = try CareDayTally.prices(
                priceText, fallback: PricePeriod(from: start, price: Ore(try row.int("daily_price_ore"))), path: path, line: row.line)
            var o = t.outlook[unit] ?? Outlook()
            // Committed: placements begun by the close. One the extract holds with a later start is
            // left to the expected-new estimate, so the forecast does not depend on how far ahead an
            // extract reaches.
            if start <= close {
                for p in remaining { o.committedRemaining += config.careDays.daysAndCost(start: start, end: end, prices: prices, in: p).cost }
            }
            if start <= close && (end.map { $0 > close } ?? true) { o.active += 1 }
            if start.year == config.fiscalYear && start <= close { o.starts += 1; o.startPriceSum += prices[0].price }
            if let e = end, e <= close, e >= start { o.endedCount += 1; o.endedDays += Int64(e.ordinal - start.ordinal + 1) }
            t.outlook[unit] = o
            var placementNumber: Int32?
            for p in months {
                let (days, cost) = config.careDays.daysAndCost(start: start, end: end, prices: prices, in: p)
                guard days > 0 else { continue }
                let k = Key(unit: unit, period: p, form: form)
                var v = t.cells[k] ?? Value()
                v.placements += 1
                v.days += Int64(days)
                v.cost += cost
                t.cells[k] = v
                let n = placementNumber ?? t.placementMonths.add(.init(id: id, person: person, prices: priceText))
                placementNumber = n
                t.placementMonths.append(placement: n, unit: unit, period: p, days: days, cost: cost)
            }
        }
        return t
    }

    /// Pairs of placements of one person whose stays share days (an open stay runs to `until`).
    func overlaps(until: Day) -> [(person: String, a: Stay, b: Stay, from: Day, to: Day)] {
        var out: [(String, Stay, Stay, Day, Day)] = []
        for (person, list) in stays.sorted(by: { $0.key < $1.key }) {
            let sorted = list.sorted { ($0.start, $0.id) < ($1.start, $1.id) }
            for (i, a) in sorted.enumerated() {
                for b in sorted[(i + 1)...] {
                    let aEnd = a.end ?? until, bEnd = b.end ?? until
                    guard b.start <= aEnd else { break }
                    out.append((person, a, b, b.start, min(aEnd, bEnd)))
                }
            }
        }
        return out
    }

    /// Parses `2022-01-05:345000|2022-07-01:360000`.
    static func prices(_ text: String, fallback: PricePeriod, path: String, line: Int) throws -> [PricePeriod] {
        if text.isEmpty { return [fallback] }
        return try text.split(separator: "|").map { part in
            let bits = part.split(separator: ":")
            guard bits.count == 2, let d = Day(iso: String(bits[0])), let v = Int64(bits[1]) else {
                throw RamkollError(.input, "\(path):\(line): price_periods \"\(text)\" cannot be read; rerun normalize")
            }
            return PricePeriod(from: d, price: Ore(v))
        }
    }
}
