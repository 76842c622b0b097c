"""The reports database for SQL users and BI tools (LEARN_SERVING_DATABASE, default
`data/serving.duckdb`): the `reports` and `core` schemas as tables of their own, not views into
the warehouse, so nobody who reads it ever holds the pipeline's lock.

It is written whole under a temporary name beside the target and renamed into place. A reader
that has the old file open keeps reading the old file undisturbed (the rename gives the name to
the new file; the old one lives on until its last reader closes it); the next connection sees
the new one. The pipeline never opens the target itself for writing, so it never waits on a
reader.

Reports keep the warehouse's layout (each a view over `<name>_versions` and `_snapshots`: every
snapshot, each unchanged row stored once); core tables too: their history
(`core.<table>_history`) and the current values (`core.<table>`), a view over the history as in
the warehouse, except `core.learners`, stored with its directory columns. In privacy mode no
directory data and no Entra object id is copied. The file is named `serving.duckdb`, not
`reports.duckdb`: DuckDB names a file's catalog after it, and a catalog called `reports` beside a
schema called `reports` makes `reports.learner_summary` ambiguous.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import duckdb

from learn_assets.core.build import (
    CORE_TABLES,
    LEARNERS,
    core_table,
    current_select,
    history_table,
)
from learn_assets.publish.lake import DIRECTORY_COLUMNS
from learn_assets.reports.build import REPORT_TABLES
from learn_assets.warehouse.sql import quote_ident, quote_literal
from learn_assets.warehouse.versioned import BOOKKEEPING, ensure_versioned, versions_table

BUILDING = "serving_build"  # catalog alias of the file being written


def _columns(conn: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in conn.execute(f"DESCRIBE {table}").fetchall()]


def build_serving_database(
    conn: duckdb.DuckDBPyConnection, target: Path, privacy: bool
) -> dict[str, int]:
    """Write the reports database from the warehouse open on `conn`; returns rows stored per
    table. The target is replaced only once the new file is complete."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    (warehouse,) = conn.execute("SELECT current_database()").fetchone() or ("",)
    source = quote_ident(warehouse)
    try:
        conn.execute(f"ATTACH {quote_literal(str(tmp))} AS {BUILDING}")
        try:
            conn.execute(f"USE {BUILDING}")
            rows = _copy_tables(conn, source, privacy)
        finally:
            conn.execute(f"USE {source}")
            conn.execute(f"DETACH {BUILDING}")
        os.replace(tmp, target)
    finally:  # a failed build leaves the previous file in place and no temporary one
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
    return rows


def _copy_tables(conn: duckdb.DuckDBPyConnection, source: str, privacy: bool) -> dict[str, int]:
    """Into the current catalog: every report as versions and view, every core table."""
    rows: dict[str, int] = {}
    for report in REPORT_TABLES:
        stored = f"{source}.{versions_table('reports', report.name)}"
        columns = [c for c in _columns(conn, stored) if c[0] not in BOOKKEEPING]
        ensure_versioned(conn, "reports", report.name, columns)
        conn.execute(f"INSERT INTO {versions_table('reports', report.name)} FROM {stored}")
        conn.execute(
            f"INSERT INTO reports._snapshots FROM {source}.reports._snapshots WHERE table_name = ?",
            [report.name],
        )
        rows[f"reports.{report.name}"] = _count(conn, versions_table("reports", report.name))
    conn.execute("CREATE SCHEMA core")
    private = (*DIRECTORY_COLUMNS, "aad_object_id", "in_directory")
    for table in CORE_TABLES:
        hidden = privacy and table is LEARNERS
        history = " EXCLUDE (aad_object_id)" if hidden else ""
        conn.execute(
            f"CREATE TABLE {history_table(table)} AS "
            f"SELECT *{history} FROM {source}.{history_table(table)}"
        )
        if table.view_joins:  # the current rows need the directory: stored as they read
            current = f" EXCLUDE ({', '.join(private)})" if hidden else ""
            conn.execute(
                f"CREATE TABLE {core_table(table)} AS "
                f"SELECT *{current} FROM {source}.{core_table(table)}"
            )
        else:  # the warehouse's view over the history copied above: each row stored once
            conn.execute(f"CREATE VIEW {core_table(table)} AS {current_select(table)}")
        rows[f"core.{table.name}"] = _count(conn, core_table(table))
    return rows


def _count(conn: duckdb.DuckDBPyConnection, table: str) -> int:
    row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0
