"""The warehouse's layout: the schemas, the snapshot tables of the raw, staged and quarantine
layers and their bookkeeping tables, all derived from the contracts.

`ensure_layout` creates whatever is missing (empty) when a connection to the warehouse opens
(`WarehouseResource.get_connection`), so every layer can read every table it depends on even
before that table was first written (e.g. no Entra export loaded yet), and no layer creates
another layer's tables. Core and report tables are their own layer's: built by their builders.
"""

from __future__ import annotations

import duckdb

from learn_assets.contracts.datasets import DATASETS, ENTRA, ENTRA_COLUMNS, Dataset
from learn_assets.contracts.sql import compile_contract
from learn_assets.warehouse.sql import quote_ident
from learn_assets.warehouse.versioned import ensure_versioned

RAW, STAGED, QUARANTINE = "raw", "staged", "quarantine"
EXTRA = "_extra"  # raw: columns the dictionary lacks, as a map name -> value
LOAD_LOG = f"{RAW}._load_log"
STAGE_LOG = f"{STAGED}._stage_log"  # per snapshot: the raw file's sha256 and the contract
CHECK_LOG = f"{STAGED}._check_log"
ENTRA_TABLE = f"{RAW}.entra_users"

_LOGS = {
    LOAD_LOG: "dataset VARCHAR NOT NULL, snapshot_date DATE NOT NULL, path VARCHAR NOT NULL, "
    "size_bytes BIGINT NOT NULL, sha256 VARCHAR NOT NULL, row_count BIGINT NOT NULL, "
    "extra_columns VARCHAR[] NOT NULL, loaded_at TIMESTAMPTZ NOT NULL, "
    "PRIMARY KEY (dataset, snapshot_date)",
    STAGE_LOG: "dataset VARCHAR NOT NULL, snapshot_date DATE NOT NULL, "
    "raw_sha256 VARCHAR NOT NULL, contract VARCHAR NOT NULL, PRIMARY KEY (dataset, snapshot_date)",
    CHECK_LOG: "dataset VARCHAR NOT NULL, snapshot_date DATE, check_name VARCHAR NOT NULL, "
    "blocking BOOLEAN NOT NULL, status VARCHAR NOT NULL, failing BIGINT NOT NULL, "
    "message VARCHAR NOT NULL",
}


def raw_columns(dataset: Dataset) -> list[tuple[str, str]]:
    """Every delivered value as text, plus the extra columns' map."""
    return [*((c, "VARCHAR") for c in dataset.column_names), (EXTRA, "MAP(VARCHAR, VARCHAR)")]


def staged_columns(dataset: Dataset) -> list[tuple[str, str]]:
    return list(compile_contract(dataset.contract).types.items())


def quarantine_columns(dataset: Dataset) -> list[tuple[str, str]]:
    """The reasons, and every delivered value as text (nothing is lost)."""
    return [("reason", "VARCHAR"), *((c, "VARCHAR") for c in dataset.column_names)]


def _table(conn: duckdb.DuckDBPyConnection, name: str, columns: list[tuple[str, str]]) -> None:
    typed = ", ".join(f"{quote_ident(c)} {t}" for c, t in columns)
    conn.execute(f"CREATE TABLE IF NOT EXISTS {name} ({typed})")


def create_log(conn: duckdb.DuckDBPyConnection, name: str) -> None:
    """One of the bookkeeping tables (`LOAD_LOG`, `STAGE_LOG`, `CHECK_LOG`), if absent."""
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {name.split('.')[0]}")
    conn.execute(f"CREATE TABLE IF NOT EXISTS {name} ({_LOGS[name]})")


def _present(conn: duckdb.DuckDBPyConnection) -> set[str]:
    rows = conn.execute(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables "
        "WHERE table_catalog = current_database() AND table_schema IN (?, ?, ?)",
        [RAW, STAGED, QUARANTINE],
    ).fetchall()
    return {r[0] for r in rows}


def ensure_layout(conn: duckdb.DuckDBPyConnection) -> None:
    """Create every missing table of the raw, staged and quarantine layers (one query when
    nothing is missing)."""
    present = _present(conn)
    wanted = {
        *(f"{schema}.{d.table}" for schema in (RAW, STAGED, QUARANTINE) for d in DATASETS),
        f"{STAGED}.{ENTRA.table}",
        f"{QUARANTINE}.{ENTRA.table}",
        ENTRA_TABLE,
        *_LOGS,
    }
    if wanted <= present:
        return
    for schema in (RAW, STAGED, QUARANTINE):
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for name in _LOGS:
        create_log(conn, name)
    for dataset in DATASETS:
        ensure_versioned(conn, RAW, dataset.table, raw_columns(dataset))
        ensure_versioned(conn, STAGED, dataset.table, staged_columns(dataset))
        ensure_versioned(conn, QUARANTINE, dataset.table, quarantine_columns(dataset))
    _table(conn, ENTRA_TABLE, [(c, "VARCHAR") for c in ENTRA_COLUMNS])
    _table(conn, f"{STAGED}.{quote_ident(ENTRA.table)}", staged_columns(ENTRA))
    _table(conn, f"{QUARANTINE}.{quote_ident(ENTRA.table)}", quarantine_columns(ENTRA))
