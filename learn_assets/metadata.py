"""Small helpers for asset and check metadata shown in the Dagster UI."""

from collections.abc import Sequence


def markdown_table(
    columns: Sequence[str], rows: Sequence[Sequence[object]], max_width: int | None = 80
) -> str:
    """A Markdown table; cells are escaped and, with `max_width`, shortened with an ellipsis."""

    def cell(value: object) -> str:
        text = "" if value is None else str(value)
        if max_width is not None and len(text) > max_width:
            text = text[:max_width] + "…"
        return text.replace("|", "\\|").replace("\n", " ")

    header = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns)
    return header + "".join("\n| " + " | ".join(cell(v) for v in row) + " |" for row in rows)
