"""The fixed list of Learn Organizational Reporting datasets and their columns.

This is the one place that names the 11 datasets, their files and their columns (as spelled in the
service's data dictionary, in its order). Everything that reads, writes or checks a dataset looks
it up here; no dataset name ever comes from a file or from configuration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """Logical type of a column as the data dictionary describes it."""

    GUID = "guid"
    TEXT = "text"
    INT = "int"
    DATETIMEOFFSET = "datetimeoffset"  # ISO 8601 with offset and up to 7 fractional digits
    DATETIME = "datetime"  # ISO 8601, offset optional
    YYYYMMDD = "yyyymmdd"  # integer date such as 20261127
    JSON_ARRAY = "json_array"  # a JSON array of strings inside a string
    URL = "url"  # site-relative URL such as /training/modules/x/


@dataclass(frozen=True)
class Column:
    name: str  # spelling in the data dictionary
    kind: Kind
    description: str = ""


@dataclass(frozen=True)
class Dataset:
    name: str  # file stem as delivered, e.g. "HierarchyUnit"
    tenant: bool  # tenant data (about people) or catalog data (same for every tenant)
    columns: tuple[Column, ...]
    description: str

    @property
    def table(self) -> str:
        """snake_case name used for asset keys and DuckDB tables, e.g. hierarchy_unit."""
        return snake_case(self.name)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


def snake_case(name: str) -> str:
    """`HierarchyLearningPathModule` -> `hierarchy_learning_path_module`, `AADObjectId` -> `aad_object_id`."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return name.lower()


def _cols(*spec: tuple[str, Kind] | tuple[str, Kind, str]) -> tuple[Column, ...]:
    return tuple(Column(*s) for s in spec)


G, T, I, DTO, DT, YMD, J, U = (
    Kind.GUID,
    Kind.TEXT,
    Kind.INT,
    Kind.DATETIMEOFFSET,
    Kind.DATETIME,
    Kind.YYYYMMDD,
    Kind.JSON_ARRAY,
    Kind.URL,
)

DATASETS: tuple[Dataset, ...] = (
    Dataset(
        "Achievements",
        True,
        _cols(
            ("tenantId", G),
            ("userId", G, "Learn profile id"),
            ("awardReason", T, "e.g. badge.module.basic.completed"),
            ("awardType", T, "Badge (module) or Trophy (learning path)"),
            ("awardUid", T),
            ("SourceType", T, "Module or LearningPath"),
            ("SourceUid", T, "uid of the completed module or learning path"),
            ("AwardedOn", DTO),
        ),
        "Badges (module completed) and trophies (learning path completed) earned by the tenant's users.",
    ),
    Dataset(
        "AppliedSkills",
        True,
        _cols(
            ("tenantId", G),
            ("userId", G),
            ("appliedSkillsUid", T),
            ("labProfileName", T),
            ("examScoredDate", DT),
        ),
        "Applied Skills credentials earned by the tenant's users.",
    ),
    Dataset(
        "Certifications",
        True,
        _cols(
            ("tenantID", G, "spelled tenantID in the dictionary"),
            ("userId", G),
            ("AwardType", T),
            ("TranscriptName", T),
            ("SourceUid", T, "certification uid"),
            ("AwardedOn", YMD),
            ("CertificationStartDate", YMD),
            ("CertificationEndDate", YMD),
            ("StayCurrentEligibilityStartDate", YMD),
        ),
        "Certifications held by the tenant's users: active, or expired within the last two years.",
    ),
    Dataset(
        "Progress",
        True,
        _cols(
            ("tenantId", G),
            ("userId", G),
            ("XPReason", T),
            ("SourceType", T, "Unit, Module or LearningPath"),
            ("SourceUid", T),
            ("XP", I),
            ("AwardedOn", DTO),
        ),
        "XP events for completed units, modules and learning paths.",
    ),
    Dataset(
        "Users",
        True,
        _cols(
            ("tenantId", G),
            ("userId", G),
            ("AADObjectId", G, "Microsoft Entra object id"),
            ("CreatedOn", DTO),
        ),
        "Every Learn user referenced by the tenant datasets, mapped to the Entra object id.",
    ),
    Dataset(
        "HierarchyAppliedSkills",
        False,
        _cols(
            ("appliedSkillsUid", T),
            ("title", T),
            ("url", U),
            ("levels", J),
            ("products", J),
            ("roles", J),
            ("subjects", J),
            ("tasks", J),
        ),
        "Catalog of every Applied Skills credential on Microsoft Learn.",
    ),
    Dataset(
        "HierarchyCertification",
        False,
        _cols(
            ("certificationUid", T),
            ("type", T),
            ("title", T),
            ("summary", T),
            ("url", U),
            ("iconUrl", U),
            ("levels", J),
            ("products", J),
            ("roles", J),
            ("exams", J),
        ),
        "Catalog of every certification on Microsoft Learn.",
    ),
    Dataset(
        "HierarchyLearningPath",
        False,
        _cols(
            ("LearningPathUid", T),
            ("title", T),
            ("url", U),
            ("durationInMinutes", I),
            ("points", I),
            ("iconUrl", U),
            ("levels", J),
            ("products", J),
            ("roles", J),
            ("languages", J),
        ),
        "Catalog of every learning path on Microsoft Learn.",
    ),
    Dataset(
        "HierarchyLearningPathModule",
        False,
        _cols(("LearningPathUid", T), ("ModuleUid", T)),
        "Which modules make up each learning path (a module can be in several paths).",
    ),
    Dataset(
        "HierarchyModule",
        False,
        _cols(
            ("moduleUid", T),
            ("title", T),
            ("url", U),
            ("iconUrl", U),
            ("durationInMinutes", I),
            ("points", I),
            ("levels", J),
            ("products", J),
            ("roles", J),
            ("languages", J),
        ),
        "Catalog of every module (course) on Microsoft Learn.",
    ),
    Dataset(
        "HierarchyUnit",
        False,
        _cols(
            ("unitUid", T),
            ("title", T),
            ("url", U),
            ("durationInMinutes", I),
            ("points", I),
            ("moduleUid", T),
        ),
        "Catalog of every unit (page of a module) on Microsoft Learn.",
    ),
)

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
