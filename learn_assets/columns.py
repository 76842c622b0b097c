"""The columns of every report and core table: name, DuckDB type, description, and the friendly
header the workbook shows. One place for the Dagster UI (each asset's column schema), the
workbook's headers and the tables of docs/report-columns.md (`make docs`).

A test compares the names and types with a warehouse built by the pipeline, and the page with
what this module generates, so none of them can drift.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg


@dataclass(frozen=True)
class ColumnDoc:
    name: str
    type: str  # as DuckDB's DESCRIBE shows it
    description: str


# Friendly column headers (the workbook's header row): one mapping for every report column, so a
# column is called the same on every sheet. `learner` is the workbook's own column (see HEADERS'
# use in exports/xlsx.py): the learner's name, or "(not in directory)" and a short id.
HEADERS = {
    "snapshot_date": "Snapshot date",
    "user_id": "User id",
    "learner": "Learner",
    "aad_object_id": "Entra object id",
    "display_name": "Display name",
    "department": "Department",
    "job_title": "Job title",
    "certification_uid": "Certification id",
    "module_uid": "Module id",
    "learning_path_uid": "Learning path id",
    "content_uid": "Content id",
    "uid": "Content id",
    "content_type": "Content type",
    "title": "Title",
    "earned_on": "Earned on",
    "expires_on": "Expires on",
    "days_to_expiry": "Days to expiry",
    "status": "Status",
    "renewal_eligible": "Renewal open",
    "renewal_opens_on": "Renewal opens on",
    "units_total": "Units in module",
    "units_completed": "Units completed",
    "modules_total": "Modules in path",
    "modules_started": "Modules started",
    "modules_completed": "Modules completed",
    "module_completion_rate": "Module completion rate",
    "completion_ratio": "Path progress",
    "completed": "Completed",
    "total_xp": "Total XP",
    "xp": "XP",
    "learning_paths_completed": "Learning paths completed",
    "active_certifications": "Active certifications",
    "expiring_certifications": "Certifications expiring soon",
    "certifications_earned": "Certifications earned",
    "applied_skills": "Applied skills",
    "applied_skills_earned": "Applied skills earned",
    "last_activity_at": "Last activity (UTC)",
    "joined_learn_on": "Joined Learn on (UTC)",
    "directory_users": "Directory users",
    "learners": "Learners",
    "learners_started": "Learners started",
    "learners_completed": "Learners completed",
    "active_learners": "Active learners",
    "adoption_rate": "Adoption rate",
    "completions": "Completions",
    "completion_rate": "Completion rate",
    "tag_kind": "Tag kind",
    "tag": "Tag",
    "change": "Change",
    "previous_snapshot": "Previous snapshot",
    "activity_date": "Day (UTC)",
}


def header(column: str) -> str:
    """The friendly header of a column (its name, spaced, for a column not in HEADERS)."""
    return HEADERS.get(column) or column.replace("_", " ").capitalize()


# Descriptions shared by the columns that mean the same in every table.
_COMMON = {
    "snapshot_date": "The snapshot (UTC day) the row is as of: the partition.",
    "user_id": "The learner's Learn profile id (Users.userId), not the Entra object id.",
    "title": "The content's title in the catalog (NULL when the catalog does not list the uid).",
    "display_name": "Directory display name (Entra export); NULL without an Entra match; in "
    "privacy mode a stable pseudonym 'Learner <hash>'.",
    "department": "Directory department (Entra export); NULL without an Entra match.",
    "job_title": "Directory job title (Entra export); NULL without an Entra match.",
    "first_seen_snapshot": "The first loaded snapshot that carried the key.",
    "last_seen_snapshot": "The last loaded snapshot that carried the key (before the latest "
    "one: gone from the service's data since).",
}


def _columns(*specs: tuple[str, str] | tuple[str, str, str]) -> tuple[ColumnDoc, ...]:
    """(name, type[, description]); without a description, the shared one of `_COMMON`."""
    return tuple(ColumnDoc(s[0], s[1], s[2] if len(s) > 2 else _COMMON[s[0]]) for s in specs)


_SNAPSHOT = ("snapshot_date", "DATE")
_USER = ("user_id", "VARCHAR")
_TITLE = ("title", "VARCHAR")
_COUNT = "BIGINT"

REPORT_COLUMNS: dict[str, tuple[ColumnDoc, ...]] = {
    "certification_status": _columns(
        _SNAPSHOT,
        _USER,
        ("certification_uid", "VARCHAR", "The certification's uid."),
        ("title", "VARCHAR", "The certification's catalog title, else its transcript name."),
        ("earned_on", "DATE", "When the learner earned it."),
        ("expires_on", "DATE", "When it ends; NULL: it never expires."),
        ("days_to_expiry", "INTEGER", "Days from the snapshot to expires_on (negative: expired)."),
        (
            "status",
            "VARCHAR",
            "expired (ended before the snapshot), expiring_soon (ends within "
            "LEARN_EXPIRY_WINDOW_DAYS, default 90) or active.",
        ),
        ("renewal_eligible", "BOOLEAN", "Renewal is open (and it has not expired)."),
        ("renewal_opens_on", "DATE", "When renewal opens (stay-current eligibility start)."),
    ),
    "module_progress": _columns(
        _SNAPSHOT,
        _USER,
        ("module_uid", "VARCHAR", "The module's uid."),
        _TITLE,
        ("units_total", _COUNT, "Units of the module in the catalog."),
        ("units_completed", _COUNT, "Units of the module the learner completed."),
        ("completed", "BOOLEAN", "The module's badge was awarded."),
    ),
    "learning_path_progress": _columns(
        _SNAPSHOT,
        _USER,
        ("learning_path_uid", "VARCHAR", "The learning path's uid."),
        _TITLE,
        ("modules_total", _COUNT, "Modules of the path in the catalog."),
        ("modules_completed", _COUNT, "Modules of the path the learner completed (badges)."),
        (
            "completion_ratio",
            "DOUBLE",
            "modules_completed / modules_total, at most 1 (NULL when the path's modules are "
            "unknown).",
        ),
        ("completed", "BOOLEAN", "The path's trophy was awarded."),
    ),
    "learner_summary": _columns(
        _SNAPSHOT,
        _USER,
        (
            "aad_object_id",
            "VARCHAR",
            "The learner's Entra object id (Users.AADObjectId); NULL in privacy mode.",
        ),
        ("display_name", "VARCHAR"),
        ("department", "VARCHAR"),
        ("job_title", "VARCHAR"),
        ("total_xp", _COUNT, "XP earned, all history known as of the snapshot."),
        ("units_completed", _COUNT, "Distinct units completed."),
        ("modules_completed", _COUNT, "Distinct modules completed (badges)."),
        ("learning_paths_completed", _COUNT, "Distinct learning paths completed (trophies)."),
        ("active_certifications", _COUNT, "Certifications not expired (active or expiring)."),
        ("applied_skills", _COUNT, "Distinct applied skills earned."),
        (
            "last_activity_at",
            "TIMESTAMP WITH TIME ZONE",
            "The latest XP event, award or applied skill.",
        ),
        ("joined_learn_on", "TIMESTAMP WITH TIME ZONE", "When the Learn profile was created."),
    ),
    "org_overview": _columns(
        _SNAPSHOT,
        ("directory_users", _COUNT, "Users in the Entra export."),
        ("learners", _COUNT, "Learn users in the snapshot."),
        ("adoption_rate", "DOUBLE", "Directory users who are Learn users / directory users."),
        ("modules_started", _COUNT, "Learner-module pairs started (a unit done, or the badge)."),
        ("modules_completed", _COUNT, "Learner-module pairs completed (badges)."),
        ("module_completion_rate", "DOUBLE", "modules_completed / modules_started."),
        ("learning_paths_completed", _COUNT, "Learner-path pairs completed (trophies)."),
        ("total_xp", _COUNT, "XP of all learners."),
        ("active_certifications", _COUNT, "Certifications not expired."),
        ("expiring_certifications", _COUNT, "Certifications expiring soon."),
        ("applied_skills", _COUNT, "Applied skills earned."),
    ),
    "department_summary": _columns(
        _SNAPSHOT,
        (
            "department",
            "VARCHAR",
            "Entra department; '(no department)' for directory users without one, '(not in "
            "directory)' for learners without an Entra match.",
        ),
        ("directory_users", _COUNT, "Directory users of the department."),
        ("learners", _COUNT, "Learn users of the department."),
        (
            "adoption_rate",
            "DOUBLE",
            "Its directory users who are Learn users / its directory users (NULL for '(not in "
            "directory)').",
        ),
        ("total_xp", _COUNT, "XP of its learners."),
        ("modules_completed", _COUNT, "Modules its learners completed."),
        ("learning_paths_completed", _COUNT, "Learning paths its learners completed."),
        ("active_certifications", _COUNT, "Certifications of its learners not expired."),
    ),
    "content_popularity": _columns(
        _SNAPSHOT,
        ("content_uid", "VARCHAR", "The module's, path's, certification's or applied skill's uid."),
        ("content_type", "VARCHAR", "module, learning_path, certification or applied_skill."),
        _TITLE,
        ("learners_started", _COUNT, "Learners who started it (hold it, for credentials)."),
        ("completions", _COUNT, "Learners who completed it (hold it, for credentials)."),
    ),
    "catalog_tag_progress": _columns(
        _SNAPSHOT,
        ("tag_kind", "VARCHAR", "product, role, level or subject."),
        ("tag", "VARCHAR", "The tag as the catalog spells it (e.g. azure, developer, beginner)."),
        ("modules_started", _COUNT, "Learner-module pairs started, of modules with the tag."),
        ("modules_completed", _COUNT, "Learner-module pairs completed, of modules with the tag."),
        ("learners_started", _COUNT, "Learners with at least one module with the tag started."),
        ("learners_completed", _COUNT, "Learners with at least one module with the tag done."),
        ("completion_rate", "DOUBLE", "modules_completed / modules_started (NULL: none started)."),
        ("learning_paths_completed", _COUNT, "Learner-path pairs completed, of tagged paths."),
        ("applied_skills_earned", _COUNT, "Applied skills with the tag earned by learners."),
    ),
    "snapshot_changes": _columns(
        _SNAPSHOT,
        (
            "change",
            "VARCHAR",
            "learner_joined, learner_left, module_completed, learning_path_completed, "
            "certification_earned, certification_gone or applied_skill_earned.",
        ),
        _USER,
        ("uid", "VARCHAR", "The content's uid (NULL for learner_joined and learner_left)."),
        _TITLE,
        ("previous_snapshot", "DATE", "The snapshot compared with."),
    ),
    "activity_daily": _columns(
        _SNAPSHOT,
        ("activity_date", "DATE", "The UTC day of the activity."),
        ("active_learners", _COUNT, "Learners with an XP event or award that day."),
        ("xp", _COUNT, "XP earned that day."),
        ("units_completed", _COUNT, "Units completed that day."),
        ("modules_completed", _COUNT, "Modules completed (badges) that day."),
        ("learning_paths_completed", _COUNT, "Learning paths completed (trophies) that day."),
        ("certifications_earned", _COUNT, "Certifications earned that day."),
    ),
}

_TIMESTAMP = "TIMESTAMP WITH TIME ZONE"

# The current-value views `core.<table>` (the history tables add valid_from and valid_to).
CORE_COLUMNS: dict[str, tuple[ColumnDoc, ...]] = {
    "learners": _columns(
        _USER,
        ("aad_object_id", "VARCHAR", "The Entra object id the Users dataset maps the learner to."),
        ("tenant_id", "VARCHAR", "The organization's tenant id."),
        ("created_on", _TIMESTAMP, "When the Learn profile was created."),
        ("first_seen_snapshot", "DATE"),
        ("last_seen_snapshot", "DATE"),
        ("display_name", "VARCHAR", "Directory display name (Entra export); NULL without a match."),
        ("department", "VARCHAR"),
        ("job_title", "VARCHAR"),
        ("mail", "VARCHAR", "Directory mail (Entra export)."),
        ("country", "VARCHAR", "Directory country (Entra export)."),
        ("in_directory", "BOOLEAN", "The Entra export has the learner's object id."),
    ),
    "content": _columns(
        ("content_type", "VARCHAR", "unit, module, learning_path, certification or applied_skill."),
        ("content_uid", "VARCHAR", "The content's uid."),
        ("title", "VARCHAR", "Its title."),
        ("url_absolute", "VARCHAR", "Its page: https://learn.microsoft.com + the catalog's url."),
        ("products", "VARCHAR[]", "Products it is tagged with (not for units)."),
        ("roles", "VARCHAR[]", "Roles it is tagged with (not for units)."),
        ("levels", "VARCHAR[]", "Levels it is tagged with (not for units)."),
        ("subjects", "VARCHAR[]", "Subjects (applied skills only)."),
        ("points", _COUNT, "XP it awards (units, modules, paths)."),
        ("duration_in_minutes", _COUNT, "Estimated duration (units, modules, paths)."),
        ("parent_uid", "VARCHAR", "A unit's module."),
        ("first_seen_snapshot", "DATE"),
        ("last_seen_snapshot", "DATE"),
    ),
    "learning_path_modules": _columns(
        ("learning_path_uid", "VARCHAR", "The learning path."),
        ("module_uid", "VARCHAR", "A module of it."),
        ("first_seen_snapshot", "DATE"),
        ("last_seen_snapshot", "DATE"),
    ),
    "xp_events": _columns(
        _USER,
        ("source_type", "VARCHAR", "Unit, Module or LearningPath."),
        ("source_uid", "VARCHAR", "The completed unit's, module's or path's uid."),
        ("xp_reason", "VARCHAR", "Why the XP was awarded (Progress.XPReason)."),
        ("xp", _COUNT, "XP awarded."),
        ("awarded_at", _TIMESTAMP, "When."),
        ("first_seen_snapshot", "DATE"),
    ),
    "awards": _columns(
        _USER,
        ("award_type", "VARCHAR", "Badge (module completed) or Trophy (learning path completed)."),
        ("source_uid", "VARCHAR", "The module's or path's uid."),
        ("source_type", "VARCHAR", "Module or LearningPath."),
        ("award_uid", "VARCHAR", "The award's uid."),
        ("award_reason", "VARCHAR", "Achievements.awardReason."),
        ("awarded_at", _TIMESTAMP, "When."),
        ("first_seen_snapshot", "DATE"),
    ),
    "certifications": _columns(
        _USER,
        ("certification_uid", "VARCHAR", "The certification's uid."),
        ("certification_start_date", "DATE", "Start of this certification period."),
        ("transcript_name", "VARCHAR", "The name on the learner's transcript."),
        ("awarded_on", "DATE", "When it was awarded."),
        ("certification_end_date", "DATE", "When it ends (NULL: never)."),
        ("stay_current_eligibility_start_date", "DATE", "When renewal opens."),
        ("first_seen_snapshot", "DATE"),
    ),
    "applied_skills": _columns(
        _USER,
        ("applied_skills_uid", "VARCHAR", "The applied skill's uid."),
        ("lab_profile_name", "VARCHAR", "The lab the learner passed."),
        ("scored_at", _TIMESTAMP, "When the lab was scored."),
        ("first_seen_snapshot", "DATE"),
    ),
}


def table_schema(columns: tuple[ColumnDoc, ...]) -> dg.TableSchema:
    """The column schema the Dagster UI shows for an asset (`dagster/column_schema`)."""
    return dg.TableSchema(
        columns=[dg.TableColumn(c.name, c.type, description=c.description) for c in columns]
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def table_markdown(qualified: str, columns: tuple[ColumnDoc, ...], headers: bool) -> str:
    lines = [f"### `{qualified}`", ""]
    if headers:
        lines += ["| column | type | workbook header | description |", "|---|---|---|---|"]
        lines += [
            f"| `{c.name}` | {c.type} | {header(c.name)} | {_cell(c.description)} |"
            for c in columns
        ]
    else:
        lines += ["| column | type | description |", "|---|---|---|"]
        lines += [f"| `{c.name}` | {c.type} | {_cell(c.description)} |" for c in columns]
    return "\n".join(lines) + "\n"


COLUMNS_START, COLUMNS_END = "<!-- columns:start -->", "<!-- columns:end -->"


def columns_markdown() -> str:
    """The generated part of docs/report-columns.md (`make docs` writes it there)."""
    parts = ["## Report tables (`reports.*`)\n"]
    parts += [table_markdown(f"reports.{n}", c, True) for n, c in REPORT_COLUMNS.items()]
    parts.append(
        "## Core tables (`core.*`)\n\nThe views of current values; each view's history table "
        "`core.<table>_history` has the same columns (without the directory ones of "
        "`core.learners`) plus `valid_from` and `valid_to`.\n"
    )
    parts += [table_markdown(f"core.{n}", c, False) for n, c in CORE_COLUMNS.items()]
    return "\n".join(parts)
