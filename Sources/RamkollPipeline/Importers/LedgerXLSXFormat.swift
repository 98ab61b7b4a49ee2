import Foundation
import RamkollModel
import RamkollReaders
import ZIPFoundation

/// A ledger exported as an Excel workbook (`kind: ledger-xlsx`), as finance systems' report
/// modules write it: one sheet (by name or position), a header row below any title rows, the
/// same column mapping, amount, date and account rules as `ledger-csv`, and often no date column —
/// then the source gives the month the file covers (`period: 2022-03` in the pipeline).
///
/// Numbers stored as numbers and numbers stored as text are both read: a number cell exactly
/// (Excel's binary-floating-point noise past the öre, as in `1234.5600000000001`, is rounded
/// away; a real fraction of an öre is rejected), a text cell with the profile's decimal mark. A
/// date stored as a number is Excel's day count (1900 or 1904 system, as the workbook says).
///
/// The sheet is read as a stream (its XML with libxml2, record by record), never loaded whole;
/// the workbook's shared strings are held in memory, as every reader of the format must. Parts
/// are decompressed to a temporary folder with a limit that stops a "zip bomb".
public struct LedgerXLSXProfile: SourceFormat {
    public static let kind = "ledger-xlsx"
    public var records: SourceRecords { .ledger }
    public static let profileKeys = ["sheet", "header_row", "sign", "columns", "decimal", "date_layout", "period_layout", "account_with_text"]

    public enum Sheet: Sendable, Equatable {
        case named(String)
        /// 1-based, in the workbook's order of sheets.
        case position(Int)
    }
    /// The column rules shared with ledger-csv (its encoding and delimiter are not used).
    public var rules: LedgerCSVProfile
    public var sheet = Sheet.position(1)
    /// The row of the header (rows above it are titles).
    public var headerRow = 1

    public var name: String { rules.name }
    public var file: String { rules.file }
    public var declaredEncoding: String { "xlsx" }
    public var sourcePeriod: SourcePeriod { rules.columns[.bookingDate] == nil && rules.columns[.period] == nil ? .required : .notTaken }

    public static func load(_ k: ProfileKeys) -> LedgerXLSXProfile? {
        var rules = LedgerCSVProfile.ledgerRules(k, encoding: .utf8, delimiter: UInt8(ascii: ";"), dateColumnRequired: false)
        if let b = k.bool("account_with_text") { rules.accountWithText = b }
        var p = LedgerXLSXProfile(rules: rules)
        if let s = k.string("sheet") {
            if let n = Int(s) {
                if n >= 1 {
                    p.sheet = .position(n)
                } else {
                    k.error("sheet", "profile: sheet must be a sheet's name or its position (1 for the first)")
                }
            } else {
                p.sheet = .named(s)
            }
        }
        if let h = k.string("header_row") {
            if let n = Int(h), n >= 1, n <= 1_000 {
                p.headerRow = n
            } else {
                k.error("header_row", "profile: header_row must be a row number from 1 to 1000")
            }
        }
        return p
    }

    public func recognise(_ path: String, display: String) -> String? {
        guard Inbox.firstBytes(path, 4).utf8.elementsEqual([0x50, 0x4B, 0x03, 0x04]) else { return "\(file): not an Excel workbook (.xlsx)" }
        do {
            _ = try header(path, display: display)
            return nil
        } catch let e as RamkollError {
            return "\(file): \(e.message)"
        } catch {
            return "\(file): \(error)"
        }
    }

    public func ingest(_ path: String, display: String) throws -> IngestFacts {
        let (hex, bytes) = try FileIO.sha256(ofFile: path)
        return IngestFacts(sha256: hex, bytes: bytes) {
            _ = try header(path, display: display)
            return ("xlsx", "")
        }
    }

    public func preflight(_ s: PipelineConfig.Source, shown: String) -> [Diagnostic] {
        do { _ = try header(s.path, display: shown) } catch let e as RamkollError {
            return [Preflight.located(e.message, file: shown, prefix: "source \(s.id): ")]
        } catch { return [Diagnostic(.error, file: shown, line: nil, "source \(s.id): \(error)")] }
        return []
    }

    public func importer() -> any SourceImporter { LedgerXLSXImporter(profile: self) }

    /// The header row's columns for the profile's fields (a data error naming the row when a
    /// column is missing).
    func header(_ path: String, display: String) throws -> [LedgerField: Int] {
        let book = try XLSXWorkbook(path: path, display: display, sheet: sheet)
        var names: [String] = []
        try book.rows { row in
            guard row.number == headerRow else { return row.number < headerRow }
            names = row.names
            return false
        }
        return try match(names, display: display)
    }

    func match(_ names: [String], display: String) throws -> [LedgerField: Int] {
        let (index, _, missing) = LedgerHeader.match(names, profile: rules)
        guard missing.isEmpty else {
            throw RamkollError(
                .data,
                "\(display):\(headerRow): header has no column \(missing.joined(separator: ", ")); the header row (sheet \(sheet.shown), header_row \(headerRow)) is \(LedgerHeader.quotedHeader(names, profile: rules)) — is this the right profile (\(file))?"
            )
        }
        return index
    }
}

extension LedgerXLSXProfile.Sheet {
    var shown: String {
        switch self {
        case .named(let n): return "\"\(n)\""
        case .position(let i): return String(i)
        }
    }
}

/// Reads an Excel ledger into ledger rows: the CSV importer's rules, row by row (`SourceRef`'s
/// line is the sheet's row number, as Excel shows it).
public struct LedgerXLSXImporter: SourceImporter {
    public let profile: LedgerXLSXProfile

    public func read(_ source: PipelineConfig.Source, context: StageContext, into sink: any RecordSinks) throws -> ImportCounts {
        let p = profile, rules = profile.rules
        let file = source.displayPath
        let book = try XLSXWorkbook(path: source.path, display: file, sheet: p.sheet)
        var c = ImportCounts()
        var position: [LedgerField: Int]?
        let csv = LedgerCSVImporter(profile: rules)
        let amounts = AmountParser(decimalSeparator: rules.decimalSeparator)
        let decimalName = rules.decimalSeparator == UInt8(ascii: ",") ? "decimal comma" : "decimal point"
        let example = rules.decimalSeparator == UInt8(ascii: ",") ? "-1 234,50" : "-1234.50"
        try book.rows { row in
            guard row.number >= p.headerRow else { return true }
            guard let columns = position else {
                position = try p.match(row.names, display: file)
                return true
            }
            // A row without a value (Excel keeps styled empty rows) holds no posting.
            guard row.cells.contains(where: { !$0.1.value.trimmingCharacters(in: " \t").isEmpty }) else { return true }
            c.rowsRead += 1
            let ref = SourceRef(file: file, line: row.number)
            func cell(_ f: LedgerField) -> XLSXCell? { columns[f].flatMap { row.cell($0) } }
            func raw(_ f: LedgerField) -> String { PersonalIdentity.redact(cell(f)?.value ?? "") }
            func text(_ f: LedgerField) -> String? {
                guard let x = cell(f) else { return "" }
                if x.kind == .number, f == .bookingDate || f == .period, let day = book.day(serial: x.value) {
                    return (f == .period ? rules.periodLayout : rules.dateLayout).text(of: day)
                }
                return x.value.trimmingCharacters(in: " \t")
            }
            /// One amount column's value: a number cell exactly, a text cell with the profile's decimal mark.
            func amount(_ f: LedgerField) -> Result<Ore?, LedgerCSVImporter.Rejection> {
                let h = rules.columns[f]!
                guard let x = cell(f), !x.value.trimmingCharacters(in: " \t").isEmpty else {
                    return f == .amount ? .failure(.init(h, "", "amount is empty (column \"\(h)\")")) : .success(nil)
                }
                if x.kind == .number {
                    switch XLSXNumber.ore(x.value) {
                    case .success(let o): return .success(o)
                    case .failure(let why): return .failure(.init(h, raw(f), "amount \(x.value) (a number cell, column \"\(h)\"): \(why.reason)"))
                    }
                }
                switch amounts.parse(Array(x.value.utf8)) {
                case .success(let o): return .success(o)
                case .failure(let fl):
                    return .failure(
                        .init(
                            h, raw(f),
                            "amount \"\(raw(f))\" is not a number (column \"\(h)\"): \(fl.reason); expected \(decimalName) with at most 2 decimals, e.g. \(example) — check the source's number settings"
                        ))
                }
            }
            var amountRead: Ore?
            var rejection: LedgerCSVImporter.Rejection?
            if rules.columns[.amount] != nil {
                switch amount(.amount) {
                case .success(let o): amountRead = rules.sign == .creditPositive ? -(o ?? .zero) : (o ?? .zero)
                case .failure(let r): rejection = r
                }
            } else {
                switch (amount(.debit), amount(.credit)) {
                case (.failure(let r), _), (_, .failure(let r)): rejection = r
                case (.success(nil), .success(nil)):
                    let names = [rules.columns[.debit], rules.columns[.credit]].compactMap { $0 }.map { "\"\($0)\"" }.joined(separator: " nor ")
                    rejection = .init(rules.columns[.debit] ?? rules.columns[.credit] ?? "", "", "neither \(names) holds an amount")
                case (.success(let d), .success(let k)): amountRead = (d ?? .zero) - (k ?? .zero)
                }
            }
            var entry: LedgerEntry?
            if rejection == nil, let a = amountRead {
                entry = csv.buildEntry(
                    ref: ref, amount: a, fields: rules.textFields, text: text, raw: raw, rejection: &rejection, fixedPeriod: source.period)
            }
            if let e = entry {
                try c.read(e.amount, file: file, line: ref.line)
                try sink.ledger(e, sourceID: source.id)
                c.rowsNormalized += 1
                c.amountNormalized += e.amount
            } else {
                let r = rejection!
                try sink.reject(sourceID: source.id, at: ref, field: r.field, raw: r.raw, reason: r.reason)
                c.rowsRejected += 1
                if let a = amountRead { try c.read(a, file: file, line: ref.line); c.amountRejected += a } else { c.rejectedWithoutAmount += 1 }
            }
            return true
        }
        if position == nil {
            throw RamkollError(
                .data, "\(file): the sheet \(p.sheet.shown) has no row \(p.headerRow) (header_row in profile \(p.file)): the export is empty")
        }
        if c.rowsRead == 0 {
            let message =
                "the sheet has a header but no rows: the export is empty — export it again (or leave the source out for a period without postings)"
            c.fileError = "\(file):\(p.headerRow): \(message)"
            try sink.warning(sourceID: source.id, at: SourceRef(file: file, line: p.headerRow), message: message)
        }
        return c
    }
}

/// One cell: its kind and its text (a shared string resolved, a number as Excel stored it).
struct XLSXCell {
    enum Kind { case number, text, boolean, error }
    var kind: Kind
    var value: String
}

/// One sheet row: its number and its cells by 0-based column.
struct XLSXRow {
    let number: Int
    let cells: [(Int, XLSXCell)]
    func cell(_ column: Int) -> XLSXCell? { cells.first { $0.0 == column }?.1 }
    /// The row as a header: each column's text, trimmed ("" where a column has no cell).
    var names: [String] {
        var out = [String](repeating: "", count: (cells.map(\.0).max() ?? -1) + 1)
        for (column, cell) in cells { out[column] = cell.value.trimmingCharacters(in: " \t") }
        return out
    }
}

/// An .xlsx workbook opened for reading one sheet: the parts it needs decompressed to a temporary
/// folder (removed when it goes), the sheet found through the workbook and its relationships.
final class XLSXWorkbook {
    /// A part larger than this, or more than `maximumRatio` times its compressed size, is refused.
    nonisolated(unsafe) static var maximumPartBytes: Int64 = 4 << 30
    static let maximumRatio: Int64 = 500
    let display: String
    private let folder: String
    private var sheetPath = ""
    private var strings: [String] = []
    private var date1904 = false

    init(path: String, display: String, sheet: LedgerXLSXProfile.Sheet) throws {
        self.display = display
        func fail(_ why: String) -> RamkollError { RamkollError(.data, "\(display): \(why)") }
        let archive: Archive
        do { archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read) } catch {
            throw fail("not an Excel workbook (.xlsx): it is not a ZIP archive — export it again, as .xlsx")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ramkoll-xlsx-\(UUID().uuidString)").path
        self.folder = folder
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var extracted = 0
        func part(_ name: String, required: Bool) throws -> String? {
            guard let entry = archive[name] else {
                if required { throw fail("the workbook has no \(name): it is not an Excel workbook, or it is damaged — export it again") }
                return nil
            }
            extracted += 1
            let out = folder + "/part\(extracted).xml"
            FileManager.default.createFile(atPath: out, contents: nil)
            guard let h = FileHandle(forWritingAtPath: out) else { throw fail("cannot write a temporary file in \(folder)") }
            defer { try? h.close() }
            let limit = min(XLSXWorkbook.maximumPartBytes, max(1 << 20, Int64(clamping: entry.compressedSize) * XLSXWorkbook.maximumRatio))
            var written: Int64 = 0
            do {
                _ = try archive.extract(entry) { data in
                    written += Int64(data.count)
                    guard written <= limit else { throw XLSXPartTooLarge() }
                    try h.write(contentsOf: data)
                }
            } catch is XLSXPartTooLarge {
                throw fail(
                    "\(name) decompresses to more than \(limit >> 20) MiB: the workbook is damaged or built to exhaust the disk — it is not read")
            } catch {
                throw fail("\(name) cannot be decompressed (\(error)): the workbook is damaged — export it again")
            }
            return out
        }
        do {
            let workbook = try part("xl/workbook.xml", required: true)!
            let rels = try part("xl/_rels/workbook.xml.rels", required: true)!
            var sheets: [(name: String, id: String)] = []
            var date1904 = false, strings: [String] = []
            try XLSXWorkbook.records(workbook, "sheet", ["@name", "@id"], display) { r in
                sheets.append((r.first("@name") ?? "", r.first("@id") ?? ""))
            }
            try XLSXWorkbook.records(workbook, "workbookPr", ["@date1904"], display) { r in
                date1904 = ["1", "true"].contains(r.first("@date1904") ?? "")
            }
            var targets: [String: String] = [:]
            var sharedStrings: String?
            try XLSXWorkbook.records(rels, "Relationship", ["@Id", "@Target", "@Type"], display) { r in
                guard let id = r.first("@Id"), let t = r.first("@Target") else { return }
                let target = t.hasPrefix("/") ? String(t.dropFirst()) : "xl/" + t
                targets[id] = target
                if (r.first("@Type") ?? "").hasSuffix("/sharedStrings") { sharedStrings = target }
            }
            let chosen: (name: String, id: String)?
            switch sheet {
            case .named(let n): chosen = sheets.first { $0.name == n }
            case .position(let i): chosen = i <= sheets.count ? sheets[i - 1] : nil
            }
            guard let chosen, let target = targets[chosen.id] else {
                throw fail(
                    "the workbook has no sheet \(sheet.shown); its sheets are \(sheets.map { "\"\($0.name)\"" }.joined(separator: ", ")) — set sheet in the profile"
                )
            }
            let sheetPath = try part(target, required: true)!
            if let s = sharedStrings, let path = try part(s, required: false) {
                try XLSXWorkbook.records(path, "si", ["t", "r/t"], display) { r in
                    var text = ""
                    r.inOrder { _, v in text += v }
                    strings.append(text)
                }
            }
            self.sheetPath = sheetPath; self.strings = strings; self.date1904 = date1904
        } catch {
            try? FileManager.default.removeItem(atPath: folder)
            throw error
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: folder) }

    static func records(_ path: String, _ element: String, _ fields: [String], _ display: String, _ body: (XMLRecord) throws -> Void) throws {
        do {
            let reader = try XMLRecordReader(path: path, recordElement: element, fieldPaths: fields)
            while let r = try reader.next() { try body(r) }
        } catch let e as ReaderError {
            throw RamkollError(
                .data, "\(display): the workbook's XML cannot be read (\(PersonalIdentity.redact(e.message))): it is damaged — export it again")
        }
    }

    /// Streams the sheet's rows in order; `body` returns false to stop.
    func rows(_ body: (XLSXRow) throws -> Bool) throws {
        let reader: XMLRecordReader
        do {
            reader = try XMLRecordReader(path: sheetPath, recordElement: "row", fieldPaths: ["@r", "c/@r", "c/@t", "c/v", "c/is/t", "c/is/r/t", "c"])
        } catch let e as ReaderError {
            throw RamkollError(
                .data, "\(display): the sheet cannot be read (\(PersonalIdentity.redact(e.message))): the workbook is damaged — export it again")
        }
        var last = 0
        while true {
            let record: XMLRecord?
            do { record = try reader.next() } catch let e as ReaderError {
                throw RamkollError(
                    .data,
                    "\(display): the sheet breaks after row \(last) (\(PersonalIdentity.redact(e.message))): the workbook is damaged — export it again"
                )
            }
            guard let record else { return }
            let number = record.first("@r").flatMap { Int($0) } ?? last + 1
            last = number
            var cells: [(Int, XLSXCell)] = []
            var ref: String?, type = "", v = "", inline = "", column = -1
            record.inOrder { path, value in
                switch path {
                case "c/@r": ref = value
                case "c/@t": type = value
                case "c/v": v = value
                case "c/is/t", "c/is/r/t": inline += value
                case "c":
                    column = ref.flatMap(XLSXWorkbook.column) ?? column + 1
                    cells.append((column, cell(type: type, v: v, inline: inline)))
                    ref = nil; type = ""; v = ""; inline = ""
                default: break
                }
            }
            guard try body(XLSXRow(number: number, cells: cells)) else { return }
        }
    }

    private func cell(type: String, v: String, inline: String) -> XLSXCell {
        switch type {
        case "s": return XLSXCell(kind: .text, value: Int(v).flatMap { $0 >= 0 && $0 < strings.count ? strings[$0] : nil } ?? "")
        case "inlineStr": return XLSXCell(kind: .text, value: inline)
        case "str", "d": return XLSXCell(kind: .text, value: v)
        case "b": return XLSXCell(kind: .boolean, value: v)
        case "e": return XLSXCell(kind: .error, value: v)
        default: return XLSXCell(kind: v.isEmpty ? .text : .number, value: v)
        }
    }

    /// "AB12" → 27 (0-based column).
    static func column(_ ref: String) -> Int? {
        var n = 0, any = false
        for u in ref.utf8 {
            guard u >= 65 && u <= 90 else { break }
            n = n * 26 + Int(u - 64); any = true
            if n > 16_384 { return nil }
        }
        return any ? n - 1 : nil
    }

    /// The day of an Excel date number (its whole part; the time of day is dropped).
    func day(serial text: String) -> Day? {
        guard let whole = Int(text.split(separator: ".").first ?? ""), whole > 0, whole < 2_958_466 else { return nil }
        // 1900 system: 1 = 1900-01-01, with Lotus's 1900-02-29 (60) that never was; 1904: 0 = 1904-01-01.
        let base = date1904 ? Day(year: 1904, month: 1, day: 1)!.ordinal : Day(year: 1899, month: 12, day: 31)!.ordinal - (whole > 60 ? 1 : 0)
        return Day(ordinal: base + whole)
    }
}

private struct XLSXPartTooLarge: Error {}

/// A number cell's öre, exactly: Excel stores the shortest decimal that reads back as its double,
/// so a sum it computed can carry binary noise far past the öre (`1234.5600000000001`). Digits
/// past the öre that are noise (six or more 0s or 9s right after the öre) are rounded away; any
/// other fraction of an öre is not money and is rejected.
enum XLSXNumber {
    struct Problem: Error { let reason: String }

    static func ore(_ text: String) -> Result<Ore, Problem> {
        var bytes = Array(text.utf8)[...]
        var negative = false
        if bytes.first == UInt8(ascii: "-") {
            negative = true; bytes = bytes.dropFirst()
        } else if bytes.first == UInt8(ascii: "+") {
            bytes = bytes.dropFirst()
        }
        var exponent = 0
        if let e = bytes.firstIndex(where: { $0 == UInt8(ascii: "E") || $0 == UInt8(ascii: "e") }) {
            guard let x = Int(String(decoding: bytes[(e + 1)...], as: UTF8.self)), abs(x) < 40 else {
                return .failure(Problem(reason: "not a number Ramkoll can read"))
            }
            exponent = x
            bytes = bytes[..<e]
        }
        var digits: [UInt8] = []
        var scale = 0, seenPoint = false
        for b in bytes {
            if b == UInt8(ascii: ".") && !seenPoint { seenPoint = true; continue }
            guard b >= 48 && b <= 57 else { return .failure(Problem(reason: "not a number Ramkoll can read")) }
            digits.append(b - 48)
            if seenPoint { scale += 1 }
        }
        guard !digits.isEmpty else { return .failure(Problem(reason: "not a number Ramkoll can read")) }
        // value = digits × 10^(exponent − scale); in öre: × 10^(exponent − scale + 2).
        let shift = exponent - scale + 2
        var whole = digits, rest: [UInt8] = []
        if shift >= 0 {
            whole += repeatElement(0, count: shift)
        } else {
            let k = -shift
            if k >= whole.count {
                rest = Array(repeating: 0, count: k - whole.count) + whole; whole = []
            } else {
                rest = Array(whole[(whole.count - k)...]); whole = Array(whole[..<(whole.count - k)])
            }
        }
        var roundUp = false
        if !rest.isEmpty, rest.contains(where: { $0 != 0 }) {
            let head = rest.prefix(6)
            if rest.count >= 6, head.allSatisfy({ $0 == 0 }) {
                roundUp = false
            } else if rest.count >= 6, head.allSatisfy({ $0 == 9 }) {
                roundUp = true
            } else {
                return .failure(Problem(reason: "has a fraction of an öre (\(text)); an amount has at most 2 decimals"))
            }
        }
        var value: Int64 = 0
        for d in whole {
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(d))
            guard !o1, !o2, a <= Ore.rowLimit else { return .failure(Problem(reason: Ore.amountLimitReason)) }
            value = a
        }
        if roundUp { value += 1 }
        guard value <= Ore.rowLimit else { return .failure(Problem(reason: Ore.amountLimitReason)) }
        return .success(Ore(negative ? -value : value))
    }
}

extension DateLayout {
    /// A day written in this layout (a period layout writes its month).
    func text(of d: Day) -> String {
        let y = String(d.year), m = d.month < 10 ? "0\(d.month)" : String(d.month), dd = d.day < 10 ? "0\(d.day)" : String(d.day)
        switch self {
        case .isoDate: return "\(y)-\(m)-\(dd)"
        case .compactDate: return "\(y)\(m)\(dd)"
        case .compactPeriod: return "\(y)\(m)"
        case .isoPeriod: return "\(y)-\(m)"
        }
    }
}
