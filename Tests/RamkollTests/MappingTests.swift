import Foundation
import XCTest

@testable import RamkollModel
@testable import RamkollPipeline

final class MappingTests: XCTestCase {
    func table(_ text: String, what: String = "ansvar", valid: Set<String> = ["U1", "U2", "U3"]) throws -> (PrefixTable, [Diagnostic]) {
        let dir = try TestPaths.temporaryDirectory()
        let p = try TestPaths.write(text, name: "t.csv", in: dir)
        var d: [Diagnostic] = []
        let t = PrefixTable.load(files: [(p, "t.csv")], targetColumn: "unit", what: what, validTarget: valid.contains, diagnostics: &d)
        return (t, d)
    }

    func testLongestPrefixAndLaterFileWin() throws {
        let dir = try TestPaths.temporaryDirectory()
        let base = try TestPaths.write("from;to;line\n3;3;INT\n38;38;INT\n5;5;PERS\n", name: "base.csv", in: dir)
        let local = try TestPaths.write("from;to;line\n3891;3891;KB\n38;38;OVR\n", name: "local.csv", in: dir)
        var d: [Diagnostic] = []
        let t = PrefixTable.load(
            files: [(base, "base.csv"), (local, "local.csv")], targetColumn: "line", what: "account",
            validTarget: { ["INT", "PERS", "KB", "OVR"].contains($0) }, diagnostics: &d)
        XCTAssertEqual(d, [])
        XCTAssertEqual(t.lookup("31320")?.target, "INT")
        XCTAssertEqual(t.lookup("38910")?.target, "KB", "longest prefix")
        XCTAssertEqual(t.lookup("38100")?.target, "OVR", "at equal length the later file (site override) wins")
        XCTAssertEqual(t.lookup("50110")?.target, "PERS")
        XCTAssertNil(t.lookup("91000"))
    }

    func testValidityDatesChooseTheRuleInForceInThePeriod() throws {
        let (t, d) = try table("from;to;unit;valid_from;valid_to\n100;100;U1;;2022-03\n100;100;U2;2022-04;\n200;299;U3;2021-01-01;2022-12-31\n")
        XCTAssertEqual(d, [])
        XCTAssertEqual(t.lookup("100", at: Period("2022-03"))?.target, "U1")
        XCTAssertEqual(t.lookup("100", at: Period("2022-04"))?.target, "U2")
        XCTAssertEqual(t.lookup("250", at: Period("2022-12"))?.target, "U3")
        XCTAssertNil(t.lookup("250", at: Period("2023-01")), "the code is closed: an exception, not a guess")
    }

    func testOverlappingValidityAndBadDatesAreErrorsWithTheirLines() throws {
        let (_, d) = try table(
            "from;to;unit;valid_from;valid_to\n100;100;U1;;2022-06\n100;100;U2;2022-04;\n200;200;U3;2022-13;\n300;300;U3;2022-06;2022-01\n")
        XCTAssertEqual(
            d.map(\.description),
            [
                "t.csv:3: error: ansvar rule 100–100 (valid 2022-04–…) overlaps the rule 100–100 (valid …–2022-06) on line 2; a code must map to exactly one unit",
                "t.csv:4: error: ansvar rule 200–200: valid_from \"2022-13\" is not a period; expected YYYY-MM",
                "t.csv:5: error: ansvar rule 300–300: valid_to is before valid_from",
            ])
    }
}

final class CaseReconciliationTests: XCTestCase {
    func testStatusOfAUnitMonth() {
        let t = Ore(kronor: 100)
        typealias S = CaseReconciliation.Status
        XCTAssertEqual(CaseReconciliation.status(caseCost: Ore(kronor: 10_000), ledgerCost: Ore(kronor: 9_950), tolerance: t), S.matched)
        XCTAssertEqual(CaseReconciliation.status(caseCost: Ore(kronor: 10_000), ledgerCost: Ore(kronor: 9_899), tolerance: t), S.deliveredNotInvoiced)
        XCTAssertEqual(CaseReconciliation.status(caseCost: .zero, ledgerCost: Ore(kronor: 5_000), tolerance: t), S.invoicedWithoutPlacement)
        XCTAssertEqual(
            CaseReconciliation.status(caseCost: Ore(kronor: 10_000), ledgerCost: Ore(kronor: 12_000), tolerance: t), S.invoicedMoreThanDelivered)
        XCTAssertEqual(CaseReconciliation.status(caseCost: .zero, ledgerCost: Ore(kronor: 50), tolerance: t), S.matched)
    }

    func testInvoiceReferencesFindPlacementAndMonth() {
        let ref = InvoiceMatching.Reference("faktura (?<placement>PL-\\d+) (?<month>\\d{4}-\\d\\d|\\d\\d)")!
        XCTAssertEqual(
            ref.find("Nordvik HVB AB faktura PL-00010 05", bookedIn: Period("2022-06")!),
            InvoiceMatching.Key(placement: "PL-00010", month: Period("2022-05")!))
        XCTAssertEqual(
            ref.find("faktura PL-7 12", bookedIn: Period("2022-01")!)?.month, Period("2021-12"), "a January invoice for 12 is last December's")
        XCTAssertEqual(ref.find("faktura PL-7 2022-03", bookedIn: Period("2022-04")!)?.month, Period("2022-03"))
        XCTAssertNil(ref.find("Hyra juni", bookedIn: Period("2022-06")!))
    }
}
