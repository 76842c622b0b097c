"""`make docs`: regenerate every generated section of the documentation from the code, so the
docs cannot drift (a test compares each section with what the code generates)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from learn_assets.columns import COLUMNS_END, COLUMNS_START, columns_markdown
from learn_assets.settings import configuration_table
from learn_assets.staged.docs import END, START, replace_section, rules_markdown

ROOT = Path(__file__).resolve().parents[1]

# (page, start marker, end marker, generator)
GENERATED: tuple[tuple[str, str, str, Callable[[], str]], ...] = (
    ("docs/contracts.md", START, END, rules_markdown),
    ("README.md", "<!-- settings:start -->", "<!-- settings:end -->", configuration_table),
    ("docs/report-columns.md", COLUMNS_START, COLUMNS_END, columns_markdown),
)


def regenerated(page: str) -> str:
    """The page as the code would write it."""
    text = (ROOT / page).read_text()
    for path, start, end, make in GENERATED:
        if path == page:
            text = replace_section(text, make(), start, end)
    return text


def main() -> int:
    for page in dict.fromkeys(path for path, *_ in GENERATED):
        (ROOT / page).write_text(regenerated(page))
        print(f"wrote {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
