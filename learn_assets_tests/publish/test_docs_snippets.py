"""Every Python and SQL snippet of docs/serving.md runs, as written, against a published tenant."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from learn_assets.publish.lake import lake_for, publish_lake
from learn_assets.publish.serving import build_serving_database
from learn_assets_tests.helpers import run_snapshots
from learn_assets_tests.reports.tenant import D1, D2, write_tenant

PAGE = Path(__file__).resolve().parents[2] / "docs" / "serving.md"

pytestmark = pytest.mark.slow  # the snippets read a published tenant built by a whole run


def snippets(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", PAGE.read_text(), re.S)


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    """A folder laid out like the project's: data/lake and data/serving.duckdb."""
    root = tmp_path_factory.mktemp("docs")
    write_tenant(root / "landing")
    data = root / "data"
    with duckdb.connect(str(root / "warehouse.duckdb")) as conn:
        run_snapshots(conn, root / "landing", [D1, D2])
        publish_lake(conn, lake_for(str(data / "lake"), {}), [], privacy=False)
        build_serving_database(conn, data / "serving.duckdb", privacy=False)
    return root


@pytest.mark.parametrize("code", snippets("python"))
def test_python_snippets_run(published, code):
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=published, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()


@pytest.mark.parametrize("sql", snippets("sql"))
def test_sql_snippets_run(published, sql):
    with duckdb.connect(str(published / "data" / "serving.duckdb"), read_only=True) as conn:
        conn.execute(sql).fetchall()


def test_the_page_has_snippets():
    assert len(snippets("python")) >= 3 and len(snippets("sql")) >= 2
