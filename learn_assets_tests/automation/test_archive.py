"""The Data Share archiver: pure planning (quiet period, sync dates, no repeats) as tables, then
real copies on a local folder and on Azurite: byte-exact, dated, replaced versions kept."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import time
from pathlib import Path

import dagster as dg
import pytest

from learn_assets.automation.archive import (
    MANIFEST,
    ArchiveCopy,
    ArchiveState,
    ShareFile,
    archive_job,
    archive_version,
    data_share_archiver,
    data_share_sensors,
    list_share,
    plan_archive,
    planned_copies,
    requeue,
    run_archiver,
)
from learn_assets.contracts.datasets import DATASETS
from learn_assets.generator import generate_sample
from learn_assets.resources import LandingResource, Storage
from learn_assets.resources.datashare import DataShareResource
from learn_assets.settings import Settings
from learn_assets_tests.azurite import KEY

QUIET = 60


def utc(text: str) -> float:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC).timestamp()


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- planning, pure ------------------------------------------------------------------------------


def run_ticks(ticks, max_files: int = 20):
    """Run (listing, now) ticks on one state; return what each tick planned as (file, date)."""
    state, planned = ArchiveState(), []
    for listing, now in ticks:
        copies, state = plan_archive(listing, state, now, QUIET, max_files)
        planned.append([(c.source, c.snapshot_date.isoformat()) for c in copies])
    return planned, state


T0 = utc("2026-11-01T06:00:00")
P1 = ShareFile("Progress.csv", 100, T0)
U1 = ShareFile("Users.csv", 50, T0 + 5)

PLAN_SCENARIOS = [
    (
        "a new file waits for the quiet period, then is copied once",
        [([P1], T0 + 10), ([P1], T0 + 40), ([P1], T0 + 71), ([P1], T0 + 500)],
        [[], [], [("Progress.csv", "2026-11-01")], []],
    ),
    (
        "a file still being written (size or time moving) is never copied half-way",
        [
            ([ShareFile("Progress.csv", 10, T0)], T0),
            ([ShareFile("Progress.csv", 60, T0 + 50)], T0 + 61),
            ([ShareFile("Progress.csv", 100, T0 + 110)], T0 + 122),
            ([ShareFile("Progress.csv", 100, T0 + 110)], T0 + 150),
            ([ShareFile("Progress.csv", 100, T0 + 110)], T0 + 183),
        ],
        [[], [], [], [], [("Progress.csv", "2026-11-01")]],
    ),
    (
        "an overwrite in place is a new version, copied again once settled",
        [
            ([P1], T0 + 61),
            ([P1], T0 + 200),
            ([ShareFile("Progress.csv", 100, T0 + 3600)], T0 + 3601),
            ([ShareFile("Progress.csv", 100, T0 + 3600)], T0 + 3700),
        ],
        [[], [("Progress.csv", "2026-11-01")], [], [("Progress.csv", "2026-11-01")]],
    ),
    (
        "a sync across midnight UTC is dated by its earliest file",
        [
            (
                [
                    ShareFile("Users.csv", 5, utc("2026-11-01T23:59:30")),
                    ShareFile("Progress.csv", 9, utc("2026-11-02T00:03:10")),
                ],
                utc("2026-11-02T00:10:00"),
            ),
            (
                [
                    ShareFile("Users.csv", 5, utc("2026-11-01T23:59:30")),
                    ShareFile("Progress.csv", 9, utc("2026-11-02T00:03:10")),
                ],
                utc("2026-11-02T00:12:00"),
            ),
            (
                [
                    ShareFile("Users.csv", 6, utc("2026-11-02T23:59:50")),
                    ShareFile("Progress.csv", 9, utc("2026-11-03T00:00:20")),
                ],
                utc("2026-11-03T00:10:00"),
            ),
            (
                [
                    ShareFile("Users.csv", 6, utc("2026-11-02T23:59:50")),
                    ShareFile("Progress.csv", 9, utc("2026-11-03T00:00:20")),
                ],
                utc("2026-11-03T00:12:00"),
            ),
        ],
        [
            [],
            [("Users.csv", "2026-11-01"), ("Progress.csv", "2026-11-01")],
            [],
            [("Users.csv", "2026-11-02"), ("Progress.csv", "2026-11-02")],
        ],
    ),
    (
        "a dataset written twice is two syncs; a long pause starts a new sync on its own date",
        [
            ([ShareFile("Users.csv", 5, utc("2026-11-01T23:20:00"))], utc("2026-11-01T23:25")),
            ([ShareFile("Users.csv", 5, utc("2026-11-01T23:20:00"))], utc("2026-11-01T23:27")),
            (  # Users again 50 minutes later: a new sync, crossing midnight
                [ShareFile("Users.csv", 7, utc("2026-11-01T23:59:00"))],
                utc("2026-11-02T00:05"),
            ),
            ([ShareFile("Users.csv", 7, utc("2026-11-01T23:59:00"))], utc("2026-11-02T00:07")),
            (  # Progress two hours after that sync: not part of it
                [
                    ShareFile("Users.csv", 7, utc("2026-11-01T23:59:00")),
                    ShareFile("Progress.csv", 9, utc("2026-11-02T02:00:00")),
                ],
                utc("2026-11-02T02:01"),
            ),
            (
                [
                    ShareFile("Users.csv", 7, utc("2026-11-01T23:59:00")),
                    ShareFile("Progress.csv", 9, utc("2026-11-02T02:00:00")),
                ],
                utc("2026-11-02T02:03"),
            ),
        ],
        [
            [],
            [("Users.csv", "2026-11-01")],
            [],
            [("Users.csv", "2026-11-01")],
            [],
            [("Progress.csv", "2026-11-02")],
        ],
    ),
    (
        "files that are not datasets are ignored",
        [
            ([ShareFile("notes.txt", 1, T0), ShareFile("Progress.json", 1, T0)], T0),
            ([ShareFile("notes.txt", 1, T0), ShareFile("Progress.json", 1, T0)], T0 + 100),
        ],
        [[], []],
    ),
]


@pytest.mark.parametrize(
    "ticks, expected", [s[1:] for s in PLAN_SCENARIOS], ids=[s[0] for s in PLAN_SCENARIOS]
)
def test_plan(ticks, expected) -> None:
    planned, _ = run_ticks(ticks)
    assert planned == expected


def test_plan_takes_a_few_oldest_files_per_tick_and_the_state_round_trips() -> None:
    listing = [ShareFile(f"{d.name}.csv", 10, T0 + i) for i, d in enumerate(DATASETS)]
    _, state = plan_archive(listing, ArchiveState(), T0, QUIET, 3)
    first, state = plan_archive(listing, ArchiveState.loads(state.dumps()), T0 + QUIET, QUIET, 3)
    assert [c.source for c in first] == [f"{d.name}.csv" for d in DATASETS[:3]]
    rest, state = plan_archive(listing, ArchiveState.loads(state.dumps()), T0 + 90, QUIET, 20)
    assert [c.source for c in rest] == [f"{d.name}.csv" for d in DATASETS[3:]]
    assert {c.snapshot_date for c in first + rest} == {dt.date(2026, 11, 1)}
    assert ArchiveState.loads(state.dumps()) == state


def test_archiver_is_only_defined_when_a_share_is_configured() -> None:
    assert data_share_sensors(Settings()) == []
    configured = Settings.from_env({"LEARN_DATASHARE_DIR": "az://share/learn"})
    assert data_share_sensors(configured) == [data_share_archiver]
    assert data_share_archiver.default_status == dg.DefaultSensorStatus.RUNNING


# --- copying, on a local folder and on Azurite ---------------------------------------------------


@pytest.fixture(scope="module")
def deliveries(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, bytes]]:
    """Two days of a generated tenant: what Data Share would write at two syncs."""
    out = tmp_path_factory.mktemp("deliveries")
    generate_sample(out, users=20, days=2, start=dt.date(2026, 11, 1), seed=3)
    return {
        day: {p.name: p.read_bytes() for p in sorted((out / day).iterdir())}
        for day in ("2026-11-01", "2026-11-02")
    }


class Share:
    """The share and landing roots of one backend, and a way to (over)write a share file."""

    def __init__(self, share_url: str, landing_url: str, set_time: bool):
        self.share, self.landing = Storage(share_url), Storage(landing_url)
        self.landing_url, self.share_url, self.set_time = landing_url, share_url, set_time

    def write(self, name: str, data: bytes, modified: float | None = None) -> None:
        self.share.write_bytes(name, data)
        if modified is not None and self.set_time:  # Azure stamps Last-Modified itself
            os.utime(self.share.path(name), (modified, modified))

    def sync(self, files: dict[str, bytes], start: float | None = None) -> None:
        for i, (name, data) in enumerate(files.items()):
            self.write(name, data, None if start is None else start + i)

    def tick(self, state: ArchiveState, now: float, max_files: int = 20, quiet: float = QUIET):
        results, state, _ = run_archiver(self.share, self.landing, state, now, quiet, max_files)
        return results, state

    def settle(self, state: ArchiveState, now: float) -> tuple[list, ArchiveState]:
        """Two ticks a quiet period apart: whatever was settled is archived."""
        _, state = self.tick(state, now)
        return self.tick(state, now + QUIET)

    def archived(self, day: str) -> dict[str, bytes]:
        return {e.name: self.landing.read_bytes(f"{day}/{e.name}") for e in self.landing.list(day)}

    def day_of(self, name: str) -> str:
        """The UTC date of a share file's last-modified time (Azurite: the test's today)."""
        entry = self.share.stat(name)
        assert entry is not None
        return dt.datetime.fromtimestamp(entry.modified, dt.UTC).date().isoformat()


@pytest.fixture(params=["local", "azurite"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Share:
    if request.param == "local":
        return Share(str(tmp_path / "share"), str(tmp_path / "landing"), set_time=True)
    container = request.getfixturevalue("container")
    return Share(f"az://{container}/datashare", f"az://{container}/landing", set_time=False)


def manifest(backend: Share, day: str) -> dict:
    return json.loads(backend.landing.read_bytes(f"{day}/{MANIFEST}"))


def test_syncs_are_archived_byte_exact_replaced_versions_kept(backend: Share, deliveries):
    day1, day2 = deliveries["2026-11-01"], deliveries["2026-11-02"]
    backend.sync(day1, start=utc("2026-11-01T20:00:00"))
    now = dt.datetime.now(dt.UTC).timestamp() + 1
    date = backend.day_of("Achievements.csv")  # Azurite stamps its own (today's) times

    first, state = backend.tick(ArchiveState(), now)
    assert first == []  # not settled yet
    results, state = backend.tick(state, now + QUIET)
    assert sorted((r.copy.source, r.status) for r in results) == [(n, "archived") for n in day1]
    archived = backend.archived(date)
    assert {n: sha(b) for n, b in archived.items() if n != MANIFEST} == {
        n: sha(b) for n, b in day1.items()
    }
    entry = manifest(backend, date)["files"]["Progress"]
    assert entry["sha256"] == sha(day1["Progress.csv"]) and entry["size"] == len(
        day1["Progress.csv"]
    )
    assert entry["source_path"] == backend.share.display("Progress.csv")
    assert entry["source_modified"] == backend.share.stat("Progress.csv").modified
    assert KEY not in json.dumps(manifest(backend, date)) and KEY not in state.dumps()

    # Nothing changed: nothing copied, nothing read again.
    again, state = backend.tick(state, now + 2 * QUIET)
    assert again == []

    # The same day, a corrected Progress: replaces the archived file, the old bytes are kept.
    backend.write("Progress.csv", day2["Progress.csv"], utc("2026-11-01T21:00:00"))
    results, state = backend.settle(state, now + 3 * QUIET)
    assert [(r.copy.source, r.status) for r in results] == [("Progress.csv", "replaced")]
    old = f"Progress.csv.{sha(day1['Progress.csv'])[:8]}.replaced"
    assert results[0].kept_as == old and results[0].copy.snapshot_date.isoformat() == date
    archived = backend.archived(date)
    assert sha(archived["Progress.csv"]) == sha(day2["Progress.csv"])
    assert sha(archived[old]) == sha(day1["Progress.csv"])
    replaced = manifest(backend, date)["replaced"]
    assert [(r["kept_as"], r["sha256"]) for r in replaced] == [(old, sha(day1["Progress.csv"]))]

    # Re-delivered with identical bytes (a later hourly sync): new time, same content.
    if not backend.set_time:
        time.sleep(1.05)  # Azure's Last-Modified has whole seconds
    backend.write("Progress.csv", day2["Progress.csv"], utc("2026-11-01T22:00:00"))
    results, state = backend.settle(state, now + 5 * QUIET)
    assert [r.status for r in results] == ["unchanged"]
    assert sorted(backend.archived(date)) == sorted([*day1, old, MANIFEST])
    assert backend.landing.list(".archive-tmp") == []  # no temporary copy left behind


def test_syncs_across_midnight_go_to_their_first_day(tmp_path: Path, deliveries) -> None:
    """Two nightly syncs that each start before and end after midnight UTC (local files, whose
    modification times a test can set)."""
    share = Share(str(tmp_path / "share"), str(tmp_path / "landing"), set_time=True)
    share.sync(deliveries["2026-11-01"], start=utc("2026-11-01T23:59:55"))
    now = dt.datetime.now(dt.UTC).timestamp()
    results, state = share.settle(ArchiveState(), now)
    assert {r.copy.snapshot_date.isoformat() for r in results} == {"2026-11-01"}
    share.sync(deliveries["2026-11-02"], start=utc("2026-11-02T23:59:55"))
    results, state = share.settle(state, now + 2 * QUIET)
    assert {r.copy.snapshot_date.isoformat() for r in results} == {"2026-11-02"}
    for day in ("2026-11-01", "2026-11-02"):
        files = {n: sha(b) for n, b in share.archived(day).items() if n != MANIFEST}
        assert files == {n: sha(b) for n, b in deliveries[day].items()}
    landing = LandingResource(landing_dir=share.landing_url)
    assert landing.snapshot_dates() == [dt.date(2026, 11, 1), dt.date(2026, 11, 2)]


def test_a_file_rewritten_after_planning_is_not_archived(backend: Share, deliveries) -> None:
    backend.write("Users.csv", deliveries["2026-11-01"]["Users.csv"], T0)
    now = dt.datetime.now(dt.UTC).timestamp() + 1
    listing = list_share(backend.share)
    copies, _ = plan_archive(listing, ArchiveState(), now, 0, 5)
    backend.write("Users.csv", deliveries["2026-11-02"]["Users.csv"] + b"\n", T0 + 30)
    (result,) = [archive_version(backend.share, backend.landing, c, now_utc()) for c in copies]
    assert result.status == "changed"
    assert backend.landing.list(copies[0].snapshot_date.isoformat()) == []


def test_the_sensor_plans_a_run_that_copies_and_the_landing_sees_the_snapshot(
    backend: Share, deliveries, tmp_path: Path
) -> None:
    """The tick only lists and plans (no file is read or written in it); the run it requests
    copies a whole sync, after which the landing holds the delivered snapshot."""
    backend.sync(deliveries["2026-11-01"], start=utc("2026-11-01T05:00:00"))
    landing = LandingResource(landing_dir=backend.landing_url, cache_dir=str(tmp_path / "c"))
    share = DataShareResource(share_dir=backend.share_url, quiet_seconds=0)
    resources = {"landing": landing, "datashare": share}
    instance = dg.DagsterInstance.ephemeral()
    context = dg.build_sensor_context(instance=instance, resources=resources)
    request = data_share_archiver(context)
    assert isinstance(request, dg.RunRequest)
    assert [c.source for c in planned_copies(request.run_config)] == sorted(
        deliveries["2026-11-01"]
    )
    assert backend.landing.list() == []  # the tick copied nothing
    cursor = context.cursor
    assert KEY not in (cursor or "")
    again = dg.build_sensor_context(cursor=cursor, instance=instance, resources=resources)
    assert isinstance(data_share_archiver(again), dg.SkipReason)  # handed out: not planned twice
    result = archive_job.execute_in_process(
        run_config=request.run_config, instance=instance, resources=resources
    )
    assert result.success

    day = dt.date.fromisoformat(backend.day_of("Achievements.csv"))
    listed = landing.snapshot_listing()[day]
    assert {f.name for f in listed} == {*deliveries["2026-11-01"], MANIFEST}
    local = tmp_path / "delivered"
    for name, data in deliveries["2026-11-01"].items():
        (local / day.isoformat()).mkdir(parents=True, exist_ok=True)
        (local / day.isoformat() / name).write_bytes(data)
    assert landing.content_fingerprint(day) == LandingResource(
        landing_dir=str(local)
    ).content_fingerprint(day)


def test_the_versions_of_a_failed_run_are_planned_again(backend: Share, deliveries, tmp_path):
    """A run that could not copy (here: the landing is a file, not a folder) leaves its versions
    to the next tick, which plans them again; once the landing works they are archived."""
    backend.sync(deliveries["2026-11-01"], start=utc("2026-11-01T05:00:00"))
    blocked = tmp_path / "blocked"
    blocked.write_text("not a folder")
    share = DataShareResource(share_dir=backend.share_url, quiet_seconds=0)
    instance = dg.DagsterInstance.ephemeral()

    def tick(landing_url: str, cursor: str | None):
        landing = LandingResource(landing_dir=landing_url, cache_dir=str(tmp_path / "c"))
        resources = {"landing": landing, "datashare": share}
        context = dg.build_sensor_context(cursor=cursor, instance=instance, resources=resources)
        return data_share_archiver(context), context.cursor, resources

    request, cursor, resources = tick(str(blocked), None)
    failed = archive_job.execute_in_process(
        run_config=request.run_config, instance=instance, resources=resources, raise_on_error=False
    )
    assert not failed.success
    retried, cursor, resources = tick(backend.landing_url, cursor)
    assert isinstance(retried, dg.RunRequest)
    assert planned_copies(retried.run_config) == planned_copies(request.run_config)
    assert archive_job.execute_in_process(
        run_config=retried.run_config, instance=instance, resources=resources
    ).success
    day = planned_copies(request.run_config)[0].snapshot_date.isoformat()
    assert set(deliveries["2026-11-01"]) <= {e.name for e in backend.landing.list(day)}
    third, _, _ = tick(backend.landing_url, cursor)
    assert isinstance(third, dg.SkipReason)  # a failed run is requeued once


def test_requeue_hands_out_again_only_the_version_still_current() -> None:
    copy = ArchiveCopy("Users.csv", "Users", "Users.csv", dt.date(2026, 11, 1), 10, 5.0)
    state = ArchiveState(done={"Users.csv": (10, 5.0), "Progress.csv": (7, 6.0)})
    again = requeue(state, [("run-1", [copy])])
    assert again.done == {"Progress.csv": (7, 6.0)} and again.requeued == ("run-1",)
    assert requeue(again, [("run-1", [copy])]) == again  # once
    newer = ArchiveState(done={"Users.csv": (12, 9.0)})  # a newer version was handed out since
    assert requeue(newer, [("run-2", [copy])]).done == {"Users.csv": (12, 9.0)}
