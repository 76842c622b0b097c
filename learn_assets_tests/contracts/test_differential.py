"""The pandera contract (pandas backend) and its compiled SQL give the same verdict on every row.

For each dataset, rows of delivered text are generated from values at the edges of every rule
(dates 1899/1900/9999, timestamps in years 1 and 9999 with offsets, XP 0, 1,000,000, 1,000,001,
2^63-1, negative, blank, too long, not allowed, ...): a valid base row, the base row with one
value changed for every edge value of every column, and random mixes. DuckDB reads each row
with the compiled SQL, which gives its typed values and the rules it breaks; pandera validates
the same typed values as a small pandas frame. Both must name the same broken columns, row by
row. Parsing is the SQL's alone (pandera sees typed values), so only readable text is generated.
"""

from __future__ import annotations

import random
import re

import duckdb
import pandas as pd
import pandera.errors
import pytest

from learn_assets.contracts.datasets import DATASETS, ENTRA, Dataset
from learn_assets.contracts.kinds import Kind
from learn_assets.contracts.sql import compile_contract, judged_select
from learn_assets.warehouse.sql import quote_ident

TIMESTAMPS = [
    "2026-11-01T23:59:59.1234567-08:00",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-05:00",
    "1899-12-31T23:59:59.999999Z",
    "1900-01-01T00:00:00Z",
    "1900-01-01T00:30:00+01:00",  # 1899-12-31 23:30 UTC
    "2999-12-31T23:59:59.999999Z",
    "3000-01-01T00:30:00+01:00",  # 2999-12-31 23:30 UTC
    "3000-01-01T00:00:00Z",
    "",
]
EDGES: dict[Kind, list[str]] = {
    Kind.GUID: ["0a1b2c3d-4e5f-6789-abcd-ef0123456789", "0A1B2C3D-4E5F-6789-ABCD-EF0123456789"]
    + ["not-a-guid", ""],
    Kind.TEXT: ["learn.intro", "", "x" * 65_536, "x" * 65_537],
    Kind.URL: ["/training/modules/x/", "", "https://learn.microsoft.com/x", "http://example.com/"],
    Kind.INT: ["100", "0", "1000000", "1000001", "100000", "100001", "-1"]
    + [str(2**63 - 1), str(-(2**63)), ""],
    Kind.YYYYMMDD: ["20261127", "18991229", "18991231", "18000101", "00010101", "19000101"]
    + ["99991230", "99991231", "0", ""],
    Kind.DATETIMEOFFSET: TIMESTAMPS,
    Kind.DATETIME: [*TIMESTAMPS, "2026-11-01T10:00:00"],
    Kind.LOCALE_DATETIME: [
        "8/19/2021 1:25:31 PM",
        "1/1/1900 12:00:00 AM",
        "12/31/1899 11:59:59 PM",
        "12/31/2999 11:59:59 PM",
        *TIMESTAMPS,
    ],
    Kind.JSON_ARRAY: ['["beginner","intermediate"]', "[]", ""],
    Kind.BOOLEAN: ["True", "False", ""],
}
MIXED_ROWS = 60
NOT_AFTER = "(not_after)"  # the frame-wide rule, named by neither side's column


def edge_values(dataset: Dataset, name: str) -> list[str]:
    """Delivered text values for the column `name` of `dataset`, the first one valid."""
    column = dataset.contract.columns[name]
    allowed = [c.statistics["allowed_values"] for c in column.checks if c.name == "isin"]
    if allowed:
        return [*allowed[0], "Lesson", ""]
    return EDGES[column.metadata["kind"]]


def generated_rows(dataset: Dataset) -> list[dict[str, str]]:
    sources = {
        name: column.metadata["source"]
        for name, column in dataset.contract.columns.items()
        if "source" in column.metadata
    }
    base = {source: edge_values(dataset, name)[0] for name, source in sources.items()}
    rows = [base]
    for name, source in sources.items():
        rows += [base | {source: value} for value in edge_values(dataset, name)[1:]]
    rng = random.Random(dataset.name)
    for _ in range(MIXED_ROWS):
        rows.append({s: rng.choice(edge_values(dataset, n)) for n, s in sources.items()})
    return rows


def sql_verdicts(dataset: Dataset, rows: list[dict[str, str]]) -> tuple[pd.DataFrame, list[set]]:
    """The typed values (a pandas frame as DuckDB hands it over: exact Int64, datetime64[us];
    not through Arrow-backed columns, whose cast to datetime64 turns year 10000 into 1972 in
    pandas 3.1) and, per row, the columns the compiled SQL finds broken."""
    compiled = compile_contract(dataset.contract)
    columns = dataset.column_names
    with duckdb.connect() as conn:
        conn.execute("SET TimeZone = 'UTC'")
        cols = ", ".join(f"{quote_ident(c)} VARCHAR" for c in columns)
        conn.execute(f"CREATE TABLE delivered (raw_rowid BIGINT, snapshot_date DATE, {cols})")
        conn.executemany(
            f"INSERT INTO delivered VALUES (?, NULL, {', '.join('?' * len(columns))})",
            [[i, *(r[c] for c in columns)] for i, r in enumerate(rows)],
        )
        typed = ", ".join(quote_ident(c) for c in compiled.types)
        frame = conn.execute(
            f"SELECT {typed}, reason FROM ({judged_select(compiled, columns, 'delivered')}) "
            "ORDER BY raw_rowid"
        ).df()
    reasons = [broken_columns(r) for r in frame.pop("reason")]
    return frame, reasons


def broken_columns(reason: str) -> set[str]:
    found = set()
    for rule in filter(None, reason.split("; ")):
        column, colon, _ = rule.partition(": ")
        found.add(column if colon else NOT_AFTER)
    return found


def pandera_verdicts(dataset: Dataset, frame: pd.DataFrame) -> list[set]:
    """Per row, the columns the pandera schema (pandas backend) finds broken. Uniqueness is left
    out: the SQL judges a row alone (keys are the `keys_unique` check)."""
    broken: list[set] = [set() for _ in range(len(frame))]
    try:
        dataset.contract.validate(frame, lazy=True)
    except pandera.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        for case in cases.itertuples():
            if "unique" in str(case.check):
                continue
            assert case.index is not None and not pd.isna(case.index), case
            column = NOT_AFTER if str(case.check).startswith("not_after") else case.column
            broken[int(case.index)].add(column)
    return broken


@pytest.mark.parametrize("dataset", [*DATASETS, ENTRA], ids=lambda d: d.name)
def test_pandera_and_the_compiled_sql_agree_row_by_row(dataset):
    rows = generated_rows(dataset)
    frame, by_sql = sql_verdicts(dataset, rows)
    by_pandera = pandera_verdicts(dataset, frame)
    disagree = [
        (rows[i], by_sql[i], by_pandera[i]) for i in range(len(rows)) if by_sql[i] != by_pandera[i]
    ]
    assert not disagree, disagree[:3]
    assert by_sql[0] == set()  # the base row is valid
    # The edges were reached: every range rule of the contract broke on some row.
    ranged = {
        r.reason.split(":")[0]
        for r in compile_contract(dataset.contract).rules
        if re.search(r": (below|above|before|after) ", r.reason)
    }
    assert ranged <= set().union(*by_sql)


def test_the_edges_reach_every_range_and_both_verdicts():
    progress = next(d for d in DATASETS if d.name == "Progress")
    rows = generated_rows(progress)
    _, by_sql = sql_verdicts(progress, rows)
    verdicts = {
        (row["XP"], row["AwardedOn"]): broken
        for row, broken in zip(rows, by_sql, strict=True)
        if row["tenantId"] == rows[0]["tenantId"] and row["userId"] == rows[0]["userId"]
    }
    base_time = rows[0]["AwardedOn"]
    assert verdicts[("0", base_time)] == verdicts[("1000000", base_time)] == set()
    for xp in ("1000001", str(2**63 - 1), "-1"):
        assert verdicts[(xp, base_time)] == {"xp"}
    for ok in ("1900-01-01T00:00:00Z", "3000-01-01T00:30:00+01:00"):
        assert verdicts[("100", ok)] == set()
    for bad in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00", "3000-01-01T00:00:00Z"):
        assert verdicts[("100", bad)] == {"awarded_on"}
