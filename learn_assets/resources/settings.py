"""The resources, configured from the project's settings (`learn_assets/settings.py`): the same
resource keys in the demo, the tests and production, which differ only in their environment."""

from __future__ import annotations

import os
from collections.abc import Mapping

import dagster as dg

from learn_assets.resources.datashare import DataShareResource
from learn_assets.resources.exports import ExportSettings
from learn_assets.resources.landing import LandingResource
from learn_assets.resources.publish import PublishSettings
from learn_assets.resources.reporting import ReportSettings
from learn_assets.resources.warehouse import WarehouseResource
from learn_assets.settings import PSEUDONYM_KEY, Settings


def resources_for(settings: Settings, env: Mapping[str, str]) -> dict[str, object]:
    """Every resource, from `settings`; the pseudonym key is passed as a Dagster EnvVar, so
    its value is never shown in the UI nor stored."""
    return {
        "landing": LandingResource(
            landing_dir=settings.landing_dir,
            entra_export=settings.entra_export,
            quiet_seconds=settings.quiet_seconds,
            cache_dir=settings.cache_dir,
        ),
        "datashare": DataShareResource(
            share_dir=settings.datashare_dir, quiet_seconds=settings.archive_quiet_seconds
        ),
        "warehouse": WarehouseResource(
            database=settings.warehouse,
            memory_limit=settings.memory_limit,
            lock_timeout=settings.lock_timeout,
        ),
        "report_settings": ReportSettings(
            expiry_window_days=settings.expiry_window_days,
            pseudonymize=settings.pseudonymize,
            pseudonym_key=dg.EnvVar(PSEUDONYM_KEY) if env.get(PSEUDONYM_KEY) else "",
            max_user_drop=settings.max_user_drop,
            max_quarantine_share=settings.max_quarantine_share,
            accept_anomaly=",".join(sorted(map(str, settings.accept_anomaly))),
        ),
        "exports": ExportSettings(
            exports_dir=settings.exports_dir,
            xlsx_max_rows=settings.xlsx_max_rows,
            html_max_learners=settings.html_max_learners,
        ),
        "publish": PublishSettings(
            lake_dir=settings.lake_dir, serving_database=settings.serving_database
        ),
    }


def resources_from_env(env: Mapping[str, str] | None = None) -> dict[str, object]:
    """The resources from the environment (`env`, or the process's): a value the project
    cannot use is a `SettingError` naming its variable."""
    env = os.environ if env is None else env
    return resources_for(Settings.from_env(env), env)
