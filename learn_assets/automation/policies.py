"""Cross-cutting automation policy, applied to the asset graph in one place (definitions.py)."""

import dagster as dg

from learn_assets.tenancy import RUN_TAGS, named

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


AUTOMATION_SENSOR = named("follow_upstream_snapshots")


def automated_keys(assets: list[dg.AssetsDefinition]) -> list[dg.AssetKey]:
    """The asset keys that carry an automation condition (those `follow_upstream` gave one)."""
    return sorted(
        (key for a in assets for key, c in a.automation_conditions_by_key.items() if c),
        key=lambda k: k.to_user_string(),
    )


def automation_sensor(assets: list[dg.AssetsDefinition]) -> dg.AutomationConditionSensorDefinition:
    """The sensor that evaluates the conditions above. Dagster's own default sensor is stopped
    until someone starts it in the UI; this one runs as soon as the daemon does."""
    return dg.AutomationConditionSensorDefinition(
        AUTOMATION_SENSOR,
        target=dg.AssetSelection.assets(*automated_keys(assets)),
        run_tags=RUN_TAGS,
        default_status=dg.DefaultSensorStatus.RUNNING,
        minimum_interval_seconds=30,
        description="Materializes the staged, core, report and export partitions of a snapshot "
        "when their upstream partitions change (never past a failed blocking check): re-load one "
        "raw snapshot and the rest of that snapshot follows.",
    )
