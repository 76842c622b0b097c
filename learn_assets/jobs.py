"""Jobs over the asset graph."""

import dagster as dg

from learn_assets.partitions import snapshot_partitions

# Everything that is computed per snapshot date.
snapshot_job = dg.define_asset_job(
    "snapshot_pipeline",
    selection=dg.AssetSelection.all() - dg.AssetSelection.keys(["raw", "entra_users"]),
    partitions_def=snapshot_partitions,
    description="Builds every per-snapshot asset for the selected snapshot date(s).",
)
