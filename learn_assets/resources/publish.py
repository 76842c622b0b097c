"""Where published copies go: the Delta Lake tables and the reports database for readers."""

from __future__ import annotations

import dagster as dg

from learn_assets.settings import DEFAULTS


class PublishSettings(dg.ConfigurableResource):
    """LEARN_LAKE_DIR (a local folder or an az:// / abfs:// URL) and LEARN_SERVING_DATABASE."""

    lake_dir: str = DEFAULTS.lake_dir
    serving_database: str = DEFAULTS.serving_database
