import Foundation
import XCTest

@testable import RamkollModel
@testable import RamkollPipeline

/// Issue 3's acceptance: the previous year as SIE 4E, the current year as a debit/credit CSV in
/// Windows-1252 and the budget as a type-3 SIE file with #PBUDGET give the same Drift table (and
/// every other reconciled figure) as the same money given as plain CSV (Fixtures/small).
final class MixedFormatsTests: XCTestCase {
    func testSameDriftAsThePlainCSVPipeline() throws {
        let a = try TestPaths.temporaryDirectory(), b = try TestPaths.temporaryDirectory()
        let plain = try runPipeline(TestPaths.fixture("small/pipeline.yaml"), runDir: a)
        let mixed = try runPipeline(TestPaths.fixture("mixed/pipeline.yaml"), runDir: b)
        XCTAssertEqual(plain.status, .ok)
        XCTAssertEqual(mixed.status, .ok)
        for f in [
            "03-reconcile/actuals_vs_budget.csv", "04-deviation/drift.csv", "04-deviation/drift.txt", "04-deviation/avvikelse.csv",
            "05-prognosis/prognos.csv",
        ] {
            XCTAssertEqual(try String(contentsOfFile: a + "/" + f, encoding: .utf8), try String(contentsOfFile: b + "/" + f, encoding: .utf8), f)
        }
        let drift = try String(contentsOfFile: b + "/04-deviation/drift.csv", encoding: .utf8)
        // Mid-year: budget to date, outcome to date, their difference; the year's budget; last year to date; diff.
        XCTAssertTrue(drift.contains("SN;Socialnämnden;0;RES;Årets resultat;-10;-37;-27;0;4;-41\n"), drift)
    }

    func testWhatTheSIEFilesSayAboutThemselvesIsChecked() throws {
        let run = try TestPaths.temporaryDirectory()
        let o = try runPipeline(TestPaths.fixture("mixed/pipeline.yaml"), runDir: run)
        let t = o.results.first { $0.manifest.stage == "normalize" }!.manifest.totals
        XCTAssertEqual(t["source.sie2021.check.ksumma_verified"], 1, "#KSUMMA computed by zlib in make-fixture.py")
        XCTAssertEqual(t["source.sie2021.check.encoding_cp437"], 1)
        XCTAssertEqual(t["source.sie2021.check.vouchers"], 5)
        XCTAssertEqual(t["source.sie2021.check.identities_checked"], 7, "#RES for five accounts, #IB + movements = #UB for two")
        XCTAssertEqual(t["source.sie2021.check.identities_failed"], 0)
        XCTAssertEqual(t["source.sie2021.skipped.struck_#BTRANS_rows"], 1)
        XCTAssertEqual(t["source.sie2021.skipped.#TRANS_rows_following_an_#RTRANS"], 1)
        // The type-3 budget repeats its money per account total, per ansvar and per ansvar × projekt,
        // and carries last year's: one slice of this year is read, nothing is summed across slices.
        XCTAssertEqual(t["source.budget1.rows_read"], 240)
        XCTAssertEqual(t["source.budget1.rows_normalized"], 60)
        XCTAssertEqual(t["source.budget1.skipped.rows_of_other_object_slices"], 120)
        XCTAssertEqual(t["source.budget1.skipped.rows_of_other_#RAR_years"], 60)
        XCTAssertEqual(t["source.dk2022.check.stated_totals_checked"], 1)
        XCTAssertNil(t["source.dk2022.check.stated_totals_failed"])
        let rec = o.results.first { $0.manifest.stage == "reconcile" }!.manifest
        XCTAssertEqual(rec.totals["budget_accounts.rows.mapped"], 60)
        for r in o.results { for bal in r.manifest.balances { XCTAssertTrue(bal.balanced, "\(r.manifest.stage): \(bal.identity)") } }
    }

    func testATamperedAmountFailsTheChecksumAndNothingOfTheFileIsRead() throws {
        let dir = try TestPaths.temporaryDirectory()
        let src = TestPaths.fixture("mixed")
        for f in ["pipeline.yaml", "sie-4e.yaml", "sie-budget.yaml", "debet-kredit.yaml", "ledger-2022-dk.csv", "budget-2022.se"] {
            try FileManager.default.copyItem(atPath: src + "/" + f, toPath: dir + "/" + f)
        }
        var bytes = try Data(contentsOf: URL(fileURLWithPath: src + "/prev-2021.se"))
        let text = String(decoding: bytes, as: UTF8.self)
        XCTAssertTrue(text.contains("10000.00"))
        // Change one digit of the first 10000.00 (#RES 0 50110), leaving #KSUMMA as it was.
        let range = bytes.range(of: Data("10000.00".utf8))!
        bytes[range.lowerBound] = UInt8(ascii: "2")
        try bytes.write(to: URL(fileURLWithPath: dir + "/prev-2021.se"))
        var pipeline = try String(contentsOfFile: dir + "/pipeline.yaml", encoding: .utf8)
        pipeline = pipeline.replacingOccurrences(of: "../../../../", with: TestPaths.root.path + "/").replacingOccurrences(
            of: "../small/", with: TestPaths.fixture("small") + "/")
        try pipeline.write(toFile: dir + "/pipeline.yaml", atomically: true, encoding: .utf8)
        let o = try runPipeline(dir + "/pipeline.yaml", runDir: dir + "/run")
        XCTAssertEqual(o.status, .dataError)
        let t = o.results.first { $0.manifest.stage == "normalize" }!.manifest.totals
        XCTAssertEqual(t["source.sie2021.rows_read"], 0)
        XCTAssertTrue(o.summary.contains { $0.contains("prev-2021.se: #KSUMMA") && $0.contains("does not match the file's content") }, "\(o.summary)")
    }

    func testOverlappingSourcesOfOneLedgerAreRefusedAndDuplicatesReadOnce() throws {
        let dir = try TestPaths.temporaryDirectory()
        // The same 2022 file twice under two names: read once, with a note.
        let small = TestPaths.fixture("small")
        try FileManager.default.copyItem(atPath: small + "/ledger-2022.csv", toPath: dir + "/copy-2022.csv")
        let twice = try smallPipelineCopy(in: dir, name: "twice.yaml") {
            $0.replacingOccurrences(
                of: "  - id: plac\n",
                with:
                    "  - id: again\n    path: \(dir)/copy-2022.csv\n    profile: \(TestPaths.root.path)/Pipelines/profiles/agresso-kontoutdrag.yaml\n  - id: plac\n"
            )
        }
        let o = try runPipeline(twice, runDir: dir + "/run1")
        XCTAssertEqual(o.status, .ok)
        XCTAssertTrue(o.summary.contains("normalize: again: not read (ingest found it is a duplicate of another source)"), "\(o.summary)")
        XCTAssertEqual(o.results[0].manifest.totals["duplicate_sources_not_read"], 1)
        // A year-to-date file beside the monthly file: the same months twice → refused with the remedy.
        var ytd = try String(contentsOfFile: small + "/ledger-2022.csv", encoding: .isoLatin1)
        ytd = ytd.replacingOccurrences(of: "B1;", with: "Y1;")
        try ytd.write(toFile: dir + "/ytd-2022.csv", atomically: true, encoding: .isoLatin1)
        let overlap = try smallPipelineCopy(in: dir, name: "overlap.yaml") {
            $0.replacingOccurrences(
                of: "  - id: plac\n",
                with:
                    "  - id: ytd\n    path: \(dir)/ytd-2022.csv\n    profile: \(TestPaths.root.path)/Pipelines/profiles/agresso-kontoutdrag.yaml\n  - id: plac\n"
            )
        }
        // Files are named as inputs.csv names them: relative to the pipeline's folder (the
        // fixture's path depends on where the repository lies).
        let shown = PipelineConfig.load(path: overlap).0?.sources.first { $0.id == "b2022" }?.displayPath ?? "?"
        XCTAssertTrue(shown.hasSuffix("Fixtures/small/ledger-2022.csv"), shown)
        XCTAssertThrowsError(try runPipeline(overlap, runDir: dir + "/run2")) { e in
            let err = e as! RamkollError
            XCTAssertEqual(err.kind, .data)
            XCTAssertTrue(
                err.message.hasPrefix(
                    "sources b2022 (\(shown)) and ytd (ytd-2022.csv) both hold postings of ledger \"main\" for 7 periods, 2020-12–2022-07; they would be counted twice"
                ), err.message)
        }
    }

    func testRowsNameTheirFileAsIngestDoesWhereThePipelineGivesAnAbsolutePath() throws {
        // The 2022 ledger given by its absolute path in the run's directory: ledger.csv, its
        // groups and inputs.csv all name it relative to the pipeline file, and no output holds
        // the machine's directory.
        let dir = try TestPaths.temporaryDirectory()
        let small = TestPaths.fixture("small")
        try FileManager.default.createDirectory(atPath: dir + "/in", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: small + "/ledger-2022.csv", toPath: dir + "/in/ledger-2022.csv")
        let p = try smallPipelineCopy(in: dir) { $0.replacingOccurrences(of: " \(small)/ledger-2022.csv\n", with: " \(dir)/in/ledger-2022.csv\n") }
        XCTAssertTrue(try String(contentsOfFile: p, encoding: .utf8).contains("path: \(dir)/in/ledger-2022.csv\n"))
        XCTAssertEqual(try runPipeline(p, runDir: dir + "/run").status, .ok)
        func rows(_ name: String) throws -> [[Substring]] {
            try String(contentsOfFile: dir + "/run/" + name, encoding: .utf8).split(separator: "\n").map {
                $0.split(separator: ";", omittingEmptySubsequences: false)
            }
        }
        let inputs = try rows("01-ingest/inputs.csv")
        XCTAssertEqual(inputs.first { $0[0] == "b2022" }?[2], "in/ledger-2022.csv")
        for table in ["02-normalize/ledger.csv", "02-normalize/ledger_groups.csv"] {
            let t = try rows(table)
            XCTAssertEqual(t[0][1], "file")
            let files = Set(t.dropFirst().filter { $0[0] == "b2022" }.map { $0[1] })
            XCTAssertEqual(files, ["in/ledger-2022.csv"], table)
        }
        for f in filesBelow(dir + "/run") {
            let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: dir + "/run/" + f)), as: UTF8.self)
            XCTAssertFalse(text.contains(dir + "/in"), f)
        }
    }

    func testTheProfileIsIdentifiedByTheHeaderLine() throws {
        let dir = try TestPaths.temporaryDirectory()
        let root = TestPaths.root.path
        let raindance = "\(root)/Pipelines/profiles/raindance-huvudbok.yaml", agresso = "\(root)/Pipelines/profiles/agresso-kontoutdrag.yaml"
        let dk = TestPaths.fixture("mixed/debet-kredit.yaml")
        func check(_ profiles: [String]) throws -> (PipelineConfig?, [String]) {
            let p = try smallPipelineCopy(in: dir, name: "id.yaml") {
                $0.replacingOccurrences(of: "profile: \(agresso)\n", with: "profile: [\(profiles.joined(separator: ", "))]\n")
            }
            let (cfg, _, diagnostics) = Runner.check(p)
            return (cfg, diagnostics.filter { $0.severity == .error }.map(\.message))
        }
        let (cfg, errors) = try check([raindance, agresso])
        XCTAssertEqual(errors, [])
        XCTAssertEqual(cfg?.sources.first { $0.id == "b2022" }?.profile.name, "agresso-kontoutdrag")

        let (_, none) = try check([raindance, dk])
        XCTAssertEqual(
            none,
            [
                "source b2022: no profile matches the header of \(TestPaths.fixture("small"))/ledger-2022.csv: "
                    + "\(raindance) lacks \"Aktivitet\" (aktivitet), \"Bokföringsdatum\" (booking_date), \"Motpart\" (motpart), \"Projekt\" (projekt), "
                    + "\"Text\" (text), \"Verifikation\" (voucher), \"Verksamhet\" (verksamhet); "
                    + "\(dk) lacks \"Ansvar\" (ansvar), \"Bilagsnr\" (voucher), \"Datum\" (booking_date), \"Debet\" (debit), \"Konto\" (account), "
                    + "\"Kredit\" (credit), \"Text\" (text), \"Bilagsnr\" (total_row)"
            ])

        // Two profiles that both fit (here: a copy) cannot be told apart.
        let copy = dir + "/agresso-copy.yaml"
        try FileManager.default.copyItem(atPath: agresso, toPath: copy)
        let (_, two) = try check([agresso, copy])
        XCTAssertEqual(
            two,
            [
                "source b2022: 2 profiles match the header of \(TestPaths.fixture("small"))/ledger-2022.csv (\(agresso), \(copy)); name one, or make their columns tell the exports apart"
            ])
    }
}
