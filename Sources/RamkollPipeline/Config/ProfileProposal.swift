import Foundation
import RamkollModel
import RamkollReaders

/// A ledger CSV profile proposed from an export's first lines (`ramkoll init --from-export FILE`):
/// the encoding, the delimiter, title lines before the header, the decimal mark, the date and
/// period layouts and which column is which, each with the evidence it was taken from. It is a
/// proposal for the controller to confirm: what the lines do not show is left as a comment.
public struct ProfileProposal: Sendable {
    public var encoding: TextEncoding
    public var delimiter: UInt8
    public var skipLines: Int
    public var header: [String]
    public var sample: [String]
    public var decimal: UInt8?
    public var dateLayout: DateLayout?
    public var periodLayout: DateLayout?
    /// Ramkoll column (voucher, booking_date, …) → the export's header name, in Ramkoll's order.
    public var columns: [(role: String, header: String)]
    public var accountWithText: Bool
    /// debit-positive when costs (accounts 4–7 in Kommun-Bas) are mostly positive in a signed
    /// amount column, credit-positive when mostly negative; nil when that cannot be told.
    public var sign: String?
    public var totalRow: (column: String, startsWith: String)?
    /// What the proposal could not decide, one line each.
    public var notes: [String]

    /// How many bytes and rows are looked at: the header and the rows after it.
    static let bytesRead = 256 * 1024
    static let rowsRead = 200

    /// The Ramkoll columns a ledger profile maps, with the header names (lowercased, without
    /// spaces, dots and underscores) that usually carry them in Swedish exports.
    static let columnNames: [(role: String, names: [String])] = [
        ("voucher", ["verifikation", "verifikationsnummer", "vernr", "verifikationsnr", "bilagsnr", "bilagsnummer", "bilaga", "voucher"]),
        ("booking_date", ["bokföringsdatum", "bokfdatum", "bokfördatum", "transaktionsdatum", "datum", "date", "bookingdate"]),
        ("period", ["period", "redovisningsperiod", "bokföringsperiod", "perio"]),
        ("account", ["konto", "kontonr", "kontonummer", "account"]),
        ("ansvar", ["ansvar", "ansvarskod", "ansv", "kostnadsställe", "kst", "ansvarsområde"]),
        ("verksamhet", ["verksamhet", "vht", "verks", "verksamhetskod"]),
        ("aktivitet", ["aktivitet", "akt", "aktivitetskod"]),
        ("projekt", ["projekt", "proj", "projektnr"]),
        ("motpart", ["motpart", "motp", "motpartskod"]),
        ("amount", ["belopp", "beloppsek", "beloppkr", "amount", "summa", "netto"]),
        ("debit", ["debet", "debit"]),
        ("credit", ["kredit", "credit"]),
        ("text", ["text", "beskrivning", "transaktionstext", "vertext", "verifikationstext", "description"]),
    ]

    /// Reads the first lines of `path` and proposes a profile; nil with a reason when the file is
    /// not a delimited text file Ramkoll could read.
    public static func propose(path: String) throws -> ProfileProposal {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw RamkollError(.input, "\(path) cannot be read")
        }
        defer { try? handle.close() }
        var bytes = [UInt8]((try? handle.read(upToCount: bytesRead)) ?? Data())
        let truncated = bytes.count == bytesRead  // the file goes on beyond the lines read
        guard !bytes.isEmpty else { throw RamkollError(.data, "\(path) is empty; a profile is proposed from a header and some rows") }
        if bytes.contains(0) { throw RamkollError(.data, "\(path) is not a text file (it holds zero bytes); for Excel use kind: ledger-xlsx") }
        var notes: [String] = []

        // Encoding: a BOM or valid UTF-8 (an export cut off inside a character at the end of the
        // sample is still UTF-8), else Windows-1252 (Excel's "CSV (semikolonavgränsad)").
        var encoding = TextEncoding.utf8
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            bytes.removeFirst(3)
        } else {
            var probe = bytes[...]
            var trimmed = 0
            while !TextEncoding.isValidUTF8(probe), trimmed < 3, !probe.isEmpty {
                probe = probe.dropLast()
                trimmed += 1
            }
            if !TextEncoding.isValidUTF8(probe) {
                encoding = .windows1252
            } else if bytes.allSatisfy({ $0 < 0x80 }) {
                notes.append("the lines read are plain ASCII: utf-8 and windows-1252 read them alike; check a row with å, ä or ö")
            }
        }
        guard let text = encoding.decode(truncated ? bytes[..<(bytes.lastIndex(of: 0x0A) ?? bytes.count)] : bytes[...]) else {
            throw RamkollError(.data, "\(path) could not be read as \(encoding.rawValue)")
        }
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map {
            String($0.hasSuffix("\r") ? $0.dropLast() : $0)
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard lines.count >= 2 else { throw RamkollError(.data, "\(path) has fewer than two lines; a profile needs a header and rows") }
        let window = Array(lines.prefix(rowsRead + 10))

        // Delimiter: the candidate that splits the most lines into the same number (> 1) of fields.
        var best: (delimiter: Character, fields: Int, lines: Int)? = nil
        for d in [";", "\t", ",", "|"] as [Character] {
            var counts: [Int: Int] = [:]
            for l in window where !l.isEmpty { counts[split(l, d).count, default: 0] += 1 }
            guard let (fields, n) = counts.filter({ $0.key > 1 }).max(by: { ($0.value, $0.key) < ($1.value, $1.key) }) else { continue }
            if best == nil || n > best!.lines || (n == best!.lines && fields > best!.fields) { best = (d, fields, n) }
        }
        guard let best else {
            throw RamkollError(.data, "\(path): no delimiter (; tab , |) splits its lines into columns")
        }
        let delimiter = best.delimiter
        // Title lines before the header: those that do not have the table's number of fields, or
        // whose fields are all empty but the first (a title saved from Excel: "Kontoutdrag;;;;").
        var skip = 0
        while skip < window.count - 1 {
            let f = split(window[skip], delimiter)
            if f.count == best.fields && f.filter({ !$0.isEmpty }).count > 1 { break }
            skip += 1
        }
        let header = split(window[skip], delimiter)
        var rows = window.dropFirst(skip + 1).map { split($0, delimiter) }.filter { $0.count == header.count }
        // A closing sum row ("Summa;;…;<total>"): recognised so that it is not read as a ledger row.
        // It is the file's last line, which a long export has beyond the lines read: read its tail.
        var lastLine = lines.last
        if truncated, let size = try? handle.seekToEnd(), size > UInt64(bytesRead) {
            try? handle.seek(toOffset: size - 4096)
            let tail = [UInt8]((try? handle.read(upToCount: 4096)) ?? Data())
            let tailLines = (encoding.decode(tail) ?? "").split(whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            lastLine = tailLines.last.map { String($0.hasSuffix("\r") ? $0.dropLast() : $0) }
        }
        var totalRow: (String, String)? = nil
        if let last = lastLine.map({ split($0, delimiter) }), let first = last.first,
            let word = ["Summa", "Totalt", "Total"].first(where: { first.hasPrefix($0) })
        {
            totalRow = (header[0], word)
            rows.removeAll { $0 == last }
        }

        // Columns by header name.
        func key(_ s: String) -> String {
            s.lowercased().filter { !" ._-".contains($0) }
        }
        var columns: [(String, String)] = []
        var used = Set<Int>()
        for (role, names) in columnNames {
            if let i = header.indices.first(where: { !used.contains($0) && names.contains(key(header[$0])) }) {
                columns.append((role, header[i]))
                used.insert(i)
            }
        }
        let columnIndex = Dictionary(header.enumerated().map { ($0.element, $0.offset) }, uniquingKeysWith: { a, _ in a })
        func values(_ name: String) -> [String] {
            guard let i = columnIndex[name] else { return [] }
            return rows.map { $0[i].trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        let roles = Dictionary(columns.map { ($0.0, $0.1) }, uniquingKeysWith: { a, _ in a })

        // Dates and periods: the layout every value of the column has.
        func layout(of name: String?, periods: Bool) -> DateLayout? {
            guard let name else { return nil }
            let v = values(name)
            guard !v.isEmpty else { return nil }
            return DateLayout.allCases.first { l in
                l.isPeriodOnly == periods && v.allSatisfy { s in l.parse(Array(s.utf8)) != nil && s.utf8.count == l.rawValue.utf8.count }
            }
        }
        let dateLayout = layout(of: roles["booking_date"], periods: false)
        if roles["booking_date"] != nil && dateLayout == nil {
            notes.append("the dates in \(roles["booking_date"]!) have no layout Ramkoll reads (YYYY-MM-DD, YYYYMMDD): set date_layout by hand")
        }
        let periodLayout = layout(of: roles["period"], periods: true)
        if roles["period"] != nil && periodLayout == nil {
            notes.append("the periods in \(roles["period"]!) have no layout Ramkoll reads (YYYYMM, YYYY-MM): set period_layout by hand")
        }

        // The decimal mark: what stands before the last two digits of the amounts.
        var decimal: UInt8? = nil
        let amountColumns = ["amount", "debit", "credit"].compactMap { roles[$0] }
        let amounts = amountColumns.flatMap(values)
        let comma = amounts.filter { $0.range(of: #",\d{1,2}$"#, options: .regularExpression) != nil }.count
        let point = amounts.filter { $0.range(of: #"\.\d{1,2}$"#, options: .regularExpression) != nil }.count
        if comma > 0 && point == 0 {
            decimal = UInt8(ascii: ",")
        } else if point > 0 && comma == 0 {
            decimal = UInt8(ascii: ".")
        } else if comma == 0 && point == 0 && !amounts.isEmpty {
            notes.append("the amounts have no decimals in the rows read: decimal is Sweden's usual comma; confirm it")
            decimal = delimiter == "," ? UInt8(ascii: ".") : UInt8(ascii: ",")
        } else if !amounts.isEmpty {
            notes.append("the amounts use both , and . before their last digits: set decimal by hand")
        }
        if amountColumns.isEmpty {
            notes.append("no column is named as an amount (Belopp, or Debet and Kredit): add amount (or debit and credit) under columns")
        }
        if roles["account"] == nil { notes.append("no column is named as the account (Konto): add account under columns") }
        if roles["ansvar"] == nil { notes.append("no column is named as the ansvar (Ansvar, Kst): add ansvar under columns") }
        if roles["booking_date"] == nil && roles["period"] == nil {
            notes.append("no column is named as a date or a period: add booking_date or period under columns")
        }
        // An account written with its name in one cell ("50110 Månadslön").
        let accountWithText =
            roles["account"].map { a in
                let v = values(a)
                return !v.isEmpty && v.allSatisfy { $0.range(of: #"^\d+\s+\S"#, options: .regularExpression) != nil }
            } ?? false
        // The sign of a single amount column: costs (Kommun-Bas classes 4–7) are debits.
        var sign: String? = nil
        if let a = roles["amount"], let k = roles["account"], let ai = columnIndex[a], let ki = columnIndex[k] {
            var positive = 0, negative = 0
            for r in rows {
                let account = r[ki].trimmingCharacters(in: .whitespaces)
                guard let c = account.first, "4567".contains(c) else { continue }
                let amount = r[ai].trimmingCharacters(in: .whitespaces)
                if amount.hasPrefix("-") || amount.hasSuffix("-") { negative += 1 } else if !amount.isEmpty { positive += 1 }
            }
            if positive > 2 * negative {
                sign = "debit-positive"
            } else if negative > 2 * positive {
                sign = "credit-positive"
            } else {
                notes.append("the sign of \(a) could not be told from the cost accounts (4–7) in the rows read: set sign by hand")
            }
        }
        let unknown = header.indices.filter { !used.contains($0) && !header[$0].isEmpty }.map { header[$0] }
        if !unknown.isEmpty { notes.append("not read (no Ramkoll column by that name): \(unknown.joined(separator: ", "))") }

        return ProfileProposal(
            encoding: encoding, delimiter: Array(String(delimiter).utf8)[0], skipLines: skip, header: header,
            sample: rows.first ?? [], decimal: decimal, dateLayout: dateLayout, periodLayout: periodLayout,
            columns: columns, accountWithText: accountWithText, sign: sign, totalRow: totalRow, notes: notes)
    }

    /// Splits a line on the delimiter outside double quotes, removing the quotes.
    static func split(_ line: String, _ d: Character) -> [String] {
        var fields: [String] = [], current = "", quoted = false
        var chars = line.makeIterator()
        var pending: Character? = nil
        while let c = pending ?? chars.next() {
            pending = nil
            if c == "\"" {
                if quoted, let n = chars.next() {
                    if n == "\"" { current.append("\"") } else { quoted = false; pending = n }
                } else if quoted {
                    quoted = false
                } else if current.isEmpty {
                    quoted = true
                } else {
                    current.append(c)
                }
            } else if c == d && !quoted {
                fields.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        fields.append(current)
        return fields
    }

    /// The profile as YAML, with the evidence as comments; `file` names the export in the comments.
    public func yaml(file: String) -> String {
        let d = delimiter == 0x09 ? "\\t" : String(UnicodeScalar(delimiter))
        func q(_ s: String) -> String {
            s.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-" }) && !s.isEmpty && !s.first!.isNumber
                ? s : "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        var out = """
            # Proposed by `ramkoll init --from-export` from \(file): check each value against the export,
            # then name this file as the profile of the source in the pipeline (`ramkoll check` reads it).
            # Header:  \(PersonalIdentity.redact(header.joined(separator: d == "\\t" ? "\t" : d)))
            # Sample:  \(PersonalIdentity.redact(sample.joined(separator: d == "\\t" ? "\t" : d)))

            """
        for n in notes { out += "# TO CONFIRM: \(n)\n" }
        out += "kind: ledger-csv\n"
        out += "encoding: \(encoding.rawValue)\n"
        out += "delimiter: \"\(d)\"\n"
        if let decimal { out += "decimal: \"\(String(UnicodeScalar(decimal)))\"\n" }
        if let dateLayout { out += "date_layout: \(dateLayout.rawValue)\n" }
        if let periodLayout { out += "period_layout: \(periodLayout.rawValue)\n" }
        if skipLines > 0 { out += "skip_lines: \(skipLines)             # title lines before the header\n" }
        if accountWithText { out += "account_with_text: true       # the account cell holds its name after the number\n" }
        if let sign { out += "sign: \(sign)\n" }
        out += "columns:\n"
        for (role, name) in columns { out += "  \(role): \(q(name))\n" }
        if let t = totalRow {
            out += "# The export ends with a sum row: the ledger's own total, verified against the rows.\n"
            out += "total_row:\n  column: \(q(t.column))\n  starts_with: \(q(t.startsWith))\n"
        }
        return out
    }
}
