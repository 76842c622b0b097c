"""report.html: sections, headline numbers and their change, what changed, certifications,
escaped text, the embedded learner data, nothing loaded from outside."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

import duckdb

from learn_assets.exports.charts import CHART_TITLES, NO_EXPIRY
from learn_assets.exports.files import PAGE, ExportResult
from learn_assets.exports.learners import learner_data
from learn_assets.exports.page import (
    QUALITY_HEADING,
    SECTIONS,
    TABLE_HEADINGS,
    change_counts,
    paths_table,
    render_page,
)
from learn_assets.exports.tables import DataQuality, DatasetQuality, read_previous, read_reports
from learn_assets_tests.exports.conftest import (
    D1,
    D2,
    D2_QUALITY_LINES,
    DDE_DEPARTMENT,
    FORMULA_NAME,
    HTML_NAME,
    LEAVER_NAME,
    NEVER_EXPIRES_TITLE,
    U1,
    U2,
    U3,
    U4,
    U5,
)


class Outline(HTMLParser):
    """Headings, tags, `src`/`href` attributes and scripts of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: dict[str, list[str]] = {"h1": [], "h2": [], "h3": []}
        self.tags: set[str] = set()
        self.sources: list[str] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self._open: str | None = None
        self._script: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self._open = tag if tag in self.headings else None
        self.sources += [v or "" for k, v in attrs if k in ("src", "href")]
        if tag == "script":
            self._script = dict(attrs)
            self.scripts.append((self._script, ""))

    def handle_data(self, data: str) -> None:
        if self._open:
            self.headings[self._open].append(data)
        if self._script is not None:
            attrs, text = self.scripts[-1]
            self.scripts[-1] = (attrs, text + data)

    def handle_endtag(self, tag: str) -> None:
        self._open = None
        self._script = None


def outline(html: str) -> Outline:
    parser = Outline()
    parser.feed(html)
    return parser


def page_of(exported: ExportResult) -> str:
    return (exported.folder / PAGE).read_text(encoding="utf-8")


def embedded(html: str) -> dict:
    (data,) = [text for attrs, text in outline(html).scripts if attrs.get("type")]
    return json.loads(data)


def test_page_has_the_title_and_a_heading_per_section_chart_and_table(exported: ExportResult):
    page = outline(page_of(exported))
    assert page.headings["h1"] == ["Microsoft Learn report, snapshot 2026-11-02"]
    assert page.headings["h2"] == list(SECTIONS.values())
    assert set(CHART_TITLES.values()) | set(TABLE_HEADINGS.values()) <= set(page.headings["h3"])


def test_page_is_self_contained_with_one_script_allowed_by_its_hash(exported: ExportResult):
    html = page_of(exported)
    page = outline(html)
    assert not page.tags & {"link", "iframe", "object", "embed", "form"}
    assert all(s.startswith("data:image/png;base64,") for s in page.sources)
    embedded_pngs = [base64.b64decode(s.split(",", 1)[1]) for s in page.sources]
    assert embedded_pngs == list(exported.charts.values())
    (data, code) = page.scripts
    assert data[0] == {"type": "application/json", "id": "learner-data"}
    assert code[0] == {}  # inline, no src
    digest = base64.b64encode(hashlib.sha256(code[1].encode()).digest()).decode()
    (csp,) = re.findall(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html)
    assert csp == (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        f"script-src 'sha256-{digest}'"
    )  # the browser loads nothing and runs only this script


def test_page_escapes_text_from_the_data(exported: ExportResult):
    html = page_of(exported)
    assert "Ada &lt;b&gt;Lovelace&lt;/b&gt; &amp; co" in html
    assert HTML_NAME not in html and "</b>" not in html
    assert "=HYPERLINK(&quot;http://x&quot;,&quot;y&quot;)" in html
    assert "+cmd|&#x27; /C calc&#x27;!A0" in html
    # in the JSON a name cannot close the script element
    assert "Ada \\u003cb\\u003eLovelace\\u003c/b\\u003e \\u0026 co" in html
    assert HTML_NAME in {learner[0] for learner in embedded(html)["learners"]}


def cards(html: str) -> dict[str, tuple[str, str]]:
    found = re.findall(
        r'class="value">([^<]*)</div><div class="label">([^<]*)</div>'
        r'(?:<div class="change">([^<]*)</div>)?',
        html,
    )
    return {label: (value, change) for value, label, change in found}


def test_headline_cards_show_the_change_since_the_previous_snapshot(exported: ExportResult):
    html = page_of(exported)
    assert cards(html) == {
        "Learners": ("4", "+2"),
        "Directory users": ("6", "+1"),
        "Adoption": ("50.0%", "+10.0 pts"),
        "Modules started": ("10", "+5"),
        "Modules completed": ("7", "+4"),
        "Module completion rate": ("70.0%", "+10.0 pts"),
        "Learning paths completed": ("1", "+1"),
        "Total XP": ("8,100", "+4,050"),
        "Active certifications": ("3", "+2"),
        "Expiring soon": ("1", "no change"),
        "Applied skills": ("1", "+1"),
    }
    assert "change since the previous snapshot, 2026-11-01" in html


def section(html: str, key: str) -> str:
    return html.split(f'<section id="{key}">')[1].split("</section>")[0]


def table_rows(html: str) -> list[list[str]]:
    return [re.findall(r"<td[^>]*>([^<]*)</td>", row) for row in html.split("<tr>")[2:]]


def test_since_the_last_snapshot_counts_and_names_the_changes(exported: ExportResult):
    changes = section(page_of(exported), "changes")
    summary, details = changes.split("<h3>")
    assert table_rows(summary) == [
        ["Learners joined", "1"],
        ["Learners left", "1"],
        ["Modules completed", "0"],
        ["Learning paths completed", "0"],
        ["Certifications earned", "1"],
        ["Certifications expired", "0"],  # cert-az-900 ended 2026-10-01, before the last one
        ["Certifications no longer listed (expired over two years, or removed)", "0"],
        ["Applied skills earned", "0"],
    ]
    assert table_rows(details) == [
        ["Learners joined", "@admin", "Research, Development", ""],
        ["Learners left", LEAVER_NAME, "Sales", ""],  # named as in the previous snapshot
        ["Certifications earned", "@admin", "Research, Development", NEVER_EXPIRES_TITLE],
    ]


def test_certifications_expired_since_the_last_snapshot_are_counted_with_the_changes():
    certifications = [
        {"status": "expired", "expires_on": D1},  # ended on the previous snapshot's day
        {"status": "expired", "expires_on": dt.date(2026, 10, 31)},  # already before it
        {"status": "expiring_soon", "expires_on": dt.date(2026, 12, 1)},
        {"status": "active", "expires_on": None},
    ]
    changes = [{"change": "module_completed"}] * 2 + [{"change": "learner_joined"}]
    assert change_counts(changes, certifications, D1) == [
        ("Learners joined", 1),
        ("Learners left", 0),
        ("Modules completed", 2),
        ("Learning paths completed", 0),
        ("Certifications earned", 0),
        ("Certifications expired", 1),
        ("Certifications no longer listed (expired over two years, or removed)", 0),
        ("Applied skills earned", 0),
    ]


def test_certifications_expiring_expired_and_never_expiring(exported: ExportResult):
    certs = section(page_of(exported), "certifications")
    _, expiring, expired = certs.split("<h3>")[1:]
    assert table_rows(expiring) == [
        ["=HYPERLINK(&quot;http://x&quot;,&quot;y&quot;)", "+cmd|&#x27; /C calc&#x27;!A0",
         "Azure Administrator", "2026-12-15", "43", "yes"],
    ]  # fmt: skip
    assert table_rows(expired) == [
        ["Ada &lt;b&gt;Lovelace&lt;/b&gt; &amp; co", "Research, Development",
         "-Azure Fundamentals", "2026-10-01", "32", "no"],
    ]  # fmt: skip
    # U4's cert-sc-900 has no end date: counted, and named as the timeline's bar
    assert (
        "1 of 4 certifications never expire (no end date): the “No expiry” bar of the "
        "timeline." in certs
    )
    assert NO_EXPIRY == "No expiry"


def test_learning_paths_most_started_first_with_their_completion(exported: ExportResult):
    paths = section(page_of(exported), "learning-paths")
    assert "<h3>Most started learning paths</h3>" in paths
    # content_popularity's one learning path; its module and the other content are not listed
    assert table_rows(paths.split('<figure id="path_progress">')[0]) == [
        ["Azure basics", "1", "0", "0.0%"]
    ]
    popularity = [
        {"content_type": "learning_path", "content_uid": f"lp-{i}", "title": f"Path {i}",
         "learners_started": i, "completions": i // 2}
        for i in range(1, 13)
    ] + [{"content_type": "module", "content_uid": "m", "title": "Module", "learners_started": 99,
          "completions": 99}]  # fmt: skip
    shown = table_rows(paths_table(popularity))
    assert [row[0] for row in shown] == [f"Path {i}" for i in range(12, 2, -1)]  # top 10
    assert shown[0] == ["Path 12", "12", "6", "50.0%"]


def test_departments_largest_first_with_adoption(exported: ExportResult):
    departments = section(page_of(exported), "departments")
    assert table_rows(departments.split("<h3>Department summary</h3>")[1]) == [
        ["Sales", "3", "0", "0.0%", "0", "0", "0", "0"],
        ["Research, Development", "2", "2", "100.0%", "3,100", "2", "0", "2"],
        ["+cmd|&#x27; /C calc&#x27;!A0", "1", "1", "100.0%", "5,000", "4", "1", "1"],
        ["(not in directory)", "0", "1", "–", "0", "0", "0", "0"],  # no directory users
    ]


def test_numbers_right_aligned_and_dates_kept_on_one_line(exported: ExportResult):
    top = section(page_of(exported), "top-learners")
    assert re.findall(r"<th( class=\"\w+\")?>([^<]*)</th>", top) == [
        ("", "Learner"),
        ("", "Department"),
        ("", "Job title"),
        (' class="num"', "XP"),
        (' class="num"', "Modules"),
        (' class="num"', "Learning paths"),
        (' class="num"', "Active certifications"),
        (' class="date"', "Last activity"),
    ]
    assert '<td class="num">5,000</td>' in top
    assert '<td class="date">2026-11-02 07:30 UTC</td>' in top
    css = page_of(exported).split("<style>")[1]
    assert "th.num, td.num { text-align: right;" in css
    assert "th.date, td.date { white-space: nowrap; }" in css


def test_learners_without_a_match_are_named_never_a_bare_guid(exported: ExportResult):
    html = page_of(exported)
    assert "<td>(not in directory) 00000003</td>" in section(html, "top-learners")
    assert not [u for u in (U1, U2, U3, U4, U5) if u in html]  # no Learn id, nowhere


def test_the_learner_data_has_each_learners_paths_modules_and_certifications(
    reports_db: Path,
):
    with duckdb.connect(str(reports_db), read_only=True) as conn:
        tables = read_reports(conn, D2)
    data = learner_data(tables, 10)
    assert data.total == 4 and data.shown == 4
    assert data.items == [  # by title: what the learners below refer to by position
        ["-Azure Fundamentals", None],
        ["@Intro to Azure", 4],
        ["Azure Administrator", None],
        ["Azure basics", 2],
        [NEVER_EXPIRES_TITLE, None],
        ["cert-ai-102", None],  # no title: its uid
    ]
    assert data.learners == [  # most XP first
        # name, department, XP, paths, modules, certifications, last activity (UTC day),
        # completed paths, open paths (item, modules done), completed modules, open modules
        # (item, units done), certifications (item, status, expires on)
        [FORMULA_NAME, DDE_DEPARTMENT, 5000, 1, 4, 1, "2026-11-02",
         [], [3, 1], [1], [], [[2, "expiring_soon", "2026-12-15"]]],
        [HTML_NAME, "Research, Development", 3000, 0, 2, 1, "2026-10-20",
         [], [], [], [1, 2], [[0, "expired", "2026-10-01"], [5, "active", "2027-06-30"]]],
        ["@admin", "Research, Development", 100, 0, 0, 1, "2026-11-02",
         [], [], [], [], [[4, "active", None]]],  # never expires
        ["(not in directory) 00000003", None, 0, 0, 0, 0, None, [], [], [], [], []],
    ]  # fmt: skip


def test_above_the_cap_the_most_active_learners_with_a_note(reports_db: Path):
    with duckdb.connect(str(reports_db), read_only=True) as conn:
        tables, previous = read_reports(conn, D2), read_previous(conn, D2)
    html = render_page(tables, D2, {}, previous=previous, max_learners=2)
    data = embedded(html)
    assert [learner[0] for learner in data["learners"]] == [FORMULA_NAME, HTML_NAME]
    assert data["total"] == 4
    note = unescape(section(html, "learners"))
    assert (
        "The 2 most active learners (most XP) of 4 are here (LEARN_HTML_MAX_LEARNERS). Every "
        "learner is in the learner_summary sheet of reports.xlsx (up to LEARN_XLSX_MAX_ROWS "
        "rows), in learner_summary.csv and .parquet beside this page and in the lake's "
        "reports/learner_summary table" in note
    )
    assert "All 4 learners of the snapshot." in render_page(tables, D2, {})


def test_page_renders_without_any_data():
    html = render_page({}, D2, {})
    page = outline(html)
    assert page.headings["h2"] == list(SECTIONS.values())
    assert "No overview for this snapshot." in html
    assert "<p>Rows quarantined: not recorded for this snapshot.</p>" in html
    assert "The first snapshot loaded: nothing to compare with yet." in html
    assert embedded(html) == {"total": 0, "items": [], "learners": []}


def test_the_first_snapshot_has_no_change_to_show(reports_db: Path):
    with duckdb.connect(str(reports_db), read_only=True) as conn:
        tables, previous = read_reports(conn, D1), read_previous(conn, D1)
    assert previous.snapshot is None
    html = render_page(tables, D1, {}, previous=previous)
    assert cards(html)["Learners"] == ("2", "")


def quality_section(html: str) -> str:
    return section(html, "data-quality")


def test_page_shows_rows_quarantined_and_the_checks_that_warned(exported: ExportResult):
    html = page_of(exported)
    quarantine, *notes = D2_QUALITY_LINES
    assert quality_section(html) == (
        f"<h2>Data quality</h2><p>{quarantine}</p><ul>"
        + "".join(f"<li>{n}</li>" for n in notes)
        + "</ul>"
    )
    # before the headline numbers, which it qualifies
    assert html.index('id="data-quality"') < html.index('class="headline"')


def test_page_says_when_nothing_was_quarantined_or_warned():
    clean = DataQuality(D2, (DatasetQuality("Progress", 1_200, 0), DatasetQuality("Users", 6, 0)))
    assert quality_section(render_page({}, D2, {}, clean)) == (
        f"<h2>{QUALITY_HEADING}</h2><p>Rows quarantined: none of the 1,206 rows delivered.</p>"
        '<p class="note">Checks that warned: none.</p>'
    )


def test_page_escapes_the_quality_notes():
    from learn_assets.exports.tables import CheckNote

    noted = DataQuality(D2, notes=(CheckNote("Progress", "c", False, "<b>x</b> & y"),))
    assert "<li>Warning, Progress c: &lt;b&gt;x&lt;/b&gt; &amp; y</li>" in render_page(
        {}, D2, {}, noted
    )
