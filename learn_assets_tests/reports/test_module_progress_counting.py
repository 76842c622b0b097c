"""module_progress counts a learner's units per module on numbered units and modules: the
cases where numbering could go wrong, on hand-built tables (no pipeline)."""

from __future__ import annotations

import datetime as dt

import duckdb

from learn_assets.reports.build import MODULE_PROGRESS
from learn_assets.warehouse.versioned import OPEN_END as OPEN

D = dt.date(2026, 10, 2)
BEFORE = dt.date(2026, 10, 1)


def test_units_shared_repeated_or_unknown_are_counted_once_per_module():
    conn = duckdb.connect()
    conn.execute("CREATE SCHEMA staged; CREATE SCHEMA core")
    conn.execute(
        "CREATE TABLE staged.users AS SELECT * FROM (VALUES (?, 'u1'), (?, 'u2')) "
        "t(snapshot_date, user_id)",
        [D, D],
    )
    conn.execute(
        "CREATE TABLE staged.hierarchy_module AS SELECT * FROM (VALUES "
        "(?, 'A', 'Module A'), (?, 'B', 'Module B')) t(snapshot_date, module_uid, title)",
        [D, D],
    )
    # s1 belongs to both modules.
    conn.execute(
        "CREATE TABLE staged.hierarchy_unit AS SELECT * FROM (VALUES "
        "(?, 'a1', 'A'), (?, 'a2', 'A'), (?, 's1', 'A'), (?, 's1', 'B'), (?, 'b1', 'B')) "
        "t(snapshot_date, unit_uid, module_uid)",
        [D] * 5,
    )
    conn.execute(
        "CREATE TABLE core.xp_events_history AS SELECT * FROM (VALUES "
        "('u1', 'Unit', 'a1', 'first', ?, ?),"  # a1 twice: one unit done
        "('u1', 'Unit', 'a1', 'again', ?, ?),"
        "('u1', 'Unit', 's1', 'first', ?, ?),"  # counts in A and in B
        "('u1', 'Unit', 'zz', 'first', ?, ?),"  # not in the catalog
        "('u1', 'Unit', 'a2', 'first', ?, ?),"  # gone before D: not as of D
        "('u1', 'Module', 'A', 'first', ?, ?),"  # not a unit
        "('u3', 'Unit', 'b1', 'first', ?, ?)"  # not present on D
        ") t(user_id, source_type, source_uid, xp_reason, valid_from, valid_to)",
        [BEFORE, OPEN] * 4 + [BEFORE, D] + [BEFORE, OPEN] * 2,
    )
    conn.execute(
        "CREATE TABLE core.awards_history AS SELECT * FROM (VALUES "
        "('u2', 'Badge', 'B', ?, ?), ('u1', 'Trophy', 'A', ?, ?)"
        ") t(user_id, award_type, source_uid, valid_from, valid_to)",
        [BEFORE, OPEN] * 2,
    )
    rows = conn.execute(
        f"SELECT user_id, module_uid, title, units_total, units_completed, completed "
        f"FROM ({MODULE_PROGRESS.select}) ORDER BY ALL",
        {"snapshot": D},
    ).fetchall()
    assert rows == [
        ("u1", "A", "Module A", 3, 2, False),
        ("u1", "B", "Module B", 2, 1, False),
        ("u2", "B", "Module B", 2, 0, True),
    ]
