"""The warehouse resource: the DuckDB file every asset writes, one writer at a time (a writer
waits for the file's lock, `learn_assets.warehouse.lock`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from learn_assets.layout import ensure_layout
from learn_assets.settings import DEFAULTS, memory
from learn_assets.warehouse.lock import connect_waiting
from learn_assets.warehouse.sql import quote_literal


class WarehouseResource(DuckDBResource):
    """DuckDB warehouse; `database` is the file path (LEARN_WAREHOUSE). DuckDB's memory is
    capped at `memory_limit` (LEARN_DUCKDB_MEMORY_LIMIT): past it, big joins and temporary
    tables spill to disk next to the warehouse instead of growing the process. A connection
    waits up to `lock_timeout` seconds (LEARN_LOCK_TIMEOUT) for another process's lock."""

    memory_limit: str = DEFAULTS.memory_limit
    lock_timeout: float = DEFAULTS.lock_timeout

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        limit = memory("LEARN_DUCKDB_MEMORY_LIMIT", self.memory_limit)
        if self.database != ":memory:":
            Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        config = {"custom_user_agent": "dagster", **self.connection_config}
        # In a run, Dagster's logger puts the waiting messages in the run's log.
        conn = connect_waiting(self.database, config, self.lock_timeout, dg.get_dagster_logger())
        try:  # closed in every case: an open connection keeps the file locked
            conn.execute(f"SET memory_limit = {quote_literal(limit)}")
            ensure_layout(conn)  # every layer's tables exist before any layer reads them
            yield conn
        finally:
            conn.close()
