import RamkollModel

/// Maps an account-level amount (a posting, or an account budget) to a unit and a report line with
/// the mapping rules in force in its period. One lookup per distinct code and period.
final class PostingMapper {
    enum Outcome: Equatable {
        case mapped(unit: String, line: String)
        /// The account's rule says "-": outside result reports (the balance sheet).
        case excluded
        case unmappedAccount
        case unmappedAnsvar
    }

    private let maps: MappingTables
    private struct CodeAt: Hashable { let code: String; let period: Period }
    private var accounts: [CodeAt: PrefixRule?] = [:]
    private var ansvar: [CodeAt: PrefixRule?] = [:]

    init(_ maps: MappingTables) { self.maps = maps }

    func map(account: String, ansvar code: String, period: Period) -> Outcome {
        map(account: account, ansvar: code, unit: nil, period: period)
    }

    /// With `unit`, the account's line is looked up and the unit taken as given (the ansvar is not read).
    func map(account: String, ansvar code: String?, unit given: String?, period: Period) -> Outcome {
        guard let line = lookup(account, period, maps.accounts, &accounts) else { return .unmappedAccount }
        if line.target == MappingTables.excluded { return .excluded }
        if let given { return .mapped(unit: given, line: line.target) }
        guard let unit = lookup(code ?? "", period, maps.ansvar, &ansvar) else { return .unmappedAnsvar }
        return .mapped(unit: unit.target, line: line.target)
    }

    private func lookup(_ code: String, _ period: Period, _ table: PrefixTable, _ cache: inout [CodeAt: PrefixRule?]) -> PrefixRule? {
        let key = CodeAt(code: code, period: period)
        if let hit = cache[key] { return hit }
        let r = table.lookup(code, at: period)
        cache[key] = r
        return r
    }
}

/// What could not be mapped, by kind × account × ansvar × year, with rows, öre and the first source row.
struct ExceptionLog {
    struct Key: Hashable, Comparable {
        let kind: String, account: String, ansvar: String, year: Int
        static func < (a: Key, b: Key) -> Bool { (a.kind, a.account, a.ansvar, a.year) < (b.kind, b.account, b.ansvar, b.year) }
    }
    struct Value { var rows: Int64 = 0; var amount = Ore.zero; var first: String }
    var entries: [Key: Value] = [:]

    mutating func record(_ kind: String, account: String, ansvar: String, year: Int, rows: Int64 = 1, amount: Ore, at source: String) {
        let k = Key(kind: kind, account: account, ansvar: ansvar, year: year)
        var v = entries[k] ?? Value(first: source)
        v.rows += rows
        v.amount += amount
        entries[k] = v
    }
}
