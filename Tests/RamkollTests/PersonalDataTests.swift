import Crypto
import Foundation
import XCTest

@testable import RamkollPipeline

final class PersonalDataTests: XCTestCase {
    func canonical(_ s: String) -> String? {
        if case .success(let c) = PersonalIdentity.canonical(s, referenceYear: 2022) { return c }
        return nil
    }
    func reason(_ s: String) -> String? {
        if case .failure(let f) = PersonalIdentity.canonical(s, referenceYear: 2022) { return f.reason }
        return nil
    }

    /// Test vectors from the personnummer specification's test data (reference notes §5.5).
    func testValidationVectors() {
        XCTAssertEqual(canonical("19090527+1474"), "190905271474")
        XCTAssertEqual(canonical("090527+1474"), "190905271474", "+ means 100 years or older")
        XCTAssertEqual(canonical("20000229-2399"), "200002292399")
        XCTAssertEqual(canonical("000229-2399"), "200002292399")
        XCTAssertEqual(canonical("19730288-9931"), "197302889931", "samordningsnummer: day + 60")
        XCTAssertEqual(reason("19700428-9895"), "personal identity number fails its check digit")
        XCTAssertEqual(reason("20150916-0006"), "personal identity number has serial 000, which is never issued")
        XCTAssertEqual(reason("20010229-0000"), "personal identity number has a date that does not exist")
        XCTAssertEqual(canonical("20170113-T123"), "20170113T123", "IVO placeholder")
        XCTAssertEqual(reason("1234"), "personal identity number must have 10 or 12 digits")
    }

    func testRedactionOfFreeText() {
        XCTAssertEqual(PersonalIdentity.redact("Utbetalning 19850312-1233 nov"), "Utbetalning [pnr] nov")
        XCTAssertEqual(PersonalIdentity.redact("pnr 8503121233, 850312-1233 och 198503121233"), "pnr [pnr], [pnr] och [pnr]")
        XCTAssertEqual(PersonalIdentity.redact("Faktura 123456 belopp 1 250,00"), "Faktura 123456 belopp 1 250,00")
        // The shortest forms have nine digits (a 6-digit date and a placeholder's letter and
        // three): a text with fewer is not searched, one with nine still is.
        XCTAssertEqual(PersonalIdentity.redact("Beslut 850312-T123 och 85-03-12-T123"), "Beslut [pnr] och [pnr]")
        XCTAssertEqual(PersonalIdentity.redact("Ref 85-03-12-T12 nr 7"), "Ref 85-03-12-T12 nr 7")
        XCTAssertEqual(PersonalIdentity.redact("B0000123;12345678901234"), "B0000123;12345678901234", "long digit runs are not personnummer")
    }

    func testPseudonymsAreKeyedAndStable() throws {
        let a = Pseudonymizer(keyData: Data("key-one-0123456789".utf8)), b = Pseudonymizer(keyData: Data("key-two-0123456789".utf8))
        XCTAssertEqual(a.pseudonym("200002292399"), a.pseudonym("200002292399"))
        XCTAssertNotEqual(a.pseudonym("200002292399"), b.pseudonym("200002292399"))
        XCTAssertNotEqual(a.pseudonym("200002292399"), a.pseudonym("190905271474"))
        XCTAssertEqual(a.pseudonym("200002292399").count, 22)
        XCTAssertTrue(a.pseudonym("200002292399").hasPrefix("p-"))
        XCTAssertThrowsError(try Pseudonymizer.load(nil)) { e in
            XCTAssertTrue("\(e)".contains("names no pseudonym_key"))
        }
        XCTAssertThrowsError(try Pseudonymizer.load(.environment("K"), environment: ["K": "short"]))
        XCTAssertNoThrow(try Pseudonymizer.load(.environment("K"), environment: ["K": "a-long-enough-secret"]))
    }

    /// The word-at-a-time digit count that lets a text skip the search agrees with counting byte
    /// by byte, on random bytes (most near the digits in the byte table) of every length up to 40.
    func testIdentityDigitsCountedEightBytesAtATime() {
        var rng = SystemRandomNumberGenerator()
        for length in 0...40 {
            for _ in 0..<200 {
                // Mostly digits and their neighbours in the byte table, sometimes any byte.
                let bytes: [UInt8] = (0..<length).map { _ in
                    Bool.random(using: &rng) ? UInt8.random(in: 0x2E...0x3B, using: &rng) : UInt8.random(in: 0...255, using: &rng)
                }
                let expected = bytes.filter { $0 >= 48 && $0 <= 57 }.count >= 9
                XCTAssertEqual(bytes.withUnsafeBufferPointer { PersonalIdentity.hasIdentityDigits($0) }, expected, "\(bytes)")
            }
        }
    }

    /// Every form and every reason `canonical` knows, as it answered before it was rewritten to
    /// work on the stack (reference year 2022; "!" marks the reason of a refusal).
    func testCanonicalFormsAndReasons() {
        let cases: [(String, String)] = [
            ("", "!personal identity number must have 10 or 12 digits"),
            (" ", "!personal identity number must have 10 or 12 digits"),
            ("1", "!personal identity number must have 10 or 12 digits"),
            ("19850312-1233", "!personal identity number fails its check digit"),
            ("198503121233", "!personal identity number fails its check digit"),
            ("8503121233", "!personal identity number fails its check digit"),
            ("850312-1233", "!personal identity number fails its check digit"),
            ("850312+1233", "!personal identity number fails its check digit"),
            ("19850312+1233", "!personal identity number fails its check digit"),
            (" 19850312 - 1233 ", "!personal identity number fails its check digit"),
            ("+1850312-1233", "!personal identity number has a malformed date part"),
            ("-1850312-1233", "!personal identity number has a malformed date part"),
            ("+10312-1233", "!personal identity number has a malformed date part"),
            ("1985031212334", "!personal identity number must have 10 or 12 digits"),
            ("19850312–1233", "!personal identity number must have 10 or 12 digits"),
            ("198503121234", "!personal identity number fails its check digit"),
            ("19850312-0001", "!personal identity number has serial 000, which is never issued"),
            ("19850312-0000", "!personal identity number has serial 000, which is never issued"),
            ("19850372-1233", "!personal identity number fails its check digit"),
            ("19850332-1233", "!personal identity number has a date that does not exist"),
            ("19851312-1233", "!personal identity number has a date that does not exist"),
            ("20000229-2399", "200002292399"),
            ("19000229-2399", "!personal identity number has a date that does not exist"),
            ("20170113-T123", "20170113T123"),
            ("20170113-T12A", "!placeholder number must be a letter and three digits"),
            ("20170113-t123", "!personal identity number has non-digits in its serial part"),
            ("20170113-1A23", "!personal identity number has non-digits in its serial part"),
            ("2017011x-1233", "!personal identity number has a malformed date part"),
            ("x9850312-1233", "!personal identity number has a malformed date part"),
            ("85031212331", "!personal identity number must have 10 or 12 digits"),
            ("850312-123", "!personal identity number has non-digits in its serial part"),
            ("8503121233 8503121233", "!personal identity number must have 10 or 12 digits"),
            ("00000000-0000", "!personal identity number has a date that does not exist"),
            ("18500101-1235", "!personal identity number fails its check digit"),
            ("091301+1474", "!personal identity number has a date that does not exist"),
            ("19850312_1233", "!personal identity number must have 10 or 12 digits"),
            ("1985-03-12-1233", "!personal identity number must have 10 or 12 digits"),
            ("1985 0312 1233", "!personal identity number fails its check digit"),
            ("9912311234", "!personal identity number fails its check digit"),
            ("0001011234", "!personal identity number fails its check digit"),
            ("2026123112349", "!personal identity number must have 10 or 12 digits"),
            ("Å9850312-1233", "!personal identity number must have 10 or 12 digits"),
            ("1985031２-1233", "!personal identity number must have 10 or 12 digits"),
            ("19850312-1231", "198503121231"),
            ("8503121231", "198503121231"),
            ("850312-1231", "198503121231"),
            ("850312+1231", "188503121231"),
            ("19850372-1238", "198503721238"),
            ("850372 1238", "198503721238"),
            ("121212-1212", "201212121212"),
            ("1212121212", "201212121212"),
            ("121212+1212", "191212121212"),
            ("991231-1231", "199912311231"),
            ("19991231-1231", "199912311231"),
            ("000101-1238", "200001011238"),
            ("000101+1238", "190001011238"),
            (" 0 0 0 1 0 1 1 2 3 8 ", "200001011238"),
            ("20000101-1238", "200001011238"),
        ]
        for (raw, expected) in cases {
            switch PersonalIdentity.canonical(raw, referenceYear: 2022) {
            case .success(let c): XCTAssertEqual(c, expected, raw)
            case .failure(let f): XCTAssertEqual("!" + f.reason, expected, raw)
            }
        }
    }

    /// The pseudonym is HMAC-SHA256 built from two keyed SHA-256 states: RFC 4231's vectors (a
    /// 20-byte key, and a 131-byte key that is hashed first), then `HMAC<SHA256>` itself for keys
    /// around the 64-byte block and messages around SHA-256's padding boundaries.
    func testPseudonymIsHMACSHA256() {
        let short = Pseudonymizer(keyData: Data(repeating: 0x0B, count: 20))
        XCTAssertEqual(short.pseudonym("Hi There"), "p-b0344c61d8db38535ca8")
        let long = Pseudonymizer(keyData: Data(repeating: 0xAA, count: 131))
        XCTAssertEqual(long.pseudonym("Test Using Larger Than Block-Size Key - Hash Key First"), "p-60e431591ee0b67f0d8a")
        for keyLength in [16, 32, 63, 64, 65, 200] {
            let key = Data((0..<keyLength).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) })
            let p = Pseudonymizer(keyData: key)
            for length in [0, 12, 13, 55, 56, 63, 64, 65, 130] {
                let message = String((0..<length).map { Character(Unicode.Scalar(UInt8(48 + $0 % 10))) })
                let reference = HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: key))
                XCTAssertEqual(
                    p.pseudonym(message), "p-" + reference.prefix(10).map { String(format: "%02x", $0) }.joined(),
                    "key of \(keyLength) bytes, message of \(length)")
            }
        }
    }
}

/// The pseudonym key is bytes, used as bytes: two binary keys that are not UTF-8 once collapsed
/// to the same replacement characters and so gave the same pseudonyms.
final class PseudonymKeyBytesTests: XCTestCase {
    func testBinaryKeysThatAreNotUTF8GiveDifferentPseudonyms() throws {
        let dir = try TestPaths.temporaryDirectory()
        var names: [String] = []
        for (name, byte) in [("a.key", UInt8(0xFF)), ("b.key", UInt8(0xFE))] {
            let p = try TestPaths.write(bytes: [UInt8](repeating: byte, count: 32) + [0x0A], name: name, in: dir)
            chmod(p, 0o600)
            names.append(try Pseudonymizer.load(.file(p)).pseudonym("198503121233"))
        }
        XCTAssertNotEqual(names[0], names[1])
        // A text key keeps its pseudonyms: its line end is not part of it.
        let text = try TestPaths.write("k7Qm2vX9pL4sR8tW1yZ3bN6cF0hJ5dG2\n", name: "t.key", in: dir)
        chmod(text, 0o600)
        XCTAssertEqual(
            try Pseudonymizer.load(.file(text)).pseudonym("198503121233"),
            Pseudonymizer(keyData: Data("k7Qm2vX9pL4sR8tW1yZ3bN6cF0hJ5dG2".utf8)).pseudonym("198503121233"))
    }
}
