"""Export asset: `exports/snapshot_files`, the files people open, written per snapshot.

No `from __future__ import annotations` here: Dagster reads the context type hint at runtime.
The writing (`exports/refresh.py` and what it imports: pyarrow, matplotlib, xlsxwriter) is
imported by the step that writes the exports, not by the code location (issue #18).
"""

import base64
import datetime as dt
from typing import TYPE_CHECKING

import dagster as dg

from learn_assets.partitions import announce_rebuilt, single_run, snapshot_partitions
from learn_assets.reports.build import REPORT_TABLES
from learn_assets.resources import LandingResource, WarehouseResource
from learn_assets.resources.exports import ExportSettings
from learn_assets.tenancy import WAREHOUSE_POOL

if TYPE_CHECKING:
    from learn_assets.exports.files import ExportResult


def charts_markdown(result: "ExportResult") -> str:
    """The charts as Markdown with inline PNGs, which the Dagster UI shows as images."""
    from learn_assets.exports.charts import CHART_TITLES  # with matplotlib: at run time only

    parts = []
    for name, png in result.charts.items():
        title = CHART_TITLES.get(name, name)
        data = base64.b64encode(png).decode("ascii")
        parts.append(f"### {title}\n\n![{title}](data:image/png;base64,{data})")
    return "\n\n".join(parts)


def export_metadata(results: list["ExportResult"]) -> dict[str, dg.MetadataValue]:
    """Metadata of the run: the latest snapshot's folder, files, rows and charts in full."""
    last = results[-1]
    metadata = {
        "folder": dg.MetadataValue.path(str(last.folder)),
        "files": dg.MetadataValue.json([str(f) for f in last.files]),
        "rows": dg.MetadataValue.json(last.rows),
        "snapshots": dg.MetadataValue.json([r.snapshot.isoformat() for r in results]),
        "data quality": dg.MetadataValue.md("\n".join(f"- {line}" for line in last.quality)),
        "charts": dg.MetadataValue.md(charts_markdown(last)),
        "charts drawn": dg.MetadataValue.json(last.charts_drawn),
    }
    if last.truncated_sheets:
        metadata["xlsx rows left out"] = dg.MetadataValue.json(last.truncated_sheets)
    return metadata


@dg.asset(
    key=["exports", "snapshot_files"],
    deps=[dg.AssetKey(["reports", r.name]) for r in REPORT_TABLES],
    description=(
        "Files for people, per snapshot, in `<LEARN_EXPORTS_DIR>/<YYYY-MM-DD>/`: a CSV and a "
        "Parquet file per report, `reports.xlsx` (Overview with the change since the previous "
        "snapshot, About with the data quality and definitions, then an Excel Table per report "
        "with friendly headers and learners' names), PNG charts in `charts/`, and a "
        "self-contained `report.html` (data quality first, headline numbers and their change, "
        "charts, certifications, a learner search). Text that a spreadsheet would run as a "
        "formula is neutralized in CSV and XLSX. A rerun replaces the snapshot's files, but for "
        "a chart drawn before from the same input by the same code, which is left as it is."
    ),
    group_name="exports",
    pool=WAREHOUSE_POOL,
    partitions_def=snapshot_partitions,
    backfill_policy=single_run,
    kinds={"duckdb", "csv", "parquet", "xlsx", "html"},
)
def snapshot_files(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    exports: ExportSettings,
    landing: LandingResource,
) -> dg.MaterializeResult:
    from learn_assets.exports.worker import warm_chart_worker

    warm_chart_worker()  # its start and imports run beside the imports and reads below
    from learn_assets.exports.refresh import refresh_exports  # the heavy part: at run time only

    requested = [dt.date.fromisoformat(k) for k in sorted(context.partition_keys)]
    with warehouse.get_connection() as conn:
        warehouse.release_cache(conn)
        done = refresh_exports(
            conn,
            requested,
            exports.root,
            xlsx_max_rows=exports.xlsx_max_rows,
            html_max_learners=exports.html_max_learners,
            landing_dir=landing.landing_dir,
        )
    results = []
    for item, result in done:
        if result is None:
            context.log.info(f"exports {item.snapshot}: folder removed ({item.reason})")
            continue
        context.log.info(
            f"exports {item.snapshot}: {len(result.files)} files in {result.folder} "
            f"({item.reason}); charts drawn: {len(result.charts_drawn)} of {len(result.charts)}, "
            "the others unchanged"
        )
        for sheet, left_out in result.truncated_sheets.items():
            context.log.warning(
                f"exports {item.snapshot}: reports.xlsx sheet {sheet} shows the first "
                f"{exports.xlsx_max_rows:,} rows (LEARN_XLSX_MAX_ROWS), {left_out:,} left "
                "out; the CSV and Parquet files have them all"
            )
        if item.requested:
            results.append(result)
    announce_rebuilt(context, context.asset_key, [item for item, _ in done])
    return dg.MaterializeResult(metadata=export_metadata(results))


export_assets: list[dg.AssetsDefinition] = [snapshot_files]
