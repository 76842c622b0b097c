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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from learn_assets.parsing import (  # noqa: F401 - re-exported: the settings' vocabulary
    FALSE_WORDS,
    PSEUDONYM_KEY,
    TRUE_WORDS,
    SettingError,
    check_share,
    date,
    guid,
    memory,
    owner,
    parse_bool,
    parse_dates,
    positive_number,
    seconds,
    share,
    tenant_name,
    text,
    time_of_day,
    whole_number,
)
from learn_assets.tenants import Tenant, TenantsFile, load_tenants


def setting(env: str, default: Any, doc: str, parse: Callable[[str, str], Any] = text) -> Any:
    """A field of `Settings`: read from `env`, `default` when unset or blank."""
    return field(default=default, metadata={"env": env, "doc": doc, "parse": parse})


def secret_setting(env: str, doc: str) -> Any:
    """A secret: kept out of the repr, never shown (the configuration table shows no value)."""
    return field(default="", repr=False, metadata={"env": env, "doc": doc, "parse": text})


def derived(default: Any) -> Any:
    """A field of `Settings` that no variable sets: a tenant's entry in the tenants file does
    (`learn_assets/tenants.py`)."""
    return field(default=default, metadata={"env": None})


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
        "1.5GB",
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
    # Several tenants side by side (docs/tenants.md): a tenant's entry in the tenants file sets
    # the variables above for its code location.
    tenants_file: str = setting(
        "LEARN_TENANTS_FILE",
        "",
        "the tenants file: several tenants side by side, one code location each "
        "([tenants](docs/tenants.md)); unset: one tenant, configured by these variables",
    )
    tenant: str = setting(
        "LEARN_TENANT",
        "",
        "the tenant this process serves, a name in `LEARN_TENANTS_FILE` whose entry sets these "
        "variables; set by the tenant's code location or `learn-assets --tenant NAME`",
        tenant_name,
    )
    tenant_id: str = setting(
        "LEARN_TENANT_ID",
        "",
        "the tenant id (GUID) every delivered file must carry: a file of another tenant is "
        "refused before it is loaded; unset: any one tenant per snapshot",
        guid,
    )
    # The variable holding the pseudonym key (a secret, read by Dagster at run time): a
    # tenant's entry names its own.
    pseudonym_key_variable: str = derived(PSEUDONYM_KEY)

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
        for f in setting_fields():
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


def setting_fields() -> list[Any]:
    """The fields of `Settings` that a variable sets (not the derived ones)."""
    return [f for f in fields(Settings) if f.metadata["env"]]


DEFAULTS = Settings()


def as_env(settings: Settings) -> dict[str, str]:
    """The settings as the text of their variables (for code that reads variables, such as the
    alert channels' checks)."""
    return {f.metadata["env"]: _text(getattr(settings, f.name)) for f in setting_fields()}


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
    return next(f.metadata["env"] for f in setting_fields() if f.name == name)


def setting_parsers() -> dict[str, Callable[[str, str], Any]]:
    """Each variable's parser, by variable (what a tenant's `settings:` is checked with)."""
    return {f.metadata["env"]: f.metadata["parse"] for f in setting_fields()}


def tenants_file(env: Mapping[str, str]) -> TenantsFile | None:
    """The tenants file `env` names (LEARN_TENANTS_FILE), checked whole, or None."""
    path = env.get("LEARN_TENANTS_FILE", "").strip()
    return load_tenants(path, setting_parsers()) if path else None


def tenant_settings_in(tenant: Tenant, env: Mapping[str, str], source: str = "") -> Settings:
    """`tenant`'s settings in a process with environment `env`: its entry over `env`
    (`Tenant.environment`); a value that cannot be used names the tenant (and `source`, the
    tenants file)."""
    where = f"{source}: " if source else ""
    if tenant.pseudonymize and not env.get(tenant.pseudonym_key_env, ""):
        raise SettingError(
            f"{where}tenant {tenant.name!r}: pseudonymize is on but {tenant.pseudonym_key_env} "
            "(its pseudonym_key_env) is not set: privacy mode needs the secret key of the "
            "pseudonyms in that variable"
        )
    try:
        settings = Settings.from_env(tenant.environment(env))
    except SettingError as e:
        raise SettingError(f"{where}tenant {tenant.name!r}: {e}") from None
    return replace(settings, pseudonym_key_variable=tenant.pseudonym_key_env or PSEUDONYM_KEY)


def tenant_settings(env: Mapping[str, str]) -> Settings:
    """The settings of the tenant `LEARN_TENANT` names, from `LEARN_TENANTS_FILE` over `env`."""
    name = env.get("LEARN_TENANT", "").strip()
    found = tenants_file(env)
    if found is None:
        raise SettingError(
            f"LEARN_TENANT={name!r} needs LEARN_TENANTS_FILE, the tenants file that describes it"
        )
    return tenant_settings_in(found.tenant(name), env, str(found.path))


def resolve(env: Mapping[str, str]) -> Settings:
    """The settings of a process with environment `env`: the variables, or, when `LEARN_TENANT`
    names a tenant, that tenant's entry in `LEARN_TENANTS_FILE` over them."""
    if not env.get("LEARN_TENANT", "").strip():
        return Settings.from_env(env)
    return tenant_settings(env)


@functools.cache
def current() -> Settings:
    """This process's settings, read from the environment once."""
    return resolve(os.environ)


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
    for f in setting_fields():
        default = _shown(f.default)
        shown = default if default == "(none)" else f"`{default}`"
        lines.append(f"| `{f.metadata['env']}` | {shown} | {f.metadata['doc']} |")
    return "\n".join(lines) + "\n"
