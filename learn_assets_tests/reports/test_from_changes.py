"""A per-learner report's snapshot built from the learners changed since the snapshot before
stores exactly what building it whole stores, and is built whole when the snapshot before no
longer tells (the catalog changed, another definition of the report, not the latest day)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from learn_assets.reports.build import (
    LEARNER_SUMMARY,
    LEARNING_PATH_PROGRESS,
    MODULE_PROGRESS,
    REPORT_TABLES,
    REPORTS,
    plan_from_changes,
)
from learn_assets.resources.reporting import ReportSettingsValues
from learn_assets.warehouse.versioned import versions_table
from learn_assets_tests.helpers import run_snapshots

pytestmark = pytest.mark.slow  # several pipeline runs: `make test-fast` leaves them out


def stored(conn: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Every report's versions table in full, order-independent."""
    return {
        r.name: sorted(
            conn.execute(f"SELECT * FROM {versions_table(REPORTS, r.name)}").fetchall(), key=repr
        )
        for r in REPORT_TABLES
    }


@pytest.fixture
def landing(changing_tenant, tmp_path) -> tuple[Path, list[dt.date]]:
    """The changing tenant (learners joining, the fault day and its recovery), then a day whose
    catalog lost a unit: every learner of that unit's module has another units_total."""
    source, days = changing_tenant
    days = sorted(days)
    out = tmp_path / "landing"
    shutil.copytree(source, out)
    changed = days[-1] + dt.timedelta(days=1)
    shutil.copytree(out / days[-1].isoformat(), out / changed.isoformat())
    units = out / changed.isoformat() / "HierarchyUnit.csv"
    lines = units.read_text().splitlines(keepends=True)
    units.write_text("".join(lines[:-1]))
    return out, [*days, changed]


def test_reports_from_changes_equal_reports_built_whole(landing, tmp_path):
    folder, days = landing
    by_changes = duckdb.connect(str(tmp_path / "changes.duckdb"))
    whole = duckdb.connect(str(tmp_path / "whole.duckdb"))
    how: dict[tuple[str, dt.date], str] = {}
    for day in days:  # one run a day, as the daily schedule has it
        if day == days[-1]:  # and a new directory export: every learner_summary is rebuilt
            directory = folder / "entra_users.csv"
            moved = directory.read_text(encoding="utf-8-sig").replace(",Finance,", ",Legal,")
            assert moved != directory.read_text(encoding="utf-8-sig")
            directory.write_text(moved, encoding="utf-8-sig")
        built = run_snapshots(by_changes, folder, [day])
        how |= {(n, day): i.how for n, items in built.items() for i in items if i.snapshot == day}
        run_snapshots(whole, folder, [day], reports_from_changes=False)
        assert stored(by_changes) == stored(whole), day

    for report in (MODULE_PROGRESS, LEARNING_PATH_PROGRESS, LEARNER_SUMMARY):
        assert how[report.name, days[0]] == "whole: the first snapshot built"
        fast = [d for d in days if how[report.name, d].startswith("from the ")]
        assert len(fast) >= len(days) - 2, how
    catalog_day = days[-1]
    assert how[MODULE_PROGRESS.name, catalog_day] == (
        f"whole: staged/hierarchy_unit changed since {days[-2]}"
    )
    # Learning paths read the units only through module_progress, learner by learner.
    assert how[LEARNING_PATH_PROGRESS.name, catalog_day].startswith("from the ")
    # The directory changed: the earlier days were rebuilt whole, then the new day from them.
    assert how[LEARNER_SUMMARY.name, catalog_day].startswith("from the ")
    rebuilt = [i for i in built[LEARNER_SUMMARY.name] if i.snapshot != catalog_day]
    assert [i.snapshot for i in rebuilt] == days[:-1]
    # Reports that are not per learner are built as before, whole, without a word.
    assert {how[name, d] for (name, d) in how if name == "org_overview"} == {""}

    # A day loaded again (a re-delivery) and the days after it are rebuilt, whole: none of
    # them comes after every snapshot built.
    for conn, from_changes in ((by_changes, True), (whole, False)):
        again = run_snapshots(conn, folder, [days[1]], reports_from_changes=from_changes)
        rebuilt = again[MODULE_PROGRESS.name]
        assert [i.snapshot for i in rebuilt] == days[1:]
        assert all(i.how.startswith("whole: not after the latest") for i in rebuilt)
    assert stored(by_changes) == stored(whole)


def test_a_snapshot_is_built_whole_when_the_one_before_does_not_tell(landing, tmp_path):
    folder, days = landing
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    run_snapshots(conn, folder, days[:2])
    latest, later = days[1], days[1] + dt.timedelta(days=30)

    defaults = ReportSettingsValues()
    assert plan_from_changes(conn, MODULE_PROGRESS, days[0], defaults) == (
        None,
        f"whole: not after the latest snapshot built ({latest})",
    )
    other = dataclasses.replace(MODULE_PROGRESS, select=MODULE_PROGRESS.select + "\n")
    assert plan_from_changes(conn, other, later, defaults) == (
        None,
        f"whole: {latest} was built by another definition or settings",
    )
    private = ReportSettingsValues(pseudonymize=True, pseudonym_key="k")
    assert plan_from_changes(conn, LEARNER_SUMMARY, later, private) == (
        None,
        f"whole: {latest} was built by another definition or settings",
    )
    assert plan_from_changes(conn, MODULE_PROGRESS, later, defaults) == (
        None,
        f"whole: staged/users is not loaded for both {latest} and {later}",
    )
    # Reports that read anything but learners' rows (settings, dates) are never built so.
    not_per_learner = next(r for r in REPORT_TABLES if r.name == "certification_status")
    assert plan_from_changes(conn, not_per_learner, later, defaults) == (None, "")
