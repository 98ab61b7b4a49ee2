import RamkollModel
import RamkollReaders

/// How to read placements out of a case-system XML extract (`kind: placements-xml`).
public struct PlacementXMLProfile: XMLExtractFormat {
    public static let kind = "placements-xml"
    public var records: SourceRecords { .placements }
    public static let profileKeys = ["record", "fields", "date_layout", "decimal"]
    /// The fields every record needs (a profile must give their paths).
    /// (Without `id` every record gets a generated one.)
    public static let requiredFields: [Field] = [.person, .ansvar, .start, .dailyPrice]
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

    public static func load(_ k: ProfileKeys) -> PlacementXMLProfile? {
        let record = k.string("record", required: true) ?? ""
        let fields = k.xmlFields(Field.self, required: requiredFields)
        return PlacementXMLProfile(
            name: k.name, file: k.file, recordElement: record, fields: fields, dateLayout: k.layout("date_layout", .isoDate),
            decimalSeparator: k.decimal())
    }
    public func importer() -> any SourceImporter { PlacementXMLImporter(profile: self) }
}

/// Reads placements from a case-system XML extract through a field-path profile. The person's
/// number is validated and replaced by a keyed pseudonym here, at ingest; it goes no further.
public struct PlacementXMLImporter: SourceImporter {
    public let profile: PlacementXMLProfile

    public func read(_ source: PipelineConfig.Source, context: StageContext, into sink: any RecordSinks) throws -> ImportCounts {
        let p = profile
        let pseudo = try Pseudonymizer.load(context.config.pseudonymKey)
        let amounts = AmountParser(decimalSeparator: p.decimalSeparator)
        var c = ImportCounts()
        let generated = try GeneratedIDs(source, idPath: p.fields[.id], record: p.recordElement, sink: sink, counts: &c)
        // Each field's path number in the reader (-1: the profile gives none), by the field's
        // place in `Field.allCases`: looked up at the first record, the same for every record.
        let order = PlacementXMLProfile.Field.allCases
        var ordinals: [Int32] = []
        try XMLSource.forEachRecord(source, recordElement: p.recordElement, fieldPaths: Array(p.fields.values), sink: sink, counts: &c) {
            rec, ref, c in
            if ordinals.isEmpty { ordinals = order.map { f in p.fields[f].flatMap { rec.ordinal(of: $0) } ?? -1 } }
            func ordinal(_ f: PlacementXMLProfile.Field) -> Int32 { ordinals[order.firstIndex(of: f)!] }
            func value(_ f: PlacementXMLProfile.Field) -> String? {
                let o = ordinal(f)
                return o < 0 ? nil : rec.first(ordinal: o)
            }
            func reject(_ f: PlacementXMLProfile.Field, _ raw: String, _ reason: String) throws {
                try sink.reject(
                    sourceID: source.id, at: ref, field: p.fields[f] ?? f.rawValue, raw: raw,
                    reason: "\(p.recordElement) record \(rec.index): \(reason)")
                c.rowsRejected += 1
                c.rejectedWithoutAmount += 1
            }
            guard let id = generated.id(rec.index, counts: &c) ?? value(.id), !id.isEmpty else {
                try reject(.id, "", "has no id (path \(p.fields[.id]!))"); return
            }
            guard let rawPerson = value(.person), !rawPerson.isEmpty else {
                try reject(.person, "", "has no personal identity number (path \(p.fields[.person]!))"); return
            }
            let person: String
            switch PersonalIdentity.canonical(rawPerson, referenceYear: context.config.fiscalYear) {
            case .success(let canon): person = pseudo.pseudonym(canon)
            case .failure(let why): try reject(.person, "(withheld: personal data)", "\(why.reason); check the case system's record"); return
            }
            guard let ansvar = value(.ansvar), !ansvar.isEmpty else {
                try reject(.ansvar, "", "has no ansvar (path \(p.fields[.ansvar]!))"); return
            }
            /// A date or an amount read from a value's bytes in place (no array made for each).
            func date(_ text: String) -> Day? {
                var t = text
                return t.withUTF8 { p.dateLayout.parse(buffer: $0)?.day }
            }
            let startRaw = value(.start) ?? ""
            guard let start = date(startRaw) else {
                try reject(
                    .start, PersonalIdentity.redact(startRaw),
                    "start date \"\(PersonalIdentity.redact(startRaw))\" is not a date; expected \(p.dateLayout.rawValue)");
                return
            }
            var end: Day?
            if let e = value(.end), !e.isEmpty {
                guard let d = date(e) else {
                    try reject(
                        .end, PersonalIdentity.redact(e),
                        "end date \"\(PersonalIdentity.redact(e))\" is not a date; expected \(p.dateLayout.rawValue)");
                    return
                }
                if d < start { try reject(.end, e, "end date \(d) is before start date \(start)"); return }
                end = d
            }
            // One daily price, or several dated ones (repeated elements: price periods).
            let priceTexts = ordinal(.dailyPrice) < 0 ? [] : rec.all(ordinal: ordinal(.dailyPrice))
            let fromTexts = ordinal(.priceFrom) < 0 ? [] : rec.all(ordinal: ordinal(.priceFrom))
            var prices: [PricePeriod] = []
            var priceProblem: (String, String)?
            for (i, priceRaw) in priceTexts.enumerated() {
                var text = priceRaw
                let parsed = text.withUTF8 { amounts.parse($0) }
                guard case .success(let o) = parsed else {
                    if case .failure(let f) = parsed {
                        priceProblem = (
                            PersonalIdentity.redact(priceRaw), "daily price \"\(PersonalIdentity.redact(priceRaw))\" is not a number: \(f.reason)"
                        )
                    }
                    break
                }
                if p.fields[.priceFrom] == nil || fromTexts.isEmpty {
                    prices.append(PricePeriod(from: start, price: o))
                } else if i < fromTexts.count, let d = date(fromTexts[i]) {
                    prices.append(PricePeriod(from: d, price: o))
                } else {
                    priceProblem = (
                        i < fromTexts.count ? fromTexts[i] : "",
                        "price \(i + 1) has no valid date (path \(p.fields[.priceFrom]!)); expected \(p.dateLayout.rawValue)"
                    )
                    break
                }
            }
            if priceTexts.isEmpty { priceProblem = ("", "has no daily price (path \(p.fields[.dailyPrice]!))") }
            if priceProblem == nil && prices.count > 1 && fromTexts.isEmpty {
                priceProblem = ("", "has \(prices.count) daily prices but no dates for them; add price_from to the profile")
            }
            prices.sort { $0.from < $1.from }
            if priceProblem == nil, let dup = zip(prices, prices.dropFirst()).first(where: { $0.0.from == $0.1.from }) {
                priceProblem = ("", "has two prices from \(dup.0.from)")
            }
            if let (raw, why) = priceProblem { try reject(.dailyPrice, raw, why); return }
            let price = prices.last(where: { $0.from <= start })?.price ?? prices[0].price
            let placement = Placement(
                source: ref, id: id, person: person, ansvar: ansvar,
                formOfCare: PersonalIdentity.redact(value(.formOfCare) ?? ""),
                legalBasis: PersonalIdentity.redact(value(.legalBasis) ?? ""),
                start: start, end: end, dailyPrice: price, prices: prices)
            try sink.placement(placement, sourceID: source.id)
            c.rowsNormalized += 1
        }
        return c
    }
}
