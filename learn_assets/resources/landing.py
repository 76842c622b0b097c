"""The landing folder: `<landing_dir>/<YYYY-MM-DD>/<Dataset>.csv|.parquet` plus the Entra export.

The landing may be a local folder or an Azure URL (`az://...`, `abfs://...`; see `storage.py`).
DuckDB reads local files only, so a remote landing is listed through fsspec and each file is
downloaded to a local cache (`<cache_dir>/<date>/<file>`) when it is read; the copy is reused as
long as the remote file's size and modification time are unchanged.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from learn_assets.contracts.datasets import DATASETS, Dataset
from learn_assets.fileio import file_sha256, text_sha256
from learn_assets.resources.storage import Entry, Storage, is_remote
from learn_assets.settings import DEFAULTS

FORMATS = ("csv", "parquet")
_DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class LandingFileError(Exception):
    """A landing file is missing or unreadable; the message names the file."""


@dataclass(frozen=True)
class LandingFile:
    """What a listing says about a delivered file, without reading it."""

    name: str
    size: int
    modified: float  # seconds since the epoch (UTC)


@dataclass(frozen=True)
class LandingScan:
    """The dated folders with their files, and the folders named like a date that cannot be a
    snapshot (`2026-13-01`, one that cannot be listed), each with the reason."""

    folders: dict[dt.date, tuple[LandingFile, ...]]
    problems: dict[str, str]  # folder name -> why it is skipped


def folder_date(name: str) -> dt.date | None:
    """The snapshot date a folder name gives; None for a name not shaped like YYYY-MM-DD.
    ValueError (naming the folder) for one shaped like a date that is none, e.g. 2026-13-01."""
    if not _DATE_DIR.match(name):
        return None
    try:
        return dt.date.fromisoformat(name)
    except ValueError as e:
        raise ValueError(f"not a date ({e})") from e


class LandingResource(dg.ConfigurableResource):
    """Landing folder with one sub-folder per snapshot date, as the sample generator writes it."""

    landing_dir: str = DEFAULTS.landing_dir
    entra_export: str = DEFAULTS.entra_export  # empty: <landing_dir>/entra_users.csv
    quiet_seconds: int = DEFAULTS.quiet_seconds  # unchanged this long before it is run
    cache_dir: str = DEFAULTS.cache_dir  # local copies of a remote landing's files
    tenant_id: str = DEFAULTS.tenant_id  # every delivered file must carry it (empty: any one)

    @property
    def root(self) -> Path:
        return Path(self.landing_dir)

    @property
    def remote(self) -> bool:
        """The landing is an Azure URL (listed through fsspec, read from the local cache)."""
        return is_remote(self.landing_dir)

    def storage(self) -> Storage:
        return Storage(self.landing_dir)

    def snapshot_dir(self, snapshot: dt.date) -> Path:
        return self.root / snapshot.isoformat()

    def snapshot_file(self, snapshot: dt.date, dataset: Dataset) -> Path:
        """The file delivered for `dataset` on `snapshot`; file names match case-insensitively.
        Always a local path: a remote file is downloaded to the cache first."""
        if self.remote:
            return self._remote_snapshot_file(snapshot, dataset)
        folder = self.snapshot_dir(snapshot)
        wanted = {f"{dataset.name}.{fmt}".lower() for fmt in FORMATS}
        if folder.is_dir():
            found = sorted(p for p in folder.iterdir() if p.name.lower() in wanted and p.is_file())
            if len(found) > 1:
                raise LandingFileError(
                    f"{folder}: both {' and '.join(p.name for p in found)} exist for "
                    f"{dataset.name}; keep exactly one"
                )
            if found:
                return found[0]
        raise LandingFileError(
            f"missing landing file for {dataset.name} on {snapshot}: expected "
            f"{folder / (dataset.name + '.csv')} (or .parquet)"
        )

    def _remote_snapshot_file(self, snapshot: dt.date, dataset: Dataset) -> Path:
        storage, day = self.storage(), snapshot.isoformat()
        wanted = {f"{dataset.name}.{fmt}".lower() for fmt in FORMATS}
        found = [e for e in storage.list(day) if not e.is_dir and e.name.lower() in wanted]
        if len(found) > 1:
            raise LandingFileError(
                f"{storage.display(day)}: both {' and '.join(e.name for e in found)} exist for "
                f"{dataset.name}; keep exactly one"
            )
        if not found:
            raise LandingFileError(
                f"missing landing file for {dataset.name} on {snapshot}: expected "
                f"{storage.display(f'{day}/{dataset.name}.csv')} (or .parquet)"
            )
        return self._cached(storage, f"{day}/{found[0].name}", found[0])

    def _cached(self, storage: Storage, relative: str, entry: Entry) -> Path:
        """The local copy of a remote file, downloaded unless the cached copy is current."""
        local = Path(self.cache_dir, *relative.split("/"))
        if not is_current(local, entry):
            storage.download(relative, local, entry.modified)
        return local

    def snapshot_dates(self) -> list[dt.date]:
        """Snapshot dates that have a folder in the landing directory, oldest first (folders
        named like a date that is none are left out; `scan` reports them)."""
        if self.remote:
            names = [e.name for e in self.storage().list() if e.is_dir]
        elif self.root.is_dir():
            names = [p.name for p in self.root.iterdir() if p.is_dir()]
        else:
            names = []
        return sorted(day for day in map(_valid_date, names) if day)

    def snapshot_listing(self) -> dict[dt.date, tuple[LandingFile, ...]]:
        """Every dated folder with its files (names, sizes, modification times)."""
        return self.scan().folders

    def scan(self) -> LandingScan:
        """Every dated folder with its files (names, sizes, modification times), and the folders
        that cannot be a snapshot: one directory scan per folder and no file reads, so a sensor
        can call it every tick. A remote landing is listed in one paged request; nothing is
        downloaded."""
        if self.remote:
            return remote_scan(self.storage())
        folders: dict[dt.date, tuple[LandingFile, ...]] = {}
        problems: dict[str, str] = {}
        if not self.root.is_dir():
            return LandingScan(folders, problems)
        with os.scandir(self.root) as entries:
            # A symlink that leads nowhere is a folder that cannot be listed, not a file.
            candidates = [e for e in entries if e.is_symlink() or e.is_dir()]
        for entry in candidates:
            try:
                day = folder_date(entry.name)
                if day is None:
                    continue
                folders[day] = folder_files(Path(entry.path))
            except ValueError as e:
                problems[entry.name] = str(e)
            except OSError as e:
                problems[entry.name] = f"cannot be listed: {e.strerror or e}"
        return LandingScan(dict(sorted(folders.items())), dict(sorted(problems.items())))

    def entra_export_path(self) -> Path:
        """The Entra export as a local path (downloaded to the cache if remote); a path that
        does not exist when there is no export."""
        if self.entra_export and not is_remote(self.entra_export):
            return Path(self.entra_export)
        if not self.entra_export and not self.remote:
            return self.root / "entra_users.csv"
        source = self.entra_export or f"{self.landing_dir.rstrip('/')}/entra_users.csv"
        parent, _, name = source.rpartition("/")
        storage = Storage(parent)
        entry = storage.stat(name)
        if entry is None:
            (Path(self.cache_dir) / name).unlink(missing_ok=True)  # no stale copy stands in
            return Path(self.cache_dir) / name
        return self._cached(storage, name, entry)

    def content_fingerprint(self, snapshot: dt.date) -> str:
        """SHA-256 over the sorted (file name, SHA-256 of its bytes) of the snapshot's 11 dataset
        files: equal for equal content, wherever the landing is. Reads (downloads) every file."""
        files = sorted(
            (path.name, file_sha256(path))
            for path in (self.snapshot_file(snapshot, d) for d in DATASETS)
        )
        return text_sha256("".join(f"{n}\t{h}\n" for n, h in files))


def is_current(local: Path, entry: Entry) -> bool:
    """The cached copy has the remote file's size and modification time (stamped at download)."""
    try:
        st = local.stat()
    except FileNotFoundError:
        return False
    return st.st_size == entry.size and abs(st.st_mtime - entry.modified) < 1e-3


def _valid_date(name: str) -> dt.date | None:
    try:
        return folder_date(name)
    except ValueError:
        return None


def folder_files(folder: Path) -> tuple[LandingFile, ...]:
    """The files directly in `folder`, by name; OSError if it cannot be listed."""
    with os.scandir(folder) as entries:
        files = [
            LandingFile(e.name, st.st_size, st.st_mtime)
            for e in entries
            if e.is_file() and (st := e.stat())
        ]
    return tuple(sorted(files, key=lambda f: f.name))


def remote_scan(storage: Storage) -> LandingScan:
    """`LandingResource.scan` of a remote landing: the files directly inside each dated folder."""
    listing: dict[dt.date, list[LandingFile]] = {}
    problems: dict[str, str] = {}
    for relative, entry in storage.walk_files(max_depth=2).items():
        folder, _, name = relative.partition("/")
        try:
            day = folder_date(folder)
        except ValueError as e:
            problems[folder] = str(e)
            continue
        if day and name and "/" not in name:
            listing.setdefault(day, []).append(LandingFile(name, entry.size, entry.modified))
    folders = {
        day: tuple(sorted(files, key=lambda f: f.name)) for day, files in sorted(listing.items())
    }
    return LandingScan(folders, dict(sorted(problems.items())))
