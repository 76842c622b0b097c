"""The consolidated view of a group of tenants: `<group>/reports/<report>` holds every member's
rows with a `tenant` column (a Delta table partitioned by tenant), rewritten in one commit only
when a member's table changed; the group's report.html shows each tenant and the group's total,
rates recomputed from the added counts (never averaged)."""

from __future__ import annotations

import datetime as dt
import re

import dagster as dg
import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from learn_assets.publish.consolidated import (
    SOURCES,
    TENANT_COLUMN,
    consolidated_definitions,
    member_key,
)
from learn_assets.publish.group_report import breakdown, render_group_page, trend
from learn_assets.publish.group_tables import consolidate
from learn_assets.publish.lake import Lake
from learn_assets.reports.build import REPORT_TABLES
from learn_assets.settings import setting_parsers
from learn_assets.tenants import parse_tenants

D1, D2, D3 = dt.date(2026, 11, 1), dt.date(2026, 11, 2), dt.date(2026, 11, 3)
REPORTS = {r.name: r for r in REPORT_TABLES}
OVERVIEW = REPORTS["org_overview"]


def overview_row(day: dt.date, users: int, adoption: float, started: int, done: int, **more):
    return {
        "snapshot_date": day,
        "directory_users": users,
        "learners": more.get("learners", round(users * adoption)),
        "adoption_rate": adoption,
        "modules_started": started,
        "modules_completed": done,
        "module_completion_rate": done / started if started else None,
        "learning_paths_completed": more.get("paths", 1),
        "total_xp": more.get("xp", 1000),
        "active_certifications": more.get("certs", 2),
        "expiring_certifications": 0,
        "applied_skills": 1,
    }


def publish(lake: Lake, rows: list[dict], mode: str = "overwrite") -> None:
    """What a member's publish leaves in its lake: reports/org_overview as a Delta table."""
    write_deltalake(lake.uri("reports", "org_overview"), pa.Table.from_pylist(rows), mode=mode)


@pytest.fixture
def lakes(tmp_path) -> dict[str, Lake]:
    return {name: Lake(str(tmp_path / name / "lake")) for name in ("contoso", "fabrikam")}


def rows_of(target: Lake, group: str, report: str) -> list[dict]:
    table = DeltaTable(target.uri(f"{group}/reports", report)).to_pyarrow_table()
    return sorted(table.to_pylist(), key=lambda r: (r[TENANT_COLUMN], r["snapshot_date"]))


def test_the_group_table_has_every_members_rows_with_a_tenant_column(tmp_path, lakes):
    contoso = [overview_row(D1, 10, 0.5, 20, 10), overview_row(D2, 10, 0.6, 22, 12)]
    publish(lakes["contoso"], contoso)
    publish(lakes["fabrikam"], [overview_row(D1, 30, 0.2, 10, 9)])
    target = Lake(str(tmp_path / "group"))

    done = consolidate("all_tenants", lakes, target, [OVERVIEW])
    assert done["org_overview"]["written"] is True and done["org_overview"]["rows"] == 3
    rows = rows_of(target, "all_tenants", "org_overview")
    assert [(r["tenant"], r["snapshot_date"], r["directory_users"]) for r in rows] == [
        ("contoso", D1, 10),
        ("contoso", D2, 10),
        ("fabrikam", D1, 30),
    ]
    table = DeltaTable(target.uri("all_tenants/reports", "org_overview"))
    assert table.metadata().partition_columns == [TENANT_COLUMN]
    assert table.schema().fields[0].name == TENANT_COLUMN
    assert (tmp_path / "group/all_tenants/reports/org_overview/tenant=fabrikam").is_dir()


def test_it_is_rewritten_only_when_a_member_published(tmp_path, lakes):
    publish(lakes["contoso"], [overview_row(D1, 10, 0.5, 20, 10)])
    publish(lakes["fabrikam"], [overview_row(D1, 30, 0.2, 10, 9)])
    target = Lake(str(tmp_path / "group"))
    consolidate("g", lakes, target, [OVERVIEW])
    version = DeltaTable(target.uri("g/reports", "org_overview")).version()

    again = consolidate("g", lakes, target, [OVERVIEW])  # nothing changed: nothing written
    assert again["org_overview"] == {"written": False, "sources": {"contoso": 0, "fabrikam": 0}}
    assert DeltaTable(target.uri("g/reports", "org_overview")).version() == version

    publish(lakes["fabrikam"], [overview_row(D2, 31, 0.3, 12, 9)], mode="append")
    after = consolidate("g", lakes, target, [OVERVIEW])
    assert after["org_overview"]["written"] is True
    assert after["org_overview"]["sources"] == {"contoso": 0, "fabrikam": 1}
    table = DeltaTable(target.uri("g/reports", "org_overview"))
    assert table.version() == version + 1  # one commit: readers see the old or the new rows
    assert '"fabrikam": 1' in table.history(1)[0][SOURCES]
    assert [(r["tenant"], r["snapshot_date"]) for r in rows_of(target, "g", "org_overview")] == [
        ("contoso", D1),
        ("fabrikam", D1),
        ("fabrikam", D2),
    ]


def test_a_member_that_has_not_published_yet_is_left_out_until_it_does(tmp_path, lakes):
    publish(lakes["contoso"], [overview_row(D1, 10, 0.5, 20, 10)])
    target = Lake(str(tmp_path / "group"))
    done = consolidate("g", lakes, target, [OVERVIEW, REPORTS["learner_summary"]])
    assert done["org_overview"]["sources"] == {"contoso": 0, "fabrikam": None}
    assert done["learner_summary"] == {
        "written": False,
        "sources": {"contoso": None, "fabrikam": None},
    }
    assert {r["tenant"] for r in rows_of(target, "g", "org_overview")} == {"contoso"}
    publish(lakes["fabrikam"], [overview_row(D1, 30, 0.2, 10, 9)])
    assert consolidate("g", lakes, target, [OVERVIEW])["org_overview"]["written"] is True
    assert {r["tenant"] for r in rows_of(target, "g", "org_overview")} == {"contoso", "fabrikam"}


# --- the group's report.html ------------------------------------------------------------------


def consolidated_overview() -> list[dict]:
    """contoso: 10 directory users, adoption 50% (5 adopted), 20 modules started, 10 completed
    on its latest snapshot D2 (D1 is older and ignored); fabrikam: 30 users, 20% (6 adopted),
    10 started, 9 completed on D1. The group: 40 users, 11 adopted = 27.5% (not the 35% average
    of the rates), 30 started, 19 completed = 63.3% (not 72.5%)."""
    return [
        {"tenant": "contoso", **overview_row(D1, 8, 0.25, 5, 1, learners=2)},
        {"tenant": "contoso", **overview_row(D2, 10, 0.5, 20, 10, learners=7, xp=700)},
        {"tenant": "fabrikam", **overview_row(D1, 30, 0.2, 10, 9, learners=6, xp=300)},
    ]


def test_the_group_total_adds_the_counts_and_recomputes_the_rates():
    rows, total = breakdown(consolidated_overview(), ["contoso", "fabrikam", "northwind"])
    assert [(r.tenant, r.snapshot) for r in rows] == [
        ("contoso", D2),
        ("fabrikam", D1),
        ("northwind", None),  # nothing published yet
    ]
    assert rows[0].adoption_rate == 0.5 and rows[1].module_completion_rate == 0.9
    assert total.counts["directory_users"] == 40 and total.adopted == 11
    assert total.adoption_rate == pytest.approx(0.275)
    assert total.module_completion_rate == pytest.approx(19 / 30)
    assert total.counts["learners"] == 13 and total.counts["total_xp"] == 1000
    assert total.snapshot == D2
    assert trend(consolidated_overview(), ["contoso", "fabrikam"]) == [
        (D1, {"contoso": 2, "fabrikam": 6}),
        (D2, {"contoso": 7, "fabrikam": None}),
    ]
    assert [d for d, _ in trend(consolidated_overview(), ["contoso"], days=1)] == [D2]


def test_the_group_page_shows_each_tenant_and_the_total():
    page = render_group_page(
        "all_tenants",
        ["contoso", "fabrikam", "northwind"],
        pa.Table.from_pylist(consolidated_overview()),
    )
    assert "<script" not in page and "Content-Security-Policy" in page
    cells = [re.sub(r"<[^>]+>", "|", row) for row in re.findall(r"<tr.*?</tr>", page)]
    assert any(c.startswith("||contoso||2026-11-02||7||10||50.0%||20||10||50.0%") for c in cells)
    assert any(c.startswith("||fabrikam||2026-11-01||6||30||20.0%||10||9||90.0%") for c in cells)
    assert any("northwind||nothing published yet" in c for c in cells)
    total = next(c for c in cells if "all tenants||latest of each" in c)
    assert total.startswith("||all tenants||latest of each||13||40||27.5%||30||19||63.3%")
    assert "||2026-11-02||7||–||–||7||" in cells  # learners per snapshot, and the sum
    empty = render_group_page("g", ["contoso"], None)
    assert "nothing published yet" in empty and "No snapshot published yet." in empty


def test_the_groups_code_location_writes_the_tables_and_the_page(tmp_path, lakes):
    publish(lakes["contoso"], [overview_row(D1, 10, 0.5, 20, 10)])
    publish(lakes["fabrikam"], [overview_row(D1, 30, 0.2, 10, 9)])
    config = {
        "tenants": [
            {
                "name": name,
                "tenant_id": tenant_id,
                "owner": f"ops@{name}.example.com",
                "landing": f"{name}/landing",
                "warehouse": f"{name}/warehouse.duckdb",
                "exports": f"{name}/exports",
                "lake": f"{name}/lake",
            }
            for name, tenant_id in (
                ("contoso", "0b8c2b9e-6d7c-4e5a-9f10-1a2b3c4d5e6f"),
                ("fabrikam", "7d1e9a34-52f0-4b8e-a6c1-0f9e8d7c6b5a"),
            )
        ],
        "consolidated": [
            {
                "name": "all_tenants",
                "members": ["contoso", "fabrikam"],
                "lake": "group",
                "owner": "team:group",
            }
        ],
    }
    found = parse_tenants(config, tmp_path / "tenants.yaml", setting_parsers())
    defs = consolidated_definitions(found.groups["all_tenants"], found, {})
    graph = defs.resolve_asset_graph()
    page_key = dg.AssetKey(["all_tenants", "exports", "report"])
    assert graph.get(page_key).owners == ["team:group"]
    assert set(graph.get(page_key).parent_keys) == {member_key("contoso"), member_key("fabrikam")}
    job = defs.resolve_job_def("all_tenants_consolidate")
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert result.success
    written = {
        e.asset_key.to_user_string(): e.materialization.metadata["written"].value
        for e in result.get_asset_materialization_events()
    }
    assert written["all_tenants/reports/org_overview"] is True
    assert written["all_tenants/reports/learner_summary"] is False  # no member has one
    assert written["all_tenants/exports/report"] is True
    page = (tmp_path / "group/all_tenants/report.html").read_text()
    assert "<td>contoso</td>" in page and "<td>fabrikam</td>" in page
    assert '<td class="num">27.5%</td>' in page  # the group: 5 + 6 adopted of 10 + 30 users
