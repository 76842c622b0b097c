"""Declarative automation: downstream follows upstream snapshots, but not past a failed
blocking check. Ticks are evaluated with `evaluate_automation_conditions` and the requested
assets are run the way the automation sensor would."""

import datetime as dt

import dagster as dg
import pytest

from learn_assets.contracts.datasets import DATASETS_BY_NAME
from learn_assets.graph import ASSETS
from learn_assets.runs import QUIET
from learn_assets_tests.helpers import tiny_rows, write_csv

pytestmark = pytest.mark.slow  # whole pipeline runs: `make test-fast` leaves them out

D1 = dt.date(2026, 11, 1)
RAW = [a.key for a in ASSETS if a.key.path[0] == "raw" and a.partitions_def]
USERS = DATASETS_BY_NAME["Users"]


def requested(result) -> set[str]:
    return {r.key.to_user_string() for r in result.results if r.true_subset.size}


@pytest.mark.parametrize("blocked", [True, False], ids=["failed blocking check", "checks pass"])
def test_downstream_follows_upstream_but_not_past_a_failed_blocking_check(
    landing_dir, write_snapshot, resources, blocked
):
    write_snapshot(D1)
    if blocked:  # one userId with two directory ids: staged/users keys_unique (blocking) fails
        users = tiny_rows(USERS, D1)
        conflict = users[0] | {"AADObjectId": "99999999-9999-9999-9999-999999999999"}
        write_csv(
            landing_dir / D1.isoformat() / "Users.csv", USERS.column_names, [*users, conflict]
        )
    instance = dg.DagsterInstance.ephemeral()
    defs = dg.Definitions(assets=ASSETS, resources=resources)

    def run(keys) -> None:
        dg.materialize(
            ASSETS,
            selection=list(keys),
            partition_key=D1.isoformat(),
            resources=resources,
            instance=instance,
            raise_on_error=False,
            run_config=QUIET,
        )

    def tick(previous=None):
        cursor = previous.cursor if previous else None
        return dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)

    start = tick()
    run(RAW)  # a snapshot lands
    follow = tick(start)
    assert {
        "staged/users",
        "staged/progress",
        "core/xp_events",
        "reports/module_progress",
    } <= requested(follow)
    run(dg.AssetKey.from_user_string(k) for k in requested(follow))
    settled = tick(follow)
    assert requested(settled) == set()

    run([dg.AssetKey(["staged", "users"])])  # staged/users is rebuilt
    after = tick(settled)
    if blocked:
        assert requested(after) == set()  # its blocking check failed again: nothing follows
    else:
        assert {"staged/progress", "core/xp_events"} <= requested(after)
