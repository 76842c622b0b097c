"""Cross-cutting automation policy, applied to the asset graph in one place (definitions.py)."""

import dagster as dg

# Downstream layers follow their upstream partitions: when a snapshot's upstream is updated (or a
# partition is missing while its upstream exists), request it; never past a failed blocking check
# upstream, never while upstream runs are in progress. Unlike plain eager(), any snapshot
# partition qualifies, not only the latest one, so a re-delivered older snapshot flows through.
FOLLOW_UPSTREAM = (
    dg.AutomationCondition.eager().without(dg.AutomationCondition.in_latest_time_window())
    & dg.AutomationCondition.all_deps_blocking_checks_passed()
).with_label("follow upstream snapshots")


def follow_upstream(assets: list[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    """Every asset that has upstream assets follows them (raw assets are fed by the sensor)."""
    return list(
        dg.map_asset_specs(
            lambda spec: (
                spec.replace_attributes(automation_condition=FOLLOW_UPSTREAM) if spec.deps else spec
            ),
            assets,
        )
    )
