"""Where the exports for people are written (LEARN_EXPORTS_DIR)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

XLSX_MAX_ROWS = 100_000  # rows per sheet of reports.xlsx; CSV and Parquet keep every row


class ExportSettings(dg.ConfigurableResource):
    """Exports folder: one sub-folder per snapshot date, `<exports_dir>/<YYYY-MM-DD>/`; at most
    `xlsx_max_rows` rows per sheet of the workbook (LEARN_XLSX_MAX_ROWS)."""

    exports_dir: str = "data/exports"
    xlsx_max_rows: int = XLSX_MAX_ROWS

    @property
    def root(self) -> Path:
        return Path(self.exports_dir)
