"""Values at the edges of the contract's ranges, through real Dagster runs over a real tenant.

Day 1 is a generated tenant as delivered. Day 2 is the next generated day with edge values: some
rows appended (each a copy of a delivered row with one value changed) and a few delivered values
changed in place. Out-of-range values are quarantined with their reason; in-range values at the
edges are staged and go through the reports and every export; day 1 is left untouched.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from learn_assets.columns import header
from learn_assets.contracts.datasets import DATASETS, DATASETS_BY_NAME
from learn_assets.exports.charts import CHART_TITLES
from learn_assets.exports.files import WORKBOOK
from learn_assets.exports.tables import REPORTS
from learn_assets.generator import generate_sample
from learn_assets.runs import materialize_snapshots
from learn_assets_tests.helpers import resources_in

pytestmark = pytest.mark.slow  # whole pipeline runs: `make test-fast` leaves them out

D1, D2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)
MAX_BIGINT = str(2**63 - 1)
# dataset -> (delivered column, value) per appended row; row i is a copy of data row i + 1.
APPENDED: dict[str, list[tuple[str, str]]] = {
    "Progress": [
        ("XP", MAX_BIGINT),
        ("XP", MAX_BIGINT),
        ("XP", "1000001"),
        ("XP", "1000000"),
        ("XP", "0"),
        ("XP", "-1"),
        ("AwardedOn", "9999-12-31T23:59:59-05:00"),
        ("AwardedOn", "0001-01-01T00:00:00+01:00"),
        ("AwardedOn", "1899-12-31T23:59:59Z"),
        ("AwardedOn", "1900-01-01T00:00:00Z"),
        ("AwardedOn", "2999-12-31T23:59:59+00:00"),
    ],
    "Certifications": [
        ("CertificationEndDate", "99991231"),
        ("CertificationEndDate", "99991230"),
        ("AwardedOn", "00010101"),
    ],
    "Achievements": [("AwardedOn", "9999-12-31T23:59:59-05:00")],
    "Users": [("CreatedOn", "0001-01-01T00:00:00+01:00")],
    "HierarchyModule": [("durationInMinutes", "100001"), ("points", "1000001")],
}
REJECTED_PROGRESS = (0, 1, 2, 5, 6, 7, 8)  # the appended Progress rows out of range
# Delivered values changed in place on day 2: (dataset, data row index, column, value).
CHANGED = [
    ("Users", 0, "CreatedOn", "1900-01-01T00:00:00Z"),
    ("Users", 1, "CreatedOn", "2999-12-31T23:59:59Z"),
    ("Certifications", -1, "AwardedOn", "19000101"),  # not a base row: its only record
]
QUARANTINED = {
    "Progress": {
        "xp: above 1000000": 3,
        "xp: below 0": 1,
        "awarded_on: after 2999-12-31": 1,
        "awarded_on: before 1900-01-01": 2,
    },
    "Certifications": {"awarded_on: before 1900-01-01": 1},
    "Achievements": {"awarded_on: after 2999-12-31": 1},
    "Users": {"created_on: before 1900-01-01": 1},
    "HierarchyModule": {"duration_in_minutes: above 100000": 1, "points: above 1000000": 1},
}
SCHEMAS = ("raw", "staged", "quarantine", "reports")


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        header, *rows = list(csv.reader(f))
    return header, rows


def write_rows(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([header, *rows])


def base_rows(dataset: str, header: list[str], rows: list[list[str]]) -> list[list[str]]:
    """Rows to copy: Progress units (any row would do, units are the most common), and
    Certifications with a real end date (a copy ending 99991231 must not repeat a key)."""
    c = {name: i for i, name in enumerate(header)}
    if dataset == "Progress":
        return [r for r in rows if r[c["SourceType"]] == "Unit"]
    if dataset == "Certifications":
        return [r for r in rows if r[c["CertificationEndDate"]] > "19000000"]
    return rows


def add_edges(folder: Path) -> dict[str, list[list[str]]]:
    """Change, then append, the edge values of day 2; returns the appended rows per dataset
    and, under `changed`, the rows changed in place (as changed)."""
    appended: dict[str, list[list[str]]] = {"changed": []}
    for dataset, index, column, value in CHANGED:
        path = folder / f"{dataset}.csv"
        header, rows = read_rows(path)
        rows[index][header.index(column)] = value
        write_rows(path, header, rows)
        appended["changed"].append(rows[index])
    for dataset, changes in APPENDED.items():
        path = folder / f"{dataset}.csv"
        header, rows = read_rows(path)
        bases = base_rows(dataset, header, rows)
        new = []
        for i, (column, value) in enumerate(changes):
            row = list(bases[i + 1])
            row[header.index(column)] = value
            new.append(row)
        write_rows(path, header, rows + new)
        appended[dataset] = new
    return appended


def partitions(db: Path, day: dt.date) -> dict[str, list[tuple]]:
    """Every row of every per-snapshot table for `day`."""
    tables = [(s, d.table) for s in ("raw", "staged", "quarantine") for d in DATASETS]
    tables += [("reports", r.name) for r in REPORTS.values()]
    with duckdb.connect(str(db), read_only=True) as conn:
        return {
            f"{schema}.{table}": conn.execute(
                f"SELECT * FROM {schema}.{table} WHERE snapshot_date = ? ORDER BY ALL", [day]
            ).fetchall()
            for schema, table in tables
        }


def hashes(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def edges(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("edges")
    generate_sample(tmp / "landing", users=80, days=2, start=D1, seed=3)
    appended = add_edges(tmp / "landing" / D2.isoformat())
    db, exports = tmp / "w.duckdb", tmp / "exports"
    resources = resources_in(tmp, tmp / "landing", db)
    materialize_snapshots(D1, D1, resources)
    before = partitions(db, D1), hashes(exports / D1.isoformat())
    (run,) = materialize_snapshots(D2, D2, resources)[1:]
    return db, exports, appended, before, run


def query(db: Path, sql: str, params: list | dict | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        return conn.execute(sql, params or []).fetchall()


def test_out_of_range_values_are_quarantined_with_their_reason(edges):
    db, *_ = edges
    for dataset in DATASETS:
        reasons = dict(
            query(
                db,
                f"SELECT reason, count(*) FROM quarantine.{dataset.table} "
                "WHERE snapshot_date = ? GROUP BY 1",
                [D2],
            )
        )
        assert reasons == QUARANTINED.get(dataset.name, {}), dataset.name
    # Exactly the appended out-of-range rows, with their delivered text.
    progress = DATASETS_BY_NAME["Progress"].column_names
    quarantined = query(
        db,
        f"SELECT {', '.join(progress)} FROM quarantine.progress WHERE snapshot_date = ?",
        [D2],
    )
    appended = edges[2]["Progress"]
    assert sorted(quarantined) == sorted(tuple(appended[i]) for i in REJECTED_PROGRESS)


def test_values_at_the_edges_of_the_ranges_are_staged(edges):
    db, *_ = edges
    assert query(
        db,
        "SELECT count(*) FILTER (WHERE xp = 1000000), count(*) FILTER (WHERE xp = 0), "
        "min(awarded_on), max(awarded_on) FROM staged.progress WHERE snapshot_date = ?",
        [D2],
    ) == [
        (
            1,
            1,
            dt.datetime(1900, 1, 1, tzinfo=dt.UTC),
            dt.datetime(2999, 12, 31, 23, 59, 59, tzinfo=dt.UTC),
        )
    ]
    header = list(DATASETS_BY_NAME["Certifications"].column_names)
    user, awarded = header.index("userId"), header.index("AwardedOn")
    never, far, _ = edges[2]["Certifications"]
    early = edges[2]["changed"][-1]
    rows = query(
        db,
        "SELECT user_id, awarded_on, certification_end_date FROM staged.certifications "
        "WHERE snapshot_date = ? AND user_id IN (?, ?, ?) ORDER BY ALL",
        [D2, never[user], far[user], early[user]],
    )
    assert (never[user], yyyymmdd(never[awarded]), None) in rows
    assert (far[user], yyyymmdd(far[awarded]), dt.date(9999, 12, 30)) in rows
    assert early[user] in {r[0] for r in rows if r[1] == dt.date(1900, 1, 1)}


def yyyymmdd(text: str) -> dt.date:
    return dt.datetime.strptime(text, "%Y%m%d").date()


def test_every_check_passes_and_the_reports_of_the_day_are_built(edges):
    db, _, _, _, run = edges
    assert run.success
    evaluations = run.get_asset_check_evaluations()
    blocking = [e for e in evaluations if e.blocking]
    assert blocking and all(e.passed for e in blocking)
    contract = {e.asset_key.path[-1]: e for e in evaluations if e.check_name == "contract_types"}
    assert set(contract) == {d.table for d in DATASETS} and all(e.passed for e in contract.values())
    # The certification ending 99991231 never expires; the one ending 9999-12-30 is active.
    header = list(DATASETS_BY_NAME["Certifications"].column_names)
    user, uid = header.index("userId"), header.index("SourceUid")
    never, far, _ = edges[2]["Certifications"]
    status = (
        "SELECT status, expires_on, days_to_expiry FROM reports.certification_status "
        "WHERE snapshot_date = ? AND user_id = ? AND certification_uid = ?"
    )
    assert query(db, status, [D2, never[user], never[uid]]) == [("active", None, None)]
    far_end = dt.date(9999, 12, 30)
    assert query(db, status, [D2, far[user], far[uid]]) == [
        ("active", far_end, (far_end - D2).days)
    ]
    for report in REPORTS.values():
        sql = f"SELECT count(*) FROM reports.{report.name} WHERE snapshot_date = ?"
        (count,) = query(db, sql, [D2])[0]
        assert count > 0 or report.name == "snapshot_changes", report.name


def test_xp_capped_per_row_sums_without_overflow(edges):
    """The learner of the XP 1,000,000 row: total XP = the sum over their XP events (natural
    key: source type, uid, reason) of the value the latest day delivers (within a day, the row
    with the latest instant, then the highest XP), computed here from the delivered files (the
    rejected rows left out)."""
    db, _, appended, _, _ = edges
    header = list(DATASETS_BY_NAME["Progress"].column_names)
    c = {name: i for i, name in enumerate(header)}
    top = appended["Progress"][3]
    assert top[c["XP"]] == "1000000"
    landing = db.parent / "landing"
    rejected = {tuple(appended["Progress"][i]) for i in REJECTED_PROGRESS}
    events: dict[tuple, tuple] = {}
    for day in (D1, D2):
        _, rows = read_rows(landing / day.isoformat() / "Progress.csv")
        delivered: dict[tuple, tuple] = {}
        for r in rows:
            if r[c["userId"]] == top[c["userId"]] and tuple(r) not in rejected:
                instant = dt.datetime.fromisoformat(r[c["AwardedOn"]]).astimezone(dt.UTC)
                key = (r[c["SourceType"]], r[c["SourceUid"]], r[c["XPReason"]])
                value = (instant, int(r[c["XP"]]))
                delivered[key] = max(delivered.get(key, value), value)
        events |= delivered  # a later day's value supersedes
    expected = sum(xp for _, xp in events.values())
    assert expected > 1_000_000
    assert query(
        db,
        "SELECT total_xp FROM reports.learner_summary WHERE snapshot_date = ? AND user_id = ?",
        [D2, top[c["userId"]]],
    ) == [(expected,)]
    (overview, learners) = query(
        db,
        "SELECT (SELECT total_xp FROM reports.org_overview WHERE snapshot_date = $d), "
        "(SELECT sum(total_xp) FROM reports.learner_summary WHERE snapshot_date = $d)",
        {"d": D2},
    )[0]
    assert overview == learners


def test_exports_write_every_edge_value(edges):
    db, exports, *_ = edges
    folder = exports / D2.isoformat()
    workbook = load_workbook(folder / WORKBOOK, read_only=True)

    def cells(sheet: str, column: str) -> list:
        rows = list(workbook[sheet].iter_rows(values_only=True))
        i = rows[0].index(header(column))  # the workbook's friendly heading of the column
        return [r[i] for r in rows[1:]]

    # Before Excel's calendar (1900-03-01): text; later: real date cells.
    assert "1900-01-01 00:00:00" in cells("learner_summary", "joined_learn_on")
    assert dt.datetime(2999, 12, 31, 23, 59, 59) in cells("learner_summary", "joined_learn_on")
    assert "1900-01-01" in cells("certification_status", "earned_on")
    assert dt.datetime(9999, 12, 30) in cells("certification_status", "expires_on")
    assert "1900-01-01" in cells("activity_daily", "activity_date")
    assert dt.datetime(2999, 12, 31) in cells("activity_daily", "activity_date")
    with (folder / "learner_summary.csv").open(encoding="utf-8-sig") as f:
        joined = {r["joined_learn_on"] for r in csv.DictReader(f)}
    assert {"1900-01-01 00:00:00", "2999-12-31 23:59:59"} <= joined
    assert (folder / "report.html").is_file()
    assert sorted(p.name for p in (folder / "charts").iterdir()) == sorted(
        f"{name}.png" for name in CHART_TITLES
    )


def test_the_earlier_snapshot_is_unchanged(edges):
    db, exports, _, (rows, files), _ = edges
    assert partitions(db, D1) == rows
    assert hashes(exports / D1.isoformat()) == files
