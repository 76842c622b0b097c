"""Where the exports for people are written (LEARN_EXPORTS_DIR)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from learn_assets.settings import DEFAULTS


class ExportSettings(dg.ConfigurableResource):
    """Exports folder: one sub-folder per snapshot date, `<exports_dir>/<YYYY-MM-DD>/`; at most
    `xlsx_max_rows` rows per sheet of the workbook (LEARN_XLSX_MAX_ROWS)."""

    exports_dir: str = DEFAULTS.exports_dir
    xlsx_max_rows: int = DEFAULTS.xlsx_max_rows

    @property
    def root(self) -> Path:
        return Path(self.exports_dir)
