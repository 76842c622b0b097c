"""Where the exports for people are written (LEARN_EXPORTS_DIR)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

XLSX_MAX_ROWS = 100_000  # rows per sheet of reports.xlsx; CSV and Parquet keep every row
HTML_MAX_LEARNERS = 5_000  # learners report.html embeds (the most active): it stays small


class ExportSettings(dg.ConfigurableResource):
    """Exports folder: one sub-folder per snapshot date, `<exports_dir>/<YYYY-MM-DD>/`; at most
    `xlsx_max_rows` rows per sheet of the workbook (LEARN_XLSX_MAX_ROWS) and `html_max_learners`
    learners in report.html's learner details (LEARN_HTML_MAX_LEARNERS)."""

    exports_dir: str = "data/exports"
    xlsx_max_rows: int = XLSX_MAX_ROWS
    html_max_learners: int = HTML_MAX_LEARNERS

    @property
    def root(self) -> Path:
        return Path(self.exports_dir)
