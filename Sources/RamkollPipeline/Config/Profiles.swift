import RamkollModel
import RamkollReaders
import Yams

/// The fields a ledger export can carry, as profile keys.
public enum LedgerField: String, CaseIterable, Sendable {
    case voucher, bookingDate = "booking_date", period, account, ansvar, verksamhet, aktivitet, projekt, objekt, motpart, amount, debit, credit, text

    /// The field's position in `allCases`, for per-row arrays.
    var ordinal: Int {
        switch self {
        case .voucher: 0
        case .bookingDate: 1
        case .period: 2
        case .account: 3
        case .ansvar: 4
        case .verksamhet: 5
        case .aktivitet: 6
        case .projekt: 7
        case .objekt: 8
        case .motpart: 9
        case .amount: 10
        case .debit: 11
        case .credit: 12
        case .text: 13
        }
    }
}

/// How to read one ledger CSV layout. Mappings are data (Pipelines/profiles/*.yaml), each headed
/// by a comment with the export's real header line and a sample row.
public struct LedgerCSVProfile: Sendable {
    public enum Sign: String, Sendable { case debitPositive = "debit-positive", creditPositive = "credit-positive" }
    public var name: String
    public var file: String
    public var encoding: TextEncoding
    public var delimiter: UInt8
    public var decimalSeparator: UInt8
    public var dateLayout: DateLayout
    public var periodLayout: DateLayout
    public var sign: Sign
    /// Ledger field → header name in the file.
    public var columns: [LedgerField: String]
    /// Lines before the header line (report titles and the like).
    public var skipLines: Int = 0
    /// The account cell also holds the account's name ("46310 Köp av huvudverksamhet").
    public var accountWithText = false
    /// A row stating the file's own total, recognised by a column starting with a marker; the
    /// total is verified against the rows and the row itself is not a posting.
    public var totalRow: (column: String, marker: String)?
    /// `stated_total: required`: a file without its stated-total row is a data error (an export cut
    /// short loses its last row first).
    public var statedTotalRequired = false
    /// The columns that carry the amount: one signed column, or debit and credit.
    public var amountColumns: [LedgerField] { columns[.amount] != nil ? [.amount] : [.debit, .credit].filter { columns[$0] != nil } }
    /// The mapped columns read as text (all but the signed amount), in field order: each must be
    /// valid in the profile's encoding.
    var textFields: [LedgerField] { columns.keys.filter { $0 != .amount }.sorted { $0.ordinal < $1.ordinal } }
}

/// How to read placements out of a case-system XML extract.
public struct PlacementXMLProfile: Sendable {
    /// The fields every record needs (a profile must give their paths).
    public static let requiredFields: [Field] = [.id, .person, .ansvar, .start, .dailyPrice]
    public enum Field: String, CaseIterable, Sendable {
        case id, person, ansvar, formOfCare = "form_of_care", legalBasis = "legal_basis", start, end, dailyPrice = "daily_price", priceFrom =
            "price_from"
    }
    public var name: String
    public var file: String
    public var recordElement: String
    public var fields: [Field: String]
    public var dateLayout: DateLayout
    public var decimalSeparator: UInt8
}

/// How to read decisions (beslut) out of a case-system XML extract, for the IVO report.
public struct DecisionXMLProfile: Sendable {
    /// The fields every record needs (a profile must give their paths).
    public static let requiredFields: [Field] = [.id, .person, .decisionDate, .measure, .favourable]
    public enum Field: String, CaseIterable, Sendable {
        case id, person, ansvar, decisionDate = "decision_date", measure, legalBasis = "legal_basis", favourable, executed, interrupted,
            resumed, ended, reason
    }
    public var name: String
    public var file: String
    public var recordElement: String
    public var fields: [Field: String]
    public var dateLayout: DateLayout
    /// Values of the favourable field that mean yes (case-insensitive).
    public var favourableValues: Set<String>
}

/// How to read payments of ekonomiskt bistånd out of a case-system XML extract.
public struct PaymentXMLProfile: Sendable {
    /// The fields every record needs (a profile must give their paths).
    public static let requiredFields: [Field] = [.id, .person, .ansvar, .period, .amount]
    public enum Field: String, CaseIterable, Sendable {
        case id, person, ansvar, period, paidDate = "paid_date", amount
    }
    public var name: String
    public var file: String
    public var recordElement: String
    public var fields: [Field: String]
    public var dateLayout: DateLayout
    public var periodLayout: DateLayout
    public var decimalSeparator: UInt8
}

/// How to read an SIE 4 file (types 1, 2, 3, 4E, 4I).
public struct SIEProfile: Sendable {
    public enum Use: String, Sendable, CaseIterable {
        /// #VER/#TRANS when the file has vouchers, else #PSALDO.
        case auto
        case vouchers
        case balances
    }
    public var name: String
    public var file: String
    /// nil = detect (UTF-8, CP437, Latin-1); a forced encoding is still checked for plausibility.
    public var encoding: SIEEncoding?
    public var use: Use
    /// The object slice read from #PSALDO/#PBUDGET: the set of dimension numbers a row's object
    /// list must have exactly (empty = the account totals `{}`). Never summed across slices.
    public var slice: Set<String>
    /// Which #RAR years' #PSALDO/#PBUDGET rows to read (0 = the file's current year).
    public var years: Set<Int>
    /// An unbalanced voucher: `warning` keeps its rows and reports it; `error` rejects its rows.
    public var unbalancedVoucherIsError: Bool
    /// A voucher read twice (same series, number and date): `error` (the default) rejects the
    /// repeat's rows; `warning` skips them with a warning. Never counted twice.
    public var duplicateVoucherIsError = true
    /// SIE dimension number → Ramkoll dimension.
    public var dimensions: [String: LedgerField]
}

public enum SourceProfile: Sendable {
    case ledgerCSV(LedgerCSVProfile)
    case placementXML(PlacementXMLProfile)
    case sie(SIEProfile)
    case decisionXML(DecisionXMLProfile)
    case paymentXML(PaymentXMLProfile)

    public var name: String {
        switch self {
        case .ledgerCSV(let p): return p.name
        case .placementXML(let p): return p.name
        case .sie(let p): return p.name
        case .decisionXML(let p): return p.name
        case .paymentXML(let p): return p.name
        }
    }
    public var file: String {
        switch self {
        case .ledgerCSV(let p): return p.file
        case .placementXML(let p): return p.file
        case .sie(let p): return p.file
        case .decisionXML(let p): return p.file
        case .paymentXML(let p): return p.file
        }
    }
    /// Whether its records name persons (whose numbers are pseudonymized with the pipeline's key).
    public var hasPersons: Bool {
        switch self {
        case .placementXML, .decisionXML, .paymentXML: return true
        case .ledgerCSV, .sie: return false
        }
    }
    public var kind: String {
        switch self {
        case .ledgerCSV: return "ledger-csv"
        case .placementXML: return "placements-xml"
        case .sie: return "sie"
        case .decisionXML: return "decisions-xml"
        case .paymentXML: return "payments-xml"
        }
    }
}

enum ProfileLoader {
    static func load(path: String, displayPath: String, diagnosticName: String, into r: YAMLReader) -> SourceProfile? {
        guard let text = FileIO.readText(path) else {
            r.error(nil, "profile file \(diagnosticName) cannot be read")
            return nil
        }
        let pr = YAMLReader(file: diagnosticName)
        defer { r.merge(pr) }
        guard let root = pr.parse(text) else { return nil }
        let name = PathText(displayPath).lastComponentWithoutExtension
        // Each kind has its own keys; a key of another kind is flagged like a typo.
        let allowedByKind: [String: Set<String>] = [
            "ledger-csv": [
                "kind", "encoding", "delimiter", "decimal", "date_layout", "period_layout", "sign", "columns", "skip_lines",
                "account_with_text", "total_row", "stated_total",
            ],
            "placements-xml": ["kind", "record", "fields", "date_layout", "decimal"],
            "decisions-xml": ["kind", "record", "fields", "date_layout", "favourable_values"],
            "payments-xml": ["kind", "record", "fields", "date_layout", "period_layout", "decimal"],
            "sie": ["kind", "encoding", "use", "slice", "years", "unbalanced_voucher", "duplicate_voucher", "dimensions"],
        ]
        let declaredKind = root.mapping?.first(where: { $0.key.string == "kind" })?.value.string ?? ""
        let top = pr.mapping(
            root, context: "profile (\(declaredKind.isEmpty ? "no kind" : declaredKind))", allowed: allowedByKind[declaredKind] ?? ["kind"])
        let kind = pr.string(top, "kind", context: "profile", required: true, parent: root)
        func decimal() -> UInt8 {
            let d = pr.string(top, "decimal", context: "profile", required: false, parent: root) ?? ","
            if d == "," || d == "." { return d.utf8.first! }
            pr.error(top["decimal"], "profile: decimal must be \",\" or \".\", not \"\(d)\"")
            return UInt8(ascii: ",")
        }
        func layout(_ key: String, _ def: DateLayout) -> DateLayout {
            guard let s = pr.string(top, key, context: "profile", required: false, parent: root) else { return def }
            if let l = DateLayout(rawValue: s) { return l }
            pr.error(top[key], "profile: \(key) \"\(s)\" is not known; use one of \(DateLayout.allCases.map(\.rawValue).joined(separator: ", "))")
            return def
        }
        switch kind {
        case "ledger-csv":
            var encoding = TextEncoding.utf8
            if let e = pr.string(top, "encoding", context: "profile", required: true, parent: root) {
                if let enc = TextEncoding(name: e) {
                    encoding = enc
                } else {
                    pr.error(top["encoding"], "profile: encoding \"\(e)\" is not supported; use utf-8, windows-1252 or iso-8859-1")
                }
            }
            var delimiter = UInt8(ascii: ";")
            if let d = pr.string(top, "delimiter", context: "profile", required: false, parent: root) {
                if d == "\\t" || d == "\t" {
                    delimiter = 0x09
                } else if d.utf8.count == 1 {
                    delimiter = d.utf8.first!
                } else {
                    pr.error(top["delimiter"], "profile: delimiter must be one character (or \\t), not \"\(d)\"")
                }
            }
            var sign = LedgerCSVProfile.Sign.debitPositive
            if let s = pr.string(top, "sign", context: "profile", required: false, parent: root) {
                if let v = LedgerCSVProfile.Sign(rawValue: s) {
                    sign = v
                } else {
                    pr.error(top["sign"], "profile: sign must be debit-positive or credit-positive, not \"\(s)\"")
                }
            }
            var columns: [LedgerField: String] = [:]
            let cols = pr.mapping(top["columns"], context: "profile columns", allowed: Set(LedgerField.allCases.map(\.rawValue)))
            if top["columns"] == nil { pr.error(root, "profile: \"columns\" is missing (ledger field → header name)") }
            for (k, v) in cols {
                guard let f = LedgerField(rawValue: k) else { continue }
                guard let h = v.string, !h.isEmpty else { pr.error(v, "profile columns: \(k) must name a header"); continue }
                columns[f] = h
            }
            if top["columns"] != nil {
                if columns[.account] == nil { pr.error(top["columns"], "profile columns: \"account\" is required") }
                if columns[.amount] == nil && columns[.debit] == nil && columns[.credit] == nil {
                    pr.error(top["columns"], "profile columns: \"amount\" (one signed column) or \"debit\" and \"credit\" are required")
                }
                if columns[.amount] != nil && (columns[.debit] != nil || columns[.credit] != nil) {
                    pr.error(top["columns"], "profile columns: give either \"amount\" or \"debit\"/\"credit\", not both")
                }
                if columns[.bookingDate] == nil && columns[.period] == nil {
                    pr.error(top["columns"], "profile columns: either \"booking_date\" or \"period\" is required")
                }
            }
            var profile = LedgerCSVProfile(
                name: name, file: displayPath, encoding: encoding, delimiter: delimiter,
                decimalSeparator: decimal(), dateLayout: layout("date_layout", .isoDate),
                periodLayout: layout("period_layout", .compactPeriod), sign: sign, columns: columns)
            if let n = pr.string(top, "skip_lines", context: "profile", required: false, parent: root) {
                if let v = Int(n), v >= 0 {
                    profile.skipLines = v
                } else {
                    pr.error(top["skip_lines"], "profile: skip_lines must be a whole number ≥ 0")
                }
            }
            if let b = pr.string(top, "account_with_text", context: "profile", required: false, parent: root) {
                if b == "true" || b == "false" {
                    profile.accountWithText = b == "true"
                } else {
                    pr.error(top["account_with_text"], "profile: account_with_text must be true or false")
                }
            }
            if let tn = top["total_row"] {
                let tm = pr.mapping(tn, context: "profile total_row", allowed: ["column", "starts_with"])
                if let col = pr.string(tm, "column", context: "profile total_row", required: true, parent: tn),
                    let marker = pr.string(tm, "starts_with", context: "profile total_row", required: true, parent: tn)
                {
                    profile.totalRow = (col, marker)
                }
            }
            if let st = pr.string(top, "stated_total", context: "profile", required: false, parent: root) {
                switch st {
                case "required": profile.statedTotalRequired = true
                case "optional": profile.statedTotalRequired = false
                default: pr.error(top["stated_total"], "profile: stated_total must be required or optional, not \"\(st)\"")
                }
                if profile.statedTotalRequired && profile.totalRow == nil {
                    pr.error(top["stated_total"], "profile: stated_total: required needs a total_row (the column and the text its row starts with)")
                }
            }
            return .ledgerCSV(profile)
        case "placements-xml":
            let record = pr.string(top, "record", context: "profile", required: true, parent: root) ?? ""
            let fields = xmlFields(
                PlacementXMLProfile.Field.self, top, root: root, reader: pr, required: PlacementXMLProfile.requiredFields)
            return .placementXML(
                PlacementXMLProfile(
                    name: name, file: displayPath, recordElement: record, fields: fields,
                    dateLayout: layout("date_layout", .isoDate), decimalSeparator: decimal()))
        case "decisions-xml":
            let record = pr.string(top, "record", context: "profile", required: true, parent: root) ?? ""
            let fields = xmlFields(
                DecisionXMLProfile.Field.self, top, root: root, reader: pr, required: DecisionXMLProfile.requiredFields)
            let yes = (top["favourable_values"]?.sequence.map { Array($0) } ?? []).compactMap(\.string).map { $0.lowercased() }
            return .decisionXML(
                DecisionXMLProfile(
                    name: name, file: displayPath, recordElement: record, fields: fields, dateLayout: layout("date_layout", .isoDate),
                    favourableValues: Set(yes.isEmpty ? ["ja", "yes", "true", "1", "bifall"] : yes)))
        case "payments-xml":
            let record = pr.string(top, "record", context: "profile", required: true, parent: root) ?? ""
            let fields = xmlFields(PaymentXMLProfile.Field.self, top, root: root, reader: pr, required: PaymentXMLProfile.requiredFields)
            return .paymentXML(
                PaymentXMLProfile(
                    name: name, file: displayPath, recordElement: record, fields: fields, dateLayout: layout("date_layout", .isoDate),
                    periodLayout: layout("period_layout", .isoPeriod), decimalSeparator: decimal()))
        case "sie":
            return .sie(sieProfile(top, root: root, reader: pr, name: name, file: displayPath))
        case nil:
            return nil
        default:
            pr.error(top["kind"], "profile: kind \"\(kind!)\" is not known; use ledger-csv, sie, placements-xml, decisions-xml or payments-xml")
            return nil
        }
    }
}

extension ProfileLoader {
    /// The `fields:` of an XML profile: record-relative paths per field, the required ones checked.
    static func xmlFields<F: RawRepresentable & CaseIterable & Hashable>(
        _ type: F.Type, _ top: [String: Node], root: Node, reader pr: YAMLReader, required: [F]
    ) -> [F: String] where F.RawValue == String {
        var fields: [F: String] = [:]
        let fm = pr.mapping(top["fields"], context: "profile fields", allowed: Set(F.allCases.map(\.rawValue)))
        for (k, v) in fm {
            guard let f = F(rawValue: k) else { continue }
            guard let p = v.string, !p.isEmpty else { pr.error(v, "profile fields: \(k) must be a path"); continue }
            fields[f] = p
        }
        for req in required where fields[req] == nil {
            pr.error(top["fields"] ?? root, "profile fields: \"\(req.rawValue)\" is required")
        }
        return fields
    }

    static func sieProfile(_ top: [String: Node], root: Node, reader pr: YAMLReader, name: String, file: String) -> SIEProfile {
        var encoding: SIEEncoding?
        if let e = pr.string(top, "encoding", context: "profile", required: false, parent: root), e != "auto" {
            if let v = SIEEncoding(rawValue: e.lowercased()) {
                encoding = v
            } else {
                pr.error(top["encoding"], "profile: SIE encoding \"\(e)\" is not known; use auto, cp437, utf-8 or iso-8859-1")
            }
        }
        var use = SIEProfile.Use.auto
        if let u = pr.string(top, "use", context: "profile", required: false, parent: root) {
            if let v = SIEProfile.Use(rawValue: u) {
                use = v
            } else {
                pr.error(top["use"], "profile: use \"\(u)\" is not known; use auto, vouchers or balances")
            }
        }
        var slice = Set<String>()
        if let sl = pr.string(top, "slice", context: "profile", required: false, parent: root) {
            let t = sl.trimmingCharacters(in: " ")
            if t != "{}" && !t.isEmpty {
                slice = Set(t.split(separator: ",").map { String($0).trimmingCharacters(in: " ") })
                if slice.contains(where: { Int($0) == nil }) {
                    pr.error(top["slice"], "profile: slice \"\(sl)\" must be {} (account totals) or dimension numbers such as \"1\" or \"1,6\"")
                }
            }
        }
        var years: Set<Int> = [0]
        if let yn = top["years"] {
            let items = yn.sequence.map { Array($0) } ?? [yn]
            years = Set(
                items.compactMap { n -> Int? in
                    guard let v = n.string.flatMap({ Int($0) }), v <= 0 else {
                        pr.error(n, "profile: years holds #RAR year numbers: 0, -1, -2 …"); return nil
                    }
                    return v
                })
        }
        /// A `warning` / `error` key: whether it says error (`errorByDefault` when absent).
        func isError(_ key: String, errorByDefault: Bool, message: String) -> Bool {
            guard let u = pr.string(top, key, context: "profile", required: false, parent: root) else { return errorByDefault }
            if u != "warning" && u != "error" { pr.error(top[key], "profile: \(key) must be \(message)") }
            return u == "error" || (u != "warning" && errorByDefault)
        }
        let strict = isError("unbalanced_voucher", errorByDefault: false, message: "warning or error")
        let duplicateIsError = isError("duplicate_voucher", errorByDefault: true, message: "error or warning")
        var dims: [String: LedgerField] = [:]
        let allowedTargets: [LedgerField] = [.ansvar, .verksamhet, .aktivitet, .projekt, .objekt, .motpart]
        for (k, v) in pr.mapping(top["dimensions"], context: "profile dimensions", allowed: Set((1...99).map(String.init))) {
            guard let t = v.string, let f = LedgerField(rawValue: t), allowedTargets.contains(f) else {
                pr.error(v, "profile dimensions: SIE dimension \(k) must map to one of \(allowedTargets.map(\.rawValue).joined(separator: ", "))")
                continue
            }
            dims[k] = f
        }
        var profile = SIEProfile(
            name: name, file: file, encoding: encoding, use: use, slice: slice, years: years, unbalancedVoucherIsError: strict, dimensions: dims)
        profile.duplicateVoucherIsError = duplicateIsError
        return profile
    }
}

extension YAMLReader {
    func merge(_ other: YAMLReader) { diagnostics.append(contentsOf: other.diagnostics) }
}

/// Small path helpers for names shown to users.
struct PathText {
    let value: String
    init(_ value: String) { self.value = value }
    var lastComponent: String { value.split(separator: "/").last.map(String.init) ?? value }
    var lastComponentWithoutExtension: String {
        let l = lastComponent
        guard let dot = l.lastIndex(of: ".") else { return l }
        return String(l[..<dot])
    }
}
