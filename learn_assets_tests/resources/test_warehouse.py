"""The warehouse resource: DuckDB's memory cap and lock timeout come from the environment and
are validated; a step waits for another process's lock, saying who holds it, up to the timeout."""

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pytest

from learn_assets.graph import ASSETS
from learn_assets.resources import WarehouseResource, resources_from_env
from learn_assets.runs import failure_messages
from learn_assets.warehouse.lock import lock_advice


def test_connections_are_capped_at_the_configured_memory(tmp_path):
    assert resources_from_env({})["warehouse"].memory_limit == "2GB"
    warehouse = resources_from_env(
        {"LEARN_WAREHOUSE": str(tmp_path / "w.duckdb"), "LEARN_DUCKDB_MEMORY_LIMIT": "512MB"}
    )["warehouse"]
    with warehouse.get_connection() as conn:
        limit = conn.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert limit in ("488.2 MiB", "512.0 MB"), limit  # DuckDB shows it in its own units


@pytest.mark.parametrize("bad", ["lots", "2GB; DROP TABLE x", ""])
def test_a_bad_memory_limit_is_refused_by_name(tmp_path, bad):
    warehouse = WarehouseResource(database=str(tmp_path / "w.duckdb"), memory_limit=bad)
    with pytest.raises(ValueError, match="LEARN_DUCKDB_MEMORY_LIMIT"):
        with warehouse.get_connection():
            pass


# A second process holding the warehouse open, as an analyst's notebook or the DuckDB CLI would.
HOLDER = (
    "import duckdb, sys, time\n"
    "conn = duckdb.connect(sys.argv[1], read_only=True)\n"
    "print('holding', flush=True)\n"
    "time.sleep(float(sys.argv[2]))\n"
    "conn.close()\n"
    "print('closed', flush=True)\n"
    "time.sleep(60)\n"
)


@contextmanager
def holder(database: str, seconds: float) -> Iterator[tuple[subprocess.Popen, str]]:
    """A real process with a read-only connection to `database` for `seconds`; yields it and
    its command line as /proc shows it."""
    script = Path(database).with_name("holder.py")
    script.write_text(HOLDER)
    args = [sys.executable, str(script), database, str(seconds)]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None and process.stdout.readline() == "holding\n"
        yield process, " ".join(args)
    finally:
        process.kill()
        process.wait()


def materialize_entra(resources: dict) -> tuple[dg.ExecuteInProcessResult, list[str]]:
    """Run raw/entra_users (one warehouse step); the run's log messages."""
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        ASSETS,
        selection=[dg.AssetKey(["raw", "entra_users"])],
        resources=resources,
        instance=instance,
        raise_on_error=False,
    )
    return result, [e.user_message for e in instance.all_logs(result.run_id)]


def env_resources(tmp_path: Path, timeout: str) -> dict:
    resources = resources_from_env(
        {
            "LEARN_WAREHOUSE": str(tmp_path / "w.duckdb"),
            "LEARN_LANDING_DIR": str(tmp_path / "landing"),
            "LEARN_LOCK_TIMEOUT": timeout,
        }
    )
    with resources["warehouse"].get_connection():  # the file exists before a reader opens it
        pass
    return resources


def test_a_step_waits_for_a_reader_naming_it_and_goes_on_when_it_closes(tmp_path):
    resources = env_resources(tmp_path, "60")
    database = resources["warehouse"].database
    with holder(database, seconds=3) as (process, command):
        started = time.monotonic()
        result, logs = materialize_entra(resources)
        assert process.stdout is not None and process.stdout.readline() == "closed\n"
    assert result.success, failure_messages(result)
    assert time.monotonic() - started >= 2  # it did wait for the reader
    waiting = [m for m in logs if m.startswith("waiting for")]
    assert waiting == [f"waiting for the warehouse lock held by PID {process.pid} ({command})"]


def test_past_lock_timeout_the_step_fails_naming_the_holder_and_the_fix(tmp_path):
    resources = env_resources(tmp_path, "2")
    database = resources["warehouse"].database
    with holder(database, seconds=300) as (process, command):
        result, logs = materialize_entra(resources)
    assert failure_messages(result) == [
        f"raw__entra_users: the warehouse {database} is still locked by PID {process.pid} "
        f"({command}) after 2 s (LEARN_LOCK_TIMEOUT=2): close that program's connection to the "
        "warehouse (analysts: read the reports database or the exports, not the warehouse), "
        "then run this again"
    ]
    assert f"waiting for the warehouse lock held by PID {process.pid} ({command})" in logs


def test_a_dagster_run_holding_the_lock_is_named_as_a_run():
    run_id = "0b6a3c1e-5f7d-4a8e-9c2b-1d3e5f7a9b0c"
    command = f'dagster api execute_run {{"__class__": "ExecuteRunArgs", "run_id": "{run_id}"}}'
    assert lock_advice(command) == (
        f"it is Dagster run {run_id}: wait for it to finish, then run this again"
    )
    assert lock_advice("/x/.venv/bin/dagster asset materialize -m learn_assets.definitions") == (
        "it is another Dagster run: wait for it to finish, then run this again"
    )


@pytest.mark.parametrize("bad", ["ten", "-1", "nan", "1e999"])
def test_a_bad_lock_timeout_is_refused_by_name(bad):
    with pytest.raises(ValueError) as err:
        resources_from_env({"LEARN_LOCK_TIMEOUT": bad})
    assert str(err.value) == (
        f"LEARN_LOCK_TIMEOUT must be a number of seconds (0 or more), got {bad!r}"
    )
    assert resources_from_env({})["warehouse"].lock_timeout == 600
