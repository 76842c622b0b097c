"""Reading the report tables of one snapshot out of the warehouse, as Arrow tables."""

from __future__ import annotations

import datetime as dt

import duckdb
import pyarrow as pa

from learn_assets.reports.build import REPORT_TABLES, ReportTable, report_table
from learn_assets.resources import quote_ident

# The fixed list of reports, in dependency order: names come from here, never from input.
REPORTS: dict[str, ReportTable] = {r.name: r for r in REPORT_TABLES}


def read_report(
    conn: duckdb.DuckDBPyConnection, report: ReportTable, snapshot: dt.date
) -> pa.Table:
    """The report's rows for `snapshot`, in key order.

    Timestamps come out in UTC: the session time zone decides the zone Arrow carries.
    """
    conn.execute("SET TimeZone = 'UTC'")
    order = ", ".join(quote_ident(k) for k in report.key)
    relation = conn.sql(
        f"SELECT * FROM {report_table(report)} WHERE snapshot_date = $snapshot ORDER BY {order}",
        params={"snapshot": snapshot},
    )
    return _plain_strings(relation.to_arrow_table())


def read_reports(conn: duckdb.DuckDBPyConnection, snapshot: dt.date) -> dict[str, pa.Table]:
    """Every report for `snapshot`, by name, in the fixed report order."""
    return {name: read_report(conn, report, snapshot) for name, report in REPORTS.items()}


def _plain_strings(table: pa.Table) -> pa.Table:
    # Newer DuckDB/Arrow settings can hand out string_view; the writers expect plain strings.
    for i, field in enumerate(table.schema):
        if pa.types.is_string_view(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.string()))
    return table
