"""Re-running a backfill changes nothing: every table's content checksum stays the same."""

import datetime as dt

import pytest

from learn_assets.generator import generate_sample
from learn_assets.runs import materialize_snapshots
from learn_assets_tests.helpers import checksums

pytestmark = pytest.mark.slow  # real CLI runs, servers or browsers: `make test-fast` leaves it out


def test_rerunning_a_backfill_changes_nothing(tmp_path, resources):
    summary = generate_sample(
        tmp_path / "landing", users=80, days=3, start=dt.date(2026, 11, 1), seed=4
    )
    first, last = summary.snapshots[0], summary.snapshots[-1]
    materialize_snapshots(first, last, resources)
    before = checksums(resources["warehouse"].database)
    assert {"raw.progress", "staged.progress", "core.xp_events", "reports.learner_summary"} <= set(
        before
    )
    materialize_snapshots(first, last, resources)
    materialize_snapshots(last, last, resources)  # and one day again
    assert checksums(resources["warehouse"].database) == before
