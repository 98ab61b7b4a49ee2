/// A calendar date without time zone: what ledgers and case systems mean by a day.
public struct Day: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Validating initializer: nil for dates that do not exist (2022-02-30, 2023-02-29).
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
            day >= 1, day <= Day.daysIn(year: year, month: month)
        else { return nil }
        self.year = year; self.month = month; self.day = day
    }

    public static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    public static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 (proleptic Gregorian), for counting care days exactly.
    public var ordinal: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    public var period: Period { Period(year: year, month: month)! }

    public static func < (a: Day, b: Day) -> Bool { (a.year, a.month, a.day) < (b.year, b.month, b.day) }

    /// ISO form `YYYY-MM-DD`.
    public var description: String {
        if (0...9999).contains(year) {
            // Written once per ledger row: ten ASCII bytes, no intermediate strings.
            let d: [UInt8] = [
                48 + UInt8(year / 1000), 48 + UInt8(year / 100 % 10), 48 + UInt8(year / 10 % 10), 48 + UInt8(year % 10), 45,
                48 + UInt8(month / 10), 48 + UInt8(month % 10), 45, 48 + UInt8(day / 10), 48 + UInt8(day % 10),
            ]
            return String(decoding: d, as: UTF8.self)
        }
        return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2)
    }

    /// Parses exactly `YYYY-MM-DD`.
    public init?(iso: String) {
        let u = Array(iso.utf8)
        guard u.count == 10, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-"),
            let y = digits(u[0..<4]), let m = digits(u[5..<7]), let d = digits(u[8..<10])
        else { return nil }
        self.init(year: y, month: m, day: d)
    }
}

/// A fiscal month, written `YYYY-MM`. The fiscal year is the calendar year (LKBR 1 kap. 5 §).
public struct Period: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let year: Int
    public let month: Int

    public init?(year: Int, month: Int) {
        guard (1...9999).contains(year), (1...12).contains(month) else { return nil }
        self.year = year; self.month = month
    }

    /// Parses `YYYY-MM`.
    public init?(_ text: String) {
        let u = Array(text.utf8)
        guard u.count == 7, u[4] == UInt8(ascii: "-"),
            let y = digits(u[0..<4]), let m = digits(u[5..<7])
        else { return nil }
        self.init(year: y, month: m)
    }

    public static func < (a: Period, b: Period) -> Bool { (a.year, a.month) < (b.year, b.month) }

    public var description: String {
        if (0...9999).contains(year) {
            let d: [UInt8] = [
                48 + UInt8(year / 1000), 48 + UInt8(year / 100 % 10), 48 + UInt8(year / 10 % 10), 48 + UInt8(year % 10), 45,
                48 + UInt8(month / 10), 48 + UInt8(month % 10),
            ]
            return String(decoding: d, as: UTF8.self)
        }
        return pad(year, 4) + "-" + pad(month, 2)
    }

    public var firstDay: Day { Day(year: year, month: month, day: 1)! }
    public var lastDay: Day { Day(year: year, month: month, day: Day.daysIn(year: year, month: month))! }

    /// The twelve months of a fiscal year.
    public static func months(ofYear year: Int) -> [Period] { (1...12).map { Period(year: year, month: $0)! } }
}

@inline(__always)
func digits(_ s: ArraySlice<UInt8>) -> Int? {
    var v = 0
    for b in s {
        guard b >= 48 && b <= 57 else { return nil }
        v = v * 10 + Int(b - 48)
    }
    return s.isEmpty ? nil : v
}

func pad(_ n: Int, _ width: Int) -> String {
    let s = String(n)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}
