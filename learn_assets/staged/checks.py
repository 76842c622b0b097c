"""Asset checks of a staged snapshot, computed in DuckDB from the contract.

Each function returns a `CheckOutcome` for one snapshot; the asset combines the outcomes of the
snapshots it built into one `AssetCheckResult` per check.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import duckdb

from learn_assets.contracts.datasets import DATASETS_BY_NAME, Dataset
from learn_assets.contracts.schemas import Reference
from learn_assets.contracts.sql import (
    any_broken_select,
    breaking_rows_select,
    compile_contract,
    rule_counts_select,
)
from learn_assets.raw.load import ENTRA_TABLE, raw_table
from learn_assets.resources.reporting import SanityGates
from learn_assets.staged.check_log import CHECK_LOG, FAILED, PASSED
from learn_assets.staged.stage import (
    STAGED,
    StageResult,
    duplicate_keys,
    extra_columns,
    in_scope,
    quarantine_sample,
    quarantine_table,
    staged_table,
)
from learn_assets.warehouse.sql import quote_ident, relation_columns
from learn_assets.warehouse.versioned import SNAPSHOTS, changed_rows

SAMPLE_ROWS = 10
CONTRACT_TYPES, KEYS = "contract_types", "keys_unique"
DISTINCT_CHECK_ROWS = 10_000  # from this many staged rows, `contract_types` asks distinct values


@dataclass(frozen=True)
class CheckOutcome:
    passed: bool
    failing: int = 0
    detail: dict[str, object] = field(default_factory=dict)  # markdown-ready values
    sample: tuple[list[str], list[tuple]] | None = None
    message: str = ""  # what a person should know when it did not pass (no row values)
    accepted: bool = False  # a failed sanity check passed because LEARN_ACCEPT_ANOMALY says so

    def summary(self) -> str:
        return self.message or f"{self.failing:,} failing"


@dataclass(frozen=True)
class CheckDef:
    name: str
    description: str
    blocking: bool
    evaluate: Callable[[duckdb.DuckDBPyConnection, Dataset, StageResult], CheckOutcome]
    # The outcome depends on the snapshot's own raw, staged and quarantined rows alone, so a
    # snapshot with the same rows as another has that one's outcome (`StageResult.continues`).
    own_rows_only: bool = False


def _count(conn: duckdb.DuckDBPyConnection, sql: str, params: list) -> int:
    row = conn.execute(sql, params).fetchone()
    return int(row[0]) if row else 0


def top_rules(failures: dict[str, int], n: int = 3) -> str:
    """`rule (rows)` of the `n` most broken rules, e.g. `xp: not an integer (7); ...`."""
    shown = "; ".join(f"{rule} ({rows:,})" for rule, rows in list(failures.items())[:n])
    return shown + ("; ..." if len(failures) > n else "")


def rows_follow_contract(conn, dataset: Dataset, result: StageResult) -> CheckOutcome:
    sample = quarantine_sample(conn, dataset, result.snapshot_date, SAMPLE_ROWS)
    return CheckOutcome(
        result.quarantined_rows == 0,
        result.quarantined_rows,
        {"rows breaking each rule": result.failures},
        sample if result.quarantined_rows else None,
        f"{result.quarantined_rows:,} rows quarantined: {top_rules(result.failures)}",
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
        message=f"{raw:,} raw rows but {staged:,} staged + {quarantined:,} quarantined",
    )


def keys_unique(
    conn, dataset: Dataset, result: StageResult, incremental: bool = True
) -> CheckOutcome:
    """No key shared by two staged rows of the snapshot. Staged from the changes since a
    snapshot on which this check passed, only the keys of the rows added can repeat: those are
    looked for (`duplicate_keys` with `added_only`), with the same answer."""
    key = compile_contract(dataset.contract).key
    since = incremental and result.since and passed_before(conn, dataset, result.since, KEYS)
    count, rows = duplicate_keys(conn, dataset, result.snapshot_date, SAMPLE_ROWS, bool(since))
    return CheckOutcome(
        count == 0,
        count,
        {"key": ", ".join(key)}
        | ({"looked among keys added since": str(result.since)} if since else {}),
        ([*key, "rows"], rows) if count else None,
        f"{count:,} keys ({', '.join(key)}) shared by more than one staged row",
    )


def no_unknown_columns(conn, dataset: Dataset, result: StageResult) -> CheckOutcome:
    extras = extra_columns(conn, dataset, result.snapshot_date)
    return CheckOutcome(
        not extras,
        len(extras),
        {"columns not in the dictionary": extras},
        message="columns not in the data dictionary (kept in raw, ignored): " + ", ".join(extras),
    )


def one_tenant(conn, dataset: Dataset, result: StageResult, expected: str = "") -> CheckOutcome:
    """One tenant id in the snapshot and its Users; with `expected` (LEARN_TENANT_ID, a tenant's
    id in the tenants file), that one."""
    users = DATASETS_BY_NAME["Users"]
    tenants = [
        r[0]
        for r in conn.execute(
            f"SELECT tenant_id FROM {staged_table(dataset)} WHERE snapshot_date = $d "
            f"UNION SELECT tenant_id FROM {staged_table(users)} WHERE snapshot_date = $d "
            "ORDER BY 1",
            {"d": result.snapshot_date},
        ).fetchall()
    ]
    others = [t for t in tenants if t.lower() != expected.lower()] if expected else []
    if others:
        return CheckOutcome(
            False,
            len(others),
            {"tenant ids": tenants, "expected": expected},
            message=f"tenant id {', '.join(others)} in the snapshot and its Users is not this "
            f"tenant's ({expected}, LEARN_TENANT_ID or the tenants file): the snapshot is refused",
        )
    return CheckOutcome(
        len(tenants) <= 1,
        max(len(tenants) - 1, 0),
        {"tenant ids": tenants},
        message=f"{len(tenants)} tenant ids in the snapshot and its Users: " + ", ".join(tenants),
    )


def _expecting(expected: str) -> Callable[..., CheckOutcome]:
    def run(conn, dataset: Dataset, result: StageResult) -> CheckOutcome:
        return one_tenant(conn, dataset, result, expected)

    return run


def _unresolved(conn, dataset: Dataset, ref: Reference, day: dt.date) -> tuple[int, list]:
    target = DATASETS_BY_NAME[ref.target]
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


def references_check(refs: tuple[Reference, ...], what: str):
    """A check that every reference of `refs` resolves; `what` names the referenced thing in
    the message, e.g. `a userId missing from the snapshot's Users`."""
    # The sample's value column is named after the referencing column when all share one, so
    # privacy mode knows a user id when it sees one (learn_assets/privacy.py).
    columns = {r.column for r in refs}
    value_column = columns.pop() if len(columns) == 1 else "value"

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
            (["reference", value_column, "rows"], sample[:SAMPLE_ROWS]) if failing else None,
            f"{failing:,} rows name {what}",
        )

    return evaluate


def passed_before(conn, dataset: Dataset, snapshot: dt.date | None, check: str) -> bool:
    """Whether `check` passed on `snapshot` of the dataset, as the check log says."""
    row = conn.execute(
        f"SELECT status = $passed FROM {CHECK_LOG} WHERE dataset = $dataset "
        "AND snapshot_date = $day AND check_name = $check",
        {"passed": PASSED, "dataset": dataset.table, "day": snapshot, "check": check},
    ).fetchone()
    return bool(row and row[0])


def contract_types(
    conn,
    dataset: Dataset,
    result: StageResult,
    distinct_from: int = DISTINCT_CHECK_ROWS,
    incremental: bool = True,
) -> CheckOutcome:
    """The staged table has the contract's columns and DuckDB types, and every staged row of the
    snapshot follows every rule of the compiled contract: the rules staging judges by, evaluated
    in DuckDB (no sample), so this check and staging cannot disagree.

    A snapshot staged from the changes since a snapshot on which this check passed (by the same
    rules: they are part of the contract fingerprint staging compares) has that snapshot's rows
    plus the rows added: only those are checked, with the verdict and counts of checking them
    all (`incremental=False`, which the tests compare)."""
    compiled = compile_contract(dataset.contract)
    actual = dict(relation_columns(conn, STAGED, dataset.table) or [])
    expected = ({"snapshot_date": "DATE"} if dataset.partitioned else {}) | compiled.types
    if actual != expected:
        wrong = sorted(set(actual.items()) ^ set(expected.items()))
        return CheckOutcome(False, len(wrong), {"column types differing": [str(w) for w in wrong]})
    where, params = in_scope(result.snapshot_date)
    source = f"(SELECT * FROM {staged_table(dataset)} WHERE {where})"
    detail: dict[str, object] = {}
    if incremental and result.since and passed_before(conn, dataset, result.since, CONTRACT_TYPES):
        source = f"({changed_rows(STAGED, dataset.table, 'version_id', 'added', '$d')})"
        params = {"d": result.snapshot_date}
        detail["checked as they arrived since"] = str(result.since)
    rules = compiled.staged_rules
    # A big snapshot's common case (nothing breaks) is answered over distinct values (same
    # verdict, a third of the time for Progress at S); the exact counts per rule are computed
    # only when some row breaks a rule. Small tables are cheaper to check row by row.
    (checked,) = conn.execute(f"SELECT count(*) FROM {source}", params).fetchone()
    staged = result.staged_rows if detail else checked
    if (
        checked >= distinct_from
        and not conn.execute(any_broken_select(rules, source), params).fetchone()[0]
    ):
        return CheckOutcome(True, 0, {"staged rows validated": staged} | detail)
    _, failing, *per_rule = conn.execute(rule_counts_select(rules, source), params).fetchone()
    detail = {"staged rows validated": staged} | detail
    if not failing:
        return CheckOutcome(True, 0, detail)
    detail["staged rows breaking each rule"] = {
        rule.reason: n for rule, n in zip(rules, per_rule, strict=True) if n
    }
    sample = conn.execute(
        breaking_rows_select(rules, compiled.key, source, SAMPLE_ROWS), params
    ).fetchall()
    return CheckOutcome(False, failing, detail, ([*compiled.key, "rules broken"], sample))


def checks_for(dataset: Dataset, gates: SanityGates | None = None) -> list[CheckDef]:
    """The checks of a staged dataset: the contract's, then the snapshot sanity checks with
    `gates` (names, descriptions and blocking do not depend on them)."""
    refs: tuple[Reference, ...] = dataset.contract.references
    user_refs = tuple(r for r in refs if r.target == "Users")
    other_refs = tuple(r for r in refs if r.target != "Users")
    checks = [
        CheckDef(
            CONTRACT_TYPES,
            "Blocking. Staged columns and types are the contract's, and every staged row of the "
            "snapshot follows every rule of the compiled contract (checked in DuckDB, no sample).",
            True,
            contract_types,
            own_rows_only=True,
        ),
        CheckDef(
            "rows_follow_contract",
            "Rows breaking a row-level rule of the contract, quarantined with the reason "
            "(counts per rule, sample of rows).",
            False,
            rows_follow_contract,
            own_rows_only=True,
        ),
        CheckDef(
            "rows_conserved",
            "Blocking. Every raw row is either staged or quarantined: raw = staged + quarantine.",
            True,
            rows_conserved,
            own_rows_only=True,
        ),
        CheckDef(
            KEYS,
            "Blocking. No two staged rows of the snapshot share the key.",
            True,
            keys_unique,
            own_rows_only=True,
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
                "Blocking. One tenantId in the snapshot, the same as in Users (and the "
                "configured one, LEARN_TENANT_ID, when set).",
                True,
                _expecting(gates.tenant_id if gates else ""),
            )
        )
    if user_refs:
        checks.append(
            CheckDef(
                "user_ids_in_users",
                "Every userId is in the snapshot's Users.",
                False,
                references_check(user_refs, "a userId missing from the snapshot's Users"),
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
                references_check(other_refs, "a uid missing from the snapshot's catalog"),
            )
        )
    return checks + sanity_checks_for(dataset, gates or SanityGates())


# Snapshot sanity checks: a delivery that is valid row by row but implausible as a whole (another
# tenant, Users gone, much of a dataset quarantined) is held back from core, reports and exports
# until a person fixes it or accepts it for that snapshot (LEARN_ACCEPT_ANOMALY).

ACCEPT_SETTING = "LEARN_ACCEPT_ANOMALY"
SanityEvaluate = Callable[
    [duckdb.DuckDBPyConnection, Dataset, StageResult, SanityGates], CheckOutcome
]


def percent(share: float) -> str:
    """0.5 -> `50%`, 0.0625 -> `6.2%`."""
    return f"{share:.1%}".replace(".0%", "%")


def what_to_do(snapshot: dt.date | None, fix: str) -> str:
    return f"{fix}, or set {ACCEPT_SETTING}={snapshot} and run this snapshot again."


def previous_good_users(
    conn: duckdb.DuckDBPyConnection, snapshot: dt.date
) -> tuple[dt.date, int] | None:
    """The latest staged Users snapshot before `snapshot` that has rows and failed no blocking
    check (an accepted anomaly counts as good): what a new snapshot is compared with."""
    row = conn.execute(
        f"SELECT s.snapshot_date, s.row_count FROM {STAGED}.{SNAPSHOTS} s "
        "WHERE s.table_name = $users AND s.snapshot_date < $d AND s.row_count > 0 "
        f"AND NOT EXISTS (SELECT 1 FROM {CHECK_LOG} c WHERE c.dataset = s.table_name "
        "AND c.snapshot_date = s.snapshot_date AND c.status = $failed) "
        "ORDER BY s.snapshot_date DESC LIMIT 1",
        {"users": DATASETS_BY_NAME["Users"].table, "d": snapshot, "failed": FAILED},
    ).fetchone()
    return (row[0], int(row[1])) if row else None


def _tenants(conn: duckdb.DuckDBPyConnection, snapshot: dt.date) -> list[str]:
    users = staged_table(DATASETS_BY_NAME["Users"])
    rows = conn.execute(
        f"SELECT DISTINCT tenant_id FROM {users} WHERE snapshot_date = ? ORDER BY 1", [snapshot]
    ).fetchall()
    return [r[0] for r in rows]


def tenant_unchanged(conn, dataset: Dataset, result: StageResult, gates: SanityGates):
    day = result.snapshot_date
    previous = previous_good_users(conn, day) if day else None
    if previous is None:
        return CheckOutcome(True, 0, {"previous snapshot": "none"})
    now, before = _tenants(conn, day), _tenants(conn, previous[0])
    new = [t for t in now if t not in before]
    detail = {"tenant ids": now, "previous snapshot": str(previous[0]), "previous ids": before}
    if not new:
        return CheckOutcome(True, 0, detail)
    return CheckOutcome(
        False,
        len(new),
        detail,
        message=f"Users of {day} has tenant id {', '.join(new)}, but the previous snapshot "
        f"{previous[0]} has {', '.join(before)}: this looks like another organization's "
        "delivery, and loading it would mix two tenants in core. "
        + what_to_do(day, "Check the landing folder; if the tenant really changed, accept it"),
    )


def user_count_plausible(conn, dataset: Dataset, result: StageResult, gates: SanityGates):
    day, now = result.snapshot_date, result.staged_rows
    previous = previous_good_users(conn, day) if day else None
    detail: dict[str, object] = {"users": now}
    if previous:
        detail |= {"previous snapshot": str(previous[0]), "previous users": previous[1]}
    if now == 0:
        delivered = (
            f" that follow the contract ({result.raw_rows:,} delivered, all quarantined)"
            if result.raw_rows
            else ""
        )
        return CheckOutcome(
            False,
            previous[1] if previous else 0,
            detail,
            message=f"Users of {day} has no rows{delivered}: every learner would be reported "
            "as gone. " + what_to_do(day, "Check that the Users file is complete"),
        )
    if previous is None:
        return CheckOutcome(True, 0, detail)
    before = previous[1]
    drop = (before - now) / before
    if drop <= gates.max_user_drop:
        return CheckOutcome(True, 0, detail)
    return CheckOutcome(
        False,
        before - now,
        detail,
        message=f"Users of {day} has {now:,} rows, {percent(drop)} fewer than the {before:,} of "
        f"{previous[0]} (LEARN_MAX_USER_DROP allows {percent(gates.max_user_drop)}): "
        f"{before - now:,} learners would be reported as gone. "
        + what_to_do(day, "Check that the Users file is complete"),
    )


def quarantine_share(conn, dataset: Dataset, result: StageResult, gates: SanityGates):
    share = result.quarantined_rows / result.raw_rows if result.raw_rows else 0.0
    detail = {"quarantined share": percent(share), "limit": percent(gates.max_quarantine_share)}
    if share <= gates.max_quarantine_share:
        return CheckOutcome(True, 0, detail)
    return CheckOutcome(
        False,
        result.quarantined_rows,
        detail,
        message=f"{result.quarantined_rows:,} of {result.raw_rows:,} {dataset.name} rows of "
        f"{result.snapshot_date} ({percent(share)}) are quarantined, more than "
        f"LEARN_MAX_QUARANTINE_SHARE allows ({percent(gates.max_quarantine_share)}): the "
        f"reports would miss them. Most broken rules: {top_rules(result.failures)}. "
        + what_to_do(result.snapshot_date, f"See quarantine.{dataset.table} and fix the delivery"),
    )


def accepting(evaluate: SanityEvaluate, gates: SanityGates):
    """`evaluate` with the gates; a failure on a snapshot of LEARN_ACCEPT_ANOMALY passes, with a
    note saying so (reported at WARN severity)."""

    def run(conn, dataset: Dataset, result: StageResult) -> CheckOutcome:
        outcome = evaluate(conn, dataset, result, gates)
        if outcome.passed or not gates.accepts(result.snapshot_date):
            return outcome
        note = f"Accepted by {ACCEPT_SETTING} ({result.snapshot_date}): {outcome.message}"
        return replace(outcome, passed=True, accepted=True, message=note)

    return run


def sanity_checks_for(dataset: Dataset, gates: SanityGates) -> list[CheckDef]:
    """Blocking, one snapshot at a time; not for the unpartitioned Entra export."""
    if not dataset.partitioned:
        return []
    override = f" Accept one snapshot's anomaly with {ACCEPT_SETTING}=YYYY-MM-DD."
    checks = [
        CheckDef(
            "quarantine_share",
            "Blocking. At most LEARN_MAX_QUARANTINE_SHARE (default 5%) of the snapshot's rows "
            "are quarantined." + override,
            True,
            accepting(quarantine_share, gates),
        )
    ]
    if dataset.name == "Users":
        checks += [
            CheckDef(
                "user_count_plausible",
                "Blocking. Users is not empty, and not down by more than LEARN_MAX_USER_DROP "
                "(default 50%) from the previous good snapshot." + override,
                True,
                accepting(user_count_plausible, gates),
            ),
            CheckDef(
                "tenant_unchanged",
                "Blocking. The tenant id is the previous good snapshot's (another one looks "
                "like another organization's delivery)." + override,
                True,
                accepting(tenant_unchanged, gates),
            ),
        ]
    return checks
