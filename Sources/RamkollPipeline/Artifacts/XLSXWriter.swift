import Foundation
import ZIPFoundation

/// A minimal Office Open XML workbook (one sheet per table), written with ZIPFoundation, laid
/// out to be opened and printed as it is: a title and subtitle above the header, column widths
/// from the content, the header frozen and repeated on every printed page, sum rows bold and varav
/// rows indented, A4 fitted to the page's width (landscape when the table is wide), page numbers
/// in the footer. Numbers are stored as numbers in the table's unit (tkr whole, mnkr with one
/// decimal), text as inline strings; the archive is reproducible (fixed entry dates) and written
/// atomically.
struct XLSXWriter {
    enum Cell {
        case text(String)
        /// A whole number shown with thousands grouping (tkr).
        case integer(Int64)
        /// A decimal number given as text with a point (e.g. a percentage "-60.0"), one decimal shown.
        case decimal(String)
        /// Tenths of a mnkr (rounded once from öre), shown as mnkr with one decimal.
        case mnkr(Int64)
        /// Hundredths of a mnkr, shown as mnkr with two decimals.
        case mnkr2(Int64)
        /// A number shown as it is, without grouping (a level, a count).
        case plain(Int64)
    }

    enum RowStyle { case normal, sum, varav }

    struct Sheet {
        let name: String
        let header: [String]
        let rows: [[Cell]]
        /// Above the header: the table's title and a line saying what it covers.
        var title: String? = nil
        var subtitle: String? = nil
        /// Per row (missing: normal).
        var styles: [RowStyle] = []
        /// The printed page's footer, left (page numbers go right).
        var footer: String? = nil
        /// Several small tables on one sheet, one under the other (each with its title and header):
        /// used instead of `header`/`rows` when not empty.
        var blocks: [Block] = []

        init(
            name: String, header: [String], rows: [[Cell]], title: String? = nil, subtitle: String? = nil, styles: [RowStyle] = [],
            footer: String? = nil
        ) {
            self.name = name; self.header = header; self.rows = rows; self.title = title; self.subtitle = subtitle
            self.styles = styles; self.footer = footer
        }

        /// The header's row number (1-based): below the title rows.
        var headerRow: Int { title == nil ? 1 : (subtitle == nil ? 3 : 4) }

        /// A sheet of stacked tables.
        init(name: String, title: String, subtitle: String?, blocks: [Block], footer: String?) {
            self.init(name: name, header: [], rows: [], title: title, subtitle: subtitle, footer: footer)
            self.blocks = blocks
        }
    }

    struct Block {
        let title: String
        let header: [String]
        let rows: [[Cell]]
    }

    /// A table of text as the `.txt` deliverables set it (first row the header): whole numbers
    /// written the Swedish way ("-1 234") become numbers; everything else stays text.
    static func cells(ofText rows: [[String]]) -> [[Cell]] {
        rows.map { r in r.enumerated().map { i, v in i > 0 ? (swedishWhole(v).map(Cell.integer) ?? .text(v)) : .text(v) } }
    }

    /// "-1 234" (groups of three after the first, a plain space between) → -1234; anything else nil.
    static func swedishWhole(_ v: String) -> Int64? {
        var body = Substring(v)
        var negative = false
        if body.first == "-" || body.first == "\u{2212}" { negative = true; body = body.dropFirst() }
        let groups = body.split(separator: " ", omittingEmptySubsequences: false)
        guard let first = groups.first, (1...3).contains(first.count), groups.dropFirst().allSatisfy({ $0.count == 3 }),
            groups.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }), let n = Int64(groups.joined())
        else { return nil }
        return negative ? -n : n
    }

    static func escape(_ s: String) -> String {
        var out = ""
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default:
                // XML 1.0 forbids most control characters; a ledger text may hold one.
                if ch.value < 0x20 && ch != "\t" && ch != "\n" && ch != "\r" { out += " " } else { out.unicodeScalars.append(ch) }
            }
        }
        return out
    }

    static func column(_ i: Int) -> String {
        var n = i + 1, s = ""
        while n > 0 { let r = (n - 1) % 26; s = String(UnicodeScalar(65 + r)!) + s; n = (n - 1) / 26 }
        return s
    }

    /// Cell styles (indices into styles.xml's cellXfs): base kind × row style.
    enum Style {
        static let header = 3, title = 10, subtitle = 11, numericHeader = 14
        static func of(_ cell: Cell, _ row: RowStyle) -> Int {
            switch (cell, row) {
            case (.text, .normal): return 0
            case (.text, .sum): return 4
            case (.text, .varav): return 7
            case (.integer, .normal): return 1
            case (.integer, .sum): return 5
            case (.integer, .varav): return 8
            case (.mnkr, .normal): return 13
            case (.mnkr, .sum): return 6
            case (.mnkr, .varav): return 9
            case (.mnkr2, .normal): return 15
            case (.mnkr2, .sum): return 16
            case (.mnkr2, .varav): return 17
            case (.decimal, _): return 2
            case (.plain, _): return 12
            }
        }
    }

    /// The characters a cell shows (for the column's width).
    static func shownWidth(_ cell: Cell) -> Int {
        func grouped(_ v: Int64) -> Int {
            let digits = String(v.magnitude).count
            return digits + (digits - 1) / 3 + (v < 0 ? 1 : 0)
        }
        switch cell {
        case .text(let s): return s.count
        case .integer(let v): return grouped(v)
        case .mnkr(let t): return grouped(t / 10) + 2 + (t < 0 && t > -10 ? 1 : 0)
        case .mnkr2(let t): return grouped(t / 100) + 3 + (t < 0 && t > -100 ? 1 : 0)
        case .decimal(let s): return s.count
        case .plain(let v): return String(v).count
        }
    }

    /// Column widths in characters: the widest cell; a header of up to 14 characters on one line,
    /// a longer one wrapped at a width of at most 18.
    static func widths(_ sheet: Sheet) -> [Int] {
        var w = sheet.header.map { h in min(18, max(h.count <= 14 ? h.count : 0, h.split(separator: " ").map(\.count).max() ?? 0)) }
        for row in sheet.rows {
            for (i, c) in row.enumerated() {
                if i >= w.count { w.append(0) }
                w[i] = max(w[i], shownWidth(c))
            }
        }
        return w.map { min(60, max(8, $0 + 2)) }
    }

    /// A text cell (inline string).
    static func textCell(_ ref: String, _ s: String, style: Int) -> String {
        "<c r=\"\(ref)\" t=\"inlineStr\"\(style == 0 ? "" : " s=\"\(style)\"")><is><t xml:space=\"preserve\">\(escape(s))</t></is></c>"
    }

    /// Any cell in its row style.
    static func cellXML(_ ref: String, _ cell: Cell, _ row: RowStyle) -> String {
        let style = Style.of(cell, row)
        let s = style == 0 ? "" : " s=\"\(style)\""
        switch cell {
        case .text(let v): return textCell(ref, v, style: style)
        case .integer(let v), .plain(let v): return "<c r=\"\(ref)\"\(s)><v>\(v)</v></c>"
        case .mnkr(let t): return "<c r=\"\(ref)\"\(s)><v>\(t < 0 ? "-" : "")\(t.magnitude / 10).\(t.magnitude % 10)</v></c>"
        case .mnkr2(let t):
            let cents = t.magnitude % 100
            return "<c r=\"\(ref)\"\(s)><v>\(t < 0 ? "-" : "")\(t.magnitude / 100).\(cents < 10 ? "0" : "")\(cents)</v></c>"
        case .decimal(let v): return "<c r=\"\(ref)\"\(s)><v>\(escape(v))</v></c>"
        }
    }

    /// A sheet of stacked tables: title and subtitle, then each table's title (bold), header and rows.
    static func stackedXML(_ sheet: Sheet) -> String {
        var w: [Int] = []
        for b in sheet.blocks {
            let bw = widths(Sheet(name: "", header: b.header, rows: b.rows))
            for (i, v) in bw.enumerated() { if i < w.count { w[i] = max(w[i], v) } else { w.append(v) } }
        }
        var x = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"# + "\n"
        x +=
            #"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>"#
        x +=
            "<cols>" + w.enumerated().map { #"<col min="\#($0 + 1)" max="\#($0 + 1)" width="\#($1)" customWidth="1"/>"# }.joined()
            + "</cols><sheetData>"
        var r = 1
        x += "<row r=\"1\">" + textCell("A1", sheet.title ?? sheet.name, style: Style.title) + "</row>"
        if let sub = sheet.subtitle { r = 2; x += "<row r=\"2\">" + textCell("A2", sub, style: Style.subtitle) + "</row>" }
        for b in sheet.blocks {
            r += 2
            x += "<row r=\"\(r)\">" + textCell("A\(r)", b.title, style: 4) + "</row>"
            r += 1
            let headerLines = zip(b.header, w).map { lines($0, width: $1) }.max() ?? 1
            x +=
                "<row r=\"\(r)\" ht=\"\(3 + 15 * headerLines)\" customHeight=\"1\">"
                + b.header.enumerated().map { i, name in
                    let numeric = b.rows.contains { i < $0.count && { if case .text = $0 { return false } else { return true } }($0[i]) }
                    return textCell(column(i) + String(r), name, style: numeric ? Style.numericHeader : Style.header)
                }.joined() + "</row>"
            for row in b.rows {
                r += 1
                x += "<row r=\"\(r)\">"
                for (c, cell) in row.enumerated() { x += cellXML(column(c) + String(r), cell, .normal) }
                x += "</row>"
            }
        }
        x += "</sheetData>" + pageSetup(widths: w, footer: sheet.footer)
        return x + "</worksheet>"
    }

    /// A4 (paperSize 9), fitted to one page's width, landscape when the columns are wide; the
    /// footer on the left, page numbers on the right.
    static func pageSetup(widths: [Int], footer: String?) -> String {
        #"<pageMargins left="0.5" right="0.5" top="0.6" bottom="0.6" header="0.3" footer="0.3"/>"#
            + #"<pageSetup paperSize="9" orientation="\#(widths.reduce(0, +) > 95 ? "landscape" : "portrait")" fitToWidth="1" fitToHeight="0"/>"#
            + "<headerFooter><oddFooter>" + escape("&L" + (footer ?? "").replacingOccurrences(of: "&", with: "&&") + "&RSida &P av &N")
            + "</oddFooter></headerFooter>"
    }

    /// The lines a header takes when its words wrap at `width` characters.
    static func lines(_ text: String, width: Int) -> Int {
        var lines = 1, used = 0
        for word in text.split(separator: " ") {
            if used > 0 && used + 1 + word.count > width - 1 { lines += 1; used = word.count } else { used += (used > 0 ? 1 : 0) + word.count }
        }
        return lines
    }

    static func sheetXML(_ sheet: Sheet) -> String {
        if !sheet.blocks.isEmpty { return stackedXML(sheet) }
        let widths = widths(sheet)
        let h = sheet.headerRow
        var x = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"# + "\n"
        x +=
            #"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>"#
        x +=
            #"<sheetViews><sheetView workbookViewId="0"><pane ySplit="\#(h)" topLeftCell="A\#(h + 1)" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>"#
        x += "<cols>" + widths.enumerated().map { #"<col min="\#($0 + 1)" max="\#($0 + 1)" width="\#($1)" customWidth="1"/>"# }.joined() + "</cols>"
        x += "<sheetData>"
        if let title = sheet.title {
            x += "<row r=\"1\">" + textCell("A1", title, style: Style.title) + "</row>"
            if let sub = sheet.subtitle { x += "<row r=\"2\">" + textCell("A2", sub, style: Style.subtitle) + "</row>" }
        }
        // The header: numbers' headers right-aligned over them, the row as high as its longest wrap.
        let numeric = sheet.header.indices.map { i in
            sheet.rows.contains { r in
                guard i < r.count else { return false }
                if case .text = r[i] { return false }
                return true
            }
        }
        let headerLines = zip(sheet.header, widths).map { lines($0, width: $1) }.max() ?? 1
        x +=
            "<row r=\"\(h)\" ht=\"\(3 + 15 * headerLines)\" customHeight=\"1\">"
            + sheet.header.enumerated().map { i, name in
                textCell(column(i) + String(h), name, style: i < numeric.count && numeric[i] ? Style.numericHeader : Style.header)
            }.joined() + "</row>"
        for (i, row) in sheet.rows.enumerated() {
            let r = h + 1 + i
            let rowStyle = i < sheet.styles.count ? sheet.styles[i] : .normal
            x += "<row r=\"\(r)\">"
            for (c, cell) in row.enumerated() { x += cellXML(column(c) + String(r), cell, rowStyle) }
            x += "</row>"
        }
        x += "</sheetData>" + pageSetup(widths: widths, footer: sheet.footer)
        return x + "</worksheet>"
    }

    /// Writes the workbook to `path` (a temporary file beside it, then a rename).
    static func write(_ sheets: [Sheet], to path: String) throws {
        var files: [(String, String)] = []
        files.append(
            (
                "[Content_Types].xml",
                #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>"#
                    + sheets.indices.map {
                        #"<Override PartName="/xl/worksheets/sheet\#($0 + 1).xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>"#
                    }.joined()
                    + "</Types>"
            ))
        files.append(
            (
                "_rels/.rels",
                #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
            ))
        files.append(
            (
                "xl/workbook.xml",
                #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>"#
                    + sheets.enumerated().map { #"<sheet name="\#(escape(String($1.name.prefix(31))))" sheetId="\#($0 + 1)" r:id="rId\#($0 + 1)"/>"# }
                    .joined()
                    // The header row repeats on every printed page.
                    + "</sheets><definedNames>"
                    + sheets.enumerated().filter { $0.element.blocks.isEmpty }.map { i, sheet in
                        let quoted = "'" + String(sheet.name.prefix(31)).replacingOccurrences(of: "'", with: "''") + "'"
                        return #"<definedName name="_xlnm.Print_Titles" localSheetId="\#(i)">"#
                            + escape("\(quoted)!$\(sheet.headerRow):$\(sheet.headerRow)")
                            + "</definedName>"
                    }.joined() + "</definedNames></workbook>"
            ))
        files.append(
            (
                "xl/_rels/workbook.xml.rels",
                #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">"#
                    + sheets.indices.map {
                        #"<Relationship Id="rId\#($0 + 1)" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet\#($0 + 1).xml"/>"#
                    }.joined()
                    + #"<Relationship Id="rId\#(sheets.count + 1)" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#
            ))
        // Styles (cellXfs, see `Style`): 0 text, 1 tkr, 2 one decimal, 3 header (bold, wrapped,
        // underlined), 4–6 a sum row's text/tkr/mnkr (bold), 7–9 a varav row's (italic, the text
        // indented), 10 title, 11 subtitle, 12 a plain number, 13 mnkr, 14 a number column's header.
        files.append(
            (
                "xl/styles.xml",
                ##"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="4"><numFmt numFmtId="164" formatCode="#,##0"/><numFmt numFmtId="165" formatCode="0.0"/><numFmt numFmtId="166" formatCode="#,##0.0"/><numFmt numFmtId="167" formatCode="#,##0.00"/></numFmts><fonts count="5"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="14"/><name val="Calibri"/></font><font><i/><sz val="10"/><color rgb="FF595959"/><name val="Calibri"/></font><font><i/><sz val="11"/><name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="2"><border/><border><left/><right/><top/><bottom style="thin"><color auto="1"/></bottom><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="18"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="0" fontId="1" fillId="0" borderId="1" xfId="0" applyFont="1" applyBorder="1" applyAlignment="1"><alignment wrapText="1" vertical="bottom"/></xf><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/><xf numFmtId="164" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/><xf numFmtId="166" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/><xf numFmtId="0" fontId="4" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1"><alignment horizontal="left" indent="1"/></xf><xf numFmtId="164" fontId="4" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/><xf numFmtId="166" fontId="4" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/><xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/><xf numFmtId="0" fontId="3" fillId="0" borderId="0" xfId="0" applyFont="1"/><xf numFmtId="1" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="166" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="0" fontId="1" fillId="0" borderId="1" xfId="0" applyFont="1" applyBorder="1" applyAlignment="1"><alignment horizontal="right" wrapText="1" vertical="bottom"/></xf><xf numFmtId="167" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="167" fontId="1" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/><xf numFmtId="167" fontId="4" fillId="0" borderId="0" xfId="0" applyNumberFormat="1" applyFont="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"##
            ))
        for (i, s) in sheets.enumerated() { files.append(("xl/worksheets/sheet\(i + 1).xml", sheetXML(s))) }

        let tmp = FileIO.temporaryName(for: path)
        try? FileManager.default.removeItem(atPath: tmp)
        let archive = try Archive(url: URL(fileURLWithPath: tmp), accessMode: .create)
        let fixedDate = Date(timeIntervalSince1970: 315_532_800)  // 1980-01-01: reproducible entries
        for (name, xml) in files {
            let data = Data(xml.utf8)
            try archive.addEntry(
                with: name, type: .file, uncompressedSize: Int64(data.count), modificationDate: fixedDate, compressionMethod: .deflate,
                provider: { position, size in data.subdata(in: Int(position)..<Int(position) + size) })
        }
        try FileIO.commit(tmp, to: path)
    }
}
