"""Core layer assets: `core/<table>`, each merging its staged snapshot(s) into history."""

import datetime as dt

import dagster as dg

from learn_assets.core.build import CORE_TABLES, CoreTable, merge_snapshot
from learn_assets.partitions import single_run, snapshot_partitions
from learn_assets.resources import WarehouseResource


def build_core_asset(table: CoreTable) -> dg.AssetsDefinition:
    @dg.asset(
        key=["core", table.name],
        deps=[dg.AssetKey(["staged", source]) for source in table.sources],
        description=f"{table.description} Table `core.{table.name}`.",
        group_name="core",
        partitions_def=snapshot_partitions,
        backfill_policy=single_run,
        kinds={"duckdb"},
        metadata={"dagster/table_name": f"core.{table.name}", "key": ", ".join(table.key)},
    )
    def _core(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        seen = new = 0
        with warehouse.get_connection() as conn:
            for key in sorted(context.partition_keys):
                merged = merge_snapshot(conn, table, dt.date.fromisoformat(key))
                how = " (read the rows new since the previous snapshot)"
                context.log.info(
                    f"core.{table.name} {key}: {merged.rows} rows, {merged.new} new"
                    + (how if merged.from_changes else "")
                )
                seen, new = seen + merged.rows, new + merged.new
            total = conn.execute(f"SELECT count(*) FROM core.{table.name}").fetchone()
        return dg.MaterializeResult(
            metadata={
                "rows_in_snapshot": seen,
                "rows_new": new,
                "dagster/row_count": int(total[0]) if total else 0,
            }
        )

    return _core


core_assets: list[dg.AssetsDefinition] = [build_core_asset(t) for t in CORE_TABLES]
