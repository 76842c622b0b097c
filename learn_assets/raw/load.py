"""Load delivered files into the raw layer, one atomic partition replacement per snapshot.

Raw keeps what was delivered: every value as text (typing happens in the staged layer, where a bad
value can be quarantined instead of failing the load), the dictionary's column names (matched
case-insensitively), and any extra column the dictionary lacks (in the `_extra` map).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from learn_assets.contracts.datasets import ENTRA_COLUMNS, ENTRA_ID_COLUMNS, Dataset
from learn_assets.resources import LandingFileError, file_sha256, quote_ident, quote_literal
from learn_assets.resources.versioned import SourceReadError, ensure_versioned, replace_snapshot

RAW_SCHEMA = "raw"
LOAD_LOG = f"{RAW_SCHEMA}._load_log"
EXTRA = "_extra"  # columns the dictionary lacks, as a map name -> value

# RFC 4180 as delivered: header row, comma, double quotes; CRLF is handled by DuckDB. The header
# is parsed here (BOM stripped) and every column read as text, so no value is lost to sniffing.
# Lines DuckDB cannot parse (truncated, invalid UTF-8, wrong field count) are collected with
# store_rejects and fail the file with their line numbers.
_CSV_OPTIONS = (
    "auto_detect = false, header = true, delim = ',', quote = '\"', escape = '\"', "
    "store_rejects = true, rejects_scan = 'raw_reject_scans', rejects_table = 'raw_rejects'"
)
_HEADER_LIMIT = 1 << 20
MAX_REPORTED_LINES = 3


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


def csv_header(path: Path) -> list[str]:
    """Column names from the first line of a CSV file (UTF-8, with or without BOM)."""
    with path.open("rb") as f:
        first = f.readline(_HEADER_LIMIT)
    if not first.strip():
        raise LandingFileError(f"{path}: file is empty (not even a header row)")
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise LandingFileError(f"{path}: line 1 (header) is not valid UTF-8: {e}") from e
    return next(csv.reader([text.rstrip("\r\n")]))


def file_reader(path: Path, columns: Sequence[str]) -> str:
    """SQL table function reading `path` (bound as the first `?` parameter)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        as_text = ", ".join(f"{quote_literal(c)}: 'VARCHAR'" for c in columns)
        return f"read_csv(?, {_CSV_OPTIONS}, columns = {{{as_text}}})"
    if suffix == ".parquet":
        return "read_parquet(?)"
    raise LandingFileError(f"{path}: unsupported file type {suffix!r}; expected .csv or .parquet")


def file_columns(conn: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    """Column names of a delivered file, failing with the file name and the parser's reason."""
    if path.stat().st_size == 0:
        raise LandingFileError(f"{path}: file is empty (not even a header row)")
    if path.suffix.lower() == ".csv":
        return csv_header(path)
    try:
        described = conn.execute(f"DESCRIBE SELECT * FROM {file_reader(path, [])}", [str(path)])
        return [row[0] for row in described.fetchall()]
    except duckdb.Error as e:
        raise LandingFileError(f"{path}: cannot be read as {path.suffix[1:]}: {e}") from e


def raise_on_rejected_lines(conn: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Fail the file if the CSV reader rejected any line (the caller rolls back)."""
    if path.suffix.lower() != ".csv":
        return
    rejected = conn.execute(
        "SELECT line, arg_min(column_name, column_idx), arg_min(error_message, column_idx) "
        "FROM raw_rejects GROUP BY line ORDER BY line"
    ).fetchall()
    conn.execute("DELETE FROM raw_rejects")
    conn.execute("DELETE FROM raw_reject_scans")
    if rejected:
        shown = "; ".join(
            f"line {line} (column {column}): {message}"
            for line, column, message in rejected[:MAX_REPORTED_LINES]
        )
        more = f" (and {len(rejected) - MAX_REPORTED_LINES} more)" if len(rejected) > 3 else ""
        raise LandingFileError(
            f"{path}: {len(rejected)} unreadable line(s), file not loaded: {shown}{more}"
        )


def match_columns(
    expected: Sequence[str], found: Sequence[str], path: Path
) -> tuple[dict[str, str], tuple[str, ...]]:
    """Map each expected column to the file's spelling (case-insensitive); return the extras too."""
    by_lower: dict[str, str] = {}
    for name in found:
        if name.lower() in by_lower:
            raise LandingFileError(
                f"{path}: columns {by_lower[name.lower()]!r} and {name!r} differ only by case"
            )
        by_lower[name.lower()] = name
    missing = [c for c in expected if c.lower() not in by_lower]
    if missing:
        raise LandingFileError(
            f"{path}: missing required column(s) {', '.join(missing)} "
            f"(file has: {', '.join(found)})"
        )
    expected_lower = {c.lower() for c in expected}
    extras = tuple(name for name in found if name.lower() not in expected_lower)
    return {c: by_lower[c.lower()] for c in expected}, extras


def raw_table(dataset: Dataset) -> str:
    return f"{RAW_SCHEMA}.{quote_ident(dataset.table)}"


def ensure_raw_tables(conn: duckdb.DuckDBPyConnection, dataset: Dataset) -> None:
    columns = [(c, "VARCHAR") for c in dataset.column_names]
    ensure_versioned(conn, RAW_SCHEMA, dataset.table, [*columns, (EXTRA, "MAP(VARCHAR, VARCHAR)")])
    conn.execute(
        f"""CREATE TABLE IF NOT EXISTS {LOAD_LOG} (
            dataset VARCHAR NOT NULL, snapshot_date DATE NOT NULL, path VARCHAR NOT NULL,
            size_bytes BIGINT NOT NULL, sha256 VARCHAR NOT NULL, row_count BIGINT NOT NULL,
            extra_columns VARCHAR[] NOT NULL, loaded_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (dataset, snapshot_date))"""
    )


def load_snapshot(
    conn: duckdb.DuckDBPyConnection, dataset: Dataset, snapshot: dt.date, path: Path
) -> RawLoad:
    """Replace partition `snapshot` of raw.<dataset> with the rows of `path`, atomically.

    Either the whole file lands or the partition keeps its previous content; no other partition
    is touched. Columns the dictionary lacks are kept in the `_extra` map (name -> value), so
    schema drift never changes the table's shape or the other partitions.
    """
    ensure_raw_tables(conn, dataset)
    found = file_columns(conn, path)
    columns, extras = match_columns(dataset.column_names, found, path)
    select = ", ".join(
        f"CAST({quote_ident(src)} AS VARCHAR) AS {quote_ident(dst)}" for dst, src in columns.items()
    )
    if extras:
        names = ", ".join(quote_literal(e) for e in extras)
        values = ", ".join(f"CAST({quote_ident(e)} AS VARCHAR)" for e in extras)
        select += f", map([{names}], [{values}]) AS {EXTRA}"
    else:
        select += f", NULL::MAP(VARCHAR, VARCHAR) AS {EXTRA}"
    size, sha = path.stat().st_size, file_sha256(path)
    conn.execute("BEGIN TRANSACTION")
    try:
        try:
            rows = replace_snapshot(
                conn,
                RAW_SCHEMA,
                dataset.table,
                snapshot,
                f"SELECT {select} FROM {file_reader(path, found)}",
                [str(path)],
            )
        except SourceReadError as e:
            raise LandingFileError(
                f"{path}: cannot be read as {path.suffix[1:]}: {e.__cause__}"
            ) from e.__cause__
        raise_on_rejected_lines(conn, path)
        conn.execute(
            f"INSERT OR REPLACE INTO {LOAD_LOG} VALUES (?, ?, ?, ?, ?, ?, ?, now())",
            [dataset.table, snapshot, str(path), size, sha, rows, list(extras)],
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return RawLoad(dataset.name, snapshot, str(path), size, sha, rows, extras)


ENTRA_TABLE = f"{RAW_SCHEMA}.entra_users"


def load_entra_export(conn: duckdb.DuckDBPyConnection, path: Path) -> int | None:
    """Replace raw.entra_users with the export at `path`; None (and an empty table) if absent."""
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {RAW_SCHEMA}")
    if not path.is_file():
        cols = ", ".join(f"{quote_ident(c)} VARCHAR" for c in ENTRA_COLUMNS)
        conn.execute(f"CREATE OR REPLACE TABLE {ENTRA_TABLE} ({cols})")
        return None
    found = file_columns(conn, path)
    if not {c.lower() for c in found} & {c.lower() for c in ENTRA_ID_COLUMNS}:
        raise LandingFileError(
            f"{path}: no user id column; expected one of {', '.join(ENTRA_ID_COLUMNS)} "
            f"(file has: {', '.join(found)})"
        )
    select = ", ".join(f"CAST({quote_ident(c)} AS VARCHAR) AS {quote_ident(c)}" for c in found)
    conn.execute("BEGIN TRANSACTION")
    try:
        try:
            conn.execute(
                f"CREATE OR REPLACE TABLE {ENTRA_TABLE} AS SELECT {select} "
                f"FROM {file_reader(path, found)}",
                [str(path)],
            )
        except SourceReadError as e:
            raise LandingFileError(
                f"{path}: cannot be read as {path.suffix[1:]}: {e.__cause__}"
            ) from e.__cause__
        raise_on_rejected_lines(conn, path)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    count = conn.execute(f"SELECT count(*) FROM {ENTRA_TABLE}").fetchone()
    return int(count[0]) if count else 0
