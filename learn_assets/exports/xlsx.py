"""The Excel workbook: one sheet per report, typed cells, text that is never a formula.

Written with XlsxWriter in constant_memory mode (rows streamed to a temporary file, memory
flat), which also writes the workbook's structure: sheets, header row and styles, column
widths, frozen panes, the Excel Tables, the Overview and About sheets. Text is stored as text
(an inline string) whatever it starts with, after `excel_text` (neutralize.py) made it safe.

The report rows, about 600,000 cells at bench size S, do not go through XlsxWriter's per-cell
`write_*` calls (10 µs or more each with XlsxWriter's row bookkeeping, most of the exports
step): `write_rows` builds the XML of a batch of rows at a time with Arrow compute (`<c>` and
`<row>` elements joined column-wise) and appends its UTF-8 bytes to the sheet's row file, then
sets the state XlsxWriter's own writes would have left (last row written, sheet dimension).
The XML is the XML XlsxWriter 3.3.1 writes cell by cell, byte for byte: inline strings (as
constant_memory mode writes them; no shared strings), text with nothing to escape as it is and
any other through XlsxWriter's own escaping (`inline_text`), numbers as `f"{n:.16G}"`
(Python's formatting for floats, timestamps and integers beyond 2**53, Arrow's for the rest),
the same date-time arithmetic, cell format indices numbered in the same order. Measured at S
(docs/performance.md): `write_workbook` about 5 times less CPU and wall time. Other ways: the
public `write_row` still makes several Python calls per cell, where the time goes; another
writer (a new dependency) would write another file, to check again against every property of
this one. This relies on XlsxWriter internals, so XlsxWriter is pinned (pyproject.toml) and
`learn_assets_tests/exports/test_xlsx_rows.py` compares the workbook with the one the per-cell
writer of before writes, part by part and cell by cell: a new XlsxWriter fails there first.
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
from xlsxwriter.utility import (
    _preserve_whitespace,
    _utf16_len,
    _utf16_truncate,
    xl_col_to_name,
    xl_range,
)
from xlsxwriter.worksheet import Worksheet
from xlsxwriter.xmlwriter import XMLwriter

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
    legal = column
    if pc.any(pc.match_substring_regex(column, _ILLEGAL_PATTERN)).as_py():  # rare: a copy then
        legal = pc.replace_substring_regex(column, _ILLEGAL_PATTERN, "")
    return pc.utf8_slice_codeunits(neutralize_column(legal), 0, EXCEL_MAX_TEXT)


# Text a string cell's XML holds as it is (most text): no character XML or XlsxWriter escapes
# (`&<>`, control characters, U+FFFE/U+FFFF, a literal `_xHHHH_`), no leading or trailing
# whitespace (Python's `\s`: XlsxWriter then adds xml:space="preserve"), not so long that it
# may exceed Excel's limit in UTF-16 units. Any other text goes through XlsxWriter's own steps.
_SPACE = (
    "[\\t-\\r\\x{1c}-\\x{20}\\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}"
    "\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}]"
)
_SPECIAL = (
    f"^{_SPACE}|{_SPACE}$|[&<>\\x00-\\x08\\x0b-\\x1f\\x{{fffe}}\\x{{ffff}}]|_x[0-9a-fA-F]{{4}}_"
)
UTF16_HALF = EXCEL_MAX_TEXT // 2  # shorter text cannot exceed the limit in UTF-16 units
EXACT_INT = 2**53  # integers Excel's doubles hold exactly (beyond: written as XlsxWriter does)
US_PER_DAY = 86_400_000_000
EXCEL_EPOCH_US = 25_568 * US_PER_DAY  # 1970-01-01 minus 1899-12-31 (XlsxWriter's epoch)
FIRST_TRUE_DAY_US = (EXCEL_FIRST_TRUE_SERIAL - EXCEL_EPOCH_OFFSET) * US_PER_DAY  # 1900-03-01
BATCH_ROWS = 10_000  # rows turned into XML at a time: memory stays flat
_XML_WRITER = XMLwriter()


def inline_text(text: str) -> str:
    """What XlsxWriter 3.3.1 writes for `text` in a string cell in constant_memory mode, from
    `<t` on: its own steps of `_write_string` (cut to Excel's limit in UTF-16 units),
    `_write_cell` (control characters as `_xHHHH_`, whitespace kept) and `_xml_inline_string`
    (`&<>` escaped). Not its rich strings: text that looks like one stays text."""
    if len(text) > UTF16_HALF and _utf16_len(text) > EXCEL_MAX_TEXT:
        text = _utf16_truncate(text, EXCEL_MAX_TEXT)
    text = XMLwriter._escape_control_characters(text)
    opening = '<t xml:space="preserve">' if _preserve_whitespace(text) else "<t>"
    return opening + _XML_WRITER._escape_data(text)


def xml_text(column: pa.Array) -> pa.Array:
    """Cell text (as `excel_text` made it) as the XML of an inline string's `<t>` element and
    its content (the caller closes it): vectorized for text written as it is, through
    `inline_text` for the rest."""
    if column.null_count == len(column):
        return column
    plain = pc.binary_join_element_wise("<t>", column, "")
    special = pc.or_(
        pc.match_substring_regex(column, _SPECIAL),
        pc.greater(pc.utf8_length(column), UTF16_HALF),
    )
    special = pc.fill_null(special, False)
    if not pc.any(special).as_py():
        return plain
    fixed = [inline_text(v) for v in pc.filter(column, special).to_pylist()]
    return pc.replace_with_mask(plain, special, pa.array(fixed, pa.string()))


def xml_numbers(column: pa.Array) -> pa.Array:
    """Numbers as XlsxWriter writes them (`f"{number:.16G}"`): integers Excel holds exactly
    as their digits, vectorized; floats and larger integers through Python's formatting."""
    if pa.types.is_integer(column.type):
        least, most = pc.min_max(column).values()
        if least.as_py() is None or -EXACT_INT <= least.as_py() and most.as_py() <= EXACT_INT:
            return pc.cast(column, pa.string())
    return pa.array(
        [None if v is None else format(v, ".16G") for v in column.to_pylist()], pa.string()
    )


def text_cells(column: pa.Array) -> pa.Array:
    """A text-kind column as safe cell text (`excel_text`): vectorized for Arrow text; lists
    and structs as their Python text."""
    if is_text(column.type):
        return excel_text_column(column)
    return pa.array(
        [None if v is None else excel_text(str(v)) for v in column.to_pylist()], pa.string()
    )


def finite(column: pa.Array) -> pa.Array:
    """Numbers as cells take them: decimals as floats; NaN and infinity, which Excel cannot
    store, as null (an empty cell says "no value" honestly)."""
    if pa.types.is_decimal(column.type):
        column = pc.cast(column, pa.float64())
    if pa.types.is_floating(column.type):
        column = pc.if_else(pc.is_finite(column), column, pa.scalar(None, column.type))
    return column


def excel_dates(column: pa.Array) -> tuple[pa.Array, pa.Array]:
    """A date column as (Excel serial day numbers, what a date cell holds; ISO text of a day
    before 1900-03-01, written as text instead, see EXCEL_FIRST_TRUE_DAY): each null where the
    other holds the value."""
    serial = pc.add(pc.cast(pc.cast(column, pa.date32()), pa.int32()), EXCEL_EPOCH_OFFSET)
    early = pc.less(serial, EXCEL_FIRST_TRUE_SERIAL)
    if not pc.any(early).as_py():
        return serial, pa.nulls(len(column), pa.string())
    none = pa.scalar(None, pa.string())
    return (
        pc.if_else(early, pa.scalar(None, serial.type), serial),
        pc.if_else(early, pc.cast(column, pa.string()), none),
    )


def excel_timestamps(column: pa.Array) -> tuple[pa.Array, pa.Array]:
    """A timestamp column (naive, or aware: its UTC wall time, Excel has no time zones) as
    (Excel serial date-times, ISO text of one before 1900-03-01), as `excel_dates`. The serial
    number is computed in the very steps, and so the very float, of XlsxWriter's
    `_datetime_to_excel_datetime`: days + (seconds + microseconds / 1e6) / 86400, + 1 for
    Lotus' 1900-02-29."""
    micros = pc.cast(pc.cast(column, pa.timestamp("us"), safe=False), pa.int64())
    early = pc.less(micros, FIRST_TRUE_DAY_US)
    since = pc.add(micros, EXCEL_EPOCH_US)  # from XlsxWriter's epoch, 1899-12-31
    days = pc.divide(since, US_PER_DAY)  # integer division: positive from 1900-03-01 on
    within = pc.subtract(since, pc.multiply(days, US_PER_DAY))  # microseconds into the day
    seconds = pc.divide(within, 1_000_000)
    micro = pc.subtract(within, pc.multiply(seconds, 1_000_000))
    fraction = pc.add(pc.cast(seconds, pa.float64()), pc.divide(pc.cast(micro, pa.float64()), 1e6))
    serial = pc.add(pc.add(pc.cast(days, pa.float64()), pc.divide(fraction, 86_400.0)), 1.0)
    if pc.any(early).as_py():  # rare: as the CSV writes them, through Python
        text = pa.array(
            [
                excel_timestamp(v).isoformat(" ", "seconds") if e else None
                for v, e in zip(column.to_pylist(), early.to_pylist(), strict=True)
            ],
            pa.string(),
        )
    else:
        text = pa.nulls(len(column), pa.string())
    return pc.if_else(early, pa.scalar(None, pa.float64()), serial), text


def column_cells(column: pa.Array, fmt: ColumnFormat) -> list[tuple[str, pa.Array]]:
    """A batch's column as the XML of its cell values, by cell type: `n` a number, `b` a
    boolean, `s` text (those three with the column's format), `t` text without a format (a day
    before 1900-03-01); null: no such cell (a row's cell is in at most one of them)."""
    if fmt.kind == "text":
        return [("s", xml_text(text_cells(column)))]
    if fmt.kind == "number":
        return [("n", xml_numbers(finite(column)))]
    if fmt.kind == "bool":
        return [("b", pc.if_else(column, "1", "0"))]
    serial, text = (excel_dates if fmt.kind == "date" else excel_timestamps)(column)
    return [("n", xml_numbers(serial)), ("t", xml_text(text))]


_CELL = {  # a cell's XML around its reference, format index and value (as XlsxWriter's)
    "n": ('"{s}><v>', "</v></c>"),
    "b": ('"{s} t="b"><v>', "</v></c>"),
    "s": ('"{s} t="inlineStr"><is>', "</t></is></c>"),
    "t": ('" t="inlineStr"><is>', "</t></is></c>"),
}


def write_utf8(ws: Worksheet, texts: pa.Array) -> None:
    """Append `texts` one after the other to `ws`'s row file as the UTF-8 bytes Arrow holds
    them in (the file is XlsxWriter's text file in UTF-8; its buffer takes bytes)."""
    if len(texts) == 0:
        return
    _, offsets, data = texts.buffers()
    offsets = memoryview(offsets).cast("q" if pa.types.is_large_string(texts.type) else "i")
    start, end = offsets[texts.offset], offsets[texts.offset + len(texts)]
    ws.fh.flush()  # what XlsxWriter wrote before goes first
    ws.fh.buffer.write(memoryview(data)[start:end])


def write_rows(
    ws: Worksheet, table: pa.Table, columns: Sequence[ColumnFormat], cell_formats: Sequence[Format]
) -> int:
    """Write `table`'s rows under the header row (row 0) of `ws`, a constant_memory worksheet,
    as the row XML XlsxWriter would write cell by cell, built a batch at a time with Arrow
    (see the module docstring); returns the row after the last one. A NULL is no cell; a row of
    NULLs is no row, as with XlsxWriter."""
    ws._write_single_row(1)  # the header row goes out now: the data rows follow it
    row, last = 1, None
    letters = [xl_col_to_name(i) for i in range(table.num_columns)]
    for batch in table.to_batches(max_chunksize=BATCH_ROWS):
        if batch.num_rows == 0 or batch.num_columns == 0:
            row += batch.num_rows
            continue
        numbers = pc.cast(pa.array(range(row + 1, row + batch.num_rows + 1)), pa.string())
        values = [column_cells(batch.column(i), columns[i]) for i in range(batch.num_columns)]
        # XlsxWriter numbers a format when a cell first uses it (row by row): so do we
        first_use = []
        for i, cells in enumerate(values):
            used = [pc.index(pc.is_valid(v), True).as_py() for kind, v in cells if kind != "t"]
            if any(u >= 0 for u in used):
                first_use.append((min(u for u in used if u >= 0), i))
        for _, i in sorted(first_use):
            cell_formats[i]._get_xf_index()
        cells = []
        for i, kinds in enumerate(values):
            for kind, value in kinds:
                if value.null_count == len(value):
                    continue
                head, tail = _CELL[kind]
                s = f' s="{cell_formats[i]._get_xf_index()}"' if kind != "t" else ""
                opening = f'<c r="{letters[i]}'
                cells.append(pc.binary_join_element_wise(
                    opening, numbers, head.format(s=s), value, tail, ""))  # fmt: skip
        if not cells:
            row += batch.num_rows
            continue
        joined = pc.binary_join_element_wise(*cells, "", null_handling="replace")
        written = pc.greater(pc.binary_length(joined), 0)  # a row with a cell at least
        rows = pc.binary_join_element_wise('<row r="', numbers, '">', joined, "</row>", "")
        write_utf8(ws, pc.filter(rows, written))
        at = pc.indices_nonzero(written)
        if len(at):
            last = row + at[-1].as_py()
        row += batch.num_rows
    if last is not None:  # the sheet's <dimension>, as XlsxWriter's cell writes would set it
        ws._check_dimensions(last, 0, ignore_col=True)
    ws.previous_row = row  # rows before it are written: XlsxWriter's own writes go below
    return row


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

    row = write_rows(ws, table, columns, [formats(c.number_format) for c in columns])
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
