"""The pandera contract (pandas backend) and its compiled SQL give the same verdict on every row.

Both are generated from the rule vocabulary (`contracts/rules.py`); this test iterates it. Every
rule type has edge values here (`EDGES`: blank, too long, not allowed, each end of a range and
just past it, GUIDs that are not, ...), every kind has texts at the edges of reading it, and a
contract's rows are generated from the edges of the rules of its columns: a valid base row, the
base row with one value changed for every edge value of every column, and random mixes. DuckDB
reads each row with the compiled SQL, which gives its typed values and the reasons of the rules
it breaks; pandera validates the same typed values as a small pandas frame, its checks erroring
with the same reasons. Both must give the same reasons, row by row, except for a value the SQL
could not read (`not an integer`, ...): reading is the SQL's alone, pandera sees its NULL.
Every contract of the project is checked, and an example contract for every rule type.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

import duckdb
import pandas as pd
import pandera.errors
import pytest

from learn_assets.contracts.datasets import DATASETS, ENTRA
from learn_assets.contracts.kinds import TIMESTAMP_KINDS, Kind
from learn_assets.contracts.rules import (
    VOCABULARY,
    Guid,
    MaxLength,
    NotAfter,
    OneOf,
    Parser,
    Range,
    Required,
    Rule,
    StartsWith,
)
from learn_assets.contracts.schemas import Contract, ContractColumn, absolute_url, col, contract
from learn_assets.contracts.sql import (
    any_broken_select,
    compile_contract,
    judged_select,
    rule_counts_select,
)
from learn_assets.warehouse.sql import quote_ident

GUID = "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
# A valid delivered text per kind, for a column whose rules do not say otherwise.
BASE: dict[Kind, str] = {
    Kind.GUID: GUID,
    Kind.TEXT: "learn.intro",
    Kind.URL: "/training/modules/x/",
    Kind.INT: "100",
    Kind.DATETIMEOFFSET: "2026-11-01T23:59:59-08:00",
    Kind.DATETIME: "2026-11-01T10:00:00",
    Kind.YYYYMMDD: "20261127",
    Kind.JSON_ARRAY: '["beginner","intermediate"]',
    Kind.BOOLEAN: "True",
    Kind.LOCALE_DATETIME: "8/19/2021 1:25:31 PM",
}
# Texts at the edges of reading each kind: unreadable ones, odd but readable ones, sentinels.
TIMESTAMP_TEXTS = [
    "yesterday",
    "2026-13-01T00:00:00Z",
    "2026-11-01T23:59:59.1234567-08:00",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-05:00",
    "1899-12-31T23:59:59.999999Z",
    " 2026-11-01T10:00:00Z ",
]
READING: dict[Kind, list[str]] = {
    Kind.GUID: [f" {GUID.upper()} "],
    Kind.TEXT: [" learn.intro "],
    Kind.URL: ["https://learn.microsoft.com/x", "http://example.com/"],
    Kind.INT: ["two hundred", "1.5", "+7", " 7 ", "1e3", "0x10", str(2**63 - 1), str(-(2**63))]
    + [str(2**63)],
    Kind.DATETIMEOFFSET: TIMESTAMP_TEXTS,
    Kind.DATETIME: [*TIMESTAMP_TEXTS, "2026-11-01 10:00:00"],
    Kind.YYYYMMDD: ["20261341", "2026111", "2026-11-01", "x", "0", "18991229", "18991230"]
    + ["99991231", "99991230", "00010101", "18000101", " 20261127 "],
    Kind.JSON_ARRAY: ['["beginner",', '{"a": 1}', "null", '"x"', "[1, 2]", '["a", null]', "[]"],
    Kind.BOOLEAN: ["maybe", "true", " False ", "1", "t"],
    Kind.LOCALE_DATETIME: ["13/19/2021 1:25:31 PM", "12/31/1899 11:59:59 PM"]
    + ["1/1/1900 12:00:00 AM", "12/31/2999 11:59:59 PM", *TIMESTAMP_TEXTS],
    Kind.ABSOLUTE_URL: [],  # derived from the URL: its texts are the URL's
}
MIXED_ROWS = 60


def yyyymmdd(day: dt.date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def shifted(value: object, steps: int) -> object | None:
    """`value` moved by `steps` units (1, a day, a microsecond), None past what Python holds."""
    try:
        if isinstance(value, dt.datetime):
            return value + pd.Timedelta(microseconds=steps)
        if isinstance(value, dt.date):
            return value + dt.timedelta(days=steps)
        return value + steps
    except (OverflowError, pd.errors.OutOfBoundsDatetime):
        return None


def century(value: object, sign: int) -> object | None:
    """A date or instant a century away, None past what Python holds (numbers: None)."""
    if not isinstance(value, dt.date):
        return None
    try:
        return value + sign * dt.timedelta(days=36_525)
    except (OverflowError, pd.errors.OutOfBoundsDatetime):
        return None


def as_text(value: object, kind: Kind) -> list[str]:
    """How `value` can be delivered in a column of `kind` (instants with several offsets)."""
    if kind is Kind.YYYYMMDD:
        return [yyyymmdd(value)]
    if kind in TIMESTAMP_KINDS:
        instant = pd.Timestamp(value)
        return [
            instant.tz_convert(dt.timezone(dt.timedelta(hours=h))).isoformat() for h in (0, 1, -5)
        ]
    return [str(value)]


def value_of(text: str, kind: Kind) -> object:
    """A BASE text as the value it reads as, to compare with a range."""
    if kind is Kind.INT:
        return int(text)
    if kind is Kind.YYYYMMDD:
        return dt.datetime.strptime(text, "%Y%m%d").date()
    instant = pd.Timestamp(text)
    return instant.tz_localize("UTC") if instant.tzinfo is None else instant.tz_convert("UTC")


def range_edges(rule: Range, kind: Kind) -> list[str]:
    """Both ends, a step inside and outside each, and a century outside."""
    values = [shifted(rule.low, s) for s in (0, 1, -1)] + [century(rule.low, -1)]
    values += [shifted(rule.high, s) for s in (0, -1, 1)] + [century(rule.high, 1)]
    return [text for v in values if v is not None for text in as_text(v, kind)]


# Delivered texts at the edges of each rule type, for a column of `kind`.
EDGES: dict[type[Rule], Callable[..., list[str]]] = {
    Required: lambda rule, kind: ["", " ", "\u3000", "\t"],
    Parser: lambda rule, kind: READING[kind],
    Guid: lambda rule, kind: [
        GUID.upper(),
        "not-a-guid",
        GUID.replace("-", ""),
        "{" + GUID[1:-1] + "}",
        GUID[:-1] + "g",
        GUID[:-1] + "é",
        GUID + "\n",
        GUID[:8] + "+" + GUID[9:],
        "",
    ],
    MaxLength: lambda rule, kind: [
        "x" * rule.limit,
        "x" * (rule.limit + 1),
        "é" * (rule.limit + 1),
    ],
    OneOf: lambda rule, kind: [
        *rule.values,
        "Lesson",
        rule.values[0].lower(),
        f" {rule.values[0]}",
    ],
    Range: range_edges,
    StartsWith: lambda rule, kind: [rule.prefix + "example.com/", rule.prefix[:-1], "/x/", "http:"],
}


def not_after_edges(rule: NotAfter, schema: Contract) -> list[dict[str, str]]:
    """Rows (changes to the base row) where `first` is after, equal to and before `second`, and
    where one of them is missing."""
    first, second = (schema.columns[c] for c in rule.columns)
    kind = first.kind
    (low,) = (r.low for r in first.rules if isinstance(r, Range))
    early, late = as_text(low, kind)[0], as_text(shifted(low, 1), kind)[0]
    one, other = first.source, second.source
    return [
        {one: late, other: early},
        {one: early, other: late},
        {one: late, other: late},
        {one: late, other: ""},
        {one: "", other: early},
    ]


FRAME_EDGES: dict[type, Callable[..., list[dict[str, str]]]] = {NotAfter: not_after_edges}


def base_value(rules: tuple[Rule, ...], kind: Kind) -> str:
    """A delivered text of `kind` that follows `rules`."""
    text = BASE[kind]
    for rule in rules:
        if isinstance(rule, Guid):
            text = GUID
        if isinstance(rule, OneOf):
            text = rule.values[0]
        if isinstance(rule, Range) and not rule.low <= value_of(text, kind) <= rule.high:
            text = as_text(rule.low, kind)[0]
        if isinstance(rule, StartsWith) and not text.startswith(rule.prefix):
            text = rule.prefix + text
    return text


def column_edges(schema: Contract) -> dict[str, list[str]]:
    """Per delivered column, its valid base text first, then the edge texts of its rules and of
    the rules of the columns derived from it."""
    edges: dict[str, list[str]] = {}
    for column in schema.columns.values():
        kind, rules = column.kind, column.rules
        texts = [text for rule in rules for text in EDGES[type(rule)](rule, kind)]
        if column.derived_from is not None:
            source = schema.columns[column.derived_from].source
            edges[source] += texts
        else:
            edges[column.source] = [base_value(rules, kind), *texts]
    return {source: list(dict.fromkeys(texts)) for source, texts in edges.items()}


def generated_rows(schema: Contract) -> list[dict[str, str]]:
    edges = column_edges(schema)
    base = {source: texts[0] for source, texts in edges.items()}
    rows = [base]
    for source, texts in edges.items():
        rows += [base | {source: text} for text in texts[1:]]
    for rule in schema.rules:
        rows += [base | change for change in FRAME_EDGES[type(rule)](rule, schema)]
    rng = random.Random(schema.name)
    for _ in range(MIXED_ROWS):
        rows.append({source: rng.choice(texts) for source, texts in edges.items()})
    return rows


def sources(schema: Contract) -> tuple[str, ...]:
    return tuple(c.source for c in schema.columns.values() if c.source is not None)


def deliver(conn: duckdb.DuckDBPyConnection, columns: tuple[str, ...], rows: list[dict]) -> None:
    """The table `delivered` (raw_rowid = the row's index, the delivered columns as text) of
    `rows`, in a UTC session, as the staged layer judges them."""
    conn.execute("SET TimeZone = 'UTC'")
    cols = ", ".join(f"{quote_ident(c)} VARCHAR" for c in columns)
    conn.execute(f"CREATE TABLE delivered (raw_rowid BIGINT, snapshot_date DATE, {cols})")
    conn.executemany(
        f"INSERT INTO delivered VALUES (?, NULL, {', '.join('?' * len(columns))})",
        [[i, *(r[c] for c in columns)] for i, r in enumerate(rows)],
    )


def sql_verdicts(
    schema: Contract, rows: list[dict[str, str]]
) -> tuple[pd.DataFrame, list[set[str]]]:
    """The typed values (a pandas frame as DuckDB hands it over: exact Int64, datetime64[us];
    not through Arrow-backed columns, whose cast to datetime64 turns year 10000 into 1972 in
    pandas 3.1) and, per row, the reasons of the rules the compiled SQL finds broken."""
    compiled = compile_contract(schema)
    columns = sources(schema)
    with duckdb.connect() as conn:
        deliver(conn, columns, rows)
        typed = ", ".join(quote_ident(c) for c in compiled.types)
        frame = conn.execute(
            f"SELECT {typed}, reason FROM ({judged_select(compiled, columns, 'delivered')}) "
            "ORDER BY raw_rowid"
        ).df()
    reasons = [set(filter(None, r.split("; "))) for r in frame.pop("reason")]
    return frame, reasons


def pandera_verdicts(schema: Contract, frame: pd.DataFrame) -> list[set[str]]:
    """Per row, the reasons of the checks the pandera schema (pandas backend) finds broken.
    Uniqueness is left out: the SQL judges a row alone (keys are the `keys_unique` check)."""
    broken: list[set[str]] = [set() for _ in range(len(frame))]
    row_reasons = {rule.reason() for rule in schema.rules}
    try:
        schema.pandera.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as errors:
        for case in errors.failure_cases.itertuples():
            if "unique" in str(case.check):
                continue
            assert case.index is not None and not pd.isna(case.index), case
            if case.schema_context == "DataFrameSchema" and case.check in row_reasons:
                reason = case.check
            else:  # a NULL in a required column is pandera's `nullable=False`
                what = "missing (required)" if case.check == "not_nullable" else case.check
                reason = f"{case.column}: {what}"
            broken[int(case.index)].add(reason)
    return broken


def unread(schema: Contract, reasons: set[str]) -> set[str]:
    """The columns whose delivered text the SQL could not read."""
    return {
        name
        for name, column in schema.columns.items()
        for rule in column.rules
        if isinstance(rule, Parser)
        for what in rule.reasons()
        if f"{name}: {what}" in reasons
    }


def column_of(reason: str) -> str | None:
    column, colon, _ = reason.partition(": ")
    return column if colon else None


def assert_agree(schema: Contract) -> set[str]:
    """Pandera and the SQL agree on every generated row; returns the reasons the rows reached."""
    rows = generated_rows(schema)
    frame, by_sql = sql_verdicts(schema, rows)
    by_pandera = pandera_verdicts(schema, frame)
    disagree = []
    for row, sql, pandas in zip(rows, by_sql, by_pandera, strict=True):
        failed = unread(schema, sql)
        # An unreadable value breaks its reading rule alone (its typed value is NULL) ...
        assert all(len({r for r in sql if column_of(r) == c}) == 1 for c in failed), (row, sql)
        # ... and every other rule gives the same verdict on both sides.
        if {r for r in sql if column_of(r) not in failed} != {
            r for r in pandas if column_of(r) not in failed
        }:
            disagree.append((row, sql, pandas))
    assert not disagree, disagree[:3]
    assert by_sql[0] == set(), by_sql[0]  # the base row is valid
    return set().union(*by_sql)


def assert_every_rule_broke(schema: Contract, reached: set[str]) -> None:
    """Every rule of `schema` broke on some row, but the end no 8-digit date passes (99991231
    reads as "no date")."""
    missed = {rule.reason for rule in compile_contract(schema).rules} - reached
    assert all(r.endswith(": after 9999-12-31") for r in missed), missed


@pytest.mark.parametrize("dataset", [*DATASETS, ENTRA], ids=lambda d: d.name)
def test_pandera_and_the_compiled_sql_agree_row_by_row(dataset):
    assert_every_rule_broke(dataset.contract, assert_agree(dataset.contract))


def assert_fast_verdict_is_exact(schema: Contract) -> None:
    """`any_broken_select` (column rules over distinct values, what the `contract_types` check
    asks first) says a set of typed rows breaks a rule exactly when `rule_counts_select` (row by
    row) counts a breaking row: for each generated row alone, for every row together, and for
    no row."""
    compiled = compile_contract(schema)
    rules = compiled.staged_rules
    columns = sources(schema)
    rows = generated_rows(schema)
    with duckdb.connect() as conn:
        deliver(conn, columns, rows)
        conn.execute(
            f"CREATE TABLE typed AS SELECT * FROM ({judged_select(compiled, columns, 'delivered')})"
        )
        # Rows breaking no rule at all (so none of the staged rules either).
        valid = [
            i for (i,) in conn.execute("SELECT raw_rowid FROM typed WHERE reason = ''").fetchall()
        ]
        # Rows alone (a seeded sample: a query each), all valid rows, every row, none.
        alone = random.Random(schema.name).sample(range(len(rows)), min(len(rows), FAST_ROWS))
        scopes = [[i] for i in alone] + [valid, list(range(len(rows))), []]
        verdicts = []
        for scope in scopes:
            source = "(SELECT * FROM typed WHERE list_contains(?, raw_rowid))"
            params = [scope]
            fast = conn.execute(any_broken_select(rules, source), params).fetchone()[0]
            exact = conn.execute(rule_counts_select(rules, source), params).fetchone()[1]
            verdicts.append((scope, fast, exact > 0))
    assert [v for v in verdicts if v[1] != v[2]] == []
    assert {fast for _, fast, _ in verdicts} == {True, False}  # both verdicts reached


@pytest.mark.parametrize("dataset", [*DATASETS, ENTRA], ids=lambda d: d.name)
def test_the_fast_any_broken_verdict_equals_the_row_by_row_count(dataset):
    assert_fast_verdict_is_exact(dataset.contract)


FAST_ROWS = 15  # generated rows checked alone by `assert_fast_verdict_is_exact`, per contract


# An example contract for every rule type of the vocabulary: each example column is a kind with
# the rules declared on it (its kind's come with it).
INSIDE_2000 = (pd.Timestamp("2000-01-01", tz="UTC"), pd.Timestamp("2000-12-31 12:00", tz="UTC"))
RANGED = {
    Kind.INT: Range(-5, 5),
    Kind.YYYYMMDD: Range(dt.date(2000, 1, 1), dt.date(2099, 12, 31)),
} | dict.fromkeys(TIMESTAMP_KINDS, Range(*INSIDE_2000))
DELIVERED_KINDS = [k for k in Kind if k is not Kind.ABSOLUTE_URL]


def ranged(kind: Kind, *rules: Rule) -> tuple[Kind, tuple[Rule, ...]]:
    """`kind` with `rules`, and a range if it needs one (dates and instants have their own)."""
    return kind, ((*rules, RANGED[kind]) if kind is Kind.INT else rules)


EXAMPLES: dict[type, list[tuple[Kind, tuple[Rule, ...]]]] = {
    Required: [ranged(k, Required()) for k in DELIVERED_KINDS],
    Parser: [ranged(k) for k in DELIVERED_KINDS],
    Guid: [(Kind.GUID, ()), (Kind.TEXT, (Guid(),))],
    MaxLength: [(Kind.TEXT, (MaxLength(len(BASE[Kind.TEXT])),)), (Kind.GUID, (MaxLength(36),))],
    OneOf: [(Kind.TEXT, (OneOf("Unit", "Learning Path"),)), (Kind.TEXT, (Required(), OneOf("x")))],
    Range: [(k, (r,)) for k, r in RANGED.items()] + [(Kind.INT, (Required(), Range(0, 0)))],
    StartsWith: [(Kind.TEXT, (StartsWith("ab"),)), (Kind.URL, ())],  # the URL's absolute link
    NotAfter: [(k, (RANGED[k],)) for k in RANGED if k is not Kind.INT],
}


def example_contract(rule_type: type) -> Contract:
    columns: dict[str, ContractColumn] = {}
    frame = []
    for i, (kind, rules) in enumerate(EXAMPLES[rule_type]):
        columns[f"c{i}"] = col(f"C{i}", kind, *rules)
        if kind is Kind.URL and rule_type is StartsWith:
            columns[f"c{i}_absolute"] = absolute_url(f"c{i}")
        if rule_type is NotAfter:
            columns[f"d{i}"] = col(f"D{i}", kind, *rules)
            frame.append(NotAfter(f"c{i}", f"d{i}"))
    # A key of one column: pandera cannot tell whether two JSON arrays (numpy arrays) repeat.
    name = f"Example{rule_type.__name__}"
    return contract(name, "an example", columns, unique=["c0"], rules=tuple(frame))


def test_every_rule_type_of_the_vocabulary_has_edges_and_examples():
    assert set(EDGES) | set(FRAME_EDGES) == set(VOCABULARY) == set(EXAMPLES)
    assert set(READING) == set(Kind) and set(BASE) == set(DELIVERED_KINDS)


@pytest.mark.parametrize("rule_type", VOCABULARY, ids=lambda t: t.__name__)
def test_pandera_and_the_sql_agree_on_every_rule_of_the_vocabulary(rule_type):
    schema = example_contract(rule_type)
    assert_every_rule_broke(schema, assert_agree(schema))
    used = {type(r) for c in schema.columns.values() for r in c.rules}
    assert rule_type in used | {type(r) for r in schema.rules}


@pytest.mark.parametrize("rule_type", VOCABULARY, ids=lambda t: t.__name__)
def test_the_fast_any_broken_verdict_is_exact_for_every_rule_of_the_vocabulary(rule_type):
    assert_fast_verdict_is_exact(example_contract(rule_type))


def test_the_edges_reach_every_range_and_both_verdicts():
    progress = next(d for d in DATASETS if d.name == "Progress").contract
    rows = generated_rows(progress)
    _, by_sql = sql_verdicts(progress, rows)
    verdicts = {
        (row["XP"], row["AwardedOn"]): broken
        for row, broken in zip(rows, by_sql, strict=True)
        if row["tenantId"] == rows[0]["tenantId"] and row["userId"] == rows[0]["userId"]
    }
    base_time = rows[0]["AwardedOn"]
    assert verdicts[("0", base_time)] == verdicts[("1000000", base_time)] == set()
    assert verdicts[("1000001", base_time)] == {"xp: above 1000000"}
    assert verdicts[(str(2**63 - 1), base_time)] == {"xp: above 1000000"}
    assert verdicts[("-1", base_time)] == {"xp: below 0"}
    assert verdicts[(str(2**63), base_time)] == {"xp: not an integer"}
    base_xp = rows[0]["XP"]
    for ok in ("1900-01-01T00:00:00+00:00", "2999-12-31T23:59:59.999999+00:00"):
        assert verdicts[(base_xp, ok)] == set()
    for bad in ("0001-01-01T00:00:00+01:00", "1900-01-01T00:59:59.999999+01:00"):
        assert verdicts[(base_xp, bad)] == {"awarded_on: before 1900-01-01"}
    for bad in ("9999-12-31T23:59:59-05:00", "3000-01-01T00:00:00+00:00"):
        assert verdicts[(base_xp, bad)] == {"awarded_on: after 2999-12-31"}
    assert verdicts[(base_xp, "yesterday")] == {"awarded_on: not a timestamp"}
