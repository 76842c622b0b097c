"""The DuckDB warehouse file. One schema per layer; one writer at a time (pool below)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster_duckdb import DuckDBResource

# Every asset that writes the warehouse joins this pool; dagster.yaml limits it to 1 because
# DuckDB allows one writing process per file.
WAREHOUSE_POOL = "duckdb_warehouse"


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
        "WHERE table_schema = ? AND table_name = ?",
        [schema, name],
    ).fetchone()
    return row[0] if row else None


MEMORY_LIMIT = "2GB"
_MEMORY = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


class WarehouseResource(DuckDBResource):
    """DuckDB warehouse; `database` is the file path (LEARN_WAREHOUSE). DuckDB's memory is
    capped at `memory_limit` (LEARN_DUCKDB_MEMORY_LIMIT): past it, big joins and temporary
    tables spill to disk next to the warehouse instead of growing the process."""

    memory_limit: str = MEMORY_LIMIT

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if not _MEMORY.match(self.memory_limit.strip()):
            raise ValueError(
                f"LEARN_DUCKDB_MEMORY_LIMIT must be an amount like 2GB or 512MB, "
                f"got {self.memory_limit!r}"
            )
        if self.database != ":memory:":
            Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        # The parent's context manager leaks the connection (and its file lock) when the body
        # raises; close it in every case.
        with super().get_connection() as conn:
            try:
                conn.execute(f"SET memory_limit = {quote_literal(self.memory_limit.strip())}")
                yield conn
            finally:
                conn.close()


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
