"""The documented columns (learn_assets/columns.py) are the warehouse's, docs/report-columns.md is
the page they generate, and every core and report asset shows them in the UI with its owner."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import duckdb
import pytest

from learn_assets.columns import (
    COLUMNS_END,
    COLUMNS_START,
    CORE_COLUMNS,
    HEADERS,
    REPORT_COLUMNS,
    columns_markdown,
    header,
)
from learn_assets.core.build import CORE_TABLES
from learn_assets.docs import GENERATED
from learn_assets.graph import ASSETS, owned_by
from learn_assets.reports.build import REPORT_TABLES
from learn_assets.settings import SettingError, Settings
from learn_assets_tests.helpers import run_snapshots
from learn_assets_tests.reports.tenant import D1, D2, write_tenant


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-built tenant through raw, staged, core and reports."""
    tmp = tmp_path_factory.mktemp("columns")
    write_tenant(tmp / "landing")
    with duckdb.connect(str(tmp / "w.duckdb")) as conn:
        run_snapshots(conn, tmp / "landing", [D1, D2])
    return tmp / "w.duckdb"


def described(database: Path, relation: str) -> list[tuple[str, str]]:
    with duckdb.connect(str(database), read_only=True) as conn:
        return [(r[0], r[1]) for r in conn.execute(f"DESCRIBE {relation}").fetchall()]


def test_every_report_and_core_table_is_documented_in_order():
    assert list(REPORT_COLUMNS) == [r.name for r in REPORT_TABLES]
    assert list(CORE_COLUMNS) == [t.name for t in CORE_TABLES]


def test_documented_names_and_types_are_the_warehouses(warehouse: Path):
    for name, columns in REPORT_COLUMNS.items():
        assert [(c.name, c.type) for c in columns] == described(warehouse, f"reports.{name}")
    for name, columns in CORE_COLUMNS.items():
        assert [(c.name, c.type) for c in columns] == described(warehouse, f"core.{name}")


def test_every_column_has_a_description_and_report_columns_a_friendly_header():
    for columns in (*REPORT_COLUMNS.values(), *CORE_COLUMNS.values()):
        assert all(c.description.strip() for c in columns)
    for name, columns in REPORT_COLUMNS.items():
        assert {c.name for c in columns} <= set(HEADERS), name
        # one sheet, one Excel Table: headers unique, also with the workbook's Learner column
        headers = [header(c.name) for c in columns] + [header("learner")]
        assert len({h.lower() for h in headers}) == len(headers), name
    assert header("learning_paths_completed") == "Learning paths completed"
    assert header("aad_object_id") == "Entra object id"
    assert header("not_listed") == "Not listed"


def test_the_columns_page_is_generated_by_make_docs():
    assert ("docs/report-columns.md", COLUMNS_START, COLUMNS_END, columns_markdown) in GENERATED
    page = columns_markdown()  # test_docs compares it with the page
    assert "### `reports.catalog_tag_progress`" in page and "### `core.content`" in page
    assert (
        "| `learning_paths_completed` | BIGINT | Learning paths completed | Learner-path pairs "
        "completed, of tagged paths. |" in page
    )


def spec_of(key: list[str]) -> dg.AssetSpec:
    return next(spec for a in ASSETS for spec in a.specs if spec.key == dg.AssetKey(key))


def test_core_and_report_assets_show_their_column_schema():
    for layer, documented in (("reports", REPORT_COLUMNS), ("core", CORE_COLUMNS)):
        for name, columns in documented.items():
            schema = spec_of([layer, name]).metadata["dagster/column_schema"]
            assert [(c.name, c.type, c.description) for c in schema.columns] == [
                (c.name, c.type, c.description) for c in columns
            ], name


def test_every_asset_has_the_owner_from_the_environment():
    assert {owner for a in ASSETS for spec in a.specs for owner in spec.owners} == {
        "team:learning-analytics"
    }
    assert Settings.from_env({}).owner == "team:learning-analytics"
    assert Settings.from_env({"LEARN_OWNER": " team:l-and-d "}).owner == "team:l-and-d"
    assert Settings.from_env({"LEARN_OWNER": "ada@contoso.example"}).owner == "ada@contoso.example"
    renamed = owned_by("team:l-and-d", ASSETS[:2])
    assert {o for a in renamed for spec in a.specs for o in spec.owners} == {"team:l-and-d"}


@pytest.mark.parametrize("value", ["learning analytics", "team:", "team: ", "@x", "ada@contoso"])
def test_an_owner_dagster_would_refuse_is_refused_by_name(value: str):
    with pytest.raises(SettingError) as error:
        Settings.from_env({"LEARN_OWNER": value})
    assert str(error.value) == (
        "LEARN_OWNER must be a team name prefixed with 'team:' (team:learning-analytics) or an "
        f"e-mail address, got {value.strip()!r}"
    )
