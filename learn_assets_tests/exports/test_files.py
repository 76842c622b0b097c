"""CSV, Parquet and XLSX exports of the tiny schema: complete, typed, formula-safe, replaceable."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from learn_assets.exports import files, xlsx
from learn_assets.exports.charts import CHART_REPORTS, CHART_TITLES, chart_inputs
from learn_assets.exports.files import (
    CHARTS_DIR,
    PAGE,
    WORKBOOK,
    ExportResult,
    atomic_path,
    export_snapshot,
    export_snapshots,
)
from learn_assets.exports.neutralize import FORMULA_PREFIXES, neutralize, neutralize_column
from learn_assets.exports.tables import REPORTS, read_reports
from learn_assets.exports.values import ExportValueError
from learn_assets_tests.exports.conftest import (
    COMMA_DEPARTMENT,
    D1,
    D2,
    DDE_DEPARTMENT,
    FORMULA_NAME,
    ROWS,
    SCHEMA,
)

NUMERIC = ("BIGINT", "INTEGER", "DOUBLE")


def numeric_columns(report: str) -> set[str]:
    columns = [c.split() for c in SCHEMA[report].replace("\n", " ").split(",")]
    return {c[0] for c in columns if c[1] in NUMERIC}


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def expected_rows(report: str) -> int:
    return sum(1 for row in ROWS[report] if row[0] == D2)


def test_neutralize_prefixes_only_formula_text():
    for prefix in FORMULA_PREFIXES:
        assert neutralize(prefix + "x") == "'" + prefix + "x"
    for safe in ("Ada", "", " =1", "'=1", "x=1", "1-2"):
        assert neutralize(safe) == safe
    values = ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "plain", "é=1", "", None]
    for text in (pa.string(), pa.large_string()):
        column = neutralize_column(pa.chunked_array([values[:4], values[4:]], type=text))
        assert column.to_pylist() == [None if v is None else neutralize(v) for v in values]
        assert column.type == text
    safe = pa.chunked_array([["plain", None]])
    assert neutralize_column(safe) is safe  # nothing to change: the column itself


def test_excel_text_drops_control_characters_before_neutralizing():
    assert xlsx.excel_text("\x01=1+1") == "'=1+1"
    assert len(xlsx.excel_text("a" * 40_000)) == xlsx.EXCEL_MAX_TEXT


def test_every_report_has_a_csv_and_a_parquet_file(exported: ExportResult):
    expected = {f"{name}.{ext}" for name in REPORTS for ext in ("csv", "parquet")}
    names = {str(f) for f in exported.files}
    assert expected | {WORKBOOK, PAGE} <= names
    assert all((exported.folder / f).is_file() for f in exported.files)
    assert exported.folder.name == "2026-11-02"
    assert not list(exported.folder.rglob("*.tmp"))  # no temporary file left behind
    assert exported.rows == {name: expected_rows(name) for name in REPORTS}


def test_csv_holds_the_snapshot_rows_with_formulas_neutralized(exported: ExportResult):
    for report in REPORTS:
        rows = read_csv(exported.folder / f"{report}.csv")
        assert len(rows) == expected_rows(report), report
        numbers = numeric_columns(report)
        for row in rows:
            for column, value in row.items():
                if value.startswith(FORMULA_PREFIXES):
                    # only a number may start with "-"; text must have been neutralized
                    assert column in numbers and float(value) < 0, (report, column, value)
    learners = {r["user_id"][:8]: r for r in read_csv(exported.folder / "learner_summary.csv")}
    assert {r["snapshot_date"] for r in learners.values()} == {"2026-11-02"}
    first = learners["00000001"]
    assert first["display_name"] == "'" + FORMULA_NAME
    assert first["department"] == "'" + DDE_DEPARTMENT
    assert first["job_title"] == "'\tlead"
    assert first["total_xp"] == "5000"  # numbers untouched
    assert first["last_activity_at"] == "2026-11-02 07:30:00"  # UTC, spreadsheet-readable
    assert learners["00000002"]["department"] == COMMA_DEPARTMENT  # the comma stays in its cell
    assert learners["00000004"]["display_name"] == "'@admin"
    certs = read_csv(exported.folder / "certification_status.csv")
    assert {r["days_to_expiry"] for r in certs} == {"43", "-32", "240", ""}  # "": never expires
    assert "'-Azure Fundamentals" in {r["title"] for r in certs}


def test_csv_has_a_byte_order_mark_for_excel(exported: ExportResult):
    assert (
        (exported.folder / "org_overview.csv")
        .read_bytes()
        .startswith(b'\xef\xbb\xbf"snapshot_date"')
    )


def test_parquet_round_trips_the_rows_unaltered(exported: ExportResult, reports_db: Path):
    with duckdb.connect(str(reports_db), read_only=True) as conn:
        for name, report in REPORTS.items():
            order = ", ".join(report.key)
            conn.execute("SET TimeZone = 'UTC'")
            expected = conn.sql(
                f"SELECT * FROM reports.{name} WHERE snapshot_date = $d ORDER BY {order}",
                params={"d": D2},
            ).to_arrow_table()
            got = pq.read_table(exported.folder / f"{name}.parquet")
            assert got.column_names == expected.column_names, name
            assert got.to_pylist() == expected.to_pylist(), name
    learners = pq.read_table(exported.folder / "learner_summary.parquet").to_pylist()
    assert FORMULA_NAME in {r["display_name"] for r in learners}  # Parquet is for tools


def test_a_sheet_keeps_room_under_excels_row_limit_for_the_header_and_the_note():
    assert xlsx.rows_kept(5, max_rows=1_048_575, excel_rows=4) == 2  # header + 2 rows + note
    assert xlsx.rows_kept(5, max_rows=3, excel_rows=100) == 3
    assert xlsx.rows_kept(2, max_rows=3, excel_rows=100) == 2
    assert xlsx.rows_kept(2_000_000, max_rows=xlsx.EXCEL_MAX_ROWS - 1) == 1_048_574


def test_rerun_replaces_the_files(reports_db: Path, tmp_path: Path):
    with duckdb.connect(str(reports_db)) as conn:
        first = export_snapshot(conn, D2, tmp_path / "out")
        csv_path = first.folder / "learner_summary.csv"
        before = {f: (first.folder / f).stat().st_ino for f in first.files}
        conn.execute(
            "UPDATE reports.learner_summary SET display_name = 'Renamed' "
            "WHERE snapshot_date = $d AND user_id LIKE '00000001%'",
            {"d": D2},
        )
        second = export_snapshot(conn, D2, tmp_path / "out")
    assert second.files == first.files
    after = {f: (second.folder / f).stat().st_ino for f in second.files}
    charts = {f for f in first.files if f.parent.name == CHARTS_DIR}
    assert len(charts) == len(CHART_TITLES)
    assert all(before[f] != after[f] for f in first.files if f not in charts)  # renamed over
    assert all(before[f] == after[f] for f in charts)  # no chart's input changed: left as is
    names = {r["display_name"] for r in read_csv(csv_path)}
    assert "Renamed" in names and "'" + FORMULA_NAME not in names
    assert not list(second.folder.rglob("*.tmp"))


def test_a_failed_write_keeps_the_previous_file(tmp_path: Path):
    target = tmp_path / "report.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_an_empty_report_is_a_header_only_file_and_sheet(reports_db: Path, tmp_path: Path):
    with duckdb.connect(str(reports_db), read_only=True) as conn:
        result = export_snapshot(conn, D1, tmp_path / "out")  # no changes on the first day
    assert result.rows["snapshot_changes"] == 0
    lines = (result.folder / "snapshot_changes.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines == ['"snapshot_date","change","user_id","uid","title","previous_snapshot"']
    sheet = load_workbook(result.folder / WORKBOOK)["snapshot_changes"]
    assert sheet.max_row == 1 and sheet["A1"].value == "Snapshot date"
    # an Excel Table needs a data row: an empty one under the header
    assert sheet.tables["snapshot_changes"].ref == "A1:H2"  # with Learner and Department


def test_data_quality_is_per_snapshot(reports_db: Path, tmp_path: Path):
    with duckdb.connect(str(reports_db), read_only=True) as conn:
        first = export_snapshot(conn, D1, tmp_path / "out")
    assert first.quality == [
        "Rows quarantined (left out of the reports, see the quarantine tables): HierarchyModule "
        "3 of 30 (10.0%); Entra users export 1 of 8 (12.5%).",
        "Warning, Progress rows_follow_contract: D1 only",
        "Warning, Entra users export rows_follow_contract: 1 row",
    ]


def same_files(a: ExportResult, b: ExportResult) -> bool:
    """The same files with the same bytes, but for the workbook (it holds the time written)."""
    kept = [f for f in a.files if f.name != WORKBOOK]
    return a.files == b.files and all(
        (a.folder / f).read_bytes() == (b.folder / f).read_bytes() for f in kept
    )


def test_a_range_draws_the_next_charts_while_this_snapshot_is_written(
    reports_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    events: list[tuple[str, str]] = []
    start, write = files.start_charts, files.write_workbook

    def starting(tables, snapshot, drawn):
        events.append(("charts", snapshot.isoformat()))
        return start(tables, snapshot, drawn)

    def writing(tables, path, *args, **kwargs):
        events.append(("workbook", path.parent.name))  # the snapshot's folder
        return write(tables, path, *args, **kwargs)

    monkeypatch.setattr(files, "start_charts", starting)
    monkeypatch.setattr(files, "write_workbook", writing)
    with duckdb.connect(str(reports_db), read_only=True) as conn:
        ranged = list(export_snapshots(conn, [D1, D2], tmp_path / "range"))
        monkeypatch.undo()
        alone = [export_snapshot(conn, day, tmp_path / "alone") for day in (D1, D2)]
    d1, d2 = D1.isoformat(), D2.isoformat()
    assert events == [("charts", d1), ("charts", d2), ("workbook", d1), ("workbook", d2)]
    assert [r.snapshot for r in ranged] == [D1, D2]
    assert all(same_files(r, a) and r.rows == a.rows for r, a in zip(ranged, alone, strict=True))


def test_a_bad_value_in_the_next_snapshot_fails_in_its_turn(reports_db: Path, tmp_path: Path):
    with duckdb.connect(str(reports_db)) as conn:
        conn.execute(
            "INSERT INTO reports.activity_daily VALUES "
            "($d, DATE '0001-01-01' - INTERVAL 1 DAY, 1, 1, 0, 0, 0, 0)",
            {"d": D2},
        )
        exported = export_snapshots(conn, [D1, D2], tmp_path / "out")
        first = next(exported)  # D2's charts could not begin: D1 is written all the same
        assert first.snapshot == D1 and (first.folder / WORKBOOK).exists()
        with pytest.raises(ExportValueError, match=r"^report activity_daily, column activity_d"):
            next(exported)
    assert not (tmp_path / "out" / D2.isoformat()).exists()


def test_the_charts_read_only_the_chart_reports(reports_db: Path):
    with duckdb.connect(str(reports_db), read_only=True) as conn:
        every = read_reports(conn, D2)
        charted = read_reports(conn, D2, CHART_REPORTS)
        with pytest.raises(KeyError, match="no such report: nope"):
            read_reports(conn, D2, ["nope"])
    assert list(charted) == [n for n in REPORTS if n in CHART_REPORTS]
    assert chart_inputs(charted, D2) == chart_inputs(every, D2)
    assert chart_inputs({}, D2) != chart_inputs(every, D2)  # the inputs depend on the tables
