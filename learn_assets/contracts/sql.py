"""Compile a pandera contract to DuckDB SQL, so big snapshots are validated where they are.

For each delivered row the compiled query gives the typed values and the list of rules the row
breaks (`reasons`, each naming the column and the rule). The staged layer keeps rows with no
reason and quarantines the others with their original text. Only the checks below are compiled;
a contract using any other check fails at import time (see `compile_contract`), not silently.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandera.pandas as pa

from learn_assets.contracts.kinds import Kind
from learn_assets.contracts.schemas import GUID_PATTERN, LEARN_SITE
from learn_assets.resources.warehouse import quote_ident, quote_literal

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
    """One row-level rule: `violated` is a SQL predicate over typed (and raw) columns."""

    reason: str
    violated: str


@dataclass(frozen=True)
class CompiledContract:
    typed: dict[str, str]  # staged column -> SQL expression over the raw columns
    types: dict[str, str]  # staged column -> DuckDB type
    rules: tuple[Rule, ...]
    key: tuple[str, ...]


def _blank(raw: str) -> str:
    return f"NULLIF(trim({raw}), '') IS NULL"


def _placeholder_date(raw: str) -> str:
    # The "no date" values: empty, 0, or a 1899 date (Power BI's 1899-12-29/30 zero date).
    return f"({_blank(raw)} OR trim({raw}) = '0' OR trim({raw}) LIKE '1899____')"


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


def _check_rule(column: str, check: pa.Check) -> Rule | None:
    name, stats = check.name, check.statistics
    ref = quote_ident(column)
    if name == "str_matches" and stats["pattern"] == GUID_PATTERN:
        return Rule(f"{column}: not a GUID", f"NOT {is_guid(ref)}")
    if name == "str_matches":
        pattern = quote_literal(str(stats["pattern"]))
        return Rule(
            f"{column}: not matching {stats['pattern']}", f"NOT regexp_matches({ref}, {pattern})"
        )
    if name == "isin":
        values = [str(v) for v in stats["allowed_values"]]
        listed = ", ".join(quote_literal(v) for v in values)
        return Rule(f"{column}: not one of {', '.join(values)}", f"{ref} NOT IN ({listed})")
    if name == "greater_than_or_equal_to":
        return Rule(f"{column}: below {stats['min_value']}", f"{ref} < {int(stats['min_value'])}")
    if name == "str_length":  # the minimum is "required" (blank text is NULL here)
        limit = stats.get("max_value")
        if limit is None:
            return None
        return Rule(
            f"{column}: longer than {int(limit)} characters", f"length({ref}) > {int(limit)}"
        )
    if name == "str_startswith":  # derived absolute URLs, true by construction
        return None
    raise ValueError(f"contract check {name!r} on {column} has no SQL translation")


def _frame_rule(check: pa.Check) -> Rule:
    if check.name == "not_after":
        first, second = check.statistics["first"], check.statistics["second"]
        return Rule(
            f"{first} after {second}",
            f"{quote_ident(first)} > {quote_ident(second)}",
        )
    raise ValueError(f"contract check {check.name!r} has no SQL translation")


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
            continue
        source = column.metadata["source"]
        typed[name] = typed_expression(kind, quote_ident(source))
        raw = raw_ref(source)
        if not column.nullable:
            rules.append(Rule(f"{name}: missing (required)", _blank(raw)))
        if kind in _KIND_NAMES:
            rules.append(
                Rule(f"{name}: not {_KIND_NAMES[kind]}", _unreadable(kind, raw, quote_ident(name)))
            )
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
