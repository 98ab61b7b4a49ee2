import XCTest

@testable import RamkollModel
@testable import RamkollReaders

final class AmountParserTests: XCTestCase {
    let comma = AmountParser()
    let point = AmountParser(decimalSeparator: UInt8(ascii: "."))

    func ok(_ s: String, _ p: AmountParser? = nil, file: StaticString = #filePath, line: UInt = #line) -> Int64? {
        switch (p ?? comma).parse(Array(s.utf8)) {
        case .success(let o): return o.value
        case .failure(let f): XCTFail("\"\(s)\" was rejected: \(f.reason)", file: file, line: line); return nil
        }
    }

    func failure(_ s: String, _ p: AmountParser? = nil) -> AmountParser.Failure? {
        if case .failure(let f) = (p ?? comma).parse(Array(s.utf8)) { return f }
        return nil
    }

    func testSwedishAmounts() {
        XCTAssertEqual(ok("-1 234,50"), -123_450)
        XCTAssertEqual(ok("1234,5"), 123_450)
        XCTAssertEqual(ok("0,05"), 5)
        XCTAssertEqual(ok("  17 "), 1_700)
        XCTAssertEqual(ok("+12"), 1_200)
        XCTAssertEqual(ok("1\u{00A0}234\u{00A0}567,89"), 123_456_789)  // no-break space (UTF-8)
        XCTAssertEqual(ok("1\u{202F}234,00"), 123_400)  // narrow no-break space
        XCTAssertEqual(ok("\u{2212}850,00"), -85_000)  // U+2212 minus
        XCTAssertEqual(ok("1 234,50-"), -123_450)  // trailing minus
        XCTAssertEqual(ok("-1234.50", point), -123_450)
        XCTAssertEqual(comma.parse([0x31, 0xA0, 0x32, 0x33, 0x34, 0x2C, 0x35, 0x30]), .success(Ore(123_450)))  // 0xA0 (Windows-1252)
    }

    func testAmbiguousAndBrokenAmountsAreRejectedNotGuessed() {
        XCTAssertEqual(failure("1.234"), .ambiguousSeparator("\".\""))
        XCTAssertEqual(failure("1,234,5"), .repeatedDecimalSeparator("\",\""))
        XCTAssertEqual(failure("1,234,5")?.reason, "the decimal separator \",\" appears more than once, so the number is ambiguous")
        XCTAssertEqual(failure("1,234", point), .ambiguousSeparator("\",\""))
        XCTAssertEqual(failure("12,345"), .tooManyDecimals)
        XCTAssertEqual(failure("1 23,50"), .misplacedGroupSeparator)
        XCTAssertEqual(failure("1234 567,00"), .misplacedGroupSeparator)
        XCTAssertEqual(failure(""), .empty)
        XCTAssertEqual(failure("   "), .empty)
        XCTAssertEqual(failure("12,"), .unexpected("decimal separator without decimals"))
        XCTAssertEqual(failure("1 234,5O"), .unexpected("\"O\""))
        XCTAssertEqual(failure("-"), .unexpected("\"-\" without digits"))
        XCTAssertEqual(failure("99999999999999999999"), .overflow)
        XCTAssertEqual(failure("1.234,50")?.reason, "\".\" is not this profile's decimal separator, so the number is ambiguous")
    }

    /// Every layout against a reference written with strings: dates and periods of several
    /// years (real and impossible days), each byte replaced by a non-digit, a dash or a space,
    /// padded with spaces, cut short and made longer.
    func testDateLayoutsMatchAReferenceParser() {
        func reference(_ layout: DateLayout, _ text: String) -> (day: Day?, period: Period)? {
            let t = text.trimmingCharacters(in: CharacterSet(charactersIn: " "))
            let c = Array(t)
            func num(_ r: Range<Int>) -> Int? {
                guard r.upperBound <= c.count else { return nil }
                let s = String(c[r])
                return s.allSatisfy({ $0.isASCII && $0.isNumber }) ? Int(s) : nil
            }
            switch layout {
            case .isoDate:
                guard c.count == 10, c[4] == "-", c[7] == "-", let y = num(0..<4), let m = num(5..<7), let d = num(8..<10),
                    let day = Day(year: y, month: m, day: d)
                else { return nil }
                return (day, day.period)
            case .compactDate:
                guard c.count == 8, let y = num(0..<4), let m = num(4..<6), let d = num(6..<8), let day = Day(year: y, month: m, day: d) else {
                    return nil
                }
                return (day, day.period)
            case .compactPeriod:
                guard c.count == 6, let y = num(0..<4), let m = num(4..<6), let p = Period(year: y, month: m) else { return nil }
                return (nil, p)
            case .isoPeriod:
                guard c.count == 7, c[4] == "-", let y = num(0..<4), let m = num(5..<7), let p = Period(year: y, month: m) else { return nil }
                return (nil, p)
            }
        }
        var texts: [String] = []
        for y in [1999, 2022, 2024] {
            for m in 0...13 {
                for d in [0, 1, 28, 29, 30, 31, 32] {
                    let base = [
                        String(format: "%04d-%02d-%02d", y, m, d), String(format: "%04d%02d%02d", y, m, d), String(format: "%04d%02d", y, m),
                        String(format: "%04d-%02d", y, m),
                    ]
                    for t in base {
                        texts += [t, " \(t)", "\(t) ", " \(t)  ", String(t.dropLast()), t + "1"]
                        for k in 0..<t.count {
                            for r in ["x", "-", " ", "/", ":"] {
                                var c = Array(t)
                                c[k] = Character(r)
                                texts.append(String(c))
                            }
                        }
                    }
                }
            }
        }
        var parsed = 0
        for layout in DateLayout.allCases {
            for t in texts {
                let got = Array(t.utf8).withUnsafeBufferPointer { layout.parse(buffer: $0) }
                let want = reference(layout, t)
                XCTAssertEqual(got?.day, want?.day, "\(layout) \"\(t)\"")
                XCTAssertEqual(got?.period, want?.period, "\(layout) \"\(t)\"")
                if got != nil { parsed += 1 }
            }
        }
        XCTAssertGreaterThan(parsed, 2000)
        XCTAssertGreaterThan(texts.count * 4 - parsed, 50_000)
    }

    func testDateLayouts() {
        XCTAssertEqual(DateLayout.isoDate.parse(Array("2022-02-28".utf8))?.day?.description, "2022-02-28")
        XCTAssertNil(DateLayout.isoDate.parse(Array("2022-02-30".utf8)))
        XCTAssertNil(DateLayout.isoDate.parse(Array("20220228".utf8)))
        XCTAssertEqual(DateLayout.compactDate.parse(Array("20221231".utf8))?.period.description, "2022-12")
        XCTAssertNil(DateLayout.compactDate.parse(Array("2022123".utf8)))
        XCTAssertEqual(DateLayout.compactPeriod.parse(Array("202208".utf8))?.period.description, "2022-08")
        XCTAssertNil(DateLayout.compactPeriod.parse(Array("202213".utf8)))
        XCTAssertEqual(DateLayout.isoPeriod.parse(Array("2022-08".utf8))?.period.description, "2022-08")
    }

    /// The in-place reader of plain shapes must agree with the general parser on every input:
    /// the same öre where both accept, nothing the general parser refuses. Exhaustive over short
    /// strings of the bytes that matter, then random longer ones.
    func testThePlainShapeReaderAgreesWithTheGeneralParser() {
        let alphabet: [[UInt8]] = [[0x30], [0x31], [0x35], [0x39], [0x20], [0xA0], [0xC2, 0xA0], [0x2C], [0x2E], [0x2D], [0x2B], [0x09], [0x41]]
        var checked = 0, plainTaken = 0
        func check(_ bytes: [UInt8], _ p: AmountParser) {
            let general = p.parse(bytes[...])
            let inPlace = bytes.withUnsafeBufferPointer { p.parse($0) }
            XCTAssertEqual(general, inPlace, "\(bytes)")
            if bytes.withUnsafeBufferPointer({ p.plain($0) }) != nil {
                plainTaken += 1
                guard case .success = general else { return XCTFail("plain shape accepted what the general parser refuses: \(bytes)") }
            }
            checked += 1
        }
        func all(_ prefix: [UInt8], depth: Int) {
            for p in [comma, point] { check(prefix, p) }
            guard depth > 0 else { return }
            for a in alphabet { all(prefix + a, depth: depth - 1) }
        }
        all([], depth: 4)
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<100_000 {
            var b: [UInt8] = []
            for _ in 0..<Int.random(in: 1...22, using: &rng) { b += alphabet[Int.random(in: 0..<10, using: &rng)] }
            for p in [comma, point] { check(b, p) }
        }
        for s in ["-1 234,50", "20 315,94", "1\u{00A0}234\u{00A0}567,89", "999999999999999,99", "1234567890123456", "0,5", "-0"] {
            check(Array(s.utf8), comma)
        }
        XCTAssertGreaterThan(plainTaken, 5_000, "the plain shapes were exercised")
        XCTAssertGreaterThan(checked, 200_000)
    }
}
