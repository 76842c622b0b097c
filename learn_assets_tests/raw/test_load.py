"""Raw loading without Dagster: column matching, formats, bad input, atomic replacement."""

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from learn_assets.contracts.datasets import DATASETS, DATASETS_BY_NAME
from learn_assets.raw.load import (
    OtherTenantError,
    file_sha256,
    load_entra_export,
    load_snapshot,
    match_columns,
)
from learn_assets.resources import LandingFileError, LandingResource
from learn_assets_tests.helpers import TENANT, tiny_rows, write_csv

D1, D2, D3 = dt.date(2026, 11, 1), dt.date(2026, 11, 2), dt.date(2026, 11, 3)
PROGRESS = DATASETS_BY_NAME["Progress"]
HEADER = (",".join(PROGRESS.column_names) + "\n").encode()


@pytest.fixture
def conn(tmp_path: Path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as c:
        yield c


def partition(conn, table: str, day: dt.date) -> list[tuple]:
    return conn.execute(
        f"SELECT * EXCLUDE (snapshot_date) FROM raw.{table} WHERE snapshot_date = ? ORDER BY ALL",
        [day],
    ).fetchall()


def test_match_columns_ignores_case_and_keeps_extras(tmp_path):
    mapping, extras = match_columns(
        ["tenantId", "XP"], ["TENANTID", "xp", "newColumn"], tmp_path / "f.csv"
    )
    assert mapping == {"tenantId": "TENANTID", "XP": "xp"}
    assert extras == ("newColumn",)


def test_match_columns_names_file_and_missing_column(tmp_path):
    with pytest.raises(LandingFileError, match=r"Progress\.csv: missing required column\(s\) XP"):
        match_columns(["tenantId", "XP"], ["tenantId"], tmp_path / "Progress.csv")


def test_match_columns_rejects_columns_equal_but_for_case(tmp_path):
    with pytest.raises(LandingFileError, match=r"\(column 2 'TenantID'\).*differs only by case"):
        match_columns(["tenantId"], ["tenantId", "TenantID"], tmp_path / "f.csv")


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d.name)
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_every_dataset_loads_from_csv_and_parquet(conn, tmp_path, dataset, fmt):
    rows = tiny_rows(dataset, D1, n=3)
    path = write_csv(tmp_path / f"{dataset.name}.csv", dataset.column_names, rows)
    if fmt == "parquet":
        parquet = tmp_path / f"{dataset.name}.parquet"
        conn.execute(
            "COPY (SELECT * FROM read_csv(?, all_varchar = true)) TO '"
            + str(parquet).replace("'", "''")
            + "' (FORMAT parquet)",
            [str(path)],
        )
        path = parquet
    load = load_snapshot(conn, dataset, D1, path)
    assert load.rows == 3
    assert load.sha256 == file_sha256(path)
    assert load.size_bytes == path.stat().st_size
    got = conn.execute(
        f"SELECT * EXCLUDE (_extra) FROM raw.{dataset.table} ORDER BY ALL"
    ).fetchall()
    expected = sorted((D1, *r.values()) for r in rows)
    assert got == expected
    column_types = conn.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'raw' AND table_name = ?",
        [dataset.table],
    ).fetchall()
    assert column_types[0] == ("snapshot_date", "DATE")
    assert [c for c, _ in column_types[1:]] == [*dataset.column_names, "_extra"]


def test_typed_parquet_values_land_as_text(conn, tmp_path):
    path = tmp_path / "Progress.parquet"
    conn.execute(
        "COPY (SELECT 't' AS tenantId, 'u' AS userId, 'r' AS XPReason, 'Unit' AS SourceType, "
        "'s' AS SourceUid, 200::INTEGER AS XP, '2026-11-01T10:00:00.1234567-08:00' AS AwardedOn)"
        " TO '" + str(path) + "' (FORMAT parquet)"
    )
    load_snapshot(conn, PROGRESS, D1, path)
    assert conn.execute('SELECT "XP", typeof("XP") FROM raw.progress').fetchall() == [
        ("200", "VARCHAR")
    ]


def test_bom_crlf_quoting_and_drifting_case_are_accepted(conn, tmp_path):
    path = tmp_path / "Certifications.csv"
    header = ",".join(DATASETS_BY_NAME["Certifications"].column_names).upper()
    row = 't,u,Certification,"Microsoft Certified: A, B ""Associate""",c.x,20260101,20260101,,0'
    path.write_bytes(b"\xef\xbb\xbf" + f"{header}\r\n{row}\r\n".encode())
    load_snapshot(conn, DATASETS_BY_NAME["Certifications"], D1, path)
    assert conn.execute(
        'SELECT "tenantID", "TranscriptName" FROM raw.certifications'
    ).fetchall() == [("t", 'Microsoft Certified: A, B "Associate"')]


def test_header_only_file_is_an_empty_snapshot(conn, tmp_path):
    path = write_csv(tmp_path / "Progress.csv", PROGRESS.column_names, [])
    assert load_snapshot(conn, PROGRESS, D1, path).rows == 0
    assert conn.execute("SELECT count(*) FROM raw.progress").fetchone() == (0,)


def test_missing_file_names_the_expected_path(tmp_path):
    landing = LandingResource(landing_dir=str(tmp_path))
    (tmp_path / D1.isoformat()).mkdir()
    with pytest.raises(LandingFileError) as err:
        landing.snapshot_file(D1, PROGRESS)
    assert str(tmp_path / "2026-11-01" / "Progress.csv") in str(err.value)


def test_file_name_matches_case_insensitively(tmp_path):
    landing = LandingResource(landing_dir=str(tmp_path))
    path = write_csv(tmp_path / "2026-11-01" / "progress.CSV", PROGRESS.column_names, [])
    assert landing.snapshot_file(D1, PROGRESS) == path


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("Progress.csv", b"", "file is empty"),
        ("Progress.csv", b"\n", "file is empty"),
        (
            "Progress.csv",
            HEADER + b"t,u,r,Unit,s,100,x\n" + b't,u,r,Unit,"s,100,x\n',
            r"1 unreadable line\(s\), file not loaded: line 3 \(column SourceUid\): "
            "Value with unterminated quote found.",
        ),
        (
            "Progress.csv",
            HEADER + b"t,u,r,Unit,s,100,x\n" + b"t,u,r,Unit",  # truncated last line
            r"1 unreadable line\(s\), file not loaded: line 3 \(column SourceUid\): "
            "Expected Number of Columns: 7 Found: 4",
        ),
        (
            "Progress.csv",
            HEADER + b"t,u,r,Unit,s,100,x\nt,\xff\xfe,r,Unit,s,100,x\n",
            r"line 3 \(column userId\): Invalid unicode \(byte sequence mismatch\) detected",
        ),
        ("Progress.csv", b"tenant\xffId,userId\n", r"line 1 \(header\) is not valid UTF-8"),
        ("Progress.parquet", b"PAR1 this is not parquet", "cannot be read as parquet"),
    ],
)
def test_unreadable_file_fails_naming_it_and_keeps_previous_content(
    conn, tmp_path, name, content, reason
):
    good = write_csv(
        tmp_path / "good" / "Progress.csv", PROGRESS.column_names, tiny_rows(PROGRESS, D1)
    )
    load_snapshot(conn, PROGRESS, D1, good)
    load_snapshot(conn, PROGRESS, D2, good)
    before = partition(conn, "progress", D1), partition(conn, "progress", D2)
    bad = tmp_path / "bad" / name
    bad.parent.mkdir()
    bad.write_bytes(content)
    with pytest.raises(LandingFileError, match=reason) as err:
        load_snapshot(conn, PROGRESS, D1, bad)
    assert str(bad) in str(err.value)
    assert (partition(conn, "progress", D1), partition(conn, "progress", D2)) == before


def test_failure_half_way_through_a_file_keeps_previous_partition(conn, tmp_path):
    """A file whose header is fine but whose rows break the parser mid-way (after many rows)."""
    rows = tiny_rows(PROGRESS, D2, n=1)
    good = write_csv(tmp_path / "good.csv", PROGRESS.column_names, rows)
    load_snapshot(conn, PROGRESS, D1, good)
    before = partition(conn, "progress", D1)
    bad = tmp_path / "Progress.csv"
    lines = [",".join(PROGRESS.column_names)] + ["t,u,r,Unit,s,100,x"] * 50_000
    bad.write_text("\n".join(lines) + '\nt,u,r,Unit,"s,100,x\n')
    with pytest.raises(LandingFileError, match="Progress.csv"):
        load_snapshot(conn, PROGRESS, D1, bad)
    assert partition(conn, "progress", D1) == before


def test_reload_replaces_only_its_partition(conn, tmp_path):
    for day in (D1, D2, D3):
        path = write_csv(
            tmp_path / day.isoformat() / "Progress.csv",
            PROGRESS.column_names,
            tiny_rows(PROGRESS, day),
        )
        load_snapshot(conn, PROGRESS, day, path)
    neighbours = partition(conn, "progress", D1), partition(conn, "progress", D3)
    changed = write_csv(
        tmp_path / "changed.csv", PROGRESS.column_names, tiny_rows(PROGRESS, D2, n=5)
    )
    assert load_snapshot(conn, PROGRESS, D2, changed).rows == 5
    assert (partition(conn, "progress", D1), partition(conn, "progress", D3)) == neighbours
    assert len(partition(conn, "progress", D2)) == 5
    log = conn.execute("SELECT snapshot_date, row_count FROM raw._load_log ORDER BY 1").fetchall()
    assert log == [(D1, 2), (D2, 5), (D3, 2)]


def stored(conn) -> tuple[list[tuple], ...]:
    """Raw Progress as stored: versions, catalog, load log (without the time of the load)."""
    return tuple(
        conn.execute(f"SELECT * {exclude} FROM {table} ORDER BY ALL").fetchall()
        for table, exclude in [
            ("raw.progress_versions", ""),
            ("raw._snapshots", ""),
            ("raw._load_log", "EXCLUDE (loaded_at)"),
        ]
    )


def test_the_latest_file_delivered_again_is_not_read_and_stores_what_reading_it_does(tmp_path):
    """The latest snapshot's very file, for a later day (a catalog, most days), continues the
    latest rows without reading them: the same tables as loading the same days latest first,
    which reads every file. The same bytes for an earlier day, for the latest day again, or
    after another day's file, are read."""
    D4 = D3 + dt.timedelta(days=1)
    one = write_csv(
        tmp_path / "1" / "Progress.csv", PROGRESS.column_names, tiny_rows(PROGRESS, D1, n=3)
    )
    two = write_csv(tmp_path / "2" / "Progress.csv", PROGRESS.column_names, tiny_rows(PROGRESS, D3))
    again = tmp_path / "again" / "Progress.csv"
    again.parent.mkdir()
    again.write_bytes(one.read_bytes())
    plan = {D1: one, D2: again, D3: two, D4: two}
    forward = duckdb.connect(str(tmp_path / "forward.duckdb"))
    repeats = {
        day: load_snapshot(forward, PROGRESS, day, path).repeats for day, path in plan.items()
    }
    assert repeats == {D1: None, D2: D1, D3: None, D4: D3}
    backward = duckdb.connect(str(tmp_path / "backward.duckdb"))
    for day in reversed(plan):
        assert load_snapshot(backward, PROGRESS, day, plan[day]).repeats is None
    assert stored(forward) == stored(backward)
    assert partition(forward, "progress", D2) == partition(backward, "progress", D2)
    assert len(partition(forward, "progress", D2)) == 3
    # The latest day again, and a file equal to a day before the latest: read.
    assert load_snapshot(forward, PROGRESS, D4, two).repeats is None
    assert load_snapshot(forward, PROGRESS, D4 + dt.timedelta(days=1), one).repeats is None


def test_a_file_delivered_again_is_still_refused_for_another_tenant(conn, tmp_path):
    path = write_csv(tmp_path / "Progress.csv", PROGRESS.column_names, tiny_rows(PROGRESS, D1))
    load_snapshot(conn, PROGRESS, D1, path)  # no tenant configured yet
    other = "00000000-0000-0000-0000-0000000000ff"
    assert other != TENANT
    with pytest.raises(OtherTenantError, match=str(D2)):
        load_snapshot(conn, PROGRESS, D2, path, tenant_id=other)
    assert conn.execute("SELECT snapshot_date FROM raw._snapshots").fetchall() == [(D1,)]
    assert load_snapshot(conn, PROGRESS, D2, path, tenant_id=TENANT).repeats == D1


def test_extra_column_is_kept_in_raw(conn, tmp_path):
    rows = [r | {"surprise": "kept"} for r in tiny_rows(PROGRESS, D1)]
    path = write_csv(tmp_path / "Progress.csv", [*PROGRESS.column_names, "surprise"], rows)
    load = load_snapshot(conn, PROGRESS, D1, path)
    assert load.extra_columns == ("surprise",)
    assert conn.execute("SELECT DISTINCT _extra FROM raw.progress").fetchall() == [
        ({"surprise": "kept"},)
    ]


def test_entra_export_accepts_object_id_and_absent_export_is_empty(conn, tmp_path):
    path = write_csv(
        tmp_path / "entra.csv",
        ["objectId", "displayName"],
        [{"objectId": "a", "displayName": "=1+1"}],
    )
    assert load_entra_export(conn, path) == 1
    assert conn.execute("SELECT * FROM raw.entra_users").fetchall() == [("a", "=1+1")]
    assert load_entra_export(conn, tmp_path / "absent.csv") is None
    assert conn.execute("SELECT count(*) FROM raw.entra_users").fetchone() == (0,)


def test_entra_export_without_id_column_fails_naming_file(conn, tmp_path):
    path = write_csv(tmp_path / "entra.csv", ["displayName"], [{"displayName": "x"}])
    with pytest.raises(LandingFileError, match=r"entra\.csv: no user id column"):
        load_entra_export(conn, path)
