"""`staged._check_log`: the outcome of every staged check per dataset and snapshot, kept in the
warehouse so that later steps can read it without the Dagster instance: the sanity checks
compare a snapshot with the previous good one, and the exports tell readers which checks
warned. Messages hold counts, rules and tenant ids, never a row's values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from learn_assets.layout import CHECK_LOG
from learn_assets.warehouse.sql import relation_exists, transaction

PASSED, WARNED, FAILED, ACCEPTED = "passed", "warned", "failed", "accepted"
_ROWS_PER_INSERT = 100  # rows per INSERT statement (a dataset has about ten checks)


@dataclass(frozen=True)
class LoggedCheck:
    dataset: str  # table name, e.g. progress
    snapshot_date: dt.date | None  # None: the unpartitioned Entra export
    check_name: str
    blocking: bool
    status: str  # PASSED, WARNED (a warning failed), FAILED (blocking), ACCEPTED (overridden)
    failing: int
    message: str


def check_status(blocking: bool, passed: bool, accepted: bool) -> str:
    if accepted:
        return ACCEPTED
    if passed:
        return PASSED
    return FAILED if blocking else WARNED


def record_checks(
    conn: duckdb.DuckDBPyConnection,
    dataset: str,
    snapshot: dt.date | None,
    checks: Sequence[LoggedCheck],
) -> None:
    """Replace the logged checks of `dataset` for `snapshot` (one transaction)."""
    with transaction(conn):
        conn.execute(
            f"DELETE FROM {CHECK_LOG} WHERE dataset = ? AND snapshot_date IS NOT DISTINCT FROM ?",
            [dataset, snapshot],
        )
        # One INSERT of every row: DuckDB's executemany runs one statement per row, about
        # 2 ms each (a dataset's 7 to 10 checks took 17 ms; this takes 2.5 ms).
        for start in range(0, len(checks), _ROWS_PER_INSERT):
            chunk = checks[start : start + _ROWS_PER_INSERT]
            conn.execute(
                f"INSERT INTO {CHECK_LOG} VALUES "
                + ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * len(chunk)),
                [
                    value
                    for c in chunk
                    for value in (c.dataset, c.snapshot_date, c.check_name, c.blocking)
                    + (c.status, c.failing, c.message)
                ],
            )


def logged_checks(
    conn: duckdb.DuckDBPyConnection, snapshot: dt.date, statuses: Sequence[str]
) -> list[LoggedCheck]:
    """The checks of `snapshot` (and of the unpartitioned Entra export) with one of `statuses`,
    in dataset and check order; none if nothing was logged yet."""
    if not relation_exists(conn, *CHECK_LOG.split(".")) or not statuses:
        return []
    rows = conn.execute(
        f"SELECT * FROM {CHECK_LOG} WHERE (snapshot_date = ? OR snapshot_date IS NULL) "
        "AND list_contains(?, status) ORDER BY snapshot_date NULLS LAST, dataset, check_name",
        [snapshot, list(statuses)],
    ).fetchall()
    return [LoggedCheck(*r) for r in rows]
