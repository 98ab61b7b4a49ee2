import Foundation
import XCTest

@testable import RamkollPipeline

/// The public SIE corpus: 35 files exported by real accounting programs (Visma, Fortnox, BL,
/// Norstedts, SoftOne, e-conomic, Briljant, Avendo, …), kept beside the repository in
/// `../shared/realdata/sie/` and never copied into it. Each is run through the built `ramkoll`
/// as a user would (the file as a source, and as a budget where it has #PBUDGET rows), and the
/// outcome is held to the table below: what a correct reader does with the file, per the
/// corpus's README and the SIE 4B text. Every warning the run writes must be one the table
/// names (so a new false alarm fails), every rejected row one it expects, and every row and öre
/// read is normalized, rejected or skipped.
final class SIECorpusTests: XCTestCase {
    struct Expectation {
        let file: String
        /// The run's exit: 0, or 65 for a file refused as a data error (`refusal` names why).
        var exit: Int32 = 0
        var refusal: String?
        /// Also read as a budget (its #PBUDGET rows).
        var budget = false
        var rejected: Int64 = 0
        /// Rejected rows by a part of their reason.
        var rejects: [(String, Int)] = []
        /// The file's own identities (#IB + movements = #UB, Σ vouchers = #RES) that do not hold.
        var identitiesFailed: Int64 = 0
        /// Warnings by a part of their text; together they are every warning of the run.
        var warnings: [(String, Int)] = []
        /// Rows skipped, by reason (manifest key after `skipped.`).
        var skipped: [String: Int64] = [:]
        var encoding = "cp437"
        var unbalanced: Int64 = 0
    }

    static let identityUB = "≠ #UB", identityRES = "#RES 0 is"

    /// One row per file of the corpus. A file's `#KSUMMA`, where it has one, must be verified.
    static let expectations: [Expectation] = [
        Expectation(file: "alipsa_43_sie3_VismaCompact.se"),
        Expectation(file: "alipsa_44_sie4_VismaCompact.se"),
        // Voucher "" 19 has no "{": its two #TRANS are outside a block, and the accounts they touch
        // (8910, 1630) miss them in #RES/#UB; 8 more accounts differ in the file itself.
        Expectation(
            file: "alipsa_9_e-conomic.se", rejected: 2, rejects: [("row outside a #VER { … } block", 2)], identitiesFailed: 10,
            warnings: [("structure: a } without a { before it", 1), (identityRES, 5), (identityUB, 5)]),
        Expectation(file: "jsisie_BL0001_typ2.SE", budget: true),
        // BL 2011: one Latin-1 byte in an #OBJEKT name; #RTRANS/#TRANS pairs with other dates and
        // signatures (rule 6: each #TRANS after an #RTRANS ignored), three struck #BTRANS rows.
        Expectation(
            file: "jsisie_BL0001_typ4.SE", budget: true, warnings: [("#OBJEKT: byte 0xC5 reads as \"┼\" in cp437", 2)],
            skipped: ["#TRANS_rows_following_an_#RTRANS": 6, "struck_#BTRANS_rows": 3]),
        Expectation(file: "jsisie_Bokslut_Norstedts_SIE_4E.se"),
        Expectation(file: "jsisie_Exempelbolaget_SIE_110322_B_33.si"),
        Expectation(file: "jsisie_LON_Lonekorning.SI"),
        Expectation(file: "jsisie_MAMUT_SIE4_EXPORT.SE"),
        Expectation(file: "jsisie_Norstedts_Bokslut_SIE_4I.si"),
        Expectation(file: "jsisie_Norstedts_Revision_SIE_1.SE", warnings: [("holds neither vouchers (#VER) nor monthly movements", 1)]),
        Expectation(
            file: "jsisie_SIE4_Exempelfil_med_underdim.SE", warnings: [("702 U+FFFD replacement characters", 1), ("#FLAGGA 1", 1)],
            encoding: "utf-8"),
        Expectation(file: "jsisie_SIE_exempelfil_Specter.se"),
        Expectation(file: "jsisie_Sie1_VismaCompact.se", warnings: [("holds neither vouchers (#VER) nor monthly movements", 1)]),
        // Stale #UB on 29 accounts: the file's fault, named.
        Expectation(file: "jsisie_Sie4_Fortnox.si", identitiesFailed: 29, warnings: [(identityUB, 29)]),
        Expectation(
            file: "jsisie_Sie4_SoftOne.se", rejected: 40,
            rejects: [("account \"FEL\" is not numeric", 37), ("a quoted field is not closed", 3)], identitiesFailed: 5,
            warnings: [("has rejected rows; its kept rows add up to", 36), (identityRES, 3), (identityUB, 2)]),
        // Its budget is written as årsnr -1 on the periods of the #RAR 0 year.
        Expectation(
            file: "jsisie_Sie_1+2_SmallOffice.se", budget: true,
            warnings: [("46 #PBUDGET rows carry årsnr -1, but their periods 2014-01–2014-03 lie in the #RAR 0 year", 1)]),
        // Visma: the company folder path in #FNR is Latin-1 inside a CP437 file.
        Expectation(file: "jsisie_Sie_2_VismaBokforing.SE", warnings: [("#FNR: byte 0xF6 reads as \"÷\" in cp437", 1)]),
        Expectation(file: "jsisie_Test3_Briljant.SE", budget: true),
        Expectation(file: "jsisie_Test4_Briljant.SE", budget: true),
        // #PSALDO … 0 rows for balance accounts: the identities do not hold in the file.
        Expectation(file: "jsisie_XE_SIE_3.SE", identitiesFailed: 37, warnings: [(identityUB, 22), (identityRES, 15)]),
        Expectation(
            file: "jsisie_XE_SIE_4.SE", warnings: [("voucher 1 1 does not balance: its rows add up to 2,00 kr", 1)], unbalanced: 1),
        Expectation(file: "jsisie_magenta_SIE4E.se"),
        // The {} totals left out where objects have rows: named, no figure taken from them.
        Expectation(
            file: "jsisie_objektsaldo_ovnbolag.se", budget: true, identitiesFailed: 3,
            warnings: [
                (
                    "35 accounts (1460, 1510, 3041, 3045, 3048, 3051, 3055, 3590, 3960, 4010, …) have #PSALDO rows per object but no {} account total in 75 account-months",
                    1
                ),
                (identityUB, 1), (identityRES, 2),
                ("624 #PBUDGET rows carry årsnr -1, but their periods 2011-01–2011-12 lie in the #RAR 0 year", 1),
            ]),
        Expectation(
            file: "jsisie_periodsaldo_ovnbolag.se", budget: true,
            warnings: [("624 #PBUDGET rows carry årsnr -1, but their periods 2011-01–2011-12 lie in the #RAR 0 year", 1)]),
        Expectation(file: "jsisie_si.SI", warnings: [("#FNR: byte 0xF6 reads as \"÷\" in cp437", 1)]),
        Expectation(file: "jsisie_sie_4_Avendo.SE", skipped: ["#TRANS_rows_following_an_#RTRANS": 1, "struck_#BTRANS_rows": 1]),
        Expectation(
            file: "jsisie_transaktioner_ovnbolag.se", budget: true,
            warnings: [("624 #PBUDGET rows carry årsnr -1, but their periods 2011-01–2011-12 lie in the #RAR 0 year", 1)]),
        Expectation(
            file: "jsisie_typ3_Edison.se", budget: true,
            warnings: [("5 accounts (3020, 6212, 7010, 7220, 7610) have #PBUDGET rows per object but no {} account total in 60 account-months", 1)]),
        // A selection export: 10 vouchers beside full-year balances.
        Expectation(
            file: "sie4j_Arousells_Visning_AB.SE", identitiesFailed: 55,
            warnings: [("263 U+FFFD replacement characters", 1), (identityUB, 13), (identityRES, 42)], encoding: "utf-8"),
        // Last year's #PSALDO written with årsnr 0.
        Expectation(
            file: "sie4j_BLBLOV_SIE2.SE", budget: true,
            warnings: [("276 #PSALDO rows carry årsnr 0, but their periods 2016-01–2016-12 lie in the #RAR -1 year", 1)]),
        Expectation(file: "sie4j_BLBLOV_SIE4.SE", budget: true),
        Expectation(file: "sie4j_Transaktioner_per_Z-rapport.se"),
        // Its #KSUMMA 123456789 is a placeholder.
        Expectation(file: "sie4sdk_Sie4E1ksumma.SI", exit: 65, refusal: "#KSUMMA 123456789 does not match the file's content"),
        // UTF-8; the checksum is over the characters' CP437 values (SIE 4B §10.14).
        Expectation(file: "sie4sdk_Sie4I1ksumma.SI", encoding: "utf-8"),
    ]

    static var corpus: String {
        TestPaths.root.deletingLastPathComponent().appendingPathComponent("shared/realdata/sie").path
    }

    func testEveryFileOfTheCorpusGetsItsOutcome() throws {
        guard FileManager.default.fileExists(atPath: Self.corpus) else {
            print("SIECorpusTests: skipped — no SIE corpus at \(Self.corpus) (../shared/realdata/sie beside the repository)")
            throw XCTSkip("no SIE corpus at ../shared/realdata/sie beside the repository")
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.corpus).filter { !$0.hasSuffix(".md") }.sorted()
        XCTAssertEqual(files, Self.expectations.map(\.file).sorted(), "every file of the corpus has one expectation, and no other")
        let dir = try TestPaths.temporaryDirectory(#function)
        _ = try TestPaths.write("kind: sie\nunbalanced_voucher: warning\n", name: "sie.yaml", in: dir)
        for e in Self.expectations where files.contains(e.file) {
            try check(e, in: dir)
        }
    }

    func check(_ e: Expectation, in base: String) throws {
        let path = Self.corpus + "/" + e.file
        let root = TestPaths.root.path
        let dir = base + "/" + e.file.replacingOccurrences(of: "+", with: "_")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var pipeline = """
            name: corpus
            fiscal_year: 2022
            as_of: 2022-12
            settings:
              reject_limit_percent: "50"
            mappings:
              report_lines: \(root)/Pipelines/exempelby/report-lines.csv
              accounts:
                - \(root)/Pipelines/kommunbas/accounts.csv
              units: \(root)/Pipelines/exempelby/units.csv
              ansvar: \(root)/Pipelines/exempelby/ansvar.csv
            sources:
              - id: s
                path: \(path)
                profile: ../sie.yaml

            """
        if e.budget { pipeline += "budget:\n  - path: \(path)\n    profile: ../sie.yaml\n" }
        _ = try TestPaths.write(pipeline, name: "pipeline.yaml", in: dir)
        let r = try runRamkoll(["run", dir + "/pipeline.yaml", "--run-dir", dir + "/run", "--no-warehouse"])
        let name = e.file
        XCTAssertEqual(r.status, e.exit, "\(name): \(r.stdout.suffix(600))\(r.stderr.suffix(600))")
        let normalize = dir + "/run/02-normalize"
        if let refusal = e.refusal {
            XCTAssertTrue(r.stdout.contains(refusal) || r.stderr.contains(refusal), "\(name): the refusal names why: \(r.stdout)")
            let rejects = try String(contentsOfFile: normalize + "/rejects.csv", encoding: .utf8)
            XCTAssertTrue(rejects.contains(refusal), "\(name): rejects.csv names the refusal: \(rejects)")
            return
        }
        let totals = try Self.totals(normalize + "/manifest.json")
        func t(_ key: String) -> Int64 { totals["source.s." + key] ?? 0 }
        // Nothing lost: rows and öre read = normalized + rejected + skipped (the source and the budget).
        for id in ["s"] + (e.budget ? ["budget1"] : []) {
            func v(_ key: String) -> Int64 { totals["source.\(id)." + key] ?? 0 }
            XCTAssertEqual(v("rows_read"), v("rows_normalized") + v("rows_rejected") + v("rows_skipped"), "\(name) \(id): rows")
            XCTAssertEqual(
                v("amount_read_ore"), v("amount_normalized_ore") + v("amount_rejected_ore") + v("amount_skipped_ore"), "\(name) \(id): öre")
        }
        XCTAssertEqual(t("rows_rejected"), e.rejected, "\(name): rejected rows")
        XCTAssertEqual(t("check.identities_failed"), e.identitiesFailed, "\(name): identities that do not hold")
        XCTAssertEqual(t("check.vouchers_unbalanced"), e.unbalanced, "\(name): unbalanced vouchers")
        XCTAssertEqual(t("check.encoding_" + e.encoding), 1, "\(name): read as \(e.encoding)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Self.corpus + "/" + e.file))
        if bytes.range(of: Data("#KSUMMA".utf8)) != nil {
            XCTAssertEqual(t("check.ksumma_verified"), 1, "\(name): #KSUMMA verified")
        }
        for (reason, n) in e.skipped { XCTAssertEqual(t("skipped." + reason), n, "\(name): skipped \(reason)") }

        let warnings = try Self.column("warning", of: normalize + "/warnings.csv")
        for (part, n) in e.warnings {
            XCTAssertEqual(warnings.filter { $0.contains(part) }.count, n, "\(name): warnings with \"\(part)\" in \(warnings)")
        }
        XCTAssertEqual(warnings.count, e.warnings.reduce(0) { $0 + $1.1 }, "\(name): every warning is expected: \(warnings)")
        let rejects = try Self.column("reason", of: normalize + "/rejects.csv")
        for (part, n) in e.rejects {
            XCTAssertEqual(rejects.filter { $0.contains(part) }.count, n, "\(name): rejects with \"\(part)\"")
        }
        XCTAssertEqual(Int64(rejects.count), e.rejected, "\(name): rejects.csv holds the rejected rows")
    }

    static func totals(_ manifest: String) throws -> [String: Int64] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: manifest))) as! [String: Any]
        return (json["totals"] as? [String: Any] ?? [:]).compactMapValues { ($0 as? NSNumber)?.int64Value }
    }

    /// One column of a stage's `;` table (the warning, or the reject's reason).
    static func column(_ name: String, of path: String) throws -> [String] {
        var out: [String] = []
        try TableReader(path: path, required: [name]).forEach { row in out.append(row[name]) }
        return out
    }
}
