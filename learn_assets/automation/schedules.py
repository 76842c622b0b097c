"""The daily schedule (a fallback to the sensor) and the delivery-freshness check."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb

from learn_assets.jobs import snapshot_asset_keys, snapshot_job
from learn_assets.partitions import snapshot_partitions
from learn_assets.raw.load import LOAD_LOG
from learn_assets.resources import WarehouseResource
from learn_assets.settings import current
from learn_assets.tenancy import RUN_TAGS, key, named
from learn_assets.warehouse.sql import relation_exists

SCHEDULE_TIME = current().schedule_time
FRESHNESS_DEADLINE = current().freshness_deadline
FRESHNESS_LOOKBACK_DAYS = 7


def scheduled_snapshot(execution_time: dt.datetime) -> dt.date:
    """The snapshot a tick processes: the one delivered on the tick's UTC day."""
    return execution_time.astimezone(dt.UTC).date()


@dg.schedule(
    name=named("daily_snapshot_schedule"),
    job=snapshot_job,
    cron_schedule=f"{SCHEDULE_TIME.minute} {SCHEDULE_TIME.hour} * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Fallback to the landing sensor: every day at LEARN_SCHEDULE_TIME (UTC), run the "
    "pipeline for that day's snapshot. Stopped by default; start it in the UI.",
)
def daily_snapshot_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    day = scheduled_snapshot(context.scheduled_execution_time)
    return dg.RunRequest(
        run_key=f"scheduled:{day.isoformat()}",
        partition_key=day.isoformat(),
        asset_selection=snapshot_asset_keys(),
    )


def overdue_snapshots(
    delivered: set[dt.date], now: dt.datetime, deadline: dt.time, first: dt.date
) -> list[dt.date]:
    """Snapshot dates of the last week whose deadline (that day, UTC) passed without delivery."""
    now = now.astimezone(dt.UTC)
    last_due = now.date() if now.time() >= deadline else now.date() - dt.timedelta(days=1)
    days = (last_due - dt.timedelta(days=n) for n in range(FRESHNESS_LOOKBACK_DAYS))
    return sorted(d for d in days if d >= first and d not in delivered)


def delivered_snapshots(conn: duckdb.DuckDBPyConnection) -> set[dt.date]:
    """Snapshot dates whose Users file was loaded (the log exists once anything was loaded)."""
    if not relation_exists(conn, "raw", "_load_log"):
        return set()
    rows = conn.execute(f"SELECT snapshot_date FROM {LOAD_LOG} WHERE dataset = 'users'")
    return {r[0] for r in rows.fetchall()}


@dg.asset_check(
    asset=key("raw", "users"),
    name="snapshot_delivered_on_time",
    description="Warns when a snapshot date of the last week has no delivery by "
    "LEARN_FRESHNESS_DEADLINE (UTC) that day.",
)
def snapshot_delivered_on_time(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    first = dt.date.fromisoformat(snapshot_partitions.get_first_partition_key() or "1970-01-01")
    with warehouse.get_connection() as conn:
        missing = overdue_snapshots(
            delivered_snapshots(conn), dt.datetime.now(dt.UTC), FRESHNESS_DEADLINE, first
        )
    return dg.AssetCheckResult(
        passed=not missing,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "missing": [d.isoformat() for d in missing],
            "deadline_utc": str(FRESHNESS_DEADLINE),
        },
        description=f"no delivery for {', '.join(map(str, missing))}" if missing else None,
    )


freshness_job = dg.define_asset_job(
    named("delivery_freshness"),
    run_tags=RUN_TAGS,
    selection=dg.AssetSelection.checks(snapshot_delivered_on_time),
    description="Evaluates whether every snapshot of the last week was delivered on time.",
)

freshness_schedule = dg.ScheduleDefinition(
    name=named("delivery_freshness_schedule"),
    job=freshness_job,
    cron_schedule=f"{FRESHNESS_DEADLINE.minute} {FRESHNESS_DEADLINE.hour} * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="At the delivery deadline, check that the day's snapshot arrived.",
)
