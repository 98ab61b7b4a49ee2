import Foundation
import XCTest

@testable import RamkollReaders

final class SIEReaderTests: XCTestCase {
    func records(_ bytes: [UInt8]) throws -> (SIEReader, [SIERecord]) {
        let dir = try TestPaths.temporaryDirectory()
        let p = try TestPaths.write(bytes: bytes, name: "t.se", in: dir)
        let r = try SIEReader(path: p)
        var out: [SIERecord] = []
        try r.read { out.append($0) }
        return (r, out)
    }

    func testTokenisingWhatRealFilesDo() throws {
        let text =
            "#VER A 9 20100122 \"Internfaktura \\\"33993\\\"\"  \"\"\r\n{\r\n\t#TRANS  2641 { \"1\" \"1100\" 6 \"P 12\"}\t16.81\r\n\r\n#TRANS 1930  {} -1000 20091210 \"\"\r\n}\r\n#KONTO 1060 Hyresrätt\n#GEN 20230822 \n#okänd 1 2\n"
        let (r, recs) = try records(Array(text.utf8))
        XCTAssertEqual(r.encoding, .utf8)
        XCTAssertEqual(recs.map(\.label), ["VER", "{", "TRANS", "TRANS", "}", "KONTO", "GEN", "OKÄND"])
        XCTAssertEqual(recs[0].fields, [.value("A"), .value("9"), .value("20100122"), .value("Internfaktura \"33993\""), .value("")])
        XCTAssertEqual(recs[2].objects(1), [SIEObject(dimension: "1", object: "1100"), SIEObject(dimension: "6", object: "P 12")])
        XCTAssertEqual(recs[2].text(2), "16.81")
        XCTAssertEqual(recs[3].objects(1), [])
        XCTAssertEqual(recs[3].text(4), "")
        XCTAssertEqual(recs[5].text(1), "Hyresrätt", "unquoted non-ASCII")
        XCTAssertEqual(recs[6].fields, [.value("20230822")], "trailing space")
        XCTAssertEqual(recs.map(\.line), [1, 2, 3, 5, 6, 7, 8, 9])
        XCTAssertTrue(recs.allSatisfy { $0.problem == nil })
    }

    func testBrokenLinesSayWhatIsWrong() throws {
        let (_, recs) = try records(Array("#TRANS 1930 {1 \"100\" 10.00\n#VER A 1 20220101 \"not closed\n} x\n#TRANS 1 {1} 2\n".utf8))
        XCTAssertEqual(recs[0].problem, "an object list { is not closed")
        XCTAssertEqual(recs[1].problem, "a quoted field is not closed")
        XCTAssertEqual(recs[2].problem, "text after a lone }")
        XCTAssertEqual(recs[3].problem, "an object list must hold pairs of dimension and object")
    }

    func testEncodingIsDetectedNotTrusted() throws {
        let line = "#FORMAT PC8\n#KONTO 5010 \"Löner, Åsa Öberg\"\n"
        XCTAssertEqual(try records(Array(line.utf8)).0.encoding, .utf8)
        let cp437: [UInt8] = Array("#FORMAT PC8\n#KONTO 5010 \"L".utf8) + [0x94] + Array("ner ".utf8) + [0x8F, 0x86, 0x84] + Array("\"\n".utf8)
        let (r1, recs1) = try records(cp437)
        XCTAssertEqual(r1.encoding, .cp437)
        XCTAssertEqual(recs1[1].text(1), "Löner Ååä")
        let latin1: [UInt8] = Array("#KONTO 5010 \"L".utf8) + [0xF6] + Array("ner ".utf8) + [0xC5, 0xE5, 0xE4] + Array("\"\n".utf8)
        let (r2, recs2) = try records(latin1)
        XCTAssertEqual(r2.encoding, .latin1)
        XCTAssertEqual(recs2[0].text(1), "Löner Ååä")
        XCTAssertEqual(try records(Array("#FLAGGA 0\n".utf8)).0.encoding, .cp437, "pure ASCII reads the same in every encoding")
        // CP437 "å" (0x86) beside Latin-1 "Å" (0xC5) in object names, which carry no figure (BL
        // 2011 wrote one such byte): read as CP437, the odd record named for a warning.
        let names: [UInt8] = Array("#OBJEKT 6 \"1\" \"".utf8) + [0x86] + Array("rsta\"\n#OBJEKT 6 \"".utf8) + [0xC5] + Array("1\" \"x\"\n".utf8)
        let (r3, _) = try records(names)
        XCTAssertEqual(r3.encoding, .cp437)
        XCTAssertEqual(r3.descriptiveOddities, [SIEEncodingDetector.Oddity(line: 2, label: "#OBJEKT", byte: 0xC5)])
        // The same in the texts of voucher rows: no single encoding keeps both, and amounts' rows are not guessed at.
        let mixed: [UInt8] =
            Array("#VER A 1 20220101 \"".utf8) + [0x86] + Array("rsta\"\n{\n#TRANS 1 {} 1 20220101 \"".utf8) + [0xC5] + Array("1\"\n}\n".utf8)
        XCTAssertThrowsError(try records(mixed)) { e in
            let err = e as! ReaderError
            XCTAssertEqual(err.line, 3)
            XCTAssertTrue(err.message.hasPrefix("byte 0xC5 reads as \"┼\" in CP437 and \"Å\" in Latin-1"), err.message)
        }
    }

    func testChecksumTruncationAndCRC() throws {
        var crc = CRC32()
        crc.update(Array("123456789".utf8))
        XCTAssertEqual(crc.value, 0xCBF4_3926, "the standard CRC-32 check value")
        let (r, _) = try records(Array("#FLAGGA 0\n#KSUMMA\n#GEN 20220101\n".utf8))
        XCTAssertEqual(r.checksum, .truncated)
        let (r2, _) = try records(Array("#FLAGGA 0\n#GEN 20220101\n".utf8))
        XCTAssertEqual(r2.checksum, .absent)
        // "#GEN" + "20220101" summed without the separator.
        var c = CRC32()
        c.update(Array("#GEN20220101".utf8))
        let (r3, _) = try records(Array("#FLAGGA 0\n#KSUMMA\n#GEN  \"20220101\"\n#KSUMMA \(Int32(bitPattern: c.value))\n".utf8))
        XCTAssertEqual(r3.checksum, .verified(c.value))
        // A UTF-8 file: SIE 4B §10.14 sums each character's CP437 value ("ö" = 0x94), not its UTF-8 bytes.
        var cp = CRC32()
        cp.update(Array("#KONTO".utf8) + Array("1930".utf8) + Array("F".utf8) + [0x94] + Array("retagskonto".utf8))
        let (r4, _) = try records(Array("#FLAGGA 0\n#KSUMMA\n#KONTO 1930 \"Företagskonto\"\n#KSUMMA \(cp.value)\n".utf8))
        XCTAssertEqual(r4.encoding, .utf8)
        XCTAssertEqual(r4.checksum, .verified(cp.value))
    }

    func testSIEAmounts() {
        XCTAssertEqual(SIEAmount.parse("-1000"), -100_000)
        XCTAssertEqual(SIEAmount.parse("16.81"), 1_681)
        XCTAssertEqual(SIEAmount.parse("1500.5"), 150_050)
        XCTAssertEqual(SIEAmount.parse("0.05"), 5)
        XCTAssertNil(SIEAmount.parse("+10.00"))
        XCTAssertNil(SIEAmount.parse("1000,50"))
        XCTAssertNil(SIEAmount.parse("1.234"))
        XCTAssertNil(SIEAmount.parse("12."))
        XCTAssertNil(SIEAmount.parse(""))
    }
}
