"""report.html in a real headless Chromium: at 1400 px the DOM has the headings, the embedded
charts are painted and the learner table is filled; at 400 px (a phone) nothing scrolls the
page sideways, dates stay on one line, numbers and their headers are right-aligned; typing a
name into the search box filters the learner table, and clicking a learner shows their paths,
modules and certifications. See browser.py for how Chromium is driven.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from learn_assets.exports.charts import CHART_TITLES
from learn_assets.exports.files import PAGE, ExportResult
from learn_assets.exports.page import SECTIONS
from learn_assets_tests.exports.browser import Page, browser_page
from learn_assets_tests.exports.conftest import FORMULA_NAME, HTML_NAME, NEVER_EXPIRES_TITLE

pytestmark = pytest.mark.slow  # real CLI runs, servers or browsers: `make test-fast` leaves it out

ORANGE = np.array([0xED, 0x7D, 0x31]) / 255  # the charts' bar colour, nowhere else on the page
VISIBLE_NAMES = (
    "[...document.querySelectorAll('#learner-table tbody tr')]"
    ".filter(r => !r.hidden).map(r => r.cells[0].textContent)"
)
ALL_NAMES = ['=HYPERLINK("http://x","y")', HTML_NAME, "@admin", "(not in directory) 00000003"]


@pytest.fixture(scope="module")
def page(exported: ExportResult, tmp_path_factory: pytest.TempPathFactory):
    with browser_page(tmp_path_factory.mktemp("chromium") / "profile") as page:
        page.open((exported.folder / PAGE).resolve().as_uri())
        yield page


def test_report_page_renders_at_desktop_width(page: Page, tmp_path: Path):
    page.resize(1400, 1000)
    assert page.evaluate("window.innerWidth") == 1400
    assert page.evaluate("document.querySelector('h1').textContent") == (
        "Microsoft Learn report, snapshot 2026-11-02"
    )
    assert page.evaluate("[...document.querySelectorAll('h2')].map(h => h.textContent)") == list(
        SECTIONS.values()
    )
    images = page.evaluate(
        "[...document.images].map(i => [i.alt, i.complete && i.naturalWidth > 0])"
    )
    assert images == [[title, True] for title in CHART_TITLES.values()]  # decoded
    assert page.evaluate(VISIBLE_NAMES) == ALL_NAMES  # the script ran: most XP first
    assert page.evaluate("document.getElementById('learner-count').textContent") == (
        "4 of 4 learners shown"
    )
    page.evaluate("document.getElementById('activity').scrollIntoView()")
    image = matplotlib.image.imread(page.screenshot(tmp_path / "page.png"))[..., :3]
    assert image.shape[:2] == (1000, 1400)
    assert image.std() > 0.05  # not one flat colour
    orange = (np.abs(image - ORANGE).max(axis=2) < 0.05).sum()
    assert orange > 500  # the embedded chart images were decoded and painted


def test_at_phone_width_nothing_scrolls_the_page_sideways(page: Page):
    page.resize(400, 900)
    assert page.evaluate("window.innerWidth") == 400
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # the wide tables scroll inside their own box instead
    boxes = page.evaluate(
        "[...document.querySelectorAll('.scroll')].map(b => [b.scrollWidth > b.clientWidth, "
        "b.getBoundingClientRect().right <= window.innerWidth])"
    )
    assert [True, True] in boxes and all(fits for _, fits in boxes)
    lines = (  # the line boxes of a cell's text
        "td => { const r = document.createRange(); r.selectNodeContents(td); "
        "return r.getClientRects().length; }"
    )
    dates = page.evaluate(
        "[...document.querySelectorAll('td.date')].filter(td => td.textContent)"
        f".map(td => [getComputedStyle(td).whiteSpace, ({lines})(td)])"
    )
    assert len(dates) > 5 and all(d == ["nowrap", 1] for d in dates)  # one line each
    aligned = page.evaluate(
        "[...document.querySelectorAll('th.num, td.num')].map(c => getComputedStyle(c).textAlign)"
    )
    assert aligned and set(aligned) == {"right"}


def test_typing_a_name_filters_the_learner_table(page: Page):
    page.resize(400, 900)
    page.type("#learner-search", "lovelace")
    assert page.evaluate(VISIBLE_NAMES) == [HTML_NAME]
    assert page.evaluate("document.getElementById('learner-count').textContent") == (
        "1 of 4 learners shown"
    )
    page.evaluate("document.getElementById('learner-search').value = ''")
    page.type("#learner-search", "not in directory")
    assert page.evaluate(VISIBLE_NAMES) == ["(not in directory) 00000003"]
    page.evaluate("document.getElementById('learner-search').value = ''")
    page.type("#learner-search", "nobody by this name")
    assert page.evaluate(VISIBLE_NAMES) == []
    page.evaluate("document.getElementById('learner-search').value = ''")
    page.type("#learner-search", "hyperlink")
    assert page.evaluate(VISIBLE_NAMES) == [FORMULA_NAME]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_clicking_a_learner_shows_their_paths_modules_and_certifications(page: Page):
    page.resize(1400, 1000)
    page.evaluate("document.getElementById('learner-search').value = ''")
    page.type("#learner-search", "hyperlink")
    page.evaluate("document.querySelector('#learner-table tbody tr:not([hidden]) button').click()")
    detail = page.evaluate(
        "(() => { const d = document.getElementById('learner-detail'); return [d.hidden, "
        "[...d.querySelectorAll('h3')].map(h => h.textContent), "
        "[...d.querySelectorAll('tbody tr')].map(r => [...r.cells].map(c => c.textContent))]"
        "})()"
    )
    assert detail == [
        False,
        [f"{FORMULA_NAME} (+cmd|' /C calc'!A0)", "Learning paths", "Modules", "Certifications"],
        [
            ["Azure basics", "1 of 2 modules", "no"],
            ["@Intro to Azure", "all 4 units", "yes"],
            ["Azure Administrator", "expiring soon", "2026-12-15"],
        ],
    ]
    # names are text, never markup
    assert page.evaluate("document.querySelectorAll('#learner-table b').length") == 0


def test_a_certification_that_never_expires_says_so_in_the_learner_details(page: Page):
    page.resize(400, 900)
    page.evaluate("document.getElementById('learner-search').value = ''")
    page.type("#learner-search", "@admin")
    assert page.evaluate(VISIBLE_NAMES) == ["@admin"]
    page.evaluate("document.querySelector('#learner-table tbody tr:not([hidden]) button').click()")
    detail = page.evaluate(
        "[...document.querySelectorAll('#learner-detail tbody tr')]"
        ".map(r => [...r.cells].map(c => c.textContent))"
    )
    assert detail == [[NEVER_EXPIRES_TITLE, "active", "never"]]  # no path, no module started
    assert page.evaluate(
        "[...document.querySelectorAll('#learner-detail .note')].map(p => p.textContent)"
    ) == ["No learning path started.", "No module started."]
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
