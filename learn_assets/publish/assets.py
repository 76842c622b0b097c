"""Publish assets (group `publish`): copies of the reports that readers use without ever waiting
for the pipeline, or making it wait: the Delta Lake tables and the reports database.

No `from __future__ import annotations` here: Dagster reads the context type hint at runtime.
The lake's modules (deltalake) are imported when a step runs, not when the code location loads.
"""

import datetime as dt
import os
from pathlib import Path

import dagster as dg

from learn_assets.core.build import CORE_TABLES
from learn_assets.partitions import single_run, snapshot_partitions
from learn_assets.reports.build import REPORT_TABLES
from learn_assets.resources import PublishSettings, ReportSettings, WarehouseResource
from learn_assets.tenancy import RUN_TAGS, WAREHOUSE_POOL, named

UPSTREAM = [
    *(dg.AssetKey(["reports", r.name]) for r in REPORT_TABLES),
    *(dg.AssetKey(["core", t.name]) for t in CORE_TABLES),
]
LAKE_KEY = dg.AssetKey(["publish", "lake"])
MATCHES = "lake_matches_warehouse"


def tables_metadata(tables: dict[str, dict[str, object]]) -> dg.MetadataValue:
    return dg.MetadataValue.table(
        records=[
            dg.TableRecord(
                {
                    "table": name,
                    "delta_version": -1 if t["version"] is None else int(t["version"]),
                    "files": int(t["files"]),
                    "rows": int(t["rows"]),
                }
            )
            for name, t in tables.items()
        ],
        schema=dg.TableSchema(
            columns=[
                dg.TableColumn("table", "string"),
                dg.TableColumn("delta_version", "int"),
                dg.TableColumn("files", "int"),
                dg.TableColumn("rows", "int"),
            ]
        ),
    )


@dg.asset(
    key=LAKE_KEY,
    deps=UPSTREAM,
    group_name="publish",
    pool=WAREHOUSE_POOL,
    partitions_def=snapshot_partitions,
    backfill_policy=single_run,
    kinds={"deltalake"},
    check_specs=[
        dg.AssetCheckSpec(
            MATCHES,
            asset=LAKE_KEY,
            blocking=True,
            description="Blocking. Every report's rows per snapshot in the lake equal the "
            "warehouse's, for every loaded snapshot.",
            partitions_def=snapshot_partitions,
        )
    ],
)
def lake(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    publish: PublishSettings,
    report_settings: ReportSettings,
) -> dg.MaterializeResult:
    """Every report (`<lake>/reports/<report>`, partitioned by snapshot_date, every loaded
    snapshot) and every core table (`<lake>/core/<table>`, current values) as Delta Lake tables
    under LEARN_LAKE_DIR, for Power BI, Fabric, Databricks and pandas. A snapshot's partition is
    replaced in one commit; a re-run that changed nothing writes nothing; a removed snapshot is
    deleted."""
    from learn_assets.publish.lake import (
        LakeError,
        lake_counts,
        lake_for,
        publish_lake,
        warehouse_counts,
    )

    requested = [dt.date.fromisoformat(k) for k in sorted(context.partition_keys)]
    where = lake_for(publish.lake_dir, os.environ)
    privacy = report_settings.values().pseudonymize
    with warehouse.get_connection() as conn:
        try:
            done = publish_lake(conn, where, requested, privacy)
        except LakeError as e:
            raise dg.Failure(str(e)) from None
        differing = {
            report.name: (counts, lake_counts(where, report))
            for report in REPORT_TABLES
            if (counts := warehouse_counts(conn, report)) != lake_counts(where, report)
        }
    for name, table in done.tables.items():
        if table.get("written") or table.get("removed"):
            context.log.info(f"lake {name}: version {table['version']}, {table['rows']} rows")
    return dg.MaterializeResult(
        metadata={"lake": where.root, "tables": tables_metadata(done.tables)},
        check_results=[
            dg.AssetCheckResult(
                check_name=MATCHES,
                passed=not differing,
                metadata={
                    "differing": {
                        name: {
                            "warehouse": {str(k): v for k, v in w.items()},
                            "lake": {str(k): v for k, v in lk.items()},
                        }
                        for name, (w, lk) in differing.items()
                    }
                },
                description=f"rows differ in {', '.join(differing)}" if differing else None,
            )
        ],
    )


@dg.asset(
    key=["publish", "reports_database"],
    deps=UPSTREAM,
    group_name="publish",
    pool=WAREHOUSE_POOL,
    partitions_def=snapshot_partitions,
    backfill_policy=single_run,
    kinds={"duckdb"},
)
def reports_database(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    publish: PublishSettings,
    report_settings: ReportSettings,
) -> dg.MaterializeResult:
    """The file analysts and BI tools connect to (LEARN_SERVING_DATABASE, default
    `data/serving.duckdb`): the `reports` and `core` schemas as tables of their own, written
    under a temporary name and renamed into place, so a reader never blocks the pipeline and
    keeps reading the previous version until it reconnects. The new file starts from the
    previous one and takes only what the warehouse changed since (metadata `how`)."""
    from learn_assets.publish.serving import build_serving_database

    target = Path(publish.serving_database)
    with warehouse.get_connection() as conn:
        built = build_serving_database(conn, target, report_settings.values().pseudonymize)
    whole = {name: how for name, how in built.how.items() if how.startswith("whole")}
    context.log.info(
        f"reports database {target}: {sum(built.rows.values())} rows stored; "
        f"{len(built.how) - len(whole)} of {len(built.how)} tables from the previous file"
        + "".join(f"; {name} {how}" for name, how in whole.items())
    )
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(target.resolve())),
            "size_bytes": target.stat().st_size,
            "rows_stored": dg.MetadataValue.json(built.rows),
            "how": dg.MetadataValue.json(built.how),
        }
    )


@dg.op(description="Compacts the lake's small files and vacuums files older than a week.")
def maintain_lake_op(context: dg.OpExecutionContext, publish: PublishSettings) -> None:
    from learn_assets.publish.lake import lake_for
    from learn_assets.publish.maintenance import maintain_lake

    for name, outcome in maintain_lake(lake_for(publish.lake_dir, os.environ)).items():
        context.log.info(f"lake {name}: {outcome}")


@dg.job(
    name=named("lake_maintenance"),
    run_tags=RUN_TAGS,
    description="Compacts every Delta table of the lake and removes files no version of the last "
    "7 days uses (time travel reaches back 7 days).",
)
def lake_maintenance_job() -> None:
    maintain_lake_op()


lake_maintenance_schedule = dg.ScheduleDefinition(
    name=named("lake_maintenance_schedule"),
    job=lake_maintenance_job,
    cron_schedule="30 3 * * 0",  # Sundays 03:30 UTC
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Weekly: compact the lake's Delta tables and vacuum files older than 7 days.",
)

publish_assets: list[dg.AssetsDefinition] = [lake, reports_database]
