"""The warehouse resource: DuckDB's memory cap and lock timeout come from the environment and
are validated; a step waits for another process's lock, saying who holds it, up to the timeout."""

import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from learn_assets.graph import ASSETS
from learn_assets.resources import WarehouseResource, resources_from_env
from learn_assets.runs import failure_messages
from learn_assets.warehouse.lock import lock_advice, lock_looks_free
from learn_assets_tests.helpers import holder


def test_connections_are_capped_at_the_configured_memory(tmp_path):
    assert resources_from_env({})["warehouse"].memory_limit == "1.5GB"
    warehouse = resources_from_env(
        {"LEARN_WAREHOUSE": str(tmp_path / "w.duckdb"), "LEARN_DUCKDB_MEMORY_LIMIT": "512MB"}
    )["warehouse"]
    with warehouse.get_connection() as conn:
        limit = conn.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert limit in ("488.2 MiB", "512.0 MB"), limit  # DuckDB shows it in its own units


def test_release_cache_drops_the_cached_blocks_and_keeps_the_cap(tmp_path):
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as conn:  # about 90 MB of blocks that hardly compress
        conn.execute("CREATE TABLE t AS SELECT random() AS a, random() AS b FROM range(6000000)")
    warehouse = resources_from_env(
        {"LEARN_WAREHOUSE": str(path), "LEARN_DUCKDB_MEMORY_LIMIT": "512MB"}
    )["warehouse"]
    cached = "SELECT sum(memory_usage_bytes) FROM duckdb_memory() WHERE tag = 'BASE_TABLE'"
    with warehouse.get_connection() as conn:
        conn.execute("SELECT sum(a + b) FROM t").fetchone()  # the blocks read stay cached
        before = conn.execute(cached).fetchone()[0]
        warehouse.release_cache(conn)
        after = conn.execute(cached).fetchone()[0]
        limit = conn.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    assert before > 80 * 2**20 > 64 * 2**20 >= after, (before, after)
    assert limit in ("488.2 MiB", "512.0 MB"), limit


@pytest.mark.parametrize("bad", ["lots", "2GB; DROP TABLE x", ""])
def test_a_bad_memory_limit_is_refused_by_name(tmp_path, bad):
    warehouse = WarehouseResource(database=str(tmp_path / "w.duckdb"), memory_limit=bad)
    with pytest.raises(ValueError, match="LEARN_DUCKDB_MEMORY_LIMIT"):
        with warehouse.get_connection():
            pass


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
    with holder(database, seconds=0) as (process, command):  # until the step waits
        result, logs = materialize_entra(resources)
        assert process.stdout is not None and process.stdout.readline() == "closed\n"
    assert result.success, failure_messages(result)
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


# A second process that waits for the warehouse's lock as a step does (`connect_waiting`, which
# says so with a waiting marker), once a run holds the file, then writes in its turn.
WAITER = (
    "import logging, sys, time\n"
    "from learn_assets.warehouse.lock import connect_waiting, lock_looks_free\n"
    "path = sys.argv[1]\n"
    "deadline = time.monotonic() + 120\n"
    "while lock_looks_free(path):  # asks without taking a lock: never delays the run\n"
    "    assert time.monotonic() < deadline, 'the run never held the warehouse'\n"
    "    time.sleep(0.01)\n"
    "print('waiting', time.time(), flush=True)\n"
    "conn = connect_waiting(path, {}, 120, logging.getLogger('waiter'))\n"
    "print('got', time.time(), flush=True)\n"
    "conn.execute('CREATE TABLE waiter_was_here AS SELECT 1 AS x')\n"
    "time.sleep(float(sys.argv[2]))\n"
    "conn.close()\n"
    "print('closed', time.time(), flush=True)\n"
)


def test_a_process_waiting_for_the_lock_gets_it_at_the_runs_next_step_boundary(
    tmp_path, landing_dir, write_snapshot, resources
):
    """A run keeps the warehouse open from step to step; another process that waits for the lock
    gets it at the run's next step boundary (not at the run's end), and the run then waits for
    it, saying so in its log, and goes on."""
    day = dt.date(2026, 11, 1)
    write_snapshot(day)
    database = resources["warehouse"].database
    with resources["warehouse"].get_connection():  # the file exists before the waiter looks
        pass
    script = tmp_path / "waiter.py"
    script.write_text(WAITER)
    waiter = subprocess.Popen(
        [sys.executable, str(script), database, "2"], stdout=subprocess.PIPE, text=True
    )
    try:
        instance = dg.DagsterInstance.ephemeral()
        result = dg.materialize(
            ASSETS,
            selection=dg.AssetSelection.groups("raw", "staged")
            & dg.AssetSelection.tag("partitioned", "snapshot_date"),
            partition_key=day.isoformat(),
            resources=resources,
            instance=instance,
            raise_on_error=False,
        )
        output, _ = waiter.communicate(timeout=120)
    finally:
        waiter.kill()
        waiter.wait()
    assert result.success, failure_messages(result)
    assert waiter.returncode == 0, output
    said = {line.split()[0]: float(line.split()[1]) for line in output.splitlines()}
    logs = instance.all_logs(result.run_id)
    starts = [e.timestamp for e in logs if e.dagster_event and e.dagster_event.is_step_start]
    # It got its turn while the run still had steps to start, and the run waited for it.
    assert said["got"] < max(starts), (said, min(starts), max(starts))
    messages = [e.user_message for e in logs]
    assert f"waiting for the warehouse lock held by PID {waiter.pid}" in "\n".join(messages)
    with duckdb.connect(database, read_only=True) as conn:
        assert conn.execute("SELECT x FROM waiter_was_here").fetchall() == [(1,)]
        assert conn.execute("SELECT count(*) FROM staged.progress").fetchone() == (2,)
    assert not list(Path(database).parent.glob("*.waiting.*"))  # no waiting marker is left


def test_the_warehouse_is_closed_when_the_execution_ends(tmp_path, landing_dir, resources):
    """Between its steps a run keeps the file open; once the run is over, another process can
    open it for writing at once (no waiting)."""
    result, _ = materialize_entra(resources)
    assert result.success, failure_messages(result)
    opened = subprocess.run(
        [
            sys.executable,
            "-c",
            "import duckdb, sys; duckdb.connect(sys.argv[1]).execute('CHECKPOINT').fetchall()",
            resources["warehouse"].database,
        ],
        capture_output=True,
        text=True,
    )
    assert opened.returncode == 0, opened.stderr


def test_each_step_has_a_connection_of_its_own_and_an_in_memory_warehouse_is_per_block(tmp_path):
    """Inside an execution each block gets its own connection to the open file (a temporary
    table of one step is not seen by the next); `:memory:` is a new database each time."""
    warehouse = WarehouseResource(database=str(tmp_path / "w.duckdb"))
    seen = []

    @dg.op
    def steps(warehouse: WarehouseResource) -> None:
        with warehouse.get_connection() as conn:
            conn.execute("CREATE TEMP TABLE mine AS SELECT 1 AS x")
            conn.execute("CREATE TABLE kept AS SELECT 1 AS x")
            with warehouse.get_connection() as nested:  # nested blocks share the open file
                seen.append(nested.execute("SELECT count(*) FROM kept").fetchone())
        with warehouse.get_connection() as conn:
            seen.append(
                conn.execute(
                    "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'mine'"
                ).fetchone()
            )
            seen.append(conn.execute("SELECT count(*) FROM kept").fetchone())

    @dg.job
    def job() -> None:
        steps()

    assert job.execute_in_process(resources={"warehouse": warehouse}).success
    assert seen == [(1,), (0,), (1,)]
    seen.clear()
    memory = WarehouseResource(database=":memory:")

    @dg.op
    def in_memory(warehouse: WarehouseResource) -> None:
        with warehouse.get_connection() as conn:
            conn.execute("CREATE TABLE t AS SELECT 1 AS x")
        with warehouse.get_connection() as conn:
            seen.append(
                conn.execute(
                    "SELECT count(*) FROM duckdb_tables() WHERE table_name = 't'"
                ).fetchone()
            )

    @dg.job
    def memory_job() -> None:
        in_memory()

    assert memory_job.execute_in_process(resources={"warehouse": memory}).success
    assert seen == [(0,)]


def test_whether_the_lock_looks_free_is_asked_without_taking_it(tmp_path):
    """A waiter looks (without locking) whether the holder let go, so it retries at once."""
    database = str(tmp_path / "w.duckdb")
    assert lock_looks_free(database) is None  # no file: cannot tell
    duckdb.connect(database).close()
    assert lock_looks_free(database) is True
    with holder(database, seconds=300):
        assert lock_looks_free(database) is False
        assert lock_looks_free(database) is False  # asking twice took and freed no lock


# Waits for a signal file, then for the warehouse's lock as a step does, and writes in its turn.
SIGNALLED_WAITER = (
    "import logging, pathlib, sys, time\n"
    "from learn_assets.warehouse.lock import connect_waiting, lock_looks_free\n"
    "path, signal = sys.argv[1], pathlib.Path(sys.argv[2])\n"
    "deadline = time.monotonic() + 120\n"
    "while not signal.exists():\n"
    "    assert time.monotonic() < deadline, 'no signal'\n"
    "    time.sleep(0.01)\n"
    "print('held', lock_looks_free(path) is False, flush=True)\n"
    "conn = connect_waiting(path, {}, 120, logging.getLogger('waiter'))\n"
    "print('got', time.time(), flush=True)\n"
    "conn.execute('CREATE TABLE waiter_was_here AS SELECT 1 AS x')\n"
    "conn.close()\n"
)


def test_a_run_busy_elsewhere_lets_a_waiting_process_have_the_warehouse(tmp_path):
    """Between two warehouse steps, while the run does something else (here a step that does not
    use the warehouse; or Dagster waiting for a pool slot), a waiting process gets the file: the
    run does not keep it from others while not using it."""
    database = str(tmp_path / "w.duckdb")
    signal = tmp_path / "first-step-done"
    script = tmp_path / "waiter.py"
    script.write_text(SIGNALLED_WAITER)

    @dg.op
    def first(warehouse: WarehouseResource) -> None:
        with warehouse.get_connection() as conn:
            conn.execute("CREATE TABLE t AS SELECT 1 AS x")
        signal.touch()

    @dg.op(ins={"after": dg.In(dg.Nothing)})
    def elsewhere() -> None:
        time.sleep(5)

    @dg.op(ins={"after": dg.In(dg.Nothing)})
    def last(warehouse: WarehouseResource) -> None:
        with warehouse.get_connection() as conn:
            conn.execute("INSERT INTO t VALUES (2)")

    @dg.job
    def job() -> None:
        last(after=elsewhere(after=first()))

    waiter = subprocess.Popen(
        [sys.executable, str(script), database, str(signal)], stdout=subprocess.PIPE, text=True
    )
    try:
        instance = dg.DagsterInstance.ephemeral()
        result = job.execute_in_process(
            resources={"warehouse": WarehouseResource(database=database)}, instance=instance
        )
        output, _ = waiter.communicate(timeout=120)
    finally:
        waiter.kill()
        waiter.wait()
    assert result.success
    assert waiter.returncode == 0, output
    said = dict(line.split(maxsplit=1) for line in output.splitlines())
    assert said["held"] == "True"  # the run kept the file after its first step...
    last_start = next(
        e.timestamp
        for e in instance.all_logs(result.run_id)
        if e.dagster_event and e.dagster_event.is_step_start and e.step_key == "last"
    )
    assert float(said["got"]) < last_start  # ... and let the waiter have it before its last
    with duckdb.connect(database, read_only=True) as conn:
        assert conn.execute("SELECT x FROM waiter_was_here").fetchall() == [(1,)]
        assert conn.execute("SELECT x FROM t ORDER BY x").fetchall() == [(1,), (2,)]
