"""The rule tables of docs/contracts.md, generated from the contracts so the docs cannot drift.

The "quarantined when" cells are the reasons of the rules each column declares (the vocabulary of
`contracts/rules.py`), the same texts staging quarantines rows with.

`python -m learn_assets.staged.docs` prints them; `--write docs/contracts.md` (or `make docs`)
replaces the section between the markers in that page.
"""

from __future__ import annotations

import sys
from pathlib import Path

from learn_assets.contracts.datasets import DATASETS, ENTRA, Dataset
from learn_assets.contracts.schemas import column_rules, frame_rules
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
        source = column.metadata.get("source")
        origin = f"`{source}`" if source else f"derived from `{column.metadata['derived_from']}`"
        rules = "; ".join(what for rule in column_rules(name, column) for what in rule.reasons())
        lines.append(f"| `{name}` | {origin} | {compiled.types[name]} | {rules} |")
    row_rules = [rule.reason() for rule in frame_rules(dataset.contract)]
    key = ", ".join(f"`{k}`" for k in compiled.key)
    lines += ["", f"Key (unique per snapshot; identical repeated rows are quarantined): {key}."]
    if row_rules:
        lines.append("Also quarantined when: " + "; ".join(row_rules) + ".")
    references = dataset.contract.metadata["references"]
    if references:
        lines.append("References (warnings): " + "; ".join(r.label for r in references) + ".")
    checks = ", ".join(
        f"`{c.name}`{' (blocking)' if c.blocking else ''}" for c in checks_for(dataset)
    )
    lines += [f"Checks: {checks}.", ""]
    return "\n".join(lines)


def rules_markdown() -> str:
    return "\n".join(dataset_rules(d) for d in (*DATASETS, ENTRA)).rstrip() + "\n"


def replace_section(text: str, generated: str) -> str:
    head, start, rest = text.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise ValueError(f"markers {START} and {END} not found")
    return f"{head}{START}\n{generated}{END}{tail}"


def main(argv: list[str]) -> int:
    if argv[:1] == ["--write"] and len(argv) == 2:
        path = Path(argv[1])
        path.write_text(replace_section(path.read_text(), rules_markdown()))
        return 0
    sys.stdout.write(rules_markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
