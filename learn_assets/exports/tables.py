"""Reading one snapshot out of the warehouse: its report tables, as Arrow tables, and its data
quality (rows quarantined per dataset, checks that warned) for the readers of the exports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from learn_assets.contracts.datasets import DATASETS, ENTRA
from learn_assets.raw.load import RAW_SCHEMA
from learn_assets.reports.build import REPORT_TABLES, ReportTable, report_table
from learn_assets.staged.check_log import ACCEPTED, WARNED, logged_checks
from learn_assets.staged.stage import QUARANTINE
from learn_assets.warehouse.sql import quote_ident, relation_exists
from learn_assets.warehouse.versioned import SNAPSHOTS

# The fixed list of reports, in dependency order: names come from here, never from input.
REPORTS: dict[str, ReportTable] = {r.name: r for r in REPORT_TABLES}


def report_rows(
    conn: duckdb.DuckDBPyConnection, report: ReportTable, snapshot: dt.date, ordered: bool = True
) -> duckdb.DuckDBPyRelation:
    """The report's rows for `snapshot`, in key order unless not `ordered`, as a relation not yet
    run (read it whole with `read_report`, or a batch at a time with `to_arrow_reader`). Files
    people open need the order (and identical bytes for identical rows); a Delta table has no
    row order, and sorting the biggest reports at L costs seconds (module_progress: 3.1 s
    ordered, 0.7 s not).

    Timestamps come out in UTC: the session time zone decides the zone Arrow carries.
    """
    conn.execute("SET TimeZone = 'UTC'")
    order = ", ".join(quote_ident(k) for k in report.key)
    return conn.sql(
        f"SELECT * FROM {report_table(report)} WHERE snapshot_date = $snapshot"
        + (f" ORDER BY {order}" if ordered else ""),
        params={"snapshot": snapshot},
    )


def read_report(
    conn: duckdb.DuckDBPyConnection, report: ReportTable, snapshot: dt.date
) -> pa.Table:
    """The report's rows for `snapshot`, in key order (see `report_rows`)."""
    return _plain_strings(report_rows(conn, report, snapshot).to_arrow_table())


def read_reports(
    conn: duckdb.DuckDBPyConnection, snapshot: dt.date, names: Collection[str] | None = None
) -> dict[str, pa.Table]:
    """Every report for `snapshot` (or those of `names`), by name, in the fixed report order."""
    unknown = set(names or ()) - REPORTS.keys()
    if unknown:
        raise KeyError(f"no such report: {', '.join(sorted(unknown))}")
    return {
        name: read_report(conn, report, snapshot)
        for name, report in REPORTS.items()
        if names is None or name in names
    }


@dataclass(frozen=True)
class Previous:
    """What the exports compare a snapshot with: the previous loaded snapshot's headline numbers,
    and the learners who left since (they are in no report of this snapshot), as then named."""

    snapshot: dt.date | None = None
    overview: dict[str, Any] | None = None  # its org_overview row
    leavers: pa.Table | None = None  # user_id, display_name, department


def read_previous(conn: duckdb.DuckDBPyConnection, snapshot: dt.date) -> Previous:
    """The previous snapshot of the reports before `snapshot` (None: this is the first)."""
    conn.execute("SET TimeZone = 'UTC'")
    ((day,),) = conn.execute(
        "SELECT max(snapshot_date) FROM reports.org_overview WHERE snapshot_date < ?", [snapshot]
    ).fetchall()
    if day is None:
        return Previous()
    overview = conn.sql(
        "SELECT * FROM reports.org_overview WHERE snapshot_date = $d", params={"d": day}
    ).to_arrow_table()
    leavers = conn.sql(
        "SELECT l.user_id, l.display_name, l.department FROM reports.learner_summary l "
        "JOIN reports.snapshot_changes c ON c.user_id = l.user_id "
        "AND c.previous_snapshot = l.snapshot_date "
        "WHERE c.snapshot_date = $s AND c.change = 'learner_left' ORDER BY l.user_id",
        params={"s": snapshot},
    ).to_arrow_table()
    return Previous(day, overview.to_pylist()[0], _plain_strings(leavers))


def plain_schema(schema: pa.Schema) -> pa.Schema:
    """`schema` with string views as plain strings: newer DuckDB/Arrow settings can hand out
    string_view; the writers and the lake's readers expect plain strings."""
    return pa.schema(
        [f.with_type(pa.string()) if pa.types.is_string_view(f.type) else f for f in schema],
        metadata=schema.metadata,
    )


def _plain_strings(table: pa.Table) -> pa.Table:
    schema = plain_schema(table.schema)
    return table if schema == table.schema else table.cast(schema)


ENTRA_LABEL = "Entra users export"
_LABELS = {d.table: d.name for d in DATASETS} | {ENTRA.table: ENTRA_LABEL}
_ORDER = {table: i for i, table in enumerate(_LABELS)}


@dataclass(frozen=True)
class DatasetQuality:
    dataset: str  # as people know it: Progress, Users, ..., Entra users export
    delivered: int
    quarantined: int


@dataclass(frozen=True)
class CheckNote:
    dataset: str
    check_name: str
    accepted: bool  # a blocking sanity check accepted by LEARN_ACCEPT_ANOMALY, else a warning
    message: str


@dataclass(frozen=True)
class DataQuality:
    """What a reader of the snapshot's exports should know about the data behind them."""

    snapshot: dt.date
    datasets: tuple[DatasetQuality, ...] = ()  # empty: nothing recorded (no staging)
    notes: tuple[CheckNote, ...] = ()

    def quarantine_line(self) -> str:
        if not self.datasets:
            return "Rows quarantined: not recorded for this snapshot."
        hit = [d for d in self.datasets if d.quarantined]
        if not hit:
            delivered = sum(d.delivered for d in self.datasets)
            return f"Rows quarantined: none of the {delivered:,} rows delivered."
        parts = [
            f"{d.dataset} {d.quarantined:,} of {d.delivered:,} ({d.quarantined / d.delivered:.1%})"
            for d in hit
        ]
        return (
            "Rows quarantined (left out of the reports, see the quarantine tables): "
            + "; ".join(parts)
            + "."
        )

    def note_lines(self) -> list[str]:
        if not self.notes:
            return ["Checks that warned: none."]
        return [
            f"{'Accepted anomaly' if n.accepted else 'Warning'}, {n.dataset} {n.check_name}: "
            f"{n.message}"
            for n in self.notes
        ]

    def lines(self) -> list[str]:
        return [self.quarantine_line(), *self.note_lines()]


def _recorded(conn: duckdb.DuckDBPyConnection, table: str) -> bool:
    return all(relation_exists(conn, schema, table) for schema in (RAW_SCHEMA, QUARANTINE))


def _quarantine_counts(conn: duckdb.DuckDBPyConnection, snapshot: dt.date) -> list[tuple]:
    """(table, delivered, quarantined) of every dataset loaded and staged for `snapshot`, from
    the snapshot catalogs, and of the Entra export (not per snapshot), in dataset order."""
    counts: list[tuple] = []
    if _recorded(conn, SNAPSHOTS):
        counts += conn.execute(
            f"SELECT r.table_name, r.row_count, q.row_count FROM {RAW_SCHEMA}.{SNAPSHOTS} r "
            f"JOIN {QUARANTINE}.{SNAPSHOTS} q USING (table_name, snapshot_date) "
            "WHERE r.snapshot_date = ?",
            [snapshot],
        ).fetchall()
    if _recorded(conn, ENTRA.table):
        entra = quote_ident(ENTRA.table)
        counts += conn.execute(
            f"SELECT ?, (SELECT count(*) FROM {RAW_SCHEMA}.{entra}), "
            f"(SELECT count(*) FROM {QUARANTINE}.{entra})",
            [ENTRA.table],
        ).fetchall()
    return sorted((c for c in counts if c[0] in _ORDER), key=lambda c: _ORDER[c[0]])


def read_data_quality(conn: duckdb.DuckDBPyConnection, snapshot: dt.date) -> DataQuality:
    """Rows quarantined per dataset for `snapshot`, and the checks that warned on it (or on the
    Entra export) or whose anomaly a person accepted, from `staged._check_log`."""
    checks = sorted(
        logged_checks(conn, snapshot, (WARNED, ACCEPTED)),
        key=lambda c: (_ORDER.get(c.dataset, len(_ORDER)), c.check_name),
    )
    return DataQuality(
        snapshot,
        tuple(
            DatasetQuality(_LABELS[t], int(d), int(q))
            for t, d, q in _quarantine_counts(conn, snapshot)
        ),
        tuple(
            CheckNote(
                _LABELS.get(c.dataset, c.dataset), c.check_name, c.status == ACCEPTED, c.message
            )
            for c in checks
        ),
    )
