"""Declarative automation under the real daemon (`dagster-daemon run`), on a throwaway instance:
re-load `raw/progress` of one snapshot by hand (the `dagster` CLI) and everything downstream of
it for that snapshot is materialized by the project's automation sensor, with nobody starting
it; make that snapshot fail a blocking check and nothing downstream of the check follows."""

from __future__ import annotations

import csv
import datetime as dt
import subprocess

import dagster as dg
import pytest

from learn_assets.automation.policies import AUTOMATION_SENSOR
from learn_assets.definitions import defs
from learn_assets.generator import generate_sample
from learn_assets.preflight import daemon_problem
from learn_assets.resources import resources_from_env
from learn_assets.runs import materialize_snapshots
from learn_assets_tests.cli import DAGSTER, cli_env
from learn_assets_tests.daemon import log_tail, running_daemon, sensor_ticks
from learn_assets_tests.waiting import wait_for

D1, D2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)
RAW_PROGRESS = dg.AssetKey(["raw", "progress"])
STAGED_PROGRESS = dg.AssetKey(["staged", "progress"])
OTHER_TENANT = "99999999-8888-7777-6666-555555555555"
FOLLOW_TIMEOUT = 300  # seconds: two sensor intervals (30 s) and a one-partition run, with room


def downstream_of(key: dg.AssetKey) -> set[dg.AssetKey]:
    graph = defs.resolve_asset_graph()
    return dg.AssetSelection.assets(key).downstream().resolve(graph) - {key}


def latest(instance: dg.DagsterInstance, key: dg.AssetKey, day: dt.date):
    """The newest materialization record of `key` for snapshot `day`, or None."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[day.isoformat()]),
        limit=1,
        ascending=False,
    ).records
    return records[0] if records else None


def materialized_since(instance, keys, day: dt.date, after: int) -> dict[dg.AssetKey, object]:
    found = {key: latest(instance, key, day) for key in keys}
    return {k: r for k, r in found.items() if r is not None and r.storage_id > after}


def reload_raw_progress(env: dict[str, str], day: dt.date) -> None:
    """What an operator does by hand: `dagster asset materialize` of one raw asset, one date."""
    done = subprocess.run(
        [DAGSTER, "asset", "materialize", "-m", "learn_assets.definitions"]
        + ["--select", RAW_PROGRESS.to_user_string(), "--partition", day.isoformat()],
        cwd=env["DAGSTER_HOME"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def add_other_tenant_row(path) -> None:
    """Append a copy of the first Progress row with another tenantId: a valid row (staged, not
    quarantined) that fails staged/progress's blocking check `one_tenant`."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        header, first = reader.fieldnames, next(reader)
    with path.open("a", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writerow(first | {"tenantId": OTHER_TENANT, "XP": "7"})


@pytest.mark.slow
def test_the_daemon_follows_a_reloaded_snapshot_but_not_past_a_failed_blocking_check(
    tmp_path, landing_dir
):
    generate_sample(landing_dir, users=60, days=2, start=D1, seed=11)
    # The landing sensor waits a day for files to settle: only the automation sensor acts here.
    env = cli_env(tmp_path, landing_dir) | {
        "LEARN_START_DATE": D1.isoformat(),
        "LEARN_QUIET_SECONDS": "86400",
    }
    downstream = downstream_of(RAW_PROGRESS)
    assert {
        STAGED_PROGRESS,
        dg.AssetKey(["core", "xp_events"]),
        dg.AssetKey(["reports", "module_progress"]),
        dg.AssetKey(["exports", "snapshot_files"]),
    } <= downstream
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        # One run per snapshot, as the landing sensor runs them: a range run records each check
        # once for the whole range, not per snapshot, so automation could not tell whether the
        # blocking checks of one snapshot passed.
        for day in (D1, D2):
            materialize_snapshots(day, day, resources_from_env(env), instance=instance)
        with running_daemon(env, tmp_path) as log:

            def first_tick():
                ticks = sensor_ticks(instance, AUTOMATION_SENSOR)
                return (ticks or None), f"no tick yet; daemon log:\n{log_tail(log)}"

            wait_for(
                f"the first tick of sensor {AUTOMATION_SENSOR} (never started?)", first_tick, 120
            )

            # 1. A snapshot re-loaded by hand: the rest of it follows.
            reload_raw_progress(env, D1)
            reloaded = latest(instance, RAW_PROGRESS, D1).storage_id
            # Meanwhile `make ui`'s preflight sees this daemon and refuses to start another.
            home = env["DAGSTER_HOME"]
            assert daemon_problem(home) == (
                f"a Dagster daemon is already running on DAGSTER_HOME={home} (it sent a "
                "heartbeat just now): stop it (its `make ui` or `dagster-daemon run`) first, "
                "or use another DAGSTER_HOME"
            )

            def all_followed():
                done = materialized_since(instance, downstream, D1, reloaded)
                missing = sorted(k.to_user_string() for k in downstream - set(done))
                return (done if not missing else None), (
                    f"not materialized for {D1} yet: {', '.join(missing)}\n"
                    f"daemon log:\n{log_tail(log)}"
                )

            followed = wait_for(
                f"automation to materialize everything downstream of raw/progress for {D1}",
                all_followed,
                FOLLOW_TIMEOUT,
                interval=2,
            )
            runs = [instance.get_run_by_id(i) for i in {r.run_id for r in followed.values()}]
            assert {run.tags.get("dagster/sensor_name") for run in runs} == {AUTOMATION_SENSOR}
            assert latest(instance, STAGED_PROGRESS, D2).storage_id < reloaded  # D2 untouched

            # 2. A snapshot that fails a blocking check: nothing downstream of the check follows.
            add_other_tenant_row(landing_dir / D2.isoformat() / "Progress.csv")
            reload_raw_progress(env, D2)
            reloaded = latest(instance, RAW_PROGRESS, D2).storage_id

            def staged_run_finished():
                record = latest(instance, STAGED_PROGRESS, D2)
                run = instance.get_run_by_id(record.run_id) if record else None
                if record is None or record.storage_id < reloaded or not run.is_finished:
                    return None, f"staged/progress {D2} not re-built yet\n{log_tail(log)}"
                return run, ""

            run = wait_for(
                f"automation to re-build staged/progress for {D2}",
                staged_run_finished,
                FOLLOW_TIMEOUT,
                interval=2,
            )
            assert run.tags.get("dagster/sensor_name") == AUTOMATION_SENSOR
            check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
                [dg.AssetCheckKey(STAGED_PROGRESS, "one_tenant")]
            )[dg.AssetCheckKey(STAGED_PROGRESS, "one_tenant")]
            assert check.run_id == run.run_id
            assert check.event.dagster_event.asset_check_evaluation_data.passed is False
            # Two more ticks of the automation sensor after that run: still nothing downstream.
            ended = instance.get_run_record_by_id(run.run_id).end_time or 0.0

            def two_ticks_later():
                later = [
                    t for t in sensor_ticks(instance, AUTOMATION_SENSOR) if t.timestamp > ended
                ]
                return (later if len(later) >= 2 else None), f"{len(later)} tick(s) so far"

            wait_for(
                f"two ticks of {AUTOMATION_SENSOR} after the failed check", two_ticks_later, 150
            )
            beyond = downstream_of(STAGED_PROGRESS)
            leaked = materialized_since(instance, beyond, D2, reloaded)
            assert sorted(k.to_user_string() for k in leaked) == []
