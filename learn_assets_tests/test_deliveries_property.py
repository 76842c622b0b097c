"""Property: whatever sequence of loads, corrected re-deliveries, re-runs, removals and
out-of-order loads happened, every core and report table (and the staged layer) equals a
from-scratch build of the deliveries now loaded, loaded in date order.

The tenant is the hand-built one (`reports/tenant.py`) over three days, each delivered either as
is or corrected: Ada's first unit worth 150 XP an hour later (changed XP, moved timestamp), Bob's
certification renewed (same start, end a year later), Eve's applied skill gone (a removed row),
and on the first day Eve absent (a learner who leaves and comes back). Cy leaves on day 2 and is
back on day 3.
"""

from __future__ import annotations

import copy
import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from learn_assets.contracts.datasets import DATASETS, ENTRA_COLUMNS
from learn_assets.forget import forget_snapshot
from learn_assets.resources.reporting import ReportSettingsValues
from learn_assets.staged.stage import QUARANTINE, STAGED
from learn_assets.warehouse.versioned import versions_table
from learn_assets_tests.helpers import derived_tables, run_snapshots, write_csv
from learn_assets_tests.reports.tenant import (
    CERTS,
    CY_PROGRESS,
    D1,
    D2,
    DIRECTORY,
    SNAPSHOTS,
    USERS,
    A,
    B,
    C,
    E,
    _progress,
    write_snapshot,
)

D3 = D2 + dt.timedelta(days=1)
DAYS = (D1, D2, D3)
AS_IS, FIXED = VARIANTS = ("as delivered", "corrected")


def delivery(day: dt.date, variant: str) -> dict[str, list[dict]]:
    files = copy.deepcopy(SNAPSHOTS[D2] if day == D3 else SNAPSHOTS[day])
    if day == D3:  # Cy is back, with his unit
        files["Users"].append(USERS[C])
        files["Progress"] += CY_PROGRESS
    if variant == "corrected":
        files["Progress"][0] = _progress(
            A, "Unit", "learn.m1.1-a", 150, "2026-10-30T11:00:00+00:00"
        )
        files["Certifications"] = [
            CERTS[B] | {"CertificationEndDate": "20280301"} if c["userId"] == B else c
            for c in files["Certifications"]
        ]
        files["AppliedSkills"] = []
        if day == D1:
            files["Users"] = [u for u in files["Users"] if u["userId"] != E]
    return files


def write_delivery(landing: Path, day: dt.date, variant: str) -> None:
    write_snapshot(landing, day, delivery(day, variant))
    write_csv(landing / "entra_users.csv", ENTRA_COLUMNS, DIRECTORY)


def staged_tables(conn: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    found: dict[str, list[tuple]] = {}
    for schema in (STAGED, QUARANTINE):
        for d in DATASETS:
            query = f"SELECT * FROM {versions_table(schema, d.table)}"
            try:
                found[f"{schema}.{d.table}"] = sorted(conn.execute(query).fetchall(), key=repr)
            except duckdb.CatalogException:
                found[f"{schema}.{d.table}"] = []
    return found


def apply(
    conn: duckdb.DuckDBPyConnection,
    landing: Path,
    operations: list[tuple],
) -> dict[dt.date, str]:
    """Carry out the operations; return which variant of which day is loaded at the end."""
    loaded: dict[dt.date, str] = {}
    on_disk: dict[dt.date, str] = {}
    for op, day, variant in operations:
        if op == "load":  # a delivery (first, or a re-delivery of the date)
            write_delivery(landing, day, variant)
            on_disk[day] = variant
        if op in ("load", "rerun"):
            if day not in on_disk:
                write_delivery(landing, day, variant)
                on_disk[day] = variant
            run_snapshots(conn, landing, [day])
            loaded[day] = on_disk[day]
        elif op == "forget" and day in loaded:
            forget_snapshot(conn, day, ReportSettingsValues())
            del loaded[day]
    return loaded


def check_equals_fresh_build(tmp: Path, operations: list[tuple]) -> None:
    landing, fresh_landing = tmp / "landing", tmp / "fresh-landing"
    for folder in (landing, fresh_landing):
        shutil.rmtree(folder, ignore_errors=True)
    databases = [tmp / "w.duckdb", tmp / "fresh.duckdb"]
    for db in databases:
        db.unlink(missing_ok=True)
    with duckdb.connect(str(databases[0])) as conn:
        loaded = apply(conn, landing, operations)
        got = derived_tables(conn) | staged_tables(conn)
    with duckdb.connect(str(databases[1])) as conn:
        write_csv(fresh_landing / "entra_users.csv", ENTRA_COLUMNS, DIRECTORY)
        for day in sorted(loaded):
            write_delivery(fresh_landing, day, loaded[day])
            run_snapshots(conn, fresh_landing, [day])
        expected = derived_tables(conn) | staged_tables(conn)
    for table, rows in expected.items():
        assert got[table] == rows, (table, operations)


operation = st.tuples(
    st.sampled_from(("load", "load", "rerun", "forget")),
    st.sampled_from(DAYS),
    st.sampled_from(VARIANTS),
)


@pytest.mark.slow
@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=st.lists(operation, min_size=1, max_size=4))
# Regression cases from the issue: out of order; a corrected re-delivery re-run; removal of the
# middle day; the two in combination.
@example(operations=[("load", D1, AS_IS), ("load", D3, AS_IS), ("load", D2, AS_IS)])
@example(operations=[("load", D1, AS_IS), ("load", D1, FIXED), ("rerun", D1, FIXED)])
@example(
    operations=[
        ("load", D1, AS_IS),
        ("load", D2, FIXED),
        ("load", D3, AS_IS),
        ("forget", D2, AS_IS),
    ]
)
@example(
    operations=[
        ("load", D2, FIXED),
        ("load", D3, AS_IS),
        ("load", D1, FIXED),
        ("load", D2, AS_IS),
    ]
)
def test_any_sequence_of_deliveries_equals_a_fresh_build(tmp_path, operations):
    check_equals_fresh_build(tmp_path, operations)
