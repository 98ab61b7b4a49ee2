import RamkollModel
import RamkollReaders

/// Reads a ledger CSV through its layout profile, row by row, into `LedgerEntry` values.
/// Every row ends normalized or rejected with file, line, field, raw value and reason.
public struct LedgerCSVImporter: SourceImporter {
    public let profile: LedgerCSVProfile

    public func read(_ source: PipelineConfig.Source, context: StageContext, into sink: NormalizeSink) throws -> ImportCounts {
        let p = profile
        let file = source.displayPath
        let reader = try CSVReader(path: source.path, delimiter: p.delimiter)
        let header = try LedgerHeader.read(reader, display: file, profile: p)
        let amounts = AmountParser(decimalSeparator: p.decimalSeparator)
        let decimalName = p.decimalSeparator == UInt8(ascii: ",") ? "decimal comma" : "decimal point"
        let example = p.decimalSeparator == UInt8(ascii: ",") ? "-1 234,50" : "-1234.50"
        var c = ImportCounts()

        func text(_ f: LedgerField) -> String? {
            guard let i = header.index[f] else { return "" }
            return p.encoding.decode(reader.field(i)).map { $0.trimmingCharacters(in: " \t") }
        }
        func raw(_ f: LedgerField) -> String {
            guard let i = header.index[f] else { return "" }
            return PersonalIdentity.redact(p.encoding.decode(reader.field(i)) ?? String(decoding: reader.field(i), as: UTF8.self))
        }

        /// The record as text (for rejects of whole rows), personnummer redacted, at most 200 characters.
        func wholeRecord() -> String {
            let d = String(decoding: [p.delimiter], as: UTF8.self)
            let s = (0..<reader.fieldCount).map { p.encoding.decode(reader.field($0)) ?? String(decoding: reader.field($0), as: UTF8.self) }.joined(
                separator: d)
            let r = PersonalIdentity.redact(s)
            return r.count > 200 ? String(r.prefix(200)) + "…" : r
        }

        while try reader.next() {
            c.rowsRead += 1
            let ref = SourceRef(file: file, line: reader.line)
            // Read the amount first, so a rejected row still counts its öre when it has readable ones.
            var amount: Ore?
            var rejection: (field: String, raw: String, reason: String)?
            if let err = reader.recordError {
                rejection = ("", wholeRecord(), "row is not valid CSV: \(err)")
            } else if reader.fieldCount != header.columns {
                rejection = (
                    "", wholeRecord(),
                    "row has \(reader.fieldCount) fields, the header has \(header.columns) — a total or footer line, or an unquoted \"\(Character(Unicode.Scalar(p.delimiter)))\" in a text field"
                )
            }
            if let ai = header.index[.amount], ai < reader.fieldCount {
                switch amounts.parse(reader.field(ai)) {
                case .success(let o): amount = p.sign == .creditPositive ? -o : o
                case .failure(let f):
                    if rejection == nil {
                        let h = p.columns[.amount]!
                        rejection = (
                            h, raw(.amount),
                            "amount \"\(raw(.amount))\" is not a number (column \"\(h)\"): \(f.reason); expected \(decimalName) with at most 2 decimals, e.g. \(example) — check the source's number settings"
                        )
                    }
                }
            }
            var entry: LedgerEntry?
            if rejection == nil {
                entry = buildEntry(ref: ref, amount: amount!, text: text, raw: raw, rejection: &rejection)
            }
            if let e = entry {
                try sink.ledger(e, sourceID: source.id)
                c.rowsNormalized += 1
                c.amountNormalized += e.amount
                c.amountRead += e.amount
            } else {
                let r = rejection!
                try sink.reject(sourceID: source.id, at: ref, field: r.field, raw: r.raw, reason: r.reason)
                c.rowsRejected += 1
                if let a = amount { c.amountRejected += a; c.amountRead += a } else { c.rejectedWithoutAmount += 1 }
            }
        }
        return c
    }

    private func buildEntry(
        ref: SourceRef, amount: Ore, text: (LedgerField) -> String?, raw: (LedgerField) -> String,
        rejection: inout (field: String, raw: String, reason: String)?
    ) -> LedgerEntry? {
        let p = profile
        var values: [LedgerField: String] = [:]
        for f in p.columns.keys where f != .amount {
            guard let v = text(f) else {
                rejection = (
                    p.columns[f]!, raw(f),
                    "column \"\(p.columns[f]!)\" is not valid \(p.encoding.rawValue) — the file is probably in another encoding; set encoding in profile \(p.file)"
                )
                return nil
            }
            values[f] = v
        }
        let account = values[.account] ?? ""
        if account.isEmpty {
            rejection = (p.columns[.account]!, "", "account is empty (column \"\(p.columns[.account]!)\"); every posting needs an account")
            return nil
        }
        if !account.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) }) {
            rejection = (
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
                rejection = (
                    h, raw(.bookingDate), "date \"\(raw(.bookingDate))\" is not a valid date (column \"\(h)\"); expected \(p.dateLayout.rawValue)"
                )
                return nil
            }
        }
        if let h = p.columns[.period] {
            let v = values[.period] ?? ""
            guard let parsed = p.periodLayout.parse(Array(v.utf8)) else {
                rejection = (
                    h, raw(.period), "period \"\(raw(.period))\" is not a valid period (column \"\(h)\"); expected \(p.periodLayout.rawValue)"
                )
                return nil
            }
            period = parsed.period  // the accounting period wins over the booking date's month
        }
        guard let period else {
            rejection = (p.columns[.bookingDate] ?? "", "", "row has neither a booking date nor a period")
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
