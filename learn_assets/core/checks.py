"""Asset checks of a core table as of one snapshot, computed in DuckDB."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from learn_assets.core.build import (
    STAGED,
    CoreTable,
    as_of,
    key_hash,
    quote_ident,
    repeated_key_hashes,
)
from learn_assets.staged.checks import SAMPLE_ROWS, CheckOutcome
from learn_assets.warehouse.sql import hashes_repeat


@dataclass(frozen=True)
class CoreCheck:
    name: str
    description: str
    blocking: bool
    evaluate: Callable[[duckdb.DuckDBPyConnection, CoreTable, dt.date], CheckOutcome]


def _key(table: CoreTable) -> str:
    return ", ".join(quote_ident(k) for k in table.key)


def conflicts(conn: duckdb.DuckDBPyConnection, table: CoreTable, day: dt.date) -> CheckOutcome:
    """Keys that rows of the staged snapshot share with different values."""
    key = _key(table)
    values = ", ".join(quote_ident(c) for c in (*table.key, *table.attributes))
    delivered = " UNION ALL ".join(
        f"SELECT {source.select} FROM {STAGED}.{quote_ident(source.table)} "
        "WHERE snapshot_date = $day"
        for source in table.sources
    )
    hashed = key_hash(table, "d")
    rows = conn.execute(
        f"WITH delivered AS NOT MATERIALIZED ({delivered}), "
        f"repeated AS ({repeated_key_hashes(hashed, 'delivered', 'd')}) "
        f"SELECT {key}, count(*) AS rows FROM (SELECT DISTINCT {values} FROM delivered d "
        f"SEMI JOIN repeated r ON {hashed} = r.h) "
        f"GROUP BY ALL HAVING count(*) > 1 ORDER BY rows DESC, {key}",
        {"day": day},
    ).fetchall()
    return CheckOutcome(
        not rows,
        len(rows),
        {"key": ", ".join(table.key), "rule": f"the row with {table.precedence} stands"},
        ([*table.key, "rows"], rows[:SAMPLE_ROWS]) if rows else None,
    )


def one_value(conn: duckdb.DuckDBPyConnection, table: CoreTable, day: dt.date) -> CheckOutcome:
    """Every key has exactly one row as of the snapshot."""
    key = _key(table)
    hashed = key_hash(table, "a")
    if not hashes_repeat(conn, f"{as_of(table, '$day')} a", hashed, {"day": day}):
        return CheckOutcome(True, 0, {})
    rows = conn.execute(
        f"WITH current AS NOT MATERIALIZED {as_of(table, '$day')}, "
        f"repeated AS ({repeated_key_hashes(hashed, 'current', 'a')}) "
        f"SELECT {key}, count(*) AS rows FROM current a SEMI JOIN repeated r ON {hashed} = r.h "
        "GROUP BY ALL HAVING count(*) > 1 ORDER BY ALL",
        {"day": day},
    ).fetchall()
    return CheckOutcome(
        not rows, len(rows), {}, ([*table.key, "rows"], rows[:SAMPLE_ROWS]) if rows else None
    )


def core_checks(table: CoreTable) -> list[CoreCheck]:
    checks = [
        CoreCheck(
            "one_value_per_key",
            "Blocking. As of the snapshot, every key has exactly one row in the history.",
            True,
            one_value,
        )
    ]
    if table.precedence:
        checks.append(
            CoreCheck(
                "natural_key_conflicts",
                f"Rows of the staged snapshot sharing the key ({', '.join(table.key)}) with "
                f"different values; the row with {table.precedence} stands, the others are "
                "never counted.",
                False,
                conflicts,
            )
        )
    return checks
