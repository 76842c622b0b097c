"""report.html in a real headless Chromium: the DOM has the headings, the page is not blank and
the embedded charts are drawn.

Chromium comes from Debian (`apt-get install chromium`; .ci/run installs it). In CI (`CI` set) a
missing browser fails the test; on a developer machine it is skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from learn_assets.exports.charts import CHART_TITLES
from learn_assets.exports.files import PAGE, ExportResult
from learn_assets.exports.page import TABLE_HEADINGS

pytestmark = pytest.mark.slow  # real CLI runs, servers or browsers: `make test-fast` leaves it out

WINDOW = (1280, 2000)
ORANGE = np.array([0xED, 0x7D, 0x31]) / 255  # the charts' bar colour, nowhere else on the page


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    reason = "chromium is not installed (apt-get install -y chromium)"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: CI must run the browser test")
    pytest.skip(reason)


def run_chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        *args,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def test_report_page_renders_in_headless_chromium(exported: ExportResult, tmp_path: Path):
    url = (exported.folder / PAGE).resolve().as_uri()
    dom = run_chromium(tmp_path / "profile", "--dump-dom", url).stdout
    assert "<h1>Microsoft Learn report, snapshot 2026-11-02</h1>" in dom
    for heading in [*CHART_TITLES.values(), *TABLE_HEADINGS.values()]:
        assert f"<h2>{heading}</h2>" in dom, heading
    assert "Ada &lt;b&gt;Lovelace&lt;/b&gt; &amp; co" in dom  # text, not markup

    shot = tmp_path / "page.png"
    run_chromium(tmp_path / "profile", f"--screenshot={shot}", url)
    image = matplotlib.image.imread(shot)[..., :3]
    assert image.shape[:2] == (WINDOW[1], WINDOW[0])
    assert image.std() > 0.05  # not one flat colour
    assert (image.min(axis=2) < 0.9).mean() > 0.02  # some of the page is drawn on
    orange = (np.abs(image - ORANGE).max(axis=2) < 0.05).sum()
    assert orange > 500  # the embedded chart images were decoded and painted
