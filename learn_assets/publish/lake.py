"""The lake: every report and core table published as a Delta Lake table (the format of Microsoft
Fabric OneLake, Databricks and Synapse), under LEARN_LAKE_DIR (a local folder, or an Azure
`az://` / `abfs://` URL with the storage layer's credentials).

- `<lake>/reports/<report>`: every loaded snapshot, partitioned by `snapshot_date`. Publishing a
  snapshot replaces that snapshot's partition in one Delta commit (a reader sees the old or the
  new rows, never a mix); a removed snapshot's partition is deleted.
- `<lake>/core/<table>`: the current value of every key (one row per learner, content object,
  event), with first and last seen snapshots; replaced whole, in one commit, when it changed.

Which snapshots to write comes from the change ledger: the lake mirrors every write of a report
snapshot (and every removal) it has not seen yet, so a re-run that changed nothing writes
nothing, and a rebuilt later snapshot is published again. In privacy mode the Entra directory
columns never reach the lake (the reports are pseudonymized already).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import TableNotFoundError

from learn_assets.core.build import CORE_TABLES, LEARNERS, CoreTable, core_table
from learn_assets.exports.tables import plain_schema, report_rows
from learn_assets.publish.lake_location import (  # noqa: F401 - re-exported
    Lake,
    LakeError,
    _fail,
    delta_storage_options,
    lake_for,
)
from learn_assets.reports.build import REPORT_TABLES, ReportTable
from learn_assets.warehouse.ledger import mark_consumed, pending_changes
from learn_assets.warehouse.sql import transaction
from learn_assets.warehouse.versioned import loaded_snapshots

PUBLISH = "publish"  # the schema of the lake's bookkeeping (what it has published)
DIRECTORY_COLUMNS = ("display_name", "department", "job_title", "mail", "country")
# Rows per Arrow batch handed to delta-rs, which writes each batch as it comes: a publish holds
# a few batches of a table in memory, never the whole table (at L a core table fetched whole was
# over a GB of Arrow on top of DuckDB's own memory: issue #18).
BATCH_ROWS = 100_000


@dataclass
class Published:
    """What one publish wrote: per lake table, the Delta version, files and rows now there,
    and the snapshots written or removed."""

    tables: dict[str, dict[str, object]] = field(default_factory=dict)


def core_rows(
    conn: duckdb.DuckDBPyConnection, table: CoreTable, privacy: bool
) -> pa.RecordBatchReader:
    """The current rows of a core table as the lake holds them (no directory data, nor the
    Entra object id, in privacy mode), a batch at a time."""
    dropped = (*DIRECTORY_COLUMNS, "aad_object_id", "in_directory") if table is LEARNERS else ()
    exclude = f" EXCLUDE ({', '.join(dropped)})" if privacy and dropped else ""
    conn.execute("SET TimeZone = 'UTC'")
    return arrow_batches(conn.sql(f"SELECT *{exclude} FROM {core_table(table)}"))


def arrow_batches(
    relation: duckdb.DuckDBPyRelation, batch_rows: int | None = None
) -> pa.RecordBatchReader:
    """The relation's rows, run as they are read, `batch_rows` (default BATCH_ROWS) a batch;
    string views as plain strings (what the lake's readers expect). The connection is busy
    until the reader is exhausted."""
    reader = relation.to_arrow_reader(batch_rows or BATCH_ROWS)
    schema = plain_schema(reader.schema)
    if schema == reader.schema:
        return reader
    return pa.RecordBatchReader.from_batches(schema, (b.cast(schema) for b in reader))


def open_delta(lake: Lake, uri: str) -> DeltaTable | None:
    try:
        return DeltaTable(uri, storage_options=dict(lake.storage_options) or None)
    except TableNotFoundError:
        return None


def _predicate(day: dt.date) -> str:
    return f"snapshot_date = '{day.isoformat()}'"  # a date: nothing from input


def _mirror(
    conn: duckdb.DuckDBPyConnection,
    lake: Lake,
    report: ReportTable,
    days: list[dt.date],
    loaded: set[dt.date],
    written: list[dt.date],
    removed: list[dt.date],
) -> None:
    """Make each of `days` in the lake equal the warehouse: its rows (one commit), or gone."""
    uri = lake.uri("reports", report.name)
    for day in days:
        table = open_delta(lake, uri)
        if day in loaded:
            rows = arrow_batches(report_rows(conn, report, day, ordered=False))
            if table is None:  # the first write creates the table and its partitioning
                write_deltalake(
                    uri,
                    rows,
                    partition_by=["snapshot_date"],
                    mode="overwrite",
                    storage_options=dict(lake.storage_options) or None,
                )
            else:
                write_deltalake(table, rows, mode="overwrite", predicate=_predicate(day))
            written.append(day)
        elif table is not None:
            table.delete(_predicate(day))
            removed.append(day)


def publish_report(
    conn: duckdb.DuckDBPyConnection, lake: Lake, report: ReportTable, requested: list[dt.date]
) -> dict[str, object]:
    """Mirror into the lake every snapshot of `report` written or removed since it was last
    published, and the requested ones."""
    consumer, source = f"{PUBLISH}.reports__{report.name}", report.qualified
    changes = pending_changes(conn, consumer, [source])
    loaded = set(loaded_snapshots(conn, "reports", report.name))
    days = sorted({c.snapshot for c in changes if c.snapshot} | set(requested))
    uri = lake.uri("reports", report.name)
    written, removed = [], []
    try:
        _mirror(conn, lake, report, days, loaded, written, removed)
        # Anything else that differs (a lake folder deleted, restored or written by another
        # warehouse) is repaired here: every snapshot whose rows differ is published again.
        expected, found = warehouse_counts(conn, report), lake_counts(lake, report)
        if expected != found:
            repair = sorted(
                d for d in set(expected) | set(found) if expected.get(d) != found.get(d)
            )
            _mirror(conn, lake, report, repair, loaded, written, removed)
    except Exception as e:  # deltalake and object_store raise many kinds: name the table
        raise _fail(lake, f"reports.{report.name}", e) from None
    with transaction(conn):
        mark_consumed(conn, consumer, changes, [source])
    return _describe(lake, uri) | {"written": written, "removed": removed}


def publish_core(
    conn: duckdb.DuckDBPyConnection, lake: Lake, table: CoreTable, privacy: bool
) -> dict[str, object]:
    """Replace the lake's copy of a core table (one commit) when it changed since last time."""
    consumer = f"{PUBLISH}.core__{table.name}"
    sources = [table.qualified, "staged.entra_users"] if table is LEARNERS else [table.qualified]
    changes = pending_changes(conn, consumer, sources)
    uri = lake.uri("core", table.name)
    try:
        if changes or open_delta(lake, uri) is None:
            write_deltalake(
                uri,
                core_rows(conn, table, privacy),
                mode="overwrite",
                schema_mode="overwrite",
                storage_options=dict(lake.storage_options) or None,
            )
    except Exception as e:  # deltalake and object_store raise many kinds: name the table
        raise _fail(lake, f"core.{table.name}", e) from None
    with transaction(conn):
        mark_consumed(conn, consumer, changes, sources)
    return _describe(lake, uri) | {"written": bool(changes)}


def _describe(lake: Lake, uri: str) -> dict[str, object]:
    table = open_delta(lake, uri)
    if table is None:
        return {"version": None, "files": 0, "rows": 0}
    return {
        "version": table.version(),
        "files": len(table.file_uris()),
        "rows": table.to_pyarrow_dataset().count_rows(),
    }


def publish_lake(
    conn: duckdb.DuckDBPyConnection, lake: Lake, requested: list[dt.date], privacy: bool
) -> Published:
    """Bring every lake table up to date with the warehouse."""
    if "://" not in lake.root:
        try:  # delta-rs panics (not raises) on a local path it cannot create: check first
            Path(lake.root).mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise _fail(lake, "the lake folder", e) from None
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {PUBLISH}")
    done = Published()
    for report in REPORT_TABLES:
        done.tables[f"reports/{report.name}"] = publish_report(conn, lake, report, requested)
    for table in CORE_TABLES:
        done.tables[f"core/{table.name}"] = publish_core(conn, lake, table, privacy)
    return done


def lake_counts(lake: Lake, report: ReportTable) -> dict[dt.date, int]:
    """Rows per snapshot of a report in the lake, from the Delta log's file statistics (no
    data file is read)."""
    table = open_delta(lake, lake.uri("reports", report.name))
    if table is None:
        return {}
    files = pa.table(table.get_add_actions(flatten=True))
    if files.num_rows == 0:  # a table with no data file (every snapshot empty or removed)
        return {}
    counts: dict[dt.date, int] = {}
    for day, rows in zip(
        files["partition.snapshot_date"].to_pylist(), files["num_records"].to_pylist(), strict=True
    ):
        counts[day] = counts.get(day, 0) + rows
    return {day: rows for day, rows in counts.items() if rows}


def warehouse_counts(conn: duckdb.DuckDBPyConnection, report: ReportTable) -> dict[dt.date, int]:
    rows = conn.execute(
        "SELECT snapshot_date, row_count FROM reports._snapshots WHERE table_name = ?",
        [report.name],
    ).fetchall()
    return {day: count for day, count in rows if count}
