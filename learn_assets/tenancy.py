"""The tenant this process serves, in Dagster's terms: the one place that decides how a tenant
shows in asset keys, groups, names, tags and pools (docs/tenants.md).

One process serves one tenant (or, without a tenants file, the one tenant of the `LEARN_*`
variables): its code location. With `LEARN_TENANT=contoso`:
- asset keys are `contoso/<layer>/<table>` and groups `contoso_<layer>`, so the instance's global
  asset graph, shared by every tenant's location, has no two assets with one key and shows whose
  each one is; every asset carries the tenant's owner and the tag `learn/tenant`;
- jobs, sensors and schedules are named `contoso_<name>`, and every run of the location is tagged
  `learn/tenant=contoso` (what the alert sensors select their runs by);
- every asset is in the pool `warehouse_contoso`: with `concurrency.pools.granularity: run` and a
  limit of 1 (dagster.yaml, deploy/dagster.yaml, deploy/tenants/dagster.yaml, the Helm values),
  the run queue starts one run of the tenant at a time, while other tenants' runs start beside
  it (learn_assets_tests/test_tenants_daemon.py); the landing sensor creates the pool's limit
  before it requests the tenant's first run (`ensure_pool`).
Without a tenant every name is as it always was, and no pool is set.
"""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg

from learn_assets.settings import current

TENANT = current().tenant  # "" without a tenants file
OWNER = current().owner
TENANT_TAG = "learn/tenant"
CODE_LOCATION_TAG = "dagster/code_location"  # Dagster tags every launched run with it
WAREHOUSE_POOL: str | None = f"warehouse_{TENANT}" if TENANT else None
RUN_TAGS: dict[str, str] = {TENANT_TAG: TENANT} if TENANT else {}


def named(base: str) -> str:
    """A job, sensor or schedule name: `contoso_<base>` for a tenant, else `base`."""
    return f"{TENANT}_{base}" if TENANT else base


def key(*parts: str) -> dg.AssetKey:
    """An asset key of this process's graph: `contoso/<layer>/<table>` for a tenant."""
    return dg.AssetKey([TENANT, *parts] if TENANT else list(parts))


def group(layer: str) -> str:
    return f"{TENANT}_{layer}" if TENANT else layer


def for_tenant(
    assets: list[dg.AssetsDefinition], tenant: str = TENANT, owner: str = OWNER
) -> list[dg.AssetsDefinition]:
    """The asset graph of `tenant`: every key (and every dependency between them) prefixed with
    the tenant, groups `<tenant>_<layer>`, the tenant's owner and tag. Unchanged without one."""
    if not tenant:
        return assets
    keys = {k for a in assets for k in (*a.keys, *(d.asset_key for s in a.specs for d in s.deps))}
    renamed = {k: dg.AssetKey([tenant, *k.path]) for k in keys}

    def mark(spec: dg.AssetSpec) -> dg.AssetSpec:
        return spec.replace_attributes(
            group_name=f"{tenant}_{spec.group_name}",
            owners=[owner] if owner else spec.owners,
            tags={**spec.tags, TENANT_TAG: tenant},
        )

    return [a.with_attributes(asset_key_replacements=renamed).map_asset_specs(mark) for a in assets]


def run_tenant(tags: Mapping[str, str], asset_keys: list[dg.AssetKey] | None = None) -> str:
    """Whose run this is: its `learn/tenant` tag, else the code location Dagster tagged it with,
    else the first part of its assets' keys ("" when none says)."""
    if tags.get(TENANT_TAG):
        return tags[TENANT_TAG]
    if tags.get(CODE_LOCATION_TAG):
        return tags[CODE_LOCATION_TAG]
    return next((k.path[0] for k in asset_keys or () if len(k.path) > 2), "")


def is_ours(tags: Mapping[str, str], asset_keys: list[dg.AssetKey] | None = None) -> bool:
    """A run this process's alerts report: any run without a tenant; only the tenant's own
    with one (tenants share the instance, and each tells its own people)."""
    return not TENANT or run_tenant(tags, asset_keys) == TENANT


def ensure_pool(instance: dg.DagsterInstance, pool: str | None = WAREHOUSE_POOL) -> None:
    """Give the tenant's warehouse pool its limit (the instance's `default_limit`, 1) before the
    tenant's first run is queued. Dagster creates a pool's limit lazily, inside the queue pass that
    first meets the pool, after that pass has read which pools have limits: in that pass every
    queued run of the pool would start at once (two writers of one tenant)."""
    if not pool:
        return
    storage = instance.event_log_storage
    if pool not in storage.get_concurrency_keys():
        storage.initialize_concurrency_limit_to_default(pool)
