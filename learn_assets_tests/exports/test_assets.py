"""The export asset in a real Dagster run over a warehouse built by the whole pipeline."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from learn_assets.exports.charts import CHART_TITLES
from learn_assets.exports.files import PAGE, WORKBOOK
from learn_assets.exports.tables import REPORTS
from learn_assets.generator import generate_sample
from learn_assets.resources import ExportSettings, resources_from_env
from learn_assets.runs import materialize_snapshots
from learn_assets_tests.exports.conftest import D1, SCHEMA, build_reports

pytestmark = pytest.mark.slow  # whole pipeline runs: `make test-fast` leaves them out

KEY = dg.AssetKey(["exports", "snapshot_files"])


def columns(conn: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in conn.execute(f"DESCRIBE reports.{table}").fetchall()]


def test_exports_are_configured_from_the_environment():
    assert resources_from_env({})["exports"].exports_dir == "data/exports"
    assert resources_from_env({})["exports"].xlsx_max_rows == 100_000
    assert resources_from_env({})["exports"].html_max_learners == 5_000
    configured = resources_from_env(
        {
            "LEARN_EXPORTS_DIR": "/srv/exports",
            "LEARN_XLSX_MAX_ROWS": "500",
            "LEARN_HTML_MAX_LEARNERS": "20",
        }
    )["exports"]
    assert configured.exports_dir == "/srv/exports"
    assert configured.xlsx_max_rows == 500
    assert configured.html_max_learners == 20


def test_pipeline_run_writes_the_exports_of_every_snapshot(tmp_path, resources):
    sample = generate_sample(tmp_path / "landing", users=60, days=2, start=D1, seed=2)
    first, last = sample.snapshots[0], sample.snapshots[-1]
    exports = ExportSettings(exports_dir=str(tmp_path / "exports"), xlsx_max_rows=20)
    results = materialize_snapshots(
        first, last, resources | {"exports": exports}, instance=dg.DagsterInstance.ephemeral()
    )

    folder = tmp_path / "exports" / last.isoformat()
    expected = {f"{n}.{ext}" for n in REPORTS for ext in ("csv", "parquet")}
    expected |= {WORKBOOK, PAGE} | {f"charts/{n}.png" for n in CHART_TITLES}
    written = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    assert written == expected
    assert (tmp_path / "exports" / first.isoformat() / PAGE).is_file()

    events = [e for e in results[-1].get_asset_materialization_events() if e.asset_key == KEY]
    assert sorted(e.partition for e in events) == [first.isoformat(), last.isoformat()]
    metadata = events[-1].materialization.metadata
    assert metadata["folder"].value == str(folder)
    assert set(metadata["files"].value) == expected
    assert metadata["rows"].value["org_overview"] == 1
    assert metadata["rows"].value["learner_summary"] > 20
    # Sheets are cut at xlsx_max_rows; the CSV and Parquet files keep every row.
    left_out = metadata["xlsx rows left out"].value
    assert left_out["learner_summary"] == metadata["rows"].value["learner_summary"] - 20
    assert "org_overview" not in left_out
    charts = metadata["charts"].value
    assert charts.count("](data:image/png;base64,") == len(CHART_TITLES)
    # A clean delivery: nothing quarantined, no check warned, and the readers are told so.
    with duckdb.connect(resources["warehouse"].database, read_only=True) as conn:
        delivered = conn.execute(
            "SELECT (SELECT sum(row_count) FROM raw._snapshots WHERE snapshot_date = ?) "
            "+ (SELECT count(*) FROM raw.entra_users)",
            [last],
        ).fetchone()[0]
    assert metadata["data quality"].value == (
        f"- Rows quarantined: none of the {delivered:,} rows delivered.\n"
        "- Checks that warned: none."
    )
    assert f"<p>Rows quarantined: none of the {delivered:,} rows delivered.</p>" in (
        folder / PAGE
    ).read_text(encoding="utf-8")

    # The hand-built schema of the other tests has the real reports' columns and types.
    with duckdb.connect(resources["warehouse"].database, read_only=True) as real:
        hand = build_reports(tmp_path / "hand.duckdb")
        with duckdb.connect(str(hand), read_only=True) as tiny:
            for name in SCHEMA:
                assert columns(tiny, name) == columns(real, name), name
