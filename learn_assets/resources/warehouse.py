"""The DuckDB warehouse file. One schema per layer; one writer at a time (pool below)."""

from __future__ import annotations

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


class WarehouseResource(DuckDBResource):
    """DuckDB warehouse; `database` is the file path (LEARN_WAREHOUSE)."""

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if self.database != ":memory:":
            Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        # The parent's context manager leaks the connection (and its file lock) when the body
        # raises; close it in every case.
        with super().get_connection() as conn:
            try:
                yield conn
            finally:
                conn.close()
