"""The contract compiler: every contract compiles, and parsing follows the dictionary's quirks."""

import datetime as dt

import duckdb
import pandera.pandas as pa
import pytest

from learn_assets.contracts.datasets import DATASETS, ENTRA
from learn_assets.contracts.kinds import Kind
from learn_assets.contracts.schemas import GUID_PATTERN
from learn_assets.contracts.sql import _unreadable, compile_contract, is_guid, typed_expression

UTC = dt.UTC


@pytest.mark.parametrize("dataset", [*DATASETS, ENTRA], ids=lambda d: d.name)
def test_every_contract_compiles_and_every_rule_names_its_column(dataset):
    compiled = compile_contract(dataset.contract)
    assert list(compiled.types) == list(dataset.contract.columns)
    for rule in compiled.rules:
        assert rule.reason.split(":")[0].split(" ")[0] in dataset.contract.columns


def test_a_check_without_sql_translation_is_refused():
    schema = pa.DataFrameSchema(
        {"x": pa.Column(int, pa.Check.lt(3), metadata={"source": "x", "kind": Kind.INT})}
    )
    with pytest.raises(ValueError, match="'less_than' on x has no SQL translation"):
        compile_contract(schema)


def parse(kind: Kind, value: str | None) -> tuple[object, bool]:
    """(typed value, unreadable?) for one delivered text value."""
    with duckdb.connect() as conn:
        conn.execute("SET TimeZone = 'UTC'")
        typed = typed_expression(kind, "v")
        return conn.execute(
            f"SELECT {typed}, {_unreadable(kind, 'v', typed)} FROM (SELECT ?::VARCHAR AS v)",
            [value],
        ).fetchone()


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


@pytest.mark.parametrize("placeholder", [None, "", "0", "18991229", "18991230"])
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
