import Foundation
import XCTest

@testable import RamkollReaders

/// The quirks of real SIE exports, rebuilt as small files of our own and run through `ramkoll`:
/// Fortnox's and BL's corrections (#RTRANS rule 6), Visma's #FNR in Latin-1, a budget written
/// without object lists. (The corpus of real files is `SIECorpusTests`.)
final class SIERealExportTests: XCTestCase {
    typealias H = HostileInputTests

    /// The ledger.csv amounts per account, in öre.
    static func ledgerSums(_ p: H.Probe) throws -> [String: Int64] {
        var sums: [String: Int64] = [:]
        for line in try p.file("02-normalize/ledger.csv").split(separator: "\n").dropFirst() {
            let f = line.split(separator: ";", omittingEmptySubsequences: false)
            sums[String(f[6]), default: 0] += Int64(f[13])!
        }
        return sums
    }

    /// Runs an SIE budget of two rows (2 500 kr in all, no ansvar) beside a one-voucher ledger.
    static func runBudget(_ budget: String, _ name: String = #function) throws -> H.Probe {
        let p = try H.probe(
            name, files: ["b.se": H.sie(budget), "l.se": H.sie(H.voucher(1)), "p.yaml": Array(H.sieProfile.utf8)],
            sources: [("l", "l.se", "profile: p.yaml")], budget: "b.se\n    profile: p.yaml",
            settings: "  reject_limit_percent: \"50\"\n  budget_default_unit: NG-POL\n  budget_result_kr: \"-2 500\"\n")
        let r = try H.run(p)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("normalize: budget1: 2 read, 2 normalized, 0 rejected"), r.stdout)
        return p
    }

    /// Fortnox writes every correction as an #RTRANS and then the same row as #TRANS without the
    /// signature; the pair differed, so both were booked and the correction counted twice.
    /// SIE 4B §11 #RTRANS rule 6: the #TRANS after an #RTRANS is ignored.
    func testAFortnoxCorrectionIsBookedOnce() throws {
        let body = """
            #VER A 1 20221215 "Inköp" 20221220
            {
            #TRANS 46310 {1 "61030"} 18200 "" "" 0
            #TRANS 19300 {} -18200 "" "" 0
            #RTRANS 46310 {1 "61030"} -18200 "" "" 0 "Förnamn Efternamn"
            #TRANS 46310 {1 "61030"} -18200 "" "" 0
            #RTRANS 19300 {} 18200 "" "" 0 "Förnamn Efternamn"
            #TRANS 19300 {} 18200 "" "" 0
            }

            """
        let p = try H.probe(files: ["l.se": H.sie(body), "p.yaml": Array(H.sieProfile.utf8)], sources: [("l", "l.se", "profile: p.yaml")])
        let r = try H.run(p)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("normalize: l: 6 read, 4 normalized, 0 rejected, 2 skipped"), r.stdout)
        XCTAssertEqual(try Self.ledgerSums(p)["46310"], 0, "the purchase and its correction, each once")
        XCTAssertTrue(try p.file("02-normalize/manifest.json").contains("\"source.l.skipped.#TRANS_rows_following_an_#RTRANS\" : 2"))
    }

    /// BL writes the pair with other dates: the #RTRANS carries the day the correction was
    /// registered (here after the year's end), the #TRANS the row's date in the voucher. The row
    /// is booked once, in the period of the #TRANS's date.
    func testABLCorrectionTakesTheDateOfTheRowInTheVoucher() throws {
        let body = """
            #VER A 2 20221215 "Fsg" 20230326 "2 Christer"
            {
            #TRANS 46310 {1 "61030"} 1000 20221215 ""
            #TRANS 19300 {} -1000 20221215 ""
            #RTRANS 46310 {1 "61030"} 500 20230326 "" "" "2 Christer"
            #TRANS 46310 {1 "61030"} 500 20221215 ""
            #RTRANS 19300 {} -500 20230326 "" "" "2 Christer"
            #TRANS 19300 {} -500 20221215 ""
            }

            """
        let p = try H.probe(files: ["l.se": H.sie(body), "p.yaml": Array(H.sieProfile.utf8)], sources: [("l", "l.se", "profile: p.yaml")])
        let r = try H.run(p)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertEqual(try Self.ledgerSums(p)["46310"], 150_000)
        let rows = try p.file("02-normalize/ledger.csv").split(separator: "\n").dropFirst()
        XCTAssertEqual(rows.count, 4)
        XCTAssertTrue(rows.allSatisfy { $0.contains(";2022-12-15;2022-12;") }, rows.joined(separator: "\n"))
    }

    /// Visma/SPCS writes the company folder path in #FNR in Latin-1 inside a CP437 file: the
    /// record carries no figure, so the file is read as CP437 and the record named.
    func testAVismaFolderPathInLatin1IsWarnedNotRefused() throws {
        var file = Array("#FLAGGA 0\n#PROGRAM \"SPCS Administration\" 1\n#FORMAT PC8\n#GEN 20230110\n#SIETYP 4\n".utf8)
        file += Array("#FNR \"C:\\\\Program\\\\SPCS\\\\F".utf8) + [0xF6] + Array("retag\\\\X\"\n".utf8)  // Latin-1 ö
        file += Array("#FNAMN \"Exempelby kommun\"\n#RAR 0 20220101 20221231\n#DIM 1 \"Ansvar\"\n".utf8)
        file += Array("#VER A 1 20221215 \"Bj".utf8) + [0x94] + Array("rk\"\n{\n#TRANS 46310 {1 \"61030\"} 10.00\n#TRANS 19300 {} -10.00\n}\n".utf8)  // CP437 ö
        let p = try H.probe(files: ["l.se": file, "p.yaml": Array(H.sieProfile.utf8)], sources: [("l", "l.se", "profile: p.yaml")])
        let r = try H.run(p)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("normalize: l: 2 read, 2 normalized, 0 rejected"), r.stdout)
        let warnings = try p.file("02-normalize/warnings.csv")
        XCTAssertTrue(
            warnings.contains("l;l.se;6;\"#FNR: byte 0xF6 reads as \"\"÷\"\" in cp437, the file's encoding (\"\"ö\"\" in iso-8859-1)"), warnings)
        XCTAssertTrue(try p.file("02-normalize/ledger.csv").contains(";Björk"), "the voucher's text read as CP437")
    }

    /// A budget written without object lists (`#PBUDGET 0 202201 46310 1200.00`) is read like a
    /// #TRANS without one: the account total. It was rejected, row by row.
    func testAPBUDGETWithoutObjectListIsTheAccountTotal() throws {
        let budget = "#PBUDGET 0 202201 46310 1200.00\n#PBUDGET 0 202202 46310 {} 1300.00\n"
        let p = try Self.runBudget(budget)
        let rows = try p.file("02-normalize/budget_accounts.csv")
        XCTAssertTrue(rows.contains("budget1;b.se;12;2022-01;46310;;;;;;;120000"), rows)
        XCTAssertTrue(rows.contains("budget1;b.se;13;2022-02;46310;;;;;;;130000"), rows)
    }

    /// SmallOffice writes this year's budget as årsnr -1: the rows were skipped without a word
    /// (the whole budget lost). The period decides the year, and the cause is named.
    func testABudgetLabelledWithLastYearsNumberIsReadAndNamed() throws {
        let budget = "#PBUDGET -1 202201 46310 {} 1200.00\n#PBUDGET -1 202203 46310 {} 1300.00\n"
        let p = try Self.runBudget(budget)
        XCTAssertTrue(
            try p.file("02-normalize/warnings.csv").contains(
                "budget1;b.se;12;\"2 #PBUDGET rows carry årsnr -1, but their periods 2022-01–2022-03 lie in the #RAR 0 year: the exporting program labelled them with the wrong year"
            ))
    }
}
