import Foundation
import XCTest

@testable import RamkollModel
@testable import RamkollPipeline

/// End to end on SampleInputs/ with Pipelines/exempelby.yaml: the Drift table against figures this
/// test computes on its own from the raw exports, determinism, and the personnummer scan.
final class SampleEndToEndTests: XCTestCase {
    static let pipeline = TestPaths.root.appendingPathComponent("Pipelines/exempelby.yaml").path
    static let sample = TestPaths.root.appendingPathComponent("SampleInputs").path

    /// One run shared by the tests that only read it.
    nonisolated(unsafe) static var shared: (dir: String, outcome: Runner.Outcome)?
    static func sharedRun() throws -> (dir: String, outcome: Runner.Outcome) {
        if let s = shared { return s }
        let dir = try TestPaths.temporaryDirectory("sample-shared")
        let o = try runPipeline(pipeline, runDir: dir)
        shared = (dir, o)
        return (dir, o)
    }

    // MARK: An independent reading of the exports (Foundation strings, no Ramkoll reader code).

    /// Splits CSV text into records of fields, honouring quotes (which may hold ; and line breaks).
    static func parseCSV(_ text: String) -> [[String]] {
        var records: [[String]] = [], fields: [String] = [], field = ""
        var inQuotes = false
        var chars = Array(text.unicodeScalars)
        if chars.first == "\u{FEFF}" { chars.removeFirst() }
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if inQuotes {
                if c == "\"" {
                    if i + 1 < chars.count && chars[i + 1] == "\"" { field.unicodeScalars.append("\""); i += 1 } else { inQuotes = false }
                } else {
                    field.unicodeScalars.append(c)
                }
            } else if c == "\"" {
                inQuotes = true
            } else if c == ";" {
                fields.append(field); field = ""
            } else if c == "\r" {
            } else if c == "\n" {
                fields.append(field); records.append(fields); fields = []; field = ""
            } else {
                field.unicodeScalars.append(c)
            }
            i += 1
        }
        if !field.isEmpty || !fields.isEmpty { fields.append(field); records.append(fields) }
        return records
    }

    /// "−1 234,50" → öre, or nil unless the text is exactly a Swedish amount with two decimals or none.
    static func ore(_ s: String) -> Int64? {
        let t = s.replacingOccurrences(of: "\u{00A0}", with: " ")
        guard t.range(of: #"^-?\d{1,3}( \d{3})*(,\d{1,2})?$"#, options: .regularExpression) != nil else { return nil }
        let neg = t.hasPrefix("-")
        let parts = t.replacingOccurrences(of: "-", with: "").replacingOccurrences(of: " ", with: "").split(separator: ",")
        var v = Int64(parts[0])! * 100
        if parts.count == 2 { v += Int64(parts[1].count == 1 ? String(parts[1]) + "0" : String(parts[1]))! }
        return neg ? -v : v
    }

    static func validDate(_ y: Int, _ m: Int, _ d: Int) -> Bool {
        var c = DateComponents(); c.year = y; c.month = m; c.day = d
        let cal = Calendar(identifier: .gregorian)
        guard (1...12).contains(m), let date = cal.date(from: c) else { return false }
        return cal.component(.day, from: date) == d && cal.component(.month, from: date) == m
    }

    /// The sample's mapping, restated: Kommun-Bas defaults plus Exempelby's kommunbidrag account.
    static func reportLine(_ account: String) -> String? {
        if account.hasPrefix("3891") { return "KB" }
        if account.hasPrefix("4511") { return "EKB" }  // Exempelby's varav line of OVR
        if account.hasPrefix("1") || account.hasPrefix("2") { return "-" }
        for (p, l) in [("46", "KOP"), ("74", "KOP"), ("75", "KOP"), ("60", "LOK"), ("84", "FIN"), ("85", "FIN")] where account.hasPrefix(p) {
            return l
        }
        if account.hasPrefix("5") { return "PERS" }
        if account.hasPrefix("3") { return "INT" }
        if account.hasPrefix("4") || account.hasPrefix("6") || account.hasPrefix("7") { return "OVR" }
        return nil
    }
    static let knownAnsvar: Set<String> = [
        "60010", "60020", "60030", "61010", "61020", "61030", "62010", "62020", "63010", "63020", "64010", "64020", "65010",
    ]

    /// Σ report-sign öre per report line for one year, straight from the exports.
    static func independentActuals() throws -> (current: [String: Int64], previous: [String: Int64], budget: [String: Int64]) {
        var cur: [String: Int64] = [:], prev: [String: Int64] = [:], budget: [String: Int64] = [:]
        let a = try String(contentsOfFile: sample + "/ledger/huvudbok-2021.csv", encoding: .utf8)
        for r in parseCSV(a).dropFirst() where r.count == 11 {
            guard let amount = ore(r[9]), !r[2].isEmpty, let line = reportLine(r[2]), line != "-", knownAnsvar.contains(r[4]) else { continue }
            let d = r[1].split(separator: "-").compactMap { Int($0) }
            guard d.count == 3, validDate(d[0], d[1], d[2]), d[0] == 2021 else { continue }
            prev[line, default: 0] -= amount
        }
        for f in ["kontoutdrag-2022-h1.csv", "kontoutdrag-2022-h2.csv"] {
            let data = try Data(contentsOf: URL(fileURLWithPath: sample + "/ledger/" + f))
            let text = String(data: data, encoding: .windowsCP1252)!
            for r in parseCSV(text).dropFirst() where r.count == 11 {
                guard let amount = ore(r[9]), !r[3].isEmpty, let line = reportLine(r[3]), line != "-", knownAnsvar.contains(r[4]) else { continue }
                let dd = r[1]
                guard dd.count == 8, let y = Int(dd.prefix(4)), let m = Int(dd.dropFirst(4).prefix(2)), let d = Int(dd.suffix(2)), validDate(y, m, d)
                else { continue }
                guard r[2].count == 6, let py = Int(r[2].prefix(4)), let pm = Int(r[2].suffix(2)), (1...12).contains(pm), py == 2022 else { continue }
                cur[line, default: 0] -= amount
            }
        }
        let b = try String(contentsOfFile: sample + "/budget/internbudget-2022.csv", encoding: .utf8)
        for r in parseCSV(b) where !(r.first?.hasPrefix("#") ?? true) && r.first != "enhet" {
            budget[r[1], default: 0] += ore(r[2])!
        }
        return (cur, prev, budget)
    }

    static func tkr(_ ore: Int64) -> Int64 {
        let q = (abs(ore) + 50_000) / 100_000
        return ore < 0 ? -q : q
    }

    func testDriftTableMatchesAnIndependentComputationFromTheExports() throws {
        let (dir, outcome) = try Self.sharedRun()
        XCTAssertEqual(outcome.status, .ok)
        let (cur, prev, budget) = try Self.independentActuals()
        let lines = ["INT", "PERS", "LOK", "KOP", "OVR", "KB", "FIN"]
        // EKB is a varav line of OVR: its amounts belong to OVR too, and are not added twice.
        func folded(_ d: [String: Int64]) -> [String: Int64] {
            var o = d
            o["OVR", default: 0] += d["EKB"] ?? 0
            return o
        }
        let (fc, fp, fb) = (folded(cur), folded(prev), folded(budget))
        func total(_ d: [String: Int64], _ ids: [String]) -> Int64 { ids.reduce(0) { $0 + (d[$1] ?? 0) } }
        var expected: [String: (Int64, Int64, Int64)] = [:]  // budget, actual, previous in öre
        for l in lines + ["EKB"] { expected[l] = (fb[l] ?? 0, fc[l] ?? 0, fp[l] ?? 0) }
        expected["EKB"] = (budget["EKB"] ?? 0, cur["EKB"] ?? 0, prev["EKB"] ?? 0)
        let sums = ["KOST": ["PERS", "LOK", "KOP", "OVR"], "NETTO": ["INT", "PERS", "LOK", "KOP", "OVR"], "RES": lines]
        for (s, parts) in sums { expected[s] = (total(fb, parts), total(fc, parts), total(fp, parts)) }
        XCTAssertNotEqual(expected["EKB"]!.1, 0, "the sample has ekonomiskt bistånd")

        let text = try String(contentsOfFile: dir + "/04-deviation/drift.csv", encoding: .utf8)
        let rows = text.split(separator: "\n").map { $0.split(separator: ";", omittingEmptySubsequences: false).map(String.init) }
        let root = rows.filter { $0[0] == "SN" }
        XCTAssertEqual(root.count, 11)
        for r in root {
            let (b, a, p) = expected[r[3]]!
            XCTAssertEqual(r[5], String(Self.tkr(b)), "budget \(r[3])")
            XCTAssertEqual(r[6], String(Self.tkr(a)), "bokslut \(r[3])")
            XCTAssertEqual(r[7], String(Self.tkr(a - b)), "avvikelse \(r[3])")
            XCTAssertEqual(r[8], String(Self.tkr(p)), "bokslut previous year \(r[3])")
            XCTAssertEqual(r[9], String(Self.tkr(a - p)), "diff \(r[3])")
        }
        // The budget is balanced: the frame covers the net cost exactly.
        XCTAssertEqual(expected["RES"]!.0, 0)
        // Sanity: a realistic committee (≈ 200 mnkr net cost) and a non-trivial outcome.
        XCTAssertGreaterThan(-expected["NETTO"]!.1, 150_000_000_00)
    }

    func testSampleRejectsAndExceptionsAreAllAccountedFor() throws {
        let (dir, outcome) = try Self.sharedRun()
        let rejects = try String(contentsOfFile: dir + "/02-normalize/rejects.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        XCTAssertEqual(rejects.count, 7)
        // Each rejected ledger row is one of the broken rows the export carries (B900000x), and the
        // rejected placement is the one whose personnummer has a wrong check digit.
        let h2 = String(data: try Data(contentsOf: URL(fileURLWithPath: Self.sample + "/ledger/kontoutdrag-2022-h2.csv")), encoding: .windowsCP1252)!
            .components(separatedBy: "\r\n")
        for r in rejects {
            let f = Self.parseCSV(String(r) + "\n")[0]  // source;file;line;record;field;raw_value;reason
            if f[0] == "ku2022h2" {
                XCTAssertTrue(h2[Int(f[2])! - 1].hasPrefix("B900000"), "line \(f[2]) is not one of the broken rows")
            } else {
                XCTAssertEqual(f[0], "plac2022")
                XCTAssertEqual(f[4], "../@personnummer")
                XCTAssertTrue(f[6].hasSuffix("personal identity number fails its check digit; check the case system's record"), f[6])
            }
        }
        // The footer "Summa" row is the file's own total: not a posting, and checked against the rows.
        let norm0 = outcome.results.first { $0.manifest.stage == "normalize" }!.manifest
        XCTAssertEqual(norm0.totals["source.ku2022h2.skipped.stated_total_rows"], 1)
        XCTAssertEqual(norm0.totals["source.ku2022h2.check.stated_totals_checked"], 1)
        let warnings = try String(contentsOfFile: dir + "/02-normalize/warnings.csv", encoding: .utf8)
        XCTAssertTrue(warnings.contains("the difference, 12 623,50 kr, may be the 2 rejected rows whose amount could not be read"), warnings)
        for r in outcome.results {
            for b in r.manifest.balances { XCTAssertTrue(b.balanced, "\(r.manifest.stage): \(b.identity)") }
        }
        let rec = outcome.results.first { $0.manifest.stage == "reconcile" }!.manifest
        XCTAssertEqual(rec.totals["rows.unmapped_account"], 1)
        XCTAssertEqual(rec.totals["rows.unmapped_ansvar"], 1)
        let norm1 = outcome.results.first { $0.manifest.stage == "normalize" }!.manifest
        let ledgerRows = ["hb2021", "ku2022h1", "ku2022h2"].reduce(Int64(0)) { $0 + (norm1.totals["source.\($1).rows_normalized"] ?? 0) }
        XCTAssertEqual(rec.totals["rows.in"], ledgerRows)
        let norm = outcome.results.first { $0.manifest.stage == "normalize" }!.manifest
        XCTAssertGreaterThanOrEqual(norm.totals["rows_read"]!, 50_000, "the sample holds at least 50 000 ledger rows")
    }

    func testTwoRunsGiveIdenticalBytes() throws {
        let (first, _) = try Self.sharedRun()
        let second = try TestPaths.temporaryDirectory()
        try runPipeline(Self.pipeline, runDir: second)
        let files = filesBelow(first).filter { !$0.hasSuffix("timings.json") }
        XCTAssertEqual(files, filesBelow(second).filter { !$0.hasSuffix("timings.json") })
        XCTAssertEqual(files.count, 61)  // with the four *.sheet.json the workbook reads, investment_budget.csv, investments.csv, ekonomiska_ramar_kalkyl.csv
        for f in files {
            XCTAssertEqual(
                try Data(contentsOf: URL(fileURLWithPath: first + "/" + f)), try Data(contentsOf: URL(fileURLWithPath: second + "/" + f)), f)
        }
    }

    func testNoPersonnummerInAnyOutput() throws {
        let (dir, _) = try Self.sharedRun()
        // Every number in the extract, in every form it could be written.
        let xml =
            try String(contentsOfFile: Self.sample + "/case/placeringar-2022.xml", encoding: .utf8)
            + String(contentsOfFile: Self.sample + "/case/beslut-2022.xml", encoding: .isoLatin1)
            + String(contentsOfFile: Self.sample + "/case/utbetalningar-2022.xml", encoding: .utf8)
        let regex = try NSRegularExpression(pattern: #"personnummer="(\d{8})-(\d{4})""#)
        var forms: Set<String> = ["19850312-1233", "198503121233", "850312-1233", "8503121233"]  // the one in the ledger text
        for m in regex.matches(in: xml, range: NSRange(xml.startIndex..., in: xml)) {
            let date = String(xml[Range(m.range(at: 1), in: xml)!]), serial = String(xml[Range(m.range(at: 2), in: xml)!])
            forms.formUnion(["\(date)-\(serial)", date + serial, "\(date.dropFirst(2))-\(serial)", date.dropFirst(2) + serial])
        }
        XCTAssertGreaterThan(forms.count, 2000)
        // Every token of digits, '-' and '+' in every output, compared with the set of forms.
        for f in filesBelow(dir) {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + f))
            var token: [UInt8] = []
            var found = 0
            func check() {
                while token.first == UInt8(ascii: "-") || token.first == UInt8(ascii: "+") { token.removeFirst() }
                if token.count >= 10, forms.contains(String(decoding: token, as: UTF8.self)) { found += 1 }
                token.removeAll(keepingCapacity: true)
            }
            for b in bytes {
                if (b >= 48 && b <= 57) || b == UInt8(ascii: "-") || b == UInt8(ascii: "+") { token.append(b) } else { check() }
            }
            check()
            XCTAssertEqual(found, 0, "\(f) contains personnummer")
        }
    }

    /// Households and paid amount per month of ekonomiskt bistånd, counted from the raw extract.
    func testAssistancePerMonthMatchesTheExtract() throws {
        let (dir, _) = try Self.sharedRun()
        // This year's extract and last year's (each its own source).
        let xml =
            try String(contentsOfFile: Self.sample + "/case/utbetalningar-2022.xml", encoding: .utf8)
            + String(contentsOfFile: Self.sample + "/case/utbetalningar-2021.xml", encoding: .utf8)
        let re = try NSRegularExpression(pattern: #"avser="(20\d\d-\d\d)"[^>]*>\s*<Sokande personnummer="([^"]+)"/>\s*<Belopp>([^<]+)</Belopp>"#)
        var households: [String: Set<String>] = [:], paid: [String: Int64] = [:]
        for m in re.matches(in: xml, range: NSRange(xml.startIndex..., in: xml)) {
            let month = String(xml[Range(m.range(at: 1), in: xml)!]), person = String(xml[Range(m.range(at: 2), in: xml)!])
            households[month, default: []].insert(person)
            paid[month, default: 0] += Self.ore(String(xml[Range(m.range(at: 3), in: xml)!]))!
        }
        XCTAssertEqual(households.count, 24)
        let rows = try String(contentsOfFile: dir + "/03-reconcile/assistance.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        XCTAssertEqual(rows.count, 24)
        for r in rows {
            let f = r.split(separator: ";").map(String.init)  // unit;period;households;payments;paid_ore
            XCTAssertEqual(f[0], "EB-UTB")
            XCTAssertEqual(Int(f[2]), households[f[1]]?.count, f[1])
            XCTAssertEqual(Int64(f[4]), paid[f[1]], f[1])
        }
    }

    /// The ledger books ekonomiskt bistånd when it is paid: month by month it must equal the payments
    /// the case system made that month, except where the sample's ledger has its two known faults
    /// (a payment booked twice in August, a stray posting in November).
    func testAssistanceLedgerAgainstPaymentsByPaymentMonth() throws {
        let (dir, _) = try Self.sharedRun()
        let rows = try String(contentsOfFile: dir + "/03-reconcile/assistance_table.csv", encoding: .utf8).split(separator: "\n").dropFirst()
            .map { $0.split(separator: ";", omittingEmptySubsequences: false).map(String.init) }
        let status = Dictionary(uniqueKeysWithValues: rows.map { ($0[0], $0[7]) })
        XCTAssertEqual(status.filter { $0.value != "matched" }.keys.sorted(), ["2022-08", "2022-11"])
        XCTAssertEqual(status["2022-08"], "booked-more-than-paid")
    }

    /// Placement invoices matched to delivered care: the sample carries one price difference, one
    /// days difference, the invoices of the placement the case extract lost (its record was rejected)
    /// and December, not yet invoiced at the year's close.
    func testPlacementInvoicesAgainstDeliveredCare() throws {
        let (dir, _) = try Self.sharedRun()
        let text = try String(contentsOfFile: dir + "/03-reconcile/invoice_matching.csv", encoding: .utf8)
        let rows = Self.parseCSV(text).dropFirst().map { r in Dictionary(uniqueKeysWithValues: zip(Self.parseCSV(text)[0], r)) }
        let by = Dictionary(grouping: rows, by: { $0["finding"]! })
        XCTAssertEqual(Set(by.keys), ["matched", "not-invoiced", "price-difference", "days-difference", "invoiced-without-placement"])
        let price = by["price-difference"]!
        XCTAssertEqual(price.count, 1)
        XCTAssertEqual(Int64(price[0]["invoiced_ore"]!)! / Int64(price[0]["care_days"]!)! - Int64(price[0]["price_ore"]!)!, 25_000)
        let days = by["days-difference"]!
        XCTAssertEqual(days.count, 1)
        XCTAssertEqual(Int64(days[0]["difference_ore"]!)!, 2 * Int64(days[0]["price_ore"]!)!)
        XCTAssertTrue(by["not-invoiced"]!.allSatisfy { $0["month"] == "2022-12" })
        // The placement without case data is the one whose record was rejected.
        let lost = Set(by["invoiced-without-placement"]!.map { $0["placement_id"]! })
        XCTAssertEqual(lost.count, 1)
        let rejects = try String(contentsOfFile: dir + "/02-normalize/rejects.csv", encoding: .utf8)
        let record = Self.parseCSV(rejects).first { $0.first == "plac2022" }![3]
        let xml = try String(contentsOfFile: Self.sample + "/case/placeringar-2022.xml", encoding: .utf8)
        let ids = xml.components(separatedBy: "<Placering id=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
        XCTAssertEqual(lost, [ids[Int(record)! - 1]])
    }
}
