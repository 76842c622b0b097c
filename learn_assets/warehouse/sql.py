"""SQL mechanics every layer shares: quoting, asking what exists, one transaction helper."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import duckdb


def quote_ident(name: str) -> str:
    """Quote an SQL identifier (column names from delivered files are untrusted)."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """Quote an SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def relation_columns(
    conn: duckdb.DuckDBPyConnection, schema: str, name: str
) -> list[tuple[str, str]] | None:
    """The (name, type) of each column of table or view `<schema>.<name>` in order, the types
    as `information_schema.columns` spells them; None if it does not exist. Asked hundreds of
    times a run: binding the name takes about 0.4 ms where the catalog functions take 2 ms in a
    warehouse of 70 tables, and a name that does not bind raises a catalog error, which (unlike
    a failed query) leaves the caller's transaction usable."""
    try:
        relation = conn.table(f"{quote_ident(schema)}.{quote_ident(name)}")
    except duckdb.CatalogException:
        return None
    return list(zip(relation.columns, (str(t) for t in relation.types), strict=True))


def relation_exists(conn: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    """Whether table or view `<schema>.<name>` exists (see `relation_columns`)."""
    return relation_columns(conn, schema, name) is not None


def relation_kind(conn: duckdb.DuckDBPyConnection, schema: str, name: str) -> str | None:
    """The relation's table_type ('BASE TABLE' or 'VIEW', as `information_schema.tables` says),
    or None if it does not exist."""
    if not relation_exists(conn, schema, name):
        return None
    view = conn.execute(
        "SELECT 1 FROM duckdb_views() WHERE database_name = current_database() "
        "AND schema_name = $schema AND view_name = $name",
        {"schema": schema, "name": name},
    ).fetchone()
    return "VIEW" if view else "BASE TABLE"


def hashes_repeat(
    conn: duckdb.DuckDBPyConnection,
    rows: str,
    hashed: str,
    params: Mapping[str, object] | Sequence[object] | None = None,
) -> bool:
    """Whether two rows of `rows` (a table, or a SELECT in parentheses, with an alias) share the
    value of `hashed` (an SQL hash of their key). Equal keys have equal hashes, so when none
    repeats no key does: a check of repeated keys asks this first and reads a valid snapshot
    once (grouping one integer a row), grouping by the key itself only otherwise."""
    row = conn.execute(
        f"SELECT EXISTS (SELECT 1 FROM {rows} GROUP BY {hashed} HAVING count(*) > 1)", params
    ).fetchone()
    return bool(row and row[0])


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
