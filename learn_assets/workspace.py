"""`learn-assets workspace`: the Dagster workspace (workspace.yaml) that serves the tenants file.

Without `LEARN_TENANTS_FILE`: the one code location of today (`learn_assets.definitions`). With
it: one code location per tenant (`learn_assets.locations`, attribute = the tenant's name, see
that module) and one per consolidated group; the webserver and the daemon start one process per
location, so each tenant's definitions, sensors and runs are its own.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from learn_assets.tenants import TenantsFile

SINGLE_LOCATION = "learn_assets"


def workspace_config(found: TenantsFile | None, working_directory: Path) -> dict:
    where = str(working_directory)
    if found is None:
        return {
            "load_from": [
                {
                    "python_module": {
                        "module_name": "learn_assets.definitions",
                        "working_directory": where,
                        "location_name": SINGLE_LOCATION,
                    }
                }
            ]
        }
    return {
        "load_from": [
            {
                "python_module": {
                    "module_name": "learn_assets.locations",
                    "attribute": name,
                    "working_directory": where,
                    "location_name": name,
                }
            }
            for name in found.locations()
        ]
    }


def workspace_yaml(found: TenantsFile | None, working_directory: Path) -> str:
    source = f"tenants file {found.path}" if found else "no tenants file (one tenant)"
    header = (
        f"# Written by `learn-assets workspace` from {source}: one code location per tenant\n"
        "# and per consolidated group. Regenerate it after changing the tenants file.\n"
    )
    body = yaml.safe_dump(workspace_config(found, working_directory), sort_keys=False)
    return header + body
