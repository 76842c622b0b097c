"""reports.catalog_tag_progress on the hand-built tenant (tenant.py), against values computed by
hand: M1 counts under both its products, M3 under none, certifications count nowhere."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from learn_assets.reports.build import CATALOG_TAG_PROGRESS, REPORT_TABLES
from learn_assets_tests.helpers import run_snapshots
from learn_assets_tests.reports.tenant import D1, D2, write_tenant

# (tag_kind, tag) -> (modules_started, modules_completed, learners_started, learners_completed,
#                     completion_rate, learning_paths_completed, applied_skills_earned)
EXPECTED = {
    # D1: Ada M1 (badge), Bob M1 (a unit), Cy M3 (a unit); Eve holds S1; no trophy yet.
    D1: {
        ("level", "beginner"): (3, 1, 3, 1, 1 / 3, 0, 0),  # M1 and M3
        ("level", "intermediate"): (0, 0, 0, 0, None, 0, 1),  # M2 (nobody yet) and S1
        ("product", "azure"): (2, 1, 2, 1, 0.5, 0, 0),  # M1 (Cy's M3 has no product)
        ("product", "dotnet"): (2, 1, 2, 1, 0.5, 0, 0),  # M1 again: counted under each
        ("role", "developer"): (3, 1, 3, 1, 1 / 3, 0, 0),
        ("subject", "security"): (0, 0, 0, 0, None, 0, 1),  # S1 only
    },
    # D2: Ada M1 + M2 (badges) and P1 (trophy), Bob M1 (a unit); Cy left.
    D2: {
        ("level", "beginner"): (2, 1, 2, 1, 0.5, 1, 0),  # P1 is beginner
        ("level", "intermediate"): (1, 1, 1, 1, 1.0, 0, 1),  # Ada's M2; Eve's S1
        ("product", "azure"): (3, 2, 2, 1, 2 / 3, 1, 0),  # Ada M1, M2; Bob M1; P1 is azure
        ("product", "dotnet"): (2, 1, 2, 1, 0.5, 0, 0),  # P1 carries azure only
        ("role", "developer"): (3, 2, 2, 1, 2 / 3, 1, 0),
        ("subject", "security"): (0, 0, 0, 0, None, 0, 1),
    },
}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("tags")
    write_tenant(tmp / "landing")
    with duckdb.connect(str(tmp / "w.duckdb")) as conn:
        run_snapshots(conn, tmp / "landing", [D1, D2])
    return tmp / "w.duckdb"


def tag_rows(database: Path, day: dt.date) -> dict[tuple[str, str], tuple]:
    with duckdb.connect(str(database), read_only=True) as conn:
        rows = conn.execute(
            "SELECT tag_kind, tag, modules_started, modules_completed, learners_started, "
            "learners_completed, completion_rate, learning_paths_completed, "
            "applied_skills_earned FROM reports.catalog_tag_progress WHERE snapshot_date = ?",
            [day],
        ).fetchall()
    return {(r[0], r[1]): r[2:] for r in rows}


@pytest.mark.parametrize("day", [D1, D2])
def test_catalog_tag_progress_by_hand(warehouse: Path, day: dt.date):
    assert tag_rows(warehouse, day) == EXPECTED[day]


def test_a_module_with_two_products_counts_twice_and_one_without_none(warehouse: Path):
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        started = conn.execute(
            "SELECT sum(modules_started) FILTER (WHERE tag_kind = 'product'), "
            "(SELECT modules_started FROM reports.org_overview WHERE snapshot_date = $d) "
            "FROM reports.catalog_tag_progress WHERE snapshot_date = $d",
            {"d": D1},
        ).fetchone()
    # 3 learner-module pairs; M1's two pairs counted under two products, Cy's M3 under none
    assert started == (4, 3)


def test_the_report_is_registered_after_what_it_reads():
    names = [r.name for r in REPORT_TABLES]
    assert CATALOG_TAG_PROGRESS.key == ("snapshot_date", "tag_kind", "tag")
    for dep in CATALOG_TAG_PROGRESS.deps:
        layer, table = dep.split("/")
        if layer == "reports":
            assert names.index(table) < names.index(CATALOG_TAG_PROGRESS.name)
