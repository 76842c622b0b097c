"""Shared helpers of the multi-tenant tests: the sample tenants written by the real CLI, a
tenant's build by the real CLI, and every identifier each output holds, read in its own format
(so a compressed Parquet or workbook cannot hide another tenant's id from the scan)."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import yaml

LEARN = str(Path(sys.executable).parent / "learn-assets")
GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
TEXT_FILES = {".csv", ".html", ".json", ".txt", ".md", ".svg", ".crc", ""}
ZIPPED = {".xlsx"}
IMAGES = {".png"}  # pixels: no identifiers


def learn(env: dict[str, str], *args: str, cwd: Path, check: bool = True, timeout: int = 900):
    """`learn-assets ARGS` in a process of its own."""
    done = subprocess.run(
        [LEARN, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    if check:
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def sample_tenants(
    out: Path, env: dict[str, str], tenants: int, users: int, days: int, start: dt.date
) -> dict:
    """`learn-assets sample --tenants N`: the tenants file, parsed."""
    learn(
        env,
        "sample",
        "--out",
        str(out),
        "--tenants",
        str(tenants),
        "--users",
        str(users),
        "--days",
        str(days),
        "--start",
        start.isoformat(),
        cwd=out.parent,
    )
    return yaml.safe_load((out / "tenants.yaml").read_text())


def start_tenant_build(
    env: dict[str, str], tenant: str, first: dt.date, last: dt.date, cwd: Path
) -> subprocess.Popen:
    """`learn-assets --tenant NAME backfill` in the background (two tenants at once)."""
    return subprocess.Popen(
        [LEARN, "--tenant", tenant, "backfill", "--from", first.isoformat()]
        + ["--to", last.isoformat()],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def finished(process: subprocess.Popen, timeout: int = 900) -> str:
    output, _ = process.communicate(timeout=timeout)
    assert process.returncode == 0, output[-4000:]
    return output


def guids(text: str) -> set[str]:
    return {g.lower() for g in GUID.findall(text)}


def landing_ids(landing: Path) -> set[str]:
    """Every identifier (GUID) a tenant's deliveries hold: its tenant id, its learners' and its
    directory's ids."""
    return set().union(*(guids(p.read_text(errors="replace")) for p in files_under(landing)))


def files_under(root: Path) -> Iterator[Path]:
    return (p for p in sorted(root.rglob("*")) if p.is_file())


def duckdb_ids(path: Path) -> set[str]:
    """Identifiers in every column of every table of a DuckDB file, as text."""
    found: set[str] = set()
    with duckdb.connect(str(path), read_only=True) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables ORDER BY ALL"
        ).fetchall()
        for schema, table in tables:
            rows = conn.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall()
            found |= guids(repr(rows))
    return found


def file_ids(path: Path) -> set[str]:
    """Identifiers in one output file, read in its format; an unknown format fails the test (a
    new kind of output must be scanned too)."""
    suffix = path.suffix.lower()
    if suffix == ".parquet" or path.name.endswith(".checkpoint.parquet"):
        return guids(repr(pq.read_table(path).to_pylist()))
    if suffix == ".duckdb":
        return duckdb_ids(path)
    if suffix in ZIPPED:
        with zipfile.ZipFile(path) as archive:  # a workbook: XML parts, compressed
            parts = [archive.read(n).decode(errors="replace") for n in archive.namelist()]
        return guids("".join(parts))
    if suffix in IMAGES:
        return set()
    if suffix == ".wal":  # replayed into the database file's tables when it is opened (above)
        return set()
    if suffix in TEXT_FILES or path.name == "_last_checkpoint":
        return guids(path.read_text(errors="replace"))  # (ids are ASCII: never JSON-escaped)
    raise AssertionError(f"{path}: an output of a kind the isolation scan cannot read")


def output_ids(root: Path) -> dict[Path, set[str]]:
    """Identifiers of every file under `root` (a warehouse file, an exports or lake folder)."""
    if root.is_file():
        return {root: file_ids(root)}
    return {path: file_ids(path) for path in files_under(root)}
