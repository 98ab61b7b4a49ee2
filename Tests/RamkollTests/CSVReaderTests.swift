import XCTest

@testable import RamkollReaders

final class CSVReaderTests: XCTestCase {
    /// Reads every record; each as decoded fields plus the record's line and error.
    func records(_ bytes: [UInt8], delimiter: Character = ";", chunkSize: Int = 1 << 20) throws -> [(line: Int, fields: [String], error: String?)] {
        let dir = try TestPaths.temporaryDirectory()
        let path = try TestPaths.write(bytes: bytes, name: "t.csv", in: dir)
        let r = try CSVReader(path: path, delimiter: delimiter.asciiValue!, chunkSize: chunkSize)
        var out: [(Int, [String], String?)] = []
        while try r.next() {
            out.append((r.line, (0..<r.fieldCount).map { String(decoding: r.field($0), as: UTF8.self) }, r.recordError))
        }
        return out
    }

    /// Records read in one pass of words (whole lines in the buffer) and byte by byte (a one-byte
    /// buffer never holds a whole line) must come out the same, on random bytes that matter.
    func testWordAtATimeRecordsMatchByteByByteOnRandomInput() throws {
        let alphabet: [[UInt8]] = [
            [0x3B], [0x3B], [0x22], [0x0A], [0x0A], [0x0D], [0x0D, 0x0A], Array("ab".utf8), Array("ö".utf8), [0x20], Array("12345678".utf8),
        ]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0...400, using: &rng) { bytes += alphabet[Int.random(in: 0..<alphabet.count, using: &rng)] }
            let words = try records(bytes), single = try records(bytes, chunkSize: 1)
            XCTAssertEqual(words.count, single.count, "\(bytes)")
            for (a, b) in zip(words, single) {
                XCTAssertEqual(a.line, b.line); XCTAssertEqual(a.fields, b.fields); XCTAssertEqual(a.error, b.error)
            }
        }
    }

    /// `recordIsASCII` is never claimed for a record holding a byte ≥ 0x80 (wherever it sits in
    /// the last word before the line end), and is claimed for nearly all ASCII records.
    func testRecordIsASCIIOnlyForASCIIRecords() throws {
        let alphabet: [[UInt8]] = [Array("a".utf8), Array("b".utf8), [0x3B], Array("ö".utf8), Array("1".utf8), [0xE9]]
        var rng = SystemRandomNumberGenerator()
        var lines: [[UInt8]] = []
        for _ in 0..<3000 {
            var l: [UInt8] = [0x78]
            let high = Int.random(in: 0..<3, using: &rng) == 0
            for _ in 0..<Int.random(in: 0...30, using: &rng) {
                let piece = alphabet[Int.random(in: 0..<(high ? alphabet.count : 3), using: &rng)]
                l += piece
            }
            lines.append(l)
        }
        let dir = try TestPaths.temporaryDirectory()
        let path = try TestPaths.write(bytes: Array(lines.joined(separator: [0x0A])) + [0x0A], name: "t.csv", in: dir)
        let r = try CSVReader(path: path, delimiter: 0x3B)
        var i = 0, asciiRecords = 0, claimed = 0
        while try r.next() {
            let isASCII = lines[i].allSatisfy { $0 < 0x80 }
            if r.recordIsASCII { XCTAssertTrue(isASCII, "record \(i + 1): \(lines[i])"); claimed += 1 }
            if isASCII { asciiRecords += 1 }
            i += 1
        }
        XCTAssertEqual(i, lines.count)
        XCTAssertGreaterThan(asciiRecords, 1500)
        XCTAssertGreaterThan(claimed, asciiRecords * 9 / 10)
    }

    /// The word-wise ASCII test: one high byte (of several values) at every position of every
    /// length to 24, against byte by byte.
    func testIsASCIIMatchesByteByByte() {
        var cases = 0, ascii = 0
        for n in 0...24 {
            for at in 0..<max(n, 1) {
                for v: UInt8 in [0x7F, 0x80, 0xC3, 0xFF, 0x41] {
                    var b = [UInt8](repeating: 0x61, count: n)
                    if n > 0 { b[at] = v }
                    let want = b.allSatisfy { $0 < 0x80 }
                    XCTAssertEqual(b.withUnsafeBufferPointer { TextEncoding.isASCII($0) }, want, "\(b)")
                    cases += 1
                    if want { ascii += 1 }
                }
            }
        }
        XCTAssertEqual(cases - ascii, 3 * 300)  // three high values at each of 1 + 2 + … + 24 positions
    }

    /// UTF-8 validation on bytes in memory against Swift's own strict decoding: every lead byte
    /// with continuation bytes from each class, after ASCII runs that end before, on and after a
    /// word edge, and cut short at the end.
    func testUTF8ValidationMatchesTheStandardLibrary() {
        let follow: [UInt8] = [0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0]
        var valid = 0, cases = 0
        for lead in UInt8(0x80)...UInt8(0xFF) {
            for c1 in follow {
                for c2 in follow {
                    for c3 in [UInt8(0x80), 0xBF, 0x41] {
                        for prefix in [0, 1, 7, 8, 9] {
                            for cut in 0...1 {
                                var b = [UInt8](repeating: 0x61, count: prefix) + [lead, c1, c2, c3]
                                b.removeLast(cut * 2)
                                let want = String(validating: b, as: UTF8.self) != nil
                                XCTAssertEqual(b.withUnsafeBufferPointer { TextEncoding.isValidUTF8($0) }, want, "\(b)")
                                XCTAssertEqual(TextEncoding.isValidUTF8(b), want, "\(b)")
                                cases += 1
                                if want { valid += 1 }
                            }
                        }
                    }
                }
            }
        }
        XCTAssertGreaterThan(valid, 10_000)
        XCTAssertGreaterThan(cases - valid, 100_000)
    }

    /// Windows-1252 and Latin-1 to UTF-8 against Foundation's decoding: every byte value at every
    /// position of texts up to 20 bytes (ASCII around it, so the word-wise copy meets it at every
    /// offset); the five bytes Windows-1252 leaves unassigned are refused.
    func testSingleByteTranscodingMatchesFoundation() {
        var refused = 0, cases = 0
        let out = UnsafeMutablePointer<UInt8>.allocate(capacity: 64)
        defer { out.deallocate() }
        for (encoding, foundation) in [(TextEncoding.windows1252, String.Encoding.windowsCP1252), (.latin1, .isoLatin1)] {
            for n in 1...20 {
                for at in 0..<n {
                    for v in 0...255 {
                        var b = (0..<n).map { UInt8(0x61 + $0 % 26) }
                        b[at] = UInt8(v)
                        let got = b.withUnsafeBufferPointer { encoding.transcodeToUTF8($0, into: out) }.map {
                            Array(UnsafeBufferPointer(start: out, count: $0))
                        }
                        let unassigned = encoding == .windows1252 && [0x81, 0x8D, 0x8F, 0x90, 0x9D].contains(v)
                        if unassigned {
                            XCTAssertNil(got, "\(b)")
                            refused += 1
                        } else {
                            XCTAssertEqual(got, String(data: Data(b), encoding: foundation).map { Array($0.utf8) }, "\(encoding) \(b)")
                        }
                        cases += 1
                    }
                }
            }
        }
        XCTAssertEqual(refused, 5 * 210)
        XCTAssertEqual(cases, 2 * 256 * 210)
    }

    func testQuotingPerRFC4180() throws {
        let text = "a;b;c\n1;\"x;y\";\"he said \"\"hej\"\"\"\n2;\"two\nlines\";z\n3;;\n"
        for chunk in [1, 2, 3, 7, 1 << 20] {  // chunk boundaries anywhere must not matter
            let r = try records(Array(text.utf8), chunkSize: chunk)
            XCTAssertEqual(
                r.map(\.fields), [["a", "b", "c"], ["1", "x;y", "he said \"hej\""], ["2", "two\nlines", "z"], ["3", "", ""]], "chunk \(chunk)")
            XCTAssertEqual(r.map(\.line), [1, 2, 3, 5], "a record with an embedded line break spans two lines")
            XCTAssertTrue(r.allSatisfy { $0.error == nil })
        }
    }

    func testRecordsLongerThanTheBufferAndWithManyFields() throws {
        // A quoted field of 5 000 bytes with doubled quotes, read in 64-byte chunks, then a record
        // of 200 fields: the buffer and the field table grow, and what was read before stays put.
        let long = String(repeating: "ab\"\"c;\n", count: 625)
        let wide = (1...200).map(String.init).joined(separator: ";")
        let text = "x;\"" + long + "\";y\n" + wide + "\nlast\n"
        for chunk in [64, 1 << 20] {
            let r = try records(Array(text.utf8), chunkSize: chunk)
            XCTAssertEqual(r.count, 3, "chunk \(chunk)")
            XCTAssertEqual(r[0].fields, ["x", String(repeating: "ab\"c;\n", count: 625), "y"], "chunk \(chunk)")
            XCTAssertEqual(r[1].fields, (1...200).map(String.init), "chunk \(chunk)")
            XCTAssertEqual(r.map(\.line), [1, 627, 628], "chunk \(chunk)")
        }
    }

    func testCRLFBOMBlankLinesAndMissingFinalNewline() throws {
        let r = try records([0xEF, 0xBB, 0xBF] + Array("h1;h2\r\n\r\nx;1\r\ny;2".utf8))
        XCTAssertEqual(r.map(\.fields), [["h1", "h2"], ["x", "1"], ["y", "2"]])
        XCTAssertEqual(r.map(\.line), [1, 3, 4])
    }

    func testBOMIsReported() throws {
        let dir = try TestPaths.temporaryDirectory()
        let p = try TestPaths.write(bytes: [0xEF, 0xBB, 0xBF] + Array("a\n".utf8), name: "b.csv", in: dir)
        let r = try CSVReader(path: p, delimiter: UInt8(ascii: ";"))
        XCTAssertTrue(try r.next())
        XCTAssertTrue(r.hadBOM)
        XCTAssertEqual(String(decoding: r.field(0), as: UTF8.self), "a")
    }

    func testMalformedRecordsAreFlaggedAndReadingGoesOn() throws {
        let r = try records(Array("a;\"b\"x;c\nd;e;f\ng;\"never closed\nh\n".utf8))
        XCTAssertEqual(r.count, 3)
        XCTAssertEqual(r[0].error, "unexpected text after the closing quote of field 2; a quote inside a quoted field must be doubled (\"\")")
        XCTAssertNil(r[1].error)
        XCTAssertEqual(r[1].fields, ["d", "e", "f"])
        XCTAssertEqual(r[2].error, "a quoted field opened on line 3 is never closed (reached end of file)")
    }

    func testTabDelimiterAndQuoteInsideUnquotedField() throws {
        let r = try records(Array("12\" skärm\tx\n".utf8), delimiter: "\t")
        XCTAssertEqual(r.map(\.fields), [["12\" skärm", "x"]])
    }

    func testWindows1252AndUTF8Decoding() {
        XCTAssertEqual(TextEncoding.windows1252.decode([0x80, 0x20, 0xE5, 0xE4, 0xF6, 0x96]), "€ åäö–")
        XCTAssertEqual(TextEncoding.latin1.decode([0xE5, 0x80]), "å\u{80}")
        XCTAssertNil(TextEncoding.windows1252.decode([0x81]))  // unassigned in Windows-1252
        XCTAssertEqual(TextEncoding.utf8.decode(Array("Göteborg".utf8)), "Göteborg")
        XCTAssertNil(TextEncoding.utf8.decode([0x47, 0xF6, 0x74]))  // "Göt" in Windows-1252 is not UTF-8
        XCTAssertNil(TextEncoding.utf8.decode([0xC0, 0x80]))  // overlong
        XCTAssertNil(TextEncoding.utf8.decode([0xED, 0xA0, 0x80]))  // surrogate
        XCTAssertEqual(TextEncoding(name: "CP1252"), .windows1252)
    }

    func testMissingFileIsAClearError() {
        XCTAssertThrowsError(try CSVReader(path: "/nonexistent/huvudbok.csv", delimiter: 59)) { e in
            XCTAssertEqual("\(e)", "/nonexistent/huvudbok.csv: cannot open file (No such file or directory)")
        }
    }
}
