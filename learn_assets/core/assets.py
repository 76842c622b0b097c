"""Core layer assets: `core/<table>`, each the history of its staged snapshots."""

import datetime as dt

import dagster as dg

from learn_assets.columns import CORE_COLUMNS, table_schema
from learn_assets.core.build import CORE_TABLES, CoreTable, update_core
from learn_assets.core.checks import core_checks
from learn_assets.partitions import announce_rebuilt, single_run, snapshot_partitions
from learn_assets.resources import WarehouseResource
from learn_assets.staged.assets import check_result
from learn_assets.warehouse.ledger import Refreshed
from learn_assets.warehouse.versioned import loaded_snapshots


def build_core_asset(table: CoreTable) -> dg.AssetsDefinition:
    key = dg.AssetKey(["core", table.name])
    checks = core_checks(table)

    @dg.asset(
        key=key,
        deps=[dg.AssetKey(["staged", source.table]) for source in table.sources],
        description=f"{table.description} Table `core.{table.name}` (current values) over "
        f"`core.{table.name}_history` (every value, valid_from..valid_to).",
        group_name="core",
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
            "dagster/table_name": f"core.{table.name}",
            "dagster/column_schema": table_schema(CORE_COLUMNS[table.name]),
            "key": ", ".join(table.key),
        },
    )
    def _core(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        requested = [dt.date.fromisoformat(k) for k in sorted(context.partition_keys)]
        with warehouse.get_connection() as conn:
            update = update_core(conn, table)
            context.log.info(
                f"core.{table.name}: {update.plan.mode} ({update.plan.reason}); "
                f"{update.rows} history rows"
            )
            loaded = sorted(
                {d for s in table.sources for d in loaded_snapshots(conn, "staged", s.table)}
            )
            rebuilt = [
                Refreshed(d, update.rows, f"core.{table.name}: {update.plan.reason}")
                for d in loaded
                if update.earliest is not None and d >= update.earliest and d not in requested
            ]
            outcomes = {c.name: {d: c.evaluate(conn, table, d) for d in requested} for c in checks}
        announce_rebuilt(context, key, rebuilt)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": update.rows,
                "update": update.plan.mode,
                "reason": update.plan.reason,
                "snapshots_rebuilt": [r.snapshot.isoformat() for r in rebuilt],
            },
            check_results=[check_result(c, outcomes[c.name]) for c in checks],
        )

    return _core


core_assets: list[dg.AssetsDefinition] = [build_core_asset(t) for t in CORE_TABLES]
