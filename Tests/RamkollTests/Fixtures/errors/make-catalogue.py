#!/usr/bin/env python3
"""Writes the error catalogue: one folder per user-facing ingestion error or real-world deviation,
each with the input, the profile that reads it and (recorded by the tests, reviewed by a person)
expected.txt. Run from this folder. Texts are invented; personnummer are fictional."""
import os, zlib

NB = "\u00a0"
RAINDANCE = """kind: ledger-csv
encoding: {enc}
delimiter: ";"
decimal: ","
date_layout: YYYY-MM-DD
{extra}columns:
  voucher: Ver
  booking_date: Datum
  account: Konto
  ansvar: Ansvar
  {amount}
  text: Text
"""
HEADER = "Ver;Datum;Konto;Ansvar;Belopp;Text"


def case(name, files, profile):
    os.makedirs(name, exist_ok=True)
    for fname, data in files.items():
        with open(os.path.join(name, fname), "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode("utf-8"))
    with open(os.path.join(name, "profile.yaml"), "w", encoding="utf-8") as f:
        f.write(profile)


def csv_case(name, rows, enc="utf-8", extra="", amount="amount: Belopp", header=HEADER, raw=None, encode="utf-8"):
    text = "\n".join([header] + rows) + "\n"
    case(name, {"input.csv": raw if raw is not None else text.encode(encode)},
         RAINDANCE.format(enc=enc, extra=extra, amount=amount))


ok = "V1;2022-03-01;64100;100;1 000,00;Material"
csv_case("csv-amount-with-point", [ok, "V2;2022-03-02;64100;100;1.234;Punkt"])
csv_case("csv-amount-two-decimal-commas", [ok, "V2;2022-03-02;64100;100;1,234,5;Två komman"])
csv_case("csv-amount-three-decimals", [ok, "V2;2022-03-02;64100;100;12,345;Tre decimaler"])
csv_case("csv-amount-misplaced-group", [ok, "V2;2022-03-02;64100;100;1 23,50;Fel gruppering"])
csv_case("csv-amount-letter", [ok, "V2;2022-03-02;64100;100;1 234,5O;Bokstaven O"])
csv_case("csv-amount-empty", [ok, "V2;2022-03-02;64100;100;;Tomt belopp"])
csv_case("csv-date-does-not-exist", [ok, "V2;2022-02-30;64100;100;10,00;30 februari"])
csv_case("csv-date-wrong-layout", [ok, "V2;02/03/2022;64100;100;10,00;Fel datumformat"])
csv_case("csv-account-empty", [ok, "V2;2022-03-02;;100;10,00;Konto saknas"])
csv_case("csv-account-not-a-code", [ok, "V2;2022-03-02;64 100;100;10,00;Mellanslag i kontot"])
csv_case("csv-too-many-fields", [ok, "V2;2022-03-02;64100;100;10,00;Text; med semikolon"])
csv_case("csv-text-after-closing-quote", [ok, 'V2;2022-03-02;64100;100;10,00;"Citat"slut'])
csv_case("csv-quote-never-closed", [ok, 'V2;2022-03-02;64100;100;10,00;"Aldrig stängd', "V3;2022-03-03;64100;100;5,00;Sista"])
csv_case("csv-personnummer-in-text", [ok, "V2;2022-03-02;45110;100;6 540,00;Utbetalning 19850312-1233 mars"])
csv_case("csv-quoted-fields-and-line-breaks", [ok, 'V2;2022-03-02;64100;100;"2 500,00";"Två\nrader ""citerat"""', "V3;2022-03-03;64100;100;−750,00;Kreditering med U+2212", "V4;2022-03-04;64100;100;750,00-;Avslutande minus"])
# Encodings.
csv_case("csv-declared-utf8-is-windows-1252", [ok, "V2;2022-03-02;64100;100;10,00;Förbrukning"], encode="cp1252")
csv_case("csv-declared-windows-1252-is-utf8", [ok, "V2;2022-03-02;64100;100;10,00;Förbrukning"], enc="windows-1252")
csv_case("csv-declared-latin1-has-windows-1252-dash", [ok, "V2;2022-03-02;64100;100;10,00;Resa Malmö – Lund"], enc="iso-8859-1", encode="cp1252")
csv_case("csv-windows-1252-crlf-nbsp", [], enc="windows-1252",
         raw=(HEADER + "\r\n" + f"V1;2022-03-01;64100;100;1{NB}000,00;Förbrukning – mars\r\n").encode("cp1252"))
csv_case("csv-header-missing-column", [ok], header="Ver;Datum;Kontonr;Ansvar;Belopp;Text")
# Debit/credit, account with text, title lines and a stated total.
DK = "Ver;Datum;Konto;Ansvar;Debet;Kredit;Text"
dk_extra = "skip_lines: 1\naccount_with_text: true\ntotal_row:\n  column: Ver\n  starts_with: Summa\n"
csv_case("csv-debit-credit-ok", ["V1;2022-03-01;64100 Material;100;1 000,00;;Inköp", "V2;2022-03-02;31320 Avgifter;100;;250,50;Avgift",
                                 "Summa;;;;1 000,00;250,50;"],
         extra=dk_extra, amount="debit: Debet\n  credit: Kredit", header="Huvudbok 2022;;;;;;\n" + DK)
csv_case("csv-debit-credit-both-empty", ["V1;2022-03-01;64100 Material;100;;;Inget belopp", "Summa;;;;0,00;0,00;"],
         extra=dk_extra, amount="debit: Debet\n  credit: Kredit", header="Huvudbok 2022;;;;;;\n" + DK)
csv_case("csv-account-with-text-without-number", ["V1;2022-03-01;Material;100;10,00;;Inget kontonummer", "Summa;;;;10,00;;"],
         extra=dk_extra, amount="debit: Debet\n  credit: Kredit", header="Huvudbok 2022;;;;;;\n" + DK)
csv_case("csv-stated-total-does-not-match", ["V1;2022-03-01;64100 Material;100;1 000,00;;Inköp", "Summa;;;;1 100,00;;"],
         extra=dk_extra, amount="debit: Debet\n  credit: Kredit", header="Huvudbok 2022;;;;;;\n" + DK)

# SIE.
SIE_PROFILE = 'kind: sie\nunbalanced_voucher: {ub}\ndimensions:\n  "1": ansvar\n'


def sie_text(records, ksumma=False):
    if not ksumma:
        return "\r\n".join(records) + "\r\n"
    crc = 0
    for line in records[1:]:
        i, n = 0, len(line)
        while i < n:
            c = line[i]
            if c in " \t{}":
                i += 1; continue
            if c == '"':
                i += 1; buf = ""
                while i < n and line[i] != '"':
                    if line[i] == "\\" and i + 1 < n and line[i + 1] == '"':
                        buf += '"'; i += 2; continue
                    buf += line[i]; i += 1
                i += 1
                crc = zlib.crc32(buf.encode("cp437"), crc); continue
            buf = ""
            while i < n and line[i] not in ' \t{}"':
                buf += line[i]; i += 1
            crc = zlib.crc32(buf.encode("cp437"), crc)
    return "\r\n".join([records[0], "#KSUMMA"] + records[1:] + [f"#KSUMMA {crc}"]) + "\r\n"


HEAD = ["#FLAGGA 0", '#PROGRAM "Test" 1', "#FORMAT PC8", "#GEN 20230110", "#SIETYP 4", '#FNAMN "Exempelby kommun"',
        "#RAR 0 20220101 20221231", '#DIM 1 "Ansvar"', '#KONTO 64100 "Förbrukningsmaterial"', '#KONTO 24400 "Leverantörsskulder"']


def ver(n, amount="1000.00", date="20220315"):
    return [f'#VER A {n} {date} "Inköp {n}"', "{", f'#TRANS 64100 {{1 "100"}} {amount}', f"#TRANS 24400 {{}} -{amount}", "}"]


def sie_case(name, records, enc="cp437", ub="warning", ksumma=False, raw=None):
    data = raw if raw is not None else sie_text(records, ksumma).encode(enc)
    case(name, {"input.se": data}, SIE_PROFILE.format(ub=ub))


sie_case("sie-unbalanced-voucher-as-error", HEAD + ver(1) + ['#VER A 2 20220316 "Obalans"', "{", '#TRANS 64100 {1 "100"} 500.00', "#TRANS 24400 {} -450.00", "}"], ub="error")
sie_case("sie-unbalanced-voucher-as-warning", HEAD + ver(1) + ['#VER A 2 20220316 "Obalans"', "{", '#TRANS 64100 {1 "100"} 500.00', "#TRANS 24400 {} -450.00", "}"])
sie_case("sie-amount-with-comma", HEAD + ['#VER A 1 20220315 "Komma"', "{", '#TRANS 64100 {1 "100"} 1000,50', "#TRANS 24400 {} -1000.50", "}"])
sie_case("sie-amount-with-plus", HEAD + ['#VER A 1 20220315 "Plus"', "{", '#TRANS 64100 {1 "100"} +10.00', "#TRANS 24400 {} -10.00", "}"])
sie_case("sie-trans-outside-voucher", HEAD + ['#TRANS 64100 {1 "100"} 10.00'] + ver(1))
sie_case("sie-bad-transaction-date", HEAD + ['#VER A 1 20220315 "Datum"', "{", '#TRANS 64100 {1 "100"} 10.00 20220231', "#TRANS 24400 {} -10.00", "}"])
sie_case("sie-unclosed-object-list", HEAD + ['#VER A 1 20220315 "Klammer"', "{", '#TRANS 64100 {1 "100" 10.00', "#TRANS 24400 {} -10.00", "}"])
sie_case("sie-ksumma-mismatch", HEAD + ver(1), ksumma=True,
         raw=sie_text(HEAD + ver(1), True).replace("1000.00", "1900.00").encode("cp437"))
sie_case("sie-ksumma-truncated", HEAD + ver(1), raw=("\r\n".join([HEAD[0], "#KSUMMA"] + HEAD[1:] + ver(1)) + "\r\n").encode("cp437"))
# Voucher texts in two encodings: no single one keeps both, so the file is refused.
sie_case("sie-mixed-encodings", HEAD, raw=(sie_text(HEAD + ver(1)[:2] + ['#TRANS 64100 {1 "100"} 1000.00 "" "årsta"']).encode("cp437")
                                          + ('#TRANS 24400 {} -1000.00 "" "Årsta"\r\n}\r\n'.encode("latin-1"))))
# A record without figures in another encoding (Visma's #FNR folder path in Latin-1, BL's object
# name): read as the file's CP437, the record named in a warning.
sie_case("sie-descriptive-record-in-latin1", HEAD, raw=(sie_text(HEAD + ['#OBJEKT 1 "100" "årsta"']).encode("cp437")
                                          + '#OBJEKT 1 "200" "Årsta"\r\n'.encode("latin-1")
                                          + sie_text(ver(1)).encode("cp437")))
# Real-world deviations that must be read (reference notes §1.7).
sie_case("sie-format-pc8-but-utf8", HEAD + ver(1), enc="utf-8")
sie_case("sie-latin1-file", HEAD + ver(1), enc="latin-1")
sie_case("sie-utf8-with-replacement-characters", HEAD, raw=sie_text(HEAD + ['#KONTO 1930 "F\ufffdretagskonto"'] + ver(1)).encode("utf-8"))
sie_case("sie-layout-quirks", [
    "#FLAGGA 1", "#PROGRAM Test 1", "#FORMAT PC8", "#GEN 20230822 ", "#SIETYP 4", '#ORGNR 556735-56710', "#RAR 0 20220101 20221231",
    "#KONTO 64100 Förbrukningsmaterial", "#KONTO 24400 Leverantörsskulder", '#OKÄND "okänd post" 1 2 3',
    "#VER A 1 20220105 Kaffebröd 20220310", "{", '\t#TRANS  64100  { "1" "100" }  -1000 20091210 ""',
    '#TRANS 24400 {} 1000 "" "" 0', "}",
    '#VER A 9 20220122 "Internfaktura \\"33993\\""  ""', "{", '#TRANS 64100 {1 "100"} 16.81', "#TRANS 24400 {} -16.81", "}",
    "#VER A 10 20220123 Rättelse", "{", '#BTRANS 64100 {1 "100"} 500 20220123 "" "" "Christer"',
    '#RTRANS 64100 {1 "100"} 400 20220123 "" "" "Christer"', '#TRANS 64100 {1 "100"} 400 20220123 "" "" "Christer"',
    "#TRANS 24400 {} -400", "}",
])
# Balances instead of vouchers: type 2 (#PSALDO per account) and type 3 (per object, one slice read).
T2 = ["#FLAGGA 0", '#PROGRAM "Test" 1', "#FORMAT PC8", "#GEN 20230110", "#SIETYP 2", "#RAR 0 20220101 20221231", "#RAR -1 20210101 20211231",
      '#KONTO 64100 "Förbrukningsmaterial"', '#KONTO 19300 "Bank"', "#IB 0 19300 5000.00", "#UB 0 19300 4000.00", "#RES 0 64100 1000.00",
      "#PSALDO 0 202201 64100 {} 400.00", "#PSALDO 0 202202 64100 {} 600.00", "#PSALDO 0 202201 19300 {} -400.00",
      "#PSALDO 0 202202 19300 {} -600.00", "#PSALDO -1 202112 64100 {} 900.00", '#PSALDO 0 202201 64100 {1 "100"} 400.00']
case("sie-type2-balances", {"input.se": sie_text(T2).encode("cp437")}, 'kind: sie\n')
case("sie-type3-one-slice", {"input.se": sie_text(T2[:4] + ["#SIETYP 3", '#DIM 1 "Ansvar"'] + T2[5:]).encode("cp437")},
     'kind: sie\nslice: "1"\ndimensions:\n  "1": ansvar\n')
case("sie-type1-year-balances-only", {"input.se": sie_text(T2[:12]).encode("cp437")}, 'kind: sie\n')
# Structure (each named with its line and counted; the run ends with a data error).
sie_case("sie-voucher-not-closed-before-next", HEAD + ['#VER A 1 20220315 "Öppen"', "{", '#TRANS 64100 {1 "100"} 10.00', "#TRANS 24400 {} -10.00"] + ver(2))
sie_case("sie-voucher-not-closed-at-end", HEAD + ver(1) + ['#VER A 2 20220316 "Avkapad"', "{", '#TRANS 64100 {1 "100"} 10.00'])
sie_case("sie-voucher-repeated", HEAD + ver(1) + ver(2) + ver(1))
case("sie-voucher-repeated-as-warning", {"input.se": sie_text(HEAD + ver(1) + ver(1)).encode("cp437")},
     'kind: sie\nduplicate_voucher: warning\ndimensions:\n  "1": ansvar\n')
sie_case("sie-brace-nested", HEAD + ['#VER A 1 20220315 "Dubbel"', "{", "{", '#TRANS 64100 {1 "100"} 10.00', "#TRANS 24400 {} -10.00", "}"])
sie_case("sie-brace-stray", HEAD + ver(1) + ["}"])
sie_case("sie-quote-not-closed", HEAD + ['#KONTO 65000 "Ostängd'] + ver(1))
sie_case("sie-type-unknown", [r.replace("#SIETYP 4", "#SIETYP 99") for r in HEAD] + ver(1))
sie_case("sie-rar-not-a-year", [r.replace("#RAR 0 20220101 20221231", "#RAR 0 20221231 20220101") for r in HEAD] + ver(1))
case("sie-rar-missing-for-balances", {"input.se": sie_text([r for r in T2 if not r.startswith("#RAR")]).encode("cp437")}, 'kind: sie\n')
sie_case("sie-utf8-broken", HEAD, raw=sie_text(HEAD + ver(1)).encode("utf-8").replace(b"Inkp", b"Ink").replace("Inköp 1".encode("utf-8"), b"Ink\xf6p 1"))
# The investment budget (rows of Pipelines/exempelby/investment-lines.csv; one good ledger row beside it).
INV_HEADER = "rad;projekt;belopp;plan 2023"


def inv_case(name, rows, header=INV_HEADER):
    csv_case(name, [ok])
    with open(os.path.join(name, "investment-budget.csv"), "w", encoding="utf-8") as f:
        f.write("\n".join([header] + rows) + "\n")


inv_good = "INV;;250 000;400 000"
inv_case("investment-budget-ok-with-projects", [inv_good, "IT;Elektroniskt låssystem;0;80 000", "LOKA;Lokalanpassning;200 000;"])
inv_case("investment-budget-row-unknown", [inv_good, "INVENT;;100 000;"])
inv_case("investment-budget-row-is-a-category", [inv_good, "REINV;;100 000;100 000"])
inv_case("investment-budget-amount-not-a-number", [inv_good, "IT;;15O 000;200 000"])
inv_case("investment-budget-plan-amount-not-a-number", [inv_good, "IT;;150 000;2OO 000"])
inv_case("investment-budget-row-twice", [inv_good, "IT;;150 000;", "INV;;10 000;"])
inv_case("investment-budget-plan-year-not-after", [inv_good], header="rad;projekt;belopp;plan 2022")
inv_case("investment-budget-column-missing", ["INV;;250 000"], header="rad;projekt;summa")
inv_case("investment-budget-without-projects", ["INV;250 000", "IT;150 000"], header="rad;belopp")
print("catalogue written")
