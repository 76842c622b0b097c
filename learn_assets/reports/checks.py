"""Reconciliation checks of a report snapshot: its numbers against the tables they come from.

Each check recomputes a number by another route (plain counts and sums over the staged
snapshot and the core history as of the snapshot) and compares it with the report, so a report
built from stale or partial inputs fails instead of publishing a wrong number.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from learn_assets.core.build import APPLIED_SKILLS, AWARDS, XP_EVENTS, as_of
from learn_assets.reports.build import (
    LEARNER_SUMMARY,
    ORG_OVERVIEW,
    SNAPSHOT_CHANGES,
    ReportTable,
    report_table,
)
from learn_assets.staged.checks import SAMPLE_ROWS, CheckOutcome
from learn_assets.warehouse.sql import hashes_repeat, quote_ident


@dataclass(frozen=True)
class ReportCheck:
    name: str
    description: str
    blocking: bool
    evaluate: Callable[[duckdb.DuckDBPyConnection, ReportTable, dt.date], CheckOutcome]


def keys_unique(conn: duckdb.DuckDBPyConnection, report: ReportTable, day: dt.date):
    key = ", ".join(quote_ident(k) for k in report.key)
    snapshot = f"(SELECT {key} FROM {report_table(report)} WHERE snapshot_date = $day) r"
    rows = (
        conn.execute(
            f"SELECT {key}, count(*) AS rows FROM {snapshot} GROUP BY ALL HAVING count(*) > 1 "
            "ORDER BY ALL",
            {"day": day},
        ).fetchall()
        if hashes_repeat(conn, snapshot, f"hash({key})", {"day": day})
        else []
    )
    return CheckOutcome(
        not rows,
        len(rows),
        {"key": ", ".join(report.key)},
        ([*report.key, "rows"], rows[:SAMPLE_ROWS]) if rows else None,
    )


def _compare(expected: dict[str, object], actual: dict[str, object]) -> CheckOutcome:
    differing = {
        k: {"report": actual[k], "expected": v} for k, v in expected.items() if actual[k] != v
    }
    return CheckOutcome(
        not differing,
        len(differing),
        {"differing": differing, "expected": expected},
        (
            ["measure", "report", "expected"],
            [(k, d["report"], d["expected"]) for k, d in differing.items()],
        )
        if differing
        else None,
    )


def _one_row(conn: duckdb.DuckDBPyConnection, sql: str, day: dt.date) -> dict[str, object]:
    cursor = conn.execute(sql, {"day": day})
    row = cursor.fetchone() or ()
    return {d[0]: v for d, v in zip(cursor.description, row, strict=True)}


PRESENT = "(SELECT user_id FROM staged.users WHERE snapshot_date = $day)"


def learners_match_users(conn, report: ReportTable, day: dt.date) -> CheckOutcome:
    expected = _one_row(conn, f"SELECT count(*) AS learners FROM {PRESENT}", day)
    actual = _one_row(
        conn,
        f"SELECT coalesce(any_value(learners), 0) AS learners FROM {report_table(report)} "
        "WHERE snapshot_date = $day",
        day,
    )
    return _compare(expected, actual)


def totals_match_core(conn, report: ReportTable, day: dt.date) -> CheckOutcome:
    def present(table: str) -> str:
        return f"{table} WHERE user_id IN {PRESENT}"

    expected = _one_row(
        conn,
        f"""SELECT
            (SELECT coalesce(sum(xp), 0) FROM {present(as_of(XP_EVENTS, "$day"))}) AS total_xp,
            (SELECT count(DISTINCT (user_id, source_uid))
             FROM {present(as_of(AWARDS, "$day"))} AND award_type = 'Badge')
                AS modules_completed,
            (SELECT count(DISTINCT (user_id, source_uid))
             FROM {present(as_of(AWARDS, "$day"))} AND award_type = 'Trophy')
                AS learning_paths_completed,
            (SELECT count(DISTINCT (user_id, applied_skills_uid))
             FROM {present(as_of(APPLIED_SKILLS, "$day"))}) AS applied_skills,
            (SELECT count(*) FROM {PRESENT}) AS learners""",
        day,
    )
    actual = _one_row(
        conn,
        f"""SELECT coalesce(sum(total_xp), 0) AS total_xp,
                   coalesce(sum(modules_completed), 0) AS modules_completed,
                   coalesce(sum(learning_paths_completed), 0) AS learning_paths_completed,
                   coalesce(sum(applied_skills), 0) AS applied_skills,
                   count(*) AS learners
            FROM {report_table(report)} WHERE snapshot_date = $day""",
        day,
    )
    return _compare(expected, actual)


def _difference(now: str, then: str, columns: str) -> str:
    """Rows of `now` (a SELECT with $day) missing from `then` (with $prev), by NOT EXISTS."""
    same = " AND ".join(f"t.{c} IS NOT DISTINCT FROM n.{c}" for c in columns.split(", "))
    return (
        f"(SELECT count(*) FROM (SELECT DISTINCT {columns} FROM ({now})) n "
        f"WHERE NOT EXISTS (SELECT 1 FROM ({then}) t WHERE {same}))"
    )


def changes_match_states(conn, report: ReportTable, day: dt.date) -> CheckOutcome:
    """Counts per change equal the differences of the previous and this snapshot's states."""
    prev = conn.execute(
        "SELECT max(snapshot_date) FROM staged.users WHERE snapshot_date < ?", [day]
    ).fetchone()
    previous = prev[0] if prev else None
    changes = (
        "learner_joined",
        "learner_left",
        "module_completed",
        "learning_path_completed",
        "certification_earned",
        "certification_gone",
        "applied_skill_earned",
    )
    actual = dict.fromkeys(changes, 0) | dict(
        conn.execute(
            f"SELECT change, count(*) FROM {report_table(report)} WHERE snapshot_date = ? "
            "GROUP BY ALL",
            [day],
        ).fetchall()
    )
    if previous is None:
        return _compare(dict.fromkeys(changes, 0), actual)

    def state(table: str, columns: str, when: str, where: str = "") -> str:
        return f"SELECT {columns} FROM staged.{table} WHERE snapshot_date = {when}{where}"

    badge, trophy = " AND award_type = 'Badge'", " AND award_type = 'Trophy'"
    gone_certs = (
        f"SELECT * FROM ({state('certifications', 'user_id, source_uid', '$prev')}) "
        f"WHERE user_id IN {PRESENT}"
    )
    expected_sql = {
        "learner_joined": _difference(
            state("users", "user_id", "$day"), state("users", "user_id", "$prev"), "user_id"
        ),
        "learner_left": _difference(
            state("users", "user_id", "$prev"), state("users", "user_id", "$day"), "user_id"
        ),
        "module_completed": _difference(
            state("achievements", "user_id, source_uid", "$day", badge),
            state("achievements", "user_id, source_uid", "$prev", badge),
            "user_id, source_uid",
        ),
        "learning_path_completed": _difference(
            state("achievements", "user_id, source_uid", "$day", trophy),
            state("achievements", "user_id, source_uid", "$prev", trophy),
            "user_id, source_uid",
        ),
        "certification_earned": _difference(
            state("certifications", "user_id, source_uid", "$day"),
            state("certifications", "user_id, source_uid", "$prev"),
            "user_id, source_uid",
        ),
        "certification_gone": _difference(
            gone_certs,
            state("certifications", "user_id, source_uid", "$day"),
            "user_id, source_uid",
        ),
        "applied_skill_earned": _difference(
            state("applied_skills", "user_id, applied_skills_uid", "$day"),
            state("applied_skills", "user_id, applied_skills_uid", "$prev"),
            "user_id, applied_skills_uid",
        ),
    }
    select = ", ".join(f"{sql} AS {name}" for name, sql in expected_sql.items())
    cursor = conn.execute(f"SELECT {select}", {"day": day, "prev": previous})
    row = cursor.fetchone() or ()
    expected = {d[0]: v for d, v in zip(cursor.description, row, strict=True)}
    outcome = _compare(expected, actual)
    outcome.detail["previous_snapshot"] = str(previous)
    return outcome


SPECIFIC: dict[str, list[ReportCheck]] = {
    ORG_OVERVIEW.name: [
        ReportCheck(
            "learners_match_users",
            "Blocking. learners equals the rows of the snapshot's staged Users.",
            True,
            learners_match_users,
        )
    ],
    LEARNER_SUMMARY.name: [
        ReportCheck(
            "totals_match_core",
            "Blocking. The sums of total_xp, modules_completed, learning_paths_completed and "
            "applied_skills over the learners equal the same sums over the core history as of "
            "the snapshot, for the learners present in it.",
            True,
            totals_match_core,
        )
    ],
    SNAPSHOT_CHANGES.name: [
        ReportCheck(
            "changes_match_states",
            "Blocking. The count of each change equals the difference between the previous "
            "loaded snapshot's and this snapshot's staged states.",
            True,
            changes_match_states,
        )
    ],
}


def report_checks(report: ReportTable) -> list[ReportCheck]:
    return [
        ReportCheck(
            "keys_unique",
            f"Blocking. No two rows of the snapshot share the key ({', '.join(report.key)}).",
            True,
            keys_unique,
        ),
        *SPECIFIC.get(report.name, []),
    ]
