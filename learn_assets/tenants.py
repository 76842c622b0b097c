"""The tenants file (`LEARN_TENANTS_FILE`, YAML): several Learn tenants served side by side by one
deployment, each in a code location of its own (docs/tenants.md).

```yaml
tenants:
  - name: contoso                      # short name: asset keys contoso/raw/progress, ...
    tenant_id: 0b8c2b9e-...            # every delivered file must carry it
    owner: learning-data@contoso.com   # shown on every asset
    landing: contoso/landing           # paths are relative to this file; az:// URLs as they are
    warehouse: contoso/warehouse.duckdb
    exports: contoso/exports
    lake: contoso/lake
    pseudonymize: true
    pseudonym_key_env: CONTOSO_PSEUDONYM_KEY   # the NAME of the variable holding the secret
    alerts: {teams_webhook_env: CONTOSO_TEAMS_WEBHOOK_URL, mail_to: [ops@contoso.com]}
consolidated:
  - name: all_tenants
    members: [contoso, fabrikam]
    lake: consolidated/lake            # gets all_tenants/reports/<report>, with a tenant column
```

The file holds no secret: only the names of the variables that hold them. It is read whole and
checked at once: every problem is named with its tenant and field in one `TenantsFileError`
(unknown or missing fields, a value of the wrong kind, a mistyped boolean, a GUID that is none,
two tenants with the same name, id or output location). A tenant's entry becomes the `LEARN_*`
variables of its process (`Tenant.environment`): the entry sets the tenant's own variables
(never inherited from the process), its `settings` override any other, and the rest come from
the process's environment, so the settings layer (`learn_assets/settings.py`) reads a tenant
exactly as it reads one tenant without a file.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from learn_assets.parsing import (
    FALSE_WORDS,
    PSEUDONYM_KEY,
    TRUE_WORDS,
    SettingError,
    guid,
    tenant_name,
)

# A setting's parser, by variable (`settings.setting_parsers()`): the file is read beneath the
# settings layer, which hands it the parsers of the variables a tenant's `settings:` may set.
Parsers = Mapping[str, Callable[[str, str], Any]]

_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_ADDRESS = re.compile(r"^[^@\s<>,;\"']+@[^@\s<>,;\"']+\.[^@\s<>,;\"']+$")
_TEAM = re.compile(r"^team:[A-Za-z0-9_.\- ]+$")


class TenantsFileError(SettingError):
    """The tenants file cannot be used; names the file, and each tenant and field at fault."""


# --- one value of the file ------------------------------------------------------------------------


class Problem(ValueError):
    """One field's value cannot be used (the message says why, without the field's name)."""


def _text(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise Problem(f"must be text, got {_shown(value)}")
    text = str(value).strip()
    if not text:
        raise Problem("must not be empty")
    return text


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _through(parse: Callable[[str, str], Any]) -> Callable[[Any], Any]:
    """A parser of the settings layer (which names its variable first) for a field's value."""

    def run(value: Any) -> Any:
        try:
            return parse("", _text(value))
        except SettingError as e:
            raise Problem(str(e).strip()) from None

    return run


def boolean(value: Any) -> bool:
    """YAML's true/false, or the words the variables take; anything else is an error, never
    "off" (a mistyped `pseudonymize: ture` must not publish names)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    word = str(value).strip().lower() if isinstance(value, str) else None
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise Problem(
        f"must be true or false (or yes/no, on/off, 1/0), got {_shown(value)}: a mistyped "
        "value is an error, not off"
    )


def variable_name(value: Any) -> str:
    """The NAME of an environment variable (the file holds no secret)."""
    text = _text(value)
    if not _VARIABLE.match(text):
        # Never shown: what was put here by mistake may be the secret itself.
        raise Problem(
            "must be the name of an environment variable (letters, digits, _), and is not "
            "(its value is not shown: it may be the secret): the file holds the variable's "
            "name, the secret stays in the environment"
        )
    return text


def owner(value: Any) -> str:
    text = _text(value)
    if not (_ADDRESS.match(text) or _TEAM.match(text)):
        raise Problem(f"must be an e-mail address or team:<name>, got {text!r}")
    return text


def address(value: Any) -> str:
    text = _text(value)
    if not _ADDRESS.match(text):
        raise Problem(f"must be an e-mail address like ops@example.org, got {text!r}")
    return text


# --- the fields -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Field:
    """A field of a tenant's entry: how its value is read, and the variable it sets."""

    name: str
    parse: Callable[[Any], Any] | None  # None: a location (resolved against the file's folder)
    required: bool
    meaning: str
    variable: str = ""


TENANT_FIELDS: tuple[Field, ...] = (
    Field(
        "name",
        _through(tenant_name),
        True,
        "short name: the first part of the tenant's asset keys (`contoso/raw/progress`), groups, "
        "job, sensor and schedule names, its code location and warehouse pool",
        "LEARN_TENANT",
    ),
    Field(
        "tenant_id",
        _through(guid),
        True,
        "the Microsoft Entra tenant id (GUID) every delivered file must carry; a file of "
        "another tenant is refused before it is loaded",
        "LEARN_TENANT_ID",
    ),
    Field(
        "owner",
        owner,
        True,
        "who answers for the tenant's data: an e-mail address or `team:<name>`, shown on every "
        "asset",
        "LEARN_OWNER",
    ),
    Field("landing", None, True, "the landing folder or `az://` URL", "LEARN_LANDING_DIR"),
    Field(
        "entra_export",
        None,
        False,
        "the Entra users export (default: `<landing>/entra_users.csv`)",
        "LEARN_ENTRA_EXPORT",
    ),
    Field("warehouse", None, True, "the DuckDB warehouse file", "LEARN_WAREHOUSE"),
    Field("exports", None, True, "the exports folder", "LEARN_EXPORTS_DIR"),
    Field("lake", None, True, "the Delta Lake folder or `az://` URL", "LEARN_LAKE_DIR"),
    Field(
        "serving_database",
        None,
        False,
        "the reports database (default: `<warehouse folder>/<warehouse name>_serving.duckdb`)",
        "LEARN_SERVING_DATABASE",
    ),
    Field(
        "cache",
        None,
        False,
        "local copies of a remote landing (default: `<warehouse folder>/<warehouse name>_cache`)",
        "LEARN_CACHE_DIR",
    ),
    Field(
        "datashare",
        None,
        False,
        "the Azure Data Share folder to archive into the landing (default: none)",
        "LEARN_DATASHARE_DIR",
    ),
    Field(
        "pseudonymize",
        boolean,
        False,
        "privacy mode, `true` or `false` (default false); a value that is neither is an error",
        "LEARN_PSEUDONYMIZE",
    ),
    Field(
        "pseudonym_key_env",
        variable_name,
        False,
        "the NAME of the environment variable holding this tenant's pseudonym key (required "
        "with `pseudonymize: true`)",
    ),
    Field(
        "alerts",
        None,
        False,
        "alert channels: `teams_webhook_env` (the NAME of the variable holding the Teams "
        "webhook URL) and `mail_to` (addresses; the mail server is the deployment's "
        "`LEARN_SMTP_*`)",
        "LEARN_TEAMS_WEBHOOK_URL, LEARN_ALERT_TO",
    ),
    Field(
        "settings",
        None,
        False,
        "any other `LEARN_*` setting for this tenant only, e.g. `LEARN_START_DATE: 2026-11-01` "
        "(no secrets, nor the variables the fields above set)",
    ),
)
GROUP_FIELDS: tuple[Field, ...] = (
    Field(
        "name",
        _through(tenant_name),
        True,
        "the group's name: its code location, asset keys `<name>/reports/<report>` and lake "
        "folder `<lake>/<name>/reports/<report>`",
    ),
    Field("members", None, True, "the tenants (names) whose reports the group combines"),
    Field(
        "lake",
        None,
        True,
        "where the group's Delta tables and its `report.html` go (folder or `az://` URL)",
    ),
    Field("owner", owner, False, "e-mail address or `team:<name>`, shown on the group's assets"),
)
ALERT_FIELDS = ("teams_webhook_env", "mail_to")
TOP_LEVEL = ("tenants", "consolidated")

# The variables a tenant's entry sets: never inherited from the process's environment.
TENANT_VARIABLES = (
    "LEARN_TENANT",
    "LEARN_TENANT_ID",
    "LEARN_OWNER",
    "LEARN_LANDING_DIR",
    "LEARN_ENTRA_EXPORT",
    "LEARN_WAREHOUSE",
    "LEARN_EXPORTS_DIR",
    "LEARN_LAKE_DIR",
    "LEARN_SERVING_DATABASE",
    "LEARN_CACHE_DIR",
    "LEARN_DATASHARE_DIR",
    "LEARN_PSEUDONYMIZE",
    "LEARN_TEAMS_WEBHOOK_URL",
    "LEARN_ALERT_TO",
)
SECRET_SETTINGS = ("LEARN_TEAMS_WEBHOOK_URL", "LEARN_SMTP_PASSWORD", PSEUDONYM_KEY)
# Locations no two tenants may share: one tenant's rows must never reach another's outputs.
OWN_LOCATIONS = (
    "landing",
    "entra_export",
    "warehouse",
    "exports",
    "lake",
    "serving_database",
    "cache",
)


# --- what the file describes ----------------------------------------------------------------------


@dataclass(frozen=True)
class Tenant:
    name: str
    tenant_id: str
    owner: str
    landing: str
    warehouse: str
    exports: str
    lake: str
    entra_export: str = ""
    serving_database: str = ""
    cache: str = ""
    datashare: str = ""
    pseudonymize: bool = False
    pseudonym_key_env: str = ""
    teams_webhook_env: str = ""
    mail_to: tuple[str, ...] = ()
    settings: Mapping[str, str] = field(default_factory=dict)

    def variables(self) -> dict[str, str]:
        """The tenant's own `LEARN_*` variables (no secret: those are read by name)."""
        return {
            "LEARN_TENANT": self.name,
            "LEARN_TENANT_ID": self.tenant_id,
            "LEARN_OWNER": self.owner,
            "LEARN_LANDING_DIR": self.landing,
            "LEARN_ENTRA_EXPORT": self.entra_export,
            "LEARN_WAREHOUSE": self.warehouse,
            "LEARN_EXPORTS_DIR": self.exports,
            "LEARN_LAKE_DIR": self.lake,
            "LEARN_SERVING_DATABASE": self.serving_database,
            "LEARN_CACHE_DIR": self.cache,
            "LEARN_DATASHARE_DIR": self.datashare,
            "LEARN_PSEUDONYMIZE": "true" if self.pseudonymize else "false",
            "LEARN_ALERT_TO": ",".join(self.mail_to),
            **self.settings,
        }

    def environment(self, env: Mapping[str, str]) -> dict[str, str]:
        """The environment of this tenant's process: `env` without any tenant's own variables,
        then this tenant's, and its secrets read from the variables its entry names."""
        own = {k: v for k, v in env.items() if k not in TENANT_VARIABLES and k != PSEUDONYM_KEY}
        teams = env.get(self.teams_webhook_env, "") if self.teams_webhook_env else ""
        key = env.get(self.pseudonym_key_env, "") if self.pseudonym_key_env else ""
        return own | self.variables() | {"LEARN_TEAMS_WEBHOOK_URL": teams, PSEUDONYM_KEY: key}


@dataclass(frozen=True)
class Group:
    """Tenants whose reports are combined in one lake (opt-in), with a `tenant` column."""

    name: str
    members: tuple[str, ...]
    lake: str
    owner: str = ""


@dataclass(frozen=True)
class TenantsFile:
    path: Path
    tenants: dict[str, Tenant]  # in the file's order
    groups: dict[str, Group]

    def tenant(self, name: str) -> Tenant:
        if name not in self.tenants:
            raise SettingError(
                f"LEARN_TENANT={name!r} is not a tenant of {self.path} (its tenants: "
                f"{', '.join(self.tenants) or 'none'})"
            )
        return self.tenants[name]

    def locations(self) -> list[str]:
        """The code locations: one per tenant, one per consolidated group."""
        return [*self.tenants, *self.groups]


# --- reading the file -----------------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key given twice in one mapping (PyYAML keeps the last)."""


def _mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"{key!r} is given twice in one entry (lines {seen[key] + 1} and "
                f"{key_node.start_mark.line + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise TenantsFileError(f"LEARN_TENANTS_FILE {path}: cannot be read: {e}") from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as e:
        raise TenantsFileError(f"LEARN_TENANTS_FILE {path}: not valid YAML: {e}") from None


class _Collector:
    """Collects every problem of the file, each naming where it is."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[str] = []

    def add(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}")

    def raise_if_any(self) -> None:
        if self.problems:
            listed = "\n  - ".join(self.problems)
            count = len(self.problems)
            raise TenantsFileError(
                f"LEARN_TENANTS_FILE {self.path}: {count} problem{'s' if count > 1 else ''}:"
                f"\n  - {listed}"
            )


def _location(value: Any, base: Path) -> str:
    text = _text(value)
    if "://" in text:
        return text  # an az:// or abfs:// URL, checked by the storage layer
    return os.path.normpath(base / Path(text).expanduser())


def _entries(raw: Any, key: str, problems: _Collector) -> list[Any] | None:
    """The entries of a section; None (and a problem) when it is not a list."""
    value = raw.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        problems.add(key, f"must be a list of entries (`- name: ...`), got {_shown(value)}")
        return None
    return value


def _label(entry: Any, index: int, kind: str) -> str:
    name = entry.get("name") if isinstance(entry, dict) else None
    return f"{kind} {name!r}" if isinstance(name, str) and name.strip() else f"{kind} #{index + 1}"


def _fields(
    entry: Any, specs: tuple[Field, ...], where: str, base: Path, problems: _Collector
) -> dict[str, Any] | None:
    """The entry's values by field (locations resolved); None when it is not a mapping."""
    if not isinstance(entry, dict):
        problems.add(where, f"must be a mapping of fields (name: ..., ...), got {_shown(entry)}")
        return None
    known = {s.name for s in specs}
    for unknown in sorted(set(map(str, entry)) - known):
        problems.add(where, f"unknown field {unknown!r} (fields: {', '.join(sorted(known))})")
    values: dict[str, Any] = {}
    for spec in specs:
        if spec.name not in entry or entry[spec.name] is None:
            if spec.required:
                problems.add(where, f"field {spec.name} is missing")
            continue
        value = entry[spec.name]
        try:
            if spec.parse is not None:
                values[spec.name] = spec.parse(value)
            elif spec.name in ("alerts", "settings", "members"):
                values[spec.name] = value  # read below
            else:
                values[spec.name] = _location(value, base)
        except Problem as e:
            problems.add(where, f"field {spec.name} {e}")
    return values


def _alerts(value: Any, where: str, problems: _Collector) -> tuple[str, tuple[str, ...]]:
    if not isinstance(value, dict):
        problems.add(where, f"field alerts must be a mapping ({', '.join(ALERT_FIELDS)})")
        return "", ()
    for unknown in sorted(set(map(str, value)) - set(ALERT_FIELDS)):
        problems.add(where, f"unknown field alerts.{unknown} (fields: {', '.join(ALERT_FIELDS)})")
    teams = ""
    if value.get("teams_webhook_env") is not None:
        try:
            teams = variable_name(value["teams_webhook_env"])
        except Problem as e:
            problems.add(where, f"field alerts.teams_webhook_env {e}")
    recipients = value.get("mail_to") or []
    if isinstance(recipients, str):
        recipients = [r for r in recipients.split(",") if r.strip()]
    if not isinstance(recipients, list):
        problems.add(where, f"field alerts.mail_to must be a list of addresses, got {recipients!r}")
        return teams, ()
    mail = []
    for recipient in recipients:
        try:
            mail.append(address(recipient))
        except Problem as e:
            problems.add(where, f"field alerts.mail_to {e}")
    return teams, tuple(mail)


def _settings(value: Any, where: str, problems: _Collector, parsers: Parsers) -> dict[str, str]:
    """A tenant's other settings, by variable name, each checked by its own parser."""
    if not isinstance(value, dict):
        problems.add(where, "field settings must be a mapping of LEARN_* variables to values")
        return {}
    found: dict[str, str] = {}
    for name, raw in value.items():
        name = str(name)
        if name in SECRET_SETTINGS:
            problems.add(
                where,
                f"settings.{name} is a secret: keep it in the environment (alerts."
                "teams_webhook_env and pseudonym_key_env name the variables)",
            )
            continue
        if name in TENANT_VARIABLES or name == "LEARN_TENANTS_FILE":
            problems.add(where, f"settings.{name} is set by a field of the entry, not here")
            continue
        if name not in parsers:
            problems.add(where, f"settings.{name} is not a setting of learn_assets")
            continue
        if isinstance(raw, bool):
            text = "true" if raw else "false"
        elif isinstance(raw, dt.date | int | float | str):
            text = raw.isoformat() if isinstance(raw, dt.date) else str(raw)
        else:
            problems.add(where, f"settings.{name} must be a single value, got {_shown(raw)}")
            continue
        try:
            parsers[name](f"settings.{name}", text)
        except SettingError as e:
            problems.add(where, str(e))
            continue
        found[name] = text
    return found


def _tenant(
    entry: Any, index: int, base: Path, problems: _Collector, parsers: Parsers
) -> Tenant | None:
    where = _label(entry, index, "tenant")
    values = _fields(entry, TENANT_FIELDS, where, base, problems)
    if values is None:
        return None
    teams, mail = _alerts(values.pop("alerts"), where, problems) if "alerts" in values else ("", ())
    overrides = (
        _settings(values.pop("settings"), where, problems, parsers) if "settings" in values else {}
    )
    if values.get("pseudonymize") and entry.get("pseudonym_key_env") is None:
        problems.add(
            where,
            "field pseudonym_key_env is missing: with pseudonymize: true it names the "
            "environment variable holding the pseudonym key",
        )
    if not all(s.name in values for s in TENANT_FIELDS if s.required):
        return None
    warehouse = Path(values["warehouse"]) if "://" not in values["warehouse"] else None
    if warehouse is not None:
        values.setdefault(
            "serving_database", str(warehouse.with_name(f"{warehouse.stem}_serving.duckdb"))
        )
        values.setdefault("cache", str(warehouse.with_name(f"{warehouse.stem}_cache")))
    return Tenant(**values, teams_webhook_env=teams, mail_to=mail, settings=overrides)


def _group(
    entry: Any, index: int, base: Path, listed: set[str], problems: _Collector
) -> Group | None:
    """A consolidated group; `listed`: the names of the file's tenant entries (a member whose
    entry has problems of its own is not named again here)."""
    where = _label(entry, index, "consolidated group")
    values = _fields(entry, GROUP_FIELDS, where, base, problems)
    if values is None or not all(s.name in values for s in GROUP_FIELDS if s.required):
        return None
    members = values["members"]
    if not isinstance(members, list) or not members or not all(isinstance(m, str) for m in members):
        problems.add(where, "field members must be a list of tenant names")
        return None
    for member in members:
        if member not in listed:
            problems.add(
                where, f"field members names {member!r}, which is not a tenant of the file"
            )
    if len(set(members)) != len(members):
        problems.add(where, "field members names a tenant twice")
    return Group(values["name"], tuple(members), values["lake"], values.get("owner", ""))


def parse_tenants(raw: Any, path: Path, parsers: Parsers) -> TenantsFile:
    """The tenants of a parsed tenants file at `path` (for relative locations); every problem
    at once in a `TenantsFileError`. `parsers`: the settings a tenant's `settings:` may set."""
    problems = _Collector(path)
    if not isinstance(raw, dict):
        problems.add("the file", f"must be a mapping with {' and '.join(TOP_LEVEL)}")
        problems.raise_if_any()
    for unknown in sorted(set(map(str, raw)) - set(TOP_LEVEL)):
        problems.add("the file", f"unknown section {unknown!r} (sections: {', '.join(TOP_LEVEL)})")
    base = path.parent
    tenants: dict[str, Tenant] = {}
    by_id: dict[str, str] = {}
    by_location: dict[str, tuple[str, str]] = {}
    entries = _entries(raw, "tenants", problems)
    if entries == []:
        problems.add("tenants", "no tenant listed: list at least one (`- name: ...`)")
    for index, entry in enumerate(entries or []):
        tenant = _tenant(entry, index, base, problems, parsers)
        if tenant is None:
            continue
        where = f"tenant {tenant.name!r}"
        if tenant.name in tenants:
            problems.add(where, f"name {tenant.name!r} is given to two tenants")
            continue
        if tenant.tenant_id in by_id:
            problems.add(
                where,
                f"tenant_id {tenant.tenant_id} is also tenant {by_id[tenant.tenant_id]!r}'s",
            )
        by_id.setdefault(tenant.tenant_id, tenant.name)
        for name in OWN_LOCATIONS:
            location = getattr(tenant, name)
            if not location:
                continue
            other = by_location.get(location)
            if other is not None:
                problems.add(
                    where,
                    f"{name} {location} is also tenant {other[0]!r}'s {other[1]}: a tenant's "
                    "data must never reach another's",
                )
            by_location.setdefault(location, (tenant.name, name))
        tenants[tenant.name] = tenant
    listed = {e.get("name") for e in entries or [] if isinstance(e, dict)}
    groups: dict[str, Group] = {}
    for index, entry in enumerate(_entries(raw, "consolidated", problems) or []):
        group = _group(entry, index, base, listed, problems)
        if group is None:
            continue
        where = f"consolidated group {group.name!r}"
        if group.name in tenants or group.name in groups:
            problems.add(where, f"name {group.name!r} is already a tenant's or a group's")
            continue
        groups[group.name] = group
    problems.raise_if_any()
    return TenantsFile(path, tenants, groups)


def load_tenants(path: str | Path, parsers: Parsers) -> TenantsFile:
    """Read and check the tenants file at `path` (relative: to the current folder); the
    settings layer's `tenants_file(env)` is the usual way in."""
    path = Path(path).expanduser().absolute()
    return parse_tenants(read_yaml(path), path, parsers)


def tenants_markdown() -> str:
    """docs/tenants.md's table of the fields (generated: `make docs`)."""
    lines = ["| field | required | meaning | sets |", "|---|---|---|---|"]
    for spec in TENANT_FIELDS:
        sets = (
            ", ".join(f"`{v.strip()}`" for v in spec.variable.split(",")) if spec.variable else ""
        )
        lines.append(
            f"| `{spec.name}` | {'yes' if spec.required else 'no'} | {spec.meaning} | {sets} |"
        )
    lines += ["", "A consolidated group (`consolidated:`):", ""]
    lines += ["| field | required | meaning |", "|---|---|---|"]
    for spec in GROUP_FIELDS:
        lines.append(f"| `{spec.name}` | {'yes' if spec.required else 'no'} | {spec.meaning} |")
    return "\n".join(lines) + "\n"
