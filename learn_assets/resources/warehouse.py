"""The warehouse resource: the DuckDB file every asset writes, one writer at a time (a writer
waits for the file's lock, `learn_assets.warehouse.lock`).

Inside a Dagster execution (a run of in-process steps), the file stays open from one step to the
next and each step gets a connection of its own to it (`cursor()`: its own temporary tables and
session settings): opening the file, checking the layout and closing it (a checkpoint) cost about
50 ms per step on 2 cores with the S bench warehouse, which a run of 43 steps paid 43 times; a new
connection to the open file costs under 1 ms.

Another process that waits for the lock says so (`lock.others_waiting`), and the run lets go of
the file as soon as no block is under way: at the end of the block (a step boundary), or, while
the run is busy elsewhere (Dagster's bookkeeping, a step that does not use the warehouse, a
step waiting for a pool slot), within WATCH_SECONDS, by a watcher thread. So runs still take
turns step by step, and a run never keeps the file from a waiter while it is not using it. A
failed block closes the file (the next one reopens it). The file is closed when the execution
ends; `:memory:` is a new database per block.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from learn_assets.layout import ensure_layout
from learn_assets.settings import DEFAULTS, memory
from learn_assets.warehouse.lock import LOCK_RETRY_SECONDS, connect_waiting, others_waiting
from learn_assets.warehouse.sql import quote_literal

# After letting go for a waiting process, how long to leave it the file before competing again
# (it retries within LOCK_RETRY_SECONDS; one that died stops counting after a few seconds).
GIVE_WAY_SECONDS = 3 * LOCK_RETRY_SECONDS
WATCH_SECONDS = 0.2  # how often the watcher looks for waiters while no block is under way
_POLL_SECONDS = 0.05


class _OpenFile:
    """The warehouse kept open across the steps of one execution, and its watcher: a thread
    that lets go of the file for a waiting process while no block is under way."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.conn: duckdb.DuckDBPyConnection | None = None
        self.let_go_at: float | None = None  # when it was closed for a waiting process
        self.active = 0  # `get_connection` blocks under way (nested ones included)
        self.lock = threading.Lock()  # guards conn and active (the watcher is another thread)
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def let_go(self) -> None:
        """Closed for a waiting process: the next block leaves it the file first."""
        self.close()
        self.let_go_at = time.monotonic()

    def let_go_if_waited_for(self) -> None:
        """Let go if the file is open, unused, and another process waits for it."""
        with self.lock:
            if self.conn is not None and self.active == 0 and others_waiting(self.database):
                self.let_go()

    def watch(self) -> None:
        if self._watcher is None:
            self._watcher = threading.Thread(
                target=self._watch, name="warehouse-watcher", daemon=True
            )
            self._watcher.start()

    def _watch(self) -> None:
        while not self._stop.wait(WATCH_SECONDS):
            self.let_go_if_waited_for()

    def shut(self) -> None:
        """At the execution's end: the watcher stopped, the file closed."""
        self._stop.set()
        if self._watcher is not None:
            self._watcher.join()
        with self.lock:
            self.close()


RELEASED_CACHE = "64MB"  # what DuckDB keeps for a moment in `release_cache`


class WarehouseResource(DuckDBResource):
    """DuckDB warehouse; `database` is the file path (LEARN_WAREHOUSE). DuckDB's memory is
    capped at `memory_limit` (LEARN_DUCKDB_MEMORY_LIMIT): past it, big joins and temporary
    tables spill to disk next to the warehouse instead of growing the process. A connection
    waits up to `lock_timeout` seconds (LEARN_LOCK_TIMEOUT) for another process's lock."""

    memory_limit: str = DEFAULTS.memory_limit
    lock_timeout: float = DEFAULTS.lock_timeout
    _open: _OpenFile | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if self.database != ":memory:":  # each in-memory connection is a database of its own
            self._open = _OpenFile(self.database)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._open is not None:
            self._open.shut()
            self._open = None

    def _connect(self) -> duckdb.DuckDBPyConnection:
        """Open the file (waiting for its lock), capped and with every layer's tables."""
        limit = memory("LEARN_DUCKDB_MEMORY_LIMIT", self.memory_limit)
        if self.database != ":memory:":
            Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        config = {"custom_user_agent": "dagster", **self.connection_config}
        # In a run, Dagster's logger puts the waiting messages in the run's log.
        conn = connect_waiting(self.database, config, self.lock_timeout, dg.get_dagster_logger())
        try:
            conn.execute(f"SET memory_limit = {quote_literal(limit)}")
            ensure_layout(conn)  # every layer's tables exist before any layer reads them
        except BaseException:
            conn.close()
            raise
        return conn

    def release_cache(self, conn: duckdb.DuckDBPyConnection) -> None:
        """Let DuckDB drop what it keeps cached from earlier steps of the run (table blocks it
        read, up to its memory limit), by lowering the limit for a moment. A step that holds
        large Arrow tables in Python calls it first, so the two do not add up (at L, the
        exports after reports built from changes: about 0.8 GB of resident memory)."""
        conn.execute(f"SET memory_limit = {quote_literal(RELEASED_CACHE)}")
        limit = memory("LEARN_DUCKDB_MEMORY_LIMIT", self.memory_limit)
        conn.execute(f"SET memory_limit = {quote_literal(limit)}")

    def _give_way(self, kept: _OpenFile) -> None:
        """After letting go for a waiting process: leave it the file until it took it (its
        marker is gone) or for GIVE_WAY_SECONDS, so this run does not win it straight back."""
        if kept.let_go_at is None:
            return
        while time.monotonic() - kept.let_go_at < GIVE_WAY_SECONDS and others_waiting(
            self.database
        ):
            time.sleep(_POLL_SECONDS)
        kept.let_go_at = None

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        kept = self._open
        if kept is None:  # outside an execution: the file is open for this block only
            conn = self._connect()
            try:  # closed in every case: an open connection keeps the file locked
                yield conn
            finally:
                conn.close()
            return
        # A step boundary (no block under way): let go first if another process waits.
        kept.let_go_if_waited_for()
        with kept.lock:
            if kept.conn is None:  # the watcher waits meanwhile: there is nothing to let go
                self._give_way(kept)
                kept.conn = self._connect()
            step = kept.conn.cursor()
            kept.active += 1
        kept.watch()
        failed = False
        try:
            yield step
        except BaseException:
            failed = True
            raise
        finally:
            with kept.lock:
                kept.active -= 1
                step.close()
                if kept.active == 0 and failed:  # DuckDB may be unusable: the next reopens it
                    kept.close()
            if not failed:
                kept.let_go_if_waited_for()  # now, not after Dagster's bookkeeping
