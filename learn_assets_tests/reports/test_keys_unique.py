"""The reports' `keys_unique` check: a key repeated within the snapshot fails it, whatever the
other snapshots hold (it asks whether any hash of the key repeats first, then counts by key)."""

import datetime as dt
from pathlib import Path

import duckdb

from learn_assets.reports.build import LEARNER_SUMMARY
from learn_assets.reports.checks import keys_unique
from learn_assets.warehouse.sql import transaction
from learn_assets.warehouse.versioned import replace_snapshot

D1, D2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)


def _store(conn: duckdb.DuckDBPyConnection, day: dt.date, users: list[str | None]) -> None:
    row = "SELECT NULL::DATE AS snapshot_date, ?::VARCHAR AS user_id, 1 AS total_xp"
    rows = " UNION ALL ".join([row] * len(users))
    with transaction(conn):
        replace_snapshot(conn, "reports", LEARNER_SUMMARY.name, day, rows, users)


def test_a_key_repeated_in_the_snapshot_fails(tmp_path: Path) -> None:
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    _store(conn, D1, ["u1", "u2", None])
    _store(conn, D2, ["u1", "u1", "u2", None, None, None])

    assert keys_unique(conn, LEARNER_SUMMARY, D1).passed  # u1 and u2 also on D2
    repeated = keys_unique(conn, LEARNER_SUMMARY, D2)
    assert (repeated.passed, repeated.failing) == (False, 2)
    assert repeated.sample == (["snapshot_date", "user_id", "rows"], [(D2, "u1", 2), (D2, None, 3)])
