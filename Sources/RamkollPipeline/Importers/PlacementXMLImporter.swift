import RamkollModel
import RamkollReaders

/// Reads placements from a case-system XML extract through a field-path profile. The person's
/// number is validated and replaced by a keyed pseudonym here, at ingest; it goes no further.
public struct PlacementXMLImporter: SourceImporter {
    public let profile: PlacementXMLProfile

    public func read(_ source: PipelineConfig.Source, context: StageContext, into sink: NormalizeSink) throws -> ImportCounts {
        let p = profile
        let pseudo = try Pseudonymizer.load(context.config.pseudonymKey)
        let reader = try XMLRecordReader(path: source.path, recordElement: p.recordElement, fieldPaths: Array(p.fields.values))
        let amounts = AmountParser(decimalSeparator: p.decimalSeparator)
        var c = ImportCounts()
        while true {
            let rec: XMLRecord?
            do { rec = try reader.next() } catch let e as ReaderError {
                c.fileError = "\(e.description); records after this point were not read"
                c.fileRejects += 1
                try sink.reject(
                    sourceID: source.id, at: SourceRef(file: source.displayPath, line: e.line ?? 0), field: "",
                    raw: "", reason: "XML extract is broken: \(e.message); records after line \(e.line ?? 0) were not read — ask for a new extract")
                break
            }
            guard let rec else { break }
            c.rowsRead += 1
            let ref = SourceRef(file: source.displayPath, record: rec.index, line: rec.line)
            func value(_ f: PlacementXMLProfile.Field) -> String? { p.fields[f].flatMap { rec.first($0) } }
            func reject(_ f: PlacementXMLProfile.Field, _ raw: String, _ reason: String) throws {
                try sink.reject(
                    sourceID: source.id, at: ref, field: p.fields[f] ?? f.rawValue, raw: raw,
                    reason: "\(p.recordElement) record \(rec.index): \(reason)")
                c.rowsRejected += 1
                c.rejectedWithoutAmount += 1
            }
            guard let id = value(.id), !id.isEmpty else { try reject(.id, "", "has no id (path \(p.fields[.id]!))"); continue }
            guard let rawPerson = value(.person), !rawPerson.isEmpty else {
                try reject(.person, "", "has no personal identity number (path \(p.fields[.person]!))"); continue
            }
            let person: String
            switch PersonalIdentity.canonical(rawPerson, referenceYear: context.config.fiscalYear) {
            case .success(let canon): person = pseudo.pseudonym(canon)
            case .failure(let why): try reject(.person, "(withheld: personal data)", "\(why.reason); check the case system's record"); continue
            }
            guard let ansvar = value(.ansvar), !ansvar.isEmpty else {
                try reject(.ansvar, "", "has no ansvar (path \(p.fields[.ansvar]!))"); continue
            }
            let startRaw = value(.start) ?? ""
            guard let start = p.dateLayout.parse(Array(startRaw.utf8))?.day else {
                try reject(
                    .start, PersonalIdentity.redact(startRaw),
                    "start date \"\(PersonalIdentity.redact(startRaw))\" is not a date; expected \(p.dateLayout.rawValue)");
                continue
            }
            var end: Day?
            if let e = value(.end), !e.isEmpty {
                guard let d = p.dateLayout.parse(Array(e.utf8))?.day else {
                    try reject(
                        .end, PersonalIdentity.redact(e),
                        "end date \"\(PersonalIdentity.redact(e))\" is not a date; expected \(p.dateLayout.rawValue)");
                    continue
                }
                if d < start { try reject(.end, e, "end date \(d) is before start date \(start)"); continue }
                end = d
            }
            let priceRaw = value(.dailyPrice) ?? ""
            let price: Ore
            switch amounts.parse(Array(priceRaw.utf8)) {
            case .success(let o): price = o
            case .failure(let f):
                try reject(
                    .dailyPrice, PersonalIdentity.redact(priceRaw),
                    "daily price \"\(PersonalIdentity.redact(priceRaw))\" is not a number: \(f.reason)");
                continue
            }
            let placement = Placement(
                source: ref, id: id, person: person, ansvar: ansvar,
                formOfCare: PersonalIdentity.redact(value(.formOfCare) ?? ""),
                legalBasis: PersonalIdentity.redact(value(.legalBasis) ?? ""),
                start: start, end: end, dailyPrice: price)
            try sink.placement(placement, sourceID: source.id)
            c.rowsNormalized += 1
        }
        return c
    }
}
