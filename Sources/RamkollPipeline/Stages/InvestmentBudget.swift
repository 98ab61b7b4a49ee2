import RamkollModel
import RamkollReaders

/// The investment budget: one row per investment row (and project), the fiscal year's amount in
/// kronor (expenditure positive, income negative) and optional `plan ÅÅÅÅ` columns for the plan
/// years. `projekt` (optional) names a project (a decided investment such as "Inventarier barn och unga");
/// empty for a row budgeted as a whole.
///
///     rad;projekt;belopp;plan 2023;plan 2024
///     INV;;250 000;400 000;400 000
///     LOKA;Lokalanpassning Sidenvägen;200 000;;
///
/// Every amount is written to `02-normalize/investment_budget.csv` (one row per row × year) or
/// rejected with a reason; the normalize manifest's identities prove it.
enum InvestmentBudgetReader {
    static let header = ["file", "line", "row", "projekt", "year", "amount_ore"]

    struct Counts {
        var rows: Int64 = 0, normalized: Int64 = 0, rejected: Int64 = 0, rejectedWithoutAmount: Int64 = 0
        var amountRead = Ore.zero, amountWritten = Ore.zero, amountRejected = Ore.zero
        var written: Int64 = 0
        var tally = MoneyTally()
    }

    static func read(
        path: String, display: String, fiscalYear: Int, investments: InvestmentMap,
        emit: (_ ref: SourceRef, _ row: String, _ projekt: String, _ year: Int, _ amount: Ore) throws -> Void,
        reject: (SourceRef, String, String, String) throws -> Void
    ) throws -> Counts {
        var diags: [Diagnostic] = []
        var c = Counts()
        guard let t = DataTable.read(path: path, display: display, required: ["rad", "belopp"], diagnostics: &diags) else {
            throw RamkollError(.data, diags.map(\.description).joined(separator: "\n"))
        }
        let plans = BudgetReader.planColumns(t.header)
        if let bad = plans.first(where: { $0.year <= fiscalYear }) {
            throw RamkollError(
                .data,
                "\(display): column \"\(bad.column)\": a plan year must come after the fiscal year \(fiscalYear); the fiscal year's budget is in belopp"
            )
        }
        for d in diags {
            try reject(SourceRef(file: display, line: d.line ?? 0), d.field ?? "", d.rawValue ?? "", d.message)
            c.rows += 1; c.rejected += 1; c.rejectedWithoutAmount += 1
        }
        let parser = AmountParser()
        let leaves = Set(investments.leaves.map(\.id))
        var seen: [String: Int] = [:]  // row \u{0} projekt → line
        for row in t.rows {
            c.rows += 1
            let ref = SourceRef(file: display, line: row.line)
            // The row's amounts: belopp for the fiscal year, then the plan years.
            var amounts: [(year: Int, amount: Ore)] = []
            var bad: (field: String, raw: String, reason: String)?
            for (column, year) in [("belopp", fiscalYear)] + plans.map({ ($0.column, $0.year) }) {
                let raw = row[column]
                if raw.isEmpty && column != "belopp" { continue }
                switch parser.parse(Array(raw.utf8)) {
                case .success(let o):
                    try c.tally.count(o, file: display, line: row.line, what: "the amounts of \(display)")
                    amounts.append((year, o))
                case .failure(let f):
                    bad = bad ?? (column, raw, "\(column) \"\(raw)\" is not an amount: \(f.reason); expected kronor with decimal comma, e.g. 250 000")
                }
            }
            let total = amounts.reduce(Ore.zero) { $0 + $1.amount }
            func fail(_ field: String, _ raw: String, _ reason: String) throws {
                try reject(ref, field, raw, reason)
                c.rejected += 1
                c.amountRead += total; c.amountRejected += total
                if amounts.isEmpty { c.rejectedWithoutAmount += 1 }
            }
            if let bad { try fail(bad.field, bad.raw, bad.reason); continue }
            let line = row["rad"], projekt = row["projekt"]
            guard leaves.contains(line) else {
                let why =
                    investments.byID[line] == nil
                    ? "is not defined among the investment rows (investments: lines)"
                    : "is a category with sub-rows (its figure is their sum); budget its sub-rows"
                try fail("rad", line, "investment row \"\(line)\" \(why)")
                continue
            }
            if let first = seen[line + "\u{0}" + projekt] {
                try fail(
                    "rad", line,
                    "row \(line)\(projekt.isEmpty ? "" : ", project \(projekt)") is budgeted twice: here and at line \(first); keep one row (or sum them into one)"
                )
                continue
            }
            seen[line + "\u{0}" + projekt] = row.line
            for (year, amount) in amounts {
                try emit(ref, line, projekt, year, amount)
                c.written += 1
            }
            c.normalized += 1
            c.amountRead += total; c.amountWritten += total
        }
        return c
    }
}
