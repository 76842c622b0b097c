"""Charts: valid, repeatable PNGs; an explicit panel instead of a crash when there is no data."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import matplotlib
import matplotlib.image
import numpy as np
import pyarrow as pa
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from learn_assets.exports import charts
from learn_assets.exports.files import CHARTS_DIR, ExportResult, export_snapshot
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


def drawn(draw: Callable[..., bytes], *args: Any) -> Axes:
    """The axes the chart function `draw` fills for `args`: its figure, drawn in the house style,
    checked to be the PNG the chart function returns."""
    with matplotlib.rc_context(charts.STYLE):
        figure = draw.__wrapped__(*args)
        assert charts._png(figure, charts.input_key(draw.__name__, args, {})) == draw(*args)
    (ax,) = figure.axes
    return ax


def bars(ax: Axes, vertical: bool = True) -> dict[str, dict[str, int | float]]:
    """{series (legend label): {tick label: bar length}} of a bar chart, bars of length 0 left
    out; a series without a label is called ''."""
    ticks = [t.get_text() for t in (ax.get_xticklabels() if vertical else ax.get_yticklabels())]
    found: dict[str, dict[str, int | float]] = {}
    for container in ax.containers:
        lengths = [p.get_height() if vertical else p.get_width() for p in container.patches]
        label = container.get_label()
        series = "" if label.startswith("_") else label
        found[series] = {t: n.item() for t, n in zip(ticks, lengths, strict=True) if n}
    return found


def fixture_rows(reports_db: Path, report: str) -> list[dict[str, Any]]:
    with duckdb.connect(str(reports_db), read_only=True) as conn:
        return read_reports(conn, D2)[report].to_pylist()


def test_expiry_timeline_counts_every_certification_in_its_bucket(
    exported: ExportResult, reports_db: Path
):
    rows = fixture_rows(reports_db, "certification_status")
    assert charts.certification_expiry(rows, D2) == exported.charts["certification_expiry"]
    ax = drawn(charts.certification_expiry, rows, D2)
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "Expired",
        *(f"{dt.date(2026 + (10 + i) // 12, (10 + i) % 12 + 1, 1):%b %Y}" for i in range(12)),
        "Later",
        "No expiry",
    ]  # the year ahead from the snapshot's month, Nov 2026 to Oct 2027
    # By hand from the fixture's four certifications of D2: U2's az-900 ended 2026-10-01 (before
    # the snapshot), U1's az-104 ends 2026-12-15 (within the expiry window), U2's ai-102 ends
    # 2027-06-30, U4's sc-900 has no end date: counted in its own labelled bar, not in "Later".
    assert bars(ax) == {
        "Expired": {"Expired": 1},
        "Expiring soon": {"Dec 2026": 1},
        "Active": {"Jun 2027": 1, "No expiry": 1},
    }
    totals = {ax.get_xticklabels()[int(t.xy[0])].get_text(): t.get_text() for t in ax.texts}
    assert totals == {"Expired": "1", "Dec 2026": "1", "Jun 2027": "1", "No expiry": "1"}


def test_expiry_buckets_later_and_never_expiring_apart():
    rows = [
        {"expires_on": dt.date(2020, 1, 1), "status": "expired"},
        {"expires_on": D2, "status": "expiring_soon"},  # ends on the snapshot day: not expired
        {"expires_on": dt.date(2027, 10, 31), "status": "active"},  # the last month shown
        {"expires_on": dt.date(2027, 11, 1), "status": "active"},  # the month after: Later
        {"expires_on": dt.date(2031, 1, 1), "status": "active"},
        {"expires_on": None, "status": "active"},
        {"expires_on": None, "status": "active"},
    ]
    assert bars(drawn(charts.certification_expiry, rows, D2)) == {
        "Expired": {"Expired": 1},
        "Expiring soon": {"Nov 2026": 1},
        "Active": {"Oct 2027": 1, "Later": 2, charts.NO_EXPIRY: 2},
    }
    assert charts.NO_EXPIRY == "No expiry"


def test_tag_charts_draw_started_and_completed_per_tag(exported: ExportResult, reports_db: Path):
    tags = fixture_rows(reports_db, "catalog_tag_progress")
    for name in ("completion_by_product", "completion_by_role", "completions_by_level"):
        assert getattr(charts, name)(tags) == exported.charts[name]
    # D2's rows by hand: products azure (2 started, 1 completed) and +plus (1, 0), the role
    # developer (2, 1), the level beginner (2, 1); the subject is not charted.
    product = drawn(charts.completion_by_product, tags)
    assert product.get_title(loc="left") == "Module completion by product"
    assert bars(product, vertical=False) == {
        "Started": {"+plus": 1, "azure": 2},  # bottom to top: most started on top
        "Completed": {"azure": 1},
    }
    assert [t.get_text() for t in product.texts] == ["0 of 1 (0%)", "1 of 2 (50%)"]
    role = drawn(charts.completion_by_role, tags)
    assert bars(role, vertical=False) == {
        "Started": {"developer": 2},
        "Completed": {"developer": 1},
    }
    level = drawn(charts.completions_by_level, tags)
    assert level.get_title(loc="left") == "Modules completed by level (share of 1)"
    assert [(c.get_label(), [p.get_width() for p in c.patches]) for c in level.containers] == [
        ("beginner: 1 (100%)", [1.0])
    ]


def test_level_shares_add_up_to_one_bar():
    tags = [
        {"tag_kind": "level", "tag": "beginner", "modules_started": 9, "modules_completed": 6},
        {"tag_kind": "level", "tag": "advanced", "modules_started": 5, "modules_completed": 1},
        {"tag_kind": "level", "tag": "intermediate", "modules_started": 5, "modules_completed": 3},
        {"tag_kind": "level", "tag": "expert", "modules_started": 1, "modules_completed": 0},
        {"tag_kind": "product", "tag": "azure", "modules_started": 9, "modules_completed": 9},
    ]
    level = drawn(charts.completions_by_level, tags)
    assert level.get_title(loc="left") == "Modules completed by level (share of 10)"
    assert [
        (c.get_label(), round(c.patches[0].get_x(), 9), round(c.patches[0].get_width(), 9))
        for c in level.containers
    ] == [  # most completed first, each bar starting where the last ended
        ("beginner: 6 (60%)", 0.0, 0.6),
        ("intermediate: 3 (30%)", 0.6, 0.3),
        ("advanced: 1 (10%)", 0.9, 0.1),
    ]


def test_funnel_and_path_progress_draw_the_reports_numbers(
    exported: ExportResult, reports_db: Path
):
    overview = fixture_rows(reports_db, "org_overview")
    funnel = drawn(charts.learning_funnel, overview)
    assert bars(funnel, vertical=False) == {
        "": {"Learning paths completed": 1, "Modules completed": 7, "Modules started": 10}
    }
    assert [t.get_text() for t in funnel.texts] == ["1", "7  (70% of started)", "10"]
    with duckdb.connect(str(reports_db), read_only=True) as conn:
        paths = read_reports(conn, D2)["learning_path_progress"]
    counts = charts.path_progress_counts(paths)
    assert counts == [0, 0, 1, 0, 0]  # U1: 1 of lp-1's 2 modules
    assert charts.path_progress(counts) == exported.charts["path_progress"]
    assert bars(drawn(charts.path_progress, counts)) == {"": {"50–74%": 1}}


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


def d2_tables(reports_db: Path) -> dict[str, pa.Table]:
    with duckdb.connect(str(reports_db), read_only=True) as conn:
        return read_reports(conn, D2)


def count_draws(monkeypatch: pytest.MonkeyPatch) -> list[Figure]:
    """The figures drawn from now on (each `Figure.draw` call), in order."""
    draws: list[Figure] = []
    draw = Figure.draw

    def counted(figure: Figure, renderer: Any) -> None:
        draws.append(figure)
        draw(figure, renderer)

    monkeypatch.setattr(Figure, "draw", counted)
    return draws


def test_each_chart_is_laid_out_as_constrained_layout_would_and_drawn_once(
    reports_db: Path, monkeypatch: pytest.MonkeyPatch
):
    inputs = charts.chart_inputs(d2_tables(reports_db), D2)
    assert list(inputs) == list(charts.CHART_TITLES)
    for name, (render, args) in inputs.items():
        with matplotlib.rc_context(charts.STYLE):  # as savefig lays out a constrained figure
            figure = render.__wrapped__(*args)
            figure.set_layout_engine("constrained")
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", dpi=charts.DPI)
        draws = count_draws(monkeypatch)
        png = render(*args)
        monkeypatch.undo()
        assert len(draws) == 1, name  # savefig of a constrained figure draws it twice
        assert np.array_equal(pixels(png), pixels(buffer.getvalue())), name


def test_a_chart_drawn_from_the_same_input_is_reused_not_drawn(
    reports_db: Path, monkeypatch: pytest.MonkeyPatch
):
    overview = fixture_rows(reports_db, "org_overview")
    png = charts.learning_funnel(overview)
    assert charts.png_text(png, charts.INPUT_KEY) == charts.input_key(
        "learning_funnel", (overview,), {}
    )
    draws = count_draws(monkeypatch)
    assert charts.learning_funnel(overview, reuse=png) is png
    assert draws == []
    changed = [overview[0] | {"modules_started": overview[0]["modules_started"] + 1}]
    redrawn = charts.learning_funnel(changed, reuse=png)
    assert redrawn == charts.learning_funnel(changed) != png
    assert charts.learning_funnel(overview, reuse=b"not a png") == png  # unreadable: drawn
    monkeypatch.setattr(charts, "drawing_version", lambda: "other code")
    assert charts.learning_funnel(overview, reuse=png) != png  # other code: drawn again
    assert len(draws) == 4


def test_a_rerun_draws_and_writes_only_the_charts_whose_input_changed(
    reports_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    def chart_files(result: ExportResult) -> dict[str, tuple[int, int]]:
        found = {}
        for name in result.charts:
            stat = (result.folder / CHARTS_DIR / f"{name}.png").stat()
            found[name] = (stat.st_ino, stat.st_mtime_ns)
        return found

    with duckdb.connect(str(reports_db)) as conn:
        first = export_snapshot(conn, D2, tmp_path / "out")
        assert first.charts_drawn == list(first.charts) == list(charts.CHART_TITLES)
        written = chart_files(first)
        draws = count_draws(monkeypatch)  # this process's draws (not the chart worker's)
        second = export_snapshot(conn, D2, tmp_path / "out")
        assert second.charts_drawn == []  # the same input: no chart drawn
        assert second.charts == first.charts and chart_files(second) == written
        conn.execute("UPDATE reports.org_overview SET modules_started = modules_started + 1")
        third = export_snapshot(conn, D2, tmp_path / "out")
        # The funnel, the only chart drawn from org_overview, drawn by the worker.
        assert third.charts_drawn == ["learning_funnel"] and draws == []
        fresh = charts.render_charts(read_reports(conn, D2), D2)
    assert third.charts == fresh  # what drawing every chart again gives
    assert third.charts["learning_funnel"] != first.charts["learning_funnel"]
    rewritten = {n for n, f in chart_files(third).items() if f != written[n]}
    assert rewritten == {"learning_funnel"}
    for name, png in third.charts.items():
        assert (third.folder / CHARTS_DIR / f"{name}.png").read_bytes() == png


def test_png_text_reads_the_chunk_before_the_image_data():
    png = charts.path_progress([1, 0, 0, 0, 2])
    assert charts.png_text(png, charts.INPUT_KEY) == charts.input_key(
        "path_progress", ([1, 0, 0, 0, 2],), {}
    )
    assert charts.png_text(png, "Software") is None  # no matplotlib version in the file
    assert charts.png_text(b"not a png", charts.INPUT_KEY) is None
    assert charts.png_text(png[:40], charts.INPUT_KEY) is None  # cut short: no error
