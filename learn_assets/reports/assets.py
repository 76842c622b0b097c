"""Report assets: `reports/<table>`, one per report, built "as of" each snapshot."""

import datetime as dt

import dagster as dg

from learn_assets.columns import REPORT_COLUMNS, table_schema
from learn_assets.partitions import announce_rebuilt, single_run, snapshot_partitions
from learn_assets.reports.build import REPORT_TABLES, ReportTable, refresh_report
from learn_assets.reports.checks import report_checks
from learn_assets.resources import ReportSettings, WarehouseResource
from learn_assets.staged.assets import check_result
from learn_assets.tenancy import WAREHOUSE_POOL


def build_report_asset(report: ReportTable) -> dg.AssetsDefinition:
    key = dg.AssetKey(["reports", report.name])
    checks = report_checks(report)

    @dg.asset(
        key=key,
        deps=[dg.AssetKey(dep.split("/")) for dep in report.deps],
        description=f"{report.description} Table `reports.{report.name}`.",
        group_name="reports",
        pool=WAREHOUSE_POOL,
        partitions_def=snapshot_partitions,
        backfill_policy=single_run,
        kinds={"duckdb"},
        check_specs=[
            dg.AssetCheckSpec(
                c.name,
                asset=key,
                description=c.description,
                blocking=c.blocking,
                partitions_def=snapshot_partitions,
            )
            for c in checks
        ],
        metadata={
            "dagster/table_name": f"reports.{report.name}",
            "dagster/column_schema": table_schema(REPORT_COLUMNS[report.name]),
            "key": ", ".join(report.key),
        },
    )
    def _report(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        report_settings: ReportSettings,
    ):
        settings = report_settings.values()
        requested = [dt.date.fromisoformat(k) for k in sorted(context.partition_keys)]
        with warehouse.get_connection() as conn:
            done = refresh_report(conn, report, requested, settings)
            built = [item.snapshot for item in done if item.rows is not None]
            outcomes = {c.name: {d: c.evaluate(conn, report, d) for d in built} for c in checks}
        for item in done:
            what = "removed" if item.rows is None else f"{item.rows} rows"
            how = f"; {item.how}" if item.how else ""
            context.log.info(f"reports.{report.name} {item.snapshot}: {what} ({item.reason}{how})")
        announce_rebuilt(context, context.asset_key, done)
        rows = sum(item.rows or 0 for item in done if item.requested)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": rows,
                "snapshots_rebuilt": [i.snapshot.isoformat() for i in done if not i.requested],
            },
            check_results=[check_result(c, outcomes[c.name]) for c in checks],
        )

    return _report


report_assets: list[dg.AssetsDefinition] = [build_report_asset(r) for r in REPORT_TABLES]
