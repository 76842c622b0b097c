"""The asset graph: every layer's assets, with the project's policies applied once (the snapshot
tag, automation, the owner). `definitions.py` serves it; jobs that run it import it from here."""

import dagster as dg

from learn_assets.automation.policies import follow_upstream
from learn_assets.core.assets import core_assets
from learn_assets.exports.assets import export_assets
from learn_assets.partitions import tag_snapshot_assets
from learn_assets.publish.assets import publish_assets
from learn_assets.raw.assets import raw_assets
from learn_assets.reports.assets import report_assets
from learn_assets.settings import current
from learn_assets.staged.assets import staged_assets


def owned_by(owner: str, assets: list[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    """Every asset owned by `owner` (LEARN_OWNER), shown and searchable in the Dagster UI."""
    return list(dg.map_asset_specs(lambda spec: spec.replace_attributes(owners=[owner]), assets))


ASSETS: list[dg.AssetsDefinition] = owned_by(
    current().owner,
    follow_upstream(
        tag_snapshot_assets(
            [
                *raw_assets,
                *staged_assets,
                *core_assets,
                *report_assets,
                *export_assets,
                *publish_assets,
            ]
        )
    ),
)
