import Foundation
import XCTest

@testable import RamkollModel
@testable import RamkollPipeline

/// Broken and hostile inputs through the built `ramkoll`: every one ends in a clean run or a
/// data error naming file, line and reason — never a trap, a hang, amplified output or silent
/// loss. Each case started as a reproducer from fault and attack testing.
final class HostileInputTests: XCTestCase {
    /// A pipeline of the sample municipality's mappings around `files` (written beside it).
    struct Probe {
        let dir: String
        var pipeline: String { dir + "/pipeline.yaml" }
        var run: String { dir + "/run" }
        func file(_ relative: String) throws -> String { try String(contentsOfFile: run + "/" + relative, encoding: .utf8) }
    }

    static let profiles = TestPaths.root.path + "/Pipelines/profiles/"
    static let raindance = "profile: " + profiles + "raindance-huvudbok.yaml"
    static let placementsProfile = "profile: " + profiles + "lifecare-placeringar.yaml"
    static let paymentsProfile = "profile: " + profiles + "lifecare-utbetalningar.yaml"
    static let sieProfile = "kind: sie\nunbalanced_voucher: warning\ndimensions:\n  \"1\": ansvar\n"
    static let ledgerHeader = "\u{FEFF}Verifikation;Bokföringsdatum;Konto;Kontotext;Ansvar;Verksamhet;Aktivitet;Projekt;Motpart;Belopp;Text\n"

    /// `sources`: (id, file name, profile line); `budget`: a budget file's name.
    static func probe(
        _ name: String = #function, files: [String: [UInt8]], sources: [(String, String, String)], budget: String? = nil,
        settings: String = "  reject_limit_percent: \"50\"\n"
    ) throws -> Probe {
        let dir = try TestPaths.temporaryDirectory(name)
        for (f, bytes) in files { _ = try TestPaths.write(bytes: bytes, name: f, in: dir) }
        let root = TestPaths.root.path
        var y = """
            name: probe
            fiscal_year: 2022
            as_of: 2022-12
            settings:
            \(settings)pseudonym_key:
              file: \(root)/SampleInputs/pseudonym-sample.key
            mappings:
              report_lines: \(root)/Pipelines/exempelby/report-lines.csv
              accounts:
                - \(root)/Pipelines/kommunbas/accounts.csv
                - \(root)/Pipelines/exempelby/accounts-local.csv
                - \(root)/Pipelines/exempelby/accounts-varav.csv
              units: \(root)/Pipelines/exempelby/units.csv
              ansvar: \(root)/Pipelines/exempelby/ansvar.csv
            sources:

            """
        for (id, path, profile) in sources { y += "  - id: \(id)\n    path: \(path)\n    \(profile)\n" }
        if let budget { y += "budget:\n  - path: \(budget)\n" }
        _ = try TestPaths.write(y, name: "pipeline.yaml", in: dir)
        return Probe(dir: dir)
    }

    /// Runs the probe as the reproducers did: `ramkoll run pipeline.yaml --run-dir run --no-warehouse`.
    static func run(_ p: Probe, _ extra: [String] = []) throws -> RamkollResult {
        try runRamkoll(["run", p.pipeline, "--run-dir", p.run, "--no-warehouse"] + extra)
    }

    static func ledger(_ rows: [String]) -> [UInt8] { Array((ledgerHeader + rows.map { $0 + "\n" }.joined()).utf8) }

    static func sie(_ body: String) -> [UInt8] {
        Array(
            ("#FLAGGA 0\n#PROGRAM \"Test\" 1\n#FORMAT PC8\n#GEN 20230110\n#SIETYP 4\n#FNAMN \"Exempelby kommun\"\n"
                + "#RAR 0 20220101 20221231\n#RAR -1 20210101 20211231\n#DIM 1 \"Ansvar\"\n#KONTO 46310 \"Kop\"\n#KONTO 19300 \"Bank\"\n" + body).utf8
        )
    }

    static func placement(price: String, start: String = "2022-01-19", end: String = "2022-03-07") -> [UInt8] {
        Array(
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <Extrakt system="T">
              <Arende id="A-1" ansvar="62010" personnummer="19670721-0503">
                <Placering id="PL-00001" start="\(start)" slut="\(end)">
                  <Vardform>HVB</Vardform>
                  <Lagrum>SoL 4 kap. 1 §</Lagrum>
                  <Dygnskostnad>\(price)</Dygnskostnad>
                </Placering>
              </Arende>
            </Extrakt>

            """.utf8)
    }

    static func payment(_ amount: String) -> [UInt8] {
        Array(
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <Extrakt>
              <Utbetalning id="U-1" avser="2022-03" utbetald="2022-03-01" ansvar="64020">
                <Sokande personnummer="19670721-0503"/><Belopp>\(amount)</Belopp>
              </Utbetalning>
            </Extrakt>

            """.utf8)
    }

    static let budgetHeader = "enhet;rad;belopp;periodisering;jan;feb;mar;apr;maj;jun;jul;aug;sep;okt;nov;dec\n"

    /// The exit status is one the README defines (not a signal: 132 is SIGILL, a trap).
    func assertNoTrap(_ r: RamkollResult, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertTrue([0, 1, 3, 65].contains(r.status), "\(what): exit \(r.status)\n\(r.stderr.suffix(1500))", file: file, line: line)
        XCTAssertFalse(
            r.stderr.contains("Fatal error") || r.stderr.contains("Backtrace"), "\(what): \(r.stderr.suffix(1500))", file: file, line: line)
    }

    // MARK: - Money within bounds

    /// The largest amount Ramkoll accepts goes through every stage from every kind of input; one
    /// öre more is a rejected row with the limit as its reason.
    func testTheLargestAmountPassesEveryStageFromEverySourceAndOneOreMoreIsRejected() throws {
        let max = "9 999 999 999 999,99", beyond = "10 000 000 000 000,00"
        let cases: [(String, [String: [UInt8]], [(String, String, String)], String?)] = [
            (
                "csv plain",
                [
                    "l.csv": Self.ledger([
                        "A1;2022-03-01;46310;K;61030;569;;;;9999999999999,99;t", "A2;2022-03-01;46310;K;61030;569;;;;10000000000000,00;t",
                    ])
                ], [("l", "l.csv", Self.raindance)], nil
            ),
            (
                "csv grouped",
                ["l.csv": Self.ledger(["A1;2022-03-01;46310;K;61030;569;;;;-\(max);t", "A2;2022-03-01;46310;K;61030;569;;;;-\(beyond);t"])],
                [("l", "l.csv", Self.raindance)], nil
            ),
            (
                "sie",
                [
                    "l.se": Self.sie(
                        "#VER A 1 20220315 \"x\"\n{\n#TRANS 46310 {1 \"61030\"} 9999999999999.99\n#TRANS 19300 {} -9999999999999.99\n}\n#VER A 2 20220315 \"y\"\n{\n#TRANS 46310 {1 \"61030\"} 10000000000000.00\n}\n"
                    ), "p.yaml": Array(Self.sieProfile.utf8),
                ],
                [("l", "l.se", "profile: p.yaml")], nil
            ),
            (
                "placement", ["p.xml": Self.placement(price: max), "q.xml": Self.placement(price: beyond)],
                [("p", "p.xml", Self.placementsProfile), ("q", "q.xml", Self.placementsProfile)], nil
            ),
            (
                "payment", ["u.xml": Self.payment(max), "v.xml": Self.payment(beyond)],
                [("u", "u.xml", Self.paymentsProfile), ("v", "v.xml", Self.paymentsProfile)], nil
            ),
            (
                "budget",
                [
                    "l.csv": Self.ledger(["A1;2022-03-01;46310;K;61030;569;;;;1 000,00;t"]),
                    "b.csv": Array((Self.budgetHeader + "BU-INST;KOP;-\(max);jämn;;;;;;;;;;;;\nBU-INST;KOP;-\(beyond);jämn;;;;;;;;;;;;\n").utf8),
                ],
                [("l", "l.csv", Self.raindance)], "b.csv"
            ),
        ]
        for (what, files, sources, budget) in cases {
            let p = try Self.probe("limit-" + what.replacingOccurrences(of: " ", with: "-"), files: files, sources: sources, budget: budget)
            let r = try Self.run(p)
            assertNoTrap(r, what)
            XCTAssertTrue(
                FileManager.default.fileExists(atPath: p.run + "/06-report/manifest.json"),
                "\(what): the run did not reach report\n\(r.stderr.suffix(800))")
            let rejects = try p.file("02-normalize/rejects.csv")
            XCTAssertTrue(
                rejects.contains(Ore.amountLimitReason), "\(what): the amount beyond the limit is not rejected with its reason:\n\(rejects)")
            XCTAssertEqual(rejects.split(separator: "\n").count, 2, "\(what): exactly one row rejected:\n\(rejects)")
        }
    }

    /// More than 10^15 kr in absolute value in one run cannot be summed exactly: a data error
    /// naming what, and the largest amount with its file and line — for ledger CSV, SIE, budget
    /// and care-day costs alike.
    func testAmountsBeyondTheRunLimitAreADataErrorNamingTheLargestRow() throws {
        let max = "9 999 999 999 999,99"
        let rows = (1...101).map { "A\($0);2022-03-01;46310;K;61030;569;;;;\($0 == 57 ? "-" : "")\(max);t" }
        var sieBody = "#VER A 1 20220315 \"x\"\n{\n"
        for _ in 0..<101 { sieBody += "#TRANS 46310 {1 \"61030\"} 9999999999999.99\n" }
        sieBody += "}\n"
        let budget = Self.budgetHeader + (1...101).map { _ in "BU-INST;KOP;-\(max);jämn;;;;;;;;;;;;\n" }.joined()
        let cases: [(String, [String: [UInt8]], [(String, String, String)], String?, String)] = [
            (
                "csv", ["l.csv": Self.ledger(rows)], [("l", "l.csv", Self.raindance)], nil,
                "the amounts read from l.csv add up to more than 1 000 000 000 000 000 kr in absolute value, beyond what Ramkoll sums exactly; the largest is 9 999 999 999 999,99 kr at l.csv:2"
            ),
            (
                "sie", ["l.se": Self.sie(sieBody), "p.yaml": Array(Self.sieProfile.utf8)], [("l", "l.se", "profile: p.yaml")], nil,
                "the rows of voucher A 1 (l.se:12) add up to more than 1 000 000 000 000 000 kr in absolute value"
            ),
            (
                "budget", ["l.csv": Self.ledger(["A1;2022-03-01;46310;K;61030;569;;;;1 000,00;t"]), "b.csv": Array(budget.utf8)],
                [("l", "l.csv", Self.raindance)], "b.csv",
                "the budget amounts of b.csv add up to more than 1 000 000 000 000 000 kr in absolute value, beyond what Ramkoll sums exactly; the largest is -9 999 999 999 999,99 kr at b.csv:2"
            ),
            (
                "care days", ["p.xml": Self.placement(price: max, start: "2022-01-01", end: "2022-12-31")], [("p", "p.xml", Self.placementsProfile)],
                nil, "the care-day costs and prices of the placements add up to more than 1 000 000 000 000 000 kr in absolute value"
            ),
        ]
        for (what, files, sources, budget, message) in cases {
            let p = try Self.probe("runlimit-" + what.replacingOccurrences(of: " ", with: "-"), files: files, sources: sources, budget: budget)
            let r = try Self.run(p)
            XCTAssertEqual(r.status, 65, "\(what): \(r.stderr.suffix(1500))")
            XCTAssertTrue(r.stderr.contains(message), "\(what): expected «\(message)» in\n\(r.stderr.suffix(1500))")
        }
    }

    /// The reproducers of traps (exit 132): each now a clean run or a data error.
    func testTheTrapReproducersEndInACleanRunOrADataError() throws {
        let big = "92 233 720 368 547 757,00"
        let cases: [(String, [String: [UInt8]], [(String, String, String)], String?)] = [
            (
                "runrate", ["l.csv": Self.ledger(["A1;2022-03-01;46310;K;61030;569;;;;92 233 720 368 547 757,99;t"])],
                [("l", "l.csv", Self.raindance)], nil
            ),
            (
                "voucher sum",
                ["l.csv": Self.ledger(["A0;2022-03-01;46310;Köp;61030;569;;;;\(big);t", "A1;2022-03-01;46310;Köp;61030;569;;;;\(big);t"])],
                [("l", "l.csv", Self.raindance)], nil
            ),
            (
                "group sum", ["l.csv": Self.ledger((0..<100).map { "A\($0);2022-03-01;46310;K;61030;569;;;;999 999 999 999 999,00;t" })],
                [("l", "l.csv", Self.raindance)], nil
            ),
            (
                "fuzzed",
                [
                    "l.csv": Self.ledger([
                        "A1;2022-03-01;46310;K;61030;569;;;;1 000,00;t", "A2;2022-03-01;46310;K;61030;569;;;;92233720368547757,5;t", "man",
                    ])
                ], [("l", "l.csv", Self.raindance)], nil
            ),
            (
                "sie group",
                [
                    "l.se": Self.sie(
                        "#VER A 1 20220315 \"x\"\n{\n#TRANS 46310 {1 \"61030\"} 90000000000000000.00\n#TRANS 19300 {} -90000000000000000.00\n}\n"),
                    "p.yaml": Array(Self.sieProfile.utf8),
                ],
                [("l", "l.se", "profile: p.yaml")], nil
            ),
            (
                "sie runrate",
                [
                    "l.se": Self.sie(
                        "#VER A 1 20220315 \"x\"\n{\n#TRANS 46310 {1 \"61030\"} 9223372036854775\n#TRANS 19300 {} -9223372036854775\n}\n"),
                    "p.yaml": Array(Self.sieProfile.utf8),
                ], [("l", "l.se", "profile: p.yaml")], nil
            ),
            (
                "budget deviation",
                [
                    "l.csv": Self.ledger(["A1;2022-03-01;46310;K;61030;569;;;;1 000,00;t"]),
                    "b.csv": Array((Self.budgetHeader + "BU-INST;KOP;-9 000 000 000 000 000;jämn;;;;;;;;;;;;\n").utf8),
                ], [("l", "l.csv", Self.raindance)], "b.csv"
            ),
            ("care-day cost", ["p.xml": Self.placement(price: "9 223 372 036 854 775,00")], [("p", "p.xml", Self.placementsProfile)], nil),
        ]
        for (what, files, sources, budget) in cases {
            let p = try Self.probe("trap-" + what.replacingOccurrences(of: " ", with: "-"), files: files, sources: sources, budget: budget)
            let r = try Self.run(p)
            assertNoTrap(r, what)
            XCTAssertEqual(r.status, 65, "\(what): the lost amount is a data error\n\(r.stderr.suffix(800))")
            let rejects = try p.file("02-normalize/rejects.csv")
            XCTAssertTrue(rejects.contains(Ore.amountLimitReason), "\(what):\n\(rejects)")
        }
    }

    // MARK: - XML

    static func placements(_ stays: [(id: String, start: String, end: String)], doctype: String = "") -> [UInt8] {
        var x =
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\(doctype)<Extrakt system=\"T\">\n  <Arende id=\"A-1\" ansvar=\"62010\" personnummer=\"19670721-0503\">\n"
        for s in stays {
            x +=
                "    <Placering id=\"\(s.id)\" start=\"\(s.start)\" slut=\"\(s.end)\"><Vardform>HVB</Vardform><Lagrum>SoL 4 kap. 1 §</Lagrum><Dygnskostnad>3 000,00</Dygnskostnad></Placering>\n"
        }
        return Array((x + "  </Arende>\n</Extrakt>\n").utf8)
    }

    /// 8 000 placements of one person wrote 2.1 GB of overlaps (every pair); now one line per
    /// overlapping stay, paired with the earlier stay that reaches furthest.
    func testTheOverlapListGrowsWithThePlacementsNotTheirSquare() throws {
        let many = (1...3000).map { (id: String(format: "PL-%05d", $0), start: "2022-01-19", end: "2022-03-07") }
        let p = try Self.probe(files: ["p.xml": Self.placements(many)], sources: [("p", "p.xml", Self.placementsProfile)])
        let r = try Self.run(p)
        assertNoTrap(r, "3000 stays")
        XCTAssertEqual(r.status, 0, r.stderr.suffix(800).description)
        let overlaps = try p.file("03-reconcile/placement_overlaps.csv").split(separator: "\n")
        XCTAssertEqual(overlaps.count, 3000, "a header and 2 999 lines")
        XCTAssertTrue(r.stdout.contains("reconcile: 2999 pairs of overlapping placements of one person"), r.stdout)
        // A reaches furthest: C (which starts after B has ended) is paired with A; D overlaps nothing.
        let q = try Self.probe(
            "pairing",
            files: [
                "p.xml": Self.placements([
                    ("PL-A", "2022-01-01", "2022-06-30"), ("PL-B", "2022-02-01", "2022-03-31"), ("PL-C", "2022-05-01", "2022-07-31"),
                    ("PL-D", "2022-09-01", "2022-09-30"),
                ])
            ], sources: [("p", "p.xml", Self.placementsProfile)])
        XCTAssertEqual(try Self.run(q).status, 0)
        XCTAssertEqual(
            try q.file("03-reconcile/placement_overlaps.csv").split(separator: "\n").dropFirst().map {
                $0.split(separator: ";").dropFirst().joined(separator: ";")
            },
            ["PL-A;PL-B;2022-02-01;2022-03-31;59", "PL-A;PL-C;2022-05-01;2022-06-30;61"])
    }

    /// The reproducer that wrote 15.2 GB: an entity declared after a comment holding `<a`,
    /// referenced in attribute values. Now the file is refused with its line, a data error.
    func testAnEntityHiddenBehindACommentIsRefusedNotExpanded() throws {
        let doctype = "<!DOCTYPE Extrakt [ <!-- <a --> <!ENTITY big \"" + String(repeating: "B", count: 5000) + "\"> ]>\n"
        let stays = (1...20).map { (id: "&big;&big;&big;\($0)", start: "2022-01-19", end: "2022-03-07") }
        let p = try Self.probe(files: ["p.xml": Self.placements(stays, doctype: doctype)], sources: [("p", "p.xml", Self.placementsProfile)])
        let r = try Self.run(p)
        XCTAssertEqual(r.status, 65, r.stderr.suffix(800).description)
        let rejects = try p.file("02-normalize/rejects.csv")
        XCTAssertTrue(
            rejects.contains("p;p.xml;2;;;;\"the document has a document type declaration (<!DOCTYPE …>), where entities are declared"), rejects)
        XCTAssertLessThan(
            filesBelow(p.run).reduce(0) { $0 + ((try? FileManager.default.attributesOfItem(atPath: p.run + "/" + $1)[.size] as? Int) ?? 0) },
            2_000_000)
    }

    // MARK: - SIE structure

    static func voucher(_ n: Int, _ amount: String = "10.00", close: Bool = true) -> String {
        "#VER A \(n) 20221215 \"x\"\n{\n#TRANS 46310 {1 \"61030\"} \(amount)\n#TRANS 19300 {} -\(amount)\n" + (close ? "}\n" : "")
    }

    /// A #VER block left open before the next #VER lost its rows with only an unlocated
    /// "control totals do not balance"; now its rows are rejected naming both lines, and the
    /// fault is a warning at its line.
    func testAVoucherLeftOpenIsNamedAndItsRowsRejected() throws {
        let p = try Self.probe(
            files: ["l.se": Self.sie(Self.voucher(1, close: false) + Self.voucher(2)), "p.yaml": Array(Self.sieProfile.utf8)],
            sources: [("l", "l.se", "profile: p.yaml")],
            settings: "  reject_limit_percent: \"60\"\n")
        let r = try Self.run(p)
        XCTAssertEqual(r.status, 0, r.stderr.suffix(800).description)
        XCTAssertTrue(r.stdout.contains("normalize: l: 4 read, 2 normalized, 2 rejected"), r.stdout)
        XCTAssertEqual(
            try p.file("02-normalize/rejects.csv"),
            "source;file;line;record;field;raw_value;reason\n"
                + "l;l.se;14;;;;#TRANS: the block of voucher A 1 (line 12) is not closed before the #VER at line 16\n"
                + "l;l.se;15;;;;#TRANS: the block of voucher A 1 (line 12) is not closed before the #VER at line 16\n")
        XCTAssertTrue(
            try p.file("02-normalize/warnings.csv").contains(
                "l;l.se;16;structure: #VER begins before the block of voucher A 1 (line 12) is closed with }"))
    }

    /// The same voucher twice was counted twice; `duplicate_voucher` (error by default) rejects
    /// the repeat, `warning` skips it — neither sums it.
    func testARepeatedVoucherIsNeverCountedTwice() throws {
        let file = Self.sie(Self.voucher(1, "500.00") + Self.voucher(2) + Self.voucher(1, "500.00"))
        for (mode, profile) in [("error", Self.sieProfile), ("warning", Self.sieProfile + "duplicate_voucher: warning\n")] {
            let p = try Self.probe(
                "repeat-" + mode, files: ["l.se": file, "p.yaml": Array(profile.utf8)], sources: [("l", "l.se", "profile: p.yaml")],
                settings: "  reject_limit_percent: \"50\"\n")
            let r = try Self.run(p)
            XCTAssertEqual(r.status, 0, "\(mode): \(r.stderr.suffix(800))")
            let ledger = try p.file("02-normalize/ledger.csv")
            XCTAssertEqual(ledger.components(separatedBy: ";50000;").count - 1, 1, "\(mode): voucher A 1's 500 kr once:\n\(ledger)")
            let message = "voucher A 1 of 2022-12-15 (line 22) was already read at line 12"
            if mode == "error" {
                XCTAssertTrue(r.stdout.contains("normalize: l: 6 read, 4 normalized, 2 rejected"), r.stdout)
                XCTAssertTrue(
                    try p.file("02-normalize/rejects.csv").contains("l;l.se;24;;;;#TRANS: \(message): the same voucher twice would count twice"))
            } else {
                XCTAssertTrue(r.stdout.contains("normalize: l: 6 read, 4 normalized, 0 rejected, 2 skipped"), r.stdout)
                XCTAssertTrue(
                    try p.file("02-normalize/warnings.csv").contains("l;l.se;22;\"\(message); its rows are skipped (duplicate_voucher: warning)\""))
            }
        }
        let bad = try Self.probe(
            "repeat-bad", files: ["l.se": file, "p.yaml": Array((Self.sieProfile + "duplicate_voucher: sum\n").utf8)],
            sources: [("l", "l.se", "profile: p.yaml")])
        let r = try runRamkoll(["check", bad.pipeline])
        XCTAssertEqual(r.status, 78)
        XCTAssertTrue((r.stdout + r.stderr).contains("profile: duplicate_voucher must be error or warning"), r.stdout + r.stderr)
    }

    // MARK: - Personal data

    /// One person's number (198503121231, and the samordningsnummer 198503721238) in every form
    /// people write it.
    static let identityForms = [
        "198503121231", "8503121231", "19850312-1231", "850312-1231", "850312+1231", "850312 1231", "19850312 1231",
        "850312\u{00A0}1231", "850312\u{2013}1231", "19850312\u{2014}1231", "850312\u{2212}1231", "850312\u{2011}1231", "1985-03-12-1231",
        "85-03-12-1231", "1985-03-12\u{2013}1231", "1985\u{2013}03\u{2013}12\u{2013}1231", "850372-1238", "198503721238", "19850312-T123",
    ]

    /// Every form planted in every free-text and code field of every source kind (ledger CSV and
    /// SIE, placements, payments, decisions; kept rows and rejected ones, a header): no output
    /// file, log line, message or warehouse row holds any of them, or the digits in any layout.
    func testNoFormOfAPersonnummerInAnyFieldReachesAnyOutput() throws {
        let forms = Self.identityForms
        var ledger: [String] = []
        var sie = ""
        var placements = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Extrakt>\n"
        var payments = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Extrakt>\n"
        var decisions = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Extrakt>\n"
        for (i, f) in forms.enumerated() {
            // Kept rows: the form in voucher, the dimensions and the text; rejected rows: in the account and the amount.
            ledger.append("\(f);2022-12-01;46310;K;61030;\(f);\(f);\(f);\(f);10,00;Ersättning \(f) december")
            ledger.append("V\(i);2022-12-01;\(f);K;61030;569;;;;10,00;t")
            // (In an amount column only the forms that are not a number: 198503121231 there is an amount, not a text.)
            if f.contains(where: { !$0.isNumber }) { ledger.append("W\(i);2022-12-01;46310;K;61030;569;;;;\(f);t") }
            sie +=
                "#VER A \"\(f)\" 20221215 \"Utbetalning \(f)\"\n{\n#TRANS 46310 {1 \"\(f)\" 6 \"\(f)\"} 10.00 20221215 \"\(f)\"\n#TRANS 19300 {} -10.00\n}\n"
            sie += "#OBJEKT 1 \"\(f)\" \"\(f)\"\n"
            placements +=
                "<Arende ansvar=\"62010\" personnummer=\"19850312-1231\"><Placering id=\"\(f)\" start=\"2022-01-19\" slut=\"2022-03-07\"><Vardform>HVB \(f)</Vardform><Lagrum>\(f)</Lagrum><Dygnskostnad>3 000,00</Dygnskostnad></Placering></Arende>\n"
            placements +=
                "<Arende ansvar=\"\(f)\" personnummer=\"\(f)\"><Placering id=\"P\(i)\" start=\"\(f)\" slut=\"2022-03-07\"><Vardform>HVB</Vardform><Lagrum>L</Lagrum><Dygnskostnad>\(f)</Dygnskostnad></Placering></Arende>\n"
            payments +=
                "<Utbetalning id=\"\(f)\" avser=\"2022-12\" utbetald=\"2022-12-01\" ansvar=\"64020\"><Sokande personnummer=\"19850312-1231\"/><Belopp>100,00</Belopp></Utbetalning>\n"
            payments +=
                "<Utbetalning id=\"U\(i)\" avser=\"\(f)\" utbetald=\"\(f)\" ansvar=\"\(f)\"><Sokande personnummer=\"\(f)\"/><Belopp>\(f)</Belopp></Utbetalning>\n"
            decisions +=
                "<Arende ansvar=\"62010\" personnummer=\"19850312-1231\"><Beslut id=\"\(f)\" gynnande=\"ja\"><Beslutsdatum>2022-11-01</Beslutsdatum><Insats lagrum=\"\(f)\">Kontaktperson \(f)</Insats><Skal>\(f)</Skal></Beslut></Arende>\n"
            decisions +=
                "<Arende ansvar=\"62010\" personnummer=\"\(f)\"><Beslut id=\"B\(i)\" gynnande=\"ja\"><Beslutsdatum>\(f)</Beslutsdatum><Insats>K</Insats></Beslut></Arende>\n"
        }
        placements += "</Extrakt>\n"; payments += "</Extrakt>\n"; decisions += "</Extrakt>\n"
        let badHeader = "Verifikation;Datum;\(forms.joined(separator: ";"))\nA;2022-12-01;1\n"
        // libxml2's own messages quote the document: a tag mismatch naming the number.
        let broken =
            "<?xml version=\"1.0\"?>\n<Extrakt>\n<Arende ansvar=\"62010\" personnummer=\"19850312-1231\"><Placering id=\"X\" start=\"2022-01-19\"><Vardform>HVB</V8503121231></Placering></Arende>\n</Extrakt>\n"
        let p = try Self.probe(
            files: [
                "l.csv": Self.ledger(ledger), "l.se": Self.sie(sie),
                "p.yaml": Array(Self.sieProfile.replacingOccurrences(of: "\"1\": ansvar", with: "\"1\": ansvar\n  \"6\": projekt").utf8),
                "pl.xml": Array(placements.utf8), "u.xml": Array(payments.utf8), "b.xml": Array(decisions.utf8), "h.csv": Array(badHeader.utf8),
                "x.xml": Array(broken.utf8),
            ],
            sources: [
                ("l", "l.csv", Self.raindance), ("s", "l.se", "profile: p.yaml\n    ledger: sie"), ("pl", "pl.xml", Self.placementsProfile),
                ("u", "u.xml", Self.paymentsProfile),
                ("b", "b.xml", "profile: " + Self.profiles + "lifecare-beslut.yaml"), ("x", "x.xml", Self.placementsProfile),
            ], settings: "  reject_limit_percent: \"90\"\n")
        // A sealed run with the warehouse, as the nightly job runs it.
        let runs = p.dir + "/runs"
        let r = try runRamkoll(["run", p.pipeline, "--runs", runs, "--log-format", "json"])
        assertNoTrap(r, "personal data")
        // (A data error run is not `latest`: the one run under all/.)
        let ids = try FileManager.default.contentsOfDirectory(atPath: runs + "/all")
        XCTAssertEqual(ids.count, 1)
        let runDir = runs + "/all/" + ids[0]
        let warehouse = runs + "/ramkoll.sqlite"
        // The header that is not an export's: its own pipeline, its error quoted.
        let h = try Self.probe("header", files: ["h.csv": Array(badHeader.utf8)], sources: [("h", "h.csv", Self.raindance)])
        let hr = try Self.run(h)
        XCTAssertEqual(hr.status, 65, hr.stderr.suffix(500).description)
        let explain = try runRamkoll(["explain", runDir, "--unit", "SN", "--line", "KOP"])
        var texts: [(String, String)] = [
            ("stdout", r.stdout), ("stderr", r.stderr), ("header stdout", hr.stdout), ("header stderr", hr.stderr),
            ("explain", explain.stdout + explain.stderr),
        ]
        for dir in [runDir, h.run] {
            for f in filesBelow(dir) {
                let d = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + f))
                texts.append((f, String(decoding: d, as: UTF8.self)))
            }
        }
        let db = try Data(contentsOf: URL(fileURLWithPath: warehouse))
        texts.append(("ramkoll.sqlite", String(decoding: db, as: UTF8.self)))
        // The digits in any layout: 85 03 12|72 with separators of up to three characters, then four.
        let anyLayout = try NSRegularExpression(pattern: "85[^0-9a-f]{0,3}03[^0-9a-f]{0,3}(12|72)[^0-9a-f]{0,3}[0-9T][0-9]{3}")
        XCTAssertGreaterThan(texts.count, 40)
        for (name, text) in texts {
            for f in forms { XCTAssertFalse(text.contains(f), "\(name) holds \(f)") }
            let m = anyLayout.firstMatch(in: text, range: NSRange(text.startIndex..., in: text))
            XCTAssertNil(m, "\(name) holds \(m.map { (text as NSString).substring(with: $0.range) } ?? "")")
        }
        XCTAssertTrue(
            try String(contentsOfFile: runDir + "/02-normalize/ledger.csv", encoding: .utf8).contains("[pnr]"),
            "the forms were read and redacted, not dropped")
    }

    // MARK: - Accepted silently until now

    func testHeaderOnlyNULAndMidFileBOMAreDataErrorsWithTheirPlace() throws {
        let row = "A1;2022-12-01;46310;K;61030;569;;;;10,00;t"
        let cases: [(String, [String: [UInt8]], (String, String, String), String)] = [
            (
                "header only", ["l.csv": Self.ledger([])], ("l", "l.csv", Self.raindance),
                "l.csv:1: the file has a header but no rows: the export is empty"
            ),
            (
                "nul in csv", ["l.csv": Self.ledger([row]) + Array("A2;2022-12-01;46310;K;61030;569;;;;10,00;te".utf8) + [0] + Array("xt\n".utf8)],
                ("l", "l.csv", Self.raindance), "l.csv:3: a NUL byte (0x00) at column 44: the file is not a text export"
            ),
            (
                "bom in mid-file", ["l.csv": Self.ledger([row]) + Self.ledger(["A2;2022-12-01;46310;K;61030;569;;;;10,00;t"])],
                ("l", "l.csv", Self.raindance), "l.csv:3: a UTF-8 byte-order mark at column 1, inside the file: two exports were joined into one"
            ),
            (
                "nul in sie",
                ["l.se": Self.sie(Self.voucher(1)) + Array("#KONTO 1 \"a".utf8) + [0] + Array("\"\n".utf8), "p.yaml": Array(Self.sieProfile.utf8)],
                ("l", "l.se", "profile: p.yaml"), "l.se:17: a NUL byte (0x00) at offset"
            ),
        ]
        for (what, files, source, message) in cases {
            let p = try Self.probe("silent-" + what.replacingOccurrences(of: " ", with: "-"), files: files, sources: [source])
            let r = try Self.run(p)
            XCTAssertEqual(r.status, 65, "\(what): \(r.stderr.suffix(600))")
            XCTAssertTrue((r.stdout + r.stderr).contains(message), "\(what): expected «\(message)» in\n\(r.stdout)\n\(r.stderr.suffix(600))")
        }
    }

    /// A 50 MB "header" gave 100 MB of stderr: the header is quoted once, cut at 200 characters.
    func testAHugeHeaderIsQuotedOnceAndShort() throws {
        let header = "Ver;Datum;Konto;Ansvar;Belopp;Text;" + String(repeating: "X", count: 5_000_000) + "\nV1;2022-12-01;64100;100;10,00;t\n"
        let p = try Self.probe(files: ["l.csv": Array(header.utf8)], sources: [("l", "l.csv", Self.raindance)])
        let r = try Self.run(p)
        XCTAssertEqual(r.status, 65)
        XCTAssertLessThan(r.stderr.utf8.count + r.stdout.utf8.count, 4_000, "stderr and stdout stay short")
        XCTAssertEqual(r.stderr.components(separatedBy: "the header is").count - 1, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("X…\" (5000035 bytes) — is this the right profile"), r.stderr)
    }

    func testABudgetRowGivenTwiceIsRejectedNamingBothLines() throws {
        let budget =
            Self.budgetHeader
            + "BU-INST;KOP;-1 200 000;jämn;;;;;;;;;;;;\nBU-INST;PERS;-600 000;jämn;;;;;;;;;;;;\nBU-INST;KOP;-1 200 000;jämn;;;;;;;;;;;;\n"
        let p = try Self.probe(
            files: ["l.csv": Self.ledger(["A1;2022-12-01;46310;K;61030;569;;;;1 000,00;t"]), "b.csv": Array(budget.utf8)],
            sources: [("l", "l.csv", Self.raindance)],
            budget: "b.csv")
        let r = try Self.run(p)
        XCTAssertEqual(r.status, 65, r.stderr.suffix(600).description)
        let rejects = try p.file("02-normalize/rejects.csv")
        XCTAssertTrue(
            rejects.contains("budget1;b.csv;4;;rad;KOP;\"unit BU-INST, line KOP is budgeted twice: here and at line 2; the two would be added up"),
            rejects)
    }

    /// A lock whose process id now belongs to another process (a reused id) is stale: the lock
    /// records when its process began, and a process that began at another time is not it.
    func testALockWhoseProcessIdWasReusedIsTakenOver() throws {
        let p = try Self.probe(
            files: ["l.csv": Self.ledger(["A1;2022-12-01;46310;K;61030;569;;;;1 000,00;t"])], sources: [("l", "l.csv", Self.raindance)])
        let runs = p.dir + "/runs"
        try FileManager.default.createDirectory(atPath: runs + "/locks", withIntermediateDirectories: true)
        // Process 1 is alive; the lock says it began at another time.
        var holder = RunLock.Holder.current(arguments: ["run", "(a run long gone)"])
        holder.pid = 1
        holder.processStart = "1"
        try JSONEncoder().encode(holder).write(to: URL(fileURLWithPath: runs + "/locks/2022-12.lock"))
        let r = try runRamkoll(["run", p.pipeline, "--runs", runs, "--no-warehouse"])
        XCTAssertNotEqual(r.status, 75, r.stderr.suffix(600).description)
        XCTAssertTrue(r.stderr.contains("stale") || r.stderr.contains("took over"), r.stderr.suffix(600).description)
        // With process 1's real start time the lock holds: 75.
        holder.processStart = RunLock.processStart(1)
        try JSONEncoder().encode(holder).write(to: URL(fileURLWithPath: runs + "/locks/2022-12.lock"))
        XCTAssertEqual(try runRamkoll(["run", p.pipeline, "--runs", runs, "--no-warehouse"]).status, 75)
    }

    /// A wrong PostgreSQL password is the configuration's to fix (78), not "rerun a stage" (66).
    func testRefusedPostgresCredentialsAreAConfigurationError() throws {
        guard let url = ProcessInfo.processInfo.environment["RAMKOLL_TEST_POSTGRES_URL"] else {
            throw XCTSkip("RAMKOLL_TEST_POSTGRES_URL is not set (Scripts/test starts a server and sets it)")
        }
        let wrong = url.replacingOccurrences(of: ":ramkoll-test@", with: ":not-the-password@")
        XCTAssertNotEqual(wrong, url)
        let p = try Self.probe(
            files: ["l.csv": Self.ledger(["A1;2022-12-01;46310;K;61030;569;;;;1 000,00;t"])], sources: [("l", "l.csv", Self.raindance)])
        try (try String(contentsOfFile: p.pipeline, encoding: .utf8) + "warehouse:\n  postgres:\n    env: RAMKOLL_WRONG_URL\n").write(
            toFile: p.pipeline, atomically: true, encoding: .utf8)
        let r = try runRamkoll(["run", p.pipeline, "--runs", p.dir + "/runs"], environment: ["RAMKOLL_WRONG_URL": wrong])
        XCTAssertTrue(r.stderr.contains("refused the credentials"), r.stderr.suffix(800).description)
        XCTAssertFalse(r.stderr.contains("not-the-password") || r.stdout.contains("not-the-password"), "the password is never printed")
        XCTAssertNotEqual(r.status, 66)
    }
}

/// Scripts/fuzz is run by hand (its build takes minutes); the suite checks that every target it
/// lists has its source, and that every reader the harness promises is among them.
final class FuzzHarnessTests: XCTestCase {
    func testEveryListedTargetHasItsSource() throws {
        let r = try runProcess(TestPaths.root.appendingPathComponent("Scripts/fuzz"), ["--list"], environment: ["PATH": "/usr/bin:/bin"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        XCTAssertEqual(lines.map { $0[0] }, ["csv", "sie", "xml", "numbers", "pipeline"])
        for l in lines {
            let source = try String(contentsOfFile: TestPaths.root.path + "/" + l[1], encoding: .utf8)
            XCTAssertTrue(source.contains("@_cdecl(\"LLVMFuzzerTestOneInput\")"), l[1])
        }
    }
}

/// The fault-and-attack reproducers as they were handed over (`../shared/repro`, beside the
/// repository in CI): each must end in a clean run or a data error that names file and line —
/// no trap, no hang, no amplified output. Run with a 1 GB file-size limit, as the reproducers' own
/// runner does.
final class ReproducerTests: XCTestCase {
    func testEveryReproducerEndsCleanlyOrInANamedDataError() throws {
        let repro = TestPaths.root.deletingLastPathComponent().appendingPathComponent("shared/repro").path
        guard FileManager.default.fileExists(atPath: repro) else { throw XCTSkip("no ../shared/repro beside the repository") }
        let names = try FileManager.default.contentsOfDirectory(atPath: repro).filter {
            var d: ObjCBool = false
            return FileManager.default.fileExists(atPath: repro + "/" + $0, isDirectory: &d) && d.boolValue
        }.sorted()
        XCTAssertGreaterThanOrEqual(names.count, 13)
        let exe = try ramkollExecutable().path
        for name in names {
            let dir = try TestPaths.temporaryDirectory("repro-" + name)
            for f in try FileManager.default.contentsOfDirectory(atPath: repro + "/" + name) {
                var data = try Data(contentsOf: URL(fileURLWithPath: repro + "/" + name + "/" + f))
                if f.hasSuffix(".yaml") {
                    data = Data(String(decoding: data, as: UTF8.self).replacingOccurrences(of: "@PROJECT@", with: TestPaths.root.path).utf8)
                }
                try data.write(to: URL(fileURLWithPath: dir + "/" + f))
            }
            let started = Date()
            let r = try runProcess(
                URL(fileURLWithPath: "/bin/sh"),
                ["-c", "cd \"$1\" && ulimit -f 2097152 && exec \"$2\" run pipeline.yaml --run-dir run --no-warehouse", "sh", dir, exe],
                environment: ["PATH": "/usr/bin:/bin"])
            XCTAssertLessThan(Date().timeIntervalSince(started), 120, "\(name) took too long")
            XCTAssertTrue([0, 65].contains(r.status), "\(name): exit \(r.status)\n\(r.stderr.suffix(800))")
            let bytes = filesBelow(dir + "/run").reduce(0) {
                $0 + ((try? FileManager.default.attributesOfItem(atPath: dir + "/run/" + $1)[.size] as? Int) ?? 0)
            }
            XCTAssertLessThan(bytes, 50_000_000, "\(name): \(bytes) bytes written")
            if r.status == 65 {
                // Named: a rejected row or a file-level problem with its line, or a stopping error with one.
                let rejects = (try? String(contentsOfFile: dir + "/run/02-normalize/rejects.csv", encoding: .utf8)) ?? ""
                let located = rejects.split(separator: "\n").count > 1 || r.stderr.range(of: #"\.[a-z]+:\d+: "#, options: .regularExpression) != nil
                XCTAssertTrue(located, "\(name): the data error names no file and line\n\(r.stdout)\n\(r.stderr.suffix(800))")
            }
        }
    }
}
