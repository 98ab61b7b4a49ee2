import Foundation
import XCTest
import ZIPFoundation

@testable import RamkollModel
@testable import RamkollPipeline

/// `rapport.xlsx` of the sample run (made by `ramkoll run`), read back part by part: every sheet
/// titled, laid out and set up for A4; sum rows bold, varav rows indented; the committee tables in
/// their unit (mnkr with one decimal, or tkr) with every value equal to `tables.json`'s öre
/// rounded once; Swedish values only.
final class WorkbookTests: XCTestCase {
    struct Cell { let column: String; let row: Int; let style: Int; let value: String }

    /// A worksheet's cells (inline strings and numbers, as Ramkoll writes them).
    static func cells(_ xml: String) -> [Cell] {
        var out: [Cell] = []
        let pattern = try! NSRegularExpression(pattern: #"<c ([^>]*)>(.*?)</c>"#)
        let ns = xml as NSString
        for m in pattern.matches(in: xml, range: NSRange(location: 0, length: ns.length)) {
            let attributes = ns.substring(with: m.range(at: 1)), body = ns.substring(with: m.range(at: 2))
            func attribute(_ name: String) -> String? {
                guard let r = attributes.range(of: name + "=\"") else { return nil }
                return String(attributes[r.upperBound...].prefix { $0 != "\"" })
            }
            let ref = attribute("r")!
            let column = String(ref.prefix { $0.isLetter }), row = Int(ref.drop { $0.isLetter })!
            var value = body
            for tag in ["<v>", "</v>", "<is>", "</is>", "</t>"] { value = value.replacingOccurrences(of: tag, with: "") }
            if let t = value.range(of: #"<t[^>]*>"#, options: .regularExpression) { value.removeSubrange(t) }
            value = value.replacingOccurrences(of: "&amp;", with: "&").replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(
                of: "&gt;", with: ">")
            out.append(Cell(column: column, row: row, style: attribute("s").flatMap { Int($0) } ?? 0, value: value))
        }
        return out
    }

    func testTheSampleWorkbookIsLaidOutAndHoldsEveryValueInItsUnit() throws {
        let dir = try TestPaths.temporaryDirectory()
        let r = try runRamkoll(["run", SampleEndToEndTests.pipeline, "--run-dir", dir + "/run", "--no-warehouse"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let report = dir + "/run/06-report"
        let archive = try Archive(url: URL(fileURLWithPath: report + "/rapport.xlsx"), accessMode: .read)
        func part(_ name: String) throws -> String { try zipPart(archive, name) }
        let workbook = try part("xl/workbook.xml")
        let names = try NSRegularExpression(pattern: #"<sheet name="([^"]*)""#).matches(
            in: workbook, range: NSRange(workbook.startIndex..., in: workbook)
        ).map { (workbook as NSString).substring(with: $0.range(at: 1)) }
        XCTAssertEqual(
            names,
            [
                "Drift", "Resultatbudget", "Resultatbudget enheter", "Budget per verksamhet", "Driftsammandrag", "Ekonomiska ramar", "Investeringar",
                "Investeringsbudget", "Investeringar netto", "Investeringsprojekt", "Genomförandegrad", "Nyckeltal", "Utbetalt bistånd", "Volymer",
                "Ej verkställda beslut", "Prognosförändring", "Drift per enhet", "Avvikelse", "Prognos",
            ])
        var sheets: [String: [Cell]] = [:]
        // The tables the stages set out in text (Utbetalt bistånd, the volume tables, the IVO lists,
        // Prognos och prognosförändring): every cell as the text shows it, figures as numbers.
        let presented = [
            ("Utbetalt bistånd", "03-reconcile/assistance_table.sheet.json"), ("Volymer", "03-reconcile/volumes.sheet.json"),
            ("Ej verkställda beslut", "03-reconcile/ivo_report.sheet.json"), ("Prognosförändring", "05-prognosis/prognosforandring.sheet.json"),
        ]
        for (name, file) in presented {
            let xml = try part("xl/worksheets/sheet\(names.firstIndex(of: name)! + 1).xml")
            let shown = Self.cells(xml).filter { $0.row > 2 }
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/run/" + file))) as! [[String: Any]]
            var expected: [String] = []
            for t in json {
                let rows = t["rows"] as! [[String]]
                if json.count > 1 { expected.append(t["title"] as! String) }
                for (k, r) in rows.enumerated() {
                    for (j, v) in r.enumerated() where !v.isEmpty {
                        expected.append(k > 0 && j > 0 ? (XLSXWriter.swedishWhole(v).map(String.init) ?? v) : v)
                    }
                }
            }
            XCTAssertEqual(shown.map(\.value).filter { !$0.isEmpty }, expected, name)
            if name != "Ej verkställda beslut" { XCTAssertTrue(shown.contains { $0.style == 1 }, "\(name): figures are numbers") }
        }
        // Nyckeltal: the key figures' tables stacked, as tabeller.txt sets them out.
        let keyFigures = Self.cells(try part("xl/worksheets/sheet\(names.firstIndex(of: "Nyckeltal")! + 1).xml"))
        XCTAssertTrue(keyFigures.contains { $0.value == "Nyckeltal — Socialnämnden" && $0.style == 10 })
        XCTAssertTrue(keyFigures.contains { $0.value == "Antal hushåll med utbetalt ekonomiskt bistånd per månad" })
        XCTAssertTrue(keyFigures.contains { $0.value == "-198650" && $0.style == 1 }, "the budget a number")
        for (i, name) in names.enumerated() where !presented.contains(where: { $0.0 == name }) && name != "Nyckeltal" {
            let xml = try part("xl/worksheets/sheet\(i + 1).xml")
            let cells = Self.cells(xml)
            sheets[name] = cells
            // Title, subtitle, header on row 4, frozen under it and repeated on every printed page.
            XCTAssertTrue(cells.contains { $0.row == 1 && $0.style == 10 && $0.value.hasSuffix("— Socialnämnden") }, name)
            XCTAssertTrue(cells.contains { $0.row == 2 && $0.style == 11 && $0.value.hasPrefix("Bokslut 2022 · belopp i ") }, name)
            XCTAssertTrue(xml.contains(#"<pane ySplit="4" topLeftCell="A5" activePane="bottomLeft" state="frozen"/>"#), name)
            XCTAssertTrue(
                workbook.contains(#"<definedName name="_xlnm.Print_Titles" localSheetId="\#(i)">'\#(name)'!$4:$4</definedName>"#), name)
            // A4, fitted to the width; every column given a width that holds its widest cell.
            XCTAssertTrue(xml.contains(#"<pageSetup paperSize="9" orientation=""#) && xml.contains(#"fitToWidth="1" fitToHeight="0"/>"#), name)
            XCTAssertTrue(xml.contains(#"<pageSetUpPr fitToPage="1"/>"#), name)
            XCTAssertTrue(xml.contains("<oddFooter>&amp;LSocialnämnden · exempelby · per 2022-12 · Ramkoll"), name)
            let widths = try NSRegularExpression(pattern: #"<col min="(\d+)" max="\d+" width="(\d+)""#).matches(
                in: xml, range: NSRange(xml.startIndex..., in: xml)
            ).map { Int((xml as NSString).substring(with: $0.range(at: 2)))! }
            let header = cells.filter { $0.row == 4 }
            XCTAssertEqual(widths.count, header.count, name)
            for c in cells where c.row > 4 && c.style == 0 {
                let i = header.firstIndex { $0.column == c.column }!
                XCTAssertGreaterThanOrEqual(widths[i], min(60, c.value.count + 2), "\(name) \(c.column)\(c.row) \"\(c.value)\"")
            }
            // Swedish values only.
            XCTAssertFalse(cells.contains { ["yes", "no", "ytd-plus-budget", "run-rate", "seasonal"].contains($0.value) }, name)
        }

        // A varav row's label is indented (an indent holds only with a horizontal alignment).
        XCTAssertTrue(try part("xl/styles.xml").contains(#"<alignment horizontal="left" indent="1"/>"#))
        // Every committee table's figure is tables.json's öre rounded once, in the table's unit.
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report + "/tables.json"))) as! [String: Any]
        let tables = Dictionary(
            uniqueKeysWithValues: (json["tables"] as! [[String: Any]]).map {
                ($0["name"] as! String, ($0["columns"] as! [String], $0["rows"] as! [[String]]))
            })
        func rows(_ sheet: String) -> [[Cell]] {
            Dictionary(grouping: sheets[sheet]!.filter { $0.row > 4 }, by: \.row).sorted { $0.key < $1.key }.map { $0.value }
        }
        func mnkr(_ ore: String) -> String {
            let t = Ore(Int64(ore)!).rounded(toUnitsOf: 10_000_000)
            return (t < 0 ? "-" : "") + "\(t.magnitude / 10).\(t.magnitude % 10)"
        }
        let (rbColumns, rbRows) = tables["resultatbudget"]!
        let rb = rows("Resultatbudget")
        XCTAssertEqual(rb.count, rbRows.count)
        for (cells, machine) in zip(rb, rbRows) {
            XCTAssertEqual(cells[0].value, machine[1])
            XCTAssertEqual(cells.dropFirst().map(\.value), machine[2...].map(mnkr), "\(machine[1]) in \(rbColumns)")
        }
        let result = rb.first { $0[0].value == "Årets resultat" }!
        XCTAssertEqual(result.map(\.style), [4] + Array(repeating: 6, count: result.count - 1), "a sum line is bold")
        XCTAssertEqual(rb.first { $0[0].value == "varav ekonomiskt bistånd" }!.map(\.style).first, 7, "a varav line is indented")
        // Budget per verksamhet in tkr, net costs positive (the pipeline's net_cost_sign).
        let (_, bvRows) = tables["budget_verksamhet"]!
        let bv = rows("Budget per verksamhet")
        for (cells, machine) in zip(bv, bvRows) {
            // The residual row leaves a column without a residual empty (not 0).
            XCTAssertEqual(
                cells.dropFirst().map(\.value),
                machine[3...].map { $0.isEmpty || (machine[0] == "residual" && $0 == "0") ? "" : String(-Ore(Int64($0)!).tkr) }, machine[2])
        }
        XCTAssertEqual(bv.last!.first!.style, 4, "the sum row is bold")
        // Drift: the deviation stage's tkr, the level a number.
        let drift = try String(contentsOfFile: dir + "/run/04-deviation/drift.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        let d = rows("Drift per enhet")
        XCTAssertEqual(d.count, drift.count)
        for (cells, line) in zip(d, drift) {
            XCTAssertEqual(cells.map(\.value), line.split(separator: ";", omittingEmptySubsequences: false).map(String.init))
            XCTAssertEqual(cells[2].style, 12, "Nivå is a number")
        }
        // The committee's Drift: the root's lines, as the deviation stage wrote them (varav indented, sums bold).
        let committeeDrift = rows("Drift")
        let rootLines = drift.map { $0.split(separator: ";", omittingEmptySubsequences: false).map(String.init) }.filter { $0[0] == "SN" }
        XCTAssertEqual(committeeDrift.map { $0.map(\.value) }, rootLines.map { [$0[4]] + $0[5...] })
        XCTAssertEqual(
            sheets["Drift"]!.filter { $0.row == 4 }.map(\.value),
            ["Belopp i tkr", "Budget 2022", "Bokslut 2022", "Avvikelse", "Bokslut 2021", "Diff"])
        XCTAssertEqual(committeeDrift.first { $0[0].value == "Årets resultat" }!.first!.style, 4, "a sum line is bold")
        XCTAssertEqual(committeeDrift.first { $0[0].value == "varav ekonomiskt bistånd" }!.first!.style, 7, "a varav line is indented")
        // drift_kalkyl.csv in the table's shape: per unit, its title, the header, the lines down.
        let kalkyl = String(decoding: try Data(contentsOf: URL(fileURLWithPath: report + "/drift_kalkyl.csv")).dropFirst(3), as: UTF8.self)
        XCTAssertTrue(
            kalkyl.hasPrefix(
                "Drift — Socialnämnden (SN)\r\nBelopp i tkr;Budget 2022 (tkr);Bokslut (tkr);Avvikelse (tkr);Föregående år (tkr);Diff (tkr)\r\nVerksamhetens intäkter;"
            ), String(kalkyl.prefix(300)))
        XCTAssertTrue(kalkyl.contains("\r\n  varav ekonomiskt bistånd;"), "varav lines set in")
        XCTAssertEqual(kalkyl.components(separatedBy: "\r\nDrift — ").count, Set(drift.map { $0.split(separator: ";")[0] }).count)
        let metod = rows("Prognos").map { $0[11].value }
        XCTAssertTrue(metod.contains("utfall + återstående budget"), "\(Set(metod))")
        XCTAssertTrue(rows("Avvikelse").allSatisfy { ["ja", "nej"].contains($0.last!.value) })
    }

    /// `rapport.html` of the sample run as a printable report: deficits red and surpluses green
    /// with their signed values written out, round axis ticks, a note where a method gives no
    /// figure, varav rows indented, every seed-shaped table, A4 print rules and a footer.
    func testTheSampleHTMLReportIsPrintable() throws {
        let dir = try TestPaths.temporaryDirectory()
        let r = try runRamkoll(["run", SampleEndToEndTests.pipeline, "--run-dir", dir + "/run", "--no-warehouse"])
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
        let html = try String(contentsOfFile: dir + "/run/06-report/rapport.html", encoding: .utf8)
        // Avvikelse per verksamhet: Barn och unga −2 479 tkr is red and says so; Ekonomiskt bistånd +1 267 green.
        XCTAssertTrue(html.contains("fill=\"#c00000\"><title>Barn och unga Avvikelse: -2 479 tkr</title></rect>"), "a deficit is red")
        XCTAssertTrue(html.contains(">-2 479</text>") && html.contains(">+1 267</text>"), "the signed value is written at the bar")
        XCTAssertTrue(html.contains("fill=\"#548235\"><title>Ekonomiskt bistånd Avvikelse: 1 267 tkr</title></rect>"), "a surplus is green")
        XCTAssertTrue(html.contains(">Överskott (+)</text>") && html.contains(">Underskott (−)</text>"))
        // Axis ticks at round values only.
        let ticks = try NSRegularExpression(pattern: #"class="a" text-anchor="end">([-0-9 ]+)</text>"#).matches(
            in: html, range: NSRange(html.startIndex..., in: html)
        ).map { (html as NSString).substring(with: $0.range(at: 1)).replacingOccurrences(of: " ", with: "") }
        XCTAssertFalse(ticks.isEmpty)
        for t in ticks {
            let v = abs(Int(t)!)
            XCTAssertTrue(
                v == 0
                    || [1, 2, 5].contains { d in
                        var p = d; while p < v { p *= 10 }; return p == v
                    } || v % 1000 == 0, "tick \(t)")
        }
        XCTAssertTrue(html.contains("– Säsong: metoden ger ingen siffra för raden"), "an empty method is explained")
        XCTAssertTrue(html.contains("<tr class=\"v\"><td>varav ekonomiskt bistånd</td>"), "varav rows are indented")
        // Figures set right, text (an IVO list's reasons) left; the committee's Drift table first.
        XCTAssertTrue(html.contains("<td>Kontaktfamilj</td><td>Lämplig kontaktfamilj har inte hittats</td>"), "text is set left")
        XCTAssertTrue(html.contains("<tr class=\"s\"><td>Årets resultat</td><td class=\"n\">0</td><td class=\"n\">-6 416</td>"), "figures right")
        XCTAssertLessThan(html.range(of: "<h2>Drift</h2>")!.lowerBound, html.range(of: "<h2>Budget och utfall per månad</h2>")!.lowerBound)
        for heading in [
            "Utbetalt ekonomiskt bistånd 2022", "Placeringar barn och unga", "1. Gynnande beslut som ej verkställts", "Prognos och prognosförändring",
            "Driftsammandrag", "Resultatbudget",
        ] {
            XCTAssertTrue(html.contains("<section><h2>" + heading), heading)
        }
        XCTAssertTrue(html.contains("@page{size:A4;") && html.contains("section{break-inside:avoid}h2{break-after:avoid}"))
        XCTAssertTrue(
            html.contains("<footer>Socialnämnden · pipeline exempelby · räkenskapsår 2022 · per 2022-12 · Ramkoll \(RamkollVersion.string)</footer>"),
            "the footer names the version that made the report (the build is in every manifest)")
        XCTAssertFalse(html.contains("ytd-plus-budget"), "method names in Swedish")
    }
}
