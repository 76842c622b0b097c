"""Time `write_workbook` alone on one snapshot of a warehouse (issue #18: reports.xlsx).

    .venv/bin/python bench/workbook.py [--warehouse FILE] [--day YYYY-MM-DD] [--runs N]

Reads the report tables, the previous snapshot and the data quality as the exports step does
(`exports.files.export_tables`), then writes `reports.xlsx` --runs times into a temporary
folder with the row cap the step uses (LEARN_XLSX_MAX_ROWS' default) and prints each run's wall
and CPU time, the cells of the report sheets and the file's size. Defaults: the warehouse of
`bench/run.py --size S --backfill 0 --no-corrections` and its latest snapshot. Runs the code
it imports: with PYTHONPATH set to another source tree, that tree's writer.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import duckdb

from learn_assets.exports import xlsx
from learn_assets.exports.files import first_row, people_table
from learn_assets.exports.headline import headlines
from learn_assets.exports.tables import REPORTS, read_data_quality, read_previous, read_reports
from learn_assets.settings import DEFAULTS

BENCH = Path(__file__).resolve().parent
S_WAREHOUSE = BENCH / "out" / "work-S" / "pipeline.duckdb"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", default=str(S_WAREHOUSE))
    parser.add_argument("--day", default="", help="snapshot date (default: the latest)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with duckdb.connect(args.warehouse, read_only=True) as conn:
        if args.day:
            day = dt.date.fromisoformat(args.day)
        else:
            ((day,),) = conn.execute(
                "SELECT max(snapshot_date) FROM reports.org_overview"
            ).fetchall()
        tables = read_reports(conn, day)
        quality = read_data_quality(conn, day)
        previous = read_previous(conn, day)
    max_rows = DEFAULTS.xlsx_max_rows
    keys = {name: REPORTS[name].key for name in tables}
    overview = first_row(tables.get("org_overview"))
    about = xlsx.about_rows(
        day,
        quality,
        previous.snapshot,
        dt.datetime.now(dt.UTC),
        "",
        xlsx.sheet_rows(tables, max_rows),
    )
    kept = {n: min(t.num_rows, max_rows) for n, t in tables.items()}
    cells = sum(kept[n] * t.num_columns for n, t in tables.items())
    print(f"snapshot {day}: {sum(kept.values()):,} rows, {cells:,} cells (before learner columns)")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "reports.xlsx"
        for run in range(1, args.runs + 1):
            wall, cpu = time.perf_counter(), time.process_time()
            xlsx.write_workbook(
                tables,
                path,
                max_rows,
                keys,
                about=about,
                overview=(headlines(overview, previous.overview), day, previous.snapshot)
                if overview
                else None,
                people=people_table(tables, previous),
            )
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            size = path.stat().st_size
            print(f"run {run}: write_workbook {wall:.2f} s wall, {cpu:.2f} s CPU, {size:,} bytes")


if __name__ == "__main__":
    main()
