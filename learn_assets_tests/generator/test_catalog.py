"""The generated catalog, read back from the first snapshot's files."""

from __future__ import annotations

import json
import re

import pytest

from learn_assets.contracts.datasets import DATASETS, Kind
from learn_assets.generator import SampleSummary
from learn_assets_tests.generator.conftest import START, fetch, table_name


def t(name: str) -> str:
    return table_name(START, name)


def test_catalog_sizes(db) -> None:
    sizes = {
        name: fetch(db, "SELECT count(*) FROM {t}", t=t(name))[0][0]
        for name in (
            "hierarchy_learning_path",
            "hierarchy_module",
            "hierarchy_certification",
            "hierarchy_applied_skills",
        )
    }
    assert sizes == {
        "hierarchy_learning_path": 40,
        "hierarchy_module": 200,
        "hierarchy_certification": 30,
        "hierarchy_applied_skills": 20,
    }


def test_units_belong_to_one_module_and_are_numbered(db) -> None:
    rows = fetch(db, "SELECT unitUid, moduleUid, url FROM {u}", u=t("hierarchy_unit"))
    modules = {r[0] for r in fetch(db, "SELECT moduleUid FROM {m}", m=t("hierarchy_module"))}
    assert len({r[0] for r in rows}) == len(rows)
    per_module: dict[str, list[int]] = {}
    for unit, module, url in rows:
        assert module in modules
        slug = module.removeprefix("learn.")
        match = re.fullmatch(rf"{re.escape(module)}\.(\d+)-([a-z-]+)", unit)
        assert match, unit
        assert url == f"/training/modules/{slug}/{match[1]}-{match[2]}/"
        per_module.setdefault(module, []).append(int(match[1]))
    assert set(per_module) == modules
    assert all(
        sorted(n) == list(range(1, len(n) + 1)) and 3 <= len(n) <= 8 for n in per_module.values()
    )


def test_paths_have_three_to_eight_modules_with_sharing_and_orphans(db) -> None:
    (bad_paths, shared, in_no_path) = fetch(
        db,
        """
        SELECT
          (SELECT count(*) FROM (SELECT LearningPathUid FROM {link} GROUP BY ALL
                                 HAVING count(*) NOT BETWEEN 3 AND 8)),
          (SELECT count(*) FROM (SELECT ModuleUid FROM {link} GROUP BY ALL HAVING count(*) >= 2)),
          (SELECT count(*) FROM {module} WHERE moduleUid NOT IN (SELECT ModuleUid FROM {link}))
        """,
        link=t("hierarchy_learning_path_module"),
        module=t("hierarchy_module"),
    )[0]
    assert bad_paths == 0 and shared >= 10 and in_no_path >= 10
    (dangling,) = fetch(
        db,
        "SELECT count(*) FROM {link} WHERE ModuleUid NOT IN (SELECT moduleUid FROM {module})"
        " OR LearningPathUid NOT IN (SELECT LearningPathUid FROM {path})",
        link=t("hierarchy_learning_path_module"),
        module=t("hierarchy_module"),
        path=t("hierarchy_learning_path"),
    )[0]
    assert dangling == 0


URL_PATTERNS = {
    "hierarchy_learning_path": ("LearningPathUid", r"learn\.([a-z0-9-]+)", "/training/paths/{}/"),
    "hierarchy_module": ("moduleUid", r"learn\.([a-z0-9-]+)", "/training/modules/{}/"),
    "hierarchy_certification": (
        "certificationUid",
        r"certification\.([a-z0-9-]+)",
        "/credentials/certifications/{}/",
    ),
    "hierarchy_applied_skills": (
        "appliedSkillsUid",
        r"applied-skill\.([a-z0-9-]+)",
        "/credentials/applied-skills/{}/",
    ),
}


@pytest.mark.parametrize("table", sorted(URL_PATTERNS))
def test_uids_and_relative_urls(db, table: str) -> None:
    uid_col, uid_re, url_fmt = URL_PATTERNS[table]
    rows = fetch(db, f'SELECT "{uid_col}", url FROM {{t}}', t=t(table))
    for uid, url in rows:
        match = re.fullmatch(uid_re, uid)
        assert match and url == url_fmt.format(match[1]), (uid, url)


def test_typed_columns_parse(sample: SampleSummary, db) -> None:
    for ds in (d for d in DATASETS if not d.tenant):
        for col in ds.columns:
            values = [r[0] for r in fetch(db, f'SELECT "{col.name}" FROM {{t}}', t=t(ds.table))]
            if col.kind is Kind.JSON_ARRAY:
                for v in values:
                    items = json.loads(v)
                    assert isinstance(items, list) and all(isinstance(i, str) for i in items)
                    assert v == json.dumps(items, separators=(",", ":"), ensure_ascii=False)
            elif col.kind is Kind.INT:
                assert all(int(v) > 0 for v in values), (ds.name, col.name)
            elif col.kind is Kind.URL:
                assert all(v.startswith("/") for v in values), (ds.name, col.name)
    certs = fetch(db, "SELECT type, summary FROM {t}", t=t("hierarchy_certification"))
    assert all(kind == "0" and "," in summary for kind, summary in certs)
    points = {r[0] for r in fetch(db, "SELECT points FROM {t}", t=t("hierarchy_unit"))}
    assert points == {"100", "200"}
