"""The organization's Entra "Download users" export: the directory the Learn data joins to.

About 95% of learners are in the directory (the rest are guests of other tenants) and about a
quarter as many again are directory users who never use Learn; a few of those are B2B guests.
Learners who left the tenant have their account disabled.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from learn_assets.contracts.datasets import ENTRA_COLUMNS
from learn_assets.generator import words
from learn_assets.generator.ids import NEVER, TICKS_PER_DAY, guids
from learn_assets.generator.population import Learners

IN_DIRECTORY_SHARE = 0.95
NON_LEARNER_SHARE = 0.25
GUEST_SHARE = 0.05  # of the non-learners
DISABLED_SHARE = 0.04
_LOC = list(zip(*words.LOCATIONS, strict=True))
_LOCATION_WEIGHTS = np.array(_LOC[8], float) / sum(_LOC[8])


def _dup_rank(key: np.ndarray) -> np.ndarray:
    """0 for the first row with a key, 1 for the second, ... (first.last, first.last2, ...)."""
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    first = np.r_[True, sorted_key[1:] != sorted_key[:-1]]
    group_start = np.maximum.accumulate(np.where(first, np.arange(len(key)), 0))
    rank = np.empty(len(key), np.int64)
    rank[order] = np.arange(len(key)) - group_start
    return rank


def entra_frame(rng: np.random.Generator, learners: Learners, first_cutoff: int) -> pa.Table:
    """Raw columns of the export; `ENTRA_SQL` turns them into the 29 export columns."""
    in_dir = np.flatnonzero(rng.random(learners.n) < IN_DIRECTORY_SHARE)
    n_extra = round(NON_LEARNER_SHARE * learners.n)
    n = len(in_dir) + n_extra
    learner_created = learners.join[in_dir] - (
        rng.uniform(30, 4 * 365, len(in_dir)) * TICKS_PER_DAY
    ).astype(np.int64)
    extra_created = first_cutoff - (rng.uniform(1, 5 * 365, n_extra) * TICKS_PER_DAY).astype(
        np.int64
    )
    columns = {
        "id": np.concatenate([learners.aad_ids[in_dir], guids(rng, n_extra)]),
        "loc": np.concatenate(
            [
                learners.location[in_dir],
                rng.choice(len(_LOCATION_WEIGHTS), n_extra, p=_LOCATION_WEIGHTS),
            ]
        ),
        "left": np.concatenate([learners.leave[in_dir] != NEVER, np.zeros(n_extra, bool)]),
        "guest": np.concatenate([np.zeros(len(in_dir), bool), rng.random(n_extra) < GUEST_SHARE]),
        "created_ticks": np.concatenate([learner_created, extra_created]),
    }
    # Shuffle so learners and non-learners interleave like a real directory listing.
    order = rng.permutation(n)
    columns = {k: v[order] for k, v in columns.items()}
    given = rng.integers(len(words.GIVEN_NAMES), size=n)
    surname = rng.integers(len(words.SURNAMES), size=n)
    loc = columns.pop("loc")

    def pick(values: tuple[str, ...] | list[str], index: np.ndarray) -> pa.Array:
        return pa.array(list(values)).take(pa.array(index))

    given_display, given_ascii = zip(*words.GIVEN_NAMES, strict=True)
    surname_display, surname_ascii = zip(*words.SURNAMES, strict=True)
    return pa.table(
        {
            **columns,
            "given": pick(given_display, given),
            "given_ascii": pick(given_ascii, given),
            "surname": pick(surname_display, surname),
            "surname_ascii": pick(surname_ascii, surname),
            "dup": _dup_rank(given * len(words.SURNAMES) + surname),
            "enabled": ~columns["left"] & (rng.random(n) >= DISABLED_SHARE),
            "job": pick(words.JOB_TITLES, rng.integers(len(words.JOB_TITLES), size=n)),
            "dept": pick(words.DEPARTMENTS, rng.integers(len(words.DEPARTMENTS), size=n)),
            "employee": 100_001 + rng.permutation(n),
            "synced": rng.random(n) < 0.6,
            "phone": np.where(rng.random(n) < 0.7, rng.integers(0, 10_000, size=n), -1),
            "building": rng.integers(1, 40, size=n),
            "usage": pick(_LOC[0], loc),
            "city": pick(_LOC[1], loc),
            "state": pick(_LOC[2], loc),
            "country": pick(_LOC[3], loc),
            "postal": pick(_LOC[4], loc),
            "street": pick(_LOC[5], loc),
            "phone_prefix": pick(_LOC[6], loc),
        }
    )


_LOCAL_PART = (
    "lower(given_ascii || '.' || surname_ascii"
    " || CASE WHEN dup > 0 THEN CAST(dup + 1 AS VARCHAR) ELSE '' END)"
)


def _member(expr: str) -> str:
    """Directory attributes that B2B guests do not carry."""
    return f"CASE WHEN guest THEN NULL ELSE {expr} END"


# Expression per export column; NULL is written as an empty cell.
_EXPRESSIONS: dict[str, str] = {
    "id": "id",
    "displayName": "given || ' ' || surname",
    "userPrincipalName": f"{_LOCAL_PART} || CASE WHEN guest"
    " THEN '_fabrikam.example#EXT#@contoso.example' ELSE '@contoso.example' END",
    "userType": "CASE WHEN guest THEN 'Guest' ELSE 'Member' END",
    "givenName": "given",
    "surname": "surname",
    "mail": f"{_LOCAL_PART}"
    " || CASE WHEN guest THEN '@fabrikam.example' ELSE '@contoso.example' END",
    "jobTitle": _member("job"),
    "department": _member("dept"),
    "companyName": _member("'Contoso'"),
    "employeeId": _member("CAST(employee AS VARCHAR)"),
    "accountEnabled": "CASE WHEN enabled THEN 'True' ELSE 'False' END",
    "usageLocation": "usage",
    "officeLocation": _member("city || ' - Building ' || CAST(building AS VARCHAR)"),
    "streetAddress": _member("street"),
    "city": "city",
    "state": "NULLIF(state, '')",
    "postalCode": _member("postal"),
    "country": "country",
    "businessPhones": _member(
        "CASE WHEN phone >= 0 THEN phone_prefix || ' ' || lpad(CAST(phone AS VARCHAR), 4, '0') END"
    ),
    "mobilePhone": "NULL",
    "faxNumber": "NULL",
    "otherMails": "NULL",
    "proxyAddresses": _member(f"'SMTP:' || {_LOCAL_PART} || '@contoso.example'"),
    "onPremisesSyncEnabled": _member("CASE WHEN synced THEN 'True' END"),
    "creationType": "CASE WHEN guest THEN 'Invitation' END",
    "externalUserState": "CASE WHEN guest THEN 'Accepted' END",
    "ageGroup": "NULL",
    # Locale-formatted like the admin center's download: 8/19/2021 1:25:31 PM (UTC).
    "createdDateTime": "strftime(make_timestamp(created_ticks // 10), '%-m/%-d/%Y %-I:%M:%S %p')",
}


def entra_select() -> str:
    """SELECT list of the export, exactly ENTRA_COLUMNS in order."""
    return ", ".join(f'CAST({_EXPRESSIONS[c]} AS VARCHAR) AS "{c}"' for c in ENTRA_COLUMNS)
