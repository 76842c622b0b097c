"""Arrow frames of the tenant datasets: the master history with identifiers resolved to strings.

Each frame holds the dataset's plain columns under their dictionary names, plus helper columns
that the writer's SQL turns into the formatted ones (see `writer.select_list`):
- `_local_ticks`, `_offset`: the datetimeoffset column as local 100 ns ticks and `+05:30` text;
- `_utc_ticks`: a `datetime` column (examScoredDate);
- `_from`, `_until`: the row is in snapshot D when `_from < cutoff(D) < _until` (ticks UTC).
The tenant id column is not stored per row; the SQL adds it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from learn_assets.generator import history as h
from learn_assets.generator.catalog import Catalog
from learn_assets.generator.ids import NEVER, TICKS_PER_DAY, TICKS_PER_MINUTE, yyyymmdd
from learn_assets.generator.population import LOCATION_OFFSETS, Learners, offset_strings

LOCAL, OFFSET, UTC, FROM, UNTIL = "_local_ticks", "_offset", "_utc_ticks", "_from", "_until"
STAY_CURRENT_DAYS = 180  # renewal opens this many days before a certification ends
KEEP_EXPIRED_DAYS = 730  # the service keeps certifications expired within the last two years

_SOURCE_TYPES = pa.array(["Unit", "Module", "LearningPath"])
_XP_REASONS = pa.array(
    ["points.unit.basic.completed", "points.module.basic.completed", "points.path.basic.completed"]
)
_AWARD_TYPES = pa.array(["", "Badge", "Trophy"])  # by source type; units earn no award
_AWARD_REASONS = pa.array(["", "badge.module.basic.completed", "trophy.path.basic.completed"])
_OFFSETS = pa.array(offset_strings(LOCATION_OFFSETS))


@dataclass(frozen=True)
class Frame:
    table: pa.Table
    visible_from: np.ndarray  # same as the `_from` column, kept for counting rows per snapshot
    visible_until: np.ndarray

    def rows_at(self, cutoff: int) -> int:
        return int(np.count_nonzero((self.visible_from < cutoff) & (cutoff < self.visible_until)))


def _frame(
    columns: dict[str, pa.Array | np.ndarray], visible_from: np.ndarray, visible_until: np.ndarray
) -> Frame:
    table = pa.table({**columns, FROM: visible_from, UNTIL: visible_until})
    return Frame(table, np.asarray(visible_from), np.asarray(visible_until))


def _take(values: pa.Array, index: np.ndarray) -> pa.Array:
    """`values[index]` as a dictionary array: no string copies (5M rows: 2 s -> ~0)."""
    return pa.DictionaryArray.from_arrays(pa.array(index, pa.int32()), values)


def _local(learners: Learners, user: np.ndarray, utc: np.ndarray) -> dict[str, pa.Array]:
    """Helper columns of a datetimeoffset: the same instant in the learner's local time."""
    return {
        LOCAL: utc + learners.offset_minutes[user] * TICKS_PER_MINUTE,
        OFFSET: _take(_OFFSETS, learners.location[user]),
    }


def _by_source(per_type: list[pa.Array], events: h.Events) -> pa.Array:
    """Look up `events.item` in the array of its source type (units, modules, paths)."""
    base = np.cumsum([0] + [len(a) for a in per_type[:-1]])
    return _take(pa.concat_arrays(per_type), base[events.source_type] + events.item)


def _events(
    learners: Learners, user_ids: pa.Array, events: h.Events, uids: list[pa.Array]
) -> dict[str, pa.Array]:
    """userId, SourceType, SourceUid and the datetimeoffset helpers shared by both event sets."""
    return {
        "userId": _take(user_ids, events.user),
        "SourceType": _take(_SOURCE_TYPES, events.source_type),
        "SourceUid": _by_source(uids, events),
        **_local(learners, events.user, events.time),
    }


def tenant_frames(learners: Learners, hist: h.History, catalog: Catalog) -> dict[str, Frame]:
    """Frames of the five tenant datasets, keyed by dataset name."""
    user_ids = pa.array(learners.user_ids)
    leave = learners.leave
    uids = [pa.array(catalog.unit_uids), pa.array(catalog.module_uids), pa.array(catalog.path_uids)]

    by_join = np.argsort(learners.join, kind="stable")
    users = _frame(
        {
            "userId": _take(user_ids, by_join),
            "AADObjectId": pa.array(learners.aad_ids[by_join]),
            **_local(learners, by_join, learners.join[by_join]),
        },
        learners.join[by_join],
        leave[by_join],
    )

    p = hist.progress
    progress = _frame(
        {
            **_events(learners, user_ids, p, uids),
            "XPReason": _take(_XP_REASONS, p.source_type),
            "XP": pa.array(p.xp.astype(np.int32)),
        },
        p.time,
        leave[p.user],
    )

    a = hist.achievements
    award_uids = [
        pa.array([""] * len(catalog.unit_uids)),
        pa.array([f"{u}.badge" for u in catalog.module_uids]),
        pa.array([f"{u}.trophy" for u in catalog.path_uids]),
    ]
    achievements = _frame(
        {
            **_events(learners, user_ids, a, uids),
            "awardReason": _take(_AWARD_REASONS, a.source_type),
            "awardType": _take(_AWARD_TYPES, a.source_type),
            "awardUid": _by_source(award_uids, a),
        },
        a.time,
        leave[a.user],
    )

    return {
        "Achievements": achievements,
        "AppliedSkills": _applied_skills(learners, user_ids, hist.applied_skills, catalog),
        "Certifications": _certifications(learners, user_ids, hist.certifications, catalog),
        "Progress": progress,
        "Users": users,
    }


def _certifications(
    learners: Learners, user_ids: pa.Array, c: h.Certifications, catalog: Catalog
) -> Frame:
    expires = c.end_day >= 0
    end = np.where(expires, yyyymmdd(c.end_day), c.placeholder)
    stay = np.where(expires, yyyymmdd(c.end_day - STAY_CURRENT_DAYS), c.placeholder)
    awarded = yyyymmdd(c.awarded_day).astype(np.int32)
    # In snapshot D when awarded before D, the holder is present, and not expired > 2 years.
    gone = np.where(expires, (c.end_day + KEEP_EXPIRED_DAYS + 1) * TICKS_PER_DAY, NEVER)
    return _frame(
        {
            "userId": _take(user_ids, c.user),
            "AwardType": pa.array(np.full(len(c.user), "Certification")),
            "TranscriptName": _take(pa.array(catalog.cert_titles), c.cert),
            "SourceUid": _take(pa.array(catalog.cert_uids), c.cert),
            "AwardedOn": awarded,
            "CertificationStartDate": awarded,
            "CertificationEndDate": end.astype(np.int32),
            "StayCurrentEligibilityStartDate": stay.astype(np.int32),
        },
        np.maximum(c.awarded_day * TICKS_PER_DAY, learners.join[c.user]),
        np.minimum(gone, learners.leave[c.user]),
    )


def _applied_skills(
    learners: Learners, user_ids: pa.Array, s: h.AppliedSkills, catalog: Catalog
) -> Frame:
    return _frame(
        {
            "userId": _take(user_ids, s.user),
            "appliedSkillsUid": _take(pa.array(catalog.skill_uids), s.skill),
            "labProfileName": _take(pa.array(catalog.skill_lab_names), s.skill),
            UTC: s.time,
        },
        s.time,
        learners.leave[s.user],
    )
