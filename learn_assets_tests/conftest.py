"""Shared fixtures: a tiny hand-built landing folder and a warehouse in a temporary directory."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from learn_assets.contracts.datasets import DATASETS
from learn_assets.generator import generate_sample
from learn_assets_tests.azurite import azure_env, azurite, container  # noqa: F401 - fixtures
from learn_assets_tests.helpers import resources_in, tiny_rows, write_csv

# Tests run on throwaway Dagster instances, never on the developer's (`make` sets DAGSTER_HOME).
os.environ.pop("DAGSTER_HOME", None)

SLOW_FIXTURES = {"azurite", "azure_env", "container"}  # a real Azure Storage emulator


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests on the Azure Storage emulator are slow tests (`make test-fast` leaves them out)."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if SLOW_FIXTURES & fixtures or "[azurite]" in item.nodeid:
            item.add_marker(pytest.mark.slow)


SnapshotWriter = Callable[..., Path]


@pytest.fixture
def landing_dir(tmp_path: Path) -> Path:
    return tmp_path / "landing"


@pytest.fixture
def write_snapshot(landing_dir: Path) -> SnapshotWriter:
    """Write all 11 datasets of one snapshot as small CSV files; returns the snapshot folder."""

    def write(snapshot: dt.date, rows_per_dataset: int = 2) -> Path:
        for d in DATASETS:
            write_csv(
                landing_dir / snapshot.isoformat() / f"{d.name}.csv",
                d.column_names,
                tiny_rows(d, snapshot, rows_per_dataset),
            )
        return landing_dir / snapshot.isoformat()

    return write


@pytest.fixture
def resources(tmp_path: Path, landing_dir: Path) -> dict[str, object]:
    return resources_in(tmp_path, landing_dir)


@pytest.fixture(scope="session")
def changing_tenant(tmp_path_factory) -> tuple[Path, list[dt.date]]:
    """A generated tenant whose days change: clean days, the row-fault day (bad values,
    repeated rows, an extra column), then a clean day again (the faults leave)."""
    out = tmp_path_factory.mktemp("changing-landing")
    summary = generate_sample(
        out, users=120, days=4, start=dt.date(2026, 11, 1), seed=5, faults=True, growth=0.01
    )
    fault_day = summary.fault_snapshots[0]
    recovered = fault_day + dt.timedelta(days=2)  # after the file-fault day, which is not loaded
    shutil.copytree(out / summary.snapshots[-1].isoformat(), out / recovered.isoformat())
    return out, [*summary.snapshots, fault_day, recovered]
