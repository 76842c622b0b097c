"""Lake maintenance: compaction of small files and vacuum of files no recent version uses."""

from __future__ import annotations

from learn_assets.core.build import CORE_TABLES
from learn_assets.publish.lake import Lake, open_delta
from learn_assets.reports.build import REPORT_TABLES

RETENTION_HOURS = 7 * 24  # time travel reaches back a week


def maintain_lake(lake: Lake) -> dict[str, str]:
    """Compact and vacuum every Delta table of the lake; what was done, per table."""
    done = {}
    tables = [("reports", r.name) for r in REPORT_TABLES] + [("core", t.name) for t in CORE_TABLES]
    for layer, name in tables:
        table = open_delta(lake, lake.uri(layer, name))
        if table is None:
            done[f"{layer}/{name}"] = "not published yet"
            continue
        compacted = table.optimize.compact()
        removed = table.vacuum(
            retention_hours=RETENTION_HOURS, dry_run=False, enforce_retention_duration=True
        )
        done[f"{layer}/{name}"] = (
            f"{compacted.get('numFilesRemoved', 0)} files compacted into "
            f"{compacted.get('numFilesAdded', 0)}, {len(removed)} old files removed"
        )
    return done
