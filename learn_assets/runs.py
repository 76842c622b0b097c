"""Running the asset graph from Python: the demo, the CLI, tests and the benchmark."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Collection, Mapping

import dagster as dg

from learn_assets.graph import ASSETS

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


def materialize_snapshots(
    first: dt.date,
    last: dt.date,
    resources: Mapping[str, object],
    instance: dg.DagsterInstance | None = None,
    progress: Callable[[str], None] | None = None,
    quiet: bool = True,
    skip_groups: Collection[str] = (),
) -> list[dg.ExecuteInProcessResult]:
    """Materialize the unpartitioned assets, then every partitioned asset for first..last in one
    run (the same thing `dagster asset materialize --partition-range` does). Assets of
    `skip_groups` (e.g. "exports") are left out."""
    instance = instance or default_instance()
    say = progress or (lambda _: None)
    unpartitioned, partitioned = [], []
    for asset in ASSETS:
        keys = [k for k, group in asset.group_names_by_key.items() if group not in skip_groups]
        (partitioned if asset.partitions_def else unpartitioned).extend(keys)
    results = []
    for keys, tags, label in (
        (unpartitioned, {}, "unpartitioned assets"),
        (
            partitioned,
            {
                "dagster/asset_partition_range_start": first.isoformat(),
                "dagster/asset_partition_range_end": last.isoformat(),
            },
            f"snapshots {first}..{last}",
        ),
    ):
        say(f"  run: {len(keys)} assets, {label}")
        result = dg.materialize(
            ASSETS,
            selection=keys,
            resources=dict(resources),
            instance=instance,
            tags=tags,
            run_config=QUIET if quiet else None,
            raise_on_error=False,
        )
        results.append(raise_on_failure(result))
    return results
