"""reports.xlsx read back with openpyxl: Overview first, then About, then an Excel Table per
report with friendly headers, learners' names on the per-learner sheets, typed cells and no
formula anywhere."""

from __future__ import annotations

import datetime as dt
import decimal
import re
import zipfile
from pathlib import Path

import duckdb
import pyarrow as pa
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from learn_assets.columns import header
from learn_assets.exports import xlsx
from learn_assets.exports.files import WORKBOOK, ExportResult, export_snapshot
from learn_assets.exports.neutralize import FORMULA_PREFIXES
from learn_assets.exports.tables import REPORTS
from learn_assets_tests.exports.conftest import (
    D1,
    D2,
    D2_QUALITY_LINES,
    DDE_DEPARTMENT,
    FORMULA_NAME,
    HTML_NAME,
    LEAVER_NAME,
    NEVER_EXPIRES,
    ROWS,
    SCHEMA,
    U1,
    U2,
    U3,
    U4,
    U5,
)

PER_LEARNER = ("certification_status", "module_progress", "learning_path_progress",
               "snapshot_changes")  # fmt: skip


def columns_of(report: str) -> list[str]:
    return [c.split()[0] for c in SCHEMA[report].replace("\n", " ").split(",")]


def headers_of(report: str) -> list[str]:
    names = columns_of(report)
    if report in PER_LEARNER:
        at = names.index("user_id") + 1
        names[at:at] = ["learner", "department"]
    return [header(n) for n in names]


def rows_by_header(sheet: Worksheet) -> list[dict[str, object]]:
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def expected_rows(report: str) -> int:
    return sum(1 for row in ROWS[report] if row[0] == D2)


def test_sheets_are_overview_about_then_the_reports(exported: ExportResult):
    book = load_workbook(exported.folder / WORKBOOK)
    assert book.sheetnames == [xlsx.OVERVIEW_SHEET, xlsx.ABOUT_SHEET, *REPORTS]
    assert book.active.title == xlsx.OVERVIEW_SHEET  # it opens on the Overview


def test_every_sheet_is_an_excel_table_with_friendly_headers(exported: ExportResult):
    book = load_workbook(exported.folder / WORKBOOK)
    for sheet in book.worksheets:
        (table,) = sheet.tables.values()
        last = sheet.cell(row=1, column=sheet.max_column).column_letter
        assert table.ref == f"A1:{last}{max(sheet.max_row, 2)}", sheet.title
        assert table.autoFilter.ref == table.ref  # filter buttons
        assert table.tableStyleInfo.name == xlsx.TABLE_STYLE
        assert table.tableStyleInfo.showRowStripes
        headings = [c.value for c in sheet[1]]
        assert [c.name for c in table.tableColumns] == headings  # Excel checks they match
        assert all(c.font.b and c.fill.fgColor.rgb.endswith("1F4E78") for c in sheet[1])
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref is None  # the Table's filter, not a second one
    for name in REPORTS:
        sheet = book[name]
        assert [c.value for c in sheet[1]] == headers_of(name), name
        assert sheet.tables[name].displayName == name  # Power Query finds it by report name
        assert sheet.max_row == expected_rows(name) + 1, name
        assert all(sheet.column_dimensions[c.column_letter].width >= 8 for c in sheet[1])
    assert [c.value for c in book["learner_summary"][1]][:8] == [
        "Snapshot date",
        "User id",
        "Entra object id",
        "Display name",
        "Department",
        "Job title",
        "Total XP",
        "Units completed",
    ]
    assert "Learning paths completed" in [c.value for c in book["org_overview"][1]]


def test_no_cell_is_a_formula_and_text_is_neutralized(exported: ExportResult):
    book = load_workbook(exported.folder / WORKBOOK)
    for sheet in book.worksheets:
        cells = [c for row in sheet.iter_rows() for c in row]
        assert all(c.data_type != "f" for c in cells), sheet.title
        texts = [c.value for c in cells if isinstance(c.value, str)]
        assert not [t for t in texts if t.startswith(FORMULA_PREFIXES)], sheet.title
    with zipfile.ZipFile(exported.folder / WORKBOOK) as archive:
        parts = [n for n in archive.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)]
        assert len(parts) == len(REPORTS) + 2  # and Overview and About
        assert not [n for n in parts if re.search(rb"<f[ >]", archive.read(n))]


def test_per_learner_sheets_carry_the_name_and_department(exported: ExportResult):
    book = load_workbook(exported.folder / WORKBOOK)
    people = {
        (r["User id"], r["Certification id"]): (r["Learner"], r["Department"])
        for r in rows_by_header(book["certification_status"])
    }
    assert people == {
        (U1, "cert-az-104"): ("'" + FORMULA_NAME, "'" + DDE_DEPARTMENT),
        (U2, "cert-az-900"): (HTML_NAME, "Research, Development"),
        (U2, "cert-ai-102"): (HTML_NAME, "Research, Development"),
        (U4, NEVER_EXPIRES): ("'@admin", "Research, Development"),
    }
    modules = {r["User id"]: r["Learner"] for r in rows_by_header(book["module_progress"])}
    assert modules == {U1: "'" + FORMULA_NAME, U2: HTML_NAME}
    paths = rows_by_header(book["learning_path_progress"])
    assert [(r["Learner"], r["Path progress"]) for r in paths] == [("'" + FORMULA_NAME, 0.5)]
    # who joined, and who left (named as in the previous snapshot: they are in no report now)
    changes = {r["Change"]: (r["User id"], r["Learner"], r["Department"])
               for r in rows_by_header(book["snapshot_changes"])}  # fmt: skip
    assert changes == {
        "certification_earned": (U4, "'@admin", "Research, Development"),
        "learner_joined": (U4, "'@admin", "Research, Development"),
        "learner_left": (U5, "'" + LEAVER_NAME, "Sales"),
    }


def test_a_learner_without_a_directory_match_is_named_by_a_short_id():
    table = pa.table({"user_id": [U1, U3], "x": [1, 2]})
    people = pa.table(
        {"user_id": [U1, U3], "display_name": ["Ada", None], "department": ["R&D", None]}
    )
    assert xlsx.with_learners(table, people).to_pydict() == {
        "user_id": [U1, U3],
        "learner": ["Ada", "(not in directory) 00000003"],
        "department": ["R&D", None],
        "x": [1, 2],
    }
    assert xlsx.per_learner(table) and not xlsx.per_learner(people)


def test_cells_are_typed(exported: ExportResult):
    book = load_workbook(exported.folder / WORKBOOK)
    learners = {r[1].value: r for r in book["learner_summary"].iter_rows(min_row=2)}
    first = learners[U1]
    xp = first[6]
    assert xp.data_type == "n" and xp.value == 5000 and xp.number_format == "#,##0"
    snapshot = first[0]
    assert snapshot.is_date and snapshot.value == dt.datetime(2026, 11, 2)
    last = first[12]
    assert last.is_date and last.value == dt.datetime(2026, 11, 2, 7, 30)  # naive UTC
    assert learners[U3][3].value is None  # NULL stays empty
    certs = rows_by_header(book["certification_status"])
    assert {r["Days to expiry"] for r in certs} == {43, -32, 240, None}  # a number, not a formula
    rate = book["org_overview"]["D2"]
    assert rate.value == 0.5 and rate.number_format == "0.0%"


def test_overview_has_the_headline_numbers_and_their_change(exported: ExportResult):
    sheet = load_workbook(exported.folder / WORKBOOK)[xlsx.OVERVIEW_SHEET]
    rows = [tuple(c.value for c in row) for row in sheet.iter_rows()]
    assert rows == [
        ("Measure", "This snapshot", "Previous snapshot", "Change"),
        ("Snapshot date", dt.datetime(2026, 11, 2), dt.datetime(2026, 11, 1), None),
        ("Learners", 4, 2, 2),
        ("Directory users", 6, 5, 1),
        ("Adoption", 0.5, 0.4, (0.5 - 0.4) * 100),  # percentage points
        ("Modules started", 10, 5, 5),
        ("Modules completed", 7, 3, 4),
        ("Module completion rate", 0.7, 0.6, (0.7 - 0.6) * 100),
        ("Learning paths completed", 1, 0, 1),
        ("Total XP", 8100, 4050, 4050),
        ("Active certifications", 3, 1, 2),
        ("Expiring soon", 1, 1, 0),
        ("Applied skills", 1, 0, 1),
    ]
    assert sheet["B5"].number_format == "0.0%" and sheet["D5"].number_format == xlsx.POINTS_FORMAT
    assert sheet["D3"].number_format == xlsx.CHANGE_FORMAT
    assert sheet.tables["overview"].ref == "A1:D13"


def test_overview_of_the_first_snapshot_has_nothing_to_compare(reports_db: Path, tmp_path: Path):
    with duckdb.connect(str(reports_db), read_only=True) as conn:
        result = export_snapshot(conn, D1, tmp_path / "out")
    rows = list(load_workbook(result.folder / WORKBOOK)[xlsx.OVERVIEW_SHEET].iter_rows(
        values_only=True))  # fmt: skip
    assert rows[1] == ("Snapshot date", dt.datetime(2026, 11, 1), None, None)
    assert rows[2] == ("Learners", 2, None, None)


def about(path: Path) -> list[tuple]:
    return [tuple(c.value for c in row) for row in load_workbook(path)[xlsx.ABOUT_SHEET].rows]


def test_about_says_what_when_where_from_rows_and_definitions(exported: ExportResult):
    rows = about(exported.folder / WORKBOOK)
    generated = rows.pop(3)
    assert generated[0] == "Generated at"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", generated[1])
    assert rows == [
        ("Topic", "About this workbook"),
        ("Snapshot", "2026-11-02"),
        ("Compared with", "2026-11-01"),
        ("Source folder", "not recorded"),
        ("Data quality", D2_QUALITY_LINES[0]),
        *((None, line) for line in D2_QUALITY_LINES[1:]),
        ("Rows per sheet", "certification_status: 4 rows"),
        (None, "module_progress: 2 rows"),
        (None, "learning_path_progress: 1 rows"),
        (None, "learner_summary: 4 rows"),
        (None, "org_overview: 1 rows"),
        (None, "department_summary: 4 rows"),
        (None, "content_popularity: 4 rows"),
        (None, "catalog_tag_progress: 5 rows"),
        (None, "snapshot_changes: 3 rows"),
        (None, "activity_daily: 5 rows"),
        ("Definitions", xlsx.DEFINITIONS[0]),
        *((None, line) for line in xlsx.DEFINITIONS[1:]),
    ]
    assert exported.quality == D2_QUALITY_LINES


def test_about_names_the_source_folder_and_the_sheets_cut_short(reports_db: Path, tmp_path: Path):
    with duckdb.connect(str(reports_db), read_only=True) as conn:
        result = export_snapshot(
            conn, D2, tmp_path / "out", xlsx_max_rows=3, landing_dir="az://share/landing/"
        )
    rows = about(result.folder / WORKBOOK)
    assert ("Source folder", "az://share/landing/2026-11-02") in rows
    assert (None, "learner_summary: the first 3 of 4 rows (the CSV and Parquet files have "
            "every row)") in rows  # fmt: skip
    assert result.truncated_sheets == {
        "certification_status": 1,
        "learner_summary": 1,
        "department_summary": 1,
        "content_popularity": 1,
        "catalog_tag_progress": 2,
        "activity_daily": 2,
    }


def test_sheet_is_cut_at_max_rows_with_a_note_under_the_table(tmp_path: Path):
    table = pa.table({"n": list(range(5))})
    assert xlsx.write_workbook({"big": table}, tmp_path / "big.xlsx", max_rows=2) == {"big": 3}
    sheet = load_workbook(tmp_path / "big.xlsx")["big"]
    assert [row[0] for row in sheet.iter_rows(values_only=True)][:3] == ["N", 0, 1]
    assert sheet.cell(row=4, column=1).value.startswith("3 more rows are not shown here")
    assert sheet.max_row == 4
    assert sheet.tables["big"].ref == "A1:A3"  # the note is not in the Table
    assert xlsx.write_workbook({"big": table}, tmp_path / "all.xlsx", max_rows=5) == {}


def test_text_and_dates_are_prepared_column_by_column():
    text = pa.array(["\x01=1+1", "a" * 40_000, None, "@x", "ok\tfine", "\x1f-"])
    assert [xlsx.excel_text(v) if v else v for v in text.to_pylist()] == (
        xlsx.excel_text_column(text).to_pylist()
    )
    days = pa.array([dt.date(1900, 2, 28), dt.date(1900, 3, 1), D2, None])
    serial, text = xlsx.excel_dates(days)
    assert serial.to_pylist() == [None, 61, 46328, None]
    assert text.to_pylist() == ["1900-02-28", None, None, None]
    assert xlsx.table_name("Overview") == "overview" and xlsx.table_name("1 x") == "t_1_x"


def test_every_cell_type_is_written_as_such(tmp_path: Path):
    table = pa.table(
        {
            "ratio": [1.5, float("nan"), float("inf"), None],
            "amount": pa.array([decimal.Decimal("2.50"), None, None, None], pa.decimal128(5, 2)),
            "flag": [True, False, None, True],
            "tags": [["a", "=b"], None, [], ["c"]],  # not text in Arrow: written as its text
            "day": [dt.date(1900, 1, 1), dt.date(2026, 11, 2), None, None],
            "at": pa.array(
                [dt.datetime(2026, 11, 2, 7, 30), None, None, None], pa.timestamp("us", tz="UTC")
            ),
        }
    )
    xlsx.write_workbook({"types": table}, tmp_path / "t.xlsx")
    sheet = load_workbook(tmp_path / "t.xlsx")["types"]
    rows = [tuple(c.value for c in row) for row in sheet.iter_rows(min_row=2)]
    assert rows == [
        (1.5, 2.5, True, "['a', '=b']", "1900-01-01", dt.datetime(2026, 11, 2, 7, 30)),
        (None, None, False, None, dt.datetime(2026, 11, 2), None),  # NaN: no value
        (None, None, None, "[]", None, None),  # infinity: no value either
        (None, None, True, "['c']", None, None),
    ]
    assert sheet["A2"].number_format == "0.00" and sheet["F2"].number_format == (
        "yyyy-mm-dd hh:mm:ss"
    )
