"""Compile a contract to DuckDB SQL, so big snapshots are validated where they are.

For each delivered row the compiled query gives the typed values and the list of rules the row
breaks (`reasons`, each naming the column and the rule). The staged layer keeps rows with no
reason and quarantines the others with their original text. The SQL of every rule comes from the
rule vocabulary (`contracts/rules.py`), the same objects the pandera checks and the README's rule
tables are generated from; a contract column declared otherwise does not exist (`col`).
Each rule about values (not about reading the text) also holds over the typed columns alone:
the blocking `contract_types` check evaluates those on every staged row (`rule_counts_select`).
"""

from __future__ import annotations

from dataclasses import dataclass

from learn_assets.contracts.rules import NO_END_DATE, PARSERS, Rule, Target
from learn_assets.contracts.schemas import Contract
from learn_assets.warehouse.sql import quote_ident, quote_literal

__all__ = [
    "NO_END_DATE",  # re-exported: the fault generator imports it from here
    "CompiledContract",
    "SqlRule",
    "any_broken_select",
    "breaking_rows_select",
    "compile_contract",
    "judged_select",
    "raw_ref",
    "repeats_select",
    "rule_counts_select",
]


@dataclass(frozen=True)
class SqlRule:
    """One row-level rule: `violated` is a SQL predicate over typed (and raw) columns.
    `staged` is the same rule over the typed columns only, which a staged row must never
    break (None for rules about reading the delivered text)."""

    reason: str
    violated: str
    staged: str | None
    column: str | None = None  # the one staged column `staged` reads; None: a row rule


@dataclass(frozen=True)
class CompiledContract:
    typed: dict[str, str]  # staged column -> SQL expression over the raw columns
    types: dict[str, str]  # staged column -> DuckDB type
    rules: tuple[SqlRule, ...]
    key: tuple[str, ...]

    @property
    def staged_rules(self) -> tuple[SqlRule, ...]:
        """The rules every staged row follows (see `rule_counts_select`)."""
        return tuple(r for r in self.rules if r.staged)


RAW_PREFIX = "raw:"  # delivered columns are carried as "raw:<name>" beside the typed ones


def raw_ref(source: str) -> str:
    return quote_ident(RAW_PREFIX + source)


def sql_rules(rule: Rule, at: Target) -> tuple[SqlRule, ...]:
    """The compiled rule of each reason of `rule` on the column `at`."""
    return tuple(
        SqlRule(f"{at.name}: {what}", violated, staged, at.name)
        for what, violated, staged in zip(
            rule.reasons(), rule.violated(at), rule.staged(at), strict=True
        )
    )


def compile_contract(schema: Contract) -> CompiledContract:
    typed: dict[str, str] = {}
    types: dict[str, str] = {}
    rules: list[SqlRule] = []
    for name, column in schema.columns.items():
        parser = PARSERS[column.kind]
        if column.derived_from is not None:
            typed[name], raw = parser.read(typed[column.derived_from]), None
        else:
            assert column.source is not None, f"{name}: neither delivered nor derived"
            typed[name], raw = parser.read(quote_ident(column.source)), raw_ref(column.source)
        types[name] = parser.sql_type
        at = Target(name, parser.kind, raw)
        rules += [compiled for rule in column.rules for compiled in sql_rules(rule, at)]
    for frame_rule in schema.rules:
        violated = frame_rule.violated()
        rules.append(SqlRule(frame_rule.reason(), violated, violated))
    return CompiledContract(typed, types, tuple(rules), schema.unique)


def judged_select(compiled: CompiledContract, source_columns: tuple[str, ...], source: str) -> str:
    """SELECT over `source` (raw_rowid, snapshot_date and the delivered columns of the rows to
    judge): raw_rowid, snapshot_date, the typed columns, `row_hash` (of the delivered values, to
    find repeats cheaply) and `reason` ('' when the row breaks no rule, else the rules it breaks).
    """
    raw_cols = ", ".join(f"{quote_ident(c)} AS {raw_ref(c)}" for c in source_columns)
    typed_cols = ", ".join(f"{expr} AS {quote_ident(n)}" for n, expr in compiled.typed.items())
    typed_refs = ", ".join(quote_ident(n) for n in compiled.typed)
    broken = " OR ".join(f"coalesce(({rule.violated}), false)" for rule in compiled.rules)
    reasons = ", ".join(
        f"CASE WHEN {rule.violated} THEN {quote_literal(rule.reason)} END"
        for rule in compiled.rules
    )
    # Rules refer to typed columns by their staged names, so they are evaluated one level up;
    # the reason text is only built for the (few) rows that break a rule.
    return f"""
        SELECT raw_rowid, snapshot_date, row_hash, {typed_refs},
               CASE WHEN {broken or "false"} THEN concat_ws('; ', {reasons or "NULL"}) ELSE ''
               END AS reason
        FROM (SELECT raw_rowid, snapshot_date,
                     hash({", ".join(quote_ident(c) for c in source_columns)}) AS row_hash,
                     {raw_cols}, {typed_cols}
              FROM {source})
    """


def repeats_select(source_columns: tuple[str, ...], source: str, judged: str) -> str:
    """raw_rowid of every row that repeats an identical earlier row of `source`. Only rows whose
    hash occurs more than once are compared value by value, so this stays cheap."""
    cols = ", ".join(quote_ident(c) for c in source_columns)
    return f"""
        SELECT raw_rowid FROM (
            SELECT raw_rowid, row_number() OVER (PARTITION BY {cols} ORDER BY raw_rowid) AS copy
            FROM {source}
            WHERE hash({cols}) IN (SELECT row_hash FROM {judged} GROUP BY 1 HAVING count(*) > 1)
        ) WHERE copy > 1
    """


def _any_broken(rules: tuple[SqlRule, ...]) -> str:
    return " OR ".join(f"coalesce(({rule.staged}), false)" for rule in rules) or "false"


def rule_counts_select(rules: tuple[SqlRule, ...], source: str) -> str:
    """One row over the staged rows of `source`: how many there are, how many break any of
    `rules` (their `staged` predicate), then how many break each rule, in order."""
    per_rule = "".join(f", count(*) FILTER (WHERE {rule.staged})" for rule in rules)
    return f"SELECT count(*), count(*) FILTER (WHERE {_any_broken(rules)}){per_rule} FROM {source}"


def any_broken_select(rules: tuple[SqlRule, ...], source: str) -> str:
    """One row, one boolean: whether any row of `source` breaks any of `rules` (their `staged`
    predicate). A rule about one column is evaluated once per distinct value of that column, not
    once per row: a snapshot's values repeat (thousands of learners over hundreds of thousands
    of rows), so this costs a fraction of `rule_counts_select`, whose exact counts are needed
    only when something breaks. Row rules are evaluated on every row."""
    by_column: dict[str | None, list[SqlRule]] = {}
    for rule in rules:
        by_column.setdefault(rule.column, []).append(rule)
    parts = [
        f"(SELECT coalesce(bool_or({_any_broken(tuple(group))}), false) FROM "
        + ("checked" if column is None else f"(SELECT DISTINCT {quote_ident(column)} FROM checked)")
        + ")"
        for column, group in by_column.items()
    ]
    # Materialized: the rows are read once, however many columns are checked.
    return f"WITH checked AS MATERIALIZED (SELECT * FROM {source}) SELECT " + (
        " OR ".join(parts) or "false"
    )


def breaking_rows_select(
    rules: tuple[SqlRule, ...], columns: tuple[str, ...], source: str, limit: int
) -> str:
    """The first `limit` staged rows of `source` breaking any of `rules`: `columns` and the
    reasons of the rules each breaks."""
    cols = ", ".join(quote_ident(c) for c in columns)
    reasons = ", ".join(
        f"CASE WHEN {rule.staged} THEN {quote_literal(rule.reason)} END" for rule in rules
    )
    return (
        f"SELECT {cols}, concat_ws('; ', {reasons or 'NULL'}) AS rules FROM {source} "
        f"WHERE {_any_broken(rules)} ORDER BY ALL LIMIT {int(limit)}"
    )
