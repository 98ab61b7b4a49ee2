import RamkollModel
import RamkollReaders

/// A small `;`-separated UTF-8 data table (mapping tables, budgets). Lines whose first field starts
/// with `#` are comments; the first other line is the header. Rows keep their line numbers.
struct DataTable {
    struct Row {
        let line: Int
        let values: [String: String]
        subscript(_ k: String) -> String { values[k] ?? "" }
    }
    let file: String
    let header: [String]
    let rows: [Row]

    static func read(path: String, display: String, required: [String], diagnostics: inout [Diagnostic]) -> DataTable? {
        let reader: CSVReader
        do { reader = try CSVReader(path: path, delimiter: UInt8(ascii: ";")) } catch {
            diagnostics.append(Diagnostic(.error, file: display, line: nil, "cannot open file")); return nil
        }
        var header: [String]?
        var rows: [Row] = []
        do {
            while try reader.next() {
                var fields: [String] = []
                for i in 0..<reader.fieldCount {
                    guard let s = TextEncoding.utf8.decode(reader.bytes(i)) else {
                        diagnostics.append(Diagnostic(.error, file: display, line: reader.line, "not valid UTF-8; save mapping tables as UTF-8"))
                        return nil
                    }
                    fields.append(s.trimmingCharacters(in: " \t"))
                }
                if fields.first?.hasPrefix("#") == true { continue }
                if let reason = reader.recordError {
                    diagnostics.append(Diagnostic(.error, file: display, line: reader.line, reason))
                    continue
                }
                guard let h = header else {
                    header = fields
                    for r in required where !fields.contains(r) {
                        diagnostics.append(
                            Diagnostic(
                                .error, file: display, line: reader.line, field: r,
                                "header has no column \"\(r)\"; expected columns \(required.joined(separator: ";"))"))
                    }
                    continue
                }
                if fields.count != h.count {
                    diagnostics.append(
                        Diagnostic(
                            .error, file: display, line: reader.line,
                            "has \(fields.count) fields, the header has \(h.count)"))
                    continue
                }
                var v: [String: String] = [:]
                for (k, f) in zip(h, fields) { v[k] = f }
                rows.append(Row(line: reader.line, values: v))
            }
        } catch {
            diagnostics.append(Diagnostic(.error, file: display, line: nil, "\(error)"))
            return nil
        }
        guard let h = header else {
            diagnostics.append(Diagnostic(.error, file: display, line: nil, "file has no header line"))
            return nil
        }
        return DataTable(file: display, header: h, rows: rows)
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        // Nothing to trim (the common case): no set, no copy.
        guard let first = utf8.first, let last = utf8.last else { return self }
        if set == " \t" && first != 0x20 && first != 0x09 && last != 0x20 && last != 0x09 { return self }
        let chars = Set(set)
        var s = Substring(self)
        while let f = s.first, chars.contains(f) { s.removeFirst() }
        while let l = s.last, chars.contains(l) { s.removeLast() }
        return String(s)
    }
}
