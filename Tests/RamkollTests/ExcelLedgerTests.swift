import Foundation
import XCTest
import ZIPFoundation

@testable import RamkollPipeline

/// `kind: ledger-xlsx`: a ledger exported as an Excel workbook, run through `ramkoll` as a
/// controller would. The fixture (`Fixtures/xlsx`, made by its `make-fixture.py`) is a quarter of
/// a report-module export as three monthly workbooks written as Excel writes them — shared
/// strings, numbers stored as numbers and as text, floating-point noise, two title rows, the
/// account number and name in one cell, no date column — and the CSV holding the same rows.
final class ExcelLedgerTests: XCTestCase {
    static let fixture = TestPaths.fixture("xlsx")

    /// The three workbooks and the CSV give the same Drift table and the same normalized rows.
    func testAnExcelLedgerGivesTheSameDriftAsTheCSVWithTheSameRows() throws {
        let dir = try TestPaths.temporaryDirectory()
        let x = try runRamkoll(["run", Self.fixture + "/pipeline-xlsx.yaml", "--run-dir", dir + "/xlsx", "--no-warehouse"])
        XCTAssertEqual(x.status, 0, x.stdout + x.stderr)
        for m in ["01", "02", "03"] {
            XCTAssertTrue(x.stdout.contains("normalize: hb\(m): 14 read, 14 normalized, 0 rejected"), x.stdout)
        }
        let c = try runRamkoll(["run", Self.fixture + "/pipeline-csv.yaml", "--run-dir", dir + "/csv", "--no-warehouse"])
        XCTAssertEqual(c.status, 0, c.stdout + c.stderr)
        XCTAssertTrue(c.stdout.contains("normalize: hb: 42 read, 42 normalized, 0 rejected"), c.stdout)
        for table in ["04-deviation/drift.txt", "04-deviation/drift.csv"] {
            let a = try String(contentsOfFile: dir + "/xlsx/" + table, encoding: .utf8)
            XCTAssertEqual(a, try String(contentsOfFile: dir + "/csv/" + table, encoding: .utf8), table)
        }
        XCTAssertTrue(try String(contentsOfFile: dir + "/xlsx/04-deviation/drift.txt", encoding: .utf8).contains("-12 070"))
        /// ledger.csv without the source, file and line columns, sorted.
        func rows(_ run: String) throws -> [String] {
            try String(contentsOfFile: dir + "/\(run)/02-normalize/ledger.csv", encoding: .utf8).split(separator: "\n").dropFirst()
                .map { $0.split(separator: ";", omittingEmptySubsequences: false).dropFirst(3).joined(separator: ";") }.sorted()
        }
        XCTAssertEqual(try rows("xlsx"), try rows("csv"))
        // The sheet's row number is the line: row 4 is the first posting, under the header on row 3.
        let ledger = try String(contentsOfFile: dir + "/xlsx/02-normalize/ledger.csv", encoding: .utf8)
        XCTAssertTrue(
            ledger.contains("\nhb01;huvudbok-2022-01.xlsx;4;;;2022-01;31320;64020;;;;;;-33436017;Avgifter individ- och familjeomsorg 2022-01\n"))
        let inputs = try String(contentsOfFile: dir + "/xlsx/01-ingest/inputs.csv", encoding: .utf8)
        XCTAssertTrue(inputs.contains(";huvudbok-2022-02.xlsx;rapport-xlsx;"), inputs)
    }

    func testCheckReadsTheWorkbooksHeaderAndNamesTheSheetsWhenOneIsMissing() throws {
        let ok = try runRamkoll(["check", Self.fixture + "/pipeline-xlsx.yaml"])
        XCTAssertEqual(ok.status, 0, ok.stdout + ok.stderr)
        let dir = try TestPaths.temporaryDirectory()
        for f in ["huvudbok-2022-01.xlsx", "pipeline-xlsx.yaml", "rapport-xlsx.yaml"] {
            try FileManager.default.copyItem(atPath: Self.fixture + "/" + f, toPath: dir + "/" + f)
        }
        var pipeline = try String(contentsOfFile: dir + "/pipeline-xlsx.yaml", encoding: .utf8).replacingOccurrences(
            of: "../../../../", with: TestPaths.root.path + "/")
        pipeline = String(pipeline[..<pipeline.range(of: "  - id: hb02")!.lowerBound])
        _ = try TestPaths.write(pipeline, name: "pipeline-xlsx.yaml", in: dir)
        let profile = try String(contentsOfFile: dir + "/rapport-xlsx.yaml", encoding: .utf8)
        _ = try TestPaths.write(profile.replacingOccurrences(of: "sheet: Huvudbok", with: "sheet: Kontoutdrag"), name: "rapport-xlsx.yaml", in: dir)
        let bad = try runRamkoll(["check", dir + "/pipeline-xlsx.yaml"])
        XCTAssertEqual(bad.status, 78, bad.stdout + bad.stderr)
        XCTAssertTrue(
            (bad.stdout + bad.stderr).contains(
                "source hb01: the workbook has no sheet \"Kontoutdrag\"; its sheets are \"Urval\", \"Huvudbok\" — set sheet in the profile"),
            bad.stdout + bad.stderr)
    }

    /// Without a date column the source must say its month; a profile with dates takes none.
    func testASourceWithoutDatesMustGiveItsPeriod() throws {
        let dir = try TestPaths.temporaryDirectory()
        let base = try String(contentsOfFile: Self.fixture + "/pipeline-xlsx.yaml", encoding: .utf8).replacingOccurrences(
            of: "../../../../", with: TestPaths.root.path + "/"
        ).replacingOccurrences(of: "path: huvudbok", with: "path: \(Self.fixture)/huvudbok").replacingOccurrences(
            of: "profile: rapport", with: "profile: \(Self.fixture)/rapport")
        _ = try TestPaths.write(base.replacingOccurrences(of: "    period: 2022-02\n", with: ""), name: "p.yaml", in: dir)
        let r = try runRamkoll(["check", dir + "/p.yaml"])
        XCTAssertEqual(r.status, 78, r.stdout + r.stderr)
        XCTAssertTrue(
            (r.stdout + r.stderr).contains(
                "source hb02: profile \(Self.fixture)/rapport-xlsx.yaml has no booking_date or period column, so the source must give its period: add period: YYYY-MM (the month the export covers)"
            ), r.stdout + r.stderr)
        let csv = try String(contentsOfFile: Self.fixture + "/pipeline-csv.yaml", encoding: .utf8).replacingOccurrences(
            of: "../../../../", with: TestPaths.root.path + "/"
        ).replacingOccurrences(of: "path: huvudbok", with: "path: \(Self.fixture)/huvudbok").replacingOccurrences(
            of: "profile: rapport", with: "profile: \(Self.fixture)/rapport")
        _ = try TestPaths.write(csv + "    period: 2022-01\n", name: "c.yaml", in: dir)
        let r2 = try runRamkoll(["check", dir + "/c.yaml"])
        XCTAssertEqual(r2.status, 78, r2.stdout + r2.stderr)
        XCTAssertTrue((r2.stdout + r2.stderr).contains("source hb: period: is for an export without dates"), r2.stdout + r2.stderr)
    }

    /// A workbook written by Ramkoll's own XLSX writer (inline strings, numbers): every row is
    /// read or rejected with its reason, and the öre are kept apart.
    func testCellsAreReadExactlyOrRejectedWithTheirReason() throws {
        let dir = try TestPaths.temporaryDirectory()
        let rows: [[XLSXWriter.Cell]] = [
            [.text("46310 Köp av huvudverksamhet"), .integer(61030), .decimal("1500.5"), .text("ett")],
            [.text("46310 Köp av huvudverksamhet"), .text("61030"), .text("-2 000,25"), .text("två")],
            [.text("46310 Köp av huvudverksamhet"), .integer(61030), .decimal("12.345"), .text("bråkdel av ett öre")],
            [.text("46310 Köp av huvudverksamhet"), .integer(61030), .decimal("99.989999999999995"), .text("flyttalsbrus")],
            [.text("46310 Köp av huvudverksamhet"), .integer(61030), .text("12.50"), .text("decimalpunkt")],
            [.text("Konto saknas"), .integer(61030), .decimal("10"), .text("inget konto")],
            [.text("46310 Köp av huvudverksamhet"), .integer(61030), .decimal("1E2"), .text("exponent")],
        ]
        try XLSXWriter.write([XLSXWriter.Sheet(name: "Blad1", header: ["Konto", "Ansvar", "Belopp", "Text"], rows: rows)], to: dir + "/l.xlsx")
        _ = try TestPaths.write(
            "kind: ledger-xlsx\naccount_with_text: true\ncolumns:\n  account: Konto\n  ansvar: Ansvar\n  amount: Belopp\n  text: Text\n",
            name: "p.yaml", in: dir)
        let p = try HostileInputTests.probe(files: [:], sources: [("l", dir + "/l.xlsx", "profile: \(dir)/p.yaml\n    period: 2022-12")])
        let r = try HostileInputTests.run(p)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)  // 3 of 7 rejected: within the probe's limit of 50 %
        XCTAssertTrue(r.stdout.contains("normalize: l: 7 read, 4 normalized, 3 rejected"), r.stdout)
        let ledger = try p.file("02-normalize/ledger.csv")
        XCTAssertTrue(ledger.contains(";2;;;2022-12;46310;61030;;;;;;150050;ett\n"), ledger)
        XCTAssertTrue(ledger.contains(";3;;;2022-12;46310;61030;;;;;;-200025;två\n"), ledger)
        XCTAssertTrue(ledger.contains(";5;;;2022-12;46310;61030;;;;;;9999;flyttalsbrus\n"), ledger)
        XCTAssertTrue(ledger.contains(";8;;;2022-12;46310;61030;;;;;;10000;exponent\n"), ledger)
        let rejects = try p.file("02-normalize/rejects.csv")
        XCTAssertTrue(
            rejects.contains(
                "l.xlsx;4;;Belopp;12.345;\"amount 12.345 (a number cell, column \"\"Belopp\"\"): has a fraction of an öre (12.345); an amount has at most 2 decimals\"\n"
            ), rejects)
        XCTAssertTrue(
            rejects.contains(
                "l.xlsx;6;;Belopp;12.50;\"amount \"\"12.50\"\" is not a number (column \"\"Belopp\"\"): \"\".\"\" is not this profile's decimal separator"
            ),
            rejects)
        XCTAssertTrue(
            rejects.contains("l.xlsx;7;;Konto;Konto saknas;\"account cell \"\"Konto saknas\"\" does not start with an account number"), rejects)
    }

    /// A date stored as a number is Excel's day number (44651 = 2022-03-31 in the 1900 system);
    /// a date stored as text follows date_layout.
    func testDatesStoredAsNumbersAreExcelDayNumbers() throws {
        let dir = try TestPaths.temporaryDirectory()
        let rows: [[XLSXWriter.Cell]] = [
            [.integer(44651), .text("46310"), .text("61030"), .decimal("10")],
            [.text("2022-12-15"), .text("46310"), .text("61030"), .decimal("20")],
            [.integer(44562), .text("46310"), .text("61030"), .decimal("30")],
        ]
        try XLSXWriter.write([XLSXWriter.Sheet(name: "Blad1", header: ["Datum", "Konto", "Ansvar", "Belopp"], rows: rows)], to: dir + "/l.xlsx")
        _ = try TestPaths.write(
            "kind: ledger-xlsx\ncolumns:\n  booking_date: Datum\n  account: Konto\n  ansvar: Ansvar\n  amount: Belopp\n", name: "p.yaml", in: dir)
        let p = try HostileInputTests.probe(files: [:], sources: [("l", dir + "/l.xlsx", "profile: \(dir)/p.yaml")])
        let r = try HostileInputTests.run(p)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let ledger = try p.file("02-normalize/ledger.csv")
        XCTAssertTrue(ledger.contains(";2;;2022-03-31;2022-03;46310;61030;;;;;;1000;\n"), ledger)
        XCTAssertTrue(ledger.contains(";3;;2022-12-15;2022-12;46310;61030;;;;;;2000;\n"), ledger)
        XCTAssertTrue(ledger.contains(";4;;2022-01-01;2022-01;46310;61030;;;;;;3000;\n"), ledger)
    }

    /// Not a workbook, and a workbook whose sheet decompresses to far more than its size: refused
    /// with the reason, nothing written to disk beyond the limit.
    func testAFileThatIsNotAWorkbookOrABombIsRefused() throws {
        let dir = try TestPaths.temporaryDirectory()
        _ = try TestPaths.write(
            "kind: ledger-xlsx\ncolumns:\n  account: Konto\n  amount: Belopp\n", name: "p.yaml", in: dir)
        _ = try TestPaths.write("Konto;Belopp\n46310;10,00\n", name: "csv.xlsx", in: dir)
        // A sheet of 40 MB of blanks: deflated to about 40 kB, a ratio no real sheet has.
        let bomb = dir + "/bomb.xlsx"
        try Self.workbook(at: bomb, sheet: 40 << 20)
        let p = try HostileInputTests.probe(
            files: [:],
            sources: [
                ("a", dir + "/csv.xlsx", "profile: \(dir)/p.yaml\n    period: 2022-12"),
                ("b", bomb, "profile: \(dir)/p.yaml\n    period: 2022-12"),
            ])
        let r = try HostileInputTests.run(p)
        XCTAssertEqual(r.status, 65, r.stdout + r.stderr)
        XCTAssertTrue(
            r.stderr.contains("csv.xlsx: not an Excel workbook (.xlsx): it is not a ZIP archive — export it again, as .xlsx"), r.stdout + r.stderr)
        let q = try HostileInputTests.probe(files: [:], sources: [("b", bomb, "profile: \(dir)/p.yaml\n    period: 2022-12")])
        let r2 = try HostileInputTests.run(q)
        XCTAssertEqual(r2.status, 65, r2.stdout + r2.stderr)
        XCTAssertTrue(
            r2.stderr.contains("bomb.xlsx: xl/worksheets/sheet1.xml decompresses to more than 19 MiB")
                && r2.stderr.contains("the workbook is damaged or built to exhaust the disk — it is not read"), r2.stdout + r2.stderr)
    }

    /// A minimal workbook whose one sheet is `blanks` bytes of spaces inside its sheetData.
    static func workbook(at path: String, sheet blanks: Int) throws {
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
        let head = Data(#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#.utf8)
        let tail = Data("</sheetData></worksheet>".utf8)
        let parts: [(String, Data)] = [
            ("xl/workbook.xml", Data(#"<workbook xmlns:r="r"><sheets><sheet name="Blad1" sheetId="1" r:id="rId1"/></sheets></workbook>"#.utf8)),
            (
                "xl/_rels/workbook.xml.rels",
                Data(#"<Relationships><Relationship Id="rId1" Type="x/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#.utf8)
            ),
        ]
        for (name, data) in parts {
            try archive.addEntry(
                with: name, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate,
                provider: { position, size in data.subdata(in: Int(position)..<Int(position) + size) })
        }
        let total = head.count + blanks + tail.count
        try archive.addEntry(
            with: "xl/worksheets/sheet1.xml", type: .file, uncompressedSize: Int64(total), compressionMethod: .deflate,
            provider: { position, size in
                var out = Data(capacity: size)
                for i in Int(position)..<Int(position) + size {
                    out.append(i < head.count ? head[i] : i >= head.count + blanks ? tail[i - head.count - blanks] : 0x20)
                }
                return out
            })
    }

    /// The other ways a workbook or its profile can be wrong, each named with what to do.
    func testWorkbookAndProfileProblemsAreNamed() throws {
        let dir = try TestPaths.temporaryDirectory()
        let header = ["Konto", "Belopp"]
        try XLSXWriter.write([XLSXWriter.Sheet(name: "Blad1", header: header, rows: [[.text("46310"), .decimal("10")]])], to: dir + "/ok.xlsx")
        try XLSXWriter.write([XLSXWriter.Sheet(name: "Blad1", header: header, rows: [])], to: dir + "/empty.xlsx")
        try XLSXWriter.write([XLSXWriter.Sheet(name: "Blad1", header: ["Konto", "Summa"], rows: [])], to: dir + "/other.xlsx")
        // A ZIP archive that is no workbook.
        let zip = try Archive(url: URL(fileURLWithPath: dir + "/nobook.xlsx"), accessMode: .create)
        let data = Data("x".utf8)
        try zip.addEntry(
            with: "readme.txt", type: .file, uncompressedSize: Int64(1), compressionMethod: .deflate, provider: { (_: Int64, _: Int) in data })
        let profile = "kind: ledger-xlsx\ncolumns:\n  account: Konto\n  amount: Belopp\n"
        _ = try TestPaths.write(profile, name: "p.yaml", in: dir)
        _ = try TestPaths.write(profile + "header_row: 9\n", name: "far.yaml", in: dir)
        func run(_ file: String, _ prof: String = "p.yaml") throws -> RamkollResult {
            let p = try HostileInputTests.probe(
                #function + file + prof, files: [:], sources: [("l", dir + "/" + file, "profile: \(dir)/\(prof)\n    period: 2022-12")])
            return try HostileInputTests.run(p)
        }
        let noBook = try run("nobook.xlsx")
        XCTAssertEqual(noBook.status, 65)
        XCTAssertTrue(
            noBook.stderr.contains(
                "nobook.xlsx: the workbook has no xl/workbook.xml: it is not an Excel workbook, or it is damaged — export it again"),
            noBook.stderr)
        let other = try run("other.xlsx")
        XCTAssertEqual(other.status, 65)
        XCTAssertTrue(
            other.stderr.contains(
                "other.xlsx:1: header has no column \"Belopp\" (amount); the header row (sheet 1, header_row 1) is \"Konto;Summa\" — is this the right profile"
            ),
            other.stderr)
        let far = try run("ok.xlsx", "far.yaml")
        XCTAssertEqual(far.status, 65)
        XCTAssertTrue(far.stderr.contains("ok.xlsx:9: header has no column \"Belopp\" (amount), \"Konto\" (account)"), far.stderr)
        let empty = try run("empty.xlsx")
        XCTAssertEqual(empty.status, 65)
        XCTAssertTrue(
            empty.stdout.contains(
                "empty.xlsx:1: the sheet has a header but no rows: the export is empty — export it again (or leave the source out for a period without postings)"
            ),
            empty.stdout)
        // Profile values that cannot be used: said by check, with the profile's line.
        _ = try TestPaths.write(profile + "sheet: 0\nheader_row: -2\n", name: "bad.yaml", in: dir)
        let p = try HostileInputTests.probe(files: [:], sources: [("l", dir + "/ok.xlsx", "profile: \(dir)/bad.yaml\n    period: 2022-12")])
        let check = try runRamkoll(["check", p.pipeline])
        XCTAssertEqual(check.status, 78, check.stdout + check.stderr)
        XCTAssertTrue(check.stdout.contains("profile: sheet must be a sheet's name or its position (1 for the first)"), check.stdout)
        XCTAssertTrue(check.stdout.contains("profile: header_row must be a row number from 1 to 1000"), check.stdout)
    }
}
