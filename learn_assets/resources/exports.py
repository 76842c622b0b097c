"""Where the exports for people are written (LEARN_EXPORTS_DIR)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from learn_assets.settings import DEFAULTS


class ExportSettings(dg.ConfigurableResource):
    """Exports folder: one sub-folder per snapshot date, `<exports_dir>/<YYYY-MM-DD>/`; at most
    `xlsx_max_rows` rows per sheet of the workbook (LEARN_XLSX_MAX_ROWS) and `html_max_learners`
    learners in report.html's learner search (LEARN_HTML_MAX_LEARNERS)."""

    exports_dir: str = DEFAULTS.exports_dir
    xlsx_max_rows: int = DEFAULTS.xlsx_max_rows
    html_max_learners: int = DEFAULTS.html_max_learners

    @property
    def root(self) -> Path:
        return Path(self.exports_dir)
