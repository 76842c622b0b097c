"""`generate_sample`: build one sample tenant and write its daily snapshots and Entra export."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from learn_assets.contracts.datasets import DATASETS
from learn_assets.generator.catalog import build_catalog
from learn_assets.generator.corrections import REDELIVERY_DIR, Corrections, apply_corrections
from learn_assets.generator.entra import entra_frame, entra_select
from learn_assets.generator.faults import plan_faults, write_faults
from learn_assets.generator.frames import tenant_frames
from learn_assets.generator.history import build_history
from learn_assets.generator.ids import TICKS_PER_DAY, day_number, guids
from learn_assets.generator.population import build_learners, early_share
from learn_assets.generator.writer import FORMATS, connect, write_frame, write_relation

ENTRA_FILE = "entra_users.csv"


@dataclass(frozen=True)
class SampleSummary:
    out: Path
    snapshots: list[dt.date]
    rows: dict[str, dict[str, int]]  # snapshot date ISO -> dataset name -> rows written
    entra_users: int
    tenant_id: str
    learners: int  # learners in the whole history (present on some day or not)
    fmt: str
    # (row-fault day, file-fault day) with faults, else empty; not in `snapshots` nor `rows`.
    fault_snapshots: tuple[dt.date, ...] = ()
    corrections: Corrections | None = None


def _validate(
    users: int,
    days: int,
    start: dt.date,
    seed: int,
    fmt: str,
    faults: bool = False,
    activity: float = 1.0,
    growth: float | None = None,
    corrections: bool = False,
) -> None:
    def is_int(value: object) -> bool:
        return isinstance(value, int | np.integer) and not isinstance(value, bool)

    if not is_int(users) or users < 1:
        raise ValueError(f"users must be an integer >= 1, got {users!r}")
    if not is_int(days) or days < 1:
        raise ValueError(f"days must be an integer >= 1, got {days!r}")
    if not isinstance(start, dt.date) or isinstance(start, dt.datetime):
        raise ValueError(f"start must be a datetime.date, got {start!r}")
    if not is_int(seed) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if not isinstance(faults, bool):
        raise ValueError(f"faults must be True or False, got {faults!r}")
    if faults and fmt != "csv":
        raise ValueError("--faults needs --format csv")
    if not isinstance(activity, int | float) or not 0 < activity <= 50:
        raise ValueError(f"activity must be a number in (0, 50], got {activity!r}")
    if growth is not None and (not isinstance(growth, int | float) or not 0 <= growth <= 1):
        raise ValueError(f"growth must be a number in [0, 1], got {growth!r}")
    if corrections and days < 3:
        raise ValueError(f"--corrections needs at least 3 days, got {days}")


def generate_sample(
    out: Path,
    users: int,
    days: int,
    start: dt.date,
    seed: int,
    fmt: str = "csv",
    faults: bool = False,
    activity: float = 1.0,
    growth: float | None = None,
    corrections: bool = False,
    progress: Callable[[str], None] | None = None,
) -> SampleSummary:
    """Write `days` full daily snapshots of a sample tenant with `users` learners under `out`.

    Layout: `out/<YYYY-MM-DD>/<Dataset>.<fmt>` for the 11 datasets, and `out/entra_users.csv`.
    Same arguments give byte-identical files; existing files are replaced.

    With `faults` (CSV only), two more snapshot folders follow the clean days, a row-fault one
    and a file-fault one, described in `out/faults.json` (see `faults.py`). They are ordinary
    days of the tenant before the faults go in, so the files of the run equal those of a clean
    run with `days + 2` except for the faults themselves.

    `activity` scales how much each learner studies (more Progress rows per learner); `growth`
    sets how many learners join per day, as a share of the first day's (default: 30% of all
    learners join spread over the days). `corrections` makes some values change in later
    deliveries and writes a corrected re-delivery of an earlier day (see `corrections.py`).
    `progress` is told each day as it is written, then the Entra export.
    """
    _validate(users, days, start, seed, fmt, faults, activity, growth, corrections)
    out = Path(out)
    # Independent streams per part, so e.g. the Entra export can change without moving events.
    # The fault stream is a fifth child: spawning it leaves the first four (and clean bytes) as is.
    streams = np.random.SeedSequence(seed).spawn(6)
    tenant_rng, learner_rng, history_rng, entra_rng, fault_rng = (
        np.random.default_rng(s) for s in streams[:5]
    )
    tenant_id = str(guids(tenant_rng, 1)[0])
    snapshots = [start + dt.timedelta(days=i) for i in range(days)]
    fault_days = tuple(start + dt.timedelta(days=days + i) for i in range(2 if faults else 0))
    # Fault days are generated as normal days (learners and history span them), faulted after.
    written = [*snapshots, *fault_days]
    cutoffs = np.array([day_number(d) * TICKS_PER_DAY for d in written], np.int64)

    catalog = build_catalog()
    learners = build_learners(learner_rng, int(users), cutoffs, early_share(days, growth))
    history = build_history(history_rng, learners, catalog, cutoffs, activity)
    frames = tenant_frames(learners, history, catalog)
    redelivery, fixed = None, None
    if corrections:
        # Values change from the middle day on; the day before is also re-delivered fixed.
        k = days // 2
        both = (int(cutoffs[k - 1]), int(cutoffs[k]))
        frames, n_progress, n_certs = apply_corrections(frames, streams[5], both, both[1] - 1)
        redelivery, _, _ = apply_corrections(
            tenant_frames(learners, history, catalog), streams[5], both, both[0] - 1
        )
        fixed = Corrections(snapshots[k], snapshots[k - 1], n_progress, n_certs)

    con = connect(tenant_id)
    rows: dict[str, dict[str, int]] = {}
    first_folder: Path | None = None
    try:
        plan = None
        if faults:
            # Drawn before writing: a tenant too small for the faults fails with nothing written.
            plan = plan_faults(
                con,
                frames,
                catalog,
                learners,
                tenant_id,
                (fault_days[0], fault_days[1]),
                (int(cutoffs[-2]), int(cutoffs[-1])),
                fault_rng,
            )
        for day, cutoff in zip(written, cutoffs, strict=True):
            folder = out / day.isoformat()
            folder.mkdir(parents=True, exist_ok=True)
            counts: dict[str, int] = {}
            for ds in DATASETS:
                path = folder / f"{ds.name}.{fmt}"
                if ds.tenant:
                    frame = frames[ds.name]
                    write_frame(con, ds, frame.table, path, fmt, cutoff=int(cutoff))
                    counts[ds.name] = frame.rows_at(int(cutoff))
                    continue
                # The catalog is identical every day: write it once, copy the bytes after.
                if first_folder is None:
                    write_frame(con, ds, catalog.tables[ds.name], path, fmt)
                else:
                    shutil.copyfile(first_folder / path.name, path)
                counts[ds.name] = catalog.tables[ds.name].num_rows
            if day not in fault_days:
                rows[day.isoformat()] = counts
            first_folder = first_folder or folder
            if progress:
                progress(f"wrote {folder}")
        if plan is not None:
            write_faults(con, out, plan, frames)
        if redelivery is not None and fixed is not None and first_folder is not None:
            _write_redelivery(con, out, fixed, redelivery, first_folder, fmt, cutoffs, written)

        entra = entra_frame(entra_rng, learners, int(cutoffs[0]))
        con.register("entra_frame", entra)
        query = f"SELECT {entra_select()} FROM entra_frame"  # noqa: S608 - fixed constants
        write_relation(con.sql(query), out / ENTRA_FILE, "csv", bom=True)
        if progress:
            progress(f"wrote {out / ENTRA_FILE}")
    finally:
        con.close()

    return SampleSummary(
        out=out,
        snapshots=snapshots,
        rows=rows,
        entra_users=entra.num_rows,
        tenant_id=tenant_id,
        learners=learners.n,
        fmt=fmt,
        fault_snapshots=fault_days,
        corrections=fixed,
    )


def _write_redelivery(
    con, out: Path, fixed: Corrections, frames, first_folder: Path, fmt: str, cutoffs, written
) -> None:
    """`<out>/corrections/<day>/`: the re-delivered day, and `<out>/corrections.json`."""
    day = fixed.redelivered_day
    cutoff = int(cutoffs[written.index(day)])
    folder = out / REDELIVERY_DIR / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    for ds in DATASETS:
        path = folder / f"{ds.name}.{fmt}"
        if ds.tenant:
            write_frame(con, ds, frames[ds.name].table, path, fmt, cutoff=cutoff)
        else:
            shutil.copyfile(first_folder / path.name, path)
    described = {
        "correction_day": fixed.correction_day.isoformat(),
        "redelivered_day": day.isoformat(),
        "redelivery_folder": f"{REDELIVERY_DIR}/{day.isoformat()}",
        "corrected_progress_rows": fixed.corrected_progress,
        "renewed_certifications": fixed.renewed_certifications,
    }
    (out / "corrections.json").write_text(json.dumps(described, indent=2) + "\n")
