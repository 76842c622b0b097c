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
_PREFIXES = pa.array(FORMULA_PREFIXES)


def neutralize(text: str) -> str:
    """`text` with a leading `'` if a spreadsheet could read it as a formula."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def is_text(type_: pa.DataType) -> bool:
    return pa.types.is_string(type_) or pa.types.is_large_string(type_)


def neutralize_column(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Vectorized `neutralize` for an Arrow text column; nulls stay null. Asks each value's first
    character, not a regular expression: a column with no risky value (the common case) comes
    back as it is (module_uid of module_progress at L, 2 M rows: 0.5 s by regex, 0.1 s so)."""
    text = column.type  # string or large_string: the literals take its type
    risky = pc.is_in(pc.utf8_slice_codeunits(column, 0, 1), value_set=_PREFIXES.cast(text))
    if not pc.any(risky).as_py():
        return column
    quoted = pc.binary_join_element_wise(pa.scalar("'", text), column, pa.scalar("", text))
    return pc.if_else(risky, quoted, column)
