"""Running the pipeline from Python: skipping a layer, and a range run's provenance table."""

import datetime as dt
import hashlib

import dagster as dg
import pytest

from learn_assets.runs import materialize_snapshots

pytestmark = pytest.mark.slow  # whole pipeline runs: `make test-fast` leaves them out

D1, D2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)


def test_skip_groups_leaves_that_layer_out_and_the_range_metadata_names_every_file(
    tmp_path, landing_dir, write_snapshot, resources
):
    for day in (D1, D2):
        write_snapshot(day)
    _, ranged = materialize_snapshots(D1, D2, resources, skip_groups=("exports",))
    built = {e.asset_key.to_user_string() for e in ranged.get_asset_materialization_events()}
    assert "reports/org_overview" in built and "exports/snapshot_files" not in built
    assert not (tmp_path / "exports").exists()

    progress = next(
        e.materialization
        for e in ranged.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey(["raw", "progress"])
    )
    table = progress.metadata["snapshots"].value
    for day in (D1, D2):
        path = landing_dir / day.isoformat() / "Progress.csv"
        assert f"| {day} | 2 | {path.stat().st_size} | " in table
        assert hashlib.sha256(path.read_bytes()).hexdigest() in table and str(path) in table
