"""The blocking `contract_types` check: staged types are the contract's, and every staged row of
the snapshot follows every rule of the compiled contract, checked in DuckDB on the whole
snapshot. Rows are staged from real files, then changed in the warehouse behind staging's back
(what a bug in staging would do) to show the check sees it."""

import datetime as dt

import duckdb
import pytest

from learn_assets.contracts.datasets import DATASETS_BY_NAME
from learn_assets.contracts.sql import compile_contract
from learn_assets.raw.load import load_snapshot
from learn_assets.staged.check_log import LoggedCheck, check_status, record_checks
from learn_assets.staged.checks import CheckOutcome, contract_types
from learn_assets.staged.stage import stage_snapshot
from learn_assets_tests.helpers import TENANT, tiny_rows, write_csv

DAY = dt.date(2026, 11, 1)
PROGRESS = DATASETS_BY_NAME["Progress"]
CERTS = DATASETS_BY_NAME["Certifications"]


@pytest.fixture
def conn(tmp_path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as c:
        c.execute("SET TimeZone = 'UTC'")
        yield c


def staged(conn, tmp_path, dataset, rows: int = 3):
    path = write_csv(
        tmp_path / f"{dataset.name}.csv", dataset.column_names, tiny_rows(dataset, DAY, rows)
    )
    load_snapshot(conn, dataset, DAY, path)
    return stage_snapshot(conn, dataset, DAY)


# Both ways of asking: row by row (small snapshots), and first over distinct values (big ones).
BOTH_WAYS = pytest.mark.parametrize("distinct_from", [0, 10**9], ids=["distinct", "rows"])


@BOTH_WAYS
def test_every_staged_row_is_validated_not_a_sample(conn, tmp_path, distinct_from):
    result = staged(conn, tmp_path, PROGRESS, rows=25)
    assert contract_types(conn, PROGRESS, result, distinct_from) == CheckOutcome(
        True, 0, {"staged rows validated": 25}
    )


@BOTH_WAYS
def test_values_at_the_edges_of_the_ranges_pass(conn, tmp_path, distinct_from):
    """Dates and instants pandas' datetime64[ns] cannot hold (the old pandas check failed on
    them) are valid when the contract's ranges say so."""
    result = staged(conn, tmp_path, CERTS, rows=2)
    conn.execute(
        "UPDATE staged.certifications_versions SET certification_end_date = DATE '9999-12-31', "
        "awarded_on = DATE '1900-01-01', certification_start_date = DATE '1900-01-01', "
        "stay_current_eligibility_start_date = DATE '9999-12-31'"
    )
    assert contract_types(conn, CERTS, result, distinct_from).passed
    result = staged(conn, tmp_path, PROGRESS, rows=2)
    conn.execute(
        "UPDATE staged.progress_versions SET xp = 1000000, "
        "awarded_on = TIMESTAMPTZ '2999-12-31 23:59:59.999999Z'"
    )
    assert contract_types(conn, PROGRESS, result, distinct_from).passed


@BOTH_WAYS
def test_staged_rows_breaking_a_rule_fail_the_check_with_a_sample(conn, tmp_path, distinct_from):
    result = staged(conn, tmp_path, PROGRESS)
    conn.execute("UPDATE staged.progress_versions SET xp = 1000001 WHERE xp = 100")
    conn.execute(
        "UPDATE staged.progress_versions SET tenant_id = 'x', awarded_on = NULL WHERE xp = 101"
    )
    conn.execute(
        "UPDATE staged.progress_versions SET awarded_on = TIMESTAMPTZ '0001-01-01 00:00:00+01' "
        "WHERE xp = 102"
    )
    outcome = contract_types(conn, PROGRESS, result, distinct_from)
    assert (outcome.passed, outcome.failing) == (False, 3)
    assert outcome.detail == {
        "staged rows validated": 3,
        "staged rows breaking each rule": {
            "tenant_id: not a GUID": 1,
            "xp: above 1000000": 1,
            "awarded_on: missing (required)": 1,
            "awarded_on: before 1900-01-01": 1,
        },
    }
    header, rows = outcome.sample
    assert header == [*compile_contract(PROGRESS.contract).key, "rules broken"]
    assert [(r[0], r[5], r[-1]) for r in rows] == [
        (TENANT, 1000001, "xp: above 1000000"),
        (TENANT, 102, "awarded_on: before 1900-01-01"),
        ("x", 101, "tenant_id: not a GUID; awarded_on: missing (required)"),
    ]


def checked(conn, result) -> CheckOutcome:
    """contract_types of a Progress snapshot, logged as the staged asset logs it."""
    outcome = contract_types(conn, PROGRESS, result)
    status = check_status(True, outcome.passed, False)
    entry = LoggedCheck("progress", result.snapshot_date, "contract_types", True, status, 0, "")
    record_checks(conn, "progress", result.snapshot_date, [entry])
    return outcome


def test_a_day_staged_from_changes_checks_the_rows_added_when_the_day_before_passed(conn, tmp_path):
    """The added rows only, with the verdict, counts and sample of checking every row; after a
    day that failed (or one never checked), every row again."""
    days = [DAY + dt.timedelta(days=i) for i in range(4)]
    rows = tiny_rows(PROGRESS, DAY, 3)
    results = {}
    for i, day in enumerate(days):
        rows = rows + tiny_rows(PROGRESS, day, 4)[3:]  # one more row each day
        path = write_csv(tmp_path / f"{day}.csv", PROGRESS.column_names, rows)
        load_snapshot(conn, PROGRESS, day, path)
        results[day] = stage_snapshot(conn, PROGRESS, day)
        if i == 2:  # staging breaks the row it adds on the third day
            conn.execute(
                "UPDATE staged.progress_versions SET xp = 1000001 WHERE valid_from = ?", [day]
            )
        full = contract_types(conn, PROGRESS, results[day], incremental=False)
        outcome = checked(conn, results[day])
        since = outcome.detail.pop("checked as they arrived since", None)
        assert outcome == full, day
        assert since == (str(days[i - 1]) if i in (1, 2) else None), day
    assert not results[days[2]].continues and results[days[2]].since == days[1]
    assert checked(conn, results[days[2]]).failing == 1
    assert results[days[3]].since == days[2]  # staged from changes, but checked whole


def test_a_row_checked_as_it_arrived_is_not_checked_again(conn, tmp_path):
    """What the check now relies on: a row that passed when it arrived stays as it was (staged
    versions are not rewritten). One changed behind staging's back later is found by a check
    of every row (`incremental=False`), not by the next day's check."""
    first, second = DAY, DAY + dt.timedelta(days=1)
    rows = tiny_rows(PROGRESS, first, 3)
    for day, delivered in ((first, rows), (second, rows + tiny_rows(PROGRESS, second, 4)[3:])):
        load_snapshot(
            conn,
            PROGRESS,
            day,
            write_csv(tmp_path / f"{day}.csv", PROGRESS.column_names, delivered),
        )
        result = stage_snapshot(conn, PROGRESS, day)
        if day == first:
            assert checked(conn, result).passed
    conn.execute("UPDATE staged.progress_versions SET xp = 1000001 WHERE valid_from = ?", [first])
    assert checked(conn, result).passed
    assert contract_types(conn, PROGRESS, result, incremental=False).failing == 3
