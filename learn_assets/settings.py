"""Every setting the project reads from the environment, in one place: its variable, its default,
how its text is read and what it means. The README's configuration table is generated from this
class (`make docs`; a test fails when they disagree).

`Settings.from_env(env)` reads them all at once and refuses a value it cannot use with a
`SettingError` naming each variable at fault (never silently a default). The process's settings
are read once (`current()`), when the code location loads; nothing else reads the environment,
except the storage layer for credentials, which are secrets and stay out of this class.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off")
PSEUDONYM_KEY = "LEARN_PSEUDONYM_KEY"  # a secret: passed to Dagster as an EnvVar, never stored
_MEMORY = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)


class SettingError(ValueError):
    """A setting (environment variable) has a value this project cannot use; names the variable."""


def text(name: str, value: str) -> str:
    return value


def parse_bool(name: str, value: str) -> bool:
    """true/false, 1/0, yes/no, on/off in any case, spaces around allowed."""
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise SettingError(
        f"{name} must be one of true/false, 1/0, yes/no, on/off (any case), got {value!r}"
    )


def whole_number(name: str, value: str) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        number = -1
    if number < 0:
        raise SettingError(f"{name} must be a whole number (0 or more), got {value!r}")
    return number


def positive_number(name: str, value: str) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        number = 0
    if number < 1:
        raise SettingError(f"{name} must be a whole number of at least 1, got {value!r}")
    return number


def seconds(name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0 <= number < float("inf"):
        raise SettingError(f"{name} must be a number of seconds (0 or more), got {value!r}")
    return number


def check_share(name: str, value: float) -> float:
    if not 0 <= value <= 1:
        raise SettingError(f"{name} must be a share between 0 and 1 (0.5 is 50%), got {value}")
    return value


def share(name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise SettingError(
            f"{name} must be a share between 0 and 1 (0.5 is 50%), got {value!r}"
        ) from None
    return check_share(name, number)


def date(name: str, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise SettingError(f"{name} must be a date YYYY-MM-DD, got {value!r}") from None


def parse_dates(name: str, value: str) -> frozenset[dt.date]:
    """`2026-11-02,2026-11-05` (spaces allowed, empty: none) as dates; a bad one names `name`."""
    dates = set()
    for part in value.split(","):
        if not part.strip():
            continue
        try:
            dates.add(dt.date.fromisoformat(part.strip()))
        except ValueError:
            raise SettingError(
                f"{name} must be snapshot dates YYYY-MM-DD separated by commas, got "
                f"{part.strip()!r}"
            ) from None
    return frozenset(dates)


def time_of_day(name: str, value: str) -> dt.time:
    try:
        return dt.time.fromisoformat(value.strip())
    except ValueError:
        raise SettingError(f"{name} must be HH:MM (UTC), got {value!r}") from None


def memory(name: str, value: str) -> str:
    if not _MEMORY.match(value.strip()):
        raise SettingError(f"{name} must be an amount like 2GB or 512MB, got {value!r}")
    return value.strip()


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def owner(name: str, value: str) -> str:
    """An asset owner as Dagster accepts it: `team:<name>` or an e-mail address."""
    value = value.strip()
    if (value.startswith("team:") and value[5:].strip()) or _EMAIL.fullmatch(value):
        return value
    raise SettingError(
        f"{name} must be a team name prefixed with 'team:' (team:learning-analytics) or an "
        f"e-mail address, got {value!r}"
    )


def setting(env: str, default: Any, doc: str, parse: Callable[[str, str], Any] = text) -> Any:
    """A field of `Settings`: read from `env`, `default` when unset or blank."""
    return field(default=default, metadata={"env": env, "doc": doc, "parse": parse})


def secret_setting(env: str, doc: str) -> Any:
    """A secret: kept out of the repr, never shown (the configuration table shows no value)."""
    return field(default="", repr=False, metadata={"env": env, "doc": doc, "parse": text})


@dataclass(frozen=True)
class Settings:
    landing_dir: str = setting(
        "LEARN_LANDING_DIR",
        "data/landing",
        "the landing folder (one folder per snapshot date): a local path or an `az://` / "
        "`abfs://` URL",
    )
    warehouse: str = setting(
        "LEARN_WAREHOUSE", "data/warehouse.duckdb", "the DuckDB warehouse file (created if absent)"
    )
    memory_limit: str = setting(
        "LEARN_DUCKDB_MEMORY_LIMIT",
        "2GB",
        "DuckDB's memory cap; bigger work spills to disk next to the warehouse",
        memory,
    )
    entra_export: str = setting(
        "LEARN_ENTRA_EXPORT",
        "",
        "the Entra users export; unset: `<landing>/entra_users.csv`; absent: an empty "
        "`raw.entra_users` and a WARN check",
    )
    start_date: dt.date = setting(
        "LEARN_START_DATE", dt.date(2026, 11, 1), "first snapshot date (first partition)", date
    )
    expiry_window_days: int = setting(
        "LEARN_EXPIRY_WINDOW_DAYS",
        90,
        "a certification expiring within this many days of the snapshot is `expiring_soon`",
        whole_number,
    )
    pseudonymize: bool = setting(
        "LEARN_PSEUDONYMIZE",
        False,
        "privacy mode: pseudonyms instead of names and directory ids in reports, exports, the "
        "lake, check samples and logs; `true/false`, `1/0`, `yes/no`, `on/off` (any case); "
        "needs `LEARN_PSEUDONYM_KEY`, the secret key of the pseudonyms (never shown or logged)",
        parse_bool,
    )
    max_user_drop: float = setting(
        "LEARN_MAX_USER_DROP",
        0.5,
        "the `user_count_plausible` check fails when Users is down by more than this share "
        "(0..1) from the previous good snapshot",
        share,
    )
    max_quarantine_share: float = setting(
        "LEARN_MAX_QUARANTINE_SHARE",
        0.05,
        "the `quarantine_share` check fails when more than this share (0..1) of a dataset's "
        "rows of a snapshot are quarantined",
        share,
    )
    accept_anomaly: frozenset[dt.date] = setting(
        "LEARN_ACCEPT_ANOMALY",
        frozenset(),
        "snapshot dates, comma-separated (`2026-11-02,2026-11-05`), whose sanity-check failures "
        "a person accepted: those checks pass with a warning saying so",
        parse_dates,
    )
    quiet_seconds: int = setting(
        "LEARN_QUIET_SECONDS",
        60,
        "a snapshot folder must be unchanged this long before the sensor runs it",
        whole_number,
    )
    schedule_time: dt.time = setting(
        "LEARN_SCHEDULE_TIME",
        dt.time(6, 0),
        "UTC time of the daily fallback schedule",
        time_of_day,
    )
    freshness_deadline: dt.time = setting(
        "LEARN_FRESHNESS_DEADLINE",
        dt.time(9, 0),
        "UTC time by which each day's snapshot should have arrived",
        time_of_day,
    )
    datashare_dir: str = setting(
        "LEARN_DATASHARE_DIR",
        "",
        "the Azure Data Share folder to archive into the landing ([Azure](docs/azure.md)); "
        "unset: no archiver",
    )
    archive_quiet_seconds: int = setting(
        "LEARN_ARCHIVE_QUIET_SECONDS",
        60,
        "a Data Share file must be unchanged this long before it is archived",
        whole_number,
    )
    lock_timeout: float = setting(
        "LEARN_LOCK_TIMEOUT",
        600.0,
        "seconds a step waits for another process's lock on the warehouse before it fails",
        seconds,
    )
    cache_dir: str = setting(
        "LEARN_CACHE_DIR",
        "data/cache",
        "local copies of a remote landing's files (DuckDB reads local files)",
    )
    exports_dir: str = setting(
        "LEARN_EXPORTS_DIR",
        "data/exports",
        "where the per-snapshot CSV, Parquet, XLSX, charts and `report.html` go (and `latest/`)",
    )
    xlsx_max_rows: int = setting(
        "LEARN_XLSX_MAX_ROWS",
        100_000,
        "rows per sheet of `reports.xlsx`; a longer report shows its first rows and a note (CSV "
        "and Parquet keep every row)",
        positive_number,
    )
    html_max_learners: int = setting(
        "LEARN_HTML_MAX_LEARNERS",
        5_000,
        "learners embedded in `report.html`'s learner search: the most active (most XP) when "
        "there are more, with a note pointing at the workbook and the lake (keeps the page small)",
        positive_number,
    )
    lake_dir: str = setting(
        "LEARN_LAKE_DIR",
        "data/lake",
        "the Delta Lake tables of every report and core table: a local path or an `az://` / "
        "`abfs://` URL ([serving](docs/serving.md))",
    )
    serving_database: str = setting(
        "LEARN_SERVING_DATABASE",
        "data/serving.duckdb",
        "the reports database analysts and BI tools open ([serving](docs/serving.md))",
    )
    # The alert channels: checked by `automation/alerts.py`, where a value that cannot work
    # turns the alerts off with the reason instead of stopping the code location.
    teams_webhook_url: str = secret_setting(
        "LEARN_TEAMS_WEBHOOK_URL",
        "Microsoft Teams incoming webhook for alerts (a secret); unset: no Teams alerts "
        "([operations](docs/operations.md))",
    )
    smtp_host: str = setting(
        "LEARN_SMTP_HOST", "", "mail server for alerts (STARTTLS when offered); unset: no mail"
    )
    smtp_port: str = setting("LEARN_SMTP_PORT", "25", "the mail server's port")
    smtp_user: str = setting("LEARN_SMTP_USER", "", "mail login, with `LEARN_SMTP_PASSWORD`")
    smtp_password: str = secret_setting(
        "LEARN_SMTP_PASSWORD", "mail password (a secret), with `LEARN_SMTP_USER`"
    )
    alert_from: str = setting(
        "LEARN_ALERT_FROM", "", "alert sender; unset: `learn-assets@<LEARN_SMTP_HOST>`"
    )
    alert_to: str = setting("LEARN_ALERT_TO", "", "alert recipients, comma-separated")
    ui_url: str = setting(
        "LEARN_UI_URL", "http://127.0.0.1:3000", "the Dagster UI that alerts link to"
    )

    owner: str = setting(
        "LEARN_OWNER",
        "team:learning-analytics",
        "every asset's owner in the Dagster UI: `team:<name>` or an e-mail address",
        owner,
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Every setting from `env`; a blank or unset variable means its default. All the values
        this project cannot use are named in one `SettingError`."""
        values: dict[str, Any] = {}
        errors = []
        for f in fields(cls):
            raw = env.get(f.metadata["env"], "")
            if not raw.strip():
                continue
            try:
                values[f.name] = f.metadata["parse"](f.metadata["env"], raw)
            except SettingError as e:
                errors.append(str(e))
        if values.get("pseudonymize") and not env.get(PSEUDONYM_KEY):
            errors.append(
                f"LEARN_PSEUDONYMIZE is on but {PSEUDONYM_KEY} is not set: privacy mode needs "
                "a secret key for the pseudonyms"
            )
        if errors:
            raise SettingError("; ".join(errors))
        return cls(**values)


DEFAULTS = Settings()


def as_env(settings: Settings) -> dict[str, str]:
    """The settings as the text of their variables (for code that reads variables, such as the
    alert channels' checks)."""
    return {f.metadata["env"]: _text(getattr(settings, f.name)) for f in fields(Settings)}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, frozenset):
        return ",".join(sorted(map(str, value)))
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    return str(value)


def variable(name: str) -> str:
    """The environment variable of a `Settings` field."""
    return next(f.metadata["env"] for f in fields(Settings) if f.name == name)


@functools.cache
def current() -> Settings:
    """This process's settings, read from the environment once."""
    return Settings.from_env(os.environ)


def _shown(value: Any) -> str:
    if isinstance(value, frozenset):
        return "(none)" if not value else ",".join(sorted(map(str, value)))
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if value == "":
        return "(none)"
    return f"{value}"


def configuration_table() -> str:
    """The README's configuration table, from the fields above."""
    lines = ["| variable | default | meaning |", "|---|---|---|"]
    for f in fields(Settings):
        default = _shown(f.default)
        shown = default if default == "(none)" else f"`{default}`"
        lines.append(f"| `{f.metadata['env']}` | {shown} | {f.metadata['doc']} |")
    return "\n".join(lines) + "\n"
