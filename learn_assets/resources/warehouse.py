"""The DuckDB warehouse file. One schema per layer; one writer at a time.

DuckDB lets one process open the file for writing, and locks it. A step that finds it locked
waits for the lock (which the operating system frees when the holder closes it or dies, so a
killed run never blocks the next one), saying who holds it, up to LEARN_LOCK_TIMEOUT.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource


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
LOCK_TIMEOUT = 600.0  # seconds (LEARN_LOCK_TIMEOUT)
LOCK_RETRY_SECONDS = 1.0
LOCK_LOG_SECONDS = 10.0
_LOCKED = "Could not set lock on file"
_HOLDER_PID = re.compile(r"\(PID (\d+)\)")
_RUN_ID = re.compile(r'"run_id":\s*"([0-9a-f-]{36})"')  # `dagster api execute_run {...}`
_SHOWN_COMMAND = 300  # characters of the holder's command line in messages


class WarehouseLockedError(RuntimeError):
    """Another process held the warehouse's lock for longer than LEARN_LOCK_TIMEOUT."""


def command_line(pid: int) -> str | None:
    """The process's command line from /proc, or None where it cannot be read."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    text = raw.rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "replace")
    return text or None


def lock_holder(message: str) -> tuple[str, str | None]:
    """(`PID n (its command line)`, the command line) of the lock holder DuckDB names."""
    found = _HOLDER_PID.search(message)
    if not found:
        return "another process", None
    command = command_line(int(found[1]))
    if command is None:
        return f"PID {found[1]}", None
    shown = command if len(command) <= _SHOWN_COMMAND else command[:_SHOWN_COMMAND] + "..."
    return f"PID {found[1]} ({shown})", command


def lock_advice(command: str | None) -> str:
    """What to do about the holder: wait for a run, or close a reader."""
    run = _RUN_ID.search(command or "")
    if run:
        return f"it is Dagster run {run[1]}: wait for it to finish, then run this again"
    if command and "dagster" in command:
        return "it is another Dagster run: wait for it to finish, then run this again"
    return (
        "close that program's connection to the warehouse (analysts: read the reports "
        "database or the exports, not the warehouse), then run this again"
    )


def connect_waiting(
    database: str,
    config: Mapping[str, Any],
    timeout: float,
    log: logging.Logger,
) -> duckdb.DuckDBPyConnection:
    """Open `database` for writing, waiting while another process holds DuckDB's lock on it:
    retried every second, logged every 10 s, failed after `timeout` seconds."""
    start = time.monotonic()
    next_log = start
    while True:
        try:
            return duckdb.connect(database, read_only=False, config=dict(config))
        except duckdb.IOException as e:
            if _LOCKED not in str(e):
                raise
            holder, command = lock_holder(str(e))
            waited = time.monotonic() - start
            if waited >= timeout:
                raise WarehouseLockedError(
                    f"the warehouse {database} is still locked by {holder} after {waited:.0f} s "
                    f"(LEARN_LOCK_TIMEOUT={timeout:g}): {lock_advice(command)}"
                ) from None
            if time.monotonic() >= next_log:
                log.warning(f"waiting for the warehouse lock held by {holder}")
                next_log += LOCK_LOG_SECONDS
            time.sleep(min(LOCK_RETRY_SECONDS, max(0.0, timeout - waited)))


class WarehouseResource(DuckDBResource):
    """DuckDB warehouse; `database` is the file path (LEARN_WAREHOUSE). DuckDB's memory is
    capped at `memory_limit` (LEARN_DUCKDB_MEMORY_LIMIT): past it, big joins and temporary
    tables spill to disk next to the warehouse instead of growing the process. A connection
    waits up to `lock_timeout` seconds (LEARN_LOCK_TIMEOUT) for another process's lock."""

    memory_limit: str = MEMORY_LIMIT
    lock_timeout: float = LOCK_TIMEOUT

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if not _MEMORY.match(self.memory_limit.strip()):
            raise ValueError(
                f"LEARN_DUCKDB_MEMORY_LIMIT must be an amount like 2GB or 512MB, "
                f"got {self.memory_limit!r}"
            )
        if self.database != ":memory:":
            Path(self.database).parent.mkdir(parents=True, exist_ok=True)
        config = {"custom_user_agent": "dagster", **self.connection_config}
        # In a run, Dagster's logger puts the waiting messages in the run's log.
        conn = connect_waiting(self.database, config, self.lock_timeout, dg.get_dagster_logger())
        try:  # closed in every case: an open connection keeps the file locked
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
