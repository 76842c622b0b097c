"""pandera contracts: the single source of truth for every dataset's columns, types and rules.

Each contract describes the *staged* table (snake_case names, real types). Column metadata links it
to the delivered file: `source` is the column's spelling in the data dictionary and `kind` says how
the text is parsed. The raw layer takes its column list from here, the staged layer compiles the
rules to DuckDB SQL (`contracts/sql.py`), the UI shows them as column schemas, and the README's
rule table is generated from them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa
import pyarrow
from pandera import extensions

from learn_assets.contracts.kinds import RANGED_KINDS, TIMESTAMP_KINDS, Kind

GUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
LEARN_SITE = "https://learn.microsoft.com"
# No real title, summary or uid comes near this; a longer value is a corrupt field.
MAX_TEXT_LENGTH = 65_536


@dataclass(frozen=True)
class Range:
    """The valid values of a column, both ends included: a value outside is quarantined with
    the end it passes (`xp: above 1000000`, `awarded_on: before 1900-01-01`)."""

    low: int | dt.date | pd.Timestamp
    high: int | dt.date | pd.Timestamp

    def checks(self) -> list[pa.Check]:
        return [pa.Check.ge(self.low), pa.Check.le(self.high)]


# The valid range of every date, timestamp and number, in one place.
# YYYYMMDD dates: every 8-digit date from Excel's first day on. Before it, 1899xxxx is the "no
# date" placeholder (NULL); other earlier dates (e.g. 00010101) are corrupt. 99991231, the
# largest, is read as "no date" too: for an end date, "does not expire".
FIRST_DAY = dt.date(1900, 1, 1)
DATES = Range(FIRST_DAY, dt.date(9999, 12, 31))
# Instants (UTC): 1900-01-01 .. 2999-12-31. A learning event or profile date outside is corrupt
# (sentinels such as 0001-01-01 or 9999-12-31), and this range keeps every instant, whatever its
# offset, inside what Python, Arrow and Excel can all hold (years 1 to 9999; Excel from 1900),
# so reports and exports never meet a value they cannot write.
TIMESTAMPS = Range(
    pd.Timestamp("1900-01-01", tz="UTC"), pd.Timestamp("2999-12-31 23:59:59.999999", tz="UTC")
)
# XP of one Progress row, and the points of a catalog item (the XP it gives). Real values are
# 100 to a few thousand; the cap also keeps every sum of XP far from BIGINT's limit (it would
# take 9.2 trillion capped rows to overflow).
XP = Range(0, 1_000_000)
# Duration of a unit, module or learning path: real values are minutes to a few dozen hours.
MINUTES = Range(0, 100_000)
DEFAULT_RANGES: dict[Kind, Range] = {Kind.YYYYMMDD: DATES} | dict.fromkeys(
    TIMESTAMP_KINDS, TIMESTAMPS
)


@extensions.register_check_method(statistics=["first", "second"])
def not_after(df: pd.DataFrame, *, first: str, second: str) -> pd.Series:
    """`first` <= `second` wherever both are known (e.g. a certification's start and end)."""
    return df[first].isna() | df[second].isna() | (df[first] <= df[second])


_DTYPES = {
    Kind.GUID: str,
    Kind.TEXT: str,
    Kind.URL: str,
    Kind.INT: "Int64",
    Kind.DATETIMEOFFSET: pd.DatetimeTZDtype("us", "UTC"),
    Kind.DATETIME: pd.DatetimeTZDtype("us", "UTC"),
    # A date, not a timestamp: pandas' own datetime64 covers only 1677-2262 in pandera.
    Kind.YYYYMMDD: pd.ArrowDtype(pyarrow.date32()),
    Kind.JSON_ARRAY: object,
    Kind.BOOLEAN: "boolean",
    Kind.LOCALE_DATETIME: pd.DatetimeTZDtype("us", "UTC"),
}


def col(
    source: str,
    kind: Kind,
    description: str = "",
    *,
    required: bool = False,
    allowed: tuple[str, ...] = (),
    valid: Range | None = None,
) -> pa.Column:
    """A contract column parsed from the delivered column `source`. Numbers state their `valid`
    range; dates and timestamps have their kind's (`DEFAULT_RANGES`) unless given."""
    valid = valid or DEFAULT_RANGES.get(kind)
    if (valid is None) == (kind in RANGED_KINDS):
        raise ValueError(f"{source}: a {kind} column needs a valid range, other kinds none")
    checks = []
    if kind is Kind.GUID:
        checks.append(pa.Check.str_matches(GUID_PATTERN))
    if kind in (Kind.TEXT, Kind.URL):
        checks.append(
            pa.Check.str_length(min_value=1 if required else 0, max_value=MAX_TEXT_LENGTH)
        )
    if allowed:
        checks.append(pa.Check.isin(list(allowed)))
    if valid is not None:
        checks.extend(valid.checks())
    return pa.Column(
        _DTYPES[kind],
        checks=checks,
        nullable=not required,
        description=description or None,
        metadata={"source": source, "kind": kind},
    )


def absolute_url(of: str) -> pa.Column:
    """Derived: the full link, `https://learn.microsoft.com` + the site-relative URL."""
    return pa.Column(
        str,
        checks=[pa.Check.str_startswith("https://")],
        nullable=True,
        description=f"{LEARN_SITE} + {of}",
        metadata={"derived_from": of, "kind": Kind.ABSOLUTE_URL},
    )


@dataclass(frozen=True)
class Reference:
    """`column` names a row of `target`.`target_column` in the same snapshot (only for rows whose
    source_type is `when`, if given). Checked as a WARN asset check: catalogs can lag."""

    column: str
    target: str  # dataset name
    target_column: str
    when: str | None = None

    @property
    def label(self) -> str:
        where = f" (source_type {self.when})" if self.when else ""
        return f"{self.column}{where} -> {self.target}.{self.target_column}"


def contract(
    name: str,
    description: str,
    columns: dict[str, pa.Column],
    *,
    unique: list[str] | None = None,
    checks: list[pa.Check] | None = None,
    tenant: bool = False,
    references: tuple[Reference, ...] = (),
    partitioned: bool = True,
) -> pa.DataFrameSchema:
    """`unique` is the key: no two rows of a snapshot share it (the whole row when omitted)."""
    return pa.DataFrameSchema(
        columns,
        checks=checks or [],
        unique=unique or list(columns),
        strict=True,
        ordered=True,
        coerce=True,
        name=name,
        description=description,
        metadata={"tenant": tenant, "references": references, "partitioned": partitioned},
    )


USER = Reference("user_id", "Users", "user_id")


def _tenant(source: str = "tenantId") -> dict[str, pa.Column]:
    return {
        "tenant_id": col(source, Kind.GUID, "organization's Entra tenant", required=True),
        "user_id": col("userId", Kind.GUID, "Learn profile id (not the Entra id)", required=True),
    }


def _catalog_lists(*names: str) -> dict[str, pa.Column]:
    return {n: col(n, Kind.JSON_ARRAY, f"JSON array of {n}") for n in names}


def _urls(*pairs: tuple[str, str]) -> dict[str, pa.Column]:
    out: dict[str, pa.Column] = {}
    for name, source in pairs:
        out[name] = col(source, Kind.URL, "site-relative URL")
        out[f"{name}_absolute"] = absolute_url(name)
    return out


D, T, N, DTO, DT, YMD = (
    Kind.GUID,
    Kind.TEXT,
    Kind.INT,
    Kind.DATETIMEOFFSET,
    Kind.DATETIME,
    Kind.YYYYMMDD,
)

CONTRACTS: tuple[pa.DataFrameSchema, ...] = (
    contract(
        "Achievements",
        "Badges (module completed) and trophies (learning path completed) earned by the "
        "tenant's users.",
        {
            **_tenant(),
            "award_reason": col("awardReason", T, "e.g. badge.module.basic.completed"),
            "award_type": col(
                "awardType", T, "Badge or Trophy", required=True, allowed=("Badge", "Trophy")
            ),
            "award_uid": col("awardUid", T, required=True),
            "source_type": col(
                "SourceType",
                T,
                "what was completed",
                required=True,
                allowed=("Module", "LearningPath"),
            ),
            "source_uid": col("SourceUid", T, "module or learning path uid", required=True),
            "awarded_on": col("AwardedOn", DTO, "when, in UTC", required=True),
        },
        tenant=True,
        references=(
            USER,
            Reference("source_uid", "HierarchyModule", "module_uid", "Module"),
            Reference("source_uid", "HierarchyLearningPath", "learning_path_uid", "LearningPath"),
        ),
    ),
    contract(
        "AppliedSkills",
        "Applied Skills credentials earned by the tenant's users.",
        {
            **_tenant(),
            "applied_skills_uid": col("appliedSkillsUid", T, required=True),
            "lab_profile_name": col("labProfileName", T),
            "exam_scored_date": col(
                "examScoredDate", DT, "when the lab was scored, in UTC", required=True
            ),
        },
        tenant=True,
        references=(
            USER,
            Reference("applied_skills_uid", "HierarchyAppliedSkills", "applied_skills_uid"),
        ),
    ),
    contract(
        "Certifications",
        "Certifications held by the tenant's users: active, or expired within the last two years.",
        {
            **_tenant("tenantID"),
            "award_type": col("AwardType", T),
            "transcript_name": col("TranscriptName", T, "certification title on the transcript"),
            "source_uid": col("SourceUid", T, "certification uid", required=True),
            "awarded_on": col(
                "AwardedOn", YMD, "YYYYMMDD; placeholder (0, empty, 1899xxxx, 99991231) = NULL"
            ),
            "certification_start_date": col("CertificationStartDate", YMD),
            "certification_end_date": col(
                "CertificationEndDate", YMD, "NULL (99991231 or a placeholder): does not expire"
            ),
            "stay_current_eligibility_start_date": col(
                "StayCurrentEligibilityStartDate", YMD, "renewal opens"
            ),
        },
        checks=[
            pa.Check.not_after(first="certification_start_date", second="certification_end_date")
        ],
        tenant=True,
        references=(USER, Reference("source_uid", "HierarchyCertification", "certification_uid")),
    ),
    contract(
        "Progress",
        "XP events for completed units, modules and learning paths.",
        {
            **_tenant(),
            "xp_reason": col("XPReason", T, "e.g. points.unit.basic.completed"),
            "source_type": col(
                "SourceType", T, required=True, allowed=("Unit", "Module", "LearningPath")
            ),
            "source_uid": col("SourceUid", T, required=True),
            "xp": col("XP", N, "experience points", required=True, valid=XP),
            "awarded_on": col("AwardedOn", DTO, "when, in UTC", required=True),
        },
        tenant=True,
        references=(
            USER,
            Reference("source_uid", "HierarchyUnit", "unit_uid", "Unit"),
            Reference("source_uid", "HierarchyModule", "module_uid", "Module"),
            Reference("source_uid", "HierarchyLearningPath", "learning_path_uid", "LearningPath"),
        ),
    ),
    contract(
        "Users",
        "Every Learn user referenced by the tenant datasets, mapped to the Entra object id.",
        {
            **_tenant(),
            "aad_object_id": col("AADObjectId", D, "Microsoft Entra object id", required=True),
            "created_on": col("CreatedOn", DTO, "Learn profile created, in UTC"),
        },
        unique=["user_id"],
        tenant=True,
    ),
    contract(
        "HierarchyAppliedSkills",
        "Catalog of every Applied Skills credential on Microsoft Learn.",
        {
            "applied_skills_uid": col("appliedSkillsUid", T, required=True),
            "title": col("title", T),
            **_urls(("url", "url")),
            **_catalog_lists("levels", "products", "roles", "subjects", "tasks"),
        },
        unique=["applied_skills_uid"],
    ),
    contract(
        "HierarchyCertification",
        "Catalog of every certification on Microsoft Learn.",
        {
            "certification_uid": col("certificationUid", T, required=True),
            "type": col("type", T),
            "title": col("title", T),
            "summary": col("summary", T),
            **_urls(("url", "url"), ("icon_url", "iconUrl")),
            **_catalog_lists("levels", "products", "roles", "exams"),
        },
        unique=["certification_uid"],
    ),
    contract(
        "HierarchyLearningPath",
        "Catalog of every learning path on Microsoft Learn.",
        {
            "learning_path_uid": col("LearningPathUid", T, required=True),
            "title": col("title", T),
            **_urls(("url", "url")),
            "duration_in_minutes": col("durationInMinutes", N, valid=MINUTES),
            "points": col("points", N, "XP for completing the path", valid=XP),
            **_urls(("icon_url", "iconUrl")),
            **_catalog_lists("levels", "products", "roles", "languages"),
        },
        unique=["learning_path_uid"],
    ),
    contract(
        "HierarchyLearningPathModule",
        "Which modules make up each learning path (a module can be in several paths).",
        {
            "learning_path_uid": col("LearningPathUid", T, required=True),
            "module_uid": col("ModuleUid", T, required=True),
        },
        references=(
            Reference("learning_path_uid", "HierarchyLearningPath", "learning_path_uid"),
            Reference("module_uid", "HierarchyModule", "module_uid"),
        ),
    ),
    contract(
        "HierarchyModule",
        "Catalog of every module (course) on Microsoft Learn.",
        {
            "module_uid": col("moduleUid", T, required=True),
            "title": col("title", T),
            **_urls(("url", "url"), ("icon_url", "iconUrl")),
            "duration_in_minutes": col("durationInMinutes", N, valid=MINUTES),
            "points": col("points", N, "XP for completing the module", valid=XP),
            **_catalog_lists("levels", "products", "roles", "languages"),
        },
        unique=["module_uid"],
    ),
    contract(
        "HierarchyUnit",
        "Catalog of every unit (page of a module) on Microsoft Learn.",
        {
            "unit_uid": col("unitUid", T, required=True),
            "title": col("title", T),
            **_urls(("url", "url")),
            "duration_in_minutes": col("durationInMinutes", N, valid=MINUTES),
            "points": col("points", N, "XP for completing the unit", valid=XP),
            "module_uid": col("moduleUid", T, "the module the unit belongs to", required=True),
        },
        unique=["unit_uid"],
        references=(Reference("module_uid", "HierarchyModule", "module_uid"),),
    ),
)

# The organization's Entra "Download users" export (not a Learn dataset; not partitioned). Real
# exports call the id column `id`, documented ones `objectId`: staging accepts either. Columns
# other than the id may be absent from older exports and are then NULL.
ENTRA_CONTRACT = contract(
    "EntraUsers",
    "The organization's directory (Entra users export): names, departments, job titles.",
    {
        "object_id": col("id", D, "Entra object id (= Users.AADObjectId)", required=True),
        "display_name": col("displayName", T),
        "user_principal_name": col("userPrincipalName", T),
        "given_name": col("givenName", T),
        "surname": col("surname", T),
        "mail": col("mail", T),
        "user_type": col("userType", T, "Member or Guest"),
        "job_title": col("jobTitle", T),
        "department": col("department", T),
        "company_name": col("companyName", T),
        "office_location": col("officeLocation", T),
        "city": col("city", T),
        "country": col("country", T),
        "usage_location": col("usageLocation", T),
        "account_enabled": col("accountEnabled", Kind.BOOLEAN),
        "created_at": col("createdDateTime", Kind.LOCALE_DATETIME, "account created, as UTC"),
    },
    unique=["object_id"],
    partitioned=False,
)
