"""The master event history of the sample tenant, built once with vectorized numpy.

Every snapshot is a filter of this history (events before the cutoff, of learners present then),
so snapshots are consistent by construction. Rules that hold for every learner:
- a learner works on the modules of 1-2 learning paths (in path order) plus a few stand-alone
  modules, finishing each started module with probability `diligence`, else a prefix of its units;
- unit XP events come first, one per completed unit, at increasing times;
- a module's badge and module XP exist only when all its units are done, a little after the last;
- a path's trophy and path XP exist only when every module of the path has a badge (whichever
  route the learner took), a little after the last of those badges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from learn_assets.generator.catalog import Catalog
from learn_assets.generator.ids import TICKS_PER_DAY, TICKS_PER_SECOND, add_one_year
from learn_assets.generator.population import Learners

# Source types shared by Progress and Achievements.
UNIT, MODULE, PATH = 0, 1, 2

SECOND_PATH_SHARE = 0.6
MAX_STANDALONE_MODULES = 8
FUTURE_DAYS = 30  # activity runs past the last snapshot, so every snapshot day has new events
CERT_HOLDER_SHARE = 0.25
SKILL_HOLDER_SHARE = 0.10
EXPIRING_CERT_SHARE = 0.15  # certs placed so they expire within 90 days of the first snapshot
CERT_HISTORY_DAYS = 4 * 365
ZERO_PLACEHOLDER_SHARE = 0.1  # "no date" written as 0 instead of 18991229


@dataclass(frozen=True)
class Events:
    """Progress or Achievements rows before formatting, sorted by (user, time)."""

    user: np.ndarray  # learner index
    source_type: np.ndarray  # UNIT, MODULE or PATH
    item: np.ndarray  # unit, module or path index (by source_type)
    xp: np.ndarray  # XP awarded (Progress only; zeros for Achievements)
    time: np.ndarray  # ticks UTC


@dataclass(frozen=True)
class Certifications:
    user: np.ndarray
    cert: np.ndarray  # catalog certification index
    awarded_day: np.ndarray  # day number; also the certification start
    end_day: np.ndarray  # day number; -1 when the certification does not expire
    placeholder: np.ndarray  # value written for "no date" (18991229 or 0) when end_day == -1


@dataclass(frozen=True)
class AppliedSkills:
    user: np.ndarray
    skill: np.ndarray
    time: np.ndarray  # ticks UTC


@dataclass(frozen=True)
class History:
    progress: Events
    achievements: Events
    certifications: Certifications
    applied_skills: AppliedSkills


def group_positions(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expand groups of `counts` elements: (group index of each element, position in group)."""
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return owner, np.arange(int(counts.sum())) - starts[owner]


def group_cumsum(values: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Running sum of `values` restarting at each group (elements of a group are contiguous)."""
    total = np.cumsum(values)
    first = np.ones(len(owner), bool)
    first[1:] = owner[1:] != owner[:-1]
    base = (total - values)[first]  # sum of everything before each group's first element
    return total - base[np.cumsum(first) - 1]


def popularity(rng: np.random.Generator, n: int) -> np.ndarray:
    """Zipf-like choice weights over `n` items in random rank order (a few items are popular)."""
    weights = 1.0 / (rng.permutation(n) + 4.0)
    return weights / weights.sum()


def _spread(rng: np.random.Generator, start: np.ndarray, end: int) -> np.ndarray:
    """Instants in [start, end) per element, denser early: people are keenest after joining."""
    return start + (rng.random(len(start)) ** 1.4 * (end - start)).astype(np.int64)


def _ticks(seconds: np.ndarray) -> np.ndarray:
    return seconds.astype(np.int64) * TICKS_PER_SECOND


def _distinct_second(rng: np.random.Generator, first: np.ndarray, p: np.ndarray) -> np.ndarray:
    """A second weighted pick per element that differs from `first`."""
    second = rng.choice(len(p), size=len(first), p=p)
    return np.where(second == first, (second + 1) % len(p), second)


def _module_starts(
    rng: np.random.Generator, learners: Learners, catalog: Catalog, end: int, activity: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(learner, module, start time) of every module a learner takes up, one per pair."""
    n, n_paths = learners.n, len(catalog.path_uids)
    path_p = popularity(rng, n_paths)
    first = rng.choice(n_paths, size=n, p=path_p)
    two = rng.random(n) < SECOND_PATH_SHARE
    lp_user = np.concatenate([np.arange(n), np.flatnonzero(two)])
    lp_path = np.concatenate([first, _distinct_second(rng, first, path_p)[two]])
    lp_start = _spread(rng, learners.join[lp_user], end)

    # Path modules in path order, a few days apart.
    ptr = catalog.path_module_ptr
    owner, pos = group_positions(ptr[lp_path + 1] - ptr[lp_path])
    path_module = catalog.path_module_idx[ptr[lp_path][owner] + pos]
    gap = np.where(pos == 0, 0, rng.exponential(2 * 86_400, len(pos)))
    path_start = lp_start[owner] + _ticks(group_cumsum(gap.astype(np.int64), owner))

    n_alone = rng.integers(0, round(MAX_STANDALONE_MODULES * activity) + 1, size=n)
    alone_user = np.repeat(np.arange(n), n_alone)
    alone_module = rng.choice(
        len(catalog.module_uids), size=len(alone_user), p=popularity(rng, len(catalog.module_uids))
    )
    alone_start = _spread(rng, learners.join[alone_user], end)

    user = np.concatenate([lp_user[owner], alone_user])
    module = np.concatenate([path_module, alone_module])
    start = np.concatenate([path_start, alone_start])
    # A module reached twice (two paths, or path and stand-alone) is taken up once, earliest.
    n_modules = len(catalog.module_uids)
    key = user * n_modules + module
    order = np.argsort(key, kind="stable")
    key = key[order]
    firsts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    earliest = np.minimum.reduceat(start[order], firsts)
    return key[firsts] // n_modules, key[firsts] % n_modules, earliest


def _learning(
    rng: np.random.Generator, learners: Learners, catalog: Catalog, end: int, activity: float
) -> tuple[Events, Events]:
    """Unit, module and path completions: (progress Events, achievements Events)."""
    pair_user, pair_module, pair_start = _module_starts(rng, learners, catalog, end, activity)
    n_units = catalog.module_unit_count[pair_module]
    finished = rng.random(len(pair_user)) < learners.diligence[pair_user]
    done = np.where(finished, n_units, (rng.random(len(n_units)) * n_units).astype(np.int64))
    started = done > 0
    pair_user, pair_module, pair_start = (
        pair_user[started],
        pair_module[started],
        pair_start[started],
    )
    n_units, done = n_units[started], done[started]

    # Units: a prefix of the module in order; mostly minutes apart, sometimes days (a break).
    owner, pos = group_positions(done)
    pause = rng.random(len(pos)) < 0.1
    gap = np.where(pause, rng.exponential(1.5 * 86_400, len(pos)), rng.exponential(480, len(pos)))
    gap = np.where(pos == 0, 0, gap + 30).astype(np.int64)
    unit_time = (
        pair_start[owner]
        + _ticks(group_cumsum(gap, owner))
        + rng.integers(0, TICKS_PER_SECOND, len(pos))
    )
    unit_item = catalog.module_unit_start[pair_module][owner] + pos
    last_unit_time = unit_time[np.cumsum(done) - 1]

    # Badge (and module XP at the same instant) strictly after the last unit.
    complete = done == n_units
    badge_user, badge_module = pair_user[complete], pair_module[complete]
    badge_time = last_unit_time[complete] + rng.integers(
        TICKS_PER_SECOND, 90 * TICKS_PER_SECOND, int(complete.sum())
    )

    trophy_user, trophy_path, trophy_time = _trophies(
        rng, catalog, badge_user, badge_module, badge_time
    )

    progress = _sorted_events(
        user=[pair_user[owner], badge_user, trophy_user],
        source_type=[UNIT, MODULE, PATH],
        item=[unit_item, badge_module, trophy_path],
        xp=[
            catalog.unit_points[unit_item],
            catalog.module_points[badge_module],
            catalog.path_points[trophy_path],
        ],
        time=[unit_time, badge_time, trophy_time],
    )
    achievements = _sorted_events(
        user=[badge_user, trophy_user],
        source_type=[MODULE, PATH],
        item=[badge_module, trophy_path],
        xp=[np.zeros(len(badge_user), np.int64), np.zeros(len(trophy_user), np.int64)],
        time=[badge_time, trophy_time],
    )
    return progress, achievements


def _trophies(
    rng: np.random.Generator,
    catalog: Catalog,
    badge_user: np.ndarray,
    badge_module: np.ndarray,
    badge_time: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (learner, path) whose modules all have badges, timed after the last badge."""
    n_paths = len(catalog.path_uids)
    path_len = np.diff(catalog.path_module_ptr)
    link_path = np.repeat(np.arange(n_paths), path_len)
    # Inverse of the path -> modules list: the paths each module belongs to.
    by_module = np.argsort(catalog.path_module_idx, kind="stable")
    module_ptr = np.searchsorted(
        catalog.path_module_idx[by_module], np.arange(len(catalog.module_uids) + 1)
    )
    owner, pos = group_positions(module_ptr[badge_module + 1] - module_ptr[badge_module])
    path = link_path[by_module[module_ptr[badge_module][owner] + pos]]
    key = badge_user[owner] * n_paths + path
    order = np.argsort(key, kind="stable")
    key, when = key[order], badge_time[owner][order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    if len(starts) == 0:
        empty = np.zeros(0, np.int64)
        return empty, empty, empty
    group_key = key[starts]
    badges = np.diff(np.r_[starts, len(key)])
    latest = np.maximum.reduceat(when, starts)
    full = badges == path_len[group_key % n_paths]
    offset = rng.integers(TICKS_PER_SECOND, 180 * TICKS_PER_SECOND, int(full.sum()))
    return group_key[full] // n_paths, group_key[full] % n_paths, latest[full] + offset


def _sorted_events(
    user: list[np.ndarray],
    source_type: list[int],
    item: list[np.ndarray],
    xp: list[np.ndarray],
    time: list[np.ndarray],
) -> Events:
    """Concatenate event kinds and sort by (user, second) for a stable file order.

    One stable sort on a combined integer key (a 3-key lexsort is 5x slower at 5M rows); ties
    within a second keep the unit, module, path order of the inputs.
    """
    u = np.concatenate(user)
    st = np.concatenate(
        [np.full(len(x), s, np.int64) for x, s in zip(user, source_type, strict=True)]
    )
    t = np.concatenate(time)
    if len(t) == 0:
        order = np.zeros(0, np.int64)
    else:
        seconds = (t - t.min()) // TICKS_PER_SECOND
        order = np.argsort(u * (int(seconds.max()) + 1) + seconds, kind="stable")
    return Events(
        user=u[order],
        source_type=st[order],
        item=np.concatenate(item)[order],
        xp=np.concatenate(xp)[order],
        time=t[order],
    )


def _certifications(
    rng: np.random.Generator, learners: Learners, catalog: Catalog, first_day: int, last_day: int
) -> Certifications:
    """1-2 distinct certifications for some learners, awarded over the last few years.

    Award dates are not tied to the learner's CreatedOn: a profile joined to the tenant later
    still lists certifications earned before.
    """
    n_certs = len(catalog.cert_uids)
    holder = np.flatnonzero(rng.random(learners.n) < CERT_HOLDER_SHARE)
    cert_p = popularity(rng, n_certs)
    first = rng.choice(n_certs, size=len(holder), p=cert_p)
    two = rng.random(len(holder)) < 0.3
    user = np.concatenate([holder, holder[two]])
    cert = np.concatenate([first, _distinct_second(rng, first, cert_p)[two]])

    spread = (
        first_day
        - CERT_HISTORY_DAYS
        + (rng.random(len(user)) * (last_day - first_day + CERT_HISTORY_DAYS))
    )
    # Some awarded 275-365 days before the first snapshot: role-based ones expire within 90 days.
    expiring = first_day - 365 + (rng.random(len(user)) * 90)
    awarded = np.where(rng.random(len(user)) < EXPIRING_CERT_SHARE, expiring, spread).astype(
        np.int64
    )
    fundamentals = catalog.cert_fundamentals[cert]
    end = np.where(fundamentals, -1, add_one_year(awarded))
    placeholder = np.where(rng.random(len(user)) < ZERO_PLACEHOLDER_SHARE, 0, 18991229)
    order = np.lexsort((cert, awarded, user))
    return Certifications(
        user=user[order],
        cert=cert[order],
        awarded_day=awarded[order],
        end_day=end[order],
        placeholder=placeholder[order],
    )


def _applied_skills(
    rng: np.random.Generator, learners: Learners, catalog: Catalog, end: int
) -> AppliedSkills:
    n_skills = len(catalog.skill_uids)
    holder = np.flatnonzero(rng.random(learners.n) < SKILL_HOLDER_SHARE)
    skill_p = popularity(rng, n_skills)
    first = rng.choice(n_skills, size=len(holder), p=skill_p)
    two = rng.random(len(holder)) < 0.2
    user = np.concatenate([holder, holder[two]])
    skill = np.concatenate([first, _distinct_second(rng, first, skill_p)[two]])
    time = _spread(rng, learners.join[user], end)
    order = np.lexsort((skill, time, user))
    return AppliedSkills(user=user[order], skill=skill[order], time=time[order])


def build_history(
    rng: np.random.Generator,
    learners: Learners,
    catalog: Catalog,
    cutoffs: np.ndarray,
    activity: float = 1.0,
) -> History:
    """The whole history up to a little past the last snapshot cutoff. `activity` scales the
    stand-alone modules a learner takes up (1.0: 0-8 of them; 5.0: 0-40)."""
    end = int(cutoffs[-1]) + FUTURE_DAYS * TICKS_PER_DAY
    progress, achievements = _learning(rng, learners, catalog, end, activity)
    first_day, last_day = int(cutoffs[0] // TICKS_PER_DAY), int(cutoffs[-1] // TICKS_PER_DAY)
    return History(
        progress=progress,
        achievements=achievements,
        certifications=_certifications(rng, learners, catalog, first_day, last_day),
        applied_skills=_applied_skills(rng, learners, catalog, end),
    )
