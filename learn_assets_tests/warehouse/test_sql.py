"""What exists in the warehouse, asked by binding a name (`relation_columns`, `relation_exists`,
`relation_kind`): the same answers as the catalog, and a miss leaves the transaction usable."""

from pathlib import Path

import duckdb

from learn_assets.warehouse.sql import (
    relation_columns,
    relation_exists,
    relation_kind,
    transaction,
)

COLUMNS = (
    '"odd ""name""" VARCHAR, n INTEGER, seen TIMESTAMPTZ, amount DECIMAL(5,2), tags VARCHAR[], '
    "extra MAP(VARCHAR, VARCHAR)"
)


def _catalog_columns(conn: duckdb.DuckDBPyConnection, schema: str, name: str) -> list:
    return conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ? "
        "ORDER BY ordinal_position",
        [schema, name],
    ).fetchall()


def test_tables_views_and_misses_answer_as_the_catalog(tmp_path: Path) -> None:
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    conn.execute("CREATE SCHEMA staged")
    conn.execute(f"CREATE TABLE staged.t ({COLUMNS})")
    conn.execute("CREATE VIEW staged.v AS SELECT n, seen FROM staged.t")
    conn.execute("CREATE TEMP TABLE t (x INTEGER)")  # temporary: never a warehouse table

    for name in ("t", "v"):
        assert relation_columns(conn, "staged", name) == _catalog_columns(conn, "staged", name)
        assert relation_exists(conn, "staged", name)
    assert relation_kind(conn, "staged", "t") == "BASE TABLE"
    assert relation_kind(conn, "staged", "v") == "VIEW"
    for schema, name in (("staged", "missing"), ("no_schema", "t"), ("raw", "t")):
        assert relation_columns(conn, schema, name) is None
        assert not relation_exists(conn, schema, name)
        assert relation_kind(conn, schema, name) is None


def test_a_miss_inside_a_transaction_leaves_it_usable(tmp_path: Path) -> None:
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    conn.execute("CREATE SCHEMA core")
    with transaction(conn):
        conn.execute("CREATE TABLE core.fresh (x INTEGER)")
        assert relation_exists(conn, "core", "fresh")  # this transaction's own table
        assert not relation_exists(conn, "core", "missing")
        conn.execute("INSERT INTO core.fresh VALUES (1)")  # would fail if aborted
    assert conn.execute("SELECT x FROM core.fresh").fetchall() == [(1,)]


def test_only_the_current_database_is_asked(tmp_path: Path) -> None:
    """While the reports database is written (`USE` of an attached file), a table of the
    warehouse with the same schema and name does not count as existing there."""
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    conn.execute("CREATE SCHEMA reports")
    conn.execute("CREATE TABLE reports._snapshots (x INTEGER)")
    conn.execute(f"ATTACH '{tmp_path / 'other.duckdb'}' AS other")
    conn.execute("USE other")
    assert not relation_exists(conn, "reports", "_snapshots")
    conn.execute("CREATE SCHEMA reports")
    assert not relation_exists(conn, "reports", "_snapshots")
    conn.execute("CREATE VIEW reports._snapshots AS SELECT 1 AS y")
    assert relation_kind(conn, "reports", "_snapshots") == "VIEW"
    assert relation_columns(conn, "reports", "_snapshots") == [("y", "INTEGER")]
