"""Contracts: the single source of truth for every dataset's columns, types and rules.

Each contract describes the *staged* table (snake_case names, real types). A column links it to
the delivered file: `source` is the column's spelling in the data dictionary and `kind` says how
the text is parsed. Rules are declared with the vocabulary of `contracts/rules.py` (`Required()`,
`OneOf(...)`, `Range(...)`, ...), kept as the column's `rules`. The raw layer takes its column
list from here, the staged layer compiles the rules to DuckDB SQL (`contracts/sql.py`), the UI
shows them as column schemas, and the README's rule tables are generated from them.

A contract is plain data, so the code location loads without pandas or pandera (issue #18);
`Contract.pandera` generates its pandera schema (pandas backend), every check from its rules,
when a frame is to be validated with pandas (the differential tests, the bench's baseline).
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING

from learn_assets.contracts.kinds import RANGED_KINDS, TIMESTAMP_KINDS, Kind
from learn_assets.contracts.rules import (
    LEARN_SITE,
    PARSERS,
    VOCABULARY,
    FrameRule,
    Guid,
    MaxLength,
    NotAfter,
    OneOf,
    Range,
    Required,
    Rule,
    StartsWith,
    in_vocabulary,
    pandera_api,
)

if TYPE_CHECKING:
    import pandera.pandas as pa

__all__ = [
    "LEARN_SITE",
    "MAX_TEXT_LENGTH",
    "Contract",
    "ContractColumn",
    "Range",
    "Reference",
    "col",
    "contract",
]

# No real title, summary or uid comes near this; a longer value is a corrupt field.
MAX_TEXT_LENGTH = 65_536

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
    dt.datetime(1900, 1, 1, tzinfo=dt.UTC), dt.datetime(2999, 12, 31, 23, 59, 59, 999999, dt.UTC)
)
# XP of one Progress row, and the points of a catalog item (the XP it gives). Real values are
# 100 to a few thousand; the cap also keeps every sum of XP far from BIGINT's limit (it would
# take 9.2 trillion capped rows to overflow).
XP = Range(0, 1_000_000)
# Duration of a unit, module or learning path: real values are minutes to a few dozen hours.
MINUTES = Range(0, 100_000)

# The rules every column of a kind follows, unless it declares its own rule of that type (a
# number states its range: there is no default one).
KIND_RULES: dict[Kind, tuple[Rule, ...]] = {
    Kind.GUID: (Guid(),),
    Kind.TEXT: (MaxLength(MAX_TEXT_LENGTH),),
    Kind.URL: (MaxLength(MAX_TEXT_LENGTH),),
    Kind.YYYYMMDD: (DATES,),
} | dict.fromkeys(TIMESTAMP_KINDS, (TIMESTAMPS,))


def column_rules_for(kind: Kind, declared: tuple[object, ...], label: str) -> tuple[Rule, ...]:
    """The rules of a column of `kind`: its parser, its kind's and the `declared` ones, in the
    vocabulary's order. Refuses a rule outside the vocabulary, or one not for this kind."""
    rules: list[Rule] = []
    for rule in declared:
        rule = in_vocabulary(rule, label)
        if not isinstance(rule, Rule) or not rule.applies_to(kind):
            raise ValueError(f"{label}: {rule!r} is not a rule for a {kind} column")
        if any(type(r) is type(rule) for r in rules):
            raise ValueError(f"{label}: two {type(rule).__name__} rules")
        rules.append(rule)
    rules += [r for r in KIND_RULES.get(kind, ()) if not any(type(d) is type(r) for d in rules)]
    if (kind in RANGED_KINDS) != any(isinstance(r, Range) for r in rules):
        raise ValueError(f"{label}: a {kind} column needs a valid range, other kinds none")
    return tuple(sorted([PARSERS[kind], *rules], key=lambda r: VOCABULARY.index(type(r))))


@dataclass(frozen=True)
class ContractColumn:
    """A contract column: its kind, its rules (its parser, its kind's and the declared ones, in
    the vocabulary's order), and where its value comes from: the delivered column `source`, or
    the staged column it is `derived_from`."""

    kind: Kind
    rules: tuple[Rule, ...]
    description: str | None = None
    source: str | None = None
    derived_from: str | None = None

    @property
    def nullable(self) -> bool:
        return not any(isinstance(r, Required) for r in self.rules)

    def pandera(self) -> pa.Column:
        """The pandera column: its kind's dtype, nullable unless required, a check per rule."""
        return pandera_api().Column(
            PARSERS[self.kind].dtype,
            checks=[check for rule in self.rules for check in rule.checks(self.kind)],
            nullable=self.nullable,
            description=self.description,
        )


def _column(
    kind: Kind,
    declared: tuple[object, ...],
    label: str,
    description: str,
    source: str | None = None,
    derived_from: str | None = None,
) -> ContractColumn:
    rules = column_rules_for(kind, declared, label)
    return ContractColumn(kind, rules, description or None, source, derived_from)


def col(source: str, kind: Kind, *rules: Rule, doc: str = "") -> ContractColumn:
    """A contract column parsed from the delivered column `source`, following `rules` and its
    kind's (`KIND_RULES`). Numbers state their valid `Range`; dates and timestamps have their
    kind's unless given."""
    return _column(kind, rules, source, doc, source=source)


def absolute_url(of: str) -> ContractColumn:
    """Derived: the full link, `https://learn.microsoft.com` + the site-relative URL."""
    return _column(
        Kind.ABSOLUTE_URL,
        (StartsWith("https://"),),
        of,
        f"{LEARN_SITE} + {of}",
        derived_from=of,
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


@dataclass(frozen=True)
class Contract:
    """A dataset's staged table: `columns` by staged name, in order; `unique` is the key (no two
    rows of a snapshot share it); `rules` are the rules over several columns (`NotAfter`)."""

    name: str
    description: str
    columns: dict[str, ContractColumn]
    unique: tuple[str, ...]
    rules: tuple[FrameRule, ...] = ()
    tenant: bool = False
    references: tuple[Reference, ...] = ()
    partitioned: bool = True

    @functools.cached_property
    def pandera(self) -> pa.DataFrameSchema:
        """The contract as a pandera schema (pandas backend), generated when first used:
        coerced, strict, ordered, with the checks of every rule (erroring with its reasons)."""
        return pandera_api().DataFrameSchema(
            {name: column.pandera() for name, column in self.columns.items()},
            checks=[rule.check() for rule in self.rules],
            unique=list(self.unique),
            strict=True,
            ordered=True,
            coerce=True,
            name=self.name,
            description=self.description,
        )


def contract(
    name: str,
    description: str,
    columns: dict[str, ContractColumn],
    *,
    unique: list[str] | None = None,
    rules: tuple[FrameRule, ...] = (),
    tenant: bool = False,
    references: tuple[Reference, ...] = (),
    partitioned: bool = True,
) -> Contract:
    """`unique` is the key: no two rows of a snapshot share it (the whole row when omitted).
    `rules` are the rules over several columns (`NotAfter`)."""
    for column_name, column in columns.items():
        if not isinstance(column, ContractColumn):
            raise TypeError(
                f"{column_name}: {column!r} is not a contract column; declare contract columns "
                "with `col` (schemas.py)"
            )
    for rule in rules:
        rule = in_vocabulary(rule, name)
        kinds = {columns[c].kind for c in rule.columns if c in columns}
        if not isinstance(rule, FrameRule) or len(kinds) != 1 or set(rule.columns) - set(columns):
            raise ValueError(f"{name}: {rule!r} is not a rule over columns of one kind here")
    return Contract(
        name,
        description,
        columns,
        tuple(unique or columns),
        rules,
        tenant,
        references,
        partitioned,
    )


USER = Reference("user_id", "Users", "user_id")


def _tenant(source: str = "tenantId") -> dict[str, ContractColumn]:
    return {
        "tenant_id": col(source, Kind.GUID, Required(), doc="organization's Entra tenant"),
        "user_id": col("userId", Kind.GUID, Required(), doc="Learn profile id (not the Entra id)"),
    }


def _catalog_lists(*names: str) -> dict[str, ContractColumn]:
    return {n: col(n, Kind.JSON_ARRAY, doc=f"JSON array of {n}") for n in names}


def _urls(*pairs: tuple[str, str]) -> dict[str, ContractColumn]:
    out: dict[str, ContractColumn] = {}
    for name, source in pairs:
        out[name] = col(source, Kind.URL, doc="site-relative URL")
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

CONTRACTS: tuple[Contract, ...] = (
    contract(
        "Achievements",
        "Badges (module completed) and trophies (learning path completed) earned by the "
        "tenant's users.",
        {
            **_tenant(),
            "award_reason": col("awardReason", T, doc="e.g. badge.module.basic.completed"),
            "award_type": col(
                "awardType", T, Required(), OneOf("Badge", "Trophy"), doc="Badge or Trophy"
            ),
            "award_uid": col("awardUid", T, Required()),
            "source_type": col(
                "SourceType",
                T,
                Required(),
                OneOf("Module", "LearningPath"),
                doc="what was completed",
            ),
            "source_uid": col("SourceUid", T, Required(), doc="module or learning path uid"),
            "awarded_on": col("AwardedOn", DTO, Required(), doc="when, in UTC"),
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
            "applied_skills_uid": col("appliedSkillsUid", T, Required()),
            "lab_profile_name": col("labProfileName", T),
            "exam_scored_date": col(
                "examScoredDate", DT, Required(), doc="when the lab was scored, in UTC"
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
            "transcript_name": col(
                "TranscriptName", T, doc="certification title on the transcript"
            ),
            "source_uid": col("SourceUid", T, Required(), doc="certification uid"),
            "awarded_on": col(
                "AwardedOn", YMD, doc="YYYYMMDD; placeholder (0, empty, 1899xxxx, 99991231) = NULL"
            ),
            "certification_start_date": col("CertificationStartDate", YMD),
            "certification_end_date": col(
                "CertificationEndDate", YMD, doc="NULL (99991231 or a placeholder): does not expire"
            ),
            "stay_current_eligibility_start_date": col(
                "StayCurrentEligibilityStartDate", YMD, doc="renewal opens"
            ),
        },
        rules=(NotAfter("certification_start_date", "certification_end_date"),),
        tenant=True,
        references=(USER, Reference("source_uid", "HierarchyCertification", "certification_uid")),
    ),
    contract(
        "Progress",
        "XP events for completed units, modules and learning paths.",
        {
            **_tenant(),
            "xp_reason": col("XPReason", T, doc="e.g. points.unit.basic.completed"),
            "source_type": col(
                "SourceType", T, Required(), OneOf("Unit", "Module", "LearningPath")
            ),
            "source_uid": col("SourceUid", T, Required()),
            "xp": col("XP", N, Required(), XP, doc="experience points"),
            "awarded_on": col("AwardedOn", DTO, Required(), doc="when, in UTC"),
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
            "aad_object_id": col("AADObjectId", D, Required(), doc="Microsoft Entra object id"),
            "created_on": col("CreatedOn", DTO, doc="Learn profile created, in UTC"),
        },
        unique=["user_id"],
        tenant=True,
    ),
    contract(
        "HierarchyAppliedSkills",
        "Catalog of every Applied Skills credential on Microsoft Learn.",
        {
            "applied_skills_uid": col("appliedSkillsUid", T, Required()),
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
            "certification_uid": col("certificationUid", T, Required()),
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
            "learning_path_uid": col("LearningPathUid", T, Required()),
            "title": col("title", T),
            **_urls(("url", "url")),
            "duration_in_minutes": col("durationInMinutes", N, MINUTES),
            "points": col("points", N, XP, doc="XP for completing the path"),
            **_urls(("icon_url", "iconUrl")),
            **_catalog_lists("levels", "products", "roles", "languages"),
        },
        unique=["learning_path_uid"],
    ),
    contract(
        "HierarchyLearningPathModule",
        "Which modules make up each learning path (a module can be in several paths).",
        {
            "learning_path_uid": col("LearningPathUid", T, Required()),
            "module_uid": col("ModuleUid", T, Required()),
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
            "module_uid": col("moduleUid", T, Required()),
            "title": col("title", T),
            **_urls(("url", "url"), ("icon_url", "iconUrl")),
            "duration_in_minutes": col("durationInMinutes", N, MINUTES),
            "points": col("points", N, XP, doc="XP for completing the module"),
            **_catalog_lists("levels", "products", "roles", "languages"),
        },
        unique=["module_uid"],
    ),
    contract(
        "HierarchyUnit",
        "Catalog of every unit (page of a module) on Microsoft Learn.",
        {
            "unit_uid": col("unitUid", T, Required()),
            "title": col("title", T),
            **_urls(("url", "url")),
            "duration_in_minutes": col("durationInMinutes", N, MINUTES),
            "points": col("points", N, XP, doc="XP for completing the unit"),
            "module_uid": col("moduleUid", T, Required(), doc="the module the unit belongs to"),
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
        "object_id": col("id", D, Required(), doc="Entra object id (= Users.AADObjectId)"),
        "display_name": col("displayName", T),
        "user_principal_name": col("userPrincipalName", T),
        "given_name": col("givenName", T),
        "surname": col("surname", T),
        "mail": col("mail", T),
        "user_type": col("userType", T, doc="Member or Guest"),
        "job_title": col("jobTitle", T),
        "department": col("department", T),
        "company_name": col("companyName", T),
        "office_location": col("officeLocation", T),
        "city": col("city", T),
        "country": col("country", T),
        "usage_location": col("usageLocation", T),
        "account_enabled": col("accountEnabled", Kind.BOOLEAN),
        "created_at": col("createdDateTime", Kind.LOCALE_DATETIME, doc="account created, as UTC"),
    },
    unique=["object_id"],
    partitioned=False,
)
