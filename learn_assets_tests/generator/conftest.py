"""Shared samples for the generator tests: generated once per session, read back with DuckDB."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from learn_assets.contracts.datasets import DATASETS
from learn_assets.generator import SampleSummary, generate_sample

USERS, DAYS, START, SEED = 600, 5, dt.date(2026, 11, 1), 11


def table_name(day: dt.date, dataset_table: str) -> str:
    """DuckDB table holding one snapshot's dataset, e.g. d20261101_progress."""
    return f"d{day:%Y%m%d}_{dataset_table}"


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory) -> SampleSummary:
    return generate_sample(tmp_path_factory.mktemp("csv"), USERS, DAYS, START, SEED)


@pytest.fixture(scope="session")
def parquet_sample(tmp_path_factory: pytest.TempPathFactory) -> SampleSummary:
    return generate_sample(tmp_path_factory.mktemp("parquet"), USERS, DAYS, START, SEED, "parquet")


@pytest.fixture(scope="session")
def db(sample: SampleSummary) -> Iterator[duckdb.DuckDBPyConnection]:
    """Every snapshot file of `sample` loaded as all-VARCHAR tables, plus `entra`."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for day in sample.snapshots:
        for ds in DATASETS:
            path = sample.out / day.isoformat() / f"{ds.name}.csv"
            read_csv(con, path).create(table_name(day, ds.table))
    read_csv(con, sample.out / "entra_users.csv").create("entra")
    yield con
    con.close()


def read_csv(con: duckdb.DuckDBPyConnection, path: Path) -> duckdb.DuckDBPyRelation:
    return con.sql(
        "SELECT * FROM read_csv(?, all_varchar = true, header = true)", params=[str(path)]
    )


def fetch(con: duckdb.DuckDBPyConnection, template: str, params=None, **tables: str) -> list[tuple]:
    """Run `template`, whose `{placeholders}` name tables created by the `db` fixture.

    Table names come from `table_name` (fixed dataset constants) and are double-quoted here.
    """
    sql = template.format(**{k: '"' + v.replace('"', '""') + '"' for k, v in tables.items()})
    return con.execute(sql, params or []).fetchall()


def cutoff(day: dt.date) -> dt.datetime:
    """Snapshot cutoff: the snapshot date at 00:00 UTC."""
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
