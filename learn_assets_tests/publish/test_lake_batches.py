"""The lake is written a batch at a time: delta-rs is handed a stream of bounded Arrow batches
from DuckDB, never a whole table, and what it writes still equals the warehouse (issue #18:
whole tables fetched into Arrow were the publish layer's peak memory at L); a consolidated
group's tables likewise, from the members' lakes."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

import learn_assets.publish.lake as lake_module
from learn_assets.publish.group_tables import _members_rows
from learn_assets.publish.lake import arrow_batches, lake_for, publish_lake
from learn_assets_tests.helpers import run_snapshots
from learn_assets_tests.publish.test_lake import assert_lake_equals_warehouse, three_days
from learn_assets_tests.reports.tenant import D1, D2


def test_arrow_batches_reads_a_relation_in_bounded_batches():
    conn = duckdb.connect()
    query = "SELECT range AS n, range::VARCHAR AS s FROM range(5) ORDER BY n"
    reader = arrow_batches(conn.sql(query), batch_rows=2)
    assert isinstance(reader, pa.RecordBatchReader)
    batches = list(reader)
    assert [b.num_rows for b in batches] == [2, 2, 1]
    assert pa.Table.from_batches(batches) == conn.sql(query).to_arrow_table()


@pytest.mark.slow  # a pipeline run
def test_the_lake_is_written_from_batches_and_equals_the_warehouse(tmp_path, monkeypatch):
    monkeypatch.setattr(lake_module, "BATCH_ROWS", 2)  # every table is larger than a batch
    written: list[list[int]] = []  # rows per batch, per write
    real = lake_module.write_deltalake

    def spy(target, data, **options):
        assert isinstance(data, pa.RecordBatchReader), type(data)
        batches = list(data)
        written.append([b.num_rows for b in batches])
        real(target, pa.RecordBatchReader.from_batches(data.schema, batches), **options)

    monkeypatch.setattr(lake_module, "write_deltalake", spy)
    landing = tmp_path / "landing"
    three_days(landing)
    lake = lake_for(str(tmp_path / "lake"), {})
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        run_snapshots(conn, landing, [D1, D2])
        publish_lake(conn, lake, [], privacy=False)
        assert_lake_equals_warehouse(conn, lake)
    assert all(rows <= 2 for batches in written for rows in batches)
    assert sum(len(batches) > 1 for batches in written) >= 5  # reports and core tables alike


def test_a_groups_rows_are_streamed_as_the_members_tables_concatenated():
    """The consolidated table is made a batch at a time, with the same rows and schema as the
    members' whole tables concatenated with a tenant column (schemas unified permissively)."""
    one = pa.table({"n": pa.array([1, 2, 3], pa.int32()), "s": ["a", "b", None]})
    two = pa.table({"n": pa.array([4], pa.int64()), "x": [1.5]})  # wider n, no s, an extra x
    parts = {"t1": ds.dataset(one), "t2": ds.dataset(two)}
    reader = _members_rows(parts)
    assert isinstance(reader, pa.RecordBatchReader)
    tables = {"t1": one, "t2": two}  # what the group was made of before: whole tables
    expected = pa.concat_tables(
        [t.add_column(0, "tenant", pa.array([name] * t.num_rows)) for name, t in tables.items()],
        promote_options="permissive",
    )
    got = reader.read_all()
    assert got.schema == expected.schema
    assert got.to_pylist() == expected.to_pylist()
