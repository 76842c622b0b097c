"""Resource configuration from environment variables, with defaults that make `make demo` work.

Every value is parsed here, when the code location loads: a value this project cannot use is a
`SettingError` naming the variable, never silently a default.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

import dagster as dg

from learn_assets.resources.datashare import DataShareResource
from learn_assets.resources.exports import ExportSettings
from learn_assets.resources.landing import LandingResource
from learn_assets.resources.publish import LAKE_DIR, SERVING_DATABASE, PublishSettings
from learn_assets.resources.reporting import (
    ReportSettings,
    SettingError,
    check_share,
    parse_dates,
)
from learn_assets.resources.warehouse import WarehouseResource

ENV_DEFAULTS = {
    "LEARN_LANDING_DIR": "data/landing",
    "LEARN_WAREHOUSE": "data/warehouse.duckdb",
    "LEARN_DUCKDB_MEMORY_LIMIT": "2GB",
    "LEARN_ENTRA_EXPORT": "",  # empty: <landing>/entra_users.csv
    "LEARN_EXPIRY_WINDOW_DAYS": "90",
    "LEARN_PSEUDONYMIZE": "false",
    "LEARN_MAX_USER_DROP": "0.5",
    "LEARN_MAX_QUARANTINE_SHARE": "0.05",
    "LEARN_ACCEPT_ANOMALY": "",  # comma-separated snapshot dates whose anomalies are accepted
    "LEARN_EXPORTS_DIR": "data/exports",
    "LEARN_XLSX_MAX_ROWS": "100000",
    "LEARN_QUIET_SECONDS": "60",
    "LEARN_CACHE_DIR": "data/cache",  # local copies of a remote (Azure) landing's files
    "LEARN_DATASHARE_DIR": "",  # empty: no Data Share archiver
    "LEARN_ARCHIVE_QUIET_SECONDS": "60",
    "LEARN_LOCK_TIMEOUT": "600",  # seconds a step waits for another process's warehouse lock
    "LEARN_LAKE_DIR": LAKE_DIR,  # Delta Lake tables of every report and core table
    "LEARN_SERVING_DATABASE": SERVING_DATABASE,  # the reports database readers open
    "LEARN_HTML_MAX_LEARNERS": "5000",  # learners embedded in report.html (the most active)
    "LEARN_OWNER": "team:learning-analytics",  # every asset's owner in the Dagster UI
}
SECRETS = ("LEARN_PSEUDONYM_KEY",)  # passed as EnvVar: never shown in the UI or logged
TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off")


def setting(name: str, env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return env.get(name) or ENV_DEFAULTS[name]


def parse_bool(name: str, value: str) -> bool:
    """true/false, 1/0, yes/no, on/off in any case, spaces around allowed; else SettingError."""
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise SettingError(
        f"{name} must be one of true/false, 1/0, yes/no, on/off (any case), got {value!r}"
    )


def bool_setting(name: str, env: Mapping[str, str] | None = None) -> bool:
    """A boolean setting; unset or blank means its default."""
    return parse_bool(name, setting(name, env).strip() or ENV_DEFAULTS[name])


def share_setting(name: str, env: Mapping[str, str] | None = None) -> float:
    """A share between 0 and 1, e.g. 0.05 for 5%."""
    value = setting(name, env)
    try:
        number = float(value)
    except ValueError:
        raise SettingError(
            f"{name} must be a share between 0 and 1 (0.5 is 50%), got {value!r}"
        ) from None
    return check_share(name, number)


def report_settings_from_env(env: Mapping[str, str]) -> ReportSettings:
    pseudonymize = bool_setting("LEARN_PSEUDONYMIZE", env)
    if pseudonymize and not env.get("LEARN_PSEUDONYM_KEY"):
        raise SettingError(
            "LEARN_PSEUDONYMIZE is on but LEARN_PSEUDONYM_KEY is not set: privacy mode needs "
            "a secret key for the pseudonyms"
        )
    accept = setting("LEARN_ACCEPT_ANOMALY", env)
    parse_dates("LEARN_ACCEPT_ANOMALY", accept)  # refuse a bad date now, not in a run
    return ReportSettings(
        expiry_window_days=int(setting("LEARN_EXPIRY_WINDOW_DAYS", env)),
        pseudonymize=pseudonymize,
        pseudonym_key=dg.EnvVar("LEARN_PSEUDONYM_KEY") if env.get("LEARN_PSEUDONYM_KEY") else "",
        max_user_drop=share_setting("LEARN_MAX_USER_DROP", env),
        max_quarantine_share=share_setting("LEARN_MAX_QUARANTINE_SHARE", env),
        accept_anomaly=accept,
    )


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def owner_setting(env: Mapping[str, str] | None = None) -> str:
    """The assets' owner: `team:<name>` or an e-mail address, as Dagster accepts them."""
    value = setting("LEARN_OWNER", env).strip()
    if (value.startswith("team:") and value[5:].strip()) or _EMAIL.fullmatch(value):
        return value
    raise SettingError(
        f"LEARN_OWNER must be a team name prefixed with 'team:' (team:learning-analytics) or an "
        f"e-mail address, got {value!r}"
    )


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
        "report_settings": report_settings_from_env(env),
        "exports": ExportSettings(
            exports_dir=setting("LEARN_EXPORTS_DIR", env),
            xlsx_max_rows=int(setting("LEARN_XLSX_MAX_ROWS", env)),
            html_max_learners=int(setting("LEARN_HTML_MAX_LEARNERS", env)),
        ),
        "publish": PublishSettings(
            lake_dir=setting("LEARN_LAKE_DIR", env),
            serving_database=setting("LEARN_SERVING_DATABASE", env),
        ),
    }
