"""Time the exports step's parts on one snapshot of a warehouse (issue #18: exports at S).

    .venv/bin/python bench/exports.py [--warehouse FILE] [--day YYYY-MM-DD] [--runs N] [--rerun]

Runs `exports.files.export_snapshot` --runs times, each into a fresh temporary folder (with
--rerun: all into the same one, as a rerun of the partition), and prints each run's wall and CPU
time, split into the functions `export_tables` calls (reading, checks, CSV, Parquet, workbook,
charts, page; the charts as their start and the wait for the chart worker, which draws them
while the workbook is written), then the import time of `exports.files`. Defaults: the warehouse of
`bench/fixed_cost.py` and its first snapshot. Runs the code it imports: with PYTHONPATH set to
another source tree, that tree's exports.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
S_WAREHOUSE = BENCH / "out" / "work-fixed-cost" / "warehouse.duckdb"
# Function of exports/files.py -> the part it is counted in.
PARTS = {
    "read_reports": "read",
    "read_data_quality": "read",
    "read_previous": "read",
    "check_exportable": "check",
    "write_csv": "csv",
    "write_parquet": "parquet",
    "write_workbook": "workbook",
    "render_page": "page",
}


def timed(fn: Callable[..., Any], spent: list[float]) -> Callable[..., Any]:
    """`fn`, adding its wall and CPU time to spent[0] and spent[1]."""

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - wall
            spent[1] += time.process_time() - cpu

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", default=str(S_WAREHOUSE))
    parser.add_argument("--day", default="", help="snapshot date (default: the first)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rerun", action="store_true", help="every run into the same folder")
    args = parser.parse_args()
    wall, cpu = time.perf_counter(), time.process_time()
    import duckdb

    from learn_assets.exports import files

    print(
        f"import exports.files: {time.perf_counter() - wall:.2f} s wall, "
        f"{time.process_time() - cpu:.2f} s CPU"
    )
    spent: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for name, part in PARTS.items():
        setattr(files, name, timed(getattr(files, name), spent[part]))
    start = files.start_charts

    def start_timed(*args: Any, **kwargs: Any) -> Any:
        drawing = start(*args, **kwargs)  # the wait for the chart worker, after the workbook
        drawing.result = timed(drawing.result, spent["charts (wait)"])
        return drawing

    files.start_charts = timed(start_timed, spent["charts (start)"])
    with (
        duckdb.connect(args.warehouse, read_only=True) as conn,
        tempfile.TemporaryDirectory() as tmp,
    ):
        if args.day:
            day = dt.date.fromisoformat(args.day)
        else:
            ((day,),) = conn.execute(
                "SELECT min(snapshot_date) FROM reports.org_overview"
            ).fetchall()
        for run in range(1, args.runs + 1):
            for times in spent.values():
                times[:] = [0.0, 0.0]
            out = Path(tmp) / ("same" if args.rerun else f"run-{run}")
            wall, cpu = time.perf_counter(), time.process_time()
            files.export_snapshot(conn, day, out)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            split = ", ".join(f"{p} {w:.2f}/{c:.2f}" for p, (w, c) in spent.items())
            print(f"run {run}: export_snapshot {wall:.2f} s wall, {cpu:.2f} s CPU | {split}")


if __name__ == "__main__":
    main()
