"""The reports database written from the previous file and the warehouse's changes since equals
the file written from nothing, day after day; it is written whole, table by table, when the
previous file does not tell (another privacy setting, another warehouse, a changed file, a day
loaded again or removed)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from learn_assets.forget import forget_snapshot
from learn_assets.publish.serving import (
    LAYOUT,
    STATE,
    Change,
    ServingBuild,
    Stored,
    TablePlan,
    build_serving_database,
    plan_table,
)
from learn_assets.resources.reporting import ReportSettingsValues
from learn_assets_tests.helpers import run_snapshots

T0 = dt.datetime(2026, 11, 1, 6, 0, tzinfo=dt.UTC)
D1, D2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)


def stored(boundary: dt.date | None = D1, privacy: bool = False) -> Stored:
    return Stored(seq=7, recorded_at=T0, boundary=boundary, rows=10, privacy=privacy, layout=LAYOUT)


def change(seq: int, day: dt.date | None, kind: str = "append", at: dt.datetime = T0) -> Change:
    return Change(seq, at, day, kind)


def test_plan_keeps_appends_takes_changes_and_copies_the_rest_whole():
    same = change(7, D1)
    assert plan_table(stored(), [same], False, 10) == TablePlan("keep", "unchanged")
    assert plan_table(stored(), [same, change(8, D2)], False, 10) == TablePlan(
        "changes", "appended 2026-11-02"
    )
    assert plan_table(None, [same], False, None).reason == "not in the previous file"
    assert plan_table(stored(), [same], True, 10).reason == "the privacy setting changed"
    assert plan_table(stored(), [same], False, 9).reason == (
        "the previous file was changed since it was written"
    )
    other = change(7, D1, at=T0 + dt.timedelta(microseconds=1))
    for ledger in ([other, change(8, D2)], [], [change(8, D2)]):
        assert plan_table(stored(), ledger, False, 10).reason == (
            "the warehouse is not the one the previous file mirrors"
        ), ledger
    assert plan_table(stored(), [same, change(8, D1, "replace")], False, 10).reason == (
        "2026-11-01 replace"
    )
    assert plan_table(stored(), [same, change(8, None, "replace")], False, 10).reason == (
        "every snapshot replace"
    )
    # Appended to a source that lagged behind: it may start or end rows the file already has.
    assert plan_table(stored(boundary=D2), [same, change(8, D2)], False, 10).reason == (
        "2026-11-02 appended before 2026-11-02"
    )


def contents(path: Path) -> dict[str, list[tuple]]:
    """Every table and view of a reports database but its bookkeeping, order-independent."""
    with duckdb.connect(str(path), read_only=True) as conn:
        conn.execute("SET TimeZone = 'UTC'")
        names = conn.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT internal "
            "UNION ALL SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal"
        ).fetchall()
        found = {
            f"{schema}.{name}": sorted(
                conn.execute(f'SELECT * FROM "{schema}"."{name}"').fetchall(), key=repr
            )
            for schema, name in names
            if f"{schema}.{name}" != STATE
        }
    assert found, path
    return found


def publish_both(
    conn: duckdb.DuckDBPyConnection, tmp_path: Path, privacy: bool = False
) -> ServingBuild:
    """The reports database from the previous file, and one from nothing: both equal."""
    built = build_serving_database(conn, tmp_path / "serving.duckdb", privacy)
    build_serving_database(conn, tmp_path / "whole.duckdb", privacy, incremental=False)
    assert contents(tmp_path / "serving.duckdb") == contents(tmp_path / "whole.duckdb")
    return built


@pytest.mark.slow
def test_the_reports_database_from_the_changes_equals_one_written_whole(changing_tenant, tmp_path):
    source, days = changing_tenant
    days = sorted(days)
    folder = tmp_path / "landing"
    shutil.copytree(source, folder)
    conn = duckdb.connect(str(tmp_path / "w.duckdb"))
    how: dict[dt.date, dict[str, str]] = {}
    for day in days:  # one run a day, as the daily schedule has it
        run_snapshots(conn, folder, [day])
        how[day] = publish_both(conn, tmp_path).how
    first, later = how[days[0]], [how[d] for d in days[1:]]
    assert set(first.values()) == {"whole: not in the previous file"}
    for table in ("core.xp_events", "reports.module_progress", "reports.learner_summary"):
        assert all(h[table].startswith("from the changes: ") for h in later), table
    # The directory changes without a snapshot: the learners are always copied whole.
    assert all(h["core.learners"].startswith("whole: ") for h in later)

    # A file mostly free space (rows copied again leave some) is written anew, and shrinks.
    serving = tmp_path / "serving.duckdb"
    with duckdb.connect(str(serving)) as writer:
        writer.execute("CREATE TABLE junk AS SELECT md5(range::VARCHAR) FROM range(2000000)")
        writer.execute("CHECKPOINT")
        writer.execute("CREATE TABLE later AS SELECT 1 AS n")  # the free space is not at the end
        writer.execute("CHECKPOINT")
        writer.execute("DROP TABLE junk")
        writer.execute("CHECKPOINT")
    bloated = serving.stat().st_size
    compacted = publish_both(conn, tmp_path).how
    assert set(compacted.values()) == {"whole: compacted: most of the previous file was free space"}
    assert serving.stat().st_size < bloated
    assert serving.stat().st_size <= (tmp_path / "whole.duckdb").stat().st_size * 1.1
    with duckdb.connect(str(serving)) as writer:
        writer.execute(f"UPDATE {STATE} SET layout = layout + 1")
    assert set(publish_both(conn, tmp_path).how.values()) == {
        "whole: the previous file was written by another version"
    }

    # A day loaded again: what it changed is copied whole, the rest from the changes.
    run_snapshots(conn, folder, [days[1]])
    again = publish_both(conn, tmp_path).how
    assert again["reports.module_progress"] == f"whole: {days[1]} replace"

    settings = ReportSettingsValues()
    forget_snapshot(conn, days[2], settings)
    # The free space of the previous file still holds the bytes of rows it deleted: after a
    # removed snapshot or a privacy switch, nothing of it is kept.
    gone = publish_both(conn, tmp_path).how
    assert set(gone.values()) == {
        "whole: a snapshot was removed (nothing of the previous file is kept)"
    }
    after = publish_both(conn, tmp_path).how
    assert after["core.xp_events"] == "kept"

    switched = publish_both(conn, tmp_path, privacy=True).how
    assert set(switched.values()) == {
        "whole: the privacy setting changed (nothing of the previous file is kept)"
    }

    # Someone wrote into the file: its tables are copied anew.
    with duckdb.connect(str(tmp_path / "serving.duckdb")) as writer:
        writer.execute(
            "DELETE FROM reports.module_progress_versions WHERE _copy = 1 AND random() < 2"
        )
    changed = publish_both(conn, tmp_path, privacy=True).how
    assert changed["reports.module_progress"] == (
        "whole: the previous file was changed since it was written"
    )
    assert changed["core.xp_events"] == "kept"

    # Another warehouse (rebuilt from the landing folder) with the same ledger numbers.
    conn.close()
    conn = duckdb.connect(str(tmp_path / "rebuilt.duckdb"))
    for day in days:
        run_snapshots(conn, folder, [day])
    forget_snapshot(conn, days[2], settings)
    other = publish_both(conn, tmp_path, privacy=True).how
    assert set(other.values()) == {
        "whole: the previous file mirrors another warehouse (nothing of it is kept)"
    }

    # A previous file that is not a database at all: written from nothing.
    (tmp_path / "serving.duckdb").write_bytes(b"not a database")
    broken = publish_both(conn, tmp_path, privacy=True).how
    assert {h.split(" (")[0] for h in broken.values()} == {
        "whole: the previous file could not be opened"
    }
    conn.close()
