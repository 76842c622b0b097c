"""Where Azure Data Share delivers, for the archiver (`learn_assets/automation/archive.py`)."""

from __future__ import annotations

import dagster as dg

from learn_assets.settings import DEFAULTS


class DataShareResource(dg.ConfigurableResource):
    """The folder Data Share syncs into: `<share_dir>/<Dataset>.csv|parquet`, each file
    overwritten in place at every sync. Local path or Azure URL; empty means no archiver."""

    share_dir: str = DEFAULTS.datashare_dir  # LEARN_DATASHARE_DIR
    quiet_seconds: int = DEFAULTS.archive_quiet_seconds  # unchanged this long = fully written
    max_files_per_tick: int = 11  # files per archive run: a whole sync (11 datasets)
