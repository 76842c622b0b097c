"""The Excel workbook: one sheet per report, typed cells, text that is never a formula.

Written with XlsxWriter: every cell is written by type (`write_string`, `write_number`, ...),
so text is stored as text whatever it starts with, and the workbook also turns off XlsxWriter's
conversion of strings to formulas, numbers or links. Rows are streamed (constant memory).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_range
from xlsxwriter.worksheet import Worksheet

from learn_assets.columns import header as friendly
from learn_assets.exports.headline import Headline
from learn_assets.exports.learners import learner_labels
from learn_assets.exports.neutralize import is_text, neutralize, neutralize_column
from learn_assets.exports.tables import DataQuality
from learn_assets.exports.values import check_exportable

# The Overview sheet's content: headline numbers, the snapshot, the previous snapshot.
Overview = tuple[Sequence[Headline], dt.date, dt.date | None]

ABOUT_SHEET = "About"
ABOUT_HEADERS = ("Topic", "About this workbook")
ABOUT_WIDTHS = (16, 110)  # label, text (wrapped)
TABLE_STYLE = "TableStyleMedium2"  # blue banded rows, under the house header colours
EXCEL_MAX_ROWS = 1_048_576  # including the header row
EXCEL_MAX_TEXT = 32_767  # characters in one cell
# Control characters other than tab, newline and carriage return cannot be stored in XLSX XML.
_ILLEGAL = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
HEADER_STYLE = {"bold": True, "font_color": "#FFFFFF", "bg_color": "#1F4E78", "valign": "vcenter"}
MIN_WIDTH, MAX_WIDTH = 8, 60
# Excel's calendar: 1900-01-01 to 9999-12-31, with a fake 1900-02-29 (Lotus' leap-year bug), so
# a day before 1900-03-01 would show one day off. Such dates are written as ISO text instead.
EXCEL_FIRST_TRUE_DAY = dt.date(1900, 3, 1)
EXCEL_FIRST_TRUE_SERIAL = 61  # its serial day number; day 0 is 1899-12-30
EXCEL_EPOCH_OFFSET = 25_569  # serial day number of 1970-01-01 (day 0 of Arrow's dates)
_ILLEGAL_PATTERN = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f]"  # what _ILLEGAL drops
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


def excel_text_column(column: pa.Array) -> pa.Array:
    """`excel_text` of every value of a text column, vectorized (nulls stay null)."""
    legal = pc.replace_substring_regex(column, _ILLEGAL_PATTERN, "")
    return pc.utf8_slice_codeunits(neutralize_column(legal), 0, EXCEL_MAX_TEXT)


def excel_dates(column: pa.Array) -> list[int | str | None]:
    """A date column as Excel serial day numbers (what a date cell holds), vectorized; a day
    before 1900-03-01 as ISO text (see EXCEL_FIRST_TRUE_DAY)."""
    days = pc.cast(pc.cast(column, pa.date32()), pa.int32())
    serial = pc.add(days, EXCEL_EPOCH_OFFSET).to_pylist()
    return [
        d if d is None or d >= EXCEL_FIRST_TRUE_SERIAL else iso
        for d, iso in zip(serial, pc.cast(column, pa.string()).to_pylist(), strict=True)
    ]


def excel_numbers(column: pa.Array) -> list[Any]:
    """Numbers as cells take them: decimals as floats; NaN and infinity, which Excel cannot
    store, as None (an empty cell says "no value" honestly)."""
    if pa.types.is_decimal(column.type):
        column = pc.cast(column, pa.float64())
    if pa.types.is_floating(column.type):
        column = pc.if_else(pc.is_finite(column), column, pa.scalar(None, column.type))
    return column.to_pylist()


def cell_values(column: pa.Array, fmt: ColumnFormat) -> list[Any]:
    """A batch's column as its cells take it, vectorized where it can be: text made safe,
    dates as serial numbers (or text), numbers finite; None: an empty cell."""
    if fmt.kind == "text":
        if is_text(column.type):
            return excel_text_column(column).to_pylist()
        return [None if v is None else excel_text(str(v)) for v in column.to_pylist()]
    if fmt.kind == "date":
        return excel_dates(column)
    if fmt.kind == "number":
        return excel_numbers(column)
    return column.to_pylist()


CellWriter = Callable[[int, int, Any, Format], object]


def cell_writer(ws: Worksheet, kind: str) -> CellWriter:
    """What writes a column's values (as `cell_values` made them) to `ws`, by cell type.

    These are XlsxWriter's own `_write_*` methods, the ones its public `write_*` call after
    reading an `A1` cell reference (we pass numbers): two Python calls less per cell, in a
    workbook of millions of cells. XlsxWriter is pinned; the tests read every type back."""
    if kind == "text":
        return ws._write_string
    if kind == "bool":
        return ws._write_boolean
    if kind == "number":
        return ws._write_number

    def date(row: int, col: int, value: Any, fmt: Format) -> object:
        if isinstance(value, str):  # a day before 1900-03-01
            return ws._write_string(row, col, value)
        return ws._write_number(row, col, value, fmt)

    def timestamp(row: int, col: int, value: Any, fmt: Format) -> object:
        value = excel_timestamp(value)
        if value.date() < EXCEL_FIRST_TRUE_DAY:  # as the CSV writes it
            return ws._write_string(row, col, value.isoformat(" ", "seconds"))
        return ws._write_datetime(row, col, value, fmt)

    return date if kind == "date" else timestamp


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


def rows_kept(rows: int, max_rows: int, excel_rows: int = EXCEL_MAX_ROWS) -> int:
    """Rows of a table a sheet shows: at most `max_rows`, and room left under Excel's limit for
    the header and the line saying how many more there are."""
    return min(rows, max_rows, excel_rows - 2)


def table_name(sheet: str) -> str:
    """An Excel Table name for a sheet: letters, digits and `_` (report names already are)."""
    name = re.sub(r"\W", "_", sheet.lower())
    return name if name[:1].isalpha() else f"t_{name}"


def add_table(ws: Worksheet, rows: int, headers: Sequence[str], name: str) -> None:
    """Make A1 to the last column of row `rows + 1` an Excel Table (style, filter buttons,
    banded rows) over a header row and data rows written already or to come.

    XlsxWriter's own add_table refuses constant_memory mode: it writes the header cells itself
    and records every cell of the range to check overlaps, which at 100,000 rows costs what
    streaming saves. This appends the record its add_table makes for such a table (a header
    row, a filter, banded rows; no totals, formulas or formats); XlsxWriter writes the table
    part from it. XlsxWriter is pinned, and the tests read the Tables back with openpyxl."""
    ref = xl_range(0, 0, max(rows, 1), len(headers) - 1)  # Excel needs a data row, even empty
    ws.tables.append(
        {
            "show_first_col": False,
            "show_last_col": False,
            "show_row_stripes": True,
            "show_col_stripes": False,
            "header_row_count": 1,
            "totals_row_shown": False,
            "description": None,
            "title": None,
            "name": name,
            "style": TABLE_STYLE,
            "range": ref,
            "a_range": ref,
            "autofilter": ref,
            "columns": [
                {
                    "id": i,
                    "name": h,
                    "total_string": "",
                    "total_function": "",
                    "custom_total": "",
                    "total_value": 0,
                    "formula": "",
                    "format": None,
                    "name_format": None,
                }
                for i, h in enumerate(headers, start=1)
            ],  # fmt: skip
        }
    )


def write_sheet(
    ws: Worksheet,
    table: pa.Table,
    header: Format,
    formats: Callable[[str], Format],
    left_out: int = 0,
) -> None:
    """Write `table` (the rows kept) to `ws` as an Excel Table with friendly headers, and a
    line under it when `left_out` rows of the report are not shown."""
    names = table.column_names
    columns = [column_format(n, t) for n, t in zip(names, table.schema.types, strict=True)]
    headers = [excel_text(friendly(n)) for n in names]
    sample = table.slice(0, WIDTH_SAMPLE)
    for i, (heading, fmt) in enumerate(zip(headers, columns, strict=True)):
        ws.set_column(i, i, column_width(heading, fmt, sample.column(i).to_pylist()))
        ws.write_string(0, i, heading, header)
    ws.freeze_panes(1, 0)
    if names:
        add_table(ws, table.num_rows, headers, table_name(ws.name))

    writers = [cell_writer(ws, c.kind) for c in columns]
    cell_formats = [formats(c.number_format) for c in columns]
    row = 1
    for batch in table.to_batches(max_chunksize=10_000):
        values = [cell_values(batch.column(i), columns[i]) for i in range(batch.num_columns)]
        for record in zip(*values, strict=True):
            for col, value in enumerate(record):
                if value is not None:  # NULL: an empty cell
                    writers[col](row, col, value, cell_formats[col])
            row += 1
    if left_out:
        ws.write_string(
            max(row, 2),  # under the Table (an empty one has an empty data row)
            0,
            f"{left_out:,} more rows are not shown here: the CSV and Parquet files of "
            "this report have every row.",
        )


PEOPLE_COLUMNS = ("learner", "department")  # added after user_id on the per-learner sheets


def per_learner(table: pa.Table) -> bool:
    """A sheet with a row per learner and something, but no name: it gets the learner's."""
    names = table.column_names
    return "user_id" in names and "display_name" not in names


def with_learners(table: pa.Table, people: pa.Table) -> pa.Table:
    """`table` with the learner's name (or `(not in directory)` and a short id) and department
    after user_id, looked up in `people` (user_id, display_name, department)."""
    where = pc.index_in(table["user_id"], value_set=people["user_id"])
    name = pc.take(people["display_name"], where)
    at = table.column_names.index("user_id") + 1
    table = table.add_column(at, "learner", learner_labels(name, table["user_id"]))
    return table.add_column(at + 1, "department", pc.take(people["department"], where))


OVERVIEW_SHEET = "Overview"
OVERVIEW_HEADERS = ("Measure", "This snapshot", "Previous snapshot", "Change")
OVERVIEW_WIDTHS = (28, 16, 18, 14)
INT_FORMAT, RATE_FORMAT, DATE_FORMAT = "#,##0", "0.0%", "yyyy-mm-dd"
CHANGE_FORMAT = "+#,##0;-#,##0;0"
POINTS_FORMAT = '+0.0" pts";-0.0" pts";0.0" pts"'  # a rate's change, in percentage points


def write_overview(
    ws: Worksheet,
    lines: Sequence[Headline],
    snapshot: dt.date,
    previous: dt.date | None,
    header: Format,
    formats: Callable[[str], Format],
) -> None:
    """The headline numbers, the previous snapshot's and the change, typed."""
    for col, (heading, width) in enumerate(zip(OVERVIEW_HEADERS, OVERVIEW_WIDTHS, strict=True)):
        ws.set_column(col, col, width)
        ws.write_string(0, col, heading, header)
    ws.freeze_panes(1, 0)
    ws.write_string(1, 0, "Snapshot date")
    ws.write_datetime(1, 1, snapshot, formats(DATE_FORMAT))
    if previous is not None:
        ws.write_datetime(1, 2, previous, formats(DATE_FORMAT))
    for row, h in enumerate(lines, start=2):
        number = formats(RATE_FORMAT if h.measure.rate else INT_FORMAT)
        ws.write_string(row, 0, h.measure.label)
        for col, value in ((1, h.value), (2, h.previous)):
            if value is not None:
                ws.write_number(row, col, value, number)
        if h.change is not None:
            points = h.change * 100 if h.measure.rate else h.change
            ws.write_number(
                row, 3, points, formats(POINTS_FORMAT if h.measure.rate else CHANGE_FORMAT)
            )
    add_table(ws, len(lines) + 1, OVERVIEW_HEADERS, "overview")


DEFINITIONS = (
    "Learner: a Learn user of the organization in the snapshot's Users data; directory users "
    "come from the Entra export.",
    "Module started: at least one of its units completed (or its badge awarded). Module "
    "completed: its badge awarded. Learning path completed: its trophy awarded.",
    "Completion rate: modules completed / modules started, counting learner-module pairs. Path "
    "progress: the path's modules completed / modules in the path.",
    "Adoption: directory users who use Learn / directory users.",
    "Certification status: expired (ended before the snapshot), expiring_soon (ends within "
    "LEARN_EXPIRY_WINDOW_DAYS days, 90 unless configured), active (the others, including "
    "certifications that never expire).",
    "Times are UTC; a day is a UTC day.",
)


def about_rows(
    snapshot: dt.date,
    quality: DataQuality,
    previous: dt.date | None = None,
    generated_at: dt.datetime | None = None,
    source: str = "",
    sheet_rows: Mapping[str, tuple[int, int]] | None = None,
) -> list[tuple[str, str]]:
    """The About sheet: (label, text) rows: the snapshot and what it is compared with, when and
    from where the workbook was written, the data quality, the rows of each sheet
    ({sheet: (rows shown, rows in the report)}) and the definitions."""

    def labelled(label: str, lines: Sequence[str]) -> list[tuple[str, str]]:
        return [(label if i == 0 else "", line) for i, line in enumerate(lines)]

    rows = [("Snapshot", snapshot.isoformat())]
    rows.append(
        ("Compared with", previous.isoformat() if previous else "nothing: the first snapshot")
    )
    if generated_at is not None:
        rows.append(("Generated at", f"{generated_at.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S} UTC"))
    rows.append(("Source folder", source or "not recorded"))
    rows += labelled("Data quality", quality.lines())
    rows += labelled(
        "Rows per sheet",
        [
            f"{sheet}: {shown:,} rows"
            if shown == total
            else f"{sheet}: the first {shown:,} of {total:,} rows (the CSV and Parquet files "
            "have every row)"
            for sheet, (shown, total) in (sheet_rows or {}).items()
        ],
    )
    rows += labelled("Definitions", DEFINITIONS)
    return rows


def write_about(ws: Worksheet, rows: Sequence[tuple[str, str]], header: Format, wrap: Format):
    """A two-column Table of labelled text lines."""
    for col, (heading, width) in enumerate(zip(ABOUT_HEADERS, ABOUT_WIDTHS, strict=True)):
        ws.set_column(col, col, width)
        ws.write_string(0, col, heading, header)
    ws.freeze_panes(1, 0)
    for i, (label, text) in enumerate(rows, start=1):
        if label:
            ws.write_string(i, 0, excel_text(label))
        ws.write_string(i, 1, excel_text(text), wrap)
    add_table(ws, len(rows), ABOUT_HEADERS, "about")


def sheet_rows(tables: Mapping[str, pa.Table], max_rows: int) -> dict[str, tuple[int, int]]:
    """{sheet: (rows it shows, rows of the report)}."""
    return {name[:31]: (rows_kept(t.num_rows, max_rows), t.num_rows) for name, t in tables.items()}


def write_workbook(
    tables: Mapping[str, pa.Table],
    path: Path,
    max_rows: int = EXCEL_MAX_ROWS - 1,
    keys: Mapping[str, tuple[str, ...]] | None = None,
    about: Sequence[tuple[str, str]] = (),
    overview: Overview | None = None,
    people: pa.Table | None = None,
) -> dict[str, int]:
    """The `Overview` sheet (when given), the `About` sheet (when `about` has rows, see
    `about_rows`), then one sheet per table (sheet name = report name, at most 31 characters
    as Excel allows), each an Excel Table with friendly headers (`columns.HEADERS`). With
    `people` (user_id, display_name, department), a per-learner sheet gets the learner's name
    and department after user_id.

    A sheet holds at most `max_rows` rows (and never more than Excel's limit): a spreadsheet of
    millions of rows is slow to write and to open. Returns {sheet: rows left out} (the CSV and
    Parquet files always hold every row). `keys` names each table's row key for errors. A date
    or timestamp no cell can hold fails first, naming the sheet, the column and the row's key."""
    for name, table in tables.items():
        check_exportable(name[:31], table, (keys or {}).get(name, ()))
    workbook = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    header = workbook.add_format(HEADER_STYLE)
    cache: dict[str, Format] = {}

    def formats(number_format: str) -> Format:  # one Format object per number format
        if number_format not in cache:
            cache[number_format] = workbook.add_format({"num_format": number_format})
        return cache[number_format]

    truncated = {}
    try:
        if overview is not None:
            write_overview(
                workbook.add_worksheet(OVERVIEW_SHEET), *overview, header=header, formats=formats
            )
        if about:
            wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
            write_about(workbook.add_worksheet(ABOUT_SHEET), about, header, wrap)
        for name, table in tables.items():
            kept = table.slice(0, rows_kept(table.num_rows, max_rows))
            if people is not None and per_learner(kept):
                kept = with_learners(kept, people)
            left_out = table.num_rows - kept.num_rows
            write_sheet(workbook.add_worksheet(name[:31]), kept, header, formats, left_out)
            if left_out:
                truncated[name] = left_out
    finally:
        workbook.close()
    return truncated
