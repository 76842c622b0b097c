"""Where the fixed cost of one snapshot goes (issue #18): one process, as a CLI run would be.

    .venv/bin/python bench/fixed_cost.py [--landing DIR] [--day YYYY-MM-DD] [--work DIR]

Imports the code location, then runs the whole pipeline (`materialize_snapshots`, every layer and
the exports) for one snapshot into a fresh warehouse under --work, on an ephemeral instance, as
`bench/run.py` does. Prints: the import time; the run's wall time, split into the time inside
steps (per layer, from the step start and success events, Dagster's own per-step work included)
and outside them (run start and end); the process's CPU time and peak RSS; then, on the warehouse
it wrote, what opening it costs a step (open, memory cap, layout check, close) against a new
connection to the open file (what a step pays inside a run since the file stays open).
Defaults: the S landing of `make bench SIZE=S` and its first snapshot.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import shutil
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
S_LANDING = BENCH / "out" / "landing-2000-2d-a6-g0.003"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--landing", default=str(S_LANDING))
    parser.add_argument("--day", default="", help="snapshot date (default: the first)")
    parser.add_argument("--work", default=str(BENCH / "out" / "work-fixed-cost"))
    args = parser.parse_args()
    landing = Path(args.landing)
    day = args.day or min(p.name for p in landing.iterdir() if p.is_dir() and p.name[0] == "2")
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)

    os.environ["LEARN_START_DATE"] = day  # the first partition, read when the graph loads
    os.environ.pop("DAGSTER_HOME", None)  # an ephemeral instance, as bench/run.py's children
    started = time.perf_counter()
    import dagster as dg

    import learn_assets.definitions  # noqa: F401 - what the code location loads
    from learn_assets.resources.settings import resources_from_env
    from learn_assets.runs import materialize_snapshots

    imported = time.perf_counter() - started
    warehouse = work / "warehouse.duckdb"
    resources = resources_from_env(
        {
            "LEARN_LANDING_DIR": str(landing),
            "LEARN_WAREHOUSE": str(warehouse),
            "LEARN_EXPORTS_DIR": str(work / "exports"),
            "LEARN_CACHE_DIR": str(work / "cache"),
            "LEARN_LAKE_DIR": str(work / "lake"),
            "LEARN_SERVING_DATABASE": str(work / "serving.duckdb"),
        }
    )
    instance = dg.DagsterInstance.ephemeral()
    snapshot = dt.date.fromisoformat(day)
    run_started = time.perf_counter()
    results = materialize_snapshots(snapshot, snapshot, resources, instance=instance)
    run_s = time.perf_counter() - run_started

    inside, layers, steps = 0.0, {}, 0
    for result in results:
        begun = {}
        for entry in instance.all_logs(result.run_id):
            event = entry.dagster_event
            if event is None:
                continue
            if event.event_type_value == "STEP_START":
                begun[event.step_key] = entry.timestamp
            elif event.event_type_value == "STEP_SUCCESS" and event.step_key in begun:
                seconds = entry.timestamp - begun[event.step_key]
                layer = event.step_key.split("__", 1)[0]
                layers[layer] = layers.get(layer, 0.0) + seconds
                inside += seconds
                steps += 1
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(f"snapshot {day} of {landing}")
    print(f"import learn_assets.definitions: {imported:.2f} s")
    print(
        f"run: {run_s:.2f} s wall, {steps} steps; inside steps {inside:.2f} s, "
        f"outside {run_s - inside:.2f} s"
    )
    print("inside steps per layer: " + ", ".join(f"{k} {v:.2f} s" for k, v in layers.items()))
    print(
        f"process: {usage.ru_utime + usage.ru_stime:.2f} s CPU, "
        f"peak RSS {usage.ru_maxrss / 1024**2:.2f} GB"
    )
    connections(str(warehouse))


def connections(database: str, n: int = 20) -> None:
    """A step's cost of opening the warehouse against a new connection to the open file."""
    import duckdb

    from learn_assets.layout import ensure_layout

    started = time.perf_counter()
    for _ in range(n):
        conn = duckdb.connect(database, config={"custom_user_agent": "dagster"})
        conn.execute("SET memory_limit = '1.5GB'")
        ensure_layout(conn)
        conn.close()
    opened = (time.perf_counter() - started) / n
    conn = duckdb.connect(database, config={"custom_user_agent": "dagster"})
    started = time.perf_counter()
    for _ in range(n):
        conn.cursor().close()
    cursor = (time.perf_counter() - started) / n
    conn.close()
    print(
        f"per step: open + memory cap + layout check + close {opened * 1000:.1f} ms; "
        f"a connection to the open file {cursor * 1000:.2f} ms"
    )


if __name__ == "__main__":
    main()
