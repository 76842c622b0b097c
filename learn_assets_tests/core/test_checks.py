"""Core checks: keys repeated in a snapshot or as of it are found, whatever their key's hash
(the checks count rows per key hash first, then the keys among repeated hashes)."""

from __future__ import annotations

import pytest

from learn_assets.core import checks
from learn_assets.core.build import XP_EVENTS, history_table
from learn_assets_tests.core.test_history import bobs_unit_twice_on_d1
from learn_assets_tests.reports.tenant import D1, A, B


@pytest.mark.slow
@pytest.mark.parametrize("hashing", ["hash", "one hash for every key"])
def test_repeated_keys_are_found_under_any_key_hash(tmp_path, hashing, monkeypatch):
    if hashing != "hash":  # every key looks repeated: only the exact count decides
        monkeypatch.setattr(checks, "key_hash", lambda *_args, **_kwargs: "1::UBIGINT")
    conn = bobs_unit_twice_on_d1(tmp_path)
    key = ["user_id", "source_type", "source_uid", "xp_reason", "rows"]

    found = checks.conflicts(conn, XP_EVENTS, D1)
    assert (found.passed, found.failing) == (False, 1)
    assert found.sample == (key, [(B, "Unit", "learn.m1.1-a", "points.unit.basic.completed", 2)])

    assert checks.one_value(conn, XP_EVENTS, D1).passed
    # A second value of Ada's unit as of D1: what one_value_per_key guards against.
    history = history_table(XP_EVENTS)
    conn.execute(
        f"INSERT INTO {history} SELECT * REPLACE (xp + 1 AS xp) FROM {history} "
        "WHERE user_id = ? AND source_uid = 'learn.m1.1-a'",
        [A],
    )
    repeated = checks.one_value(conn, XP_EVENTS, D1)
    assert (repeated.passed, repeated.failing) == (False, 1)
    assert repeated.sample == (key, [(A, "Unit", "learn.m1.1-a", "points.unit.basic.completed", 2)])
