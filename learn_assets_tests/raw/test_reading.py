"""Reading what real deliveries look like: mixed line endings and typed Parquet load as their
clean twins; UTF-16, a `;` or tab delimiter, ambiguous headers and over-long lines fail with
the file, line and column, keeping the previous content."""

import datetime as dt
import random
from pathlib import Path

import duckdb
import pytest

from learn_assets.contracts.datasets import DATASETS, DATASETS_BY_NAME, Dataset, Kind
from learn_assets.raw.load import (
    load_entra_export,
    load_snapshot,
    mixes_line_endings,
    normalize_line_endings,
)
from learn_assets.resources import LandingFileError
from learn_assets.staged.stage import quarantine_table, stage_snapshot, staged_table
from learn_assets.warehouse.sql import quote_ident
from learn_assets_tests.helpers import tiny_rows, write_csv

D1, D2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)
PROGRESS = DATASETS_BY_NAME["Progress"]
HEADER = ",".join(PROGRESS.column_names)
ROW = "t,u,r,Unit,s,100,2026-11-01T10:00:00Z"


@pytest.fixture
def conn(tmp_path: Path):
    with duckdb.connect(str(tmp_path / "w.duckdb")) as c:
        yield c


def raw_rows(conn, table: str, day: dt.date) -> list[tuple]:
    return conn.execute(
        f"SELECT * EXCLUDE (snapshot_date) FROM raw.{table} WHERE snapshot_date = ? ORDER BY ALL",
        [day],
    ).fetchall()


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# --- mixed line endings -------------------------------------------------------------------------

QUOTED = 't,u,"two\r\nlines",Unit,s,1,x'  # a quoted value keeps its own line break
MIXED = {  # name: (file, data rows)
    "one CRLF line in an LF file": (f"{HEADER}\n{ROW}\n{ROW}\r\n{ROW}\n", 3),
    "LF rows appended to a CRLF file": (f"{HEADER}\r\n{ROW}\r\n{QUOTED}\r\n{ROW}\n{ROW}\n", 4),
    "CRLF header, LF rows, no final line break": (f"{HEADER}\r\n{ROW}\n{QUOTED}\n{ROW}", 3),
    "a quoted value with LF in a mixed file": (
        f'{HEADER}\r\nt,u,"a\nb",Unit,s,1,x\n{ROW}\r\n',
        2,
    ),
}


@pytest.mark.parametrize(("text", "rows"), MIXED.values(), ids=MIXED.keys())
def test_mixed_line_endings_load_like_the_same_file_with_lf_only(conn, tmp_path, text, rows):
    mixed = write(tmp_path / "mixed" / "Progress.csv", text.encode())
    # The twin: every line break outside quotes as LF (the quoted values keep theirs).
    lf_text = text.replace("\r\n", "\n").replace("two\nlines", "two\r\nlines")
    twin = write(tmp_path / "twin" / "Progress.csv", lf_text.encode())
    assert mixes_line_endings(mixed)
    load = load_snapshot(conn, PROGRESS, D1, mixed)
    load_snapshot(conn, PROGRESS, D2, twin)
    assert raw_rows(conn, "progress", D1) == raw_rows(conn, "progress", D2)
    assert load.rows == rows
    assert load.path == str(mixed)  # provenance is the delivered file, not the copy read


def test_mixed_line_endings_with_a_bad_line_name_the_delivered_line(conn, tmp_path):
    bad = write(tmp_path / "Progress.csv", f"{HEADER}\r\n{ROW}\r\n{ROW}\nt,u,r\n".encode())
    with pytest.raises(LandingFileError) as err:
        load_snapshot(conn, PROGRESS, D1, bad)
    assert str(err.value) == (
        f"{bad}: 1 unreadable line(s), file not loaded: line 4 (column SourceType): "
        "Expected Number of Columns: 7 Found: 3"
    )


def test_line_ending_normalization_keeps_quoted_values_across_chunk_borders(tmp_path):
    pieces = ["a", ",", '"', '""', "\r\n", "\n", "\r", "x"]
    source, target = tmp_path / "in.csv", tmp_path / "out.csv"
    for seed in range(200):
        data = "".join(random.Random(seed).choices(pieces, k=40)).encode()
        expected, inside = [], False  # reference: one byte at a time
        for i, byte in enumerate(data):
            inside = inside != (byte == ord('"'))
            if not (byte == ord("\r") and data[i + 1 : i + 2] == b"\n" and not inside):
                expected.append(byte)
        source.write_bytes(data)
        for chunk in (1, 2, 3, 7, 1 << 20):
            normalize_line_endings(source, target, chunk)
            assert target.read_bytes() == bytes(expected), (seed, chunk, data)


# --- typed Parquet ------------------------------------------------------------------------------

TYPED = {  # how a Parquet writer (pandas, Spark, Data Factory) types each kind of column
    Kind.GUID: "CAST({} AS UUID)",
    Kind.INT: "CAST({} AS DECIMAL(18, 2))",
    Kind.YYYYMMDD: "CAST(strptime({}, '%Y%m%d') AS DATE)",
    Kind.DATETIMEOFFSET: "CAST({} AS TIMESTAMPTZ)",
    Kind.DATETIME: "CAST(CAST({} AS TIMESTAMPTZ) AT TIME ZONE 'UTC' AS TIMESTAMP_NS)",
    Kind.JSON_ARRAY: "CAST(CAST({} AS JSON) AS VARCHAR[])",
}


def typed_parquet(conn, csv: Path, dataset: Dataset, target: Path) -> Path:
    columns = ", ".join(
        TYPED.get(c.kind, "{}").format(quote_ident(c.name)) + f" AS {quote_ident(c.name)}"
        for c in dataset.columns
    )
    conn.execute(
        f"COPY (SELECT {columns} FROM read_csv(?, all_varchar = true)) TO "
        + "'"
        + str(target).replace("'", "''")
        + "' (FORMAT parquet)",
        [str(csv)],
    )
    return target


def staged_rows(conn, dataset: Dataset, day: dt.date) -> tuple[list[tuple], list[tuple]]:
    staged = conn.execute(
        f"SELECT * EXCLUDE (snapshot_date) FROM {staged_table(dataset)} "
        "WHERE snapshot_date = ? ORDER BY ALL",
        [day],
    ).fetchall()
    quarantined = conn.execute(
        f"SELECT reason FROM {quarantine_table(dataset)} WHERE snapshot_date = ?", [day]
    ).fetchall()
    return staged, quarantined


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d.name)
def test_typed_parquet_stages_like_the_same_rows_as_csv(conn, tmp_path, dataset):
    rows = tiny_rows(dataset, D1, n=3)
    csv = write_csv(tmp_path / "csv" / f"{dataset.name}.csv", dataset.column_names, rows)
    parquet = typed_parquet(conn, csv, dataset, tmp_path / f"{dataset.name}.parquet")
    load_snapshot(conn, dataset, D1, csv)
    load_snapshot(conn, dataset, D2, parquet)
    stage_snapshot(conn, dataset, D1)
    stage_snapshot(conn, dataset, D2)
    from_csv, from_parquet = staged_rows(conn, dataset, D1), staged_rows(conn, dataset, D2)
    assert from_parquet == from_csv
    assert len(from_csv[0]) == 3 and from_csv[1] == []


def test_typed_parquet_values_become_the_text_the_contracts_read(conn, tmp_path):
    certifications = tmp_path / "Certifications.parquet"
    conn.execute(
        "COPY (SELECT 't' AS tenantID, 'u' AS userId, 'Certification' AS AwardType, 'n' AS "
        "TranscriptName, 's' AS SourceUid, DATE '2026-11-01' AS AwardedOn, "
        "TIMESTAMP '2026-11-01 00:00:00' AS CertificationStartDate, "
        "TIMESTAMPTZ '2027-11-01 20:00:00-08' AS CertificationEndDate, "
        "NULL::DATE AS StayCurrentEligibilityStartDate) TO "
        f"'{certifications}' (FORMAT parquet)"
    )
    load_snapshot(conn, DATASETS_BY_NAME["Certifications"], D1, certifications)
    assert raw_rows(conn, "certifications", D1) == [
        ("t", "u", "Certification", "n", "s", "20261101", "20261101", "20271102", None, None)
    ]
    progress = tmp_path / "Progress.parquet"
    conn.execute(
        "SET TimeZone = 'America/Los_Angeles'; COPY (SELECT 't' AS tenantId, 'u' AS userId, "
        "'r' AS XPReason, 'Unit' AS SourceType, 's' AS SourceUid, 100::BIGINT AS XP, "
        "TIMESTAMPTZ '2026-11-01 10:00:00.123456-08' AS AwardedOn, ['a', 'b\"c'] AS tags, "
        f"DATE '2026-11-01' AS day) TO '{progress}' (FORMAT parquet)"
    )
    load_snapshot(conn, PROGRESS, D1, progress)
    assert raw_rows(conn, "progress", D1) == [
        (
            "t",
            "u",
            "r",
            "Unit",
            "s",
            "100",
            "2026-11-01T18:00:00.123456+00:00",
            {"tags": '["a","b\\"c"]', "day": "2026-11-01"},
        )
    ]
    modules = tmp_path / "HierarchyModule.parquet"
    conn.execute(
        "COPY (SELECT 'm' AS moduleUid, 't' AS title, '/u' AS url, '/i' AS iconUrl, "
        "30::TINYINT AS durationInMinutes, 200.0::DOUBLE AS points, "
        "['beginner', 'intermediate'] AS levels, []::VARCHAR[] AS products, "
        f"NULL::VARCHAR[] AS roles, ['en'] AS languages) TO '{modules}' (FORMAT parquet)"
    )
    load_snapshot(conn, DATASETS_BY_NAME["HierarchyModule"], D1, modules)
    assert raw_rows(conn, "hierarchy_module", D1) == [
        (
            "m",
            "t",
            "/u",
            "/i",
            "30",
            "200.0",
            '["beginner","intermediate"]',
            "[]",
            None,
            '["en"]',
            None,
        )
    ]


# --- whole-file problems ------------------------------------------------------------------------

HUGE = "x" * (3 << 20)
HUGE_LINE = f"t,u,{HUGE},Unit,s,1,x"
UTF16_ADVICE = "looks like UTF-16 (Excel 'Unicode text'): save as UTF-8 (Excel: CSV UTF-8)"
PROBLEMS = {
    "UTF-16 with BOM (Excel 'Unicode text', tab-separated)": (
        "\ufeff".encode("utf-16-le")
        + f"{HEADER}\r\n{ROW}\r\n".replace(",", "\t").encode("utf-16-le"),
        f"line 1 (header): {UTF16_ADVICE}",
    ),
    "UTF-16 big-endian with BOM": (
        f"\ufeff{HEADER}\n{ROW}\n".encode("utf-16-be"),
        f"line 1 (header): {UTF16_ADVICE}",
    ),
    "UTF-16 without BOM (NUL bytes)": (
        f"{HEADER}\n{ROW}\n".encode("utf-16-le"),
        f"line 1 (header): {UTF16_ADVICE}",
    ),
    "semicolon-delimited": (
        f"{HEADER}\n{ROW}\n".replace(",", ";").encode(),
        "line 1 (header): the delimiter looks like ';', expected ',' (one column "
        f"{HEADER.replace(',', ';')!r}): save the file as comma-separated CSV",
    ),
    "tab-delimited": (
        f"{HEADER}\n{ROW}\n".replace(",", "\t").encode(),
        "line 1 (header): the delimiter looks like tab, expected ',' (one column "
        f"{HEADER.replace(',', chr(9))!r}): save the file as comma-separated CSV",
    ),
    "semicolons with a comma inside a quoted name": (
        b'tenantId;userId;"XP,Reason";SourceType;SourceUid;XP;AwardedOn\n',
        "missing required column(s) tenantId, userId, XPReason, SourceType, SourceUid, XP, "
        'AwardedOn (file has: tenantId;userId;"XP, Reason";SourceType;SourceUid;XP;AwardedOn); '
        "the delimiter looks like ';', expected ','",
    ),
    "duplicated column": (
        f"{HEADER},userId\n{ROW},u\n".encode(),
        "line 1 (column 8 'userId'): duplicated column name (also column 2)",
    ),
    "duplicated column by case": (
        f"{HEADER},USERID\n{ROW},u\n".encode(),
        "line 1 (column 8 'USERID'): duplicated column name ('userId', column 2, differs only "
        "by case; names match case-insensitively)",
    ),
    "trailing comma on the header": (
        f"{HEADER},\n{ROW},\n".encode(),
        "line 1 (column 8): empty column name (a trailing comma on the header?)",
    ),
    "empty name inside the header": (
        f"tenantId,,{HEADER[9:]}\n".encode(),
        "line 1 (column 2): empty column name",
    ),
    "a line with one field too many (no column to name)": (
        f"{HEADER}\n{ROW}\n{ROW},extra\n".encode(),
        "1 unreadable line(s), file not loaded: line 3: Expected Number of Columns: 7 Found: 8",
    ),
    "a 3 MB field": (
        f"{HEADER}\n{ROW}\n{ROW}\n{HUGE_LINE}\n{ROW}\n".encode(),
        f"1 unreadable line(s), file not loaded: line 4 (column XPReason): field too long: "
        f"the line has {len(HUGE_LINE):,} bytes, more than the 2,000,000 bytes a line may have",
    ),
    "a 3 MB quoted field in a CRLF file": (
        f'{HEADER}\r\n{ROW}\r\nt,u,r,Unit,"{HUGE}",1,x\r\n'.encode(),
        f"1 unreadable line(s), file not loaded: line 3 (column SourceUid): field too long: "
        f"the line has {len(HUGE) + 18:,} bytes, more than the 2,000,000 bytes a line may have",
    ),
}


@pytest.mark.parametrize(("content", "reason"), PROBLEMS.values(), ids=PROBLEMS.keys())
def test_whole_file_problem_names_file_line_and_column_and_keeps_the_previous_snapshot(
    conn, tmp_path, content, reason
):
    good = write_csv(tmp_path / "good.csv", PROGRESS.column_names, tiny_rows(PROGRESS, D1))
    load_snapshot(conn, PROGRESS, D1, good)
    before = raw_rows(conn, "progress", D1)
    bad = write(tmp_path / "bad" / "Progress.csv", content)
    with pytest.raises(LandingFileError) as err:
        load_snapshot(conn, PROGRESS, D1, bad)
    assert str(err.value) == f"{bad}: {reason}"
    assert raw_rows(conn, "progress", D1) == before


def test_entra_export_gets_the_same_reading_rules(conn, tmp_path):
    rows = "id,displayName\r\na,Ann\r\nb,Bob\n"  # re-saved, then a row added by hand
    assert load_entra_export(conn, write(tmp_path / "mixed.csv", rows.encode())) == 2
    assert conn.execute("SELECT * FROM raw.entra_users ORDER BY 1").fetchall() == [
        ("a", "Ann"),
        ("b", "Bob"),
    ]
    unicode_text = write(tmp_path / "entra.txt.csv", ("\ufeff" + rows).encode("utf-16-le"))
    with pytest.raises(LandingFileError) as err:
        load_entra_export(conn, unicode_text)
    assert str(err.value) == f"{unicode_text}: line 1 (header): {UTF16_ADVICE}"
    assert conn.execute("SELECT count(*) FROM raw.entra_users").fetchone() == (2,)
