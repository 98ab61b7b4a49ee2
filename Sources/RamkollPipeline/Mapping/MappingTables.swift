import RamkollModel
import RamkollReaders

/// A rule "codes whose first N characters lie in [from, to] map to target", optionally only for
/// the periods from `validFrom` to `validTo` (code lists change: an ansvar is closed, an account
/// moves line). The longest matching prefix wins; at equal length a later file (a site override)
/// wins over an earlier one.
public struct PrefixRule: Sendable, Hashable {
    public let from: String
    public let to: String
    public let target: String
    public let layer: Int
    public let file: String
    public let line: Int
    public var validFrom: Period? = nil
    public var validTo: Period? = nil

    func matches(_ code: String, at period: Period?) -> Bool {
        let n = from.utf8.count
        guard code.utf8.count >= n else { return false }
        let p = String(code.utf8.prefix(n))!
        guard p >= from && p <= to else { return false }
        if let period {
            if let f = validFrom, period < f { return false }
            if let t = validTo, period > t { return false }
        }
        return true
    }

    /// Whether two rules' validity intervals share a period.
    func validityOverlaps(_ o: PrefixRule) -> Bool {
        let aFrom = validFrom ?? Period(year: 1, month: 1)!, aTo = validTo ?? Period(year: 9999, month: 12)!
        let bFrom = o.validFrom ?? Period(year: 1, month: 1)!, bTo = o.validTo ?? Period(year: 9999, month: 12)!
        return aFrom <= bTo && bFrom <= aTo
    }

    var validityText: String {
        validFrom == nil && validTo == nil ? "" : " (valid \(validFrom?.description ?? "…")–\(validTo?.description ?? "…"))"
    }
}

public struct PrefixTable: Sendable {
    public let rules: [PrefixRule]

    /// The winning rule for a code in a period (nil: regardless of validity), or nil when
    /// nothing matches.
    public func lookup(_ code: String, at period: Period? = nil) -> PrefixRule? {
        var best: PrefixRule?
        for r in rules where r.matches(code, at: period) {
            guard let b = best else { best = r; continue }
            let (rn, bn) = (r.from.utf8.count, b.from.utf8.count)
            if rn > bn || (rn == bn && r.layer > b.layer) { best = r }
        }
        return best
    }

    /// Reads `from;to;<targetColumn>` tables; `validTarget` says whether a target exists.
    static func load(
        files: [(path: String, display: String)], targetColumn: String, what: String,
        validTarget: (String) -> Bool, diagnostics: inout [Diagnostic]
    ) -> PrefixTable {
        var rules: [PrefixRule] = []
        for (layer, f) in files.enumerated() {
            guard let t = DataTable.read(path: f.path, display: f.display, required: ["from", "to", targetColumn], diagnostics: &diagnostics) else {
                continue
            }
            var layerRules: [PrefixRule] = []
            for row in t.rows {
                let from = row["from"], to = row["to"].isEmpty ? row["from"] : row["to"], target = row[targetColumn]
                if from.isEmpty {
                    diagnostics.append(Diagnostic(.error, file: f.display, line: row.line, field: "from", "\(what) rule has an empty \"from\""))
                    continue
                }
                if from.utf8.count != to.utf8.count {
                    diagnostics.append(
                        Diagnostic(
                            .error, file: f.display, line: row.line, field: "to", rawValue: to,
                            "\(what) rule \(from)–\(to): from and to must have the same number of characters"))
                    continue
                }
                if from > to {
                    diagnostics.append(
                        Diagnostic(
                            .error, file: f.display, line: row.line, field: "to", rawValue: to,
                            "\(what) rule \(from)–\(to): from is after to"))
                    continue
                }
                if !validTarget(target) {
                    diagnostics.append(
                        Diagnostic(
                            .error, file: f.display, line: row.line, field: targetColumn, rawValue: target,
                            "\(what) rule \(from)–\(to) names \(targetColumn) \"\(target)\", which is not defined"))
                    continue
                }
                var rule = PrefixRule(from: from, to: to, target: target, layer: layer, file: f.display, line: row.line)
                var badValidity = false
                for (column, keyPath) in [("valid_from", \PrefixRule.validFrom), ("valid_to", \PrefixRule.validTo)] {
                    let v = row[column]
                    guard !v.isEmpty else { continue }
                    let parsed = DateLayout.isoPeriod.parse(Array(v.utf8))?.period ?? DateLayout.isoDate.parse(Array(v.utf8))?.period
                    guard let parsed else {
                        diagnostics.append(
                            Diagnostic(
                                .error, file: f.display, line: row.line, field: column, rawValue: v,
                                "\(what) rule \(from)–\(to): \(column) \"\(v)\" is not a period; expected YYYY-MM"))
                        badValidity = true
                        continue
                    }
                    rule[keyPath: keyPath] = parsed
                }
                if badValidity { continue }
                if let a = rule.validFrom, let b = rule.validTo, b < a {
                    diagnostics.append(
                        Diagnostic(
                            .error, file: f.display, line: row.line, field: "valid_to", "\(what) rule \(from)–\(to): valid_to is before valid_from"))
                    continue
                }
                if let clash = layerRules.first(where: {
                    $0.from.utf8.count == from.utf8.count && $0.from <= to && from <= $0.to && $0.validityOverlaps(rule)
                }) {
                    diagnostics.append(
                        Diagnostic(
                            .error, file: f.display, line: row.line,
                            "\(what) rule \(from)–\(to)\(rule.validityText) overlaps the rule \(clash.from)–\(clash.to)\(clash.validityText) on line \(clash.line); a code must map to exactly one \(targetColumn)"
                        ))
                    continue
                }
                layerRules.append(rule)
            }
            rules += layerRules
        }
        return PrefixTable(rules: rules)
    }
}

/// The organisation hierarchy: nämnd → avdelning → enhet, with stable, file-given order.
public struct UnitTree: Sendable {
    public let units: [OrgUnit]
    public let byID: [String: OrgUnit]
    public let root: String

    /// Every unit from the root down to `id`, root first.
    public func path(to id: String) -> [String] {
        var out: [String] = []
        var cur: String? = id
        while let c = cur, let u = byID[c] { out.append(c); cur = u.parent }
        return out.reversed()
    }

    /// Units in depth-first order, root first, children in file order.
    public func depthFirst() -> [OrgUnit] {
        var children: [String: [OrgUnit]] = [:]
        for u in units { if let p = u.parent { children[p, default: []].append(u) } }
        var out: [OrgUnit] = []
        func visit(_ u: OrgUnit) { out.append(u); for c in children[u.id] ?? [] { visit(c) } }
        if let r = byID[root] { visit(r) }
        return out
    }

    public func depth(of id: String) -> Int { path(to: id).count - 1 }
}

/// All mapping tables of a pipeline, validated.
public struct MappingTables: Sendable {
    public static let excluded = "-"

    public let reportLines: [ReportLine]
    public let lineByID: [String: ReportLine]
    /// The investment rows and accounts, when the pipeline has `investments:`.
    public var investments: InvestmentMap? = nil

    /// What a report line is to the tables (`role` in report-lines.csv).
    public enum LineRole: String, CaseIterable, Sendable {
        /// Verksamhetens nettokostnader: the unit tables' figure, the Drift table of a unit ends there.
        case netCost = "net_cost"
        /// Årets resultat: the committee's result (its budget is the frame check).
        case result
        /// Verksamhetens kostnader: the gross rows ("varav kostnader") under the driftsammandrag.
        case costs
    }
    /// The line of each role: given in the `role` column, else by the Kommun-Bas ids (NETTO, KOST)
    /// and, for the result, the last line.
    public var roles: [LineRole: String] = [:]
    /// The net-cost line (required: `load` refuses a chart without one; "" when the pipeline has
    /// no report lines, reading no ledger and no budget).
    public var netCostLine: String { roles[.netCost] ?? reportLines.last?.id ?? "" }
    public var resultLine: String { roles[.result] ?? reportLines.last?.id ?? "" }
    public var costsLine: String? { roles[.costs] }

    /// Every base line whose amounts a line's figure includes (itself, its varav lines, and for a
    /// sum everything under it).
    public func components(of id: String) -> Set<String> {
        guard let l = lineByID[id] else { return [] }
        if l.isSum { return Set(l.sumOf.flatMap { components(of: $0) }) }
        return Set([id]).union(reportLines.filter { $0.partOf == id }.map(\.id))
    }
    public let accounts: PrefixTable
    public let ansvar: PrefixTable
    public let units: UnitTree

    public static func load(_ config: PipelineConfig) -> (MappingTables?, [Diagnostic]) {
        var d: [Diagnostic] = []
        let m = config.mappings
        // Report lines.
        var lines: [ReportLine] = []
        var byID: [String: ReportLine] = [:]
        var givenRoles: [LineRole: String] = [:]
        let rlDisplay = config.diagnosticName(m.reportLines)
        // A pipeline without a ledger or a budget has no report lines (PipelineConfig.readsMoney).
        if !m.reportLines.isEmpty,
            let t = DataTable.read(path: m.reportLines, display: rlDisplay, required: ["id", "name", "sum_of"], diagnostics: &d)
        {
            for row in t.rows {
                let id = row["id"]
                if id.isEmpty || id == excluded {
                    d.append(Diagnostic(.error, file: rlDisplay, line: row.line, field: "id", "report line id must be non-empty and not \"-\""));
                    continue
                }
                if byID[id] != nil {
                    d.append(
                        Diagnostic(.error, file: rlDisplay, line: row.line, field: "id", rawValue: id, "report line \"\(id)\" is defined twice"));
                    continue
                }
                let parts = row["sum_of"].split(separator: "+").map { String($0).trimmingCharacters(in: " ") }.filter { !$0.isEmpty }
                for p in parts where byID[p] == nil {
                    d.append(
                        Diagnostic(
                            .error, file: rlDisplay, line: row.line, field: "sum_of", rawValue: p,
                            "sum line \"\(id)\" adds \"\(p)\", which is not defined above it (a sum may only add lines defined before it)"))
                }
                let partOf = row["part_of"]
                if !partOf.isEmpty {
                    guard let parent = byID[partOf], !parent.isSum, parent.partOf == nil, parts.isEmpty else {
                        d.append(
                            Diagnostic(
                                .error, file: rlDisplay, line: row.line, field: "part_of", rawValue: partOf,
                                "line \"\(id)\" is a varav line of \"\(partOf)\", which must be a base line defined above it (not a sum, not itself a varav line), and a varav line cannot be a sum"
                            ))
                        continue
                    }
                }
                let l = ReportLine(id: id, name: row["name"], sumOf: parts, partOf: partOf.isEmpty ? nil : partOf)
                lines.append(l); byID[id] = l
                let role = row["role"].trimmingCharacters(in: " ")
                if !role.isEmpty {
                    if let r = LineRole(rawValue: role) {
                        if let other = givenRoles[r] {
                            d.append(
                                Diagnostic(
                                    .error, file: rlDisplay, line: row.line, field: "role", rawValue: role,
                                    "role \(role) is given to \"\(other)\" already; each role belongs to one line"))
                        } else {
                            givenRoles[r] = id
                        }
                    } else {
                        d.append(
                            Diagnostic(
                                .error, file: rlDisplay, line: row.line, field: "role", rawValue: role,
                                "role \"\(role)\" is not known; use \(LineRole.allCases.map(\.rawValue).joined(separator: ", ")) (or leave it empty)")
                        )
                    }
                }
            }
        }
        // Units.
        var units: [OrgUnit] = []
        var unitByID: [String: OrgUnit] = [:]
        let uDisplay = config.diagnosticName(m.units)
        var root: String?
        if let t = DataTable.read(path: m.units, display: uDisplay, required: ["id", "name", "parent"], diagnostics: &d) {
            for row in t.rows {
                let id = row["id"], parent = row["parent"]
                if id.isEmpty { d.append(Diagnostic(.error, file: uDisplay, line: row.line, field: "id", "unit id is empty")); continue }
                if unitByID[id] != nil {
                    d.append(Diagnostic(.error, file: uDisplay, line: row.line, field: "id", rawValue: id, "unit \"\(id)\" is defined twice"));
                    continue
                }
                if parent.isEmpty {
                    if let r = root {
                        d.append(
                            Diagnostic(
                                .error, file: uDisplay, line: row.line, field: "parent",
                                "unit \"\(id)\" has no parent, but \"\(r)\" is already the root; the hierarchy has exactly one root"));
                        continue
                    }
                    root = id
                } else if unitByID[parent] == nil {
                    d.append(
                        Diagnostic(
                            .error, file: uDisplay, line: row.line, field: "parent", rawValue: parent,
                            "unit \"\(id)\" has parent \"\(parent)\", which is not defined above it"));
                    continue
                }
                let u = OrgUnit(id: id, name: row["name"], parent: parent.isEmpty ? nil : parent)
                units.append(u); unitByID[id] = u
            }
            if root == nil && !units.isEmpty || t.rows.isEmpty {
                d.append(Diagnostic(.error, file: uDisplay, line: nil, "the unit hierarchy has no root (a unit with an empty parent)"))
            }
        }
        let baseLines = Set(lines.filter { !$0.isSum }.map(\.id))
        let accounts = PrefixTable.load(
            files: m.accounts.map { ($0, config.diagnosticName($0)) }, targetColumn: "line", what: "account",
            validTarget: { $0 == excluded || baseLines.contains($0) }, diagnostics: &d)
        let ansvar = PrefixTable.load(
            files: [(m.ansvar, config.diagnosticName(m.ansvar))], targetColumn: "unit", what: "ansvar",
            validTarget: { unitByID[$0] != nil }, diagnostics: &d)
        if let u = config.budgetDefaultUnit, !units.isEmpty, unitByID[u] == nil {
            d.append(
                Diagnostic(
                    .error, file: config.diagnosticName(config.file), line: nil, field: "budget_default_unit", rawValue: u,
                    "settings: budget_default_unit \"\(u)\" is not in the unit hierarchy (\(uDisplay)); name the unit that budget rows without an ansvar belong to"
                ))
        }
        // The roles: given, else the Kommun-Bas ids; the net cost is needed by every unit table.
        var roles = givenRoles
        if roles[.netCost] == nil, byID["NETTO"] != nil { roles[.netCost] = "NETTO" }
        if roles[.costs] == nil, byID["KOST"] != nil { roles[.costs] = "KOST" }
        if roles[.result] == nil, let last = lines.last { roles[.result] = last.id }
        if roles[.netCost] == nil && !lines.isEmpty {
            d.append(
                Diagnostic(
                    .error, file: rlDisplay, line: nil, field: "role",
                    "no report line is the net cost: give that line (Verksamhetens nettokostnader) the role net_cost in a role column — the unit tables, the Drift tables of units and the report's charts are made from it"
                ))
        }
        let investments = config.investments.flatMap { InvestmentMap.load($0, config: config, diagnostics: &d) }
        if d.contains(where: { $0.severity == .error }) { return (nil, d) }
        var tables = MappingTables(
            reportLines: lines, lineByID: byID, accounts: accounts, ansvar: ansvar, units: UnitTree(units: units, byID: unitByID, root: root ?? ""))
        tables.investments = investments
        tables.roles = roles
        return (tables, d)
    }

    /// Base-line amounts → amounts for every line: varav lines are added into the line they are
    /// part of, then the sum lines (in file order).
    public func withSums(_ base: [String: Ore]) -> [String: Ore] {
        var out = base
        for l in reportLines { if let parent = l.partOf { out[parent, default: .zero] += out[l.id] ?? .zero } }
        for l in reportLines where l.isSum {
            out[l.id] = l.sumOf.reduce(Ore.zero) { $0 + (out[$1] ?? .zero) }
        }
        return out
    }
}
