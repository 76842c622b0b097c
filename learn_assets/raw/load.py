"""Load delivered files into the raw layer, one atomic partition replacement per snapshot.

Raw keeps what was delivered: every value as text (typing happens in the staged layer, where a bad
value can be quarantined instead of failing the load), the dictionary's column names (matched
case-insensitively), and any extra column the dictionary lacks (in the `_extra` map). A typed
Parquet column becomes the text a CSV file would hold, so the contracts read both alike.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import duckdb

from learn_assets.contracts.datasets import ENTRA, ENTRA_COLUMNS, ENTRA_ID_COLUMNS, Dataset, Kind
from learn_assets.fileio import file_sha256
from learn_assets.layout import ENTRA_TABLE, EXTRA, LOAD_LOG, RAW, ensure_layout
from learn_assets.resources import LandingFileError
from learn_assets.warehouse.sql import quote_ident, quote_literal, transaction
from learn_assets.warehouse.versioned import (
    SourceReadError,
    continue_latest,
    loaded_snapshots,
    replace_snapshot,
)

RAW_SCHEMA = RAW

# RFC 4180 as delivered: header row, comma, double quotes; CRLF is handled by DuckDB. The header
# is parsed here (BOM stripped) and every column read as text, so no value is lost to sniffing.
# Lines DuckDB cannot parse (truncated, invalid UTF-8, wrong field count, too long) are collected
# with store_rejects and fail the file with their line numbers.
_CSV_OPTIONS = (
    "auto_detect = false, header = true, delim = ',', quote = '\"', escape = '\"', "
    "store_rejects = true, rejects_scan = 'raw_reject_scans', rejects_table = 'raw_rejects'"
)
_HEADER_LIMIT = 1 << 20
_CHUNK = 16 << 20
MAX_REPORTED_LINES = 3
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
UTF16_ADVICE = "looks like UTF-16 (Excel 'Unicode text'): save as UTF-8 (Excel: CSV UTF-8)"
_DELIMITERS = {";": "';'", "\t": "tab"}
_ACTUAL_SIZE = re.compile(r"Actual Size:\s*(\d+)")
_MAX_SIZE = re.compile(r"line size of (\d+) bytes")

T = TypeVar("T")
_GUID_SQL = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


class OtherTenantError(ValueError):
    """A delivered file carries another tenant's id than the configured one: the snapshot is
    refused (the message names the file and both ids)."""


@dataclass(frozen=True)
class RawLoad:
    """What one snapshot file contributed to the warehouse."""

    dataset: str
    snapshot_date: dt.date
    path: str
    size_bytes: int
    sha256: str
    rows: int
    extra_columns: tuple[str, ...]
    repeats: dt.date | None = None  # the earlier snapshot whose file this one is, byte for byte


def looks_like_utf16(head: bytes) -> bool:
    """A UTF-16 byte-order mark, or text whose every other byte is NUL (UTF-16 without BOM)."""
    if head.startswith(_UTF16_BOMS):
        return True
    sample = head[:4096]
    half = len(sample) // 2
    return half > 0 and max(sample[0::2].count(0), sample[1::2].count(0)) * 4 >= half


def delimiter_hint(names: Sequence[str]) -> str | None:
    """`';'` or `tab` when the header, split at commas, holds that character instead."""
    counts = {d: sum(n.count(d) for n in names) for d in _DELIMITERS}
    best = max(counts, key=lambda d: counts[d])
    return _DELIMITERS[best] if counts[best] else None


def csv_header(path: Path) -> list[str]:
    """Column names from the first line of a CSV file (UTF-8, with or without BOM)."""
    with path.open("rb") as f:
        first = f.readline(_HEADER_LIMIT)
    if not first.strip():
        raise LandingFileError(f"{path}: file is empty (not even a header row)")
    if looks_like_utf16(first):
        raise LandingFileError(f"{path}: line 1 (header): {UTF16_ADVICE}")
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise LandingFileError(f"{path}: line 1 (header) is not valid UTF-8: {e}") from e
    names = next(csv.reader([text.rstrip("\r\n")]))
    hint = delimiter_hint(names)
    if len(names) == 1 and hint:
        raise LandingFileError(
            f"{path}: line 1 (header): the delimiter looks like {hint}, expected ',' "
            f"(one column {names[0]!r}): save the file as comma-separated CSV"
        )
    return names


def check_column_names(names: Sequence[str], path: Path) -> None:
    """Refuse an empty column name and a name given twice (exactly or by case): both make the
    file's columns ambiguous. Names the line (the header) and the column."""
    first_at: dict[str, int] = {}
    for number, name in enumerate(names, start=1):
        if not name.strip():
            trailing = " (a trailing comma on the header?)" if number == len(names) else ""
            raise LandingFileError(f"{path}: line 1 (column {number}): empty column name{trailing}")
        earlier = first_at.setdefault(name.lower(), number)
        if earlier != number:
            other = names[earlier - 1]
            how = (
                f"also column {earlier}"
                if other == name
                else f"{other!r}, column {earlier}, differs only by case; names match "
                "case-insensitively"
            )
            raise LandingFileError(
                f"{path}: line 1 (column {number} {name!r}): duplicated column name ({how})"
            )


def file_reader(path: Path, columns: Sequence[str]) -> str:
    """SQL table function reading `path` (bound as the first `?` parameter)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        as_text = ", ".join(f"{quote_literal(c)}: 'VARCHAR'" for c in columns)
        return f"read_csv(?, {_CSV_OPTIONS}, columns = {{{as_text}}})"
    if suffix == ".parquet":
        return "read_parquet(?)"
    raise LandingFileError(f"{path}: unsupported file type {suffix!r}; expected .csv or .parquet")


def file_schema(conn: duckdb.DuckDBPyConnection, path: Path) -> list[tuple[str, str]]:
    """(name, DuckDB type) of each column of a delivered file (CSV: all VARCHAR), failing with the
    file name and the reason."""
    if path.stat().st_size == 0:
        raise LandingFileError(f"{path}: file is empty (not even a header row)")
    if path.suffix.lower() == ".csv":
        schema = [(name, "VARCHAR") for name in csv_header(path)]
    else:
        try:
            described = conn.execute(f"DESCRIBE SELECT * FROM {file_reader(path, [])}", [str(path)])
            schema = [(row[0], row[1]) for row in described.fetchall()]
        except duckdb.Error as e:
            raise LandingFileError(f"{path}: cannot be read as {path.suffix[1:]}: {e}") from e
    check_column_names([name for name, _ in schema], path)
    return schema


def file_columns(conn: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    """Column names of a delivered file, failing with the file name and the parser's reason."""
    return [name for name, _ in file_schema(conn, path)]


def as_text(ref: str, sql_type: str, kind: Kind | None) -> str:
    """SQL giving column `ref` of DuckDB type `sql_type` as the text a CSV file would hold, in
    the form the contracts (`contracts/sql.py`) read for a column of `kind`."""
    duck_type = sql_type.upper()
    if duck_type == "VARCHAR":
        return ref
    if duck_type == "DATE":
        date_format = "%Y%m%d" if kind is Kind.YYYYMMDD else "%Y-%m-%d"
        return f"strftime({ref}, {quote_literal(date_format)})"
    if duck_type.startswith("TIMESTAMP"):
        # A zoned instant is written in UTC; a naive one is taken as UTC, as staged does.
        utc = f"({ref} AT TIME ZONE 'UTC')" if duck_type.endswith("TIME ZONE") else ref
        if kind is Kind.YYYYMMDD:
            return f"strftime({utc}, '%Y%m%d')"
        fraction = "%n" if duck_type == "TIMESTAMP_NS" else "%f"
        return f"strftime({utc}, '%Y-%m-%dT%H:%M:%S.{fraction}+00:00')"
    if duck_type.endswith("]") or duck_type.startswith(("STRUCT", "MAP", "UNION")):
        return f"CAST(to_json({ref}) AS VARCHAR)"  # lists as JSON arrays, like the CSV files
    return f"CAST({ref} AS VARCHAR)"


def _reject_column(csv_line: str, names: Sequence[str]) -> str | None:
    """The column in which the start of an over-long line (DuckDB keeps its first characters)
    breaks off: the field that does not end within it."""
    fields, inside = 0, False
    for char in csv_line.lstrip("\r\n"):
        if char == '"':
            inside = not inside
        elif char == "," and not inside:
            fields += 1
    return names[fields] if fields < len(names) else None


def describe_reject(
    line: int,
    column: str | None,
    error_type: str,
    csv_line: str,
    message: str,
    names: Sequence[str],
) -> str:
    """One rejected line as `line N (column C): reason`."""
    if error_type == "LINE SIZE OVER MAXIMUM":  # DuckDB names no column, nor a field
        column = _reject_column(csv_line or "", names)
        actual, limit = _ACTUAL_SIZE.search(message or ""), _MAX_SIZE.search(message or "")
        if actual and limit:
            message = (
                f"field too long: the line has {int(actual[1]):,} bytes, "
                f"more than the {int(limit[1]):,} bytes a line may have"
            )
    where = f" (column {column})" if column else ""
    return f"line {line}{where}: {message}"


def raise_on_rejected_lines(
    conn: duckdb.DuckDBPyConnection, path: Path, names: Sequence[str]
) -> None:
    """Fail the file if the CSV reader rejected any line (the caller rolls back)."""
    if path.suffix.lower() != ".csv":
        return
    # The first error of each line (by column; a line-wide error has no column and comes first).
    rejected = conn.execute(
        "SELECT line, column_name, error_type::VARCHAR, csv_line, error_message, "
        "(SELECT count(DISTINCT line) FROM raw_rejects) FROM raw_rejects "
        "QUALIFY row_number() OVER (PARTITION BY line ORDER BY column_idx NULLS FIRST) = 1 "
        "ORDER BY line LIMIT ?",
        [MAX_REPORTED_LINES],
    ).fetchall()
    conn.execute("DELETE FROM raw_rejects")
    conn.execute("DELETE FROM raw_reject_scans")
    if rejected:
        total = rejected[0][-1]
        shown = "; ".join(describe_reject(*row[:5], names) for row in rejected)
        more = f" (and {total - MAX_REPORTED_LINES} more)" if total > MAX_REPORTED_LINES else ""
        raise LandingFileError(
            f"{path}: {total} unreadable line(s), file not loaded: {shown}{more}"
        )


def mixes_line_endings(path: Path, chunk_size: int = _CHUNK) -> bool:
    """The file has CRLF line breaks and bare LF ones (a hand-edited or concatenated file)."""
    crlf = bare_lf = previous_cr = False
    with path.open("rb") as f:
        while chunk := f.read(chunk_size):
            pairs = chunk.count(b"\r\n") + (previous_cr and chunk.startswith(b"\n"))
            crlf, bare_lf = crlf or pairs > 0, bare_lf or chunk.count(b"\n") > pairs
            if crlf and bare_lf:
                return True
            previous_cr = chunk.endswith(b"\r")
    return False


def normalize_line_endings(source: Path, target: Path, chunk_size: int = _CHUNK) -> None:
    """Copy `source` to `target` with every CRLF outside quoted values as LF. Line breaks inside
    quoted values stay as delivered, and every line keeps its number."""
    inside, pending = False, b""
    with source.open("rb") as src, target.open("wb") as out:
        while chunk := src.read(chunk_size):
            parts = (pending + chunk).split(b'"')  # quotes toggle; "" toggles twice
            for i, part in enumerate(parts):
                inside = inside if i == 0 else not inside
                if not inside:
                    parts[i] = part.replace(b"\r\n", b"\n")
            # A CR at the end may pair with an LF at the start of the next chunk.
            pending = b"\r" if not inside and parts[-1].endswith(b"\r") else b""
            if pending:
                parts[-1] = parts[-1][:-1]
            out.write(b'"'.join(parts))
        out.write(pending)


def scratch_dir(conn: duckdb.DuckDBPyConnection) -> str | None:
    """The warehouse's folder (DuckDB spills there too), or the system's for an in-memory one."""
    row = conn.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    return str(Path(row[0]).parent) if row and row[0] else None


def _attempt(
    conn: duckdb.DuckDBPyConnection,
    path: Path,
    read_path: Path,
    names: Sequence[str],
    write: Callable[[Path], T],
) -> T:
    with transaction(conn):
        try:
            result = write(read_path)
        except SourceReadError as e:
            raise LandingFileError(
                f"{path}: cannot be read as {path.suffix[1:]}: {e.__cause__}"
            ) from e.__cause__
        raise_on_rejected_lines(conn, path, names)
    return result


def write_in_transaction(
    conn: duckdb.DuckDBPyConnection,
    path: Path,
    names: Sequence[str],
    write: Callable[[Path], T],
) -> T:
    """`write(file to read)` in one transaction that a failure rolls back. DuckDB's reader takes
    one line ending per file, so a CSV file mixing CRLF and LF that fails is read again from a
    copy with LF only (only then: checking every file would read it once more)."""
    try:
        return _attempt(conn, path, path, names, write)
    except LandingFileError:
        if path.suffix.lower() != ".csv" or not mixes_line_endings(path):
            raise
    with tempfile.TemporaryDirectory(prefix="learn-raw-", dir=scratch_dir(conn)) as tmp:
        copy = Path(tmp) / path.name
        normalize_line_endings(path, copy)
        return _attempt(conn, path, copy, names, write)


def match_columns(
    expected: Sequence[str], found: Sequence[str], path: Path
) -> tuple[dict[str, str], tuple[str, ...]]:
    """Map each expected column to the file's spelling (case-insensitive); return the extras too."""
    check_column_names(found, path)
    by_lower = {name.lower(): name for name in found}
    missing = [c for c in expected if c.lower() not in by_lower]
    if missing:
        hint = delimiter_hint(found)
        delimiter = f"; the delimiter looks like {hint}, expected ','" if hint else ""
        raise LandingFileError(
            f"{path}: missing required column(s) {', '.join(missing)} "
            f"(file has: {', '.join(found)}){delimiter}"
        )
    expected_lower = {c.lower() for c in expected}
    extras = tuple(name for name in found if name.lower() not in expected_lower)
    return {c: by_lower[c.lower()] for c in expected}, extras


def text_select(
    schema: Sequence[tuple[str, str]], columns: Mapping[str, str], kinds: Mapping[str, Kind]
) -> str:
    """SELECT list: each wanted column (`columns`: name in raw -> name in the file) as text."""
    types = dict(schema)
    return ", ".join(
        f"{as_text(quote_ident(src), types[src], kinds.get(dst))} AS {quote_ident(dst)}"
        for dst, src in columns.items()
    )


def raw_table(dataset: Dataset) -> str:
    return f"{RAW_SCHEMA}.{quote_ident(dataset.table)}"


def tenant_column(dataset: Dataset) -> str | None:
    """The dataset's tenant id column (`tenantId`, `tenantID` in Certifications), if any."""
    return next((c for c in dataset.column_names if c.lower() == "tenantid"), None)


def refuse_other_tenant(
    conn: duckdb.DuckDBPyConnection, dataset: Dataset, snapshot: dt.date, path: Path, expected: str
) -> None:
    """Raise `OtherTenantError` when a row of the snapshot just written carries a tenant id (a
    well-formed GUID) other than `expected`; a malformed or blank one is the contract's matter
    (quarantined in staged)."""
    column = tenant_column(dataset)
    if column is None or not dataset.tenant:
        return
    # The delivered values are grouped first: a file holds one tenant id or a few, so the id is
    # normalized and matched once per distinct value, not once per row (1.15 s against 0.1 s
    # for Progress at L).
    delivered = quote_ident(column)
    others = conn.execute(
        f"SELECT id, sum(n)::BIGINT FROM (SELECT lower(trim({delivered})) AS id, n FROM ("
        f"  SELECT {delivered}, count(*) AS n FROM {raw_table(dataset)} "
        "  WHERE snapshot_date = ? GROUP BY 1)) "
        "WHERE regexp_full_match(id, ?) AND id <> ? GROUP BY 1 ORDER BY 2 DESC, 1",
        [snapshot, _GUID_SQL, expected.lower()],
    ).fetchall()
    if others:
        found = ", ".join(f"{tenant} ({rows:,} rows)" for tenant, rows in others[:3])
        raise OtherTenantError(
            f"{path}: delivered for tenant {found}, but this is tenant {expected} "
            f"(LEARN_TENANT_ID, or the tenants file's tenant_id): snapshot {snapshot} is "
            f"refused; raw.{dataset.table} keeps what it held for it"
        )


def repeated_delivery(
    conn: duckdb.DuckDBPyConnection, dataset: Dataset, snapshot: dt.date, path: Path, sha: str
) -> dt.date | None:
    """The latest loaded snapshot of raw.<dataset> when `snapshot` comes after it and `path`
    (SHA-256 `sha`) is the very file it was read from: same bytes, same file type. A catalog
    dataset is usually delivered unchanged from one day to the next."""
    loaded = loaded_snapshots(conn, RAW_SCHEMA, dataset.table)
    if not loaded or loaded[-1] >= snapshot:
        return None
    row = conn.execute(
        f"SELECT sha256, path FROM {LOAD_LOG} WHERE dataset = ? AND snapshot_date = ?",
        [dataset.table, loaded[-1]],
    ).fetchone()
    if not row or row[0] != sha or Path(row[1]).suffix.lower() != path.suffix.lower():
        return None
    return loaded[-1]


def load_snapshot(
    conn: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    snapshot: dt.date,
    path: Path,
    tenant_id: str = "",
) -> RawLoad:
    """Replace partition `snapshot` of raw.<dataset> with the rows of `path`, atomically.

    Either the whole file lands or the partition keeps its previous content; no other partition
    is touched. Columns the dictionary lacks are kept in the `_extra` map (name -> value), so
    schema drift never changes the table's shape or the other partitions. With `tenant_id`, a
    file carrying another tenant's id is refused (`OtherTenantError`) and nothing of it stays.
    A file identical to the latest loaded snapshot's (`repeated_delivery`), for a later
    snapshot, is not read again: that snapshot's rows continue (`continue_latest`), which stores
    what reading it would.
    """
    ensure_layout(conn)
    schema = file_schema(conn, path)
    found = [name for name, _ in schema]
    columns, extras = match_columns(dataset.column_names, found, path)
    select = text_select(schema, columns, {c.name: c.kind for c in dataset.columns})
    if extras:
        names = ", ".join(quote_literal(e) for e in extras)
        values = ", ".join(as_text(quote_ident(e), dict(schema)[e], None) for e in extras)
        select += f", map([{names}], [{values}]) AS {EXTRA}"
    else:
        select += f", NULL::MAP(VARCHAR, VARCHAR) AS {EXTRA}"
    size, sha = path.stat().st_size, file_sha256(path)

    def log_load(rows: int) -> None:
        conn.execute(
            f"INSERT OR REPLACE INTO {LOAD_LOG} VALUES (?, ?, ?, ?, ?, ?, ?, now())",
            [dataset.table, snapshot, str(path), size, sha, rows, list(extras)],
        )
        if tenant_id:  # inside the transaction: a refused file rolls back
            refuse_other_tenant(conn, dataset, snapshot, path, tenant_id)

    repeated = repeated_delivery(conn, dataset, snapshot, path, sha)
    if repeated:
        # The bytes the latest snapshot was read from: the same rows, nothing to read or match.
        with transaction(conn):
            rows = continue_latest(conn, RAW_SCHEMA, dataset.table, snapshot)
            log_load(rows)
        return RawLoad(dataset.name, snapshot, str(path), size, sha, rows, extras, repeated)

    def write(read_path: Path) -> int:
        rows = replace_snapshot(
            conn,
            RAW_SCHEMA,
            dataset.table,
            snapshot,
            f"SELECT {select} FROM {file_reader(path, found)}",
            [str(read_path)],
        )
        log_load(rows)
        return rows

    rows = write_in_transaction(conn, path, found, write)
    return RawLoad(dataset.name, snapshot, str(path), size, sha, rows, extras)


def load_entra_export(conn: duckdb.DuckDBPyConnection, path: Path) -> int | None:
    """Replace raw.entra_users with the export at `path`; None (and an empty table) if absent."""
    ensure_layout(conn)
    if not path.is_file():
        cols = ", ".join(f"{quote_ident(c)} VARCHAR" for c in ENTRA_COLUMNS)
        conn.execute(f"CREATE OR REPLACE TABLE {ENTRA_TABLE} ({cols})")
        return None
    schema = file_schema(conn, path)
    found = [name for name, _ in schema]
    if not {c.lower() for c in found} & {c.lower() for c in ENTRA_ID_COLUMNS}:
        raise LandingFileError(
            f"{path}: no user id column; expected one of {', '.join(ENTRA_ID_COLUMNS)} "
            f"(file has: {', '.join(found)})"
        )
    by_lower = {c.name.lower(): c.kind for c in ENTRA.columns}
    kinds = {c: by_lower[c.lower()] for c in found if c.lower() in by_lower}
    select = text_select(schema, {c: c for c in found}, kinds)

    def write(read_path: Path) -> None:
        try:
            conn.execute(
                f"CREATE OR REPLACE TABLE {ENTRA_TABLE} AS SELECT {select} "
                f"FROM {file_reader(path, found)}",
                [str(read_path)],
            )
        except duckdb.Error as e:
            raise SourceReadError(str(e)) from e

    write_in_transaction(conn, path, found, write)
    count = conn.execute(f"SELECT count(*) FROM {ENTRA_TABLE}").fetchone()
    return int(count[0]) if count else 0
