#!/usr/bin/env python3
"""Writes the 'mixed' fixture: the same money as Fixtures/small, but the previous year as an SIE 4E
file (CP437, vouchers with #RTRANS/#BTRANS, #KSUMMA), the current year as a debit/credit CSV in
Windows-1252 (title lines, account and name in one cell, a stated total) and the budget as a type-3
SIE file with #PBUDGET per account total and per object. #KSUMMA is computed here with zlib, an
implementation independent of Ramkoll's. Run from this folder; the outputs are committed."""
import zlib


def sie_fields(line):
    """Label and field contents as SIE 4B §10 sums them: no separators, quotes or braces."""
    out, i, n = [], 0, len(line)
    while i < n:
        c = line[i]
        if c in " \t{}":
            i += 1
            continue
        if c == '"':
            i += 1
            buf = ""
            while i < n and line[i] != '"':
                if line[i] == "\\" and i + 1 < n and line[i + 1] == '"':
                    buf += '"'
                    i += 2
                    continue
                buf += line[i]
                i += 1
            i += 1
            out.append(buf)
            continue
        buf = ""
        while i < n and line[i] not in ' \t{}"':
            buf += line[i]
            i += 1
        out.append(buf)
    return out


def write_sie(path, lines):
    body = lines[1:]  # after #FLAGGA
    crc = 0
    for l in body:
        for f in sie_fields(l):
            crc = zlib.crc32(f.encode("cp437"), crc)
    signed = crc - (1 << 32) if crc >= 1 << 31 else crc
    text = [lines[0], "#KSUMMA"] + body + [f"#KSUMMA {signed}"]
    with open(path, "wb") as f:
        f.write(("\r\n".join(text) + "\r\n").encode("cp437"))


prev = [
    "#FLAGGA 0",
    '#PROGRAM "Testsystem Ekonomi" 4.2',
    "#FORMAT PC8",
    "#GEN 20220115 ",
    "#SIETYP 4",
    '#FNAMN "Exempelby kommun, Socialnämnden"',
    "#RAR 0 20210101 20211231",
    '#DIM 1 "Ansvar"',
    '#OBJEKT 1 "100" "Utredning"',
    '#OBJEKT 1 "200" "Placeringar"',
    '#KONTO 50110 "Månadslön"',
    "#KONTO 31320 Avgifter",
    '#KONTO 46310 "Köp av huvudverksamhet"',
    "#KONTO 60110 Lokalhyra",
    "#KONTO 38910 Kommunbidrag",
    "#KONTO 19300 Bank",
    "#KONTO 24400 Leverantörsskulder",
    "#IB 0 19300 100000.00",
    "#UB 0 19300 124500.50",
    "#UB 0 24400 -24000.00",
    "#RES 0 50110 10000.00",
    "#RES 0 31320 -1500.50",
    "#RES 0 46310 24000",
    "#RES 0 60110 3000.00",
    "#RES 0 38910 -36000.00",
    '#VER A 1 20210115 "Lön januari" 20210116',
    "{",
    '#TRANS 50110 {1 "100"} 10000.00',
    "#TRANS 19300 {} -10000.00",
    "}",
    '#VER A 2 20210215 "Avgift \\"jan\\"" ""',
    "{",
    '\t#TRANS  31320 { "1" "100" }  -1500.50',
    "#TRANS 19300 {} 1500.5",
    "}",
    '#VER "A" "3" 20210310 "Placering HVB mars"',
    "{",
    '#BTRANS 46310 {1 "200"} 25000.00 20210310 "" "" "Anna Ek"',
    '#RTRANS 46310 {1 "200"} 24000.00 20210310 "" "" "Anna Ek"',
    '#TRANS 46310 {1 "200"} 24000.00 20210310 "" "" "Anna Ek"',
    "#TRANS 24400 {} -24000.00",
    "}",
    "#VER A 4 20211231 Hyra",
    "{",
    '#TRANS 60110 {1 "200"} 3000',
    "#TRANS 19300 {} -3000",
    "}",
    '#VER A 5 20210505 "Kommunbidrag 2021"',
    "{",
    '#TRANS 38910 {1 "100"} -36000.00',
    "#TRANS 19300 {} 36000.00",
    "}",
    '#OKANDPOST "okänd post som ska ignoreras"',
]
write_sie("prev-2021.se", prev)

nb = "\u00a0"
dk = [
    "Kontoutdrag Socialnämnden;;;;;;",
    "Utskrivet 2022-07-05 av ekonomisystemet;;;;;;",
    "Bilagsnr;Datum;Konto;Ansvar;Debet;Kredit;Text",
    f"B1;2022-01-15;50110 Månadslön;100;12{nb}000,00;;Lön januari",
    f"B2;2022-02-15;50110 Månadslön;100;12{nb}000,00;;Lön februari",
    f"B3;2022-03-10;46310 Köp av huvudverksamhet;200;30{nb}000,00;;Köp av vård – mars",
    f"B4;2022-03-20;31320 Avgifter;100;;2{nb}000,50;Avgift Åsa",
    f"B5;2022-06-01;60110 Lokalhyra;200;3{nb}000,00;;Hyra juni",
    f"B6;2022-07-01;60110 Lokalhyra;200;3{nb}000,00;;Hyra juli (efter as-of)",
    f"B7;2020-12-31;60110 Lokalhyra;200;1{nb}000,00;;Gammalt år",
    f"B8;2022-01-15;24400 Leverantörsskulder;100;;12{nb}000,00;Leverantörsskuld",
    "B9;2022-01-15;91000 Okänt konto;100;500,00;;Okänt konto",
    "B10;2022-01-15;64100 Förbrukningsmaterial;999;250,00;;Okänt ansvar",
    "B15;2022-01-15;64100 Förbrukningsmaterial;100;99,00;;Utbetalning till 19850312-1233",
    f"B16;2022-05-05;38910 Kommunbidrag;100;;18{nb}000,00;Kommunbidrag jan–jun",
    f"Summa;;;;61{nb}849,00;32{nb}000,50;",
]
with open("ledger-2022-dk.csv", "wb") as f:
    f.write(("\r\n".join(dk) + "\r\n").encode("cp1252"))


def even(annual_ore):
    q, r = abs(annual_ore) // 12, abs(annual_ore) % 12
    s = -1 if annual_ore < 0 else 1
    return [s * (q + (1 if m < r else 0)) for m in range(12)]


def amt(ore):
    sign = "-" if ore < 0 else ""
    return f"{sign}{abs(ore) // 100}.{abs(ore) % 100:02d}"


# Report-sign budgets of Fixtures/small/budget.csv's valid rows, by account and ansvar object.
budgets = [
    ("50110", "100", even(-15_000_000)),
    ("31320", "100", even(1_000_001)),
    ("46310", "200", [-2_000_000] + [-1_000_000] * 9 + [-500_000] * 2),
    ("60110", "200", even(-3_600_000)),
    ("38910", "100", even(29_600_000)),
]
bud = ["#FLAGGA 0", '#PROGRAM "Testsystem Budget" 1.0', "#FORMAT PC8", "#GEN 20211215", "#SIETYP 3",
       "#RAR 0 20220101 20221231", "#RAR -1 20210101 20211231", '#DIM 1 "Ansvar"', '#DIM 6 "Projekt"',
       '#OBJEKT 1 "100" "Utredning"', '#OBJEKT 1 "200" "Placeringar"', '#OBJEKT 6 "P1" "Projekt ett"']
for account, obj, months in budgets:
    bud.append(f"#KONTO {account} \"Konto {account}\"")
for account, obj, months in budgets:
    for m, report in enumerate(months, start=1):
        ledger = -report  # SIE is debit-positive
        bud.append(f"#PBUDGET 0 2022{m:02d} {account} {{}} {amt(ledger)}")                     # account total
        bud.append(f'#PBUDGET  0 2022{m:02d} {account} {{1 "{obj}"}} {amt(ledger)}')            # the slice we read
        bud.append(f'#PBUDGET 0 2022{m:02d} {account} {{1 "{obj}" 6 "P1"}} {amt(ledger)}')      # another slice
        bud.append(f'#PBUDGET -1 2021{m:02d} {account} {{1 "{obj}"}} {amt(ledger)}')           # last year's
write_sie("budget-2022.se", bud)
