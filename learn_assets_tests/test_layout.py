"""`ensure_layout`, asked before every stage of every snapshot: it creates what is missing and,
when nothing is, costs one catalog query (it once recreated the whole layout on every call
because it compared views with a list of tables)."""

from pathlib import Path

import duckdb

from learn_assets.layout import ensure_layout


class CountingConnection:
    """A DuckDB connection that counts the statements run through it."""

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.conn, self.statements = conn, 0

    def execute(self, *args, **kwargs):
        self.statements += 1
        return self.conn.execute(*args, **kwargs)

    def __getattr__(self, name: str):
        return getattr(self.conn, name)


def test_a_complete_layout_is_checked_with_one_query(tmp_path: Path) -> None:
    conn = CountingConnection(duckdb.connect(str(tmp_path / "w.duckdb")))
    ensure_layout(conn)  # type: ignore[arg-type]
    created = conn.statements
    assert created > 1
    conn.statements = 0
    ensure_layout(conn)  # type: ignore[arg-type]
    assert conn.statements == 1


def test_a_missing_view_is_created_again(tmp_path: Path) -> None:
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_layout(conn)
    conn.execute("DROP VIEW staged.progress")
    ensure_layout(conn)
    assert conn.execute("SELECT count(*) FROM staged.progress").fetchone() == (0,)
