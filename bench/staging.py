"""Drill-down: raw load, staging (validation) and checks of one big snapshot, per dataset.

    .venv/bin/python bench/staging.py [--users 100000]
    .venv/bin/python bench/staging.py --landing bench/out/landing-100000-2d-a6-g0.003 \
        --day 2026-10-01 --statements 5

(The whole benchmark is `make bench SIZE=S|M|L`, bench/run.py.)

Generates the sample tenant into bench/out/ once per size (or reads the snapshot `--day` of an
existing `--landing`, e.g. the one `make bench` generated), then times each step in a fresh
warehouse file and prints a Markdown table with peak memory of the process. `--statements N`
also prints the N slowest SQL statements of each raw load and staging.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from learn_assets.contracts.datasets import DATASETS
from learn_assets.generator import generate_sample
from learn_assets.raw.load import load_snapshot
from learn_assets.resources.warehouse import WarehouseResource
from learn_assets.staged.checks import checks_for
from learn_assets.staged.stage import stage_snapshot

DAY = dt.date(2026, 11, 1)
OUT = Path(__file__).parent / "out"


class TimedConnection:
    """A DuckDB connection that records how long each `execute` took (everything else passes
    through), so a load can be broken down by statement without changing the product code."""

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.conn = conn
        self.seconds: list[tuple[float, str]] = []

    def execute(self, sql: str, *args, **kwargs) -> duckdb.DuckDBPyConnection:
        started = time.perf_counter()
        result = self.conn.execute(sql, *args, **kwargs)
        self.seconds.append((time.perf_counter() - started, " ".join(sql.split())))
        return result

    def __getattr__(self, name: str):
        return getattr(self.conn, name)

    def slowest(self, count: int, width: int = 100) -> list[str]:
        return [
            f"{s:6.2f} s  {sql[:width]}" for s, sql in sorted(self.seconds, reverse=True)[:count]
        ]


def timed(
    conn: duckdb.DuckDBPyConnection, statements: int, label: str, step: Callable, *args
) -> tuple[Any, list[str]]:
    """Run `step(conn, *args)`; its result and (with `statements`) table rows naming that many
    of its slowest statements."""
    probe = TimedConnection(conn)
    result = step(probe if statements else conn, *args)
    rows = [
        f"|   {label}: {line.replace('|', '/')} | | | | |" for line in probe.slowest(statements)
    ]
    return result, rows


def dataset_file(folder: Path, name: str) -> Path:
    """The delivered file of dataset `name` in a snapshot folder, CSV or Parquet."""
    for suffix in (".csv", ".parquet"):
        if (folder / f"{name}{suffix}").is_file():
            return folder / f"{name}{suffix}"
    raise SystemExit(f"{folder}: no {name}.csv or {name}.parquet")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument(
        "--again",
        action="store_true",
        help="then load the same files as the next day (every row compared, none changed)",
    )
    parser.add_argument("--landing", type=Path, help="an existing landing folder to read")
    parser.add_argument("--day", type=dt.date.fromisoformat, default=DAY, help="its snapshot")
    parser.add_argument(
        "--statements", type=int, default=0, metavar="N", help="print the N slowest statements"
    )
    args = parser.parse_args()
    landing = args.landing or OUT / f"landing-{args.users}-1d"
    if not args.landing and not (landing / DAY.isoformat() / "Progress.csv").exists():
        started = time.perf_counter()
        generate_sample(landing, args.users, 1, DAY, seed=1)
        print(f"generated {args.users} learners in {time.perf_counter() - started:.1f} s")
    db = OUT / f"bench-{landing.name}.duckdb"
    db.unlink(missing_ok=True)
    print(f"\n{platform.machine()}, {duckdb.__version__=}, landing {landing}, {args.day}\n")
    print("| dataset | rows | raw load s | stage s | checks s |")
    print("|---|---:|---:|---:|---:|")
    # The product's connection (its memory cap), not DuckDB's defaults.
    with WarehouseResource(database=str(db)).get_connection() as conn:
        days = [args.day, args.day + dt.timedelta(days=1)] if args.again else [args.day]
        for day in days:
            # Users and the catalog first: the reference checks read them.
            for dataset in sorted(DATASETS, key=lambda d: (d.tenant and d.name != "Users", d.name)):
                path = dataset_file(landing / args.day.isoformat(), dataset.name)
                t0 = time.perf_counter()
                load, raw_rows = timed(
                    conn, args.statements, "raw", load_snapshot, dataset, day, path
                )
                t1 = time.perf_counter()
                result, staged_rows = timed(
                    conn, args.statements, "staged", stage_snapshot, dataset, day
                )
                t2 = time.perf_counter()
                for check in checks_for(dataset):
                    check.evaluate(conn, dataset, result)
                t3 = time.perf_counter()
                times = f"{t1 - t0:.2f} | {t2 - t1:.2f} | {t3 - t2:.2f}"
                print(f"| {dataset.name} ({day}) | {load.rows:,} | {times} |")
                print("\n".join([*raw_rows, *staged_rows]), end="\n" if args.statements else "")
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024
    print(f"\npeak memory (max RSS): {peak_gb:.2f} GB")


if __name__ == "__main__":
    main()
