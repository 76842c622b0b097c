"""Which snapshots' export folders to write or remove: the requested ones, and every existing
folder whose reports changed since the exports were last written."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import uuid
from pathlib import Path

import duckdb

from learn_assets.exports.files import ExportResult, export_snapshots, snapshot_folder
from learn_assets.reports.build import ANCHOR, REPORT_TABLES
from learn_assets.warehouse.ledger import (
    Refreshed,
    mark_consumed,
    pending_changes,
    plan_snapshots,
)
from learn_assets.warehouse.sql import transaction
from learn_assets.warehouse.versioned import loaded_snapshots

CONSUMER = "exports.snapshot_files"
SOURCES = tuple(r.qualified for r in REPORT_TABLES)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def exported_snapshots(exports_dir: Path) -> list[dt.date]:
    """Snapshots that have an export folder, ascending."""
    if not Path(exports_dir).is_dir():
        return []
    found = []
    for entry in Path(exports_dir).iterdir():
        if entry.is_dir() and _DATE.match(entry.name):
            try:
                found.append(dt.date.fromisoformat(entry.name))
            except ValueError:
                continue  # e.g. 2026-13-01: not ours
    return sorted(found)


def remove_folder(folder: Path) -> None:
    """Remove a snapshot's export folder; renamed first so no reader sees it half-deleted."""
    if not folder.exists():
        return
    doomed = folder.with_name(f".{folder.name}.{uuid.uuid4().hex}.removed")
    os.replace(folder, doomed)
    shutil.rmtree(doomed)


def refresh_exports(
    conn: duckdb.DuckDBPyConnection, requested: list[dt.date], exports_dir: Path, **options
) -> list[tuple[Refreshed, ExportResult | None]]:
    """Write the requested snapshots' exports, rewrite every existing folder on or after the
    earliest report change not yet exported, and remove the folders of snapshots no longer
    loaded. `options` go to `export_snapshot`."""
    changes = pending_changes(conn, CONSUMER, SOURCES)
    steps = plan_snapshots(
        requested, exported_snapshots(exports_dir), loaded_snapshots(conn, *ANCHOR), changes
    )
    done: list[tuple[Refreshed, ExportResult | None]] = []
    # One after the other, the next snapshot's charts drawn while this one's files are written.
    exported = export_snapshots(
        conn, [s.snapshot for s in steps if not s.remove], exports_dir, **options
    )
    for step in steps:
        if step.remove:
            remove_folder(snapshot_folder(exports_dir, step.snapshot))
            done.append((Refreshed(step.snapshot, None, step.reason), None))
            continue
        result = next(exported)
        done.append((Refreshed(step.snapshot, sum(result.rows.values()), step.reason), result))
    with transaction(conn):
        mark_consumed(conn, CONSUMER, changes, SOURCES)
    point_latest(exports_dir)
    return done


LATEST = "latest"


def point_latest(exports_dir: Path) -> Path | None:
    """`<exports_dir>/latest`: a link to the latest snapshot's folder, switched in one rename, so
    a Power BI or Excel connection to that fixed path always finds one complete set of files."""
    link = Path(exports_dir) / LATEST
    days = exported_snapshots(exports_dir)
    if link.exists() and not link.is_symlink():
        raise OSError(f"{link} is a folder, not the link to the latest snapshot: remove it")
    if not days:
        link.unlink(missing_ok=True)
        return None
    target = days[-1].isoformat()
    if link.is_symlink() and os.readlink(link) == target:
        return link
    tmp = link.with_name(f".{LATEST}.{uuid.uuid4().hex}.tmp")
    os.symlink(target, tmp)  # relative: the folder can move with its link
    os.replace(tmp, link)
    return link
