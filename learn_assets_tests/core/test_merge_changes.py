"""Merging only the source rows new since the previous snapshot gives exactly the history that
merging each whole snapshot gives, and is used only while the previous merge still holds."""

from __future__ import annotations

import shutil

import duckdb

from learn_assets.contracts.datasets import DATASETS
from learn_assets.core import build
from learn_assets.core.build import CORE_TABLES, XP_EVENTS, core_table, merge_snapshot
from learn_assets.raw.load import load_snapshot
from learn_assets.staged.stage import stage_snapshot
from learn_assets_tests.conftest import load_day


def staged_warehouse(path, landing, days) -> None:
    with duckdb.connect(str(path)) as conn:
        for day in days:
            load_day(conn, landing, day)
            for dataset in DATASETS:
                stage_snapshot(conn, dataset, day)


def history(conn: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    return {
        t.name: sorted(conn.execute(f"SELECT * FROM {core_table(t)}").fetchall(), key=repr)
        for t in CORE_TABLES
    }


def test_merging_changes_equals_merging_whole_snapshots(changing_tenant, tmp_path, monkeypatch):
    landing, days = changing_tenant
    staged_warehouse(tmp_path / "changes.duckdb", landing, days)
    shutil.copy(tmp_path / "changes.duckdb", tmp_path / "whole.duckdb")
    by_changes = duckdb.connect(str(tmp_path / "changes.duckdb"))
    whole = duckdb.connect(str(tmp_path / "whole.duckdb"))

    merged = {(t.name, d): merge_snapshot(by_changes, t, d) for d in days for t in CORE_TABLES}
    monkeypatch.setattr(build, "_previous_merged", lambda *_: False)
    full = {(t.name, d): merge_snapshot(whole, t, d) for d in days for t in CORE_TABLES}

    assert history(by_changes) == history(whole)
    for key, result in merged.items():
        assert result[:2] == full[key][:2], key
        event_table = any(t.name == key[0] and t.event_columns for t in CORE_TABLES)
        assert result.from_changes == (event_table and key[1] != days[0]), key
    assert any(r.new for (name, d), r in merged.items() if name == "xp_events" and d != days[0])


def test_changes_are_not_merged_when_the_previous_merge_no_longer_holds(changing_tenant, tmp_path):
    landing, days = changing_tenant
    first, second, third = days[:3]
    progress = next(d for d in DATASETS if d.name == "Progress")
    staged_warehouse(tmp_path / "w.duckdb", landing, [first, second, third])
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert not merge_snapshot(conn, XP_EVENTS, first).from_changes  # nothing before it
    assert merge_snapshot(conn, XP_EVENTS, second).from_changes
    # The second day was loaded and staged again from another file after it was merged.
    load_snapshot(conn, progress, second, landing / first.isoformat() / "Progress.csv")
    stage_snapshot(conn, progress, second)
    assert not merge_snapshot(conn, XP_EVENTS, third).from_changes
    merge_snapshot(conn, XP_EVENTS, second)
    # A dropped table has merged nothing, whatever the log says.
    assert merge_snapshot(conn, XP_EVENTS, third).from_changes
    conn.execute(f"DROP TABLE {core_table(XP_EVENTS)}")
    assert not merge_snapshot(conn, XP_EVENTS, third).from_changes
