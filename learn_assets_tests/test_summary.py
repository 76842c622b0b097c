"""The plain-text account `make demo` prints: rows per snapshot table, and rows actually stored."""

import datetime as dt
import re

import duckdb

from learn_assets.contracts.datasets import DATASETS
from learn_assets.generator import generate_sample
from learn_assets.raw.load import load_snapshot
from learn_assets.summary import warehouse_summary


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
