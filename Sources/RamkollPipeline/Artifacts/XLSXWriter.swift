import Foundation
import ZIPFoundation

/// A minimal Office Open XML workbook (one sheet per table), written with ZIPFoundation:
/// numbers are stored as numbers (tkr with a thousands format), text as inline strings, and the
/// archive is reproducible (fixed entry dates, stored entries) and written atomically.
struct XLSXWriter {
    enum Cell {
        case text(String)
        /// A whole number shown with thousands grouping (tkr).
        case integer(Int64)
        /// A decimal number given as text with a point (e.g. a percentage "-60.0"), one decimal shown.
        case decimal(String)
    }

    struct Sheet {
        let name: String
        let header: [String]
        let rows: [[Cell]]
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

    static func sheetXML(_ sheet: Sheet) -> String {
        var x = #"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"# + "\n"
        x +=
            #"<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><sheetData>"#
        let all: [[Cell]] = [sheet.header.map(Cell.text)] + sheet.rows
        for (r, row) in all.enumerated() {
            x += "<row r=\"\(r + 1)\">"
            for (c, cell) in row.enumerated() {
                let ref = column(c) + String(r + 1)
                switch cell {
                case .text(let s):
                    x += "<c r=\"\(ref)\" t=\"inlineStr\"\(r == 0 ? " s=\"3\"" : "")><is><t xml:space=\"preserve\">\(escape(s))</t></is></c>"
                case .integer(let v): x += "<c r=\"\(ref)\" s=\"1\"><v>\(v)</v></c>"
                case .decimal(let v): x += "<c r=\"\(ref)\" s=\"2\"><v>\(escape(v))</v></c>"
                }
            }
            x += "</row>"
        }
        return x + "</sheetData></worksheet>"
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
                    + "</sheets></workbook>"
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
        // Styles: 0 default, 1 whole numbers with grouping (tkr), 2 one decimal, 3 bold header.
        files.append(
            (
                "xl/styles.xml",
                ##"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="2"><numFmt numFmtId="164" formatCode="#,##0"/><numFmt numFmtId="165" formatCode="0.0"/></numFmts><fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"##
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
