"""The rule vocabulary: every rule a contract can state, each written once with all its faces.

Contracts (`contracts/schemas.py`) declare small typed rules on their columns: `Required()`,
`Guid()`, `MaxLength(n)`, `OneOf(...)`, `Range(low, high)`, `StartsWith(prefix)`; on the whole
row `NotAfter(first, second)`; and every column reads its delivered text with its kind's `Parser`,
whose rule is "not an integer", "not a JSON array", ... From each rule are generated:
- `reasons()`: what a quarantine reason says after `column: `, also the README's rule tables;
- `violated()` / `staged()`: the DuckDB predicates a row breaks when staged and, over the staged
  columns alone, what the blocking `contract_types` check re-verifies (`contracts/sql.py`);
- `checks()`: the pandera checks (pandas backend) of the contract, erroring with the same reasons.
Only the types in `VOCABULARY` can be declared (anything else fails when the contracts are
imported), and the differential test generates edge values for every one of them and checks
that pandera and the SQL give the same verdicts.
"""

from __future__ import annotations

import datetime as dt
import numbers
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING

from learn_assets.contracts.kinds import TIMESTAMP_KINDS, Kind
from learn_assets.warehouse.sql import quote_ident, quote_literal

if TYPE_CHECKING:
    import pandas as pd
    import pandera.pandas as pa

GUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
LEARN_SITE = "https://learn.microsoft.com"
NO_END_DATE = "99991231"  # the largest YYYYMMDD, used for "no end": read as NULL
# What DuckDB's trim() removes: the Unicode space separators, category Zs (not tabs or line
# breaks); the pandas side of "blank" strips the same (checked against DuckDB in test_sql.py).
SPACES = (
    "\u0020\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u202f\u205f\u3000"
)


def pandera_api() -> ModuleType:
    """pandera's pandas API (`pandera.pandas`), for the pandera faces of the rules. Imported when
    a contract is first validated with pandas (the tests, the bench's naive baseline), never by
    the code location: it imports pandas, numpy and pyarrow (issue #18)."""
    import pandera.pandas

    return pandera.pandas


# --- SQL pieces ------------------------------------------------------------------------------


_ident, _literal = quote_ident, quote_literal


def blank(ref: str) -> str:
    """No value: NULL, empty or only spaces."""
    return f"NULLIF(trim({ref}), '') IS NULL"


def placeholder_date(raw: str) -> str:
    """The YYYYMMDD "no date" values: empty, 0, a 1899 date (Power BI's 1899-12-29/30 zero
    date), or 99991231 ("no end", e.g. a certification that does not expire)."""
    return (
        f"({blank(raw)} OR trim({raw}) = '0' OR trim({raw}) LIKE '1899____' "
        f"OR trim({raw}) = {_literal(NO_END_DATE)})"
    )


def is_guid(ref: str) -> str:
    """Same verdict as GUID_PATTERN, five times faster than the regular expression: 36
    characters, hyphens in the 8-4-4-4-12 places, and the rest parses as a UUID (hex digits)."""
    hyphens = " AND ".join(f"{ref}[{i}] = '-'" for i in (9, 14, 19, 24))
    return f"(length({ref}) = 36 AND {hyphens} AND TRY_CAST({ref} AS UUID) IS NOT NULL)"


def bound_type(value: object) -> str:
    """`integer`, `date` or `timestamp`: what a range end is (refused otherwise)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral | dt.date):
        raise ValueError(f"range end {value!r} is not an integer, a date or a timestamp")
    if isinstance(value, numbers.Integral):
        return "integer"
    if isinstance(value, dt.datetime):  # pandas Timestamps too
        if value.tzinfo is None:
            raise ValueError(f"range end {value!r} has no time zone")
        return "timestamp"
    return "date"


def bound_literal(value: object) -> str:
    """A range end as a typed DuckDB literal (integer, DATE or TIMESTAMPTZ)."""
    kind = bound_type(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    assert isinstance(value, dt.date)
    return f"{_literal(value.isoformat())}::{'TIMESTAMPTZ' if kind == 'timestamp' else 'DATE'}"


def bound_text(value: object) -> str:
    """A range end as the reasons say it: `1000000`, `1900-01-01`; an instant at the start or
    the end of a UTC day as that day (`after 2999-12-31`: after the end of that day)."""
    if isinstance(value, dt.datetime):
        utc = value.astimezone(dt.UTC)
        whole_day = utc.time() in (dt.time.min, dt.time.max)
        return utc.date().isoformat() if whole_day else utc.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class Target:
    """The column a rule is compiled for: its staged name, its kind, and the SQL reference to
    its delivered text (None for a derived column)."""

    name: str
    kind: Kind
    raw: str | None

    @property
    def ref(self) -> str:
        """The typed value, by its staged name."""
        return _ident(self.name)


# --- Column rules ----------------------------------------------------------------------------


class Rule(ABC):
    """A rule on one column. Each of its reasons has one SQL predicate (`violated`, `staged`);
    on the pandera side, checks erroring with the reason (`Required` also makes the column not
    nullable; a `Parser` is the column's dtype: pandera sees typed values, never the text)."""

    @abstractmethod
    def applies_to(self, kind: Kind) -> bool: ...

    @abstractmethod
    def reasons(self) -> tuple[str, ...]:
        """What the quarantine reason says after `column: `, one text per predicate."""

    @abstractmethod
    def violated(self, at: Target) -> tuple[str, ...]:
        """Per reason, the SQL predicate a delivered row breaks (over typed and raw columns)."""

    def staged(self, at: Target) -> tuple[str | None, ...]:
        """Per reason, the same rule over the staged columns alone (None: about reading the
        delivered text, which staged rows no longer hold)."""
        return self.violated(at)

    @abstractmethod
    def checks(self, kind: Kind) -> tuple[pa.Check, ...]:
        """The pandera checks of the rule over the typed values (NULLs are not checked)."""


def _string(kind: Kind) -> bool:
    return PARSERS[kind].sql_type == "VARCHAR"


@dataclass(frozen=True)
class Parser(Rule):
    """How a kind's delivered text becomes its staged value (`read`: NULL when unreadable) and
    its types in DuckDB and pandas. When reading can fail, a text with a value that reads as
    NULL breaks the rule `not <noun>` (pandera sees typed values: its face is the dtype)."""

    kind: Kind
    sql_type: str
    dtype: object
    read: Callable[[str], str]
    noun: str | None = None
    no_value: Callable[[str], str] = field(default=blank)  # what delivers no value at all

    def applies_to(self, kind: Kind) -> bool:
        return kind is self.kind

    def reasons(self) -> tuple[str, ...]:
        return (f"not {self.noun}",) if self.noun else ()

    def violated(self, at: Target) -> tuple[str, ...]:
        if not self.noun:
            return ()
        assert at.raw is not None, f"{at.name}: a derived column is not read from text"
        return (f"(NOT {self.no_value(at.raw)} AND {at.ref} IS NULL)",)

    def staged(self, at: Target) -> tuple[str | None, ...]:
        return (None,) * len(self.reasons())

    def checks(self, kind: Kind) -> tuple[pa.Check, ...]:
        return ()


def _not_blank(values: pd.Series) -> pd.Series:
    return values.str.strip(SPACES) != ""


@dataclass(frozen=True)
class Required(Rule):
    """A value is delivered: not blank (for a YYYYMMDD date, not a "no date" placeholder)."""

    def applies_to(self, kind: Kind) -> bool:
        return True

    def reasons(self) -> tuple[str, ...]:
        return ("missing (required)",)

    def violated(self, at: Target) -> tuple[str, ...]:
        if at.raw is None:  # derived: missing when its staged value is
            return (self._missing(at),)
        return (PARSERS[at.kind].no_value(at.raw),)

    def staged(self, at: Target) -> tuple[str | None, ...]:
        return (self._missing(at),)

    @staticmethod
    def _missing(at: Target) -> str:
        return blank(at.ref) if _string(at.kind) else f"{at.ref} IS NULL"

    def checks(self, kind: Kind) -> tuple[pa.Check, ...]:
        # NULL is the column's `nullable=False`; blank text is this check.
        if not _string(kind):
            return ()
        pa = pandera_api()
        return (pa.Check(_not_blank, name="required", error=self.reasons()[0]),)


def _guid(values: pd.Series) -> pd.Series:
    return values.str.fullmatch(GUID_PATTERN)  # fullmatch: `$` alone would allow a final "\n"


@dataclass(frozen=True)
class Guid(Rule):
    """8-4-4-4-12 hex digits (GUID columns are lowercased when read)."""

    def applies_to(self, kind: Kind) -> bool:
        return _string(kind)

    def reasons(self) -> tuple[str, ...]:
        return ("not a GUID",)

    def violated(self, at: Target) -> tuple[str, ...]:
        return (f"NOT {is_guid(at.ref)}",)

    def checks(self, kind: Kind) -> tuple[pa.Check, ...]:
        pa = pandera_api()
        return (
            pa.Check(
                _guid, name="guid", error=self.reasons()[0], statistics={"pattern": GUID_PATTERN}
            ),
        )


@dataclass(frozen=True)
class MaxLength(Rule):
    """At most `limit` characters (Unicode code points, in DuckDB and in Python)."""

    limit: int

    def __post_init__(self) -> None:
        if isinstance(self.limit, bool) or not isinstance(self.limit, int) or self.limit < 0:
            raise ValueError(f"MaxLength({self.limit!r}): the limit is a number of characters")

    def applies_to(self, kind: Kind) -> bool:
        return _string(kind)

    def reasons(self) -> tuple[str, ...]:
        return (f"longer than {self.limit} characters",)

    def violated(self, at: Target) -> tuple[str, ...]:
        return (f"length({at.ref}) > {self.limit}",)

    def checks(self, kind: Kind) -> tuple[pa.Check, ...]:
        return (pandera_api().Check.str_length(max_value=self.limit, error=self.reasons()[0]),)


@dataclass(frozen=True, init=False)
class OneOf(Rule):
    """Exactly one of `values` (case and spaces count)."""

    values: tuple[str, ...]

    def __init__(self, *values: str) -> None:
        if not values or not all(isinstance(v, str) for v in values):
            raise ValueError(f"OneOf{values!r}: the allowed values are texts")
        object.__setattr__(self, "values", values)

    def applies_to(self, kind: Kind) -> bool:
        return _string(kind)

    def reasons(self) -> tuple[str, ...]:
        return (f"not one of {', '.join(self.values)}",)

    def violated(self, at: Target) -> tuple[str, ...]:
        return (f"{at.ref} NOT IN ({', '.join(_literal(v) for v in self.values)})",)

    def checks(self, kind: Kind) -> tuple[pa.Check, ...]:
        return (pandera_api().Check.isin(list(self.values), error=self.reasons()[0]),)


# The type of range end each ranged kind takes.
_BOUNDS = {Kind.INT: "integer", Kind.YYYYMMDD: "date"} | dict.fromkeys(TIMESTAMP_KINDS, "timestamp")


@dataclass(frozen=True)
class Range(Rule):
    """The valid values, both ends included: numbers, dates or instants. A value outside is
    quarantined naming the end it passes (`xp: above 1000000`, `awarded_on: before 1900-01-01`)."""

    low: int | dt.date  # an instant is a datetime with its time zone
    high: int | dt.date

    def __post_init__(self) -> None:
        if bound_type(self.low) != bound_type(self.high) or self.low > self.high:
            raise ValueError(f"{self!r}: the ends are not of one type, low to high")

    def applies_to(self, kind: Kind) -> bool:
        return _BOUNDS.get(kind) == bound_type(self.low)

    def reasons(self) -> tuple[str, ...]:
        below, above = ("before", "after") if isinstance(self.low, dt.date) else ("below", "above")
        return (f"{below} {bound_text(self.low)}", f"{above} {bound_text(self.high)}")

    def violated(self, at: Target) -> tuple[str, ...]:
        return (f"{at.ref} < {bound_literal(self.low)}", f"{at.ref} > {bound_literal(self.high)}")

    def checks(self, kind: Kind) -> tuple[pa.Check, ...]:
        low, high = self.reasons()
        pa = pandera_api()
        return (pa.Check.ge(self.low, error=low), pa.Check.le(self.high, error=high))


@dataclass(frozen=True)
class StartsWith(Rule):
    """The text starts with `prefix` (e.g. a derived absolute URL with `https://`)."""

    prefix: str

    def applies_to(self, kind: Kind) -> bool:
        return _string(kind)

    def reasons(self) -> tuple[str, ...]:
        return (f"not starting with {self.prefix}",)

    def violated(self, at: Target) -> tuple[str, ...]:
        return (f"NOT starts_with({at.ref}, {_literal(self.prefix)})",)

    def checks(self, kind: Kind) -> tuple[pa.Check, ...]:
        return (pandera_api().Check.str_startswith(self.prefix, error=self.reasons()[0]),)


# --- Row rules -------------------------------------------------------------------------------


class FrameRule(ABC):
    """A rule over several columns of a row; its reason names them (no `column: ` prefix)."""

    @property
    @abstractmethod
    def columns(self) -> tuple[str, ...]: ...

    @abstractmethod
    def reason(self) -> str: ...

    @abstractmethod
    def violated(self) -> str:
        """The SQL predicate over the typed columns (the same on staged rows)."""

    @abstractmethod
    def check(self) -> pa.Check: ...


@dataclass(frozen=True)
class NotAfter(FrameRule):
    """`first` <= `second` wherever both are known (e.g. a certification's start and end)."""

    first: str
    second: str

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.first, self.second)

    def reason(self) -> str:
        return f"{self.first} after {self.second}"

    def violated(self) -> str:
        return f"{_ident(self.first)} > {_ident(self.second)}"

    def check(self) -> pa.Check:
        first, second = self.first, self.second

        def holds(df: pd.DataFrame) -> pd.Series:
            return df[first].isna() | df[second].isna() | (df[first] <= df[second])

        return pandera_api().Check(
            holds,
            name="not_after",
            error=self.reason(),
            statistics={"first": first, "second": second},
        )


# --- The vocabulary --------------------------------------------------------------------------

# Every rule type a contract may use, in the order a column's reasons are given.
VOCABULARY: tuple[type[Rule] | type[FrameRule], ...] = (
    Required,
    Parser,
    Guid,
    MaxLength,
    OneOf,
    Range,
    StartsWith,
    NotAfter,
)


def in_vocabulary(rule: object, where: str) -> Rule | FrameRule:
    """`rule`, if its type is one of the vocabulary's (its SQL, pandera and docs are known)."""
    if type(rule) not in VOCABULARY:
        raise TypeError(
            f"{where}: {rule!r} is not a rule of the vocabulary (learn_assets/contracts/rules.py)"
        )
    assert isinstance(rule, Rule | FrameRule)
    return rule


def _read_guid(raw: str) -> str:
    return f"lower(trim({raw}))"


def _read_text(raw: str) -> str:
    return raw


def _read_absolute_url(base: str) -> str:
    """The full link of a site-relative URL (`base`: the typed URL column's SQL)."""
    return (
        f"CASE WHEN {base} IS NULL THEN NULL WHEN {base} LIKE 'http%' THEN {base} "
        f"ELSE {_literal(LEARN_SITE)} || {base} END"
    )


def _read_int(raw: str) -> str:
    return f"TRY_CAST(trim({raw}) AS BIGINT)"


def _read_timestamp(raw: str) -> str:
    return f"TRY_CAST(trim({raw}) AS TIMESTAMPTZ)"  # no offset: UTC (session time zone)


def _read_yyyymmdd(raw: str) -> str:
    return (
        f"CASE WHEN {placeholder_date(raw)} THEN NULL "
        f"WHEN regexp_full_match(trim({raw}), '[0-9]{{8}}') "
        f"THEN TRY_STRPTIME(trim({raw}), '%Y%m%d')::DATE END"
    )


def _read_json_array(raw: str) -> str:
    return (
        f"CASE WHEN json_valid({raw}) AND json_type({raw}) = 'ARRAY' "
        f"THEN TRY_CAST({raw}::JSON AS VARCHAR[]) END"
    )


def _read_boolean(raw: str) -> str:
    return f"TRY_CAST(trim({raw}) AS BOOLEAN)"


def _read_locale_datetime(raw: str) -> str:
    return (
        f"COALESCE(TRY_STRPTIME(trim({raw}), '%m/%d/%Y %I:%M:%S %p')::TIMESTAMPTZ, "
        f"TRY_CAST(trim({raw}) AS TIMESTAMPTZ))"
    )


# pandas dtypes by name, read by pandera only when a contract is validated with pandas.
_UTC = "datetime64[us, UTC]"
_TIMESTAMPTZ = "TIMESTAMP WITH TIME ZONE"

PARSERS: dict[Kind, Parser] = {
    p.kind: p
    for p in (
        Parser(Kind.GUID, "VARCHAR", str, _read_guid),
        Parser(Kind.TEXT, "VARCHAR", str, _read_text),
        Parser(Kind.URL, "VARCHAR", str, _read_text),
        Parser(Kind.ABSOLUTE_URL, "VARCHAR", str, _read_absolute_url),
        Parser(Kind.INT, "BIGINT", "Int64", _read_int, "an integer"),
        Parser(Kind.DATETIMEOFFSET, _TIMESTAMPTZ, _UTC, _read_timestamp, "a timestamp"),
        Parser(Kind.DATETIME, _TIMESTAMPTZ, _UTC, _read_timestamp, "a timestamp"),
        # A date, not a timestamp: pandas' own datetime64 covers only 1677-2262 in pandera.
        Parser(
            Kind.YYYYMMDD,
            "DATE",
            "date32[pyarrow]",
            _read_yyyymmdd,
            "a YYYYMMDD date",
            placeholder_date,
        ),
        Parser(Kind.JSON_ARRAY, "VARCHAR[]", object, _read_json_array, "a JSON array"),
        Parser(Kind.BOOLEAN, "BOOLEAN", "boolean", _read_boolean, "a boolean"),
        Parser(Kind.LOCALE_DATETIME, _TIMESTAMPTZ, _UTC, _read_locale_datetime, "a date and time"),
    )
}
assert set(PARSERS) == set(Kind), "every kind needs its parser"
