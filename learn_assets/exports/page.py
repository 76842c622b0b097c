"""`report.html`: one self-contained page per snapshot for people who do not open spreadsheets.

Charts are embedded as base64 `data:` PNGs and the CSS is inline; there are no scripts and no
links to load, and a Content-Security-Policy says so to the browser. Every value from the data
is HTML-escaped (display names and departments come unescaped from the directory).
"""

from __future__ import annotations

import base64
import datetime as dt
import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from learn_assets.exports.charts import CHART_TITLES
from learn_assets.exports.tables import DataQuality

QUALITY_HEADING = "Data quality"
TOP_LEARNERS = 20
MAX_EXPIRING = 50
CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
TABLE_HEADINGS = {
    "top_learners": "Top learners by XP",
    "expiring": "Certifications expiring soon",
    "departments": "Department summary",
}

CSS = """
body { font-family: "Segoe UI", "DejaVu Sans", Arial, sans-serif; margin: 2rem auto;
       max-width: 1100px; padding: 0 1rem; color: #222; background: #fff; }
h1 { color: #1f4e78; margin-bottom: .2rem; }
h2 { color: #1f4e78; border-bottom: 2px solid #dde6f0; padding-bottom: .2rem; margin-top: 2rem; }
.note { color: #666; margin-top: 0; }
.headline { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr));
            gap: .8rem; margin: 1.2rem 0; }
.card { background: #f3f7fb; border-left: 4px solid #1f4e78; padding: .6rem .8rem; }
.card .value { font-size: 1.6rem; font-weight: 600; color: #1f4e78; }
.card .label { font-size: .85rem; color: #555; }
img { max-width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th { background: #1f4e78; color: #fff; text-align: left; padding: .35rem .5rem; }
td { border-bottom: 1px solid #e3e3e3; padding: .3rem .5rem; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:nth-child(even) td { background: #fafbfd; }
#data-quality li { color: #8a4b00; }
"""


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def fmt_int(value: Any) -> str:
    return "–" if value is None else f"{value:,}"


def fmt_rate(value: Any) -> str:
    return "–" if value is None else f"{value:.1%}"


def fmt_value(value: Any) -> str:
    """A table cell's text (not yet escaped)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, dt.datetime):
        return f"{value.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC" if value.tzinfo else str(value)
    return str(value)


@dataclass(frozen=True)
class Column:
    heading: str
    value: Callable[[Mapping[str, Any]], Any]
    show: Callable[[Any], str] = fmt_value
    numeric: bool = False


def html_table(columns: Sequence[Column], rows: Sequence[Mapping[str, Any]], empty: str) -> str:
    if not rows:
        return f'<p class="note">{esc(empty)}</p>'
    head = "".join(f"<th>{esc(c.heading)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for c in columns:
            cls = ' class="num"' if c.numeric else ""
            cells.append(f"<td{cls}>{esc(c.show(c.value(row)))}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _rows(tables: Mapping[str, pa.Table], name: str) -> list[dict[str, Any]]:
    table = tables.get(name)
    return [] if table is None else table.to_pylist()


def headline(overview: Sequence[Mapping[str, Any]]) -> str:
    """Cards with the org_overview numbers of the snapshot."""
    if not overview:
        return '<p class="note">No overview for this snapshot.</p>'
    o = overview[0]
    cards = [
        ("Learners", fmt_int(o["learners"])),
        ("Directory users", fmt_int(o["directory_users"])),
        ("Adoption", fmt_rate(o["adoption_rate"])),
        ("Modules started", fmt_int(o["modules_started"])),
        ("Modules completed", fmt_int(o["modules_completed"])),
        ("Module completion rate", fmt_rate(o["module_completion_rate"])),
        ("Learning paths completed", fmt_int(o["learning_paths_completed"])),
        ("Total XP", fmt_int(o["total_xp"])),
        ("Active certifications", fmt_int(o["active_certifications"])),
        ("Expiring soon", fmt_int(o["expiring_certifications"])),
        ("Applied skills", fmt_int(o["applied_skills"])),
    ]
    return (
        '<div class="headline">'
        + "".join(
            f'<div class="card"><div class="value">{esc(v)}</div>'
            f'<div class="label">{esc(k)}</div></div>'
            for k, v in cards
        )
        + "</div>"
    )


def _name(row: Mapping[str, Any]) -> str:
    return row.get("display_name") or row["user_id"]


def top_learners_table(learners: Sequence[Mapping[str, Any]]) -> str:
    top = sorted(learners, key=lambda r: (-(r["total_xp"] or 0), _name(r), r["user_id"]))
    columns = [
        Column("Learner", _name),
        Column("Department", lambda r: r["department"]),
        Column("Job title", lambda r: r["job_title"]),
        Column("XP", lambda r: r["total_xp"], numeric=True),
        Column("Modules", lambda r: r["modules_completed"], numeric=True),
        Column("Learning paths", lambda r: r["learning_paths_completed"], numeric=True),
        Column("Active certifications", lambda r: r["active_certifications"], numeric=True),
        Column("Last activity", lambda r: r["last_activity_at"]),
    ]
    return html_table(columns, top[:TOP_LEARNERS], "No learners in this snapshot.")


def expiring_table(
    certifications: Sequence[Mapping[str, Any]], learners: Sequence[Mapping[str, Any]]
) -> str:
    people = {r["user_id"]: r for r in learners}
    soon = sorted(
        (r for r in certifications if r["status"] == "expiring_soon"),
        key=lambda r: (r["expires_on"], r["title"] or "", r["user_id"]),
    )
    columns = [
        Column("Learner", lambda r: _name(people.get(r["user_id"], r))),
        Column("Department", lambda r: people.get(r["user_id"], {}).get("department")),
        Column("Certification", lambda r: r["title"] or r["certification_uid"]),
        Column("Expires on", lambda r: r["expires_on"]),
        Column("Days left", lambda r: r["days_to_expiry"], numeric=True),
        Column("Renewal open", lambda r: r["renewal_eligible"]),
    ]
    table = html_table(columns, soon[:MAX_EXPIRING], "No certification expires soon.")
    if len(soon) > MAX_EXPIRING:
        more = len(soon) - MAX_EXPIRING
        table += f'<p class="note">and {more:,} more: see certification_status.csv.</p>'
    return table


def departments_table(departments: Sequence[Mapping[str, Any]]) -> str:
    ordered = sorted(
        departments, key=lambda r: (-(r["directory_users"] or 0), r["department"] or "")
    )
    columns = [
        Column("Department", lambda r: r["department"]),
        Column("Directory users", lambda r: r["directory_users"], numeric=True),
        Column("Learners", lambda r: r["learners"], numeric=True),
        Column("Adoption", lambda r: r["adoption_rate"], fmt_rate, numeric=True),
        Column("XP", lambda r: r["total_xp"], numeric=True),
        Column("Modules completed", lambda r: r["modules_completed"], numeric=True),
        Column("Paths completed", lambda r: r["learning_paths_completed"], numeric=True),
        Column("Active certifications", lambda r: r["active_certifications"], numeric=True),
    ]
    return html_table(columns, ordered, "No departments in this snapshot.")


def quality_section(quality: DataQuality) -> str:
    """The data-quality line (rows quarantined per dataset) and the checks that warned."""
    notes = "".join(
        f"<li>{esc(line)}</li>" if quality.notes else f'<p class="note">{esc(line)}</p>'
        for line in quality.note_lines()
    )
    return (
        f'<section id="data-quality"><h2>{esc(QUALITY_HEADING)}</h2>'
        f"<p>{esc(quality.quarantine_line())}</p>"
        + (f"<ul>{notes}</ul>" if quality.notes else notes)
        + "</section>"
    )


def chart_section(name: str, png: bytes) -> str:
    title = CHART_TITLES.get(name, name)
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<section id="{esc(name)}"><h2>{esc(title)}</h2>'
        f'<img src="data:image/png;base64,{data}" alt="{esc(title)}"></section>'
    )


def render_page(
    tables: Mapping[str, pa.Table],
    snapshot: dt.date,
    charts: Mapping[str, bytes],
    quality: DataQuality | None = None,
) -> str:
    """The whole page as a string (UTF-8 when written); `quality` as read from the warehouse
    (`read_data_quality`), None: not recorded."""
    learners = _rows(tables, "learner_summary")
    title = f"Microsoft Learn report, snapshot {snapshot.isoformat()}"
    sections = [
        f"<h1>{esc(title)}</h1>",
        f'<p class="note">Organizational Reporting data as of {snapshot.isoformat()} '
        "(UTC). The files beside this page hold every row: one CSV and Parquet per report "
        "and reports.xlsx.</p>",
        quality_section(quality or DataQuality(snapshot)),
        headline(_rows(tables, "org_overview")),
        *(chart_section(name, png) for name, png in charts.items()),
        f"<section><h2>{esc(TABLE_HEADINGS['top_learners'])}</h2>"
        f"{top_learners_table(learners)}</section>",
        f"<section><h2>{esc(TABLE_HEADINGS['expiring'])}</h2>"
        f"{expiring_table(_rows(tables, 'certification_status'), learners)}</section>",
        f"<section><h2>{esc(TABLE_HEADINGS['departments'])}</h2>"
        f"{departments_table(_rows(tables, 'department_summary'))}</section>",
    ]
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head>\n<body>\n"
        + "\n".join(sections)
        + "\n</body></html>\n"
    )
