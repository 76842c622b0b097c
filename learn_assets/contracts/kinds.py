"""How a delivered text value is to be read (the data dictionary's `{guid}`, `{int}`, ...)."""

from enum import StrEnum


class Kind(StrEnum):
    GUID = "guid"
    TEXT = "text"
    INT = "int"
    DATETIMEOFFSET = "datetimeoffset"  # ISO 8601 with offset and up to 7 fractional digits
    DATETIME = "datetime"  # ISO 8601, offset optional (UTC when absent)
    # integer date such as 20261127; 0, empty, 1899xxxx or 99991231 mean "no date"
    YYYYMMDD = "yyyymmdd"
    JSON_ARRAY = "json_array"  # a JSON array of strings inside a string
    URL = "url"  # site-relative URL such as /training/modules/x/
    ABSOLUTE_URL = "absolute_url"  # derived: https://learn.microsoft.com + url
    BOOLEAN = "boolean"  # True / False
    LOCALE_DATETIME = "locale_datetime"  # Entra export: 8/19/2021 1:25:31 PM (or ISO 8601)


# Kinds staged as an instant (TIMESTAMP WITH TIME ZONE, UTC).
TIMESTAMP_KINDS = frozenset({Kind.DATETIMEOFFSET, Kind.DATETIME, Kind.LOCALE_DATETIME})
# Kinds whose every column must state its valid range in the contract.
RANGED_KINDS = frozenset({Kind.INT, Kind.YYYYMMDD, *TIMESTAMP_KINDS})
