"""The landing sensor's cursor scenarios, as a table, plus one tick through Dagster."""

import datetime as dt
import os
import time

import dagster as dg
import pytest

from learn_assets.automation.sensors import (
    FINGERPRINT_TAG,
    dump_cursor,
    evaluate_landing,
    landing_sensor,
    load_cursor,
)
from learn_assets.contracts.datasets import DATASETS
from learn_assets.resources.landing import LandingFile

D1, D2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)
FIRST, LAST = dt.date(2025, 11, 1), dt.date(2026, 12, 31)
QUIET = 60


def folder(size: int = 100, modified: float = 1000.0, skip: str = "", extra=()) -> tuple:
    files = [LandingFile(f"{d.name}.csv", size, modified) for d in DATASETS if d.name != skip]
    return tuple(sorted([*files, *extra], key=lambda f: f.name))


class Hasher:
    """Content fingerprints by date, counting how often files are hashed."""

    def __init__(self, contents: dict[dt.date, str]):
        self.contents, self.calls = contents, 0

    def __call__(self, day: dt.date) -> str:
        self.calls += 1
        return self.contents[day]


def tick(listing, cursor, now, contents):
    hasher = Hasher(contents)
    decision = evaluate_landing(listing, cursor, now, QUIET, hasher, FIRST, LAST)
    return decision, hasher.calls


# (name, [(listing, now, contents, expected requests)...]) — ticks run in order on one cursor
SCENARIOS = [
    (
        "new snapshot: waits for the quiet period, then runs once",
        [
            ({D1: folder()}, 0, {D1: "c1"}, []),
            ({D1: folder()}, 30, {D1: "c1"}, []),
            ({D1: folder()}, 61, {D1: "c1"}, [(D1, "c1")]),
            ({D1: folder()}, 500, {D1: "c1"}, []),
        ],
    ),
    (
        "incomplete set: never runs until the last file arrives and settles",
        [
            ({D1: folder(skip="Users")}, 0, {D1: "c1"}, []),
            ({D1: folder(skip="Users")}, 1000, {D1: "c1"}, []),
            ({D1: folder()}, 1001, {D1: "c1"}, []),
            ({D1: folder()}, 1062, {D1: "c1"}, [(D1, "c1")]),
        ],
    ),
    (
        "file still changing: a growing file keeps the folder from running",
        [
            ({D1: folder(size=10)}, 0, {D1: "c1"}, []),
            ({D1: folder(size=20, modified=1050)}, 50, {D1: "c1"}, []),
            ({D1: folder(size=30, modified=1100)}, 100, {D1: "c1"}, []),
            ({D1: folder(size=30, modified=1100)}, 161, {D1: "c1"}, [(D1, "c1")]),
        ],
    ),
    (
        "re-delivery with changed content runs again",
        [
            ({D1: folder()}, 0, {D1: "c1"}, []),
            ({D1: folder()}, 61, {D1: "c1"}, [(D1, "c1")]),
            ({D1: folder(size=200, modified=2000)}, 100, {D1: "c2"}, []),
            ({D1: folder(size=200, modified=2000)}, 161, {D1: "c2"}, [(D1, "c2")]),
        ],
    ),
    (
        "re-delivery with the same content (new timestamps) does not run again",
        [
            ({D1: folder()}, 0, {D1: "c1"}, []),
            ({D1: folder()}, 61, {D1: "c1"}, [(D1, "c1")]),
            ({D1: folder(modified=5000)}, 100, {D1: "c1"}, []),
            ({D1: folder(modified=5000)}, 161, {D1: "c1"}, []),
        ],
    ),
    (
        "temporary and unrelated files are ignored; a date outside the partitions waits",
        [
            (
                {
                    D1: folder(extra=[LandingFile("Progress.csv.tmp", 5, 999.0)]),
                    dt.date(2030, 1, 1): folder(),
                },
                0,
                {D1: "c1"},
                [],
            ),
            (
                {
                    D1: folder(extra=[LandingFile("notes.txt", 5, 2000.0)]),
                    dt.date(2030, 1, 1): folder(),
                },
                61,
                {D1: "c1"},
                [(D1, "c1")],
            ),
        ],
    ),
]


@pytest.mark.parametrize("steps", [s for _, s in SCENARIOS], ids=[n for n, _ in SCENARIOS])
def test_cursor_scenarios(steps):
    cursor = {}
    for listing, now, contents, expected in steps:
        decision, _ = tick(listing, cursor, now, contents)
        assert decision.requests == expected, (now, decision.waiting)
        cursor = load_cursor(dump_cursor(decision.cursor))  # survives serialization


def test_a_year_of_settled_snapshots_costs_no_hashing():
    days = [dt.date(2025, 11, 1) + dt.timedelta(days=n) for n in range(365)]
    listing = {d: folder() for d in days}
    contents = {d: f"c{d}" for d in days}
    first, calls = tick(listing, {}, 0, contents)
    second, calls = tick(listing, first.cursor, 61, contents)
    assert len(second.requests) == 365 and calls == 365
    third, calls = tick(listing, second.cursor, 3600, contents)
    assert third.requests == [] and calls == 0
    assert len(dump_cursor(third.cursor)) < 100_000


def test_sensor_tick_requests_the_partition_with_a_content_run_key(tmp_path, write_snapshot):
    write_snapshot(D1)
    old = time.time() - 3600
    for f in (tmp_path / "landing" / D1.isoformat()).iterdir():
        os.utime(f, (old, old))
    from learn_assets.resources import LandingResource

    landing = LandingResource(landing_dir=str(tmp_path / "landing"), quiet_seconds=0)
    with dg.build_sensor_context(resources={"landing": landing}) as context:
        first = landing_sensor(context)
        cursor = context.cursor
    (request,) = first
    assert request.partition_key == "2026-11-01"
    assert request.run_key == f"2026-11-01:{request.tags[FINGERPRINT_TAG][:16]}"
    with dg.build_sensor_context(cursor=cursor, resources={"landing": landing}) as context:
        again = landing_sensor(context)
    assert isinstance(again, dg.SkipReason)
