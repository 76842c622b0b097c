"""Resource configuration from environment variables, with defaults that make `make demo` work."""

from __future__ import annotations

import os
from collections.abc import Mapping

import dagster as dg

from learn_assets.exports.resource import ExportSettings
from learn_assets.resources.datashare import DataShareResource
from learn_assets.resources.landing import LandingResource
from learn_assets.resources.reporting import ReportSettings
from learn_assets.resources.warehouse import WarehouseResource

ENV_DEFAULTS = {
    "LEARN_LANDING_DIR": "data/landing",
    "LEARN_WAREHOUSE": "data/warehouse.duckdb",
    "LEARN_DUCKDB_MEMORY_LIMIT": "2GB",
    "LEARN_ENTRA_EXPORT": "",  # empty: <landing>/entra_users.csv
    "LEARN_EXPIRY_WINDOW_DAYS": "90",
    "LEARN_PSEUDONYMIZE": "false",
    "LEARN_EXPORTS_DIR": "data/exports",
    "LEARN_XLSX_MAX_ROWS": "100000",
    "LEARN_QUIET_SECONDS": "60",
    "LEARN_CACHE_DIR": "data/cache",  # local copies of a remote (Azure) landing's files
    "LEARN_DATASHARE_DIR": "",  # empty: no Data Share archiver
    "LEARN_ARCHIVE_QUIET_SECONDS": "60",
    "LEARN_LOCK_TIMEOUT": "600",  # seconds a step waits for another process's warehouse lock
}
SECRETS = ("LEARN_PSEUDONYM_KEY",)  # passed as EnvVar: never shown in the UI or logged


def setting(name: str, env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return env.get(name) or ENV_DEFAULTS[name]


def seconds_setting(name: str, env: Mapping[str, str] | None = None) -> float:
    """A setting that is a number of seconds (0 or more); anything else fails naming it."""
    value = setting(name, env)
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise ValueError(f"{name} must be a number of seconds (0 or more), got {value!r}")
    return seconds


def resources_from_env(env: Mapping[str, str] | None = None) -> dict[str, object]:
    env = os.environ if env is None else env
    return {
        "landing": LandingResource(
            landing_dir=setting("LEARN_LANDING_DIR", env),
            entra_export=setting("LEARN_ENTRA_EXPORT", env),
            quiet_seconds=int(setting("LEARN_QUIET_SECONDS", env)),
            cache_dir=setting("LEARN_CACHE_DIR", env),
        ),
        "datashare": DataShareResource(
            share_dir=setting("LEARN_DATASHARE_DIR", env),
            quiet_seconds=int(setting("LEARN_ARCHIVE_QUIET_SECONDS", env)),
        ),
        "warehouse": WarehouseResource(
            database=setting("LEARN_WAREHOUSE", env),
            memory_limit=setting("LEARN_DUCKDB_MEMORY_LIMIT", env),
            lock_timeout=seconds_setting("LEARN_LOCK_TIMEOUT", env),
        ),
        "report_settings": ReportSettings(
            expiry_window_days=int(setting("LEARN_EXPIRY_WINDOW_DAYS", env)),
            pseudonymize=setting("LEARN_PSEUDONYMIZE", env).strip().lower() in ("1", "true", "yes"),
            pseudonym_key=dg.EnvVar("LEARN_PSEUDONYM_KEY")
            if env.get("LEARN_PSEUDONYM_KEY")
            else "",
        ),
        "exports": ExportSettings(
            exports_dir=setting("LEARN_EXPORTS_DIR", env),
            xlsx_max_rows=int(setting("LEARN_XLSX_MAX_ROWS", env)),
        ),
    }
