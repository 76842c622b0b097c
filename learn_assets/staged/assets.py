"""Staged layer: `staged/<dataset>`, typed and validated against the contract, with checks."""

import datetime as dt

import dagster as dg

from learn_assets.contracts.datasets import DATASETS, DATASETS_BY_NAME, ENTRA, Dataset
from learn_assets.contracts.rules import Parser
from learn_assets.contracts.sql import compile_contract
from learn_assets.metadata import markdown_table
from learn_assets.partitions import single_run, snapshot_partitions
from learn_assets.privacy import Privacy
from learn_assets.resources import ReportSettings, WarehouseResource
from learn_assets.staged.check_log import LoggedCheck, check_status, record_checks
from learn_assets.staged.checks import CheckDef, CheckOutcome, checks_for
from learn_assets.staged.stage import StageResult, stage_entra, stage_snapshot
from learn_assets.tenancy import WAREHOUSE_POOL


def staged_column_schema(dataset: Dataset) -> dg.TableSchema:
    types = compile_contract(dataset.contract).types
    columns = [dg.TableColumn("snapshot_date", "DATE", description="snapshot (partition) date")]
    for name, column in dataset.contract.columns.items():
        source = column.source or f"derived from {column.derived_from}"
        columns.append(
            dg.TableColumn(
                name,
                types[name],
                description=f"{column.description or ''} [from {source}]".strip(),
                constraints=dg.TableColumnConstraints(
                    nullable=column.nullable,
                    other=[repr(r) for r in column.rules if not isinstance(r, Parser)],
                ),
            )
        )
    return dg.TableSchema(columns=columns)


def staged_deps(dataset: Dataset) -> list[dg.AssetKey]:
    """raw/<dataset>, plus the staged datasets its references and tenant check read."""
    if not dataset.partitioned:
        return [dg.AssetKey(["raw", dataset.table])]
    targets = {r.target for r in dataset.contract.references}
    if dataset.tenant and dataset.name != "Users":
        targets.add("Users")
    return [
        dg.AssetKey(["raw", dataset.table]),
        *(dg.AssetKey(["staged", DATASETS_BY_NAME[t].table]) for t in sorted(targets)),
    ]


def check_result(
    check: CheckDef,
    outcomes: dict[dt.date | None, CheckOutcome],
    privacy: Privacy | None = None,
) -> dg.AssetCheckResult:
    """One result per check; for a range of snapshots it fails if any snapshot fails. Samples
    go through privacy mode: check metadata is stored in the event log and shown in the UI."""
    privacy = privacy or Privacy()
    failing = sum(o.failing for o in outcomes.values())
    metadata: dict[str, object] = {"failing": failing}
    if len(outcomes) == 1:
        (outcome,) = outcomes.values()
        for label, value in outcome.detail.items():
            metadata[label] = (
                dg.MetadataValue.json(value) if isinstance(value, dict | list) else value
            )
        if outcome.sample:
            metadata["sample"] = dg.MetadataValue.md(
                markdown_table(*privacy.sample(*outcome.sample))
            )
    else:
        metadata["per snapshot"] = dg.MetadataValue.md(
            markdown_table(
                ["snapshot", "passed", "failing"],
                [(d, o.passed, o.failing) for d, o in sorted(outcomes.items(), key=str)],
            )
        )
    passed = all(o.passed for o in outcomes.values())
    noted = {d: o for d, o in sorted(outcomes.items(), key=str) if not o.passed or o.accepted}
    accepted_only = passed and bool(noted)
    return dg.AssetCheckResult(
        check_name=check.name,
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR
        if check.blocking and not accepted_only
        else dg.AssetCheckSeverity.WARN,
        metadata=metadata,
        description=note_text(noted) if noted else None,
    )


def note_text(noted: dict[dt.date | None, CheckOutcome]) -> str:
    """What failed (or was accepted): the message, per snapshot when there are several."""
    if len(noted) == 1:
        return next(iter(noted.values())).summary()
    return "\n".join(f"{d}: {o.summary()}" for d, o in noted.items())


def logged(
    dataset: Dataset, check: CheckDef, snapshot: dt.date | None, outcome: CheckOutcome
) -> LoggedCheck:
    return LoggedCheck(
        dataset.table,
        snapshot,
        check.name,
        check.blocking,
        check_status(check.blocking, outcome.passed, outcome.accepted),
        outcome.failing,
        outcome.summary() if not outcome.passed or outcome.accepted else "",
    )


def log_outcome(
    log: dg.DagsterLogManager, dataset: Dataset, check: CheckDef, outcome: CheckOutcome
) -> None:
    """A blocking failure or an accepted anomaly in the run log, where a person reads it."""
    if outcome.accepted:
        log.warning(f"{dataset.name} {check.name}: {outcome.message}")
    elif check.blocking and not outcome.passed:
        log.error(f"{dataset.name} {check.name}: {outcome.summary()}")


def build_staged_asset(dataset: Dataset) -> dg.AssetsDefinition:
    key = dg.AssetKey(["staged", dataset.table])
    specs = checks_for(dataset)  # the gates only change verdicts, not names or blocking
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
        pool=WAREHOUSE_POOL,
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
            for c in specs
        ],
        metadata={
            "dagster/column_schema": staged_column_schema(dataset),
            "dagster/table_name": f"staged.{dataset.table}",
        },
    )
    def _staged(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        report_settings: ReportSettings,
    ):
        privacy, checks = report_settings.privacy(), checks_for(dataset, report_settings.gates())
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
                        f" (the rows of {result.continues}: raw has not changed)"
                        if result.continues
                        else " (judged the rows changed since the previous snapshot)"
                        if result.from_changes
                        else ""
                    )
                )
                results.append(result)
                entries = []
                for check in checks:
                    # Rows unchanged since a snapshot checked in this run: its outcome holds.
                    reuse = result.continues if check.own_rows_only else None
                    outcome = outcomes[check.name].get(reuse) if reuse else None
                    outcome = outcome or check.evaluate(conn, dataset, result)
                    outcomes[check.name][result.snapshot_date] = outcome
                    log_outcome(context.log, dataset, check, outcome)
                    entries.append(logged(dataset, check, result.snapshot_date, outcome))
                # Before the next snapshot of a range: its sanity checks read this one's.
                record_checks(conn, dataset.table, result.snapshot_date, entries)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": sum(r.staged_rows for r in results),
                "raw_rows": sum(r.raw_rows for r in results),
                "quarantined_rows": sum(r.quarantined_rows for r in results),
            },
            check_results=[check_result(c, outcomes[c.name], privacy) for c in checks],
        )

    return _staged


staged_assets: list[dg.AssetsDefinition] = [build_staged_asset(d) for d in (*DATASETS, ENTRA)]
