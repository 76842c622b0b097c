"""The chart worker: charts drawn in another process, and drawn here when it dies."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from learn_assets.exports import worker
from learn_assets.exports.files import export_snapshot
from learn_assets_tests.exports.conftest import D2


def test_charts_are_drawn_here_when_the_chart_worker_dies(
    reports_db: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    with duckdb.connect(str(reports_db), read_only=True) as conn:
        first = export_snapshot(conn, D2, tmp_path / "first")
        dying = worker.chart_worker()
        for process in list(dying._processes.values()):  # a crash, e.g. the OOM killer
            process.kill()
            process.join()
        again = export_snapshot(conn, D2, tmp_path / "again")
        assert again.charts == first.charts and again.charts_drawn == list(first.charts)
        assert "chart worker" in caplog.text and "drawing the charts in this process" in caplog.text
        assert worker.chart_worker() is not dying  # a new worker for the next snapshot
        third = export_snapshot(conn, D2, tmp_path / "third")
    assert third.charts == first.charts


def test_warming_the_chart_worker_imports_the_drawing_code_there():
    worker.drop_worker(worker.chart_worker())  # a new worker, which has drawn nothing yet
    worker.warm_chart_worker()
    asked = f"{worker.DRAWING_MODULE!r} in __import__('sys').modules"  # in the worker process
    assert worker.chart_worker().submit(eval, asked).result(timeout=60) is True


def draw_in_a_child() -> None:
    """Run in a multiprocessing child: use the chart worker, then return (the child exits)."""
    assert worker.chart_worker().submit(eval, "6 * 7").result(timeout=60) == 42


def test_a_multiprocessing_child_that_used_the_worker_exits():
    # A Dagster run launched by a code server is such a child; before the worker was stopped
    # by a multiprocessing finalizer, the child waited for the idle worker at exit forever.
    child = multiprocessing.get_context("spawn").Process(target=draw_in_a_child)
    child.start()
    child.join(timeout=90)
    if child.is_alive():
        child.kill()
        pytest.fail("the child process did not exit after using the chart worker")
    assert child.exitcode == 0


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")  # exited, not yet reaped by its new parent


def test_the_worker_exits_when_its_process_is_killed():
    script = (
        "from learn_assets.exports import worker\n"
        "pool = worker.chart_worker()\n"
        "assert pool.submit(eval, '1').result(timeout=60) == 1\n"
        "print(*pool._processes, flush=True)\n"
        "import time; time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        (pid,) = map(int, parent.stdout.readline().split())  # type: ignore[union-attr]
        assert not gone(pid)
    finally:
        parent.kill()  # no exit hook runs: the worker must notice by itself
        parent.wait()
    deadline = time.monotonic() + 10 * worker.PARENT_POLL_S + 20
    while not gone(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert gone(pid), f"chart worker {pid} outlived its killed parent"


def test_charts_are_drawn_here_when_no_process_can_be_started(
    reports_db: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch
):
    with duckdb.connect(str(reports_db), read_only=True) as conn:
        first = export_snapshot(conn, D2, tmp_path / "first")
        worker.drop_worker(worker.chart_worker())  # the next use starts a new process

        def refuse(_process) -> None:
            raise BlockingIOError(11, "Resource temporarily unavailable")  # EAGAIN, as fork's

        monkeypatch.setattr(multiprocessing.get_context("spawn").Process, "start", refuse)
        worker.warm_chart_worker()  # as the exports step does first: no error
        again = export_snapshot(conn, D2, tmp_path / "again")
    assert again.charts == first.charts and again.charts_drawn == list(first.charts)
    assert "chart worker unavailable" in caplog.text and "Resource temporarily" in caplog.text
