"""Stage one snapshot: typed rows to staged.<table>, rule breakers to quarantine.<table>.

Everything runs inside DuckDB in one transaction per snapshot, so a failure keeps the previous
content of both tables, and every raw row ends up in exactly one of the two (conservation).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb

from learn_assets.contracts.datasets import DATASETS, ENTRA, Dataset
from learn_assets.contracts.sql import (
    CompiledContract,
    compile_contract,
    judged_select,
    repeats_select,
)
from learn_assets.raw.load import ENTRA_TABLE, LOAD_LOG, RAW_SCHEMA
from learn_assets.resources import quote_ident
from learn_assets.resources.versioned import ensure_versioned, replace_snapshot, snapshot_rows

STAGED, QUARANTINE = "staged", "quarantine"
DUPLICATE = "duplicate row (an identical row appears earlier in the snapshot)"


@dataclass(frozen=True)
class StageResult:
    snapshot_date: dt.date | None  # None for the unpartitioned Entra export
    raw_rows: int
    staged_rows: int
    quarantined_rows: int
    failures: dict[str, int] = field(default_factory=dict)  # rule -> rows breaking it


def in_scope(snapshot: dt.date | None) -> tuple[str, list]:
    """SQL condition (and parameters) selecting one snapshot, or everything if unpartitioned."""
    return ("snapshot_date = ?", [snapshot]) if snapshot else ("TRUE", [])


def staged_table(dataset: Dataset) -> str:
    return f"{STAGED}.{quote_ident(dataset.table)}"


def quarantine_table(dataset: Dataset) -> str:
    return f"{QUARANTINE}.{quote_ident(dataset.table)}"


def ensure_stage_tables(
    conn: duckdb.DuckDBPyConnection, dataset: Dataset, compiled: CompiledContract
) -> None:
    typed = list(compiled.types.items())
    quarantined = [("reason", "VARCHAR"), *((c, "VARCHAR") for c in dataset.column_names)]
    if dataset.partitioned:  # one snapshot per day: stored as row versions
        ensure_versioned(conn, STAGED, dataset.table, typed)
        ensure_versioned(conn, QUARANTINE, dataset.table, quarantined)
        return
    for schema in (STAGED, QUARANTINE):
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    tables = ((staged_table(dataset), typed), (quarantine_table(dataset), quarantined))
    for table, columns in tables:
        cols = ", ".join(f"{quote_ident(n)} {t}" for n, t in columns)
        conn.execute(f"CREATE TABLE IF NOT EXISTS {table} ({cols})")


def ensure_all_stage_tables(conn: duckdb.DuckDBPyConnection) -> None:
    """Create every staged and quarantine table that does not exist yet (empty), so downstream
    SQL runs even before a dataset was first staged (e.g. no Entra export loaded yet)."""
    for dataset in (*DATASETS, ENTRA):
        ensure_stage_tables(conn, dataset, compile_contract(dataset.contract))


def stage_snapshot(
    conn: duckdb.DuckDBPyConnection, dataset: Dataset, snapshot: dt.date
) -> StageResult:
    # Straight from raw's versions: their rowid identifies a row in both reads (judging, then
    # quarantining the originals) without copying the snapshot.
    source = f"({snapshot_rows(RAW_SCHEMA, dataset.table, 'raw_rowid')})"
    return stage(conn, dataset, source, {"snapshot": snapshot}, snapshot)


def stage_entra(conn: duckdb.DuckDBPyConnection) -> StageResult:
    """Stage raw.entra_users: `id` or `objectId` becomes object_id; absent columns are NULL."""
    found = {
        r[0].lower(): r[0]
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'raw' AND table_name = 'entra_users'"
        ).fetchall()
    }
    found.setdefault("id", found.get("objectid", ""))

    def pick(name: str) -> str:
        actual = found.get(name.lower())
        return f"{quote_ident(actual) if actual else 'NULL::VARCHAR'} AS {quote_ident(name)}"

    columns = ", ".join(pick(c) for c in ENTRA.column_names)
    source = (
        f"(SELECT rowid AS raw_rowid, NULL::DATE AS snapshot_date, {columns} FROM {ENTRA_TABLE})"
    )
    return stage(conn, ENTRA, source, {}, None)


def stage(
    conn: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    source: str,
    params: dict[str, object],
    snapshot: dt.date | None,
) -> StageResult:
    """Replace the snapshot (or, unpartitioned, everything) of staged and quarantine with the
    rows of `source` (raw_rowid, snapshot_date, delivered columns), judged by the contract.
    One transaction; temporary tables hold only typed values and verdicts."""
    compiled = compile_contract(dataset.contract)
    ensure_stage_tables(conn, dataset, compiled)
    conn.execute("SET TimeZone = 'UTC'")  # timestamps without an offset are UTC
    staged_cols = ", ".join(quote_ident(n) for n in compiled.types)
    originals = ", ".join(f"src.{quote_ident(c)}" for c in dataset.column_names)
    where, where_params = in_scope(snapshot)
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute(
            "CREATE OR REPLACE TEMP TABLE judged AS "
            + judged_select(compiled, dataset.column_names, source),
            params,
        )
        conn.execute(
            "CREATE OR REPLACE TEMP TABLE repeats AS "
            + repeats_select(dataset.column_names, source, "judged"),
            params,
        )
        keep = (
            f"SELECT {staged_cols} FROM judged "
            "WHERE reason = '' AND raw_rowid NOT IN (SELECT raw_rowid FROM repeats)"
        )
        quarantine = (
            "SELECT concat_ws('; ', NULLIF(j.reason, ''), "
            "CASE WHEN r.raw_rowid IS NOT NULL THEN $duplicate END) AS reason, "
            f"{originals} FROM {source} src JOIN judged j USING (raw_rowid) "
            "LEFT JOIN repeats r USING (raw_rowid) "
            "WHERE j.reason <> '' OR r.raw_rowid IS NOT NULL"
        )
        quarantine_params = params | {"duplicate": DUPLICATE}
        if snapshot:
            staged_rows = replace_snapshot(conn, STAGED, dataset.table, snapshot, keep)
            replace_snapshot(
                conn, QUARANTINE, dataset.table, snapshot, quarantine, quarantine_params
            )
        else:
            for table in (staged_table(dataset), quarantine_table(dataset)):
                conn.execute(f"DELETE FROM {table}")
            inserted = conn.execute(f"INSERT INTO {staged_table(dataset)} {keep}").fetchone()
            staged_rows = int(inserted[0]) if inserted else 0
            conn.execute(
                f"INSERT INTO {quarantine_table(dataset)} BY NAME {quarantine}", quarantine_params
            )
        total = conn.execute("SELECT count(*) FROM judged").fetchone()
        failures = dict(
            conn.execute(
                "SELECT rule, count(*) FROM ("
                f"  SELECT unnest(string_split(reason, '; ')) AS rule "
                f"  FROM {quarantine_table(dataset)} WHERE {where}"
                ") GROUP BY rule ORDER BY count(*) DESC, rule",
                where_params,
            ).fetchall()
        )
        conn.execute("DROP TABLE judged")
        conn.execute("DROP TABLE repeats")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    raw_rows = int(total[0]) if total else 0
    return StageResult(snapshot, raw_rows, staged_rows, raw_rows - staged_rows, failures)


def duplicate_keys(
    conn: duckdb.DuckDBPyConnection, dataset: Dataset, snapshot: dt.date | None, limit: int = 10
) -> tuple[int, list[tuple]]:
    """Keys that more than one staged row of the snapshot shares (with different content)."""
    key = ", ".join(quote_ident(k) for k in compile_contract(dataset.contract).key)
    where, params = in_scope(snapshot)
    table = staged_table(dataset)
    # Group by a hash first (cheap), then compare the few rows whose hash repeats exactly.
    rows = conn.execute(
        f"WITH scoped AS (SELECT {key}, hash({key}) AS h FROM {table} WHERE {where}) "
        f"SELECT {key}, count(*) AS rows FROM scoped "
        "WHERE h IN (SELECT h FROM scoped GROUP BY h HAVING count(*) > 1) "
        "GROUP BY ALL HAVING count(*) > 1 ORDER BY ALL",
        params,
    ).fetchall()
    return len(rows), rows[:limit]


def extra_columns(
    conn: duckdb.DuckDBPyConnection, dataset: Dataset, snapshot: dt.date
) -> list[str]:
    row = conn.execute(
        f"SELECT extra_columns FROM {LOAD_LOG} WHERE dataset = ? AND snapshot_date = ?",
        [dataset.table, snapshot],
    ).fetchone()
    return list(row[0]) if row else []


def quarantine_sample(
    conn: duckdb.DuckDBPyConnection, dataset: Dataset, snapshot: dt.date | None, limit: int = 10
) -> tuple[list[str], list[tuple]]:
    where, params = in_scope(snapshot)
    exclude = "EXCLUDE (snapshot_date)" if dataset.partitioned else ""
    cursor = conn.execute(
        f"SELECT * {exclude} FROM {quarantine_table(dataset)} "
        f"WHERE {where} ORDER BY reason LIMIT ?",
        [*params, limit],
    )
    return [d[0] for d in cursor.description], cursor.fetchall()
