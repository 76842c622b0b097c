"""The workbook's sheet writer as it was before issue #18: one XlsxWriter call per cell.

The reference `test_xlsx_rows` compares the production writer (`exports.xlsx.write_rows`, row
XML built a batch at a time) with: the same workbook written through this `write_sheet` must
read back the same, cell by cell. Production does not use it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from learn_assets.columns import header as friendly
from learn_assets.exports.neutralize import is_text
from learn_assets.exports.xlsx import (
    EXCEL_EPOCH_OFFSET,
    EXCEL_FIRST_TRUE_DAY,
    EXCEL_FIRST_TRUE_SERIAL,
    WIDTH_SAMPLE,
    ColumnFormat,
    add_table,
    column_format,
    column_width,
    excel_text,
    excel_text_column,
    excel_timestamp,
    table_name,
)


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
    """What writes a column's values (as `cell_values` made them) to `ws`, by cell type."""
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
