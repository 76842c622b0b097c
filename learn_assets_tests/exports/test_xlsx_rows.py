"""The workbook's rows, written a batch at a time as XML (`xlsx.write_rows`), against what the
per-cell writer of before wrote (`per_cell_xlsx.write_sheet`, one XlsxWriter call per cell):
awkward values of every type, through both, must give the same workbook: the same parts byte
for byte, and read back with openpyxl the same cells (values, types, number formats), widths,
Tables and frozen panes. Both writers use XlsxWriter internals: a new XlsxWriter fails here."""

from __future__ import annotations

import datetime as dt
import decimal
import zipfile
from collections.abc import Mapping
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from openpyxl import load_workbook

from learn_assets.exports import xlsx
from learn_assets.exports.headline import headlines
from learn_assets.exports.tables import DataQuality
from learn_assets_tests.exports import per_cell_xlsx

D = dt.date(2026, 11, 2)
TEXT = [
    "=1+1", "+1", "-1", "@SUM(A1)", "\t=x", "\r=x", "\x01=1+1", "a\x0bb\x1fc", "x\r\ny",
    "ünï©ødé 漢字 😀", "_x0041_ and _x00e9_", 'a & b <c> "q" \'s\'', " lead", "trail ",
    "\u3000wide", "\u00a0nbsp", "line\nbreak", "end\r", "\ufffe\uffff", "", None,
    "a" * 40_000, "😀" * 20_000, "b" * 16_383 + "😀" * 10, "-3", "0042",
]  # fmt: skip
PARIS = pa.timestamp("us", tz="Europe/Paris")
# 9999-12-31 23:59:59.999999 is a serial number openpyxl rounds past its last day (as written
# by either writer): it reads it as an error, and says so.
pytestmark = pytest.mark.filterwarnings("ignore:Cell .* is marked as a date:UserWarning")


def awkward() -> pa.Table:
    """A row per awkward text, with awkward values of every other type alongside."""
    n = len(TEXT)

    def col(values: list[Any], type_: pa.DataType | None = None) -> pa.Array:
        return pa.array((values * n)[:n], type_)

    return pa.table(
        {
            "text": pa.array(TEXT),
            "big": col([2**53, 2**53 + 1, -(2**63), 2**63 - 1, None, 0, -5, 10**16 - 1],
                       pa.int64()),
            "small": col([1, None, -128, 127], pa.int8()),
            "unsigned": col([2**64 - 1, None, 0], pa.uint64()),
            "amount": col([0.1 + 0.2, 1e20, 1e-7, -0.0, float("nan"), float("inf"), None, 1 / 3,
                           123456789.123456789, -float("inf"), 5e-324, 1.7976931348623157e308]),
            "done_rate": col([0.5, None, 1.0, 0.123456789]),
            "price": col([decimal.Decimal("2.50"), None, decimal.Decimal("-0.01")],
                         pa.decimal128(9, 2)),
            "flag": col([True, False, None]),
            "day": col([dt.date(1900, 1, 1), dt.date(1900, 2, 28), dt.date(1900, 3, 1), None,
                        dt.date(1, 1, 1), dt.date(9999, 12, 31), D, dt.date(1899, 12, 31)]),
            "day64": col([D, None, dt.date(1900, 2, 28)], pa.date64()),
            "at": col([dt.datetime(2026, 11, 2, 7, 30), None, dt.datetime(1900, 3, 1),
                       dt.datetime(1900, 2, 28, 23, 59, 59, 999_999), dt.datetime(1, 1, 1),
                       dt.datetime(9999, 12, 31, 23, 59, 59, 999_999),
                       dt.datetime(2026, 1, 1, 0, 0, 0, 123_456)]),
            "at_utc": col([dt.datetime(2026, 11, 2, 7, 30, 15, tzinfo=dt.UTC), None,
                           dt.datetime(1900, 3, 1, 0, 30, tzinfo=dt.UTC)],
                          pa.timestamp("us", tz="UTC")),
            "at_paris": col([dt.datetime(2026, 3, 29, 1, 59, tzinfo=dt.UTC),
                             dt.datetime(1900, 3, 1, 0, 30, tzinfo=dt.UTC), None], PARIS),
            "at_s": col([dt.datetime(2000, 2, 29, 12), None], pa.timestamp("s")),
            "at_ms": col([dt.datetime(2000, 2, 29, 12, 0, 0, 1000), None], pa.timestamp("ms")),
            "at_ns": col([dt.datetime(2000, 2, 29, 12, 0, 0, 7), None], pa.timestamp("ns")),
            "tags": col([["a", "=b"], None, [], ["<c>&"]]),
            "meta": col([{"k": "=x"}, None]),
            "nothing": pa.nulls(n, pa.string()),
        }
    )  # fmt: skip


def nulls_of_every_type(table: pa.Table) -> pa.Table:
    """A row of NULLs in every column (no <row> at all in the sheet)."""
    return pa.table({f.name: pa.nulls(1, f.type) for f in table.schema})


LONG = pa.schema(
    [("user_id", pa.string()), ("units", pa.int64()), ("progress_ratio", pa.float64()),
     ("day", pa.date32()), ("at", pa.timestamp("us", tz="UTC")), ("ok", pa.bool_())]
)  # fmt: skip


def long_table(rows: int = 23_456) -> pa.Table:
    """More rows than a batch (10,000), with rows of NULLs at the batch boundaries."""
    empty = {9_999, 10_000, 19_999, 20_000, rows - 1}
    return pa.Table.from_pydict(
        {
            "user_id": [None if i in empty else f"u{i:06d}" for i in range(rows)],
            "units": [None if i in empty else i * 7 for i in range(rows)],
            "progress_ratio": [None if i in empty else (i % 97) / 97 for i in range(rows)],
            "day": [None if i in empty else D - dt.timedelta(days=i % 400) for i in range(rows)],
            "at": [None if i in empty else dt.datetime(2026, 1, 1) + dt.timedelta(seconds=i * 37.5)
                   for i in range(rows)],
            "ok": [None if i in empty else i % 3 == 0 for i in range(rows)],
        },
        LONG,
    )  # fmt: skip


def workbook_tables() -> dict[str, pa.Table]:
    table = awkward()
    return {
        "awkward": table,
        "with_nulls": pa.concat_tables([table.slice(0, 3), nulls_of_every_type(table),
                                        table.slice(3, 2), nulls_of_every_type(table)]),
        "empty": table.slice(0, 0),
        "only_nulls": nulls_of_every_type(table),
        "no_columns": pa.table({}),
        "long": long_table(),
        "cut_short": long_table(50),  # more than max_rows
        "module_progress": pa.table({"user_id": ["u1", "u2", "u3"], "module_uid": ["m", "n", "o"],
                                     "progress_ratio": [0.25, None, 1.0]}),
        "a_very_long_report_name_of_more_than_31_characters": pa.table({"x": [1]}),
    }  # fmt: skip


PEOPLE = pa.table(
    {"user_id": ["u1", "u2"], "display_name": ["=Ada", None], "department": ["R&D", None]}
)


def write(path: Path, tables: Mapping[str, pa.Table], **options: Any) -> dict[str, int]:
    overview = {"learners": 4, "modules_started": 10, "module_completion_rate": 0.7}
    return xlsx.write_workbook(
        tables,
        path,
        about=xlsx.about_rows(D, DataQuality(D), D - dt.timedelta(days=1), None, "x", {}),
        overview=(headlines(overview, None), D, None),
        people=PEOPLE,
        **options,
    )


def both(tmp_path: Path, monkeypatch, tables: Mapping[str, pa.Table], **options) -> tuple:
    """The workbook written by the production writer, then by the per-cell writer of before."""
    new = tmp_path / "batched.xlsx"
    old = tmp_path / "per_cell.xlsx"
    assert write(new, tables, **options) == write_per_cell(old, tables, monkeypatch, **options)
    return new, old


def write_per_cell(path: Path, tables, monkeypatch, **options) -> dict[str, int]:
    with monkeypatch.context() as patched:
        patched.setattr(xlsx, "write_sheet", per_cell_xlsx.write_sheet)
        return write(path, tables, **options)


def parts(path: Path) -> dict[str, bytes]:
    """The workbook's parts but docProps/core.xml (it holds the time it was written)."""
    with zipfile.ZipFile(path) as archive:
        return {n: archive.read(n) for n in archive.namelist() if n != "docProps/core.xml"}


def cells(path: Path) -> dict[str, Any]:
    """What a reader sees of each sheet: cells (value, type, number format), widths, Tables,
    frozen panes, the header's font and fill."""
    book = load_workbook(path)
    seen: dict[str, Any] = {"sheets": book.sheetnames}
    for ws in book.worksheets:
        seen[ws.title] = {
            "cells": [
                [(c.value, c.data_type, c.number_format) for c in row] for row in ws.iter_rows()
            ],
            "widths": {k: d.width for k, d in ws.column_dimensions.items()},
            "tables": {
                t.name: (
                    t.ref,
                    t.tableStyleInfo.name,
                    t.tableStyleInfo.showRowStripes,
                    [c.name for c in t.tableColumns],
                )
                for t in ws.tables.values()
            },  # fmt: skip
            "freeze": ws.freeze_panes,
            "dimensions": ws.dimensions,
            "header": [
                (c.font.b, c.font.color and c.font.color.rgb, c.fill.fgColor.rgb) for c in ws[1]
            ],  # fmt: skip
        }
    return seen


def test_xlsxwriter_is_the_version_whose_internals_both_writers_use():
    # write_rows writes row XML into XlsxWriter's constant_memory row file and sets its row and
    # dimension state (_write_single_row, previous_row, _check_dimensions, Format
    # _get_xf_index); the XML copies its _write_cell. A new version: read its worksheet.py,
    # adjust write_rows, then the pin (pyproject.toml) and this line.
    assert version("xlsxwriter") == "3.3.1"


def test_the_workbook_is_the_one_the_per_cell_writer_wrote(tmp_path: Path, monkeypatch):
    new, old = both(tmp_path, monkeypatch, workbook_tables(), max_rows=30)
    new_parts, old_parts = parts(new), parts(old)
    assert new_parts.keys() == old_parts.keys()
    for name in new_parts:
        assert new_parts[name] == old_parts[name], name
    assert cells(new) == cells(old)


def test_a_reader_sees_the_same_cells(tmp_path: Path, monkeypatch):
    new, old = both(tmp_path, monkeypatch, {"awkward": awkward()})
    seen = cells(new)
    assert seen == cells(old)
    rows = seen["awkward"]["cells"]
    texts = [row[0] for row in rows[1:]]
    assert [v for v, _, _ in texts[:4]] == ["'=1+1", "'+1", "'-1", "'@SUM(A1)"]
    assert all(t == "s" for v, t, _ in texts if v is not None)  # text stays text
    assert not [c for row in rows for c in row if c[1] == "f"]  # never a formula
    assert len(texts[21][0]) == xlsx.EXCEL_MAX_TEXT  # cut to Excel's limit
    assert rows[1][1] == (2**53, "n", "#,##0")
    assert rows[1][8][1:] == ("s", "General")  # 1900-01-01: ISO text, a day off otherwise
    assert rows[3][8] == (dt.datetime(1900, 3, 1), "d", "yyyy-mm-dd")
    assert rows[1][10] == (dt.datetime(2026, 11, 2, 7, 30), "d", "yyyy-mm-dd hh:mm:ss")


@pytest.mark.parametrize("rows", [0, 1, 10_000, 10_001])
def test_cut_and_empty_tables_end_with_the_same_note(tmp_path: Path, monkeypatch, rows: int):
    tables = {"long": long_table(rows)}
    new, old = both(tmp_path, monkeypatch, tables, max_rows=max(rows - 1, 0))
    assert parts(new) == parts(old)


def test_text_that_looks_like_xml_is_text(tmp_path: Path):
    # XlsxWriter writes a string that starts with <r> and ends with </r> as raw XML (its rich
    # strings): the per-cell writer let a report value through as markup. Now it is text.
    table = pa.table({"text": ["<r><t>x</t></r>", "<r>&</r>"]})
    xlsx.write_workbook({"xml": table}, tmp_path / "xml.xlsx")
    sheet = load_workbook(tmp_path / "xml.xlsx")["xml"]
    assert [c.value for c in sheet["A"]] == ["Text", "<r><t>x</t></r>", "<r>&</r>"]
