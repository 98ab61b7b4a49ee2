#!/usr/bin/env python3
"""Generates Ramkoll's SampleInputs/ deterministically (fixed seed): a fictional Socialnämnden i
Exempelby with two fiscal years of ledger exports in two CSV layouts, a placement extract in XML
and an internal budget. Rerunning it gives byte-identical files; the files are committed so the
sample run needs nothing but the Swift toolchain.

Layout A (2021, "Raindance huvudbok"): UTF-8 with BOM, LF, ISO dates, signed amounts with a space
thousands separator, quoted texts (some with ';', doubled quotes and line breaks).
Layout B (2022, "Agresso kontoutdrag", two half-year files): Windows-1252, CRLF, YYYYMMDD dates,
YYYYMM periods, no-break-space thousands separator. The second half-year file carries a few rows a
real export would have wrong (they must end in rejects.csv) and a footer total line.
"""
import os, random, sys

CASES = 100
PLACEMENT_ANSVAR = {"61030", "61020", "62010", "63010"}  # placement cases in the extract; their invoices make up most of the placement units' purchased care

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "SampleInputs")
rnd = random.Random(20230214)

# Leaf units: id, ansvar codes, annual budget 2022 per line in kr (report sign).
LEAVES = [
    ("NG-POL", ["60010"], {"PERS": -1_450_000, "OVR": -380_000}),
    ("NG-LED", ["60020", "60030"], {"INT": 350_000, "PERS": -9_800_000, "LOK": -1_250_000, "KOP": -2_100_000, "OVR": -3_200_000}),
    ("BU-UTR", ["61010"], {"INT": 420_000, "PERS": -16_400_000, "LOK": -900_000, "KOP": -1_800_000, "OVR": -1_100_000}),
    ("BU-FAM", ["61020"], {"INT": 1_800_000, "PERS": -21_500_000, "LOK": -300_000, "KOP": -9_600_000, "OVR": -2_400_000}),
    ("BU-INST", ["61030"], {"INT": 4_900_000, "PERS": -6_200_000, "LOK": -1_700_000, "KOP": -24_500_000, "OVR": -900_000}),
    ("VM-MYN", ["62010"], {"INT": 150_000, "PERS": -8_300_000, "LOK": -450_000, "KOP": -11_200_000, "OVR": -600_000}),
    ("VM-BOE", ["62020"], {"INT": 2_100_000, "PERS": -12_900_000, "LOK": -3_800_000, "KOP": -2_300_000, "OVR": -1_500_000}),
    ("SP-BOE", ["63010"], {"INT": 1_300_000, "PERS": -14_600_000, "LOK": -2_900_000, "KOP": -3_900_000, "OVR": -1_200_000}),
    ("SP-SYS", ["63020"], {"INT": 250_000, "PERS": -5_400_000, "LOK": -700_000, "KOP": -600_000, "OVR": -700_000}),
    ("EB-MYN", ["64010"], {"INT": 200_000, "PERS": -11_800_000, "LOK": -600_000, "KOP": -500_000, "OVR": -800_000}),
    ("EB-UTB", ["64020"], {"INT": 1_150_000, "OVR": -15_900_000}),
    ("FR", ["65010"], {"INT": 60_000, "PERS": -4_100_000, "LOK": -350_000, "KOP": -450_000, "OVR": -300_000}),
]
ACCOUNTS = {
    "INT": [("31320", "Avgifter individ- och familjeomsorg"), ("35140", "Bidrag från Socialstyrelsen"),
            ("35170", "Bidrag från Migrationsverket"), ("36110", "Försäljning av verksamhet")],
    "PERS": [("50110", "Månadslön"), ("53100", "Arvoden familjehem och kontaktpersoner"), ("56110", "Sociala avgifter enl. lag och avtal"),
             ("57110", "Pensionskostnader")],
    "LOK": [("60110", "Lokalhyra"), ("60210", "Bostadshyra, sociala kontrakt")],
    "KOP": [("46310", "Köp av huvudverksamhet, placeringskostnad"), ("46320", "Köp av huvudverksamhet, familjehemskonsulent"),
            ("74100", "Övriga främmande tjänster"), ("75100", "Inhyrd personal")],
    "OVR": [("64100", "Förbrukningsmaterial"), ("68100", "Tele- och IT-tjänster"), ("70100", "Resor"), ("76100", "Diverse kostnader")],
}
EB_ACCOUNT = ("45110", "Ekonomiskt bistånd, försörjningsstöd")
KB_ACCOUNT, KB_ANSVAR = "38910", "60020"
SUPPLIERS = ["Nordvik HVB AB", "Solgläntans behandlingshem", "Familjeresurs Väst AB", "Bemanningspoolen i Sverige AB",
             "Exempelby Bostäder AB", "Telia Sverige AB", "Staples Sverige AB", "SJ AB", "Kronans Apotek", "Öresunds Jour & Stöd AB"]
SEASON = [0.96, 0.98, 1.02, 1.0, 1.0, 1.03, 0.92, 0.9, 1.04, 1.03, 1.03, 1.09]


def split_amount(total_ore, n):
    """Splits an amount in öre into n positive-ish parts that add up exactly."""
    if n <= 1:
        return [total_ore]
    weights = [rnd.uniform(0.3, 1.7) for _ in range(n)]
    s = sum(weights)
    parts = [int(total_ore * w / s) for w in weights]
    parts[-1] += total_ore - sum(parts)
    return parts


def fmt_amount(ore, sep):
    neg = ore < 0
    kr, o = divmod(abs(ore), 100)
    digits = str(kr)
    groups = []
    while len(digits) > 3:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    groups.insert(0, digits)
    return ("-" if neg else "") + sep.join(groups) + "," + f"{o:02d}"


def year_postings(year, factor_seed, invoices=(), assistance=(), investments=()):
    """Yields (date, ansvar, account, account_text, amount_ore_ledger_sign, text) for a year.
    Purchased placements (46310) of the units in the placement extract come from `invoices`; the
    rest of those units' purchased care is booked on the other purchase accounts."""
    r = random.Random(factor_seed)
    rows = list(invoices) + list(assistance) + list(investments)
    invoiced = {}
    for (_, ansvar, _, _, amount, _) in invoices:
        invoiced[ansvar] = invoiced.get(ansvar, 0) + amount
    total_net_budget = 0
    for unit, ansvars, lines in LEAVES:
        for line, budget_kr in lines.items():
            total_net_budget += budget_kr
            scale = 0.93 if year == 2021 else 1.0
            outcome = budget_kr * scale * r.uniform(0.9, 1.1)
            from_invoices = sum(invoiced.get(a, 0) for a in ansvars) if line == "KOP" else 0
            if from_invoices:
                outcome = min(outcome + from_invoices / 100, 0)  # report sign: the invoices are part of the cost
            for month in range(1, 13):
                month_total = int(round(outcome * SEASON[month - 1] / sum(SEASON) * 100))  # report sign, öre
                n = r.randint(28, 68) if line != "LOK" else r.randint(2, 4)
                if month_total == 0 or (assistance and unit == "EB-UTB" and line == "OVR"):
                    continue  # ekonomiskt bistånd comes from the payments
                for part in split_amount(month_total, n):
                    if line == "OVR" and unit == "EB-UTB":
                        acc, acc_text = EB_ACCOUNT
                    elif year == 2021 and line == "KOP" and ansvars[0] in PLACEMENT_ANSVAR and r.random() < 0.85:
                        acc, acc_text = ACCOUNTS["KOP"][0]  # 2021: the placement units' purchases are mostly placements
                    elif invoices and line == "KOP":
                        # With a placement extract, 46310 holds only the placement invoices.
                        acc, acc_text = r.choice([a for a in ACCOUNTS[line] if a[0] != "46310"])
                    else:
                        acc, acc_text = r.choice(ACCOUNTS[line])
                    day = r.randint(1, 28)
                    text = r.choice(SUPPLIERS) if line in ("KOP", "OVR", "LOK") else acc_text
                    rows.append(((year, month, day), r.choice(ansvars), acc, acc_text, -part, text))
    # Kommunbidrag: the frame, credited monthly (report sign positive = ledger negative).
    frame_ore = -total_net_budget * 100 if year == 2022 else int(-total_net_budget * 0.96) * 100
    for month, part in enumerate(split_amount_even(frame_ore, 12), start=1):
        rows.append(((year, month, 1), KB_ANSVAR, KB_ACCOUNT, "Kommunbidrag", -part, f"Kommunbidrag {year}-{month:02d}"))
    # Counter-postings on balance-sheet accounts (excluded from result reports by the mapping).
    for _ in range(400):
        month = r.randint(1, 12)
        amt = r.randint(10_000, 5_000_000)
        rows.append(((year, month, r.randint(1, 28)), "60020", "24400", "Leverantörsskulder", -amt, "Leverantörsreskontra"))
        rows.append(((year, month, r.randint(1, 28)), "60020", "19300", "Bank", amt, "Betalning"))
    rows.sort(key=lambda x: (x[0], x[2], x[1]))
    return rows


def split_amount_even(total, n):
    q, rem = divmod(total, n)
    return [q + (1 if i < rem else 0) for i in range(n)]


def quote(field, delim):
    if any(c in field for c in (delim, '"', "\n", "\r")):
        return '"' + field.replace('"', '""') + '"'
    return field


def write_layout_a(path, rows):
    lines = ["Verifikation;Bokföringsdatum;Konto;Kontotext;Ansvar;Verksamhet;Aktivitet;Projekt;Motpart;Belopp;Text"]
    for i, (d, ansvar, acc, acc_text, ore, text) in enumerate(rows, start=1):
        vht = {"60": "559", "61": "569", "62": "559", "63": "571", "64": "575", "65": "585"}.get(ansvar[:2], "")
        motpart = "87" if acc.startswith("46") or acc.startswith("75") else ("81" if acc.startswith("35") else "")
        if i % 97 == 0:
            text = f'{text}; avser "omförhandlat" avtal'
        if i % 1501 == 0:
            text = f"{text}\nrättelse av tidigare kontering"
        fields = [f"A{d[0]}-{i:06d}", f"{d[0]:04d}-{d[1]:02d}-{d[2]:02d}", acc, acc_text, ansvar, vht, "", "", motpart,
                  fmt_amount(ore, " "), text]
        lines.append(";".join(quote(f, ";") for f in fields))
    with open(path, "wb") as f:
        f.write(b"\xef\xbb\xbf" + ("\n".join(lines) + "\n").encode("utf-8"))


def write_layout_b(path, rows, start_no, extra_bad=False):
    header = "Bilagsnr;Bokf.datum;Period;Konto;Ansvar;Vht;Akt;Proj;Motp;Belopp;Beskrivning"
    lines = [header]
    total = 0
    for i, (d, ansvar, acc, acc_text, ore, text) in enumerate(rows, start=start_no):
        vht = {"60": "559", "61": "569", "62": "559", "63": "571", "64": "575", "65": "585"}.get(ansvar[:2], "")
        motpart = "87" if acc.startswith("46") or acc.startswith("75") else ""
        fields = [f"B{i:07d}", f"{d[0]:04d}{d[1]:02d}{d[2]:02d}", f"{d[0]:04d}{d[1]:02d}", acc, ansvar, vht, "", "", motpart,
                  fmt_amount(ore, "\u00a0"), text]
        lines.append(";".join(quote(f, ";") for f in fields))
        total += ore
    if extra_bad:
        bad = [
            # An amount with a point: ambiguous, must be rejected.
            "B9000001;20221114;202211;64100;61010;569;;;;12.500;Förbrukningsmaterial",
            # A date that does not exist.
            "B9000002;20220230;202202;70100;62010;559;;;;1\u00a0250,00;Resa Göteborg",
            # No account.
            "B9000003;20221201;202212;;63010;571;;;;3\u00a0400,00;Okonterad faktura",
            # Misplaced thousands separator.
            "B9000004;20221005;202210;76100;65010;585;;;;1\u00a023,50;Diverse",
            # An unquoted ';' in the text gives one field too many.
            "B9000005;20221130;202211;64100;64010;575;;;;845,00;Kontorsmaterial; pärmar",
            # A period that is not a month.
            "B9000006;20221215;202213;68100;60020;559;;;;2\u00a0199,00;Mobilabonnemang",
            # An unknown ansvar (reconcile: exception) and an unknown account class (exception).
            "B9000007;20221019;202210;64100;69999;;;;;4\u00a0890,00;Material, ansvar saknas i kodplanen",
            "B9000008;20220915;202209;91000;61010;569;;;;15\u00a0000,00;Internredovisning, okänt konto",
            # A personnummer in free text: Ramkoll must never let it through.
            "B9000009;20221110;202211;45110;64020;575;;;;6\u00a0540,00;Utbetalning bistånd 19850312-1233 november",
        ]
        lines.extend(bad)
        # The ledger's own total covers every row it exported, as the ledger knows them (the two
        # rows whose amounts are broken in the file meant 12 500,00 and 123,50).
        bad_total = (125000 + 0 + 0 + 0 + 84500 + 219900 + 489000 + 1500000 + 654000) + 1250000 + 12350 + 340000
        lines.append(f"Summa;;;;;;;;;{fmt_amount(total + bad_total, chr(0xa0))};")
    with open(path, "wb") as f:
        f.write(("\r\n".join(lines) + "\r\n").encode("cp1252"))


def luhn(s):
    total = 0
    for i, ch in enumerate(s):
        v = int(ch) * (2 if i % 2 == 0 else 1)
        total += v - 9 if v > 9 else v
    return (10 - total % 10) % 10


def fake_pnr(r, y0, y1):
    y = r.randint(y0, y1)
    m = r.randint(1, 12)
    d = r.randint(1, 28)
    serial = r.randint(1, 999)
    body = f"{y % 100:02d}{m:02d}{d:02d}{serial:03d}"
    return f"{y:04d}{m:02d}{d:02d}-{serial:03d}{luhn(body)}"


def write_placements(path):
    r = random.Random(7)
    forms = [("61030", "HVB", "SoL 4 kap. 1 §", (2600, 4200)), ("61030", "HVB", "LVU 2 §", (3000, 5200)),
             ("61030", "SiS", "LVU 3 §", (4500, 6800)), ("61020", "Familjehem", "SoL 4 kap. 1 §", (900, 1600)),
             ("61020", "Jourhem", "LVU 2 §", (1200, 2000)), ("62010", "HVB", "SoL 4 kap. 1 §", (2200, 3600)),
             ("61030", "SiS", "LVU 3 §", (4200, 6000)), ("63010", "Stödboende", "SoL 4 kap. 1 §", (1400, 2400)),
             ("62010", "Skyddat boende", "SoL 4 kap. 1 §", (1800, 2900))]
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<!-- Fictional extract in the shape of a case system\'s placement export; every person is invented. -->',
           '<Extrakt system="Lifecare IFO" skapad="2023-01-10" avser="2022">']
    n = 0
    placements = []
    for case in range(1, CASES + 1):
        ansvar, form, lagrum, (lo, hi) = r.choice(forms)
        child = ansvar.startswith("61")
        pnr = fake_pnr(r, 2005, 2019) if child else fake_pnr(r, 1958, 2002)
        if case == 77:
            pnr = pnr[:-1] + str((int(pnr[-1]) + 1) % 10)  # a wrong check digit: the record is rejected
        out.append(f'  <Arende id="A-2022-{case:04d}" ansvar="{ansvar}" personnummer="{pnr}">')
        stays = 2 if case == 58 else r.choice([1, 1, 1, 2])
        previous_end = None
        for k in range(stays):
            n += 1
            if previous_end is None:
                start_month = r.randint(1, 12) if r.random() < 0.7 else 1
                start = f"2022-{start_month:02d}-{r.randint(1, 28):02d}" if start_month > 1 or r.random() < 0.5 else f"2021-{r.randint(3, 12):02d}-{r.randint(1, 28):02d}"
            else:
                # A person's next placement follows the previous one (case 58 overlaps on purpose).
                y, m, d = (int(x) for x in previous_end.split("-"))
                start_month = min(m + 1, 12) if case != 58 else m
                start = f"{y}-{start_month:02d}-{(1 if case != 58 else max(1, d - 5)):02d}"
            end = ""
            if r.random() < 0.6 or (k + 1 < stays):
                em = r.randint(max(start_month, 1), 12) if start.startswith("2022") else r.randint(1, 12)
                end_day = f"2022-{em:02d}-{r.randint(1, 28):02d}"
                if end_day <= start:
                    end_day = f"2022-{start_month:02d}-28" if start < f"2022-{start_month:02d}-28" else ""
                end = end_day
            previous_end = end or None
            last = previous_end is None or previous_end >= "2022-12"  # nothing follows an open stay or one ending in December
            price = r.randint(lo, hi) * 100 + r.choice([0, 0, 50])
            price_text = fmt_amount(price, " ")
            slut = f' slut="{end}"' if end else ""
            placements.append((f"PL-{n:05d}", ansvar, start, end, price))
            out.append(f'    <Placering id="PL-{n:05d}" start="{start}"{slut}>')
            # Every third family home is consultant-supported (konsulentstött), the rest fee-based (arvoderat).
            vardform = "Konsulentstött familjehem" if form == "Familjehem" and n % 3 == 0 else form
            out.append(f"      <Vardform>{vardform}</Vardform>")
            out.append(f"      <Regi>extern</Regi>")
            out.append(f"      <Lagrum>{lagrum}</Lagrum>")
            out.append(f"      <Dygnskostnad>{price_text}</Dygnskostnad>")
            out.append("    </Placering>")
            if last:
                break
        out.append("  </Arende>")
    out.append("</Extrakt>")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(out) + "\n")
    return placements


def write_placements_previous_year(path):
    """Last year's placement extract (as the case system wrote it in January 2022): the placements
    in care during 2021, for the volume tables' 2021 care days and persons."""
    r = random.Random(2021)
    forms = [("61030", "HVB", "SoL 4 kap. 1 §", (2500, 4000)), ("61030", "SiS", "LVU 3 §", (4300, 6500)),
             ("61020", "Familjehem", "SoL 4 kap. 1 §", (900, 1500)), ("61020", "Jourhem", "LVU 2 §", (1100, 1900)),
             ("62010", "HVB", "SoL 4 kap. 1 §", (2100, 3400)), ("63010", "Stödboende", "SoL 4 kap. 1 §", (1300, 2300)),
             ("62010", "Skyddat boende", "SoL 4 kap. 1 §", (1700, 2800))]
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<!-- Fictional extract in the shape of a case system\'s placement export; every person is invented. -->',
           '<Extrakt system="Lifecare IFO" skapad="2022-01-10" avser="2021">']
    for case in range(1, 81):
        ansvar, form, lagrum, (lo, hi) = r.choice(forms)
        pnr = fake_pnr(r, 2005, 2019) if ansvar.startswith("61") else fake_pnr(r, 1958, 2002)
        sm = r.randint(1, 11)
        start = f"{2021 if r.random() < 0.8 else 2020}-{sm:02d}-{r.randint(1, 28):02d}"
        end = ""
        if r.random() < 0.75:
            em = r.randint(sm if start.startswith("2021") else 1, 12)
            end = f"2021-{em:02d}-{r.randint(1, 28):02d}"
            if end <= start:
                end = "2021-12-31"
        price = r.randint(lo, hi) * 100
        vardform = "Konsulentstött familjehem" if form == "Familjehem" and case % 3 == 0 else form
        slut = f' slut="{end}"' if end else ""
        out.append(f'  <Arende id="A-2021-{case:04d}" ansvar="{ansvar}" personnummer="{pnr}">')
        out.append(f'    <Placering id="PL-21-{case:04d}" start="{start}"{slut}>')
        out.append(f"      <Vardform>{vardform}</Vardform>")
        out.append("      <Regi>extern</Regi>")
        out.append(f"      <Lagrum>{lagrum}</Lagrum>")
        out.append(f"      <Dygnskostnad>{fmt_amount(price, ' ')}</Dygnskostnad>")
        out.append("    </Placering>")
        out.append("  </Arende>")
    out.append("</Extrakt>")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(out) + "\n")


def days_in(year, month):
    return [31, 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]


def placement_invoices(placements):
    """The invoices for purchased placements: each month's care days × daily price (first and last
    day counted), invoiced on 46310 in the following month. December 2022 is not invoiced within the
    year (the year-end accrual); one supplier charges a higher price than agreed for one month."""
    r = random.Random(17)
    invoices = []
    whole_year = [p[0] for p in placements if p[2] <= "2022-01-01" and not p[3]]
    overcharged, extra_days = whole_year[0], whole_year[1]  # a price 250 kr a day too high in May; two days too many in June
    for (pid, ansvar, start, end, price) in placements:
        for month in range(1, 12):
            first, last = f"2022-{month:02d}-01", f"2022-{month:02d}-{days_in(2022, month):02d}"
            lo, hi = max(start, first), min(end or last, last)
            if hi < lo:
                continue
            days = int(hi[8:]) - int(lo[8:]) + 1
            amount = days * price
            if pid == overcharged and month == 5:
                amount = days * (price + 25_000)  # invoiced at a price 250 kr a day above the agreed one
            if pid == extra_days and month == 6:
                amount = (days + 2) * price  # two days more than the stay
            invoices.append(((2022, month + 1, r.randint(5, 20)), ansvar, "46310", "Köp av huvudverksamhet, placeringskostnad", amount,
                             f"{r.choice(SUPPLIERS[:4])} faktura {pid} {month:02d}"))
    return invoices


# The budget file also carries the plan years (multi-year plan, as an internal budget has): each line grows by its own
# yearly rate, rounded to whole thousands; the frame (kommunbidrag) grows more slowly, so the plan
# years show a residual of cost reductions not yet allocated to units ("ofördelade").
PLAN_YEARS = [2023, 2024, 2025]
PLAN_GROWTH = {"INT": 1.01, "PERS": 1.035, "LOK": 1.02, "KOP": 1.05, "OVR": 1.02, "EKB": 1.03}
FRAME_GROWTH = 1.025
PREVIOUS_BUDGET_SCALE = 0.96  # last year's budget, as the multi-year table shows it beside this year's


def plan_amounts(line, kr):
    return [int(round(kr * PLAN_GROWTH[line] ** (y - 2022) / 1000)) * 1000 for y in PLAN_YEARS]


def write_budget(path):
    total = 0
    lines = ["# Internbudget 2022 med plan 2023–2025, Socialnämnden i Exempelby (fiktiv). Belopp i kronor, resultaträkningens",
             "# tecken: intäkter positiva, kostnader negativa. periodisering: jämn = tolftedelar, månad = kolumnerna jan–dec.",
             "# plan ÅÅÅÅ: helårsbelopp för planåren; budget 2021: föregående års budget (för flerårstabellen).",
             "enhet;rad;belopp;periodisering;jan;feb;mar;apr;maj;jun;jul;aug;sep;okt;nov;dec;"
             + ";".join(f"plan {y}" for y in PLAN_YEARS) + ";budget 2021"]
    previous_total = 0

    def plan(line, kr):
        # The plan years, then last year's budget (a little lower, whole thousands).
        nonlocal previous_total
        last = int(round(kr * PREVIOUS_BUDGET_SCALE / 1000)) * 1000
        previous_total += last
        return ";".join(fmt_amount(a * 100, " ")[:-3] for a in plan_amounts(line, kr)) + ";" + fmt_amount(last * 100, " ")[:-3]

    for unit, _, budget in LEAVES:
        for line, kr in budget.items():
            total += kr
            if unit == "EB-UTB" and line == "OVR":
                months = [kr * s / sum(SEASON) for s in SEASON]
                months = [int(round(m)) for m in months]
                months[-1] += kr - sum(months)
                lines.append(f"{unit};EKB;{fmt_amount(kr * 100, ' ')[:-3]};månad;"
                             + ";".join(fmt_amount(m * 100, " ")[:-3] for m in months) + ";" + plan("EKB", kr))
            else:
                lines.append(f"{unit};{line};{fmt_amount(kr * 100, ' ')[:-3]};jämn" + ";" * 13 + plan(line, kr))
    frames = [int(round(-total * FRAME_GROWTH ** (y - 2022) / 10000)) * 10000 for y in PLAN_YEARS]
    lines.append(f"NG-LED;KB;{fmt_amount(-total * 100, ' ')[:-3]};jämn" + ";" * 13
                 + ";".join(fmt_amount(f * 100, " ")[:-3] for f in frames) + ";" + fmt_amount(-previous_total * 100, " ")[:-3])
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")


def write_decisions(path):
    """Decisions for the IVO report: a handful not executed in time (shaped like an annual report's 2022 list),
    and many executed within three months, refused or still within their three months."""
    r = random.Random(11)
    late = [
        ("B-2021-208", "62010", "2021-12-08", "Behandlingshem", "2022-05-10", "", "", "", "Väntar på plats"),
        ("B-2021-214", "63010", "2021-12-20", "Bostad", "2022-06-01", "", "", "", "Ingen lägenhet ledig"),
        ("B-2022-101", "63010", "2022-06-21", "Daglig sysselsättning", "", "", "", "2022-10-31", "Ingen plats på daglig verksamhet"),
        ("B-2022-097", "63010", "2022-06-15", "Boendestöd", "", "", "", "2023-01-09", "Personal saknas"),
        ("B-2022-140", "61020", "2022-07-25", "Kontaktfamilj", "", "", "", "", "Lämplig kontaktfamilj har inte hittats"),
        ("B-2022-141", "61020", "2022-07-25", "Kontaktfamilj", "", "", "", "", "Lämplig kontaktfamilj har inte hittats"),
    ]
    measures = [("61010", "Kontaktperson"), ("61020", "Kontaktfamilj"), ("62010", "Behandlingshem"), ("63010", "Boendestöd"),
                ("63020", "Daglig sysselsättning"), ("62020", "Stödboende")]
    rows = [(i, a, d, m, e, it, rs, en, w, "ja") for (i, a, d, m, e, it, rs, en, w) in late]
    for n in range(1, 161):
        ansvar, measure = r.choice(measures)
        month, day = r.randint(1, 12), r.randint(1, 28)
        decided = f"2022-{month:02d}-{day:02d}"
        favourable = "nej" if r.random() < 0.1 else "ja"
        executed = ""
        if favourable == "ja" and (month < 10 or r.random() < 0.6):
            em, ed = month + r.randint(0, 2), r.randint(1, 28)
            if em <= 12:
                executed = f"2022-{em:02d}-{ed:02d}" if f"2022-{em:02d}-{ed:02d}" >= decided else decided
        rows.append((f"B-2022-{500 + n}", ansvar, decided, measure, executed, "", "", "", "", favourable))
    out = ['<?xml version="1.0" encoding="ISO-8859-1"?>',
           '<!-- Fictional decision extract in the shape of a case system\'s export; every person is invented. -->',
           '<bes:Beslutsextrakt xmlns:bes="urn:example:beslut" system="Lifecare IFO" skapad="2023-01-11">']
    for (i, ansvar, decided, measure, executed, interrupted, resumed, ended, why, favourable) in rows:
        child = ansvar.startswith("61")
        out.append(f'  <bes:Arende personnummer="{fake_pnr(r, 2006, 2016) if child else fake_pnr(r, 1960, 2000)}" ansvar="{ansvar}">')
        out.append(f'    <bes:Beslut id="{i}" gynnande="{favourable}">')
        out.append(f"      <bes:Beslutsdatum>{decided}</bes:Beslutsdatum>")
        out.append(f'      <bes:Insats lagrum="4.1 § SoL">{measure}</bes:Insats>')
        if executed:
            out.append(f"      <bes:Verkstallt>{executed}</bes:Verkstallt>")
        if ended:
            out.append(f'      <bes:Avslutat datum="{ended}"/>')
        if why:
            out.append(f"      <bes:Skal>{why}</bes:Skal>")
        out.append("    </bes:Beslut>")
        out.append("  </bes:Arende>")
    out.append("</bes:Beslutsextrakt>")
    with open(path, "wb") as f:
        f.write(("\n".join(out) + "\n").encode("latin-1"))


def write_payments(path, year=2022, seed=13, per_month=(165, 185)):
    """Payments of ekonomiskt bistånd: about 175 households a month on EB-UTB (ansvar 64020), each
    paid for the month the aid is for, most on the 25th of the month before. The previous year's
    file (a few more households a month) is its own extract."""
    r = random.Random(seed)
    households = [fake_pnr(r, 1955, 2003) for _ in range(260)]
    paid_rows = []
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<!-- Fictional payments of ekonomiskt bistånd; every household is invented. -->',
           f'<Utbetalningar system="Lifecare EKB" skapad="{year + 1}-01-05">']
    n = 0
    for month in range(1, 13):
        active = r.sample(households, r.randint(*per_month))
        for pnr in sorted(active):
            n += 1
            amount = r.randint(3_500, 11_500) * 100 + r.choice([0, 0, 50])
            paid = f"{year - 1}-12-{r.randint(20, 28):02d}" if month == 1 else f"{year}-{month - 1:02d}-{r.randint(20, 28):02d}"
            paid_rows.append((paid, amount, f"U-{year}-{n:05d}"))
            out.append(f'  <Utbetalning id="U-{year}-{n:05d}" avser="{year}-{month:02d}" utbetald="{paid}" ansvar="64020">')
            out.append(f'    <Sokande personnummer="{pnr}"/>')
            out.append(f"    <Belopp>{fmt_amount(amount, ' ')}</Belopp>")
            out.append("  </Utbetalning>")
    out.append("</Utbetalningar>")
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(out) + "\n")
    return paid_rows


# Investments (Kommun-Bas class 1 acquisitions, ledger sign: expenditure debit), in kr per year,
# chosen so the Investeringar table of an annual report rounds to whole tkr as published
# (reinvestering 555 tkr in 2022, 431 tkr in 2021; nothing spent on lokalanpassning).
INVESTMENT_ACCOUNTS = {
    "12210": "Inventarier", "12220": "Datorer och IT-utrustning", "12230": "Bilar och andra transportmedel", "12240": "Maskiner",
}
INVESTMENT_OUTCOME = {
    2021: {"12210": 186_150, "12220": 226_780, "12230": 18_150},
    2022: {"12210": 406_200, "12220": 57_240, "12230": 72_980, "12240": 19_000},
}
INVESTMENT_SUPPLIERS = ["Kinnarps AB", "Atea Sverige AB", "Dustin Sverige AB", "Kia Bil Exempelby", "Cykelcentrum AB"]


def investment_postings(year):
    """Acquisitions on the investment accounts, a few per account through the year, and the
    year's depreciation credited to accumulated depreciation (12290: in scope, no investment)."""
    r = random.Random(year * 7 + 1)
    rows = []
    for acc, kr in INVESTMENT_OUTCOME[year].items():
        for part in split_amount_even(kr * 100, r.randint(2, 5)):
            month = r.randint(2, 11)
            rows.append(((year, month, r.randint(1, 28)), "60020", acc, INVESTMENT_ACCOUNTS[acc], part, r.choice(INVESTMENT_SUPPLIERS)))
    rows.append(((year, 12, 31), "60020", "12290", "Ackumulerade avskrivningar inventarier", -9_845_000, "Årets avskrivningar"))
    return rows


def write_investment_budget(path):
    """The investment budget 2022 with plan 2023–2027 (kronor, expenditure positive): reinvesteringar in
    inventarier and IT, a lokalanpassning; a few rows name the decided project."""
    lines = ["# Investeringsbudget 2022 med plan 2023–2027, Socialnämnden i Exempelby (fiktiv). Belopp i kronor,",
             "# utgifter positiva. rad: investeringsraden (Pipelines/exempelby/investment-lines.csv); projekt: beslutat projekt.",
             "rad;projekt;belopp;plan 2023;plan 2024;plan 2025;plan 2026;plan 2027",
             "INV;;150 000;300 000;400 000;400 000;400 000;400 000",
             "INV;Inventarier jourlägenheter;100 000;100 000;;;;",
             "IT;;150 000;120 000;200 000;200 000;200 000;200 000",
             "IT;Elektroniskt låssystem;0;80 000;;;;",
             "LOKA;Lokalanpassning Sidenvägen;200 000;;;;;"]
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")


def assistance_postings(paid_rows):
    """The ledger side of the payments: one posting on 45110 per payment made in 2022, on its
    payment date (one payment in August is booked twice by mistake)."""
    rows = []
    for (paid, amount, pid) in paid_rows:
        y, m, d = (int(x) for x in paid.split("-"))
        if y != 2022:
            continue  # paid in December 2021 for January: in the 2021 ledger
        rows.append(((y, m, d), "64020", EB_ACCOUNT[0], EB_ACCOUNT[1], amount, f"Utbetalning {pid}"))
        if pid == "U-2022-01500":
            rows.append(((y, m, d), "64020", EB_ACCOUNT[0], EB_ACCOUNT[1], amount, f"Utbetalning {pid} (dubbelbokad)"))
    return rows


def main():
    os.makedirs(os.path.join(OUT, "ledger"), exist_ok=True)
    os.makedirs(os.path.join(OUT, "case"), exist_ok=True)
    os.makedirs(os.path.join(OUT, "budget"), exist_ok=True)
    rows21 = year_postings(2021, 2021, investments=investment_postings(2021))
    write_layout_a(os.path.join(OUT, "ledger", "huvudbok-2021.csv"), rows21)
    placements = write_placements(os.path.join(OUT, "case", "placeringar-2022.xml"))
    write_placements_previous_year(os.path.join(OUT, "case", "placeringar-2021.xml"))
    paid_rows = write_payments(os.path.join(OUT, "case", "utbetalningar-2022.xml"))
    write_payments(os.path.join(OUT, "case", "utbetalningar-2021.xml"), year=2021, seed=12, per_month=(180, 200))
    rows22 = year_postings(2022, 2022, placement_invoices(placements), assistance_postings(paid_rows), investment_postings(2022))
    h1 = [r for r in rows22 if r[0][1] <= 6]
    h2 = [r for r in rows22 if r[0][1] > 6]
    write_layout_b(os.path.join(OUT, "ledger", "kontoutdrag-2022-h1.csv"), h1, 1)
    write_layout_b(os.path.join(OUT, "ledger", "kontoutdrag-2022-h2.csv"), h2, len(h1) + 1, extra_bad=True)
    write_budget(os.path.join(OUT, "budget", "internbudget-2022.csv"))
    write_investment_budget(os.path.join(OUT, "budget", "investeringsbudget-2022.csv"))
    write_decisions(os.path.join(OUT, "case", "beslut-2022.xml"))
    print(f"2021: {len(rows21)} rows, 2022: {len(h1)} + {len(h2)} rows", file=sys.stderr)


if __name__ == "__main__":
    main()
