"""Writing one snapshot's exports: `<exports_dir>/<YYYY-MM-DD>/`.

    <report>.csv        a CSV file per report for spreadsheets (UTF-8 with BOM, text
                        formula-neutralized)
    <report>.parquet    the same rows, exact types, nothing altered (for tools, not people)
    reports.xlsx        Overview (headline numbers and their change), About (snapshot, source,
                        data quality, rows, definitions), then one Excel Table per report
    charts/<name>.png   the charts
    report.html         one self-contained page: data quality, headline numbers and their
                        change, what changed, charts, learning paths, certifications,
                        departments, top learners, and a learner search

Every file is written to a temporary name beside it and renamed over the old one, so a rerun
replaces a snapshot's files and a reader never sees a half-written file. A chart whose PNG in the
folder was drawn from the same input by the same code is left as it is; the others are drawn in
a worker process while the tables and the workbook are written (`charts.start_charts`); when
several snapshots are exported in turn, the next one's charts are drawn while this one's files are
written (`export_snapshots`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from learn_assets.exports.charts import CHART_REPORTS, ChartDrawing, start_charts
from learn_assets.exports.headline import headlines
from learn_assets.exports.neutralize import is_text, neutralize_column
from learn_assets.exports.page import render_page
from learn_assets.exports.tables import (
    REPORTS,
    DataQuality,
    Previous,
    read_data_quality,
    read_previous,
    read_reports,
)
from learn_assets.exports.values import check_exportable
from learn_assets.exports.xlsx import about_rows, sheet_rows, write_workbook
from learn_assets.fileio import atomic_path, write_bytes
from learn_assets.settings import DEFAULTS

WORKBOOK = "reports.xlsx"
PAGE = "report.html"
CHARTS_DIR = "charts"
# Excel needs the byte-order mark to read a CSV as UTF-8 (names like "Søren").
UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class ExportResult:
    snapshot: dt.date
    folder: Path
    files: list[Path]  # relative to folder, in writing order
    rows: dict[str, int]  # report -> rows exported
    charts: dict[str, bytes]  # chart name -> PNG
    charts_drawn: list[str] = field(default_factory=list)  # drawn now; the others were reused
    truncated_sheets: dict[str, int] = field(default_factory=dict)  # sheet -> rows left out
    quality: list[str] = field(default_factory=list)  # the data-quality lines of page and About


def snapshot_folder(exports_dir: Path, snapshot: dt.date) -> Path:
    return Path(exports_dir) / snapshot.isoformat()


def csv_table(table: pa.Table) -> pa.Table:
    """The table as people's CSV shows it: text neutralized, timestamps `YYYY-MM-DD HH:MM:SS`
    in UTC (a format spreadsheets parse). Numbers, dates and booleans are left as they are."""
    columns = []
    for column, type_ in zip(table.columns, table.schema.types, strict=True):
        if is_text(type_):
            column = neutralize_column(column)
        elif pa.types.is_timestamp(type_):
            seconds = pc.cast(column, pa.timestamp("s", tz=type_.tz), safe=False)
            column = pc.strftime(seconds, "%Y-%m-%d %H:%M:%S")
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def write_csv(table: pa.Table, target: Path) -> Path:
    with atomic_path(target) as tmp, tmp.open("wb") as out:
        out.write(UTF8_BOM)
        # quoting "needed": every text value is quoted, so commas and newlines stay in their cell.
        pa_csv.write_csv(csv_table(table), out, pa_csv.WriteOptions(quoting_style="needed"))
    return target


def write_parquet(table: pa.Table, target: Path) -> Path:
    with atomic_path(target) as tmp:
        pq.write_table(table, tmp)
    return target


def people_table(tables: Mapping[str, pa.Table], previous: Previous) -> pa.Table | None:
    """user_id, display_name, department of the snapshot's learners and of those who left since
    the previous snapshot (named as they were then): the names of the per-learner sheets."""
    learners = tables.get("learner_summary")
    if learners is None or "user_id" not in learners.column_names:
        return None
    people = learners.select(["user_id", "display_name", "department"])
    if previous.leavers is not None and previous.leavers.num_rows:
        people = pa.concat_tables([people, previous.leavers.cast(people.schema)])
    return people


@dataclass(frozen=True)
class ChartsBegun:
    """A snapshot's charts being drawn ahead of its other exports (`begin_charts`)."""

    snapshot: dt.date
    tables: dict[str, pa.Table]  # the reports of `CHART_REPORTS` read for it
    drawn: dict[str, bytes]  # the PNGs its folder held (`read_charts`)
    drawing: ChartDrawing


def begin_charts(
    conn: duckdb.DuckDBPyConnection, snapshot: dt.date, exports_dir: Path
) -> ChartsBegun:
    """Read the reports the snapshot's charts need and start drawing the charts whose input
    changed in the chart worker (`charts.start_charts`). A value no export can write fails
    first, as in `export_tables`."""
    tables = read_reports(conn, snapshot, CHART_REPORTS)
    for name, table in tables.items():
        check_exportable(name, table, REPORTS[name].key)
    drawn = read_charts(snapshot_folder(exports_dir, snapshot))
    return ChartsBegun(snapshot, tables, drawn, start_charts(tables, snapshot, drawn))


def export_tables(
    tables: dict[str, pa.Table],
    snapshot: dt.date,
    exports_dir: Path,
    xlsx_max_rows: int = DEFAULTS.xlsx_max_rows,
    quality: DataQuality | None = None,
    previous: Previous | None = None,
    html_max_learners: int = DEFAULTS.html_max_learners,
    source: str = "",
    charts: ChartsBegun | None = None,
) -> ExportResult:
    """Write every export of one snapshot from its report tables (see `read_reports`), its
    data quality (see `read_data_quality`; None: not recorded) and the previous snapshot
    (`read_previous`; None: none). `source` names the landing folder the data came from;
    `charts`, the snapshot's charts begun from these tables (None: begun here).
    A value no export can write fails before any file is written, naming the report, the
    column and the row (`ExportValueError`)."""
    quality = quality or DataQuality(snapshot)
    previous = previous or Previous()
    keys = {name: REPORTS[name].key if name in REPORTS else () for name in tables}
    for name, table in tables.items():
        if charts is None or name not in charts.tables:  # `begin_charts` checked its own
            check_exportable(name, table, keys[name])
    folder = snapshot_folder(exports_dir, snapshot)
    if charts is None:
        drawn = read_charts(folder)
        drawing = start_charts(tables, snapshot, drawn)
    elif charts.snapshot != snapshot:
        raise ValueError(f"the charts begun are of {charts.snapshot}, not of {snapshot}")
    else:
        drawn, drawing = charts.drawn, charts.drawing
    files: list[Path] = []
    for name, table in tables.items():
        files.append(write_csv(table, folder / f"{name}.csv"))
        files.append(write_parquet(table, folder / f"{name}.parquet"))
    overview = first_row(tables.get("org_overview"))
    about = about_rows(
        snapshot,
        quality,
        previous.snapshot,
        dt.datetime.now(dt.UTC),
        source,
        sheet_rows(tables, xlsx_max_rows),
    )
    with atomic_path(folder / WORKBOOK) as tmp:
        truncated = write_workbook(
            tables,
            tmp,
            xlsx_max_rows,
            keys,
            about=about,
            overview=(headlines(overview, previous.overview), snapshot, previous.snapshot)
            if overview
            else None,
            people=people_table(tables, previous),
        )
    files.append(folder / WORKBOOK)
    charts = drawing.result()
    for name, png in charts.items():
        target = folder / CHARTS_DIR / f"{name}.png"
        files.append(target if drawn.get(name) == png else write_bytes(target, png))
    page = render_page(tables, snapshot, charts, quality, previous, html_max_learners)
    files.append(write_bytes(folder / PAGE, page.encode("utf-8")))
    return ExportResult(
        snapshot=snapshot,
        folder=folder,
        files=[f.relative_to(folder) for f in files],
        rows={name: t.num_rows for name, t in tables.items()},
        charts=charts,
        charts_drawn=drawing.drawn,
        truncated_sheets=truncated,
        quality=quality.lines(),
    )


def read_charts(folder: Path) -> dict[str, bytes]:
    """The chart PNGs a previous run wrote to `folder`, by chart name: the charts whose input is
    unchanged are neither drawn nor written again (`start_charts`)."""
    return {png.stem: png.read_bytes() for png in (folder / CHARTS_DIR).glob("*.png")}


def first_row(table: pa.Table | None) -> dict[str, Any] | None:
    rows = [] if table is None else table.slice(0, 1).to_pylist()
    return rows[0] if rows else None


def export_snapshot(
    conn: duckdb.DuckDBPyConnection,
    snapshot: dt.date,
    exports_dir: Path,
    xlsx_max_rows: int = DEFAULTS.xlsx_max_rows,
    html_max_learners: int = DEFAULTS.html_max_learners,
    landing_dir: str = "",
    charts: ChartsBegun | None = None,
) -> ExportResult:
    """Read the reports of `snapshot`, its data quality and the previous snapshot, and write all
    its exports under `exports_dir`; `landing_dir`: where the snapshot was delivered (named on
    the workbook's About sheet); `charts`: its charts begun earlier (`begin_charts`), whose
    reports are not read again."""
    charts = charts or begin_charts(conn, snapshot, exports_dir)
    rest = read_reports(conn, snapshot, [n for n in REPORTS if n not in charts.tables])
    tables = {
        name: charts.tables[name] if name in charts.tables else rest[name] for name in REPORTS
    }
    source = f"{landing_dir.rstrip('/')}/{snapshot.isoformat()}" if landing_dir else ""
    return export_tables(
        tables,
        snapshot,
        exports_dir,
        xlsx_max_rows,
        read_data_quality(conn, snapshot),
        read_previous(conn, snapshot),
        html_max_learners,
        source,
        charts,
    )


def export_snapshots(
    conn: duckdb.DuckDBPyConnection,
    snapshots: Sequence[dt.date],
    exports_dir: Path,
    **options: Any,
) -> Iterator[ExportResult]:
    """`export_snapshot` of each snapshot in turn (`options` go to it), yielded as each is
    written: the chart worker draws the next snapshot's charts while this process writes this
    one's tables, workbook and page, so neither waits for the other in a range."""
    ahead: ChartsBegun | None = None
    for i, snapshot in enumerate(snapshots):
        charts = ahead or begin_charts(conn, snapshot, exports_dir)
        ahead = None
        if i + 1 < len(snapshots):
            try:
                ahead = begin_charts(conn, snapshots[i + 1], exports_dir)
            except Exception:  # begun again in its turn, where it raises as before
                ahead = None
        yield export_snapshot(conn, snapshot, exports_dir, charts=charts, **options)
