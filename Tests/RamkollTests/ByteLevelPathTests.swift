import Foundation
import RamkollModel
import XCTest

@testable import RamkollPipeline

/// The ledger importer's byte-level path must write exactly what the general path writes: the
/// same ledger.csv, voucher totals, rejects and manifest, byte for byte, on rows chosen to be
/// awkward — quoting, padding, encodings, amounts in every accepted form, personnummer in texts,
/// and rows that must be rejected (which the byte-level path leaves to the general one).
final class ByteLevelPathTests: XCTestCase {
    static let utf8Rows = [
        "\u{FEFF}Verifikation;Bokföringsdatum;Konto;Kontotext;Ansvar;Verksamhet;Aktivitet;Projekt;Motpart;Belopp;Text",
        "A1;2021-01-15;50110;Månadslön;100;569;;;;10 000,00;Lön januari",
        "A1;2021-01-15;50110;;100;569;;;;-10 000,00;Lön januari rättelse",
        "A2; 2021-02-03 ;\t50110 ; ;  100 ;569;;;;1\u{00A0}234,5;  padded text\t",
        "A3;2021-02-04;46310;;100;569;;;;\u{2212}99,99;\"Nordvik; HVB \"\"akut\"\"\"",
        "A4;2021-02-05;46310;;100;569;;;;99,99-;Faktura 850709-9805 avser 19850709-9805 och 198507099805",
        "A5;2021-02-06;46310;;100;569;;;;12;\"två\nrader\"",
        "A6;2021-02-07;46310;;100;569;;;;12,3,4;fel belopp",
        "A7;2021-02-30;46310;;100;569;;;;12;datum finns inte",
        "A8;2021-02-08;463-10;;100;569;;;;12;konto med streck",
        ";2021-02-09;46310;;100;569;;;;7;utan verifikation",
        ";2021-02-09;46310;;100;569;;;;8;utan verifikation igen",
        "A9;2021-03-01;46310;;100;569;;;;1;för kort;extra",
        "A10;2021-03-02;46310;;100;569;;;;5;Kronans Apotek 1234567890123",
        "A10;2021-03-02;46310;;100;569;;;;5;\"text\"efter citat",
        "A11;2021-03-03;46310;;100;569;;;;5;€ ‰ – åäö ÅÄÖ 😀",
        "\"A;12\";2021-03-04;46310;;100;569;;;;5;verifikation med semikolon",
        "\"A\"\"13\";2021-03-05;46310;;100;569;;;;5;verifikation med citattecken",
    ]
    static let cp1252Rows: [String] = [
        "Bilagsnr;Bokf.datum;Period;Konto;Ansvar;Vht;Akt;Proj;Motp;Belopp;Beskrivning",
        "B1;20220115;202201;50110;100;569;;;;12\u{00A0}000,00;Lön januari",
        "B2;20220215;202202;50110;100;569;;;;-1 000,50;\"Återbetalning; “€ ‰” Œ\"",
        "B3;20220216;202202;46310;100;569;;;;33,00;Barn 121212-1212 placerad",
        "B4;20220217;2022-2;46310;100;569;;;;33,00;fel period",
        "B5;;202203;46310;100;569;;;;33,00;utan datum",
        "B6;20220318;202203; 46310 ;100;569;;;; 44,00 ;  ÅÄÖ  ",
        "Summa;;;;;;;;;11 142,50;",
    ]

    func normalizeOutputs(fast: Bool, in dir: String) throws -> [String: Data] {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let utf8 = try TestPaths.write(ByteLevelPathTests.utf8Rows.joined(separator: "\n") + "\n", name: "gl-2021.csv", in: dir)
        var cp1252 = Data()
        for line in ByteLevelPathTests.cp1252Rows { cp1252.append(line.data(using: .windowsCP1252)!); cp1252.append(0x0A) }
        let cpPath = dir + "/gl-2022.csv"
        try cp1252.write(to: URL(fileURLWithPath: cpPath))
        let pipeline = try smallPipelineCopy(in: dir) {
            $0.replacingOccurrences(of: TestPaths.fixture("small") + "/ledger-2021.csv", with: utf8)
                .replacingOccurrences(of: TestPaths.fixture("small") + "/ledger-2022.csv", with: cpPath)
                .replacingOccurrences(of: "reject_limit_percent: \"50\"", with: "reject_limit_percent: \"100\"")
        }
        LedgerRowFastPath.enabled = fast
        defer { LedgerRowFastPath.enabled = true }
        let before = LedgerRowFastPath.rowsWritten
        let run = dir + "/run"
        try runPipeline(pipeline, runDir: run)
        let taken = LedgerRowFastPath.rowsWritten - before
        if fast { XCTAssertEqual(taken, 16, "the plain rows go the byte-level way") } else { XCTAssertEqual(taken, 0) }
        var out: [String: Data] = [:]
        for f in filesBelow(run + "/02-normalize") where f != "timings.json" {
            out[f] = try Data(contentsOf: URL(fileURLWithPath: run + "/02-normalize/" + f))
        }
        return out
    }

    func testTheByteLevelPathWritesWhatTheGeneralPathWrites() throws {
        // Both runs in the same folder (the file paths are in the rows).
        let dir = try TestPaths.temporaryDirectory()
        let general = try normalizeOutputs(fast: false, in: dir + "/work")
        try FileManager.default.removeItem(atPath: dir + "/work")
        let fast = try normalizeOutputs(fast: true, in: dir + "/work")
        XCTAssertEqual(fast.keys.sorted(), general.keys.sorted())
        for (name, data) in general {
            XCTAssertEqual(fast[name], data, "\(name) differs between the byte-level and the general path")
        }
        let ledger = String(decoding: general["ledger.csv"]!, as: UTF8.self)
        XCTAssertTrue(ledger.contains("\"Nordvik; HVB \"\"akut\"\"\""), ledger)
        XCTAssertTrue(ledger.contains(";Faktura [pnr] avser [pnr] och [pnr]"), ledger)
        XCTAssertTrue(ledger.contains(";\"Återbetalning; “€ ‰” Œ\""), ledger)
        XCTAssertTrue(ledger.contains(";2021-02-03;2021-02;50110;100;569;;;;;123450;padded text"), ledger)
        XCTAssertFalse(ledger.contains("121212-1212"))
        let vouchers = String(decoding: general["voucher_totals.csv"]!, as: UTF8.self)
        XCTAssertTrue(vouchers.contains("a2021;\"A;12\";") && vouchers.contains("a2021;\"A\"\"13\";"), vouchers)
        let rejects = String(decoding: general["rejects.csv"]!, as: UTF8.self)
        XCTAssertEqual(rejects.split(separator: "\n").filter { $0.hasPrefix("a2021;") || $0.hasPrefix("b2022;") }.count, 6, rejects)
        let manifest = String(decoding: general["manifest.json"]!, as: UTF8.self)
        XCTAssertTrue(manifest.contains("\"source.b2022.check.stated_totals_checked\" : 1"), manifest)
        XCTAssertFalse(manifest.contains("stated_totals_failed"), manifest)
    }
}

/// A big ledger is read in blocks on every core; the outputs must be those of one reader, byte
/// for byte, wherever the block edges fall: inside voucher runs, next to quoted line breaks,
/// rejects and a stated total — and a bare CR line end or an edge inside a quoted field sends
/// the rest of the file to one reader.
final class LedgerBlocksTests: XCTestCase {
    /// A deterministic ledger: voucher runs of 1–4 rows, quoted texts (some with a line break),
    /// now and then a rejected row.
    /// `longQuoteAt`: that row's text is a quoted field longer than several blocks (with a CR in
    /// its middle, which is no line end).
    static func ledger(rows: Int, bareCRAt: Int? = nil, longQuoteAt: Int? = nil) -> [UInt8] {
        var out = "\u{FEFF}Verifikation;Bokföringsdatum;Konto;Kontotext;Ansvar;Verksamhet;Aktivitet;Projekt;Motpart;Belopp;Text\n"
        var voucher = 1, left = 1
        var x: UInt64 = 42
        func rnd(_ n: UInt64) -> Int { x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407; return Int((x >> 33) % n) }
        for i in 0..<rows {
            if left == 0 { voucher += 1; left = 1 + rnd(4) }
            left -= 1
            let month = 1 + i * 12 / rows
            var text = ["Lön", "Köp av plats", "\"Nordvik; HVB\"", "\"två\nrader\"", "Barn 121212-1212", "\"citat \"\"x\"\"\""][rnd(6)]
            if rnd(50) == 0 { text = "\"aldrig stängd" + "\"x" }  // text after a closing quote: rejected
            if longQuoteAt == i { text = "\"" + String(repeating: "lång; text\n", count: 100) + "\r" + String(repeating: "mer\n", count: 150) + "\"" }
            let amount = rnd(30) == 0 ? "12,3,4" : "\(rnd(999) + 1) \(rnd(900) + 100),\(rnd(90) + 10)"
            out += "V\(voucher);2021-\(month < 10 ? "0" : "")\(month)-1\(rnd(9));46310;;100;569;;;;\(amount);\(text)"
            out += (bareCRAt == i ? "\r" : "\n")
        }
        return Array(out.utf8)
    }

    func outputs(_ ledger: [UInt8], blocks: Bool, in dir: String) throws -> [String: Data] {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = try TestPaths.write(bytes: ledger, name: "gl-2021.csv", in: dir)
        let pipeline = try smallPipelineCopy(in: dir) {
            $0.replacingOccurrences(of: TestPaths.fixture("small") + "/ledger-2021.csv", with: path)
                .replacingOccurrences(of: "reject_limit_percent: \"50\"", with: "reject_limit_percent: \"100\"")
        }
        return try LedgerBlocksTests.withBlocks(blocks, size: 300) {
            try runPipeline(pipeline, runDir: dir + "/run")
            return try LedgerBlocksTests.files(dir + "/run", stages: ["02-normalize", "03-reconcile"])
        }
    }

    /// Runs `body` with blocks on (of the given size, for files of any size) or off.
    static func withBlocks<T>(_ on: Bool, size: Int, _ body: () throws -> T) rethrows -> T {
        let saved = (LedgerBlocks.blockSize, LedgerBlocks.minimumFile, LedgerBlocks.workers)
        LedgerBlocks.enabled = on; LedgerBlocks.blockSize = size; LedgerBlocks.minimumFile = 0; LedgerBlocks.workers = 2
        defer {
            LedgerBlocks.enabled = true
            (LedgerBlocks.blockSize, LedgerBlocks.minimumFile, LedgerBlocks.workers) = saved
        }
        return try body()
    }

    /// The files a run wrote in these stages (timings aside), by stage/name.
    static func files(_ run: String, stages: [String]) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for stage in stages {
            for f in filesBelow(run + "/" + stage) where f != "timings.json" {
                out[stage + "/" + f] = try Data(contentsOf: URL(fileURLWithPath: run + "/" + stage + "/" + f))
            }
        }
        return out
    }

    func assertSame(_ ledger: [UInt8], _ label: String) throws {
        let dir = try TestPaths.temporaryDirectory(label)
        let one = try outputs(ledger, blocks: false, in: dir + "/work")
        try FileManager.default.removeItem(atPath: dir + "/work")
        let many = try outputs(ledger, blocks: true, in: dir + "/work")
        XCTAssertEqual(many.keys.sorted(), one.keys.sorted(), label)
        XCTAssertFalse(one.isEmpty, label)
        // Mostly postings, with voucher runs of several rows (so runs cross block edges).
        let ledgerRows = String(decoding: one["02-normalize/ledger.csv"] ?? Data(), as: UTF8.self).split(separator: "\n").count
        XCTAssertGreaterThan(ledgerRows, 1000, label)
        let longRuns = String(decoding: one["02-normalize/voucher_totals.csv"] ?? Data(), as: UTF8.self).split(separator: "\n").dropFirst()
            .filter { ($0.split(separator: ";").dropFirst(3).first.flatMap { Int($0) } ?? 0) > 1 }.count
        XCTAssertGreaterThan(longRuns, 200, label)
        for (name, data) in one { XCTAssertEqual(many[name], data, "\(label): \(name) differs between blocks and one reader") }
    }

    func testBlocksWriteWhatOneReaderWrites() throws {
        let (appended, handed, spans) = (LedgerBlocks.blocksAppended, LedgerBlocks.handedToOneReader, LedgerBlocks.spansReread)
        try assertSame(LedgerBlocksTests.ledger(rows: 3000), "blocks")
        // The file really was split (300-byte blocks): hundreds of blocks, some edges inside
        // quoted line breaks (each mended by reading on with one reader).
        XCTAssertGreaterThan(LedgerBlocks.blocksAppended - appended, 100)
        XCTAssertGreaterThan(LedgerBlocks.spansReread - spans, 5)
        XCTAssertEqual(LedgerBlocks.handedToOneReader - handed, 0)
    }

    /// An Agresso-layout (Windows-1252) file with a stated total at its end, read in blocks: the
    /// total row is recognised inside a block and checked against every block's rows.
    func testAStatedTotalReadInBlocks() throws {
        var lines = ["Bilagsnr;Bokf.datum;Period;Konto;Ansvar;Vht;Akt;Proj;Motp;Belopp;Beskrivning"]
        var total: Int64 = 0
        for i in 0..<2000 {
            let ore = Int64((i * 7919) % 100_000) - 20_000
            total += ore
            let kr = "\(ore < 0 ? "-" : "")\(abs(ore) / 100),\(String(format: "%02d", abs(ore) % 100))"
            let month = 1 + i * 12 / 2000
            lines.append("B\(i / 3);2022\(String(format: "%02d", month))15;2022\(String(format: "%02d", month));46310;100;569;;;;\(kr);Köp åäö \(i)")
        }
        lines.append("Summa;;;;;;;;;\(total < 0 ? "-" : "")\(abs(total) / 100),\(String(format: "%02d", abs(total) % 100));")
        var bytes: [UInt8] = []
        for l in lines { bytes += Array(l.data(using: .windowsCP1252)!) + [0x0A] }
        let dir = try TestPaths.temporaryDirectory()
        func run(_ blocks: Bool) throws -> [String: Data] {
            try? FileManager.default.removeItem(atPath: dir + "/work")
            try FileManager.default.createDirectory(atPath: dir + "/work", withIntermediateDirectories: true)
            let path = try TestPaths.write(bytes: bytes, name: "gl-2022.csv", in: dir + "/work")
            let pipeline = try smallPipelineCopy(in: dir + "/work") {
                $0.replacingOccurrences(of: TestPaths.fixture("small") + "/ledger-2022.csv", with: path)
            }
            return try LedgerBlocksTests.withBlocks(blocks, size: 400) {
                try runPipeline(pipeline, runDir: dir + "/work/run")
                return try LedgerBlocksTests.files(dir + "/work/run", stages: ["02-normalize", "03-reconcile"])
            }
        }
        let one = try run(false)
        let appended = LedgerBlocks.blocksAppended
        let many = try run(true)
        XCTAssertGreaterThan(LedgerBlocks.blocksAppended - appended, 100)
        for (name, data) in one { XCTAssertEqual(many[name], data, "\(name) differs between blocks and one reader") }
        let manifest = String(decoding: one["02-normalize/manifest.json"] ?? Data(), as: UTF8.self)
        XCTAssertTrue(manifest.contains("\"source.b2022.check.stated_totals_checked\" : 1"), manifest)
        XCTAssertFalse(manifest.contains("stated_totals_failed"), manifest)
    }

    /// The file cut short, or removed, between the split into blocks and their reading (another
    /// program at work on it): normalize stops with the file and the byte it could not read, or
    /// that it cannot open the file, instead of writing a ledger with rows missing.
    func testAFileChangedWhileItIsReadStopsTheStage() throws {
        let bytes = LedgerBlocksTests.ledger(rows: 3000)
        for removed in [false, true] {
            let dir = try TestPaths.temporaryDirectory("changed-\(removed)")
            let path = try TestPaths.write(bytes: bytes, name: "gl-2021.csv", in: dir)
            let pipeline = try smallPipelineCopy(in: dir) { $0.replacingOccurrences(of: TestPaths.fixture("small") + "/ledger-2021.csv", with: path) }
            LedgerBlocks.afterSplit = { p in
                guard p == path else { return }
                if removed { try? FileManager.default.removeItem(atPath: p) } else { _ = truncate(p, off_t(bytes.count / 2)) }
            }
            defer { LedgerBlocks.afterSplit = nil }
            XCTAssertThrowsError(try LedgerBlocksTests.withBlocks(true, size: 300) { try runPipeline(pipeline, runDir: dir + "/run") }) { e in
                let message = (e as? RamkollError)?.message ?? "\(e)"
                if removed {
                    XCTAssertTrue(message.contains(path) && message.contains("cannot open file (No such file or directory)"), message)
                } else {
                    XCTAssertTrue(message.contains(path) && message.contains("read failed at byte "), message)
                    let at = Int(message.components(separatedBy: "read failed at byte ").last?.prefix { $0.isNumber } ?? "") ?? -1
                    XCTAssertGreaterThanOrEqual(at, bytes.count / 2, message)
                    XCTAssertLessThan(at, bytes.count, message)
                }
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/run/02-normalize/ledger.csv"))
        }
    }

    func testABareCRSendsTheRestToOneReader() throws {
        let (appended, handed) = (LedgerBlocks.blocksAppended, LedgerBlocks.handedToOneReader)
        try assertSame(LedgerBlocksTests.ledger(rows: 1500, bareCRAt: 900), "bare-cr")
        XCTAssertGreaterThan(LedgerBlocks.blocksAppended - appended, 50, "blocks before the CR")
        XCTAssertEqual(LedgerBlocks.handedToOneReader - handed, 1, "the rest after it")
    }

    /// The 32-bytes-at-a-time count against a byte-by-byte one on random bytes rich in CR and LF
    /// (every length to 200, so lane and tail edges fall everywhere, and a block of 100 KB, past
    /// the 255 rounds a lane can count).
    func testLineFeedCountMatchesByteByByte() {
        var x: UInt64 = 7
        func rnd(_ n: UInt64) -> UInt64 { x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407; return (x >> 33) % n }
        func slow(_ b: [UInt8]) -> (Int, Bool) {
            var lf = 0, bare = false
            for (k, c) in b.enumerated() {
                if c == 0x0A { lf += 1 }
                if c == 0x0D && (k + 1 == b.count || b[k + 1] != 0x0A) { bare = true }
            }
            return (lf, bare)
        }
        var cases: [[UInt8]] = []
        for len in 0...200 {
            for _ in 0..<20 { cases.append((0..<len).map { _ in [0x0A, 0x0D, 0x41, 0x0D, 0x0A, 0x3B][Int(rnd(6))] }) }
            cases.append((0..<len).map { k in k % 2 == 0 ? 0x0D : 0x0A })  // CRLF throughout: no bare CR
        }
        var big = [UInt8](repeating: 0x41, count: 100_000)
        for k in stride(from: 66, to: big.count, by: 67) { big[k] = 0x0A }
        cases.append(big)
        big[50_001] = 0x0D
        cases.append(big)
        var bare = 0
        for b in cases {
            let fast = b.withUnsafeBufferPointer { LedgerBlocks.lineFeeds(in: $0) }
            let want = slow(b)
            XCTAssertEqual(fast.lf, want.0, "\(b)")
            XCTAssertEqual(fast.bareCR, want.1, "\(b)")
            if want.1 { bare += 1 }
        }
        XCTAssertGreaterThan(bare, 1000)
        XCTAssertLessThan(bare, cases.count - 100)
    }

    func testDigitTestMatchesByteByByte() {
        // Every byte value alone at every position of texts up to 20 bytes, then random texts of
        // bytes around the digits (/ : and their high-bit twins).
        var found = 0
        func check(_ b: [UInt8]) {
            let want = b.contains { $0 >= 48 && $0 <= 57 }
            XCTAssertEqual(b.withUnsafeBufferPointer { LedgerRowFastPath.hasDigit($0) }, want, "\(b)")
            if want { found += 1 }
        }
        for len in 1...20 {
            for at in 0..<len {
                for v in 0...255 {
                    var b = [UInt8](repeating: 0x41, count: len)
                    b[at] = UInt8(v)
                    check(b)
                }
            }
        }
        var x: UInt64 = 11
        func rnd(_ n: UInt64) -> UInt64 { x = x &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407; return (x >> 33) % n }
        for _ in 0..<20_000 {
            check((0..<Int(rnd(40))).map { _ in [0x2F, 0x3A, 0xAF, 0xB0, 0xBA, 0x20, 0xC3, 0x30, 0x39][Int(rnd(UInt64(rnd(9) == 0 ? 9 : 7)))] })
        }
        check([])
        XCTAssertGreaterThan(found, 5_000)
    }

    /// A bare CR line end in a block read as part of a span (it ends the row whose quoted text
    /// holds several block edges): the lines counted for the blocks after the span miss it, so
    /// the rest goes to one reader — with the same outputs, line numbers and all.
    func testABareCRInsideASpanSendsTheRestToOneReader() throws {
        let (handed, spans) = (LedgerBlocks.handedToOneReader, LedgerBlocks.spansReread)
        try assertSame(LedgerBlocksTests.ledger(rows: 1500, bareCRAt: 700, longQuoteAt: 700), "bare-cr-in-span")
        XCTAssertGreaterThan(LedgerBlocks.spansReread - spans, 1)
        XCTAssertEqual(LedgerBlocks.handedToOneReader - handed, 1, "the rest after the span")
    }

    /// On the sample run, whose placement invoices carry references in their texts: normalize in
    /// blocks writes the same ledger_groups.csv (references and all), so reconcile's outputs are
    /// the one reader's too.
    func testBlocksOnTheSampleWithInvoiceReferences() throws {
        let dir = try TestPaths.temporaryDirectory()
        let pipeline = try SampleTablesTests.samplePipelineCopy(in: dir)
        func run(_ blocks: Bool) throws -> [String: Data] {
            try? FileManager.default.removeItem(atPath: dir + "/run")
            return try LedgerBlocksTests.withBlocks(blocks, size: 4096) {
                try runPipeline(pipeline, runDir: dir + "/run", asOf: "2022-12")
                return try LedgerBlocksTests.files(dir + "/run", stages: ["02-normalize", "03-reconcile"])
            }
        }
        let one = try run(false)
        let appended = LedgerBlocks.blocksAppended
        let many = try run(true)
        XCTAssertGreaterThan(LedgerBlocks.blocksAppended - appended, 100)
        XCTAssertEqual(many.keys.sorted(), one.keys.sorted())
        for (name, data) in one { XCTAssertEqual(many[name], data, "\(name) differs between blocks and one reader") }
        let groups = String(decoding: one["02-normalize/ledger_groups.csv"] ?? Data(), as: UTF8.self)
        XCTAssertGreaterThan(groups.components(separatedBy: ";PL-").count, 100, "invoice references found in the texts")
        let matching = String(decoding: one["03-reconcile/invoice_matching.csv"] ?? Data(), as: UTF8.self)
        XCTAssertGreaterThan(matching.components(separatedBy: ";matched;").count, 100)
    }
}
