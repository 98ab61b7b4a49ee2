import Foundation
import RamkollModel

/// Monthly figures per unit × base line, rolled up the unit hierarchy: what deviation and
/// prognosis compute from. Sum lines are derived with `MappingTables.withSums`.
struct Figures {
    struct Months {
        var budget = [Ore](repeating: .zero, count: 12)
        var actual = [Ore](repeating: .zero, count: 12)
        var previous = [Ore](repeating: .zero, count: 12)

        static func + (a: Months, b: Months) -> Months {
            var r = a
            for i in 0..<12 { r.budget[i] += b.budget[i]; r.actual[i] += b.actual[i]; r.previous[i] += b.previous[i] }
            return r
        }
        func budgetThrough(_ m: Int) -> Ore { budget.prefix(m).reduce(.zero, +) }
        func actualThrough(_ m: Int) -> Ore { actual.prefix(m).reduce(.zero, +) }
        var budgetYear: Ore { budget.reduce(.zero, +) }
        var previousYear: Ore { previous.reduce(.zero, +) }
        func previousThrough(_ m: Int) -> Ore { previous.prefix(m).reduce(.zero, +) }
    }

    /// unit (every node of the tree) → base line → months.
    var byUnit: [String: [String: Months]] = [:]
    /// unit → base line → months of the figures booked or budgeted on that very unit (for a unit
    /// with children, what is not under any of them).
    var own: [String: [String: Months]] = [:]

    static func load(path: String, mappings: MappingTables) throws -> Figures {
        var f = Figures()
        try TableReader(path: path, required: ReconcileStage.gridHeader).forEach { row in
            let unit = row["unit"], line = row["line"]
            let m = try row.period("period").month - 1
            let b = Ore(try row.int("budget_ore")), a = Ore(try row.int("actual_ore")), p = Ore(try row.int("previous_year_actual_ore"))
            var mine = f.own[unit, default: [:]][line, default: Months()]
            mine.budget[m] += b; mine.actual[m] += a; mine.previous[m] += p
            f.own[unit, default: [:]][line] = mine
            // Add to the unit and every ancestor.
            for node in mappings.units.path(to: unit) {
                var months = f.byUnit[node, default: [:]][line, default: Months()]
                months.budget[m] += b; months.actual[m] += a; months.previous[m] += p
                f.byUnit[node, default: [:]][line] = months
            }
        }
        return f
    }

    /// One measure for every report line (base and sum) of a unit.
    /// `overriding` replaces base lines' figures (a unit's allocated kommunbidrag) before the sums.
    func lines(of unit: String, mappings: MappingTables, _ measure: (Months) -> Ore, overriding: [String: Ore] = [:]) -> [String: Ore] {
        var base: [String: Ore] = [:]
        for l in mappings.reportLines where !l.isSum { base[l.id] = overriding[l.id] ?? measure(byUnit[unit]?[l.id] ?? Months()) }
        return mappings.withSums(base)
    }
}

/// Text helpers for the human tables.
/// A table as the committee's deliverables show it (title, then header and rows of text as the
/// `.txt` sets them), kept beside the `.txt` as `<name>.sheet.json` so the report's workbook
/// shows the same table, cell for cell.
struct PresentedTable: Codable, Sendable {
    let title: String
    let rows: [[String]]

    static func write(_ tables: [PresentedTable], directory: String, name: String) throws -> OutputRecord {
        var json = try StageManifest.encoder().encode(tables)
        json.append(0x0A)
        try FileIO.writeAtomically(json, to: directory + "/" + name)
        return OutputRecord(path: name, sha256: FileIO.sha256(json), bytes: Int64(json.count), rows: Int64(tables.count))
    }

    static func read(_ path: String) throws -> [PresentedTable] {
        try JSONDecoder().decode([PresentedTable].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }
}

enum TextTable {
    static func render(_ rows: [[String]], rightAlignFrom: Int = 1) -> String {
        guard let cols = rows.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: cols)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        var out = ""
        for r in rows {
            var line = ""
            for (i, c) in r.enumerated() {
                let pad = String(repeating: " ", count: widths[i] - c.count)
                line += i == 0 ? c + pad : "  " + (i >= rightAlignFrom ? pad + c : c + pad)
            }
            while line.last == " " { line.removeLast() }
            out += line + "\n"
        }
        return out
    }
}

/// The multi-year plan (02-normalize/plan.csv): annual amounts per unit × base line × plan year,
/// report sign. A version decided after the as-of period is not yet in force and left out, as in
/// the monthly budget.
struct Plan {
    /// unit without children (as budgeted) → base line → year → amount.
    var amounts: [String: [String: [Int: Ore]]] = [:]
    var years: [Int] = []
    /// Whether the budget gave the previous year's budget (`budget ÅÅÅÅ`), kept as its year.
    var hasPreviousBudget = false

    static func load(path: String, asOf: Period) throws -> Plan {
        var p = Plan()
        var years = Set<Int>()
        try TableReader(path: path, required: NormalizeStage.planHeader).forEach { row in
            if let d = Day(iso: row["decided"]), d.period > asOf { return }
            let y = Int(try row.int("year"))
            years.insert(y)
            p.amounts[row["unit"], default: [:]][row["report_line"], default: [:]][y, default: .zero] += Ore(try row.int("amount_ore"))
        }
        // The plan years follow the fiscal year; the year before is the previous year's budget.
        p.years = years.filter { $0 > asOf.year }.sorted()
        p.hasPreviousBudget = years.contains(asOf.year - 1)
        return p
    }

    /// One plan year's amount for every report line (base and sum) of a unit and everything under it.
    func lines(of unit: String, year: Int, mappings: MappingTables) -> [String: Ore] {
        var base: [String: Ore] = [:]
        for l in mappings.reportLines where !l.isSum { base[l.id] = .zero }
        for (u, byLine) in amounts where mappings.units.path(to: u).contains(unit) {
            for (line, byYear) in byLine { base[line, default: .zero] += byYear[year] ?? .zero }
        }
        return mappings.withSums(base)
    }
}
