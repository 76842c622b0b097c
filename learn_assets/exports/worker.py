"""The chart worker: one process, per Python process, that draws the charts (`charts.py`) while
the exports step writes the other files. This module imports no drawing library, so the exports
step starts the worker (`warm_chart_worker`) before it imports what it writes with."""

from __future__ import annotations

import importlib
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

DRAWING_MODULE = "learn_assets.exports.charts"
_worker: ProcessPoolExecutor | None = None
_lock = threading.Lock()


def chart_worker() -> ProcessPoolExecutor:
    """The process that draws charts, started on first use and kept: spawned, not forked (a
    fork would inherit DuckDB's threads and open files)."""
    global _worker
    with _lock:
        if _worker is None:
            _worker = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
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


def warm_chart_worker() -> None:
    """Start the worker and its imports (about a second) now, beside the caller's own work."""
    worker = chart_worker()
    try:
        worker.submit(_import, DRAWING_MODULE)
    except (BrokenProcessPool, RuntimeError):  # died earlier, or shut down at exit
        drop_worker(worker)
