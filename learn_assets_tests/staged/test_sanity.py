"""Snapshot sanity checks in real Dagster runs on a generated tenant: a delivery that is valid row
by row but implausible as a whole (Users emptied, another tenant, XP unreadable) fails a blocking
check with a message a person can act on, nothing downstream is built for that snapshot, and
LEARN_ACCEPT_ANOMALY lets one snapshot through with a warning that the exports repeat."""

import csv
import datetime as dt
import logging
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from learn_assets.contracts.datasets import DATASETS, DATASETS_BY_NAME, ENTRA
from learn_assets.exports.files import PAGE
from learn_assets.generator import generate_sample
from learn_assets.graph import ASSETS
from learn_assets.raw.load import load_snapshot
from learn_assets.resources import (
    ReportSettings,
)
from learn_assets.resources.reporting import SanityGates
from learn_assets.runs import QUIET, materialize_snapshots
from learn_assets.staged.check_log import LoggedCheck, check_status, record_checks
from learn_assets.staged.checks import CheckOutcome, checks_for
from learn_assets.staged.stage import stage_snapshot
from learn_assets_tests.helpers import resources_in, tiny_rows, write_csv

pytestmark = pytest.mark.slow  # whole pipeline runs: `make test-fast` leaves them out

D1, D2, D3 = dt.date(2026, 11, 1), dt.date(2026, 11, 2), dt.date(2026, 11, 3)
PARTITIONED = [a.key for a in ASSETS if a.partitions_def]
INSTANCE = dg.DagsterInstance.ephemeral()  # runs' logs are read back from it
OTHER_TENANT = "99999999-8888-4777-8666-555555555555"
DOWNSTREAM_OF_USERS = {"core/learners", "reports/learner_summary", "exports/snapshot_files"}


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sanity") / "landing"
    generate_sample(out, users=80, days=3, start=D1, seed=11)
    return out


@pytest.fixture
def tenant(tmp_path, generated) -> tuple[Path, dict[str, object]]:
    """A fresh copy of the generated landing, its resources, and D1 built."""
    landing = tmp_path / "landing"
    shutil.copytree(generated, landing)
    resources = resources_in(tmp_path, landing, tmp_path / "w.duckdb")
    materialize_snapshots(D1, D1, resources, instance=dg.DagsterInstance.ephemeral())
    return landing, resources


def rewrite(path: Path, change) -> list[dict[str, str]]:
    """Rewrite a delivered CSV with `change(rows) -> rows` (header kept); returns the new rows."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        header, rows = list(reader.fieldnames or []), list(reader)
    rows = change(rows)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return rows


def run_day(resources, day: dt.date, **settings) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        ASSETS,
        selection=PARTITIONED,
        partition_key=day.isoformat(),
        resources=resources | {"report_settings": ReportSettings(**settings)},
        instance=INSTANCE,
        raise_on_error=False,
        run_config=QUIET,
    )


def check(result, asset: str, name: str) -> dg.AssetCheckEvaluation:
    (found,) = [
        e
        for e in result.get_asset_check_evaluations()
        if (e.asset_key.to_user_string(), e.check_name) == (asset, name)
    ]
    return found


def failed_checks(result) -> set[tuple[str, str]]:
    return {
        (e.asset_key.to_user_string(), e.check_name)
        for e in result.get_asset_check_evaluations()
        if not e.passed
    }


def materialized(result) -> set[str]:
    return {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}


def logged(result, level: int, step: str = "staged__users") -> list[str]:
    """The log lines of `level` that the asset of `step` wrote in the run."""
    return [
        e.user_message
        for e in INSTANCE.all_logs(result.run_id)
        if e.level == level and e.step_key == step and e.dagster_event is None
    ]


def users_count(resources, day: dt.date) -> int:
    with duckdb.connect(resources["warehouse"].database, read_only=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM staged.users WHERE snapshot_date = ?", [day]
        ).fetchone()[0]


def test_header_only_users_blocks_the_snapshot_until_accepted(tenant):
    landing, resources = tenant
    rewrite(landing / D2.isoformat() / "Users.csv", lambda rows: [])
    day1_users = users_count(resources, D1)

    blocked = run_day(resources, D2)
    assert not blocked.success
    assert failed_checks(blocked) == {("staged/users", "user_count_plausible")}
    plausible = check(blocked, "staged/users", "user_count_plausible")
    assert plausible.blocking and plausible.severity == dg.AssetCheckSeverity.ERROR
    message = (
        "Users of 2026-11-02 has no rows: every learner would be reported as gone. Check that "
        "the Users file is complete, or set LEARN_ACCEPT_ANOMALY=2026-11-02 and run this "
        "snapshot again."
    )
    assert plausible.description == message
    assert logged(blocked, logging.ERROR) == [f"Users user_count_plausible: {message}"]
    assert plausible.metadata["failing"].value == day1_users
    assert plausible.metadata["previous snapshot"].value == "2026-11-01"
    assert not DOWNSTREAM_OF_USERS & materialized(blocked)
    assert "staged/users" in materialized(blocked)  # written, inspectable, not used downstream
    assert not (Path(resources["exports"].exports_dir) / D2.isoformat()).exists()

    # The next day is compared with the last good one (D1), not with the empty D2.
    following = run_day(resources, D3)
    assert following.success
    assert check(following, "staged/users", "user_count_plausible").metadata[
        "previous snapshot"
    ].value == ("2026-11-01")

    accepted = run_day(resources, D2, accept_anomaly="2026-11-05, 2026-11-02")
    assert accepted.success
    plausible = check(accepted, "staged/users", "user_count_plausible")
    assert plausible.passed and plausible.severity == dg.AssetCheckSeverity.WARN
    note = f"Accepted by LEARN_ACCEPT_ANOMALY (2026-11-02): {message}"
    assert plausible.description == note
    assert logged(accepted, logging.WARNING) == [f"Users user_count_plausible: {note}"]
    page = (Path(resources["exports"].exports_dir) / D2.isoformat() / PAGE).read_text()
    assert f"<li>Accepted anomaly, Users user_count_plausible: {note}</li>" in page


def test_another_tenant_is_not_merged_into_core(tenant):
    landing, resources = tenant
    with duckdb.connect(resources["warehouse"].database, read_only=True) as conn:
        (ours,) = conn.execute("SELECT DISTINCT tenant_id FROM staged.users").fetchone()
        core_before = conn.execute("SELECT * FROM core.learners ORDER BY ALL").fetchall()
    for dataset in DATASETS:
        if dataset.tenant:
            tenant_column = "tenantID" if dataset.name == "Certifications" else "tenantId"
            rewrite(
                landing / D2.isoformat() / f"{dataset.name}.csv",
                lambda rows, c=tenant_column: [r | {c: OTHER_TENANT} for r in rows],
            )

    result = run_day(resources, D2)
    assert not result.success
    # One tenant within the snapshot: only the comparison with the previous one sees it.
    assert failed_checks(result) == {("staged/users", "tenant_unchanged")}
    unchanged = check(result, "staged/users", "tenant_unchanged")
    assert unchanged.description == (
        f"Users of 2026-11-02 has tenant id {OTHER_TENANT}, but the previous snapshot 2026-11-01 "
        f"has {ours}: this looks like another organization's delivery, and loading it would mix "
        "two tenants in core. Check the landing folder; if the tenant really changed, accept "
        "it, or set LEARN_ACCEPT_ANOMALY=2026-11-02 and run this snapshot again."
    )
    assert not DOWNSTREAM_OF_USERS & materialized(result)
    with duckdb.connect(resources["warehouse"].database, read_only=True) as conn:
        assert conn.execute("SELECT * FROM core.learners ORDER BY ALL").fetchall() == core_before


def test_unreadable_xp_is_not_reported_as_zero(tenant):
    landing, resources = tenant
    rows = rewrite(
        landing / D2.isoformat() / "Progress.csv", lambda rows: [r | {"XP": "n/a"} for r in rows]
    )
    result = run_day(resources, D2)
    assert not result.success
    assert ("staged/progress", "quarantine_share") in failed_checks(result)
    share = check(result, "staged/progress", "quarantine_share")
    n = len(rows)
    assert share.description == (
        f"{n:,} of {n:,} Progress rows of 2026-11-02 (100%) are quarantined, more than "
        "LEARN_MAX_QUARANTINE_SHARE allows (5%): the reports would miss them. Most broken rules: "
        f"xp: not an integer ({n:,}). See quarantine.progress and fix the delivery, or set "
        "LEARN_ACCEPT_ANOMALY=2026-11-02 and run this snapshot again."
    )
    assert share.metadata["failing"].value == n
    done = materialized(result)
    assert not {"core/xp_events", "reports/org_overview", "exports/snapshot_files"} & done


# The limits, on tiny hand-written snapshots, evaluated without Dagster (real DuckDB files).

USERS, PROGRESS = DATASETS_BY_NAME["Users"], DATASETS_BY_NAME["Progress"]


def evaluate(conn, tmp_path, dataset, day, rows, gates: SanityGates) -> dict[str, CheckOutcome]:
    """Load and stage `rows` as the snapshot, run its checks, log them like the asset does."""
    path = write_csv(tmp_path / day.isoformat() / f"{dataset.name}.csv", dataset.column_names, rows)
    load_snapshot(conn, dataset, day, path)
    result = stage_snapshot(conn, dataset, day)
    outcomes = {c.name: c.evaluate(conn, dataset, result) for c in checks_for(dataset, gates)}
    record_checks(
        conn,
        dataset.table,
        day,
        [
            LoggedCheck(
                dataset.table,
                day,
                c.name,
                c.blocking,
                check_status(c.blocking, outcomes[c.name].passed, outcomes[c.name].accepted),
                outcomes[c.name].failing,
                "",
            )
            for c in checks_for(dataset, gates)
        ],
    )
    return outcomes


@pytest.fixture
def conn(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as c:
        yield c


def test_a_drop_up_to_the_limit_passes_and_beyond_it_fails(conn, tmp_path):
    gates = SanityGates(max_user_drop=0.4)
    assert evaluate(conn, tmp_path, USERS, D1, tiny_rows(USERS, D1, 10), gates)[
        "user_count_plausible"
    ].passed
    assert evaluate(conn, tmp_path, USERS, D2, tiny_rows(USERS, D2, 6), gates)[
        "user_count_plausible"
    ].passed  # 40% fewer: at the limit
    dropped = evaluate(conn, tmp_path, USERS, D3, tiny_rows(USERS, D3, 3), gates)
    assert dropped["user_count_plausible"] == CheckOutcome(
        False,
        3,
        {"users": 3, "previous snapshot": "2026-11-02", "previous users": 6},
        message="Users of 2026-11-03 has 3 rows, 50% fewer than the 6 of 2026-11-02 "
        "(LEARN_MAX_USER_DROP allows 40%): 3 learners would be reported as gone. Check that the "
        "Users file is complete, or set LEARN_ACCEPT_ANOMALY=2026-11-03 and run this snapshot "
        "again.",
    )
    # The default allows 50%.
    d4 = dt.date(2026, 11, 4)
    assert evaluate(conn, tmp_path, USERS, d4, tiny_rows(USERS, d4, 3), SanityGates())[
        "user_count_plausible"
    ].passed  # compared with D2 (6): D3 failed


def test_quarantine_share_up_to_the_limit_passes(conn, tmp_path):
    rows = tiny_rows(PROGRESS, D1, 20)
    evaluate(conn, tmp_path, USERS, D1, tiny_rows(USERS, D1), SanityGates())
    one_bad = [*rows[:19], rows[19] | {"XP": "ten"}]
    outcome = evaluate(conn, tmp_path, PROGRESS, D1, one_bad, SanityGates())["quarantine_share"]
    assert outcome == CheckOutcome(True, 0, {"quarantined share": "5%", "limit": "5%"})
    two_bad = [*rows[:18], rows[18] | {"XP": "ten"}, rows[19] | {"XP": "-1"}]
    outcome = evaluate(conn, tmp_path, PROGRESS, D1, two_bad, SanityGates(accepted={D1}))
    assert outcome["quarantine_share"] == CheckOutcome(
        True,
        2,
        {"quarantined share": "10%", "limit": "5%"},
        message="Accepted by LEARN_ACCEPT_ANOMALY (2026-11-01): 2 of 20 Progress rows of "
        "2026-11-01 (10%) are quarantined, more than LEARN_MAX_QUARANTINE_SHARE allows (5%): the "
        "reports would miss them. Most broken rules: xp: below 0 (1); xp: not an integer (1). "
        "See quarantine.progress and fix the delivery, or set LEARN_ACCEPT_ANOMALY=2026-11-01 "
        "and run this snapshot again.",
        accepted=True,
    )


def test_the_entra_export_has_no_snapshot_sanity_checks():
    assert [c.name for c in checks_for(ENTRA)] == [
        "contract_types",
        "rows_follow_contract",
        "rows_conserved",
        "keys_unique",
    ]
