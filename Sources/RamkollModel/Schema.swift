/// The common schema. Every source format (ledger CSV, SIE, case-system XML, budget files) is
/// normalized into these values; every value keeps where it came from.
///
/// | type           | what it is                                                     | sign        |
/// |----------------|----------------------------------------------------------------|-------------|
/// | `SourceRef`    | file + line (text formats) or file + record index (XML)         | —           |
/// | `Dimensions`   | ansvar, verksamhet, aktivitet, projekt, objekt, motpart codes   | —           |
/// | `LedgerEntry`  | one posting: account, dimensions, voucher, dates, text, amount  | ledger      |
/// | `OrgUnit`      | a node of the unit hierarchy (nämnd → avdelning → enhet)         | —           |
/// | `ReportLine`   | a committee report line (kontogrupp), or a sum of other lines   | —           |
/// | `BudgetLine`   | budget for unit × report line × month                           | report      |
/// | `Placement`    | a placement from the case system, person pseudonymized          | —           |
///
/// Amounts are `Ore` (exact öre). Ledger sign is debit-positive; report sign is revenue-positive;
/// `SignConvention.reportSign(fromLedger:)` converts.
public struct SourceRef: Hashable, Sendable, CustomStringConvertible {
    public enum Position: Hashable, Sendable {
        case line(Int)
        case record(index: Int, line: Int)
    }
    public let file: String
    public let position: Position

    public init(file: String, line: Int) { self.file = file; self.position = .line(line) }
    public init(file: String, record: Int, line: Int) { self.file = file; self.position = .record(index: record, line: line) }

    public var line: Int {
        switch position {
        case .line(let l): return l
        case .record(_, let l): return l
        }
    }

    /// `file:line` or `file#record` — the form every message and output uses.
    public var description: String {
        switch position {
        case .line(let l): return "\(file):\(l)"
        case .record(let i, let l): return "\(file)#\(i) (line \(l))"
        }
    }
}

/// The ledger's object dimensions (koddelar). Empty string means "not given".
public struct Dimensions: Hashable, Sendable {
    public var ansvar: String
    public var verksamhet: String
    public var aktivitet: String
    public var projekt: String
    public var objekt: String
    public var motpart: String

    public init(
        ansvar: String = "", verksamhet: String = "", aktivitet: String = "",
        projekt: String = "", objekt: String = "", motpart: String = ""
    ) {
        self.ansvar = ansvar; self.verksamhet = verksamhet; self.aktivitet = aktivitet
        self.projekt = projekt; self.objekt = objekt; self.motpart = motpart
    }
}

/// One ledger posting, amount in ledger sign (debit +).
public struct LedgerEntry: Hashable, Sendable {
    public var source: SourceRef
    public var account: String
    public var dimensions: Dimensions
    public var voucher: String
    public var bookingDate: Day?
    public var period: Period
    public var text: String
    public var amount: Ore

    public init(
        source: SourceRef, account: String, dimensions: Dimensions, voucher: String,
        bookingDate: Day?, period: Period, text: String, amount: Ore
    ) {
        self.source = source; self.account = account; self.dimensions = dimensions
        self.voucher = voucher; self.bookingDate = bookingDate; self.period = period
        self.text = text; self.amount = amount
    }
}

/// A node in the organisation hierarchy. `parent` is nil for the root (the nämnd).
public struct OrgUnit: Hashable, Sendable {
    public let id: String
    public let name: String
    public let parent: String?
    public init(id: String, name: String, parent: String?) { self.id = id; self.name = name; self.parent = parent }
}

/// A committee report line. A base line collects accounts; a sum line adds other lines.
public struct ReportLine: Hashable, Sendable {
    public let id: String
    public let name: String
    public let sumOf: [String]
    /// For a "varav" sub-line: the line it is part of (its amounts are included in that line's).
    public let partOf: String?
    public var isSum: Bool { !sumOf.isEmpty }
    public init(id: String, name: String, sumOf: [String] = [], partOf: String? = nil) {
        self.id = id; self.name = name; self.sumOf = sumOf; self.partOf = partOf
    }
}

/// Budget for one unit × report line × month, report sign.
public struct BudgetLine: Hashable, Sendable {
    public let unit: String
    public let line: String
    public let period: Period
    public let amount: Ore
    public let source: SourceRef
    public init(unit: String, line: String, period: Period, amount: Ore, source: SourceRef) {
        self.unit = unit; self.line = line; self.period = period; self.amount = amount; self.source = source
    }
}

/// A daily price in force from a date (until the next price's date).
public struct PricePeriod: Hashable, Sendable {
    public let from: Day
    public let price: Ore
    public init(from: Day, price: Ore) { self.from = from; self.price = price }
}

/// A placement (placering) from the case system. The person is a keyed pseudonym, never a number.
/// Its daily price may change over its life: `prices` holds every price with the date it applies
/// from, sorted; `dailyPrice` is the price at the start.
public struct Placement: Hashable, Sendable {
    public var source: SourceRef
    public var id: String
    public var person: String
    public var ansvar: String
    public var formOfCare: String
    public var legalBasis: String
    public var start: Day
    public var end: Day?
    public var dailyPrice: Ore
    public var prices: [PricePeriod]

    public init(
        source: SourceRef, id: String, person: String, ansvar: String, formOfCare: String,
        legalBasis: String, start: Day, end: Day?, dailyPrice: Ore, prices: [PricePeriod] = []
    ) {
        self.source = source; self.id = id; self.person = person; self.ansvar = ansvar
        self.formOfCare = formOfCare; self.legalBasis = legalBasis; self.start = start
        self.end = end; self.dailyPrice = dailyPrice
        self.prices = prices.isEmpty ? [PricePeriod(from: start, price: dailyPrice)] : prices
    }
}

/// How care days (vårddygn) are counted within a period.
public enum CareDayConvention: String, Sendable, CaseIterable {
    /// First and last day both count, clipped to the period (the default).
    case inclusive
    /// The discharge day does not count (some contracts).
    case excludeDischarge = "exclude-discharge"

    /// Care days of a stay from `start` to `end` (nil = open, runs to the period end) inside `period`.
    public func careDays(start: Day, end: Day?, in period: Period) -> Int {
        guard let (from, to) = countedDays(start: start, end: end, in: period) else { return 0 }
        return to - from + 1
    }

    /// The first and last counted day (as ordinals) of a stay inside a period, or nil.
    public func countedDays(start: Day, end: Day?, in period: Period) -> (Int, Int)? {
        countedDays(OrdinalStay(start: start, end: end, prices: []), in: OrdinalPeriod(period))
    }

    /// Care days and their cost inside a period, each day at the price in force that day.
    /// Days before the first price's date are counted at the first price.
    public func daysAndCost(start: Day, end: Day?, prices: [PricePeriod], in period: Period) -> (days: Int, cost: Ore) {
        daysAndCost(OrdinalStay(start: start, end: end, prices: prices), in: OrdinalPeriod(period))
    }

    /// `countedDays` of a stay and a period whose days were made ordinals once (a tally over
    /// millions of stays and every month of a year works each date out once, not per month).
    public func countedDays(_ stay: OrdinalStay, in period: OrdinalPeriod) -> (Int, Int)? {
        var last = stay.end ?? period.last
        if self == .excludeDischarge, stay.end != nil { last -= 1 }
        let from = max(stay.start, period.first), to = min(last, period.last)
        return to >= from ? (from, to) : nil
    }

    /// `daysAndCost` of a stay and a period as ordinals.
    public func daysAndCost(_ stay: OrdinalStay, in period: OrdinalPeriod) -> (days: Int, cost: Ore) {
        let prices = stay.prices
        guard let (from, to) = countedDays(stay, in: period), !prices.isEmpty else { return (0, .zero) }
        var cost = Ore.zero
        for i in prices.indices {
            let lo = i == 0 ? from : max(from, prices[i].from)
            let hi = i + 1 < prices.count ? min(to, prices[i + 1].from - 1) : to
            if hi >= lo { cost += Ore(prices[i].price.value * Int64(hi - lo + 1)) }
        }
        return (to - from + 1, cost)
    }
}

/// A stay's days as ordinals (`Day.ordinal`): its start, its end (nil: open) and the days its
/// prices take effect.
public struct OrdinalStay: Sendable {
    public let start: Int
    public let end: Int?
    public let prices: [(from: Int, price: Ore)]
    public init(start: Day, end: Day?, prices: [PricePeriod]) {
        self.start = start.ordinal; self.end = end?.ordinal
        self.prices = prices.map { ($0.from.ordinal, $0.price) }
    }
}

/// A period's first and last day as ordinals.
public struct OrdinalPeriod: Sendable {
    public let period: Period
    public let first: Int, last: Int
    public init(_ period: Period) {
        self.period = period
        first = period.firstDay.ordinal; last = period.lastDay.ordinal
    }
}

/// A decision (beslut) from the case system, for the IVO report of unexecuted decisions.
/// The person is a keyed pseudonym. Dates are nil when the event has not happened.
public struct Decision: Hashable, Sendable {
    public var source: SourceRef
    public var id: String
    public var person: String
    public var ansvar: String
    public var decisionDate: Day
    public var measure: String
    public var legalBasis: String
    public var favourable: Bool
    public var executed: Day?
    public var interrupted: Day?
    public var resumed: Day?
    public var ended: Day?
    public var reason: String

    public init(
        source: SourceRef, id: String, person: String, ansvar: String, decisionDate: Day, measure: String, legalBasis: String,
        favourable: Bool, executed: Day?, interrupted: Day?, resumed: Day?, ended: Day?, reason: String
    ) {
        self.source = source; self.id = id; self.person = person; self.ansvar = ansvar; self.decisionDate = decisionDate
        self.measure = measure; self.legalBasis = legalBasis; self.favourable = favourable; self.executed = executed
        self.interrupted = interrupted; self.resumed = resumed; self.ended = ended; self.reason = reason
    }
}

extension Day {
    /// The same day `n` months later, or the month's last day when it has fewer days
    /// (2022-11-30 + 3 months = 2023-02-28).
    public func addingMonths(_ n: Int) -> Day {
        let total = year * 12 + (month - 1) + n
        let y = total / 12, m = total % 12 + 1
        return Day(year: y, month: m, day: min(day, Day.daysIn(year: y, month: m)))!
    }

    /// The day `n` days later (earlier for negative `n`).
    public func addingDays(_ n: Int) -> Day { Day(ordinal: ordinal + n) }

    /// The day with this ordinal (days since 1970-01-01).
    public init(ordinal: Int) {
        let z = ordinal + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        self.init(year: yoe + era * 400 + (m <= 2 ? 1 : 0), month: m, day: d)!
    }
}

/// A calendar quarter, `2022-Q4`.
public struct Quarter: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let year: Int
    public let number: Int
    public init?(year: Int, number: Int) {
        guard (1...4).contains(number), (1...9999).contains(year) else { return nil }
        self.year = year; self.number = number
    }
    public init?(_ text: String) {
        let parts = text.split(separator: "-")
        guard parts.count == 2, let y = Int(parts[0]), parts[1].count == 2, parts[1].first == "Q", let q = Int(parts[1].dropFirst()) else {
            return nil
        }
        self.init(year: y, number: q)
    }
    public init(containing d: Day) { self.init(year: d.year, number: (d.month - 1) / 3 + 1)! }
    public var lastDay: Day { Period(year: year, month: number * 3)!.lastDay }
    public var next: Quarter { number == 4 ? Quarter(year: year + 1, number: 1)! : Quarter(year: year, number: number + 1)! }
    public var description: String { "\(year)-Q\(number)" }
    public static func < (a: Quarter, b: Quarter) -> Bool { (a.year, a.number) < (b.year, b.number) }
}

/// A payment of ekonomiskt bistånd from the case system. `period` is the month the aid is for
/// (which the statistics use), not the month it was paid. The household is a keyed pseudonym of
/// the applicant's number.
public struct AssistancePayment: Hashable, Sendable {
    public var source: SourceRef
    public var id: String
    public var household: String
    public var ansvar: String
    public var period: Period
    public var paidDate: Day?
    public var amount: Ore

    public init(source: SourceRef, id: String, household: String, ansvar: String, period: Period, paidDate: Day?, amount: Ore) {
        self.source = source; self.id = id; self.household = household; self.ansvar = ansvar; self.period = period
        self.paidDate = paidDate; self.amount = amount
    }
}
