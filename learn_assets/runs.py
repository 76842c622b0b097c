"""Running the asset graph from Python: the demo, the CLI, tests and the benchmark."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Callable, Collection, Mapping
from typing import TextIO

import dagster as dg

from learn_assets.graph import ASSETS
from learn_assets.jobs import entra_job, snapshot_job
from learn_assets.progress import follow_run

QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def default_instance() -> dg.DagsterInstance:
    """The instance under $DAGSTER_HOME (so runs show in `make ui`), else a throwaway one."""
    return (
        dg.DagsterInstance.get()
        if os.environ.get("DAGSTER_HOME")
        else dg.DagsterInstance.ephemeral()
    )


def failure_messages(result: dg.ExecuteInProcessResult) -> list[str]:
    """`step: message` of the innermost error of each failed step (the user's exception)."""
    messages = []
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        while error is not None and error.cause is not None:
            error = error.cause
        message = error.message.strip() if error else (event.message or "")
        if error and error.cls_name and message.split(": ", 1)[0].endswith(error.cls_name):
            message = message.split(": ", 1)[1]  # drop the exception's class path
        messages.append(f"{event.step_key}: {message}")
    return messages


def raise_on_failure(result: dg.ExecuteInProcessResult) -> dg.ExecuteInProcessResult:
    if not result.success:
        raise RuntimeError(f"run {result.run_id} failed:\n" + "\n".join(failure_messages(result)))
    return result


def partition_tags(first: dt.date, last: dt.date) -> dict[str, str]:
    """The run tags for snapshots first..last: one snapshot is a partition (its checks then
    record that partition, which declarative automation reads), more are a range."""
    if first == last:
        return {"dagster/partition": first.isoformat()}
    return {
        "dagster/asset_partition_range_start": first.isoformat(),
        "dagster/asset_partition_range_end": last.isoformat(),
    }


def materialize_snapshots(
    first: dt.date,
    last: dt.date,
    resources: Mapping[str, object],
    instance: dg.DagsterInstance | None = None,
    progress: Callable[[str], None] | None = None,
    quiet: bool = True,
    skip_groups: Collection[str] = (),
    show_progress: TextIO | None = None,
    raise_on_error: bool = True,
    unpartitioned: bool = True,
    log_level: str = "WARNING",
) -> list[dg.ExecuteInProcessResult]:
    """Materialize the unpartitioned assets (job `entra_export`), then every partitioned asset
    for first..last in one run of `snapshot_pipeline` (what `dagster asset materialize
    --partition-range` does, under the job's name). Assets of `skip_groups` (e.g. "exports")
    are left out. `progress` gets a line per run; `show_progress` (a stream) shows every asset
    as it is built. With `raise_on_error=False` a failed run is returned, not raised;
    `unpartitioned=False` leaves out the `entra_export` run; `log_level` is the console's when
    `quiet`."""
    instance = instance or default_instance()
    say = progress or (lambda _: None)
    defs = dg.Definitions(
        assets=ASSETS,
        jobs=[snapshot_job, entra_job],
        resources=dict(resources),
        executor=dg.in_process_executor,
    )
    entra_keys, partitioned = [], []
    for asset in ASSETS:
        keys = [k for k, group in asset.group_names_by_key.items() if group not in skip_groups]
        (partitioned if asset.partitions_def else entra_keys).extend(keys)
    results = []
    runs = [(entra_job, entra_keys, {}, "unpartitioned assets")] if unpartitioned else []
    for job, keys, tags, label in (
        *runs,
        (
            snapshot_job,
            partitioned,
            partition_tags(first, last),
            f"snapshots {first}..{last}" if first != last else f"snapshot {first}",
        ),
    ):
        say(f"  run {job.name}: {len(keys)} assets, {label}")
        run_id = str(uuid.uuid4())
        close = follow_run(instance, run_id, keys, show_progress) if show_progress else None
        try:
            result = defs.resolve_job_def(job.name).execute_in_process(
                run_config={"loggers": {"console": {"config": {"log_level": log_level}}}}
                if quiet
                else None,
                instance=instance,
                asset_selection=keys,
                tags=tags,
                run_id=run_id,
                raise_on_error=False,
            )
        finally:
            if close:
                close()
        results.append(raise_on_failure(result) if raise_on_error else result)
    return results
