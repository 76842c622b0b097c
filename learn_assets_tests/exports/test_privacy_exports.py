"""Privacy mode in the exports of the hand-built tenant: report.html (its text and its embedded
learner data, decoded) and reports.xlsx (every XML part and every cell), and every other file
written, hold no directory name, mail, UPN or Entra object id of the tenant; without privacy
mode the same search finds them (so the search can see them)."""

from __future__ import annotations

import html
import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from openpyxl import load_workbook

from learn_assets.exports.files import PAGE, WORKBOOK, export_snapshot
from learn_assets.resources.reporting import ReportSettingsValues
from learn_assets_tests.helpers import run_snapshots
from learn_assets_tests.reports.tenant import AAD, D1, D2, DIRECTORY, A, write_tenant

pytestmark = pytest.mark.slow  # two warehouses built and exported

KEY = "correct horse battery staple"


def needles() -> set[str]:
    """Every directory name, mail, UPN and object id of the tenant (Entra and Users)."""
    found = {p[c] for p in DIRECTORY for c in ("displayName", "mail", "userPrincipalName", "id")}
    return found | set(AAD.values())


def exported(tmp: Path, private: bool) -> Path:
    write_tenant(tmp / "landing")
    settings = ReportSettingsValues(pseudonymize=private, pseudonym_key=KEY if private else "")
    with duckdb.connect(str(tmp / "w.duckdb")) as conn:
        run_snapshots(conn, tmp / "landing", [D1, D2], settings)
        for day in (D1, D2):
            export_snapshot(conn, day, tmp / "exports")
    return tmp / "exports"


def strings(value: object) -> Iterator[str]:
    """Every string inside decoded JSON."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | dict):
        for item in value.values() if isinstance(value, dict) else value:
            yield from strings(item)


def page_texts(path: Path) -> Iterator[str]:
    raw = path.read_text(encoding="utf-8")
    yield raw
    yield html.unescape(raw)
    (data,) = re.findall(r'<script type="application/json" id="learner-data">(.*?)</script>', raw)
    yield "\n".join(strings(json.loads(data)))


def workbook_texts(path: Path) -> Iterator[str]:
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            yield html.unescape(archive.read(name).decode("utf-8"))
    for sheet in load_workbook(path).worksheets:
        yield "\n".join(str(v) for row in sheet.iter_rows(values_only=True) for v in row)


def texts(folder: Path) -> Iterator[tuple[str, str]]:
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.name == PAGE:
            yield from ((str(path), t) for t in page_texts(path))
        elif path.name == WORKBOOK:
            yield from ((str(path), t) for t in workbook_texts(path))
        elif path.suffix == ".parquet":
            yield str(path), str(pq.read_table(path).to_pylist())
        elif path.suffix == ".csv":
            yield str(path), path.read_text(encoding="utf-8-sig")


def leaks(folder: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for name, text in texts(folder):
        if hit := {n for n in needles() if n.lower() in text.lower()}:
            found.setdefault(Path(name).name, set()).update(hit)
    return found


def test_privacy_mode_exports_no_name_mail_upn_or_object_id(tmp_path: Path):
    folder = exported(tmp_path, private=True)
    assert leaks(folder) == {}
    learners = next(page_texts(folder / D2.isoformat() / PAGE))
    assert "Learner " in learners  # pseudonyms instead


def test_without_privacy_mode_the_same_search_finds_them(tmp_path: Path):
    found = leaks(exported(tmp_path, private=False))
    assert found[PAGE] >= {"Ada Lovelace", "Bob Stone", "Cy Young"}  # in the learner data
    assert found[WORKBOOK] >= {"Ada Lovelace", "Cy Young", AAD[A]}  # Cy: on D2, as a leaver
