"""Two runs started at once on different snapshots both succeed: their warehouse steps take turns
on DuckDB's file lock (a step that finds the file locked waits for it, see
`resources/warehouse.py`), so neither fails on the other's lock."""

import datetime as dt

import duckdb
import pytest

from learn_assets_tests.cli import cli_env, start_materialize

pytestmark = pytest.mark.slow  # real CLI runs, servers or browsers: `make test-fast` leaves it out

DAYS = [dt.date(2026, 11, 1), dt.date(2026, 11, 2)]
SELECTION = "tag:partitioned=snapshot_date and (group:raw or group:staged)"


def test_two_concurrent_runs_on_different_partitions_both_succeed(
    tmp_path, landing_dir, write_snapshot
):
    for day in DAYS:
        write_snapshot(day, rows_per_dataset=50)
    env = cli_env(tmp_path, landing_dir)
    runs = [start_materialize(env, SELECTION, "--partition", day.isoformat()) for day in DAYS]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    for run, output in zip(runs, outputs, strict=True):
        assert run.returncode == 0, output[-3000:]
        assert "Could not set lock" not in output
    # They did overlap: a step of one run waited for the other's lock, and said so.
    assert any("waiting for the warehouse lock held by PID" in output for output in outputs)
    with duckdb.connect(env["LEARN_WAREHOUSE"], read_only=True) as conn:
        for schema in ("raw", "staged"):
            got = conn.execute(
                f"SELECT snapshot_date, count(*) FROM {schema}.progress GROUP BY 1 ORDER BY 1"
            ).fetchall()
            assert got == [(day, 50) for day in DAYS]
