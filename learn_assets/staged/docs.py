"""The rule tables of docs/contracts.md, generated from the contracts so the docs cannot drift.

The "quarantined when" cells are the reasons of the rules each column declares (the vocabulary of
`contracts/rules.py`), the same texts staging quarantines rows with.

`make docs` (`python -m learn_assets.docs`) replaces the section between the markers in that
page.
"""

from __future__ import annotations

from learn_assets.contracts.datasets import DATASETS, ENTRA, Dataset
from learn_assets.contracts.sql import compile_contract
from learn_assets.staged.checks import checks_for

START, END = "<!-- rules:start -->", "<!-- rules:end -->"


def dataset_rules(dataset: Dataset) -> str:
    compiled = compile_contract(dataset.contract)  # the types and the key
    lines = [
        f"#### {dataset.name} → `staged.{dataset.table}`",
        "",
        "| column | from | type | quarantined when |",
        "|---|---|---|---|",
    ]
    for name, column in dataset.contract.columns.items():
        source = column.source
        origin = f"`{source}`" if source else f"derived from `{column.derived_from}`"
        rules = "; ".join(what for rule in column.rules for what in rule.reasons())
        lines.append(f"| `{name}` | {origin} | {compiled.types[name]} | {rules} |")
    row_rules = [rule.reason() for rule in dataset.contract.rules]
    key = ", ".join(f"`{k}`" for k in compiled.key)
    lines += ["", f"Key (unique per snapshot; identical repeated rows are quarantined): {key}."]
    if row_rules:
        lines.append("Also quarantined when: " + "; ".join(row_rules) + ".")
    references = dataset.contract.references
    if references:
        lines.append("References (warnings): " + "; ".join(r.label for r in references) + ".")
    checks = ", ".join(
        f"`{c.name}`{' (blocking)' if c.blocking else ''}" for c in checks_for(dataset)
    )
    lines += [f"Checks: {checks}.", ""]
    return "\n".join(lines)


def rules_markdown() -> str:
    return "\n".join(dataset_rules(d) for d in (*DATASETS, ENTRA)).rstrip() + "\n"


def replace_section(text: str, generated: str, start: str = START, end: str = END) -> str:
    """`text` with what stands between the markers `start` and `end` replaced by `generated`."""
    head, found_start, rest = text.partition(start)
    _, found_end, tail = rest.partition(end)
    if not found_start or not found_end:
        raise ValueError(f"markers {start} and {end} not found")
    return f"{head}{start}\n{generated}{end}{tail}"
