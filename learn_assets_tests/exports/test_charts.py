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
    unstarted = [{"tag_kind": "product", "tag": "azure", "modules_started": 0,
                  "modules_completed": 0}]  # fmt: skip
    assert pixels(charts.completion_by_product(unstarted)).shape[0] == 250
    assert pixels(charts.completions_by_level(unstarted)).shape[0] == 250
    assert pixels(charts.path_progress([0, 0, 0, 0, 0])).shape[0] == 250


def test_certifications_that_never_expire_are_counted_and_labelled():
    undated = [{"expires_on": None, "status": "active"}]
    assert pixels(charts.certification_expiry(undated, D2)).shape[0] == 420  # drawn, not empty
    assert charts.expiry_buckets(D2)[-2:] == ["Later", charts.NO_EXPIRY]
    assert [
        charts.expiry_bucket(day, D2)
        for day in (None, dt.date(2026, 11, 1), D2, dt.date(2027, 10, 31), dt.date(2027, 11, 1))
    ] == [charts.NO_EXPIRY, "Expired", "Nov 2026", "Oct 2027", "Later"]


def test_path_progress_is_counted_in_quarters_with_completed_paths_at_100():
    paths = pa.table(
        {
            "completion_ratio": [0.0, 0.24, 0.25, 0.5, 0.74, 0.75, 0.99, 1.0, None, 0.5],
            "completed": [False] * 9 + [True],  # a trophy is 100% whatever the ratio says
        }
    )
    assert charts.path_progress_counts(paths) == [3, 1, 2, 2, 2]  # None: size unknown, 0%
    assert charts.path_progress_counts(None) == [0] * 5


def test_tag_charts_show_the_tags_with_most_modules_started():
    tags = [
        {"tag_kind": kind, "tag": f"{kind}-{i}", "modules_started": 10 + i, "modules_completed": i}
        for kind in ("product", "role", "level")
        for i in range(20)
    ]
    shown = {"product": charts.completion_by_product, "role": charts.completion_by_role}
    for draw in shown.values():  # 12 bars of the 20 tags
        assert pixels(draw(tags)).shape[0] == round((1.3 + 0.42 * charts.TOP_TAGS) * charts.DPI)
    assert pixels(charts.completions_by_level(tags)).shape[0] == 240


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
