"""`report.html`: one self-contained page per snapshot for people who do not open spreadsheets.

Charts are embedded as base64 `data:` PNGs, the CSS is inline, and the one script (the learner
search) is inline too, allowed by its hash in the Content-Security-Policy, which also tells the
browser to load nothing from anywhere. Every value from the data is HTML-escaped in the page and
JSON-escaped in the embedded learner data (display names and departments come unescaped from the
directory); the script writes them with `textContent`, never as markup.

The page is responsive: at phone width nothing scrolls the page sideways (wide tables scroll in
their own box), dates stay on one line, numbers and their headers are right-aligned.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from learn_assets.exports.charts import CHART_TITLES
from learn_assets.exports.headline import Headline, headlines
from learn_assets.exports.learners import LearnerData, learner_data, learner_label, most_active
from learn_assets.exports.tables import DataQuality, Previous
from learn_assets.settings import DEFAULTS

QUALITY_HEADING = "Data quality"
TOP_LEARNERS = 20
MAX_ROWS = 50  # rows of the expiring, expired and changes tables; the workbook has them all
TOP_PATHS = 10
RECENTLY_EXPIRED_DAYS = 90

# Section id -> heading, in page order.
SECTIONS = {
    "data-quality": QUALITY_HEADING,
    "changes": "Since the last snapshot",
    "activity": "Activity and the learning funnel",
    "tags": "Completion by product, role and level",
    "learning-paths": "Learning paths",
    "content": "Content",
    "certifications": "Certifications",
    "departments": "Departments",
    "top-learners": "Top learners by XP",
    "learners": "Learner details",
}
# The charts each section shows, in order (under the chart's title as a sub-heading).
SECTION_CHARTS = {
    "activity": ("activity_trend", "learning_funnel"),
    "tags": ("completion_by_product", "completion_by_role", "completions_by_level"),
    "learning-paths": ("path_progress",),
    "content": ("top_content",),
    "certifications": ("certification_expiry",),
    "departments": ("department_adoption",),
}
TABLE_HEADINGS = {
    "paths": "Most started learning paths",
    "expiring": "Certifications expiring soon",
    "expired": f"Certifications expired in the last {RECENTLY_EXPIRED_DAYS} days",
    "departments": "Department summary",
}
CHANGES = {  # snapshot_changes.change -> what the page calls it, in page order
    "learner_joined": "Learners joined",
    "learner_left": "Learners left",
    "module_completed": "Modules completed",
    "learning_path_completed": "Learning paths completed",
    "certification_earned": "Certifications earned",
    "certification_gone": "Certifications no longer listed (expired over two years, or removed)",
    "applied_skill_earned": "Applied skills earned",
}
EXPIRED_SINCE = "Certifications expired"  # from certification_status: ended since the last one

CSS = """
*, *::before, *::after { box-sizing: border-box; }
body { font-family: "Segoe UI", "DejaVu Sans", Arial, sans-serif; margin: 0 auto;
       max-width: 1100px; padding: 1rem; color: #222; background: #fff;
       overflow-wrap: anywhere; }
h1 { color: #1f4e78; margin: .5rem 0 .2rem; font-size: 1.7rem; }
h2 { color: #1f4e78; border-bottom: 2px solid #dde6f0; padding-bottom: .2rem; margin-top: 2rem; }
h3 { color: #1f4e78; font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
.note { color: #666; margin-top: 0; }
.headline { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr));
            gap: .7rem; margin: 1.2rem 0; }
.card { background: #f3f7fb; border-left: 4px solid #1f4e78; padding: .6rem .8rem; }
.card .value { font-size: 1.5rem; font-weight: 600; color: #1f4e78; white-space: nowrap; }
.card .label { font-size: .85rem; color: #555; }
.card .change { font-size: .8rem; color: #555; }
img { display: block; max-width: 100%; height: auto; }
figure { margin: 0; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; overflow-wrap: normal; }
th { background: #1f4e78; color: #fff; text-align: left; padding: .35rem .5rem;
     vertical-align: bottom; }
td { border-bottom: 1px solid #e3e3e3; padding: .3rem .5rem; vertical-align: top; }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
th.date, td.date { white-space: nowrap; }
tr:nth-child(even) td { background: #fafbfd; }
#data-quality li { color: #8a4b00; }
@media (max-width: 480px) { .card .value { font-size: 1.2rem; } h1 { font-size: 1.4rem; } }
#learner-search { width: 100%; max-width: 28rem; font: inherit; padding: .45rem .6rem;
                  border: 1px solid #8aa4c0; border-radius: 3px; }
button.learner { background: none; border: 0; padding: 0; font: inherit; color: #1f4e78;
                 text-decoration: underline; cursor: pointer; text-align: left; }
#learner-detail { border: 1px solid #c9d7e6; background: #f7fafd; padding: .2rem .8rem .8rem;
                  margin: .8rem 0; }
"""

# The learner search and details. It reads the JSON of <script id="learner-data"> (see
# exports/learners.py for its layout) and writes every value with textContent.
SCRIPT = """
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("learner-data").textContent);
  var items = data.items;
  var body = document.querySelector("#learner-table tbody");
  var search = document.getElementById("learner-search");
  var count = document.getElementById("learner-count");
  var detail = document.getElementById("learner-detail");
  var rows = [];
  function num(n) { return n === null ? "" : n.toLocaleString("en-US"); }
  function cell(tr, text, cls) {
    var td = document.createElement("td");
    td.textContent = text === null ? "" : String(text);
    if (cls) { td.className = cls; }
    tr.appendChild(td);
    return td;
  }
  function table(heading, headers, classes, lines, empty) {
    var h = document.createElement("h3");
    h.textContent = heading;
    detail.appendChild(h);
    if (!lines.length) {
      var p = document.createElement("p");
      p.className = "note";
      p.textContent = empty;
      detail.appendChild(p);
      return;
    }
    var box = document.createElement("div");
    box.className = "scroll";
    var t = document.createElement("table");
    var tr = document.createElement("tr");
    headers.forEach(function (text, i) {
      var th = document.createElement("th");
      th.textContent = text;
      if (classes[i]) { th.className = classes[i]; }
      tr.appendChild(th);
    });
    var head = document.createElement("thead");
    head.appendChild(tr);
    t.appendChild(head);
    var tbody = document.createElement("tbody");
    lines.forEach(function (line) {
      var row = document.createElement("tr");
      line.forEach(function (text, i) { cell(row, text, classes[i]); });
      tbody.appendChild(row);
    });
    t.appendChild(tbody);
    box.appendChild(t);
    detail.appendChild(box);
  }
  function progress(done, open, unit) {
    var lines = done.map(function (i) {
      return [items[i][0], "all " + num(items[i][1]) + " " + unit, "yes"];
    });
    for (var k = 0; k < open.length; k += 2) {
      var total = items[open[k]][1];
      lines.push([items[open[k]][0],
                  num(open[k + 1]) + " of " + (total === null ? "?" : num(total)) + " " + unit,
                  "no"]);
    }
    return lines.sort(function (a, b) { return a[0].localeCompare(b[0]); });
  }
  function show(i) {
    var l = data.learners[i];
    detail.textContent = "";
    var h = document.createElement("h3");
    h.textContent = l[0] + (l[1] ? " (" + l[1] + ")" : "");
    detail.appendChild(h);
    table("Learning paths", ["Learning path", "Progress", "Completed"], ["", "num", ""],
          progress(l[7], l[8], "modules"), "No learning path started.");
    table("Modules", ["Module", "Progress", "Completed"], ["", "num", ""],
          progress(l[9], l[10], "units"), "No module started.");
    table("Certifications", ["Certification", "Status", "Expires on"], ["", "", "date"],
          l[11].map(function (c) {
            return [items[c[0]][0], c[1].replace("_", " "), c[2] || "never"];
          }), "No certification.");
    detail.hidden = false;
    detail.scrollIntoView({block: "nearest"});
  }
  var frag = document.createDocumentFragment();
  data.learners.forEach(function (l, i) {
    var tr = document.createElement("tr");
    var td = document.createElement("td");
    var button = document.createElement("button");
    button.type = "button";
    button.className = "learner";
    button.textContent = l[0];
    button.addEventListener("click", function () { show(i); });
    td.appendChild(button);
    tr.appendChild(td);
    cell(tr, l[1]);
    cell(tr, num(l[2]), "num");
    cell(tr, num(l[3]), "num");
    cell(tr, num(l[4]), "num");
    cell(tr, num(l[5]), "num");
    cell(tr, l[6], "date");
    rows.push([tr, (l[0] + "\\n" + (l[1] || "")).toLowerCase()]);
    frag.appendChild(tr);
  });
  body.appendChild(frag);
  function filter() {
    var words = search.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var shown = 0;
    rows.forEach(function (r) {
      var hit = words.every(function (w) { return r[1].indexOf(w) >= 0; });
      r[0].hidden = !hit;
      if (hit) { shown += 1; }
    });
    count.textContent = num(shown) + " of " + num(rows.length) + " learners shown";
  }
  search.addEventListener("input", filter);
  filter();
})();
"""
SCRIPT_HASH = base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode("ascii")
CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
    f"script-src 'sha256-{SCRIPT_HASH}'"
)


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
    kind: str = ""  # "num" (right-aligned) or "date" (kept on one line): the cells' class


def _class(kind: str) -> str:
    return f' class="{kind}"' if kind else ""


def html_table(columns: Sequence[Column], rows: Sequence[Mapping[str, Any]], empty: str) -> str:
    """A table in a box of its own that scrolls sideways when the screen is narrower."""
    if not rows:
        return f'<p class="note">{esc(empty)}</p>'
    head = "".join(f"<th{_class(c.kind)}>{esc(c.heading)}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(f"<td{_class(c.kind)}>{esc(c.show(c.value(row)))}</td>" for c in columns)
        + "</tr>"
        for row in rows
    )
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _rows(tables: Mapping[str, pa.Table], name: str) -> list[dict[str, Any]]:
    table = tables.get(name)
    return [] if table is None else table.to_pylist()


def _section(key: str, *parts: str) -> str:
    return f'<section id="{key}"><h2>{esc(SECTIONS[key])}</h2>{"".join(parts)}</section>'


def _sub(heading: str, body: str) -> str:
    return f"<h3>{esc(heading)}</h3>{body}"


def _more(shown: int, total: int, where: str) -> str:
    if total <= shown:
        return ""
    return f'<p class="note">and {total - shown:,} more: see {esc(where)}.</p>'


def card(h: Headline) -> str:
    change = h.change_text()
    note = f'<div class="change">{esc(change)}</div>' if change else ""
    return (
        f'<div class="card"><div class="value">{esc(h.value_text())}</div>'
        f'<div class="label">{esc(h.measure.label)}</div>{note}</div>'
    )


def headline(overview: Sequence[Mapping[str, Any]], previous: Previous | None = None) -> str:
    """Cards with the org_overview numbers of the snapshot and their change since the last."""
    if not overview:
        return '<p class="note">No overview for this snapshot.</p>'
    since = previous.snapshot if previous else None
    cards = headlines(overview[0], previous.overview if since and previous else None)
    note = (
        f'<p class="note">Under each number: its change since the previous snapshot, '
        f"{since.isoformat()} (rates in percentage points).</p>"
        if since
        else ""
    )
    return note + '<div class="headline">' + "".join(card(h) for h in cards) + "</div>"


def _people(
    learners: pa.Table | None, previous: Previous | None, wanted: set[str]
) -> dict[str, Any]:
    """user id -> learner_summary row of the `wanted` learners (only those become Python
    objects: a tenant has 100,000), and of those who left since the previous snapshot."""
    people: dict[str, Any] = {}
    if learners is not None and learners.num_rows and wanted:
        found = learners.filter(pc.is_in(learners["user_id"], pa.array(sorted(wanted))))
        people = {r["user_id"]: r for r in found.to_pylist()}
    if previous and previous.leavers is not None:
        for r in previous.leavers.to_pylist():
            people.setdefault(r["user_id"], r)
    return people


def _who(people: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], str]:
    def name(row: Mapping[str, Any]) -> str:
        person = people.get(row["user_id"], {})
        return learner_label(person.get("display_name"), row["user_id"])

    return name


def _department(people: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], Any]:
    return lambda row: people.get(row["user_id"], {}).get("department")


def top_learners_table(learners: pa.Table | None) -> str:
    columns = [
        Column("Learner", lambda r: r["label"]),
        Column("Department", lambda r: r["department"]),
        Column("Job title", lambda r: r["job_title"]),
        Column("XP", lambda r: r["total_xp"], kind="num"),
        Column("Modules", lambda r: r["modules_completed"], kind="num"),
        Column("Learning paths", lambda r: r["learning_paths_completed"], kind="num"),
        Column("Active certifications", lambda r: r["active_certifications"], kind="num"),
        Column("Last activity", lambda r: r["last_activity_at"], kind="date"),
    ]
    top = most_active(learners, TOP_LEARNERS)
    return html_table(columns, top, "No learners in this snapshot.")


def _certification_columns(people: Mapping[str, Any], day: Column, days: Column) -> list[Column]:
    return [
        Column("Learner", _who(people)),
        Column("Department", _department(people)),
        Column("Certification", lambda r: r["title"] or r["certification_uid"]),
        day,
        days,
        Column("Renewal open", lambda r: r["renewal_eligible"]),
    ]


def expiring_table(certifications: Sequence[Mapping[str, Any]], people: Mapping[str, Any]) -> str:
    soon = sorted(
        (r for r in certifications if r["status"] == "expiring_soon"),
        key=lambda r: (r["expires_on"], r["title"] or "", r["user_id"]),
    )
    columns = _certification_columns(
        people,
        Column("Expires on", lambda r: r["expires_on"], kind="date"),
        Column("Days left", lambda r: r["days_to_expiry"], kind="num"),
    )
    return html_table(columns, soon[:MAX_ROWS], "No certification expires soon.") + _more(
        MAX_ROWS, len(soon), "the certification_status sheet of reports.xlsx"
    )


def expired_table(
    certifications: Sequence[Mapping[str, Any]], people: Mapping[str, Any], snapshot: dt.date
) -> str:
    since = snapshot - dt.timedelta(days=RECENTLY_EXPIRED_DAYS)
    expired = sorted(
        (
            r
            for r in certifications
            if r["status"] == "expired" and r["expires_on"] and r["expires_on"] >= since
        ),
        key=lambda r: (-r["expires_on"].toordinal(), r["title"] or "", r["user_id"]),
    )
    columns = _certification_columns(
        people,
        Column("Expired on", lambda r: r["expires_on"], kind="date"),
        Column("Days ago", lambda r: -r["days_to_expiry"], kind="num"),
    )
    empty = f"No certification expired in the last {RECENTLY_EXPIRED_DAYS} days."
    return html_table(columns, expired[:MAX_ROWS], empty) + _more(
        MAX_ROWS, len(expired), "the certification_status sheet of reports.xlsx"
    )


def never_expiring_note(certifications: Sequence[Mapping[str, Any]]) -> str:
    never = sum(1 for r in certifications if r["expires_on"] is None)
    return (
        f'<p class="note">{never:,} of {len(certifications):,} certifications never expire (no '
        "end date): the “No expiry” bar of the timeline.</p>"
    )


def departments_table(departments: Sequence[Mapping[str, Any]]) -> str:
    ordered = sorted(
        departments, key=lambda r: (-(r["directory_users"] or 0), r["department"] or "")
    )
    columns = [
        Column("Department", lambda r: r["department"]),
        Column("Directory users", lambda r: r["directory_users"], kind="num"),
        Column("Learners", lambda r: r["learners"], kind="num"),
        Column("Adoption", lambda r: r["adoption_rate"], fmt_rate, kind="num"),
        Column("XP", lambda r: r["total_xp"], kind="num"),
        Column("Modules completed", lambda r: r["modules_completed"], kind="num"),
        Column("Paths completed", lambda r: r["learning_paths_completed"], kind="num"),
        Column("Active certifications", lambda r: r["active_certifications"], kind="num"),
    ]
    return html_table(columns, ordered, "No departments in this snapshot.")


def paths_table(popularity: Sequence[Mapping[str, Any]]) -> str:
    paths = sorted(
        (r for r in popularity if r["content_type"] == "learning_path"),
        key=lambda r: (-(r["learners_started"] or 0), r["title"] or "", r["content_uid"]),
    )
    columns = [
        Column("Learning path", lambda r: r["title"] or r["content_uid"]),
        Column("Learners started", lambda r: r["learners_started"], kind="num"),
        Column("Completed", lambda r: r["completions"], kind="num"),
        Column(
            "Completion rate",
            lambda r: r["completions"] / r["learners_started"] if r["learners_started"] else None,
            fmt_rate,
            kind="num",
        ),
    ]
    return html_table(columns, paths[:TOP_PATHS], "No learning path started yet.")


def change_counts(
    changes: Sequence[Mapping[str, Any]],
    certifications: Sequence[Mapping[str, Any]],
    since: dt.date,
) -> list[tuple[str, int]]:
    """(what, how many) since the previous snapshot, every kind listed (0 included); the
    certifications that expired: status expired, ending on or after the previous snapshot."""
    counted = Counter(r["change"] for r in changes)
    expired = sum(
        1
        for r in certifications
        if r["status"] == "expired" and r["expires_on"] and r["expires_on"] >= since
    )
    rows = [(label, counted[change]) for change, label in CHANGES.items()]
    rows.insert(list(CHANGES).index("certification_gone"), (EXPIRED_SINCE, expired))
    return rows


def changes_section(
    changes: Sequence[Mapping[str, Any]],
    certifications: Sequence[Mapping[str, Any]],
    people: Mapping[str, Any],
    previous: Previous | None,
) -> str:
    if previous is None or previous.snapshot is None:
        return _section(
            "changes",
            '<p class="note">The first snapshot loaded: nothing to compare with yet.</p>',
        )
    counts = change_counts(changes, certifications, previous.snapshot)
    summary = html_table(
        [
            Column("Since " + previous.snapshot.isoformat(), lambda r: r["what"]),
            Column("How many", lambda r: r["count"], kind="num"),
        ],
        [{"what": what, "count": n} for what, n in counts],
        "",
    )
    order = {change: i for i, change in enumerate(CHANGES)}
    who = _who(people)
    listed = sorted(changes, key=lambda r: (order.get(r["change"], 99), who(r), r["uid"] or ""))
    details = html_table(
        [
            Column("Change", lambda r: CHANGES.get(r["change"], r["change"])),
            Column("Learner", who),
            Column("Department", _department(people)),
            Column("What", lambda r: r["title"] or r["uid"]),
        ],
        listed[:MAX_ROWS],
        "No change since the previous snapshot.",
    ) + _more(MAX_ROWS, len(listed), "the snapshot_changes sheet of reports.xlsx")
    return _section("changes", summary, _sub("Who and what", details))


def chart_block(name: str, png: bytes) -> str:
    title = CHART_TITLES.get(name, name)
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure id="{esc(name)}"><h3>{esc(title)}</h3>'
        f'<img src="data:image/png;base64,{data}" alt="{esc(title)}"></figure>'
    )


def _charts(key: str, charts: Mapping[str, bytes]) -> str:
    return "".join(chart_block(n, charts[n]) for n in SECTION_CHARTS[key] if n in charts)


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


def learners_section(data: LearnerData) -> str:
    """The learner search: a table the script fills from the embedded JSON."""
    if data.shown < data.total:
        scope = (
            f"The {data.shown:,} most active learners (most XP) of {data.total:,} are here "
            "(LEARN_HTML_MAX_LEARNERS). Every learner is in the learner_summary sheet of "
            "reports.xlsx (up to LEARN_XLSX_MAX_ROWS rows), in learner_summary.csv and .parquet "
            "beside this page and in the lake's reports/learner_summary table; their modules, "
            "learning paths and certifications in the CSV and Parquet files of module_progress, "
            "learning_path_progress and certification_status and in the lake."
        )
    else:
        scope = f"All {data.total:,} learners of the snapshot."
    head = "".join(
        f"<th{_class(kind)}>{esc(text)}</th>"
        for text, kind in (
            ("Learner", ""),
            ("Department", ""),
            ("XP", "num"),
            ("Learning paths", "num"),
            ("Modules", "num"),
            ("Active certifications", "num"),
            ("Last activity", "date"),
        )
    )
    return _section(
        "learners",
        f'<p class="note">{esc(scope)} Type a name (or a department) to find a learner; click a '
        "name for their learning paths, modules and certifications.</p>",
        '<p><input type="search" id="learner-search" placeholder="Search learners by name" '
        'aria-label="Search learners by name or department" autocomplete="off"></p>',
        '<p class="note" id="learner-count" aria-live="polite"></p>',
        '<div id="learner-detail" hidden></div>',
        f'<div class="scroll"><table id="learner-table"><thead><tr>{head}</tr></thead>'
        "<tbody></tbody></table></div>",
        '<noscript><p class="note">The learner search needs JavaScript; every learner is in '
        "reports.xlsx.</p></noscript>",
        f'<script type="application/json" id="learner-data">{data.to_json()}</script>',
        f"<script>{SCRIPT}</script>",
    )


def render_page(
    tables: Mapping[str, pa.Table],
    snapshot: dt.date,
    charts: Mapping[str, bytes],
    quality: DataQuality | None = None,
    previous: Previous | None = None,
    max_learners: int = DEFAULTS.html_max_learners,
) -> str:
    """The whole page as a string (UTF-8 when written); `quality` as read from the warehouse
    (`read_data_quality`), None: not recorded; `previous`: the snapshot compared with
    (`read_previous`); at most `max_learners` learners embedded for the search."""
    learners = tables.get("learner_summary")
    certifications = _rows(tables, "certification_status")
    changes = _rows(tables, "snapshot_changes")
    named = [r for r in certifications if r["status"] != "active"] + changes
    people = _people(learners, previous, {r["user_id"] for r in named})
    title = f"Microsoft Learn report, snapshot {snapshot.isoformat()}"
    compared = (
        f", compared with the previous snapshot {previous.snapshot.isoformat()}"
        if previous and previous.snapshot
        else ""
    )
    sections = [
        f"<h1>{esc(title)}</h1>",
        f'<p class="note">Organizational Reporting data as of {snapshot.isoformat()} (UTC)'
        f"{compared}. The files beside this page hold every row: one CSV and Parquet per "
        "report, and reports.xlsx.</p>",
        quality_section(quality or DataQuality(snapshot)),
        headline(_rows(tables, "org_overview"), previous),
        changes_section(changes, certifications, people, previous),
        _section("activity", _charts("activity", charts)),
        _section("tags", _charts("tags", charts)),
        _section(
            "learning-paths",
            _sub(TABLE_HEADINGS["paths"], paths_table(_rows(tables, "content_popularity"))),
            _charts("learning-paths", charts),
        ),
        _section("content", _charts("content", charts)),
        _section(
            "certifications",
            _charts("certifications", charts),
            never_expiring_note(certifications),
            _sub(TABLE_HEADINGS["expiring"], expiring_table(certifications, people)),
            _sub(TABLE_HEADINGS["expired"], expired_table(certifications, people, snapshot)),
        ),
        _section(
            "departments",
            _charts("departments", charts),
            _sub(
                TABLE_HEADINGS["departments"],
                departments_table(_rows(tables, "department_summary")),
            ),
        ),
        _section("top-learners", top_learners_table(learners)),
        learners_section(learner_data(tables, max_learners)),
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
