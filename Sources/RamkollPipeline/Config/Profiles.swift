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

/// Reads a profile file: its `kind:` picks the format (`SourceFormats.all`), whose loader reads
/// the rest; a key the kind does not take is flagged like a typo.
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
        let declaredKind = root.mapping?.first(where: { $0.key.string == "kind" })?.value.string ?? ""
        let format = SourceFormats.format(kind: declaredKind)
        let top = pr.mapping(
            root, context: "profile (\(declaredKind.isEmpty ? "no kind" : declaredKind))",
            allowed: Set(["kind"] + (format?.profileKeys ?? [])))
        guard let kind = pr.string(top, "kind", context: "profile", required: true, parent: root) else { return nil }
        guard let format else {
            pr.error(top["kind"], "profile: kind \"\(kind)\" is not known; use \(SourceFormats.kindList)")
            return nil
        }
        return format.load(ProfileKeys(reader: pr, top: top, root: root, name: name, file: displayPath))
    }
}

extension ProfileKeys {
    /// The `fields:` of an XML profile: record-relative paths per field, the required ones checked.
    func xmlFields<F: RawRepresentable & CaseIterable & Hashable>(_ type: F.Type, required: [F]) -> [F: String] where F.RawValue == String {
        let pr = reader
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
