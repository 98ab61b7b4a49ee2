import RamkollModel
import RamkollReaders

/// Investment outcome from the ledger and the investment budget, per investment row: what the
/// investment tables are made from (`03-reconcile/investments.csv`).
///
/// Reconcile hands every ledger group on an account in `investments.scope` (this year to the
/// as-of month and last year) to `add`: it is mapped to a row, excluded by `-` (accumulated
/// depreciation) or listed as an exception. Amounts stay in ledger sign: expenditure positive.
struct InvestmentBook {
    let map: InvestmentMap
    let fiscalYear: Int, asOf: Period
    /// Per row: this year's and last year's outcome by month (ledger sign).
    var current: [String: [Ore]] = [:], previous: [String: [Ore]] = [:]
    /// rows/amount in scope, mapped, excluded by `-`, unmapped.
    var n: [String: Int64] = [:], a: [String: Ore] = [:]

    init(map: InvestmentMap, fiscalYear: Int, asOf: Period) {
        self.map = map; self.fiscalYear = fiscalYear; self.asOf = asOf
    }

    static let header = [
        "line", "line_name", "category", "kind", "budget_ore", "actual_ore", "forecast_ore", "previous_year_ore", "previous_ytd_ore",
        "forecast_method", "manual_comment", "manual_author",
    ]

    /// The manual forecast file's `enhet` for an investment row.
    static let manualUnit = "investering"

    /// A controller's forecast of investment rows, from the manual forecast file's rows whose enhet
    /// is `investering` (rad: an investment row without sub-rows; prognos: kronor, expenditure
    /// positive). Before the close it replaces the computed forecast of that row.
    static func manualForecasts(_ path: String, display: String, map: InvestmentMap) throws -> [String: PrognosisStage.Manual] {
        let leaves = Set(map.leaves.map(\.id))
        var out: [String: PrognosisStage.Manual] = [:]
        for row in try PrognosisStage.manualRows(path, display: display) where row.unit == manualUnit {
            let line = row.line
            guard leaves.contains(line) else {
                throw row.fail(
                    "investment row \"\(line)\" is not an investment row without sub-rows (a category's forecast is the sum of its sub-rows)")
            }
            guard case .success(let amount) = AmountParser().parse(Array(row.amountText.utf8)) else {
                throw row.fail("prognos \"\(row.amountText)\" is not an amount in kronor (investments: expenditure positive), e.g. 450 000")
            }
            guard out[line] == nil else { throw row.fail("investment row \(line) is given twice") }
            out[line] = row.manual(amount)
        }
        return out
    }

    /// A ledger group on an account (any account: those outside the scope are left alone).
    /// Returns the kind of exception when the account is in scope but has no row.
    mutating func add(account: String, period: Period, rows: Int64, amount: Ore) -> String? {
        guard map.inScope(account), period.year == fiscalYear || period.year == fiscalYear - 1, period <= asOf else { return nil }
        func count(_ k: String) { n[k, default: 0] += rows; a[k, default: .zero] += amount }
        count("in_scope")
        guard let rule = map.accounts.lookup(account, at: period) else {
            count("unmapped")
            return "unmapped-investment-account"
        }
        if rule.target == MappingTables.excluded { count("excluded"); return nil }
        count("mapped")
        let m = period.month - 1
        if period.year == fiscalYear {
            current[rule.target, default: Array(repeating: .zero, count: 12)][m] += amount
        } else {
            previous[rule.target, default: Array(repeating: .zero, count: 12)][m] += amount
        }
        return nil
    }

    /// The budget per row (fiscal year) and per plan year, from investment_budget.csv.
    struct Budget {
        var year: [String: Ore] = [:]
        var plan: [Int: [String: Ore]] = [:]
        var total = Ore.zero
        /// Per project (in the file's order): its row and amounts by year.
        var projects: [(name: String, line: String, amounts: [Int: Ore])] = []

        static func load(_ path: String?, fiscalYear: Int) throws -> Budget {
            var b = Budget()
            guard let path else { return b }
            try TableReader(path: path, required: InvestmentBudgetReader.header).forEach { row in
                let line = row["row"], year = Int(row["year"]) ?? 0, v = Ore(try row.int("amount_ore"))
                b.total += v
                if year == fiscalYear { b.year[line, default: .zero] += v } else { b.plan[year, default: [:]][line, default: .zero] += v }
                let p = row["projekt"]
                guard !p.isEmpty else { return }
                if let i = b.projects.firstIndex(where: { $0.name == p }) {
                    b.projects[i].amounts[year, default: .zero] += v
                } else {
                    b.projects.append((p, line, [year: v]))
                }
            }
            return b
        }
    }

    /// The forecast of a row before the close: outcome to date plus what remains of its budget
    /// (nothing when the outcome has passed the budget). At the close, the outcome.
    static func forecast(budget: Ore, actual: Ore, closing: Bool) -> Ore {
        if closing { return actual }
        let remaining = budget - actual
        let sameDirection = (remaining.value > 0 && budget.value > 0) || (remaining.value < 0 && budget.value < 0)
        return actual + (sameDirection ? remaining : .zero)
    }

    /// investments.csv: one row per row of the tables that holds amounts (the plan years stay in
    /// investment_budget.csv, one row per year, so the file's columns are the same every year).
    func write(budget: Budget, manual: [String: PrognosisStage.Manual] = [:], to dir: String) throws -> OutputRecord {
        let w = try TableWriter(directory: dir, name: "investments.csv", header: InvestmentBook.header)
        let m = asOf.month
        for l in map.leaves {
            let b = budget.year[l.id] ?? .zero
            let cur = current[l.id] ?? [], prev = previous[l.id] ?? []
            let actual = cur.prefix(m).reduce(Ore.zero, +)
            // A controller's figure replaces the computed one before the close; at the close the forecast is the outcome.
            let mine = m == 12 ? nil : manual[l.id]
            let forecast = mine?.amount ?? InvestmentBook.forecast(budget: b, actual: actual, closing: m == 12)
            try w.write(
                [
                    l.id, l.name, l.category ?? "", l.income ? "inkomst" : "utgift", String(b.value), String(actual.value), String(forecast.value),
                    String(prev.reduce(Ore.zero, +).value), String(prev.prefix(m).reduce(Ore.zero, +).value),
                    m == 12 ? "outcome" : mine == nil ? "outcome-plus-remaining-budget" : "manual", mine?.comment ?? "", mine?.author ?? "",
                ])
        }
        return try w.commit()
    }
}
