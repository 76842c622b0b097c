"""The code locations of a tenants file: `learn_assets.locations` with the attribute `<name>`.

A Dagster workspace cannot give one location an environment of its own, so the tenant travels in
the code pointer: `learn-assets workspace` writes, for each tenant,

    - python_module:
        {module_name: learn_assets.locations, attribute: contoso, location_name: contoso}

Dagster imports this module in the location's own process and reads the attribute `contoso`,
which sets `LEARN_TENANT=contoso` in that process (and so in the runs it starts, its child
processes) before the project's definitions are imported: the process then has the tenant's
settings (`learn_assets.tenancy`). A run launched elsewhere (`dagster api execute_run` in a
container) loads the same pointer and becomes the same tenant. A consolidated group's attribute
gives the group's small location (`learn_assets.publish.consolidated`).

One process serves one tenant: reading a second tenant's attribute in a process that already
serves another is refused. `LEARN_TENANTS_FILE` must be set in the environment of the Dagster
processes (webserver, daemon), as `DAGSTER_HOME` is.
"""

from __future__ import annotations

import os
from typing import Any

from learn_assets.settings import SettingError, current, tenants_file


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    found = tenants_file(os.environ)
    if found is None:
        raise SettingError(
            f"learn_assets.locations.{name}: LEARN_TENANTS_FILE is not set: the tenants' code "
            "locations need the tenants file in the environment of the Dagster processes"
        )
    if name in found.groups:
        from learn_assets.publish.consolidated import consolidated_definitions

        return consolidated_definitions(found.groups[name], found, os.environ)
    found.tenant(name)  # a name the file does not list is refused, with the names it lists
    serving = os.environ.get("LEARN_TENANT", "").strip()
    if serving and serving != name:
        raise SettingError(
            f"this process serves tenant {serving!r} (LEARN_TENANT): tenant {name!r} needs a "
            "process (code location) of its own"
        )
    if current.cache_info().currsize and current().tenant != name:
        raise SettingError(
            f"this process read its settings before serving tenant {name!r}: load "
            "learn_assets.locations first in the tenant's own process"
        )
    os.environ["LEARN_TENANT"] = name  # before anything reads the settings, and for the runs
    from learn_assets.definitions import defs

    return defs
