"""Deterministic GUIDs and time units shared by the generator modules."""

from __future__ import annotations

import datetime as dt

import numpy as np

TICKS_PER_SECOND = 10_000_000  # .NET ticks (100 ns): datetimeoffset carries 7 fractional digits
TICKS_PER_MINUTE = 60 * TICKS_PER_SECOND
TICKS_PER_DAY = 86_400 * TICKS_PER_SECOND
NEVER = np.iinfo(np.int64).max  # "not left yet" / "never expires from the data"
_EPOCH = dt.date(1970, 1, 1)

_HEX = np.frombuffer(b"0123456789abcdef", dtype="S1")
# Positions of the 32 hex digits inside the 36-character 8-4-4-4-12 form.
_DIGIT_POS = np.array([i for i in range(36) if i not in (8, 13, 18, 23)])


def day_number(day: dt.date) -> int:
    """Days since 1970-01-01."""
    return (day - _EPOCH).days


def guids(rng: np.random.Generator, n: int) -> np.ndarray:
    """`n` random version-4 GUIDs as a numpy unicode array, lowercase 8-4-4-4-12, vectorized."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    digits = np.empty((n, 32), dtype="S1")
    digits[:, 0::2] = _HEX[raw >> 4]
    digits[:, 1::2] = _HEX[raw & 0x0F]
    chars = np.full((n, 36), b"-", dtype="S1")
    chars[:, _DIGIT_POS] = digits
    return chars.view("S36").ravel().astype("U36")


def yyyymmdd(days: np.ndarray) -> np.ndarray:
    """Day numbers -> integers like 20261127, vectorized."""
    d = days.astype("datetime64[D]")
    month_start = d.astype("datetime64[M]")
    year = d.astype("datetime64[Y]").astype(np.int64) + 1970
    month = month_start.astype(np.int64) % 12 + 1
    day = (d - month_start).astype(np.int64) + 1
    return year * 10_000 + month * 100 + day


def add_one_year(days: np.ndarray) -> np.ndarray:
    """Same calendar day one year later (29 February -> 1 March), on day numbers."""
    d = days.astype("datetime64[D]")
    month_start = d.astype("datetime64[M]")
    return ((month_start + 12).astype("datetime64[D]") + (d - month_start)).astype(np.int64)
