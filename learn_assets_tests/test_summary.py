"""The plain-text account `make demo` prints: rows per snapshot table, and rows actually stored."""

import datetime as dt
import re

import duckdb

from learn_assets.cli import main
from learn_assets.contracts.datasets import DATASETS
from learn_assets.generator import generate_sample
from learn_assets.raw.load import load_snapshot
from learn_assets.summary import warehouse_summary
from learn_assets_tests.helpers import holder, resources_in


def test_summary_shows_rows_delivered_and_rows_stored(tmp_path, resources):
    sample = generate_sample(
        tmp_path / "landing", users=50, days=3, start=dt.date(2026, 11, 1), seed=5
    )
    with duckdb.connect(resources["warehouse"].database) as conn:
        for day in sample.snapshots:
            for dataset in DATASETS:
                load_snapshot(
                    conn,
                    dataset,
                    day,
                    tmp_path / "landing" / day.isoformat() / f"{dataset.name}.csv",
                )
    text = warehouse_summary(resources)
    assert "snapshots: 3 (2026-11-01 .. 2026-11-03)" in text
    assert "_versions" not in text and "_history" not in text
    line = next(x for x in text.splitlines() if x.startswith("raw.hierarchy_unit "))
    snapshots, latest, everything, stored = (int(n.replace(",", "")) for n in line.split()[1:])
    assert (snapshots, everything) == (3, 3 * latest)
    assert stored == latest  # the catalog never changed: stored once
    progress = next(x for x in text.splitlines() if x.startswith("raw.progress "))
    assert re.match(r"raw\.progress\s+3\s", progress)


def test_summary_waits_for_a_run_holding_the_warehouse_saying_so(tmp_path, resources, caplog):
    database = resources["warehouse"].database
    with resources["warehouse"].get_connection():  # the warehouse's layout, no snapshot yet
        pass
    with holder(database, seconds=0, write=True) as (process, command):  # until summary waits
        text = warehouse_summary(resources)
    assert "snapshots: 0" in text
    waiting = [r.getMessage() for r in caplog.records if r.getMessage().startswith("waiting")]
    assert waiting == [f"waiting for the warehouse lock held by PID {process.pid} ({command})"]


def test_summary_gives_up_after_the_lock_timeout_naming_the_holder(
    tmp_path, landing_dir, monkeypatch, capsys
):
    resources = resources_in(tmp_path, landing_dir, LEARN_LOCK_TIMEOUT="1")
    database = resources["warehouse"].database
    duckdb.connect(database).close()
    for name, value in {"LEARN_WAREHOUSE": database, "LEARN_LOCK_TIMEOUT": "1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LEARN_LANDING_DIR", str(landing_dir))
    with holder(database, seconds=300, write=True) as (process, command):
        assert main(["summary"]) == 1
    error = capsys.readouterr().err
    assert error.startswith(
        f"learn-assets summary: the warehouse {database} is still locked by PID {process.pid} "
        f"({command}) after 1 s (LEARN_LOCK_TIMEOUT=1)"
    ), error
