"""The rule vocabulary is closed: a contract stating anything else fails when it is imported, and
a contract's pandera schema has the checks its rules generate, and no others."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandera.pandas as pa
import pytest

from learn_assets.contracts.datasets import DATASETS, DATASETS_BY_NAME, ENTRA
from learn_assets.contracts.kinds import Kind
from learn_assets.contracts.rules import VOCABULARY, MaxLength, NotAfter, OneOf, Range, Required
from learn_assets.contracts.schemas import col, contract
from learn_assets.contracts.sql import compile_contract

# A module declaring a contract the way schemas.py does, with one rule that is not in the
# vocabulary: a subclass of a vocabulary rule (its own pandas meaning, no SQL of its own).
WITH_UNKNOWN_RULE = """
from learn_assets.contracts.kinds import Kind
from learn_assets.contracts.rules import OneOf
from learn_assets.contracts.schemas import col, contract


class CaseInsensitiveOneOf(OneOf):
    def checks(self, kind):
        return ()


CONTRACT = contract(
    "Example", "a contract", {"level": col("level", Kind.TEXT, CaseInsensitiveOneOf("beginner"))}
)
"""


def import_module(path: Path, source: str) -> None:
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec and spec.loader
    try:
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
    finally:
        sys.modules.pop(path.stem, None)


def test_a_contract_using_a_rule_outside_the_vocabulary_fails_at_import(tmp_path):
    with pytest.raises(TypeError, match=r"level: CaseInsensitiveOneOf\(.*\) is not a rule of"):
        import_module(tmp_path / "example_contracts.py", WITH_UNKNOWN_RULE)


def test_pandera_checks_cannot_stand_in_for_rules():
    with pytest.raises(TypeError, match="title: <Check str_length.*not a rule of the vocabulary"):
        col("title", Kind.TEXT, pa.Check.str_length(max_value=10))
    with pytest.raises(TypeError, match="Example: <Check.*not a rule of the vocabulary"):
        contract(
            "Example",
            "a contract",
            {"a": col("a", Kind.TEXT)},
            rules=(pa.Check(lambda df: df["a"].notna()),),
        )
    with pytest.raises(TypeError, match="unexpected keyword argument 'checks'"):
        contract("Example", "a contract", {"a": col("a", Kind.TEXT)}, checks=[])


def test_rules_are_refused_where_they_do_not_apply():
    with pytest.raises(ValueError, match=r"xp: OneOf\(values=\('1',\)\) is not a rule for a int"):
        col("xp", Kind.INT, OneOf("1"))
    with pytest.raises(ValueError, match="title: two MaxLength rules"):
        col("title", Kind.TEXT, MaxLength(3), MaxLength(4))
    with pytest.raises(ValueError, match="not a rule over columns of one kind"):
        contract(
            "Example",
            "a contract",
            {"a": col("a", Kind.TEXT), "b": col("b", Kind.BOOLEAN)},
            rules=(NotAfter("a", "b"),),
        )
    with pytest.raises(ValueError, match="not a rule over columns of one kind"):
        contract("Example", "a contract", {"a": col("a", Kind.TEXT)}, rules=(NotAfter("a", "z"),))
    with pytest.raises(ValueError, match="the allowed values are texts"):
        OneOf()


def test_the_pandera_schema_is_generated_from_the_rules_alone():
    with pytest.raises(TypeError, match="x: <Schema Column.*declare contract columns with `col`"):
        contract("Example", "a contract", {"x": pa.Column(int, pa.Check.lt(3))})
    rules = (NotAfter("start", "end"),)
    declared = contract(
        "Example",
        "a contract",
        {
            "x": col("x", Kind.TEXT, Required(), MaxLength(3)),
            "y": col("y", Kind.INT, Range(0, 9)),
            "start": col("start", Kind.YYYYMMDD),
            "end": col("end", Kind.YYYYMMDD),
        },
        unique=["x"],
        rules=rules,
    )
    schema = declared.pandera
    assert schema is declared.pandera  # generated once
    for name, column in declared.columns.items():
        generated = [c for rule in column.rules for c in rule.checks(column.kind)]
        got = schema.columns[name]
        assert [(c.name, c.error, c.statistics) for c in got.checks] == [
            (c.name, c.error, c.statistics) for c in generated
        ]
        assert got.nullable == column.nullable == (name != "x")
    assert [c.error for c in schema.checks] == ["start after end"]
    assert (schema.name, schema.unique, schema.strict, schema.ordered, schema.coerce) == (
        "Example",
        ["x"],
        True,
        True,
        True,
    )
    assert compile_contract(declared).key == ("x",)


def test_every_contract_uses_the_vocabulary_only():
    for dataset in (*DATASETS, ENTRA):
        for column in dataset.contract.columns.values():
            assert {type(r) for r in column.rules} <= set(VOCABULARY)
    certifications = DATASETS_BY_NAME["Certifications"].contract
    assert certifications.rules == (NotAfter("certification_start_date", "certification_end_date"),)
