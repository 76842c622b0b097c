"""The Excel workbook: one sheet per report, typed cells, text that is never a formula.

Written with XlsxWriter: every cell is written by type (`write_string`, `write_number`, ...),
so text is stored as text whatever it starts with, and the workbook also turns off XlsxWriter's
conversion of strings to formulas, numbers or links. Rows are streamed (constant memory).
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from learn_assets.exports.neutralize import is_text, neutralize
from learn_assets.exports.tables import DataQuality
from learn_assets.exports.values import check_exportable

ABOUT_SHEET = "About"
ABOUT_WIDTHS = (16, 110)  # label, text (wrapped)
EXCEL_MAX_ROWS = 1_048_576  # including the header row
EXCEL_MAX_TEXT = 32_767  # characters in one cell
# Control characters other than tab, newline and carriage return cannot be stored in XLSX XML.
_ILLEGAL = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
HEADER_STYLE = {"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F4E78", "valign": "vcenter"}
MIN_WIDTH, MAX_WIDTH = 8, 60
# Excel's calendar: 1900-01-01 to 9999-12-31, with a fake 1900-02-29 (Lotus' leap-year bug), so
# a day before 1900-03-01 would show one day off. Such dates are written as ISO text instead.
EXCEL_FIRST_TRUE_DAY = dt.date(1900, 3, 1)
WIDTH_SAMPLE = 500  # rows looked at to size a column
WORKBOOK_OPTIONS = {
    "constant_memory": True,  # each row is flushed once written: memory stays flat
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
}


def excel_text(value: str) -> str:
    """Text as one safe Excel cell: characters XLSX cannot hold dropped first (so they cannot
    hide a formula character from `neutralize`), neutralized, cut to Excel's cell limit."""
    return neutralize(value.translate(_ILLEGAL))[:EXCEL_MAX_TEXT]


def excel_timestamp(value: dt.datetime) -> dt.datetime:
    """Excel has no time zones: an aware timestamp becomes its naive UTC wall time."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def excel_number(value: int | float | decimal.Decimal) -> float | int | None:
    # Excel cannot store NaN or infinity: an empty cell says "no value" honestly.
    number = float(value) if isinstance(value, decimal.Decimal) else value
    return number if math.isfinite(number) else None


@dataclass(frozen=True)
class ColumnFormat:
    kind: str  # text, timestamp, date, bool, number
    number_format: str = "General"


def column_format(name: str, type_: pa.DataType) -> ColumnFormat:
    """How a column of this Arrow type is written: cell type and Excel number format."""
    if is_text(type_):
        return ColumnFormat("text")
    if pa.types.is_timestamp(type_):
        return ColumnFormat("timestamp", "yyyy-mm-dd hh:mm:ss")
    if pa.types.is_date(type_):
        return ColumnFormat("date", "yyyy-mm-dd")
    if pa.types.is_boolean(type_):
        return ColumnFormat("bool")
    if pa.types.is_integer(type_):
        return ColumnFormat("number", "#,##0")
    if pa.types.is_floating(type_) or pa.types.is_decimal(type_):
        return ColumnFormat("number", "0.0%" if name.endswith(("_rate", "_ratio")) else "0.00")
    return ColumnFormat("text")  # lists, structs: their text


def write_cell(ws: Worksheet, row: int, col: int, value: Any, kind: str, fmt: Format) -> None:
    """One cell, written by type; NULL (and NaN) leave the cell empty."""
    if value is None:
        return
    if kind == "text":
        ws.write_string(row, col, excel_text(value if isinstance(value, str) else str(value)))
    elif kind == "timestamp":
        value = excel_timestamp(value)
        if value.date() < EXCEL_FIRST_TRUE_DAY:  # as the CSV writes it
            ws.write_string(row, col, value.isoformat(" ", "seconds"))
        else:
            ws.write_datetime(row, col, value, fmt)
    elif kind == "date":
        if value < EXCEL_FIRST_TRUE_DAY:
            ws.write_string(row, col, value.isoformat())
        else:
            ws.write_datetime(row, col, value, fmt)
    elif kind == "bool":
        ws.write_boolean(row, col, value)
    elif (number := excel_number(value)) is not None:
        ws.write_number(row, col, number, fmt)


def shown_length(value: Any, fmt: ColumnFormat) -> int:
    """About how many characters Excel shows for `value` in this format."""
    if fmt.kind in ("date", "timestamp"):
        return len(fmt.number_format)
    if fmt.number_format == "#,##0":
        return len(f"{value:,}")
    if fmt.number_format == "0.0%":
        return 6
    if fmt.number_format == "0.00":
        return len(f"{value:,.2f}")
    return len(str(value))


def column_width(name: str, fmt: ColumnFormat, sample: list[Any]) -> float:
    """Width in characters: the longest of the header and a sample of values, within bounds."""
    longest = max((shown_length(v, fmt) for v in sample if v is not None), default=0)
    return float(min(max(len(name) + 2, longest + 2, MIN_WIDTH), MAX_WIDTH))


def write_sheet(
    ws: Worksheet,
    table: pa.Table,
    header: Format,
    formats: Callable[[str], Format],
    max_rows: int = EXCEL_MAX_ROWS - 1,
    key: tuple[str, ...] = (),
) -> int:
    """Write the first `max_rows` rows of `table` to `ws` (never more than Excel's row limit);
    returns how many rows were left out, which a last line under the table also says. A date or
    timestamp no cell can hold fails first, naming the sheet, the column and the row's `key`."""
    check_exportable(ws.name, table, key)
    names = table.column_names
    columns = [column_format(n, t) for n, t in zip(names, table.schema.types, strict=True)]
    kept = min(table.num_rows, max_rows, EXCEL_MAX_ROWS - 2)
    sample = table.slice(0, WIDTH_SAMPLE)
    for i, (name, fmt) in enumerate(zip(names, columns, strict=True)):
        ws.set_column(i, i, column_width(name, fmt, sample.column(name).to_pylist()))
        ws.write_string(0, i, name, header)
    ws.freeze_panes(1, 0)
    if names:
        ws.autofilter(0, 0, kept, len(names) - 1)

    kinds = [c.kind for c in columns]
    cell_formats = [formats(c.number_format) for c in columns]
    row = 1
    for batch in table.slice(0, kept).to_batches(max_chunksize=10_000):
        values = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
        for record in zip(*values, strict=True):
            for col, value in enumerate(record):
                write_cell(ws, row, col, value, kinds[col], cell_formats[col])
            row += 1
    left_out = table.num_rows - kept
    if left_out:
        ws.write_string(
            row,
            0,
            f"{left_out:,} more rows are not shown here: the CSV and Parquet files of "
            "this report have every row.",
        )
    return left_out


def about_rows(snapshot: dt.date, quality: DataQuality) -> list[tuple[str, str]]:
    """The About sheet: (label, text) rows: the snapshot, then the data-quality lines."""
    lines = quality.lines()
    return [
        ("Snapshot", snapshot.isoformat()),
        *((("Data quality" if i == 0 else ""), line) for i, line in enumerate(lines)),
    ]


def write_about(ws: Worksheet, rows: Sequence[tuple[str, str]], header: Format, wrap: Format):
    """A two-column sheet of labelled text lines, header row `About this workbook`."""
    for col, width in enumerate(ABOUT_WIDTHS):
        ws.set_column(col, col, width)
    ws.write_string(0, 0, "About this workbook", header)
    ws.write_blank(0, 1, None, header)
    for i, (label, text) in enumerate(rows, start=1):
        if label:
            ws.write_string(i, 0, excel_text(label))
        ws.write_string(i, 1, excel_text(text), wrap)


def write_workbook(
    tables: Mapping[str, pa.Table],
    path: Path,
    max_rows: int = EXCEL_MAX_ROWS - 1,
    keys: Mapping[str, tuple[str, ...]] | None = None,
    about: Sequence[tuple[str, str]] = (),
) -> dict[str, int]:
    """An `About` sheet first when `about` has rows (see `about_rows`), then one sheet per table
    (sheet name = report name, at most 31 characters as Excel allows).

    A sheet holds at most `max_rows` rows (and never more than Excel's limit): a spreadsheet of
    millions of rows is slow to write and to open. Returns {sheet: rows left out} (the CSV and
    Parquet files always hold every row). `keys` names each table's row key for errors."""
    workbook = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    header = workbook.add_format(HEADER_STYLE)
    cache: dict[str, Format] = {}

    def formats(number_format: str) -> Format:  # one Format object per number format
        if number_format not in cache:
            cache[number_format] = workbook.add_format({"num_format": number_format})
        return cache[number_format]

    truncated = {}
    try:
        if about:
            wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
            write_about(workbook.add_worksheet(ABOUT_SHEET), about, header, wrap)
        for name, table in tables.items():
            sheet = workbook.add_worksheet(name[:31])
            key = (keys or {}).get(name, ())
            left_out = write_sheet(sheet, table, header, formats, max_rows, key)
            if left_out:
                truncated[name] = left_out
    finally:
        workbook.close()
    return truncated
