import RamkollModel
import RamkollReaders

/// How to read payments of ekonomiskt bistånd out of a case-system XML extract
/// (`kind: payments-xml`).
public struct PaymentXMLProfile: XMLExtractFormat {
    public static let kind = "payments-xml"
    public var records: SourceRecords { .payments }
    public static let profileKeys = ["record", "fields", "date_layout", "period_layout", "decimal"]
    /// The fields every record needs (a profile must give their paths).
    /// (Without `id` every record gets a generated one; with `household` the households are
    /// counted by it instead of by the applicant.)
    public static let requiredFields: [Field] = [.person, .ansvar, .period, .amount]
    public enum Field: String, CaseIterable, Sendable {
        case id, person, household, ansvar, period, paidDate = "paid_date", amount
    }
    public var name: String
    public var file: String
    public var recordElement: String
    public var fields: [Field: String]
    public var dateLayout: DateLayout
    public var periodLayout: DateLayout
    public var decimalSeparator: UInt8

    public static func load(_ k: ProfileKeys) -> PaymentXMLProfile? {
        let record = k.string("record", required: true) ?? ""
        let fields = k.xmlFields(Field.self, required: requiredFields)
        return PaymentXMLProfile(
            name: k.name, file: k.file, recordElement: record, fields: fields, dateLayout: k.layout("date_layout", .isoDate),
            periodLayout: k.layout("period_layout", .isoPeriod), decimalSeparator: k.decimal())
    }
    public func importer() -> any SourceImporter { PaymentXMLImporter(profile: self) }
}

/// Reads payments of ekonomiskt bistånd from a case-system XML extract. The household is the
/// applicant's number, pseudonymized here; the period is the month the aid is for.
public struct PaymentXMLImporter: SourceImporter {
    public let profile: PaymentXMLProfile

    public func read(_ source: PipelineConfig.Source, context: StageContext, into sink: any RecordSinks) throws -> ImportCounts {
        let p = profile
        let pseudo = try Pseudonymizer.load(context.config.pseudonymKey)
        let amounts = AmountParser(decimalSeparator: p.decimalSeparator)
        var c = ImportCounts()
        let generated = try GeneratedIDs(source, idPath: p.fields[.id], record: p.recordElement, sink: sink, counts: &c)
        try XMLSource.forEachRecord(source, recordElement: p.recordElement, fieldPaths: Array(p.fields.values), sink: sink, counts: &c) {
            rec, ref, c in
            func value(_ f: PaymentXMLProfile.Field) -> String { p.fields[f].flatMap { rec.first($0) }?.trimmingCharacters(in: " \t\n") ?? "" }
            // Read the amount first, so a rejected payment still counts its öre when it has readable ones.
            let amountText = value(.amount)
            let amount: Ore? = { if case .success(let o) = amounts.parse(Array(amountText.utf8)) { return o } else { return nil } }()
            func reject(_ f: PaymentXMLProfile.Field, _ raw: String, _ reason: String) throws {
                try sink.reject(
                    sourceID: source.id, at: ref, field: p.fields[f] ?? f.rawValue, raw: PersonalIdentity.redact(raw),
                    reason: "\(p.recordElement) record \(rec.index): \(PersonalIdentity.redact(reason))")
                c.rowsRejected += 1
                if let amount { try c.read(amount, file: ref.file, line: ref.line); c.amountRejected += amount } else { c.rejectedWithoutAmount += 1 }
            }
            let id = generated.id(rec.index, counts: &c) ?? value(.id)
            guard !id.isEmpty else { try reject(.id, "", "has no id (path \(p.fields[.id]!))"); return }
            var household: String
            switch PersonalIdentity.canonical(value(.person), referenceYear: context.config.fiscalYear) {
            case .success(let canon): household = pseudo.pseudonym(canon)
            case .failure(let why): try reject(.person, "(withheld: personal data)", "\(why.reason); check the case system's record"); return
            }
            // The extract's own household id, where it gives one (kept only as a keyed pseudonym:
            // it may be an applicant's number).
            if let path = p.fields[.household] {
                let h = value(.household)
                guard !h.isEmpty else { try reject(.household, "", "has no household id (path \(path))"); return }
                household = pseudo.pseudonym("household\u{0}" + h)
            }
            let ansvar = value(.ansvar)
            guard !ansvar.isEmpty else { try reject(.ansvar, "", "has no ansvar (path \(p.fields[.ansvar]!))"); return }
            guard let period = p.periodLayout.parse(Array(value(.period).utf8))?.period else {
                try reject(
                    .period, value(.period), "the month the aid is for, \"\(value(.period))\", is not a period; expected \(p.periodLayout.rawValue)");
                return
            }
            var paid: Day?
            if !value(.paidDate).isEmpty {
                guard let d = p.dateLayout.parse(Array(value(.paidDate).utf8))?.day else {
                    try reject(.paidDate, value(.paidDate), "payment date \"\(value(.paidDate))\" is not a date; expected \(p.dateLayout.rawValue)");
                    return
                }
                paid = d
            }
            guard let amount else {
                if case .failure(let f) = amounts.parse(Array(amountText.utf8)) {
                    try reject(.amount, amountText, "amount \"\(amountText)\" is not a number: \(f.reason)")
                }
                return
            }
            try c.read(amount, file: ref.file, line: ref.line)
            try sink.payment(
                AssistancePayment(source: ref, id: id, household: household, ansvar: ansvar, period: period, paidDate: paid, amount: amount),
                sourceID: source.id)
            c.rowsNormalized += 1
            c.amountNormalized += amount
        }
        return c
    }
}
