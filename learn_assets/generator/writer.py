"""Write frames to CSV or Parquet with DuckDB, then apply the byte-level CSV quirks.

SQL text here is assembled only from the fixed dataset constants (column names, double-quoted)
and fixed helper-column names; values (cutoff) go in as parameters and file paths through the
DuckDB Python API, never into SQL text.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from pathlib import Path

import duckdb
import pyarrow as pa

from learn_assets.contracts.datasets import Dataset, Kind
from learn_assets.fileio import atomic_path, read_chunks
from learn_assets.generator.frames import FROM, LOCAL, OFFSET, UNTIL, UTC
from learn_assets.warehouse.sql import quote_ident

FORMATS = ("csv", "parquet")
BOM = b"\xef\xbb\xbf"
# Deterministic quirks of the delivered CSV files (documented in the package docstring).
BOM_FILES = frozenset({"Users", "HierarchyModule", "HierarchyAppliedSkills"})
CRLF_FILES = frozenset({"Achievements", "HierarchyUnit", "HierarchyAppliedSkills"})
_CHUNK = 16 * 1024 * 1024

_TICKS_TO_TIMESTAMP = "make_timestamp({} // 10)"  # 100 ns ticks -> microseconds
_DATETIMEOFFSET_SQL = (
    f"strftime({_TICKS_TO_TIMESTAMP.format(LOCAL)}, '%Y-%m-%dT%H:%M:%S')"
    f" || '.' || lpad(CAST({LOCAL} % 10000000 AS VARCHAR), 7, '0') || {OFFSET}"
)
_DATETIME_SQL = f"strftime({_TICKS_TO_TIMESTAMP.format(UTC)}, '%Y-%m-%dT%H:%M:%S')"
TENANT_VARIABLE = "tenant_id"


def select_list(
    dataset: Dataset, rename: Mapping[str, str] | None = None, drop: Collection[str] = ()
) -> str:
    """SELECT list producing the dataset's columns, in dictionary order and spelling.

    `rename` (dictionary name -> header) and `drop` exist for fault injection (schema drift).
    """
    rename = rename or {}
    exprs = []
    for col in dataset.columns:
        if col.name in drop:
            continue
        if col.kind is Kind.GUID and col.name.lower() == "tenantid":
            expr = f"getvariable('{TENANT_VARIABLE}')"
        elif col.kind is Kind.DATETIMEOFFSET:
            expr = _DATETIMEOFFSET_SQL
        elif col.kind is Kind.DATETIME:
            expr = _DATETIME_SQL
        else:
            expr = quote_ident(col.name)
        # Explicit types: dictionary-encoded inputs become plain VARCHAR, ints stay INTEGER.
        sql_type = "INTEGER" if col.kind in (Kind.INT, Kind.YYYYMMDD) else "VARCHAR"
        alias = quote_ident(rename.get(col.name, col.name))
        exprs.append(f"CAST({expr} AS {sql_type}) AS {alias}")
    return ", ".join(exprs)


def connect(tenant_id: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    # Order of rows in files must not depend on thread scheduling (byte-identical reruns).
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET VARIABLE {TENANT_VARIABLE} = ?", [tenant_id])
    return con


def write_frame(
    con: duckdb.DuckDBPyConnection,
    dataset: Dataset,
    table: pa.Table,
    path: Path,
    fmt: str,
    cutoff: int | None = None,
    *,
    rename: Mapping[str, str] | None = None,
    drop: Collection[str] = (),
    extra: Mapping[str, str] | None = None,
) -> None:
    """Write `table` as `dataset` to `path`; tenant frames are filtered to snapshot `cutoff`.

    `rename`, `drop` and `extra` (column -> constant text, appended last) make drifted files for
    fault injection; without them the file has exactly the dictionary's columns.
    """
    view = "frame_" + dataset.table
    con.register(view, table)
    try:
        params: dict[str, object] = {}
        columns = select_list(dataset, rename, drop)
        for i, (name, value) in enumerate((extra or {}).items()):
            columns += f", CAST($extra_{i} AS VARCHAR) AS {quote_ident(name)}"
            params[f"extra_{i}"] = value
        query = f"SELECT {columns} FROM {quote_ident(view)}"
        if cutoff is not None:
            query += f" WHERE {FROM} < $cutoff AND $cutoff < {UNTIL}"
            params["cutoff"] = cutoff
        rel = con.sql(query, params=params or None)
        write_relation(
            rel, path, fmt, bom=dataset.name in BOM_FILES, crlf=dataset.name in CRLF_FILES
        )
    finally:
        con.unregister(view)


def write_relation(
    rel: duckdb.DuckDBPyRelation, path: Path, fmt: str, bom: bool = False, crlf: bool = False
) -> None:
    """Write atomically (temp file + rename), so a rerun replaces files whole."""
    # A snapshot holds one file per dataset: drop a leftover in the other format.
    path.with_suffix(".csv" if fmt == "parquet" else ".parquet").unlink(missing_ok=True)
    with atomic_path(path) as tmp:
        if fmt == "parquet":
            rel.write_parquet(str(tmp), compression="zstd")
            return
        if not (bom or crlf):
            rel.write_csv(str(tmp), header=True)
            return
        plain = tmp.with_name(tmp.name + ".plain")
        try:
            rel.write_csv(str(plain), header=True)
            with plain.open("rb") as src, tmp.open("wb") as dst:
                dst.writelines(quirk_bytes(read_chunks(src), bom=bom, crlf=crlf))
        finally:
            plain.unlink(missing_ok=True)


def quirk_bytes(chunks: Iterable[bytes], bom: bool, crlf: bool) -> Iterable[bytes]:
    """Prefix a UTF-8 BOM and/or turn LF into CRLF, chunk by chunk.

    Safe per chunk because LF is one byte and the generated values never contain line breaks.
    """
    if bom:
        yield BOM
    for chunk in chunks:
        yield chunk.replace(b"\n", b"\r\n") if crlf else chunk
