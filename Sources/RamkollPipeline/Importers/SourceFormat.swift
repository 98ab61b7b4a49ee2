import Foundation
import RamkollModel
import RamkollReaders
import Yams

/// One source format, in one place: the `kind:` its profiles name, the profile keys it takes and
/// how they are read, how a file is recognised as one of its exports, what ingest checks and
/// records of a file, what `ramkoll check` looks at, and the importer that reads it. A profile
/// *is* a value of its format's type. `SourceFormats.all` lists the formats; nothing else in
/// Ramkoll switches on the kind. (README "Adding a source format" walks through adding one.)
public protocol SourceFormat: Sendable {
    /// The `kind:` of its profile files (`ledger-csv`, `sie`, …).
    static var kind: String { get }
    /// The keys its profiles may have besides `kind` (any other key is flagged like a typo).
    static var profileKeys: [String] { get }
    /// Reads a profile of this kind; problems go to `keys`' diagnostics (nil when it cannot be used).
    static func load(_ keys: ProfileKeys) -> Self?

    /// The profile's name (its file name without the extension) and its file as shown to users.
    var name: String { get }
    var file: String { get }
    /// What its records are: what a pipeline reading it needs (a ledger needs the report lines and
    /// account tables) and which tables it can make (payments make the aid table).
    var records: SourceRecords { get }
    /// Whether its records name persons (whose numbers are pseudonymized with the pipeline's key).
    var hasPersons: Bool { get }
    /// The text encoding of the file's lines, where a line can be shown as it stands (`explain`).
    var lineEncoding: TextEncoding? { get }
    /// What inputs.csv says of the file's encoding when ingest has nothing to check.
    var declaredEncoding: String { get }

    /// nil when `path` looks like an export this profile reads; otherwise why not, naming the
    /// profile's file (the inbox and a source's list of candidate profiles use it).
    func recognise(_ path: String, display: String) -> String?
    /// Ingest: the file's fingerprint, and the checks that hold only if it is read (a duplicate
    /// of another source is not read, so its problems do not count).
    func ingest(_ path: String, display: String) throws -> IngestFacts
    /// What `ramkoll check` finds in a present input before any run (its header, its first records).
    func preflight(_ source: PipelineConfig.Source, shown: String) -> [Diagnostic]
    /// The importer normalize reads the source with.
    func importer() -> any SourceImporter
    /// Whether a source read with this profile gives its rows' period itself (`period:` in the
    /// pipeline's source entry): an export without dates, whose period is the file's month.
    var sourcePeriod: SourcePeriod { get }
}

/// What a source's records are.
public enum SourceRecords: Sendable {
    /// Postings by account (and, from SIE, account-level budgets): reported by report line.
    case ledger
    case placements, decisions, payments
}

/// What a profile makes of a source's `period:`.
public enum SourcePeriod: Sendable {
    /// The rows carry their dates; a source `period:` is an error.
    case notTaken
    /// The rows carry no date: the source must give its period.
    case required
}

/// A source's profile: a value of its format's type.
public typealias SourceProfile = any SourceFormat

extension SourceFormat {
    public var kind: String { Self.kind }
    public var lineEncoding: TextEncoding? { nil }
    public var hasPersons: Bool { false }
    public var sourcePeriod: SourcePeriod { .notTaken }

    /// By default: the fingerprint alone, with the encoding the profile declares.
    public func ingest(_ path: String, display: String) throws -> IngestFacts {
        let (hex, bytes) = try FileIO.sha256(ofFile: path)
        let encoding = declaredEncoding
        return IngestFacts(sha256: hex, bytes: bytes) { (encoding, "") }
    }
    public func preflight(_ source: PipelineConfig.Source, shown: String) -> [Diagnostic] { [] }
}

/// What ingest learns of one input file.
public struct IngestFacts {
    public var sha256: String
    public var bytes: Int64
    /// Runs the checks a file that is read must pass (a data error otherwise) and gives what
    /// inputs.csv records: the encoding and whether the file starts with a byte order mark.
    public var whenRead: () throws -> (encoding: String, bom: String)
    public init(sha256: String, bytes: Int64, whenRead: @escaping () throws -> (encoding: String, bom: String)) {
        self.sha256 = sha256; self.bytes = bytes; self.whenRead = whenRead
    }
}

/// Every source format Ramkoll reads, in the order messages list them.
public enum SourceFormats {
    public static let all: [any SourceFormat.Type] = [
        LedgerCSVProfile.self,
        SIEProfile.self,
        PlacementXMLProfile.self,
        DecisionXMLProfile.self,
        PaymentXMLProfile.self,
        LedgerXLSXProfile.self,
    ]

    static func format(kind: String) -> (any SourceFormat.Type)? { all.first { $0.kind == kind } }

    /// "a, b, c or d", for messages.
    static var kindList: String {
        let kinds = all.map { $0.kind }
        return kinds.dropLast().joined(separator: ", ") + " or " + kinds.last!
    }
}

/// A profile file's keys as its format's loader reads them (diagnostics name the profile file).
public struct ProfileKeys {
    let reader: YAMLReader
    let top: [String: Node]
    let root: Node
    /// The profile's name (file name without extension) and its file as shown to users.
    public let name: String
    public let file: String

    /// A scalar key's value (nil when absent; an error when `required`).
    func string(_ key: String, required: Bool = false) -> String? {
        reader.string(top, key, context: "profile", required: required, parent: root)
    }
    /// An error at a key (at the profile's top when the key is absent).
    func error(_ key: String, _ message: String) { reader.error(top[key] ?? root, message) }
    func node(_ key: String) -> Node? { top[key] }

    /// `decimal:` — "," (the default) or ".".
    func decimal() -> UInt8 {
        let d = string("decimal") ?? ","
        if d == "," || d == "." { return d.utf8.first! }
        reader.error(top["decimal"], "profile: decimal must be \",\" or \".\", not \"\(d)\"")
        return UInt8(ascii: ",")
    }

    /// A date layout key, `def` when absent.
    func layout(_ key: String, _ def: DateLayout) -> DateLayout {
        guard let s = string(key) else { return def }
        if let l = DateLayout(rawValue: s) { return l }
        reader.error(top[key], "profile: \(key) \"\(s)\" is not known; use one of \(DateLayout.allCases.map(\.rawValue).joined(separator: ", "))")
        return def
    }

    /// A `true` / `false` key.
    func bool(_ key: String) -> Bool? {
        guard let b = string(key) else { return nil }
        if b == "true" || b == "false" { return b == "true" }
        reader.error(top[key], "profile: \(key) must be true or false")
        return nil
    }
}

// MARK: - Where importers put what they read: one sink per record kind.

/// What every importer may write: rejected rows and warnings.
public protocol RowSink: AnyObject {
    func reject(sourceID: String, at: SourceRef, field: String, raw: String, reason: String) throws
    /// Something an auditor should see that does not reject a row (an unbalanced voucher kept
    /// by choice, a control identity that does not hold in the source).
    func warning(sourceID: String, at: SourceRef, message: String) throws
}

/// Ledger rows (ledger.csv, voucher_totals.csv, ledger_groups.csv).
public protocol LedgerSink: RowSink {
    func ledger(_ e: LedgerEntry, sourceID: String) throws
    /// The byte-level path for a plain ledger row: the sink keeps its books (voucher runs,
    /// periods) and `fields` appends the row's fields to ledger.csv's writer, in its column order.
    func ledgerRow(_ row: LedgerRowFacts, fields: (TableWriter) throws -> Void) throws
}

/// Account-level budget (SIE #PBUDGET), ledger sign; mapped to units and lines in reconcile.
public protocol BudgetAccountSink: RowSink {
    func budgetAccount(_ e: LedgerEntry, sourceID: String) throws
}

/// Placements of a case-system extract (placements.csv).
public protocol PlacementSink: RowSink {
    func placement(_ p: Placement, sourceID: String) throws
}

/// Decisions (beslut) of a case-system extract (decisions.csv).
public protocol DecisionSink: RowSink {
    func decision(_ d: Decision, sourceID: String) throws
}

/// Payments of ekonomiskt bistånd (payments.csv).
public protocol PaymentSink: RowSink {
    func payment(_ p: AssistancePayment, sourceID: String) throws
}

/// The sinks normalize hands an importer; each importer writes to the kinds it reads.
public typealias RecordSinks = LedgerSink & BudgetAccountSink & PlacementSink & DecisionSink & PaymentSink
