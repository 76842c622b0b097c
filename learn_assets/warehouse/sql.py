"""SQL mechanics every layer shares: quoting, asking what exists, one transaction helper."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb


def quote_ident(name: str) -> str:
    """Quote an SQL identifier (column names from delivered files are untrusted)."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """Quote an SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def relation_kind(conn: duckdb.DuckDBPyConnection, schema: str, name: str) -> str | None:
    """The relation's table_type ('BASE TABLE', 'VIEW', ...), or None if it does not exist."""
    row = conn.execute(
        "SELECT table_type FROM information_schema.tables "
        "WHERE table_catalog = current_database() AND table_schema = ? AND table_name = ?",
        [schema, name],
    ).fetchone()
    return row[0] if row else None


_IN_TRANSACTION: set[int] = set()  # ids of connections inside `transaction()`


@contextmanager
def transaction(conn: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """One DuckDB transaction around the body: committed if it succeeds, rolled back if it
    raises. Inside an enclosing `transaction()` on the same connection, the body joins it (one
    transaction for a whole layer, e.g. `learn-assets forget`). DuckDB has no nested
    transactions and no way to ask whether one is open, so this keeps count itself."""
    if id(conn) in _IN_TRANSACTION:
        yield
        return
    conn.execute("BEGIN TRANSACTION")
    _IN_TRANSACTION.add(id(conn))
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    finally:
        _IN_TRANSACTION.discard(id(conn))
