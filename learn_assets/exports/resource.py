"""Where the exports for people are written (LEARN_EXPORTS_DIR)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg


class ExportSettings(dg.ConfigurableResource):
    """Exports folder: one sub-folder per snapshot date, `<exports_dir>/<YYYY-MM-DD>/`."""

    exports_dir: str = "data/exports"

    @property
    def root(self) -> Path:
        return Path(self.exports_dir)
