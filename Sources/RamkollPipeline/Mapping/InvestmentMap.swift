import RamkollModel

/// The investment tables' rows and the accounts that feed them (`investments:` in the pipeline).
///
/// Rows (`lines`, `id;name;category;kind`): a category row (expansion, reinvestering, …) has an
/// empty category; a sub-row (inventarier, IT-utrustning, …) names the category above it. A
/// category's figure is the sum of its sub-rows, or its own when it has none. `kind` is `utgift`
/// (expenditure, the default) or `inkomst` (investment income, e.g. a grant), for the tables'
/// "varav inkomster / varav utgifter". Amounts are in ledger sign: expenditure positive (debit),
/// income negative.
///
/// Accounts (`accounts`, `from;to;line`, the same prefix rules as the account mapping): an account
/// range → a row without sub-rows, or `-` for an account in scope that holds no investment
/// (accumulated depreciation). Every amount on an account in `scope` is mapped, excluded by `-`,
/// or listed as an exception.
public struct InvestmentMap: Sendable {
    public struct Line: Sendable, Equatable {
        public let id: String, name: String
        /// The category row it belongs to; nil for a category row.
        public let category: String?
        public let income: Bool
    }
    public let lines: [Line]
    public let byID: [String: Line]
    public let accounts: PrefixTable
    public let scope: [String]

    /// Sub-rows of a category, in order.
    public func subRows(of category: String) -> [Line] { lines.filter { $0.category == category } }
    /// Rows that hold amounts: sub-rows, and category rows without sub-rows.
    public var leaves: [Line] { lines.filter { l in l.category != nil || subRows(of: l.id).isEmpty } }
    public var categories: [Line] { lines.filter { $0.category == nil } }
    public var hasIncome: Bool { lines.contains(where: \.income) }

    /// Whether an account lies in the scope of investment accounts.
    public func inScope(_ account: String) -> Bool { scope.contains { account.hasPrefix($0) } }

    static func load(_ s: PipelineConfig.InvestmentSettings, config: PipelineConfig, diagnostics d: inout [Diagnostic]) -> InvestmentMap? {
        let display = config.diagnosticName(s.lines)
        var lines: [Line] = [], byID: [String: Line] = [:]
        let before = d.count
        if let t = DataTable.read(path: s.lines, display: display, required: ["id", "name", "category"], diagnostics: &d) {
            for row in t.rows {
                let id = row["id"], category = row["category"]
                func fail(_ field: String, _ raw: String, _ message: String) {
                    d.append(Diagnostic(.error, file: display, line: row.line, field: field, rawValue: raw, message))
                }
                if id.isEmpty || id == MappingTables.excluded { fail("id", id, "investment row id must be non-empty and not \"-\""); continue }
                if byID[id] != nil { fail("id", id, "investment row \"\(id)\" is defined twice"); continue }
                if !category.isEmpty, byID[category]?.category != nil || byID[category] == nil {
                    fail(
                        "category", category,
                        "investment row \"\(id)\" belongs to \"\(category)\", which must be a category row (empty category) defined above it")
                    continue
                }
                let income: Bool
                switch row["kind"].lowercased() {
                case "", "utgift": income = false
                case "inkomst": income = true
                default: fail("kind", row["kind"], "kind \"\(row["kind"])\" is not known; use utgift (expenditure) or inkomst (income)"); continue
                }
                let l = Line(id: id, name: row["name"], category: category.isEmpty ? nil : category, income: income)
                lines.append(l); byID[id] = l
            }
            if t.rows.isEmpty { d.append(Diagnostic(.error, file: display, line: nil, "the investment rows table has no rows")) }
        }
        let withSubRows = Set(lines.compactMap(\.category))
        let accounts = PrefixTable.load(
            files: [(s.accounts, config.diagnosticName(s.accounts))], targetColumn: "line", what: "investment account",
            validTarget: { $0 == MappingTables.excluded || (byID[$0] != nil && !withSubRows.contains($0)) }, diagnostics: &d)
        guard !d[before...].contains(where: { $0.severity == .error }) else { return nil }
        return InvestmentMap(lines: lines, byID: byID, accounts: accounts, scope: s.scope)
    }
}
