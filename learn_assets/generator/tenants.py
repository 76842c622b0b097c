"""`learn-assets sample --tenants N`: N different sample tenants and their tenants file.

Tenant k (0-based) is the sample tenant of seed `seed + 1000 k` (so tenant 0 is exactly
`learn-assets sample` with the same options) with `users x SIZE_FACTORS[k]` learners: different
tenant ids, learner and directory ids, sizes and study habits (which content is popular is drawn
per seed). The catalog is Learn's, the same for every tenant as the service delivers it, so the
tenants' catalogs overlap entirely and the content their learners use overlaps in part.

Layout under `out`: `<name>/landing/` (the tenant's snapshots and Entra export) and
`tenants.yaml`, a tenants file for them with every location under `<name>/` (relative to the
file) and, for two tenants or more, the consolidated group `all_tenants` of all of them with its
lake in `lake/` (so `lake/all_tenants/reports/<report>`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from learn_assets.generator.sample import SampleSummary, generate_sample

TENANT_NAMES = (
    "contoso",
    "fabrikam",
    "northwind",
    "adatum",
    "litware",
    "tailspin",
    "woodgrove",
    "proseware",
)
SIZE_FACTORS = (1.0, 0.6, 1.5, 0.8, 1.25, 0.5, 2.0, 0.7)
SEED_STEP = 1000
GROUP = "all_tenants"
TENANTS_FILE = "tenants.yaml"


@dataclass(frozen=True)
class SampleTenant:
    name: str
    users: int
    seed: int


@dataclass(frozen=True)
class TenantsSample:
    out: Path
    tenants_file: Path
    tenants: dict[str, SampleSummary]  # by name, in order


def tenant_plan(n: int, users: int, seed: int) -> list[SampleTenant]:
    """The N tenants: names, sizes and seeds (pure)."""
    if not 1 <= n <= 99:
        raise ValueError(f"tenants must be between 1 and 99, got {n}")
    plan = []
    for k in range(n):
        name = TENANT_NAMES[k] if k < len(TENANT_NAMES) else f"tenant{k + 1}"
        factor = SIZE_FACTORS[k % len(SIZE_FACTORS)]
        plan.append(SampleTenant(name, max(1, round(users * factor)), seed + SEED_STEP * k))
    return plan


def tenants_config(summaries: dict[str, SampleSummary]) -> dict:
    """The tenants file of the generated tenants (locations relative to it)."""
    tenants = [
        {
            "name": name,
            "tenant_id": summary.tenant_id,
            "owner": f"learning-data@{name}.example.com",
            "landing": f"{name}/landing",
            "warehouse": f"{name}/warehouse.duckdb",
            "exports": f"{name}/exports",
            "lake": f"{name}/lake",
            "pseudonymize": False,
        }
        for name, summary in summaries.items()
    ]
    config: dict = {"tenants": tenants}
    if len(tenants) > 1:
        config["consolidated"] = [{"name": GROUP, "members": list(summaries), "lake": "lake"}]
    return config


def generate_tenants(
    out: Path,
    n: int,
    users: int,
    days: int,
    start: dt.date,
    seed: int,
    fmt: str = "csv",
    activity: float = 1.0,
    growth: float | None = None,
    corrections: bool = False,
    faults: bool = False,
    progress: Callable[[str], None] | None = None,
) -> TenantsSample:
    """Write N sample tenants and their tenants file under `out` (see the module docstring)."""
    out = Path(out)
    summaries = {}
    for tenant in tenant_plan(n, users, seed):
        if progress:
            progress(f"tenant {tenant.name}: {tenant.users} learners, seed {tenant.seed}")
        summaries[tenant.name] = generate_sample(
            out / tenant.name / "landing",
            tenant.users,
            days,
            start,
            tenant.seed,
            fmt,
            faults=faults,
            activity=activity,
            growth=growth,
            corrections=corrections,
            progress=progress,
        )
    path = out / TENANTS_FILE
    header = (
        "# Sample tenants written by `learn-assets sample --tenants N` (docs/tenants.md).\n"
        "# Locations are relative to this file. Use it: export LEARN_TENANTS_FILE=<this file>\n"
    )
    path.write_text(header + yaml.safe_dump(tenants_config(summaries), sort_keys=False))
    return TenantsSample(out, path, summaries)
