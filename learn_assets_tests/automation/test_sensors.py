"""The landing sensor's cursor scenarios, as a table, plus ticks through Dagster on a real
landing folder (bad folders skipped and reported, every other folder still run)."""

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
from learn_assets.resources import LandingResource
from learn_assets.resources.landing import LandingFile, LandingScan

D1, D2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)
FIRST, LAST = dt.date(2025, 11, 1), dt.date(2026, 12, 31)
QUIET = 60


def folder(size: int = 100, modified: float = 1000.0, skip: str = "", extra=()) -> tuple:
    files = [LandingFile(f"{d.name}.csv", size, modified) for d in DATASETS if d.name != skip]
    return tuple(sorted([*files, *extra], key=lambda f: f.name))


class Hasher:
    """Content fingerprints by date (an exception: the files cannot be read), counting how often
    files are hashed."""

    def __init__(self, contents: dict[dt.date, str | Exception]):
        self.contents, self.calls = contents, 0

    def __call__(self, day: dt.date) -> str:
        self.calls += 1
        content = self.contents[day]
        if isinstance(content, Exception):
            raise content
        return content


def tick(listing, cursor, now, contents):
    """One evaluation; `listing` is {date: files} or a LandingScan (with folder problems)."""
    scan = listing if isinstance(listing, LandingScan) else LandingScan(listing, {})
    hasher = Hasher(contents)
    decision = evaluate_landing(
        scan.folders, cursor, now, QUIET, hasher, FIRST, LAST, scan.problems
    )
    return decision, hasher.calls


BAD_DATE = {"2026-13-01": "not a date (month must be in 1..12)"}
BOTH = [LandingFile("Progress.parquet", 100, 1000.0)]
BOTH_SKIPPED = {"2026-11-01": "both Progress.csv and Progress.parquet: keep exactly one of each"}
DENIED = PermissionError(13, "Permission denied", "landing/2026-11-01/Users.csv")
DENIED_SKIPPED = {
    "2026-11-01": "cannot be read: [Errno 13] Permission denied: 'landing/2026-11-01/Users.csv'"
}

# (name, [(listing, now, contents, expected requests[, expected skipped folders])...]) — ticks
# run in order on one cursor; skipped folders are {} unless given.
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
    (
        "a folder named like a date that is none is skipped; the others still run",
        [
            (LandingScan({D1: folder()}, BAD_DATE), 0, {D1: "c1"}, [], BAD_DATE),
            (LandingScan({D1: folder()}, BAD_DATE), 61, {D1: "c1"}, [(D1, "c1")], BAD_DATE),
        ],
    ),
    (
        "both formats of one dataset: skipped until one is removed; the others still run",
        [
            ({D1: folder(extra=BOTH), D2: folder()}, 0, {D2: "c2"}, [], BOTH_SKIPPED),
            ({D1: folder(extra=BOTH), D2: folder()}, 61, {D2: "c2"}, [(D2, "c2")], BOTH_SKIPPED),
            ({D1: folder(), D2: folder()}, 100, {D1: "c1", D2: "c2"}, []),
            ({D1: folder(), D2: folder()}, 161, {D1: "c1", D2: "c2"}, [(D1, "c1")]),
        ],
    ),
    (
        "a folder whose files cannot be read is skipped until they can",
        [
            ({D1: folder(), D2: folder()}, 0, {D1: DENIED, D2: "c2"}, []),
            (
                {D1: folder(), D2: folder()},
                61,
                {D1: DENIED, D2: "c2"},
                [(D2, "c2")],
                DENIED_SKIPPED,
            ),
            ({D1: folder(), D2: folder()}, 90, {D1: "c1", D2: "c2"}, [(D1, "c1")]),
            ({D1: folder(), D2: folder()}, 120, {D1: "c1", D2: "c2"}, []),
        ],
    ),
]


@pytest.mark.parametrize("steps", [s for _, s in SCENARIOS], ids=[n for n, _ in SCENARIOS])
def test_cursor_scenarios(steps):
    cursor = {}
    for listing, now, contents, expected, *skipped in steps:
        decision, _ = tick(listing, cursor, now, contents)
        assert decision.requests == expected, (now, decision.waiting)
        assert decision.skipped == (skipped[0] if skipped else {}), now
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
    settle(tmp_path / "landing" / D1.isoformat())
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


def settle(folder):
    old = time.time() - 3600
    for f in folder.iterdir():
        os.utime(f, (old, old))


def test_bad_folders_are_skipped_and_reported_and_the_good_one_runs(
    tmp_path, write_snapshot, capfd
):
    landing_dir = tmp_path / "landing"
    for day in (D1, D2):
        settle(write_snapshot(day))
    (landing_dir / "2026-13-01").mkdir()
    (landing_dir / D2.isoformat() / "Progress.parquet").write_bytes(b"PAR1")
    (landing_dir / "2026-11-03").symlink_to("2026-11-03")  # a folder that cannot be listed
    (landing_dir / "notes").mkdir()  # not named like a date: not a snapshot folder, ignored
    landing = LandingResource(landing_dir=str(landing_dir), quiet_seconds=0)
    expected = {
        "2026-11-02": "both Progress.csv and Progress.parquet: keep exactly one of each",
        "2026-11-03": "cannot be listed: Too many levels of symbolic links",
        "2026-13-01": "not a date (month must be in 1..12)",
    }
    assert landing.scan().problems == {k: expected[k] for k in ("2026-11-03", "2026-13-01")}
    assert landing.snapshot_dates() == [D1, D2]

    with dg.build_sensor_context(resources={"landing": landing}) as context:
        first = landing_sensor(context)
        cursor = context.cursor
    assert [r.partition_key for r in first] == ["2026-11-01"]
    # The sensor's log (printed by Dagster's console handler here, captured by the daemon).
    logged = [line for line in capfd.readouterr().err.splitlines() if " - WARNING - " in line]
    assert [line.split(" - WARNING - ", 1)[1] for line in logged] == [
        f"landing folder {k} skipped: {why}" for k, why in expected.items()
    ]

    with dg.build_sensor_context(cursor=cursor, resources={"landing": landing}) as context:
        again = landing_sensor(context)
    assert again.skip_message == (
        "no new settled snapshot. "
        + " ".join(f"Skipped {k}: {why}." for k, why in expected.items())
    )
