"""Resource configuration from environment variables, with defaults that make `make demo` work."""

from __future__ import annotations

import os
from collections.abc import Mapping

from learn_assets.resources.landing import LandingResource
from learn_assets.resources.warehouse import WarehouseResource

ENV_DEFAULTS = {
    "LEARN_LANDING_DIR": "data/landing",
    "LEARN_WAREHOUSE": "data/warehouse.duckdb",
    "LEARN_ENTRA_EXPORT": "",  # empty: <landing>/entra_users.csv
}


def setting(name: str, env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    return env.get(name) or ENV_DEFAULTS[name]


def resources_from_env(env: Mapping[str, str] | None = None) -> dict[str, object]:
    return {
        "landing": LandingResource(
            landing_dir=setting("LEARN_LANDING_DIR", env),
            entra_export=setting("LEARN_ENTRA_EXPORT", env),
        ),
        "warehouse": WarehouseResource(database=setting("LEARN_WAREHOUSE", env)),
    }
