"""Charts: valid, repeatable PNGs; an explicit panel instead of a crash when there is no data."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import duckdb
import matplotlib.image
import numpy as np
import pyarrow as pa

from learn_assets.exports import charts
from learn_assets.exports.files import CHARTS_DIR, ExportResult
from learn_assets.exports.tables import REPORTS, read_reports
from learn_assets_tests.exports.conftest import D2

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def pixels(png: bytes) -> np.ndarray:
    assert png.startswith(PNG_SIGNATURE)
    return matplotlib.image.imread(io.BytesIO(png), format="png")


def test_every_chart_is_a_drawn_png_file(exported: ExportResult):
    assert list(exported.charts) == list(charts.CHART_TITLES)
    for name, png in exported.charts.items():
        assert (exported.folder / CHARTS_DIR / f"{name}.png").read_bytes() == png
        image = pixels(png)
        assert image.shape[1] == charts.WIDTH * charts.DPI, name
        assert image.std() > 0.05, name  # not a blank canvas


def test_charts_are_byte_for_byte_repeatable(exported: ExportResult, reports_db: Path):
    with duckdb.connect(str(reports_db), read_only=True) as conn:
        tables = read_reports(conn, D2)
    assert charts.render_charts(tables, D2) == exported.charts


def test_no_data_draws_a_panel_for_every_chart():
    empty = {name: pa.table({}) for name in REPORTS}  # no rows at all
    for tables in ({}, empty):
        drawn = charts.render_charts(tables, D2)
        assert list(drawn) == list(charts.CHART_TITLES)
        for png in drawn.values():
            image = pixels(png)
            assert image.shape[0] == 2.5 * charts.DPI  # the short "No data" panel


def test_rows_without_anything_to_plot_are_no_data_too():
    nothing = [{"completions": 0, "learners_started": 3, "title": "t", "content_uid": "u"}]
    assert pixels(charts.top_content(nothing)).shape[0] == 250
    funnel = [{"modules_started": 0, "modules_completed": 0, "learning_paths_completed": 0}]
    assert pixels(charts.learning_funnel(funnel)).shape[0] == 250
    later = [{"activity_date": D2 + dt.timedelta(days=1), "active_learners": 1, "xp": 5}]
    assert pixels(charts.activity_trend(later, D2)).shape[0] == 250
    undated = [{"expires_on": None, "status": "active"}]
    assert pixels(charts.certification_expiry(undated, D2)).shape[0] == 250


def test_text_from_the_data_is_drawn_literally_not_as_math():
    departments = [
        {
            "department": r"Cost $\frac$ centre",
            "directory_users": 2,
            "learners": 1,
            "adoption_rate": 0.5,
        },
        {"department": "$$", "directory_users": 1, "learners": 1, "adoption_rate": 1.0},
        {"department": None, "directory_users": 1, "learners": 0, "adoption_rate": 0.0},
    ]
    assert pixels(charts.department_adoption(departments)).std() > 0.05


def test_certifications_beyond_the_year_and_expired_ones_are_counted():
    rows = [
        {"expires_on": dt.date(2020, 1, 1), "status": "expired"},
        {"expires_on": D2, "status": "expiring_soon"},
        {"expires_on": dt.date(2031, 1, 1), "status": "active"},
    ]
    assert pixels(charts.certification_expiry(rows, D2)).shape[0] == 420
