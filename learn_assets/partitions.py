"""The one partitioning shared by every per-snapshot asset: the snapshot date (UTC day)."""

import os
import warnings

import dagster as dg

# backfill_policy (beta) is the documented way to backfill a range in one run, and partitioned
# check specs (preview) give per-snapshot check history; both are deliberate choices.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

DEFAULT_START_DATE = "2026-11-01"

# end_offset=1: today's delivery is a partition today, not tomorrow.
snapshot_partitions = dg.DailyPartitionsDefinition(
    start_date=os.environ.get("LEARN_START_DATE", DEFAULT_START_DATE),
    end_offset=1,
    timezone="UTC",
)

# A range of snapshots is processed in one run (one process, one warehouse connection).
single_run = dg.BackfillPolicy.single_run()

# Per-snapshot assets carry this tag so a CLI selection can name them all:
#   dagster asset materialize --select 'tag:partitioned=snapshot_date' --partition-range A...B
SNAPSHOT_TAG = ("partitioned", "snapshot_date")


def tag_snapshot_assets(assets: list[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    key, value = SNAPSHOT_TAG
    return list(
        dg.map_asset_specs(
            lambda spec: spec.merge_attributes(tags={key: value}) if spec.partitions_def else spec,
            assets,
        )
    )
