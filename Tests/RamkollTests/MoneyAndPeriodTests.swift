import XCTest

@testable import RamkollModel
@testable import RamkollPipeline

final class MoneyAndPeriodTests: XCTestCase {
    func testRoundingToTkrIsHalfAwayFromZero() {
        XCTAssertEqual(Ore(49_999).tkr, 0)
        XCTAssertEqual(Ore(50_000).tkr, 1)  // 500,00 kr → 1 tkr
        XCTAssertEqual(Ore(-50_000).tkr, -1)
        XCTAssertEqual(Ore(-49_999).tkr, 0)
        XCTAssertEqual(Ore(1_214_999_999).tkr, 12_150)
        XCTAssertEqual(Ore(-12_193_249_999).tkr, -121_932)
        XCTAssertEqual(Ore(150_000_000).rounded(toUnitsOf: 100_000_000), 2)  // mnkr: 1,5 → 2
    }

    /// Seed 001: rounding each figure once means a rounded total need not be the sum
    /// of the rounded lines.
    func testTotalsAreRoundedFromExactValuesNotFromRoundedParts() {
        // −121 932 400 kr and −12 517 400 kr: each rounds down, their sum (−134 449 800) rounds up.
        let parts = [Ore(-12_193_240_000), Ore(-1_251_740_000)]
        XCTAssertEqual(parts.map(\.tkr), [-121_932, -12_517])
        XCTAssertEqual(parts.map(\.tkr).reduce(0, +), -134_449)
        XCTAssertEqual(parts.reduce(Ore.zero, +).tkr, -134_450)
    }

    func testFormatting() {
        XCTAssertEqual(Ore(-123_450).swedish, "-1 234,50")
        XCTAssertEqual(Ore(5).swedish, "0,05")
        XCTAssertEqual(Ore(-123_450).description, "-1234.50")
        XCTAssertEqual(Ore.formatWhole(-221_731), "-221 731")
        XCTAssertEqual(Ore.formatWhole(0), "0")
        XCTAssertEqual(Ore.basisPoints(Ore(6_821), of: Ore(121_932)), 559)  // 5,59 %
        XCTAssertEqual(Ore.basisPoints(Ore(-1), of: Ore(0)), nil)
        XCTAssertEqual(Ore.formatPercent(559), "5,6")
        XCTAssertEqual(Ore.formatPercent(-34), "-0,3")
    }

    func testReportSignIsTheNegatedLedgerSign() {
        // A cost of 1 000 kr (debit, +) is −1 000 in the committee's tables; revenue the other way.
        XCTAssertEqual(SignConvention.reportSign(fromLedger: Ore(kronor: 1_000)), Ore(kronor: -1_000))
        XCTAssertEqual(SignConvention.reportSign(fromLedger: Ore(kronor: -250)), Ore(kronor: 250))
    }

    func testDaysAndPeriods() {
        XCTAssertNil(Day(year: 2022, month: 2, day: 29))
        XCTAssertNotNil(Day(year: 2024, month: 2, day: 29))
        XCTAssertNil(Day(year: 1900, month: 2, day: 29))
        XCTAssertNotNil(Day(year: 2000, month: 2, day: 29))
        XCTAssertEqual(Day(year: 1970, month: 1, day: 1)!.ordinal, 0)
        XCTAssertEqual(Day(year: 2022, month: 3, day: 1)!.ordinal - Day(year: 2022, month: 2, day: 28)!.ordinal, 1)
        XCTAssertEqual(Period("2022-08")?.description, "2022-08")
        XCTAssertNil(Period("2022-13"))
        XCTAssertNil(Period("202208"))
        XCTAssertEqual(Day(iso: "2022-02-28")?.description, "2022-02-28")
        XCTAssertNil(Day(iso: "2022-02-30"))
    }

    func testCareDaysInclusiveAndExcludingDischarge() {
        let feb = Period(year: 2022, month: 2)!
        let start = Day(year: 2022, month: 1, day: 20)!, end = Day(year: 2022, month: 2, day: 10)!
        XCTAssertEqual(CareDayConvention.inclusive.careDays(start: start, end: end, in: feb), 10)
        XCTAssertEqual(CareDayConvention.excludeDischarge.careDays(start: start, end: end, in: feb), 9)
        // Open-ended: runs to the end of the period.
        XCTAssertEqual(CareDayConvention.inclusive.careDays(start: start, end: nil, in: feb), 28)
        XCTAssertEqual(CareDayConvention.excludeDischarge.careDays(start: start, end: nil, in: feb), 28)
        // Same-day placement: one day inclusive, none when the discharge day is excluded.
        let d = Day(year: 2022, month: 2, day: 5)!
        XCTAssertEqual(CareDayConvention.inclusive.careDays(start: d, end: d, in: feb), 1)
        XCTAssertEqual(CareDayConvention.excludeDischarge.careDays(start: d, end: d, in: feb), 0)
        // Outside the period.
        XCTAssertEqual(CareDayConvention.inclusive.careDays(start: start, end: Day(year: 2022, month: 1, day: 31)!, in: feb), 0)
        // Leap February.
        XCTAssertEqual(
            CareDayConvention.inclusive.careDays(start: Day(year: 2024, month: 1, day: 1)!, end: nil, in: Period(year: 2024, month: 2)!), 29)
    }

    func testCostFollowsPricePeriods() {
        let prices = [
            PricePeriod(from: Day(year: 2022, month: 1, day: 1)!, price: Ore(300_000)),
            PricePeriod(from: Day(year: 2022, month: 2, day: 15)!, price: Ore(350_000)),
        ]
        let start = Day(year: 2022, month: 1, day: 20)!, end = Day(year: 2022, month: 3, day: 10)!
        let feb = CareDayConvention.inclusive.daysAndCost(start: start, end: end, prices: prices, in: Period(year: 2022, month: 2)!)
        XCTAssertEqual(feb.days, 28)
        XCTAssertEqual(feb.cost, Ore(14 * 300_000 + 14 * 350_000))
        let mar = CareDayConvention.excludeDischarge.daysAndCost(start: start, end: end, prices: prices, in: Period(year: 2022, month: 3)!)
        XCTAssertEqual(mar.days, 9)
        XCTAssertEqual(mar.cost, Ore(9 * 350_000), "the discharge day is not counted, a price change is not a discharge")
        // Days before the first dated price are at the first price.
        let early = CareDayConvention.inclusive.daysAndCost(
            start: Day(year: 2021, month: 12, day: 30)!, end: nil, prices: prices, in: Period(year: 2021, month: 12)!)
        XCTAssertEqual(early.days, 2)
        XCTAssertEqual(early.cost, Ore(2 * 300_000))
    }

    func testWideMultiplyDivide() {
        // 300 mnkr × 250 mnkr / 200 mnkr overflows 64 bits in the product; the result is exact.
        XCTAssertEqual(Ore.mulDivRoundingHalfAwayFromZero(30_000_000_000, 25_000_000_000, 20_000_000_000), 37_500_000_000)
        XCTAssertEqual(Ore.mulDivRoundingHalfAwayFromZero(-5, 3, 2), -8, "−7,5 rounds away from zero")
        XCTAssertEqual(Ore.mulDivRoundingHalfAwayFromZero(5, 3, -2), -8)
        XCTAssertEqual(Ore.mulDivRoundingHalfAwayFromZero(7, 1, 3), 2)
        XCTAssertNil(Ore.mulDivRoundingHalfAwayFromZero(1, 1, 0))
        XCTAssertNil(Ore.mulDivRoundingHalfAwayFromZero(Int64.max, Int64.max, 1), "does not fit")
    }
}

/// placements.csv's price periods (`YYYY-MM-DD:öre|…`) as reconcile reads them back.
final class PricePeriodTextTests: XCTestCase {
    func testPricePeriodsAreReadBackExactlyAndBadTextIsRefused() throws {
        let fallback = PricePeriod(from: Day(year: 2022, month: 1, day: 1)!, price: Ore(1))
        XCTAssertEqual(try CareDayTally.prices("", fallback: fallback, path: "p", line: 2), [fallback])
        XCTAssertEqual(
            try CareDayTally.prices("2022-01-19:227600|2022-07-01:-239000|2023-12-31:0", fallback: fallback, path: "p", line: 2),
            [
                PricePeriod(from: Day(year: 2022, month: 1, day: 19)!, price: Ore(227_600)),
                PricePeriod(from: Day(year: 2022, month: 7, day: 1)!, price: Ore(-239_000)),
                PricePeriod(from: Day(year: 2023, month: 12, day: 31)!, price: Ore(0)),
            ])
        for bad in [
            "2022-01-19", "2022-01-19:", "2022-01-19:12x", "2022-1-19:100", "2022-02-30:100", "2022-01-19:100|", "x|2022-01-19:100",
            "2022-01-19:-", "2022-01-19:1234567890123456789",
        ] {
            XCTAssertThrowsError(try CareDayTally.prices(bad, fallback: fallback, path: "p", line: 7), bad) { e in
                XCTAssertTrue("\(e)".contains("p:7: price_periods"), "\(e)")
            }
        }
        XCTAssertEqual(Day(iso: "2024-02-29"), Day(year: 2024, month: 2, day: 29))
        XCTAssertNil(Day(iso: "2023-02-29"))
        XCTAssertNil(Day(iso: "2023-02-2"))
    }
}
