"""The fixed list of Learn Organizational Reporting datasets and their columns.

This is the one place that names the 11 datasets, their files and their columns (as spelled in the
service's data dictionary, in its order). Everything that reads, writes or checks a dataset looks
it up here; no dataset name ever comes from a file or from configuration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from learn_assets.contracts.kinds import Kind
from learn_assets.contracts.schemas import CONTRACTS, ENTRA_CONTRACT, Contract

__all__ = ["DATASETS", "ENTRA", "Column", "Dataset", "Kind", "snake_case"]


@dataclass(frozen=True)
class Column:
    name: str  # spelling in the data dictionary
    kind: Kind
    description: str = ""


@dataclass(frozen=True)
class Dataset:
    name: str  # file stem as delivered, e.g. "HierarchyUnit"
    tenant: bool  # tenant data (about people) or catalog data (same for every tenant)
    columns: tuple[Column, ...]  # as delivered, in the dictionary's order
    description: str
    contract: Contract  # the staged table: names, types, rules

    @property
    def partitioned(self) -> bool:
        return self.contract.partitioned

    @property
    def table(self) -> str:
        """snake_case name used for asset keys and DuckDB tables, e.g. hierarchy_unit."""
        return snake_case(self.name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def snake_case(name: str) -> str:
    """`HierarchyUnit` -> `hierarchy_unit`, `AADObjectId` -> `aad_object_id`."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return name.lower()


def _from_contract(schema: Contract) -> Dataset:
    columns = tuple(
        Column(c.source, c.kind, c.description or "")
        for c in schema.columns.values()
        if c.source is not None
    )
    assert schema.name and schema.description
    return Dataset(schema.name, schema.tenant, columns, schema.description, schema)


DATASETS: tuple[Dataset, ...] = tuple(_from_contract(s) for s in CONTRACTS)
ENTRA = _from_contract(ENTRA_CONTRACT)

DATASETS_BY_NAME: dict[str, Dataset] = {d.name: d for d in DATASETS}
DATASETS_BY_TABLE: dict[str, Dataset] = {d.table: d for d in DATASETS}

# Columns of the Entra admin center "Download users" export as real exports spell them (Graph
# names). Older documentation calls the first column objectId; both are accepted on read.
ENTRA_COLUMNS: tuple[str, ...] = (
    "id",
    "displayName",
    "userPrincipalName",
    "userType",
    "givenName",
    "surname",
    "mail",
    "jobTitle",
    "department",
    "companyName",
    "employeeId",
    "accountEnabled",
    "usageLocation",
    "officeLocation",
    "streetAddress",
    "city",
    "state",
    "postalCode",
    "country",
    "businessPhones",
    "mobilePhone",
    "faxNumber",
    "otherMails",
    "proxyAddresses",
    "onPremisesSyncEnabled",
    "creationType",
    "externalUserState",
    "ageGroup",
    "createdDateTime",
)
ENTRA_ID_COLUMNS: tuple[str, ...] = ("id", "objectId")
