"""Every delivered snapshot is rebuilt exactly from the warehouse, which stores only changes.

The oracle is Python's csv module reading the delivered files, independent of DuckDB's reader.
"""

import csv
import datetime as dt
import random
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from learn_assets.contracts.datasets import DATASETS
from learn_assets.generator import generate_sample
from learn_assets.raw.load import EXTRA, load_snapshot
from learn_assets.warehouse.sql import quote_ident

pytestmark = pytest.mark.slow  # whole pipeline runs: `make test-fast` leaves them out


def delivered(path: Path, columns: list[str]) -> Counter:
    """The file's rows as (dictionary columns..., sorted extra columns) with '' for empty."""
    csv.field_size_limit(1 << 30)  # the row-fault day has an over-long value
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        lower = {c.lower(): c for c in columns}
        rows = Counter()
        for values in reader:
            record = dict(zip(header, values, strict=True))
            known = tuple(record[name] for name in header_order(header, columns))
            extras = tuple(sorted((k, v) for k, v in record.items() if k.lower() not in lower))
            rows[known + (extras,)] += 1
    return rows


def header_order(header: list[str], columns: list[str]) -> list[str]:
    """The file's spelling of each dictionary column (matched case-insensitively)."""
    by_lower = {h.lower(): h for h in header}
    return [by_lower[c.lower()] for c in columns]


def rebuilt(conn: duckdb.DuckDBPyConnection, table: str, columns: list[str], day) -> Counter:
    cols = ", ".join(quote_ident(c) for c in columns)
    rows = conn.execute(
        f"SELECT {cols}, {EXTRA} FROM raw.{quote_ident(table)} WHERE snapshot_date = ?", [day]
    ).fetchall()
    return Counter(
        tuple("" if v is None else v for v in row[:-1])
        + (tuple(sorted((k, v or "") for k, v in (row[-1] or {}).items())),)
        for row in rows
    )


@pytest.fixture(scope="module")
def tenant(tmp_path_factory) -> tuple[Path, list[dt.date]]:
    out = tmp_path_factory.mktemp("landing")
    summary = generate_sample(
        out, users=120, days=6, start=dt.date(2026, 11, 1), seed=11, faults=True, growth=0.01
    )
    # The row-fault day (bad values, repeated rows, extra columns) is a delivered day too.
    return out, [*summary.snapshots, summary.fault_snapshots[0]]


def test_every_snapshot_of_every_dataset_is_rebuilt_row_for_row(tenant, tmp_path):
    landing, days = tenant
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    # Out of order, with re-runs: storage must not depend on the order days arrive in.
    order = [*days, days[2], days[0]]
    random.Random(3).shuffle(order)
    for day in order:
        for dataset in DATASETS:
            load_snapshot(conn, dataset, day, landing / day.isoformat() / f"{dataset.name}.csv")
    for dataset in DATASETS:
        for day in days:
            path = landing / day.isoformat() / f"{dataset.name}.csv"
            expected = delivered(path, list(dataset.column_names))
            assert rebuilt(conn, dataset.table, list(dataset.column_names), day) == expected, (
                dataset.name,
                day,
            )
    conn.close()


def test_the_warehouse_stores_a_row_once_while_it_stays_unchanged(tenant, tmp_path):
    landing, days = tenant
    clean = days[:-1]
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    for day in clean:
        for dataset in DATASETS:
            load_snapshot(conn, dataset, day, landing / day.isoformat() / f"{dataset.name}.csv")
    for dataset in DATASETS:
        delivered_rows, versions = conn.execute(
            f"SELECT (SELECT count(*) FROM raw.{quote_ident(dataset.table)}), "
            f"(SELECT count(*) FROM raw.{quote_ident(dataset.table + '_versions')})"
        ).fetchone()
        last = conn.execute(
            f"SELECT count(*) FROM raw.{quote_ident(dataset.table)} WHERE snapshot_date = ?",
            [clean[-1]],
        ).fetchone()[0]
        if not dataset.tenant:  # the catalog is the same every day: stored once
            assert versions == last, dataset.name
        # Six full copies are delivered; what is stored is one copy plus the changes.
        assert versions <= 1.25 * last, (dataset.name, versions, last)
        assert delivered_rows >= 5 * last, dataset.name
    conn.close()
