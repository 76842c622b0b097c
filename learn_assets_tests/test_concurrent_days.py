"""Two real CLI runs of the whole pipeline on adjacent days, launched at once with the project's
dagster.yaml (as the landing sensor does when it catches up), give exactly the warehouse and the
export files that running the days one after the other gives."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from learn_assets.generator import generate_sample
from learn_assets_tests.cli import cli_env, start_materialize
from learn_assets_tests.helpers import checksums

SELECTION = "tag:partitioned=snapshot_date"


def run(env: dict[str, str], *days: dt.date) -> list[str]:
    """Start one run per day at once; wait for all; return their outputs."""
    runs = [start_materialize(env, SELECTION, "--partition", d.isoformat()) for d in days]
    outputs = [r.communicate(timeout=900)[0] for r in runs]
    for r, output in zip(runs, outputs, strict=True):
        assert r.returncode == 0, output[-3000:]
    return outputs


def export_files(root: Path) -> dict[str, str]:
    """SHA-256 of every export file except the charts (PNG bytes carry no data drift risk)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix in (".csv", ".parquet")
    }


@pytest.mark.slow
def test_adjacent_days_run_at_once_equal_the_sequential_build(tmp_path):
    landing = tmp_path / "landing"
    days = generate_sample(
        landing, users=150, days=3, start=dt.date(2026, 11, 1), seed=12, corrections=True
    ).snapshots
    together, sequential = tmp_path / "together", tmp_path / "sequential"
    for folder in (together, sequential):
        folder.mkdir()
    env_together, env_sequential = cli_env(together, landing), cli_env(sequential, landing)
    for env in (env_together, env_sequential):
        run(env, days[0])
    run(env_together, days[1], days[2])  # at once
    run(env_sequential, days[1])
    run(env_sequential, days[2])
    assert checksums(env_together["LEARN_WAREHOUSE"]) == checksums(
        env_sequential["LEARN_WAREHOUSE"]
    )
    assert export_files(together / "exports") == export_files(sequential / "exports")
