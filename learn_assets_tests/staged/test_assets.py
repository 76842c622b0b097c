"""Staged assets in real Dagster runs: per-snapshot checks, blocking, schema drift, tenants."""

import datetime as dt
import shutil
from collections import Counter

import dagster as dg
import duckdb
import pytest

from learn_assets.contracts.datasets import DATASETS, DATASETS_BY_NAME
from learn_assets.generator import generate_sample
from learn_assets.graph import ASSETS
from learn_assets.runs import QUIET, materialize_snapshots
from learn_assets.staged import checks
from learn_assets_tests.helpers import tiny_rows, write_csv

pytestmark = pytest.mark.slow  # whole pipeline runs: `make test-fast` leaves them out

D1, D2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)
PARTITIONED = [a.key for a in ASSETS if a.partitions_def]
USERS = DATASETS_BY_NAME["Users"]
PROGRESS = DATASETS_BY_NAME["Progress"]


def run_day(resources, day: dt.date) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        ASSETS,
        selection=PARTITIONED,
        partition_key=day.isoformat(),
        resources=resources,
        raise_on_error=False,
        run_config=QUIET,
    )


def evaluations(result) -> dict[tuple[str, str], dg.AssetCheckEvaluation]:
    return {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in result.get_asset_check_evaluations()
    }


def materialized(result) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def rewrite(landing_dir, day, dataset, rows, header=None):
    write_csv(
        landing_dir / day.isoformat() / f"{dataset.name}.csv", header or dataset.column_names, rows
    )


def test_checks_are_evaluated_per_snapshot(write_snapshot, resources):
    write_snapshot(D1)
    result = run_day(resources, D1)
    assert result.success
    checks = evaluations(result)
    progress = {name for asset, name in checks if asset == "staged/progress"}
    assert progress == {
        "contract_types",
        "rows_follow_contract",
        "rows_conserved",
        "keys_unique",
        "no_unknown_columns",
        "one_tenant",
        "user_ids_in_users",
        "uids_in_catalog",
        "quarantine_share",
    }
    users = {name for asset, name in checks if asset == "staged/users"}
    assert users - progress == {"user_count_plausible", "tenant_unchanged"}
    assert all(e.partition == "2026-11-01" for e in checks.values())
    conserved = checks[("staged/progress", "rows_conserved")]
    assert conserved.passed and conserved.metadata["raw"].value == 2


def test_a_range_checks_rows_that_did_not_change_once(
    landing_dir, write_snapshot, resources, monkeypatch
):
    """A range run where every file of D2 is D1's: D2 continues D1's staged rows, keeps the
    outcomes of the checks on a snapshot's own rows (`CheckDef.own_rows_only`) instead of
    evaluating them again, and runs the other checks (here one_tenant) for each snapshot."""
    write_snapshot(D1)
    shutil.copytree(landing_dir / D1.isoformat(), landing_dir / D2.isoformat())
    calls: Counter = Counter()

    def counting(name: str):
        check = getattr(checks, name)

        def counted(conn, dataset, result, *args):
            calls[name, dataset.name, result.snapshot_date] += 1
            return check(conn, dataset, result, *args)

        return counted

    for name in ("contract_types", "keys_unique", "rows_conserved", "one_tenant"):
        monkeypatch.setattr(checks, name, counting(name))
    skip = ("core", "reports", "exports", "publish")
    (*_, run) = materialize_snapshots(D1, D2, resources, skip_groups=skip)
    assert run.success
    for dataset in DATASETS:
        for name in ("contract_types", "keys_unique", "rows_conserved"):
            assert calls[name, dataset.name, D1] == 1, (name, dataset.name)
            assert calls[name, dataset.name, D2] == 0, (name, dataset.name)
        if dataset.tenant:
            assert calls["one_tenant", dataset.name, D2] == 1, dataset.name
    # Same rows, same outcomes: the checks log the same verdicts for both snapshots.
    conn = duckdb.connect(resources["warehouse"].database, read_only=True)
    logged = {
        day: conn.execute(
            "SELECT * EXCLUDE (snapshot_date) FROM staged._check_log "
            "WHERE snapshot_date = ? ORDER BY ALL",
            [day],
        ).fetchall()
        for day in (D1, D2)
    }
    assert logged[D1] == logged[D2]
    assert len(logged[D1]) >= 7 * len(DATASETS)


def test_blocking_failure_stops_dependents_of_that_snapshot_only(
    landing_dir, write_snapshot, resources
):
    write_snapshot(D1)
    write_snapshot(D2)
    users = tiny_rows(USERS, D1)
    conflicting = users[0] | {"AADObjectId": "99999999-9999-9999-9999-999999999999"}
    rewrite(landing_dir, D1, USERS, [*users, conflicting])  # one userId, two directory ids

    bad = run_day(resources, D1)
    assert not bad.success
    keys = evaluations(bad)[("staged/users", "keys_unique")]
    assert not keys.passed and keys.metadata["failing"].value == 1
    done = materialized(bad)
    assert "staged/users" in done  # written, then its blocking check failed
    dependents = {
        "staged/progress",
        "staged/achievements",
        "staged/certifications",
        "staged/applied_skills",
    }
    assert not dependents & done
    assert {"staged/hierarchy_unit", "staged/hierarchy_module"} <= done  # not downstream of users

    good = run_day(resources, D2)
    assert good.success and dependents <= materialized(good)
    with duckdb.connect(resources["warehouse"].database, read_only=True) as conn:
        days = conn.execute("SELECT DISTINCT snapshot_date FROM staged.progress").fetchall()
    assert days == [(D2,)]


def test_mixed_tenants_fail_the_blocking_tenant_check(landing_dir, write_snapshot, resources):
    write_snapshot(D1)
    rows = tiny_rows(PROGRESS, D1)
    rows[1]["tenantId"] = "22222222-2222-2222-2222-222222222222"
    rewrite(landing_dir, D1, PROGRESS, rows)
    result = run_day(resources, D1)
    tenants = evaluations(result)[("staged/progress", "one_tenant")]
    assert not tenants.passed and tenants.blocking
    assert tenants.metadata["tenant ids"].value == [
        "11111111-2222-3333-4444-555555555555",
        "22222222-2222-2222-2222-222222222222",
    ]


def test_extra_column_is_a_warning_and_ignored_downstream(landing_dir, write_snapshot, resources):
    write_snapshot(D1)
    rows = [r | {"promotionCode": "X1"} for r in tiny_rows(PROGRESS, D1)]
    rewrite(landing_dir, D1, PROGRESS, rows, header=[*PROGRESS.column_names, "promotionCode"])
    result = run_day(resources, D1)
    assert result.success
    drift = evaluations(result)[("staged/progress", "no_unknown_columns")]
    assert not drift.passed and drift.severity == dg.AssetCheckSeverity.WARN
    assert drift.metadata["columns not in the dictionary"].value == ["promotionCode"]
    with duckdb.connect(resources["warehouse"].database, read_only=True) as conn:
        staged_cols = [r[0] for r in conn.execute("DESCRIBE staged.progress").fetchall()]
        raw_codes = conn.execute("SELECT DISTINCT _extra['promotionCode'] FROM raw.progress")
        assert raw_codes.fetchall() == [("X1",)]
    assert "promotionCode" not in staged_cols


def test_sample_tenant_passes_every_check_and_conserves_rows(tmp_path, resources):
    summary = generate_sample(tmp_path / "landing", users=150, days=2, start=D1, seed=3)
    instance = dg.DagsterInstance.ephemeral()
    materialize_snapshots(summary.snapshots[0], summary.snapshots[-1], resources, instance=instance)
    for day in summary.snapshots:
        result = run_day(resources, day)
        failed = [k for k, e in evaluations(result).items() if not e.passed]
        assert failed == []
    with duckdb.connect(resources["warehouse"].database, read_only=True) as conn:
        for d in DATASETS:
            counts = conn.execute(
                f"SELECT (SELECT count(*) FROM raw.{d.table}), "
                f"(SELECT count(*) FROM staged.{d.table}), "
                f"(SELECT count(*) FROM quarantine.{d.table})"
            ).fetchone()
            assert counts[0] == counts[1] + counts[2] and counts[2] == 0, d.name
