"""Resources: where snapshots land and where the warehouse lives, set from the environment."""

from learn_assets.resources.exports import ExportSettings
from learn_assets.resources.landing import LandingFileError, LandingResource
from learn_assets.resources.publish import PublishSettings
from learn_assets.resources.reporting import ReportSettings, ReportSettingsValues
from learn_assets.resources.settings import resources_from_env
from learn_assets.resources.storage import Storage, StorageError
from learn_assets.resources.warehouse import WarehouseResource

__all__ = [
    "ExportSettings",
    "LandingFileError",
    "LandingResource",
    "PublishSettings",
    "ReportSettings",
    "ReportSettingsValues",
    "WarehouseResource",
    "resources_from_env",
    "Storage",
    "StorageError",
]
