"""Opening the warehouse file for writing, waiting politely for DuckDB's lock.

DuckDB lets one process open the file for writing, and locks it. A writer that finds it locked
waits for the lock (which the operating system frees when the holder closes it or dies, so a
killed run never blocks the next one), saying who holds it, up to a timeout.

While it waits, a writer says so with a marker file beside the warehouse
(`<warehouse>.waiting.<pid>`, refreshed at every retry, removed when it stops waiting): a run
that keeps the file open between its steps (`resources/warehouse.py`) lets go at its next step
boundary when it sees one, so runs still take turns step by step.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import struct
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

LOCK_RETRY_SECONDS = 1.0
LOCK_LOG_SECONDS = 10.0
# A waiting marker older than this is left over by a waiter that died: ignored.
WAITING_FRESH_SECONDS = 5 * LOCK_RETRY_SECONDS
WAITING_FORGOTTEN_SECONDS = 60.0  # ... and removed once it is this old
_WAITING = ".waiting."
_FREE_POLL_SECONDS = 0.05  # while waiting, how often to look whether the lock was let go
_FLOCK = "hhqqi4x"  # struct flock on 64-bit Linux: type, whence, start, len, pid
_FLOCK_SIZE = 32
_LOCKED = "Could not set lock on file"
_HOLDER_PID = re.compile(r"\(PID (\d+)\)")
_RUN_ID = re.compile(r'"run_id":\s*"([0-9a-f-]{36})"')  # `dagster api execute_run {...}`
_SHOWN_COMMAND = 300  # characters of the holder's command line in messages


class WarehouseLockedError(TimeoutError):
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


def waiting_marker(database: str, pid: int | None = None) -> Path:
    """The file saying that process `pid` (this one by default) waits for `database`'s lock."""
    return Path(f"{database}{_WAITING}{pid if pid is not None else os.getpid()}")


def others_waiting(database: str, now: float | None = None) -> bool:
    """Whether another process said within the last few seconds that it waits for the lock.
    Cheap (one listing of the warehouse's folder): asked at every step boundary."""
    path = Path(database)
    prefix = path.name + _WAITING
    mine = waiting_marker(database).name
    now = time.time() if now is None else now
    try:
        with os.scandir(path.parent) as entries:
            for entry in entries:
                if not entry.name.startswith(prefix) or entry.name == mine:
                    continue
                try:
                    touched = entry.stat().st_mtime
                    if now - touched <= WAITING_FRESH_SECONDS:
                        return True
                    if time.time() - touched > WAITING_FORGOTTEN_SECONDS:
                        # Left by a waiter that was killed (a live one would touch it again).
                        Path(entry.path).unlink(missing_ok=True)
                except OSError:  # it stopped waiting meanwhile, or a folder we cannot write
                    continue
    except FileNotFoundError:
        return False
    return False


def lock_looks_free(database: str) -> bool | None:
    """Whether no process holds a lock on the file now, asked without taking one (POSIX
    `F_GETLK`, which sees DuckDB's lock); None where it cannot be asked. Only a hint: the next
    attempt to open the file decides. Never asked by a process holding the file's lock, whose
    closing of any descriptor of the file would let the lock go."""
    if sys.platform != "linux" or struct.calcsize(_FLOCK) != _FLOCK_SIZE:
        return None
    try:
        fd = os.open(database, os.O_RDONLY)
    except OSError:
        return None
    try:
        ask = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        return struct.unpack(_FLOCK, fcntl.fcntl(fd, fcntl.F_GETLK, ask))[0] == fcntl.F_UNLCK
    except (OSError, struct.error):
        return None
    finally:
        os.close(fd)


def _sleep_until_free(database: str, seconds: float) -> None:
    """Sleep up to `seconds`, waking as soon as the lock looks free (a holder that keeps the
    file open between steps lets go for this waiter: it should not wait out a whole second)."""
    until = time.monotonic() + seconds
    while (left := until - time.monotonic()) > 0:
        time.sleep(min(_FREE_POLL_SECONDS, left))
        free = lock_looks_free(database)
        if free is None:  # cannot tell here: the rest of the interval, as before
            time.sleep(max(0.0, until - time.monotonic()))
            return
        if free:
            return


def connect_waiting(
    database: str,
    config: Mapping[str, Any],
    timeout: float,
    log: logging.Logger,
    read_only: bool = False,
) -> duckdb.DuckDBPyConnection:
    """Open `database` for writing (or `read_only`, which DuckDB also refuses while a writer
    holds the file), waiting while another process holds DuckDB's lock on it: retried every
    second (sooner when the lock looks free), logged every 10 s, failed after `timeout` seconds.
    While waiting, the waiting marker says so (a holder that keeps the file open between steps
    then lets go)."""
    start = time.monotonic()
    next_log = start
    marker = waiting_marker(database)
    try:
        while True:
            try:
                return duckdb.connect(database, read_only=read_only, config=dict(config))
            except duckdb.IOException as e:
                if _LOCKED not in str(e):
                    raise
                holder, command = lock_holder(str(e))
                waited = time.monotonic() - start
                if waited >= timeout:
                    raise WarehouseLockedError(
                        f"the warehouse {database} is still locked by {holder} after "
                        f"{waited:.0f} s (LEARN_LOCK_TIMEOUT={timeout:g}): {lock_advice(command)}"
                    ) from None
                try:
                    marker.touch()  # created, or its time refreshed: still waiting
                except OSError:  # a folder we cannot write: a holder just won't let go early
                    pass
                if time.monotonic() >= next_log:
                    log.warning(f"waiting for the warehouse lock held by {holder}")
                    next_log += LOCK_LOG_SECONDS
                _sleep_until_free(database, min(LOCK_RETRY_SECONDS, max(0.0, timeout - waited)))
    finally:
        marker.unlink(missing_ok=True)
