"""Report tables (schema `reports`): the public interface analysts and BI tools query.

Every report is "as of" a snapshot date D (`$snapshot`): it reads that snapshot's staged tables
(who is present, their certifications, the catalog) and the core history as of D (`core.as_of`),
so a report for D depends only on the deliveries loaded for dates up to D, never on the order
they were loaded in (`refresh_report` rebuilds every later snapshot whose inputs changed).
Definitions follow Microsoft's Power BI template where it has one: module completed = a
Badge, learning path completed = a Trophy, module started = a completed unit of the module, path
progress = completed modules of the path / modules in the path, completion rate = completed /
started.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from learn_assets.contracts.datasets import ENTRA
from learn_assets.core.build import (
    APPLIED_SKILLS,
    AWARDS,
    CERTIFICATIONS,
    CONTENT,
    CORE,
    CORE_TABLES_BY_NAME,
    XP_EVENTS,
    as_of,
    history_table,
)
from learn_assets.fileio import text_sha256
from learn_assets.resources.reporting import ReportSettingsValues
from learn_assets.warehouse.ledger import (
    Refreshed,
    mark_consumed,
    pending_changes,
    plan_snapshots,
)
from learn_assets.warehouse.sql import quote_ident, transaction
from learn_assets.warehouse.versioned import (
    append_changes,
    delete_snapshot,
    loaded_snapshots,
    replace_snapshot,
    versions_table,
)

REPORTS = "reports"
BUILD_LOG = f"{REPORTS}._build_log"  # per report snapshot: the definition it was built by
# Read whole and the same for every snapshot (the Entra export): a change to it is in the change
# ledger, which rebuilds every snapshot of the report, so a snapshot and the one before agree.
_UNPARTITIONED = (f"staged/{ENTRA.table}",)


@dataclass(frozen=True)
class ReportTable:
    name: str
    description: str
    select: str  # parameters: $snapshot, and for some $window, $pseudonymize, $key
    key: tuple[str, ...]
    deps: tuple[str, ...]  # asset keys "layer/table" this report reads
    # The deps read learner by learner (by `user_id`, through `_per_learner`): a learner's rows
    # of the report depend only on their rows of these, on the other deps whole, and on nothing
    # else (no setting, no date arithmetic). A snapshot of such a report that follows an
    # up-to-date one is built from the learners whose rows changed (`plan_from_changes`).
    per_learner: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # A per-learner dep the report does not read, or a SELECT that narrows none of its
        # sources to the changed learners, would make a build from the changes differ from a
        # whole build: refuse such a definition when it is made, not on some later day.
        unread = [d for d in self.per_learner if d not in self.deps]
        if unread:
            raise ValueError(f"report {self.name}: per_learner {unread} not among its deps")
        if self.per_learner and _EVERY_LEARNER not in self.select:
            raise ValueError(
                f"report {self.name}: per learner, but its SELECT reads no source through "
                "_per_learner()"
            )

    @property
    def qualified(self) -> str:
        return f"{REPORTS}.{self.name}"

    @property
    def sources(self) -> tuple[str, ...]:
        """The tables read, as the change ledger names them ("core.xp_events")."""
        return tuple(dep.replace("/", ".") for dep in self.deps)


# A learner's name when privacy mode is off, else a stable pseudonym (keyed hash).
_NAME = (
    "CASE WHEN $pseudonymize THEN 'Learner ' || left(sha256($key || ':' || u.user_id), 10) "
    "ELSE e.display_name END"
)
_PRESENT = "(SELECT * FROM staged.users WHERE snapshot_date = $snapshot)"

# Where a per-learner report reads a per-learner source: every learner when built whole, only
# the changed ones (temp table `_report_learners`) when built from the changes.
_EVERY_LEARNER = "TRUE /* every learner */"
_CHANGED_LEARNERS = "user_id IN (SELECT user_id FROM _report_learners)"


def _per_learner(source: str) -> str:
    return f"(SELECT * FROM {source} WHERE {_EVERY_LEARNER})"


CERTIFICATION_STATUS = ReportTable(
    "certification_status",
    "Each learner's certifications as of the snapshot: earned, expiry, days to expiry, status "
    "(active, expiring_soon within the window, expired) and whether renewal is open.",
    f"""
    WITH certs AS (
        SELECT * FROM staged.certifications WHERE snapshot_date = $snapshot
        -- one record per learner and certification: the one that lasts longest
        QUALIFY row_number() OVER (
            PARTITION BY user_id, source_uid
            ORDER BY certification_end_date DESC NULLS FIRST, awarded_on DESC) = 1
    ), judged AS (
        SELECT c.*, CASE
            WHEN certification_end_date < $snapshot THEN 'expired'
            WHEN certification_end_date <= $snapshot + to_days($window::INTEGER)
                THEN 'expiring_soon'
            ELSE 'active' END AS status
        FROM certs c
    )
    SELECT $snapshot::DATE AS snapshot_date, j.user_id, j.source_uid AS certification_uid,
           coalesce(h.title, j.transcript_name) AS title,
           j.awarded_on AS earned_on, j.certification_end_date AS expires_on,
           (j.certification_end_date - $snapshot::DATE)::INTEGER AS days_to_expiry,
           j.status,
           coalesce(j.stay_current_eligibility_start_date <= $snapshot, false)
               AND j.status <> 'expired' AS renewal_eligible,
           j.stay_current_eligibility_start_date AS renewal_opens_on
    FROM judged j
    JOIN {_PRESENT} u USING (user_id)
    LEFT JOIN staged.hierarchy_certification h
        ON h.snapshot_date = $snapshot AND h.certification_uid = j.source_uid
    """,
    ("snapshot_date", "user_id", "certification_uid"),
    ("staged/certifications", "staged/users", "staged/hierarchy_certification"),
)

MODULE_PROGRESS = ReportTable(
    "module_progress",
    "Each module a learner has started (a unit done, or the badge): units done of the module's "
    "units, and completed (badge awarded).",
    f"""
    WITH units AS (
        -- Units and modules numbered: the millions of unit events are counted per learner and
        -- module on small integers, not on their uids (half the time, and less memory, at L).
        SELECT unit_uid, module_uid,
               dense_rank() OVER (ORDER BY unit_uid) AS unit_no,
               dense_rank() OVER (ORDER BY module_uid) AS module_no
        FROM staged.hierarchy_unit WHERE snapshot_date = $snapshot
    ), done AS (
        SELECT d.user_id, m.module_uid, d.units_completed
        FROM (
            SELECT user_id, module_no, count(*) AS units_completed
            FROM (
                SELECT DISTINCT x.user_id, u.module_no, u.unit_no
                FROM {_per_learner(as_of(XP_EVENTS))} x
                JOIN units u ON u.unit_uid = x.source_uid
                WHERE x.source_type = 'Unit')
            GROUP BY ALL) d
        JOIN (SELECT DISTINCT module_no, module_uid FROM units) m USING (module_no)
    ), badges AS (
        SELECT DISTINCT user_id, source_uid AS module_uid FROM {_per_learner(as_of(AWARDS))}
        WHERE award_type = 'Badge'
    ), started AS (
        SELECT user_id, module_uid FROM done UNION SELECT user_id, module_uid FROM badges
    )
    SELECT $snapshot::DATE AS snapshot_date, s.user_id, s.module_uid, m.title,
           (SELECT count(*) FROM units WHERE units.module_uid = s.module_uid) AS units_total,
           coalesce(d.units_completed, 0) AS units_completed,
           b.user_id IS NOT NULL AS completed
    FROM started s
    JOIN {_PRESENT} u USING (user_id)
    LEFT JOIN done d USING (user_id, module_uid)
    LEFT JOIN badges b USING (user_id, module_uid)
    LEFT JOIN staged.hierarchy_module m
        ON m.snapshot_date = $snapshot AND m.module_uid = s.module_uid
    """,
    ("snapshot_date", "user_id", "module_uid"),
    (
        "core/xp_events",
        "core/awards",
        "staged/users",
        "staged/hierarchy_unit",
        "staged/hierarchy_module",
    ),
    per_learner=("core/xp_events", "core/awards", "staged/users"),
)

LEARNING_PATH_PROGRESS = ReportTable(
    "learning_path_progress",
    "Each learning path a learner has started (a module of it started, or the trophy): modules "
    "completed of the path's modules, completion ratio, and completed (trophy awarded).",
    f"""
    WITH path_modules AS (
        SELECT learning_path_uid, module_uid FROM staged.hierarchy_learning_path_module
        WHERE snapshot_date = $snapshot
    ), per_path AS (
        SELECT p.user_id, pm.learning_path_uid, count(*) FILTER (WHERE p.completed) AS done
        FROM {_per_learner("reports.module_progress")} p
        JOIN path_modules pm USING (module_uid)
        WHERE p.snapshot_date = $snapshot
        GROUP BY ALL
    ), trophies AS (
        SELECT DISTINCT user_id, source_uid AS learning_path_uid
        FROM {_per_learner(as_of(AWARDS))} WHERE award_type = 'Trophy'
    ), started AS (
        SELECT user_id, learning_path_uid FROM per_path
        UNION SELECT user_id, learning_path_uid FROM trophies
    ), totals AS (
        SELECT learning_path_uid, count(DISTINCT module_uid) AS modules_total
        FROM path_modules GROUP BY ALL
    )
    SELECT $snapshot::DATE AS snapshot_date, s.user_id, s.learning_path_uid, lp.title,
           coalesce(t.modules_total, 0) AS modules_total,
           coalesce(pp.done, 0) AS modules_completed,
           CASE WHEN t.modules_total > 0
                THEN least(coalesce(pp.done, 0) / t.modules_total, 1.0) END AS completion_ratio,
           tr.user_id IS NOT NULL AS completed
    FROM started s
    JOIN {_PRESENT} u USING (user_id)
    LEFT JOIN per_path pp USING (user_id, learning_path_uid)
    LEFT JOIN trophies tr USING (user_id, learning_path_uid)
    LEFT JOIN totals t USING (learning_path_uid)
    LEFT JOIN staged.hierarchy_learning_path lp
        ON lp.snapshot_date = $snapshot AND lp.learning_path_uid = s.learning_path_uid
    """,
    ("snapshot_date", "user_id", "learning_path_uid"),
    (
        "reports/module_progress",
        "core/awards",
        "staged/users",
        "staged/hierarchy_learning_path_module",
        "staged/hierarchy_learning_path",
    ),
    per_learner=("reports/module_progress", "core/awards", "staged/users"),
)

LEARNER_SUMMARY = ReportTable(
    "learner_summary",
    "One row per learner present in the snapshot: directory name, department and job title "
    "(NULL without an Entra match; a pseudonym in privacy mode), XP, units, modules and paths "
    "completed, active certifications, applied skills, last activity.",
    f"""
    WITH xp AS (
        SELECT user_id, sum(xp)::BIGINT AS total_xp,
               count(DISTINCT source_uid) FILTER (WHERE source_type = 'Unit') AS units_completed,
               max(awarded_at) AS last_at
        FROM {_per_learner(as_of(XP_EVENTS))} GROUP BY ALL
    ), awards AS (
        SELECT user_id,
               count(DISTINCT source_uid) FILTER (WHERE award_type = 'Badge') AS modules_completed,
               count(DISTINCT source_uid) FILTER (WHERE award_type = 'Trophy') AS paths_completed,
               max(awarded_at) AS last_at
        FROM {_per_learner(as_of(AWARDS))} GROUP BY ALL
    ), certs AS (
        SELECT user_id, count(*) FILTER (WHERE status <> 'expired') AS active_certifications
        FROM {_per_learner("reports.certification_status")}
        WHERE snapshot_date = $snapshot GROUP BY ALL
    ), skills AS (
        SELECT user_id, count(DISTINCT applied_skills_uid) AS applied_skills,
               max(scored_at) AS last_at
        FROM {_per_learner(as_of(APPLIED_SKILLS))} GROUP BY ALL
    )
    SELECT $snapshot::DATE AS snapshot_date, u.user_id,
           CASE WHEN $pseudonymize THEN NULL ELSE u.aad_object_id END AS aad_object_id,
           {_NAME} AS display_name, e.department, e.job_title,
           coalesce(xp.total_xp, 0) AS total_xp,
           coalesce(xp.units_completed, 0) AS units_completed,
           coalesce(a.modules_completed, 0) AS modules_completed,
           coalesce(a.paths_completed, 0) AS learning_paths_completed,
           coalesce(c.active_certifications, 0) AS active_certifications,
           coalesce(s.applied_skills, 0) AS applied_skills,
           greatest(xp.last_at, a.last_at, s.last_at) AS last_activity_at,
           u.created_on AS joined_learn_on
    FROM {_PRESENT} u
    LEFT JOIN staged.entra_users e ON e.object_id = u.aad_object_id
    LEFT JOIN xp USING (user_id) LEFT JOIN awards a USING (user_id)
    LEFT JOIN certs c USING (user_id) LEFT JOIN skills s USING (user_id)
    """,
    ("snapshot_date", "user_id"),
    (
        "staged/users",
        "staged/entra_users",
        "core/xp_events",
        "core/awards",
        "core/applied_skills",
        "reports/certification_status",
    ),
    per_learner=(
        "staged/users",
        "core/xp_events",
        "core/awards",
        "core/applied_skills",
        "reports/certification_status",
    ),
)

ORG_OVERVIEW = ReportTable(
    "org_overview",
    "The organization in one row per snapshot: directory users, learners, adoption, modules "
    "started and completed, completion rate, paths completed, XP, certifications, applied skills.",
    f"""
    WITH directory AS (SELECT count(*) AS n FROM staged.entra_users),
    adopted AS (
        SELECT count(*) AS n FROM {_PRESENT} u
        WHERE u.aad_object_id IN (SELECT object_id FROM staged.entra_users)
    ), learners AS (
        SELECT count(*) AS n, sum(total_xp) AS xp, sum(applied_skills) AS skills
        FROM reports.learner_summary WHERE snapshot_date = $snapshot
    ), modules AS (
        SELECT count(*) AS started, count(*) FILTER (WHERE completed) AS completed
        FROM reports.module_progress WHERE snapshot_date = $snapshot
    ), paths AS (
        SELECT count(*) FILTER (WHERE completed) AS completed
        FROM reports.learning_path_progress WHERE snapshot_date = $snapshot
    ), certs AS (
        SELECT count(*) FILTER (WHERE status <> 'expired') AS active,
               count(*) FILTER (WHERE status = 'expiring_soon') AS expiring
        FROM reports.certification_status WHERE snapshot_date = $snapshot
    )
    SELECT $snapshot::DATE AS snapshot_date, directory.n AS directory_users,
           learners.n AS learners,
           CASE WHEN directory.n > 0 THEN adopted.n / directory.n END AS adoption_rate,
           modules.started AS modules_started, modules.completed AS modules_completed,
           CASE WHEN modules.started > 0 THEN modules.completed / modules.started END
               AS module_completion_rate,
           paths.completed AS learning_paths_completed,
           coalesce(learners.xp, 0)::BIGINT AS total_xp,
           certs.active AS active_certifications, certs.expiring AS expiring_certifications,
           coalesce(learners.skills, 0)::BIGINT AS applied_skills
    FROM directory, adopted, learners, modules, paths, certs
    """,
    ("snapshot_date",),
    (
        "staged/entra_users",
        "staged/users",
        "reports/learner_summary",
        "reports/module_progress",
        "reports/learning_path_progress",
        "reports/certification_status",
    ),
)

NO_DEPARTMENT, NOT_IN_DIRECTORY = "(no department)", "(not in directory)"

DEPARTMENT_SUMMARY = ReportTable(
    "department_summary",
    "Adoption and results by Entra department: directory users, learners, adoption rate, XP, "
    "modules and paths completed, active certifications. Learners without a directory match are "
    f"grouped as '{NOT_IN_DIRECTORY}'.",
    f"""
    WITH people AS (
        SELECT coalesce(e.department, '{NO_DEPARTMENT}') AS department, e.object_id,
               u.user_id
        FROM staged.entra_users e
        LEFT JOIN {_PRESENT} u ON u.aad_object_id = e.object_id
        UNION ALL
        SELECT '{NOT_IN_DIRECTORY}', NULL, u.user_id FROM {_PRESENT} u
        WHERE u.aad_object_id NOT IN (SELECT object_id FROM staged.entra_users)
    )
    SELECT $snapshot::DATE AS snapshot_date, p.department,
           count(p.object_id) AS directory_users,
           count(p.user_id) AS learners,
           CASE WHEN count(p.object_id) > 0
                THEN count(p.user_id) FILTER (WHERE p.object_id IS NOT NULL) / count(p.object_id)
                END AS adoption_rate,
           coalesce(sum(l.total_xp), 0)::BIGINT AS total_xp,
           coalesce(sum(l.modules_completed), 0)::BIGINT AS modules_completed,
           coalesce(sum(l.learning_paths_completed), 0)::BIGINT AS learning_paths_completed,
           coalesce(sum(l.active_certifications), 0)::BIGINT AS active_certifications
    FROM people p
    LEFT JOIN reports.learner_summary l
        ON l.snapshot_date = $snapshot AND l.user_id = p.user_id
    GROUP BY p.department
    """,
    ("snapshot_date", "department"),
    ("staged/entra_users", "staged/users", "reports/learner_summary"),
)

CONTENT_POPULARITY = ReportTable(
    "content_popularity",
    "How many learners started and completed each module, learning path, certification and "
    "applied skill (certifications and applied skills: learners holding them).",
    f"""
    WITH counts AS (
        SELECT 'module' AS content_type, module_uid AS content_uid,
               count(*) AS learners_started, count(*) FILTER (WHERE completed) AS completions
        FROM reports.module_progress WHERE snapshot_date = $snapshot GROUP BY ALL
        UNION ALL
        SELECT 'learning_path', learning_path_uid, count(*), count(*) FILTER (WHERE completed)
        FROM reports.learning_path_progress WHERE snapshot_date = $snapshot GROUP BY ALL
        UNION ALL
        SELECT 'certification', certification_uid, count(*), count(*)
        FROM reports.certification_status WHERE snapshot_date = $snapshot GROUP BY ALL
        UNION ALL
        SELECT 'applied_skill', s.applied_skills_uid, count(DISTINCT s.user_id),
               count(DISTINCT s.user_id)
        FROM {as_of(APPLIED_SKILLS)} s
        JOIN staged.users u ON u.snapshot_date = $snapshot AND u.user_id = s.user_id
        GROUP BY ALL
    )
    SELECT $snapshot::DATE AS snapshot_date, c.content_uid, c.content_type, t.title,
           c.learners_started, c.completions
    FROM counts c
    LEFT JOIN {as_of(CONTENT)} t USING (content_type, content_uid)
    """,
    ("snapshot_date", "content_type", "content_uid"),
    (
        "reports/module_progress",
        "reports/learning_path_progress",
        "reports/certification_status",
        "core/applied_skills",
        "core/content",
        "staged/users",
    ),
)

TAG_KINDS = {"product": "products", "role": "roles", "level": "levels", "subject": "subjects"}
_TAGGED = ("module", "learning_path", "applied_skill")  # certifications are left out
_TAGS = " UNION ALL ".join(
    f"SELECT content_type, content_uid, '{kind}' AS tag_kind, unnest({column}) AS tag FROM content"
    for kind, column in TAG_KINDS.items()
)

CATALOG_TAG_PROGRESS = ReportTable(
    "catalog_tag_progress",
    "Completion by catalog tag (product, role, level, subject of the modules, learning paths and "
    "applied skills as of the snapshot): modules started and completed (learner-module pairs, "
    "as org_overview counts them), learners with at least one such module started / completed, "
    "completion rate, learning paths completed and applied skills earned carrying the tag. A "
    "module with two products counts under each, one without products under none; modules "
    "carry no subjects (the catalog gives subjects for applied skills only).",
    f"""
    WITH content AS (
        SELECT content_type, content_uid, products, roles, levels, subjects
        FROM {as_of(CONTENT)}
        WHERE content_type IN ({", ".join(f"'{t}'" for t in _TAGGED)})
    ), tags AS (
        SELECT DISTINCT content_type, content_uid, tag_kind, tag FROM ({_TAGS})
        WHERE tag IS NOT NULL AND tag <> ''
    ), modules AS (
        -- Per learner first, then per tag: no DISTINCT aggregate (half the time at L).
        SELECT tag_kind, tag, sum(started)::BIGINT AS started,
               sum(completed)::BIGINT AS completed, count(*) AS learners_started,
               count(*) FILTER (WHERE completed > 0) AS learners_completed
        FROM (
            SELECT t.tag_kind, t.tag, p.user_id, count(*) AS started,
                   count(*) FILTER (WHERE p.completed) AS completed
            FROM reports.module_progress p
            JOIN tags t ON t.content_type = 'module' AND t.content_uid = p.module_uid
            WHERE p.snapshot_date = $snapshot
            GROUP BY ALL)
        GROUP BY ALL
    ), paths AS (
        SELECT t.tag_kind, t.tag, count(*) AS completed
        FROM reports.learning_path_progress p
        JOIN tags t ON t.content_type = 'learning_path' AND t.content_uid = p.learning_path_uid
        WHERE p.snapshot_date = $snapshot AND p.completed
        GROUP BY ALL
    ), skills AS (
        SELECT t.tag_kind, t.tag, count(DISTINCT (s.user_id, s.applied_skills_uid)) AS earned
        FROM {as_of(APPLIED_SKILLS)} s
        JOIN {_PRESENT} u USING (user_id)
        JOIN tags t ON t.content_type = 'applied_skill' AND t.content_uid = s.applied_skills_uid
        GROUP BY ALL
    )
    SELECT $snapshot::DATE AS snapshot_date, tag_kind, tag,
           coalesce(m.started, 0) AS modules_started,
           coalesce(m.completed, 0) AS modules_completed,
           coalesce(m.learners_started, 0) AS learners_started,
           coalesce(m.learners_completed, 0) AS learners_completed,
           CASE WHEN m.started > 0 THEN m.completed / m.started END AS completion_rate,
           coalesce(p.completed, 0) AS learning_paths_completed,
           coalesce(s.earned, 0) AS applied_skills_earned
    FROM (SELECT DISTINCT tag_kind, tag FROM tags)
    LEFT JOIN modules m USING (tag_kind, tag)
    LEFT JOIN paths p USING (tag_kind, tag)
    LEFT JOIN skills s USING (tag_kind, tag)
    """,
    ("snapshot_date", "tag_kind", "tag"),
    (
        "reports/module_progress",
        "reports/learning_path_progress",
        "core/content",
        "core/applied_skills",
        "staged/users",
    ),
)

SNAPSHOT_CHANGES = ReportTable(
    "snapshot_changes",
    "What is new or gone since the previous snapshot: learner_joined, learner_left, "
    "module_completed, learning_path_completed, certification_earned, certification_gone, "
    "applied_skill_earned. Empty for the first snapshot (nothing to compare with).",
    f"""
    WITH prev AS (
        SELECT max(snapshot_date) AS d FROM staged.users WHERE snapshot_date < $snapshot
    ), users_now AS (SELECT user_id FROM staged.users WHERE snapshot_date = $snapshot),
    users_then AS (SELECT user_id FROM staged.users WHERE snapshot_date = (SELECT d FROM prev)),
    awards_now AS (SELECT DISTINCT user_id, award_type, source_uid FROM staged.achievements
                   WHERE snapshot_date = $snapshot),
    awards_then AS (SELECT DISTINCT user_id, award_type, source_uid FROM staged.achievements
                    WHERE snapshot_date = (SELECT d FROM prev)),
    certs_now AS (SELECT DISTINCT user_id, source_uid FROM staged.certifications
                  WHERE snapshot_date = $snapshot),
    certs_then AS (SELECT DISTINCT user_id, source_uid FROM staged.certifications
                   WHERE snapshot_date = (SELECT d FROM prev)),
    skills_now AS (SELECT DISTINCT user_id, applied_skills_uid FROM staged.applied_skills
                   WHERE snapshot_date = $snapshot),
    skills_then AS (SELECT DISTINCT user_id, applied_skills_uid FROM staged.applied_skills
                    WHERE snapshot_date = (SELECT d FROM prev)),
    changes AS (
        SELECT 'learner_joined' AS change, user_id, NULL AS uid, NULL AS content_type
        FROM (SELECT * FROM users_now EXCEPT SELECT * FROM users_then)
        UNION ALL
        SELECT 'learner_left', user_id, NULL, NULL
        FROM (SELECT * FROM users_then EXCEPT SELECT * FROM users_now)
        UNION ALL
        SELECT CASE award_type WHEN 'Badge' THEN 'module_completed'
                   ELSE 'learning_path_completed' END,
               user_id, source_uid,
               CASE award_type WHEN 'Badge' THEN 'module' ELSE 'learning_path' END
        FROM (SELECT * FROM awards_now EXCEPT SELECT * FROM awards_then)
        UNION ALL
        SELECT 'certification_earned', user_id, source_uid, 'certification'
        FROM (SELECT * FROM certs_now EXCEPT SELECT * FROM certs_then)
        UNION ALL
        SELECT 'certification_gone', user_id, source_uid, 'certification'
        FROM (SELECT * FROM certs_then EXCEPT SELECT * FROM certs_now)
        WHERE user_id IN (SELECT user_id FROM users_now)  -- a leaver is reported once, as left
        UNION ALL
        SELECT 'applied_skill_earned', user_id, applied_skills_uid, 'applied_skill'
        FROM (SELECT * FROM skills_now EXCEPT SELECT * FROM skills_then)
    )
    SELECT $snapshot::DATE AS snapshot_date, c.change, c.user_id, c.uid, t.title,
           (SELECT d FROM prev) AS previous_snapshot
    FROM changes c
    LEFT JOIN {as_of(CONTENT)} t ON t.content_type = c.content_type AND t.content_uid = c.uid
    WHERE (SELECT d FROM prev) IS NOT NULL
    """,
    ("snapshot_date", "change", "user_id", "uid"),
    (
        "staged/users",
        "staged/achievements",
        "staged/certifications",
        "staged/applied_skills",
        "core/content",
    ),
)

ACTIVITY_DAILY = ReportTable(
    "activity_daily",
    "Learning activity per UTC day over all history known as of the snapshot (every event "
    "first seen by then): active learners (any XP event or award that day), XP, units, modules "
    "and paths completed, certifications earned.",
    f"""
    WITH xp AS (
        SELECT timezone('UTC', awarded_at)::DATE AS day, user_id, xp, source_type
        FROM {as_of(XP_EVENTS)}
    ), awards AS (
        SELECT timezone('UTC', awarded_at)::DATE AS day, user_id, award_type
        FROM {as_of(AWARDS)}
    ), active AS (
        SELECT day, count(DISTINCT user_id) AS active_learners
        FROM (SELECT day, user_id FROM xp UNION ALL SELECT day, user_id FROM awards)
        GROUP BY day
    ), xp_days AS (
        SELECT day, sum(xp) AS xp, count(*) FILTER (WHERE source_type = 'Unit') AS units
        FROM xp GROUP BY day
    ), award_days AS (
        SELECT day, count(*) FILTER (WHERE award_type = 'Badge') AS modules,
               count(*) FILTER (WHERE award_type = 'Trophy') AS paths
        FROM awards GROUP BY day
    ), cert_days AS (
        SELECT awarded_on AS day, count(DISTINCT (user_id, certification_uid)) AS certs
        FROM {as_of(CERTIFICATIONS)} WHERE awarded_on IS NOT NULL GROUP BY day
    )
    SELECT $snapshot::DATE AS snapshot_date, day AS activity_date,
           coalesce(active_learners, 0) AS active_learners,
           coalesce(xp, 0)::BIGINT AS xp, coalesce(units, 0) AS units_completed,
           coalesce(modules, 0) AS modules_completed,
           coalesce(paths, 0) AS learning_paths_completed,
           coalesce(certs, 0) AS certifications_earned
    FROM active FULL JOIN xp_days USING (day) FULL JOIN award_days USING (day)
         FULL JOIN cert_days USING (day)
    """,
    ("snapshot_date", "activity_date"),
    ("core/xp_events", "core/awards", "core/certifications"),
)

# In dependency order.
REPORT_TABLES = (
    CERTIFICATION_STATUS,
    MODULE_PROGRESS,
    LEARNING_PATH_PROGRESS,
    LEARNER_SUMMARY,
    ORG_OVERVIEW,
    DEPARTMENT_SUMMARY,
    CONTENT_POPULARITY,
    CATALOG_TAG_PROGRESS,
    SNAPSHOT_CHANGES,
    ACTIVITY_DAILY,
)


def report_table(report: ReportTable) -> str:
    return f"{REPORTS}.{quote_ident(report.name)}"


def _settings_used(report: ReportTable, settings: ReportSettingsValues) -> dict[str, object]:
    """The report's parameters other than `$snapshot`, by name."""
    values = {
        "window": settings.expiry_window_days,
        "pseudonymize": settings.pseudonymize,
        "key": settings.pseudonym_key,
    }
    return {k: v for k, v in values.items() if f"${k}" in report.select}


def definition(report: ReportTable, settings: ReportSettingsValues) -> str:
    """Fingerprint of what makes the report's rows: its SELECT and the settings it uses (of the
    pseudonym key, only a keyed hash: the key itself is never stored)."""
    used = _settings_used(report, settings)
    if "key" in used:
        used["key"] = text_sha256(f"{used['key']}:report definition")
    return text_sha256(f"{report.select}\n{sorted(used.items())!r}")


def _log_build(
    conn: duckdb.DuckDBPyConnection,
    report: ReportTable,
    snapshot: dt.date,
    settings: ReportSettingsValues,
) -> None:
    conn.execute(
        f"INSERT OR REPLACE INTO {BUILD_LOG} VALUES (?, ?, ?)",
        [report.name, snapshot, definition(report, settings)],
    )


def build_report(
    conn: duckdb.DuckDBPyConnection,
    report: ReportTable,
    snapshot: dt.date,
    settings: ReportSettingsValues,
) -> int:
    """Replace snapshot D of the report atomically; returns its rows."""
    params = {"snapshot": snapshot, **_settings_used(report, settings)}
    conn.execute("SET TimeZone = 'UTC'")
    with transaction(conn):
        rows = replace_snapshot(conn, REPORTS, report.name, snapshot, report.select, params)
        _log_build(conn, report, snapshot, settings)
        return rows


def _stored(dep: str) -> str:
    """The table holding a dep's versions ("staged/users" -> staged.users_versions), whose
    `valid_from`/`valid_to` say from which snapshot a row is present and from which it is not."""
    layer, name = dep.split("/")
    if layer == CORE:
        return history_table(CORE_TABLES_BY_NAME[name])
    return versions_table(layer, name)


def _changed_between(dep: str, columns: str) -> str:
    """SELECT `columns` of the dep's versions that start or end after snapshot `$since` and by
    `$snapshot`: exactly the rows that differ between the two snapshots (as of them)."""
    return (
        f"SELECT {columns} FROM {_stored(dep)} "
        "WHERE (valid_from > $since AND valid_from <= $snapshot) "
        "OR (valid_to > $since AND valid_to <= $snapshot)"
    )


def plan_from_changes(
    conn: duckdb.DuckDBPyConnection,
    report: ReportTable,
    snapshot: dt.date,
    settings: ReportSettingsValues,
) -> tuple[dt.date | None, str]:
    """The snapshot the report's `snapshot` can be built from by its changed learners, or None
    and why the whole snapshot is built instead.

    It can when the report is per learner, `snapshot` comes after every built snapshot, the
    latest of which (`since`, up to date: `refresh_report` rebuilds in date order) was built by
    the current definition and settings, both snapshots of every snapshot table read are
    loaded, and the deps read whole (the catalog) are the same on both."""
    if not report.per_learner:
        return None, ""
    built = loaded_snapshots(conn, REPORTS, report.name)
    if not built:
        return None, "whole: the first snapshot built"
    if built[-1] >= snapshot:
        return None, f"whole: not after the latest snapshot built ({built[-1]})"
    since = built[-1]
    logged = conn.execute(
        f"SELECT definition FROM {BUILD_LOG} WHERE report = ? AND snapshot_date = ?",
        [report.name, since],
    ).fetchone()
    if not logged or logged[0] != definition(report, settings):
        return None, f"whole: {since} was built by another definition or settings"
    for dep in report.deps:
        if dep in _UNPARTITIONED:
            continue
        layer, name = dep.split("/")
        if layer != CORE and not {since, snapshot} <= set(loaded_snapshots(conn, layer, name)):
            return None, f"whole: {dep} is not loaded for both {since} and {snapshot}"
        if dep in report.per_learner:
            continue
        changed = conn.execute(
            f"SELECT count(*) FROM ({_changed_between(dep, '1')})",
            {"since": since, "snapshot": snapshot},
        ).fetchone()
        if changed and changed[0]:
            return None, f"whole: {dep} changed since {since}"
    return since, ""


def build_report_from_changes(
    conn: duckdb.DuckDBPyConnection,
    report: ReportTable,
    snapshot: dt.date,
    since: dt.date,
    settings: ReportSettingsValues,
) -> tuple[int, int]:
    """Append snapshot D of a per-learner report as snapshot `since` (see `plan_from_changes`)
    with the rows of the learners whose per-learner deps changed replaced by their rows as of D.
    Stores exactly what `build_report` would. Returns the snapshot's rows and the learners
    rebuilt."""
    params = {"since": since, "snapshot": snapshot, **_settings_used(report, settings)}
    conn.execute("SET TimeZone = 'UTC'")
    with transaction(conn):
        changed = " UNION ALL ".join(_changed_between(d, "user_id") for d in report.per_learner)
        conn.execute(
            f"CREATE OR REPLACE TEMP TABLE _report_learners AS SELECT DISTINCT user_id "
            f"FROM ({changed})",
            {"since": since, "snapshot": snapshot},
        )
        learners = conn.execute("SELECT count(*) FROM _report_learners").fetchone()[0]  # type: ignore[index]
        removed = (
            f"SELECT * FROM {report_table(report)} "
            f"WHERE snapshot_date = $since AND {_CHANGED_LEARNERS}"
        )
        narrowed = report.select.replace(_EVERY_LEARNER, _CHANGED_LEARNERS)
        added = f"SELECT * FROM ({narrowed}) WHERE {_CHANGED_LEARNERS}"
        rows = append_changes(conn, REPORTS, report.name, snapshot, removed, added, params)
        conn.execute("DROP TABLE _report_learners")
        _log_build(conn, report, snapshot, settings)
    return rows, int(learners)


ANCHOR = ("staged", "users")  # a report snapshot exists while its Users snapshot is loaded


def refresh_report(
    conn: duckdb.DuckDBPyConnection,
    report: ReportTable,
    requested: list[dt.date],
    settings: ReportSettingsValues,
    from_changes: bool = True,
) -> list[Refreshed]:
    """Build the requested snapshots of the report, and bring every other loaded snapshot up to
    date with what changed upstream since the report was last built: a snapshot on or after
    the earliest change is rebuilt; one whose Users snapshot was removed is removed. Snapshots
    are written in date order, each from the changes since the one before when it can
    (`plan_from_changes`; `from_changes=False` builds every one whole)."""
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {REPORTS}")
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {BUILD_LOG} (report VARCHAR NOT NULL, "
        "snapshot_date DATE NOT NULL, definition VARCHAR NOT NULL, "
        "PRIMARY KEY (report, snapshot_date))"
    )
    changes = pending_changes(conn, report.qualified, report.sources)
    steps = plan_snapshots(
        requested,
        loaded_snapshots(conn, REPORTS, report.name),
        loaded_snapshots(conn, *ANCHOR),
        changes,
    )
    done = []
    for step in steps:
        if step.remove:
            with transaction(conn):
                delete_snapshot(conn, REPORTS, report.name, step.snapshot)
                conn.execute(
                    f"DELETE FROM {BUILD_LOG} WHERE report = ? AND snapshot_date = ?",
                    [report.name, step.snapshot],
                )
            done.append(Refreshed(step.snapshot, None, step.reason))
            continue
        since, how = plan_from_changes(conn, report, step.snapshot, settings)
        if since is not None and from_changes:
            rows, learners = build_report_from_changes(conn, report, step.snapshot, since, settings)
            how = f"from the {learners} learners changed since {since}"
        else:
            rows = build_report(conn, report, step.snapshot, settings)
            how = how if since is None else "whole: asked to"
        done.append(Refreshed(step.snapshot, rows, step.reason, how))
    with transaction(conn):
        mark_consumed(conn, report.qualified, changes, report.sources)
    return done
