"""The reports database for SQL users and BI tools (LEARN_SERVING_DATABASE, default
`data/serving.duckdb`): the `reports` and `core` schemas as tables of their own, not views into
the warehouse, so nobody who reads it ever holds the pipeline's lock.

It is written under a temporary name beside the target and renamed into place. A reader that
has the old file open keeps reading the old file undisturbed (the rename gives the name to the
new file; the old one lives on until its last reader closes it); the next connection sees the
new one. The pipeline never opens the target itself for writing, so it never waits on a reader.

A day costs what changed: the new file starts as a copy of the previous one, and each table
takes only the rows the warehouse changed since (`plan_table`). The file records, per table,
the last change of the warehouse's change ledger it mirrors (`_serving_state`). When only
snapshots after everything it holds were appended since, the keys with a row starting or ending
after those snapshots are copied again; a table that did not change is left as it is; a
snapshot loaded again, or a file changed by someone else, copies that table whole, and the log
says why. After a privacy switch, a removed snapshot or for another warehouse the file is
written from nothing (`_start_over`): a file's free space still holds the bytes of the rows it
deleted.

Reports keep the warehouse's layout (each a view over `<name>_versions` and `_snapshots`: every
snapshot, each unchanged row stored once); core tables too: their history
(`core.<table>_history`) and the current values (`core.<table>`), a view over the history as in
the warehouse, except `core.learners`, stored with its directory columns (copied whole every
time: the directory changes without a snapshot). In privacy mode no directory data and no Entra
object id is copied. The file is named `serving.duckdb`, not `reports.duckdb`: DuckDB names a
file's catalog after it, and a catalog called `reports` beside a schema called `reports` makes
`reports.learner_summary` ambiguous.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from learn_assets.core.build import (
    CORE,
    CORE_TABLES,
    CORE_TABLES_BY_NAME,
    LEARNERS,
    core_table,
    current_select,
)
from learn_assets.publish.lake import DIRECTORY_COLUMNS
from learn_assets.reports.build import REPORT_TABLES, REPORTS, ReportTable
from learn_assets.warehouse.ledger import CHANGES
from learn_assets.warehouse.sql import quote_ident, quote_literal, relation_exists, relation_kind
from learn_assets.warehouse.versioned import (
    BOOKKEEPING,
    OPEN_END,
    SNAPSHOTS,
    ensure_versioned,
    versions_table,
)

BUILDING = "serving_build"  # catalog alias of the file being written
STATE = "main._serving_state"  # in the reports database: what each table mirrors
# Bumped when this module lays the file out differently: an older file is then written anew.
LAYOUT = 1
_PRIVATE = (*DIRECTORY_COLUMNS, "aad_object_id", "in_directory")


@dataclass(frozen=True)
class Mirrored:
    """One warehouse table the reports database holds a copy of."""

    schema: str  # "reports" or "core": also the schema of its change ledger
    name: str  # its name in the ledger (`<schema>._changes`)
    stored: str  # the table holding its rows (a versions or history table), unqualified
    key: tuple[str, ...]  # rows of one key change together
    always_whole: bool = False  # copied whole every time (reads more than its ledger says)

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


def _mirror_report(report: ReportTable) -> Mirrored:
    # A version holds no snapshot_date: the rest of the key tells its rows apart. A report of
    # one row per snapshot has no rest, and is copied whole (it is small).
    key = tuple(k for k in report.key if k != "snapshot_date")
    return Mirrored(REPORTS, report.name, f"{report.name}_versions", key, always_whole=not key)


MIRRORED: tuple[Mirrored, ...] = (
    *(_mirror_report(r) for r in REPORT_TABLES),
    *(
        Mirrored(CORE, t.name, f"{t.name}_history", t.key, always_whole=bool(t.view_joins))
        for t in CORE_TABLES
    ),
)


@dataclass(frozen=True)
class Stored:
    """What the previous file says it mirrors of a table (a row of `_serving_state`)."""

    seq: int  # the table's last change in the warehouse's ledger then
    recorded_at: dt.datetime  # when that change was recorded (tells two warehouses apart)
    boundary: dt.date | None  # the latest date any of its rows starts or ends on
    rows: int  # rows of its stored table
    privacy: bool
    layout: int


@dataclass(frozen=True)
class Change:
    seq: int
    recorded_at: dt.datetime
    snapshot: dt.date | None
    kind: str


@dataclass(frozen=True)
class TablePlan:
    mode: str  # "keep", "changes" or "whole"
    reason: str


def plan_table(
    stored: Stored | None,
    changes: Sequence[Change],
    privacy: bool,
    rows_now: int | None,
) -> TablePlan:
    """Pure decision for one table of the new file, from what the previous file says it mirrors
    (`stored`), the warehouse's ledger entries of the table from that change on (`changes`,
    oldest first), the privacy setting and the rows the previous file holds now (`rows_now`)."""
    if stored is None:
        return TablePlan("whole", "not in the previous file")
    if stored.privacy != privacy:
        return TablePlan("whole", "the privacy setting changed")
    if rows_now != stored.rows:
        return TablePlan("whole", "the previous file was changed since it was written")
    if not changes or (changes[0].seq, changes[0].recorded_at) != (stored.seq, stored.recorded_at):
        return TablePlan("whole", "the warehouse is not the one the previous file mirrors")
    since = changes[1:]
    if not since:
        return TablePlan("keep", "unchanged")
    for c in since:
        if c.kind != "append" or c.snapshot is None:
            return TablePlan("whole", f"{c.snapshot or 'every snapshot'} {c.kind}")
        if stored.boundary is not None and c.snapshot <= stored.boundary:
            return TablePlan("whole", f"{c.snapshot} appended before {stored.boundary}")
    days = ", ".join(sorted({str(c.snapshot) for c in since}))
    return TablePlan("changes", f"appended {days}")


@dataclass(frozen=True)
class ServingBuild:
    rows: dict[str, int]  # rows stored per table ("reports.<name>", "core.<name>")
    how: dict[str, str]  # per mirrored table: "kept", "from the changes: ..." or "whole: ..."


def build_serving_database(
    conn: duckdb.DuckDBPyConnection, target: Path, privacy: bool, incremental: bool = True
) -> ServingBuild:
    """Write the reports database from the warehouse open on `conn`. The new file starts as a
    copy of the previous one when it can (`incremental=False` writes it from nothing); the
    target is replaced only once the new file is complete."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    (warehouse,) = conn.execute("SELECT current_database()").fetchone() or ("",)
    source = quote_ident(warehouse)
    # A write-ahead log beside the target means it was written after the rename: not ours.
    reuse = incremental and target.is_file() and not Path(f"{target}.wal").exists()
    try:
        if reuse:
            shutil.copyfile(target, tmp)
        try:
            start = _attach(conn, source, privacy, tmp, reuse)
            done = _write(conn, source, privacy, start)
        finally:
            conn.execute(f"USE {source}")
            conn.execute(f"DETACH DATABASE IF EXISTS {BUILDING}")
        os.replace(tmp, target)
    finally:  # a failed build leaves the previous file in place and no temporary one
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
    return done


def _attach(
    conn: duckdb.DuckDBPyConnection, source: str, privacy: bool, tmp: Path, reuse: bool
) -> str:
    """Attach `tmp` as the file being written and make it current: the previous file's copy
    when it can be the start of the new one (returns ""), else an empty file (returns why)."""
    attach = f"ATTACH {quote_literal(str(tmp))} AS {BUILDING}"
    why: str | None = "not in the previous file"
    if reuse:
        try:
            conn.execute(attach)
        except duckdb.Error as e:  # not a DuckDB file, or one this DuckDB cannot write
            why = f"the previous file could not be opened ({str(e).splitlines()[0]})"
        else:
            conn.execute(f"USE {BUILDING}")
            why = _start_over(conn, source, privacy)
            if why is None:
                return ""
            conn.execute(f"USE {source}")
            conn.execute(f"DETACH {BUILDING}")
        tmp.unlink()
        Path(f"{tmp}.wal").unlink(missing_ok=True)
    conn.execute(attach)
    conn.execute(f"USE {BUILDING}")
    return why


def _start_over(conn: duckdb.DuckDBPyConnection, source: str, privacy: bool) -> str | None:
    """Why the previous file (attached, current) cannot be the start of the new one, if so. Its
    free space still holds the bytes of rows it deleted: after a privacy switch, a removed
    snapshot or for another warehouse nothing of it is kept, so neither directory data, nor a
    wrong delivery, nor another warehouse's rows linger in it."""
    previous = _previous_state(conn)
    if set(previous) != {m.qualified for m in MIRRORED} or any(
        p.layout != LAYOUT for p in previous.values()
    ):
        return "the previous file was written by another version"
    if any(p.privacy != privacy for p in previous.values()):
        return "the privacy setting changed (nothing of the previous file is kept)"
    for table in MIRRORED:
        stored = previous[table.qualified]
        changes = _changes(conn, source, table, stored.seq)
        if not changes or (changes[0].seq, changes[0].recorded_at) != (
            stored.seq,
            stored.recorded_at,
        ):
            return "the previous file mirrors another warehouse (nothing of it is kept)"
        if any(c.kind == "delete" for c in changes[1:]):
            return "a snapshot was removed (nothing of the previous file is kept)"
    if _mostly_free(conn):
        # Rows copied again leave free space that later copies reuse; a file more free than
        # used is written anew, so it never grows without bound.
        return "compacted: most of the previous file was free space"
    return None


def _write(conn: duckdb.DuckDBPyConnection, source: str, privacy: bool, start: str) -> ServingBuild:
    """Into the current catalog (empty, or the previous file's copy): every mirrored table.
    `start`: why the file was started empty, the reason every table is copied whole."""
    previous = _previous_state(conn)
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {REPORTS}")
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {CORE}")
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {STATE} (table_name VARCHAR PRIMARY KEY, seq BIGINT, "
        "recorded_at TIMESTAMPTZ, boundary DATE, row_count BIGINT, privacy BOOLEAN, "
        "layout INTEGER)"
    )
    rows: dict[str, int] = {}
    how: dict[str, str] = {}
    for table in MIRRORED:
        stored = previous.get(table.qualified)
        changes = _changes(conn, source, table, stored.seq if stored else None)
        rows_now = _count(conn, _stored(table)) if stored else None
        plan = plan_table(stored, changes, privacy, rows_now)
        if stored is None:
            plan = TablePlan("whole", start)
        if plan.mode != "whole" and _columns(conn, _stored(table)) != _columns(
            conn, f"{source}.{_stored(table)}"
        ):
            plan = TablePlan("whole", "its columns changed")
        if plan.mode != "whole" and table.always_whole:
            plan = TablePlan("whole", "copied whole every time")
        if plan.mode == "whole":
            _copy_whole(conn, source, table, privacy)
            how[table.qualified] = f"whole: {plan.reason}"
        elif plan.mode == "changes":
            assert stored is not None
            keys = _copy_changes(conn, source, table, stored.boundary)
            how[table.qualified] = f"from the changes: {keys} keys ({plan.reason})"
        else:
            how[table.qualified] = "kept"
        if table.schema == REPORTS:
            conn.execute(f"DELETE FROM {REPORTS}.{SNAPSHOTS} WHERE table_name = ?", [table.name])
            conn.execute(
                f"INSERT INTO {REPORTS}.{SNAPSHOTS} FROM {source}.{REPORTS}.{SNAPSHOTS} "
                "WHERE table_name = ?",
                [table.name],
            )
        _record_state(conn, table, changes, privacy)
        shown = versions_table(REPORTS, table.name) if table.schema == REPORTS else None
        rows[table.qualified] = _count(conn, shown or core_table(CORE_TABLES_BY_NAME[table.name]))
    return ServingBuild(rows, how)


def _stored(table: Mirrored) -> str:
    return f"{quote_ident(table.schema)}.{quote_ident(table.stored)}"


def _mostly_free(conn: duckdb.DuckDBPyConnection) -> bool:
    row = conn.execute(
        "SELECT free_blocks > used_blocks FROM pragma_database_size() WHERE database_name = ?",
        [BUILDING],
    ).fetchone()
    return bool(row and row[0])


def _previous_state(conn: duckdb.DuckDBPyConnection) -> dict[str, Stored]:
    if not relation_exists(conn, "main", "_serving_state"):
        return {}
    found = conn.execute(
        f"SELECT table_name, seq, recorded_at, boundary, row_count, privacy, layout FROM {STATE}"
    ).fetchall()
    return {name: Stored(*values) for name, *values in found}


def _changes(
    conn: duckdb.DuckDBPyConnection, source: str, table: Mirrored, since: int | None
) -> list[Change]:
    """The table's ledger entries from change `since` on (the latest one alone when None)."""
    ledger = f"{source}.{quote_ident(table.schema)}.{CHANGES}"
    where = "seq >= ?" if since is not None else "seq = (SELECT max(seq) FROM t)"
    try:
        found = conn.execute(
            f"WITH t AS (SELECT * FROM {ledger} WHERE table_name = ?) "
            f"SELECT seq, recorded_at, snapshot_date, kind FROM t WHERE {where} ORDER BY seq",
            [table.name] + ([since] if since is not None else []),
        ).fetchall()
    except duckdb.CatalogException:  # no change recorded in that schema yet
        return []
    return [Change(*row) for row in found]


def _copy_whole(
    conn: duckdb.DuckDBPyConnection, source: str, table: Mirrored, privacy: bool
) -> None:
    if table.schema == REPORTS:
        stored = f"{source}.{versions_table(REPORTS, table.name)}"
        columns = [c for c in _columns(conn, stored) if c[0] not in BOOKKEEPING]
        _drop(conn, REPORTS, table.name)
        _drop(conn, REPORTS, table.stored)
        ensure_versioned(conn, REPORTS, table.name, columns)
        conn.execute(f"INSERT INTO {versions_table(REPORTS, table.name)} FROM {stored}")
        return
    core = CORE_TABLES_BY_NAME[table.name]
    hidden = privacy and core is LEARNERS
    history = " EXCLUDE (aad_object_id)" if hidden else ""
    stored = _stored(table)
    conn.execute(f"CREATE OR REPLACE TABLE {stored} AS SELECT *{history} FROM {source}.{stored}")
    _drop(conn, CORE, core.name)
    if core.view_joins:  # the current rows need the directory: stored as they read
        current = f" EXCLUDE ({', '.join(_PRIVATE)})" if hidden else ""
        conn.execute(
            f"CREATE TABLE {core_table(core)} AS SELECT *{current} FROM {source}.{core_table(core)}"
        )
    else:  # the warehouse's view over the history copied above: each row stored once
        conn.execute(f"CREATE VIEW {core_table(core)} AS {current_select(core)}")


def _drop(conn: duckdb.DuckDBPyConnection, schema: str, name: str) -> None:
    """Drop table or view `<schema>.<name>` of the file being written, if it exists."""
    kind = relation_kind(conn, schema, name)
    if kind:
        what = "VIEW" if kind == "VIEW" else "TABLE"
        conn.execute(f"DROP {what} {quote_ident(schema)}.{quote_ident(name)}")


def _copy_changes(
    conn: duckdb.DuckDBPyConnection, source: str, table: Mirrored, boundary: dt.date | None
) -> int:
    """Copy again every row of the keys with a row starting or ending after `boundary` (the
    snapshots appended since the previous file): exactly the rows those snapshots changed,
    since appending a snapshot only starts and ends rows on it. Returns the keys copied."""
    key = ", ".join(quote_ident(k) for k in table.key)
    same = " AND ".join(
        f"s.{quote_ident(k)} IS NOT DISTINCT FROM k.{quote_ident(k)}" for k in table.key
    )
    columns = ", ".join(quote_ident(c) for c, _ in _columns(conn, _stored(table)))
    after = boundary or dt.date.min
    conn.execute(
        f"CREATE OR REPLACE TEMP TABLE _serving_keys AS SELECT DISTINCT {key} "
        f"FROM {source}.{_stored(table)} WHERE valid_from > $after "
        "OR (valid_to > $after AND valid_to < $open)",
        {"after": after, "open": OPEN_END},
    )
    conn.execute(
        f"DELETE FROM {_stored(table)} s WHERE EXISTS (SELECT 1 FROM _serving_keys k WHERE {same})"
    )
    conn.execute(
        f"INSERT INTO {_stored(table)} SELECT {columns} FROM {source}.{_stored(table)} s "
        f"WHERE EXISTS (SELECT 1 FROM _serving_keys k WHERE {same})"
    )
    keys = _count(conn, "_serving_keys")
    conn.execute("DROP TABLE _serving_keys")
    return keys


def _record_state(
    conn: duckdb.DuckDBPyConnection, table: Mirrored, changes: Sequence[Change], privacy: bool
) -> None:
    last = changes[-1] if changes else None
    dates = conn.execute(
        f"SELECT max(valid_from), max(valid_to) FILTER (valid_to < $open), count(*) "
        f"FROM {_stored(table)}",
        {"open": OPEN_END},
    ).fetchone()
    assert dates is not None
    boundary = max((d for d in dates[:2] if d is not None), default=None)
    conn.execute(
        f"INSERT OR REPLACE INTO {STATE} VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            table.qualified,
            last.seq if last else 0,
            last.recorded_at if last else None,
            boundary,
            dates[2],
            privacy,
            LAYOUT,
        ],
    )


def _columns(conn: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in conn.execute(f"DESCRIBE {table}").fetchall()]


def _count(conn: duckdb.DuckDBPyConnection, table: str) -> int:
    row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    return int(row[0]) if row else 0
