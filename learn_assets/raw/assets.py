"""Raw layer: one asset per delivered dataset (`raw/<dataset>`), plus the Entra users export."""

import datetime as dt

import dagster as dg

from learn_assets.contracts.datasets import DATASETS, ENTRA_COLUMNS, Dataset
from learn_assets.metadata import markdown_table
from learn_assets.partitions import single_run, snapshot_partitions
from learn_assets.raw.load import ENTRA_TABLE, RawLoad, load_entra_export, load_snapshot, raw_table
from learn_assets.resources import LandingResource, WarehouseResource
from learn_assets.tenancy import WAREHOUSE_POOL

ENTRA_PRESENT_CHECK = "entra_export_present"


def raw_column_schema(dataset: Dataset) -> dg.TableSchema:
    return dg.TableSchema(
        columns=[
            dg.TableColumn("snapshot_date", "DATE", description="snapshot (partition) date"),
            *(
                dg.TableColumn(
                    c.name,
                    "VARCHAR",
                    description=f"{c.kind.value} as delivered"
                    + (f"; {c.description}" if c.description else ""),
                )
                for c in dataset.columns
            ),
        ]
    )


def load_metadata(loads: list[RawLoad]) -> dict[str, object]:
    """Materialization metadata: the file's provenance, or one row per snapshot for a range."""
    metadata: dict[str, object] = {"dagster/row_count": sum(load.rows for load in loads)}
    if len(loads) == 1:
        (load,) = loads
        metadata |= {
            "source_path": dg.MetadataValue.path(load.path),
            "source_size_bytes": load.size_bytes,
            "source_sha256": load.sha256,
            "extra_columns": ", ".join(load.extra_columns) or "none",
        }
    else:
        metadata["snapshots"] = dg.MetadataValue.md(
            markdown_table(
                ["snapshot", "rows", "bytes", "sha256", "path"],
                [(x.snapshot_date, x.rows, x.size_bytes, x.sha256, x.path) for x in loads],
                max_width=None,
            )
        )
    return metadata


def build_raw_asset(dataset: Dataset) -> dg.AssetsDefinition:
    @dg.asset(
        key=["raw", dataset.table],
        description=(
            f"{dataset.description} `{dataset.name}` as delivered, every value as text, one "
            f"partition per snapshot date. Table `{raw_table(dataset)}`."
        ),
        group_name="raw",
        pool=WAREHOUSE_POOL,
        partitions_def=snapshot_partitions,
        backfill_policy=single_run,
        kinds={"duckdb"},
        tags={"learn/data": "tenant" if dataset.tenant else "catalog"},
        metadata={
            "dagster/column_schema": raw_column_schema(dataset),
            "dagster/table_name": f"raw.{dataset.table}",
            "learn/dataset_file": f"{dataset.name}.csv | {dataset.name}.parquet",
        },
    )
    def _raw(
        context: dg.AssetExecutionContext, landing: LandingResource, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        loads = []
        with warehouse.get_connection() as conn:
            # Date order, one transaction per snapshot: a failure keeps the snapshots already done.
            for key in sorted(context.partition_keys):
                snapshot = dt.date.fromisoformat(key)
                load = load_snapshot(
                    conn,
                    dataset,
                    snapshot,
                    landing.snapshot_file(snapshot, dataset),
                    landing.tenant_id,
                )
                same = f" (the file of {load.repeats}, not read again)" if load.repeats else ""
                context.log.info(f"{dataset.name} {key}: {load.rows} rows from {load.path}{same}")
                loads.append(load)
        return dg.MaterializeResult(metadata=load_metadata(loads))

    return _raw


@dg.asset(
    key=["raw", "entra_users"],
    group_name="raw",
    pool=WAREHOUSE_POOL,
    kinds={"duckdb"},
    check_specs=[
        dg.AssetCheckSpec(
            ENTRA_PRESENT_CHECK,
            asset=["raw", "entra_users"],
            description="The Entra users export exists (without it, reports have no names).",
        )
    ],
    metadata={
        "dagster/column_schema": dg.TableSchema(
            columns=[dg.TableColumn(c, "VARCHAR") for c in ENTRA_COLUMNS]
        ),
        "dagster/table_name": ENTRA_TABLE,
    },
)
def entra_users(
    context: dg.AssetExecutionContext, landing: LandingResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """The organization's Microsoft Entra "Download users" export (LEARN_ENTRA_EXPORT), as
    delivered: the directory that gives Learn users names, departments and job titles. Not
    partitioned: each load replaces the table. The user id column may be `id` or `objectId`."""
    path = landing.entra_export_path()
    with warehouse.get_connection() as conn:
        rows = load_entra_export(conn, path)
    if rows is None:
        context.log.warning(f"no Entra export at {path}: raw.entra_users is empty")
    return dg.MaterializeResult(
        metadata={"dagster/row_count": rows or 0, "source_path": dg.MetadataValue.path(str(path))},
        check_results=[
            dg.AssetCheckResult(
                check_name=ENTRA_PRESENT_CHECK,
                passed=rows is not None,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"expected_path": str(path)},
                description=None if rows is not None else f"no Entra export at {path}",
            )
        ],
    )


raw_assets: list[dg.AssetsDefinition] = [*(build_raw_asset(d) for d in DATASETS), entra_users]
