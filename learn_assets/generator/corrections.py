"""Corrections (`learn-assets sample --corrections`): values that change in later deliveries.

Real deliveries are not append-only: Microsoft corrects values, certifications are renewed, and
an archived day is sometimes delivered again with fixes. With corrections, the sample tenant has:

- **corrected events**: about 1% of the Progress rows delivered before the correction day get a
  new XP value and a timestamp moved by one hour from that day on (the same events: a report
  must count each once, with its latest value);
- **renewed certifications**: about 20% of the expiring certifications held before the correction
  day end one year later from that day on (same start date: the same certification);
- **a re-delivered day**: the day before the correction day, delivered again with the corrected
  values, in `<out>/corrections/<YYYY-MM-DD>/` (all 11 files). Copy it over
  `<out>/<YYYY-MM-DD>/` and run that date to see a corrected re-delivery flow through.

`<out>/corrections.json` lists the correction day, the re-delivered day and the counts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from learn_assets.generator.frames import FROM, LOCAL, UNTIL, Frame
from learn_assets.generator.ids import TICKS_PER_SECOND, add_one_year, yyyymmdd

CORRECTED_SHARE = 0.01
RENEWED_SHARE = 0.2
MOVE_TICKS = 3600 * TICKS_PER_SECOND  # a corrected event's timestamp moves one hour later
REDELIVERY_DIR = "corrections"


@dataclass(frozen=True)
class Corrections:
    correction_day: dt.date  # first snapshot carrying the corrected values
    redelivered_day: dt.date  # the earlier day re-delivered with them (in corrections/)
    corrected_progress: int
    renewed_certifications: int


def _split(frame: Frame, picked: np.ndarray, at: int, changed: dict[str, pa.Array]) -> Frame:
    """Rows `picked` show their original values until tick `at` and `changed` ones from then."""
    table = frame.table
    until = np.asarray(frame.visible_until).copy()
    originals_until = np.where(picked, np.minimum(until, at), until)
    index = np.flatnonzero(picked)
    corrected = table.take(pa.array(index))
    for name, values in changed.items():
        corrected = corrected.set_column(corrected.schema.get_field_index(name), name, values)
    starts = np.maximum(np.asarray(frame.visible_from)[index], at)
    corrected = corrected.set_column(corrected.schema.get_field_index(FROM), FROM, pa.array(starts))
    kept = table.set_column(table.schema.get_field_index(UNTIL), UNTIL, pa.array(originals_until))
    merged = pa.concat_tables([kept, corrected.cast(kept.schema)])
    return Frame(
        merged,
        np.concatenate([np.asarray(frame.visible_from), starts]),
        np.concatenate([originals_until, until[index]]),
    )


def apply_corrections(
    frames: dict[str, Frame], seed: np.random.SeedSequence, held_before: int, at: int
) -> tuple[dict[str, Frame], int, int]:
    """Frames in which rows delivered before tick `held_before` (picked at random from `seed`:
    the same rows for every `at`) carry corrected values from tick `at` on."""
    rng = np.random.default_rng(seed)
    progress = frames["Progress"]
    before = np.asarray(progress.visible_from) < held_before
    picked = before & (rng.random(len(before)) < CORRECTED_SHARE)
    index = np.flatnonzero(picked)
    xp = np.asarray(progress.table.column("XP").to_numpy())[index]
    local = np.asarray(progress.table.column(LOCAL).to_numpy())[index]
    corrected_progress = _split(
        progress,
        picked,
        at,
        {
            "XP": pa.array((xp + 50).astype(np.int32)),
            LOCAL: pa.array(local + MOVE_TICKS),
        },
    )

    certs = frames["Certifications"]
    table = certs.table
    end = table.column("CertificationEndDate").to_numpy()
    expiring = end > 19_000_000  # a real date, not the 0 / 18991229 "no date" placeholder
    held = np.asarray(certs.visible_from) < held_before
    renewed = expiring & held & (rng.random(len(end)) < RENEWED_SHARE)
    index = np.flatnonzero(renewed)

    def one_year_later(column: str) -> pa.Array:
        values = table.column(column).to_numpy()[index]
        days = np.array(
            [f"{v // 10_000:04d}-{v // 100 % 100:02d}-{v % 100:02d}" for v in values],
            "datetime64[D]",
        ).astype(np.int64)
        return pa.array(yyyymmdd(add_one_year(days)).astype(np.int32))

    corrected_certs = _split(
        certs,
        renewed,
        at,
        {
            "CertificationEndDate": one_year_later("CertificationEndDate"),
            "StayCurrentEligibilityStartDate": one_year_later("StayCurrentEligibilityStartDate"),
        },
    )
    out = dict(frames) | {"Progress": corrected_progress, "Certifications": corrected_certs}
    return out, int(picked.sum()), int(renewed.sum())
