"""Archive Azure Data Share deliveries into the dated landing layout, keeping every version.

Data Share writes `<share_dir>/<Dataset>.csv|parquet`, one file per dataset, and overwrites it
in place at every sync: without a copy, yesterday's snapshot is gone. The `data_share_archiver`
sensor plans, at every tick, which new versions to copy (a listing, nothing read), and requests
a run of the job `archive_data_share`, which copies them byte for byte to
`<landing_dir>/<YYYY-MM-DD>/<Dataset>.<ext>`, where the landing sensor picks them up like any
delivered snapshot. Copying in a run, not in the tick, keeps ticks short whatever the file sizes;
the versions of a run that failed or was canceled are planned again at the next tick.

**The snapshot (sync) date.** A version's date is the UTC date of its sync, and a sync is
dated by its earliest file: the file's last-modified time is the moment the sync wrote it
(the only clock Data Share gives us; nothing inside the files names the snapshot), and a sync
that runs across midnight UTC must not split one snapshot over two folders, each incomplete.
Versions are taken in last-modified order; one joins the current sync when it is within
`SYNC_GAP_SECONDS` of that sync's files and its dataset is not yet in it (a sync writes each
dataset once), otherwise it starts a new sync, dated by its own last-modified UTC date. So a
sync from 23:58 to 00:04 UTC lands entirely in the first day's folder, and hourly syncs on one
day land in that day's folder, the last one winning.

**Never half-written.** A share file is copied only after its size and last-modified time have
stayed the same for `quiet_seconds` (measured on the sensor's clock, so clock skew with the
storage does not matter), and a copy whose source changed while it was read is thrown away.

**Every version kept.** A version whose SHA-256 equals the one archived for that dataset and
date is not copied again. A different version on the same date replaces the archived file,
whose bytes are kept beside it as `<Dataset>.<ext>.<sha8>.replaced`.

**Manifest.** `<landing_dir>/<date>/_archive.json` lists, per dataset, the archived file with
its SHA-256, size, source path and source last-modified time (epoch seconds and UTC), and every
replaced version with the name its bytes are kept under.

The planning is pure (`plan_archive`: share listing, previous state, clock -> files to copy, new
state); the state is the sensor's cursor.
"""

import dataclasses
import datetime as dt
import json
import os
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import dagster as dg

from learn_assets.contracts.datasets import DATASETS, Dataset
from learn_assets.fileio import read_chunks, sha256_chunks, text_sha256
from learn_assets.resources import LandingResource, Storage
from learn_assets.resources.datashare import DataShareResource
from learn_assets.resources.landing import FORMATS
from learn_assets.settings import Settings, current
from learn_assets.tenancy import RUN_TAGS, named

MANIFEST = "_archive.json"
TMP_DIR = ".archive-tmp"  # not a date: the landing sensor never looks inside
SYNC_GAP_SECONDS = 1800.0  # files written further apart than this are different syncs
RECENT = 22  # results kept in the cursor for the UI (two syncs' worth)
_BY_NAME = {d.name.lower(): d for d in DATASETS}


# --- pure planning -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShareFile:
    """A file in the share, as listed: name, size in bytes, last-modified in epoch seconds."""

    name: str
    size: int
    modified: float


@dataclass(frozen=True)
class ArchiveCopy:
    """One version to archive: share file `source` -> `<snapshot_date>/<target>`."""

    source: str
    dataset: str
    target: str  # canonical name <Dataset>.<ext>
    snapshot_date: dt.date
    size: int
    modified: float

    @property
    def relative(self) -> str:
        return f"{self.snapshot_date.isoformat()}/{self.target}"


@dataclass(frozen=True)
class Sync:
    """The sync being archived: its date, the span of its files' times, its datasets."""

    date: str
    first: float
    last: float
    datasets: tuple[str, ...]


@dataclass(frozen=True)
class ArchiveState:
    """The archiver's cursor."""

    # share file -> (size, last-modified, first seen with that signature on the sensor clock)
    seen: Mapping[str, tuple[int, float, float]] = field(default_factory=dict)
    # share file -> (size, last-modified) of the last version handed out for archiving
    done: Mapping[str, tuple[int, float]] = field(default_factory=dict)
    sync: Sync | None = None
    recent: tuple[Mapping[str, Any], ...] = ()  # what the last ticks did, newest last
    requeued: tuple[str, ...] = ()  # failed archive runs whose versions were planned again

    def dumps(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def loads(cls, text: str | None) -> "ArchiveState":
        if not text:
            return cls()
        raw = json.loads(text)
        return cls(
            seen={k: (int(v[0]), float(v[1]), float(v[2])) for k, v in raw["seen"].items()},
            done={k: (int(v[0]), float(v[1])) for k, v in raw["done"].items()},
            sync=Sync(**{**raw["sync"], "datasets": tuple(raw["sync"]["datasets"])})
            if raw.get("sync")
            else None,
            recent=tuple(raw.get("recent", ())),
            requeued=tuple(raw.get("requeued", ())),
        )


def share_dataset(name: str) -> tuple[Dataset, str] | None:
    """The dataset and extension of a share file name (`progress.CSV` -> Progress, csv)."""
    stem, _, ext = name.rpartition(".")
    dataset = _BY_NAME.get(stem.lower())
    return (dataset, ext.lower()) if dataset and ext.lower() in FORMATS else None


def utc_date(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).date().isoformat()


def date_version(sync: Sync | None, dataset: str, modified: float, gap: float) -> Sync:
    """The sync a version belongs to (see the module docstring): the current one if it is
    close in time and lacks this dataset, else a new one dated by this version."""
    if (
        sync is not None
        and dataset not in sync.datasets
        and sync.first - gap <= modified <= sync.last + gap
    ):
        return Sync(
            sync.date,
            min(sync.first, modified),
            max(sync.last, modified),
            (*sync.datasets, dataset),
        )
    return Sync(utc_date(modified), modified, modified, (dataset,))


def plan_archive(
    listing: Sequence[ShareFile],
    state: ArchiveState,
    now: float,
    quiet_seconds: float,
    max_files: int,
    sync_gap: float = SYNC_GAP_SECONDS,
) -> tuple[list[ArchiveCopy], ArchiveState]:
    """Which share versions to copy now, oldest first, at most `max_files`, and the new state.

    A version is due when its (size, last-modified) differs from the last one handed out for
    that file and has been seen unchanged for `quiet_seconds`. The new state assumes the copies
    are made; a copy that finds its source changed is simply a newer version next time.
    """
    files = {f.name: (f, found) for f in listing if (found := share_dataset(f.name))}
    seen = {}
    for name, (f, _) in files.items():
        before = state.seen.get(name)
        unchanged = before is not None and before[:2] == (f.size, f.modified)
        seen[name] = (f.size, f.modified, before[2] if before and unchanged else now)
    due = sorted(
        (
            (f, found)
            for name, (f, found) in files.items()
            if state.done.get(name) != (f.size, f.modified) and now - seen[name][2] >= quiet_seconds
        ),
        key=lambda item: (item[0].modified, item[0].name),
    )[: max(max_files, 0)]
    copies, done, sync = [], dict(state.done), state.sync
    for f, (dataset, ext) in due:
        sync = date_version(sync, dataset.name, f.modified, sync_gap)
        day = dt.date.fromisoformat(sync.date)
        target = f"{dataset.name}.{ext}"
        copies.append(ArchiveCopy(f.name, dataset.name, target, day, f.size, f.modified))
        done[f.name] = (f.size, f.modified)
    return copies, dataclasses.replace(state, seen=seen, done=done, sync=sync)


def waiting(listing: Sequence[ShareFile], state: ArchiveState) -> list[str]:
    """Share files with a version not yet handed out (still settling, or beyond this tick)."""
    return sorted(
        f.name
        for f in listing
        if share_dataset(f.name) and state.done.get(f.name) != (f.size, f.modified)
    )


# --- copying -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArchiveResult:
    """What archiving one version did: `archived` (new for its date), `replaced` (the previous
    version's bytes kept as `kept_as`), `unchanged` (same SHA-256 already archived), or
    `changed` (the source changed while it was read: nothing written, retried as a new version)."""

    copy: ArchiveCopy
    status: str
    sha256: str | None = None
    kept_as: str | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "file": self.copy.relative,
            "source": self.copy.source,
            "status": self.status,
            "sha256": self.sha256,
            "kept_as": self.kept_as,
        }


def list_share(share: Storage) -> list[ShareFile]:
    """The dataset files directly in the share folder (other files are ignored)."""
    return [
        ShareFile(e.name, e.size, e.modified)
        for e in share.list()
        if not e.is_dir and share_dataset(e.name)
    ]


def read_manifest(landing: Storage, day: str) -> dict[str, Any]:
    if landing.stat(f"{day}/{MANIFEST}") is None:
        return {"snapshot_date": day, "files": {}, "replaced": []}
    return json.loads(landing.read_bytes(f"{day}/{MANIFEST}"))


def write_manifest(landing: Storage, day: str, manifest: Mapping[str, Any]) -> None:
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    landing.write_bytes(f"{day}/{MANIFEST}", text.encode())


def hash_file(storage: Storage, relative: str) -> str:
    with storage.open(relative) as f:
        return sha256_chunks(read_chunks(f))


def copy_file(share: Storage, source: str, landing: Storage, target: str) -> tuple[str, int]:
    """Stream `source` to `target` byte for byte; return its SHA-256 and size."""
    size = 0
    landing.makedirs(target.rpartition("/")[0])

    def copied(src: BinaryIO) -> Iterator[bytes]:
        nonlocal size
        for chunk in read_chunks(src):
            dst.write(chunk)
            size += len(chunk)
            yield chunk

    with share.open(source) as src, landing.open(target, "wb") as dst:
        digest = sha256_chunks(copied(src))
    return digest, size


def manifest_entry(share: Storage, copy: ArchiveCopy, sha256: str, now: dt.datetime) -> dict:
    return {
        "file": copy.target,
        "sha256": sha256,
        "size": copy.size,
        "source_path": share.display(copy.source),
        "source_modified": copy.modified,
        "source_modified_utc": dt.datetime.fromtimestamp(copy.modified, dt.UTC).isoformat(),
        "archived_at": now.isoformat(timespec="seconds"),
    }


def archive_version(
    share: Storage, landing: Storage, copy: ArchiveCopy, now: dt.datetime
) -> ArchiveResult:
    """Copy one planned version into `<date>/<Dataset>.<ext>` (see the module docstring)."""
    day = copy.snapshot_date.isoformat()
    manifest = read_manifest(landing, day)
    current = manifest["files"].get(copy.dataset)
    present = {  # this dataset's files already in the folder, whatever their format or case
        e.name: e
        for e in landing.list(day)
        if not e.is_dir and (found := share_dataset(e.name)) and found[0].name == copy.dataset
    }

    def archived_sha(name: str) -> str:
        """SHA-256 of an archived file: from the manifest when it describes that file."""
        if current and current["file"] == name and current["size"] == present[name].size:
            return current["sha256"]
        return hash_file(landing, f"{day}/{name}")

    # The common re-delivery (an hourly sync of unchanged data): one read, nothing written.
    if list(present) == [copy.target] and current and current["size"] == copy.size:
        if hash_file(share, copy.source) == archived_sha(copy.target) and _same(share, copy):
            return ArchiveResult(copy, "unchanged", current["sha256"])

    tmp = f"{TMP_DIR}/{day}.{copy.target}.{os.getpid()}"
    sha256, size = copy_file(share, copy.source, landing, tmp)
    if size != copy.size or not _same(share, copy):
        landing.remove(tmp)
        return ArchiveResult(copy, "changed")
    if list(present) == [copy.target] and archived_sha(copy.target) == sha256:
        landing.remove(tmp)  # identical bytes, only the manifest entry was missing
        manifest["files"][copy.dataset] = manifest_entry(share, copy, sha256, now)
        write_manifest(landing, day, manifest)
        return ArchiveResult(copy, "unchanged", sha256)

    kept = []
    for name in sorted(present):  # the previous version(s): keep their bytes before replacing
        old_sha = archived_sha(name)
        kept_as = f"{name}.{old_sha[:8]}.replaced"
        if landing.stat(f"{day}/{kept_as}") is None:
            landing.copy(f"{day}/{name}", f"{day}/{kept_as}")
        previous = current if current and current["file"] == name else {"file": name}
        kept.append({**previous, "sha256": old_sha, "kept_as": kept_as, "replaced_by": sha256})
    landing.makedirs(day)
    landing.replace(tmp, f"{day}/{copy.target}")
    for name in present:
        if name != copy.target:
            landing.remove(f"{day}/{name}")  # e.g. the CSV when the share moved to Parquet
    manifest["files"][copy.dataset] = manifest_entry(share, copy, sha256, now)
    manifest["replaced"] = [*manifest.get("replaced", []), *kept]
    write_manifest(landing, day, manifest)
    return ArchiveResult(
        copy, "replaced" if kept else "archived", sha256, kept[0]["kept_as"] if kept else None
    )


def _same(share: Storage, copy: ArchiveCopy) -> bool:
    """The share file is still the planned version (not rewritten while we read it)."""
    now = share.stat(copy.source)
    return now is not None and (now.size, now.modified) == (copy.size, copy.modified)


# --- Dagster -------------------------------------------------------------------------------------


def run_archiver(
    share: Storage,
    landing: Storage,
    state: ArchiveState,
    now: float,
    quiet_seconds: float,
    max_files: int,
) -> tuple[list[ArchiveResult], ArchiveState, list[str]]:
    """A tick and its run in one call (for tests and scripts): list the share, plan, copy.
    Returns the results, the new state and the files still waiting."""
    listing = list_share(share)
    copies, new_state = plan_archive(listing, state, now, quiet_seconds, max_files)
    stamp = dt.datetime.fromtimestamp(now, dt.UTC)
    results = [archive_version(share, landing, c, stamp) for c in copies]
    recent = (*new_state.recent, *(r.summary() for r in results))[-RECENT:]
    new_state = dataclasses.replace(new_state, recent=recent)
    return results, new_state, waiting(listing, new_state)


ARCHIVE_JOB = named("archive_data_share")
ARCHIVE_OP = "archive_share_files"
REQUEUED_KEPT = 50


class CopyConfig(dg.Config):
    """One planned version, as the run's configuration carries it."""

    source: str
    dataset: str
    target: str
    snapshot_date: str
    size: int
    modified: float

    @classmethod
    def of(cls, copy: ArchiveCopy) -> "CopyConfig":
        return cls(**{**dataclasses.asdict(copy), "snapshot_date": copy.snapshot_date.isoformat()})

    def planned(self) -> ArchiveCopy:
        values = self.model_dump()
        return ArchiveCopy(**{**values, "snapshot_date": dt.date.fromisoformat(self.snapshot_date)})


class ArchiveConfig(dg.Config):
    copies: list[CopyConfig]


@dg.op(
    name=ARCHIVE_OP,
    description="Copies the planned Data Share versions into the dated landing folders.",
)
def archive_share_files(
    context: dg.OpExecutionContext,
    config: ArchiveConfig,
    landing: LandingResource,
    datashare: DataShareResource,
) -> None:
    share, target = Storage(datashare.share_dir), landing.storage()
    now = dt.datetime.now(dt.UTC)
    for planned in config.copies:
        r = archive_version(share, target, planned.planned(), now)
        context.log.info(
            f"{share.display(r.copy.source)} -> {target.display(r.copy.relative)}: {r.status}"
            + (f" (sha256 {r.sha256})" if r.sha256 else "")
            + (f", previous kept as {r.kept_as}" if r.kept_as else "")
        )


@dg.job(
    name=ARCHIVE_JOB,
    run_tags=RUN_TAGS,
    description="Copies new versions of the Azure Data Share files into the dated landing "
    "(requested by the sensor data_share_archiver).",
)
def archive_job() -> None:
    archive_share_files()


def archive_run_config(copies: Sequence[ArchiveCopy]) -> dict[str, Any]:
    configs = [CopyConfig.of(c).model_dump() for c in copies]
    return {"ops": {ARCHIVE_OP: {"config": {"copies": configs}}}}


def planned_copies(run_config: Mapping[str, Any]) -> list[ArchiveCopy]:
    """The versions a run was asked to archive (from its configuration)."""
    raw = run_config.get("ops", {}).get(ARCHIVE_OP, {}).get("config", {}).get("copies", [])
    return [CopyConfig(**c).planned() for c in raw]


def requeue(
    state: ArchiveState, failed: Sequence[tuple[str, Sequence[ArchiveCopy]]]
) -> ArchiveState:
    """Pure: the state with the versions of failed (or canceled) runs handed out again, unless
    a newer version of that file was handed out since. `failed`: (run id, its copies)."""
    done, requeued = dict(state.done), list(state.requeued)
    for run_id, copies in failed:
        if run_id in requeued:
            continue
        for c in copies:
            if done.get(c.source) == (c.size, c.modified):
                del done[c.source]
        requeued.append(run_id)
    return dataclasses.replace(state, done=done, requeued=tuple(requeued[-REQUEUED_KEPT:]))


def failed_archive_runs(instance: dg.DagsterInstance) -> list[tuple[str, list[ArchiveCopy]]]:
    runs = instance.get_runs(
        dg.RunsFilter(
            job_name=ARCHIVE_JOB,
            statuses=[dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED],
        ),
        limit=REQUEUED_KEPT,
    )
    return [(run.run_id, planned_copies(run.run_config)) for run in runs]


@dg.sensor(
    name=named("data_share_archiver"),
    job=archive_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Plans the copy of each new version of the Azure Data Share files "
    "(LEARN_DATASHARE_DIR, overwritten in place at every sync) into the dated landing folders, "
    "once settled, and requests a run of archive_data_share that copies them; the landing "
    "sensor then runs the snapshot.",
)
def data_share_archiver(
    context: dg.SensorEvaluationContext, datashare: DataShareResource
) -> dg.RunRequest | dg.SkipReason:
    share = Storage(datashare.share_dir)
    state = ArchiveState.loads(context.cursor)
    state = requeue(state, failed_archive_runs(context.instance))
    listing = list_share(share)
    copies, state = plan_archive(
        listing, state, time.time(), datashare.quiet_seconds, datashare.max_files_per_tick
    )
    planned = [{"file": c.relative, "source": c.source, "status": "requested"} for c in copies]
    state = dataclasses.replace(state, recent=(*state.recent, *planned)[-RECENT:])
    context.update_cursor(state.dumps())
    pending = waiting(listing, state)
    if not copies:
        more = f"; waiting: {', '.join(pending)}" if pending else ""
        return dg.SkipReason(f"nothing to copy{more}")
    key = text_sha256(json.dumps([CopyConfig.of(c).model_dump() for c in copies], sort_keys=True))
    return dg.RunRequest(run_key=f"archive:{key[:16]}", run_config=archive_run_config(copies))


def data_share_sensors(settings: Settings | None = None) -> list[dg.SensorDefinition]:
    """The archiver, only when LEARN_DATASHARE_DIR is set (a plain dated landing needs none)."""
    return [data_share_archiver] if (settings or current()).datashare_dir else []
