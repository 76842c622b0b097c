"""Core history: a later delivery supersedes an earlier one for the same natural key, nothing is
counted twice, and the tables equal a fresh build whatever the order of loads and re-runs."""

from __future__ import annotations

import copy
import datetime as dt
import shutil

import duckdb
import pytest

from learn_assets.core.build import (
    CERTIFICATIONS,
    CORE_TABLES,
    XP_EVENTS,
    as_of,
    history_select,
    history_table,
    update_core,
)
from learn_assets.core.checks import conflicts
from learn_assets.warehouse.ledger import plan_update
from learn_assets.warehouse.versioned import OPEN_END
from learn_assets_tests.helpers import derived_tables, load_day, run_snapshots, stage_all
from learn_assets_tests.reports.tenant import (
    CERTS,
    D1,
    D2,
    SNAPSHOTS,
    A,
    B,
    C,
    _progress,
    write_snapshot,
    write_tenant,
)

D3 = D2 + dt.timedelta(days=1)


def corrected_d1() -> dict[str, list[dict]]:
    """D1 re-delivered: Ada's first unit worth 150 XP (not 100) an hour later."""
    files = copy.deepcopy(SNAPSHOTS[D1])
    files["Progress"][0] = _progress(A, "Unit", "learn.m1.1-a", 150, "2026-10-30T11:00:00+00:00")
    return files


def value(conn, table, day, where: str) -> list[tuple]:
    return conn.execute(f"SELECT * FROM {as_of(table, '$d')} WHERE {where}", {"d": day}).fetchall()


def total_xp(conn, day: dt.date, user: str) -> int:
    row = conn.execute(
        "SELECT total_xp FROM reports.learner_summary WHERE snapshot_date = ? AND user_id = ?",
        [day, user],
    ).fetchone()
    return row[0]


@pytest.mark.slow
def test_a_corrected_redelivery_replaces_the_value_and_is_counted_once(tmp_path):
    landing = tmp_path / "landing"
    write_tenant(landing)
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    run_snapshots(conn, landing, [D1])
    assert total_xp(conn, D1, A) == 400  # 100 + 100 + 200
    write_snapshot(landing, D1, corrected_d1())  # the same date delivered again, corrected
    run_snapshots(conn, landing, [D1])
    assert total_xp(conn, D1, A) == 450  # not 550: one event, its corrected value
    rows = conn.execute(
        f"SELECT xp, valid_from FROM {history_table(XP_EVENTS)} "
        "WHERE user_id = ? AND source_uid = 'learn.m1.1-a'",
        [A],
    ).fetchall()
    assert rows == [(150, D1)]
    fresh = duckdb.connect(str(tmp_path / "fresh.duckdb"))
    run_snapshots(fresh, landing, [D1])
    assert derived_tables(conn) == derived_tables(fresh)


@pytest.mark.slow
def test_a_later_snapshots_value_supersedes_only_from_that_snapshot(tmp_path):
    """D2 carries a corrected XP and a renewed certification (same start, new end date)."""
    landing = tmp_path / "landing"
    write_tenant(landing)
    d2 = copy.deepcopy(SNAPSHOTS[D2])
    d2["Progress"][3] = _progress(B, "Unit", "learn.m1.1-a", 120, "2026-10-31T09:00:00-05:00")
    d2["Certifications"][1] = CERTS[B] | {"CertificationEndDate": "20280301"}
    write_snapshot(landing, D2, d2)
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    run_snapshots(conn, landing, [D1, D2])

    bob = f"user_id = '{B}'"
    assert [r[4] for r in value(conn, XP_EVENTS, D1, bob)] == [100]
    assert [r[4] for r in value(conn, XP_EVENTS, D2, bob)] == [120]
    assert (total_xp(conn, D1, B), total_xp(conn, D2, B)) == (100, 120)
    ends = {d: [r[5] for r in value(conn, CERTIFICATIONS, d, bob)] for d in (D1, D2)}
    assert ends == {D1: [dt.date(2027, 3, 1)], D2: [dt.date(2028, 3, 1)]}  # one certification
    expiry = conn.execute(
        "SELECT snapshot_date, expires_on FROM reports.certification_status "
        "WHERE user_id = ? ORDER BY 1",
        [B],
    ).fetchall()
    assert expiry == [(D1, dt.date(2027, 3, 1)), (D2, dt.date(2028, 3, 1))]
    # The current view has one row per key, with the latest value.
    current = conn.execute(
        "SELECT count(*), sum(xp) FROM core.xp_events WHERE user_id = ?", [B]
    ).fetchone()
    assert current == (1, 120)


def bobs_unit_twice_on_d1(tmp_path) -> duckdb.DuckDBPyConnection:
    """A warehouse with D1 run, where Bob's unit is delivered twice with different values."""
    landing = tmp_path / "landing"
    write_tenant(landing)
    d1 = copy.deepcopy(SNAPSHOTS[D1])
    d1["Progress"].append(_progress(B, "Unit", "learn.m1.1-a", 90, "2026-10-31T10:00:00-05:00"))
    write_snapshot(landing, D1, d1)
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    run_snapshots(conn, landing, [D1])
    return conn


@pytest.mark.slow
def test_a_key_delivered_twice_in_one_snapshot_counts_once_and_is_reported(tmp_path):
    conn = bobs_unit_twice_on_d1(tmp_path)  # the latest (awarded_at) of the two stands
    assert total_xp(conn, D1, B) == 90
    outcome = conflicts(conn, XP_EVENTS, D1)
    assert (outcome.passed, outcome.failing) == (False, 1)
    assert outcome.sample == (
        ["user_id", "source_type", "source_uid", "xp_reason", "rows"],
        [(B, "Unit", "learn.m1.1-a", "points.unit.basic.completed", 2)],
    )


@pytest.mark.slow
def test_a_learner_who_leaves_and_returns_keeps_one_history(tmp_path):
    """Cy is absent from D2 and back on D3 with the same rows: one version of each event, last
    seen D3; as of D2 the events are still known (core keeps what later snapshots drop)."""
    landing = tmp_path / "landing"
    write_tenant(landing)
    write_snapshot(landing, D3, SNAPSHOTS[D1])
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    run_snapshots(conn, landing, [D1, D2, D3])
    cy = f"user_id = '{C}'"
    for day in (D1, D2, D3):
        assert len(value(conn, XP_EVENTS, day, cy)) == 1
    assert conn.execute(
        f"SELECT count(*) FROM {history_table(XP_EVENTS)} WHERE {cy}"
    ).fetchone() == (1,)
    seen = conn.execute(
        "SELECT first_seen_snapshot, last_seen_snapshot FROM core.learners WHERE user_id = ?",
        [C],
    ).fetchone()
    assert seen == (D1, D3)


@pytest.mark.slow
@pytest.mark.parametrize("order", [(D2, D1, D3), (D3, D1, D2), (D1, D3, D2)])
def test_any_load_order_gives_the_fresh_build(tmp_path, order):
    landing = tmp_path / "landing"
    write_tenant(landing)
    d3 = copy.deepcopy(SNAPSHOTS[D2])
    d3["Progress"][0] = _progress(A, "Unit", "learn.m1.1-a", 130, "2026-10-30T10:00:00+00:00")
    write_snapshot(landing, D3, d3)
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    for day in order:
        run_snapshots(conn, landing, [day])
    fresh = duckdb.connect(str(tmp_path / "fresh.duckdb"))
    run_snapshots(fresh, landing, [D1, D2, D3])
    assert derived_tables(conn) == derived_tables(fresh)


@pytest.mark.slow
def test_incremental_history_equals_whole_history(changing_tenant, tmp_path):
    """Day by day on a generated tenant with faults: recomputing only the keys touched by the
    appended snapshot stores exactly what recomputing every key stores."""
    landing, days = changing_tenant
    paths = {mode: tmp_path / f"{mode}.duckdb" for mode in ("changes", "whole")}
    with duckdb.connect(str(paths["changes"])) as conn:
        for day in days:
            load_day(conn, landing, day)
    shutil.copy(paths["changes"], paths["whole"])
    conns = {mode: duckdb.connect(str(path)) for mode, path in paths.items()}
    modes: dict[str, list[str]] = {t.name: [] for t in CORE_TABLES}
    for day in days:
        for mode, conn in conns.items():
            stage_all(conn, [day])
            for table in CORE_TABLES:
                update = update_core(conn, table, incremental=mode == "changes")
                if mode == "changes":
                    modes[table.name].append(update.plan.mode)
        for table in CORE_TABLES:
            query = f"SELECT * FROM {history_table(table)}"
            rows = {m: sorted(c.execute(query).fetchall(), key=repr) for m, c in conns.items()}
            assert rows["changes"] == rows["whole"], (table.name, day)
    assert modes["xp_events"] == ["whole"] + ["changes"] * (len(days) - 1)
    assert modes["learners"] == ["whole"] * len(days)


@pytest.mark.slow
def test_keys_whose_hash_repeats_get_the_history_of_keys_with_one_version(
    changing_tenant, tmp_path
):
    """The history of a key with one version is computed apart from the others, picked by a
    hash of the key; under a hash that makes every key look repeated, the general path gives
    every table the same rows (so a key sharing its hash with another is never wrong)."""
    landing, days = changing_tenant
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        for day in days:
            load_day(conn, landing, day)
        stage_all(conn, days)
        conn.execute("CREATE MACRO same_hash(a, b := 0, c := 0, d := 0) AS 1::UBIGINT")
        for table in CORE_TABLES:
            rows = {}
            for key_hash in ("hash", "same_hash"):
                query = history_select(table, key_hash_function=key_hash)
                found = conn.execute(query, {"open": OPEN_END}).fetchall()
                rows[key_hash] = sorted(found, key=repr)
            assert rows["hash"] == rows["same_hash"], table.name
            assert rows["hash"], table.name


def test_plan_update_scenarios():
    from learn_assets.warehouse.ledger import Change

    def change(kind, day=D1, seq=1):
        return Change("staged.progress", seq, day, kind)

    assert plan_update([], built=False).mode == "whole"
    assert plan_update([], built=True).mode == "none"
    assert plan_update([change("append"), change("append", D2, 2)], built=True).snapshots == (
        D1,
        D2,
    )
    assert plan_update([change("append"), change("replace", D2, 2)], True).reason == (
        "staged.progress 2026-11-02 loaded again or out of order"
    )
    assert plan_update([change("delete")], True).reason == "staged.progress 2026-11-01 removed"
    every = Change("staged.entra_users", 3, None, "replace")
    assert plan_update([every], True).mode == "whole"
    assert plan_update([change("append")], True, incremental=False).mode == "whole"
