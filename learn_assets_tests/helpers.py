"""Shared test helpers: resources in a temporary folder, tiny delivered files, the pipeline's
steps for a set of snapshots without Dagster (the order a run takes them in), and what two builds
are compared on (every derived table, every table's checksum)."""

from __future__ import annotations

import csv
import datetime as dt
import subprocess
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest

from learn_assets.contracts.datasets import DATASETS, Dataset
from learn_assets.core.build import CORE_TABLES, history_table, update_core
from learn_assets.layout import ensure_layout
from learn_assets.raw.load import load_entra_export, load_snapshot
from learn_assets.reports.build import REPORT_TABLES, refresh_report, report_table
from learn_assets.resources.reporting import ReportSettingsValues
from learn_assets.resources.settings import resources_from_env
from learn_assets.staged.stage import StageResult, stage_entra, stage_snapshot
from learn_assets.warehouse.ledger import Refreshed


def resources_in(
    folder: Path, landing: Path, warehouse: Path | None = None, **env: str
) -> dict[str, object]:
    """The project's resources, as the environment would configure them, with every path in
    `folder` (the warehouse at `warehouse` if given); `env` overrides settings."""
    return resources_from_env(
        {
            "LEARN_LANDING_DIR": str(landing),
            "LEARN_WAREHOUSE": str(warehouse or folder / "warehouse.duckdb"),
            "LEARN_EXPORTS_DIR": str(folder / "exports"),
            "LEARN_CACHE_DIR": str(folder / "cache"),
            "LEARN_LAKE_DIR": str(folder / "lake"),
            "LEARN_SERVING_DATABASE": str(folder / "serving.duckdb"),
            **env,
        }
    )


def load_day(conn: duckdb.DuckDBPyConnection, landing: Path, day: dt.date) -> None:
    """Load every dataset of one snapshot folder into raw."""
    for dataset in DATASETS:
        load_snapshot(conn, dataset, day, landing / day.isoformat() / f"{dataset.name}.csv")


def run_snapshots(
    conn: duckdb.DuckDBPyConnection,
    landing: Path,
    days: Iterable[dt.date],
    settings: ReportSettingsValues | None = None,
    incremental: bool = True,
    entra: bool = True,
    reports_from_changes: bool = True,
) -> dict[str, list[Refreshed]]:
    """What one run of the pipeline does for `days`: raw, staged, core, reports (no exports).
    Returns what each report wrote."""
    days = sorted(days)
    ensure_layout(conn)  # as the warehouse resource does when a run opens the warehouse
    if entra:
        load_entra_export(conn, landing / "entra_users.csv")
        stage_entra(conn)
    for day in days:
        load_day(conn, landing, day)
    for day in days:
        for dataset in DATASETS:
            stage_snapshot(conn, dataset, day)
    for table in CORE_TABLES:
        update_core(conn, table, incremental)
    return {
        report.name: refresh_report(
            conn, report, days, settings or ReportSettingsValues(), reports_from_changes
        )
        for report in REPORT_TABLES
    }


def derived_tables(conn: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Every core history and report table, rows sorted (a table not built yet has no rows):
    equal for equal builds."""
    tables = [history_table(t) for t in CORE_TABLES] + [report_table(r) for r in REPORT_TABLES]
    found: dict[str, list[tuple]] = {}
    for table in tables:
        try:
            found[table] = sorted(conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
        except duckdb.CatalogException:
            found[table] = []
    return found


TENANT = "11111111-2222-3333-4444-555555555555"


# Values that pass the contracts' enum rules, by delivered column name.
ALLOWED = {"awardType": ["Badge", "Trophy"], "SourceType": ["Module", "LearningPath"]}


def tiny_rows(dataset: Dataset, snapshot: dt.date, n: int = 2) -> list[dict[str, str]]:
    """`n` plausible rows whose values encode the snapshot, so partitions can be told apart."""
    rows = []
    for i in range(n):
        row = {}
        for c in dataset.columns:
            if c.kind.value == "guid":
                row[c.name] = (
                    TENANT
                    if c.name.lower() == "tenantid"
                    else f"{i:08x}-0000-0000-0000-{snapshot:%Y%m%d}0000"
                )
            elif c.kind.value in ("int", "yyyymmdd"):
                row[c.name] = str(100 + i) if c.kind.value == "int" else f"{snapshot:%Y%m%d}"
            elif c.kind.value in ("datetimeoffset", "datetime"):
                row[c.name] = f"{snapshot}T10:00:00.1234567-08:00"
            elif c.kind.value == "json_array":
                row[c.name] = '["beginner","intermediate"]'
            elif c.name in ALLOWED:
                row[c.name] = ALLOWED[c.name][i % len(ALLOWED[c.name])]
            else:
                row[c.name] = f"{c.name.lower()} {i}, {snapshot}"
        rows.append(row)
    return rows


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Mapping[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(header))
        writer.writeheader()
        writer.writerows(rows)
    return path


VOLATILE = {("raw", "_load_log"): "loaded_at"}  # wall-clock time of the load
# The change ledger logs operations (every load, re-run, rebuild), not content.
OPERATION_LOGS = ("_changes", "_consumed")


def checksums(database: str) -> dict[str, tuple]:
    """(rows, order-independent hash of all rows) per table of the warehouse."""
    with duckdb.connect(database, read_only=True) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables ORDER BY ALL"
        ).fetchall()
        sums = {}
        for schema, table in tables:
            if table in OPERATION_LOGS:
                continue
            exclude = VOLATILE.get((schema, table))
            columns = f"* EXCLUDE ({exclude})" if exclude else "*"
            sums[f"{schema}.{table}"] = conn.execute(
                f'SELECT count(*), sum(hash(t)) FROM (SELECT {columns} FROM "{schema}"."{table}") t'
            ).fetchone()
    return sums


def stage_all(conn, days, incremental: bool = True) -> dict[tuple[str, dt.date], StageResult]:
    return {
        (dataset.name, day): stage_snapshot(conn, dataset, day, incremental)
        for day in days
        for dataset in DATASETS
    }


# A second process holding the warehouse open, as an analyst's notebook or the DuckDB CLI would
# (read-only), or as a run does (writing: argv[3] "w"). With seconds 0 it holds until another
# process waits (its waiting marker appears), then 1 s more: the waiter is sure to meet the lock
# however slowly a loaded machine starts it.
HOLDER = (
    "import duckdb, pathlib, sys, time\n"
    "conn = duckdb.connect(sys.argv[1], read_only=sys.argv[3] != 'w')\n"
    "print('holding', flush=True)\n"
    "if float(sys.argv[2]):\n"
    "    time.sleep(float(sys.argv[2]))\n"
    "else:\n"
    "    path = pathlib.Path(sys.argv[1])\n"
    "    while not list(path.parent.glob(path.name + '.waiting.*')):\n"
    "        time.sleep(0.05)\n"
    "    time.sleep(1)\n"
    "conn.close()\n"
    "print('closed', flush=True)\n"
    "time.sleep(60)\n"
)


@contextmanager
def holder(
    database: str, seconds: float, write: bool = False
) -> Iterator[tuple[subprocess.Popen, str]]:
    """A real process with a read-only (or a `write`) connection to `database` for `seconds`;
    yields it and its command line as /proc shows it."""
    script = Path(database).with_name("holder.py")
    script.write_text(HOLDER)
    args = [sys.executable, str(script), database, str(seconds), "w" if write else "r"]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline() == "holding\n"
        yield process, " ".join(args)
    finally:
        process.kill()
        process.wait()


def seeds(count: int, fast: int) -> list[object]:
    """The seeds of a randomized test: the first `fast` in the quick loop (`make test-fast`),
    every one of them in `make test` (the rest are marked slow)."""
    return [pytest.param(s, marks=pytest.mark.slow) if s >= fast else s for s in range(count)]
