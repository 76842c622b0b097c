"""Where a lake is and how delta-rs reaches it: a local folder, or an Azure URL with the
environment's storage credentials; and where a consolidated group's tables and page are in its
lake. No deltalake here: a code location builds its lakes when it loads
(`publish/consolidated.py`), the Delta work (`publish/lake.py`, `publish/group_tables.py`) runs
in the steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from learn_assets.resources.storage import StorageError, parse_location, redact, secret_values

if TYPE_CHECKING:
    from learn_assets.reports.build import ReportTable
    from learn_assets.tenants import Group

# A consolidated group's tables: `<group lake>/<group>/reports/<report>`, a `tenant` column in
# front; its page `<group>/report.html`; each commit records the members' Delta versions.
TENANT_COLUMN = "tenant"
REPORT_PAGE = "report.html"
SOURCES = "learn.sources"  # commit metadata: the members' Delta versions the table was made of


class LakeError(RuntimeError):
    """Publishing to the lake failed; the message names the table and never holds a secret."""


@dataclass(frozen=True)
class Lake:
    """Where the lake is, and how delta-rs reaches it."""

    root: str  # local path or az:// URL, as configured
    storage_options: Mapping[str, str] = field(default_factory=dict, repr=False)
    secrets: tuple[str, ...] = field(default=(), repr=False)

    def uri(self, layer: str, name: str) -> str:
        return f"{self.root.rstrip('/')}/{layer}/{name}"


def lake_for(root: str, env: Mapping[str, str]) -> Lake:
    """A local folder, or an Azure URL reached with the environment's storage credentials."""
    location = parse_location(root)
    if not location.remote:
        return Lake(location.path)
    # (a remote lake needs no folder: Delta tables are prefixes in the container)
    container, _, prefix = location.path.partition("/")
    uri = f"az://{container}" + (f"/{prefix}" if prefix else "")
    return Lake(uri, delta_storage_options(env, location.account), secret_values(env))


def delta_storage_options(env: Mapping[str, str], account: str | None) -> dict[str, str]:
    """delta-rs (object_store) options for the credentials in `env`: a connection string (its
    account, key and blob endpoint, e.g. Azurite's), an account key, or, with neither, the
    account name (object_store then uses the identity in the environment)."""
    if conn := env.get("AZURE_STORAGE_CONNECTION_STRING"):
        parts = dict(part.split("=", 1) for part in conn.split(";") if "=" in part and part.strip())
        parts = {k.lower(): v for k, v in parts.items()}
        options = {"account_name": parts.get("accountname", "")}
        if key := parts.get("accountkey"):
            options["account_key"] = key
        if endpoint := parts.get("blobendpoint"):
            options["endpoint"] = endpoint
            if endpoint.startswith("http://"):
                options["allow_http"] = "true"
        return options
    name = account or env.get("AZURE_STORAGE_ACCOUNT_NAME")
    if not name:
        raise StorageError(
            "no Azure storage account for LEARN_LAKE_DIR: set AZURE_STORAGE_CONNECTION_STRING, "
            "or AZURE_STORAGE_ACCOUNT_NAME (or use an abfs://container@account... URL)"
        )
    options = {"account_name": name}
    if key := env.get("AZURE_STORAGE_ACCOUNT_KEY"):
        options["account_key"] = key
    return options


def _fail(lake: Lake, what: str, error: Exception) -> LakeError:
    message = redact(
        f"cannot publish {what} to {lake.root}: {type(error).__name__}: {error}", lake.secrets
    )
    return LakeError(message)


def table_uri(target: Lake, group: str, report: ReportTable) -> str:
    """A consolidated group's table of `report` in the group's lake."""
    return target.uri(f"{group}/reports", report.name)


def page_path(group: Group | str) -> str:
    """A consolidated group's page, relative to the group's lake."""
    name = group if isinstance(group, str) else group.name
    return f"{name}/{REPORT_PAGE}"
