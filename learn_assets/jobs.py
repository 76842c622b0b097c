"""Jobs over the asset graph (running them from Python: `learn_assets.runs`).

No `from __future__ import annotations` here: Dagster reads the op's config type at runtime.
"""

import datetime as dt
import os
from pathlib import Path

import dagster as dg

from learn_assets.partitions import SNAPSHOT_TAG
from learn_assets.resources.exports import ExportSettings
from learn_assets.resources.landing import LandingResource
from learn_assets.resources.publish import PublishSettings
from learn_assets.resources.reporting import ReportSettings
from learn_assets.resources.warehouse import WarehouseResource

# Everything that is computed per snapshot date.
snapshot_job = dg.define_asset_job(
    "snapshot_pipeline",
    selection=dg.AssetSelection.tag(*SNAPSHOT_TAG),
    description="Builds every per-snapshot asset for the selected snapshot date(s).",
)

# What is not per snapshot: the Entra users export, loaded and staged whole.
entra_job = dg.define_asset_job(
    "entra_export",
    selection=dg.AssetSelection.all() - dg.AssetSelection.tag(*SNAPSHOT_TAG),
    description="Loads and stages the Entra users export (not per snapshot).",
)


def snapshot_asset_keys() -> list[dg.AssetKey]:
    """The assets of `snapshot_pipeline`, from the fixed table lists. A sensor or schedule names
    them in its run requests: declarative automation ignores a dependency's update made by a
    run that also built the asset (`AutomationCondition.any_deps_updated`), but only when the
    run lists its assets; a run of the whole job without the list would look like a reason to
    build them again. (`test_definitions` checks this list against the asset graph.)"""
    from learn_assets.contracts.datasets import DATASETS
    from learn_assets.core.build import CORE_TABLES
    from learn_assets.reports.build import REPORT_TABLES

    keys = [
        *(dg.AssetKey([layer, d.table]) for layer in ("raw", "staged") for d in DATASETS),
        *(dg.AssetKey(["core", t.name]) for t in CORE_TABLES),
        *(dg.AssetKey(["reports", r.name]) for r in REPORT_TABLES),
        dg.AssetKey(["exports", "snapshot_files"]),
        dg.AssetKey(["publish", "lake"]),
        dg.AssetKey(["publish", "reports_database"]),
    ]
    return sorted(keys, key=lambda k: k.to_user_string())


class ForgetConfig(dg.Config):
    snapshot: str  # YYYY-MM-DD, the snapshot date to remove


def stored_partitions(conn, exports_root) -> dict[dg.AssetKey, list[dt.date]]:
    """Every per-snapshot asset and the snapshots the warehouse (or the exports folder) holds
    for it now."""
    from learn_assets.contracts.datasets import DATASETS
    from learn_assets.core.build import CORE_TABLES
    from learn_assets.exports.refresh import exported_snapshots
    from learn_assets.reports.build import REPORT_TABLES
    from learn_assets.warehouse.versioned import loaded_snapshots

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
    reports = loaded_snapshots(conn, "reports", "org_overview")
    stored[dg.AssetKey(["publish", "lake"])] = reports
    stored[dg.AssetKey(["publish", "reports_database"])] = reports
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
    publish: PublishSettings,
    landing: LandingResource,
) -> None:
    from learn_assets.forget import forget_snapshot
    from learn_assets.publish.lake import lake_for

    try:
        day = dt.date.fromisoformat(config.snapshot)
    except ValueError as e:
        raise ValueError(f"snapshot must be a date YYYY-MM-DD, got {config.snapshot!r}") from e
    with warehouse.get_connection() as conn:
        done = forget_snapshot(
            conn,
            day,
            report_settings.values(),
            exports.root,
            lake_for(publish.lake_dir, os.environ),
            Path(publish.serving_database),
            xlsx_max_rows=exports.xlsx_max_rows,
            html_max_learners=exports.html_max_learners,
            landing_dir=landing.landing_dir,
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
