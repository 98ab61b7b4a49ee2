import Dispatch
import RamkollModel
import RamkollReaders

/// How to read one ledger CSV layout. Mappings are data (Pipelines/profiles/*.yaml), each headed
/// by a comment with the export's real header line and a sample row.
public struct LedgerCSVProfile: SourceFormat {
    public static let kind = "ledger-csv"
    public var records: SourceRecords { .ledger }
    public static let profileKeys = [
        "encoding", "delimiter", "decimal", "date_layout", "period_layout", "sign", "columns", "skip_lines", "account_with_text", "total_row",
        "stated_total",
    ]
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

    public var lineEncoding: TextEncoding? { encoding }
    public var declaredEncoding: String { encoding.rawValue }

    public static func load(_ k: ProfileKeys) -> LedgerCSVProfile? {
        let pr = k.reader, top = k.top
        var encoding = TextEncoding.utf8
        if let e = k.string("encoding", required: true) {
            if let enc = TextEncoding(name: e) {
                encoding = enc
            } else {
                pr.error(top["encoding"], "profile: encoding \"\(e)\" is not supported; use utf-8, windows-1252 or iso-8859-1")
            }
        }
        var delimiter = UInt8(ascii: ";")
        if let d = k.string("delimiter") {
            if d == "\\t" || d == "\t" {
                delimiter = 0x09
            } else if d.utf8.count == 1 {
                delimiter = d.utf8.first!
            } else {
                pr.error(top["delimiter"], "profile: delimiter must be one character (or \\t), not \"\(d)\"")
            }
        }
        var profile = ledgerRules(k, encoding: encoding, delimiter: delimiter, dateColumnRequired: true)
        if let n = k.string("skip_lines") {
            if let v = Int(n), v >= 0 {
                profile.skipLines = v
            } else {
                pr.error(top["skip_lines"], "profile: skip_lines must be a whole number ≥ 0")
            }
        }
        if let b = k.bool("account_with_text") { profile.accountWithText = b }
        if let tn = top["total_row"] {
            let tm = pr.mapping(tn, context: "profile total_row", allowed: ["column", "starts_with"])
            if let col = pr.string(tm, "column", context: "profile total_row", required: true, parent: tn),
                let marker = pr.string(tm, "starts_with", context: "profile total_row", required: true, parent: tn)
            {
                profile.totalRow = (col, marker)
            }
        }
        if let st = k.string("stated_total") {
            switch st {
            case "required": profile.statedTotalRequired = true
            case "optional": profile.statedTotalRequired = false
            default: pr.error(top["stated_total"], "profile: stated_total must be required or optional, not \"\(st)\"")
            }
            if profile.statedTotalRequired && profile.totalRow == nil {
                pr.error(top["stated_total"], "profile: stated_total: required needs a total_row (the column and the text its row starts with)")
            }
        }
        return profile
    }

    /// The keys every ledger layout shares (CSV and Excel alike): `sign`, `columns`, `decimal`,
    /// `date_layout`, `period_layout`. `dateColumnRequired`: a row must carry its date or period
    /// (an Excel export may instead take its period from the source).
    static func ledgerRules(_ k: ProfileKeys, encoding: TextEncoding, delimiter: UInt8, dateColumnRequired: Bool) -> LedgerCSVProfile {
        let pr = k.reader, top = k.top, root = k.root
        var sign = LedgerCSVProfile.Sign.debitPositive
        if let s = k.string("sign") {
            if let v = LedgerCSVProfile.Sign(rawValue: s) {
                sign = v
            } else {
                pr.error(top["sign"], "profile: sign must be debit-positive or credit-positive, not \"\(s)\"")
            }
        }
        var columns: [LedgerField: String] = [:]
        let cols = pr.mapping(top["columns"], context: "profile columns", allowed: Set(LedgerField.allCases.map(\.rawValue)))
        if top["columns"] == nil { pr.error(root, "profile: \"columns\" is missing (ledger field → header name)") }
        for (key, v) in cols {
            guard let f = LedgerField(rawValue: key) else { continue }
            guard let h = v.string, !h.isEmpty else { pr.error(v, "profile columns: \(key) must name a header"); continue }
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
            if dateColumnRequired && columns[.bookingDate] == nil && columns[.period] == nil {
                pr.error(top["columns"], "profile columns: either \"booking_date\" or \"period\" is required")
            }
        }
        return LedgerCSVProfile(
            name: k.name, file: k.file, encoding: encoding, delimiter: delimiter,
            decimalSeparator: k.decimal(), dateLayout: k.layout("date_layout", .isoDate),
            periodLayout: k.layout("period_layout", .compactPeriod), sign: sign, columns: columns)
    }

    /// Recognised by its header line: every column the profile names is there.
    public func recognise(_ path: String, display: String) -> String? {
        do {
            let reader = try CSVReader(path: path, delimiter: delimiter)
            let names = try LedgerHeader.names(reader, display: display, profile: self).names
            let missing = LedgerHeader.match(names, profile: self).missing
            if missing.isEmpty { return nil }
            return "\(file) lacks \(missing.joined(separator: ", "))" + (LedgerHeader.delimiterHint(names, profile: self) ?? "")
        } catch let e as RamkollError {
            return "\(file): \(e.message)"
        } catch {
            return "\(file): \(error)"
        }
    }

    /// The whole-file encoding check runs beside the hash (two passes over the file, one per
    /// core); its finding, and the header check, count only if the file is read.
    public func ingest(_ path: String, display: String) throws -> IngestFacts {
        let check = EncodingCheckTask(path: path, encoding: encoding)
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { check.run() }
        let hashed = Result { try FileIO.sha256(ofFile: path) }
        group.wait()
        let (hex, bytes) = try hashed.get()
        let encodingProblem = check.result
        return IngestFacts(sha256: hex, bytes: bytes) {
            if let (line, message) = try encodingProblem.get() {
                throw RamkollError(.data, "\(display):\(line): \(message) (profile \(file))")
            }
            let info = try LedgerHeader.check(path: path, display: display, profile: self)
            if info.hadBOM && encoding != .utf8 {
                throw RamkollError(
                    .data,
                    "\(display):1: file starts with a UTF-8 byte order mark but profile \(name) says \(encoding.rawValue) — set encoding: utf-8 in \(file)"
                )
            }
            return (encoding.rawValue, info.hadBOM ? "yes" : "no")
        }
    }

    /// The header against the profile (or, with several candidate profiles, that exactly one fits).
    public func preflight(_ s: PipelineConfig.Source, shown: String) -> [Diagnostic] {
        if s.candidates.count > 1 {
            if case .failure(let f) = PipelineConfig.identify(file: s.path, display: shown, candidates: s.candidates) {
                return [Diagnostic(.error, file: shown, line: nil, "source \(s.id): \(f.reason)")]
            }
            return []
        }
        do { _ = try LedgerHeader.check(path: s.path, display: shown, profile: self) } catch let e as RamkollError {
            return [Preflight.located(e.message, file: shown, prefix: "source \(s.id): ")]
        } catch { return [Diagnostic(.error, file: shown, line: nil, "source \(s.id): \(error)")] }
        return []
    }

    public func importer() -> any SourceImporter { LedgerCSVImporter(profile: self) }
}

/// Reads a ledger CSV through its layout profile, row by row, into `LedgerEntry` values.
/// Every row ends normalized or rejected with file, line, field, raw value and reason.
public struct LedgerCSVImporter: SourceImporter {
    public let profile: LedgerCSVProfile

    public func read(_ source: PipelineConfig.Source, context: StageContext, into sink: any RecordSinks) throws -> ImportCounts {
        let p = profile
        let file = source.displayPath
        let reader = try CSVReader(path: source.path, delimiter: p.delimiter)
        let header = try LedgerHeader.read(reader, display: file, profile: p)
        var c = ImportCounts()
        var statedTotals: [(line: Int, amount: Ore?)] = []
        if let blocks = LedgerBlocks(path: source.path, reader: reader, sink: sink) {
            try blocks.read(importer: self, header: header, sourceID: source.id, file: file, counts: &c, statedTotals: &statedTotals)
        } else {
            try readRows(reader, header: header, sourceID: source.id, file: file, into: sink, counts: &c, statedTotals: &statedTotals)
        }
        // A header and nothing after it: an export that was cut off or ran on an empty selection.
        if c.rowsRead == 0 && c.skipped.isEmpty {
            let message =
                "the file has a header but no rows: the export is empty — export it again (or leave the source out for a period without postings)"
            c.fileError = c.fileError ?? "\(file):\(header.line): \(message)"
            try sink.warning(sourceID: source.id, at: SourceRef(file: file, line: header.line), message: message)
        }
        // A total the file states about itself must match its rows (read, rejected or not).
        if statedTotals.isEmpty, p.statedTotalRequired, let t = p.totalRow {
            let message =
                "the file has no stated total (a row whose \"\(t.column)\" starts with \"\(t.marker)\"), which its profile requires (stated_total: required): the export may be cut short — export it again"
            c.fileError = c.fileError ?? "\(file): \(message)"
            try sink.warning(sourceID: source.id, at: SourceRef(file: file, line: 0), message: message)
        }
        for (line, stated) in statedTotals {
            let rowsTotal = c.amountRead
            guard let stated else {
                // A total that cannot be read cannot vouch for the rows: the file is not checked.
                let message = "the stated total cannot be read as an amount, so the file's rows cannot be checked against it — export the file again"
                c.fileError = c.fileError ?? "\(file):\(line): \(message)"
                try sink.warning(sourceID: source.id, at: SourceRef(file: file, line: line), message: message)
                continue
            }
            let expected = rowsTotal
            c.checks["stated_totals_checked", default: 0] += 1
            if stated != expected {
                c.checks["stated_totals_failed", default: 0] += 1
                let difference = stated - expected
                let message =
                    c.rejectedWithoutAmount > 0
                    ? "the file states a total of \(stated.swedish) kr but its readable rows add up to \(expected.swedish) kr; the difference, \(difference.swedish) kr, may be the \(c.rejectedWithoutAmount) rejected rows whose amount could not be read (see rejects.csv)"
                    : "the file states a total of \(stated.swedish) kr but its rows add up to \(expected.swedish) kr (difference \(difference.swedish) kr) — rows may be missing; export the file again"
                if c.rejectedWithoutAmount == 0 { c.fileError = "\(file):\(line): \(message)" }
                try sink.warning(sourceID: source.id, at: SourceRef(file: file, line: line), message: message)
            }
        }
        return c
    }

    /// Reads the rows of `reader` (after the header) into `sink`: the byte-level path for plain
    /// rows, the general path for the rest. Used for a whole file, or for one block of it.
    func readRows(
        _ reader: CSVReader, header: LedgerHeader.Info, sourceID: String, file: String, into sink: any LedgerSink, counts c: inout ImportCounts,
        statedTotals: inout [(line: Int, amount: Ore?)]
    ) throws {
        let p = profile
        let amounts = AmountParser(decimalSeparator: p.decimalSeparator)
        let decimalName = p.decimalSeparator == UInt8(ascii: ",") ? "decimal comma" : "decimal point"
        let example = p.decimalSeparator == UInt8(ascii: ",") ? "-1 234,50" : "-1234.50"
        // Column positions, looked up once (not per row).
        let position = header.positions
        let hasAmountColumn =
            position[LedgerField.amount.ordinal] != nil || position[LedgerField.debit.ordinal] != nil
            || position[LedgerField.credit.ordinal] != nil
        let lastPosition = header.index.values.max() ?? -1
        let textFields = p.textFields

        /// The row's amount in ledger sign: one signed column, or debit − credit.
        func readAmount() -> Result<Ore, Rejection> {
            func parse(_ f: LedgerField) -> Result<Ore?, Rejection> {
                guard let i = position[f.ordinal], i < reader.fieldCount else { return .success(nil) }
                let bytes = reader.bytes(i)
                if f != .amount && bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return .success(nil) }  // an empty debit or credit cell
                switch amounts.parse(bytes) {
                case .success(let o): return .success(o)
                case .failure(let fl):
                    let h = p.columns[f]!
                    return .failure(
                        Rejection(
                            field: h, raw: raw(f),
                            reason:
                                "amount \"\(raw(f))\" is not a number (column \"\(h)\"): \(fl.reason); expected \(decimalName) with at most 2 decimals, e.g. \(example) — check the source's number settings"
                        ))
                }
            }
            if p.columns[.amount] != nil {
                switch parse(.amount) {
                case .success(let o): return .success(p.sign == .creditPositive ? -(o ?? .zero) : (o ?? .zero))
                case .failure(let r): return .failure(r)
                }
            }
            let debit: Ore?, credit: Ore?
            switch parse(.debit) {
            case .success(let o): debit = o;
            case .failure(let r): return .failure(r)
            }
            switch parse(.credit) {
            case .success(let o): credit = o;
            case .failure(let r): return .failure(r)
            }
            if debit == nil && credit == nil {
                let names = [p.columns[.debit], p.columns[.credit]].compactMap { $0 }.map { "\"\($0)\"" }.joined(separator: " nor ")
                return .failure(Rejection(field: p.columns[.debit] ?? p.columns[.credit] ?? "", raw: "", reason: "neither \(names) holds an amount"))
            }
            return .success((debit ?? .zero) - (credit ?? .zero))
        }

        func text(_ f: LedgerField) -> String? {
            guard let i = position[f.ordinal] else { return "" }
            return p.encoding.decode(reader.bytes(i)).map { $0.trimmingCharacters(in: " \t") }
        }
        func raw(_ f: LedgerField) -> String {
            guard let i = position[f.ordinal] else { return "" }
            return PersonalIdentity.redact(p.encoding.decode(reader.bytes(i)) ?? String(decoding: reader.bytes(i), as: UTF8.self))
        }

        /// The record as text (for rejects of whole rows), personnummer redacted, at most 200 characters.
        func wholeRecord() -> String {
            let d = String(decoding: [p.delimiter], as: UTF8.self)
            let s = (0..<reader.fieldCount).map { p.encoding.decode(reader.bytes($0)) ?? String(decoding: reader.bytes($0), as: UTF8.self) }.joined(
                separator: d)
            let r = PersonalIdentity.redact(s)
            return r.count > 200 ? String(r.prefix(200)) + "…" : r
        }

        let fast = LedgerRowFastPath(profile: p, header: header)
        defer { fast?.finish() }
        while try reader.next() {
            c.rowsRead += 1
            if let fast, let a = try fast.write(reader, sourceID: sourceID, file: file, into: sink) {
                try c.read(a, file: file, line: reader.line)
                c.rowsNormalized += 1; c.amountNormalized += a
                continue
            }
            let ref = SourceRef(file: file, line: reader.line)
            // Read the amount first, so a rejected row still counts its öre when it has readable ones.
            var amount: Ore?
            var rejection: Rejection?
            if let err = reader.recordError {
                rejection = Rejection(field: "", raw: wholeRecord(), reason: "row is not valid CSV: \(err)")
            } else if reader.fieldCount != header.columns {
                rejection = Rejection(
                    field: "", raw: wholeRecord(),
                    reason:
                        "row has \(reader.fieldCount) fields, the header has \(header.columns) — a total or footer line, or an unquoted \"\(Character(Unicode.Scalar(p.delimiter)))\" in a text field"
                )
            }
            // A row stating the file's own total: remembered, verified below, not a posting.
            if let mi = header.totalMarkerColumn, mi < reader.fieldCount, let marker = p.totalRow?.marker,
                (p.encoding.decode(reader.bytes(mi)) ?? "").trimmingCharacters(in: " \t").hasPrefix(marker)
            {
                switch readAmount() {
                case .success(let o): statedTotals.append((reader.line, o))
                case .failure(let r): statedTotals.append((reader.line, nil)); _ = r
                }
                c.skipped["stated total rows", default: 0] += 1
                continue
            }
            if hasAmountColumn, lastPosition < reader.fieldCount || rejection == nil {
                switch readAmount() {
                case .success(let o): amount = o
                case .failure(let r): if rejection == nil { rejection = r }
                }
            }
            var entry: LedgerEntry?
            if rejection == nil {
                entry = buildEntry(ref: ref, amount: amount!, fields: textFields, text: text, raw: raw, rejection: &rejection)
            }
            if let e = entry {
                try c.read(e.amount, file: file, line: ref.line)
                try sink.ledger(e, sourceID: sourceID)
                c.rowsNormalized += 1
                c.amountNormalized += e.amount
            } else {
                let r = rejection!
                try sink.reject(sourceID: sourceID, at: ref, field: r.field, raw: r.raw, reason: r.reason)
                c.rowsRejected += 1
                if let a = amount { try c.read(a, file: file, line: ref.line); c.amountRejected += a } else { c.rejectedWithoutAmount += 1 }
            }
        }
    }

    /// The text of a row's fields by `LedgerField` (an array, not a dictionary: this is per row).
    struct FieldValues {
        var storage = [String?](repeating: nil, count: LedgerField.allCases.count)
        subscript(_ f: LedgerField) -> String? {
            get { storage[f.ordinal] }
            set { storage[f.ordinal] = newValue }
        }
    }

    struct Rejection: Error {
        var field: String, raw: String, reason: String
        init(field: String, raw: String, reason: String) { self.field = field; self.raw = raw; self.reason = reason }
        init(_ field: String, _ raw: String, _ reason: String) { self.init(field: field, raw: raw, reason: reason) }
    }

    /// A row's entry from its fields' text (the Excel importer shares it): account, dates and
    /// period, dimensions, text redacted. `fixedPeriod`: the source's period, for exports without dates.
    func buildEntry(
        ref: SourceRef, amount: Ore, fields: [LedgerField], text: (LedgerField) -> String?, raw: (LedgerField) -> String,
        rejection: inout Rejection?, fixedPeriod: Period? = nil
    ) -> LedgerEntry? {
        let p = profile
        var values = FieldValues()
        for f in fields {
            guard let v = text(f) else {
                rejection = Rejection(
                    p.columns[f]!, raw(f),
                    "column \"\(p.columns[f]!)\" is not valid \(p.encoding.rawValue) — the file is probably in another encoding; set encoding in profile \(p.file)"
                )
                return nil
            }
            values[f] = v
        }
        var account = values[.account] ?? ""
        if p.accountWithText {
            // "46310 Köp av huvudverksamhet" → "46310": the leading digits are the account.
            let digits = account.prefix { $0.isASCII && $0.isNumber }
            if digits.isEmpty && !account.isEmpty {
                rejection = Rejection(
                    p.columns[.account]!, raw(.account),
                    "account cell \"\(raw(.account))\" does not start with an account number (account_with_text: true)")
                return nil
            }
            account = String(digits)
        }
        if account.isEmpty {
            rejection = Rejection(p.columns[.account]!, "", "account is empty (column \"\(p.columns[.account]!)\"); every posting needs an account")
            return nil
        }
        if !account.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) }) {
            rejection = Rejection(
                p.columns[.account]!, raw(.account),
                "account \"\(raw(.account))\" has characters other than letters and digits (column \"\(p.columns[.account]!)\")"
            )
            return nil
        }
        var day: Day?
        var period: Period?
        if let h = p.columns[.bookingDate] {
            let v = values[.bookingDate] ?? ""
            if let parsed = p.dateLayout.parse(Array(v.utf8)) {
                day = parsed.day; period = parsed.period
            } else if p.columns[.period] == nil || !v.isEmpty {
                rejection = Rejection(
                    h, raw(.bookingDate), "date \"\(raw(.bookingDate))\" is not a valid date (column \"\(h)\"); expected \(p.dateLayout.rawValue)"
                )
                return nil
            }
        }
        if let h = p.columns[.period] {
            let v = values[.period] ?? ""
            guard let parsed = p.periodLayout.parse(Array(v.utf8)) else {
                rejection = Rejection(
                    h, raw(.period), "period \"\(raw(.period))\" is not a valid period (column \"\(h)\"); expected \(p.periodLayout.rawValue)"
                )
                return nil
            }
            period = parsed.period  // the accounting period wins over the booking date's month
        }
        guard let period = period ?? fixedPeriod else {
            rejection = Rejection(p.columns[.bookingDate] ?? "", "", "row has neither a booking date nor a period")
            return nil
        }
        let dims = Dimensions(
            ansvar: values[.ansvar] ?? "", verksamhet: values[.verksamhet] ?? "", aktivitet: values[.aktivitet] ?? "",
            projekt: values[.projekt] ?? "", objekt: values[.objekt] ?? "", motpart: values[.motpart] ?? "")
        return LedgerEntry(
            source: ref, account: account, dimensions: dims, voucher: values[.voucher] ?? "", bookingDate: day,
            period: period, text: PersonalIdentity.redact(values[.text] ?? ""), amount: amount)
    }
}
