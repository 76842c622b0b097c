"""Every fault kind of `learn-assets sample --faults`, through real Dagster runs: the exact
quarantined count or the exact error, and every earlier partition of every table unchanged."""

import datetime as dt
import json

import dagster as dg
import duckdb
import pytest

from learn_assets.contracts.datasets import DATASETS, DATASETS_BY_NAME
from learn_assets.definitions import ASSETS
from learn_assets.generator import generate_sample
from learn_assets.jobs import QUIET, failure_messages, materialize_snapshots
from learn_assets.resources import (
    ExportSettings,
    LandingResource,
    ReportSettings,
    WarehouseResource,
)
from learn_assets.staged.stage import DUPLICATE

PARTITIONED = [a.key for a in ASSETS if a.partitions_def]
QUARANTINE_REASON = {
    "duplicate_row": DUPLICATE,
    "malformed_guid": "user_id: not a GUID",
    "unknown_enum": "source_type: not one of Unit, Module, LearningPath",
    "negative_xp": "xp: below 0",
    "non_numeric_xp": "xp: not an integer",
    "huge_field": "xp_reason: longer than 65536 characters",
    "impossible_date": "awarded_on: not a YYYYMMDD date",
    "end_before_start": "certification_start_date after certification_end_date",
    "malformed_json_array": "levels: not a JSON array",
    "year_one_date": "awarded_on: before 1900-01-01",
    "year_9999_timestamp": "awarded_on: after 2999-12-31",
    "year_one_timestamp": "awarded_on: before 1900-01-01",
    "max_bigint_xp": "xp: above 1000000",
    "xp_above_max": "xp: above 1000000",
}
STAGED = {"never_expires"}  # 99991231: staged, certification_end_date NULL ("does not expire")
CHECK_FAILURE = {  # kind -> (asset, check) whose failing count equals the fault count
    "orphan_user_id": ("staged/progress", "user_ids_in_users"),
    "orphan_catalog_uid": ("staged/progress", "uids_in_catalog"),
    "mixed_tenant": ("staged/applied_skills", "one_tenant"),
    "extra_column": ("staged/achievements", "no_unknown_columns"),
}
SCHEMAS = ("raw", "staged", "quarantine")


def all_partitions_before(db: str, day: str) -> dict[str, list[tuple]]:
    with duckdb.connect(db, read_only=True) as conn:
        return {
            f"{schema}.{d.table}": conn.execute(
                f"SELECT * FROM {schema}.{d.table} WHERE snapshot_date < ? ORDER BY ALL", [day]
            ).fetchall()
            for schema in SCHEMAS
            for d in DATASETS
        }


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    """A small tenant with two clean days, then the row-fault and file-fault snapshots, run."""
    tmp = tmp_path_factory.mktemp("faults")
    summary = generate_sample(tmp / "landing", 150, 2, dt.date(2026, 11, 1), seed=5, faults=True)
    manifest = json.loads((tmp / "landing" / "faults.json").read_text())
    resources = {
        "landing": LandingResource(landing_dir=str(tmp / "landing")),
        "warehouse": WarehouseResource(database=str(tmp / "w.duckdb")),
        "report_settings": ReportSettings(),
        "exports": ExportSettings(exports_dir=str(tmp / "exports")),
    }
    materialize_snapshots(summary.snapshots[0], summary.snapshots[-1], resources)
    db = resources["warehouse"].database
    before = all_partitions_before(db, manifest["row_faults"]["snapshot"])
    runs = {
        name: dg.materialize(
            ASSETS,
            selection=PARTITIONED,
            partition_key=manifest[name]["snapshot"],
            resources=resources,
            raise_on_error=False,
            run_config=QUIET,
        )
        for name in ("row_faults", "file_faults")
    }
    return manifest, runs, db, before


def quarantined(db: str, dataset: str, day: str) -> dict[str, int]:
    with duckdb.connect(db, read_only=True) as conn:
        return dict(
            conn.execute(
                f"SELECT reason, count(*) FROM quarantine.{DATASETS_BY_NAME[dataset].table} "
                "WHERE snapshot_date = ? GROUP BY 1",
                [day],
            ).fetchall()
        )


def test_row_faults_are_quarantined_with_exact_counts(faulty):
    manifest, _, db, _ = faulty
    day = manifest["row_faults"]["snapshot"]
    expected: dict[str, dict[str, int]] = {}
    for fault in manifest["row_faults"]["faults"]:
        if fault["kind"] in QUARANTINE_REASON:
            reasons = expected.setdefault(fault["dataset"], {})
            reason = QUARANTINE_REASON[fault["kind"]]
            reasons[reason] = reasons.get(reason, 0) + fault["count"]
    assert set(expected) == {"Progress", "Certifications", "HierarchyModule"}
    for dataset, reasons in expected.items():
        assert quarantined(db, dataset, day) == reasons, dataset


def test_a_certification_ending_99991231_is_staged_as_never_expiring(faulty):
    manifest, _, db, _ = faulty
    day = manifest["row_faults"]["snapshot"]
    (never,) = [f for f in manifest["row_faults"]["faults"] if f["kind"] in STAGED]
    with duckdb.connect(db, read_only=True) as conn:
        staged = conn.execute(
            "SELECT count(*) "
            "FROM raw.certifications r JOIN staged.certifications s "
            "ON s.snapshot_date = r.snapshot_date AND s.user_id = lower(r.userId) "
            "AND s.source_uid = r.SourceUid "
            "AND s.awarded_on = strptime(r.AwardedOn, '%Y%m%d')::DATE "
            "AND s.stay_current_eligibility_start_date "
            "= strptime(r.StayCurrentEligibilityStartDate, '%Y%m%d')::DATE "
            "WHERE r.snapshot_date = ? AND r.CertificationEndDate = '99991231' "
            "AND s.certification_end_date IS NULL",
            [day],
        ).fetchone()
    assert staged == (never["count"],)
    assert "99991231" not in str(quarantined(db, "Certifications", day))


def test_cross_dataset_and_drift_faults_fail_their_checks_with_exact_counts(faulty):
    manifest, runs, _, _ = faulty
    checks = {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in runs["row_faults"].get_asset_check_evaluations()
    }
    for fault in manifest["row_faults"]["faults"]:
        if fault["kind"] in CHECK_FAILURE:
            evaluation = checks[CHECK_FAILURE[fault["kind"]]]
            assert not evaluation.passed
            assert evaluation.metadata["failing"].value == fault["count"], fault["kind"]
    assert checks[("staged/applied_skills", "one_tenant")].blocking
    # the case-renamed column was accepted: every Achievements row staged
    assert checks[("staged/achievements", "rows_follow_contract")].passed


def test_rows_are_conserved_on_the_faulty_snapshot(faulty):
    manifest, runs, _, _ = faulty
    conserved = [
        e
        for e in runs["row_faults"].get_asset_check_evaluations()
        if e.check_name == "rows_conserved"
    ]
    assert len(conserved) == len(DATASETS) and all(e.passed for e in conserved)


def test_file_faults_fail_with_messages_naming_file_line_and_column(faulty):
    manifest, runs, _, _ = faulty
    result = runs["file_faults"]
    assert not result.success
    messages = "\n".join(failure_messages(result))
    by_kind = {f["kind"]: f for f in manifest["file_faults"]["faults"]}
    assert "Certifications.csv: missing required column(s) SourceUid" in messages
    assert "HierarchyCertification.csv: file is empty (not even a header row)" in messages
    line = by_kind["truncated_last_line"]["line"]
    assert f"Achievements.csv: 1 unreadable line(s), file not loaded: line {line} " in messages
    assert "Expected Number of Columns" in messages
    assert (
        "HierarchyLearningPath.csv: 1 unreadable line(s), file not loaded: line 3 (column title): "
        "Invalid unicode (byte sequence mismatch) detected" in messages
    )
    # The reading faults: five fail naming file, line and column; two load (mixed line endings,
    # typed Parquet).
    assert "Users.csv: line 1 (header): looks like UTF-16 (Excel 'Unicode text')" in messages
    assert (
        "HierarchyLearningPathModule.csv: line 1 (header): the delimiter looks like ';'" in messages
    )
    assert (
        "AppliedSkills.csv: line 1 (column 6 'UserID'): duplicated column name ('userId', "
        "column 2, differs only by case" in messages
    )
    assert (
        "HierarchyAppliedSkills.csv: line 1 (column 9): empty column name (a trailing comma on "
        "the header?)" in messages
    )
    line = by_kind["oversized_field"]["line"]
    assert (
        f"Progress.csv: 1 unreadable line(s), file not loaded: line {line} (column XPReason): "
        "field too long" in messages
    )
    failed = {e.step_key for e in result.get_step_failure_events()}
    assert failed == {
        "raw__certifications",
        "raw__hierarchy_certification",
        "raw__achievements",
        "raw__hierarchy_learning_path",
        "raw__users",
        "raw__hierarchy_learning_path_module",
        "raw__applied_skills",
        "raw__hierarchy_applied_skills",
        "raw__progress",
    }  # raw__hierarchy_unit (mixed line endings) and raw__hierarchy_module (Parquet) load


def test_earlier_partitions_of_every_table_are_unchanged(faulty):
    manifest, _, db, before = faulty
    assert all_partitions_before(db, manifest["row_faults"]["snapshot"]) == before


def test_the_row_fault_day_quarantines_too_much_of_certifications(faulty):
    """Of this small tenant's Certifications, the injected rows are more than 5%: a blocking
    sanity failure (Progress's are well under it); Users' sanity checks pass."""
    manifest, runs, db, _ = faulty
    day = manifest["row_faults"]["snapshot"]
    checks = {
        (e.asset_key.to_user_string(), e.check_name): e
        for e in runs["row_faults"].get_asset_check_evaluations()
    }
    shares = {a for (a, c), e in checks.items() if c == "quarantine_share" and not e.passed}
    assert shares == {"staged/certifications"}
    with duckdb.connect(db, read_only=True) as conn:
        (delivered,) = conn.execute(
            "SELECT count(*) FROM raw.certifications WHERE snapshot_date = ?", [day]
        ).fetchone()
    reasons = quarantined(db, "Certifications", day)
    assert (sum(reasons.values()), delivered) == (6, 46)
    assert checks[("staged/certifications", "quarantine_share")].description == (
        f"6 of 46 Certifications rows of {day} (13%) are quarantined, more than "
        "LEARN_MAX_QUARANTINE_SHARE allows (5%): the reports would miss them. Most broken rules: "
        "certification_start_date after certification_end_date (3); awarded_on: not a YYYYMMDD "
        f"date (2); awarded_on: before 1900-01-01 (1). See quarantine.certifications and fix the "
        "delivery, or set "
        f"LEARN_ACCEPT_ANOMALY={day} and run this snapshot again."
    )
    assert checks[("staged/users", "user_count_plausible")].passed
    assert checks[("staged/users", "tenant_unchanged")].passed
