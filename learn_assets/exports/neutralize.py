"""Formula neutralization (OWASP "CSV injection"): text that a spreadsheet would run as a formula.

Entra exports do not escape display names or departments, so a name like `=HYPERLINK(...)`
reaches our reports as delivered. Every text cell written for spreadsheets (CSV, XLSX) that starts
with one of these characters gets a leading `'`, which makes spreadsheets show it as text.
Numbers are never touched: `-3` days to expiry is a number, not a formula.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_START = r"^([=+\-@\t\r])"


def neutralize(text: str) -> str:
    """`text` with a leading `'` if a spreadsheet could read it as a formula."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def is_text(type_: pa.DataType) -> bool:
    return pa.types.is_string(type_) or pa.types.is_large_string(type_)


def neutralize_column(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Vectorized `neutralize` for an Arrow text column; nulls stay null."""
    return pc.replace_substring_regex(column, _FORMULA_START, r"'\1")
