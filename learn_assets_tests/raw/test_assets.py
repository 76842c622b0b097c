"""Raw assets in real Dagster runs on a DuckDB file: partitions, backfills, metadata, errors."""

import datetime as dt
import hashlib

import dagster as dg
import duckdb
import pytest

from learn_assets.contracts.datasets import DATASETS
from learn_assets.graph import ASSETS
from learn_assets.raw.assets import ENTRA_PRESENT_CHECK
from learn_assets.runs import materialize_snapshots
from learn_assets_tests.helpers import write_csv

pytestmark = pytest.mark.slow  # whole pipeline runs: `make test-fast` leaves them out

DAYS = [dt.date(2026, 11, 1), dt.date(2026, 11, 2), dt.date(2026, 11, 3)]
RAW_KEYS = [dg.AssetKey(["raw", d.table]) for d in DATASETS]


def table_contents(database: str) -> dict[str, list[tuple]]:
    """Every raw table's rows, ordered; the load log without its wall-clock column."""
    with duckdb.connect(database, read_only=True) as conn:
        contents = {
            d.table: conn.execute(f"SELECT * FROM raw.{d.table} ORDER BY ALL").fetchall()
            for d in DATASETS
        }
        contents["_load_log"] = conn.execute(
            "SELECT * EXCLUDE (loaded_at, path) FROM raw._load_log ORDER BY ALL"
        ).fetchall()
    return contents


def partition_rows(database: str, table: str, day: dt.date) -> list[tuple]:
    with duckdb.connect(database, read_only=True) as conn:
        return conn.execute(
            f"SELECT * FROM raw.{table} WHERE snapshot_date = ? ORDER BY ALL", [day]
        ).fetchall()


def materialize_day(resources, day: dt.date, instance=None) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        ASSETS,
        selection=RAW_KEYS,
        partition_key=day.isoformat(),
        resources=resources,
        instance=instance,
    )


def test_range_backfill_in_one_run_equals_day_by_day(tmp_path, write_snapshot, resources):
    for day in DAYS:
        write_snapshot(day)
    instance = dg.DagsterInstance.ephemeral()
    materialize_snapshots(DAYS[0], DAYS[-1], resources, instance=instance)
    runs = instance.get_runs()
    assert len(runs) == 2  # the unpartitioned Entra export, then one run for the whole range
    ranged = table_contents(resources["warehouse"].database)

    day_by_day = dict(resources)
    day_by_day["warehouse"] = type(resources["warehouse"])(database=str(tmp_path / "d.duckdb"))
    for day in DAYS:
        assert materialize_day(day_by_day, day).success
    assert table_contents(day_by_day["warehouse"].database) == ranged
    assert all(len(rows) == 2 * len(DAYS) for t, rows in ranged.items() if t != "_load_log")


def test_rerun_of_a_day_leaves_neighbours_untouched(landing_dir, write_snapshot, resources):
    for day in DAYS:
        write_snapshot(day)
    materialize_snapshots(DAYS[0], DAYS[-1], resources)
    db = resources["warehouse"].database
    before = {
        d.table: (partition_rows(db, d.table, DAYS[0]), partition_rows(db, d.table, DAYS[2]))
        for d in DATASETS
    }

    write_snapshot(DAYS[1], rows_per_dataset=4)  # a corrected re-delivery of day 2
    assert materialize_day(resources, DAYS[1]).success
    for d in DATASETS:
        assert (
            partition_rows(db, d.table, DAYS[0]),
            partition_rows(db, d.table, DAYS[2]),
        ) == before[d.table]
        assert len(partition_rows(db, d.table, DAYS[1])) == 4


def test_failed_load_keeps_previous_content_of_the_day(landing_dir, write_snapshot, resources):
    write_snapshot(DAYS[0])
    assert materialize_day(resources, DAYS[0]).success
    db = resources["warehouse"].database
    before = table_contents(db)

    progress = landing_dir / DAYS[0].isoformat() / "Progress.csv"
    progress.write_text(progress.read_text() + '"unterminated quote,,,\n')
    result = dg.materialize(
        ASSETS,
        selection=RAW_KEYS,
        partition_key=DAYS[0].isoformat(),
        resources=resources,
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = result.get_step_failure_events()
    assert failure.step_key == "raw__progress"
    assert table_contents(db) == before


def test_missing_file_fails_the_partition_naming_the_expected_path(
    landing_dir, write_snapshot, resources
):
    write_snapshot(DAYS[0])
    (landing_dir / DAYS[0].isoformat() / "Users.csv").unlink()
    with pytest.raises(RuntimeError) as err:
        materialize_snapshots(DAYS[0], DAYS[0], resources)
    expected = str(landing_dir / "2026-11-01" / "Users.csv")
    assert f"raw__users: missing landing file for Users on 2026-11-01: expected {expected}" in str(
        err.value
    )


def test_materialization_metadata_records_provenance(landing_dir, write_snapshot, resources):
    write_snapshot(DAYS[0])
    result = materialize_day(resources, DAYS[0])
    events = {e.asset_key: e.materialization for e in result.get_asset_materialization_events()}
    progress = events[dg.AssetKey(["raw", "progress"])]
    path = landing_dir / "2026-11-01" / "Progress.csv"
    assert progress.partition == "2026-11-01"
    assert progress.metadata["dagster/row_count"].value == 2
    assert progress.metadata["source_path"].value == str(path)
    assert progress.metadata["source_size_bytes"].value == path.stat().st_size
    assert progress.metadata["source_sha256"].value == hashlib.sha256(path.read_bytes()).hexdigest()


def test_entra_export_absent_is_empty_with_a_warning(resources):
    result = dg.materialize(
        ASSETS, selection=[dg.AssetKey(["raw", "entra_users"])], resources=resources
    )
    (check,) = result.get_asset_check_evaluations()
    assert check.check_name == ENTRA_PRESENT_CHECK
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    with duckdb.connect(resources["warehouse"].database, read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM raw.entra_users").fetchone() == (0,)


def test_entra_export_loads_with_id_column(landing_dir, resources):
    write_csv(
        landing_dir / "entra_users.csv",
        ["id", "displayName", "department"],
        [
            {"id": "a", "displayName": "Ada", "department": "Research, Development"},
        ],
    )
    result = dg.materialize(
        ASSETS, selection=[dg.AssetKey(["raw", "entra_users"])], resources=resources
    )
    assert result.get_asset_check_evaluations()[0].passed
    with duckdb.connect(resources["warehouse"].database, read_only=True) as conn:
        assert conn.execute("SELECT * FROM raw.entra_users").fetchall() == [
            ("a", "Ada", "Research, Development")
        ]


def test_raw_assets_describe_themselves_for_the_ui():
    specs = {a.key: a for a in ASSETS}
    for d in DATASETS:
        asset = specs[dg.AssetKey(["raw", d.table])]
        spec = next(iter(asset.specs))
        assert spec.group_name == "raw"
        assert spec.description and d.name in spec.description
        assert "duckdb" in spec.kinds
        schema = spec.metadata["dagster/column_schema"]
        assert [c.name for c in schema.columns] == ["snapshot_date", *d.column_names]
        assert asset.backfill_policy == dg.BackfillPolicy.single_run()
        assert asset.partitions_def is not None
