import Foundation
import RamkollModel
import RamkollReaders

/// The whole-file encoding check of one file, run on another thread.
final class EncodingCheckTask: @unchecked Sendable {
    let path: String, encoding: TextEncoding
    /// Set by `run()`; read after waiting for it.
    var result: Result<(line: Int, message: String)?, Error> = .success(nil)
    init(path: String, encoding: TextEncoding) { self.path = path; self.encoding = encoding }
    func run() { result = Result { try EncodingCheck.problem(path: path, encoding: encoding) } }
}

/// Reads a ledger file's header line and maps the profile's columns to positions.
enum LedgerHeader {
    struct Info {
        let index: [LedgerField: Int]; let columns: Int; let hadBOM: Bool; let totalMarkerColumn: Int?
        /// The header's line (after any title lines).
        var line = 1
        /// Column positions by `LedgerField.ordinal` (an array: looked up per row, not a dictionary).
        var positions: [Int?] {
            var position = [Int?](repeating: nil, count: LedgerField.allCases.count)
            for (f, i) in index { position[f.ordinal] = i }
            return position
        }
    }

    /// The header line's names, after the profile's skip_lines, decoded with its encoding.
    static func names(_ reader: CSVReader, display: String, profile p: LedgerCSVProfile) throws -> (names: [String], line: Int) {
        for _ in 0..<p.skipLines { _ = try reader.next() }
        guard try reader.next() else {
            throw RamkollError(.data, "\(display): file is empty; expected a header line with \(p.columns.values.sorted().joined(separator: ", "))")
        }
        var names: [String] = []
        for i in 0..<reader.fieldCount {
            guard let s = p.encoding.decode(reader.bytes(i)) else {
                throw RamkollError(
                    .data,
                    "\(display):\(reader.line): header is not valid \(p.encoding.rawValue) — the file is probably Windows-1252; set encoding in profile \(p.file)"
                )
            }
            names.append(s.trimmingCharacters(in: " \t"))
        }
        return (names, reader.line)
    }

    /// Positions of the profile's columns in a header, and the columns it lacks.
    static func match(_ names: [String], profile p: LedgerCSVProfile) -> (index: [LedgerField: Int], totalMarker: Int?, missing: [String]) {
        var index: [LedgerField: Int] = [:]
        var missing: [String] = []
        for (f, h) in p.columns.sorted(by: { $0.value < $1.value }) {
            if let i = names.firstIndex(of: h) { index[f] = i } else { missing.append("\"\(h)\" (\(f.rawValue))") }
        }
        var totalMarker: Int?
        if let t = p.totalRow {
            totalMarker = names.firstIndex(of: t.column)
            if totalMarker == nil { missing.append("\"\(t.column)\" (total_row)") }
        }
        return (index, totalMarker, missing)
    }

    /// The header as a message quotes it: personnummer redacted, at most 200 characters (a file
    /// that is not an export can have a "header" of megabytes).
    static func quotedHeader(_ names: [String], profile p: LedgerCSVProfile) -> String {
        let h = PersonalIdentity.redact(names.joined(separator: String(UnicodeScalar(p.delimiter))))
        return "\"" + (h.count > 200 ? String(h.prefix(200)) + "…\" (\(h.utf8.count) bytes)" : h + "\"")
    }

    static func read(_ reader: CSVReader, display: String, profile p: LedgerCSVProfile) throws -> Info {
        let (names, line) = try names(reader, display: display, profile: p)
        let (index, totalMarker, missing) = match(names, profile: p)
        if !missing.isEmpty {
            throw RamkollError(
                .data,
                "\(display):\(line): header has no column \(missing.joined(separator: ", ")); the header is \(quotedHeader(names, profile: p))"
                    + (delimiterHint(names, profile: p) ?? " — is this the right profile (\(p.file))?"))
        }
        var info = Info(index: index, columns: names.count, hadBOM: reader.hadBOM, totalMarkerColumn: totalMarker)
        info.line = line
        return info
    }

    /// When the header is one field that another separator would split into the profile's
    /// columns, says so: a file saved with "," or a tab instead of the profile's delimiter.
    static func delimiterHint(_ names: [String], profile p: LedgerCSVProfile) -> String? {
        guard names.count == 1, let only = names.first else { return nil }
        let wanted = Set(p.columns.values)
        for (c, name) in [(",", "\",\""), ("\t", "a tab"), (";", "\";\""), ("|", "\"|\"")] where UInt8(ascii: c.unicodeScalars.first!) != p.delimiter
        {
            let parts = only.split(separator: Character(c), omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: CharacterSet(charactersIn: " \t\""))
            }
            if parts.count > 1, wanted.isSubset(of: Set(parts)) || Set(parts).intersection(wanted).count * 2 > wanted.count {
                return
                    " — the header looks separated by \(name), but profile \(p.file) says delimiter \"\(String(UnicodeScalar(p.delimiter)))\": set delimiter in the profile, or export the file with \"\(String(UnicodeScalar(p.delimiter)))\""
            }
        }
        return nil
    }

    static func check(path: String, display: String, profile: LedgerCSVProfile) throws -> Info {
        let r = try CSVReader(path: path, delimiter: profile.delimiter)
        return try read(r, display: display, profile: profile)
    }
}
