"""The one partitioning shared by every per-snapshot asset: the snapshot date (UTC day)."""

import warnings
from collections.abc import Sequence

import dagster as dg

from learn_assets.settings import current
from learn_assets.warehouse.ledger import Refreshed

# backfill_policy (beta) is the documented way to backfill a range in one run, and partitioned
# check specs (preview) give per-snapshot check history; both are deliberate choices.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)


# end_offset=1: today's delivery is a partition today, not tomorrow.
snapshot_partitions = dg.DailyPartitionsDefinition(
    start_date=current().start_date.isoformat(),
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


def announce_rebuilt(
    context: dg.AssetExecutionContext,
    key: dg.AssetKey,
    done: Sequence[Refreshed],
) -> None:
    """Record in Dagster the snapshots an asset rebuilt beyond those its run asked for (because
    an earlier snapshot changed upstream): each gets a materialization of its own, with the
    reason, so the UI's partition view and the automation downstream see it changed."""
    requested = set(context.partition_keys)
    for item in done:
        if item.snapshot.isoformat() in requested or item.rows is None:
            continue
        context.log_event(
            dg.AssetMaterialization(
                asset_key=key,
                partition=item.snapshot.isoformat(),
                description=f"rebuilt: {item.reason}",
                metadata={"rebuilt_because": item.reason, "dagster/row_count": item.rows},
            )
        )
