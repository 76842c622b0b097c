"""Exports of values at the edges: every date and timestamp the contracts allow is written (in
Excel as a date, or as ISO text before 1900-03-01); a value no export can write fails before
any file is written, naming the report, the column and the row's key."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from openpyxl import load_workbook

from learn_assets.exports import xlsx
from learn_assets.exports.charts import CHART_TITLES
from learn_assets.exports.files import PAGE, WORKBOOK, export_snapshot
from learn_assets.exports.values import ExportValueError
from learn_assets_tests.exports.conftest import D2, U1, U2, build_reports

EDGE_INSTANTS = {  # joined_learn_on of U1's learner_summary row, per user id suffix
    "e1": ("1900-01-01 00:00:00+00", "1900-01-01 00:00:00"),
    "e2": ("1900-02-28 23:59:59+00", "1900-02-28 23:59:59"),
    "e3": ("1900-03-01 01:00:00+01", dt.datetime(1900, 3, 1)),  # 1900-03-01 00:00 UTC
    "e4": ("2999-12-31 23:59:59+00", dt.datetime(2999, 12, 31, 23, 59, 59)),
}
EDGE_DATES = {  # earned_on, expires_on of U1's certification_status rows
    "cert-e1": (dt.date(1900, 1, 1), dt.date(9999, 12, 31)),
    "cert-e2": (dt.date(1900, 2, 28), dt.date(1900, 3, 1)),
}


def add_edges(db: Path) -> None:
    with duckdb.connect(str(db)) as conn:
        for suffix, (joined, _) in EDGE_INSTANTS.items():
            conn.execute(
                "INSERT INTO reports.learner_summary VALUES "
                "(?, ?, NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0, 0, NULL, ?::TIMESTAMPTZ)",
                [D2, f"{suffix}-{U1}", joined],
            )
        for uid, (earned, expires) in EDGE_DATES.items():
            conn.execute(
                "INSERT INTO reports.certification_status VALUES "
                "(?, ?, ?, 'Edge', ?, ?, ?, 'active', false, NULL)",
                [D2, U1, uid, earned, expires, (expires - D2).days],
            )


def sheet_cells(path: Path, sheet: str, key: str, column: str) -> dict[str, object]:
    rows = list(load_workbook(path, read_only=True)[sheet].iter_rows(values_only=True))
    k, c = rows[0].index(key), rows[0].index(column)
    return {r[k]: r[c] for r in rows[1:]}


def test_every_date_and_timestamp_of_the_contract_ranges_is_written(tmp_path):
    db = build_reports(tmp_path / "w.duckdb")
    add_edges(db)
    with duckdb.connect(str(db)) as conn:
        result = export_snapshot(conn, D2, tmp_path / "out")
    book = result.folder / WORKBOOK
    joined = sheet_cells(book, "learner_summary", "User id", "Joined Learn on (UTC)")
    assert {u: joined[f"{u}-{U1}"] for u in EDGE_INSTANTS} == {
        u: cell for u, (_, cell) in EDGE_INSTANTS.items()
    }
    earned = sheet_cells(book, "certification_status", "Certification id", "Earned on")
    expires = sheet_cells(book, "certification_status", "Certification id", "Expires on")
    assert (earned["cert-e1"], expires["cert-e1"]) == ("1900-01-01", dt.datetime(9999, 12, 31))
    assert (earned["cert-e2"], expires["cert-e2"]) == ("1900-02-28", dt.datetime(1900, 3, 1))
    with (result.folder / "learner_summary.csv").open(encoding="utf-8-sig", newline="") as f:
        csv_joined = {r["user_id"]: r["joined_learn_on"] for r in csv.DictReader(f)}
    assert {u: csv_joined[f"{u}-{U1}"] for u in EDGE_INSTANTS} == {
        "e1": "1900-01-01 00:00:00",
        "e2": "1900-02-28 23:59:59",
        "e3": "1900-03-01 00:00:00",
        "e4": "2999-12-31 23:59:59",
    }
    assert (result.folder / PAGE).read_text("utf-8").startswith("<!DOCTYPE html>")
    assert list(result.charts) == list(CHART_TITLES)


def test_a_value_no_export_can_write_names_report_column_and_row(tmp_path):
    db = build_reports(tmp_path / "w.duckdb")
    with duckdb.connect(str(db)) as conn:
        conn.execute(
            "UPDATE reports.learner_summary "
            "SET joined_learn_on = TIMESTAMPTZ '9999-12-31T23:59:59-05:00' "
            "WHERE snapshot_date = ? AND user_id = ?",
            [D2, U2],
        )
        with pytest.raises(ExportValueError) as error:
            export_snapshot(conn, D2, tmp_path / "out")
    assert str(error.value) == (
        f"report learner_summary, column joined_learn_on, row snapshot_date=2026-11-02, "
        f"user_id={U2}: 10000-01-01 04:59:59.000000Z is outside the years 1 to 9999 that the "
        "exports can write"
    )
    assert not (tmp_path / "out").exists()  # checked before any file is written


def test_a_date_before_year_one_in_a_key_column_is_named_too(tmp_path):
    db = build_reports(tmp_path / "w.duckdb")
    with duckdb.connect(str(db)) as conn:
        conn.execute(
            "INSERT INTO reports.activity_daily VALUES "
            "(DATE '2026-11-02', DATE '0001-01-01' - INTERVAL 1 DAY, 1, 1, 0, 0, 0, 0)"
        )
        with pytest.raises(ExportValueError, match=r"^report activity_daily, column activity_date"):
            export_snapshot(conn, D2, tmp_path / "out")


def test_the_workbook_alone_names_the_sheet_column_and_key(tmp_path):
    table = pa.table(
        {
            "id": ["a", "b"],
            "at": pa.array([0, 253_402_300_800 * 1_000_000], pa.timestamp("us", tz="UTC")),
        }
    )
    with pytest.raises(ExportValueError) as error:
        xlsx.write_workbook({"big": table}, tmp_path / "big.xlsx", keys={"big": ("id",)})
    assert str(error.value) == (
        "report big, column at, row id=b: 10000-01-01 00:00:00.000000Z is outside the years "
        "1 to 9999 that the exports can write"
    )
    with pytest.raises(ExportValueError, match="row 2: "):
        xlsx.write_workbook({"nokey": table}, tmp_path / "nokey.xlsx")
