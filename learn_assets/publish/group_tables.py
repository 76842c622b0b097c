"""Writing a consolidated group's tables and page (see `publish/consolidated.py`): imported by
the group's asset when it runs, so the group's code location loads without deltalake."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
from deltalake import CommitProperties, write_deltalake

from learn_assets.publish.group_report import render_group_page
from learn_assets.publish.lake import Lake, LakeError, _fail, open_delta
from learn_assets.publish.lake_location import SOURCES, TENANT_COLUMN, page_path, table_uri
from learn_assets.reports.build import REPORT_TABLES, ReportTable
from learn_assets.resources.storage import Storage


def _recorded(target: Lake, uri: str) -> dict[str, int | None] | None:
    """The members' versions the table at `uri` was last made of (None: no table yet)."""
    table = open_delta(target, uri)
    if table is None:
        return None
    for commit in table.history(1):
        if SOURCES in commit:
            return json.loads(commit[SOURCES])
    return {}


def _with_tenant(tenant: str, rows: pa.RecordBatch) -> pa.RecordBatch:
    column = pa.array([tenant] * rows.num_rows, pa.string())
    return rows.add_column(0, TENANT_COLUMN, column)


def _conformed(rows: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """`rows` in `schema`'s columns and types, a column it lacks as nulls: what
    `pa.concat_tables(..., promote_options="permissive")` makes of each member's rows."""
    names = set(rows.schema.names)
    columns = [
        rows.column(f.name).cast(f.type) if f.name in names else pa.nulls(rows.num_rows, f.type)
        for f in schema
    ]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


def _members_rows(parts: Mapping[str, ds.Dataset]) -> pa.RecordBatchReader:
    """Every member's rows with its tenant column in front, a batch at a time (a group's
    table is never whole in memory), in the members' unified schema."""
    schemas = [pa.schema([pa.field(TENANT_COLUMN, pa.string()), *d.schema]) for d in parts.values()]
    schema = pa.unify_schemas(schemas, promote_options="permissive")
    # One file and one batch read ahead: pyarrow's default read-ahead (16 batches, 4 files)
    # decodes most of a member's table ahead of the writer (issue #18).
    batches = (
        _conformed(_with_tenant(tenant, batch), schema)
        for tenant, rows in parts.items()
        for batch in rows.to_batches(batch_readahead=1, fragment_readahead=1)
    )
    return pa.RecordBatchReader.from_batches(schema, batches)


def consolidate_report(
    group: str, members: Mapping[str, Lake], target: Lake, report: ReportTable
) -> dict[str, object]:
    """Make `<target>/<group>/reports/<report>` the members' rows with a tenant column, when a
    member's table changed since it was last made (one commit). Returns what it did."""
    uri = table_uri(target, group, report)
    versions: dict[str, int | None] = {}
    parts: dict[str, ds.Dataset] = {}
    for tenant, lake in members.items():
        table = open_delta(lake, lake.uri("reports", report.name))
        versions[tenant] = None if table is None else table.version()
        if table is not None:
            parts[tenant] = table.to_pyarrow_dataset()
    if not parts or _recorded(target, uri) == versions:
        return {"written": False, "sources": versions}
    write_deltalake(
        uri,
        _members_rows(parts),
        partition_by=[TENANT_COLUMN],
        mode="overwrite",
        schema_mode="overwrite",
        storage_options=dict(target.storage_options) or None,
        commit_properties=CommitProperties(custom_metadata={SOURCES: json.dumps(versions)}),
    )
    rows = sum(d.count_rows() for d in parts.values())
    return {"written": True, "sources": versions, "rows": rows}


def consolidate(
    group: str,
    members: Mapping[str, Lake],
    target: Lake,
    reports: Sequence[ReportTable] = REPORT_TABLES,
) -> dict[str, dict[str, object]]:
    """Every report of the group (see `consolidate_report`); a failure names the table."""
    if "://" not in target.root:
        Path(target.root).mkdir(parents=True, exist_ok=True)
    done = {}
    for report in reports:
        try:
            done[report.name] = consolidate_report(group, members, target, report)
        except LakeError:
            raise
        except Exception as e:  # deltalake and object_store raise many kinds: name the table
            raise _fail(target, f"{group}/reports/{report.name}", e) from None
    return done


def write_group_page(
    group: str, members: Sequence[str], target: Lake, storage: Storage, rewrite: bool
) -> str | None:
    """Write `<group>/report.html` under `storage` (the group's lake) from the consolidated
    org_overview, when `rewrite` or when it is missing; returns where, or None."""
    where = page_path(group)
    if not rewrite and storage.stat(where) is not None:
        return None
    overview = next(r for r in REPORT_TABLES if r.name == "org_overview")
    table = open_delta(target, table_uri(target, group, overview))
    rows = None if table is None else table.to_pyarrow_table()
    storage.write_bytes(where, render_group_page(group, members, rows).encode("utf-8"))
    return storage.display(where)
