"""Staging a snapshot from the changes since the previous one gives exactly the tables that
staging the whole snapshot gives, and is used only when the previous staging still holds."""

from __future__ import annotations

import duckdb
import pytest

from learn_assets.contracts.datasets import DATASETS, Dataset
from learn_assets.raw.load import load_snapshot
from learn_assets.staged.checks import checks_for
from learn_assets.staged.stage import (
    QUARANTINE,
    STAGE_LOG,
    STAGED,
    stage_plan,
    stage_snapshot,
)
from learn_assets.warehouse.versioned import versions_table
from learn_assets_tests.helpers import load_day, stage_all

pytestmark = pytest.mark.slow  # whole pipeline runs: `make test-fast` leaves them out


def stored(conn: duckdb.DuckDBPyConnection, dataset: Dataset) -> dict[str, list[tuple]]:
    """Both versions tables in full, order-independent."""
    return {
        schema: sorted(
            conn.execute(f"SELECT * FROM {versions_table(schema, dataset.table)}").fetchall(),
            key=repr,
        )
        for schema in (STAGED, QUARANTINE)
    }


def same_raw_rows(conn: duckdb.DuckDBPyConnection, name: str, day, other) -> bool:
    """Raw holds the same rows (repeats counted) for both snapshots."""
    table = next(d for d in DATASETS if d.name == name).table
    rows = f"SELECT * EXCLUDE (snapshot_date) FROM raw.{table} WHERE snapshot_date = ?"
    differ = conn.execute(
        f"SELECT count(*) FROM (({rows} EXCEPT ALL {rows}) UNION ALL ({rows} EXCEPT ALL {rows}))",
        [day, other, other, day],
    ).fetchone()
    return differ == (0,)


def test_staging_from_changes_equals_staging_each_whole_snapshot(changing_tenant, tmp_path):
    landing, days = changing_tenant
    by_changes = duckdb.connect(str(tmp_path / "changes.duckdb"))
    whole = duckdb.connect(str(tmp_path / "whole.duckdb"))
    for conn in (by_changes, whole):
        for day in days:
            load_day(conn, landing, day)
    incremental = stage_all(by_changes, days)
    full = stage_all(whole, days, incremental=False)

    for dataset in DATASETS:
        assert stored(by_changes, dataset) == stored(whole, dataset), dataset.name
    for key, result in incremental.items():
        assert (result.raw_rows, result.staged_rows, result.failures) == (
            full[key].raw_rows,
            full[key].staged_rows,
            full[key].failures,
        ), key

    fault_day = days[-2]
    extras = {
        name
        for (name,) in by_changes.execute(
            "SELECT d.name FROM raw._load_log l JOIN (SELECT unnest(?) AS table_name, "
            "unnest(?) AS name) d ON d.table_name = l.dataset "
            "WHERE snapshot_date = ? AND len(extra_columns) > 0",
            [[d.table for d in DATASETS], [d.name for d in DATASETS], fault_day],
        ).fetchall()
    }
    assert extras and extras != {d.name for d in DATASETS}
    for (name, day), result in incremental.items():
        expected = day != days[0] and not (day in days[-2:] and name in extras)
        assert result.from_changes == expected, (name, day)
    # Datasets whose raw rows did not change (the catalogs, most days) continue the previous
    # staged snapshot without judging; the ones that changed do not.
    continued = {key: r.continues for key, r in incremental.items() if r.continues}
    assert {name for name, _ in continued} >= {"HierarchyModule", "HierarchyUnit"}
    assert "Progress" not in {name for name, _ in continued}
    for (name, day), result in incremental.items():
        if result.from_changes:
            previous = days[days.index(day) - 1]
            same = same_raw_rows(by_changes, name, day, previous)
            assert result.continues == (previous if same else None), (name, day)
    # Bad values and repeated rows arrived and left through the changes path.
    changed = [r for (n, d), r in incremental.items() if d == fault_day and n not in extras]
    assert any(r.quarantined_rows for r in changed)
    assert any("duplicate row" in rule for r in changed for rule in r.failures)


def test_a_snapshot_with_its_previous_rows_has_its_previous_outcome_of_row_checks(
    changing_tenant, tmp_path
):
    """What lets a range run reuse an outcome (`CheckDef.own_rows_only`): on a snapshot that
    continues the previous one, such a check finds what it found on the previous one (the
    failing ones too: the fault day's quarantine continues into the next day)."""
    landing, days = changing_tenant
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    for day in days:
        load_day(conn, landing, day)
    results = stage_all(conn, days)
    compared = 0
    for (name, day), result in results.items():
        if not result.continues:
            continue
        dataset = next(d for d in DATASETS if d.name == name)
        previous = results[(name, result.continues)]
        for check in checks_for(dataset):
            if check.own_rows_only:
                now = check.evaluate(conn, dataset, result)
                assert now == check.evaluate(conn, dataset, previous), (name, day, check.name)
                compared += 1
    assert compared


def test_changes_are_not_used_when_the_previous_staging_no_longer_holds(changing_tenant, tmp_path):
    landing, days = changing_tenant
    first, second, third = days[:3]
    users = next(d for d in DATASETS if d.name == "Users")
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    for day in (first, second, third):
        load_snapshot(conn, users, day, landing / day.isoformat() / "Users.csv")
    assert not stage_snapshot(conn, users, first).from_changes  # nothing before it
    assert stage_snapshot(conn, users, second).from_changes
    # Raw's previous day was reloaded from another file after it was staged.
    load_snapshot(conn, users, second, landing / first.isoformat() / "Users.csv")
    assert not stage_snapshot(conn, users, third).from_changes
    # A re-run of a day before the latest staged one.
    assert not stage_snapshot(conn, users, second).from_changes

    # The previous day was staged by another contract (as the stage log records it).
    other = duckdb.connect(str(tmp_path / "other.duckdb"))
    for day in (first, second):
        load_snapshot(other, users, day, landing / day.isoformat() / "Users.csv")
    stage_snapshot(other, users, first)
    assert stage_plan(other, users, second).mode == "changes"
    other.execute(f"UPDATE {STAGE_LOG} SET contract = 'another contract'")
    plan = stage_plan(other, users, second)
    assert (plan.mode, plan.reason) == ("whole", f"{first} was staged by another contract")
    assert not stage_snapshot(other, users, second).from_changes
