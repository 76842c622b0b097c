"""`duplicate_keys` (the `keys_unique` check): keys shared by more than one staged row of one
snapshot, found by a hash of the key first and then exactly."""

import datetime as dt
from pathlib import Path

import duckdb

from learn_assets.contracts.datasets import DATASETS_BY_NAME
from learn_assets.contracts.sql import compile_contract
from learn_assets.layout import STAGED, ensure_layout
from learn_assets.raw.load import load_snapshot
from learn_assets.staged.check_log import LoggedCheck, check_status, record_checks
from learn_assets.staged.checks import keys_unique
from learn_assets.staged.stage import duplicate_keys, stage_snapshot
from learn_assets.warehouse.sql import quote_ident, transaction
from learn_assets.warehouse.versioned import replace_snapshot
from learn_assets_tests.helpers import tiny_rows, write_csv

PROGRESS = DATASETS_BY_NAME["Progress"]
D1, D2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)


def _stage(conn: duckdb.DuckDBPyConnection, day: dt.date, rows: list[dict]) -> None:
    """Store `rows` (key columns by name, every other column NULL) as staged Progress of `day`."""
    types = compile_contract(PROGRESS.contract).types
    selects = [
        "SELECT "
        + ", ".join(
            f"CAST(? AS {sql_type}) AS {quote_ident(column)}" for column, sql_type in types.items()
        )
    ] * len(rows)
    values = [row.get(column) for row in rows for column in types]
    conn.execute("CREATE OR REPLACE TEMP TABLE given AS " + " UNION ALL ".join(selects), values)
    with transaction(conn):
        replace_snapshot(conn, STAGED, PROGRESS.table, day, "SELECT * FROM given")


def test_only_keys_repeated_within_one_snapshot_count(tmp_path: Path) -> None:
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_layout(conn)
    key = compile_contract(PROGRESS.contract).key
    a = {"tenant_id": "t", "user_id": "a", "source_uid": "u1", "xp": 10}
    b = {"tenant_id": "t", "user_id": "b", "source_uid": "u1", "xp": 10}
    no_uid = {"tenant_id": "t", "user_id": "c", "xp": 5}  # NULLs in the key repeat too
    _stage(conn, D1, [a, b, no_uid])
    _stage(conn, D2, [a, a, b, no_uid, no_uid, no_uid])

    assert duplicate_keys(conn, PROGRESS, D1) == (0, [])  # a and b of D1 also on D2: no repeat
    count, rows = duplicate_keys(conn, PROGRESS, D2)
    assert count == 2
    assert rows == [
        (*(a.get(k) for k in key), 2),
        (*(no_uid.get(k) for k in key), 3),
    ]
    assert duplicate_keys(conn, PROGRESS, D2, limit=1) == (2, rows[:1])


def test_after_a_day_without_repeats_only_the_keys_added_are_looked_among(tmp_path: Path) -> None:
    """`keys_unique` of a day staged from changes looks among the keys of the rows added when
    the check passed on the day before, with the answer of looking at every key: a row added
    with a kept row's key (a staging bug, made here behind its back) is found; after that day
    failed, every key is looked at again."""
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    copied = ", ".join(
        f"{quote_ident(c)} = k.{quote_ident(c)}" for c in compile_contract(PROGRESS.contract).types
    )
    days = [D1 + dt.timedelta(days=i) for i in range(4)]
    rows = tiny_rows(PROGRESS, D1, 3)
    for i, day in enumerate(days):
        rows = rows + tiny_rows(PROGRESS, day, 4)[3:]  # one more row each day
        load_snapshot(
            conn, PROGRESS, day, write_csv(tmp_path / f"{day}.csv", PROGRESS.column_names, rows)
        )
        result = stage_snapshot(conn, PROGRESS, day)
        if i == 2:
            conn.execute(
                f"UPDATE staged.progress_versions SET {copied} FROM (SELECT * FROM "
                "staged.progress_versions WHERE valid_from = ? ORDER BY ALL LIMIT 1) k "
                "WHERE staged.progress_versions.valid_from = ?",
                [D1, day],
            )
        full = keys_unique(conn, PROGRESS, result, incremental=False)
        outcome = keys_unique(conn, PROGRESS, result)
        status = check_status(True, outcome.passed, False)
        logged = LoggedCheck("progress", day, "keys_unique", True, status, outcome.failing, "")
        record_checks(conn, "progress", day, [logged])
        since = outcome.detail.pop("looked among keys added since", None)
        assert outcome == full, day
        assert since == (str(days[i - 1]) if i in (1, 2) else None), day
        assert outcome.failing == (1 if i >= 2 else 0), day
