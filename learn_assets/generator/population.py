"""The sample tenant's learners: identities, when they join and leave, where they work.

A learner is present in snapshot D (cutoff D 00:00 UTC) when `join < cutoff < leave`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from learn_assets.generator import words
from learn_assets.generator.ids import NEVER, TICKS_PER_DAY, guids

EARLY_SHARE = 0.70  # learners who exist before the first snapshot
LEAVER_SHARE = 0.02
HISTORY_DAYS = 365  # early learners joined within this many days before the first snapshot

LOCATION_OFFSETS = np.array([loc[7] for loc in words.LOCATIONS], np.int64)  # minutes
_LOCATION_WEIGHTS = np.array([loc[8] for loc in words.LOCATIONS], float)


@dataclass(frozen=True)
class Learners:
    user_ids: np.ndarray  # str, Learn profile ids
    aad_ids: np.ndarray  # str, Entra object ids
    join: np.ndarray  # int64 ticks UTC (Users.CreatedOn)
    leave: np.ndarray  # int64 ticks UTC, NEVER for learners who stay
    location: np.ndarray  # int64 index into words.LOCATIONS
    diligence: np.ndarray  # float, chance a started module gets finished

    @property
    def n(self) -> int:
        return len(self.join)

    @property
    def offset_minutes(self) -> np.ndarray:
        """Per-learner UTC offset of their datetimeoffset values (from their work location)."""
        return LOCATION_OFFSETS[self.location]


def offset_strings(minutes: np.ndarray) -> np.ndarray:
    """UTC offsets in minutes -> `-08:00`, `+05:30`, `+00:00`."""
    sign = np.where(minutes < 0, "-", "+")
    hours = np.char.zfill((np.abs(minutes) // 60).astype(str), 2)
    mins = np.char.zfill((np.abs(minutes) % 60).astype(str), 2)
    return np.char.add(np.char.add(np.char.add(sign, hours), ":"), mins)


def early_share(days: int, growth: float | None) -> float:
    """Share of learners present before the first of `days` snapshots: EARLY_SHARE, or with
    `growth` (new learners per day as a share of the first day's) 1 / (1 + growth * (days - 1))."""
    return EARLY_SHARE if growth is None else 1.0 / (1.0 + growth * (days - 1))


def build_learners(
    rng: np.random.Generator, n: int, cutoffs: np.ndarray, early: float = EARLY_SHARE
) -> Learners:
    """`n` learners for snapshots at `cutoffs` (ticks, ascending); a share `early` exists
    before the first snapshot, the others join during the window."""
    first, last = int(cutoffs[0]), int(cutoffs[-1])
    history = HISTORY_DAYS * TICKS_PER_DAY
    # With a single snapshot nobody can join "during" the window, so everyone exists before it.
    late = rng.random(n) >= early if len(cutoffs) > 1 else np.zeros(n, bool)
    early_join = first - 1 - (rng.random(n) * (history - 1)).astype(np.int64)
    late_join = first + (rng.random(n) * (last - first)).astype(np.int64)
    join = np.where(late, late_join, early_join)

    # A leaver must appear in at least one snapshot first, then leaves before a later cutoff.
    first_seen = np.searchsorted(cutoffs, join, side="right")
    can_leave = first_seen < len(cutoffs) - 1
    leaver = (rng.random(n) < LEAVER_SHARE) & can_leave
    seen_at = cutoffs[np.minimum(first_seen, len(cutoffs) - 1)]
    leave_at = seen_at + 1 + (rng.random(n) * (last - seen_at)).astype(np.int64)
    leave = np.where(leaver, leave_at, NEVER)

    location = rng.choice(
        len(words.LOCATIONS), size=n, p=_LOCATION_WEIGHTS / _LOCATION_WEIGHTS.sum()
    )
    return Learners(
        user_ids=guids(rng, n),
        aad_ids=guids(rng, n),
        join=join,
        leave=leave,
        location=location.astype(np.int64),
        diligence=rng.beta(2.0, 1.3, size=n),
    )
