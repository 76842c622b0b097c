"""The landing folder: `<landing_dir>/<YYYY-MM-DD>/<Dataset>.csv|.parquet` plus the Entra export."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import dagster as dg

from learn_assets.contracts.datasets import Dataset

FORMATS = ("csv", "parquet")
_DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class LandingFileError(Exception):
    """A landing file is missing or unreadable; the message names the file."""


class LandingResource(dg.ConfigurableResource):
    """Landing folder with one sub-folder per snapshot date, as the sample generator writes it."""

    landing_dir: str = "data/landing"
    entra_export: str = ""  # empty: <landing_dir>/entra_users.csv

    @property
    def root(self) -> Path:
        return Path(self.landing_dir)

    def snapshot_dir(self, snapshot: dt.date) -> Path:
        return self.root / snapshot.isoformat()

    def snapshot_file(self, snapshot: dt.date, dataset: Dataset) -> Path:
        """The file delivered for `dataset` on `snapshot`; file names match case-insensitively."""
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

    def snapshot_dates(self) -> list[dt.date]:
        """Snapshot dates that have a folder in the landing directory, oldest first."""
        if not self.root.is_dir():
            return []
        return sorted(
            dt.date.fromisoformat(p.name)
            for p in self.root.iterdir()
            if p.is_dir() and _DATE_DIR.match(p.name)
        )

    def entra_export_path(self) -> Path:
        return Path(self.entra_export) if self.entra_export else self.root / "entra_users.csv"
