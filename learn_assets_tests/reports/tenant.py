"""A hand-built tenant of four learners and one directory-only user over two snapshots.

Every expected value in test_reports.py (and test_catalog_tags.py) was computed by hand from the
rows below.

Catalog: path P1 = modules M1 (units U1a, U1b) and M2 (unit U2a); path P2 = module M3 (unit U3a);
certification C1; applied skill S1. Catalog tags (for reports.catalog_tag_progress): M1 has two
products (azure, dotnet), M2 one (azure), M3 none; M1 and M3 are beginner, M2 intermediate; every
module and path has the role developer; both paths are azure and beginner; S1 is intermediate
with the subject security (only applied skills carry subjects); C1's tags (azure, intermediate,
administrator) count nowhere: certifications are not in that report. The tags feed no other
report, so giving M1 a second product, M3 none, M2 its own level and S1 a subject (the tenant
had azure/beginner/developer everywhere before) changed no other expected value.
- Ada (A): M1 done by D1; U2a, M2 and P1 done after D1 (U2a at 20:30 -08:00 on Oct 31 local,
  i.e. 04:30 UTC on Nov 1: the next UTC day). Certification C1 expired (ended 2025-12-31).
  Directory: department "Research, Development".
- Bob (B): one unit of M1; C1 active until 2027-03-01, renewal open since 2026-10-01. Sales.
- Cy (C): one unit of M3; C1 ending 2026-12-15 (expiring soon on D1), renewal open. Leaves:
  absent from the D2 snapshot. Sales.
- Eve (E): no directory match; applied skill S1; C1 active, renewal opens 2026-12-01.
- Dee (d): in the directory (Sales), never used Learn.
Each directory row has a given name, surname, mail and UPN (nothing reads them but privacy
tests, which look for them in everything privacy mode writes).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from learn_assets.contracts.datasets import DATASETS_BY_NAME, ENTRA_COLUMNS
from learn_assets_tests.helpers import write_csv

D1, D2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)
TENANT = "7e7e7e7e-0000-0000-0000-000000000000"
A, B, C, E = (f"{c * 8}-0000-0000-0000-00000000000{i}" for i, c in enumerate("abce", 1))
AAD = {
    A: "0000000a-aaaa-0000-0000-000000000000",
    B: "0000000b-bbbb-0000-0000-000000000000",
    C: "0000000c-cccc-0000-0000-000000000000",
    E: "0000000e-eeee-0000-0000-000000000000",
}
DEE = "0000000d-dddd-0000-0000-000000000000"
M1, M2, M3 = "learn.m1", "learn.m2", "learn.m3"
P1, P2 = "learn.p1", "learn.p2"
C1, S1 = "certification.c1", "applied-skill.s1"

UNITS = {"learn.m1.1-a": M1, "learn.m1.2-b": M1, "learn.m2.1-a": M2, "learn.m3.1-a": M3}


def _progress(user, source_type, uid, xp, at):
    reason = {
        "Unit": "points.unit.basic.completed",
        "Module": "points.module.basic.completed",
        "LearningPath": "points.path.basic.completed",
    }[source_type]
    return {
        "tenantId": TENANT,
        "userId": user,
        "XPReason": reason,
        "SourceType": source_type,
        "SourceUid": uid,
        "XP": str(xp),
        "AwardedOn": at,
    }


def _award(user, kind, uid, at):
    module = kind == "Badge"
    return {
        "tenantId": TENANT,
        "userId": user,
        "awardReason": "badge.module.basic.completed" if module else "trophy.path.basic.completed",
        "awardType": kind,
        "awardUid": f"{uid}.{kind.lower()}",
        "SourceType": "Module" if module else "LearningPath",
        "SourceUid": uid,
        "AwardedOn": at,
    }


def _cert(user, awarded, end, stay):
    return {
        "tenantID": TENANT,
        "userId": user,
        "AwardType": "Certification",
        "TranscriptName": "Microsoft Certified: C1",
        "SourceUid": C1,
        "AwardedOn": awarded,
        "CertificationStartDate": awarded,
        "CertificationEndDate": end,
        "StayCurrentEligibilityStartDate": stay,
    }


BEFORE_D1 = [
    _progress(A, "Unit", "learn.m1.1-a", 100, "2026-10-30T10:00:00.0000000+00:00"),
    _progress(A, "Unit", "learn.m1.2-b", 100, "2026-10-30T11:00:00.0000000+02:00"),
    _progress(A, "Module", M1, 200, "2026-10-30T11:00:00.1000000+02:00"),
    _progress(B, "Unit", "learn.m1.1-a", 100, "2026-10-31T09:00:00.0000000-05:00"),
]
CY_PROGRESS = [_progress(C, "Unit", "learn.m3.1-a", 100, "2026-10-31T12:00:00.0000000+00:00")]
AFTER_D1 = [  # local Oct 31 evening in UTC-8: Nov 1 in UTC
    _progress(A, "Unit", "learn.m2.1-a", 100, "2026-10-31T20:30:00.0000000-08:00"),
    _progress(A, "Module", M2, 200, "2026-10-31T20:31:00.0000000-08:00"),
    _progress(A, "LearningPath", P1, 2000, "2026-10-31T20:32:00.0000000-08:00"),
]
BADGE_M1 = _award(A, "Badge", M1, "2026-10-30T11:00:00.1000000+02:00")
NEW_AWARDS = [
    _award(A, "Badge", M2, "2026-10-31T20:31:00.0000000-08:00"),
    _award(A, "Trophy", P1, "2026-10-31T20:32:00.0000000-08:00"),
]
CERTS = {
    A: _cert(A, "20250101", "20251231", "20250701"),  # expired
    B: _cert(B, "20260301", "20270301", "20261001"),  # active, renewal open
    C: _cert(C, "20251201", "20261215", "20260615"),  # expiring soon on D1, renewal open
    E: _cert(E, "20260601", "20270601", "20261201"),  # active, renewal not yet open
}
SKILL = {
    "tenantId": TENANT,
    "userId": E,
    "appliedSkillsUid": S1,
    "labProfileName": "APL-1: S1",
    "examScoredDate": "2026-10-15T10:00:00",
}


def _user(user, created):
    return {"tenantId": TENANT, "userId": user, "AADObjectId": AAD[user], "CreatedOn": created}


USERS = {
    A: _user(A, "2026-01-05T09:00:00.0000000+01:00"),
    B: _user(B, "2026-02-01T09:00:00.0000000+00:00"),
    C: _user(C, "2026-03-01T09:00:00.0000000+00:00"),
    E: _user(E, "2026-04-01T09:00:00.0000000+00:00"),
}

SNAPSHOTS = {
    D1: {
        "Users": [USERS[A], USERS[B], USERS[C], USERS[E]],
        "Progress": BEFORE_D1 + CY_PROGRESS,
        "Achievements": [BADGE_M1],
        "Certifications": [CERTS[A], CERTS[B], CERTS[C], CERTS[E]],
        "AppliedSkills": [SKILL],
    },
    D2: {
        "Users": [USERS[A], USERS[B], USERS[E]],
        "Progress": BEFORE_D1 + AFTER_D1,
        "Achievements": [BADGE_M1, *NEW_AWARDS],
        "Certifications": [CERTS[A], CERTS[B], CERTS[E]],
        "AppliedSkills": [SKILL],
    },
}

# Catalog tags of the modules (JSON arrays, as delivered): M1 has two products, M3 none.
MODULE_TAGS = {
    M1: {"products": '["azure","dotnet"]', "levels": '["beginner"]'},
    M2: {"products": '["azure"]', "levels": '["intermediate"]'},
    M3: {"products": "[]", "levels": '["beginner"]'},
}

CATALOG = {
    "HierarchyModule": [
        {
            "moduleUid": m,
            "title": f"Module {m[-1]}",
            "url": f"/training/modules/{m[6:]}/",
            "iconUrl": "",
            "durationInMinutes": "10",
            "points": "200",
            "levels": MODULE_TAGS[m]["levels"],
            "products": MODULE_TAGS[m]["products"],
            "roles": '["developer"]',
            "languages": "[]",
        }
        for m in (M1, M2, M3)
    ],
    "HierarchyUnit": [
        {
            "unitUid": u,
            "title": u,
            "url": f"/training/modules/{m[6:]}/{u[-3:]}/",
            "durationInMinutes": "5",
            "points": "100",
            "moduleUid": m,
        }
        for u, m in UNITS.items()
    ],
    "HierarchyLearningPath": [
        {
            "LearningPathUid": p,
            "title": f"Path {p[-1]}",
            "url": f"/training/paths/{p[6:]}/",
            "durationInMinutes": "30",
            "points": "2000",
            "iconUrl": "",
            "levels": '["beginner"]',
            "products": '["azure"]',
            "roles": '["developer"]',
            "languages": "[]",
        }
        for p in (P1, P2)
    ],
    "HierarchyLearningPathModule": [
        {"LearningPathUid": P1, "ModuleUid": M1},
        {"LearningPathUid": P1, "ModuleUid": M2},
        {"LearningPathUid": P2, "ModuleUid": M3},
    ],
    "HierarchyCertification": [
        {
            "certificationUid": C1,
            "type": "0",
            "title": "Certification One",
            "summary": "One, with a comma",
            "url": "/credentials/certifications/c1/",
            "iconUrl": "",
            "levels": '["intermediate"]',
            "products": '["azure"]',
            "roles": '["administrator"]',
            "exams": '["exam.c1"]',
        }
    ],
    "HierarchyAppliedSkills": [
        {
            "appliedSkillsUid": S1,
            "title": "Skill One",
            "url": "/credentials/applied-skills/s1/",
            "levels": '["intermediate"]',
            "products": "[]",
            "roles": "[]",
            "subjects": '["security"]',  # only applied skills carry subjects
            "tasks": '["Do it"]',
        }
    ],
}


def _person(object_id: str, name: str, department: str, **more: str) -> dict[str, str]:
    """A directory row; mail and UPN from the name, so privacy tests have them to look for."""
    given, surname = name.split()
    return {
        "id": object_id,
        "displayName": name,
        "givenName": given,
        "surname": surname,
        "mail": f"{given.lower()}@contoso.example",
        "userPrincipalName": f"{given.lower()}.{surname.lower()}@contoso.example",
        "department": department,
        "accountEnabled": "True",
        **more,
    }


DIRECTORY = [
    _person(AAD[A], "Ada Lovelace", "Research, Development", jobTitle="Engineer"),
    _person(AAD[B], "Bob Stone", "Sales"),
    _person(AAD[C], "Cy Young", "Sales"),
    _person(DEE, "Dee Never", "Sales"),
]


def write_snapshot(landing: Path, day: dt.date, tenant_files: dict[str, list[dict]]) -> None:
    """One snapshot folder: the given tenant datasets plus the catalog."""
    for name, rows in {**tenant_files, **CATALOG}.items():
        dataset = DATASETS_BY_NAME[name]
        write_csv(landing / day.isoformat() / f"{name}.csv", dataset.column_names, rows)


def write_tenant(landing: Path) -> None:
    for day, tenant_files in SNAPSHOTS.items():
        write_snapshot(landing, day, tenant_files)
    write_csv(landing / "entra_users.csv", ENTRA_COLUMNS, DIRECTORY)
