"""Writing one snapshot's exports: `<exports_dir>/<YYYY-MM-DD>/`.

    <report>.csv        nine CSV files for spreadsheets (UTF-8 with BOM, text formula-neutralized)
    <report>.parquet    the same rows, exact types, nothing altered (for tools, not people)
    reports.xlsx        an About sheet (snapshot, data quality), then one sheet per report
    charts/<name>.png   five charts
    report.html         one self-contained page: data quality, headline numbers, charts,
                        main tables

Every file is written to a temporary name beside it and renamed over the old one, so a rerun
replaces a snapshot's files and a reader never sees a half-written file.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from learn_assets.exports.charts import render_charts
from learn_assets.exports.neutralize import is_text, neutralize_column
from learn_assets.exports.page import render_page
from learn_assets.exports.resource import XLSX_MAX_ROWS
from learn_assets.exports.tables import REPORTS, DataQuality, read_data_quality, read_reports
from learn_assets.exports.values import check_exportable
from learn_assets.exports.xlsx import about_rows, write_workbook

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
    truncated_sheets: dict[str, int] = field(default_factory=dict)  # sheet -> rows left out
    quality: list[str] = field(default_factory=list)  # the data-quality lines of page and About


def snapshot_folder(exports_dir: Path, snapshot: dt.date) -> Path:
    return Path(exports_dir) / snapshot.isoformat()


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """A temporary path beside `target`; renamed over `target` only if the body succeeds."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        yield tmp
        os.replace(tmp, target)  # atomic on one file system
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes(target: Path, data: bytes) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return target


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


def export_tables(
    tables: dict[str, pa.Table],
    snapshot: dt.date,
    exports_dir: Path,
    xlsx_max_rows: int = XLSX_MAX_ROWS,
    quality: DataQuality | None = None,
) -> ExportResult:
    """Write every export of one snapshot from its report tables (see `read_reports`) and its
    data quality (see `read_data_quality`; None: not recorded).
    A value no export can write fails before any file is written, naming the report, the
    column and the row (`ExportValueError`)."""
    quality = quality or DataQuality(snapshot)
    keys = {name: REPORTS[name].key if name in REPORTS else () for name in tables}
    for name, table in tables.items():
        check_exportable(name, table, keys[name])
    folder = snapshot_folder(exports_dir, snapshot)
    files: list[Path] = []
    for name, table in tables.items():
        files.append(write_csv(table, folder / f"{name}.csv"))
        files.append(write_parquet(table, folder / f"{name}.parquet"))
    with atomic_path(folder / WORKBOOK) as tmp:
        truncated = write_workbook(
            tables, tmp, xlsx_max_rows, keys, about=about_rows(snapshot, quality)
        )
    files.append(folder / WORKBOOK)
    charts = render_charts(tables, snapshot)
    for name, png in charts.items():
        files.append(write_bytes(folder / CHARTS_DIR / f"{name}.png", png))
    page = render_page(tables, snapshot, charts, quality)
    files.append(write_bytes(folder / PAGE, page.encode("utf-8")))
    return ExportResult(
        snapshot=snapshot,
        folder=folder,
        files=[f.relative_to(folder) for f in files],
        rows={name: t.num_rows for name, t in tables.items()},
        charts=charts,
        truncated_sheets=truncated,
        quality=quality.lines(),
    )


def export_snapshot(
    conn: duckdb.DuckDBPyConnection,
    snapshot: dt.date,
    exports_dir: Path,
    xlsx_max_rows: int = XLSX_MAX_ROWS,
) -> ExportResult:
    """Read the nine reports of `snapshot` and its data quality, and write all its exports
    under `exports_dir`."""
    return export_tables(
        read_reports(conn, snapshot),
        snapshot,
        exports_dir,
        xlsx_max_rows,
        read_data_quality(conn, snapshot),
    )
