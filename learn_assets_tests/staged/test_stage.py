"""Staging without Dagster: each row-level fault is quarantined with its reason, exactly."""

import datetime as dt

import duckdb
import pytest

from learn_assets.contracts.datasets import DATASETS_BY_NAME, ENTRA
from learn_assets.raw.load import load_entra_export, load_snapshot
from learn_assets.staged.stage import DUPLICATE, stage_entra, stage_snapshot
from learn_assets_tests.helpers import tiny_rows, write_csv

D1, D2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)
PROGRESS = DATASETS_BY_NAME["Progress"]
CERTS = DATASETS_BY_NAME["Certifications"]
MODULES = DATASETS_BY_NAME["HierarchyModule"]


@pytest.fixture
def conn(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as c:
        yield c


def stage_rows(conn, tmp_path, dataset, day, rows, header=None):
    path = write_csv(
        tmp_path / day.isoformat() / f"{dataset.name}.csv", header or dataset.column_names, rows
    )
    load_snapshot(conn, dataset, day, path)
    return stage_snapshot(conn, dataset, day)


def table(conn, name: str, day: dt.date) -> list[tuple]:
    return conn.execute(
        f"SELECT * FROM {name} WHERE snapshot_date = ? ORDER BY ALL", [day]
    ).fetchall()


def with_faults(dataset, day, n_good: int, faults: dict[str, dict[str, str]]) -> list[dict]:
    """n_good valid rows, then one row per fault (a valid row with some values replaced)."""
    good = tiny_rows(dataset, day, n_good)
    return good + [good[0] | change for change in faults.values()]


PROGRESS_FAULTS = {
    "user_id: not a GUID": {"userId": "not-a-guid"},
    "source_type: not one of Unit, Module, LearningPath": {"SourceType": "Lesson"},
    "xp: below 0": {"XP": "-5"},
    "xp: not an integer": {"XP": "ten"},
    "xp: missing (required)": {"XP": ""},
    "awarded_on: not a timestamp": {"AwardedOn": "2026-13-45T00:00:00Z"},
    "xp_reason: longer than 65536 characters": {"XPReason": "x" * (1 << 20)},
}


def test_each_progress_fault_is_quarantined_with_its_reason(conn, tmp_path):
    rows = with_faults(PROGRESS, D1, 5, PROGRESS_FAULTS)
    rows += [rows[1], rows[1]]  # two repeats of a valid row
    result = stage_rows(conn, tmp_path, PROGRESS, D1, rows)
    expected = {reason: 1 for reason in PROGRESS_FAULTS} | {DUPLICATE: 2}
    assert result.failures == expected
    assert (result.raw_rows, result.staged_rows, result.quarantined_rows) == (14, 5, 9)
    reasons = conn.execute("SELECT reason, XP FROM quarantine.progress ORDER BY reason").fetchall()
    assert ("xp: not an integer", "ten") in reasons  # the original text is kept
    staged = conn.execute("SELECT count(*), min(xp) FROM staged.progress").fetchone()
    assert staged == (5, 100)


def test_certification_dates(conn, tmp_path):
    faults = {
        "awarded_on: not a YYYYMMDD date": {"AwardedOn": "20261341"},
        "certification_start_date after certification_end_date": {
            "CertificationStartDate": "20260601",
            "CertificationEndDate": "20260101",
        },
    }
    placeholders = {"CertificationEndDate": "18991229", "StayCurrentEligibilityStartDate": "0"}
    rows = with_faults(CERTS, D1, 2, faults) + [tiny_rows(CERTS, D1, 3)[2] | placeholders]
    result = stage_rows(conn, tmp_path, CERTS, D1, rows)
    assert result.failures == {reason: 1 for reason in faults}
    assert result.staged_rows == 3
    no_end = conn.execute(
        "SELECT count(*) FROM staged.certifications "
        "WHERE certification_end_date IS NULL AND stay_current_eligibility_start_date IS NULL"
    ).fetchone()
    assert no_end == (1,)


def test_malformed_json_array_is_quarantined_and_urls_made_absolute(conn, tmp_path):
    rows = with_faults(MODULES, D1, 2, {"levels: not a JSON array": {"levels": '["beginner",'}})
    rows[0]["url"] = "/training/modules/x/"
    result = stage_rows(conn, tmp_path, MODULES, D1, rows)
    assert result.failures == {"levels: not a JSON array": 1}
    url = conn.execute(
        "SELECT url, url_absolute, levels FROM staged.hierarchy_module WHERE url LIKE '/%'"
    ).fetchone()
    assert url == (
        "/training/modules/x/",
        "https://learn.microsoft.com/training/modules/x/",
        ["beginner", "intermediate"],
    )


def test_case_renamed_column_is_accepted(conn, tmp_path):
    header = [c if c != "XP" else "xp" for c in PROGRESS.column_names]
    rows = [{("xp" if k == "XP" else k): v for k, v in r.items()} for r in tiny_rows(PROGRESS, D1)]
    result = stage_rows(conn, tmp_path, PROGRESS, D1, rows, header=header)
    assert (result.staged_rows, result.quarantined_rows) == (2, 0)


def test_staging_a_faulty_snapshot_leaves_other_snapshots_unchanged(conn, tmp_path):
    stage_rows(conn, tmp_path, PROGRESS, D1, tiny_rows(PROGRESS, D1))
    before = table(conn, "staged.progress", D1), table(conn, "quarantine.progress", D1)
    stage_rows(conn, tmp_path, PROGRESS, D2, with_faults(PROGRESS, D2, 2, PROGRESS_FAULTS))
    assert (table(conn, "staged.progress", D1), table(conn, "quarantine.progress", D1)) == before
    # and re-staging D2 replaces it rather than adding to it
    again = stage_snapshot(conn, PROGRESS, D2)
    assert len(table(conn, "quarantine.progress", D2)) == again.quarantined_rows == 7


def test_entra_export_with_object_id_header(conn, tmp_path):
    path = write_csv(
        tmp_path / "entra.csv",
        ["objectId", "displayName", "department", "accountEnabled", "createdDateTime"],
        [
            {
                "objectId": "ABCDEF01-0000-0000-0000-000000000001",
                "displayName": "Ada",
                "department": "Research, Development",
                "accountEnabled": "True",
                "createdDateTime": "8/19/2021 1:25:31 PM",
            },
            {"objectId": "nope", "displayName": "Bad"},
        ],
    )
    load_entra_export(conn, path)
    result = stage_entra(conn)
    assert result.failures == {"object_id: not a GUID": 1}
    row = conn.execute(
        "SELECT object_id, display_name, department, account_enabled, job_title "
        "FROM staged.entra_users"
    ).fetchone()
    assert row == (
        "abcdef01-0000-0000-0000-000000000001",
        "Ada",
        "Research, Development",
        True,
        None,
    )
    assert ENTRA.table == "entra_users"
