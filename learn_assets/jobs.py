"""Jobs over the asset graph, and running them from Python (demo, tests, scripts).

No `from __future__ import annotations` here: Dagster reads the op's config type at runtime.
"""

import datetime as dt
import os
import uuid
from collections.abc import Callable, Collection, Mapping
from typing import TextIO

import dagster as dg

from learn_assets.exports.resource import ExportSettings
from learn_assets.partitions import SNAPSHOT_TAG
from learn_assets.progress import follow_run
from learn_assets.resources.reporting import ReportSettings
from learn_assets.resources.warehouse import WarehouseResource

# Everything that is computed per snapshot date.
snapshot_job = dg.define_asset_job(
    "snapshot_pipeline",
    selection=dg.AssetSelection.tag(*SNAPSHOT_TAG),
    description="Builds every per-snapshot asset for the selected snapshot date(s).",
)


def snapshot_asset_keys() -> list[dg.AssetKey]:
    """The assets of `snapshot_pipeline`. A sensor or schedule names them in its run requests:
    declarative automation ignores a dependency's update made by a run that also built the
    asset (`AutomationCondition.any_deps_updated`), but only when the run lists its assets; a
    run of the whole job without the list would look like a reason to build them again."""
    from learn_assets.definitions import ASSETS  # at tick time: definitions imports the sensors

    return sorted(
        (key for a in ASSETS if a.partitions_def for key in a.keys),
        key=lambda k: k.to_user_string(),
    )


# What is not per snapshot: the Entra users export, loaded and staged whole.
entra_job = dg.define_asset_job(
    "entra_export",
    selection=dg.AssetSelection.all() - dg.AssetSelection.tag(*SNAPSHOT_TAG),
    description="Loads and stages the Entra users export (not per snapshot).",
)

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
    from learn_assets.definitions import ASSETS

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


class ForgetConfig(dg.Config):
    snapshot: str  # YYYY-MM-DD, the snapshot date to remove


def stored_partitions(conn, exports_root) -> dict[dg.AssetKey, list[dt.date]]:
    """Every per-snapshot asset and the snapshots the warehouse (or the exports folder) holds
    for it now."""
    from learn_assets.contracts.datasets import DATASETS
    from learn_assets.core.build import CORE_TABLES
    from learn_assets.exports.refresh import exported_snapshots
    from learn_assets.reports.build import REPORT_TABLES
    from learn_assets.resources.versioned import loaded_snapshots

    stored = {
        dg.AssetKey([layer, d.table]): loaded_snapshots(conn, layer, d.table)
        for layer in ("raw", "staged")
        for d in DATASETS
    }
    for table in CORE_TABLES:
        days = {d for s in table.sources for d in loaded_snapshots(conn, "staged", s.table)}
        stored[dg.AssetKey(["core", table.name])] = sorted(days)
    for report in REPORT_TABLES:
        stored[dg.AssetKey(["reports", report.name])] = loaded_snapshots(
            conn, "reports", report.name
        )
    stored[dg.AssetKey(["exports", "snapshot_files"])] = exported_snapshots(exports_root)
    return stored


@dg.op(
    name="forget_snapshot",
    description="Removes one snapshot date from every layer (raw, staged, quarantine, core, "
    "reports, exports), rebuilds the later snapshots that depended on it, and wipes that "
    "date's partitions in Dagster. The landing folder is left alone.",
)
def forget_snapshot_op(
    context: dg.OpExecutionContext,
    config: ForgetConfig,
    warehouse: WarehouseResource,
    report_settings: ReportSettings,
    exports: ExportSettings,
) -> None:
    from learn_assets.forget import forget_snapshot

    try:
        day = dt.date.fromisoformat(config.snapshot)
    except ValueError as e:
        raise ValueError(f"snapshot must be a date YYYY-MM-DD, got {config.snapshot!r}") from e
    with warehouse.get_connection() as conn:
        done = forget_snapshot(
            conn, day, report_settings.values(), exports.root, xlsx_max_rows=exports.xlsx_max_rows
        )
        stored = stored_partitions(conn, exports.root)
    context.log.info(f"removed {day} from {len(done.tables)} tables")
    # Dagster's open-source storage cannot remove one partition's materializations: wipe the
    # asset's status and record again the partitions the warehouse holds (run logs stay).
    for key, days in stored.items():
        context.instance.wipe_assets([key])
        for kept in days:
            context.log_event(
                dg.AssetMaterialization(
                    asset_key=key,
                    partition=kept.isoformat(),
                    description=f"still stored after forgetting {day}",
                    metadata={"forgotten_snapshot": day.isoformat()},
                )
            )
    for table, steps in done.rebuilt.items():
        key = dg.AssetKey(table.split("."))
        for step in steps:
            if step.rows is None:
                continue
            context.log.info(f"{table} {step.snapshot}: rebuilt ({step.reason})")
            context.log_event(
                dg.AssetMaterialization(
                    asset_key=key,
                    partition=step.snapshot.isoformat(),
                    description=f"rebuilt: {step.reason}",
                    metadata={"rebuilt_because": step.reason, "dagster/row_count": step.rows},
                )
            )


@dg.job(
    name="forget",
    description="Removes a wrongly delivered snapshot everywhere: `learn-assets forget "
    "YYYY-MM-DD`, or launch it with config ops.forget_snapshot.config.snapshot.",
)
def forget_job() -> None:
    forget_snapshot_op()
