"""Snapshot tables stored as row versions rebuild every snapshot exactly, in any load order."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import duckdb
import pytest

from learn_assets.warehouse import versioned
from learn_assets.warehouse.versioned import (
    OPEN_END,
    SourceReadError,
    WarehouseLayoutError,
    append_changes,
    continue_latest,
    delete_snapshot,
    ensure_versioned,
    loaded_snapshots,
    replace_snapshot,
    versions_table,
)
from learn_assets_tests.helpers import seeds

DAYS = [dt.date(2026, 11, 1) + dt.timedelta(days=i) for i in range(6)]
COLUMNS = [("user_id", "VARCHAR"), ("points", "INTEGER"), ("extra", "MAP(VARCHAR, VARCHAR)")]
# A small universe of rows, with NULLs and maps, so loads share, drop and repeat rows.
UNIVERSE = [
    ("a", 1, None),
    ("a", None, None),
    ("b", 2, {"x": "1"}),
    ("b", 2, {"x": "2"}),
    (None, 3, None),
    ("c", 4, {}),
    ("d", 5, None),
]


def load(
    conn: duckdb.DuckDBPyConnection, day: dt.date, rows: list[tuple], row_hash: str = "hash"
) -> int:
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE src (user_id VARCHAR, points INTEGER, "
        "extra MAP(VARCHAR, VARCHAR))"
    )
    if rows:
        conn.executemany("INSERT INTO src VALUES (?, ?, ?)", rows)
    conn.execute("BEGIN")
    count = replace_snapshot(conn, "raw", "things", day, "SELECT * FROM src", row_hash=row_hash)
    conn.execute("COMMIT")
    return count


def snapshot(conn: duckdb.DuckDBPyConnection, day: dt.date) -> Counter:
    rows = conn.execute(
        "SELECT user_id, points, extra FROM raw.things WHERE snapshot_date = ?", [day]
    ).fetchall()
    return Counter((u, p, tuple(sorted(e.items())) if e is not None else None) for u, p, e in rows)


def as_counter(rows: list[tuple]) -> Counter:
    return Counter((u, p, tuple(sorted(e.items())) if e is not None else None) for u, p, e in rows)


def versions(conn: duckdb.DuckDBPyConnection) -> list[tuple]:
    return sorted(
        conn.execute(
            f"SELECT user_id, points, extra::VARCHAR, _copy, valid_from, valid_to "
            f"FROM {versions_table('raw', 'things')}"
        ).fetchall(),
        key=repr,
    )


def assert_canonical(conn: duckdb.DuckDBPyConnection) -> None:
    """No version is empty and no row has two runs with no loaded snapshot between them."""
    loaded = loaded_snapshots(conn, "raw", "things")
    runs: dict[tuple, list[tuple[dt.date, dt.date]]] = {}
    for *row, start, end in versions(conn):
        assert start in loaded, (row, start)
        assert end == OPEN_END or end in loaded, (row, end)
        assert start < end
        runs.setdefault(tuple(row), []).append((start, end))
    for row, spans in runs.items():
        spans.sort()
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            assert end < start or any(end <= d < start for d in loaded), (row, spans)
            assert end <= start, (row, spans)


@pytest.fixture
def conn(tmp_path):
    connection = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_versioned(connection, "raw", "things", COLUMNS)
    yield connection
    connection.close()


def test_an_appended_day_stores_only_what_changed(conn):
    load(conn, DAYS[0], UNIVERSE[:5])
    load(conn, DAYS[1], UNIVERSE[1:6])
    assert len(versions(conn)) == 6  # 5 rows, one dropped, one new
    assert snapshot(conn, DAYS[0]) == as_counter(UNIVERSE[:5])
    assert snapshot(conn, DAYS[1]) == as_counter(UNIVERSE[1:6])


def test_a_row_delivered_twice_in_a_snapshot_is_kept_twice(conn):
    rows = [UNIVERSE[0], UNIVERSE[0], UNIVERSE[2], UNIVERSE[2], UNIVERSE[2]]
    assert load(conn, DAYS[0], rows) == 5
    load(conn, DAYS[1], [UNIVERSE[0], UNIVERSE[2]])
    assert snapshot(conn, DAYS[0]) == as_counter(rows)
    assert snapshot(conn, DAYS[1]) == as_counter([UNIVERSE[0], UNIVERSE[2]])


def test_an_empty_snapshot_is_loaded_and_rebuilt_empty(conn):
    load(conn, DAYS[0], UNIVERSE[:3])
    assert load(conn, DAYS[1], []) == 0
    assert snapshot(conn, DAYS[1]) == Counter()
    assert DAYS[1] in loaded_snapshots(conn, "raw", "things")


@pytest.mark.parametrize("seed", seeds(40, fast=8))
def test_any_sequence_of_loads_rebuilds_every_snapshot_and_stays_canonical(conn, seed):
    """Random loads, re-loads (re-runs) and deletes in random order, against a plain model."""
    loads_rebuild_every_snapshot(conn, seed)


@pytest.mark.parametrize("seed", seeds(10, fast=3))
def test_rows_matched_in_parts_rebuild_every_snapshot(conn, seed, monkeypatch):
    """The same with every snapshot matched in parts of about 2 rows (a big snapshot's way)."""
    monkeypatch.setattr(versioned, "PAIRED_ROWS", 2)
    loads_rebuild_every_snapshot(conn, seed)


def loads_rebuild_every_snapshot(conn: duckdb.DuckDBPyConnection, seed: int) -> None:
    rng = random.Random(seed)
    model: dict[dt.date, list[tuple]] = {}
    for _ in range(14):
        day = rng.choice(DAYS)
        if model and rng.random() < 0.15:
            day = rng.choice(sorted(model))
            conn.execute("BEGIN")
            delete_snapshot(conn, "raw", "things", day)
            conn.execute("COMMIT")
            del model[day]
        else:
            rows = [r for r in UNIVERSE if rng.random() < 0.6]
            rows += [rng.choice(UNIVERSE) for _ in range(rng.randrange(2))]  # repeats
            model[day] = rows
            load(conn, day, rows)
        assert loaded_snapshots(conn, "raw", "things") == sorted(model)
        for d, rows in model.items():
            assert snapshot(conn, d) == as_counter(rows), (seed, d)
        assert_canonical(conn)


@pytest.mark.parametrize("paired", [versioned.PAIRED_ROWS, 1])  # one join; a join per row
@pytest.mark.parametrize("seed", range(6))
def test_rows_are_matched_on_their_content_whatever_the_hash(conn, seed, paired, monkeypatch):
    """With a hash under which most rows collide, every snapshot is still rebuilt exactly,
    whether the rows are matched in one join or in parts split by that hash."""
    monkeypatch.setattr(versioned, "PAIRED_ROWS", paired)
    conn.execute("CREATE MACRO weak_hash(a, b, c) AS length(coalesce(a, ''))")
    rng = random.Random(seed)
    model: dict[dt.date, list[tuple]] = {}
    for _ in range(8):
        day = rng.choice(DAYS)
        model[day] = [r for r in UNIVERSE if rng.random() < 0.6]
        load(conn, day, model[day], row_hash="weak_hash")
        for d, rows in model.items():
            assert snapshot(conn, d) == as_counter(rows), (seed, d)
        assert_canonical(conn)


def test_load_order_does_not_change_the_stored_versions(tmp_path):
    rng = random.Random(7)
    days = {d: [r for r in UNIVERSE if rng.random() < 0.6] for d in DAYS}
    stored = []
    for order in (DAYS, list(reversed(DAYS)), [DAYS[i] for i in (3, 0, 5, 1, 4, 2)]):
        connection = duckdb.connect(str(tmp_path / f"w{len(stored)}.duckdb"))
        ensure_versioned(connection, "raw", "things", COLUMNS)
        for day in order:
            load(connection, day, days[day])
        load(connection, DAYS[2], days[DAYS[2]])  # a re-run changes nothing
        stored.append(versions(connection))
        connection.close()
    assert stored[0] == stored[1] == stored[2]


def test_a_full_snapshot_table_from_an_older_layout_is_refused_by_name(tmp_path):
    connection = duckdb.connect(str(tmp_path / "old.duckdb"))
    connection.execute("CREATE SCHEMA raw")
    connection.execute("CREATE TABLE raw.things (snapshot_date DATE, user_id VARCHAR)")
    with pytest.raises(WarehouseLayoutError, match=r"raw\.things .*make clean"):
        ensure_versioned(connection, "raw", "things", COLUMNS)


def test_a_failing_source_is_reported_as_a_read_error_and_changes_nothing(conn, tmp_path):
    load(conn, DAYS[0], UNIVERSE[:3])
    conn.execute("BEGIN")
    with pytest.raises(SourceReadError, match="missing.csv") as raised:
        replace_snapshot(
            conn,
            "raw",
            "things",
            DAYS[1],
            "SELECT * FROM read_csv(?)",
            [str(tmp_path / "missing.csv")],
        )
    conn.execute("ROLLBACK")
    assert isinstance(raised.value.__cause__, duckdb.Error)
    assert loaded_snapshots(conn, "raw", "things") == [DAYS[0]]
    assert snapshot(conn, DAYS[0]) == as_counter(UNIVERSE[:3])


def append(conn: duckdb.DuckDBPyConnection, day: dt.date, removed: list, added: list) -> int:
    for table, rows in (("removed", removed), ("added", added)):
        conn.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} (user_id VARCHAR, points INTEGER, "
            "extra MAP(VARCHAR, VARCHAR))"
        )
        if rows:
            conn.executemany(f"INSERT INTO {table} VALUES (?, ?, ?)", rows)
    conn.execute("BEGIN")
    count = append_changes(
        conn, "raw", "things", day, "SELECT * FROM removed", "SELECT * FROM added"
    )
    conn.execute("COMMIT")
    return count


@pytest.mark.parametrize("seed", seeds(30, fast=6))
def test_appending_changes_stores_what_loading_the_whole_snapshot_does(tmp_path, seed):
    """Each later day as changes (removed and added rows, repeats included) against the same
    days loaded whole: identical versions and snapshots."""
    rng = random.Random(seed)
    whole = duckdb.connect(str(tmp_path / "whole.duckdb"))
    changes = duckdb.connect(str(tmp_path / "changes.duckdb"))
    for connection in (whole, changes):
        ensure_versioned(connection, "raw", "things", COLUMNS)
    previous: Counter = Counter()  # of indices into UNIVERSE
    for day in DAYS:
        picked = [i for i in range(len(UNIVERSE)) if rng.random() < 0.6]
        picked += [rng.randrange(len(UNIVERSE)) for _ in range(rng.randrange(3))]
        rows = [UNIVERSE[i] for i in picked]
        assert load(whole, day, rows) == len(rows)
        if day == DAYS[0]:
            load(changes, day, rows)
        else:
            removed = [UNIVERSE[i] for i in (previous - Counter(picked)).elements()]
            added = [UNIVERSE[i] for i in (Counter(picked) - previous).elements()]
            assert append(changes, day, removed, added) == len(rows)
        previous = Counter(picked)
        assert versions(changes) == versions(whole), (seed, day)
        assert snapshot(changes, day) == as_counter(rows)


def test_a_day_without_changes_stores_what_loading_it_whole_does(tmp_path):
    """No changed row, or changes that cancel out (a row removed and added again): the day is
    loaded with the latest snapshot's rows, as loading it whole gives."""
    whole = duckdb.connect(str(tmp_path / "whole.duckdb"))
    changes = duckdb.connect(str(tmp_path / "changes.duckdb"))
    rows = [UNIVERSE[0], UNIVERSE[2], UNIVERSE[2]]
    for connection in (whole, changes):
        ensure_versioned(connection, "raw", "things", COLUMNS)
        load(connection, DAYS[0], rows)
    for day in DAYS[1:3]:
        load(whole, day, rows)
    assert append(changes, DAYS[1], [], []) == 3
    assert append(changes, DAYS[2], [UNIVERSE[2]], [UNIVERSE[2]]) == 3
    assert versions(changes) == versions(whole)
    assert loaded_snapshots(changes, "raw", "things") == DAYS[:3]
    for day in DAYS[:3]:
        assert snapshot(changes, day) == as_counter(rows)


def test_continuing_the_latest_snapshot_stores_what_loading_the_same_rows_does(tmp_path):
    """A later day with the latest day's rows (repeats, NULLs and maps included), continued
    without reading them, then a day that changes: identical versions, catalog and ledger kinds
    to loading every day whole. An earlier day or the latest one again is refused."""
    whole = duckdb.connect(str(tmp_path / "whole.duckdb"))
    continued = duckdb.connect(str(tmp_path / "continued.duckdb"))
    rows = [UNIVERSE[1], UNIVERSE[2], UNIVERSE[2], UNIVERSE[4]]
    changed = [UNIVERSE[1], UNIVERSE[5]]
    for connection in (whole, continued):
        ensure_versioned(connection, "raw", "things", COLUMNS)
        load(connection, DAYS[0], rows)
    load(whole, DAYS[1], rows)
    load(whole, DAYS[2], rows)
    continued.execute("BEGIN")
    assert continue_latest(continued, "raw", "things", DAYS[1]) == len(rows)
    assert continue_latest(continued, "raw", "things", DAYS[2]) == len(rows)
    continued.execute("COMMIT")
    for connection in (whole, continued):
        load(connection, DAYS[3], changed)
    assert versions(continued) == versions(whole)
    catalog = "SELECT * FROM raw._snapshots ORDER BY ALL"
    ledger = "SELECT * EXCLUDE (seq, recorded_at) FROM raw._changes ORDER BY seq"
    for query in (catalog, ledger):
        assert continued.execute(query).fetchall() == whole.execute(query).fetchall()
    for day in DAYS[:3]:
        assert snapshot(continued, day) == as_counter(rows)
    for day in (DAYS[3], DAYS[1]):
        continued.execute("BEGIN")
        with pytest.raises(ValueError, match="after the latest loaded snapshot"):
            continue_latest(continued, "raw", "things", day)
        continued.execute("ROLLBACK")
    assert snapshot(continued, DAYS[3]) == as_counter(changed)


def test_changes_are_refused_unless_they_follow_the_latest_snapshot(conn):
    load(conn, DAYS[1], UNIVERSE[:2])
    with pytest.raises(ValueError, match="after the latest loaded snapshot"):
        append(conn, DAYS[0], [], [UNIVERSE[3]])
    conn.execute("ROLLBACK")
    with pytest.raises(ValueError, match="not in the latest snapshot"):
        append(conn, DAYS[2], [UNIVERSE[4]], [])
    conn.execute("ROLLBACK")
    assert snapshot(conn, DAYS[1]) == as_counter(UNIVERSE[:2])
    assert loaded_snapshots(conn, "raw", "things") == [DAYS[1]]


@pytest.mark.parametrize("paired", [versioned.PAIRED_ROWS, 1])
def test_rows_equal_but_for_a_column_the_hash_ignores_are_told_apart(conn, paired, monkeypatch):
    """Rows equal but for the last column, under a hash that ignores it (so they fall in the
    same part): matched on the whole content, the changed row is a new version."""
    monkeypatch.setattr(versioned, "PAIRED_ROWS", paired)
    conn.execute("CREATE MACRO blind_hash(a, b, c) AS hash(a, b)")  # ignores `extra`
    first, second = [("b", 2, {"x": "1"}), ("a", 1, None)], [("b", 2, {"x": "2"}), ("a", 1, None)]
    load(conn, DAYS[0], first, row_hash="blind_hash")
    load(conn, DAYS[1], second, row_hash="blind_hash")
    assert snapshot(conn, DAYS[0]) == as_counter(first)
    assert snapshot(conn, DAYS[1]) == as_counter(second)
    assert_canonical(conn)
