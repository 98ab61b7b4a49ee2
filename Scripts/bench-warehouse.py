#!/usr/bin/env python3
"""Nights of a growing year-to-date ledger into the SQLite warehouse (see Scripts/bench-warehouse).
The ledger is bench.py's (same generator, same seed); each night's run logs "warehouse loaded"
with its rows, new rows and seconds (--log-format json), which this script reads."""
import argparse
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (the generator and the pipeline writer)

ROOT = bench.ROOT


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "warehouse"))
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "ramkoll"))
    a = ap.parse_args()
    exe = a.binary
    shutil.rmtree(a.out, ignore_errors=True)
    os.makedirs(a.out)
    base = os.path.join(a.out, "base.csv")
    bench.gen_ledger(base, a.rows, "utf8")
    ledger = os.path.join(a.out, "ledger.csv")
    pipe = os.path.join(a.out, "warehouse.yaml")
    bench.pipeline(pipe, "warehouse", [("gl", ledger, "raindance-huvudbok")], a.out)
    runs = os.path.join(a.out, "runs")
    with open(base, "rb") as f:
        data = f.read()
    lines = data.rstrip(b"\n").split(b"\n")
    extra = max(1, a.rows // 1000)
    # Night 2 appends copies of December rows with new voucher numbers (the export grows at its end).
    grown = data + b"\n".join(
        b"Z%08d" % (i + 1) + line[line.index(b";"):] for i, line in enumerate(lines[-extra:])) + b"\n"
    print(f"Warehouse (SQLite), {a.rows:,} ledger rows: night, rows in the ledger, rows stored anew, load seconds, rows a second, database MB")
    for night, content in [(1, data), (2, grown), (3, grown)]:
        with open(ledger, "wb") as f:
            f.write(content)
        p = subprocess.run([exe, "run", pipe, "--runs", runs, "--log-format", "json"], capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"night {night}: ramkoll exited {p.returncode}\n{p.stdout}\n{p.stderr[-3000:]}")
        load = [json.loads(l) for l in p.stderr.splitlines() if '"warehouse loaded"' in l]
        ev = load[-1]
        led = [l for l in p.stdout.splitlines() if "warehouse: SQLite" in l]
        rows, new, seconds = int(ev["rows"]), int(ev["new_rows"]), float(ev["seconds"])
        size = os.path.getsize(os.path.join(runs, "ramkoll.sqlite")) / 2**20
        rate = f"{rows / seconds:,.0f}" if seconds > 0 else "-"
        print(f"  night {night}: {rows:>10,} rows loaded, {new:>10,} new, {seconds:7.2f} s, {rate:>12} rows/s, {size:8.1f} MB  ({led[-1].strip() if led else ''})")


if __name__ == "__main__":
    main()
