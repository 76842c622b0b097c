"""Staged layer: `staged/<dataset>`, typed and validated against the contract, with checks."""

import datetime as dt

import dagster as dg

from learn_assets.contracts.datasets import DATASETS, DATASETS_BY_NAME, ENTRA, Dataset
from learn_assets.contracts.sql import compile_contract
from learn_assets.metadata import markdown_table
from learn_assets.partitions import single_run, snapshot_partitions
from learn_assets.resources import WarehouseResource
from learn_assets.staged.checks import CheckDef, CheckOutcome, checks_for
from learn_assets.staged.stage import StageResult, stage_entra, stage_snapshot


def staged_column_schema(dataset: Dataset) -> dg.TableSchema:
    types = compile_contract(dataset.contract).types
    columns = [dg.TableColumn("snapshot_date", "DATE", description="snapshot (partition) date")]
    for name, column in dataset.contract.columns.items():
        source = column.metadata.get("source") or f"derived from {column.metadata['derived_from']}"
        columns.append(
            dg.TableColumn(
                name,
                types[name],
                description=f"{column.description or ''} [from {source}]".strip(),
                constraints=dg.TableColumnConstraints(
                    nullable=column.nullable,
                    other=[f"{c.name} {c.statistics}" for c in column.checks],
                ),
            )
        )
    return dg.TableSchema(columns=columns)


def staged_deps(dataset: Dataset) -> list[dg.AssetKey]:
    """raw/<dataset>, plus the staged datasets its references and tenant check read."""
    if not dataset.partitioned:
        return [dg.AssetKey(["raw", dataset.table])]
    targets = {r.target for r in dataset.contract.metadata["references"]}
    if dataset.tenant and dataset.name != "Users":
        targets.add("Users")
    return [
        dg.AssetKey(["raw", dataset.table]),
        *(dg.AssetKey(["staged", DATASETS_BY_NAME[t].table]) for t in sorted(targets)),
    ]


def check_result(
    check: CheckDef, outcomes: dict[dt.date | None, CheckOutcome]
) -> dg.AssetCheckResult:
    """One result per check; for a range of snapshots it fails if any snapshot fails."""
    failing = sum(o.failing for o in outcomes.values())
    metadata: dict[str, object] = {"failing": failing}
    if len(outcomes) == 1:
        (outcome,) = outcomes.values()
        for label, value in outcome.detail.items():
            metadata[label] = (
                dg.MetadataValue.json(value) if isinstance(value, dict | list) else value
            )
        if outcome.sample:
            metadata["sample"] = dg.MetadataValue.md(markdown_table(*outcome.sample))
    else:
        metadata["per snapshot"] = dg.MetadataValue.md(
            markdown_table(
                ["snapshot", "passed", "failing"],
                [(d, o.passed, o.failing) for d, o in sorted(outcomes.items(), key=str)],
            )
        )
    passed = all(o.passed for o in outcomes.values())
    return dg.AssetCheckResult(
        check_name=check.name,
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR if check.blocking else dg.AssetCheckSeverity.WARN,
        metadata=metadata,
        description=None if passed else f"{failing} failing",
    )


def build_staged_asset(dataset: Dataset) -> dg.AssetsDefinition:
    key = dg.AssetKey(["staged", dataset.table])
    checks = checks_for(dataset)
    partitions = snapshot_partitions if dataset.partitioned else None

    @dg.asset(
        key=key,
        deps=staged_deps(dataset),
        description=(
            f"{dataset.description} Typed and validated against the `{dataset.name}` contract; "
            f"rows breaking a rule are in `quarantine.{dataset.table}` with the reason. "
            f"Table `staged.{dataset.table}`."
        ),
        group_name="staged",
        partitions_def=partitions,
        backfill_policy=single_run if partitions else None,
        kinds={"duckdb", "pandera"},
        check_specs=[
            dg.AssetCheckSpec(
                c.name,
                asset=key,
                description=c.description,
                blocking=c.blocking,
                partitions_def=partitions,
            )
            for c in checks
        ],
        metadata={
            "dagster/column_schema": staged_column_schema(dataset),
            "dagster/table_name": f"staged.{dataset.table}",
        },
    )
    def _staged(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        results: list[StageResult] = []
        outcomes: dict[str, dict[dt.date | None, CheckOutcome]] = {c.name: {} for c in checks}
        with warehouse.get_connection() as conn:
            snapshots = (
                [dt.date.fromisoformat(k) for k in sorted(context.partition_keys)]
                if partitions
                else [None]
            )
            for snapshot in snapshots:
                result = stage_snapshot(conn, dataset, snapshot) if snapshot else stage_entra(conn)
                context.log.info(
                    f"{dataset.name} {snapshot or ''}: {result.staged_rows} staged, "
                    f"{result.quarantined_rows} quarantined of {result.raw_rows}"
                    + (
                        " (judged the rows changed since the previous snapshot)"
                        if result.from_changes
                        else ""
                    )
                )
                results.append(result)
                for check in checks:
                    outcomes[check.name][result.snapshot_date] = check.evaluate(
                        conn, dataset, result
                    )
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": sum(r.staged_rows for r in results),
                "raw_rows": sum(r.raw_rows for r in results),
                "quarantined_rows": sum(r.quarantined_rows for r in results),
            },
            check_results=[check_result(c, outcomes[c.name]) for c in checks],
        )

    return _staged


staged_assets: list[dg.AssetsDefinition] = [build_staged_asset(d) for d in (*DATASETS, ENTRA)]
