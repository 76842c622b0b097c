"""The lake: every report and core table as Delta tables, read back with deltalake and with
DuckDB (through Arrow), equal the warehouse after a backfill, a corrected re-run and a removed
snapshot; locally and on Azurite; a failing lake names the problem and leaves the warehouse."""

from __future__ import annotations

import copy
import datetime as dt
import shutil

import duckdb
import pyarrow as pa
import pytest
from deltalake import DeltaTable

from learn_assets.core.build import CORE_TABLES, core_table
from learn_assets.forget import forget_snapshot
from learn_assets.publish.lake import (
    LakeError,
    lake_counts,
    lake_for,
    publish_lake,
    warehouse_counts,
)
from learn_assets.reports.build import REPORT_TABLES, report_table
from learn_assets.resources.reporting import ReportSettingsValues
from learn_assets_tests.helpers import run_snapshots
from learn_assets_tests.reports.tenant import (
    D1,
    D2,
    SNAPSHOTS,
    A,
    _progress,
    write_snapshot,
    write_tenant,
)

pytestmark = pytest.mark.slow  # whole pipeline runs: `make test-fast` leaves them out

D3 = D2 + dt.timedelta(days=1)


def rows(table: pa.Table) -> list[tuple]:
    return sorted((tuple(r.values()) for r in table.to_pylist()), key=repr)


def warehouse_rows(conn: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> list:
    conn.execute("SET TimeZone = 'UTC'")
    picked = ", ".join(f'"{c}"' for c in columns)
    return sorted(conn.execute(f"SELECT {picked} FROM {table}").fetchall(), key=repr)


def assert_lake_equals_warehouse(conn: duckdb.DuckDBPyConnection, lake) -> None:
    options = dict(lake.storage_options) or None
    for report in REPORT_TABLES:
        delta = DeltaTable(lake.uri("reports", report.name), storage_options=options)
        by_deltalake = delta.to_pyarrow_table()
        by_duckdb = duckdb.connect().sql("SELECT * FROM by_deltalake").to_arrow_table()
        expected = warehouse_rows(conn, report_table(report), by_deltalake.column_names)
        assert rows(by_deltalake) == expected, report.name
        assert rows(by_duckdb) == expected, report.name
        assert lake_counts(lake, report) == warehouse_counts(conn, report), report.name
    for table in CORE_TABLES:
        delta = DeltaTable(lake.uri("core", table.name), storage_options=options)
        got = delta.to_pyarrow_table()
        assert rows(got) == warehouse_rows(conn, core_table(table), got.column_names), table.name


def three_days(landing) -> None:
    write_tenant(landing)
    write_snapshot(landing, D3, SNAPSHOTS[D2])


def corrected_d2() -> dict[str, list[dict]]:
    files = copy.deepcopy(SNAPSHOTS[D2])
    files["Progress"][0] = _progress(A, "Unit", "learn.m1.1-a", 150, "2026-10-30T11:00:00+00:00")
    return files


def check_backfill_rerun_and_forget(tmp_path, root: str, env: dict[str, str]) -> None:
    landing = tmp_path / "landing"
    three_days(landing)
    lake = lake_for(root, env)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        run_snapshots(conn, landing, [D1, D2, D3])
        first = publish_lake(conn, lake, [], privacy=False)
        assert first.tables["reports/org_overview"]["written"] == [D1, D2, D3]
        assert_lake_equals_warehouse(conn, lake)

        again = publish_lake(conn, lake, [], privacy=False)  # nothing changed: nothing written
        assert not any(t["written"] for t in again.tables.values())
        versions = {k: t["version"] for k, t in again.tables.items()}
        assert versions == {k: t["version"] for k, t in first.tables.items()}

        write_snapshot(landing, D2, corrected_d2())  # a corrected re-delivery of D2
        run_snapshots(conn, landing, [D2])
        rerun = publish_lake(conn, lake, [], privacy=False)
        assert rerun.tables["reports/learner_summary"]["written"] == [D2, D3]  # D3 rebuilt too
        assert_lake_equals_warehouse(conn, lake)

        forget_snapshot(conn, D2, ReportSettingsValues(), lake=lake)
        assert_lake_equals_warehouse(conn, lake)
        assert set(lake_counts(lake, REPORT_TABLES[0])) == {D1, D3}


def test_the_lake_equals_the_warehouse_after_backfill_rerun_and_forget(tmp_path):
    check_backfill_rerun_and_forget(tmp_path, str(tmp_path / "lake"), {})


def test_a_lake_table_lost_or_damaged_is_repaired_by_the_next_publish(tmp_path):
    landing = tmp_path / "landing"
    three_days(landing)
    lake = lake_for(str(tmp_path / "lake"), {})
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        run_snapshots(conn, landing, [D1, D2, D3])
        publish_lake(conn, lake, [], privacy=False)
        shutil.rmtree(tmp_path / "lake" / "reports" / "org_overview")  # lost
        DeltaTable(lake.uri("reports", "learner_summary")).delete("snapshot_date = '2026-11-02'")
        shutil.rmtree(tmp_path / "lake" / "core" / "awards")
        repaired = publish_lake(conn, lake, [], privacy=False)
        assert repaired.tables["reports/learner_summary"]["written"] == [D2]
        assert repaired.tables["reports/org_overview"]["written"] == [D1, D2, D3]
        assert_lake_equals_warehouse(conn, lake)


def test_the_lake_on_azure_storage(tmp_path, azure_env, container):
    """The same on Azurite (the Azure Storage emulator), with the storage layer's credentials
    from the environment."""
    env = {"AZURE_STORAGE_CONNECTION_STRING": azure_env}
    check_backfill_rerun_and_forget(tmp_path, f"az://{container}/lake", env)


def test_privacy_mode_keeps_the_directory_out_of_the_lake(tmp_path):
    landing = tmp_path / "landing"
    write_tenant(landing)
    lake = lake_for(str(tmp_path / "lake"), {})
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        run_snapshots(conn, landing, [D1])
        publish_lake(conn, lake, [], privacy=True)
    learners = DeltaTable(lake.uri("core", "learners")).to_pyarrow_table()
    assert "display_name" not in learners.column_names
    assert "aad_object_id" not in learners.column_names
    assert "Ada Lovelace" not in str(learners.to_pylist())


def test_an_unreachable_lake_fails_naming_it_and_leaves_the_warehouse(tmp_path):
    landing = tmp_path / "landing"
    write_tenant(landing)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the lake's folder should be")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        run_snapshots(conn, landing, [D1])
        before = conn.execute("SELECT count(*) FROM reports.learner_summary").fetchone()
        with pytest.raises(
            LakeError, match=f"cannot publish the lake folder to {blocked}: FileExistsError"
        ):
            publish_lake(conn, lake_for(str(blocked), {}), [], privacy=False)
        assert conn.execute("SELECT count(*) FROM reports.learner_summary").fetchone() == before
        # Nothing was recorded as published: a later publish to a working lake does it all.
        lake = lake_for(str(tmp_path / "lake"), {})
        publish_lake(conn, lake, [], privacy=False)
        assert_lake_equals_warehouse(conn, lake)


def test_azure_credentials_become_delta_storage_options():
    from learn_assets.publish.lake import delta_storage_options

    conn = (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=c2VjcmV0;"
        "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
    )
    assert delta_storage_options({"AZURE_STORAGE_CONNECTION_STRING": conn}, None) == {
        "account_name": "devstoreaccount1",
        "account_key": "c2VjcmV0",
        "endpoint": "http://127.0.0.1:10000/devstoreaccount1",
        "allow_http": "true",
    }
    assert delta_storage_options({"AZURE_STORAGE_ACCOUNT_KEY": "k"}, "acct") == {
        "account_name": "acct",
        "account_key": "k",
    }
    with pytest.raises(Exception, match="no Azure storage account for LEARN_LAKE_DIR"):
        delta_storage_options({}, None)
