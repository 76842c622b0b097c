"""Killing a run with SIGKILL while it writes a large partition leaves a warehouse that opens,
with every earlier partition intact; the next run, with the project's dagster.yaml and nothing
cleaned up (no daemon, the killed run still marked as started), completes and equals an
uninterrupted run: the warehouse lock died with the process, and no pool slot is left held."""

import datetime as dt
import signal

import dagster as dg
import duckdb
import pytest

from learn_assets.generator import generate_sample
from learn_assets_tests.cli import cli_env, start_materialize
from learn_assets_tests.helpers import checksums

pytestmark = pytest.mark.slow  # real CLI runs, servers or browsers: `make test-fast` leaves it out


def partition_checksums(database: str, day: dt.date) -> dict[str, tuple]:
    """(rows, hash) of one snapshot's rows in every partitioned table."""
    with duckdb.connect(database) as conn:  # read-write: replays the WAL a killed run left
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.columns "
            "WHERE column_name = 'snapshot_date' ORDER BY ALL"
        ).fetchall()
        return {
            f"{schema}.{table}": conn.execute(
                f'SELECT count(*), sum(hash(t)) FROM "{schema}"."{table}" t '
                "WHERE snapshot_date = ?",
                [day],
            ).fetchone()
            for schema, table in tables
            if not table.startswith("_")
        }


SELECTION = "tag:partitioned=snapshot_date and (group:raw or group:staged)"
KILL_AT = 'Started execution of step "staged__progress"'


def started_runs(home: str) -> int:
    with dg.DagsterInstance.from_config(home) as instance:
        return len(instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])))


def materialize(env: dict, day: dt.date, kill_at: str | None = None) -> int:
    process = start_materialize(env, SELECTION, "--partition", day.isoformat())
    assert process.stdout is not None
    for line in process.stdout:
        if kill_at and kill_at in line:
            process.send_signal(signal.SIGKILL)
            break
    process.stdout.close()
    return process.wait(timeout=600)  # a run blocked for good fails here instead of hanging


@pytest.mark.parametrize("kill_at", [KILL_AT])
def test_sigkill_mid_write_keeps_earlier_partitions_and_rerun_matches(tmp_path, kill_at):
    landing = tmp_path / "landing"
    summary = generate_sample(landing, users=4_000, days=2, start=dt.date(2026, 11, 1), seed=9)
    d1, d2 = summary.snapshots
    (tmp_path / "killed").mkdir()
    (tmp_path / "clean").mkdir()
    killed = cli_env(tmp_path / "killed", landing)
    clean = cli_env(tmp_path / "clean", landing)
    for env in (killed, clean):
        assert materialize(env, d1) == 0
    before = partition_checksums(killed["LEARN_WAREHOUSE"], d1)

    assert materialize(killed, d2, kill_at=kill_at) == -signal.SIGKILL
    assert partition_checksums(killed["LEARN_WAREHOUSE"], d1) == before  # opens; D1 intact
    assert started_runs(killed["DAGSTER_HOME"]) == 1  # the killed run: nobody marked it failed
    assert materialize(killed, d2) == 0
    assert materialize(clean, d2) == 0
    assert checksums(killed["LEARN_WAREHOUSE"]) == checksums(clean["LEARN_WAREHOUSE"])
