"""Shared fixtures: a tiny hand-built landing folder and a warehouse in a temporary directory."""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

from learn_assets.contracts.datasets import DATASETS, Dataset
from learn_assets.generator import generate_sample
from learn_assets_tests.azurite import azure_env, azurite, container  # noqa: F401 - fixtures
from learn_assets_tests.helpers import resources_in

# Tests run on throwaway Dagster instances, never on the developer's (`make` sets DAGSTER_HOME).
os.environ.pop("DAGSTER_HOME", None)

SLOW_FIXTURES = {"azurite", "azure_env", "container"}  # a real Azure Storage emulator


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests on the Azure Storage emulator are slow tests (`make test-fast` leaves them out)."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if SLOW_FIXTURES & fixtures or "[azurite]" in item.nodeid:
            item.add_marker(pytest.mark.slow)


TENANT = "11111111-2222-3333-4444-555555555555"


# Values that pass the contracts' enum rules, by delivered column name.
ALLOWED = {"awardType": ["Badge", "Trophy"], "SourceType": ["Module", "LearningPath"]}


def tiny_rows(dataset: Dataset, snapshot: dt.date, n: int = 2) -> list[dict[str, str]]:
    """`n` plausible rows whose values encode the snapshot, so partitions can be told apart."""
    rows = []
    for i in range(n):
        row = {}
        for c in dataset.columns:
            if c.kind.value == "guid":
                row[c.name] = (
                    TENANT
                    if c.name.lower() == "tenantid"
                    else f"{i:08x}-0000-0000-0000-{snapshot:%Y%m%d}0000"
                )
            elif c.kind.value in ("int", "yyyymmdd"):
                row[c.name] = str(100 + i) if c.kind.value == "int" else f"{snapshot:%Y%m%d}"
            elif c.kind.value in ("datetimeoffset", "datetime"):
                row[c.name] = f"{snapshot}T10:00:00.1234567-08:00"
            elif c.kind.value == "json_array":
                row[c.name] = '["beginner","intermediate"]'
            elif c.name in ALLOWED:
                row[c.name] = ALLOWED[c.name][i % len(ALLOWED[c.name])]
            else:
                row[c.name] = f"{c.name.lower()} {i}, {snapshot}"
        rows.append(row)
    return rows


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Mapping[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(header))
        writer.writeheader()
        writer.writerows(rows)
    return path


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
