"""The consolidated group's `report.html`: the group at a glance with a per-tenant breakdown.

Made from the group's consolidated `org_overview` (one row per tenant and snapshot, aggregates
only: no person is named, whatever each tenant's privacy mode), next to the group's tables at
`<group lake>/<group>/report.html`:

- one row per member tenant with its latest snapshot's numbers, and the group's total row: counts
  add up; rates are recomputed from the added counts (adoption = adopted directory users /
  directory users, completion = modules completed / started), never averaged;
- learners per snapshot date and tenant over the last `TREND_DAYS` snapshots.

Tenants deliver on their own days, so each row says which snapshot it is; a tenant with no
published snapshot yet shows as such. Like each tenant's `report.html`: one self-contained page,
inline CSS, no scripts, a Content-Security-Policy saying so, every value HTML-escaped.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

TREND_DAYS = 14
CSP = "default-src 'none'; style-src 'unsafe-inline'"
COUNTS = (
    "directory_users",
    "learners",
    "modules_started",
    "modules_completed",
    "learning_paths_completed",
    "total_xp",
    "active_certifications",
    "expiring_certifications",
    "applied_skills",
)
CSS = """
body { font-family: "Segoe UI", "DejaVu Sans", Arial, sans-serif; margin: 2rem auto;
       max-width: 1100px; padding: 0 1rem; color: #222; background: #fff; }
h1, h2 { color: #1f4e78; }
h2 { border-bottom: 2px solid #dde6f0; padding-bottom: .2rem; margin-top: 2rem; }
.note { color: #666; }
.wide { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .9rem; }
th { background: #1f4e78; color: #fff; text-align: left; padding: .35rem .5rem; }
td { border-bottom: 1px solid #e3e3e3; padding: .3rem .5rem; white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: 600; border-top: 2px solid #1f4e78; }
"""


@dataclass(frozen=True)
class TenantRow:
    """A member's latest snapshot (None: nothing published yet) and its numbers."""

    tenant: str
    snapshot: dt.date | None
    counts: Mapping[str, int]
    adopted: int  # directory users who are learners: adoption_rate x directory_users

    @property
    def adoption_rate(self) -> float | None:
        users = self.counts.get("directory_users", 0)
        return self.adopted / users if users else None

    @property
    def module_completion_rate(self) -> float | None:
        started = self.counts.get("modules_started", 0)
        return self.counts.get("modules_completed", 0) / started if started else None


def _adopted(row: Mapping[str, Any]) -> int:
    rate, users = row.get("adoption_rate"), row.get("directory_users") or 0
    return 0 if rate is None else round(rate * users)


def breakdown(
    overview: Sequence[Mapping[str, Any]], members: Sequence[str]
) -> tuple[list[TenantRow], TenantRow]:
    """Each member's latest snapshot from the consolidated org_overview rows (`tenant`,
    `snapshot_date` and the report's columns), in the members' order, and the group's total."""
    latest: dict[str, Mapping[str, Any]] = {}
    for row in overview:
        seen = latest.get(row["tenant"])
        if seen is None or row["snapshot_date"] > seen["snapshot_date"]:
            latest[row["tenant"]] = row
    rows = []
    for tenant in members:
        row = latest.get(tenant)
        if row is None:
            rows.append(TenantRow(tenant, None, {}, 0))
            continue
        counts = {c: int(row.get(c) or 0) for c in COUNTS}
        rows.append(TenantRow(tenant, row["snapshot_date"], counts, _adopted(row)))
    total = TenantRow(
        "all tenants",
        max((r.snapshot for r in rows if r.snapshot), default=None),
        {c: sum(r.counts.get(c, 0) for r in rows) for c in COUNTS},
        sum(r.adopted for r in rows),
    )
    return rows, total


def trend(
    overview: Sequence[Mapping[str, Any]], members: Sequence[str], days: int = TREND_DAYS
) -> list[tuple[dt.date, dict[str, int | None]]]:
    """Learners per snapshot date (the last `days` dates any member has) and tenant."""
    learners: dict[dt.date, dict[str, int | None]] = {}
    for row in overview:
        learners.setdefault(row["snapshot_date"], {})[row["tenant"]] = row.get("learners")
    dates = sorted(learners)[-days:]
    return [(d, {m: learners[d].get(m) for m in members}) for d in dates]


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _int(value: int | None) -> str:
    return "–" if value is None else f"{value:,}"


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


BREAKDOWN_COLUMNS = (
    ("Learners", lambda r: _int(r.counts.get("learners"))),
    ("Directory users", lambda r: _int(r.counts.get("directory_users"))),
    ("Adoption", lambda r: _rate(r.adoption_rate)),
    ("Modules started", lambda r: _int(r.counts.get("modules_started"))),
    ("Modules completed", lambda r: _int(r.counts.get("modules_completed"))),
    ("Completion rate", lambda r: _rate(r.module_completion_rate)),
    ("Paths completed", lambda r: _int(r.counts.get("learning_paths_completed"))),
    ("Total XP", lambda r: _int(r.counts.get("total_xp"))),
    ("Active certifications", lambda r: _int(r.counts.get("active_certifications"))),
    ("Expiring soon", lambda r: _int(r.counts.get("expiring_certifications"))),
    ("Applied skills", lambda r: _int(r.counts.get("applied_skills"))),
)


def _breakdown_table(rows: Sequence[TenantRow], total: TenantRow) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in ("Tenant", "Snapshot", *dict(BREAKDOWN_COLUMNS)))
    body = []
    for row, cls in [*((r, "") for r in rows), (total, ' class="total"')]:
        if row.snapshot is None and row is not total:
            cells = f'<td colspan="{len(BREAKDOWN_COLUMNS) + 1}">nothing published yet</td>'
        else:
            shown = "latest of each" if row is total else _esc(row.snapshot)
            cells = f"<td>{shown}</td>" + "".join(
                f'<td class="num">{_esc(show(row))}</td>' for _, show in BREAKDOWN_COLUMNS
            )
        body.append(f"<tr{cls}><td>{_esc(row.tenant)}</td>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _trend_table(days: Sequence[tuple[dt.date, Mapping[str, int | None]]], members) -> str:
    if not days:
        return '<p class="note">No snapshot published yet.</p>'
    head = "".join(f"<th>{_esc(h)}</th>" for h in ("Snapshot", *members, "all tenants"))
    body = []
    for day, learners in days:
        known = [v for v in learners.values() if v is not None]
        cells = "".join(f'<td class="num">{_int(learners[m])}</td>' for m in members)
        body.append(f'<tr><td>{_esc(day)}</td>{cells}<td class="num">{_int(sum(known))}</td></tr>')
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def render_group_page(group: str, members: Sequence[str], overview: pa.Table | None) -> str:
    """The group's page from its consolidated org_overview (None: not made yet)."""
    rows_in = [] if overview is None else overview.to_pylist()
    rows, total = breakdown(rows_in, members)
    days = trend(rows_in, members)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Microsoft Learn: {_esc(group)}</title><style>{CSS}</style></head><body>"
        f"<h1>Microsoft Learn: {_esc(group)}</h1>"
        f'<p class="note">Tenants {_esc(", ".join(members))}, each as of its latest published '
        "snapshot; the total adds the counts and recomputes the rates from them. Each tenant's "
        "own report.html has the detail.</p>"
        f'<h2>Per tenant</h2><div class="wide">{_breakdown_table(rows, total)}</div>'
        f'<h2>Learners per snapshot</h2><div class="wide">{_trend_table(days, members)}</div>'
        "</body></html>\n"
    )
