"""Values the exports can write, and a clear error for one they cannot.

The contracts keep every staged date and timestamp within years 1900 to 9999 (timestamps to
2999), so the reports hold nothing the exports cannot write. Dates and timestamps are the values
a writer cannot take whatever they are: the workbook, the page and the charts go through
Python's `datetime`, which holds the years 1 to 9999 only (numbers, text and booleans of any
value are written). `check_exportable` looks at every such column of a report, in Arrow, before
any file is written, and names the report, the column and the row's key (`ExportValueError`)
instead of an OverflowError from deep inside a writer.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa
import pyarrow.compute as pc

# What Python's datetime holds (and so every writer): 0001-01-01 to 9999-12-31 (UTC for an
# instant), as seconds and days since 1970-01-01; the end excluded.
SECONDS = (-62_135_596_800, 253_402_300_800)
DAYS = (-719_162, 2_932_897)
PER_SECOND = {"s": 1, "ms": 1_000, "us": 1_000_000}  # nanoseconds reach 1677..2262 only


class ExportValueError(ValueError):
    """A report value an export cannot write, named by report, column and row key."""


def text(value: pa.Scalar) -> str:
    """A value as text without converting it to Python (which may be what fails)."""
    return "NULL" if not value.is_valid else str(pc.cast(value, pa.string()).as_py())


def row_key(table: pa.Table, key: Sequence[str], index: int) -> str:
    """`user_id=..., module_uid=...` of row `index` (or `row N` when the report has no key)."""
    if not key:
        return f"row {index + 1}"
    return ", ".join(f"{k}={text(table.column(k)[index])}" for k in key)


def _outside(column: pa.ChunkedArray) -> pa.ChunkedArray | None:
    """Where `column` holds a date or timestamp Python cannot (None: every value fits)."""
    type_ = column.type
    if pa.types.is_timestamp(type_) and type_.unit in PER_SECOND:
        first, end = (s * PER_SECOND[type_.unit] for s in SECONDS)
        numbers = pc.cast(column, pa.int64())
    elif pa.types.is_date32(type_):
        first, end = DAYS
        numbers = pc.cast(column, pa.int32())
    elif pa.types.is_date64(type_):
        first, end = (d * 86_400_000 for d in DAYS)
        numbers = pc.cast(column, pa.int64())
    else:
        return None
    return pc.or_(pc.less(numbers, first), pc.greater_equal(numbers, end))


def check_exportable(report: str, table: pa.Table, key: Sequence[str]) -> None:
    """ExportValueError naming the first value of `table` no export can write."""
    for name, column in zip(table.column_names, table.columns, strict=True):
        outside = _outside(column)
        if outside is None or not pc.any(outside).as_py():
            continue
        index = pc.index(outside, True).as_py()
        raise ExportValueError(
            f"report {report}, column {name}, row {row_key(table, key, index)}: "
            f"{text(column[index])} is outside the years 1 to 9999 that the exports can write"
        )
