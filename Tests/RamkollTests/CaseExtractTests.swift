import Foundation
import XCTest

@testable import RamkollPipeline

/// Case-system extracts as they come: payments without a payment id, and with the household's
/// own id, read through `ramkoll run`.
final class CaseExtractTests: XCTestCase {
    typealias H = HostileInputTests

    static let profile = """
        kind: payments-xml
        record: Utbetalning
        period_layout: YYYY-MM
        fields:
          person: Sokande/@personnummer
          household: "@hushall"
          ansvar: "@ansvar"
          period: "@avser"
          amount: Belopp

        """

    /// Two applicants of one household and one of another, paid for December; no payment ids.
    static let extract = """
        <?xml version="1.0" encoding="UTF-8"?>
        <Utbetalningar>
          <Utbetalning hushall="H-17" avser="2022-12" ansvar="64020"><Sokande personnummer="19550428-6989"/><Belopp>6 378,00</Belopp></Utbetalning>
          <Utbetalning hushall="H-17" avser="2022-12" ansvar="64020"><Sokande personnummer="19551125-3147"/><Belopp>3 660,00</Belopp></Utbetalning>
          <Utbetalning hushall="H-42" avser="2022-12" ansvar="64020"><Sokande personnummer="19560414-0466"/><Belopp>11 500,00</Belopp></Utbetalning>
        </Utbetalningar>

        """

    func testPaymentsWithoutIdsGetStableOnesAndHouseholdsAreCountedByTheirId() throws {
        let p = try H.probe(
            files: ["u.xml": Array(Self.extract.utf8), "p.yaml": Array(Self.profile.utf8), "l.se": H.sie(H.voucher(1))],
            sources: [("u", "u.xml", "profile: p.yaml"), ("l", "l.se", "profile: s.yaml")])
        _ = try TestPaths.write(H.sieProfile, name: "s.yaml", in: p.dir)
        let r = try H.run(p)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        XCTAssertTrue(r.stdout.contains("normalize: u: 3 read, 3 normalized, 0 rejected"), r.stdout)
        let sha = try FileIO.sha256(ofFile: p.dir + "/u.xml").hex.prefix(12)
        let payments = try p.file("02-normalize/payments.csv").split(separator: "\n").dropFirst().map {
            $0.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        }
        XCTAssertEqual(payments.map { $0[4] }, ["gen-\(sha)-1", "gen-\(sha)-2", "gen-\(sha)-3"])
        XCTAssertEqual(payments[0][5], payments[1][5], "one household")
        XCTAssertNotEqual(payments[0][5], payments[2][5])
        XCTAssertTrue(payments.allSatisfy { $0[5].hasPrefix("p-") && !$0[5].contains("H-") }, "the household id is kept only as a pseudonym")
        XCTAssertTrue(
            try p.file("02-normalize/warnings.csv").contains(
                "u;u.xml;0;the extract's <Utbetalning> records carry no id (the profile gives no id path): each gets gen-\(sha)-<record number>"))
        XCTAssertTrue(try p.file("02-normalize/manifest.json").contains("\"source.u.check.ids_generated\" : 3"))
        let assistance = try p.file("03-reconcile/assistance.csv")
        XCTAssertTrue(assistance.contains("EB-UTB;2022-12;2;3;2153800"), assistance)
        // The same bytes give the same ids on another run.
        let again = try runRamkoll(["run", p.pipeline, "--run-dir", p.dir + "/run2", "--no-warehouse"])
        XCTAssertEqual(again.status, 0)
        XCTAssertEqual(
            try String(contentsOfFile: p.dir + "/run2/02-normalize/payments.csv", encoding: .utf8), try p.file("02-normalize/payments.csv"))
    }

    /// A record without its household id, when the profile names one, is rejected with the path.
    func testAPaymentWithoutItsHouseholdIdIsRejected() throws {
        let extract = Self.extract.replacingOccurrences(of: "hushall=\"H-42\" ", with: "")
        let p = try H.probe(
            files: ["u.xml": Array(extract.utf8), "p.yaml": Array(Self.profile.utf8), "l.se": H.sie(H.voucher(1))],
            sources: [("u", "u.xml", "profile: p.yaml"), ("l", "l.se", "profile: s.yaml")])
        _ = try TestPaths.write(H.sieProfile, name: "s.yaml", in: p.dir)
        let r = try H.run(p)
        XCTAssertTrue(r.stdout.contains("normalize: u: 3 read, 2 normalized, 1 rejected"), r.stdout)
        XCTAssertTrue(try p.file("02-normalize/rejects.csv").contains(";@hushall;;Utbetalning record 3: has no household id (path @hushall)"))
    }
}
