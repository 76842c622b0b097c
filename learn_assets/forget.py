"""Removing a wrongly delivered snapshot from every layer (`learn-assets forget YYYY-MM-DD`).

The snapshot leaves raw, staged and quarantine (one transaction per layer); then every derived
layer catches up through the change ledger, as after any other change: core history is rebuilt
from the staged snapshots still loaded (one transaction), the reports remove that snapshot and
rebuild every later one (one transaction), and the export folders, the lake and the reports
database follow. The warehouse then
equals a fresh build of the remaining deliveries. The landing folder is left alone: the
deliveries are the customer's; delete or fix it there, or a backfill over that date loads it
again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from learn_assets.contracts.datasets import DATASETS
from learn_assets.core.build import CORE_TABLES, update_core
from learn_assets.exports.refresh import refresh_exports
from learn_assets.publish.lake import Lake, publish_lake
from learn_assets.publish.serving import build_serving_database
from learn_assets.raw.load import LOAD_LOG, RAW_SCHEMA
from learn_assets.reports.build import REPORT_TABLES, refresh_report
from learn_assets.resources.reporting import ReportSettingsValues
from learn_assets.staged.stage import QUARANTINE, STAGE_LOG, STAGED
from learn_assets.warehouse.ledger import Refreshed
from learn_assets.warehouse.sql import relation_exists, transaction
from learn_assets.warehouse.versioned import delete_snapshot, loaded_snapshots


class NothingToForget(ValueError):
    """The snapshot is not loaded in the warehouse."""


@dataclass
class Forgotten:
    snapshot: dt.date
    tables: list[str] = field(default_factory=list)  # snapshot tables it was removed from
    rebuilt: dict[str, list[Refreshed]] = field(default_factory=dict)  # derived table -> steps


def forget_snapshot(
    conn: duckdb.DuckDBPyConnection,
    snapshot: dt.date,
    settings: ReportSettingsValues,
    exports_dir: Path | None = None,
    lake: Lake | None = None,
    serving_database: Path | None = None,
    **export_options,
) -> Forgotten:
    """Remove `snapshot` from the warehouse (and its export folder under `exports_dir`, its
    partitions in the `lake`, the `serving_database`), then bring core, reports, exports and
    the published copies up to date with what remains."""
    if not any(snapshot in loaded_snapshots(conn, RAW_SCHEMA, d.table) for d in DATASETS):
        raise NothingToForget(f"snapshot {snapshot} is not loaded in the warehouse")
    done = Forgotten(snapshot)
    for schemas, log in (((RAW_SCHEMA,), LOAD_LOG), ((STAGED, QUARANTINE), STAGE_LOG)):
        with transaction(conn):
            for schema in schemas:
                for dataset in DATASETS:
                    if snapshot in loaded_snapshots(conn, schema, dataset.table):
                        delete_snapshot(conn, schema, dataset.table, snapshot)
                        done.tables.append(f"{schema}.{dataset.table}")
            log_schema, log_name = log.split(".")
            if relation_exists(conn, log_schema, log_name):
                conn.execute(f"DELETE FROM {log} WHERE snapshot_date = ?", [snapshot])
    with transaction(conn):
        for table in CORE_TABLES:
            update_core(conn, table)
    with transaction(conn):
        for report in REPORT_TABLES:
            done.rebuilt[report.qualified] = refresh_report(conn, report, [], settings)
    if exports_dir is not None:
        steps = refresh_exports(conn, [], exports_dir, **export_options)
        done.rebuilt["exports.snapshot_files"] = [step for step, _ in steps]
    if lake is not None:
        publish_lake(conn, lake, [], settings.pseudonymize)
    if serving_database is not None:
        build_serving_database(conn, serving_database, settings.pseudonymize)
    return done
