"""The learners report.html embeds for its search box and learner details: the most active
learners (by XP, up to LEARN_HTML_MAX_LEARNERS), each with their learning paths, modules and
certifications, as compact JSON.

The selection and grouping run in DuckDB over the snapshot's Arrow tables (millions of module
rows at L). Titles are listed once (`items`) and referred to by position, and a learner's
completed modules and paths are bare positions, so 5,000 of the most active learners of a large
tenant stay around 2 MB. The JSON holds no user id, object id or mail: names come from
learner_summary (pseudonyms in privacy mode), and a learner without a directory match is
`(not in directory)` and the first characters of the Learn user id.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from learn_assets.reports.build import NOT_IN_DIRECTORY

SHORT_ID = 8  # characters of a Learn user id shown for a learner without a directory match

# Columns each input needs, with their types for an absent table (a page without data).
_INPUTS = {
    "learner_summary": "user_id VARCHAR, display_name VARCHAR, department VARCHAR, "
    "total_xp BIGINT, learning_paths_completed BIGINT, modules_completed BIGINT, "
    "active_certifications BIGINT, last_activity_at TIMESTAMPTZ",
    "module_progress": "user_id VARCHAR, module_uid VARCHAR, title VARCHAR, "
    "units_total BIGINT, units_completed BIGINT, completed BOOLEAN",
    "learning_path_progress": "user_id VARCHAR, learning_path_uid VARCHAR, title VARCHAR, "
    "modules_total BIGINT, modules_completed BIGINT, completed BOOLEAN",
    "certification_status": "user_id VARCHAR, certification_uid VARCHAR, title VARCHAR, "
    "status VARCHAR, expires_on DATE",
}

# The learners shown, and every module, path and certification they have, numbered by title.
_CHOSEN = """
CREATE TEMP TABLE chosen AS
SELECT row_number() OVER (ORDER BY total_xp DESC, modules_completed DESC,
                          last_activity_at DESC NULLS LAST, user_id) AS n, *
FROM learner_summary
QUALIFY n <= $limit
"""
_ITEMS = """
CREATE TEMP TABLE items AS
SELECT *, row_number() OVER (ORDER BY title, kind, uid) - 1 AS item FROM (
    SELECT DISTINCT 'module' AS kind, module_uid AS uid, coalesce(title, module_uid) AS title,
           units_total AS total
    FROM module_progress SEMI JOIN chosen USING (user_id)
    UNION ALL
    SELECT DISTINCT 'path', learning_path_uid, coalesce(title, learning_path_uid), modules_total
    FROM learning_path_progress SEMI JOIN chosen USING (user_id)
    UNION ALL
    SELECT DISTINCT 'certification', certification_uid, coalesce(title, certification_uid), NULL
    FROM certification_status SEMI JOIN chosen USING (user_id))
"""
_LEARNERS = """
WITH modules AS (
    SELECT m.user_id,
           list(i.item ORDER BY i.item) FILTER (WHERE m.completed) AS done,
           flatten(list([i.item, m.units_completed] ORDER BY i.item)
                   FILTER (WHERE NOT m.completed)) AS open
    FROM module_progress m SEMI JOIN chosen USING (user_id)
    JOIN items i ON i.kind = 'module' AND i.uid = m.module_uid
    GROUP BY ALL
), paths AS (
    SELECT p.user_id,
           list(i.item ORDER BY i.item) FILTER (WHERE p.completed) AS done,
           flatten(list([i.item, p.modules_completed] ORDER BY i.item)
                   FILTER (WHERE NOT p.completed)) AS open
    FROM learning_path_progress p SEMI JOIN chosen USING (user_id)
    JOIN items i ON i.kind = 'path' AND i.uid = p.learning_path_uid
    GROUP BY ALL
), certs AS (
    SELECT c.user_id,
           list({'item': i.item, 'status': c.status, 'expires': c.expires_on::VARCHAR}
                ORDER BY c.expires_on NULLS LAST, i.item) AS held
    FROM certification_status c SEMI JOIN chosen USING (user_id)
    JOIN items i ON i.kind = 'certification' AND i.uid = c.certification_uid
    GROUP BY ALL
)
SELECT coalesce(c.display_name, $unmatched || ' ' || left(c.user_id, $short)) AS name,
       c.department, c.total_xp, c.learning_paths_completed, c.modules_completed,
       c.active_certifications, c.last_activity_at::DATE::VARCHAR AS last_activity,
       coalesce(p.done, []), coalesce(p.open, []), coalesce(m.done, []), coalesce(m.open, []),
       coalesce(h.held, [])
FROM chosen c
LEFT JOIN paths p USING (user_id) LEFT JOIN modules m USING (user_id)
LEFT JOIN certs h USING (user_id)
ORDER BY c.n
"""


@dataclass(frozen=True)
class LearnerData:
    """`learners`: [name, department, XP, paths completed, modules completed, active
    certifications, last activity (YYYY-MM-DD), completed paths [item...], open paths [item,
    modules done, ...], completed modules [item...], open modules [item, units done, ...],
    certifications [[item, status, expires on], ...]]; `items`: [title, modules or units in it]
    (certifications: [title, None])."""

    total: int  # learners in the snapshot
    items: list[list[Any]] = field(default_factory=list)
    learners: list[list[Any]] = field(default_factory=list)

    @property
    def shown(self) -> int:
        return len(self.learners)

    def to_json(self) -> str:
        """The data as JSON safe inside a <script> element: no `<`, `>` or `&` can end it."""
        text = json.dumps(
            {"total": self.total, "items": self.items, "learners": self.learners},
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def learner_label(name: str | None, user_id: str) -> str:
    """A learner as people read them: their name, or `(not in directory) 1a2b3c4d`."""
    return name or f"{NOT_IN_DIRECTORY} {user_id[:SHORT_ID]}"


def learner_labels(names: pa.ChunkedArray, user_ids: pa.ChunkedArray) -> pa.ChunkedArray:
    """`learner_label` of every row, vectorized."""
    short = pc.binary_join_element_wise(
        NOT_IN_DIRECTORY, pc.utf8_slice_codeunits(user_ids, 0, SHORT_ID), " "
    )
    return pc.coalesce(names, short)


def most_active(learners: pa.Table | None, limit: int) -> list[dict[str, Any]]:
    """The `limit` learner_summary rows with most XP (ties: by name, then user id), each with
    its `label`; sorted in Arrow, so only those rows become Python objects."""
    if learners is None or learners.num_rows == 0:
        return []
    labelled = learners.append_column(
        "label", learner_labels(learners["display_name"], learners["user_id"])
    )
    order = pc.sort_indices(
        labelled,
        sort_keys=[("total_xp", "descending"), ("label", "ascending"), ("user_id", "ascending")],
    )
    return labelled.take(order[:limit]).to_pylist()


def _register(conn: duckdb.DuckDBPyConnection, tables: Mapping[str, pa.Table]) -> int:
    """Each input as a view (an empty one for an absent table); returns the learners."""
    for name, columns in _INPUTS.items():
        table = tables.get(name)
        if table is None or table.num_columns == 0:
            conn.execute(f"CREATE TEMP TABLE {name} ({columns})")
        else:
            conn.register(name, table.select([c.split()[0] for c in columns.split(", ")]))
    return conn.execute("SELECT count(*) FROM learner_summary").fetchone()[0]


def learner_data(tables: Mapping[str, pa.Table], limit: int) -> LearnerData:
    """The `limit` most active learners of the snapshot (most XP first; ties: modules completed,
    latest activity, user id) with their paths, modules and certifications."""
    with duckdb.connect() as conn:
        conn.execute("SET TimeZone = 'UTC'")
        total = _register(conn, tables)
        conn.execute(_CHOSEN, {"limit": limit})
        conn.execute(_ITEMS)
        rows = conn.execute(_LEARNERS, {"unmatched": NOT_IN_DIRECTORY, "short": SHORT_ID})
        learners = [
            [*row[:11], [[c["item"], c["status"], c["expires"]] for c in row[11]]]
            for row in rows.fetchall()
        ]
        items = conn.execute("SELECT title, total FROM items ORDER BY item").fetchall()
    return LearnerData(total, [list(i) for i in items], learners)
