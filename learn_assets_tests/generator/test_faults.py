"""Fault injection (`generate_sample(..., faults=True)`): every fault present, exactly as listed.

The expected counts, files and lines come from the run's `faults.json`; the clean reference is a
run without faults over `DAYS + 2` days, whose last two days are the fault days before faulting.
"""

from __future__ import annotations

import collections
import csv
import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import duckdb
import pytest

from learn_assets.cli import main
from learn_assets.contracts.datasets import DATASETS, DATASETS_BY_NAME
from learn_assets.contracts.schemas import MAX_TEXT_LENGTH
from learn_assets.generator import SampleSummary, generate_sample

USERS, DAYS, START, SEED = 200, 2, dt.date(2026, 11, 1), 11
ROW_DAY, FILE_DAY = START + dt.timedelta(days=DAYS), START + dt.timedelta(days=DAYS + 1)
GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
SPEC_ROW_FAULTS = {
    ("duplicate_row", "Progress"),
    ("malformed_guid", "Progress"),
    ("unknown_enum", "Progress"),
    ("negative_xp", "Progress"),
    ("non_numeric_xp", "Progress"),
    ("orphan_user_id", "Progress"),
    ("orphan_catalog_uid", "Progress"),
    ("huge_field", "Progress"),
    ("impossible_date", "Certifications"),
    ("end_before_start", "Certifications"),
    ("malformed_json_array", "HierarchyModule"),
    ("mixed_tenant", "AppliedSkills"),
    ("extra_column", "Achievements"),
    ("case_renamed_column", "Achievements"),
    ("never_expires", "Certifications"),
    ("year_one_date", "Certifications"),
    ("year_9999_timestamp", "Progress"),
    ("year_one_timestamp", "Progress"),
    ("max_bigint_xp", "Progress"),
    ("xp_above_max", "Progress"),
}
# The contract's ranges (learn_assets/contracts/schemas.py), restated as the test expects them.
FIRST_INSTANT = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LAST_INSTANT = dt.datetime(2999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC)
FIRST_DATE, MAX_XP, MAX_BIGINT = dt.date(1900, 1, 1), 1_000_000, 2**63 - 1
SPEC_FILE_FAULTS = {
    ("missing_required_column", "Certifications"),
    ("empty_file", "HierarchyCertification"),
    ("truncated_last_line", "Achievements"),
    ("invalid_utf8", "HierarchyLearningPath"),
}
SPEC_READING_FAULTS = {
    ("mixed_line_endings", "HierarchyUnit"),
    ("utf16", "Users"),
    ("semicolon_delimiter", "HierarchyLearningPathModule"),
    ("duplicated_header_column", "AppliedSkills"),
    ("empty_header_name", "HierarchyAppliedSkills"),
    ("oversized_field", "Progress"),
    ("typed_parquet", "HierarchyModule"),
}
PARQUET_FAULTS = {"typed_parquet"}


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> SampleSummary:
    return generate_sample(tmp_path_factory.mktemp("faults"), USERS, DAYS, START, SEED, faults=True)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> SampleSummary:
    """The same tenant without faults, over the clean days and both fault days."""
    return generate_sample(tmp_path_factory.mktemp("clean"), USERS, DAYS + 2, START, SEED)


@pytest.fixture(scope="module")
def manifest(faulty: SampleSummary) -> dict:
    return json.loads((faulty.out / "faults.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def counts(manifest: dict, dataset: str) -> dict[str, int]:
    """kind -> count of the row faults of `dataset`."""
    return {
        f["kind"]: f["count"] for f in manifest["row_faults"]["faults"] if f["dataset"] == dataset
    }


def file_fault(manifest: dict, kind: str) -> dict:
    (fault,) = [f for f in manifest["file_faults"]["faults"] if f["kind"] == kind]
    return fault


def path(summary: SampleSummary, day: dt.date, dataset: str) -> Path:
    return summary.out / day.isoformat() / f"{dataset}.csv"


def read(con: duckdb.DuckDBPyConnection, file: Path) -> tuple[list[str], list[tuple]]:
    """(header, rows) of a CSV file, every value as text."""
    rel = con.sql(
        "SELECT * FROM read_csv(?, all_varchar = true, header = true)", params=[str(file)]
    )
    return list(rel.columns), rel.fetchall()


def multiset_minus(a: list[tuple], b: list[tuple]) -> list[tuple]:
    """Rows of `a` left after removing one occurrence per row of `b` (SQL EXCEPT ALL)."""
    return list((collections.Counter(a) - collections.Counter(b)).elements())


def column(con: duckdb.DuckDBPyConnection, file: Path, name: str) -> set[str]:
    header, rows = read(con, file)
    i = header.index(name)
    return {r[i] for r in rows}


def is_int(text: str | None) -> bool:
    return text is not None and re.fullmatch(r"-?\d+", text) is not None


def instant(text: str | None) -> dt.datetime | None:
    """An ISO 8601 timestamp with offset (None if it is not one)."""
    try:
        value = dt.datetime.fromisoformat(text or "")
    except ValueError:
        return None
    return value if value.tzinfo else None


def hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_manifest_lists_the_specified_faults_and_the_summary_the_days(
    faulty: SampleSummary, manifest: dict
) -> None:
    assert faulty.snapshots == [START + dt.timedelta(days=i) for i in range(DAYS)]
    assert faulty.fault_snapshots == (ROW_DAY, FILE_DAY)
    assert sorted(faulty.rows) == [d.isoformat() for d in faulty.snapshots]
    assert manifest["row_faults"]["snapshot"] == ROW_DAY.isoformat()
    assert manifest["file_faults"]["snapshot"] == FILE_DAY.isoformat()
    row_faults = manifest["row_faults"]["faults"]
    assert {(f["kind"], f["dataset"]) for f in row_faults} == SPEC_ROW_FAULTS
    assert all(set(f) == {"kind", "dataset", "count", "column"} for f in row_faults)
    assert all(isinstance(f["count"], int) and f["count"] > 0 for f in row_faults)
    # Counts differ on purpose, so a fault counted as another kind shows.
    progress = counts(manifest, "Progress")
    assert len(set(progress.values())) > 4
    file_faults = manifest["file_faults"]["faults"]
    assert {
        (f["kind"], f["dataset"]) for f in file_faults
    } == SPEC_FILE_FAULTS | SPEC_READING_FAULTS
    for f in file_faults:
        assert set(f) == {"kind", "dataset", "file", "line", "column"}
        suffix = "parquet" if f["kind"] in PARQUET_FAULTS else "csv"
        assert f["file"] == f"{FILE_DAY.isoformat()}/{f['dataset']}.{suffix}"
        assert (faulty.out / f["file"]).is_file()
    assert sorted(p.name for p in faulty.out.iterdir()) == [
        *(d.isoformat() for d in (*faulty.snapshots, ROW_DAY, FILE_DAY)),
        "entra_users.csv",
        "faults.json",
    ]


def test_clean_days_and_unfaulted_files_equal_a_clean_run(
    faulty: SampleSummary, clean: SampleSummary
) -> None:
    mine, reference = hashes(faulty.out), hashes(clean.out)
    faulted = {
        f"{ROW_DAY.isoformat()}/{d}.csv"
        for d in ("Progress", "Certifications", "AppliedSkills", "HierarchyModule", "Achievements")
    } | {f"{FILE_DAY.isoformat()}/{d.name}.csv" for d in DATASETS}  # every one: 4 + 7 faults
    parquet = f"{FILE_DAY.isoformat()}/HierarchyModule"  # the typed_parquet fault
    assert set(mine) == set(reference) - {f"{parquet}.csv"} | {f"{parquet}.parquet", "faults.json"}
    # Every other file of the fault days is the clean generator's, byte for byte (valid).
    assert {k for k in reference if mine.get(k) != reference[k]} == faulted
    assert faulty.rows == {d: clean.rows[d] for d in faulty.rows}


def test_progress_row_faults_are_appended_each_broken_one_way(
    faulty: SampleSummary, clean: SampleSummary, manifest: dict, con
) -> None:
    expected = counts(manifest, "Progress")
    header, rows = read(con, path(faulty, ROW_DAY, "Progress"))
    clean_header, clean_rows = read(con, path(clean, ROW_DAY, "Progress"))
    assert header == clean_header == list(DATASETS_BY_NAME["Progress"].column_names)
    # Every clean row is still there, unchanged; only the injected rows were added.
    assert not multiset_minus(clean_rows, rows)
    injected = multiset_minus(rows, clean_rows)
    assert len(rows) == len(clean_rows) + sum(expected.values())
    assert len(injected) == sum(expected.values())

    tenant, users = faulty.tenant_id, column(con, path(faulty, ROW_DAY, "Users"), "userId")
    catalog = {
        "Unit": column(con, path(faulty, ROW_DAY, "HierarchyUnit"), "unitUid"),
        "Module": column(con, path(clean, ROW_DAY, "HierarchyModule"), "moduleUid"),
        "LearningPath": column(
            con, path(faulty, ROW_DAY, "HierarchyLearningPath"), "LearningPathUid"
        ),
    }
    clean_set = set(clean_rows)
    c = {name: i for i, name in enumerate(header)}

    def faults_of(row: tuple) -> list[str]:
        """Every way `row` is broken; anything outside the manifest's kinds is a bug too."""
        user, st, uid, xp = (
            row[c["userId"]],
            row[c["SourceType"]],
            row[c["SourceUid"]],
            row[c["XP"]],
        )
        awarded = instant(row[c["AwardedOn"]])
        in_range = awarded is not None and FIRST_INSTANT <= awarded <= LAST_INSTANT
        found = {
            "malformed_guid": not GUID.match(user),
            "orphan_user_id": bool(GUID.match(user)) and user not in users,
            "unknown_enum": st not in catalog,
            "orphan_catalog_uid": st in catalog and uid not in catalog[st],
            "negative_xp": is_int(xp) and int(xp) < 0,
            "non_numeric_xp": not is_int(xp),
            "max_bigint_xp": is_int(xp) and int(xp) == MAX_BIGINT,
            "xp_above_max": is_int(xp) and MAX_XP < int(xp) < MAX_BIGINT,
            "huge_field": any(len(v or "") > MAX_TEXT_LENGTH for v in row),
            "wrong_tenant": row[c["tenantId"]] != tenant,
            "year_9999_timestamp": awarded is not None and awarded > LAST_INSTANT,
            "year_one_timestamp": awarded is not None and awarded < FIRST_INSTANT,
            "bad_awarded_on": in_range
            and not re.fullmatch(
                r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}[+-]\d\d:\d\d", row[c["AwardedOn"]] or ""
            ),
            "unreadable_awarded_on": awarded is None,
            "blank_reason": not row[c["XPReason"]],
        }
        return [k for k, v in found.items() if v]

    assert all(faults_of(r) == [] for r in clean_rows)
    # An injected row equal to a clean one is a duplicate: that is its one fault.
    kinds = [faults_of(r) + ["duplicate_row"] * (r in clean_set) for r in injected]
    assert all(len(k) == 1 for k in kinds), [k for k in kinds if len(k) != 1]
    assert collections.Counter(k[0] for k in kinds) == expected

    malformed = sorted(r[c["userId"]] for r in injected if not GUID.match(r[c["userId"]]))
    assert malformed == [f"not-a-guid-{i}" for i in range(1, expected["malformed_guid"] + 1)]
    assert {r[c["SourceType"]] for r in injected if r[c["SourceType"]] not in catalog} == {"Lesson"}
    assert {r[c["XP"]] for r in injected if is_int(r[c["XP"]]) and int(r[c["XP"]]) < 0} == {"-100"}
    assert {r[c["XP"]] for r in injected if not is_int(r[c["XP"]])} == {"ten"}
    orphan_units = [r for r in injected if r[c["SourceUid"]].startswith("learn.retired-module.")]
    assert len(orphan_units) == expected["orphan_catalog_uid"]
    assert {r[c["SourceType"]] for r in orphan_units} == {"Unit"}
    orphan_users = [r for r in injected if "orphan_user_id" in faults_of(r)]
    assert {r[c["SourceType"]] for r in orphan_users} == {"Unit"}
    (huge,) = [r for r in injected if "huge_field" in faults_of(r)]
    assert huge[c["XPReason"]] == "x" * 1_048_576
    # Values at the edges of the contract's ranges, exactly as specified.
    edges = {
        kind: {r[c[column]] for r in injected if faults_of(r) == [kind]}
        for kind, column in (
            ("max_bigint_xp", "XP"),
            ("xp_above_max", "XP"),
            ("year_9999_timestamp", "AwardedOn"),
            ("year_one_timestamp", "AwardedOn"),
        )
    }
    assert edges == {
        "max_bigint_xp": {"9223372036854775807"},
        "xp_above_max": {"1000001"},
        "year_9999_timestamp": {"9999-12-31T23:59:59-05:00"},
        "year_one_timestamp": {"0001-01-01T00:00:00+01:00"},
    }


def test_duplicates_are_byte_exact_copies_and_the_file_stays_rfc4180(
    faulty: SampleSummary, manifest: dict
) -> None:
    data = path(faulty, ROW_DAY, "Progress").read_bytes()
    assert data.endswith(b"\n") and b"\r" not in data and not data.startswith(b"\xef\xbb\xbf")
    repeated = {line: n for line, n in collections.Counter(data.split(b"\n")).items() if n > 1}
    assert list(repeated.values()) == [2] * counts(manifest, "Progress")["duplicate_row"]


def test_certification_row_faults(
    faulty: SampleSummary, clean: SampleSummary, manifest: dict, con
) -> None:
    expected = counts(manifest, "Certifications")
    header, rows = read(con, path(faulty, ROW_DAY, "Certifications"))
    _, clean_rows = read(con, path(clean, ROW_DAY, "Certifications"))
    assert not multiset_minus(clean_rows, rows)
    injected = multiset_minus(rows, clean_rows)
    assert len(injected) == sum(expected.values())
    c = {name: i for i, name in enumerate(header)}

    def placeholder(text: str | None) -> bool:
        return text in (None, "", "0") or (text or "").startswith("1899")

    def date(text: str | None) -> dt.date | None:
        """The date, None for a placeholder ("no date") or an impossible date."""
        if placeholder(text):
            return None
        try:
            return dt.datetime.strptime(text or "", "%Y%m%d").date()
        except ValueError:
            return None

    def faults_of(row: tuple) -> list[str]:
        start, end = date(row[c["CertificationStartDate"]]), date(row[c["CertificationEndDate"]])
        dates = (
            "AwardedOn",
            "CertificationStartDate",
            "CertificationEndDate",
            "StayCurrentEligibilityStartDate",
        )
        found = {
            "impossible_date": any(
                not placeholder(row[c[k]]) and date(row[c[k]]) is None for k in dates
            ),
            "year_one_date": any((date(row[c[k]]) or FIRST_DATE) < FIRST_DATE for k in dates),
            "never_expires": row[c["CertificationEndDate"]] == "99991231",
            "end_before_start": start is not None and end is not None and end < start,
            "bad_user": not GUID.match(row[c["userId"]]),
            "wrong_tenant": row[c["tenantID"]] != faulty.tenant_id,
        }
        return [k for k, v in found.items() if v]

    assert all(faults_of(r) == [] for r in clean_rows)
    kinds = [faults_of(r) for r in injected]
    assert all(len(k) == 1 for k in kinds), kinds
    assert collections.Counter(k[0] for k in kinds) == expected
    assert {r[c["AwardedOn"]] for r in injected if faults_of(r) == ["impossible_date"]} == {
        "20261341"
    }
    bad_ranges = {
        (r[c["CertificationStartDate"]], r[c["CertificationEndDate"]])
        for r in injected
        if faults_of(r) == ["end_before_start"]
    }
    assert bad_ranges == {("20260601", "20260101")}
    assert {r[c["AwardedOn"]] for r in injected if faults_of(r) == ["year_one_date"]} == {
        "00010101"
    }
    # A never-expiring copy of a certification that has an end date: its key is new.
    never = [r for r in injected if faults_of(r) == ["never_expires"]]
    end = c["CertificationEndDate"]
    originals = {r[:end] + r[end + 1 :]: r[end] for r in clean_rows}
    assert all(originals[r[:end] + r[end + 1 :]] >= "19000101" for r in never)


def test_applied_skills_mixed_tenant(
    faulty: SampleSummary, clean: SampleSummary, manifest: dict, con
) -> None:
    header, rows = read(con, path(faulty, ROW_DAY, "AppliedSkills"))
    _, clean_rows = read(con, path(clean, ROW_DAY, "AppliedSkills"))
    assert not multiset_minus(clean_rows, rows)
    injected = multiset_minus(rows, clean_rows)
    c = {name: i for i, name in enumerate(header)}
    others = [r for r in rows if r[c["tenantId"]] != faulty.tenant_id]
    assert others == injected
    assert len(others) == counts(manifest, "AppliedSkills")["mixed_tenant"]
    users = column(con, path(faulty, ROW_DAY, "Users"), "userId")
    skills = column(con, path(faulty, ROW_DAY, "HierarchyAppliedSkills"), "appliedSkillsUid")
    for r in others:
        assert GUID.match(r[c["tenantId"]])
        assert r[c["userId"]] in users and r[c["appliedSkillsUid"]] in skills


def test_hierarchy_module_malformed_json_arrays(
    faulty: SampleSummary, clean: SampleSummary, manifest: dict, con
) -> None:
    file = path(faulty, ROW_DAY, "HierarchyModule")
    assert file.read_bytes().startswith(b"\xef\xbb\xbf")  # the BOM quirk survives
    header, rows = read(con, file)
    _, clean_rows = read(con, path(clean, ROW_DAY, "HierarchyModule"))
    assert not multiset_minus(clean_rows, rows)
    injected = multiset_minus(rows, clean_rows)
    c = {name: i for i, name in enumerate(header)}

    def valid_array(text: str | None) -> bool:
        try:
            return isinstance(json.loads(text or "[]"), list)
        except json.JSONDecodeError:
            return False

    broken = [r for r in rows if not valid_array(r[c["levels"]])]
    assert broken == injected
    assert len(broken) == counts(manifest, "HierarchyModule")["malformed_json_array"]
    assert {r[c["levels"]] for r in broken} == {'["beginner",'}
    uids = [r[c["moduleUid"]] for r in rows]
    assert len(set(uids)) == len(uids)  # new, unique uids: only the levels are broken
    assert all(valid_array(r[c[k]]) for r in broken for k in ("products", "roles", "languages"))


def test_achievements_schema_drift(
    faulty: SampleSummary, clean: SampleSummary, manifest: dict, con
) -> None:
    drift = {
        f["kind"]: f for f in manifest["row_faults"]["faults"] if f["dataset"] == "Achievements"
    }
    assert set(drift) == {"extra_column", "case_renamed_column"}
    file = path(faulty, ROW_DAY, "Achievements")
    data = file.read_bytes()
    assert data.count(b"\n") == data.count(b"\r\n")  # CRLF quirk survives
    header_line = data.split(b"\r\n", 1)[0].decode("utf-8")
    dictionary = list(DATASETS_BY_NAME["Achievements"].column_names)
    renamed = drift["case_renamed_column"]["column"]
    expected = [renamed if n.lower() == renamed.lower() else n for n in dictionary]
    assert header_line.split(",") == [*expected, drift["extra_column"]["column"]]
    assert renamed != "awardType" and renamed.lower() == "awardtype"

    header, rows = read(con, file)
    _, clean_rows = read(con, path(clean, ROW_DAY, "Achievements"))
    extra = header.index(drift["extra_column"]["column"])
    assert all(r[extra] for r in rows)
    # Same rows as the clean day once the extra column is dropped: no rows injected.
    assert collections.Counter(r[:extra] + r[extra + 1 :] for r in rows) == collections.Counter(
        clean_rows
    )


def test_file_faults(faulty: SampleSummary, clean: SampleSummary, manifest: dict, con) -> None:
    missing = file_fault(manifest, "missing_required_column")
    header, rows = read(con, faulty.out / missing["file"])
    clean_header, clean_rows = read(con, path(clean, FILE_DAY, missing["dataset"]))
    gone = clean_header.index(missing["column"])
    assert missing["column"] not in header and missing["line"] == 1
    assert header == clean_header[:gone] + clean_header[gone + 1 :]
    assert rows == [r[:gone] + r[gone + 1 :] for r in clean_rows]

    empty = file_fault(manifest, "empty_file")
    assert (faulty.out / empty["file"]).stat().st_size == 0
    assert empty["line"] is None

    truncated = file_fault(manifest, "truncated_last_line")
    data = (faulty.out / truncated["file"]).read_bytes()
    full = path(clean, FILE_DAY, truncated["dataset"]).read_bytes()
    assert full.startswith(data) and not data.endswith((b"\n", b"\r"))
    lines = data.split(b"\r\n")
    assert len(lines) == truncated["line"] == full.count(b"\r\n")
    names = DATASETS_BY_NAME[truncated["dataset"]].column_names
    last = lines[-1].decode("utf-8").split(",")
    assert 1 < len(last) < len(names)
    assert names[len(last) - 1] == truncated["column"]
    # Cut in the middle of the value: part of it is left, part is gone.
    full_value = full.split(b"\r\n")[truncated["line"] - 1].decode().split(",")[len(last) - 1]
    assert last[-1] and last[-1] != full_value and full_value.startswith(last[-1])

    invalid = file_fault(manifest, "invalid_utf8")
    data = (faulty.out / invalid["file"]).read_bytes()
    lines = data.split(b"\n")
    lines[0].decode("utf-8")  # the header stays readable
    bad = [i + 1 for i, line in enumerate(lines) if not _decodes(line)]
    assert bad == [invalid["line"]] == [3]
    assert data.count(b"\xff\xfe") == 1
    assert data.replace(b"\xff\xfe", b"") == path(clean, FILE_DAY, invalid["dataset"]).read_bytes()
    # Inside the title (2nd field; uids and path titles hold no commas), not at its edges.
    title = lines[invalid["line"] - 1].split(b",")[1]
    assert invalid["column"] == "title"
    assert b"\xff\xfe" in title.strip(b'"')[1:-1]


def _decodes(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_reading_faults_change_only_what_they_say(
    faulty: SampleSummary, clean: SampleSummary, manifest: dict, con
) -> None:
    def files(kind: str) -> tuple[dict, bytes, bytes]:
        fault = file_fault(manifest, kind)
        data = (faulty.out / fault["file"]).read_bytes()
        return fault, data, path(clean, FILE_DAY, fault["dataset"]).read_bytes()

    mixed, data, reference = files("mixed_line_endings")
    lines = data.split(b"\n")
    bare_lf = [i + 1 for i, line in enumerate(lines[:-1]) if not line.endswith(b"\r")]
    assert bare_lf == [mixed["line"], mixed["line"] + 1] == [len(lines) - 2, len(lines) - 1]
    assert data.replace(b"\r\n", b"\n") == reference.replace(b"\r\n", b"\n") != data

    _, data, reference = files("utf16")
    assert data.startswith(b"\xff\xfe") and data.decode("utf-16") == reference.decode("utf-8-sig")

    _, data, reference = files("semicolon_delimiter")
    assert data.replace(b";", b",") == reference and b"," not in data

    duplicated, data, reference = files("duplicated_header_column")
    header, rows = data.split(b"\n", 1)[0].decode().split(","), list(csv_rows(data))
    assert header == [*DATASETS_BY_NAME["AppliedSkills"].column_names, duplicated["column"]]
    assert duplicated["column"] == "UserID" and len(rows) > 2
    assert all(row[-1] == row[1] for row in rows)  # a copy of userId
    assert b"\n".join(line.rsplit(b",", 1)[0] for line in data.split(b"\n")[:-1]) + b"\n" == (
        reference
    )

    empty, data, reference = files("empty_header_name")
    assert empty["line"] == 1 and data.split(b"\r\n", 1)[0].endswith(b",")
    assert data.replace(b",\r\n", b"\r\n") == reference and data.count(b",\r\n") == (
        reference.count(b"\r\n")
    )

    oversized, data, reference = files("oversized_field")
    at = oversized["line"] - 1
    lines, clean_lines = data.split(b"\n"), reference.split(b"\n")
    assert lines[:at] + lines[at + 1 :] == clean_lines[:at] + clean_lines[at + 1 :]
    assert b'"' not in reference  # Progress values need no quotes: fields split at commas
    big, expected = lines[at].decode().split(","), clean_lines[at].decode().split(",")
    column = DATASETS_BY_NAME["Progress"].column_names.index(oversized["column"])
    expected[column] = "x" * (3 << 20)
    assert big == expected and len(lines[at]) > 3_000_000

    typed = file_fault(manifest, "typed_parquet")
    parquet = faulty.out / typed["file"]
    assert not parquet.with_suffix(".csv").exists()
    described = con.sql("DESCRIBE SELECT * FROM read_parquet(?)", params=[str(parquet)])
    types = {row[0]: row[1] for row in described.fetchall()}
    assert types["levels"] == types[typed["column"]] == "VARCHAR[]"
    assert types["durationInMinutes"] == types["points"] == "INTEGER"
    as_text = con.sql(
        "SELECT * REPLACE (CAST(to_json(levels) AS VARCHAR) AS levels, "
        "CAST(to_json(products) AS VARCHAR) AS products, "
        "CAST(to_json(roles) AS VARCHAR) AS roles, "
        "CAST(to_json(languages) AS VARCHAR) AS languages, "
        "CAST(durationInMinutes AS VARCHAR) AS durationInMinutes, "
        "CAST(points AS VARCHAR) AS points) FROM read_parquet(?)",
        params=[str(parquet)],
    ).fetchall()
    assert as_text == read(con, path(clean, FILE_DAY, typed["dataset"]))[1]


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(data.decode().splitlines()))[1:]


def test_fault_output_is_deterministic(tmp_path: Path) -> None:
    args = {"users": 150, "days": 2, "start": dt.date(2025, 3, 30), "seed": 5, "faults": True}
    generate_sample(tmp_path / "a", **args)
    generate_sample(tmp_path / "b", **args)
    reference = hashes(tmp_path / "a")
    assert len(reference) == 4 * 11 + 2
    assert hashes(tmp_path / "b") == reference
    # Rerun into the same folder after tampering: every fault file is rebuilt, not faulted twice.
    (tmp_path / "a" / "2025-04-01" / "Progress.csv").write_text("stale")
    (tmp_path / "a" / "faults.json").write_text("{}")
    generate_sample(tmp_path / "a", **args)
    assert hashes(tmp_path / "a") == reference

    other = hashes(generate_sample(tmp_path / "c", **{**args, "seed": 6}).out)
    assert other["2025-04-01/Progress.csv"] != reference["2025-04-01/Progress.csv"]


def test_without_faults_nothing_extra_is_written(tmp_path: Path) -> None:
    summary = generate_sample(tmp_path, users=50, days=2, start=START, seed=1)
    assert summary.fault_snapshots == ()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "2026-11-01",
        "2026-11-02",
        "entra_users.csv",
    ]


def test_parquet_with_faults_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="--faults needs --format csv"):
        generate_sample(tmp_path / "out", 50, 2, START, 1, fmt="parquet", faults=True)
    assert not (tmp_path / "out").exists()


def test_too_small_tenant_is_refused_before_writing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="use more users"):
        generate_sample(tmp_path / "out", 2, 2, START, 1, faults=True)
    assert not (tmp_path / "out").exists()


def test_cli_sample_faults_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["sample", "--out", str(tmp_path / "out"), "--users", "150", "--days", "1"]
    assert main([*argv, "--faults"]) == 0
    assert "fault snapshots 2026-11-02 (rows) and 2026-11-03 (files)" in capsys.readouterr().out
    assert (tmp_path / "out" / "faults.json").is_file()
    assert main([*argv, "--faults", "--format", "parquet"]) == 1
    assert "--faults needs --format csv" in capsys.readouterr().err
