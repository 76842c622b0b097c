"""Resources: where snapshots land and where the warehouse lives, set from the environment."""

from learn_assets.exports.resource import ExportSettings
from learn_assets.resources.landing import LandingFileError, LandingResource
from learn_assets.resources.reporting import ReportSettings, ReportSettingsValues
from learn_assets.resources.settings import resources_from_env
from learn_assets.resources.storage import Storage, StorageError, file_sha256
from learn_assets.resources.warehouse import WarehouseResource, quote_ident, quote_literal

__all__ = [
    "ExportSettings",
    "LandingFileError",
    "LandingResource",
    "ReportSettings",
    "ReportSettingsValues",
    "WarehouseResource",
    "quote_ident",
    "quote_literal",
    "resources_from_env",
    "Storage",
    "StorageError",
    "file_sha256",
]
