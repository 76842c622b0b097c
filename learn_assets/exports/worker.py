"""The chart worker: one process, per Python process, that draws the charts (`charts.py`) while
the exports step writes the other files. This module imports no drawing library, so the exports
step starts the worker (`warm_chart_worker`) before it imports what it writes with."""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import multiprocessing.util
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

DRAWING_MODULE = "learn_assets.exports.charts"
PARENT_POLL_S = 1.0  # how often the worker looks whether its parent is still there
_worker: ProcessPoolExecutor | None = None
_lock = threading.Lock()
log = logging.getLogger(__name__)


def _exit_with_parent(parent: int) -> None:
    """In the worker: exit when the process that started it is gone (killed, say), which the
    worker would not notice otherwise (it holds both ends of its task queue)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_S)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def chart_worker() -> ProcessPoolExecutor:
    """The process that draws charts, started on first use and kept: spawned, not forked (a
    fork would inherit DuckDB's threads and open files)."""
    global _worker
    with _lock:
        if _worker is None:
            _worker = ProcessPoolExecutor(
                1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_exit_with_parent,
                initargs=(os.getpid(),),
            )
            # Stopped before a multiprocessing child joins its children at exit (a Dagster
            # run started by a code server is one): the pool's own exit hook runs after that
            # join, so the process would wait for the worker forever.
            multiprocessing.util.Finalize(None, _worker.shutdown, exitpriority=100)
        return _worker


def drop_worker(broken: ProcessPoolExecutor) -> None:
    """Forget a worker that died: the next use starts a new one."""
    global _worker
    with _lock:
        if _worker is broken:
            _worker = None
    broken.shutdown(wait=False, cancel_futures=True)


def _import(module: str) -> None:
    importlib.import_module(module)


def submit(work: Callable[..., Any], *args: Any) -> tuple[ProcessPoolExecutor, Future] | None:
    """Hand `work(*args)` to the chart worker: the worker and the future, or None when no worker
    can take it (it died earlier, the process is exiting, or no process can be started), and
    the caller draws the charts itself."""
    worker = None
    try:
        worker = chart_worker()
        return worker, worker.submit(work, *args)
    except (BrokenProcessPool, RuntimeError, OSError) as e:
        log.warning("chart worker unavailable (%s); drawing the charts in this process", e)
        if worker is not None:
            drop_worker(worker)
        return None


def warm_chart_worker() -> None:
    """Start the worker and its imports (about a second) now, beside the caller's own work."""
    submit(_import, DRAWING_MODULE)
