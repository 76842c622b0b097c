"""Asset checks of a staged snapshot, computed in DuckDB from the contract.

Each function returns a `CheckOutcome` for one snapshot; the asset combines the outcomes of the
snapshots it built into one `AssetCheckResult` per check.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb

from learn_assets.contracts.datasets import DATASETS_BY_NAME, Dataset
from learn_assets.contracts.schemas import Reference
from learn_assets.contracts.sql import breaking_rows_select, compile_contract, rule_counts_select
from learn_assets.raw.load import ENTRA_TABLE, raw_table
from learn_assets.resources import quote_ident
from learn_assets.staged.stage import (
    StageResult,
    duplicate_keys,
    ensure_stage_tables,
    extra_columns,
    in_scope,
    quarantine_sample,
    quarantine_table,
    staged_table,
)

SAMPLE_ROWS = 10


@dataclass(frozen=True)
class CheckOutcome:
    passed: bool
    failing: int = 0
    detail: dict[str, object] = field(default_factory=dict)  # markdown-ready values
    sample: tuple[list[str], list[tuple]] | None = None


@dataclass(frozen=True)
class CheckDef:
    name: str
    description: str
    blocking: bool
    evaluate: Callable[[duckdb.DuckDBPyConnection, Dataset, StageResult], CheckOutcome]


def _count(conn: duckdb.DuckDBPyConnection, sql: str, params: list) -> int:
    row = conn.execute(sql, params).fetchone()
    return int(row[0]) if row else 0


def rows_follow_contract(conn, dataset: Dataset, result: StageResult) -> CheckOutcome:
    sample = quarantine_sample(conn, dataset, result.snapshot_date, SAMPLE_ROWS)
    return CheckOutcome(
        result.quarantined_rows == 0,
        result.quarantined_rows,
        {"rows breaking each rule": result.failures},
        sample if result.quarantined_rows else None,
    )


def rows_conserved(conn, dataset: Dataset, result: StageResult) -> CheckOutcome:
    where, params = in_scope(result.snapshot_date)
    source = raw_table(dataset) if dataset.partitioned else ENTRA_TABLE
    raw, staged, quarantined = (
        _count(conn, f"SELECT count(*) FROM {t} WHERE {where}", params)
        for t in (source, staged_table(dataset), quarantine_table(dataset))
    )
    return CheckOutcome(
        raw == staged + quarantined,
        abs(raw - staged - quarantined),
        {"raw": raw, "staged": staged, "quarantined": quarantined},
    )


def keys_unique(conn, dataset: Dataset, result: StageResult) -> CheckOutcome:
    key = compile_contract(dataset.contract).key
    count, rows = duplicate_keys(conn, dataset, result.snapshot_date, SAMPLE_ROWS)
    return CheckOutcome(
        count == 0, count, {"key": ", ".join(key)}, ([*key, "rows"], rows) if count else None
    )


def no_unknown_columns(conn, dataset: Dataset, result: StageResult) -> CheckOutcome:
    extras = extra_columns(conn, dataset, result.snapshot_date)
    return CheckOutcome(not extras, len(extras), {"columns not in the dictionary": extras})


def one_tenant(conn, dataset: Dataset, result: StageResult) -> CheckOutcome:
    users = DATASETS_BY_NAME["Users"]
    ensure_stage_tables(conn, users, compile_contract(users.contract))
    tenants = [
        r[0]
        for r in conn.execute(
            f"SELECT tenant_id FROM {staged_table(dataset)} WHERE snapshot_date = $d "
            f"UNION SELECT tenant_id FROM {staged_table(users)} WHERE snapshot_date = $d "
            "ORDER BY 1",
            {"d": result.snapshot_date},
        ).fetchall()
    ]
    return CheckOutcome(len(tenants) <= 1, max(len(tenants) - 1, 0), {"tenant ids": tenants})


def _unresolved(conn, dataset: Dataset, ref: Reference, day: dt.date) -> tuple[int, list]:
    target = DATASETS_BY_NAME[ref.target]
    ensure_stage_tables(conn, target, compile_contract(target.contract))
    col, tcol = quote_ident(ref.column), quote_ident(ref.target_column)
    when = "AND s.source_type = $when" if ref.when else ""
    params: dict[str, object] = {"d": day} | ({"when": ref.when} if ref.when else {})
    rows = conn.execute(
        f"SELECT s.{col} AS value, count(*) AS rows FROM {staged_table(dataset)} s "
        f"WHERE s.snapshot_date = $d {when} AND s.{col} IS NOT NULL AND NOT EXISTS ("
        f"  SELECT 1 FROM {staged_table(target)} t "
        f"  WHERE t.snapshot_date = $d AND t.{tcol} = s.{col}) "
        "GROUP BY 1 ORDER BY 2 DESC, 1",
        params,
    ).fetchall()
    return sum(r[1] for r in rows), rows


def references_check(refs: tuple[Reference, ...]):
    def evaluate(conn, dataset: Dataset, result: StageResult) -> CheckOutcome:
        counts, sample = {}, []
        for ref in refs:
            failing, rows = _unresolved(conn, dataset, ref, result.snapshot_date)
            counts[ref.label] = failing
            sample += [(ref.label, value, n) for value, n in rows[:SAMPLE_ROWS]]
        failing = sum(counts.values())
        return CheckOutcome(
            failing == 0,
            failing,
            {"rows whose reference does not resolve": counts},
            (["reference", "value", "rows"], sample[:SAMPLE_ROWS]) if failing else None,
        )

    return evaluate


def contract_types(conn, dataset: Dataset, result: StageResult) -> CheckOutcome:
    """The staged table has the contract's columns and DuckDB types, and every staged row of the
    snapshot follows every rule of the compiled contract: the rules staging judges by, evaluated
    in DuckDB on the whole snapshot (no sample), so this check and staging cannot disagree."""
    compiled = compile_contract(dataset.contract)
    actual = dict(
        conn.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'staged' AND table_name = ? ORDER BY ordinal_position",
            [dataset.table],
        ).fetchall()
    )
    expected = ({"snapshot_date": "DATE"} if dataset.partitioned else {}) | compiled.types
    if actual != expected:
        wrong = sorted(set(actual.items()) ^ set(expected.items()))
        return CheckOutcome(False, len(wrong), {"column types differing": [str(w) for w in wrong]})
    where, params = in_scope(result.snapshot_date)
    source = f"(SELECT * FROM {staged_table(dataset)} WHERE {where})"
    rules = compiled.staged_rules
    staged, failing, *per_rule = conn.execute(rule_counts_select(rules, source), params).fetchone()
    detail: dict[str, object] = {"staged rows validated": staged}
    if not failing:
        return CheckOutcome(True, 0, detail)
    detail["staged rows breaking each rule"] = {
        rule.reason: n for rule, n in zip(rules, per_rule, strict=True) if n
    }
    sample = conn.execute(
        breaking_rows_select(rules, compiled.key, source, SAMPLE_ROWS), params
    ).fetchall()
    return CheckOutcome(False, failing, detail, ([*compiled.key, "rules broken"], sample))


def checks_for(dataset: Dataset) -> list[CheckDef]:
    refs: tuple[Reference, ...] = dataset.contract.metadata["references"]
    user_refs = tuple(r for r in refs if r.target == "Users")
    other_refs = tuple(r for r in refs if r.target != "Users")
    checks = [
        CheckDef(
            "contract_types",
            "Blocking. Staged columns and types are the contract's, and every staged row of the "
            "snapshot follows every rule of the compiled contract (checked in DuckDB, no sample).",
            True,
            contract_types,
        ),
        CheckDef(
            "rows_follow_contract",
            "Rows breaking a row-level rule of the contract, quarantined with the reason "
            "(counts per rule, sample of rows).",
            False,
            rows_follow_contract,
        ),
        CheckDef(
            "rows_conserved",
            "Blocking. Every raw row is either staged or quarantined: raw = staged + quarantine.",
            True,
            rows_conserved,
        ),
        CheckDef(
            "keys_unique",
            "Blocking. No two staged rows of the snapshot share the key.",
            True,
            keys_unique,
        ),
    ]
    if dataset.partitioned:
        checks.append(
            CheckDef(
                "no_unknown_columns",
                "Columns the data dictionary lacks (kept in raw, ignored downstream).",
                False,
                no_unknown_columns,
            )
        )
    if dataset.tenant:
        checks.append(
            CheckDef(
                "one_tenant",
                "Blocking. One tenantId in the snapshot, the same as in Users.",
                True,
                one_tenant,
            )
        )
    if user_refs:
        checks.append(
            CheckDef(
                "user_ids_in_users",
                "Every userId is in the snapshot's Users.",
                False,
                references_check(user_refs),
            )
        )
    if other_refs:
        checks.append(
            CheckDef(
                "uids_in_catalog" if dataset.tenant else "references_resolve",
                "Every referenced uid exists in the snapshot's catalog: "
                + "; ".join(r.label for r in other_refs)
                + " (warning: catalogs can lag).",
                False,
                references_check(other_refs),
            )
        )
    return checks
