#!/usr/bin/env python3
"""Ramkoll's benchmark (docs/benchmark.md): deterministic synthetic exports of a given size, then,
in one invocation and on the same machine:

- the job a user runs: `ramkoll run` as the nightly job runs it (a sealed run, the warehouse
  loaded into its SQLite file), beside DuckDB doing the equal work — read the CSV, normalize every
  row (every column, exact öre, date, period, file and line) into a persisted database file, then
  aggregate; with the bytes each stores (run folder + warehouse against DuckDB's file);
- the engine alone: `ramkoll run --no-warehouse` beside DuckDB's bare aggregation (sum per account
  group × ansvar × month, exact öre, 2 threads) and pandas — a guard against regressions;
- the placement extracts: `ramkoll run` beside `xmllint --stream --noout` on the same file, the
  floor for reading it.

For each: wall time, CPU time (user + sys) and peak RSS, measured with GNU time; the ratios pair
by pair; Ramkoll's per-stage seconds from its run; and an exactness check (Ramkoll's control
totals per month against DuckDB's sums). Each tool runs with its input in the page cache (the file
is read once just before). Results are also written as JSON (bench/results.json).

  Scripts/bench [--sizes 1m,10m] [--xml 200k,2m] [--variants utf8,cp1252] [--out bench] [--binary PATH]

Inputs are generated once per size into bench/data/ (kept; same seed, same bytes).
"""
import argparse
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

# The sample's ansvar codes and account plan (kommunbas + Exempelby): every row maps.
ANSVAR = ["60010", "60020", "60030", "61010", "61020", "61030", "62010", "62020", "63010", "63020", "64010", "64020", "65010"]
ACCOUNTS = ["31320", "35140", "36110", "50110", "53100", "56110", "57110", "60110", "60210", "46310", "46320",
            "74100", "75100", "64100", "68100", "70100", "76100", "45110", "19300", "24400"]
TEXTS = ["Betalning", "Leverantörsreskontra", "Nordvik HVB AB faktura", "Kronans Apotek", "Lön december",
         "Öresunds Jour & Stöd AB", "Förbrukningsmaterial"]
SIZES = {"1m": 1_000_000, "10m": 10_000_000, "100k": 100_000, "200k": 200_000, "2m": 2_000_000, "10k": 10_000}


def size_of(label):
    if label not in SIZES:
        raise SystemExit(f"bench: unknown size {label}; use one of {', '.join(SIZES)}")
    return SIZES[label]


def fmt_amount(ore, thousands):
    neg = ore < 0
    kr, o = divmod(abs(ore), 100)
    digits = str(kr)
    if thousands:
        groups = []
        while len(digits) > 3:
            groups.insert(0, digits[-3:])
            digits = digits[:-3]
        groups.insert(0, digits)
        digits = " ".join(groups)
    return ("-" if neg else "") + digits + "," + f"{o:02d}"


def gen_ledger(path, rows, variant):
    """variant utf8: the Raindance layout (UTF-8 with BOM, ISO dates); cp1252: the Agresso layout
    (Windows-1252, YYYYMMDD dates and a period column). 20 % of amounts have a thousands space,
    4 % of texts are quoted with a ';' inside, 1 % hold doubled quotes."""
    rnd = random.Random(20261123 + rows + (1 if variant == "cp1252" else 0))
    if variant == "utf8":
        header = "Verifikation;Bokföringsdatum;Konto;Kontotext;Ansvar;Verksamhet;Aktivitet;Projekt;Motpart;Belopp;Text"
        enc, bom = "utf-8", "\ufeff"
    else:
        header = "Bilagsnr;Bokf.datum;Period;Konto;Ansvar;Vht;Akt;Proj;Motp;Belopp;Beskrivning"
        enc, bom = "cp1252", ""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding=enc, newline="\n") as f:
        f.write(bom + header + "\n")
        buf = []
        for i in range(rows):
            month = 1 + (i * 12) // rows
            day = 1 + rnd.randrange(28)
            account = ACCOUNTS[rnd.randrange(len(ACCOUNTS))]
            ansvar = ANSVAR[rnd.randrange(len(ANSVAR))]
            ore = rnd.randrange(-5_000_000, 5_000_000)
            amount = fmt_amount(ore, rnd.random() < 0.2)
            r = rnd.random()
            text = TEXTS[rnd.randrange(len(TEXTS))]
            if r < 0.04:
                text = '"' + text + "; avser " + str(month) + '"'
            elif r < 0.05:
                text = '"' + text + ' ""brådskande"""'
            if variant == "utf8":
                buf.append(f"A{i + 1:08d};2022-{month:02d}-{day:02d};{account};;{ansvar};559;;;;{amount};{text}")
            else:
                buf.append(f"B{i + 1:08d};2022{month:02d}{day:02d};2022{month:02d};{account};{ansvar};559;;;;{amount};{text}")
            if len(buf) >= 100_000:
                f.write("\n".join(buf) + "\n")
                buf = []
        if buf:
            f.write("\n".join(buf) + "\n")
    os.replace(tmp, path)


def luhn_pnr(rnd):
    y, m, d = 1940 + rnd.randrange(80), 1 + rnd.randrange(12), 1 + rnd.randrange(28)
    serial = rnd.randrange(1000)
    digits = f"{y % 100:02d}{m:02d}{d:02d}{serial:03d}"
    total = 0
    for k, ch in enumerate(digits):
        v = int(ch) * (2 if k % 2 == 0 else 1)
        total += v - 9 if v > 9 else v
    check = (10 - total % 10) % 10
    return f"{y:04d}{m:02d}{d:02d}-{serial:03d}{check}"


def gen_placements(path, records):
    rnd = random.Random(4242 + records)
    tmp = path + ".tmp"
    forms = ["HVB", "SiS", "Familjehem", "Jourhem", "Stödboende"]
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<Extrakt system="Lifecare IFO" avser="2022">\n')
        buf = []
        for i in range(records):
            start = (1 + rnd.randrange(12), 1 + rnd.randrange(28))
            end_month = min(12, start[0] + rnd.randrange(6))
            end = f' slut="2022-{end_month:02d}-{1 + rnd.randrange(28):02d}"' if rnd.random() < 0.8 and end_month > start[0] else ""
            price = fmt_amount(100 * (800 + rnd.randrange(6000)), True)
            buf.append(
                f'  <Arende id="A-{i + 1:07d}" ansvar="{ANSVAR[3 + rnd.randrange(7)]}" personnummer="{luhn_pnr(rnd)}">\n'
                f'    <Placering id="PL-{i + 1:07d}" start="2022-{start[0]:02d}-{start[1]:02d}"{end}>\n'
                f"      <Vardform>{forms[rnd.randrange(len(forms))]}</Vardform>\n      <Lagrum>SoL 4 kap. 1 §</Lagrum>\n"
                f"      <Dygnskostnad>{price}</Dygnskostnad>\n    </Placering>\n  </Arende>\n")
            if len(buf) >= 20_000:
                f.write("".join(buf))
                buf = []
        f.write("".join(buf) + "</Extrakt>\n")
    os.replace(tmp, path)


def bench_key(data_dir):
    """The sample's pseudonym key, copied beside the data with mode 600: Ramkoll refuses a key
    others can read, and a fresh clone has the sample's at git's 644."""
    key = os.path.join(data_dir, "pseudonym.key")
    with open(os.path.join(ROOT, "SampleInputs", "pseudonym-sample.key"), "rb") as f:
        content = f.read()
    fd = os.open(key + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(content)
    os.chmod(key + ".tmp", 0o600)
    os.replace(key + ".tmp", key)
    return key


def pipeline(path, name, sources, data_dir):
    """A bench pipeline on the sample's mapping tables and budget; paths absolute."""
    P = os.path.join(ROOT, "Pipelines")
    lines = [
        f"name: {name}", "fiscal_year: 2022", "as_of: 2022-12", "settings:", '  reject_limit_percent: "1"',
        "pseudonym_key:", f"  file: {bench_key(data_dir)}",
        "mappings:", f"  report_lines: {P}/exempelby/report-lines.csv", "  accounts:",
        f"    - {P}/kommunbas/accounts.csv", f"    - {P}/exempelby/accounts-local.csv", f"    - {P}/exempelby/accounts-varav.csv",
        f"  units: {P}/exempelby/units.csv", f"  ansvar: {P}/exempelby/ansvar.csv", "sources:",
    ]
    for sid, spath, profile in sources:
        lines += [f"  - id: {sid}", f"    path: {spath}", f"    profile: {P}/profiles/{profile}.yaml"]
    lines += ["budget:", f"  - path: {ROOT}/SampleInputs/budget/internbudget-2022.csv"]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def warm(path):
    """Reads a file once so that every tool is measured with its input in the page cache (the
    order of the runs must not decide who pays for the disk)."""
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def run_facts(run_dir):
    """A run's seconds per stage (timings.json) and the bytes it put through SHA-256, from its
    manifests: ingest's inputs (every source, budget, mapping and profile) and every stage's
    outputs. A later stage's inputs are earlier outputs, whose hashes the process keeps
    (FileIO.hashCache), so they are not counted twice."""
    stages, hashed = {}, {"inputs": 0, "outputs": 0}
    for stage in sorted(os.listdir(run_dir)):
        tf = os.path.join(run_dir, stage, "timings.json")
        if os.path.exists(tf):
            stages[stage] = json.load(open(tf))["seconds"]
        mf = os.path.join(run_dir, stage, "manifest.json")
        if os.path.exists(mf):
            m = json.load(open(mf))
            if stage.endswith("ingest"):
                hashed["inputs"] += sum(i["bytes"] for i in m["inputs"])
            hashed["outputs"] += sum(o["bytes"] for o in m["outputs"])
    return stages, hashed


def stored_bytes(*paths):
    """Bytes on disk under the paths (files or folders), each file once (reused stages are hard links)."""
    seen, total = set(), 0
    for p in paths:
        if os.path.isfile(p):
            st = os.stat(p)
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino)); total += st.st_size
            continue
        for d, _, files in os.walk(p):
            for f in files:
                st = os.lstat(os.path.join(d, f))
                if (st.st_dev, st.st_ino) not in seen:
                    seen.add((st.st_dev, st.st_ino)); total += st.st_size
    return total


def ratio(a, b):
    return round(a / b, 2) if b else None


def timed(cmd, env=None):
    """Runs cmd under GNU time; returns wall s, cpu s (user + sys), peak RSS MiB and stdout."""
    t = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True, env=env)
    if t.returncode != 0:
        sys.stderr.write(t.stdout[-2000:] + t.stderr[-3000:])
        raise SystemExit(f"bench: {' '.join(cmd[:3])} … failed with {t.returncode}")
    info = {}
    for line in t.stderr.splitlines():
        if ":" in line:
            k, v = line.strip().rsplit(":", 1) if "Elapsed" not in line else line.strip().split(": ", 1)
            info[k.strip()] = v.strip()
    wall = info["Elapsed (wall clock) time (h:mm:ss or m:ss)"]
    parts = [float(x) for x in wall.split(":")]
    seconds = parts[-1] + 60 * parts[-2] + (3600 * parts[-3] if len(parts) == 3 else 0)
    cpu = float(info["User time (seconds)"]) + float(info["System time (seconds)"])
    rss = int(info["Maximum resident set size (kbytes)"]) / 1024
    return {"wall_s": round(seconds, 2), "cpu_s": round(cpu, 2), "peak_rss_mib": round(rss, 1)}, t.stdout


DUCKDB = r"""
import duckdb, sys
con = duckdb.connect(); con.execute("SET threads TO 2")
path, variant, out = sys.argv[1], sys.argv[2], sys.argv[3]
if variant == "utf8":
    month = "substr(\"Bokföringsdatum\", 1, 7)"; amount = "Belopp"; enc = "utf-8"
else:
    month = "substr(CAST(Period AS VARCHAR), 1, 4) || '-' || substr(CAST(Period AS VARCHAR), 5, 2)"; amount = "Belopp"; enc = "latin-1"
con.execute(f'''
COPY (
  SELECT substr(CAST(Konto AS VARCHAR), 1, 2) AS grp, CAST(Ansvar AS VARCHAR) AS ansvar, {month} AS month,
         SUM(CAST(replace(replace(replace({amount}, ' ', ''), chr(160), ''), ',', '') AS BIGINT)) AS ore
  FROM read_csv('{path}', delim=';', header=true, quote='"', escape='"', all_varchar=true, encoding='{enc}')
  GROUP BY ALL ORDER BY ALL
) TO '{out}' (HEADER, DELIMITER ';')''')
"""

# The equal work: every row normalized (every column, exact öre, the booking date, the period, the
# file and line) into a table of a persisted database file, then the aggregation from it.
DUCKDB_EQUAL = r"""
import duckdb, os, sys
path, variant, out, db = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
for f in (db, db + ".wal"):
    if os.path.exists(f): os.remove(f)
con = duckdb.connect(db); con.execute("SET threads TO 2")
if variant == "utf8":
    c = dict(voucher="Verifikation", date="Bokföringsdatum", account="Konto", ansvar="Ansvar", verksamhet="Verksamhet",
             aktivitet="Aktivitet", projekt="Projekt", motpart="Motpart", text="Text")
    date = 'strptime("Bokföringsdatum", \'%Y-%m-%d\')::DATE'; period = 'substr("Bokföringsdatum", 1, 7)'; enc = "utf-8"
else:
    c = dict(voucher="Bilagsnr", date="Bokf.datum", account="Konto", ansvar="Ansvar", verksamhet="Vht", aktivitet="Akt",
             projekt="Proj", motpart="Motp", text="Beskrivning")
    date = 'strptime("Bokf.datum", \'%Y%m%d\')::DATE'; period = "substr(Period, 1, 4) || '-' || substr(Period, 5, 2)"; enc = "latin-1"
name = os.path.basename(path)
con.execute(f'''
CREATE TABLE ledger AS SELECT '{name}' AS file, CAST(row_number() OVER () + 1 AS BIGINT) AS line, "{c['voucher']}" AS voucher,
  {date} AS booking_date, {period} AS period, "{c['account']}" AS account, "{c['ansvar']}" AS ansvar,
  "{c['verksamhet']}" AS verksamhet, "{c['aktivitet']}" AS aktivitet, "{c['projekt']}" AS projekt, "{c['motpart']}" AS motpart,
  CAST(replace(replace(replace(Belopp, ' ', ''), chr(160), ''), ',', '') AS BIGINT) AS amount_ore, "{c['text']}" AS text
FROM read_csv('{path}', delim=';', header=true, quote='"', escape='"', all_varchar=true, encoding='{enc}')''')
con.execute(f"COPY (SELECT substr(account, 1, 2) AS grp, ansvar, period AS month, SUM(amount_ore) AS ore FROM ledger GROUP BY ALL ORDER BY ALL) TO '{out}' (HEADER, DELIMITER ';')")
con.execute("CHECKPOINT")
con.close()
"""

PANDAS = r"""
import pandas as pd, sys
path, variant, out = sys.argv[1], sys.argv[2], sys.argv[3]
enc = "utf-8-sig" if variant == "utf8" else "cp1252"
df = pd.read_csv(path, sep=";", dtype=str, encoding=enc, keep_default_na=False, quotechar='"', doublequote=True)
month = df["Bokföringsdatum"].str[:7] if variant == "utf8" else df["Period"].str[:4] + "-" + df["Period"].str[4:6]
ore = df["Belopp"].str.replace(" ", "", regex=False).str.replace("\u00a0", "", regex=False).str.replace(",", "", regex=False).astype("int64")
g = pd.DataFrame({"grp": df["Konto"].str[:2], "ansvar": df["Ansvar"], "month": month, "ore": ore}).groupby(["grp", "ansvar", "month"]).ore.sum()
g.reset_index().to_csv(out, sep=";", index=False)
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1m,10m")
    ap.add_argument("--xml", default="200k,2m")
    ap.add_argument("--variants", default="utf8,cp1252")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench"))
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build/release/ramkoll"))
    args = ap.parse_args()
    data = os.path.join(args.out, "data")
    os.makedirs(data, exist_ok=True)
    py = sys.executable
    results = {"machine": {"cpus": os.cpu_count(), "uname": " ".join(os.uname())}, "ledger": [], "xml": []}

    for label in [s for s in args.sizes.split(",") if s]:
        rows = size_of(label)
        for variant in [v for v in args.variants.split(",") if v]:
            csv = os.path.join(data, f"ledger-{label}-{variant}.csv")
            if not os.path.exists(csv):
                print(f"bench: generating {csv} ({rows:,} rows)", file=sys.stderr)
                gen_ledger(csv, rows, variant)
            mib = os.path.getsize(csv) / 2**20
            name = f"bench-{label}-{variant}"
            pipe = os.path.join(data, f"{name}.yaml")
            pipeline(pipe, name, [("gl", csv, "raindance-huvudbok" if variant == "utf8" else "agresso-kontoutdrag")], data)
            # The job a user runs: a sealed run with the warehouse, in a fresh runs folder.
            job_runs = os.path.join(args.out, "runs", name + "-job")
            shutil.rmtree(job_runs, ignore_errors=True)
            warm(csv)
            job, _ = timed([args.binary, "run", pipe, "--runs", job_runs, "-q"])
            job_stages, _ = run_facts(os.path.join(job_runs, "latest"))
            job_bytes = stored_bytes(job_runs)
            runs = os.path.join(args.out, "runs", name)
            shutil.rmtree(runs, ignore_errors=True)
            warm(csv)
            r, _ = timed([args.binary, "run", pipe, "--runs", runs, "--force", "--no-warehouse", "-q"])
            run_dir = os.path.join(runs, "latest")
            stages, hashed = run_facts(run_dir)
            duck_out, pandas_out = os.path.join(data, f"{name}.duckdb.csv"), os.path.join(data, f"{name}.pandas.csv")
            equal_out, equal_db = os.path.join(data, f"{name}.duckdb-equal.csv"), os.path.join(data, f"{name}.duckdb")
            warm(csv)
            de, _ = timed([py, "-c", DUCKDB_EQUAL, csv, variant, equal_out, equal_db])
            de_bytes = stored_bytes(*[p for p in (equal_db, equal_db + ".wal") if os.path.exists(p)])
            warm(csv)
            d, _ = timed([py, "-c", DUCKDB, csv, variant, duck_out])
            warm(csv)
            p, _ = timed([py, "-c", PANDAS, csv, variant, pandas_out])
            # Exactness: Ramkoll's per-month control totals against DuckDB's per-month sums.
            duck_month = {}
            for line in open(duck_out, encoding="utf-8").read().splitlines()[1:]:
                grp, ansvar, month, ore = line.split(";")
                duck_month[month] = duck_month.get(month, 0) + int(ore)
            ramkoll_month = {}
            for line in open(os.path.join(run_dir, "03-reconcile", "control_totals.csv"), encoding="utf-8").read().splitlines()[1:]:
                f = line.split(";")
                if f[0] == "period":
                    ramkoll_month[f[1]] = int(f[3])
            exact = duck_month == ramkoll_month and open(duck_out, "rb").read() == open(equal_out, "rb").read()
            input_bytes = os.path.getsize(csv)
            row = {"size": label, "rows": rows, "variant": variant, "mib": round(mib, 1), "input_bytes": input_bytes,
                   "job": job, "job_stages_s": job_stages, "job_stored_bytes": job_bytes,
                   "duckdb_equal": de, "duckdb_equal_stored_bytes": de_bytes,
                   "ratio_job_duckdb_equal": ratio(job["wall_s"], de["wall_s"]),
                   "job_stored_per_input": ratio(job_bytes, input_bytes), "duckdb_stored_per_input": ratio(de_bytes, input_bytes),
                   "ramkoll": r, "ramkoll_stages_s": stages,
                   "ramkoll_sha256_bytes": hashed, "duckdb": d, "pandas": p, "ratio_ramkoll_duckdb": ratio(r["wall_s"], d["wall_s"]),
                   "exact": exact}
            results["ledger"].append(row)
            print(f"bench: {name}: job {job['wall_s']} s, duckdb equal {de['wall_s']} s; ramkoll --no-warehouse {r['wall_s']} s, "
                  f"duckdb {d['wall_s']} s, pandas {p['wall_s']} s, exact={exact}", file=sys.stderr)

    for label in [s for s in args.xml.split(",") if s]:
        records = size_of(label)
        xml = os.path.join(data, f"placements-{label}.xml")
        if not os.path.exists(xml):
            print(f"bench: generating {xml} ({records:,} records)", file=sys.stderr)
            gen_placements(xml, records)
        small = os.path.join(data, "ledger-100k-utf8.csv")
        if not os.path.exists(small):
            gen_ledger(small, 100_000, "utf8")
        name = f"bench-xml-{label}"
        pipe = os.path.join(data, f"{name}.yaml")
        pipeline(pipe, name, [("gl", small, "raindance-huvudbok"), ("plac", xml, "lifecare-placeringar")], data)
        runs = os.path.join(args.out, "runs", name)
        shutil.rmtree(runs, ignore_errors=True)
        warm(xml); warm(small)
        r, _ = timed([args.binary, "run", pipe, "--runs", runs, "--force", "--no-warehouse", "-q"])
        stages, _ = run_facts(os.path.join(runs, "latest"))
        warm(xml)
        x, _ = timed(["xmllint", "--stream", "--noout", xml])
        placement_s = round(stages.get("02-normalize", 0) + stages.get("03-reconcile", 0), 2)
        results["xml"].append({"size": label, "records": records, "mib": round(os.path.getsize(xml) / 2**20, 1), "ramkoll": r,
                               "ramkoll_stages_s": stages, "xmllint": x, "normalize_reconcile_s": placement_s,
                               "ratio_placements_xmllint": ratio(placement_s, x["wall_s"])})

    # The tables.
    cell = lambda m: f"{m['wall_s']:>6} / {m['cpu_s']:>6} / {m['peak_rss_mib']:>5.0f}"
    print()
    print("The job: a sealed run with the warehouse against DuckDB's equal work (normalized rows persisted, then aggregated)")
    print("(wall s / CPU s / peak RSS MiB; stored: run folder + warehouse, or DuckDB's file, per byte of the export)")
    print(f"{'input':<22} {'MiB':>6}  {'ramkoll run':>20}  {'duckdb equal work':>20}  {'job/duckdb':>10}  {'stored':>14}")
    for row in results["ledger"]:
        print(f"{row['size'] + ' ' + row['variant']:<22} {row['mib']:>6}  {cell(row['job'])}  {cell(row['duckdb_equal'])}  "
              f"{row['ratio_job_duckdb_equal']:>10}  {row['job_stored_per_input']:>5}× / {row['duckdb_stored_per_input']:>4}×")
    for row in results["ledger"]:
        print(f"  ramkoll run stages, {row['size']} {row['variant']}: " + ", ".join(f"{k[3:]} {v}" for k, v in row["job_stages_s"].items())
              + f"; stored {row['job_stored_bytes'] / 2**20:.0f} MiB, DuckDB {row['duckdb_equal_stored_bytes'] / 2**20:.0f} MiB")
    print()
    print("The engine: ramkoll run --no-warehouse against the bare aggregation (sum per account group × ansvar × month, exact öre)")
    print("(wall s / CPU s / peak RSS MiB)")
    print(f"{'input':<22} {'MiB':>6}  {'ramkoll':>20}  {'duckdb (2 threads)':>20}  {'pandas':>20}  {'ramkoll/duckdb':>14}  exact")
    for row in results["ledger"]:
        print(f"{row['size'] + ' ' + row['variant']:<22} {row['mib']:>6}  {cell(row['ramkoll'])}  {cell(row['duckdb'])}  {cell(row['pandas'])}  "
              f"{row['ratio_ramkoll_duckdb']:>14}  {'yes' if row['exact'] else 'NO'}")
    for row in results["ledger"]:
        h = row["ramkoll_sha256_bytes"]
        print(f"  ramkoll stages, {row['size']} {row['variant']}: " + ", ".join(f"{k[3:]} {v}" for k, v in row["ramkoll_stages_s"].items())
              + f"; SHA-256 over {(h['inputs'] + h['outputs']) / 1e9:.2f} GB (inputs {h['inputs'] / 1e9:.2f}, outputs {h['outputs'] / 1e9:.2f})")
    if results["xml"]:
        print()
        print("Placement extract (with a 100k-row ledger): ramkoll run, and xmllint --stream --noout on the same file")
        print("(wall s / CPU s / peak RSS MiB; placements = normalize + reconcile seconds)")
        for row in results["xml"]:
            m, x = row["ramkoll"], row["xmllint"]
            print(f"  {row['size']:<6} {row['records']:>9,} records {row['mib']:>7} MiB: ramkoll {m['wall_s']} / {m['cpu_s']} / {m['peak_rss_mib']:.0f}; "
                  f"xmllint {x['wall_s']} / {x['cpu_s']} / {x['peak_rss_mib']:.0f}; placements {row['normalize_reconcile_s']} s = "
                  f"{row['ratio_placements_xmllint']}× xmllint; " + ", ".join(f"{k[3:]} {v}" for k, v in row["ramkoll_stages_s"].items()))
    out = os.path.join(args.out, "results.json")
    with open(out + ".tmp", "w") as f:
        json.dump(results, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(out + ".tmp", out)
    print(f"\nbench: results in {out}")


if __name__ == "__main__":
    main()
