"""Where published copies go: the Delta Lake tables and the reports database for readers."""

from __future__ import annotations

import dagster as dg

LAKE_DIR = "data/lake"
SERVING_DATABASE = "data/serving.duckdb"


class PublishSettings(dg.ConfigurableResource):
    """LEARN_LAKE_DIR (a local folder or an az:// / abfs:// URL) and LEARN_SERVING_DATABASE."""

    lake_dir: str = LAKE_DIR
    serving_database: str = SERVING_DATABASE
