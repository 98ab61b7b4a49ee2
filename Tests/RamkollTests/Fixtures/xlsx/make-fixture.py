#!/usr/bin/env python3
"""The Excel ledger fixture: a quarter of a finance system's report-module export, once as three
monthly .xlsx workbooks (as Excel writes them: shared strings, styles, numbers stored as numbers,
some amounts stored as text, the account number and name in one cell, two title rows, no date
column — the period is the file's month, given per source) and once as the CSV holding the same
rows with a period column. Run in this folder; the test reads both through `ramkoll run` and
expects the same Drift table. Deterministic (fixed seed, fixed zip dates)."""
import random
import zipfile

random.seed(20220331)
ACCOUNTS = [
    ("31320", "Avgifter individ- och familjeomsorg", -1),
    ("46310", "Köp av huvudverksamhet, placeringar", 1),
    ("50110", "Löner månadsavlönade", 1),
    ("45910", "Ekonomiskt bistånd", 1),
    ("60110", "Lokalhyror", 1),
    ("64100", "Förbrukningsmaterial", 1),
]
ANSVAR = ["60020", "61010", "61020", "61030", "62010", "63010", "64010", "64020"]
MONTHS = ["2022-01", "2022-02", "2022-03"]


def rows_of(month):
    out = []
    for i in range(14):
        acc, name, sign = ACCOUNTS[i % len(ACCOUNTS)]
        ansvar = ANSVAR[(i * 3 + len(month)) % len(ANSVAR)]
        ore = sign * random.randint(10_000, 90_000_000)
        out.append((f"{acc} {name}", ansvar, ore, f"{name} {month}"))
    return out


def kr_comma(ore):
    s = "-" if ore < 0 else ""
    ore = abs(ore)
    whole, frac = divmod(ore, 100)
    g = f"{whole:,}".replace(",", " ")
    return f"{s}{g},{frac:02d}"


def kr_point(ore):
    s = "-" if ore < 0 else ""
    ore = abs(ore)
    whole, frac = divmod(ore, 100)
    return f"{s}{whole}.{frac:02d}".rstrip("0").rstrip(".") if frac else f"{s}{whole}"


def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def col(i):
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def workbook(path, month, rows):
    strings, index = [], {}

    def sst(s):
        if s not in index:
            index[s] = len(strings)
            strings.append(s)
        return index[s]

    sheet_rows = []
    # Two title rows, then the header on row 3 (as report modules print them).
    sheet_rows.append([("s", sst("Huvudbok per konto och ansvar"))])
    sheet_rows.append([("s", sst(f"Period {month}"))])
    sheet_rows.append([("s", sst(h)) for h in ["Konto", "Ansvar", "Belopp", "Text"]])
    for n, (account, ansvar, ore, text) in enumerate(rows):
        if n % 5 == 3:
            amount = ("s", sst(kr_comma(ore)))  # an amount stored as text, Swedish style
        elif n % 7 == 2:
            # As Excel stores a sum it computed: binary floating-point noise past the öre.
            p = kr_point(ore)
            amount = ("n", p + "00000000001" if "." in p else p + ".00000000001")
        else:
            amount = ("n", kr_point(ore))
        ansvar_cell = ("n", ansvar) if n % 2 == 0 else ("s", sst(ansvar))  # ansvar as a number or as text
        sheet_rows.append([("s", sst(account)), ansvar_cell, amount, ("s", sst(text))])
    # A styled empty row at the end, as Excel leaves after deleting a total.
    sheet_rows.append([])
    x = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n',
         '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
         'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
         '<dimension ref="A1:D%d"/><sheetData>' % len(sheet_rows)]
    for r, cells in enumerate(sheet_rows, start=1):
        if not cells:
            x.append(f'<row r="{r}" spans="1:4" s="1" customFormat="1"/>')
            continue
        x.append(f'<row r="{r}" spans="1:4">')
        for c, (t, v) in enumerate(cells):
            ref = f"{col(c)}{r}"
            if t == "s":
                x.append(f'<c r="{ref}" t="s"><v>{v}</v></c>')
            else:
                x.append(f'<c r="{ref}" s="2"><v>{v}</v></c>')
        x.append("</row>")
    x.append('</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>')
    params = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              f'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Urval</t></is></c><c r="B1" t="inlineStr"><is><r><t>Period </t></r><r><t>{month}</t></r></is></c></row></sheetData></worksheet>')
    sst_xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
               f'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{len(strings)}" uniqueCount="{len(strings)}">'
               + "".join(f"<si><t>{esc(s)}</t></si>" for s in strings) + "</sst>")
    files = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        # Sheets listed in another order than their files: the rels decide which file is which.
        "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><workbookPr defaultThemeVersion="124226"/><sheets><sheet name="Urval" sheetId="2" r:id="rId2"/><sheet name="Huvudbok" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/sheet2.xml"/><Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>',
        "xl/styles.xml": '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="1"><numFmt numFmtId="164" formatCode="#,##0.00"/></numFmts><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs></styleSheet>',
        "xl/worksheets/sheet1.xml": "".join(x),
        "xl/worksheets/sheet2.xml": params,
        "xl/sharedStrings.xml": sst_xml,
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            info = zipfile.ZipInfo(name, date_time=(2022, 4, 1, 8, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text.encode("utf-8"))


csv = ["Konto;Ansvar;Period;Belopp;Text"]
for month in MONTHS:
    rows = rows_of(month)
    workbook(f"huvudbok-{month}.xlsx", month, rows)
    for account, ansvar, ore, text in rows:
        csv.append(f"{account};{ansvar};{month};{kr_comma(ore)};{text}")
with open("huvudbok-2022-q1.csv", "w", encoding="utf-8") as f:
    f.write("\n".join(csv) + "\n")
