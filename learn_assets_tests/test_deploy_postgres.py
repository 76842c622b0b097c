"""The production instance (deploy/dagster.yaml) on a real PostgreSQL server: a snapshot, a sensor
tick of the real daemon (which launches the runs it requests) and a two-day backfill, whose run
history is then read from PostgreSQL itself; nothing is stored in SQLite."""

import datetime as dt
import os
import shutil
from pathlib import Path

import dagster as dg
import pytest
import yaml

from learn_assets_tests.cli import PROJECT, run_learn
from learn_assets_tests.daemon import log_tail, running_daemon, sensor_ticks
from learn_assets_tests.postgres import postgres  # noqa: F401 - fixture
from learn_assets_tests.waiting import wait_for

D1, D2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)


def backfill(env: dict[str, str], cwd: Path, first: dt.date, last: dt.date) -> None:
    run_learn(env, cwd, "backfill", "--from", first.isoformat(), "--to", last.isoformat())


@pytest.mark.slow
def test_the_production_instance_keeps_run_history_in_postgres(
    tmp_path,
    landing_dir,
    write_snapshot,
    postgres,  # noqa: F811 - the fixture
    monkeypatch,
):
    for day in (D1, D2):
        write_snapshot(day)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(PROJECT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    for name, value in postgres.env().items():  # this process reads the instance too
        monkeypatch.setenv(name, value)
    env = os.environ | {
        "DAGSTER_HOME": str(home),
        "LEARN_LANDING_DIR": str(landing_dir),
        "LEARN_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
        "LEARN_EXPORTS_DIR": str(tmp_path / "exports"),
        "LEARN_START_DATE": D1.isoformat(),
        "LEARN_QUIET_SECONDS": "0",
    }

    backfill(env, tmp_path, D1, D1)  # a snapshot
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        with running_daemon(env, tmp_path) as log:  # the landing sensor requests D1 and D2

            def sensor_runs_done():
                ticks = [t for t in sensor_ticks(instance, "landing_sensor") if t.run_ids]
                runs = [instance.get_run_by_id(i) for t in ticks for i in t.run_ids]
                if len(runs) < 2 or not all(r.is_finished for r in runs):
                    return None, f"{len(runs)} run(s) requested so far\n{log_tail(log)}"
                return runs, ""

            runs = wait_for("the landing sensor's runs for D1 and D2", sensor_runs_done, 300, 2)
        assert sorted(r.tags["dagster/partition"] for r in runs) == [D1.isoformat(), D2.isoformat()]
        assert {r.status for r in runs} == {dg.DagsterRunStatus.SUCCESS}
    backfill(env, tmp_path, D1, D2)  # a two-day backfill

    assert postgres.query(
        "SELECT pipeline_name, status, count(*) FROM runs "
        "WHERE pipeline_name IN ('entra_export', 'snapshot_pipeline') GROUP BY 1, 2 ORDER BY 1, 2"
    ) == [("entra_export", "SUCCESS", 2), ("snapshot_pipeline", "SUCCESS", 4)]
    # The automation sensor may add asset runs of its own while the two landing runs take
    # turns on the warehouse; none failed.
    assert postgres.query("SELECT count(*) FROM runs WHERE status = 'FAILURE'") == [(0,)]
    assert postgres.query(
        "SELECT count(*) FROM run_tags WHERE key = 'dagster/sensor_name' "
        "AND value = 'landing_sensor'"
    ) == [(2,)]
    (ranged,) = postgres.query(
        "SELECT value FROM run_tags WHERE key = 'dagster/asset_partition_range_end'"
    )
    assert ranged == (D2.isoformat(),)
    assert postgres.query(
        "SELECT count(*) > 0 FROM job_ticks WHERE type = 'SENSOR' "
        "AND tick_body LIKE '%\"landing_sensor\"%'"
    ) == [(True,)]
    assert sorted(p.name for p in home.rglob("*.db")) == []  # no SQLite storage


def test_the_deploy_files_agree_with_each_other():
    config = yaml.safe_load((PROJECT / "deploy" / "dagster.yaml").read_text())
    db = config["storage"]["postgres"]["postgres_db"]
    variables = {v["env"] for v in db.values() if isinstance(v, dict)}
    assert db["scheme"] == "postgresql+psycopg2"
    assert variables == {
        "DAGSTER_PG_HOST",
        "DAGSTER_PG_PORT",
        "DAGSTER_PG_USER",
        "DAGSTER_PG_PASSWORD",
        "DAGSTER_PG_DB",
    }
    example = (PROJECT / "deploy" / "learn-assets.env.example").read_text()
    assert all(f"\n{v}=" in example for v in variables)
    compose = yaml.safe_load((PROJECT / "deploy" / "docker-compose.yml").read_text())
    assert sorted(compose["services"]) == ["daemon", "postgres", "webserver"]
    assert compose["services"]["daemon"]["command"][:2] == ["dagster-daemon", "run"]
    for unit in ("webserver", "daemon"):
        text = (PROJECT / "deploy" / "systemd" / f"learn-assets-{unit}.service").read_text()
        assert "EnvironmentFile=/etc/learn-assets/learn-assets.env" in text
        assert "-h 127.0.0.1" in text or unit == "daemon"
