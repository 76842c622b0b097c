"""report.html: headings, headline numbers, escaped text, nothing loaded from outside."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser

from learn_assets.exports.charts import CHART_TITLES
from learn_assets.exports.files import PAGE, ExportResult
from learn_assets.exports.page import QUALITY_HEADING, TABLE_HEADINGS, render_page
from learn_assets.exports.tables import DataQuality, DatasetQuality
from learn_assets_tests.exports.conftest import D2, D2_QUALITY_LINES, HTML_NAME


class Outline(HTMLParser):
    """Headings, tags and `src` attributes of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: dict[str, list[str]] = {"h1": [], "h2": []}
        self.tags: set[str] = set()
        self.sources: list[str] = []
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self._open = tag if tag in self.headings else None
        self.sources += [v or "" for k, v in attrs if k in ("src", "href")]

    def handle_data(self, data: str) -> None:
        if self._open:
            self.headings[self._open].append(data)

    def handle_endtag(self, tag: str) -> None:
        self._open = None


def outline(html: str) -> Outline:
    parser = Outline()
    parser.feed(html)
    return parser


def test_page_has_the_title_and_a_heading_per_chart_and_table(exported: ExportResult):
    page = outline((exported.folder / PAGE).read_text(encoding="utf-8"))
    assert page.headings["h1"] == ["Microsoft Learn report, snapshot 2026-11-02"]
    assert page.headings["h2"] == [
        QUALITY_HEADING,
        *CHART_TITLES.values(),
        *TABLE_HEADINGS.values(),
    ]


def test_page_is_self_contained(exported: ExportResult):
    html = (exported.folder / PAGE).read_text(encoding="utf-8")
    page = outline(html)
    assert not page.tags & {"script", "link", "iframe", "object", "embed"}
    assert len(page.sources) == len(CHART_TITLES)
    embedded = [base64.b64decode(s.split(",", 1)[1]) for s in page.sources]
    assert all(s.startswith("data:image/png;base64,") for s in page.sources)
    assert embedded == list(exported.charts.values())
    assert "default-src 'none'" in html  # the browser is told to load nothing else


def test_page_escapes_text_from_the_data(exported: ExportResult):
    html = (exported.folder / PAGE).read_text(encoding="utf-8")
    assert "Ada &lt;b&gt;Lovelace&lt;/b&gt; &amp; co" in html
    assert HTML_NAME not in html
    assert "=HYPERLINK(&quot;http://x&quot;,&quot;y&quot;)" in html
    assert "+cmd|&#x27; /C calc&#x27;!A0" in html


def test_page_shows_headline_numbers_and_main_tables(exported: ExportResult):
    html = (exported.folder / PAGE).read_text(encoding="utf-8")
    cards = dict(re.findall(r'class="value">([^<]*)</div><div class="label">([^<]*)<', html))
    assert cards["4"] == "Learners" and cards["50.0%"] == "Adoption"
    assert cards["8,100"] == "Total XP"
    top = html.split(TABLE_HEADINGS["top_learners"])[1].split("</table>")[0]
    assert top.index("HYPERLINK") < top.index("Lovelace")  # by XP: 5,000 before 3,000
    expiring = html.split(TABLE_HEADINGS["expiring"])[1].split("</table>")[0]
    assert "Azure Administrator" in expiring and "2026-12-15" in expiring
    assert "Fundamentals" not in expiring  # expired, not expiring


def test_page_renders_without_any_data():
    html = render_page({}, D2, {})
    page = outline(html)
    assert page.headings["h2"] == [QUALITY_HEADING, *TABLE_HEADINGS.values()]
    assert "No overview for this snapshot." in html
    assert "<p>Rows quarantined: not recorded for this snapshot.</p>" in html


def quality_section(html: str) -> str:
    return html.split('<section id="data-quality">')[1].split("</section>")[0]


def test_page_shows_rows_quarantined_and_the_checks_that_warned(exported: ExportResult):
    html = (exported.folder / PAGE).read_text(encoding="utf-8")
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
        "<h2>Data quality</h2><p>Rows quarantined: none of the 1,206 rows delivered.</p>"
        '<p class="note">Checks that warned: none.</p>'
    )


def test_page_escapes_the_quality_notes():
    from learn_assets.exports.tables import CheckNote

    noted = DataQuality(D2, notes=(CheckNote("Progress", "c", False, "<b>x</b> & y"),))
    assert "<li>Warning, Progress c: &lt;b&gt;x&lt;/b&gt; &amp; y</li>" in render_page(
        {}, D2, {}, noted
    )
