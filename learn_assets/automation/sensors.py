"""The landing sensor: run the whole pipeline for each delivered snapshot, once per content.

A dated folder is requested when (1) all 11 dataset files are present, (2) its listing (names,
sizes, modification times) has not changed for the quiet period, so no file is half-written, and
(3) its content fingerprint (SHA-256 of the files) differs from the one last requested for that
date. The run key is the date plus the content fingerprint: a corrected re-delivery runs again,
an identical one does not. The cursor keeps one small entry per date; files are hashed only when
a folder's listing has changed and settled, so a landing with a year of snapshots costs one
directory scan per folder per tick.

A folder that cannot be a snapshot (named like a date that is none, holding two formats of one
dataset, unreadable) is skipped and reported in the sensor's log and skip reason; every other
folder still runs.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace

import dagster as dg

from learn_assets.contracts.datasets import DATASETS
from learn_assets.fileio import text_sha256
from learn_assets.jobs import snapshot_asset_keys, snapshot_job
from learn_assets.partitions import snapshot_partitions
from learn_assets.resources import LandingResource
from learn_assets.resources.landing import FORMATS, LandingFile, LandingFileError
from learn_assets.tenancy import WAREHOUSE_POOL, ensure_pool, named

EXPECTED = {d.name.lower() for d in DATASETS}
FINGERPRINT_TAG = "learn/content_fingerprint"


@dataclass
class FolderState:
    listing: str  # fingerprint of names, sizes and modification times
    since: float  # when this listing was first seen
    judged: bool = False  # this settled listing's content was fingerprinted
    requested: str | None = None  # content fingerprint of the last requested run


@dataclass
class Decision:
    requests: list[tuple[dt.date, str]] = field(default_factory=list)  # (snapshot, content)
    waiting: dict[dt.date, str] = field(default_factory=dict)  # snapshot -> why not yet
    cursor: dict[str, FolderState] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # folder -> why it cannot be a snapshot


def dataset_files(files: tuple[LandingFile, ...]) -> dict[str, list[LandingFile]]:
    """The files that are datasets (`Progress.csv`, ...), by lower-case dataset name (two for a
    dataset delivered in both formats)."""
    found: dict[str, list[LandingFile]] = {}
    for f in files:
        stem, _, ext = f.name.rpartition(".")
        if ext.lower() in FORMATS and stem.lower() in EXPECTED:
            found.setdefault(stem.lower(), []).append(f)
    return found


def two_formats(datasets: Mapping[str, list[LandingFile]]) -> str | None:
    """Why a folder holding one dataset twice (`Progress.csv` and `Progress.parquet`) is skipped."""
    doubled = [
        " and ".join(f.name for f in files)
        for _, files in sorted(datasets.items())
        if len(files) > 1
    ]
    return f"both {'; both '.join(doubled)}: keep exactly one of each" if doubled else None


def listing_fingerprint(files: Mapping[str, list[LandingFile]]) -> str:
    text = "\n".join(
        f"{f.name}\t{f.size}\t{f.modified!r}" for _, fs in sorted(files.items()) for f in fs
    )
    return text_sha256(text)


def evaluate_landing(
    listing: Mapping[dt.date, tuple[LandingFile, ...]],
    cursor: Mapping[str, FolderState],
    now: float,
    quiet_seconds: float,
    content_fingerprint: Callable[[dt.date], str],
    first: dt.date,
    last: dt.date,
    problems: Mapping[str, str] | None = None,
) -> Decision:
    """Which snapshots to run now (pure: the listing, the previous cursor and the clock).

    `problems` are the folders the listing could not take (name -> why); they and the folders
    found unusable here are `skipped`, and the other folders are decided as usual."""
    decision = Decision(cursor={day: replace(state) for day, state in cursor.items()})
    decision.skipped.update(problems or {})
    for day, files in sorted(listing.items()):
        if not first <= day <= last:
            decision.waiting[day] = f"outside the partitions {first}..{last}"
            continue
        datasets = dataset_files(files)
        missing = sorted(EXPECTED - set(datasets))
        unusable = two_formats(datasets)
        if missing or unusable:
            if unusable:
                decision.skipped[day.isoformat()] = unusable
            else:
                decision.waiting[day] = f"incomplete: missing {', '.join(missing)}"
            if state := decision.cursor.get(day.isoformat()):
                state.listing, state.judged = "", False  # must settle again, complete
            continue
        fingerprint = listing_fingerprint(datasets)
        state = decision.cursor.get(day.isoformat())
        if state is None or state.listing != fingerprint:
            state = FolderState(fingerprint, now, requested=state.requested if state else None)
            decision.cursor[day.isoformat()] = state
        if now - state.since < quiet_seconds:
            decision.waiting[day] = f"settling: unchanged for {now - state.since:.0f}s"
        elif not state.judged:
            try:
                content = content_fingerprint(day)
            except (OSError, LandingFileError) as e:  # e.g. a file unreadable or gone: next tick
                decision.skipped[day.isoformat()] = f"cannot be read: {e}"
                continue
            if content != state.requested:
                decision.requests.append((day, content))
            state.judged, state.requested = True, content
    return decision


def skip_reason(decision: Decision) -> str:
    """Why nothing runs: the folders skipped (all of them), then the last five waiting."""
    skipped = "".join(f" Skipped {name}: {why}." for name, why in sorted(decision.skipped.items()))
    waiting = "; ".join(f"{d}: {why}" for d, why in sorted(decision.waiting.items())[-5:])
    return f"no new settled snapshot.{skipped} {waiting}".strip()


def dump_cursor(cursor: Mapping[str, FolderState]) -> str:
    return json.dumps({day: asdict(state) for day, state in cursor.items()}, sort_keys=True)


def load_cursor(text: str | None) -> dict[str, FolderState]:
    return {day: FolderState(**state) for day, state in (json.loads(text) if text else {}).items()}


@dg.sensor(
    name=named("landing_sensor"),
    job=snapshot_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Runs the whole pipeline for each complete, settled snapshot folder in the "
    "landing, once per delivered content.",
)
def landing_sensor(context: dg.SensorEvaluationContext, landing: LandingResource):
    today = dt.datetime.now(dt.UTC).date()
    keys = snapshot_partitions.get_partition_keys()
    first = dt.date.fromisoformat(keys[0]) if keys else today
    scan = landing.scan()
    decision = evaluate_landing(
        scan.folders,
        load_cursor(context.cursor),
        time.time(),
        landing.quiet_seconds,
        landing.content_fingerprint,
        first,
        dt.date.fromisoformat(keys[-1]) if keys else today,
        scan.problems,
    )
    context.update_cursor(dump_cursor(decision.cursor))
    for folder, why in sorted(decision.skipped.items()):
        context.log.warning(f"landing folder {folder} skipped: {why}")
    if not decision.requests:
        return dg.SkipReason(skip_reason(decision))
    if WAREHOUSE_POOL:  # a tenant's runs take turns in its pool: it has its limit first
        ensure_pool(context.instance, WAREHOUSE_POOL)
    assets = snapshot_asset_keys()
    return [
        dg.RunRequest(
            run_key=f"{day.isoformat()}:{content[:16]}",
            partition_key=day.isoformat(),
            tags={FINGERPRINT_TAG: content},
            asset_selection=assets,
        )
        for day, content in decision.requests
    ]
