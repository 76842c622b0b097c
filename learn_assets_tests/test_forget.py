"""`learn-assets forget D` removes a snapshot everywhere; the warehouse then equals a fresh build
without it, the later snapshots that depended on it are rebuilt, and Dagster shows D missing."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from learn_assets.forget import NothingToForget, forget_snapshot
from learn_assets.resources.reporting import ReportSettingsValues
from learn_assets.runs import materialize_snapshots
from learn_assets_tests.cli import PROJECT, cli_env
from learn_assets_tests.helpers import checksums, derived_tables, resources_in, run_snapshots
from learn_assets_tests.reports.tenant import (
    D1,
    D2,
    SNAPSHOTS,
    C,
    write_snapshot,
    write_tenant,
)

pytestmark = pytest.mark.slow  # real CLI runs, servers or browsers: `make test-fast` leaves it out

D3 = D2 + dt.timedelta(days=1)


def three_days(landing) -> None:
    write_tenant(landing)
    d3 = copy.deepcopy(SNAPSHOTS[D2])
    d3["Users"] = [*d3["Users"], *(u for u in SNAPSHOTS[D1]["Users"] if u["userId"] == C)]
    write_snapshot(landing, D3, d3)  # Cy is back on D3


def test_forgetting_a_snapshot_equals_a_fresh_build_without_it(tmp_path):
    landing = tmp_path / "landing"
    three_days(landing)
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as conn:
        run_snapshots(conn, landing, [D1, D2, D3])
        done = forget_snapshot(conn, D2, ReportSettingsValues())
        assert "raw.progress" in done.tables and "quarantine.users" in done.tables
        changes = {s.snapshot: s for s in done.rebuilt["reports.snapshot_changes"]}
        assert changes[D2].rows is None  # removed
        assert changes[D3].reason == "staged.users changed (2026-11-02)"
        with pytest.raises(NothingToForget, match="snapshot 2026-11-02 is not loaded"):
            forget_snapshot(conn, D2, ReportSettingsValues())
    fresh = tmp_path / "fresh.duckdb"
    with duckdb.connect(str(fresh)) as conn:
        run_snapshots(conn, landing, [D1, D3])
    assert checksums(str(path)) == checksums(str(fresh))
    with duckdb.connect(str(path)) as a, duckdb.connect(str(fresh)) as b:
        assert derived_tables(a) == derived_tables(b)


def read_csv(path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_the_forget_command_removes_the_date_from_dagster_and_the_exports(tmp_path):
    landing = tmp_path / "landing"
    three_days(landing)
    env = cli_env(tmp_path, landing)
    resources = resources_in(tmp_path, landing, Path(env["LEARN_WAREHOUSE"]))
    exports = tmp_path / "exports"
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        materialize_snapshots(D1, D3, resources, instance=instance)
    assert read_csv(exports / D3.isoformat() / "snapshot_changes.csv")[0]["previous_snapshot"] == (
        D2.isoformat()
    )

    command = [sys.executable, "-m", "learn_assets.cli", "forget", D2.isoformat()]
    result = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "forgot 2026-11-02" in result.stdout
    assert "rebuilt the later snapshots that depended on it: 2026-11-03" in result.stdout

    assert not (exports / D2.isoformat()).exists()
    changes = read_csv(exports / D3.isoformat() / "snapshot_changes.csv")
    assert {row["previous_snapshot"] for row in changes} == {D1.isoformat()}
    # D3 against D1: Ada's new badge and trophy; Cy's certification is gone (Cy is back).
    assert {row["change"] for row in changes} == {
        "module_completed",
        "learning_path_completed",
        "certification_gone",
    }
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        key = dg.AssetKey(["reports", "org_overview"])
        status = instance.get_materialized_partitions(key)
        assert status == {D1.isoformat(), D3.isoformat()}
        rebuilt = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=[D3.isoformat()]), limit=1
        ).records[0]
        assert rebuilt.asset_materialization.metadata["rebuilt_because"].value == (
            "staged.users changed (2026-11-02)"
        )

    again = subprocess.run(command, cwd=PROJECT, env=env, capture_output=True, text=True)
    assert again.returncode == 1
    assert "snapshot 2026-11-02 is not loaded in the warehouse" in again.stderr
