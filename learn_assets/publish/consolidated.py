"""The consolidated view of a group of tenants (opt-in: `consolidated:` in the tenants file).

`<group lake>/<group>/reports/<report>` (e.g. `all_tenants/reports/learner_summary`) holds every
member tenant's report rows with a `tenant` column in front, as a Delta table partitioned by
`tenant`: what an organization with several tenants reads to see them side by side. It is made
from the members' own lakes (`<lake>/reports/<report>`), never from their warehouses: each
member's lake is its published, already privacy-checked copy, and a group needs no access to
any tenant's warehouse.

Each table is rewritten whole in one Delta commit (a reader sees the old or the new rows, never a
mix) when a member's table changed since it was last written: the members' Delta versions are
recorded in the commit (`learn.sources`), so a rebuild that would change nothing writes nothing.

The group's `report.html` (`<group lake>/<group>/report.html`, `publish/group_report.py`) shows
the group with a per-tenant breakdown; it is rewritten with the tables.

In Dagster it is a small code location of its own (`learn_assets.locations.<group>`): one asset
per report, `<group>/reports/<report>`, and `<group>/exports/report`, depending on each member's
`<tenant>/publish/lake` by key (in the members' locations), and rebuilt by declarative automation
when any member publishes. The writing (`publish/group_tables.py`: deltalake, pyarrow) is imported
by the asset when it runs, not when the location loads (issue #18).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import dagster as dg

from learn_assets.publish.lake_location import (
    REPORT_PAGE,
    SOURCES,  # noqa: F401 - re-exported: the group's commit metadata
    TENANT_COLUMN,
    Lake,
    LakeError,
    lake_for,
    page_path,
    table_uri,
)
from learn_assets.reports.build import REPORT_TABLES
from learn_assets.resources.storage import Storage, StorageError

if TYPE_CHECKING:
    from learn_assets.tenants import Group, TenantsFile

# Rebuild when a member published (any partition of its publish/lake), once its runs are done.
FOLLOW_MEMBERS = (
    (
        dg.AutomationCondition.newly_missing() | dg.AutomationCondition.any_deps_updated()
    ).since_last_handled()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("rebuild when a member tenant publishes")


def member_key(tenant: str) -> dg.AssetKey:
    """A member's lake asset, in the member's own code location."""
    return dg.AssetKey([tenant, "publish", "lake"])


def consolidated_assets(
    group: Group, members: Mapping[str, Lake], target: Lake, storage: Storage
) -> dg.AssetsDefinition:
    page = dg.AssetSpec(
        key=[group.name, "exports", "report"],
        deps=[member_key(m) for m in group.members],
        group_name=group.name,
        description=f"`{group.name}/{REPORT_PAGE}` in the group's lake: tenants "
        f"{', '.join(group.members)} at a glance, with a per-tenant breakdown.",
        kinds={"html"},
        owners=[group.owner] if group.owner else None,
        automation_condition=FOLLOW_MEMBERS,
        tags={"learn/group": group.name},
    )
    specs = [page] + [
        dg.AssetSpec(
            key=[group.name, "reports", report.name],
            deps=[member_key(m) for m in group.members],
            group_name=group.name,
            description=f"`{report.name}` of tenants {', '.join(group.members)}, with a "
            f"`{TENANT_COLUMN}` column: Delta table "
            f"`{table_uri(target, group.name, report)}`.",
            kinds={"deltalake"},
            owners=[group.owner] if group.owner else None,
            automation_condition=FOLLOW_MEMBERS,
            tags={"learn/group": group.name},
        )
        for report in REPORT_TABLES
    ]

    @dg.multi_asset(name=f"{group.name}_reports", specs=specs, can_subset=False)
    def consolidated(context):  # (annotations are strings here: Dagster reads none)
        from learn_assets.publish.group_tables import consolidate, write_group_page

        try:
            done = consolidate(group.name, members, target)
            written = any(outcome["written"] for outcome in done.values())
            shown = write_group_page(group.name, group.members, target, storage, written)
        except (LakeError, StorageError) as e:
            raise dg.Failure(str(e)) from None
        for report in REPORT_TABLES:
            outcome = done[report.name]
            if outcome["written"]:
                context.log.info(f"{group.name}/reports/{report.name}: {outcome['rows']} rows")
            yield dg.MaterializeResult(
                asset_key=[group.name, "reports", report.name],
                metadata={
                    "written": bool(outcome["written"]),
                    "sources": dg.MetadataValue.json(outcome["sources"]),
                    **({"dagster/row_count": outcome["rows"]} if outcome["written"] else {}),
                },
            )
        yield dg.MaterializeResult(
            asset_key=page.key,
            metadata={"written": shown is not None, "path": storage.display(page_path(group))},
        )

    return consolidated


def consolidated_definitions(
    group: Group, found: TenantsFile, env: Mapping[str, str]
) -> dg.Definitions:
    """The code location of a consolidated group: its assets, a job to run them by hand and
    the sensor that rebuilds them when a member publishes."""
    members = {m: lake_for(found.tenants[m].lake, env) for m in group.members}
    target = lake_for(group.lake, env)
    assets = consolidated_assets(group, members, target, Storage(group.lake, env))
    tags = {"learn/group": group.name}
    return dg.Definitions(
        assets=[assets],
        jobs=[
            dg.define_asset_job(
                f"{group.name}_consolidate",
                selection=dg.AssetSelection.assets(assets),
                description="Rebuilds the group's consolidated tables from the members' lakes.",
                run_tags=tags,
            )
        ],
        sensors=[
            dg.AutomationConditionSensorDefinition(
                f"{group.name}_follow_members",
                target=dg.AssetSelection.assets(assets),
                run_tags=tags,
                default_status=dg.DefaultSensorStatus.RUNNING,
                minimum_interval_seconds=30,
                description="Rebuilds the consolidated tables when a member tenant publishes.",
            )
        ],
    )
