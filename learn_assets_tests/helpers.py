"""Shared test helpers: the pipeline's steps for a set of snapshots without Dagster (the order a
run takes them in), and every derived table of a warehouse for comparing two builds."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from pathlib import Path

import duckdb

from learn_assets.contracts.datasets import DATASETS
from learn_assets.core.build import CORE_TABLES, history_table, update_core
from learn_assets.raw.load import load_entra_export, load_snapshot
from learn_assets.reports.build import REPORT_TABLES, refresh_report, report_table
from learn_assets.resources.reporting import ReportSettingsValues
from learn_assets.resources.settings import resources_from_env
from learn_assets.staged.stage import stage_entra, stage_snapshot


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
) -> None:
    """What one run of the pipeline does for `days`: raw, staged, core, reports (no exports)."""
    days = sorted(days)
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
    for report in REPORT_TABLES:
        refresh_report(conn, report, days, settings or ReportSettingsValues())


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
