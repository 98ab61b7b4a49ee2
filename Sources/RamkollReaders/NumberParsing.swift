import RamkollModel

/// Parses an amount as Swedish ledgers write it into exact öre, or says precisely why not.
///
/// Accepted: `-1 234,50`, `1234,5`, `1 234` (space, no-break space U+00A0 or narrow no-break space
/// U+202F between groups of three digits), a leading `-`, `+` or U+2212 minus, a trailing minus
/// (`1 234,50-`), at most two decimals. With `decimal: "."` the roles swap (`-1234.50`).
/// Rejected with a reason, never guessed: `1.234` and `1,234,5` (which separator is the decimal?),
/// three or more decimals, misplaced group separators, any other character.
public struct AmountParser: Sendable {
    public let decimalSeparator: UInt8

    public init(decimalSeparator: UInt8 = UInt8(ascii: ",")) { self.decimalSeparator = decimalSeparator }

    public enum Failure: Error, Equatable, Sendable {
        case empty
        case unexpected(String)
        case ambiguousSeparator(String)
        case repeatedDecimalSeparator(String)
        case tooManyDecimals
        case misplacedGroupSeparator
        case overflow

        public var reason: String {
            switch self {
            case .empty: return "amount is empty"
            case .unexpected(let c): return "unexpected character \(c) in amount"
            case .ambiguousSeparator(let c): return "\(c) is not this profile's decimal separator, so the number is ambiguous"
            case .repeatedDecimalSeparator(let c): return "the decimal separator \(c) appears more than once, so the number is ambiguous"
            case .tooManyDecimals: return "amount has more than 2 decimals"
            case .misplacedGroupSeparator: return "thousands separator in the wrong place (groups of three digits expected)"
            case .overflow: return Ore.amountLimitReason
            }
        }
    }

    /// The same as the general `parse`, for bytes in place: the common shapes (`-1234,5`,
    /// `20 315,94`, no-break-space groups, no padding) are read without copying; anything else
    /// goes to the general parser, which also gives every failure.
    public func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Result<Ore, Failure> {
        if let o = plain(bytes) { return .success(Ore(o)) }
        return parse(bytes[...])
    }

    /// An amount of the plain shape: optional `-`, digits in groups of three after the first
    /// (separated by a space, 0xA0 or U+00A0), then optionally the decimal separator and one or
    /// two digits; nil for any other shape (including overflow).
    @inline(__always)
    func plain(_ b: UnsafeBufferPointer<UInt8>) -> Int64? {
        var i = 0
        let n = b.count
        guard n > 0 else { return nil }
        let negative = b[0] == UInt8(ascii: "-")
        if negative { i = 1 }
        var whole: Int64 = 0, digits = 0, inGroup = 0, grouped = false
        while i < n {
            let c = b[i]
            if c &- 48 < 10 {
                whole = whole &* 10 &+ Int64(c &- 48); digits += 1; inGroup += 1; i += 1
                continue
            }
            var w = 0
            if c == 0x20 || c == 0xA0 { w = 1 } else if c == 0xC2, i + 1 < n, b[i + 1] == 0xA0 { w = 2 }
            guard w > 0 else { break }
            // A group separator: after 1–3 digits (first group) or exactly 3, and digits must follow.
            guard inGroup > 0, grouped ? inGroup == 3 : inGroup <= 3 else { return nil }
            grouped = true; inGroup = 0; i += w
        }
        guard digits > 0, digits <= 13, !grouped || inGroup == 3 else { return nil }  // 13 digits: within Ore.rowLimit
        var decimals: Int64 = 0
        if i < n {
            guard b[i] == decimalSeparator, n - i == 2 || n - i == 3 else { return nil }
            let d1 = b[i + 1] &- 48
            guard d1 < 10 else { return nil }
            if n - i == 3 {
                let d2 = b[i + 2] &- 48
                guard d2 < 10 else { return nil }
                decimals = Int64(d1) * 10 + Int64(d2)
            } else {
                decimals = Int64(d1) * 10
            }
        }
        let ore = whole * 100 + decimals
        return negative ? -ore : ore
    }

    @_specialize(exported:true,where C == ArraySlice<UInt8>)
    @_specialize(exported:true,where C == [UInt8])
    @_specialize(exported:true,where C == Slice<UnsafeBufferPointer<UInt8>>)
    public func parse<C: Collection>(_ bytes: C) -> Result<Ore, Failure> where C.Element == UInt8 {
        var b = Array(bytes)
        // Trim ASCII whitespace and no-break spaces at both ends.
        func isSpaceAt(_ i: Int) -> Int {  // returns the width of a space sequence at i, or 0
            if b[i] == 0x20 || b[i] == 0x09 || b[i] == 0xA0 { return 1 }
            if b[i] == 0xC2, i + 1 < b.count, b[i + 1] == 0xA0 { return 2 }
            if b[i] == 0xE2, i + 2 < b.count, b[i + 1] == 0x80, b[i + 2] == 0xAF { return 3 }
            return 0
        }
        while !b.isEmpty, b.last == 0x20 || b.last == 0x09 { b.removeLast() }
        var start = 0
        while start < b.count, b[start] == 0x20 || b[start] == 0x09 { start += 1 }
        if start >= b.count { return .failure(.empty) }

        var negative = false
        var i = start
        var stop = b.count
        if b[i] == UInt8(ascii: "-") {
            negative = true; i += 1
        } else if b[i] == UInt8(ascii: "+") {
            i += 1
        } else if b[i] == 0xE2, i + 2 < b.count, b[i + 1] == 0x88, b[i + 2] == 0x92 {
            negative = true; i += 3
        }
        if b[stop - 1] == UInt8(ascii: "-"), !negative, stop - 1 > i { negative = true; stop -= 1 }
        if i >= stop { return .failure(.unexpected("\"-\" without digits")) }

        if b[i..<stop].lazy.filter({ $0 == self.decimalSeparator }).count > 1 {
            return .failure(.repeatedDecimalSeparator("\"\(Character(Unicode.Scalar(decimalSeparator)))\""))
        }
        let otherSeparator: UInt8 = decimalSeparator == UInt8(ascii: ",") ? UInt8(ascii: ".") : UInt8(ascii: ",")
        var whole: Int64 = 0
        var digitsInGroup = 0
        var sawGroupSeparator = false
        var sawDigit = false
        var decimals: Int64 = 0
        var decimalCount = -1  // -1: no decimal separator seen yet
        while i < stop {
            let c = b[i]
            if c >= 48 && c <= 57 {
                let d = Int64(c - 48)
                if decimalCount >= 0 {
                    decimalCount += 1
                    if decimalCount > 2 { return .failure(.tooManyDecimals) }
                    decimals = decimals * 10 + d
                } else {
                    let (m, o1) = whole.multipliedReportingOverflow(by: 10)
                    let (s, o2) = m.addingReportingOverflow(d)
                    if o1 || o2 || s > Int64.max / 100 - 1 { return .failure(.overflow) }
                    whole = s
                    digitsInGroup += 1
                }
                sawDigit = true
                i += 1
                continue
            }
            let w = isSpaceAt(i)
            if w > 0 {
                // A group separator: must follow 1–3 digits (first group) or exactly 3.
                if decimalCount >= 0 || !sawDigit { return .failure(.misplacedGroupSeparator) }
                if sawGroupSeparator ? digitsInGroup != 3 : digitsInGroup > 3 { return .failure(.misplacedGroupSeparator) }
                sawGroupSeparator = true
                digitsInGroup = 0
                i += w
                continue
            }
            if c == decimalSeparator {
                if !sawDigit { return .failure(.unexpected("\"\(Character(Unicode.Scalar(c)))\" before any digit")) }
                decimalCount = 0
                i += 1
                continue
            }
            if c == otherSeparator {
                return .failure(.ambiguousSeparator("\"\(Character(Unicode.Scalar(c)))\""))
            }
            let shown: String = c < 0x80 && c >= 0x20 ? "\"\(Character(Unicode.Scalar(c)))\"" : "byte 0x" + String(c, radix: 16, uppercase: true)
            return .failure(.unexpected(shown))
        }
        if sawGroupSeparator && digitsInGroup != 3 { return .failure(.misplacedGroupSeparator) }
        if decimalCount == 0 { return .failure(.unexpected("decimal separator without decimals")) }
        if !sawDigit { return .failure(.empty) }
        if decimalCount == 1 { decimals *= 10 }
        let ore = whole * 100 + decimals
        if ore > Ore.rowLimit { return .failure(.overflow) }
        return .success(Ore(negative ? -ore : ore))
    }
}

/// Date and period layouts seen in exports.
public enum DateLayout: String, Sendable, CaseIterable {
    case isoDate = "YYYY-MM-DD"
    case compactDate = "YYYYMMDD"
    case compactPeriod = "YYYYMM"
    case isoPeriod = "YYYY-MM"

    public var isPeriodOnly: Bool { self == .compactPeriod || self == .isoPeriod }

    /// Parses a date (or, for period layouts, the first day of the period).
    /// Returns nil if the text does not have this layout or the date does not exist.
    @_specialize(exported:true,where C == ArraySlice<UInt8>)
    @_specialize(exported:true,where C == [UInt8])
    @_specialize(exported:true,where C == UnsafeBufferPointer<UInt8>)
    public func parse<C: Collection>(_ bytes: C) -> (day: Day?, period: Period)? where C.Element == UInt8 {
        if let r = bytes.withContiguousStorageIfAvailable({ parse(buffer: $0) }) { return r }
        return Array(bytes).withUnsafeBufferPointer { parse(buffer: $0) }
    }

    /// The same on a buffer (no copy: this runs once or twice per ledger row).
    public func parse(buffer b: UnsafeBufferPointer<UInt8>) -> (day: Day?, period: Period)? {
        var lo = 0, hi = b.count
        while hi > lo && b[hi - 1] == 0x20 { hi -= 1 }
        while lo < hi && b[lo] == 0x20 { lo += 1 }
        let count = hi - lo
        guard count >= 6, let base = b.baseAddress else { return nil }
        let p = base + lo  // `count` bytes from here; every layout reads within them
        /// Two decimal digits at `k`, or nil.
        @inline(__always) func two(_ k: Int) -> Int? {
            let a = p[k] &- 48, c = p[k + 1] &- 48
            guard a < 10 && c < 10 else { return nil }
            return Int(a) * 10 + Int(c)
        }
        @inline(__always) func four(_ k: Int) -> Int? {
            guard let h = two(k), let l = two(k + 2) else { return nil }
            return h * 100 + l
        }
        let dash = UInt8(ascii: "-")
        switch self {
        case .isoDate:
            guard count == 10, p[4] == dash, p[7] == dash, let y = four(0), let m = two(5), let d = two(8),
                let day = Day(year: y, month: m, day: d)
            else { return nil }
            return (day, day.period)
        case .compactDate:
            guard count == 8, let y = four(0), let m = two(4), let d = two(6),
                let day = Day(year: y, month: m, day: d)
            else { return nil }
            return (day, day.period)
        case .compactPeriod:
            guard count == 6, let y = four(0), let m = two(4), let period = Period(year: y, month: m) else { return nil }
            return (nil, period)
        case .isoPeriod:
            guard count == 7, p[4] == dash, let y = four(0), let m = two(5), let period = Period(year: y, month: m) else { return nil }
            return (nil, period)
        }
    }
}
