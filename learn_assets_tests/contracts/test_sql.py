"""The contract compiler: every contract compiles, and parsing follows the dictionary's quirks."""

import datetime as dt

import duckdb
import pytest

from learn_assets.contracts.datasets import DATASETS, ENTRA
from learn_assets.contracts.kinds import RANGED_KINDS, Kind
from learn_assets.contracts.rules import (
    GUID_PATTERN,
    PARSERS,
    SPACES,
    Target,
    bound_literal,
    bound_text,
    is_guid,
)
from learn_assets.contracts.schemas import DATES, TIMESTAMPS, XP, col
from learn_assets.contracts.sql import compile_contract

UTC = dt.UTC


@pytest.mark.parametrize("dataset", [*DATASETS, ENTRA], ids=lambda d: d.name)
def test_every_contract_compiles_and_every_rule_names_its_column(dataset):
    compiled = compile_contract(dataset.contract)
    assert list(compiled.types) == list(dataset.contract.columns)
    for rule in compiled.rules:
        assert rule.reason.split(":")[0].split(" ")[0] in dataset.contract.columns


def typed_and_unreadable(kind: Kind, text: str) -> str:
    """SQL over a VARCHAR column `v`: the typed value `t` and whether its reading rule breaks."""
    parser = PARSERS[kind]
    unreadable = parser.violated(Target("t", kind, "v")) or ("false",)
    return f"SELECT t, {unreadable[0]} FROM (SELECT {parser.read('v')} AS t, v FROM ({text}))"


def parse(kind: Kind, value: str | None) -> tuple[object, bool]:
    """(typed value, unreadable?) for one delivered text value."""
    with duckdb.connect() as conn:
        conn.execute("SET TimeZone = 'UTC'")
        sql = typed_and_unreadable(kind, "SELECT ?::VARCHAR AS v")
        return conn.execute(sql, [value]).fetchone()


def test_datetimeoffset_keeps_the_instant_in_utc():
    # 7 fractional digits and a negative offset that crosses into the next UTC day
    value, bad = parse(Kind.DATETIMEOFFSET, "2026-11-01T23:59:59.1234567-08:00")
    assert value == dt.datetime(2026, 11, 2, 7, 59, 59, 123456, tzinfo=UTC) and not bad
    assert parse(Kind.DATETIMEOFFSET, "2026-11-01T10:00:00+05:30")[0] == dt.datetime(
        2026, 11, 1, 4, 30, tzinfo=UTC
    )
    assert parse(Kind.DATETIME, "2026-11-01T10:00:00")[0] == dt.datetime(
        2026, 11, 1, 10, tzinfo=UTC
    )
    assert parse(Kind.DATETIMEOFFSET, "yesterday") == (None, True)


@pytest.mark.parametrize("placeholder", [None, "", "0", "18991229", "18991230", "99991231"])
def test_yyyymmdd_placeholders_mean_no_date(placeholder):
    assert parse(Kind.YYYYMMDD, placeholder) == (None, False)


@pytest.mark.parametrize("value", ["20261341", "2026111", "2026-11-01", "x"])
def test_impossible_or_malformed_dates_are_unreadable(value):
    assert parse(Kind.YYYYMMDD, value) == (None, True)


def test_yyyymmdd_parses():
    assert parse(Kind.YYYYMMDD, "20261127") == (dt.date(2026, 11, 27), False)


def test_json_arrays_become_lists_and_malformed_ones_are_unreadable():
    assert parse(Kind.JSON_ARRAY, '["beginner","intermediate"]') == (
        ["beginner", "intermediate"],
        False,
    )
    assert parse(Kind.JSON_ARRAY, "[]") == ([], False)
    assert parse(Kind.JSON_ARRAY, '["beginner",') == (None, True)
    assert parse(Kind.JSON_ARRAY, '{"a": 1}') == (None, True)


def test_guids_are_normalized_to_lowercase_and_ints_must_be_integers():
    assert parse(Kind.GUID, " ABCDEF01-0000-0000-0000-000000000000 ")[0] == (
        "abcdef01-0000-0000-0000-000000000000"
    )
    assert parse(Kind.INT, "200") == (200, False)
    assert parse(Kind.INT, "two hundred") == (None, True)


def test_entra_locale_datetime_and_boolean():
    assert parse(Kind.LOCALE_DATETIME, "8/19/2021 1:25:31 PM")[0] == dt.datetime(
        2021, 8, 19, 13, 25, 31, tzinfo=UTC
    )
    assert parse(Kind.BOOLEAN, "False") == (False, False)
    assert parse(Kind.BOOLEAN, "maybe") == (None, True)


@pytest.mark.parametrize(
    "value",
    [
        "0a1b2c3d-4e5f-6789-abcd-ef0123456789",
        "0A1B2C3D-4E5F-6789-ABCD-EF0123456789",
        "{0a1b2c3d-4e5f-6789-abcd-ef0123456789}",
        "0a1b2c3d4e5f6789abcdef0123456789",
        "0a1b2c3d-4e5f-6789-abcd-ef012345678g",
        "0a1b2c3-d4e5f-6789-abcd-ef0123456789",
        "0a1b2c3d-4e5f-6789-abcd-ef0123456789 ",
        "0a1b2c3d-4e5f-6789-abcd-ef012345678\n",
        "{a1b2c3d-4e5f-6789-abcd-ef012345678}",
        "0a1b2c3d-4e5f-6789-abcd-ef012345678é",
        "not-a-guid",
        "",
    ],
)
def test_fast_guid_predicate_agrees_with_the_contract_pattern(value):
    with duckdb.connect() as conn:
        fast, regex = conn.execute(
            f"SELECT {is_guid('v')}, regexp_matches(v, ?) FROM (SELECT ?::VARCHAR AS v)",
            [GUID_PATTERN, value],
        ).fetchone()
    assert fast == regex


@pytest.mark.parametrize("dataset", [*DATASETS, ENTRA], ids=lambda d: d.name)
def test_every_date_timestamp_and_number_has_its_range_in_the_contract(dataset):
    reasons = {r.reason for r in compile_contract(dataset.contract).rules}
    for name, column in dataset.contract.columns.items():
        kind = column.kind
        if kind in RANGED_KINDS:
            below, above = ("before", "after") if kind is not Kind.INT else ("below", "above")
            low = [r for r in reasons if r.startswith(f"{name}: {below} ")]
            high = [r for r in reasons if r.startswith(f"{name}: {above} ")]
            assert len(low) == len(high) == 1, name


def test_range_rules_name_the_end_passed():
    progress = compile_contract(next(d for d in DATASETS if d.name == "Progress").contract)
    certifications = compile_contract(
        next(d for d in DATASETS if d.name == "Certifications").contract
    )
    reasons = {r.reason for r in progress.rules + certifications.rules}
    assert {
        "xp: below 0",
        "xp: above 1000000",
        "awarded_on: before 1900-01-01",
        "awarded_on: after 2999-12-31",
        "certification_end_date: before 1900-01-01",
        "certification_end_date: after 9999-12-31",
    } <= reasons
    assert (XP.low, XP.high, DATES.low, DATES.high) == (
        0,
        1_000_000,
        dt.date(1900, 1, 1),
        dt.date(9999, 12, 31),
    )


def test_range_ends_become_typed_sql_literals():
    with duckdb.connect() as conn:
        conn.execute("SET TimeZone = 'UTC'")
        values = conn.execute(
            "SELECT "
            + ", ".join(
                bound_literal(v) for v in (XP.high, DATES.low, TIMESTAMPS.low, TIMESTAMPS.high)
            )
        ).fetchone()
    assert values == (
        1_000_000,
        dt.date(1900, 1, 1),
        dt.datetime(1900, 1, 1, tzinfo=UTC),
        dt.datetime(2999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    )
    assert bound_text(TIMESTAMPS.high) == "2999-12-31"
    assert bound_text(dt.datetime(2026, 1, 1, 12, tzinfo=UTC)) == "2026-01-01T12:00:00+00:00"
    for wrong in (True, 1.5, "1", dt.datetime(2026, 1, 1)):
        with pytest.raises(ValueError, match="range end"):
            bound_literal(wrong)


def test_a_number_date_or_timestamp_column_without_a_range_is_refused():
    with pytest.raises(ValueError, match="XP: a int column needs a valid range"):
        col("XP", Kind.INT)
    with pytest.raises(ValueError, match=r"title: Range\(low=0, high=1000000\) is not a rule for"):
        col("title", Kind.TEXT, XP)
    with pytest.raises(ValueError, match="is not a rule for a yyyymmdd column"):
        col("AwardedOn", Kind.YYYYMMDD, TIMESTAMPS)  # instants, not dates
    # The kind's own range, unless the column states one.
    assert col("AwardedOn", Kind.DATETIMEOFFSET).rules == (
        PARSERS[Kind.DATETIMEOFFSET],
        TIMESTAMPS,
    )
    assert col("XP", Kind.INT, XP).rules == (PARSERS[Kind.INT], XP)


@pytest.mark.parametrize(
    ("value", "utc"),
    [
        ("9999-12-31T23:59:59-05:00", "10000-01-01 04:59:59+00"),
        ("0001-01-01T00:00:00+01:00", "0001-12-31 (BC) 23:00:00+00"),
    ],
)
def test_out_of_range_timestamps_are_read_then_judged_by_the_range(value, utc):
    """DuckDB reads instants Python cannot hold; the range rule, not the parser, rejects them."""
    with duckdb.connect() as conn:
        conn.execute("SET TimeZone = 'UTC'")
        sql = typed_and_unreadable(Kind.DATETIMEOFFSET, "SELECT ?::VARCHAR AS v")
        text, bad = conn.execute(
            f"SELECT t::VARCHAR, * EXCLUDE (t) FROM ({sql})", [value]
        ).fetchone()
    assert (text, bad) == (utc, False)


def test_blank_means_what_duckdb_trims():
    """Required's pandas check strips SPACES; the SQL trims: the same characters."""
    with duckdb.connect() as conn:
        (trimmed,) = conn.execute(
            "SELECT list(i ORDER BY i) FROM range(1, 1114112) r(i) "
            "WHERE (i < 55296 OR i > 57343) AND trim(chr(i::INTEGER)) = ''"
        ).fetchone()
    assert "".join(map(chr, trimmed)) == SPACES
