"""The daily schedule's requested partition and the delivery-freshness check."""

import datetime as dt

import dagster as dg
import pytest

from learn_assets.automation.schedules import (
    daily_snapshot_schedule,
    overdue_snapshots,
    snapshot_delivered_on_time,
)
from learn_assets.graph import ASSETS
from learn_assets.settings import SettingError, Settings

NINE = dt.time(9, 0)
FIRST = dt.date(2026, 11, 1)


def test_schedule_requests_the_snapshot_of_its_utc_day():
    tick = dt.datetime(2026, 11, 5, 6, 0, tzinfo=dt.UTC)
    with dg.build_schedule_context(scheduled_execution_time=tick) as context:
        request = daily_snapshot_schedule(context)
    assert request.partition_key == "2026-11-05"
    assert request.run_key == "scheduled:2026-11-05"


@pytest.mark.parametrize(
    ("delivered", "now", "missing"),
    [
        # before today's deadline, yesterday is the last one due
        (
            {dt.date(2026, 11, 4)},
            dt.datetime(2026, 11, 5, 8, 59, tzinfo=dt.UTC),
            [dt.date(2026, 11, 1), dt.date(2026, 11, 2), dt.date(2026, 11, 3)],
        ),
        # after it, today is due too
        (
            {dt.date(2026, 11, d) for d in range(1, 5)},
            dt.datetime(2026, 11, 5, 9, 0, tzinfo=dt.UTC),
            [dt.date(2026, 11, 5)],
        ),
        (
            {dt.date(2026, 11, d) for d in range(1, 6)},
            dt.datetime(2026, 11, 5, 23, 0, tzinfo=dt.UTC),
            [],
        ),
        # nothing before the first partition is expected
        (set(), dt.datetime(2026, 11, 1, 10, 0, tzinfo=dt.UTC), [dt.date(2026, 11, 1)]),
    ],
)
def test_overdue_snapshots(delivered, now, missing):
    assert overdue_snapshots(delivered, now, NINE, FIRST) == missing


def test_freshness_check_flags_a_missing_day(write_snapshot, resources):
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    write_snapshot(yesterday - dt.timedelta(days=1))  # the day before yesterday only
    dg.materialize(
        ASSETS,
        selection=[dg.AssetKey(["raw", "users"])],
        partition_key=(yesterday - dt.timedelta(days=1)).isoformat(),
        resources=resources,
    )
    result = dg.materialize(
        [*ASSETS, snapshot_delivered_on_time],
        selection=dg.AssetSelection.checks(snapshot_delivered_on_time),
        resources=resources,
    )
    (evaluation,) = result.get_asset_check_evaluations()
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert yesterday.isoformat() in evaluation.metadata["missing"].value
    assert (yesterday - dt.timedelta(days=1)).isoformat() not in evaluation.metadata[
        "missing"
    ].value


def test_bad_time_setting_names_the_variable():
    with pytest.raises(SettingError, match="LEARN_SCHEDULE_TIME must be HH:MM"):
        Settings.from_env({"LEARN_SCHEDULE_TIME": "6am"})
