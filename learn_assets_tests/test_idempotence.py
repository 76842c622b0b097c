"""Re-running a backfill changes nothing: every table's content checksum stays the same."""

import datetime as dt

import duckdb
import pytest

from learn_assets.generator import generate_sample
from learn_assets.runs import materialize_snapshots

pytestmark = pytest.mark.slow  # real CLI runs, servers or browsers: `make test-fast` leaves it out

VOLATILE = {("raw", "_load_log"): "loaded_at"}  # wall-clock time of the load
# The change ledger logs operations (every load, re-run, rebuild), not content.
OPERATION_LOGS = ("_changes", "_consumed")


def checksums(database: str) -> dict[str, tuple]:
    """(rows, order-independent hash of all rows) per table of the warehouse."""
    with duckdb.connect(database, read_only=True) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables ORDER BY ALL"
        ).fetchall()
        sums = {}
        for schema, table in tables:
            if table in OPERATION_LOGS:
                continue
            exclude = VOLATILE.get((schema, table))
            columns = f"* EXCLUDE ({exclude})" if exclude else "*"
            sums[f"{schema}.{table}"] = conn.execute(
                f'SELECT count(*), sum(hash(t)) FROM (SELECT {columns} FROM "{schema}"."{table}") t'
            ).fetchone()
    return sums


def test_rerunning_a_backfill_changes_nothing(tmp_path, resources):
    summary = generate_sample(
        tmp_path / "landing", users=80, days=3, start=dt.date(2026, 11, 1), seed=4
    )
    first, last = summary.snapshots[0], summary.snapshots[-1]
    materialize_snapshots(first, last, resources)
    before = checksums(resources["warehouse"].database)
    assert {"raw.progress", "staged.progress", "core.xp_events", "reports.learner_summary"} <= set(
        before
    )
    materialize_snapshots(first, last, resources)
    materialize_snapshots(last, last, resources)  # and one day again
    assert checksums(resources["warehouse"].database) == before
