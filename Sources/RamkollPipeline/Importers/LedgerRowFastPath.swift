import RamkollModel
import RamkollReaders

/// The byte-level path of the ledger CSV importer: a plain row (valid CSV, every field readable
/// in the profile's encoding, an amount, an account, a date or period) goes from the reader's
/// byte slices to ledger.csv's bytes without a `String` per field. Anything else — a rejected
/// row, a stated total, a row needing a decision — is left to the importer's general path, which
/// gives the same bytes for plain rows (the golden files and error fixtures hold both to it).
final class LedgerRowFastPath {
    private let profile: LedgerCSVProfile
    private let position: [Int?]
    private let columns: Int
    private let amounts: AmountParser
    private let textFields: [LedgerField]
    private let outputFields: [LedgerField] = [.voucher, .account, .ansvar, .verksamhet, .aktivitet, .projekt, .objekt, .motpart, .text]
    /// Transcoded (UTF-8), trimmed values by field ordinal; reused from row to row.
    private var values: [[UInt8]]
    private var redacted: [UInt8] = []

    /// Nil when the profile needs the general path for every row (a stated total row to spot).
    init?(profile p: LedgerCSVProfile, header: LedgerHeader.Info) {
        guard p.totalRow == nil else { return nil }
        profile = p
        var position = [Int?](repeating: nil, count: LedgerField.allCases.count)
        for (f, i) in header.index { position[f.ordinal] = i }
        self.position = position
        columns = header.columns
        amounts = AmountParser(decimalSeparator: p.decimalSeparator)
        textFields = p.columns.keys.filter { $0 != .amount }.sorted { $0.ordinal < $1.ordinal }
        values = [[UInt8]](repeating: [], count: LedgerField.allCases.count)
        for i in values.indices { values[i].reserveCapacity(64) }
    }

    /// Writes the reader's current row through the sink when it is plain; false leaves it to the
    /// general path (nothing written, nothing counted).
    func write(_ reader: CSVReader, sourceID: String, file: String, into sink: NormalizeSink) throws -> Ore? {
        let p = profile
        guard reader.recordError == nil, reader.fieldCount == columns else { return nil }
        // The amount, in ledger sign.
        var amount: Ore
        if let i = position[LedgerField.amount.ordinal] {
            guard case .success(let o) = amounts.parse(reader.bytes(i)) else { return nil }
            amount = p.sign == .creditPositive ? -o : o
        } else {
            var debit: Ore?, credit: Ore?
            for f in [LedgerField.debit, .credit] {
                guard let i = position[f.ordinal] else { continue }
                let bytes = reader.bytes(i)
                if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                guard case .success(let o) = amounts.parse(bytes) else { return nil }
                if f == .debit { debit = o } else { credit = o }
            }
            guard debit != nil || credit != nil else { return nil }
            amount = (debit ?? .zero) - (credit ?? .zero)
        }
        // Every mapped column readable in the encoding, trimmed of spaces and tabs.
        for f in textFields {
            guard let i = position[f.ordinal], transcode(reader.bytes(i), into: &values[f.ordinal]) else { return nil }
        }
        // The account: letters and digits (or the leading digits of "46310 Köp av …").
        let accountOrdinal = LedgerField.account.ordinal
        if p.accountWithText {
            let a = values[accountOrdinal]
            let digits = a.prefix { $0 >= 48 && $0 <= 57 }.count
            if digits < a.count && a[digits] >= 0x80 { return nil }  // a combining mark after a digit: the general path decides
            values[accountOrdinal].removeLast(a.count - digits)
        }
        let account = values[accountOrdinal]
        guard !account.isEmpty, account.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) }) else {
            return nil
        }
        var day: Day?, period: Period?
        if p.columns[.bookingDate] != nil {
            guard let parsed = values[LedgerField.bookingDate.ordinal].withUnsafeBufferPointer({ p.dateLayout.parse(buffer: $0) }) else {
                return nil
            }
            day = parsed.day; period = parsed.period
        }
        if p.columns[.period] != nil {
            guard let parsed = values[LedgerField.period.ordinal].withUnsafeBufferPointer({ p.periodLayout.parse(buffer: $0) }) else {
                return nil
            }
            period = parsed.period
        }
        guard let period else { return nil }
        // The text, with anything shaped like a personnummer replaced.
        redacted.removeAll(keepingCapacity: true)
        values[LedgerField.text.ordinal].withUnsafeBufferPointer { PersonalIdentity.redact(utf8: $0, into: &redacted) }
        let line = reader.line
        try values[LedgerField.voucher.ordinal].withUnsafeBufferPointer { voucher in
            try sink.ledgerRow(sourceID: sourceID, voucher: voucher, line: line, period: period, amount: amount) { w in
                w.field(sourceID); w.field(file); w.field(line); w.field(bytes: voucher); w.field(day); w.field(period)
                w.field(bytes: account)
                for f in [LedgerField.ansvar, .verksamhet, .aktivitet, .projekt, .objekt, .motpart] { w.field(bytes: values[f.ordinal]) }
                w.field(amount.value)
                w.field(bytes: redacted)
            }
        }
        return amount
    }

    /// The field in UTF-8, spaces and tabs trimmed at both ends; false if it is not valid in the
    /// profile's encoding.
    private func transcode(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) -> Bool {
        out.removeAll(keepingCapacity: true)
        var lo = bytes.startIndex, hi = bytes.endIndex
        while lo < hi, bytes[lo] == 0x20 || bytes[lo] == 0x09 { lo += 1 }
        while hi > lo, bytes[hi - 1] == 0x20 || bytes[hi - 1] == 0x09 { hi -= 1 }
        let b = UnsafeBufferPointer(rebasing: bytes[lo..<hi])
        if b.allSatisfy({ $0 < 0x80 }) { out.append(contentsOf: b); return true }
        switch profile.encoding {
        case .utf8:
            guard TextEncoding.isValidUTF8(b) else { return false }
            out.append(contentsOf: b)
        case .latin1:
            for c in b { LedgerRowFastPath.appendScalar(UInt32(c), to: &out) }
        case .windows1252:
            for c in b {
                if c >= 0x80 && c <= 0x9F {
                    let cp = TextEncoding.cp1252High[Int(c - 0x80)]
                    guard cp != 0 else { return false }
                    LedgerRowFastPath.appendScalar(cp, to: &out)
                } else {
                    LedgerRowFastPath.appendScalar(UInt32(c), to: &out)
                }
            }
        }
        return true
    }

    @inline(__always) static func appendScalar(_ cp: UInt32, to out: inout [UInt8]) {
        if cp < 0x80 {
            out.append(UInt8(cp))
        } else if cp < 0x800 {
            out.append(0xC0 | UInt8(cp >> 6)); out.append(0x80 | UInt8(cp & 0x3F))
        } else {
            out.append(0xE0 | UInt8(cp >> 12)); out.append(0x80 | UInt8((cp >> 6) & 0x3F)); out.append(0x80 | UInt8(cp & 0x3F))
        }
    }
}
