"""The Learn catalog of the sample: learning paths, modules, units, certifications, applied skills.

The catalog is the same for every tenant on the real service, so it is drawn from a fixed seed
(`CATALOG_SEED`), not from the tenant seed: two sample tenants can be combined like real ones.
It is small and independent of the number of users, so plain Python builds it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from learn_assets.contracts.datasets import DATASETS_BY_NAME, Kind
from learn_assets.generator import words

CATALOG_SEED = 20_240_601
N_MODULES = 200
N_PATHS = 40
N_MODULES_IN_NO_PATH = 35  # these never appear in HierarchyLearningPathModule


@dataclass(frozen=True)
class Catalog:
    """Catalog arrays indexed by position; the event history refers to content by these indexes."""

    module_uids: list[str]
    module_points: np.ndarray  # int64, XP for completing the module
    module_unit_start: np.ndarray  # int64, index of the module's first unit
    module_unit_count: np.ndarray  # int64, 3..8
    unit_uids: list[str]
    unit_points: np.ndarray  # int64
    path_uids: list[str]
    path_points: np.ndarray  # int64
    path_module_ptr: np.ndarray  # int64 CSR offsets: modules of path p = idx[ptr[p]:ptr[p + 1]]
    path_module_idx: np.ndarray  # int64 module indexes in path order
    cert_uids: list[str]
    cert_titles: list[str]
    cert_fundamentals: np.ndarray  # bool: fundamentals certifications never expire
    skill_uids: list[str]
    skill_lab_names: list[str]  # "APL-3004: <title>"
    tables: dict[str, pa.Table]  # the six catalog datasets, columns as in DATASETS


def slugify(text: str) -> str:
    """`Introduction to Azure Functions` -> `introduction-to-azure-functions`."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def json_array(items: Sequence[str]) -> str:
    """Compact JSON array string as the service writes it: `["beginner","intermediate"]`."""
    return json.dumps(list(items), separators=(",", ":"), ensure_ascii=False)


def _pick(rng: np.random.Generator, pool: Sequence[str], low: int, high: int) -> list[str]:
    """`low..high` distinct items of `pool`, in pool order (stable, readable arrays)."""
    k = int(rng.integers(low, high + 1))
    chosen = np.sort(rng.choice(len(pool), size=min(k, len(pool)), replace=False))
    return [pool[i] for i in chosen]


def _table(name: str, values: dict[str, list]) -> pa.Table:
    """Arrow table for catalog dataset `name` with exactly its dictionary columns, in order."""
    dataset = DATASETS_BY_NAME[name]
    if set(values) != set(dataset.column_names):
        raise AssertionError(f"{name}: columns {sorted(values)} != {dataset.column_names}")
    arrays = {
        c.name: pa.array(
            values[c.name], pa.int32() if c.kind in (Kind.INT, Kind.YYYYMMDD) else pa.string()
        )
        for c in dataset.columns
    }
    return pa.table(arrays)


def _module_titles(rng: np.random.Generator) -> list[tuple[str, int]]:
    """N_MODULES distinct (title, product index) pairs."""
    seen: dict[str, int] = {}
    for t in words.MODULE_TEMPLATES:
        for pi, (product, _) in enumerate(words.PRODUCTS):
            for noun in words.MODULE_NOUNS:
                seen.setdefault(t.format(p=product, n=noun), pi)
    titles = list(seen.items())
    order = rng.permutation(len(titles))[:N_MODULES]
    return [titles[i] for i in order]


def _units(rng: np.random.Generator, n: int) -> list[tuple[str, str, int, int]]:
    """(slug, title, minutes, points) of n units: introduction, middle, knowledge check, summary."""
    middle_pool = words.UNIT_WORDS[:-1]  # knowledge check is placed deliberately
    n_middle = n - 2 - (1 if n >= 4 else 0)
    middle = [middle_pool[i] for i in rng.choice(len(middle_pool), n_middle, replace=False)]
    parts = [("introduction", "Introduction"), *middle]
    if n >= 4:
        parts.append(words.UNIT_WORDS[-1])
    parts.append(("summary", "Summary"))
    out = []
    for i, (word, title) in enumerate(parts, start=1):
        hands_on = word.startswith("exercise") or word == "knowledge-check"
        minutes = int(rng.integers(8, 25) if hands_on else rng.integers(2, 9))
        out.append((f"{i}-{word}", title, minutes, 200 if hands_on else 100))
    return out


def _path_modules(
    rng: np.random.Generator, path_products: list[int], module_products: list[int]
) -> list[list[int]]:
    """3..8 modules per path, mostly of the path's product; some modules stay in no path."""
    pool = rng.permutation(len(module_products))[: len(module_products) - N_MODULES_IN_NO_PATH]
    used = np.zeros(len(module_products), np.int64)
    result = []
    for product in path_products:
        size = int(rng.integers(3, 9))
        same = [int(m) for m in rng.permutation(pool) if module_products[m] == product]
        # Fill with the least-used other modules so most of the pool ends up in some path.
        others = rng.permutation(pool)
        others = others[np.argsort(used[others], kind="stable")]
        other = [int(m) for m in others if module_products[m] != product]
        take_same = min(len(same), -(-size * 3 // 5))
        chosen = same[:take_same] + other[: size - take_same]
        used[chosen] += 1
        result.append(chosen)
    return result


def build_catalog(seed: int = CATALOG_SEED) -> Catalog:
    """Build the whole catalog deterministically from `seed`."""
    rng = np.random.default_rng(seed)
    product_slugs = [s for _, s in words.PRODUCTS]

    mod: dict[str, list] = {c: [] for c in DATASETS_BY_NAME["HierarchyModule"].column_names}
    unit: dict[str, list] = {c: [] for c in DATASETS_BY_NAME["HierarchyUnit"].column_names}
    module_products: list[int] = []
    unit_start: list[int] = []
    unit_count: list[int] = []
    for title, pi in _module_titles(rng):
        slug = slugify(title)
        uid = f"learn.{slug}"
        units = _units(rng, int(rng.integers(3, 9)))
        unit_start.append(len(unit["unitUid"]))
        unit_count.append(len(units))
        for uslug, utitle, minutes, points in units:
            unit["unitUid"].append(f"{uid}.{uslug}")
            unit["title"].append(utitle)
            unit["url"].append(f"/training/modules/{slug}/{uslug}/")
            unit["durationInMinutes"].append(minutes)
            unit["points"].append(points)
            unit["moduleUid"].append(uid)
        module_products.append(pi)
        mod["moduleUid"].append(uid)
        mod["title"].append(title)
        mod["url"].append(f"/training/modules/{slug}/")
        mod["iconUrl"].append(f"/training/achievements/{slug}.svg")
        mod["durationInMinutes"].append(sum(u[2] for u in units))
        mod["points"].append(100 * len(units))
        mod["levels"].append(json_array(_pick(rng, words.LEVELS, 1, 2)))
        extra = ["azure"] if product_slugs[pi].startswith("azure") else []
        mod["products"].append(json_array([*extra, product_slugs[pi]]))
        mod["roles"].append(json_array(_pick(rng, words.ROLES, 1, 3)))
        mod["languages"].append(json_array(_pick(rng, words.LANGUAGES, 0, 2)))
    assert len(set(mod["moduleUid"])) == N_MODULES, "module slugs must be unique"

    path_titles = sorted(
        {
            (t.format(p=p), pi)
            for t in words.PATH_TEMPLATES
            for pi, (p, _) in enumerate(words.PRODUCTS)
        }
    )
    chosen = [path_titles[i] for i in rng.permutation(len(path_titles))[:N_PATHS]]
    members = _path_modules(rng, [pi for _, pi in chosen], module_products)
    path: dict[str, list] = {c: [] for c in DATASETS_BY_NAME["HierarchyLearningPath"].column_names}
    for (title, pi), mods in zip(chosen, members, strict=True):
        slug = slugify(title)
        path["LearningPathUid"].append(f"learn.{slug}")
        path["title"].append(title)
        path["url"].append(f"/training/paths/{slug}/")
        path["durationInMinutes"].append(sum(mod["durationInMinutes"][m] for m in mods))
        path["points"].append(sum(mod["points"][m] for m in mods) + 500)
        path["iconUrl"].append(f"/training/achievements/{slug}.svg")
        path["levels"].append(json_array(_pick(rng, words.LEVELS, 1, 2)))
        path["products"].append(json_array([product_slugs[pi]]))
        path["roles"].append(json_array(_pick(rng, words.ROLES, 1, 3)))
        path["languages"].append(json_array(_pick(rng, words.LANGUAGES, 0, 2)))
    link = {
        "LearningPathUid": [path["LearningPathUid"][p] for p, ms in enumerate(members) for _ in ms],
        "ModuleUid": [mod["moduleUid"][m] for ms in members for m in ms],
    }

    cert, cert_fund = _certifications(rng, product_slugs)
    skill, lab_names = _applied_skills(rng, product_slugs)
    return Catalog(
        module_uids=mod["moduleUid"],
        module_points=np.array(mod["points"], np.int64),
        module_unit_start=np.array(unit_start, np.int64),
        module_unit_count=np.array(unit_count, np.int64),
        unit_uids=unit["unitUid"],
        unit_points=np.array(unit["points"], np.int64),
        path_uids=path["LearningPathUid"],
        path_points=np.array(path["points"], np.int64),
        path_module_ptr=np.concatenate([[0], np.cumsum([len(m) for m in members])]).astype(
            np.int64
        ),
        path_module_idx=np.array([m for ms in members for m in ms], np.int64),
        cert_uids=cert["certificationUid"],
        cert_titles=cert["title"],
        cert_fundamentals=np.array(cert_fund, bool),
        skill_uids=skill["appliedSkillsUid"],
        skill_lab_names=lab_names,
        tables={
            "HierarchyAppliedSkills": _table("HierarchyAppliedSkills", skill),
            "HierarchyCertification": _table("HierarchyCertification", cert),
            "HierarchyLearningPath": _table("HierarchyLearningPath", path),
            "HierarchyLearningPathModule": _table("HierarchyLearningPathModule", link),
            "HierarchyModule": _table("HierarchyModule", mod),
            "HierarchyUnit": _table("HierarchyUnit", unit),
        },
    )


_EXAM_PREFIX = {"Fundamentals": 900, "Associate": 100, "Expert": 400, "Specialty": 120}
_CERT_LEVELS = {
    "Fundamentals": ["beginner"],
    "Associate": ["intermediate"],
    "Expert": ["advanced"],
    "Specialty": ["intermediate", "advanced"],
}


def _certifications(
    rng: np.random.Generator, product_slugs: list[str]
) -> tuple[dict[str, list], list[bool]]:
    cert: dict[str, list] = {c: [] for c in DATASETS_BY_NAME["HierarchyCertification"].column_names}
    fundamentals = []
    for i, (area, level) in enumerate(words.CERTIFICATIONS):
        slug = slugify(area) + ("-fundamentals" if level == "Fundamentals" else "")
        code = _EXAM_PREFIX[level] + i
        exams = [f"exam.az-{code}"] + ([f"exam.az-{code + 300}"] if level == "Expert" else [])
        cert["certificationUid"].append(f"certification.{slug}")
        cert["type"].append("0")
        cert["title"].append(f"Microsoft Certified: {area} {level}")
        # The summary holds commas on purpose: it exercises CSV quoting.
        cert["summary"].append(
            f"Candidates for this certification plan, implement, and manage {area} solutions."
        )
        cert["url"].append(f"/credentials/certifications/{slug}/")
        cert["iconUrl"].append(
            f"/media/learn/certification/badges/microsoft-certified-{level.lower()}-badge.svg"
        )
        cert["levels"].append(json_array(_CERT_LEVELS[level]))
        cert["products"].append(json_array(_pick(rng, product_slugs, 1, 3)))
        cert["roles"].append(json_array(_pick(rng, words.ROLES, 1, 2)))
        cert["exams"].append(json_array(exams))
        fundamentals.append(level == "Fundamentals")
    return cert, fundamentals


def _applied_skills(
    rng: np.random.Generator, product_slugs: list[str]
) -> tuple[dict[str, list], list[str]]:
    skill: dict[str, list] = {
        c: [] for c in DATASETS_BY_NAME["HierarchyAppliedSkills"].column_names
    }
    codes = np.sort(rng.choice(np.arange(1001, 5000), len(words.APPLIED_SKILLS), replace=False))
    lab_names = []
    for title, code in zip(words.APPLIED_SKILLS, codes, strict=True):
        slug = slugify(title)
        skill["appliedSkillsUid"].append(f"applied-skill.{slug}")
        skill["title"].append(title)
        skill["url"].append(f"/credentials/applied-skills/{slug}/")
        skill["levels"].append(json_array(_pick(rng, words.LEVELS[:2], 1, 1)))
        skill["products"].append(json_array(_pick(rng, product_slugs, 1, 4)))
        skill["roles"].append(json_array(_pick(rng, words.ROLES, 1, 3)))
        skill["subjects"].append(json_array(_pick(rng, words.SUBJECTS, 1, 3)))
        skill["tasks"].append(json_array(_pick(rng, words.TASKS, 3, 6)))
        lab_names.append(f"APL-{code}: {title}")
    return skill, lab_names
