import Foundation
import RamkollModel
import RamkollReaders

/// The byte-level path of the ledger CSV importer: a plain row (valid CSV, every field readable
/// in the profile's encoding, an amount, an account, a date or period) goes from the reader's
/// byte slices to ledger.csv's bytes without a `String` per field. Anything else — a rejected
/// row, a stated total, a row needing a decision — is left to the importer's general path, which
/// gives the same bytes for plain rows (the golden files and error fixtures hold both to it).
final class LedgerRowFastPath {
    /// Off in tests that compare the two paths' bytes; `rowsWritten` counts the rows this path took.
    nonisolated(unsafe) static var enabled = true
    nonisolated(unsafe) private static var rowsWrittenTotal = 0
    private static let countLock = NSLock()
    static var rowsWritten: Int {
        countLock.lock(); defer { countLock.unlock() }
        return rowsWrittenTotal
    }
    /// Rows this instance wrote (added to `rowsWritten` by `finish()`).
    private var taken = 0
    func finish() {
        LedgerRowFastPath.countLock.lock(); defer { LedgerRowFastPath.countLock.unlock() }
        LedgerRowFastPath.rowsWrittenTotal += taken
        taken = 0
    }
    private let profile: LedgerCSVProfile
    private let position: [Int?]
    private let columns: Int
    private let amounts: AmountParser
    /// The text fields' ordinals and columns (a buffer the row loop reads without reference counting).
    private let textColumns: UnsafeMutableBufferPointer<(ordinal: Int, column: Int)>
    private let hasBookingDate: Bool, hasPeriod: Bool
    /// The row's values by field ordinal, in UTF-8 and trimmed: views of the reader's buffer, or of
    /// `arena` where the bytes had to be transcoded. Valid until the reader's next record.
    private let values: UnsafeMutablePointer<UnsafeBufferPointer<UInt8>>
    private var arena: UnsafeMutablePointer<UInt8>
    private var arenaCapacity = 4096
    private var arenaUsed = 0
    private var redacted: [UInt8] = []
    /// The source id and file as ledger.csv writes them on every row.
    /// Owned copies (not arrays, so that the row closure reads them without reference counting).
    private var sourceField = UnsafeMutableBufferPointer<UInt8>(start: nil, count: 0),
        fileField = UnsafeMutableBufferPointer<UInt8>(start: nil, count: 0)
    private var sourceFieldFor = "", fileFieldFor = ""
    private static func owned(_ bytes: [UInt8], replacing old: UnsafeMutableBufferPointer<UInt8>) -> UnsafeMutableBufferPointer<UInt8> {
        old.deallocate()
        let b = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: bytes.count)
        _ = b.initialize(from: bytes)
        return b
    }

    /// The row's line number in decimal: rows mostly come line after line, so the digits of the
    /// last one are counted on instead of formatting every number.
    private let lineDigits = LineDigits()

    private static let debitCredit = [LedgerField.debit, .credit]
    /// Ordinals of the dimension columns in ledger.csv's order.
    private static let dimensions = [LedgerField.ansvar, .verksamhet, .aktivitet, .projekt, .objekt, .motpart].map(\.ordinal)
    /// The same ordinals in a buffer the row closure can read without reference counting.
    private let dimensionOrdinals: UnsafeMutableBufferPointer<Int> = {
        let b = UnsafeMutableBufferPointer<Int>.allocate(capacity: LedgerRowFastPath.dimensions.count)
        _ = b.initialize(from: LedgerRowFastPath.dimensions)
        return b
    }()

    /// A row whose marker column starts with this is a stated total: the general path's.
    private let totalMarker: (column: Int, bytes: [UInt8])?

    init?(profile p: LedgerCSVProfile, header: LedgerHeader.Info) {
        guard LedgerRowFastPath.enabled else { return nil }
        if let t = p.totalRow {
            guard let column = header.totalMarkerColumn else { return nil }
            totalMarker = (column, Array(t.marker.utf8))
        } else {
            totalMarker = nil
        }
        profile = p
        position = header.positions
        columns = header.columns
        amounts = AmountParser(decimalSeparator: p.decimalSeparator)
        let texts = p.textFields.map { (ordinal: $0.ordinal, column: header.positions[$0.ordinal]!) }
        textColumns = .allocate(capacity: texts.count)
        _ = textColumns.initialize(from: texts)
        hasBookingDate = p.columns[.bookingDate] != nil
        hasPeriod = p.columns[.period] != nil
        values = .allocate(capacity: LedgerField.allCases.count)
        values.initialize(repeating: UnsafeBufferPointer(start: nil, count: 0), count: LedgerField.allCases.count)
        arena = .allocate(capacity: arenaCapacity)
    }

    deinit {
        values.deallocate()
        arena.deallocate()
        dimensionOrdinals.deallocate()
        textColumns.deallocate()
        sourceField.deallocate(); fileField.deallocate()
    }

    /// Writes the reader's current row through the sink when it is plain and returns its amount;
    /// nil leaves it to the general path (nothing written, nothing counted).
    func write(_ reader: CSVReader, sourceID: String, file: String, into sink: any LedgerSink) throws -> Ore? {
        let p = profile
        guard reader.recordError == nil, reader.fieldCount == columns else { return nil }
        if let (column, marker) = totalMarker {
            ensureArena(3 * reader.bytes(column).count + 16)
            guard let v = view(reader.bytes(column), ascii: reader.recordIsASCII),
                !(v.count >= marker.count && marker.withUnsafeBufferPointer({ v.starts(with: $0) }))
            else { return nil }
        }
        // The amount, in ledger sign.
        var amount: Ore
        if let i = position[LedgerField.amount.ordinal] {
            guard case .success(let o) = amounts.parse(reader.bytes(i)) else { return nil }
            amount = p.sign == .creditPositive ? -o : o
        } else {
            var debit: Ore?, credit: Ore?
            for f in LedgerRowFastPath.debitCredit {
                guard let i = position[f.ordinal] else { continue }
                let bytes = reader.bytes(i)
                if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                guard case .success(let o) = amounts.parse(bytes) else { return nil }
                if f == .debit { debit = o } else { credit = o }
            }
            guard debit != nil || credit != nil else { return nil }
            amount = (debit ?? .zero) - (credit ?? .zero)
        }
        // Every mapped column readable in the encoding, trimmed of spaces and tabs. A transcoded
        // byte takes at most three bytes: the arena is made big enough before the first (only a
        // non-ASCII record in another encoding than UTF-8 is transcoded).
        let ascii = reader.recordIsASCII
        let texts = UnsafeBufferPointer(textColumns)
        if ascii || p.encoding == .utf8 {
            arenaUsed = 0
        } else {
            ensureArena(3 * reader.recordSpan + 16)  // the text fields together are no longer than the record
        }
        for (ordinal, column) in texts {
            guard let v = view(reader.bytes(column), ascii: ascii) else { return nil }
            values[ordinal] = v
        }
        // A code field shaped like a personnummer: the general path redacts it.
        for (ordinal, _) in texts where ordinal != LedgerField.text.ordinal && values[ordinal].count >= 10 {
            if PersonalIdentity.holdsIdentity(utf8: values[ordinal]) { return nil }
        }
        // The account: letters and digits (or the leading digits of "46310 Köp av …").
        var account = values[LedgerField.account.ordinal]
        if p.accountWithText {
            let digits = account.prefix { $0 >= 48 && $0 <= 57 }.count
            if digits < account.count && account[digits] >= 0x80 { return nil }  // a combining mark after a digit: the general path decides
            account = UnsafeBufferPointer(rebasing: account[0..<digits])
        }
        guard !account.isEmpty, account.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) }) else {
            return nil
        }
        var day: Day?, period: Period?
        if hasBookingDate {
            guard let parsed = p.dateLayout.parse(buffer: values[LedgerField.bookingDate.ordinal]) else { return nil }
            day = parsed.day; period = parsed.period
        }
        if hasPeriod {
            guard let parsed = p.periodLayout.parse(buffer: values[LedgerField.period.ordinal]) else { return nil }
            period = parsed.period
        }
        guard let period else { return nil }
        if sourceFieldFor != sourceID {
            sourceField = LedgerRowFastPath.owned(TableWriter.quoted(sourceID), replacing: sourceField); sourceFieldFor = sourceID
        }
        if fileFieldFor != file {
            fileField = LedgerRowFastPath.owned(TableWriter.quoted(file), replacing: fileField); fileFieldFor = file
        }
        let sourceView = UnsafeBufferPointer(sourceField), fileView = UnsafeBufferPointer(fileField),
            dimensions = UnsafeBufferPointer(dimensionOrdinals)
        let line = reader.line
        let lineText = lineDigits.text(of: line)
        let values = self.values
        // A `;`-separated record without a quote has no field that needs quoting (transcoding
        // and redaction add neither `;`, quotes nor line breaks).
        let plain = !reader.recordHasQuote && reader.delimiter == UInt8(ascii: ";")
        func emit(text: UnsafeBufferPointer<UInt8>) throws {
            let facts = LedgerRowFacts(
                sourceID: sourceID, file: file, line: line, period: period, amount: amount, voucher: values[LedgerField.voucher.ordinal],
                account: account, ansvar: values[LedgerField.ansvar.ordinal], text: text, voucherPlain: plain)
            try sink.ledgerRow(facts) { w in
                if plain {
                    // One capacity check for the row: every field's bytes, 14 separators, the
                    // numbers at their longest (20 bytes), the date (16) and period (7).
                    var most = sourceView.count + fileView.count + lineText.count + values[LedgerField.voucher.ordinal].count + account.count
                    for f in dimensions { most += values[f].count }
                    most += text.count + 14 + 20 + 16 + 7
                    w.fields(maxBytes: most) { r in
                        r.put(sourceView); r.separator(); r.put(fileView); r.separator(); r.put(lineText); r.separator()
                        r.put(values[LedgerField.voucher.ordinal]); r.separator()
                        if let day { r.day(day) }
                        r.separator(); r.period(period); r.separator()
                        r.put(account)
                        for f in dimensions { r.separator(); r.put(values[f]) }
                        r.separator(); r.int(amount.value); r.separator()
                        r.put(text)
                    }
                } else {
                    w.field(verbatim: sourceView); w.field(verbatim: fileView); w.field(line)
                    w.field(bytes: values[LedgerField.voucher.ordinal]); w.field(day); w.field(period)
                    w.field(bytes: account)
                    for f in dimensions { w.field(bytes: values[f]) }
                    w.field(amount.value)
                    w.field(bytes: text)
                }
            }
        }
        // The text, with anything shaped like a personnummer replaced (only a text with a digit can have one).
        let text = values[LedgerField.text.ordinal]
        if text.count >= 10 && LedgerRowFastPath.hasDigit(text) {
            redacted.removeAll(keepingCapacity: true)
            PersonalIdentity.redact(utf8: text, into: &redacted)
            try redacted.withUnsafeBufferPointer { try emit(text: $0) }
        } else {
            try emit(text: text)
        }
        taken += 1
        return amount
    }

    /// Whether any byte is an ASCII digit: eight bytes at a time (a byte is a digit when, XORed
    /// with `0`, it is below 10; the word test for "a byte below n" is exact for n ≤ 128).
    @inline(__always)
    static func hasDigit(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = b.baseAddress else { return false }
        var k = 0
        let ones: UInt64 = 0x0101_0101_0101_0101
        while k + 8 <= b.count {
            let x = UnsafeRawPointer(base + k).loadUnaligned(as: UInt64.self) ^ (ones &* 0x30)
            if (x &- ones &* 10) & ~x & (ones &* 0x80) != 0 { return true }
            k += 8
        }
        while k < b.count {
            if b[k] &- 48 < 10 { return true }
            k += 1
        }
        return false
    }

    /// Makes the arena hold at least `need` bytes and empties it (before any view of it is taken
    /// for the row).
    private func ensureArena(_ need: Int) {
        if need > arenaCapacity {
            arena.deallocate()
            arenaCapacity = need * 2
            arena = .allocate(capacity: arenaCapacity)
        }
        arenaUsed = 0
    }

    /// The field in UTF-8, spaces and tabs trimmed at both ends: the bytes as they lie when they
    /// are ASCII or valid UTF-8 in a UTF-8 file, else transcoded into the arena; nil if they are
    /// not valid in the profile's encoding. `ascii`: the reader found the whole record ASCII.
    @inline(__always)
    private func view(_ bytes: UnsafeBufferPointer<UInt8>, ascii: Bool) -> UnsafeBufferPointer<UInt8>? {
        var lo = 0, hi = bytes.count
        while lo < hi, bytes[lo] == 0x20 || bytes[lo] == 0x09 { lo += 1 }
        while hi > lo, bytes[hi - 1] == 0x20 || bytes[hi - 1] == 0x09 { hi -= 1 }
        let b = UnsafeBufferPointer(rebasing: bytes[lo..<hi])
        if ascii || TextEncoding.isASCII(b) { return b }
        return transcoded(b)
    }

    private func transcoded(_ b: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8>? {
        if profile.encoding == .utf8 { return TextEncoding.isValidUTF8(b) ? b : nil }
        let start = arenaUsed
        guard let n = profile.encoding.transcodeToUTF8(b, into: arena + start) else { return nil }
        arenaUsed += n
        return UnsafeBufferPointer(start: arena + start, count: arenaUsed - start)
    }
}

/// The decimal digits of a line number, counted on in place when it is the one after the last.
final class LineDigits {
    private let digits = UnsafeMutablePointer<UInt8>.allocate(capacity: 24)
    private var count = 0
    private var value = -1

    deinit { digits.deallocate() }

    /// The digits of `line` (≥ 0); valid until the next call.
    func text(of line: Int) -> UnsafeBufferPointer<UInt8> {
        if line == value + 1 && value >= 0 {
            var k = count - 1
            while k >= 0 && digits[k] == 57 { digits[k] = 48; k -= 1 }
            if k >= 0 {
                digits[k] += 1
            } else {
                (digits + 1).update(from: digits, count: count)
                digits[0] = 49; count += 1
            }
        } else {
            var s = String(line)
            count = s.withUTF8 { u in
                digits.update(from: u.baseAddress!, count: u.count); return u.count
            }
        }
        value = line
        return UnsafeBufferPointer(start: digits, count: count)
    }
}
