"""Report assets: `reports/<table>`, one per report, built "as of" each snapshot."""

import datetime as dt

import dagster as dg

from learn_assets.partitions import single_run, snapshot_partitions
from learn_assets.reports.build import REPORT_TABLES, ReportTable, build_report
from learn_assets.resources import ReportSettings, WarehouseResource


def build_report_asset(report: ReportTable) -> dg.AssetsDefinition:
    @dg.asset(
        key=["reports", report.name],
        deps=[dg.AssetKey(dep.split("/")) for dep in report.deps],
        description=f"{report.description} Table `reports.{report.name}`.",
        group_name="reports",
        partitions_def=snapshot_partitions,
        backfill_policy=single_run,
        kinds={"duckdb"},
        metadata={"dagster/table_name": f"reports.{report.name}", "key": ", ".join(report.key)},
    )
    def _report(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        report_settings: ReportSettings,
    ):
        settings = report_settings.values()
        keys = sorted(context.partition_keys)
        # activity_daily is rebuilt whole from the facts: once per run is enough.
        days = keys if report.per_snapshot else keys[-1:]
        rows = 0
        with warehouse.get_connection() as conn:
            for key in days:
                rows = build_report(conn, report, dt.date.fromisoformat(key), settings)
                context.log.info(f"reports.{report.name} {key}: {rows} rows")
        return dg.MaterializeResult(metadata={"dagster/row_count": rows})

    return _report


report_assets: list[dg.AssetsDefinition] = [build_report_asset(r) for r in REPORT_TABLES]
