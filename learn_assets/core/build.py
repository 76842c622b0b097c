"""Core layer: conformed tables that keep history across snapshots.

Each table accumulates every row ever seen in any staged snapshot, with the first (and, for
learners and content, last) snapshot that carried it. Merging snapshot D is idempotent and
independent of the order in which snapshots are merged, so a day-by-day build and a range backfill
give the same tables: a row's first_seen_snapshot is the minimum over the snapshots merged, its
last_seen_snapshot the maximum, and its attributes those of the latest snapshot carrying it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

import duckdb

from learn_assets.resources import quote_ident
from learn_assets.resources.versioned import changed_rows, previous_snapshot, snapshot_row_count
from learn_assets.resources.warehouse import relation_kind
from learn_assets.staged.stage import STAGE_LOG, STAGED, ensure_all_stage_tables

CORE = "core"
MERGE_LOG = f"{CORE}._merge_log"  # per event table and snapshot: the staging it merged


@dataclass(frozen=True)
class CoreTable:
    name: str
    description: str
    select: str  # rows of snapshot $snapshot, from staged tables
    key: tuple[str, ...]
    sources: tuple[str, ...]  # staged tables read (the asset's dependencies)
    track_last_seen: bool = False  # also keep last_seen_snapshot and refresh attributes
    # Select list over the one staged table of `sources`, for tables of events (rows never
    # change): such a table can merge only the rows new to its source (see `merge_snapshot`).
    event_columns: str | None = None


def event_table(
    name: str, description: str, columns: str, source: str, key: tuple[str, ...]
) -> CoreTable:
    """A table of events read from one staged table: `columns` is the select list."""
    select = f"SELECT {columns} FROM staged.{source} WHERE snapshot_date = $snapshot"
    return CoreTable(name, description, select, key, (source,), event_columns=columns)


LEARNERS = CoreTable(
    "learners",
    "One row per Learn user ever seen, with Entra directory attributes (display name, "
    "department, job title) when the export has a match, and the snapshots they were first and "
    "last seen in (a learner whose last_seen_snapshot is before the latest snapshot has left).",
    """SELECT u.user_id, u.aad_object_id, u.tenant_id, u.created_on,
              e.display_name, e.department, e.job_title, e.mail, e.country,
              e.object_id IS NOT NULL AS in_directory
       FROM staged.users u LEFT JOIN staged.entra_users e ON e.object_id = u.aad_object_id
       WHERE u.snapshot_date = $snapshot""",
    ("user_id",),
    ("users", "entra_users"),
    track_last_seen=True,
)

CONTENT = CoreTable(
    "content",
    "Unified Learn catalog: units, modules, learning paths, certifications and applied skills "
    "with title, type, absolute URL, products, roles and levels; units carry their module.",
    """SELECT 'unit' AS content_type, unit_uid AS content_uid, title, url_absolute,
              NULL::VARCHAR[] AS products, NULL::VARCHAR[] AS roles, NULL::VARCHAR[] AS levels,
              points, duration_in_minutes, module_uid AS parent_uid
       FROM staged.hierarchy_unit WHERE snapshot_date = $snapshot
       UNION ALL
       SELECT 'module', module_uid, title, url_absolute, products, roles, levels, points,
              duration_in_minutes, NULL
       FROM staged.hierarchy_module WHERE snapshot_date = $snapshot
       UNION ALL
       SELECT 'learning_path', learning_path_uid, title, url_absolute, products, roles, levels,
              points, duration_in_minutes, NULL
       FROM staged.hierarchy_learning_path WHERE snapshot_date = $snapshot
       UNION ALL
       SELECT 'certification', certification_uid, title, url_absolute, products, roles, levels,
              NULL, NULL, NULL
       FROM staged.hierarchy_certification WHERE snapshot_date = $snapshot
       UNION ALL
       SELECT 'applied_skill', applied_skills_uid, title, url_absolute, products, roles, levels,
              NULL, NULL, NULL
       FROM staged.hierarchy_applied_skills WHERE snapshot_date = $snapshot""",
    ("content_type", "content_uid"),
    (
        "hierarchy_unit",
        "hierarchy_module",
        "hierarchy_learning_path",
        "hierarchy_certification",
        "hierarchy_applied_skills",
    ),
    track_last_seen=True,
)

LEARNING_PATH_MODULES = CoreTable(
    "learning_path_modules",
    "Which modules make up each learning path, over time.",
    """SELECT learning_path_uid, module_uid FROM staged.hierarchy_learning_path_module
       WHERE snapshot_date = $snapshot""",
    ("learning_path_uid", "module_uid"),
    ("hierarchy_learning_path_module",),
    track_last_seen=True,
)

XP_EVENTS = event_table(
    "xp_events",
    "Every XP event (unit, module, learning path completion) ever seen, with the snapshot it "
    "was first seen in. Survives later snapshots that no longer carry it (e.g. a learner left).",
    "user_id, source_type, source_uid, xp_reason, xp, awarded_on AS awarded_at",
    "progress",
    ("user_id", "source_type", "source_uid", "xp_reason", "xp", "awarded_at"),
)

AWARDS = event_table(
    "awards",
    "Every badge (module completed) and trophy (learning path completed) ever seen.",
    "user_id, award_type, source_type, source_uid, award_uid, award_reason, "
    "awarded_on AS awarded_at",
    "achievements",
    (
        "user_id",
        "award_type",
        "source_type",
        "source_uid",
        "award_uid",
        "award_reason",
        "awarded_at",
    ),
)

CERTIFICATIONS = event_table(
    "certifications",
    "Every certification record ever seen (a renewal with new dates is a new record), kept "
    "after the service drops it (it lists certifications expired for at most two years).",
    "user_id, source_uid AS certification_uid, transcript_name, awarded_on, "
    "certification_start_date, certification_end_date, stay_current_eligibility_start_date",
    "certifications",
    (
        "user_id",
        "certification_uid",
        "transcript_name",
        "awarded_on",
        "certification_start_date",
        "certification_end_date",
        "stay_current_eligibility_start_date",
    ),
)

APPLIED_SKILLS = event_table(
    "applied_skills",
    "Every Applied Skills credential ever seen.",
    "user_id, applied_skills_uid, lab_profile_name, exam_scored_date AS scored_at",
    "applied_skills",
    ("user_id", "applied_skills_uid", "lab_profile_name", "scored_at"),
)

CORE_TABLES = (
    LEARNERS,
    CONTENT,
    LEARNING_PATH_MODULES,
    XP_EVENTS,
    AWARDS,
    CERTIFICATIONS,
    APPLIED_SKILLS,
)


def core_table(table: CoreTable) -> str:
    return f"{CORE}.{quote_ident(table.name)}"


def _same(left: str, right: str, columns: tuple[str, ...]) -> str:
    # NULL-safe: a NULL xp_reason in two snapshots is the same event.
    return " AND ".join(
        f"{left}.{quote_ident(c)} IS NOT DISTINCT FROM {right}.{quote_ident(c)}" for c in columns
    )


class Merged(NamedTuple):
    rows: int  # rows in the snapshot
    new: int  # rows new to the table
    from_changes: bool  # merged only the rows new to the source since its previous snapshot


def merge_snapshot(conn: duckdb.DuckDBPyConnection, table: CoreTable, snapshot: dt.date) -> Merged:
    """Merge snapshot D into core.<table>.

    A table of events whose source's previous snapshot was merged from the staging that is
    still in place reads only the source rows new on D: every other row of D was in that
    previous snapshot, so it is in the table already, seen first no later than then.
    """
    target = core_table(table)
    params = {"snapshot": snapshot}
    ensure_all_stage_tables(conn)
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {CORE}")
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {MERGE_LOG} (table_name VARCHAR NOT NULL, "
        "snapshot_date DATE NOT NULL, raw_sha256 VARCHAR NOT NULL, contract VARCHAR NOT NULL, "
        "PRIMARY KEY (table_name, snapshot_date))"
    )
    last_seen = ", $snapshot AS last_seen_snapshot" if table.track_last_seen else ""
    if relation_kind(conn, CORE, table.name) is None:  # a new (or re-created) table merged nothing
        conn.execute(f"DELETE FROM {MERGE_LOG} WHERE table_name = ?", [table.name])
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {target} AS SELECT *, $snapshot AS first_seen_snapshot"
        f"{last_seen} FROM ({table.select}) WHERE false",
        params,
    )
    from_changes = _previous_merged(conn, table, snapshot)
    select = table.select
    if from_changes:
        added = changed_rows(STAGED, table.sources[0], "_staged_row", "added")
        select = f"SELECT {table.event_columns} FROM ({added})"
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute(f"CREATE OR REPLACE TEMP TABLE incoming AS {select}", params)
        match = _same("t", "i", table.key)
        if table.track_last_seen:
            # Attributes follow the latest snapshot that carries the row.
            columns = [
                r[0] for r in conn.execute("DESCRIBE incoming").fetchall() if r[0] not in table.key
            ]
            refresh = ", ".join(
                f"{quote_ident(c)} = CASE WHEN $snapshot >= t.last_seen_snapshot "
                f"THEN i.{quote_ident(c)} ELSE t.{quote_ident(c)} END"
                for c in columns
            )
            conn.execute(
                f"UPDATE {target} t SET {refresh}{', ' if refresh else ''}"
                "first_seen_snapshot = least(t.first_seen_snapshot, $snapshot), "
                "last_seen_snapshot = greatest(t.last_seen_snapshot, $snapshot) "
                f"FROM incoming i WHERE {match}",
                params,
            )
        else:
            # Events never change; only an out-of-order merge can move first_seen earlier.
            latest = conn.execute(f"SELECT max(first_seen_snapshot) FROM {target}").fetchone()
            if latest and latest[0] and latest[0] > snapshot:
                conn.execute(
                    f"UPDATE {target} t SET first_seen_snapshot = $snapshot FROM incoming i "
                    f"WHERE t.first_seen_snapshot > $snapshot AND {match}",
                    params,
                )
        inserted = conn.execute(
            f"INSERT INTO {target} SELECT i.*, $snapshot{', $snapshot' if last_seen else ''} "
            f"FROM incoming i WHERE NOT EXISTS (SELECT 1 FROM {target} t WHERE {match})",
            params,
        ).fetchone()
        if from_changes:
            total = (snapshot_row_count(conn, STAGED, table.sources[0], snapshot),)
        else:
            total = conn.execute("SELECT count(*) FROM incoming").fetchone()
        if table.event_columns:
            conn.execute(
                f"INSERT OR REPLACE INTO {MERGE_LOG} SELECT ?, snapshot_date, raw_sha256, "
                f"contract FROM {STAGE_LOG} WHERE dataset = ? AND snapshot_date = ?",
                [table.name, table.sources[0], snapshot],
            )
        conn.execute("DROP TABLE incoming")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return Merged(int(total[0]) if total else 0, int(inserted[0]) if inserted else 0, from_changes)


def _previous_merged(conn: duckdb.DuckDBPyConnection, table: CoreTable, snapshot: dt.date) -> bool:
    """Whether the source's snapshot before `snapshot` was merged into the table from the
    staging still in place (same raw file, same contract)."""
    if not table.event_columns:
        return False
    previous = previous_snapshot(conn, STAGED, table.sources[0], snapshot)
    if previous is None:
        return False
    found = conn.execute(
        f"SELECT count(*) FROM {MERGE_LOG} m JOIN {STAGE_LOG} s "
        "ON s.dataset = ? AND s.snapshot_date = m.snapshot_date "
        "AND s.raw_sha256 = m.raw_sha256 AND s.contract = m.contract "
        "WHERE m.table_name = ? AND m.snapshot_date = ?",
        [table.sources[0], table.name, previous],
    ).fetchone()
    return bool(found and found[0])
