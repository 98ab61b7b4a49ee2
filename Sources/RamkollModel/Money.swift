/// Exact money. Every amount in Ramkoll is an integer number of öre (1 krona = 100 öre).
/// There is no floating point on any path that carries money; arithmetic traps on overflow
/// rather than wrapping, because a wrong total is worse than a stopped run.
public struct Ore: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var value: Int64

    public init(_ value: Int64) { self.value = value }
    public init(kronor: Int64) { self.value = kronor * 100 }

    public static let zero = Ore(0)

    /// The largest amount one input row may carry: ±9 999 999 999 999,99 kr (under 10^15 öre).
    /// Readers reject anything beyond with `amountLimitReason`; no real ledger comes near it.
    public static let rowLimit: Int64 = 999_999_999_999_999
    /// The largest absolute total of one kind of input in one run (ledger rows, budget lines,
    /// payments, care-day costs): 1 000 000 000 000 000 kr (10^17 öre). Every figure Ramkoll
    /// derives adds or subtracts at most a few such totals (or multiplies one by 12), so with
    /// every kind within it no sum can leave Int64 (9.2 × 10^18 öre); a run beyond it stops
    /// with a data error (`MoneyTally`).
    public static let runLimit: UInt64 = 100_000_000_000_000_000
    /// Why an amount beyond `rowLimit` is rejected (the same words from every reader).
    public static let amountLimitReason = "amount is beyond ±9 999 999 999 999,99 kr, the largest Ramkoll accepts"
    public static let runLimitText = "1 000 000 000 000 000 kr"

    /// The sum, or nil when it does not fit (checked arithmetic for paths fed by input).
    public func adding(_ o: Ore) -> Ore? {
        let (s, overflow) = value.addingReportingOverflow(o.value)
        return overflow ? nil : Ore(s)
    }
    /// The product with a count (days, months), or nil when it does not fit.
    public func multiplied(by n: Int64) -> Ore? {
        let (p, overflow) = value.multipliedReportingOverflow(by: n)
        return overflow ? nil : Ore(p)
    }

    public static func + (a: Ore, b: Ore) -> Ore { Ore(a.value + b.value) }
    public static func - (a: Ore, b: Ore) -> Ore { Ore(a.value - b.value) }
    public static prefix func - (a: Ore) -> Ore { Ore(-a.value) }
    public static func += (a: inout Ore, b: Ore) { a.value += b.value }
    public static func -= (a: inout Ore, b: Ore) { a.value -= b.value }
    public static func < (a: Ore, b: Ore) -> Bool { a.value < b.value }

    /// Canonical machine form: kronor with a point and two decimals, e.g. `-1234.50`.
    public var description: String { Ore.decimalString(value, separator: ".") }

    /// Swedish presentation of the exact amount: `-1 234,50` (space as thousands separator).
    public var swedish: String {
        let neg = value < 0
        let mag = value.magnitude
        let kr = mag / 100, ore = mag % 100
        return (neg ? "-" : "") + Ore.grouped(kr) + "," + (ore < 10 ? "0" : "") + String(ore)
    }

    static func decimalString(_ v: Int64, separator: String) -> String {
        let neg = v < 0
        let mag = v.magnitude
        let kr = mag / 100, ore = mag % 100
        return (neg ? "-" : "") + String(kr) + separator + (ore < 10 ? "0" : "") + String(ore)
    }

    static func grouped(_ n: UInt64) -> String {
        let digits = Array(String(n))
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(" ") }
            out.append(d)
        }
        return out
    }

    /// Rounds to whole units of `unit` öre (100_000 for tkr, 100_000_000 for mnkr), half away
    /// from zero. This is the only rounding Ramkoll does, once, at presentation.
    public func rounded(toUnitsOf unit: Int64) -> Int64 {
        precondition(unit > 0)
        return Ore.divideRoundingHalfAwayFromZero(value, by: unit)
    }

    /// `a × b / c` rounded half away from zero, exactly, with a 128-bit intermediate product
    /// (öre × öre overflows 64 bits). Nil when `c` is zero or the result does not fit.
    public static func mulDivRoundingHalfAwayFromZero(_ a: Int64, _ b: Int64, _ c: Int64) -> Int64? {
        guard c != 0 else { return nil }
        let negative = ((a < 0) != (b < 0)) != (c < 0)
        let product = a.magnitude.multipliedFullWidth(by: b.magnitude)
        let divisor = c.magnitude
        guard product.high < divisor else { return nil }
        var (q, r) = divisor.dividingFullWidth((high: product.high, low: product.low))
        if r >= divisor - r { q += 1 }  // 2r ≥ divisor, without overflow
        guard q <= UInt64(Int64.max) else { return nil }
        return negative ? -Int64(q) : Int64(q)
    }

    /// `n / d` rounded half away from zero, exactly (no floating point). `d` must not be zero.
    public static func divideRoundingHalfAwayFromZero(_ n: Int64, by d: Int64) -> Int64 {
        precondition(d != 0)
        let (mag, dm) = (n.magnitude, d.magnitude)
        var q = mag / dm
        if (mag % dm) * 2 >= dm { q += 1 }
        return (n < 0) != (d < 0) ? -Int64(q) : Int64(q)
    }

    /// Whole tkr, rounded once from the exact value.
    public var tkr: Int64 { rounded(toUnitsOf: 100_000) }

    /// A ratio in basis points (1 % = 100), exact integer arithmetic, half away from zero.
    /// Returns nil when the denominator is zero.
    public static func basisPoints(_ numerator: Ore, of denominator: Ore) -> Int64? {
        guard denominator.value != 0 else { return nil }
        return mulDivRoundingHalfAwayFromZero(numerator.value, 10_000, denominator.value)
    }

    /// Formats whole thousands the Swedish way for tables: `-121 932`.
    public static func formatWhole(_ n: Int64) -> String {
        (n < 0 ? "-" : "") + grouped(n.magnitude)
    }

    /// Formats basis points as a percentage with one decimal and a decimal comma: `-3,4`.
    public static func formatPercent(_ bp: Int64) -> String {
        let mag = bp.magnitude
        var tenths = mag / 10
        if mag % 10 >= 5 { tenths += 1 }
        return (bp < 0 && tenths > 0 ? "-" : "") + String(tenths / 10) + "," + String(tenths % 10)
    }
}

/// The two sign conventions (README "Conventions"). Ledgers are debit-positive (costs +, revenue −);
/// the committee's tables are in report sign (revenue +, costs −, kommunbidrag +).
public enum SignConvention: String, Sendable, Codable {
    case ledger
    case report

    /// Converts an amount in ledger sign into report sign. The conversion is a plain negation for
    /// every line, which is what makes "avvikelse = utfall − budget" mean "positive = surplus".
    public static func reportSign(fromLedger amount: Ore) -> Ore { -amount }
}

/// The absolute total of one kind of input as a run reads it, and the row that pushed it past
/// `Ore.runLimit` (see there). Adding saturates, so counting never traps; the sums kept beside
/// it are only used while `exceeded` is false.
public struct MoneyTally: Sendable {
    public private(set) var magnitude: UInt64 = 0
    /// The largest single amount and where it was (file, line), for the error's message.
    public private(set) var largest: (file: String, line: Int, amount: Ore)?
    public init() {}

    public var exceeded: Bool { magnitude > Ore.runLimit }

    @inline(__always)
    public mutating func add(_ a: Ore, file: @autoclosure () -> String, line: Int) {
        let m = a.value.magnitude
        let (s, o) = magnitude.addingReportingOverflow(m)
        magnitude = o ? .max : s
        if m > (largest?.amount.value.magnitude ?? 0) { largest = (file(), line, a) }
    }

    /// Adds an amount and throws the data error (`error(what())`) once the tally passes the limit.
    @inline(__always)
    public mutating func count(_ a: Ore, file: @autoclosure () -> String, line: Int, what: @autoclosure () -> String) throws {
        add(a, file: file(), line: line)
        if exceeded { throw error(what()) }
    }

    public mutating func absorb(_ other: MoneyTally) {
        let (s, o) = magnitude.addingReportingOverflow(other.magnitude)
        magnitude = o ? .max : s
        if let l = other.largest, l.amount.value.magnitude > (largest?.amount.value.magnitude ?? 0) { largest = l }
    }

    /// The data error for a tally past the limit: what, and the largest amount with its place.
    public func error(_ what: String) -> RamkollError {
        var m = "\(what) add up to more than \(Ore.runLimitText) in absolute value, beyond what Ramkoll sums exactly"
        if let l = largest { m += "; the largest is \(l.amount.swedish) kr at \(l.file):\(l.line)" }
        return RamkollError(.data, m + " — check the amounts' decimal places and column")
    }
}
