"""Stage one snapshot: typed rows to staged.<table>, rule breakers to quarantine.<table>.

Everything runs inside DuckDB in one transaction per snapshot, so a failure keeps the previous
content of both tables, and every raw row ends up in exactly one of the two (conservation).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb

from learn_assets.contracts.datasets import Dataset
from learn_assets.contracts.sql import CompiledContract, compile_contract, judged_select, raw_ref
from learn_assets.raw.load import LOAD_LOG, raw_table
from learn_assets.resources import quote_ident

STAGED, QUARANTINE = "staged", "quarantine"
DUPLICATE = "duplicate row (an identical row appears earlier in the snapshot)"


@dataclass(frozen=True)
class StageResult:
    snapshot_date: dt.date
    raw_rows: int
    staged_rows: int
    quarantined_rows: int
    failures: dict[str, int] = field(default_factory=dict)  # rule -> rows breaking it


def staged_table(dataset: Dataset) -> str:
    return f"{STAGED}.{quote_ident(dataset.table)}"


def quarantine_table(dataset: Dataset) -> str:
    return f"{QUARANTINE}.{quote_ident(dataset.table)}"


def ensure_stage_tables(
    conn: duckdb.DuckDBPyConnection, dataset: Dataset, compiled: CompiledContract
) -> None:
    typed = ", ".join(f"{quote_ident(n)} {t}" for n, t in compiled.types.items())
    raw = ", ".join(f"{quote_ident(c)} VARCHAR" for c in dataset.column_names)
    for schema in (STAGED, QUARANTINE):
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {staged_table(dataset)} (snapshot_date DATE NOT NULL, {typed})"
    )
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {quarantine_table(dataset)} "
        f"(snapshot_date DATE NOT NULL, reason VARCHAR NOT NULL, {raw})"
    )


def stage_snapshot(
    conn: duckdb.DuckDBPyConnection, dataset: Dataset, snapshot: dt.date
) -> StageResult:
    compiled = compile_contract(dataset.contract)
    ensure_stage_tables(conn, dataset, compiled)
    conn.execute("SET TimeZone = 'UTC'")  # timestamps without an offset are UTC
    source = f"(SELECT * FROM {raw_table(dataset)} WHERE snapshot_date = $snapshot)"
    judged = judged_select(compiled, dataset.column_names, source)
    staged_cols = ", ".join(quote_ident(n) for n in compiled.types)
    originals = ", ".join(f"{raw_ref(c)} AS {quote_ident(c)}" for c in dataset.column_names)
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute(f"CREATE OR REPLACE TEMP TABLE judged AS {judged}", {"snapshot": snapshot})
        for table in (staged_table(dataset), quarantine_table(dataset)):
            conn.execute(f"DELETE FROM {table} WHERE snapshot_date = ?", [snapshot])
        conn.execute(
            f"INSERT INTO {staged_table(dataset)} SELECT snapshot_date, {staged_cols} FROM judged "
            "WHERE len(reasons) = 0 AND copy_number = 1"
        )
        conn.execute(
            f"INSERT INTO {quarantine_table(dataset)} BY NAME "
            f"SELECT snapshot_date, array_to_string(reasons, '; ') AS reason, {originals} "
            "FROM (SELECT * REPLACE (CASE WHEN copy_number > 1 "
            f"THEN list_append(reasons, ?) ELSE reasons END AS reasons) FROM judged) "
            "WHERE len(reasons) > 0",
            [DUPLICATE],
        )
        totals = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE len(reasons) = 0 AND copy_number = 1) "
            "FROM judged"
        ).fetchone()
        failures = dict(
            conn.execute(
                "SELECT reason, count(*) FROM ("
                "  SELECT unnest(reasons) AS reason FROM judged"
                "  UNION ALL SELECT ? FROM judged WHERE copy_number > 1"
                ") GROUP BY reason ORDER BY count(*) DESC, reason",
                [DUPLICATE],
            ).fetchall()
        )
        conn.execute("DROP TABLE judged")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    raw_rows, staged_rows = (int(x) for x in totals or (0, 0))
    return StageResult(snapshot, raw_rows, staged_rows, raw_rows - staged_rows, failures)


def duplicate_keys(
    conn: duckdb.DuckDBPyConnection, dataset: Dataset, snapshot: dt.date, limit: int = 10
) -> tuple[int, list[tuple]]:
    """Keys that more than one staged row of the snapshot shares (with different content)."""
    key = ", ".join(quote_ident(k) for k in compile_contract(dataset.contract).key)
    rows = conn.execute(
        f"SELECT {key}, count(*) AS rows FROM {staged_table(dataset)} WHERE snapshot_date = ? "
        f"GROUP BY ALL HAVING count(*) > 1 ORDER BY ALL",
        [snapshot],
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
    conn: duckdb.DuckDBPyConnection, dataset: Dataset, snapshot: dt.date, limit: int = 10
) -> tuple[list[str], list[tuple]]:
    cursor = conn.execute(
        f"SELECT * EXCLUDE (snapshot_date) FROM {quarantine_table(dataset)} "
        "WHERE snapshot_date = ? ORDER BY reason LIMIT ?",
        [snapshot, limit],
    )
    return [d[0] for d in cursor.description], cursor.fetchall()


def tenant_ids(conn: duckdb.DuckDBPyConnection, dataset: Dataset, snapshot: dt.date) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            f"SELECT DISTINCT tenant_id FROM {staged_table(dataset)} WHERE snapshot_date = ? "
            "ORDER BY 1",
            [snapshot],
        ).fetchall()
    ]
