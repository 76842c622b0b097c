"""Drill-down: raw load, staging (validation) and checks of one big snapshot, per dataset.

    .venv/bin/python bench/staging.py [--users 100000]

(The whole benchmark is `make bench SIZE=S|M|L`, bench/run.py.)

Generates the sample tenant into bench/out/ once per size, then times each step in a fresh
warehouse file and prints a Markdown table with peak memory of the process.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import resource
import time
from pathlib import Path

import duckdb

from learn_assets.contracts.datasets import DATASETS
from learn_assets.generator import generate_sample
from learn_assets.raw.load import load_snapshot
from learn_assets.staged.checks import checks_for
from learn_assets.staged.stage import stage_snapshot

DAY = dt.date(2026, 11, 1)
OUT = Path(__file__).parent / "out"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument(
        "--again",
        action="store_true",
        help="then load the same files as the next day (every row compared, none changed)",
    )
    args = parser.parse_args()
    landing = OUT / f"landing-{args.users}-1d"  # shared with bench/run.py
    if not (landing / DAY.isoformat() / "Progress.csv").exists():
        started = time.perf_counter()
        generate_sample(landing, args.users, 1, DAY, seed=1)
        print(f"generated {args.users} learners in {time.perf_counter() - started:.1f} s")
    db = OUT / f"bench-{args.users}.duckdb"
    db.unlink(missing_ok=True)
    print(f"\n{platform.machine()}, {duckdb.__version__=}, users={args.users}\n")
    print("| dataset | rows | raw load s | stage s | checks s |")
    print("|---|---:|---:|---:|---:|")
    with duckdb.connect(str(db)) as conn:
        days = [DAY, DAY + dt.timedelta(days=1)] if args.again else [DAY]
        for day in days:
            # Users and the catalog first: the reference checks read them.
            for dataset in sorted(DATASETS, key=lambda d: (d.tenant and d.name != "Users", d.name)):
                path = landing / DAY.isoformat() / f"{dataset.name}.csv"
                t0 = time.perf_counter()
                load = load_snapshot(conn, dataset, day, path)
                t1 = time.perf_counter()
                result = stage_snapshot(conn, dataset, day)
                t2 = time.perf_counter()
                for check in checks_for(dataset):
                    check.evaluate(conn, dataset, result)
                t3 = time.perf_counter()
                times = f"{t1 - t0:.2f} | {t2 - t1:.2f} | {t3 - t2:.2f}"
                print(f"| {dataset.name} ({day}) | {load.rows:,} | {times} |")
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"\npeak memory (max RSS): {peak_gb:.2f} GB")


if __name__ == "__main__":
    main()
