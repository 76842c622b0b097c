"""A plain-text account of what the warehouse holds (printed by `make demo`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path

from learn_assets.resources import WarehouseResource
from learn_assets.warehouse.lock import connect_waiting
from learn_assets.warehouse.versioned import versions_table


def warehouse_summary(resources: Mapping[str, object], log: logging.Logger | None = None) -> str:
    """The account; while a run holds the warehouse, it waits (saying so on `log`, up to
    LEARN_LOCK_TIMEOUT) for the run to let go, as any writer would."""
    warehouse = resources["warehouse"]
    assert isinstance(warehouse, WarehouseResource)
    path = Path(warehouse.database)
    if not path.exists():
        return f"no warehouse at {path} yet: run `make demo`"
    log = log or logging.getLogger(__name__)
    with connect_waiting(str(path), {}, warehouse.lock_timeout, log, read_only=True) as conn:
        tables = conn.execute(
            """SELECT table_schema, table_name,
                      list_contains(list(column_name), 'snapshot_date') AS partitioned
               FROM information_schema.columns
               WHERE table_name NOT LIKE '\\_%' ESCAPE '\\'
                   AND NOT regexp_matches(table_name, '_(versions|history)$')
               GROUP BY ALL ORDER BY table_schema, table_name"""
        ).fetchall()
        snapshots = conn.execute(
            "SELECT min(snapshot_date), max(snapshot_date), count(DISTINCT snapshot_date) "
            "FROM raw._load_log"
        ).fetchone()
        # Snapshot tables are views over row versions (resources/versioned.py), core tables views
        # of the current values over their history (core/build.py).
        views = set(
            conn.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_type = 'VIEW'"
            ).fetchall()
        )
        lines = [
            f"{'table':<40} {'snapshots':>9} {'rows (latest)':>14} {'rows (all)':>12} "
            f"{'rows stored':>12}"
        ]
        for schema, table, partitioned in tables:
            name = f'"{schema}"."{table}"'
            if partitioned:
                row = conn.execute(
                    f"SELECT count(DISTINCT snapshot_date), count(*) FILTER "
                    f"(WHERE snapshot_date = (SELECT max(snapshot_date) FROM {name})), count(*) "
                    f"FROM {name}"
                ).fetchone()
            else:
                total = conn.execute(f"SELECT count(*) FROM {name}").fetchone()
                row = ("-", total[0], total[0])
            kept = row[2]  # rows stored: a snapshot table keeps each unchanged row once
            if (schema, table) in views:
                storage = (
                    versions_table(schema, table)
                    if partitioned
                    else f'"{schema}"."{table}_history"'
                )
                kept = conn.execute(f"SELECT count(*) FROM {storage}").fetchone()[0]  # type: ignore[index]
            lines.append(
                f"{schema + '.' + table:<40} {row[0]:>9} {row[1]:>14,} {row[2]:>12,} {kept:>12,}"
            )
    first, last, count = snapshots or (None, None, 0)
    landing = resources["landing"]
    exports = Path(resources["exports"].exports_dir)  # type: ignore[attr-defined]
    latest = exports / str(last)
    return "\n".join(
        [
            f"snapshots: {count} ({first} .. {last})",
            f"landing:   {landing.landing_dir if landing.remote else landing.root.resolve()}",  # type: ignore[attr-defined]
            f"warehouse: {path.resolve()}",
            "",
            *lines,
            "",
            f"exports:   {exports.resolve()}/<snapshot>/ (CSV, Parquet, reports.xlsx, charts)",
            f"report:    {(latest / 'report.html').resolve()}"
            if (latest / "report.html").exists()
            else "report:    (no exports yet)",
            "",
            "browse the asset graph: make ui  (http://127.0.0.1:3000)",
            '.venv/bin/python -c "import duckdb; print(duckdb.connect('
            f"'{path}', read_only=True).sql('FROM staged.progress LIMIT 5'))\"",
        ]
    )
