"""The parsers of setting values, shared by the settings (`settings.py`, one value per
environment variable) and the tenants file (`tenants.py`, one value per field of a tenant's
entry): each reads a text, and refuses what it cannot use with a `SettingError` naming `name`."""

from __future__ import annotations

import datetime as dt
import re

TRUE_WORDS = ("true", "1", "yes", "on")
FALSE_WORDS = ("false", "0", "no", "off")
PSEUDONYM_KEY = "LEARN_PSEUDONYM_KEY"  # a secret: passed to Dagster as an EnvVar, never stored
_MEMORY = re.compile(r"^\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)$", re.IGNORECASE)
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_TENANT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,29}$")


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


def guid(name: str, value: str) -> str:
    """A tenant id: 8-4-4-4-12 hexadecimal digits (any case, stored lower case)."""
    word = value.strip().lower()
    if not _GUID.match(word):
        raise SettingError(
            f"{name} must be a tenant id (GUID) like 72f988bf-86f1-41af-91ab-2d7cd011db47, "
            f"got {value!r}"
        )
    return word


def tenant_name(name: str, value: str) -> str:
    """A tenant's short name: a lower-case letter, then letters, digits or `_` (30 at most); it
    becomes the first part of asset keys and of job, sensor and group names."""
    word = value.strip()
    if not _TENANT_NAME.match(word):
        raise SettingError(
            f"{name} must be a short name: a lower-case letter, then lower-case letters, digits "
            f"or _ (30 at most), got {value!r}"
        )
    return word


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
