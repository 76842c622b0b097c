"""Running the real `dagster` CLI against a throwaway instance, landing and warehouse."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

DAGSTER = str(Path(sys.executable).parent / "dagster")
LEARN = str(Path(sys.executable).parent / "learn-assets")
PROJECT = Path(__file__).resolve().parents[1]


def cli_env(tmp_path: Path, landing: Path) -> dict[str, str]:
    home = tmp_path / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text((PROJECT / "dagster.yaml").read_text())
    # Create the instance's SQLite storage now: two CLI processes starting at once on a fresh
    # DAGSTER_HOME would race to create the same tables.
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.get_runs(limit=1)
        instance.event_log_storage.get_concurrency_keys()
        instance.schedule_storage.all_instigator_state()
    return os.environ | {
        "DAGSTER_HOME": str(home),
        "LEARN_LANDING_DIR": str(landing),
        "LEARN_WAREHOUSE": str(tmp_path / "cli.duckdb"),
        "LEARN_EXPORTS_DIR": str(tmp_path / "exports"),
        "LEARN_LAKE_DIR": str(tmp_path / "lake"),
        "LEARN_SERVING_DATABASE": str(tmp_path / "serving.duckdb"),
        "LEARN_CACHE_DIR": str(tmp_path / "cache"),
        "LEARN_START_DATE": "2026-10-01",
    }


def start_materialize(env: dict[str, str], select: str, *partition: str) -> subprocess.Popen:
    """`dagster asset materialize` in the background; `partition` is e.g. ("--partition", D)."""
    return subprocess.Popen(
        [
            DAGSTER,
            "asset",
            "materialize",
            "-m",
            "learn_assets.definitions",
            "--select",
            select,
            *partition,
        ],
        # Not the project folder: the dagster CLI reads a .env there (e.g. the demo's
        # LEARN_START_DATE) over the environment.
        cwd=Path(env["DAGSTER_HOME"]).parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def run_learn(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """`learn-assets *args` to its end (at most 10 minutes); it must succeed (its output's tail
    is the failure message)."""
    done = subprocess.run(
        [LEARN, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done
