"""Snapshot tables stored as row versions: the warehouse grows with what changed, not with days.

Learn delivers a full copy of every dataset each day, and from one day to the next almost every
row is the same. A snapshot table `<schema>.<name>` is therefore a view over two tables:

- `<schema>.<name>_versions`: each distinct row once per run of consecutive loaded snapshots
  that contain it, with `valid_from` (first such snapshot) and `valid_to` (the first loaded
  snapshot after the run, `9999-12-31` while it lasts) and `_copy` (1, 2, ... for a row delivered
  more than once in the same snapshot);
- `<schema>._snapshots`: which snapshots of which table are loaded, and their row counts.

The view has the same columns as a table holding every snapshot in full (`snapshot_date` first),
so `SELECT ... FROM raw.progress WHERE snapshot_date = D` returns exactly the rows delivered on D.

`replace_snapshot` replaces one snapshot, in any order (a re-run, a late backfill of an older
day) and keeps the versions canonical: a row present on consecutive loaded snapshots is one
version, so the same loads in any order give the same versions. Rows are matched on their full
content (NULL-safe), never on a hash alone, so every snapshot is rebuilt exactly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import duckdb

from learn_assets.warehouse.ledger import record_change
from learn_assets.warehouse.sql import (
    quote_ident,
    quote_literal,
    relation_columns,
    relation_exists,
    relation_kind,
)

OPEN_END = dt.date(9999, 12, 31)  # valid_to of a version still present in the latest snapshot
SNAPSHOTS = "_snapshots"
BOOKKEEPING = ("_copy", "valid_from", "valid_to")
_INCOMING = "_versioned_incoming"
_HASH = "_row_hash"  # column of the incoming rows: ROW_HASH of their data columns
ROW_HASH = "hash"  # SQL function of a row's columns splitting a big snapshot into parts to match


class SourceReadError(RuntimeError):
    """The SELECT giving a snapshot's rows failed (e.g. a file DuckDB cannot read); the cause is
    the DuckDB error. Failures of the versioning itself are raised as they are."""


class WarehouseLayoutError(RuntimeError):
    """The warehouse was written by an older layout this version cannot update in place."""


def versions_table(schema: str, name: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(name + '_versions')}"


def _catalog(schema: str) -> str:
    return f"{quote_ident(schema)}.{SNAPSHOTS}"


def ensure_versioned(
    conn: duckdb.DuckDBPyConnection,
    schema: str,
    name: str,
    columns: Sequence[tuple[str, str]],
) -> None:
    """Create the versions table, the snapshot catalog and the view (if absent).

    `columns` are the data columns as (name, SQL type), without `snapshot_date`.
    """
    kind = relation_kind(conn, schema, name)
    if kind == "BASE TABLE":
        raise WarehouseLayoutError(
            f"{schema}.{name} is a table holding every snapshot in full, written by an earlier "
            "version of learn_assets; this version stores snapshots as row versions. Delete the "
            "warehouse file (or `make clean`) and rebuild it from the landing folder or archive."
        )
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {_catalog(schema)} (table_name VARCHAR NOT NULL, "
        "snapshot_date DATE NOT NULL, row_count BIGINT NOT NULL, "
        "PRIMARY KEY (table_name, snapshot_date))"
    )
    if kind == "VIEW":
        return
    typed = ", ".join(f"{quote_ident(c)} {t}" for c, t in columns)
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {versions_table(schema, name)} ({typed}, "
        "_copy UINTEGER NOT NULL, valid_from DATE NOT NULL, valid_to DATE NOT NULL)"
    )
    data = ", ".join(f"v.{quote_ident(c)}" for c, _ in columns)
    conn.execute(
        f"CREATE VIEW {quote_ident(schema)}.{quote_ident(name)} AS "
        f"SELECT s.snapshot_date, {data} FROM {_catalog(schema)} s "
        f"JOIN {versions_table(schema, name)} v ON s.table_name = {quote_literal(name)} "
        "AND v.valid_from <= s.snapshot_date AND s.snapshot_date < v.valid_to"
    )


def _versions_columns(conn: duckdb.DuckDBPyConnection, schema: str, name: str) -> list[str]:
    """Every column of `<schema>.<name>_versions` in order, bookkeeping included; none if it does
    not exist (a relation always has a column)."""
    return [c for c, _ in relation_columns(conn, schema, name + "_versions") or []]


def data_columns(conn: duckdb.DuckDBPyConnection, schema: str, name: str) -> list[str]:
    return [c for c in _versions_columns(conn, schema, name) if c not in BOOKKEEPING]


def loaded_snapshots(conn: duckdb.DuckDBPyConnection, schema: str, name: str) -> list[dt.date]:
    """The snapshots of `<schema>.<name>` that are loaded, ascending."""
    if not relation_exists(conn, schema, SNAPSHOTS):
        return []
    rows = conn.execute(
        f"SELECT snapshot_date FROM {_catalog(schema)} WHERE table_name = ? ORDER BY 1", [name]
    ).fetchall()
    return [r[0] for r in rows]


def snapshot_row_count(
    conn: duckdb.DuckDBPyConnection, schema: str, name: str, snapshot: dt.date
) -> int:
    """Rows of loaded snapshot `snapshot` (0 if not loaded), from the catalog."""
    row = conn.execute(
        f"SELECT row_count FROM {_catalog(schema)} WHERE table_name = ? AND snapshot_date = ?",
        [name, snapshot],
    ).fetchone()
    return int(row[0]) if row else 0


def _same_row(columns: Sequence[str], a: str, b: str) -> str:
    """Join condition: rows `a` and `b` are the same delivered row (content and copy number)."""
    same = [f"{a}.{quote_ident(c)} IS NOT DISTINCT FROM {b}.{quote_ident(c)}" for c in columns]
    return " AND ".join([*same, f"{a}._copy = {b}._copy"])


def replace_snapshot(
    conn: duckdb.DuckDBPyConnection,
    schema: str,
    name: str,
    snapshot: dt.date,
    source: str,
    params: Mapping[str, object] | Sequence[object] | None = None,
    row_hash: str = ROW_HASH,
) -> int:
    """Make snapshot `snapshot` of `<schema>.<name>` equal the rows of the SELECT `source`.

    `source` yields the data columns by name (and `snapshot_date` the first time, ignored). The
    table is created from the source's column types on first use. Runs inside the caller's
    transaction; returns the snapshot's row count.
    """
    # The stored data columns (asked once: the incoming rows do not change the table); none
    # when the versions table does not exist yet.
    stored = _versions_columns(conn, schema, name)
    exists = bool(stored)
    known = [c for c in stored if c not in BOOKKEEPING]
    pick = ", ".join(quote_ident(c) for c in known) if exists else "* EXCLUDE (snapshot_date)"
    # Each row's hash, computed once as the rows arrive: it finds repeated rows and splits a big
    # snapshot into parts to match with the stored versions, which hash theirs the same way.
    # The first load has no versions to match: any hash finds its repeats.
    hashed = f"{row_hash}({pick})" if exists else f"hash(*COLUMNS({pick}))"
    try:
        conn.execute(
            f"CREATE OR REPLACE TEMP TABLE {_INCOMING} AS "
            f"SELECT {pick}, 1::UINTEGER AS _copy, {hashed} AS {_HASH} FROM ({source})",
            params,
        )
    except duckdb.Error as e:
        raise SourceReadError(str(e)) from e
    if not exists:
        described = conn.execute(f"DESCRIBE {_INCOMING}").fetchall()
        incoming = [(r[0], r[1]) for r in described if r[0] not in ("_copy", _HASH)]
        ensure_versioned(conn, schema, name, incoming)
    columns = known if exists else data_columns(conn, schema, name)
    _number_copies(conn, columns)
    rows = conn.execute(f"SELECT count(*) FROM {_INCOMING}").fetchone()
    count = int(rows[0]) if rows else 0

    loaded = loaded_snapshots(conn, schema, name)
    following = _following(loaded, snapshot)
    if snapshot in loaded:
        _unload(conn, versions_table(schema, name), columns, snapshot, following)
    _load(conn, versions_table(schema, name), columns, snapshot, following, count, row_hash)
    latest = snapshot not in loaded and following is None
    record_change(conn, f"{schema}.{name}", snapshot, "append" if latest else "replace")

    conn.execute(
        f"INSERT OR REPLACE INTO {_catalog(schema)} VALUES (?, ?, ?)", [name, snapshot, count]
    )
    conn.execute(f"DROP TABLE {_INCOMING}")
    return count


def delete_snapshot(conn: duckdb.DuckDBPyConnection, schema: str, name: str, snapshot: dt.date):
    """Remove snapshot `snapshot` of `<schema>.<name>` (no-op if not loaded). In the caller's
    transaction."""
    loaded = loaded_snapshots(conn, schema, name)
    if snapshot not in loaded:
        return
    columns = data_columns(conn, schema, name)
    _unload(conn, versions_table(schema, name), columns, snapshot, _following(loaded, snapshot))
    conn.execute(
        f"DELETE FROM {_catalog(schema)} WHERE table_name = ? AND snapshot_date = ?",
        [name, snapshot],
    )
    record_change(conn, f"{schema}.{name}", snapshot, "delete")


def _following(loaded: Sequence[dt.date], snapshot: dt.date) -> dt.date | None:
    """The first loaded snapshot after `snapshot` (`loaded` ascending), if any."""
    return next((d for d in loaded if d > snapshot), None)


def _number_copies(conn: duckdb.DuckDBPyConnection, columns: Sequence[str]) -> None:
    """Give identical rows of the incoming snapshot copy numbers 1, 2, ... (rare: only rows whose
    hash repeats are numbered, so the common case is one count per distinct hash)."""
    cols = ", ".join(quote_ident(c) for c in columns)
    repeats = conn.execute(
        f"SELECT max(n) > 1 FROM (SELECT count(*) AS n FROM {_INCOMING} GROUP BY {_HASH})"
    ).fetchone()
    if not repeats or not repeats[0]:
        return
    conn.execute(
        f"UPDATE {_INCOMING} SET _copy = n.copy FROM ("
        f"  SELECT rowid AS rid, row_number() OVER (PARTITION BY {cols}) AS copy "
        f"  FROM {_INCOMING} WHERE {_HASH} IN ("
        f"    SELECT {_HASH} FROM {_INCOMING} GROUP BY ALL HAVING count(*) > 1)"
        f") n WHERE {_INCOMING}.rowid = n.rid"
    )


def _unload(
    conn: duckdb.DuckDBPyConnection,
    versions: str,
    columns: Sequence[str],
    day: dt.date,
    following: dt.date | None,
) -> None:
    """Take loaded snapshot `day` out of the versions, as if it had never been loaded."""
    end = following or OPEN_END
    # Rows present on `day` only.
    conn.execute(f"DELETE FROM {versions} WHERE valid_from = ? AND valid_to = ?", [day, end])
    # Runs starting on `day` now start on the following snapshot; runs ending there (the row
    # was absent on `day`) now reach the following one.
    if following:
        conn.execute(f"UPDATE {versions} SET valid_from = ? WHERE valid_from = ?", [end, day])
    conn.execute(f"UPDATE {versions} SET valid_to = ? WHERE valid_to = ?", [end, day])
    if not following:
        return
    # A row absent only on `day` had two runs that now touch: join them.
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE _versioned_joins AS "
        "SELECT a.rowid AS first_id, b.rowid AS second_id, b.valid_to AS valid_to "
        f"FROM {versions} a JOIN {versions} b ON {_same_row(columns, 'a', 'b')} "
        "WHERE a.valid_to = $day AND b.valid_from = $day",
        {"day": following},
    )
    conn.execute(
        f"UPDATE {versions} SET valid_to = j.valid_to FROM _versioned_joins j "
        f"WHERE {versions}.rowid = j.first_id"
    )
    conn.execute(f"DELETE FROM {versions} WHERE rowid IN (SELECT second_id FROM _versioned_joins)")
    conn.execute("DROP TABLE _versioned_joins")


def _load(
    conn: duckdb.DuckDBPyConnection,
    versions: str,
    columns: Sequence[str],
    day: dt.date,
    following: dt.date | None,
    incoming: int,
    row_hash: str = ROW_HASH,
) -> None:
    """Add snapshot `day` (not loaded) from the `incoming` rows of the incoming table."""
    cols = ", ".join(quote_ident(c) for c in columns)
    end = following or OPEN_END
    spanning = (
        f"SELECT rowid AS version_id, * FROM {versions} WHERE valid_from < $day AND valid_to > $day"
    )
    if not conn.execute(f"SELECT EXISTS ({spanning})", {"day": day}).fetchone()[0]:  # type: ignore[index]
        # Nothing to compare with (the first snapshot, or one before every loaded snapshot).
        fresh = _INCOMING
    else:
        # Versions whose run spans `day`: each one either continues (the row is delivered again)
        # or is cut at `day`. Incoming rows without such a version are new runs.
        _pair_rows(conn, columns, spanning, day, incoming, row_hash)
        if following:
            # A row cut at `day` that was present on the following snapshot resumes there.
            conn.execute(
                f"INSERT INTO {versions} SELECT {cols}, _copy, $following, valid_to "
                f"FROM {versions} WHERE rowid IN (SELECT version_id FROM _versioned_pairs "
                "  WHERE incoming_id IS NULL AND valid_to > $following)",
                {"following": following},
            )
        conn.execute(
            f"UPDATE {versions} SET valid_to = $day WHERE rowid IN ("
            "  SELECT version_id FROM _versioned_pairs WHERE incoming_id IS NULL)",
            {"day": day},
        )
        fresh = (
            f"(SELECT * FROM {_INCOMING} WHERE rowid IN "
            "(SELECT incoming_id FROM _versioned_pairs WHERE version_id IS NULL))"
        )
    if following:
        # A new row already present on the following snapshot: its run now starts on `day`.
        conn.execute(
            f"UPDATE {versions} SET valid_from = $day WHERE valid_from = $following AND rowid IN ("
            f"  SELECT v.rowid FROM {versions} v SEMI JOIN {fresh} n "
            f"  ON {_same_row(columns, 'v', 'n')} WHERE v.valid_from = $following)",
            {"day": day, "following": following},
        )
        conn.execute(
            f"INSERT INTO {versions} SELECT n.* EXCLUDE ({_HASH}), $day, $end FROM {fresh} n "
            f"ANTI JOIN (SELECT * FROM {versions} WHERE valid_from = $day) v "
            f"ON {_same_row(columns, 'v', 'n')}",
            {"day": day, "end": end},
        )
    else:  # no version can start on `day` yet: every fresh row is a new run
        conn.execute(
            f"INSERT INTO {versions} SELECT * EXCLUDE ({_HASH}), $day, $end FROM {fresh}",
            {"day": day, "end": end},
        )
    conn.execute("DROP TABLE IF EXISTS _versioned_pairs")


def _pair_rows(
    conn: duckdb.DuckDBPyConnection,
    columns: Sequence[str],
    spanning: str,
    day: dt.date,
    incoming: int,
    row_hash: str = ROW_HASH,
) -> None:
    """_versioned_pairs: (version_id, valid_to, incoming_id) of every spanning version without an
    incoming row and every incoming row without a spanning version (the other side NULL).

    Matched on the full content (NULL-safe) and the copy number, so exact. A big snapshot is
    matched in parts (rows of equal content fall in the same part, by their hash: `_HASH` of the
    incoming rows, `row_hash` of the stored ones): each part's join holds fewer rows, and stays
    within the memory cap instead of spilling. `incoming`: the incoming table's row count.
    """
    cols = ", ".join(quote_ident(c) for c in columns)
    parts = max(1, -(-incoming // PAIRED_ROWS))
    conn.execute(
        "CREATE OR REPLACE TEMP TABLE _versioned_pairs "
        "(version_id BIGINT, valid_to DATE, incoming_id BIGINT)"
    )
    for part in range(parts):
        stored = f"WHERE {row_hash}({cols}) % {parts} = {part}" if parts > 1 else ""
        arrived = f"WHERE {_HASH} % {parts} = {part}" if parts > 1 else ""
        conn.execute(
            "INSERT INTO _versioned_pairs SELECT v.version_id, v.valid_to, i.incoming_id "
            f"FROM (SELECT * FROM ({spanning}) {stored}) v FULL OUTER JOIN ("
            f"  SELECT rowid AS incoming_id, * FROM {_INCOMING} {arrived}) i "
            f"ON {_same_row(columns, 'v', 'i')} "
            "WHERE v.version_id IS NULL OR i.incoming_id IS NULL",
            {"day": day},
        )


PAIRED_ROWS = 3_000_000  # incoming rows matched in one join, at most (see `_pair_rows`)


def snapshot_rows(schema: str, name: str, row_id: str, day_parameter: str = "$snapshot") -> str:
    """SELECT of one snapshot straight from the versions table: `row_id` (the version's rowid,
    stable within a transaction, which the view lacks), `snapshot_date`, the data columns.
    `day_parameter` is the snapshot's parameter in the caller's query."""
    return (
        f"SELECT rowid AS {quote_ident(row_id)}, {day_parameter}::DATE AS snapshot_date, "
        f"* EXCLUDE ({', '.join(BOOKKEEPING)}) FROM {versions_table(schema, name)} "
        f"WHERE valid_from <= {day_parameter} AND {day_parameter} < valid_to"
    )


def previous_snapshot(
    conn: duckdb.DuckDBPyConnection, schema: str, name: str, snapshot: dt.date
) -> dt.date | None:
    """The latest loaded snapshot of `<schema>.<name>` before `snapshot`, if any."""
    earlier = [d for d in loaded_snapshots(conn, schema, name) if d < snapshot]
    return earlier[-1] if earlier else None


def changed_rows(
    schema: str, name: str, row_id: str, change: str, day_parameter: str = "$snapshot"
) -> str:
    """SELECT (like `snapshot_rows`, plus `_copy`) of the rows of loaded snapshot D that the
    previous loaded snapshot lacks (`change` "added"), or of the previous snapshot's rows that D
    lacks ("removed"). Exact because the versions are canonical: a row present on two
    consecutive loaded snapshots is one version, so a version starts or ends at D only if the
    row (that copy of it) is new or gone at D."""
    bound = {"added": "valid_from", "removed": "valid_to"}[change]
    return (
        f"SELECT rowid AS {quote_ident(row_id)}, {day_parameter}::DATE AS snapshot_date, "
        f"* EXCLUDE ({', '.join(BOOKKEEPING)}), _copy FROM {versions_table(schema, name)} "
        f"WHERE {bound} = {day_parameter}"
    )


def append_changes(
    conn: duckdb.DuckDBPyConnection,
    schema: str,
    name: str,
    snapshot: dt.date,
    removed: str,
    added: str,
    params: Mapping[str, object] | None = None,
) -> int:
    """Load `snapshot`, later than every loaded snapshot, as the latest loaded snapshot minus
    the rows of the SELECT `removed` plus the rows of the SELECT `added` (data columns by name).

    Stores exactly what `replace_snapshot` with the whole snapshot would, at the cost of the
    changes: per changed row, the copies beyond its new count end at `snapshot` and the new
    copies start there. Every removed row must be in the latest snapshot. In the caller's
    transaction; returns the snapshot's row count.
    """
    latest = _latest_before(conn, schema, name, snapshot)
    columns = data_columns(conn, schema, name)
    cols = ", ".join(quote_ident(c) for c in columns)
    versions = versions_table(schema, name)
    same = " AND ".join(
        f"c.{quote_ident(c)} IS NOT DISTINCT FROM v.{quote_ident(c)}" for c in columns
    )
    try:
        # One row per changed row content with its net change in copies.
        conn.execute(
            "CREATE OR REPLACE TEMP TABLE _versioned_changes AS "
            f"SELECT {cols}, sum(change)::BIGINT AS change FROM ("
            f"  SELECT {cols}, -1 AS change FROM ({removed}) "
            f"  UNION ALL SELECT {cols}, 1 AS change FROM ({added})"
            ") GROUP BY ALL HAVING sum(change) <> 0",
            params,
        )
    except duckdb.Error as e:
        raise SourceReadError(str(e)) from e
    changed, net = conn.execute(  # type: ignore[misc]
        "SELECT count(*), coalesce(sum(change), 0) FROM _versioned_changes"
    ).fetchone()
    if changed:  # most tables, most days (a catalog, a quarantine) have no change at all
        # The latest snapshot's copies of each changed row (open versions: none loaded later).
        conn.execute(
            "CREATE OR REPLACE TEMP TABLE _versioned_counts AS "
            f"SELECT c.*, count(v._copy) AS copies FROM _versioned_changes c LEFT JOIN ("
            f"  SELECT * FROM {versions} WHERE valid_to = $open) v ON {same} GROUP BY ALL",
            {"open": OPEN_END},
        )
        short = conn.execute("SELECT count(*) FROM _versioned_counts WHERE copies + change < 0")
        if short.fetchone()[0]:  # type: ignore[index]
            raise ValueError(
                f"{schema}.{name}: rows to remove for {snapshot} are not in the latest snapshot"
            )
        conn.execute(
            f"UPDATE {versions} SET valid_to = $day WHERE rowid IN ("
            f"  SELECT v.rowid FROM {versions} v JOIN _versioned_counts c ON {same} "
            "  WHERE v.valid_to = $open AND v._copy > c.copies + c.change)",
            {"day": snapshot, "open": OPEN_END},
        )
        conn.execute(
            f"INSERT INTO {versions} SELECT {cols}, (copies + k)::UINTEGER, $day, $open "
            "FROM _versioned_counts, range(1, change + 1) AS r(k) WHERE change > 0",
            {"day": snapshot, "open": OPEN_END},
        )
        conn.execute("DROP TABLE _versioned_counts")
    conn.execute("DROP TABLE _versioned_changes")
    return _append_to_catalog(conn, schema, name, snapshot, latest, int(net))


def continue_latest(
    conn: duckdb.DuckDBPyConnection, schema: str, name: str, snapshot: dt.date
) -> int:
    """Load `snapshot`, later than every loaded snapshot, with exactly the rows of the latest
    loaded snapshot (e.g. the same file delivered again): the latest snapshot's versions run on,
    so only the catalog changes. Stores what `replace_snapshot` with the same rows would. In the
    caller's transaction; returns the snapshot's row count."""
    return _append_to_catalog(
        conn, schema, name, snapshot, _latest_before(conn, schema, name, snapshot), 0
    )


def _latest_before(
    conn: duckdb.DuckDBPyConnection, schema: str, name: str, snapshot: dt.date
) -> dt.date:
    """The latest loaded snapshot, which must be before `snapshot` (an append)."""
    loaded = loaded_snapshots(conn, schema, name)
    if not loaded or loaded[-1] >= snapshot:
        raise ValueError(
            f"{schema}.{name}: changes can only be appended after the latest loaded snapshot "
            f"({loaded[-1] if loaded else 'none loaded'}), not on {snapshot}"
        )
    return loaded[-1]


def _append_to_catalog(
    conn: duckdb.DuckDBPyConnection,
    schema: str,
    name: str,
    snapshot: dt.date,
    latest: dt.date,
    net: int,
) -> int:
    """Catalog `snapshot` (after `latest`, the latest loaded snapshot) with `net` rows more
    than `latest`, its versions written already; record the append."""
    count = snapshot_row_count(conn, schema, name, latest) + net
    conn.execute(f"INSERT INTO {_catalog(schema)} VALUES (?, ?, ?)", [name, snapshot, count])
    record_change(conn, f"{schema}.{name}", snapshot, "append")
    return count
