import RamkollModel
import RamkollReaders
import Yams

/// How to read an SIE 4 file (types 1, 2, 3, 4E, 4I) (`kind: sie`).
public struct SIEProfile: SourceFormat {
    public static let kind = "sie"
    public var records: SourceRecords { .ledger }
    public static let profileKeys = ["encoding", "use", "slice", "years", "unbalanced_voucher", "duplicate_voucher", "dimensions"]
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

    public var declaredEncoding: String { encoding?.rawValue ?? "detected" }

    public func recognise(_ path: String, display: String) -> String? {
        let head = Inbox.firstBytes(path, 4096)
        if head.contains("#FLAGGA") || head.contains("#SIETYP") { return nil }
        return "\(file): not an SIE file (no #FLAGGA or #SIETYP at the start)"
    }

    public func importer() -> any SourceImporter { SIEImporter(profile: self, purpose: .actuals) }

    public static func load(_ k: ProfileKeys) -> SIEProfile? { sieProfile(k.top, root: k.root, reader: k.reader, name: k.name, file: k.file) }

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

/// Reads an SIE 4 file into the common schema.
///
/// - Actuals: the vouchers (#VER with #TRANS and #RTRANS; the #TRANS that duplicates an #RTRANS is
///   skipped, struck #BTRANS rows are skipped) when the file has them, else the monthly movements
///   #PSALDO of one object slice. Every voucher must balance to zero.
/// - Budget: the monthly #PBUDGET movements of one object slice, as account-level budget.
/// - Control identities from the file itself are checked and reported: Σ #TRANS (or Σ #PSALDO of
///   the account totals) per account against #RES, and #IB + movements = #UB for balance accounts.
/// - #KSUMMA is verified when present; a cut-off or changed file is not read at all.
public struct SIEImporter: SourceImporter {
    public enum Purpose: Sendable { case actuals, budget }
    public let profile: SIEProfile
    public let purpose: Purpose

    struct AccountPeriod: Hashable { let account: String, period: Period }
    /// One account-month's rows: whether the `{}` total is given, and the sum per object slice.
    struct AccountPeriodRows { var total = false; var bySlice: [String: Ore] = [:] }
    struct YearMismatch: Hashable { let label: String, claimed: Int, actual: Int }
    /// The rows of one year mismatch: how many, which periods, the first line.
    struct MismatchedRows {
        var rows = 0
        var first: Period, last: Period
        let line: Int
        init(_ p: Period, line: Int) { first = p; last = p; self.line = line }
        mutating func add(_ p: Period) { rows += 1; first = min(first, p); last = max(last, p) }
    }

    struct Voucher {
        let series: String, number: String, date: Day?, text: String, line: Int
        var rows: [(record: SIERecord, entry: LedgerEntry?, rejection: (field: String, raw: String, reason: String)?)] = []
    }

    public func read(_ source: PipelineConfig.Source, context: StageContext, into sink: any RecordSinks) throws -> ImportCounts {
        let file = source.displayPath
        var c = ImportCounts()
        func fileProblem(_ line: Int?, _ message: String) throws -> ImportCounts {
            c.fileError = "\(file)\(line.map { ":\($0)" } ?? ""): \(message)"
            c.fileRejects += 1
            try sink.reject(sourceID: source.id, at: SourceRef(file: file, line: line ?? 0), field: "", raw: "", reason: message)
            return c
        }
        let reader: SIEReader
        do { reader = try SIEReader(path: source.path) } catch let e as ReaderError {
            return try fileProblem(e.line, e.message)
        }
        if let forced = profile.encoding, forced != reader.encoding, reader.encoding != .cp437 || forced == .utf8 {
            return try fileProblem(
                nil,
                "profile \(profile.file) says the file is \(forced.rawValue), but its bytes are \(reader.encoding.rawValue); remove encoding from the profile or export the file again"
            )
        }
        // First pass: the checksum and what the file holds.
        var labels: [String: Int] = [:]
        var typeProblem: (Int, String)?, years: [Int: Int] = [:]
        /// Each #RAR year's first and last period.
        var rarSpan: [Int: (from: Period, to: Period)] = [:]
        try reader.read { r in
            labels[r.label, default: 0] += 1
            switch r.label {
            case "SIETYP":
                // SIE 4B: types 1–4 (4E and 4I both say 4); without #SIETYP a file is type 1.
                guard let t = r.text(0).flatMap({ Int($0) }), (1...4).contains(t) else {
                    typeProblem =
                        typeProblem ?? (
                            r.line, "#SIETYP \(r.text(0) ?? "") is not an SIE type (1, 2, 3 or 4); Ramkoll does not guess how to read the file"
                        )
                    return
                }
            case "RAR":
                let y = r.text(0).flatMap { Int($0) }
                let from = r.text(1).flatMap { DateLayout.compactDate.parse(Array($0.utf8))?.day }
                let to = r.text(2).flatMap { DateLayout.compactDate.parse(Array($0.utf8))?.day }
                guard let y, y <= 0, let from, let to, from <= to, r.problem == nil else {
                    typeProblem =
                        typeProblem
                        ?? (
                            r.line,
                            "#RAR \(r.fields.compactMap(\.text).joined(separator: " ")) is not a fiscal year: expected årsnr (0, -1, …) and two dates YYYYMMDD, the first not after the second"
                        )
                    return
                }
                if let first = years[y] {
                    typeProblem =
                        typeProblem ?? (r.line, "#RAR \(y) is given twice (first at line \(first)); which year the balances belong to is not clear")
                }
                years[y] = r.line
                rarSpan[y] = (from.period, to.period)
            default:
                break
            }
        }
        if let (line, message) = typeProblem { return try fileProblem(line, message) }
        switch reader.checksum {
        case .truncated:
            return try fileProblem(nil, "the file opens with #KSUMMA but the closing #KSUMMA is missing: it was cut off — export it again")
        case .mismatch(let stated, let computed):
            return try fileProblem(
                nil,
                "#KSUMMA \(stated) does not match the file's content (its CRC-32 is 0x\(String(computed, radix: 16, uppercase: true))): the file changed after it was exported — export it again"
            )
        case .unreadable(let s):
            return try fileProblem(nil, "#KSUMMA value \"\(s)\" is not a number")
        case .absent, .verified:
            break
        }
        if case .verified = reader.checksum { c.checks["ksumma_verified"] = 1 }
        if !reader.replacementCharacterLines.isEmpty {
            try sink.warning(
                sourceID: source.id, at: SourceRef(file: file, line: reader.replacementCharacterLines[0]),
                message:
                    "the file holds \(reader.replacementCharacterLines.count) U+FFFD replacement characters: some å/ä/ö were lost before the export; texts are kept as they are"
            )
        }
        c.checks["encoding_\(reader.encoding.rawValue)"] = 1
        // A record without figures written in another encoding (Visma's #FNR folder path in
        // Latin-1, say): kept as it stands, named; no amount depends on it.
        let other: SIEEncoding = reader.encoding == .cp437 ? .latin1 : .cp437
        for o in reader.descriptiveOddities {
            let here = reader.encoding.decode([o.byte])!, there = other.decode([o.byte])!
            try sink.warning(
                sourceID: source.id, at: SourceRef(file: file, line: o.line),
                message:
                    "\(o.label): byte 0x\(String(o.byte, radix: 16, uppercase: true)) reads as \"\(here)\" in \(reader.encoding.rawValue), the file's encoding (\"\(there)\" in \(other.rawValue)): the exporting program wrote this record in another encoding; it carries no figure and is kept as it stands"
            )
        }
        if reader.descriptiveOddityCount > reader.descriptiveOddities.count {
            try sink.warning(
                sourceID: source.id, at: SourceRef(file: file, line: 0),
                message:
                    "\(reader.descriptiveOddityCount - reader.descriptiveOddities.count) more records without figures are in another encoding than the file's \(reader.encoding.rawValue)"
            )
        }
        if reader.descriptiveOddityCount > 0 { c.checks["records_in_other_encoding"] = Int64(reader.descriptiveOddityCount) }

        let useVouchers: Bool
        switch (purpose, profile.use) {
        case (.budget, _): useVouchers = false
        case (.actuals, .vouchers): useVouchers = true
        case (.actuals, .balances): useVouchers = false
        case (.actuals, .auto): useVouchers = (labels["VER"] ?? 0) > 0
        }
        let moneyLabel = purpose == .budget ? "PBUDGET" : "PSALDO"
        if !useVouchers && years[0] == nil && (labels[moneyLabel] ?? 0) > 0 {
            return try fileProblem(
                nil, "the file has #\(moneyLabel) rows but no #RAR 0: their årsnr name no year — export the file again with its fiscal years")
        }
        if (labels[useVouchers ? "TRANS" : moneyLabel] ?? 0) == 0 {
            let what =
                purpose == .budget
                ? "no #PBUDGET rows, so no budget"
                : useVouchers
                    ? "no #TRANS rows"
                    : "neither vouchers (#VER) nor monthly movements (#PSALDO); a type-1 file's year balances have no months to report by"
            try sink.warning(sourceID: source.id, at: SourceRef(file: file, line: 0), message: "the file holds \(what)")
        }

        var voucher: Voucher?
        var inBlock = false
        /// #PSALDO/#PBUDGET rows whose årsnr is not the #RAR year of their period: how many, which
        /// periods, the first line.
        var yearMismatch: [YearMismatch: MismatchedRows] = [:]
        /// Account × period of the year's #PSALDO/#PBUDGET rows: whether the `{}` total is given,
        /// and whether rows per object are.
        var accountPeriods: [AccountPeriod: AccountPeriodRows] = [:]
        /// The row of the #RTRANS just read (its #TRANS is ignored: rule 6).
        var pendingRTRANS: Int?
        var sumTrans: [String: Ore] = [:], sumSlice: [String: Ore] = [:]
        var ib: [String: Ore] = [:], ub: [String: Ore] = [:], res: [String: Ore] = [:]
        var vouchers: Int64 = 0, unbalanced: Int64 = 0
        /// Vouchers read, by series, number and date: where each was first.
        var seen: [String: Int] = [:]
        var structural: Int64 = 0, duplicates: Int64 = 0
        /// A fault in the file's structure, named at its line and counted (check.structure_errors).
        /// It rejects nothing itself: rows it makes unreadable are rejected with their own reason
        /// and count against the reject limit like any other.
        func structure(_ line: Int, _ message: String) throws {
            structural += 1
            try sink.warning(sourceID: source.id, at: SourceRef(file: file, line: line), message: "structure: " + message)
        }
        /// Every row of a voucher rejected for one reason (its öre counted as rejected).
        func rejectVoucher(_ v: Voucher, _ reason: String) throws {
            for row in v.rows {
                try reject(row.record, "", "", reason, amount: row.entry?.amount ?? SIEAmount.parse(row.record.text(2) ?? "").map { Ore($0) })
            }
        }

        func ref(_ r: SIERecord) -> SourceRef { SourceRef(file: file, line: r.line) }
        func dims(_ objects: [SIEObject]) -> Dimensions {
            var d = Dimensions()
            for o in objects {
                switch profile.dimensions[o.dimension] {
                case .ansvar?: d.ansvar = o.object
                case .verksamhet?: d.verksamhet = o.object
                case .aktivitet?: d.aktivitet = o.object
                case .projekt?: d.projekt = o.object
                case .objekt?: d.objekt = o.object
                case .motpart?: d.motpart = o.object
                default: break
                }
            }
            return d
        }
        func reject(_ r: SIERecord, _ field: String, _ raw: String, _ reason: String, amount: Ore?) throws {
            try sink.reject(sourceID: source.id, at: ref(r), field: field, raw: raw, reason: "#\(r.label): \(reason)")
            c.rowsRejected += 1
            if let a = amount { try c.read(a, file: ref(r).file, line: r.line); c.amountRejected += a } else { c.rejectedWithoutAmount += 1 }
        }
        func skip(_ r: SIERecord, _ reason: String, _ amount: Ore?) throws {
            c.skipped[reason, default: 0] += 1
            if let a = amount { try c.read(a, file: ref(r).file, line: r.line); c.amountSkipped += a }
        }

        /// A #TRANS-like row: kontonr {objektlista} belopp [transdat] [transtext] …
        func transRow(_ r: SIERecord, in v: Voucher) -> (LedgerEntry?, (String, String, String)?, Ore?) {
            if let p = r.problem { return (nil, ("", "", "line cannot be read: \(p)"), nil) }
            var fields = r.fields
            if fields.count >= 2, case .value = fields[1] { fields.insert(.objects([]), at: 1) }  // object list left out
            guard fields.count >= 3, let account = fields[0].text, let amountText = fields[2].text else {
                return (nil, ("", "", "expected kontonr {objektlista} belopp"), nil)
            }
            guard let amount = SIEAmount.parse(amountText).map({ Ore($0) }) else {
                return (
                    nil, ("belopp", amountText, SIEAmount.failure(amountText)),
                    nil
                )
            }
            guard !account.isEmpty, account.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
                return (nil, ("kontonr", account, "account \"\(account)\" is not numeric"), amount)
            }
            var day = v.date
            if fields.count > 3, let t = fields[3].text, !t.isEmpty {
                guard let d = DateLayout.compactDate.parse(Array(t.utf8))?.day else {
                    return (nil, ("transdat", t, "transaction date \"\(t)\" is not a date; expected YYYYMMDD"), amount)
                }
                day = d
            }
            guard let date = day else { return (nil, ("verdatum", "", "the voucher has no valid date"), amount) }
            let text = fields.count > 4 ? (fields[4].text ?? "") : ""
            let objects: [SIEObject]
            if case .objects(let o) = fields[1] { objects = o } else { objects = [] }
            let e = LedgerEntry(
                source: ref(r), account: account, dimensions: dims(objects), voucher: "\(v.series) \(v.number)".trimmingCharacters(in: " "),
                bookingDate: date, period: date.period, text: PersonalIdentity.redact(text.isEmpty ? v.text : text), amount: amount)
            return (e, nil, amount)
        }

        func closeVoucher(_ v: Voucher) throws {
            vouchers += 1
            let name = "\(v.series) \(v.number)".trimmingCharacters(in: " ")
            if !v.number.isEmpty, let date = v.date {
                let key = v.series + "\u{0}" + v.number + "\u{0}" + date.description
                if let first = seen[key] {
                    duplicates += 1
                    let what = "voucher \(name) of \(date) (line \(v.line)) was already read at line \(first)"
                    if profile.duplicateVoucherIsError {
                        try rejectVoucher(
                            v,
                            "\(what): the same voucher twice would count twice — export the file again (duplicate_voucher: warning skips the repeat)")
                    } else {
                        for row in v.rows {
                            try skip(row.record, "repeated vouchers", row.entry?.amount ?? SIEAmount.parse(row.record.text(2) ?? "").map { Ore($0) })
                        }
                        try sink.warning(
                            sourceID: source.id, at: SourceRef(file: file, line: v.line),
                            message: "\(what); its rows are skipped (duplicate_voucher: warning)")
                    }
                    return
                }
                seen[key] = v.line
            }
            let kept = v.rows.compactMap(\.entry)
            var tally = MoneyTally()  // the voucher's rows are summed before they are counted: bound them first
            for e in kept { tally.add(e.amount, file: file, line: e.source.line) }
            if tally.exceeded { throw tally.error("the rows of voucher \(v.series) \(v.number) (\(file):\(v.line))") }
            let sum = kept.reduce(Ore.zero) { $0 + $1.amount }
            let rejectedInVoucher = v.rows.contains { $0.entry == nil }
            let isUnbalanced = sum != .zero && !rejectedInVoucher
            if isUnbalanced { unbalanced += 1 }
            for row in v.rows {
                if let (field, raw, reason) = row.rejection {
                    let amt = row.entry?.amount ?? SIEAmount.parse(row.record.text(2) ?? "").map { Ore($0) }
                    try reject(row.record, field, raw, reason, amount: amt); continue
                }
                let e = row.entry!
                if isUnbalanced && profile.unbalancedVoucherIsError {
                    try reject(
                        row.record, "", "",
                        "voucher \(v.series) \(v.number) (line \(v.line)) does not balance: its rows add up to \(sum.swedish) kr, not 0 — correct it in the ledger and export again",
                        amount: e.amount)
                    continue
                }
                try c.read(e.amount, file: ref(row.record).file, line: row.record.line)
                try sink.ledger(e, sourceID: source.id)
                c.rowsNormalized += 1; c.amountNormalized += e.amount
                sumTrans[e.account, default: .zero] += e.amount
            }
            if rejectedInVoucher && sum != .zero {
                try sink.warning(
                    sourceID: source.id, at: SourceRef(file: file, line: v.line),
                    message: "voucher \(v.series) \(v.number) has rejected rows; its kept rows add up to \(sum.swedish) kr, not 0")
            }
            if isUnbalanced && !profile.unbalancedVoucherIsError {
                try sink.warning(
                    sourceID: source.id, at: SourceRef(file: file, line: v.line),
                    message:
                        "voucher \(v.series) \(v.number) does not balance: its rows add up to \(sum.swedish) kr, not 0; its rows are kept (unbalanced_voucher: warning)"
                )
            }
        }

        try reader.read { r in
            if let p = r.problem, !["VER", "{", "}", "TRANS", "RTRANS", "BTRANS", "PSALDO", "PBUDGET"].contains(r.label) {
                try structure(r.line, "#\(r.label): line cannot be read: \(p)")
            }
            switch r.label {
            case "RAR", "KONTO", "DIM", "UNDERDIM", "OBJEKT":
                break
            case "FLAGGA":
                if r.text(0) == "1" {
                    try sink.warning(
                        sourceID: source.id, at: ref(r),
                        message:
                            "#FLAGGA 1: the file is marked as already read by a program; Ramkoll reads it (its inputs are counted once by their SHA-256)"
                    )
                }
            case "IB", "UB", "RES":
                guard let y = r.text(0).flatMap({ Int($0) }), y == 0, let acc = r.text(1), let a = r.text(2).flatMap(SIEAmount.parse) else { break }
                switch r.label {
                case "IB": ib[acc] = Ore(a)
                case "UB": ub[acc] = Ore(a)
                default: res[acc] = Ore(a)
                }
            case "VER" where purpose == .actuals:
                if let p = r.problem { try structure(r.line, "#VER: line cannot be read: \(p)") }
                if let v = voucher {
                    if inBlock {
                        try structure(r.line, "#VER begins before the block of voucher \(v.series) \(v.number) (line \(v.line)) is closed with }")
                        try rejectVoucher(
                            v, "the block of voucher \(v.series) \(v.number) (line \(v.line)) is not closed before the #VER at line \(r.line)")
                    } else {
                        try closeVoucher(v)
                    }
                }
                inBlock = false; pendingRTRANS = nil
                let dateText = r.text(2) ?? ""
                voucher = Voucher(
                    series: r.text(0) ?? "", number: r.text(1) ?? "", date: DateLayout.compactDate.parse(Array(dateText.utf8))?.day,
                    text: r.text(3) ?? "", line: r.line)
            case "{":
                if let p = r.problem { try structure(r.line, p) }
                if inBlock {
                    try structure(r.line, "a { inside the block of voucher \(voucher.map { "\($0.series) \($0.number) (line \($0.line))" } ?? "")")
                } else if voucher == nil && purpose == .actuals && useVouchers {
                    try structure(r.line, "a { without a #VER before it")
                }
                inBlock = voucher != nil
            case "}":
                if let p = r.problem { try structure(r.line, p) }
                if !inBlock && purpose == .actuals && useVouchers { try structure(r.line, "a } without a { before it") }
                if let v = voucher { try closeVoucher(v) }
                voucher = nil; inBlock = false; pendingRTRANS = nil
            case "TRANS", "RTRANS", "BTRANS":
                guard purpose == .actuals, useVouchers else { break }
                c.rowsRead += 1
                guard var v = voucher, inBlock else {
                    try reject(r, "", "", "row outside a #VER { … } block", amount: r.text(2).flatMap(SIEAmount.parse).map { Ore($0) })
                    return
                }
                if r.label == "BTRANS" {
                    try skip(r, "struck #BTRANS rows", r.text(2).flatMap(SIEAmount.parse).map { Ore($0) }); return
                }
                // SIE 4B §11 #RTRANS rule 6: the #TRANS after an #RTRANS is the same row for readers
                // that do not know #RTRANS; it is ignored whether or not it repeats every field
                // (Fortnox leaves out the signature, BL writes other dates). The row takes the
                // #TRANS's date: the date the row has in the voucher, where BL's #RTRANS carries
                // the day the correction was registered (months later, after the year's end).
                if r.label == "TRANS", let pending = pendingRTRANS {
                    pendingRTRANS = nil
                    if let e = v.rows[pending].entry, r.problem == nil, let t = r.text(r.objects(1) == nil ? 2 : 3), !t.isEmpty,
                        let d = DateLayout.compactDate.parse(Array(t.utf8))?.day, d != e.bookingDate
                    {
                        var moved = e
                        moved.bookingDate = d; moved.period = d.period
                        v.rows[pending].entry = moved
                        voucher = v
                    }
                    try skip(r, "#TRANS rows following an #RTRANS", r.text(r.objects(1) == nil ? 1 : 2).flatMap(SIEAmount.parse).map { Ore($0) })
                    return
                }
                let (e, rej, _) = transRow(r, in: v)
                v.rows.append((r, e, rej.map { (field: $0.0, raw: $0.1, reason: $0.2) }))
                pendingRTRANS = r.label == "RTRANS" ? v.rows.count - 1 : nil
                voucher = v
            case "PSALDO", "PBUDGET":
                guard r.label == moneyLabel, !useVouchers || purpose == .budget else {
                    // #PSALDO in a file read by its vouchers: used only for the identity checks.
                    if r.label == "PSALDO", let y = r.text(0).flatMap({ Int($0) }), y == 0, let acc = r.text(2),
                        r.objects(3)?.isEmpty ?? true, let a = r.text(4).flatMap(SIEAmount.parse)
                    {
                        sumSlice[acc, default: .zero] += Ore(a)
                    }
                    break
                }
                c.rowsRead += 1
                // Like #TRANS, a row may leave out its object list: then it is the account total.
                let at = r.objects(3) == nil && r.fields.count >= 4 ? 3 : 4
                let amount = r.text(at).flatMap(SIEAmount.parse).map { Ore($0) }
                guard let yText = r.text(0), let claimed = Int(yText) else {
                    try reject(r, "årsnr", r.text(0) ?? "", "year number is missing or not a number", amount: amount); return
                }
                guard let periodText = r.text(1), let period = DateLayout.compactPeriod.parse(Array(periodText.utf8))?.period else {
                    try reject(r, "period", r.text(1) ?? "", "period \"\(r.text(1) ?? "")\" is not a period; expected YYYYMM", amount: amount); return
                }
                guard let account = r.text(2), !account.isEmpty, account.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
                    try reject(r, "kontonr", r.text(2) ?? "", "account is missing or not numeric", amount: amount); return
                }
                guard let objects = at == 3 ? [] : r.objects(3) else {
                    try reject(r, "objektlista", r.text(3) ?? "", "expected an object list in braces ({} for the account total)", amount: amount);
                    return
                }
                guard let amount else {
                    try reject(
                        r, "saldo", r.text(at) ?? "", SIEAmount.failure(r.text(at) ?? ""),
                        amount: nil);
                    return
                }
                if let p = r.problem { try reject(r, "", "", "line cannot be read: \(p)", amount: amount); return }
                try c.read(amount, file: ref(r).file, line: r.line)  // counted once, before any sum: skipped and normalized alike
                // The period decides the year: a row whose årsnr names another #RAR year than the
                // one its period lies in was labelled wrong by the exporting program (SmallOffice
                // writes this year's budget as årsnr -1; BL once wrote last year's #PSALDO as 0).
                var y = claimed
                if let actual = rarSpan.first(where: { $0.value.from <= period && period <= $0.value.to })?.key, actual != y {
                    yearMismatch[YearMismatch(label: r.label, claimed: y, actual: actual), default: MismatchedRows(period, line: r.line)].add(period)
                    y = actual
                }
                guard profile.years.contains(y) else { c.skipped["rows of other #RAR years", default: 0] += 1; c.amountSkipped += amount; return }
                if y == 0 && objects.isEmpty { sumSlice[account, default: .zero] += amount }
                if y == 0, accountPeriods.count < 1_000_000 {
                    let key = AccountPeriod(account: account, period: period)
                    if objects.isEmpty {
                        accountPeriods[key, default: AccountPeriodRows()].total = true
                    } else {
                        // Bounded: `c.read` above has counted the amount against the run's limit.
                        accountPeriods[key, default: AccountPeriodRows()].bySlice[
                            objects.map(\.dimension).sorted().joined(separator: ","), default: .zero] +=
                            amount
                    }
                }
                guard Set(objects.map(\.dimension)) == profile.slice else {
                    c.skipped["rows of other object slices", default: 0] += 1; c.amountSkipped += amount; return
                }
                let e = LedgerEntry(
                    source: ref(r), account: account, dimensions: dims(objects), voucher: "", bookingDate: nil,
                    period: period, text: "", amount: amount)
                if purpose == .budget {
                    try sink.budgetAccount(e, sourceID: source.id)
                } else {
                    try sink.ledger(e, sourceID: source.id)
                    sumTrans[account, default: .zero] += amount
                }
                c.rowsNormalized += 1; c.amountNormalized += amount
            default:
                break  // unknown or irrelevant labels are ignored (SIE 4B §7.1)
            }
        }
        if let v = voucher {
            if inBlock {
                try structure(v.line, "the file ends inside the block of voucher \(v.series) \(v.number): it was cut off")
                try rejectVoucher(v, "the file ends before the block of voucher \(v.series) \(v.number) (line \(v.line)) is closed")
            } else {
                try closeVoucher(v)
            }
        }

        for (m, n) in yearMismatch.sorted(by: { $0.value.line < $1.value.line }) {
            let periods = n.first == n.last ? "period \(n.first)" : "periods \(n.first)–\(n.last)"
            try sink.warning(
                sourceID: source.id, at: SourceRef(file: file, line: n.line),
                message:
                    "\(n.rows) #\(m.label) \(n.rows == 1 ? "row carries" : "rows carry") årsnr \(m.claimed), but \(n.rows == 1 ? "its" : "their") \(periods) lie in the #RAR \(m.actual) year: the exporting program labelled them with the wrong year; they are read as rows of #RAR \(m.actual), the year their periods are in"
            )
        }
        if !yearMismatch.isEmpty { c.checks["rows_with_wrong_year_number"] = Int64(yearMismatch.values.reduce(0) { $0 + $1.rows }) }

        // SIE 4B §11 #PSALDO rule 5: the `{}` account total is always given. Where only object rows
        // are, the account's total is not in the file: nothing is read for it, and it is named.
        // A total of zero left out where the objects' rows cancel is no gap (Briljant does so).
        let gaps = accountPeriods.filter { !$0.value.total && $0.value.bySlice.values.contains { $0 != .zero } }.keys
        let withoutTotal = Set(gaps.map(\.account)).sorted()
        if !useVouchers || purpose == .budget, let first = withoutTotal.first {
            let shown = withoutTotal.prefix(10).joined(separator: ", ") + (withoutTotal.count > 10 ? ", …" : "")
            try sink.warning(
                sourceID: source.id, at: SourceRef(file: file, line: 0),
                message:
                    "\(withoutTotal.count == 1 ? "account \(first) has" : "\(withoutTotal.count) accounts (\(shown)) have") #\(moneyLabel) rows per object but no {} account total in \(gaps.count) account-\(gaps.count == 1 ? "month" : "months") (SIE 4B §11: the total is always given): the file leaves the total out, so no figure is read for \(gaps.count == 1 ? "that month" : "those months")\(profile.slice.isEmpty ? "" : " beyond the object slice the profile reads") and \(withoutTotal.count == 1 ? "its identities are" : "their identities are") not checked"
            )
            c.checks["accounts_without_total"] = Int64(withoutTotal.count)
        }
        let unchecked = !useVouchers ? Set(withoutTotal) : []

        // Control identities the file states about itself.
        if purpose == .actuals && c.rowsRead > 0 {
            var checked: Int64 = 0, failed: Int64 = 0
            let movements = useVouchers || profile.slice.isEmpty ? sumTrans : sumSlice
            let accounts = Set(res.keys).union(ub.keys).subtracting(unchecked).sorted()
            for acc in accounts {
                let moved = movements[acc] ?? .zero
                if let r = res[acc] {
                    checked += 1
                    if r != moved {
                        failed += 1
                        try sink.warning(
                            sourceID: source.id, at: SourceRef(file: file, line: 0),
                            message:
                                "account \(acc): #RES 0 is \(r.swedish) kr but the \(useVouchers ? "vouchers" : "#PSALDO rows") add up to \(moved.swedish) kr"
                        )
                    }
                } else if let u = ub[acc], ib[acc] != nil || moved != .zero {
                    checked += 1
                    let opening = ib[acc] ?? .zero
                    if opening + moved != u {
                        failed += 1
                        try sink.warning(
                            sourceID: source.id, at: SourceRef(file: file, line: 0),
                            message: "account \(acc): #IB 0 \(opening.swedish) + movements \(moved.swedish) ≠ #UB 0 \(u.swedish) kr")
                    }
                }
            }
            c.checks["identities_checked"] = checked
            c.checks["identities_failed"] = failed
            c.checks["vouchers"] = vouchers
            c.checks["vouchers_unbalanced"] = unbalanced
            c.checks["vouchers_repeated"] = duplicates
            c.checks["structure_errors"] = structural
        }
        return c
    }
}
