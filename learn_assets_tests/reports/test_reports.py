"""Each report on the hand-built tenant (tenant.py), against values computed by hand."""

import datetime as dt
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from learn_assets.graph import ASSETS
from learn_assets.reports.build import REPORT_TABLES
from learn_assets.resources import (
    ReportSettings,
)
from learn_assets.runs import QUIET, failure_messages, materialize_snapshots
from learn_assets_tests.helpers import resources_in
from learn_assets_tests.reports.tenant import (
    AAD,
    C1,
    D1,
    D2,
    M1,
    M2,
    M3,
    P1,
    P2,
    S1,
    A,
    B,
    C,
    E,
    write_tenant,
)

pytestmark = pytest.mark.slow  # whole pipeline runs: `make test-fast` leaves them out

UTC = dt.UTC


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The tenant built once for the module, as a range backfill D1..D2."""
    tmp = tmp_path_factory.mktemp("reports")
    write_tenant(tmp / "landing")
    resources = resources_in(tmp, tmp / "landing")
    materialize_snapshots(D1, D2, resources)
    return resources


def rows(resources, sql: str, *params) -> list[tuple]:
    with duckdb.connect(resources["warehouse"].database, read_only=True) as conn:
        return conn.execute(sql, list(params)).fetchall()


def by_user(resources, report: str, columns: str, day: dt.date) -> dict:
    return {
        r[0]: r[1:]
        for r in rows(
            resources,
            f"SELECT user_id, {columns} FROM reports.{report} WHERE snapshot_date = ?",
            day,
        )
    }


def test_learner_summary(built):
    cols = (
        "display_name, department, total_xp, units_completed, modules_completed, "
        "learning_paths_completed, active_certifications, applied_skills, last_activity_at"
    )
    assert by_user(built, "learner_summary", cols, D2) == {
        # U1a+U1b 100+100, M1 200, U2a 100, M2 200, P1 2000; last: 20:32 -08:00 = 04:32 UTC
        A: (
            "Ada Lovelace",
            "Research, Development",
            2700,
            3,
            2,
            1,
            0,
            0,
            dt.datetime(2026, 11, 1, 4, 32, tzinfo=UTC),
        ),
        B: ("Bob Stone", "Sales", 100, 1, 0, 0, 1, 0, dt.datetime(2026, 10, 31, 14, 0, tzinfo=UTC)),
        E: (None, None, 0, 0, 0, 0, 1, 1, dt.datetime(2026, 10, 15, 10, 0, tzinfo=UTC)),
    }  # Cy left: absent on D2
    on_d1 = by_user(built, "learner_summary", "total_xp, aad_object_id", D1)
    assert on_d1[A] == (400, AAD[A]) and on_d1[C] == (100, AAD[C])


def test_module_progress(built):
    got = rows(
        built,
        "SELECT snapshot_date, user_id, module_uid, units_total, units_completed, completed "
        "FROM reports.module_progress ORDER BY ALL",
    )
    assert got == [
        (D1, A, M1, 2, 2, True),
        (D1, B, M1, 2, 1, False),
        (D1, C, M3, 1, 1, False),  # started (a unit), no badge
        (D2, A, M1, 2, 2, True),
        (D2, A, M2, 1, 1, True),
        (D2, B, M1, 2, 1, False),
    ]


def test_learning_path_progress_of_a_path_shared_by_two_learners(built):
    got = rows(
        built,
        "SELECT snapshot_date, user_id, learning_path_uid, modules_total, modules_completed, "
        "completion_ratio, completed FROM reports.learning_path_progress ORDER BY ALL",
    )
    assert got == [
        (D1, A, P1, 2, 1, 0.5, False),
        (D1, B, P1, 2, 0, 0.0, False),
        (D1, C, P2, 1, 0, 0.0, False),
        (D2, A, P1, 2, 2, 1.0, True),  # trophy
        (D2, B, P1, 2, 0, 0.0, False),
    ]


def test_certification_status_expired_expiring_and_renewal(built):
    cols = "certification_uid, expires_on, days_to_expiry, status, renewal_eligible"
    assert by_user(built, "certification_status", cols, D1) == {
        A: (C1, dt.date(2025, 12, 31), -305, "expired", False),
        B: (C1, dt.date(2027, 3, 1), 120, "active", True),
        C: (C1, dt.date(2026, 12, 15), 44, "expiring_soon", True),
        E: (C1, dt.date(2027, 6, 1), 212, "active", False),
    }
    assert by_user(built, "certification_status", "days_to_expiry, status", D2)[B] == (
        119,
        "active",
    )


def test_expiry_window_is_configurable(landing_dir, resources):
    write_tenant(landing_dir)
    resources["report_settings"] = ReportSettings(expiry_window_days=150)
    materialize_snapshots(D1, D1, resources)
    statuses = by_user(resources, "certification_status", "status", D1)
    assert statuses[B] == ("expiring_soon",) and statuses[E] == ("active",)


def test_org_overview(built):
    got = rows(
        built, "SELECT * EXCLUDE (snapshot_date) FROM reports.org_overview ORDER BY snapshot_date"
    )
    assert got == [
        # 4 directory users (Dee never used Learn); A, B, C of 4 learners are in the directory
        (4, 4, 0.75, 3, 1, 1 / 3, 0, 600, 3, 1, 1),
        (4, 3, 0.5, 3, 2, 2 / 3, 1, 2800, 2, 0, 1),
    ]


def test_department_summary_with_a_comma_and_a_non_learner(built):
    got = rows(
        built,
        "SELECT * EXCLUDE (snapshot_date) FROM reports.department_summary "
        "WHERE snapshot_date = ? ORDER BY department",
        D2,
    )
    assert got == [
        ("(not in directory)", 0, 1, None, 0, 0, 0, 1),  # Eve
        ("Research, Development", 1, 1, 1.0, 2700, 2, 1, 0),
        ("Sales", 3, 1, 1 / 3, 100, 0, 0, 1),  # Bob; Cy left; Dee never used Learn
    ]


def test_content_popularity(built):
    got = rows(
        built,
        "SELECT content_uid, content_type, learners_started, completions "
        "FROM reports.content_popularity WHERE snapshot_date = ? ORDER BY ALL",
        D2,
    )
    assert got == [
        (S1, "applied_skill", 1, 1),
        (C1, "certification", 3, 3),
        (M1, "module", 2, 1),
        (M2, "module", 1, 1),
        (P1, "learning_path", 2, 1),
    ]


def test_snapshot_changes(built):
    got = rows(
        built,
        "SELECT snapshot_date, change, user_id, uid FROM reports.snapshot_changes ORDER BY ALL",
    )
    assert got == [
        (D2, "learner_left", C, None),  # his certification is not also reported as gone
        (D2, "learning_path_completed", A, P1),
        (D2, "module_completed", A, M2),
    ]


ACTIVITY_D1 = [
    (dt.date(2025, 1, 1), 0, 0, 0, 0, 0, 1),  # certifications earned, by award date
    (dt.date(2025, 12, 1), 0, 0, 0, 0, 0, 1),
    (dt.date(2026, 3, 1), 0, 0, 0, 0, 0, 1),
    (dt.date(2026, 6, 1), 0, 0, 0, 0, 0, 1),
    (dt.date(2026, 10, 30), 1, 400, 2, 1, 0, 0),
    (dt.date(2026, 10, 31), 2, 200, 2, 0, 0, 0),  # Bob (09:00 -05:00) and Cy, who left later
]


def test_activity_daily_counts_utc_days_known_as_of_each_snapshot(built):
    def activity(day: dt.date) -> list[tuple]:
        return rows(
            built,
            "SELECT * EXCLUDE (snapshot_date) FROM reports.activity_daily "
            "WHERE snapshot_date = ? ORDER BY activity_date",
            day,
        )

    assert activity(D1) == ACTIVITY_D1
    # D2 also knows Ada's Oct 31 evening at UTC-8 (Nov 1 in UTC), first delivered on D2.
    assert activity(D2) == [*ACTIVITY_D1, (dt.date(2026, 11, 1), 1, 2300, 1, 1, 1, 0)]


def all_reports(resources) -> dict[str, list[tuple]]:
    return {
        r.name: rows(resources, f"SELECT * FROM reports.{r.name} ORDER BY ALL")
        for r in REPORT_TABLES
    }


def test_reports_are_the_same_day_by_day_and_in_a_range_backfill(tmp_path, built):
    day_by_day = resources_in(tmp_path, Path(built["landing"].landing_dir))
    for day in (D1, D2):
        materialize_snapshots(day, day, day_by_day)
    assert all_reports(day_by_day) == all_reports(built)


def test_privacy_mode_shows_stable_pseudonyms(landing_dir, resources):
    write_tenant(landing_dir)
    resources["report_settings"] = ReportSettings(pseudonymize=True, pseudonym_key="s3cret")
    materialize_snapshots(D1, D2, resources)
    names = rows(
        resources,
        "SELECT user_id, snapshot_date, display_name, aad_object_id FROM reports.learner_summary",
    )
    pseudonyms = {}
    for user, _, name, aad in names:
        assert aad is None and name.startswith("Learner ") and "Lovelace" not in name
        assert pseudonyms.setdefault(user, name) == name  # stable across snapshots
    assert len(set(pseudonyms.values())) == 4


def test_privacy_mode_without_a_key_fails_clearly(landing_dir, resources):
    write_tenant(landing_dir)
    resources["report_settings"] = ReportSettings(pseudonymize=True)
    result = dg.materialize(
        ASSETS,
        selection=[a.key for a in ASSETS if a.partitions_def],
        partition_key=D1.isoformat(),
        resources=resources,
        raise_on_error=False,
        run_config=QUIET,
    )
    assert not result.success
    assert any(
        "LEARN_PSEUDONYMIZE=true needs a secret in LEARN_PSEUDONYM_KEY" in m
        for m in failure_messages(result)
    )
