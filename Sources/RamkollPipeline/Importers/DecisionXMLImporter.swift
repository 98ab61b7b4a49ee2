import RamkollModel
import RamkollReaders

/// How to read decisions (beslut) out of a case-system XML extract, for the IVO report
/// (`kind: decisions-xml`).
public struct DecisionXMLProfile: XMLExtractFormat {
    public static let kind = "decisions-xml"
    public var records: SourceRecords { .decisions }
    public static let profileKeys = ["record", "fields", "date_layout", "favourable_values"]
    /// The fields every record needs (a profile must give their paths).
    /// (Without `id` every record gets a generated one.)
    public static let requiredFields: [Field] = [.person, .decisionDate, .measure, .favourable]
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

    public static func load(_ k: ProfileKeys) -> DecisionXMLProfile? {
        let record = k.string("record", required: true) ?? ""
        let fields = k.xmlFields(Field.self, required: requiredFields)
        let yes = (k.node("favourable_values")?.sequence.map { Array($0) } ?? []).compactMap(\.string).map { $0.lowercased() }
        return DecisionXMLProfile(
            name: k.name, file: k.file, recordElement: record, fields: fields, dateLayout: k.layout("date_layout", .isoDate),
            favourableValues: Set(yes.isEmpty ? ["ja", "yes", "true", "1", "bifall"] : yes))
    }
    public func importer() -> any SourceImporter { DecisionXMLImporter(profile: self) }
}

/// Reads decisions (beslut) from a case-system XML extract: decision date, measure, legal basis,
/// favourable or not, and the dates it was executed, interrupted, resumed and ended. The person
/// is pseudonymized here, at ingest.
public struct DecisionXMLImporter: SourceImporter {
    public let profile: DecisionXMLProfile

    public func read(_ source: PipelineConfig.Source, context: StageContext, into sink: any RecordSinks) throws -> ImportCounts {
        let p = profile
        let pseudo = try Pseudonymizer.load(context.config.pseudonymKey)
        var c = ImportCounts()
        let generated = try GeneratedIDs(source, idPath: p.fields[.id], record: p.recordElement, sink: sink, counts: &c)
        try XMLSource.forEachRecord(source, recordElement: p.recordElement, fieldPaths: Array(p.fields.values), sink: sink, counts: &c) {
            rec, ref, c in
            func value(_ f: DecisionXMLProfile.Field) -> String { p.fields[f].flatMap { rec.first($0) }?.trimmingCharacters(in: " \t\n") ?? "" }
            func reject(_ f: DecisionXMLProfile.Field, _ raw: String, _ reason: String) throws {
                try sink.reject(
                    sourceID: source.id, at: ref, field: p.fields[f] ?? f.rawValue, raw: PersonalIdentity.redact(raw),
                    reason: "\(p.recordElement) record \(rec.index): \(PersonalIdentity.redact(reason))")
                c.rowsRejected += 1
                c.rejectedWithoutAmount += 1
            }
            let id = generated.id(rec.index, counts: &c) ?? value(.id)
            guard !id.isEmpty else { try reject(.id, "", "has no id (path \(p.fields[.id]!))"); return }
            let rawPerson = value(.person)
            let person: String
            switch PersonalIdentity.canonical(rawPerson, referenceYear: context.config.fiscalYear) {
            case .success(let canon): person = pseudo.pseudonym(canon)
            case .failure(let why): try reject(.person, "(withheld: personal data)", "\(why.reason); check the case system's record"); return
            }
            var dates: [DecisionXMLProfile.Field: Day] = [:]
            var bad: (DecisionXMLProfile.Field, String)?
            for f in [DecisionXMLProfile.Field.decisionDate, .executed, .interrupted, .resumed, .ended] {
                let text = value(f)
                if text.isEmpty { continue }
                guard let d = p.dateLayout.parse(Array(text.utf8))?.day else { bad = (f, text); break }
                dates[f] = d
            }
            if let (f, text) = bad {
                try reject(
                    f, text, "\(f.rawValue.replacingOccurrences(of: "_", with: " ")) \"\(text)\" is not a date; expected \(p.dateLayout.rawValue)");
                return
            }
            guard let decided = dates[.decisionDate] else { try reject(.decisionDate, "", "has no decision date"); return }
            if let x = dates[.executed], x < decided {
                try reject(.executed, x.description, "is executed (\(x)) before it was decided (\(decided))"); return
            }
            if dates[.resumed] != nil && dates[.interrupted] == nil {
                try reject(.resumed, value(.resumed), "is resumed but was never interrupted"); return
            }
            let measure = value(.measure)
            guard !measure.isEmpty else { try reject(.measure, "", "has no type of measure (insats)"); return }
            let d = Decision(
                source: ref, id: id, person: person, ansvar: value(.ansvar), decisionDate: decided, measure: PersonalIdentity.redact(measure),
                legalBasis: PersonalIdentity.redact(value(.legalBasis)), favourable: p.favourableValues.contains(value(.favourable).lowercased()),
                executed: dates[.executed], interrupted: dates[.interrupted], resumed: dates[.resumed], ended: dates[.ended],
                reason: PersonalIdentity.redact(value(.reason)))
            try sink.decision(d, sourceID: source.id)
            c.rowsNormalized += 1
        }
        return c
    }
}
