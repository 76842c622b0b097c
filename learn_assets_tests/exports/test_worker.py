"""The chart worker: charts drawn in another process, and drawn here when it dies."""

from __future__ import annotations

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
