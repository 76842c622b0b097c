"""A tiny hand-built `reports` schema (the real column names and types) and its exports.

Two snapshots, so the tests can see that an export holds only its own snapshot's rows. The
directory data is hostile on purpose: a display name that is a spreadsheet formula, a DDE
payload as a department, HTML in a name, a comma in a department. On D2 the certifications are
one of each kind the expiry timeline buckets apart (expired, expiring soon, active within the
year, never expiring), and the counts that follow from them (learner_summary, org_overview,
department_summary, snapshot_changes) agree with them. Beside the reports, what the data-quality
line reads: raw and quarantine row counts per snapshot and the staged check log.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from learn_assets.exports.files import ExportResult, export_snapshot
from learn_assets.layout import CHECK_LOG as LOGGED_CHECKS
from learn_assets.layout import create_log
from learn_assets.staged.check_log import ACCEPTED, PASSED, WARNED, LoggedCheck, record_checks
from learn_assets.warehouse.versioned import ensure_versioned

D1, D2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)
FORMULA_NAME = '=HYPERLINK("http://x","y")'
DDE_DEPARTMENT = "+cmd|' /C calc'!A0"
COMMA_DEPARTMENT = "Research, Development"
HTML_NAME = "Ada <b>Lovelace</b> & co"
U1, U2, U3, U4, U5 = (f"0000000{i}-aaaa-bbbb-cccc-dddddddddddd" for i in range(1, 6))
LEAVER_NAME = "-Lee Leaving"  # U5, on D1 only: left by D2, named on D2's sheets as then
NEVER_EXPIRES, NEVER_EXPIRES_TITLE = "cert-sc-900", "Security Fundamentals"  # U4's, from D2

# Column names and types as reports/build.py produces them (checked against a real warehouse
# in test_assets.py).
SCHEMA = {
    "certification_status": """snapshot_date DATE, user_id VARCHAR, certification_uid VARCHAR,
        title VARCHAR, earned_on DATE, expires_on DATE, days_to_expiry INTEGER, status VARCHAR,
        renewal_eligible BOOLEAN, renewal_opens_on DATE""",
    "module_progress": """snapshot_date DATE, user_id VARCHAR, module_uid VARCHAR,
        title VARCHAR, units_total BIGINT, units_completed BIGINT, completed BOOLEAN""",
    "learning_path_progress": """snapshot_date DATE, user_id VARCHAR,
        learning_path_uid VARCHAR, title VARCHAR, modules_total BIGINT,
        modules_completed BIGINT, completion_ratio DOUBLE, completed BOOLEAN""",
    "learner_summary": """snapshot_date DATE, user_id VARCHAR, aad_object_id VARCHAR,
        display_name VARCHAR, department VARCHAR, job_title VARCHAR, total_xp BIGINT,
        units_completed BIGINT, modules_completed BIGINT, learning_paths_completed BIGINT,
        active_certifications BIGINT, applied_skills BIGINT,
        last_activity_at TIMESTAMP WITH TIME ZONE, joined_learn_on TIMESTAMP WITH TIME ZONE""",
    "org_overview": """snapshot_date DATE, directory_users BIGINT, learners BIGINT,
        adoption_rate DOUBLE, modules_started BIGINT, modules_completed BIGINT,
        module_completion_rate DOUBLE, learning_paths_completed BIGINT, total_xp BIGINT,
        active_certifications BIGINT, expiring_certifications BIGINT, applied_skills BIGINT""",
    "department_summary": """snapshot_date DATE, department VARCHAR, directory_users BIGINT,
        learners BIGINT, adoption_rate DOUBLE, total_xp BIGINT, modules_completed BIGINT,
        learning_paths_completed BIGINT, active_certifications BIGINT""",
    "content_popularity": """snapshot_date DATE, content_uid VARCHAR, content_type VARCHAR,
        title VARCHAR, learners_started BIGINT, completions BIGINT""",
    "catalog_tag_progress": """snapshot_date DATE, tag_kind VARCHAR, tag VARCHAR,
        modules_started BIGINT, modules_completed BIGINT, learners_started BIGINT,
        learners_completed BIGINT, completion_rate DOUBLE, learning_paths_completed BIGINT,
        applied_skills_earned BIGINT""",
    "snapshot_changes": """snapshot_date DATE, change VARCHAR, user_id VARCHAR, uid VARCHAR,
        title VARCHAR, previous_snapshot DATE""",
    "activity_daily": """snapshot_date DATE, activity_date DATE, active_learners BIGINT, xp BIGINT,
        units_completed BIGINT, modules_completed BIGINT, learning_paths_completed BIGINT,
        certifications_earned BIGINT""",
}

ROWS: dict[str, list[tuple]] = {
    "certification_status": [
        (
            D1,
            U1,
            "cert-az-104",
            "Azure Administrator",
            D1,
            dt.date(2026, 12, 15),
            44,
            "expiring_soon",
            True,
            dt.date(2026, 6, 15),
        ),
        (
            D2,
            U1,
            "cert-az-104",
            "Azure Administrator",
            D1,
            dt.date(2026, 12, 15),
            43,
            "expiring_soon",
            True,
            dt.date(2026, 6, 15),
        ),
        (
            D2,
            U2,
            "cert-az-900",
            "-Azure Fundamentals",
            dt.date(2024, 10, 1),
            dt.date(2026, 10, 1),
            -32,
            "expired",
            False,
            None,
        ),
        (
            D2,
            U2,
            "cert-ai-102",
            None,
            dt.date(2025, 6, 30),
            dt.date(2027, 6, 30),
            240,
            "active",
            False,
            dt.date(2027, 1, 1),
        ),
        # never expires (no end date): active, in the timeline's "No expiry" bar
        (D2, U4, NEVER_EXPIRES, NEVER_EXPIRES_TITLE, D2, None, None, "active", False, None),
    ],
    "module_progress": [
        (D2, U1, "mod-1", "@Intro to Azure", 4, 4, True),
        (D2, U2, "mod-1", "@Intro to Azure", 4, 2, False),
    ],
    "learning_path_progress": [
        (D2, U1, "lp-1", "Azure basics", 2, 1, 0.5, False),
    ],
    "learner_summary": [
        (
            D1,
            U5,
            "obj-5",
            LEAVER_NAME,
            "Sales",
            None,
            50,
            1,
            0,
            0,
            0,
            0,
            "2026-10-01 10:00:00+00",
            "2026-09-01 00:00:00+00",
        ),
        (
            D1,
            U1,
            "obj-1",
            FORMULA_NAME,
            DDE_DEPARTMENT,
            "Engineer",
            4000,
            10,
            3,
            0,
            1,
            0,
            "2026-10-31 10:00:00+00",
            "2026-01-01 00:00:00+00",
        ),
        (
            D2,
            U1,
            "obj-1",
            FORMULA_NAME,
            DDE_DEPARTMENT,
            "\tlead",
            5000,
            12,
            4,
            1,
            1,
            0,
            "2026-11-01 23:30:00-08:00",
            "2026-01-01 00:00:00+00",
        ),
        (
            D2,
            U2,
            "obj-2",
            HTML_NAME,
            COMMA_DEPARTMENT,
            "Scientist",
            3000,
            8,
            2,
            0,
            1,
            1,
            "2026-10-20 12:00:00+00",
            "2025-05-05 05:05:05+00",
        ),
        (D2, U3, None, None, None, None, 0, 0, 0, 0, 0, 0, None, "2026-10-30 09:00:00+00"),
        (
            D2,
            U4,
            "obj-4",
            "@admin",
            COMMA_DEPARTMENT,
            "\rcarriage",
            100,
            1,
            0,
            0,
            1,
            0,
            "2026-11-02 01:00:00+00",
            "2026-11-02 00:30:00+00",
        ),
    ],
    "org_overview": [
        (D1, 5, 2, 0.4, 5, 3, 0.6, 0, 4050, 1, 1, 0),
        (D2, 6, 4, 0.5, 10, 7, 0.7, 1, 8100, 3, 1, 1),
    ],
    "department_summary": [
        (D2, DDE_DEPARTMENT, 1, 1, 1.0, 5000, 4, 1, 1),
        (D2, COMMA_DEPARTMENT, 2, 2, 1.0, 3100, 2, 0, 2),
        (D2, "Sales", 3, 0, 0.0, 0, 0, 0, 0),
        (D2, "(not in directory)", 0, 1, None, 0, 0, 0, 0),
    ],
    "content_popularity": [
        (D2, "mod-1", "module", "@Intro to Azure", 2, 1),
        (D2, "lp-1", "learning_path", "Azure basics", 1, 0),
        (D2, "cert-az-104", "certification", "Azure Administrator", 1, 1),
        (D2, "skill-1", "applied_skill", None, 1, 1),
    ],
    "catalog_tag_progress": [
        (D1, "product", "azure", 1, 1, 1, 1, 1.0, 0, 0),
        (D2, "level", "beginner", 2, 1, 2, 1, 0.5, 0, 0),
        (D2, "product", "azure", 2, 1, 2, 1, 0.5, 0, 0),
        (D2, "product", "+plus", 1, 0, 1, 0, 0.0, 0, 0),
        (D2, "role", "developer", 2, 1, 2, 1, 0.5, 0, 0),
        (D2, "subject", "security", 0, 0, 0, 0, None, 0, 1),
    ],
    "snapshot_changes": [
        (D2, "learner_joined", U4, None, None, D1),
        (D2, "learner_left", U5, None, None, D1),
        (D2, "certification_earned", U4, NEVER_EXPIRES, NEVER_EXPIRES_TITLE, D1),
    ],
    "activity_daily": [
        (D2, dt.date(2026, 10, 20), 1, 300, 1, 0, 0, 0),
        (D2, dt.date(2026, 10, 31), 2, 1200, 3, 1, 0, 1),
        (D2, D1, 3, 900, 2, 1, 1, 0),
        (D2, D2, 1, 100, 1, 0, 0, 0),
        (D2, dt.date(2026, 11, 3), 1, 50, 1, 0, 0, 0),  # dated after the snapshot: exported
    ],
}


# (layer, table, snapshot) -> rows, as the snapshot catalogs `<layer>._snapshots` hold them.
SNAPSHOT_ROWS = {
    ("raw", "users", D1): 5,
    ("quarantine", "users", D1): 0,
    ("raw", "users", D2): 6,
    ("quarantine", "users", D2): 0,
    ("raw", "progress", D2): 1_200,
    ("quarantine", "progress", D2): 26,
    ("raw", "certifications", D2): 40,
    ("quarantine", "certifications", D2): 1,
    ("raw", "hierarchy_module", D1): 30,
    ("quarantine", "hierarchy_module", D1): 3,  # D1's: not in D2's line
}
ENTRA_ROWS, ENTRA_QUARANTINED = 8, 1
ACCEPTED_NOTE = (
    "Accepted by LEARN_ACCEPT_ANOMALY (2026-11-02): Users of 2026-11-02 has 6 rows, 40% fewer "
    "than the 10 of 2026-10-31 ..."
)
CHECK_LOG = [
    LoggedCheck("users", D2, "user_count_plausible", True, ACCEPTED, 4, ACCEPTED_NOTE),
    LoggedCheck("users", D2, "keys_unique", True, PASSED, 0, ""),
    LoggedCheck("progress", D2, "rows_follow_contract", False, WARNED, 26, "26 rows quarantined"),
    LoggedCheck("progress", D1, "rows_follow_contract", False, WARNED, 3, "D1 only"),
    LoggedCheck("entra_users", None, "rows_follow_contract", False, WARNED, 1, "1 row"),
]


# The data-quality lines of D2's exports (page, About sheet, asset metadata), by hand.
D2_QUALITY_LINES = [
    "Rows quarantined (left out of the reports, see the quarantine tables): Certifications 1 of "
    "40 (2.5%); Progress 26 of 1,200 (2.2%); Entra users export 1 of 8 (12.5%).",
    "Warning, Progress rows_follow_contract: 26 rows quarantined",
    "Accepted anomaly, Users user_count_plausible: " + ACCEPTED_NOTE,
    "Warning, Entra users export rows_follow_contract: 1 row",
]


def build_quality(conn: duckdb.DuckDBPyConnection) -> None:
    """The row counts and check log above, where staging keeps them."""
    for layer in ("raw", "quarantine"):
        ensure_versioned(conn, layer, "users", [("x", "VARCHAR")])  # creates the catalog
        conn.execute(f"CREATE TABLE {layer}.entra_users (id VARCHAR)")
    for (layer, table, day), rows in SNAPSHOT_ROWS.items():
        conn.execute(f"INSERT INTO {layer}._snapshots VALUES (?, ?, ?)", [table, day, rows])
    conn.execute("INSERT INTO raw.entra_users SELECT 'x' FROM range(?)", [ENTRA_ROWS])
    conn.execute("INSERT INTO quarantine.entra_users SELECT 'x' FROM range(?)", [ENTRA_QUARANTINED])
    create_log(conn, LOGGED_CHECKS)
    for dataset, day in {(c.dataset, c.snapshot_date) for c in CHECK_LOG}:
        record_checks(
            conn,
            dataset,
            day,
            [c for c in CHECK_LOG if (c.dataset, c.snapshot_date) == (dataset, day)],
        )


def build_reports(path: Path) -> Path:
    """A DuckDB file with the report tables and the rows above, and the data quality."""
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE SCHEMA reports")
        for name, columns in SCHEMA.items():
            conn.execute(f"CREATE TABLE reports.{name} ({columns})")
            width = len(ROWS[name][0]) if ROWS[name] else 0
            marks = ", ".join("?" * width)
            for row in ROWS[name]:
                conn.execute(f"INSERT INTO reports.{name} VALUES ({marks})", list(row))
        build_quality(conn)
    return path


@pytest.fixture
def reports_db(tmp_path: Path) -> Path:
    return build_reports(tmp_path / "warehouse.duckdb")


@pytest.fixture(scope="session")
def exported(tmp_path_factory: pytest.TempPathFactory) -> ExportResult:
    """The exports of snapshot D2 of the tiny schema, written once for the read-only tests."""
    root = tmp_path_factory.mktemp("exports")
    db = build_reports(root / "warehouse.duckdb")
    with duckdb.connect(str(db)) as conn:
        return export_snapshot(conn, D2, root / "out")
