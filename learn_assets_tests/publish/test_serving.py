"""The reports database readers open: equal to the warehouse's reports and core tables, replaced
by a rename so a reader keeps its snapshot and never blocks (nor is blocked by) the pipeline."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from learn_assets.core.build import CORE_TABLES, LEARNERS, core_table
from learn_assets.publish.lake import lake_counts, lake_for
from learn_assets.publish.serving import build_serving_database
from learn_assets.reports.build import REPORT_TABLES, report_table
from learn_assets.warehouse.sql import relation_kind
from learn_assets_tests.cli import cli_env, start_materialize
from learn_assets_tests.helpers import run_snapshots
from learn_assets_tests.reports.tenant import D1, D2, SNAPSHOTS, write_snapshot, write_tenant

D3 = D2 + dt.timedelta(days=1)


def table_rows(conn: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    conn.execute("SET TimeZone = 'UTC'")
    return sorted(conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr)


@pytest.mark.slow
def test_the_reports_database_equals_the_warehouse_and_is_swapped_whole(tmp_path):
    landing = tmp_path / "landing"
    write_tenant(landing)
    write_snapshot(landing, D3, SNAPSHOTS[D2])
    serving = tmp_path / "serving.duckdb"
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        run_snapshots(conn, landing, [D1, D2])
        build_serving_database(conn, serving, privacy=False)
        reader = duckdb.connect(str(serving), read_only=True)  # an analyst's open connection
        for table in [report_table(r) for r in REPORT_TABLES] + [
            core_table(t) for t in CORE_TABLES
        ]:
            assert table_rows(reader, table) == table_rows(conn, table), table
        # Each core row is stored once, in its history: the current values are a view over it
        # (learners aside, which carries the directory's columns).
        assert {t.name for t in CORE_TABLES if relation_kind(reader, "core", t.name) == "VIEW"} == {
            t.name for t in CORE_TABLES if t is not LEARNERS
        }
        run_snapshots(conn, landing, [D3])
        build_serving_database(conn, serving, privacy=False)  # the reader is still connected
        counts = "SELECT count(*) FROM reports.org_overview"
        assert reader.execute(counts).fetchone() == (2,)  # keeps reading its version
        # The next connection, from another process (one process shares one open database per
        # file), sees the new version.
        code = (
            f"import duckdb; c = duckdb.connect({str(serving)!r}, read_only=True); "
            f"print(c.execute({counts!r}).fetchone()[0])"
        )
        fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert fresh.stdout.strip() == "3", fresh.stderr
        reader.close()
    assert sorted(p.name for p in tmp_path.iterdir() if "serving" in p.name) == ["serving.duckdb"]


def test_privacy_mode_keeps_the_directory_out_of_the_reports_database(tmp_path):
    landing = tmp_path / "landing"
    write_tenant(landing)
    serving = tmp_path / "serving.duckdb"
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        run_snapshots(conn, landing, [D1])
        build_serving_database(conn, serving, privacy=True)
    with duckdb.connect(str(serving), read_only=True) as reader:
        columns = {r[0] for r in reader.execute("DESCRIBE core.learners").fetchall()}
        assert not columns & {"display_name", "mail", "aad_object_id"}
        history = {r[0] for r in reader.execute("DESCRIBE core.learners_history").fetchall()}
        assert "aad_object_id" not in history


def read_state(serving: Path, lake) -> tuple[dict, dict]:
    """What a reader sees: rows per snapshot of learner_summary in the reports database, and
    in the lake."""
    with duckdb.connect(str(serving), read_only=True) as conn:
        served = dict(
            conn.execute(
                "SELECT snapshot_date, count(*) FROM reports.learner_summary GROUP BY 1"
            ).fetchall()
        )
    learner_summary = next(r for r in REPORT_TABLES if r.name == "learner_summary")
    return served, lake_counts(lake, learner_summary)


@pytest.mark.slow
def test_readers_never_fail_nor_see_half_a_snapshot_while_runs_publish(tmp_path):
    """Twenty readers poll the reports database and the lake while three snapshots are
    published by real CLI runs; a reader also holds a connection open throughout. Every run
    succeeds without waiting for a lock, no read fails, and every read shows whole snapshots:
    the counts of a committed state (before or after a run), never a partial one."""
    landing = tmp_path / "landing"
    write_tenant(landing)
    write_snapshot(landing, D3, SNAPSHOTS[D2])
    env = cli_env(tmp_path, landing) | {
        "LEARN_SERVING_DATABASE": str(tmp_path / "serving.duckdb"),
        "LEARN_LAKE_DIR": str(tmp_path / "lake"),
    }
    serving, lake = Path(env["LEARN_SERVING_DATABASE"]), lake_for(env["LEARN_LAKE_DIR"], {})
    select = "tag:partitioned=snapshot_date"
    first = start_materialize(env, select, "--partition", D1.isoformat())
    output = first.communicate(timeout=600)[0]  # read it all: a full pipe would block the run
    assert first.returncode == 0, output[-3000:]
    states = [read_state(serving, lake)]
    holder = duckdb.connect(str(serving), read_only=True)  # open for the whole test

    seen: list[tuple[dict, dict]] = []
    failures: list[str] = []
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            try:
                seen.append(read_state(serving, lake))
            except Exception as e:  # every failure counts, whatever it is
                failures.append(f"{type(e).__name__}: {e}")
            time.sleep(0.02)

    readers = [threading.Thread(target=poll) for _ in range(20)]
    for reader in readers:
        reader.start()
    outputs = []
    for day in (D2, D3):
        run = start_materialize(env, select, "--partition", day.isoformat())
        output = run.communicate(timeout=900)[0]
        assert run.returncode == 0, output[-3000:]
        outputs.append(output)
        states.append(read_state(serving, lake))
    stop.set()
    for reader in readers:
        reader.join(timeout=60)
    holder.close()

    assert failures == []
    assert not [o for o in outputs if "waiting for the warehouse lock" in o]
    assert len(seen) > 20
    committed_served = [served for served, _ in states]
    for served, in_lake in seen:
        assert served in committed_served
        for day, rows in in_lake.items():  # the lake commits per snapshot: each one whole
            assert rows in {state[1].get(day) for state in states}, (day, rows)
