"""The learn_assets code location. Thin: each layer's folder owns its assets."""

import dagster as dg

from learn_assets.core.assets import core_assets
from learn_assets.jobs import snapshot_job
from learn_assets.partitions import tag_snapshot_assets
from learn_assets.raw.assets import raw_assets
from learn_assets.reports.assets import report_assets
from learn_assets.resources import resources_from_env
from learn_assets.staged.assets import staged_assets

ASSETS: list[dg.AssetsDefinition] = tag_snapshot_assets(
    [*raw_assets, *staged_assets, *core_assets, *report_assets]
)

defs = dg.Definitions(
    assets=ASSETS,
    jobs=[snapshot_job],
    resources=resources_from_env(),
    # One process per run: every step writes the same DuckDB file, which allows one writer.
    executor=dg.in_process_executor,
)
