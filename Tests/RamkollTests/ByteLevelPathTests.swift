import Foundation
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
        if fast { XCTAssertEqual(taken, 14, "the plain rows go the byte-level way") } else { XCTAssertEqual(taken, 0) }
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
        let rejects = String(decoding: general["rejects.csv"]!, as: UTF8.self)
        XCTAssertEqual(rejects.split(separator: "\n").filter { $0.hasPrefix("a2021;") || $0.hasPrefix("b2022;") }.count, 6, rejects)
        let manifest = String(decoding: general["manifest.json"]!, as: UTF8.self)
        XCTAssertTrue(manifest.contains("\"source.b2022.check.stated_totals_checked\" : 1"), manifest)
        XCTAssertFalse(manifest.contains("stated_totals_failed"), manifest)
    }
}
