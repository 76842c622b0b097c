"""Compile a pandera contract to DuckDB SQL, so big snapshots are validated where they are.

For each delivered row the compiled query gives the typed values and the list of rules the row
breaks (`reasons`, each naming the column and the rule). The staged layer keeps rows with no
reason and quarantines the others with their original text. Only the checks below are compiled;
a contract using any other check fails at import time (see `compile_contract`), not silently.
Each rule about values (not about reading the text) also holds over the typed columns alone:
the blocking `contract_types` check evaluates those on every staged row (`rule_counts_select`).
"""

from __future__ import annotations

import datetime as dt
import numbers
from dataclasses import dataclass

import pandera.pandas as pa

from learn_assets.contracts.kinds import Kind
from learn_assets.contracts.schemas import GUID_PATTERN, LEARN_SITE
from learn_assets.warehouse.sql import quote_ident, quote_literal

SQL_TYPES = {
    Kind.GUID: "VARCHAR",
    Kind.TEXT: "VARCHAR",
    Kind.URL: "VARCHAR",
    Kind.ABSOLUTE_URL: "VARCHAR",
    Kind.INT: "BIGINT",
    Kind.DATETIMEOFFSET: "TIMESTAMP WITH TIME ZONE",
    Kind.DATETIME: "TIMESTAMP WITH TIME ZONE",
    Kind.YYYYMMDD: "DATE",
    Kind.JSON_ARRAY: "VARCHAR[]",
    Kind.BOOLEAN: "BOOLEAN",
    Kind.LOCALE_DATETIME: "TIMESTAMP WITH TIME ZONE",
}

_KIND_NAMES = {
    Kind.INT: "an integer",
    Kind.DATETIMEOFFSET: "a timestamp",
    Kind.DATETIME: "a timestamp",
    Kind.YYYYMMDD: "a YYYYMMDD date",
    Kind.JSON_ARRAY: "a JSON array",
    Kind.BOOLEAN: "a boolean",
    Kind.LOCALE_DATETIME: "a date and time",
}


@dataclass(frozen=True)
class Rule:
    """One row-level rule: `violated` is a SQL predicate over typed (and raw) columns.
    `staged` is the same rule over the typed columns only, which a staged row must never
    break (None for rules about reading the delivered text)."""

    reason: str
    violated: str
    staged: str | None


@dataclass(frozen=True)
class CompiledContract:
    typed: dict[str, str]  # staged column -> SQL expression over the raw columns
    types: dict[str, str]  # staged column -> DuckDB type
    rules: tuple[Rule, ...]
    key: tuple[str, ...]

    @property
    def staged_rules(self) -> tuple[Rule, ...]:
        """The rules every staged row follows (see `rule_counts_select`)."""
        return tuple(r for r in self.rules if r.staged)


def _blank(raw: str) -> str:
    return f"NULLIF(trim({raw}), '') IS NULL"


NO_END_DATE = "99991231"  # the largest YYYYMMDD, used for "no end": read as NULL


def _placeholder_date(raw: str) -> str:
    # The "no date" values: empty, 0, a 1899 date (Power BI's 1899-12-29/30 zero date), or
    # 99991231 ("no end", e.g. a certification that does not expire).
    return (
        f"({_blank(raw)} OR trim({raw}) = '0' OR trim({raw}) LIKE '1899____' "
        f"OR trim({raw}) = {quote_literal(NO_END_DATE)})"
    )


def typed_expression(kind: Kind, raw: str) -> str:
    """SQL that turns the delivered text `raw` into the staged type (NULL when unreadable)."""
    if kind is Kind.GUID:
        return f"lower(trim({raw}))"
    if kind in (Kind.TEXT, Kind.URL):
        return raw
    if kind is Kind.INT:
        return f"TRY_CAST(trim({raw}) AS BIGINT)"
    if kind in (Kind.DATETIMEOFFSET, Kind.DATETIME):
        return f"TRY_CAST(trim({raw}) AS TIMESTAMPTZ)"  # no offset: UTC (session time zone)
    if kind is Kind.YYYYMMDD:
        return (
            f"CASE WHEN {_placeholder_date(raw)} THEN NULL "
            f"WHEN regexp_full_match(trim({raw}), '[0-9]{{8}}') "
            f"THEN TRY_STRPTIME(trim({raw}), '%Y%m%d')::DATE END"
        )
    if kind is Kind.JSON_ARRAY:
        return (
            f"CASE WHEN json_valid({raw}) AND json_type({raw}) = 'ARRAY' "
            f"THEN TRY_CAST({raw}::JSON AS VARCHAR[]) END"
        )
    if kind is Kind.BOOLEAN:
        return f"TRY_CAST(trim({raw}) AS BOOLEAN)"
    if kind is Kind.LOCALE_DATETIME:
        return (
            f"COALESCE(TRY_STRPTIME(trim({raw}), '%m/%d/%Y %I:%M:%S %p')::TIMESTAMPTZ, "
            f"TRY_CAST(trim({raw}) AS TIMESTAMPTZ))"
        )
    raise ValueError(f"no parser for kind {kind}")


RAW_PREFIX = "raw:"  # delivered columns are carried as "raw:<name>" beside the typed ones


def raw_ref(source: str) -> str:
    return quote_ident(RAW_PREFIX + source)


def _unreadable(kind: Kind, raw: str, typed: str) -> str:
    blank = _placeholder_date(raw) if kind is Kind.YYYYMMDD else _blank(raw)
    return f"(NOT {blank} AND {typed} IS NULL)"


def is_guid(ref: str) -> str:
    """Same verdict as GUID_PATTERN, five times faster than the regular expression: 36
    characters, hyphens in the 8-4-4-4-12 places, and the rest parses as a UUID (hex digits)."""
    hyphens = " AND ".join(f"{ref}[{i}] = '-'" for i in (9, 14, 19, 24))
    return f"(length({ref}) = 36 AND {hyphens} AND TRY_CAST({ref} AS UUID) IS NOT NULL)"


def bound_literal(value: object) -> str:
    """A range end of the contract as a typed DuckDB literal (integer, DATE or TIMESTAMPTZ)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral | dt.date):
        raise ValueError(f"range end {value!r} is not an integer, a date or a timestamp")
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, dt.datetime):  # pandas Timestamps too
        if value.tzinfo is None:
            raise ValueError(f"range end {value!r} has no time zone")
        return f"{quote_literal(value.isoformat())}::TIMESTAMPTZ"
    return f"{quote_literal(value.isoformat())}::DATE"


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


def _range_rule(column: str, bound: object, low: bool) -> Rule:
    """The rule of one end of a range: below (before) the low end, above (after) the high one."""
    ref = quote_ident(column)
    word = (
        ("before" if low else "after")
        if isinstance(bound, dt.date)
        else ("below" if low else "above")
    )
    violated = f"{ref} {'<' if low else '>'} {bound_literal(bound)}"
    return Rule(f"{column}: {word} {bound_text(bound)}", violated, violated)


def _check_rule(column: str, check: pa.Check) -> Rule | None:
    name, stats = check.name, check.statistics
    ref = quote_ident(column)
    rule: tuple[str, str] | None = None
    if name == "str_matches" and stats["pattern"] == GUID_PATTERN:
        rule = (f"{column}: not a GUID", f"NOT {is_guid(ref)}")
    elif name == "str_matches":
        pattern = quote_literal(str(stats["pattern"]))
        rule = (
            f"{column}: not matching {stats['pattern']}",
            f"NOT regexp_matches({ref}, {pattern})",
        )
    elif name == "isin":
        values = [str(v) for v in stats["allowed_values"]]
        listed = ", ".join(quote_literal(v) for v in values)
        rule = (f"{column}: not one of {', '.join(values)}", f"{ref} NOT IN ({listed})")
    elif name == "greater_than_or_equal_to":
        return _range_rule(column, stats["min_value"], low=True)
    elif name == "less_than_or_equal_to":
        return _range_rule(column, stats["max_value"], low=False)
    elif name == "str_length":  # the minimum is "required" (blank text is NULL here)
        limit = stats.get("max_value")
        if limit is None:
            return None
        rule = (f"{column}: longer than {int(limit)} characters", f"length({ref}) > {int(limit)}")
    elif name == "str_startswith":
        prefix = str(stats["string"])
        rule = (
            f"{column}: not starting with {prefix}",
            f"NOT starts_with({ref}, {quote_literal(prefix)})",
        )
    if rule is None:
        raise ValueError(f"contract check {name!r} on {column} has no SQL translation")
    return Rule(rule[0], rule[1], rule[1])


def _frame_rule(check: pa.Check) -> Rule:
    if check.name == "not_after":
        first, second = check.statistics["first"], check.statistics["second"]
        violated = f"{quote_ident(first)} > {quote_ident(second)}"
        return Rule(f"{first} after {second}", violated, violated)
    raise ValueError(f"contract check {check.name!r} has no SQL translation")


def _missing(kind: Kind, ref: str) -> str:
    """A required staged value that is missing: NULL, or blank text."""
    return _blank(ref) if SQL_TYPES[kind] == "VARCHAR" else f"{ref} IS NULL"


def compile_contract(schema: pa.DataFrameSchema) -> CompiledContract:
    typed: dict[str, str] = {}
    types: dict[str, str] = {}
    rules: list[Rule] = []
    for name, column in schema.columns.items():
        kind = column.metadata["kind"]
        types[name] = SQL_TYPES[kind]
        if kind is Kind.ABSOLUTE_URL:
            base = typed[column.metadata["derived_from"]]
            typed[name] = (
                f"CASE WHEN {base} IS NULL THEN NULL WHEN {base} LIKE 'http%' THEN {base} "
                f"ELSE {quote_literal(LEARN_SITE)} || {base} END"
            )
            rules.extend(r for check in column.checks if (r := _check_rule(name, check)))
            continue
        source = column.metadata["source"]
        typed[name] = typed_expression(kind, quote_ident(source))
        raw = raw_ref(source)
        if not column.nullable:
            rules.append(
                Rule(f"{name}: missing (required)", _blank(raw), _missing(kind, quote_ident(name)))
            )
        if kind in _KIND_NAMES:
            unreadable = _unreadable(kind, raw, quote_ident(name))
            rules.append(Rule(f"{name}: not {_KIND_NAMES[kind]}", unreadable, None))
        rules.extend(r for check in column.checks if (r := _check_rule(name, check)))
    rules.extend(_frame_rule(check) for check in schema.checks)
    return CompiledContract(typed, types, tuple(rules), tuple(schema.unique or schema.columns))


def judged_select(compiled: CompiledContract, source_columns: tuple[str, ...], source: str) -> str:
    """SELECT over `source` (raw_rowid, snapshot_date and the delivered columns of the rows to
    judge): raw_rowid, snapshot_date, the typed columns, `row_hash` (of the delivered values, to
    find repeats cheaply) and `reason` ('' when the row breaks no rule, else the rules it breaks).
    """
    raw_cols = ", ".join(f"{quote_ident(c)} AS {raw_ref(c)}" for c in source_columns)
    typed_cols = ", ".join(f"{expr} AS {quote_ident(n)}" for n, expr in compiled.typed.items())
    typed_refs = ", ".join(quote_ident(n) for n in compiled.typed)
    broken = " OR ".join(f"coalesce(({rule.violated}), false)" for rule in compiled.rules)
    reasons = ", ".join(
        f"CASE WHEN {rule.violated} THEN {quote_literal(rule.reason)} END"
        for rule in compiled.rules
    )
    # Rules refer to typed columns by their staged names, so they are evaluated one level up;
    # the reason text is only built for the (few) rows that break a rule.
    return f"""
        SELECT raw_rowid, snapshot_date, row_hash, {typed_refs},
               CASE WHEN {broken or "false"} THEN concat_ws('; ', {reasons or "NULL"}) ELSE ''
               END AS reason
        FROM (SELECT raw_rowid, snapshot_date,
                     hash({", ".join(quote_ident(c) for c in source_columns)}) AS row_hash,
                     {raw_cols}, {typed_cols}
              FROM {source})
    """


def repeats_select(source_columns: tuple[str, ...], source: str, judged: str) -> str:
    """raw_rowid of every row that repeats an identical earlier row of `source`. Only rows whose
    hash occurs more than once are compared value by value, so this stays cheap."""
    cols = ", ".join(quote_ident(c) for c in source_columns)
    return f"""
        SELECT raw_rowid FROM (
            SELECT raw_rowid, row_number() OVER (PARTITION BY {cols} ORDER BY raw_rowid) AS copy
            FROM {source}
            WHERE hash({cols}) IN (SELECT row_hash FROM {judged} GROUP BY 1 HAVING count(*) > 1)
        ) WHERE copy > 1
    """


def _any_broken(rules: tuple[Rule, ...]) -> str:
    return " OR ".join(f"coalesce(({rule.staged}), false)" for rule in rules) or "false"


def rule_counts_select(rules: tuple[Rule, ...], source: str) -> str:
    """One row over the staged rows of `source`: how many there are, how many break any of
    `rules` (their `staged` predicate), then how many break each rule, in order."""
    per_rule = "".join(f", count(*) FILTER (WHERE {rule.staged})" for rule in rules)
    return f"SELECT count(*), count(*) FILTER (WHERE {_any_broken(rules)}){per_rule} FROM {source}"


def breaking_rows_select(
    rules: tuple[Rule, ...], columns: tuple[str, ...], source: str, limit: int
) -> str:
    """The first `limit` staged rows of `source` breaking any of `rules`: `columns` and the
    reasons of the rules each breaks."""
    cols = ", ".join(quote_ident(c) for c in columns)
    reasons = ", ".join(
        f"CASE WHEN {rule.staged} THEN {quote_literal(rule.reason)} END" for rule in rules
    )
    return (
        f"SELECT {cols}, concat_ws('; ', {reasons or 'NULL'}) AS rules FROM {source} "
        f"WHERE {_any_broken(rules)} ORDER BY ALL LIMIT {int(limit)}"
    )
