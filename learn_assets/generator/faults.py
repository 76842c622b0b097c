"""Fault injection: two snapshots after the clean days that break the pipeline's rules on purpose.

- Row-fault snapshot F1 (`start + days`): the day exactly as the clean generator writes it, plus a
  few dozen rows appended to Progress, Certifications, AppliedSkills and HierarchyModule, each
  breaking exactly one rule (`ROW_FAULTS` gives kinds and counts). Every injected row is a copy of
  a real row of that snapshot with one field changed, so the rest of it stays valid; original
  rows are never altered. Achievements drifts instead: an extra column and a header spelled in
  upper case. `EDGE_ROW_FAULTS` adds values at the edges of the contract's ranges the same way
  (year 1 and 9999 dates and timestamps, XP above the cap up to 2^63-1, and 99991231, which
  means "does not expire" and is staged, not quarantined).
- File-fault snapshot F2 (`start + days + 1`): the clean day with four files a loader must
  reject (a missing required column, an empty file, a truncated last line, invalid UTF-8), and
  the reading faults of `write_reading_faults` in its seven other files: five more to reject
  (UTF-16, `;` delimiter, duplicated and empty header names, an over-long field) and two that
  load exactly like the clean file (`LOADING_FILE_FAULTS`: mixed line endings, typed Parquet).
- `faults.json` in the output folder lists every fault, so tests read the expected counts, files
  and lines from it instead of repeating them.

Faults are written from CSV (one becomes Parquet) and deterministic: base rows are chosen by a
random stream of their own.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from learn_assets.contracts.datasets import DATASETS_BY_NAME, Kind
from learn_assets.contracts.sql import NO_END_DATE
from learn_assets.fileio import atomic_path, write_bytes
from learn_assets.generator.catalog import Catalog
from learn_assets.generator.frames import Frame
from learn_assets.generator.ids import guids
from learn_assets.generator.population import Learners
from learn_assets.generator.writer import CRLF_FILES, select_list, write_frame
from learn_assets.warehouse.sql import quote_ident

MANIFEST_FILE = "faults.json"
HUGE_FIELD_CHARS = 1 << 20  # 1 MiB, far above the contracts' MAX_TEXT_LENGTH
PROMOTION_CODE = "SPRING-2026"
RENAMED_HEADER = "AWARDTYPE"  # the dictionary spells it awardType
INVALID_UTF8 = b"\xff\xfe"
INVALID_UTF8_LINE = 3  # 1-based, the header is line 1
_TAIL = 64 * 1024  # bytes read from the end of a file to find its last line

Row = list[str]


@dataclass(frozen=True)
class RowFault:
    """`count` injected rows of `dataset` broken in `column` (for drift: `count` columns)."""

    kind: str
    dataset: str
    count: int
    column: str | None


@dataclass(frozen=True)
class FileFault:
    kind: str
    dataset: str
    file: str  # relative to the output folder, with `/`
    line: int | None  # 1-based line of the file (header = 1); None when no line is at fault
    column: str | None


ROW_FAULTS: tuple[RowFault, ...] = (
    RowFault("duplicate_row", "Progress", 3, None),
    RowFault("malformed_guid", "Progress", 4, "userId"),
    RowFault("unknown_enum", "Progress", 5, "SourceType"),
    RowFault("negative_xp", "Progress", 6, "XP"),
    RowFault("non_numeric_xp", "Progress", 7, "XP"),
    RowFault("orphan_user_id", "Progress", 4, "userId"),
    RowFault("orphan_catalog_uid", "Progress", 5, "SourceUid"),
    RowFault("huge_field", "Progress", 1, "XPReason"),
    RowFault("impossible_date", "Certifications", 2, "AwardedOn"),
    RowFault("end_before_start", "Certifications", 3, "CertificationEndDate"),
    RowFault("malformed_json_array", "HierarchyModule", 2, "levels"),
    RowFault("mixed_tenant", "AppliedSkills", 1, "tenantId"),
    RowFault("extra_column", "Achievements", 1, "promotionCode"),
    RowFault("case_renamed_column", "Achievements", 1, RENAMED_HEADER),
)

# Values at the edges of the contract's ranges (issue 13): Progress and Certifications rows.
EDGE_ROW_FAULTS: tuple[RowFault, ...] = (
    RowFault("never_expires", "Certifications", 2, "CertificationEndDate"),  # staged, NULL end
    RowFault("year_one_date", "Certifications", 1, "AwardedOn"),
    RowFault("year_9999_timestamp", "Progress", 1, "AwardedOn"),
    RowFault("year_one_timestamp", "Progress", 2, "AwardedOn"),
    RowFault("max_bigint_xp", "Progress", 2, "XP"),
    RowFault("xp_above_max", "Progress", 1, "XP"),
)
MAX_BIGINT = str(2**63 - 1)
_EDGE_CHANGES: dict[str, Callable[[int], dict[str, str]]] = {
    "never_expires": lambda i: {"CertificationEndDate": NO_END_DATE},
    "year_one_date": lambda i: {"AwardedOn": "00010101"},
    "year_9999_timestamp": lambda i: {"AwardedOn": "9999-12-31T23:59:59-05:00"},
    "year_one_timestamp": lambda i: {"AwardedOn": "0001-01-01T00:00:00+01:00"},
    "max_bigint_xp": lambda i: {"XP": MAX_BIGINT},
    "xp_above_max": lambda i: {"XP": "1000001"},
}

_COUNT = {f.kind: f.count for f in (*ROW_FAULTS, *EDGE_ROW_FAULTS)}
# Row changes per injected-row kind (i = 0-based index within the kind).
_CHANGES: dict[str, Callable[[int], dict[str, str]]] = {
    "duplicate_row": lambda i: {},
    "malformed_guid": lambda i: {"userId": f"not-a-guid-{i + 1}"},
    "unknown_enum": lambda i: {"SourceType": "Lesson"},
    "negative_xp": lambda i: {"XP": "-100"},
    "non_numeric_xp": lambda i: {"XP": "ten"},
    "orphan_catalog_uid": lambda i: {"SourceUid": f"learn.retired-module.{i + 1}-intro"},
    "huge_field": lambda i: {"XPReason": "x" * HUGE_FIELD_CHARS},
    "impossible_date": lambda i: {"AwardedOn": "20261341"},
    "end_before_start": lambda i: {
        "CertificationStartDate": "20260601",
        "CertificationEndDate": "20260101",
    },
    "malformed_json_array": lambda i: {
        "moduleUid": f"learn.fault-malformed-levels-{i + 1}",
        "url": f"/training/modules/fault-malformed-levels-{i + 1}/",
        "iconUrl": f"/training/achievements/fault-malformed-levels-{i + 1}.svg",
        "levels": '["beginner",',
    },
}


@dataclass(frozen=True)
class FaultPlan:
    """Everything random about the faults, drawn before any file is written."""

    row_day: dt.date
    file_day: dt.date
    row_cutoff: int
    file_cutoff: int
    appended: dict[str, list[Row]]  # dataset -> rows appended to its F1 file
    achievements_at_file_day: int  # data rows of F2's Achievements (the last one is cut)


def _pick(
    con: duckdb.DuckDBPyConnection,
    dataset: str,
    table: pa.Table,
    mask: np.ndarray,
    k: int,
    rng: np.random.Generator,
    what: str,
) -> Iterator[Row]:
    """`k` distinct rows of `table` where `mask`, as the text the CSV writer puts in the file."""
    candidates = np.flatnonzero(mask)
    if len(candidates) < k:
        raise ValueError(
            f"faults need at least {k} {what} on the row-fault snapshot, the tenant has "
            f"{len(candidates)}; use more users"
        )
    # Sorted: base rows keep file order, whatever order the generator draws them in.
    index = np.sort(rng.choice(candidates, size=k, replace=False))
    view = "fault_base_rows"
    con.register(view, table.take(pa.array(index)))
    try:
        columns = select_list(DATASETS_BY_NAME[dataset])
        rows = con.sql(f"SELECT {columns} FROM {quote_ident(view)}").fetchall()
    finally:
        con.unregister(view)
    return iter([["" if v is None else str(v) for v in row] for row in rows])


def _variants(dataset: str, bases: Iterator[Row], kinds: Mapping[str, Callable]) -> list[Row]:
    """One injected row per count of each kind: the next base row with the kind's changes."""
    columns = DATASETS_BY_NAME[dataset].column_names
    out = []
    for kind, change in kinds.items():
        for i in range(_COUNT[kind]):
            row = list(next(bases))
            for name, value in change(i).items():
                row[columns.index(name)] = value
            out.append(row)
    return out


def _visible(frame: Frame, cutoff: int) -> np.ndarray:
    return (frame.visible_from < cutoff) & (cutoff < frame.visible_until)


def _new_guids(rng: np.random.Generator, n: int, taken: np.ndarray) -> list[str]:
    """`n` random GUIDs none of which is in `taken` (a clash is astronomically unlikely)."""
    while True:
        new = guids(rng, n)
        if not np.isin(new, taken).any() and len(set(new)) == n:
            return [str(g) for g in new]


def plan_faults(
    con: duckdb.DuckDBPyConnection,
    frames: dict[str, Frame],
    catalog: Catalog,
    learners: Learners,
    tenant_id: str,
    days: tuple[dt.date, dt.date],
    cutoffs: tuple[int, int],
    rng: np.random.Generator,
) -> FaultPlan:
    """Choose the base rows and build the injected rows; ValueError if the tenant is too small."""
    row_cutoff, file_cutoff = cutoffs
    progress = frames["Progress"]
    units = pc.equal(progress.table["SourceType"], "Unit").to_numpy(zero_copy_only=False)
    orphans = _new_guids(rng, _COUNT["orphan_user_id"], learners.user_ids)
    changes = {**_CHANGES, "orphan_user_id": lambda i: {"userId": orphans[i]}}
    progress_kinds = {f.kind: changes[f.kind] for f in ROW_FAULTS if f.dataset == "Progress"}
    n_progress = sum(_COUNT[k] for k in progress_kinds)
    # Unit rows as bases: orphan rows must stay valid Unit rows apart from the one broken field.
    mask = _visible(progress, row_cutoff) & units
    bases = _pick(con, "Progress", progress.table, mask, n_progress, rng, "Progress unit rows")
    appended = {"Progress": _variants("Progress", bases, progress_kinds)}

    cert_kinds = {k: _CHANGES[k] for k in ("impossible_date", "end_before_start")}
    certs = frames["Certifications"]
    n_certs = sum(_COUNT[k] for k in cert_kinds)
    mask = _visible(certs, row_cutoff)
    bases = _pick(con, "Certifications", certs.table, mask, n_certs, rng, "Certifications rows")
    appended["Certifications"] = _variants("Certifications", bases, cert_kinds)

    other_tenant = _new_guids(rng, 1, np.array([tenant_id]))[0]
    skills = frames["AppliedSkills"]
    mask = _visible(skills, row_cutoff)
    bases = _pick(con, "AppliedSkills", skills.table, mask, 1, rng, "AppliedSkills rows")
    kinds = {"mixed_tenant": lambda i: {"tenantId": other_tenant}}
    appended["AppliedSkills"] = _variants("AppliedSkills", bases, kinds)

    modules = catalog.tables["HierarchyModule"]
    n_modules = _COUNT["malformed_json_array"]
    mask = np.ones(modules.num_rows, bool)
    bases = _pick(con, "HierarchyModule", modules, mask, n_modules, rng, "modules")
    kinds = {"malformed_json_array": _CHANGES["malformed_json_array"]}
    appended["HierarchyModule"] = _variants("HierarchyModule", bases, kinds)

    for dataset, rows in plan_edge_faults(con, frames, row_cutoff, rng).items():
        appended.setdefault(dataset, []).extend(rows)

    achievements_at_file_day = frames["Achievements"].rows_at(file_cutoff)
    if achievements_at_file_day < 1:
        raise ValueError(
            "faults need at least 1 Achievements row on the file-fault snapshot; use more users"
        )
    return FaultPlan(
        row_day=days[0],
        file_day=days[1],
        row_cutoff=row_cutoff,
        file_cutoff=file_cutoff,
        appended=appended,
        achievements_at_file_day=achievements_at_file_day,
    )


def plan_edge_faults(
    con: duckdb.DuckDBPyConnection,
    frames: dict[str, Frame],
    row_cutoff: int,
    rng: np.random.Generator,
) -> dict[str, list[Row]]:
    """The injected rows of `EDGE_ROW_FAULTS`, drawn after every other fault (so those stay as
    they were). A never-expiring copy is made of a certification with a real end date: its
    typed key then differs from the original's."""
    appended = {}
    for dataset in ("Progress", "Certifications"):
        kinds = {f.kind: _EDGE_CHANGES[f.kind] for f in EDGE_ROW_FAULTS if f.dataset == dataset}
        frame = frames[dataset]
        mask = _visible(frame, row_cutoff)
        if dataset == "Certifications":
            ends = frame.table["CertificationEndDate"].to_numpy(zero_copy_only=False)
            mask &= ends >= 19_000_101  # a real date, not a placeholder (0, 1899xxxx)
        n = sum(_COUNT[k] for k in kinds)
        bases = _pick(con, dataset, frame.table, mask, n, rng, f"{dataset} rows")
        appended[dataset] = _variants(dataset, bases, kinds)
    return appended


def _replace_bytes(path: Path, data: bytes) -> None:
    write_bytes(path, data)


def _append_rows(path: Path, rows: list[Row], crlf: bool) -> None:
    """Append RFC 4180 rows with the file's own line ending."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n" if crlf else "\n").writerows(rows)
    with path.open("rb") as f:
        f.seek(-1, os.SEEK_END)
        if f.read(1) != b"\n":
            raise AssertionError(f"{path}: does not end with a line break")
    with path.open("ab") as f:
        f.write(buf.getvalue().encode("utf-8"))


def _truncate_last_line(path: Path, columns: tuple[str, ...]) -> str:
    """Cut the file's last line in the middle of a field, dropping its line break.

    Returns the column whose value is cut. Reads only the tail: the file may be large.
    """
    size = path.stat().st_size
    with path.open("rb") as f:
        f.seek(max(0, size - _TAIL))
        tail = f.read()
    body = tail.rstrip(b"\r\n")
    start = body.rfind(b"\n") + 1
    if start == 0:
        raise AssertionError(f"{path}: no data line to truncate")
    line = body[start:]
    # Field spans of the line (generated Achievements values hold no commas or quotes).
    bounds = [-1, *(i for i, b in enumerate(line) if b == ord(",")), len(line)]
    field = next(j for j in range(len(bounds) - 1) if bounds[j + 1] >= len(line) // 2)
    if field >= len(columns) - 1:
        raise AssertionError(f"{path}: cannot cut the last line before its last field")
    begin, end = bounds[field] + 1, bounds[field + 1]
    os.truncate(path, size - len(tail) + start + begin + max(1, (end - begin) // 2))
    return columns[field]


def _break_utf8(path: Path, line_number: int) -> None:
    """Insert invalid UTF-8 bytes into the title (2nd field) on `line_number` (LF file)."""
    lines = path.read_bytes().split(b"\n")
    line = lines[line_number - 1]
    uid, title = next(csv.reader([line.decode("utf-8")]))[:2]
    head = uid.encode("utf-8") + b","
    if not line.startswith(head):
        raise AssertionError(f"{path}: unexpected quoting on line {line_number}")
    at = len(head) + (1 if line[len(head) : len(head) + 1] == b'"' else 0)
    # After the title's first word: a character boundary, so only the injected bytes are invalid.
    first_word = title.split(" ", 1)[0]
    at += len(first_word.encode("utf-8"))
    lines[line_number - 1] = line[:at] + INVALID_UTF8 + line[at:]
    _replace_bytes(path, b"\n".join(lines))


def write_faults(
    con: duckdb.DuckDBPyConnection, out: Path, plan: FaultPlan, frames: dict[str, Frame]
) -> dict[str, dict[str, object]]:
    """Turn the clean F1 and F2 folders (already written) into fault snapshots; write the manifest.

    Returns the manifest as written to `out/faults.json`.
    """
    row_folder, file_folder = out / plan.row_day.isoformat(), out / plan.file_day.isoformat()

    for dataset, rows in plan.appended.items():
        _append_rows(row_folder / f"{dataset}.csv", rows, crlf=dataset in CRLF_FILES)
    achievements = DATASETS_BY_NAME["Achievements"]
    write_frame(
        con,
        achievements,
        frames["Achievements"].table,
        row_folder / "Achievements.csv",
        "csv",
        cutoff=plan.row_cutoff,
        rename={"awardType": RENAMED_HEADER},
        extra={"promotionCode": PROMOTION_CODE},
    )

    def rel(name: str) -> str:
        return f"{plan.file_day.isoformat()}/{name}.csv"

    write_frame(
        con,
        DATASETS_BY_NAME["Certifications"],
        frames["Certifications"].table,
        file_folder / "Certifications.csv",
        "csv",
        cutoff=plan.file_cutoff,
        drop={"SourceUid"},
    )
    _replace_bytes(file_folder / "HierarchyCertification.csv", b"")
    cut_column = _truncate_last_line(file_folder / "Achievements.csv", achievements.column_names)
    _break_utf8(file_folder / "HierarchyLearningPath.csv", INVALID_UTF8_LINE)
    file_faults = (
        FileFault(
            "missing_required_column", "Certifications", rel("Certifications"), 1, "SourceUid"
        ),
        FileFault(
            "empty_file", "HierarchyCertification", rel("HierarchyCertification"), None, None
        ),
        FileFault(
            "truncated_last_line",
            "Achievements",
            rel("Achievements"),
            plan.achievements_at_file_day + 1,  # header + data lines; values hold no line breaks
            cut_column,
        ),
        FileFault(
            "invalid_utf8",
            "HierarchyLearningPath",
            rel("HierarchyLearningPath"),
            INVALID_UTF8_LINE,
            "title",
        ),
        *write_reading_faults(con, file_folder),
    )

    manifest = {
        "row_faults": {
            "snapshot": plan.row_day.isoformat(),
            "faults": [asdict(f) for f in (*ROW_FAULTS, *EDGE_ROW_FAULTS)],
        },
        "file_faults": {
            "snapshot": plan.file_day.isoformat(),
            "faults": [asdict(f) for f in file_faults],
        },
    }
    _replace_bytes(out / MANIFEST_FILE, (json.dumps(manifest, indent=2) + "\n").encode("utf-8"))
    return manifest


# --- Reading faults: what hand-edited, re-saved or differently exported files look like --------
# One per F2 dataset the file faults above leave clean; self-contained (no random draws), so the
# other faults' files and draws stay as they are.

LOADING_FILE_FAULTS = ("mixed_line_endings", "typed_parquet")  # load exactly like the clean file
MIXED_LF_ROWS = 2  # LF rows appended to a CRLF file
DUPLICATED_HEADER = "UserID"  # the dictionary's userId, again, by case
OVERSIZED_FIELD_CHARS = 3 << 20  # above DuckDB's 2,000,000-byte line limit
OVERSIZED_LINE = 4  # 1-based, the header is line 1


def _lf_rows_appended(path: Path, n: int) -> int:
    """End the last `n` lines of a CRLF file with LF; returns the first such line's number."""
    lines = path.read_bytes().split(b"\r\n")
    if lines[-1] or b"\n" in b"".join(lines) or len(lines) < n + 2:
        raise AssertionError(f"{path}: expected a CRLF file with at least {n} data lines")
    body, tail = lines[: -1 - n], lines[-1 - n : -1]
    _replace_bytes(path, b"\r\n".join(body) + b"\r\n" + b"".join(line + b"\n" for line in tail))
    return len(body) + 1


def _to_utf16(path: Path) -> None:
    """Re-save as UTF-16 LE with a byte-order mark, as Excel's "Unicode text" does."""
    text = path.read_bytes().decode("utf-8-sig")
    _replace_bytes(path, ("\ufeff" + text).encode("utf-16-le"))


def _semicolons(path: Path) -> None:
    """Delimit with `;` (Excel in a locale whose decimal separator is a comma)."""
    data = path.read_bytes()
    if b";" in data or b'"' in data:
        raise AssertionError(f"{path}: values with ';' or quotes cannot be re-delimited")
    _replace_bytes(path, data.replace(b",", b";"))


def _duplicated_header(path: Path, name: str, copy_of: int) -> None:
    """Append column `name` holding a copy of column `copy_of` (0-based) to an LF file."""
    lines = path.read_bytes().split(b"\n")
    out = [lines[0] + b"," + name.encode()]
    for line in lines[1:-1]:
        value = next(csv.reader([line.decode("utf-8")]))[copy_of].encode("utf-8")
        if any(c in value for c in b',"\r\n'):
            raise AssertionError(f"{path}: value {value!r} would need quotes")
        out.append(line + b"," + value)
    _replace_bytes(path, b"\n".join([*out, lines[-1]]))


def _trailing_comma(path: Path) -> None:
    """An empty, unnamed last column on every line of a CRLF file (the header ends with `,`)."""
    lines = path.read_bytes().split(b"\r\n")
    _replace_bytes(path, b"\r\n".join([*(line + b"," for line in lines[:-1]), lines[-1]]))


def _oversized_field(path: Path, line_number: int, column: int, chars: int) -> None:
    """Make one field of line `line_number` of an LF file `chars` characters long."""
    lines = path.read_bytes().split(b"\n")
    text = lines[line_number - 1].decode("utf-8")
    fields = next(csv.reader([text]))
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(fields)
    if buf.getvalue() != text:
        raise AssertionError(f"{path}: line {line_number} would not be written back as it was")
    fields[column] = "x" * chars
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(fields)
    lines[line_number - 1] = buf.getvalue().encode("utf-8")
    _replace_bytes(path, b"\n".join(lines))


def _typed_parquet(con: duckdb.DuckDBPyConnection, path: Path, dataset: str) -> Path:
    """Re-write a CSV file as Parquet with typed columns: integers as INTEGER, JSON arrays as
    lists of VARCHAR (what a Spark or pandas export gives). Returns the Parquet file."""
    columns = []
    for c in DATASETS_BY_NAME[dataset].columns:
        ref = quote_ident(c.name)
        if c.kind is Kind.INT:
            ref = f"CAST({ref} AS INTEGER)"
        elif c.kind is Kind.JSON_ARRAY:
            ref = f"CAST(CAST({ref} AS JSON) AS VARCHAR[])"
        columns.append(f"{ref} AS {quote_ident(c.name)}")
    rel = con.sql(
        f"SELECT {', '.join(columns)} FROM read_csv(?, header = true, all_varchar = true, "
        "delim = ',', quote = '\"', escape = '\"')",
        params=[str(path)],
    )
    target = path.with_suffix(".parquet")
    with atomic_path(target) as tmp:
        rel.write_parquet(str(tmp), compression="zstd")
    path.unlink()
    return target


def write_reading_faults(con: duckdb.DuckDBPyConnection, folder: Path) -> tuple[FileFault, ...]:
    """Turn seven clean CSV files of the file-fault `folder` into reading faults; their list."""
    day = folder.name

    def rel(path: Path) -> str:
        return f"{day}/{path.name}"

    unit, users, lp_modules, skills, skill_catalog, progress, modules = (
        folder / f"{name}.csv"
        for name in (
            "HierarchyUnit",
            "Users",
            "HierarchyLearningPathModule",
            "AppliedSkills",
            "HierarchyAppliedSkills",
            "Progress",
            "HierarchyModule",
        )
    )
    first_lf = _lf_rows_appended(unit, MIXED_LF_ROWS)
    _to_utf16(users)
    _semicolons(lp_modules)
    skill_columns = DATASETS_BY_NAME["AppliedSkills"].column_names
    _duplicated_header(skills, DUPLICATED_HEADER, skill_columns.index("userId"))
    _trailing_comma(skill_catalog)
    progress_columns = DATASETS_BY_NAME["Progress"].column_names
    xp_reason = progress_columns.index("XPReason")
    _oversized_field(progress, OVERSIZED_LINE, xp_reason, OVERSIZED_FIELD_CHARS)
    parquet = _typed_parquet(con, modules, "HierarchyModule")
    return (
        FileFault("mixed_line_endings", "HierarchyUnit", rel(unit), first_lf, None),
        FileFault("utf16", "Users", rel(users), 1, None),
        FileFault("semicolon_delimiter", "HierarchyLearningPathModule", rel(lp_modules), 1, None),
        FileFault("duplicated_header_column", "AppliedSkills", rel(skills), 1, DUPLICATED_HEADER),
        FileFault("empty_header_name", "HierarchyAppliedSkills", rel(skill_catalog), 1, None),
        FileFault("oversized_field", "Progress", rel(progress), OVERSIZED_LINE, "XPReason"),
        FileFault("typed_parquet", "HierarchyModule", rel(parquet), None, "levels"),
    )
