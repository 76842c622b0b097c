"""Files written by `generate_sample`: layout, headers, quirks, formats, determinism, arguments."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

import duckdb
import pytest

from learn_assets.contracts.datasets import DATASETS, ENTRA_COLUMNS, Kind
from learn_assets.generator import SampleSummary, generate_sample
from learn_assets_tests.generator.conftest import DAYS, START, USERS, fetch, table_name

BOM = b"\xef\xbb\xbf"
DATETIMEOFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}[+-]\d\d:\d\d$")


def first_line(path: Path) -> str:
    with path.open("rb") as f:
        return f.readline().decode("utf-8-sig").rstrip("\r\n")


def hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_every_snapshot_has_all_datasets_with_exact_headers(sample: SampleSummary) -> None:
    assert sample.snapshots == [START + dt.timedelta(days=i) for i in range(DAYS)]
    assert sorted(p.name for p in sample.out.iterdir()) == [
        *(d.isoformat() for d in sample.snapshots),
        "entra_users.csv",
    ]
    for day in sample.snapshots:
        folder = sample.out / day.isoformat()
        assert sorted(p.name for p in folder.iterdir()) == sorted(f"{d.name}.csv" for d in DATASETS)
        for ds in DATASETS:
            assert first_line(folder / f"{ds.name}.csv") == ",".join(ds.column_names), ds.name
    assert first_line(sample.out / "entra_users.csv") == ",".join(ENTRA_COLUMNS)
    assert first_line(sample.out / START.isoformat() / "Certifications.csv").startswith("tenantID,")


def test_summary_counts_match_the_files(sample: SampleSummary, db) -> None:
    assert sample.learners == USERS
    for day in sample.snapshots:
        for ds in DATASETS:
            (n,) = fetch(db, "SELECT count(*) FROM {t}", t=table_name(day, ds.table))[0]
            assert sample.rows[day.isoformat()][ds.name] == n, (day, ds.name)
    assert sample.entra_users == fetch(db, "SELECT count(*) FROM {t}", t="entra")[0][0]


def test_bom_and_crlf_quirks(sample: SampleSummary) -> None:
    folder = sample.out / sample.snapshots[-1].isoformat()
    data = {ds.name: (folder / f"{ds.name}.csv").read_bytes() for ds in DATASETS}
    for name in ("Users", "HierarchyModule"):
        assert data[name].startswith(BOM), name
    for name in ("Progress", "Certifications", "Achievements"):
        assert not data[name].startswith(BOM), name
    for name in ("Achievements", "HierarchyUnit"):
        lines = data[name].count(b"\n")
        assert lines > 10 and data[name].count(b"\r\n") == lines, name
    for name in ("Progress", "Users", "HierarchyModule"):
        assert b"\r" not in data[name], name
    assert (sample.out / "entra_users.csv").read_bytes().startswith(BOM)


def test_datetimeoffsets_have_seven_digits_and_per_user_offsets(sample: SampleSummary, db) -> None:
    day = sample.snapshots[-1]
    offsets: set[str] = set()
    for ds, col in (
        ("progress", "AwardedOn"),
        ("achievements", "AwardedOn"),
        ("users", "CreatedOn"),
    ):
        values = fetch(db, f'SELECT "{col}" FROM {{t}}', t=table_name(day, ds))
        assert values and all(DATETIMEOFFSET.match(v) for (v,) in values), ds
        offsets |= {v[-6:] for (v,) in values}
    assert {"-08:00", "+05:30", "+00:00", "+01:00"} <= offsets
    (users_with_two_offsets,) = fetch(
        db,
        """
        SELECT count(*) FROM (
            SELECT userId FROM (SELECT userId, right(AwardedOn, 6) AS o FROM {p}
                                UNION ALL SELECT userId, right(CreatedOn, 6) FROM {u})
            GROUP BY userId HAVING count(DISTINCT o) > 1)
        """,
        p=table_name(day, "progress"),
        u=table_name(day, "users"),
    )[0]
    assert users_with_two_offsets == 0


def test_csv_quoting_of_commas_and_json_arrays(sample: SampleSummary, db) -> None:
    folder = sample.out / START.isoformat()
    cert = (folder / "HierarchyCertification.csv").read_text("utf-8")
    assert '"Candidates for this certification plan, implement, and manage' in cert
    assert '"[""beginner""]"' in cert
    assert ',"Microsoft Certified: Security, Compliance, and Identity Fundamentals",' in cert
    assert '"Research, Development"' in (sample.out / "entra_users.csv").read_text("utf-8-sig")
    (summaries,) = fetch(
        db,
        "SELECT count(*) FROM {t} WHERE summary LIKE '%, and manage%'",
        t=table_name(START, "hierarchy_certification"),
    )[0]
    assert summaries == 30


def test_same_seed_same_bytes_other_seed_other_tenant(tmp_path: Path) -> None:
    args = {"users": 150, "days": 3, "start": dt.date(2025, 3, 30)}
    first = generate_sample(tmp_path / "a", seed=5, **args)
    generate_sample(tmp_path / "b", seed=5, **args)
    reference = hashes(tmp_path / "a")
    assert len(reference) == 3 * 11 + 1
    assert hashes(tmp_path / "b") == reference
    # Rerun into the same folder: files are replaced, bytes unchanged.
    (tmp_path / "a" / "2025-03-30" / "Progress.csv").write_text("stale")
    generate_sample(tmp_path / "a", seed=5, **args)
    assert hashes(tmp_path / "a") == reference

    other = generate_sample(tmp_path / "c", seed=6, **args)
    changed = {k for k, v in hashes(tmp_path / "c").items() if reference[k] != v}
    assert other.tenant_id != first.tenant_id
    assert {"entra_users.csv", "2025-03-31/Progress.csv", "2025-03-31/Users.csv"} <= changed
    # The catalog is the same for every tenant, as on the real service.
    assert not any("Hierarchy" in k for k in changed)


def test_parquet_is_byte_identical_for_the_same_seed(tmp_path: Path) -> None:
    args = {"users": 150, "days": 2, "start": dt.date(2025, 3, 30), "seed": 5, "fmt": "parquet"}
    generate_sample(tmp_path / "a", **args)
    generate_sample(tmp_path / "b", **args)
    reference = hashes(tmp_path / "a")
    assert len(reference) == 2 * 11 + 1
    assert hashes(tmp_path / "b") == reference


def test_parquet_has_the_same_rows_and_integer_columns(
    sample: SampleSummary, parquet_sample: SampleSummary
) -> None:
    assert parquet_sample.rows == sample.rows
    con = duckdb.connect()
    for day in (sample.snapshots[0], sample.snapshots[-1]):
        for ds in DATASETS:
            csv_path = sample.out / day.isoformat() / f"{ds.name}.csv"
            pq_path = parquet_sample.out / day.isoformat() / f"{ds.name}.parquet"
            pq = con.sql("SELECT * FROM read_parquet(?)", params=[str(pq_path)])
            assert tuple(pq.columns) == ds.column_names
            expected = [
                "INTEGER" if c.kind in (Kind.INT, Kind.YYYYMMDD) else "VARCHAR" for c in ds.columns
            ]
            assert [str(t) for t in pq.types] == expected, ds.name
            csv_rows = con.execute(
                "SELECT * FROM read_csv(?, all_varchar = true)", [str(csv_path)]
            ).fetchall()
            pq_rows = [tuple(None if v is None else str(v) for v in r) for r in pq.fetchall()]
            assert pq_rows == csv_rows, (day, ds.name)


def test_entra_export_covers_most_learners_and_extra_directory_users(
    sample: SampleSummary, db
) -> None:
    learners = set()
    for day in sample.snapshots:
        learners |= {
            r[0] for r in fetch(db, "SELECT AADObjectId FROM {u}", u=table_name(day, "users"))
        }
    rows = fetch(
        db,
        'SELECT id, userPrincipalName, mail, userType, department, "accountEnabled", '
        "createdDateTime FROM {e}",
        e="entra",
    )
    ids = [r[0] for r in rows]
    assert len(set(ids)) == len(ids)
    in_directory = len(learners & set(ids)) / len(learners)
    assert 0.9 <= in_directory <= 0.99
    assert 0.18 <= (len(ids) - len(learners & set(ids))) / len(learners) <= 0.32
    upns = [r[1] for r in rows]
    assert len(set(upns)) == len(upns)
    members = [r for r in rows if r[3] == "Member"]
    assert all(
        re.fullmatch(r"[a-z]+\.[a-z]+\d*@contoso\.example", r[1]) and r[2] == r[1] for r in members
    )
    assert {r[4] for r in members} >= {"Research, Development", "Engineering"}
    assert {r[5] for r in rows} == {"True", "False"}
    assert all(re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d\d:\d\d [AP]M", r[6]) for r in rows)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_single_learner_still_gets_every_file(tmp_path: Path, fmt: str) -> None:
    summary = generate_sample(tmp_path, users=1, days=2, start=START, seed=3, fmt=fmt)
    con = duckdb.connect()
    reader = "read_csv(?, all_varchar = true)" if fmt == "csv" else "read_parquet(?)"
    for day in summary.snapshots:
        for ds in DATASETS:
            rel = con.sql(
                f"SELECT * FROM {reader}",
                params=[str(tmp_path / day.isoformat() / f"{ds.name}.{fmt}")],
            )
            assert tuple(rel.columns) == ds.column_names
            assert len(rel.fetchall()) == summary.rows[day.isoformat()][ds.name]
    assert max(r["Users"] for r in summary.rows.values()) == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"users": 0}, "users"),
        ({"users": -5}, "users"),
        ({"days": 0}, "days"),
        ({"fmt": "xlsx"}, "fmt"),
        ({"seed": -1}, "seed"),
        ({"start": dt.datetime(2026, 1, 1, 12)}, "start"),
    ],
)
def test_bad_arguments_raise_value_error(tmp_path: Path, change: dict, message: str) -> None:
    args = {
        "out": tmp_path / "out",
        "users": 10,
        "days": 1,
        "start": START,
        "seed": 1,
        "fmt": "csv",
    }
    with pytest.raises(ValueError, match=message):
        generate_sample(**{**args, **change})
    assert not (tmp_path / "out").exists()


def test_switching_format_leaves_one_file_per_dataset(tmp_path):
    generate_sample(tmp_path, users=20, days=1, start=dt.date(2026, 11, 1), seed=1)
    generate_sample(tmp_path, users=20, days=1, start=dt.date(2026, 11, 1), seed=1, fmt="parquet")
    files = sorted(p.name for p in (tmp_path / "2026-11-01").iterdir())
    assert files == sorted(f"{d.name}.parquet" for d in DATASETS)


def test_activity_scales_study_and_growth_sets_how_many_join(tmp_path):
    start = dt.date(2026, 11, 1)
    base = generate_sample(tmp_path / "base", users=300, days=5, start=start, seed=2)
    busy = generate_sample(tmp_path / "busy", users=300, days=5, start=start, seed=2, activity=4)
    slow = generate_sample(tmp_path / "slow", users=300, days=5, start=start, seed=2, growth=0.01)
    first, last = base.snapshots[0].isoformat(), base.snapshots[-1].isoformat()
    assert busy.rows[first]["Users"] == base.rows[first]["Users"]
    assert busy.rows[first]["Progress"] > 1.8 * base.rows[first]["Progress"]
    # 1% a day over 4 days: about 1/1.04 of the learners exist on the first day.
    assert slow.rows[first]["Users"] > 0.9 * slow.rows[last]["Users"]
    assert base.rows[first]["Users"] < 0.85 * base.rows[last]["Users"]


@pytest.mark.parametrize(
    ("option", "value"), [("activity", 0), ("activity", "x"), ("growth", -0.1), ("growth", 2)]
)
def test_activity_and_growth_are_validated_by_name(tmp_path, option, value):
    with pytest.raises(ValueError, match=option):
        generate_sample(
            tmp_path, users=10, days=2, start=dt.date(2026, 11, 1), seed=1, **{option: value}
        )


def test_sample_command_passes_activity_and_growth(tmp_path):
    from learn_assets.cli import main

    argv = ["sample", "--out", str(tmp_path), "--users", "40", "--days", "2", "--seed", "3"]
    assert main([*argv, "--activity", "3", "--growth", "0.01"]) == 0
    direct = generate_sample(tmp_path / "direct", 40, 2, START, seed=3, activity=3, growth=0.01)
    day = direct.snapshots[-1].isoformat()
    written = (tmp_path / day / "Progress.csv").read_bytes()
    assert written == (tmp_path / "direct" / day / "Progress.csv").read_bytes()
