"""The code location loads, validates with the Dagster CLI, and backfills a range from the CLI."""

import datetime as dt
import subprocess
import sys

import dagster as dg
import duckdb
import pytest

from learn_assets.contracts.datasets import DATASETS
from learn_assets.definitions import defs
from learn_assets_tests.cli import DAGSTER, PROJECT, cli_env, start_materialize


def test_every_dataset_has_a_raw_asset_and_the_graph_resolves():
    keys = {k.to_user_string() for k in defs.resolve_all_asset_keys()}
    assert {f"raw/{d.table}" for d in DATASETS} | {"raw/entra_users"} <= keys
    job = defs.resolve_job_def("snapshot_pipeline")
    partitioned = {a.key for a in defs.assets if a.partitions_def}
    assert job.asset_layer.executable_asset_keys == partitioned


def test_dagster_definitions_validate(tmp_path, landing_dir):
    result = subprocess.run(
        [DAGSTER, "definitions", "validate", "-m", "learn_assets.definitions"],
        cwd=PROJECT,
        env=cli_env(tmp_path, landing_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# Imported by the steps that need them, never by the code location: every run, step process,
# sensor evaluation and code server imports the code location first (issue #18).
HEAVY_MODULES = (
    "pandera",
    "pandas",
    "numpy",
    "pyarrow",
    "matplotlib",
    "PIL",
    "xlsxwriter",
    "openpyxl",
    "deltalake",
    "azure",
    "adlfs",
)


@pytest.mark.parametrize(
    "location",
    [
        "learn_assets.definitions",
        "learn_assets.publish.consolidated",  # a consolidated group's (learn_assets.locations)
    ],
)
def test_the_code_location_does_not_import_the_heavy_modules(tmp_path, landing_dir, location):
    probe = (
        f"import sys, {location}; print(sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=PROJECT,
        env=cli_env(tmp_path, landing_dir),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.slow
def test_cli_partition_range_backfill_runs_once_for_the_range(
    tmp_path, landing_dir, write_snapshot
):
    days = [dt.date(2026, 11, 1), dt.date(2026, 11, 2)]
    for day in days:
        write_snapshot(day)
    env = cli_env(tmp_path, landing_dir)
    process = start_materialize(
        env, "tag:partitioned=snapshot_date", "--partition-range", "2026-11-01...2026-11-02"
    )
    output = process.communicate(timeout=300)[0]
    assert process.returncode == 0, output
    with duckdb.connect(env["LEARN_WAREHOUSE"], read_only=True) as conn:
        for d in DATASETS:
            got = conn.execute(
                f"SELECT snapshot_date, count(*) FROM raw.{d.table} GROUP BY 1 ORDER BY 1"
            ).fetchall()
            assert got == [(day, 2) for day in days]
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        assert len(instance.get_runs()) == 1


def test_the_snapshot_asset_list_is_the_graphs_partitioned_assets():
    from learn_assets.graph import ASSETS
    from learn_assets.jobs import snapshot_asset_keys

    partitioned = sorted(
        (key for a in ASSETS if a.partitions_def for key in a.keys),
        key=lambda k: k.to_user_string(),
    )
    assert snapshot_asset_keys() == partitioned
