"""The learn_assets code location. Thin: each layer's folder owns its assets."""

import dagster as dg

from learn_assets.automation.alerts import alert_sensors
from learn_assets.automation.archive import archive_job, data_share_sensors
from learn_assets.automation.policies import automation_sensor
from learn_assets.automation.schedules import (
    daily_snapshot_schedule,
    freshness_job,
    freshness_schedule,
    snapshot_delivered_on_time,
)
from learn_assets.automation.sensors import landing_sensor
from learn_assets.graph import ASSETS
from learn_assets.jobs import entra_job, forget_job, snapshot_job
from learn_assets.publish.assets import lake_maintenance_job, lake_maintenance_schedule
from learn_assets.resources import resources_from_env

defs = dg.Definitions(
    assets=ASSETS,
    asset_checks=[snapshot_delivered_on_time],
    jobs=[snapshot_job, entra_job, freshness_job, forget_job, lake_maintenance_job, archive_job],
    sensors=[landing_sensor, automation_sensor(ASSETS), *alert_sensors(), *data_share_sensors()],
    schedules=[daily_snapshot_schedule, freshness_schedule, lake_maintenance_schedule],
    resources=resources_from_env(),
    # One process per run: every step writes the same DuckDB file, which allows one writer.
    executor=dg.in_process_executor,
)
