"""Two tenants at once through the real daemon: `dagster-daemon run` on the workspace that
`learn-assets workspace` writes for a tenants file (a code location per tenant and one for the
consolidated group), the project's dagster.yaml (queued run coordinator, default run launcher:
each run its own process, a warehouse pool per tenant). Each tenant's landing sensor requests its
two snapshots; the queue starts both tenants' runs side by side but never two runs of one tenant;
every run succeeds; each tenant's warehouse then equals the build of the same deliveries by one
tenant without a tenants file; and the group's automation rebuilds the consolidated tables when
the members publish."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import dagster as dg
import pytest
from deltalake import DeltaTable

from learn_assets.resources import resources_from_env
from learn_assets.runs import materialize_snapshots
from learn_assets.tenancy import TENANT_TAG
from learn_assets_tests.cli import DAGSTER, cli_env
from learn_assets_tests.daemon import log_tail, running_daemon
from learn_assets_tests.helpers import checksums
from learn_assets_tests.tenants import learn, sample_tenants
from learn_assets_tests.waiting import wait_for

D1, D2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)
GROUP = "all_tenants"
ACTIVE = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


def entra_export(env: dict[str, str], tenant: str, cwd: Path) -> None:
    """The tenant's Entra export (not per snapshot: no sensor runs it), by its job."""
    done = subprocess.run(
        [DAGSTER, "job", "execute", "-m", "learn_assets.locations", "-a", tenant]
        + ["-j", f"{tenant}_entra_export"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def group_tenants_days(lake: Path) -> set[tuple[str, dt.date]]:
    table = lake / GROUP / "reports" / "org_overview"
    if not (table / "_delta_log").is_dir():
        return set()
    rows = DeltaTable(str(table)).to_pyarrow_table().to_pylist()
    return {(r["tenant"], r["snapshot_date"]) for r in rows}


def overlaps(a: dg.RunRecord, b: dg.RunRecord) -> bool:
    return a.start_time < b.end_time and b.start_time < a.end_time


@pytest.mark.slow
def test_two_tenants_run_at_once_under_the_daemon_and_equal_their_single_builds(tmp_path):
    out = tmp_path / "tenants"
    out.mkdir()
    base = {k: v for k, v in cli_env(tmp_path, out).items() if not k.startswith("LEARN_")}
    env = base | {
        "LEARN_TENANTS_FILE": str(out / "tenants.yaml"),
        "LEARN_START_DATE": D1.isoformat(),
        "LEARN_QUIET_SECONDS": "0",
    }
    config = sample_tenants(out, env, tenants=2, users=30, days=2, start=D1)
    names = [t["name"] for t in config["tenants"]]
    workspace = tmp_path / "workspace.yaml"
    learn(env, "workspace", "--out", str(workspace), cwd=tmp_path)
    for name in names:
        entra_export(env, name, tmp_path)
    wanted = {(name, day) for name in names for day in (D1, D2)}

    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert type(instance.run_launcher).__name__ == "DefaultRunLauncher"
        with running_daemon(env, tmp_path, workspace) as log:

            def all_done():
                runs = instance.get_runs()
                failed = [r for r in runs if r.status == dg.DagsterRunStatus.FAILURE]
                assert failed == [], f"failed runs {[r.run_id for r in failed]}\n{log_tail(log)}"
                snapshot_runs = {
                    (r.tags.get(TENANT_TAG), r.tags.get("dagster/partition"))
                    for r in runs
                    if r.status == dg.DagsterRunStatus.SUCCESS
                    and r.tags.get("dagster/sensor_name", "").endswith("_landing_sensor")
                }
                active = instance.get_runs(filters=dg.RunsFilter(statuses=ACTIVE))
                grouped = group_tenants_days(out / "lake")
                missing = {(n, d.isoformat()) for n, d in wanted} - snapshot_runs
                if missing or active or grouped != wanted:
                    return None, (
                        f"landing runs still to succeed: {sorted(missing)}; {len(active)} run(s) "
                        f"queued or in progress; the group has {sorted(grouped)}\n"
                        f"daemon log:\n{log_tail(log)}"
                    )
                return runs, ""

            runs = wait_for(
                "both tenants' snapshots and the group's rebuild", all_done, 1200, interval=3
            )

        records = {r.dagster_run.run_id: r for r in instance.get_run_records()}
        by_tenant = {
            name: [records[r.run_id] for r in runs if r.tags.get(TENANT_TAG) == name]
            for name in names
        }
        # Every run the sensors asked for went through the queue, then a process of its own
        # (the default launcher); the Entra exports above ran in the `dagster` CLI's process.
        for run in (r for r in runs if r.tags.get("dagster/sensor_name")):
            kinds = {
                e.dagster_event.event_type_value
                for e in instance.all_logs(run.run_id)
                if e.dagster_event is not None
            }
            assert {"PIPELINE_ENQUEUED", "PIPELINE_SUCCESS"} <= kinds, run.run_id
        # Side by side: a run of one tenant ran while a run of the other did.
        contoso, fabrikam = (by_tenant[n] for n in names)
        assert any(overlaps(a, b) for a in contoso for b in fabrikam), "never at once"
        # One tenant never has two writers: its runs took turns (its warehouse pool).
        for name, tenant_runs in by_tenant.items():
            ordered = sorted(tenant_runs, key=lambda r: r.start_time)
            for first, second in zip(ordered, ordered[1:], strict=False):
                assert not overlaps(first, second), f"two runs of {name} at once"
        # The group followed the members: rebuilt by its own automation sensor.
        group_runs = [r for r in runs if r.tags.get("learn/group") == GROUP]
        assert group_runs and {r.tags.get("dagster/sensor_name") for r in group_runs} == {
            f"{GROUP}_follow_members"
        }

    # Each tenant's warehouse equals one tenant's build of the same deliveries, without a
    # tenants file (the single-tenant code path, in this process).
    for name in names:
        single = tmp_path / f"single_{name}"
        single.mkdir()
        resources = resources_from_env(
            {
                "LEARN_LANDING_DIR": str(out / name / "landing"),
                "LEARN_WAREHOUSE": str(single / "warehouse.duckdb"),
                "LEARN_EXPORTS_DIR": str(single / "exports"),
                "LEARN_LAKE_DIR": str(single / "lake"),
                "LEARN_SERVING_DATABASE": str(single / "serving.duckdb"),
                "LEARN_CACHE_DIR": str(single / "cache"),
                "LEARN_START_DATE": D1.isoformat(),
            }
        )
        materialize_snapshots(D1, D2, resources, instance=dg.DagsterInstance.ephemeral())
        assert checksums(str(out / name / "warehouse.duckdb")) == checksums(
            str(single / "warehouse.duckdb")
        ), name
