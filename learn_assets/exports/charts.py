"""PNG charts of one snapshot, drawn with matplotlib's Agg backend, byte-for-byte repeatable.

Figures are built with `matplotlib.figure.Figure` (no pyplot, so no global state or GUI), fonts
are matplotlib's bundled DejaVu Sans, and the PNG carries no timestamp or version, only the hash
of what it was drawn from (`input_key`): the same data gives the same bytes. Text from the data
(titles, departments) is drawn literally, never parsed as math (`$` is common in names). A chart
without data draws an explicit "No data" panel.

Each chart is laid out once by constrained layout and drawn once (`_png`): a figure that keeps its
layout engine is drawn twice by `savefig` (once with drawing disabled, to lay it out), for the
same pixels. A chart drawn before from the same input by the same code is not drawn again (the
`reuse` argument of every chart function): its PNG names the hash of that input.

`start_charts` draws a snapshot's charts in a worker process (`worker.py`: one per Python
process, started on first use and kept) while the caller writes the other exports: drawing is
pure Python and single-threaded, so on two cores the charts cost no wall time beside the
workbook. The worker draws with the same code, fonts and settings: the bytes `render_charts`
gives.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import logging
import struct
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import PIL
import pyarrow as pa
import pyarrow.compute as pc
from matplotlib import ft2font
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from learn_assets.exports.worker import drop_worker, submit
from learn_assets.fileio import sha256_chunks

Rows = Sequence[Mapping[str, Any]]

TREND_DAYS = 365  # the activity trend shows the year up to the snapshot
TOP_CONTENT = 10
MAX_DEPARTMENTS = 30  # the largest departments, so the chart stays readable
MONTHS_AHEAD = 12
LABEL_CHARS = 55
DPI = 100
WIDTH = 9.0  # inches; 900 px at DPI
BLUE, LIGHT_BLUE, ORANGE, RED, GREY = "#1f4e78", "#5b9bd5", "#ed7d31", "#c00000", "#7f7f7f"
STYLE = {
    "text.parse_math": False,
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
}

# Chart name (file `charts/<name>.png`) -> heading, in page order.
CHART_TITLES = {
    "activity_trend": "Activity trend",
    "learning_funnel": "Learning funnel",
    "completion_by_product": "Module completion by product",
    "completion_by_role": "Module completion by role",
    "completions_by_level": "Modules completed by level",
    "path_progress": "Learning path progress",
    "top_content": "Most completed content",
    "certification_expiry": "Certification expiry timeline",
    "department_adoption": "Adoption by department",
}
TOP_TAGS = 12  # products or roles with the most modules started


PNG_LEVEL = 3  # zlib level: a third less time than the default 6, for files no larger
INPUT_KEY = "learn_assets input"  # the PNG text chunk that holds `input_key`
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _figure(height: float = 4.5) -> Figure:
    figure = Figure(figsize=(WIDTH, height), dpi=DPI)  # laid out by `_png`
    FigureCanvasAgg(figure)
    return figure


def _png(figure: Figure, key: str = "") -> bytes:
    """The figure as PNG: laid out once by constrained layout, then drawn once (a figure with a
    layout engine would be drawn twice by `savefig`); `key` (`input_key`) as a text chunk."""
    ConstrainedLayoutEngine().execute(figure)
    buffer = io.BytesIO()
    # No "Software" (matplotlib version) or date chunks: identical data, identical bytes.
    metadata = {"Software": None} | ({INPUT_KEY: key} if key else {})
    figure.savefig(
        buffer,
        format="png",
        dpi=DPI,
        metadata=metadata,
        pil_kwargs={"compress_level": PNG_LEVEL},
    )
    return buffer.getvalue()


@functools.cache
def drawing_version() -> str:
    """What decides a chart's bytes besides its input: this module's code (it draws with nothing
    else of the project), the rc file in use, and the versions of what draws and encodes it."""
    versions = (
        matplotlib.__version__,
        ft2font.__freetype_version__,
        np.__version__,
        PIL.__version__,
    )
    return sha256_chunks(
        [
            Path(__file__).read_bytes(),
            Path(matplotlib.matplotlib_fname()).read_bytes(),
            " ".join(versions).encode(),
        ]
    )


def _repr_chunks(value: Any) -> Iterator[bytes]:
    """repr(value) in pieces: a list of many rows is never made into one large string."""
    if isinstance(value, list):
        yield b"["
        for item in value:
            yield repr(item).encode() + b", "
        yield b"]"
    else:
        yield repr(value).encode()


def input_key(name: str, args: Sequence[Any], kwargs: Mapping[str, Any]) -> str:
    """SHA-256 of what chart `name` is drawn from: `drawing_version` and its arguments, rows by
    their repr (exact for the numbers, dates, text and None of Arrow's Python values)."""

    def chunks() -> Iterator[bytes]:
        yield f"{drawing_version()} {name}(".encode()
        for value in (*args, *sorted(kwargs.items())):
            yield from _repr_chunks(value)
            yield b"; "
        yield b")"

    return sha256_chunks(chunks())


def png_text(png: bytes, keyword: str) -> str | None:
    """The PNG's text chunk `keyword` (Latin-1), looked for before the image data; None if the
    bytes are no PNG or have no such chunk."""
    if not png.startswith(PNG_SIGNATURE):
        return None
    at, wanted = len(PNG_SIGNATURE), keyword.encode("latin-1") + b"\0"
    while at + 8 <= len(png):
        length, kind = struct.unpack(">I4s", png[at : at + 8])
        data = png[at + 8 : at + 8 + length]
        if kind == b"IDAT":
            return None
        if kind == b"tEXt" and data.startswith(wanted):
            return data[len(wanted) :].decode("latin-1")
        at += length + 12  # length, type, data, CRC
    return None


def _label(text: str | None, fallback: str) -> str:
    text = (text or fallback).replace("\n", " ").strip() or fallback
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


def _thousands(value: float, _pos: int | None = None) -> str:
    return f"{value:,.0f}"


def drawn_from(png: bytes | None, key: str) -> bool:
    """Whether `png` was drawn from the input whose `input_key` is `key`, by this code."""
    return png is not None and png_text(png, INPUT_KEY) == key


def chart(draw: Callable[..., Figure]) -> Callable[..., bytes]:
    """Turn a drawing function into one that returns the PNG, drawn in the house style. With
    `reuse` (a PNG drawn before), that PNG is returned as it is, not drawn again, when it was
    drawn from the same input by the same code (its `input_key`)."""

    @functools.wraps(draw)
    def render(*args: Any, reuse: bytes | None = None, **kwargs: Any) -> bytes:
        key = input_key(draw.__name__, args, kwargs)
        if drawn_from(reuse, key):
            return reuse  # type: ignore[return-value]
        with matplotlib.rc_context(STYLE), warnings.catch_warnings():
            # A glyph missing from DejaVu Sans (e.g. CJK names) draws as a box: no warning.
            warnings.filterwarnings("ignore", message="Glyph .* missing from")
            return _png(draw(*args, **kwargs), key)

    return render


def no_data_figure(title: str, message: str = "No data") -> Figure:
    figure = _figure(height=2.5)
    ax = figure.subplots()
    ax.set_axis_off()
    ax.set_title(title, loc="left", fontsize=13, fontweight="bold")
    ax.text(
        0.5, 0.5, message, ha="center", va="center", fontsize=16, color=GREY, transform=ax.transAxes
    )
    return figure


@chart
def activity_trend(activity: Rows, snapshot: dt.date) -> Figure:
    """Active learners and XP per day over the year up to the snapshot (quiet days as 0)."""
    title = CHART_TITLES["activity_trend"]
    by_day = {r["activity_date"]: r for r in activity if r["activity_date"] <= snapshot}
    if not by_day:
        return no_data_figure(title, "No learning activity up to this snapshot")
    first = max(min(by_day), snapshot - dt.timedelta(days=TREND_DAYS - 1))
    days = [first + dt.timedelta(days=i) for i in range((snapshot - first).days + 1)]
    learners = [by_day[d]["active_learners"] if d in by_day else 0 for d in days]
    xp = [by_day[d]["xp"] if d in by_day else 0 for d in days]

    figure = _figure(height=5.0)
    top, bottom = figure.subplots(2, 1, sharex=True)
    top.set_title(
        f"{title}, {days[0]} to {days[-1]} (UTC days)", loc="left", fontsize=13, fontweight="bold"
    )
    top.fill_between(days, learners, step="mid", color=LIGHT_BLUE, alpha=0.5, linewidth=0)
    top.step(days, learners, where="mid", color=BLUE, linewidth=1)
    top.set_ylabel("Active learners")
    top.yaxis.set_major_locator(MaxNLocator(integer=True))
    # one filled step area, not 365 bars: the same picture at a third of the drawing time
    bottom.fill_between(days, xp, step="mid", color=ORANGE, linewidth=0)
    bottom.set_ylabel("XP earned")
    bottom.yaxis.set_major_formatter(FuncFormatter(_thousands))
    locator = mdates.AutoDateLocator()
    bottom.xaxis.set_major_locator(locator)
    bottom.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    for ax in (top, bottom):
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", alpha=0.3)
    return figure


@chart
def learning_funnel(overview: Rows) -> Figure:
    """Modules started -> modules completed -> learning paths completed, from org_overview."""
    title = CHART_TITLES["learning_funnel"]
    if not overview:
        return no_data_figure(title, "No overview for this snapshot")
    row = overview[0]
    steps = [
        ("Modules started", row["modules_started"] or 0),
        ("Modules completed", row["modules_completed"] or 0),
        ("Learning paths completed", row["learning_paths_completed"] or 0),
    ]
    if not any(value for _, value in steps):
        return no_data_figure(title, "No module started yet")
    figure = _figure(height=3.2)
    ax = figure.subplots()
    ax.set_title(title, loc="left", fontsize=13, fontweight="bold")
    labels = [label for label, _ in steps][::-1]
    values = [value for _, value in steps][::-1]
    bars = ax.barh(labels, values, color=[ORANGE, BLUE, LIGHT_BLUE], height=0.6)
    started, completed = steps[0][1], steps[1][1]
    notes = [f"{v:,}" for v in values]
    if started:  # the completion rate, as the template defines it
        notes[1] += f"  ({completed / started:.0%} of started)"
    ax.bar_label(bars, notes, padding=4)
    ax.set_xlim(0, max(values) * 1.35)
    ax.xaxis.set_major_formatter(FuncFormatter(_thousands))
    ax.grid(axis="x", alpha=0.3)
    return figure


CONTENT_TYPES = {
    "module": "module",
    "learning_path": "learning path",
    "certification": "certification",
    "applied_skill": "applied skill",
}


@chart
def top_content(popularity: Rows, limit: int = TOP_CONTENT) -> Figure:
    """The `limit` most completed items (modules, paths, certifications, applied skills)."""
    title = CHART_TITLES["top_content"]
    done = [r for r in popularity if (r["completions"] or 0) > 0]
    if not done:
        return no_data_figure(title, "Nothing completed yet")
    done.sort(
        key=lambda r: (
            -r["completions"],
            -(r["learners_started"] or 0),
            r["title"] or "",
            r["content_uid"],
        )
    )
    top = done[:limit]
    labels = [
        f"{_label(r['title'], r['content_uid'])} "
        f"({CONTENT_TYPES.get(r['content_type'], r['content_type'])})"
        for r in top
    ][::-1]
    values = [r["completions"] for r in top][::-1]
    figure = _figure(height=1.2 + 0.38 * len(top))
    ax = figure.subplots()
    ax.set_title(f"{title} (top {len(top)})", loc="left", fontsize=13, fontweight="bold")
    # Tick labels would be de-duplicated by a categorical axis: plot by position instead.
    bars = ax.barh(range(len(top)), values, color=BLUE, height=0.65)
    ax.set_yticks(range(len(top)), labels)
    ax.bar_label(bars, [f"{v:,}" for v in values], padding=3)
    ax.set_xlabel("Learners who completed it")
    ax.set_xlim(0, max(values) * 1.15)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    return figure


def _month(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


NO_EXPIRY = "No expiry"  # certifications that never expire: counted and labelled, not left out


def expiry_buckets(snapshot: dt.date) -> list[str]:
    months = [_add_months(_month(snapshot), i) for i in range(MONTHS_AHEAD)]
    return ["Expired", *(f"{m:%b %Y}" for m in months), "Later", NO_EXPIRY]


def expiry_bucket(expires_on: dt.date | None, snapshot: dt.date) -> str:
    if expires_on is None:
        return NO_EXPIRY
    if expires_on < snapshot:
        return "Expired"
    if _month(expires_on) <= _add_months(_month(snapshot), MONTHS_AHEAD - 1):
        return f"{_month(expires_on):%b %Y}"
    return "Later"


@chart
def certification_expiry(certifications: Rows, snapshot: dt.date) -> Figure:
    """Certifications by expiry month for the year ahead, plus already expired, later and never
    expiring ones, coloured by status (expired, expiring soon within the report window,
    active)."""
    title = CHART_TITLES["certification_expiry"]
    if not certifications:
        return no_data_figure(title, "No certification in this snapshot")
    buckets = expiry_buckets(snapshot)
    counts: Counter[tuple[str, str]] = Counter(
        (expiry_bucket(r["expires_on"], snapshot), r["status"]) for r in certifications
    )

    figure = _figure(height=4.2)
    ax = figure.subplots()
    ax.set_title(f"{title} (as of {snapshot})", loc="left", fontsize=13, fontweight="bold")
    x = range(len(buckets))
    base = [0] * len(buckets)
    for status, label, colour in (
        ("expired", "Expired", RED),
        ("expiring_soon", "Expiring soon", ORANGE),
        ("active", "Active", BLUE),
    ):
        heights = [counts[(b, status)] for b in buckets]
        if any(heights):
            ax.bar(x, heights, bottom=base, color=colour, label=label, width=0.7)
            base = [b + h for b, h in zip(base, heights, strict=True)]
    for i, total in enumerate(base):
        if total:
            ax.annotate(
                f"{total:,}",
                (i, total),
                ha="center",
                va="bottom",
                xytext=(0, 2),
                textcoords="offset points",
            )
    ax.set_xticks(list(x), buckets, rotation=45, ha="right")
    ax.set_ylabel("Certifications")
    ax.set_ylim(0, max(base) * 1.15)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(frameon=False, loc="upper right")
    ax.grid(axis="y", alpha=0.3)
    return figure


def _tagged(tags: Rows, kind: str) -> list[Mapping[str, Any]]:
    return [r for r in tags if r["tag_kind"] == kind and (r["modules_started"] or 0) > 0]


def tag_completion(tags: Rows, kind: str, name: str, limit: int = TOP_TAGS) -> Figure:
    """Modules started and completed per tag of `kind` (the `limit` tags with most started)."""
    title = CHART_TITLES[name]
    rows = _tagged(tags, kind)
    if not rows:
        return no_data_figure(title, f"No module with a {kind} started yet")
    top = sorted(rows, key=lambda r: (-r["modules_started"], r["tag"]))[:limit][::-1]
    figure = _figure(height=1.3 + 0.42 * len(top))
    ax = figure.subplots()
    heading = title if len(top) == len(rows) else f"{title} (top {len(top)} of {len(rows)})"
    ax.set_title(heading, loc="left", fontsize=13, fontweight="bold")
    y = range(len(top))
    started = [r["modules_started"] for r in top]
    completed = [r["modules_completed"] for r in top]
    bars = ax.barh(y, started, color=LIGHT_BLUE, height=0.7, label="Started")
    ax.barh(y, completed, color=BLUE, height=0.7, label="Completed")
    ax.bar_label(  # at the end of the started bar, clear of the completed one
        bars,
        [f"{c:,} of {s:,} ({c / s:.0%})" for c, s in zip(completed, started, strict=True)],
        padding=4,
    )
    ax.set_yticks(list(y), [_label(r["tag"], "?") for r in top])
    ax.set_xlim(0, max(started) * 1.45)
    ax.xaxis.set_major_formatter(FuncFormatter(_thousands))
    ax.set_xlabel("Learner-module pairs (a module with two tags counts under each)")
    ax.legend(frameon=False, loc="lower right")
    return figure


@chart
def completion_by_product(tags: Rows) -> Figure:
    return tag_completion(tags, "product", "completion_by_product")


@chart
def completion_by_role(tags: Rows) -> Figure:
    return tag_completion(tags, "role", "completion_by_role")


LEVEL_COLOURS = (LIGHT_BLUE, BLUE, ORANGE, RED, GREY)


@chart
def completions_by_level(tags: Rows) -> Figure:
    """The share of module completions per level, as one 100% bar."""
    title = CHART_TITLES["completions_by_level"]
    rows = sorted(
        (r for r in tags if r["tag_kind"] == "level" and (r["modules_completed"] or 0) > 0),
        key=lambda r: (-r["modules_completed"], r["tag"]),
    )
    if not rows:
        return no_data_figure(title, "No module completed yet")
    total = sum(r["modules_completed"] for r in rows)
    figure = _figure(height=2.4)
    ax = figure.subplots()
    ax.set_title(f"{title} (share of {total:,})", loc="left", fontsize=13, fontweight="bold")
    left = 0.0
    for i, r in enumerate(rows):
        share = r["modules_completed"] / total
        colour = LEVEL_COLOURS[i % len(LEVEL_COLOURS)]
        label = f"{_label(r['tag'], '?')}: {r['modules_completed']:,} ({share:.0%})"
        ax.barh([0], [share], left=left, color=colour, height=0.6, label=label)
        left += share
    ax.set_xlim(0, 1)
    ax.set_yticks([])
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.25), ncol=3)
    return figure


PATH_BUCKETS = ("0–24%", "25–49%", "50–74%", "75–99%", "100%")


def path_progress_counts(paths: pa.Table | None) -> list[int]:
    """Learner-path pairs per progress bucket (`PATH_BUCKETS`): completed modules / modules of
    the path; a completed path (trophy) is 100%, a path of unknown size 0%. Vectorized: a large
    tenant has millions of pairs."""
    if paths is None or paths.num_rows == 0:
        return [0] * len(PATH_BUCKETS)
    ratio = pc.if_else(
        pc.fill_null(paths["completed"], False),
        1.0,
        pc.fill_null(paths["completion_ratio"], 0.0),
    )
    bucket = pc.min_element_wise(pc.floor(pc.multiply(ratio, 4)), 4)
    found = pc.value_counts(bucket)
    values, counts = found.field("values").to_pylist(), found.field("counts").to_pylist()
    per_bucket = dict(zip(values, counts, strict=True))
    return [per_bucket.get(float(i), 0) for i in range(len(PATH_BUCKETS))]


@chart
def path_progress(counts: Sequence[int]) -> Figure:
    """How far learners are through the learning paths they started."""
    title = CHART_TITLES["path_progress"]
    if not any(counts):
        return no_data_figure(title, "No learning path started yet")
    figure = _figure(height=3.4)
    ax = figure.subplots()
    ax.set_title(
        f"{title} ({sum(counts):,} learner-path pairs)", loc="left", fontsize=13, fontweight="bold"
    )
    colours = [LIGHT_BLUE] * (len(PATH_BUCKETS) - 1) + [BLUE]
    bars = ax.bar(range(len(PATH_BUCKETS)), counts, color=colours, width=0.7)
    ax.bar_label(bars, [f"{c:,}" for c in counts], padding=2)
    ax.set_xticks(range(len(PATH_BUCKETS)), PATH_BUCKETS)
    ax.set_xlabel("Modules of the path completed")
    ax.set_ylim(0, max(counts) * 1.18)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(_thousands))
    ax.grid(axis="y", alpha=0.3)
    return figure


@chart
def department_adoption(departments: Rows, limit: int = MAX_DEPARTMENTS) -> Figure:
    """Adoption rate (learners / directory users) per department, highest first."""
    title = CHART_TITLES["department_adoption"]
    rated = [r for r in departments if r["adoption_rate"] is not None]
    if not rated:
        return no_data_figure(title, "No department in the directory")
    shown = sorted(rated, key=lambda r: (-(r["directory_users"] or 0), r["department"] or ""))
    shown = sorted(shown[:limit], key=lambda r: (-r["adoption_rate"], r["department"] or ""))
    labels = [_label(r["department"], "(no department)") for r in shown][::-1]
    rates = [r["adoption_rate"] for r in shown][::-1]
    notes = [
        f"{r['adoption_rate']:.0%}  ({r['learners']:,}/{r['directory_users']:,})" for r in shown
    ][::-1]
    figure = _figure(height=1.2 + 0.34 * len(shown))
    ax = figure.subplots()
    heading = title if len(shown) == len(rated) else f"{title} ({limit} largest of {len(rated)})"
    ax.set_title(heading, loc="left", fontsize=13, fontweight="bold")
    bars = ax.barh(range(len(shown)), rates, color=BLUE, height=0.65)
    ax.set_yticks(range(len(shown)), labels)
    ax.bar_label(bars, notes, padding=3)
    ax.set_xlim(0, 1.3)  # room for the labels right of a 100% bar
    ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0])
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel("Directory users who use Learn")
    ax.grid(axis="x", alpha=0.3)
    return figure


def _rows(tables: Mapping[str, pa.Table], name: str) -> list[dict[str, Any]]:
    table = tables.get(name)
    return [] if table is None else table.to_pylist()


# The reports `chart_inputs` reads: all a snapshot's charts need, read ahead of its other
# exports when its charts are drawn early (`files.begin_charts`).
CHART_REPORTS = (
    "activity_daily",
    "org_overview",
    "catalog_tag_progress",
    "learning_path_progress",
    "content_popularity",
    "certification_status",
    "department_summary",
)


def chart_inputs(
    tables: Mapping[str, pa.Table], snapshot: dt.date
) -> dict[str, tuple[Callable[..., bytes], tuple[Any, ...]]]:
    """Chart name -> (chart function, its arguments) for the snapshot, in page order, from the
    tables of `CHART_REPORTS`."""
    tags = _rows(tables, "catalog_tag_progress")
    paths = path_progress_counts(tables.get("learning_path_progress"))
    return {
        "activity_trend": (activity_trend, (_rows(tables, "activity_daily"), snapshot)),
        "learning_funnel": (learning_funnel, (_rows(tables, "org_overview"),)),
        "completion_by_product": (completion_by_product, (tags,)),
        "completion_by_role": (completion_by_role, (tags,)),
        "completions_by_level": (completions_by_level, (tags,)),
        "path_progress": (path_progress, (paths,)),
        "top_content": (top_content, (_rows(tables, "content_popularity"),)),
        "certification_expiry": (
            certification_expiry,
            (_rows(tables, "certification_status"), snapshot),
        ),
        "department_adoption": (department_adoption, (_rows(tables, "department_summary"),)),
    }


def render_charts(tables: Mapping[str, pa.Table], snapshot: dt.date) -> dict[str, bytes]:
    """Every chart of the snapshot as PNG bytes, by chart name, in page order, drawn in this
    process (`start_charts` draws them in the worker)."""
    return {name: render(*args) for name, (render, args) in chart_inputs(tables, snapshot).items()}


CHART_WAIT_S = 900  # far beyond the few seconds an L snapshot's charts take
log = logging.getLogger(__name__)
Job = tuple[str, Callable[..., bytes], tuple[Any, ...]]


def _draw(jobs: Sequence[Job]) -> dict[str, bytes]:
    """The PNG of each (name, chart function, arguments); what the worker runs."""
    return {name: render(*args) for name, render, args in jobs}


class ChartDrawing:
    """A snapshot's charts being drawn (`start_charts`): `drawn` names the charts drawn for it
    (the others reused), `result()` waits for them."""

    def __init__(
        self,
        snapshot: dt.date,
        charts: dict[str, bytes | None],
        jobs: list[Job],
    ) -> None:
        self.snapshot = snapshot
        self.drawn = [name for name, _, _ in jobs]
        self._charts, self._jobs = charts, jobs
        self._worker: ProcessPoolExecutor | None = None
        self._future: Future[dict[str, bytes]] | None = None
        if not jobs:
            return
        submitted = submit(_draw, jobs)
        if submitted:
            self._worker, self._future = submitted

    def result(self) -> dict[str, bytes]:
        """Every chart's PNG by name, in page order, as `render_charts` gives them."""
        pngs: dict[str, bytes] = {}
        if self._future is not None:
            try:
                pngs = self._future.result(timeout=CHART_WAIT_S)
            except BrokenProcessPool as e:
                log.warning("chart worker died (%s); drawing the charts in this process", e)
                drop_worker(self._worker)  # type: ignore[arg-type]
            except TimeoutError as e:
                raise TimeoutError(
                    f"the chart worker did not finish the charts of snapshot {self.snapshot} "
                    f"within {CHART_WAIT_S} s; it keeps running in the background"
                ) from e
        if self._jobs and not pngs:
            pngs = _draw(self._jobs)
        return {name: png if png is not None else pngs[name] for name, png in self._charts.items()}


def start_charts(
    tables: Mapping[str, pa.Table], snapshot: dt.date, drawn: Mapping[str, bytes] | None = None
) -> ChartDrawing:
    """Begin drawing the snapshot's charts in the chart worker (see `ChartDrawing`). A chart
    whose `drawn` PNG has the same input key is reused without the worker. If the worker dies,
    the charts are drawn in this process instead."""
    drawn = drawn or {}
    charts: dict[str, bytes | None] = {}
    jobs: list[Job] = []
    for name, (render, args) in chart_inputs(tables, snapshot).items():
        before = drawn.get(name)
        reused = drawn_from(before, input_key(render.__name__, args, {}))
        charts[name] = before if reused else None
        if not reused:
            jobs.append((name, render, args))
    return ChartDrawing(snapshot, charts, jobs)
