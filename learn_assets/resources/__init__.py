"""Resources: where snapshots land and where the warehouse lives, configured from the environment."""

from learn_assets.resources.landing import LandingResource, LandingFileError
from learn_assets.resources.warehouse import WAREHOUSE_POOL, WarehouseResource, quote_ident
from learn_assets.resources.settings import resources_from_env

__all__ = [
    "LandingFileError",
    "LandingResource",
    "WAREHOUSE_POOL",
    "WarehouseResource",
    "quote_ident",
    "resources_from_env",
]
