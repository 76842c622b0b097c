"""Benchmark of the whole pipeline against the DuckDB floor and a naive pandas + pandera baseline.

    make bench SIZE=S|M|L          (.venv/bin/python bench/run.py --size S)

S = 2,000 learners, M = 20,000, L = 100,000 (generator activity 6: about 110 Progress rows per
learner, so L has over 10 million; growth 0.3% new learners a day). Generates the tenant with the
project's generator into bench/out/ (reused when present), then runs every measured step in a
child process of its own: wall time is the child's whole life (imports included), peak memory is
the child's maximum RSS (`os.wait4`, which covers the child and its waited-for descendants).
Prints one Markdown table and writes it to bench/RESULTS.md (each size its own section, replaced
on a rerun).

Steps, all on the same files and each in a fresh warehouse where it says so:
- floor: DuckDB alone, `read_csv(all_varchar)` of every file of the first snapshot into tables;
- layers: raw, staged, core, reports, exports, publish materialized one group per child (same
  partition);
- pipeline: the whole pipeline for the first snapshot (as `make backfill` would), then the second
  snapshot into the same warehouse; and the pipeline without exports in another warehouse;
- naive: `pandas.read_csv` + pandera's pandas backend with the contracts + write to DuckDB, for
  every tenant dataset;
- peer: the staged and quarantine tables of the first snapshot built by one DuckDB SQL script
  with no orchestration (read, type, validate with the same contract rules, drop repeated rows,
  write): what an engineer would write with DuckDB alone, and what the pipeline's raw + staged
  layers are compared with (its staged rows are checked equal to the pipeline's);
- backfill: the first 30 snapshots in one run (--backfill DAYS; 0 skips it). At L the backfill
  reads a Parquet landing of its own (30 days of CSV would need about 72 GB of disk), with its own
  one-snapshot reference measured on those files (--backfill-format).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"
RESULTS = BENCH / "RESULTS.md"
START = dt.date(2026, 10, 1)  # first generated snapshot; LEARN_START_DATE for the children
SIZES = {"S": 2_000, "M": 20_000, "L": 100_000}
# The tenant's shape at every size: ~110 Progress rows per learner (so L has > 10 M) and a slowly
# growing population (0.3% new learners a day; with ongoing study ~0.6% new Progress rows a day).
ACTIVITY = 6.0
GROWTH = 0.003
LAYERS = ("raw", "staged", "core", "reports", "exports", "publish")
BACKFILL_DAYS = 30
GB = 1024**3


# ---------------------------------------------------------------- pure helpers (tested)


@dataclass(frozen=True)
class Measure:
    wall_s: float  # the child process, start to exit
    peak_bytes: int  # max RSS of the child process tree
    data: dict  # what the child reported (work time, rows, ...)
    # CPU seconds (user + system) of the child process tree: on a shared machine, steadier than
    # the wall time, which other processes' load stretches
    cpu_s: float = 0.0

    @property
    def peak_gb(self) -> float:
        return self.peak_bytes / GB


def ratio(a: float, b: float) -> float:
    return a / b if b else float("inf")


def verdict(ok: bool, text: str) -> str:
    return f"**{'PASS' if ok else 'MISS'}** {text}"


def fmt_s(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds:,.1f} s"


def fmt_gb(peak: float | None) -> str:
    return "n/a" if peak is None else f"{peak:.2f} GB"


def fmt_mb(size: int) -> str:
    return f"{size / 1024**2:,.1f} MB"


def tree_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


HTML_LIMIT = 5 * 1024**2  # report.html must stay e-mailable at every size


def export_file_sizes(exports: Path, day: str) -> dict[str, int | None]:
    """Bytes of the snapshot's report.html and reports.xlsx (None: not written)."""
    folder = Path(exports) / day
    return {
        name: (folder / name).stat().st_size if (folder / name).is_file() else None
        for name in ("report.html", "reports.xlsx")
    }


def landing_name(users: int, days: int, fmt: str = "csv", corrections: bool = False) -> str:
    """One folder per tenant shape and format, so a landing is generated once and reused."""
    suffix = ("" if fmt == "csv" else f"-{fmt}") + ("-corrections" if corrections else "")
    return f"landing-{users}-{days}d-a{ACTIVITY:g}-g{GROWTH:g}{suffix}"


def replace_section(text: str, size: str, section: str) -> str:
    """RESULTS.md keeps one `## Size X` section per size, in S, M, L order."""
    parts = re.split(r"(?m)^(?=## Size )", text)
    head, sections = parts[0], {p[8]: p for p in parts[1:] if len(p) > 8}
    sections[size] = section.rstrip() + "\n\n"
    return head + "".join(sections[s] for s in sorted(sections, key="SML".index))


# ---------------------------------------------------------------- child steps


def _resources(args: argparse.Namespace) -> dict[str, object]:
    from learn_assets.resources.settings import resources_from_env

    return resources_from_env(
        {
            "LEARN_LANDING_DIR": args.landing,
            "LEARN_WAREHOUSE": args.warehouse,
            "LEARN_EXPORTS_DIR": args.exports,
            "LEARN_CACHE_DIR": str(Path(args.warehouse).parent / "cache"),
            # The published copies beside the run's warehouse (each measured warehouse has its own).
            "LEARN_LAKE_DIR": str(Path(args.warehouse).with_suffix(".lake")),
            "LEARN_SERVING_DATABASE": str(Path(args.warehouse).with_suffix(".serving.duckdb")),
            # The product's default unless the caller sets it (e.g. to measure another cap).
            "LEARN_DUCKDB_MEMORY_LIMIT": os.environ.get("LEARN_DUCKDB_MEMORY_LIMIT", ""),
        }
    )


def step_floor(args: argparse.Namespace) -> dict:
    import duckdb

    folder = Path(args.landing) / args.first
    rows = {}
    started = time.perf_counter()
    with duckdb.connect(args.warehouse) as conn:
        for path in sorted(folder.iterdir()):
            name = path.stem
            conn.execute(
                f'CREATE TABLE "{name}" AS SELECT * FROM read_csv(?, all_varchar = true, '
                "header = true)",
                [str(path)],
            )
            rows[name] = conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
    return {"work_s": time.perf_counter() - started, "rows": rows}


def _step_seconds(instance, results: list) -> dict[str, float]:
    """Seconds per layer inside the run(s), from the step start and success events."""
    started, per_layer = {}, {}
    for result in results:
        for entry in instance.all_logs(result.run_id):
            event = entry.dagster_event
            if event is None:
                continue
            if event.event_type_value == "STEP_START":
                started[event.step_key] = entry.timestamp
            elif event.event_type_value == "STEP_SUCCESS" and event.step_key in started:
                layer = event.step_key.split("__", 1)[0]
                seconds = entry.timestamp - started[event.step_key]
                per_layer[layer] = per_layer.get(layer, 0.0) + seconds
    return per_layer


def step_layer(args: argparse.Namespace) -> dict:
    """One group (or the unpartitioned assets) for one partition."""
    import dagster as dg

    from learn_assets.graph import ASSETS
    from learn_assets.runs import QUIET, raise_on_failure

    if args.group == "unpartitioned":
        keys = [a.key for a in ASSETS if a.partitions_def is None]
        partition = None
    else:
        keys = [
            key
            for a in ASSETS
            if a.partitions_def is not None
            for key, group in a.group_names_by_key.items()
            if group == args.group
        ]
        partition = args.first
    started = time.perf_counter()
    result = dg.materialize(
        ASSETS,
        selection=keys,
        partition_key=partition,
        resources=_resources(args),
        instance=dg.DagsterInstance.ephemeral(),
        run_config=QUIET,
        raise_on_error=False,
    )
    raise_on_failure(result)
    return {"work_s": time.perf_counter() - started, "assets": len(keys)}


def step_pipeline(args: argparse.Namespace) -> dict:
    """The whole pipeline (or without exports) for first..last, as `make backfill` runs it;
    also the Progress rows of the first and last snapshot."""
    import dagster as dg
    import duckdb

    from learn_assets.runs import materialize_snapshots
    from learn_assets.warehouse.versioned import snapshot_row_count

    first, last = dt.date.fromisoformat(args.first), dt.date.fromisoformat(args.last)
    instance = dg.DagsterInstance.ephemeral()
    started = time.perf_counter()
    skip = ("exports",) if args.group == "no-exports" else ()
    results = materialize_snapshots(
        first, last, _resources(args), instance=instance, skip_groups=skip
    )
    work_s = time.perf_counter() - started
    with duckdb.connect(args.warehouse, read_only=True) as conn:
        progress = [snapshot_row_count(conn, "raw", "progress", day) for day in (first, last)]
    return {"work_s": work_s, "steps": _step_seconds(instance, results), "progress": progress}


def step_forget(args: argparse.Namespace) -> dict:
    """The `forget` job for snapshot --first, as `learn-assets forget` runs it."""
    import dagster as dg

    from learn_assets.jobs import forget_job
    from learn_assets.runs import raise_on_failure

    started = time.perf_counter()
    config = {"ops": {"forget_snapshot": {"config": {"snapshot": args.first}}}}
    result = forget_job.execute_in_process(
        run_config=config,
        instance=dg.DagsterInstance.ephemeral(),
        resources=_resources(args),
        raise_on_error=False,
    )
    raise_on_failure(result)
    return {"work_s": time.perf_counter() - started}


def _naive_frame(dataset, path: Path):
    """What a user would write by hand: read the CSV with pandas, parse each column by kind,
    validate with the pandera contract (pandas backend), keep the valid rows."""
    import json as jsonlib

    import pandas as pd
    import pandera.errors

    from learn_assets.contracts.kinds import Kind
    from learn_assets.contracts.schemas import LEARN_SITE

    raw = pd.read_csv(path, dtype=str, keep_default_na=False, engine="pyarrow")
    raw.columns = [c.lstrip("\ufeff") for c in raw.columns]
    by_lower = {c.lower(): c for c in raw.columns}
    frame = pd.DataFrame(index=raw.index)
    for name, column in dataset.contract.columns.items():
        if column.derived_from is not None:
            url = frame[column.derived_from]
            frame[name] = (LEARN_SITE + url).where(url.notna())
            continue
        text = raw[by_lower[column.source.lower()]].replace("", None)
        kind = column.kind
        if kind is Kind.GUID:
            text = text.str.lower()
        elif kind is Kind.INT:
            text = pd.to_numeric(text, errors="coerce").astype("Int64")
        elif kind in (Kind.DATETIMEOFFSET, Kind.DATETIME):
            text = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
        elif kind is Kind.YYYYMMDD:
            text = pd.to_datetime(text.where(~text.fillna("0").str.match(r"^(0|1899)")), "coerce")
        elif kind is Kind.JSON_ARRAY:
            text = text.map(lambda v: jsonlib.loads(v) if isinstance(v, str) else None)
        elif kind is Kind.BOOLEAN:
            text = text.map({"True": True, "False": False}).astype("boolean")
        frame[name] = text
    try:
        valid = dataset.contract.pandera.validate(frame, lazy=True)
        bad = 0
    except pandera.errors.SchemaErrors as errors:
        index = errors.failure_cases["index"].dropna().unique()
        valid = frame.drop(index=[i for i in index if i in frame.index])
        bad = len(frame) - len(valid)
    return valid, bad


def step_naive(args: argparse.Namespace) -> dict:
    import duckdb

    from learn_assets.contracts.datasets import DATASETS

    folder = Path(args.landing) / args.first
    seconds, rows = {}, {}
    started = time.perf_counter()
    with duckdb.connect(args.warehouse) as conn:
        for dataset in DATASETS:
            if not dataset.tenant:
                continue
            t0 = time.perf_counter()
            frame, bad = _naive_frame(dataset, folder / f"{dataset.name}.csv")
            conn.register("frame", frame)
            conn.execute(f"CREATE TABLE {dataset.table} AS SELECT * FROM frame")
            conn.unregister("frame")
            seconds[dataset.name] = time.perf_counter() - t0
            rows[dataset.name] = {"valid": len(frame), "rejected": bad}
            del frame
    return {"work_s": time.perf_counter() - started, "seconds": seconds, "rows": rows}


def peer_script(folder: Path, snapshot: str) -> str:
    """One DuckDB SQL script building `staged.<table>` and `quarantine.<table>` for every dataset
    of the snapshot in `folder`: each CSV read as text, typed and judged by the compiled contract
    (the SQL the staged layer runs), repeated rows dropped, the rest written. No versions,
    history, ledgers, check log or orchestration: the honest lower bound for raw + staged."""
    from learn_assets.contracts.datasets import DATASETS
    from learn_assets.contracts.sql import compile_contract, judged_select, repeats_select
    from learn_assets.staged.stage import DUPLICATE
    from learn_assets.warehouse.sql import quote_ident, quote_literal

    statements = [
        "SET TimeZone = 'UTC'",
        "CREATE SCHEMA IF NOT EXISTS staged",
        "CREATE SCHEMA IF NOT EXISTS quarantine",
    ]
    for dataset in DATASETS:
        compiled = compile_contract(dataset.contract)
        table, source, judged = quote_ident(dataset.table), f"src_{dataset.table}", "judged"
        delivered = ", ".join(quote_ident(c) for c in dataset.column_names)
        path = quote_literal(str(folder / f"{dataset.name}.csv"))
        repeats = repeats_select(dataset.column_names, source, judged)
        originals = ", ".join(f"s.{quote_ident(c)}" for c in dataset.column_names)
        statements += [
            f"CREATE OR REPLACE TEMP TABLE {source} AS SELECT row_number() OVER () AS raw_rowid, "
            f"DATE {quote_literal(snapshot)} AS snapshot_date, {delivered} "
            f"FROM read_csv({path}, header = true, all_varchar = true)",
            f"CREATE OR REPLACE TEMP TABLE {judged} AS "
            + judged_select(compiled, dataset.column_names, source),
            f"CREATE OR REPLACE TEMP TABLE repeats AS {repeats}",
            f"CREATE TABLE staged.{table} AS SELECT "
            + ", ".join(quote_ident(c) for c in compiled.types)
            + f" FROM {judged} WHERE reason = '' AND raw_rowid NOT IN (SELECT raw_rowid FROM "
            "repeats)",
            f"CREATE TABLE quarantine.{table} AS SELECT concat_ws('; ', NULLIF(j.reason, ''), "
            f"CASE WHEN r.raw_rowid IS NOT NULL THEN {quote_literal(DUPLICATE)} END) AS reason, "
            f"{originals} FROM {source} s JOIN {judged} j USING (raw_rowid) "
            "LEFT JOIN repeats r USING (raw_rowid) WHERE j.reason <> '' OR r.raw_rowid IS NOT NULL",
            f"DROP TABLE {source}",
        ]
    return ";\n".join(statements) + ";\n"


def step_peer(args: argparse.Namespace) -> dict:
    import duckdb

    from learn_assets.contracts.datasets import DATASETS

    script = peer_script(Path(args.landing) / args.first, args.first)
    Path(args.warehouse).with_suffix(".sql").write_text(script)  # to read what was timed
    started = time.perf_counter()
    with duckdb.connect(args.warehouse) as conn:
        conn.execute(script)
        work_s = time.perf_counter() - started
        staged = {
            d.table: conn.execute(f'SELECT count(*) FROM staged."{d.table}"').fetchone()[0]
            for d in DATASETS
        }
    return {"work_s": work_s, "staged": staged}


def staged_rows(warehouse: str, day: str) -> dict[str, int]:
    """Staged rows of snapshot `day` per table in a pipeline's warehouse."""
    import duckdb

    from learn_assets.contracts.datasets import DATASETS

    with duckdb.connect(warehouse, read_only=True) as conn:
        return {
            d.table: conn.execute(
                f'SELECT count(*) FROM staged."{d.table}" WHERE snapshot_date = ?', [day]
            ).fetchone()[0]
            for d in DATASETS
        }


STEPS = {
    "floor": step_floor,
    "layer": step_layer,
    "pipeline": step_pipeline,
    "naive": step_naive,
    "peer": step_peer,
    "forget": step_forget,
}


def child_main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("step", choices=STEPS)
    for name in ("landing", "warehouse", "exports", "first", "last", "group", "report"):
        parser.add_argument(f"--{name}", default="")
    args = parser.parse_args(argv)
    data = STEPS[args.step](args)
    Path(args.report).write_text(json.dumps(data))


# ---------------------------------------------------------------- parent


def measure(step: str, **options: str) -> Measure:
    """Run one step in a child process; its wall time and max RSS (the child's process tree)."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        report = Path(handle.name)
    command = [sys.executable, __file__, "--child", step, "--report", str(report)]
    for name, value in options.items():
        command += [f"--{name}", str(value)]
    env = {**os.environ, "LEARN_START_DATE": START.isoformat()}
    env.pop("DAGSTER_HOME", None)  # the children use ephemeral instances
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"bench step {step} {options} failed ({process.returncode})")
    data = json.loads(report.read_text())
    report.unlink()
    peak = usage.ru_maxrss * 1024  # KiB on Linux
    cpu = usage.ru_utime + usage.ru_stime
    print(
        f"  {step} {options.get('group', '')}: {wall:.1f} s, CPU {cpu:.1f} s, {peak / GB:.2f} GB",
        flush=True,
    )
    return Measure(wall, peak, data, cpu)


def machine() -> str:
    import dagster
    import duckdb
    import pandas
    import pandera

    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = "unknown"
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            mem = f"{int(line.split()[1]) / 1024**2:.1f} GB"
    return (
        f"`nproc` {os.cpu_count()}, memory {mem}, CPU {cpu}, {platform.system()} "
        f"{platform.machine()}; Python {platform.python_version()}, DuckDB {duckdb.__version__}, "
        f"Dagster {dagster.__version__}, pandas {pandas.__version__}, pandera {pandera.__version__}"
    )


def landing_for(users: int, days: int, fmt: str = "csv", corrections: bool = False) -> Path:
    """bench/out/landing-<users>-<days>d[-parquet][-corrections], generated once (reused)."""
    landing = OUT / landing_name(users, days, fmt, corrections)
    if not (landing / "entra_users.csv").exists():
        started = time.perf_counter()
        # In a child: this process stays small, so forked children do not inherit its memory.
        code = (
            "import datetime, sys; from learn_assets.generator import generate_sample; "
            "generate_sample(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), "
            "datetime.date.fromisoformat(sys.argv[4]), seed=1, activity=float(sys.argv[5]), "
            "growth=float(sys.argv[6]), fmt=sys.argv[7], corrections=sys.argv[8] == 'yes')"
        )
        args = [landing, users, days, START.isoformat(), ACTIVITY, GROWTH, fmt]
        args.append("yes" if corrections else "no")
        subprocess.run([sys.executable, "-c", code, *map(str, args)], check=True)
        print(
            f"generated {users:,} learners x {days} days ({fmt}) in "
            f"{time.perf_counter() - started:.1f} s"
        )
    return landing


def fresh(work: Path, name: str) -> dict[str, str]:
    warehouse = work / f"{name}.duckdb"
    for path in work.glob(f"{name}.duckdb*"):
        path.unlink()
    for path in work.glob(f"{name}.serving.duckdb*"):
        path.unlink()
    shutil.rmtree(work / f"{name}.lake", ignore_errors=True)
    exports = work / f"exports-{name}"
    shutil.rmtree(exports, ignore_errors=True)
    return {"warehouse": str(warehouse), "exports": str(exports)}


CORRECTION_DAYS = 4  # days 1-3 in one run, then day 4 (normal), day 2 re-delivered, day 2 forgotten


@dataclass(frozen=True)
class Corrected:
    normal: Measure  # the 4th snapshot, into the warehouse holding the first three
    redelivered: Measure  # the 2nd snapshot again, corrected: later snapshots rebuilt
    forgotten: Measure  # the `forget` job for the 2nd snapshot: later snapshots rebuilt
    days: list[str]


def measure_corrections(users: int, work: Path) -> Corrected:
    """On a --corrections landing: the cost of a normal day, of a corrected re-delivery of an
    earlier day, and of forgetting a day, in the same warehouse."""
    source = landing_for(users, CORRECTION_DAYS, corrections=True)
    landing = work / "landing-corrections"  # a copy of links: the re-delivery changes files
    shutil.rmtree(landing, ignore_errors=True)
    shutil.copytree(source, landing, copy_function=os.link)
    days = sorted(p.name for p in landing.iterdir() if p.is_dir() and p.name[0].isdigit())
    fixed = json.loads((landing / "corrections.json").read_text())
    db = fresh(work, "corrections")
    common = {"landing": str(landing), **db}
    measure("pipeline", **common, first=days[0], last=days[2])
    normal = measure("pipeline", **common, first=days[3], last=days[3])
    redelivered_day = fixed["redelivered_day"]
    for file in (landing / fixed["redelivery_folder"]).iterdir():
        target = landing / redelivered_day / file.name
        target.unlink()
        shutil.copyfile(file, target)
    redelivered = measure("pipeline", **common, first=redelivered_day, last=redelivered_day)
    forgotten = measure("forget", **common, first=redelivered_day)
    return Corrected(normal, redelivered, forgotten, days)


def issue_goals(
    size: str,
    floor: Measure,
    whole: Measure,
    second: Measure | None,
    back: Measure | None,
    backfill_days: int,
) -> list[str]:
    """Verdicts on the goals of issue #18 that this size measures. Its floor is DuckDB's
    `read_csv` of the day's files in-process (the floor's "inside"; the floor's wall time adds
    the child's interpreter start); the pipeline is the wall time of its child, as a command's."""
    floor_s = floor.data["work_s"]
    lines = []
    if size == "L":
        first = ratio(whole.wall_s, floor_s)
        lines.append(verdict(first <= 4, f"L first snapshot ≤ 4 × floor: {first:.1f}×"))
        if second:
            again = ratio(second.wall_s, floor_s)
            lines.append(verdict(again <= 2.5, f"L second snapshot ≤ 2.5 × floor: {again:.1f}×"))
        lines.append(
            verdict(whole.peak_gb <= 2.0, f"L peak memory ≤ 2.0 GB: {whole.peak_gb:.2f} GB")
        )
        if back and second:
            budget = backfill_days * second.wall_s
            lines.append(
                verdict(
                    back.wall_s <= budget,
                    f"L {backfill_days}-snapshot backfill ≤ {backfill_days} × the second "
                    f"snapshot: {back.wall_s:,.0f} s vs {budget:,.0f} s",
                )
            )
    if size == "S":
        lines.append(
            verdict(whole.wall_s <= 5, f"S one snapshot ≤ 5 s (wall): {whole.wall_s:.1f} s")
        )
        if back:
            year = back.wall_s / backfill_days * 365
            lines.append(
                verdict(
                    year <= 600,
                    f"S 365 snapshots in one run ≤ 10 min: {year / 60:.1f} min, extrapolated "
                    f"from the {backfill_days}-snapshot backfill (not measured)",
                )
            )
    return [f"- issue #18: {line}" for line in lines]


def run_size(
    size: str,
    backfill_days: int,
    naive: bool,
    backfill_format: str = "csv",
    corrections: bool = True,
) -> str:
    backfill = backfill_days > 0
    users = SIZES[size]
    load_start = os.getloadavg()[0]
    # A separate Parquet landing for the backfill when its CSV would not fit on the disk (L).
    separate = backfill and backfill_format != "csv"
    days = backfill_days if backfill and not separate else 2
    landing = landing_for(users, days)
    snapshots = sorted(p.name for p in landing.iterdir() if p.is_dir())
    day1 = snapshots[0]
    work = OUT / f"work-{size}"
    work.mkdir(parents=True, exist_ok=True)
    common = {"landing": str(landing), "first": day1, "last": day1}
    print(f"size {size}: {users:,} learners, snapshots {snapshots[0]}..{snapshots[-1]}")

    floor = measure("floor", **common, **fresh(work, "floor"))
    layers_db = fresh(work, "layers")
    layers = {"unpartitioned": measure("layer", group="unpartitioned", **common, **layers_db)}
    for layer in LAYERS:
        layers[layer] = measure("layer", group=layer, **common, **layers_db)
    one_db = fresh(work, "pipeline")
    whole = measure("pipeline", **common, **one_db)
    size_after_1 = tree_size(Path(one_db["warehouse"]))
    exported = export_file_sizes(Path(one_db["exports"]), day1)
    second = None
    if len(snapshots) > 1:
        second = measure("pipeline", **{**common, "first": snapshots[1], "last": snapshots[1]},
                         **one_db)  # fmt: skip
    no_exports = measure("pipeline", group="no-exports", **common, **fresh(work, "noexports"))
    naive_m = measure("naive", **common, **fresh(work, "naive")) if naive else None
    peer = measure("peer", **common, **fresh(work, "peer"))
    peer_equal = peer.data["staged"] == staged_rows(one_db["warehouse"], day1)
    back, size_after_30 = None, None
    back_landing, back_snapshots = landing, snapshots
    back_one, back_size_after_1 = whole, size_after_1
    if separate:
        # The backfill's own one-snapshot reference and warehouse-after-1, on the same files.
        back_landing = landing_for(users, backfill_days, backfill_format)
        back_snapshots = sorted(p.name for p in back_landing.iterdir() if p.is_dir())
        one_back_db = fresh(work, "backfill-one")
        back_one = measure("pipeline", landing=str(back_landing), first=back_snapshots[0],
                           last=back_snapshots[0], **one_back_db)  # fmt: skip
        back_size_after_1 = tree_size(Path(one_back_db["warehouse"]))
        shutil.rmtree(one_back_db["exports"], ignore_errors=True)  # disk room for the backfill
    if backfill:
        back_db = fresh(work, "backfill")
        back = measure("pipeline", landing=str(back_landing), first=back_snapshots[0],
                       last=back_snapshots[backfill_days - 1], **back_db)  # fmt: skip
        size_after_30 = tree_size(Path(back_db["warehouse"]))
    landing_per_snapshot = tree_size(landing / day1)
    corrected = measure_corrections(users, work) if corrections else None

    # ------------------------------------------------------------ the table
    rows = floor.data["rows"]
    lines = [
        f"## Size {size}: {users:,} learners",
        "",
        f"Machine: {machine()}. Load average (1 min) at the start and the end: "
        f"{load_start:.1f}, {os.getloadavg()[0]:.1f} (other processes stretch wall times; CPU "
        "times, user + system of the child process tree, are steadier).",
        "",
        f"Command: `make bench SIZE={size}` (`.venv/bin/python bench/run.py --size {size}"
        f"{f' --backfill {backfill_days}' if backfill_days != BACKFILL_DAYS else ''}"
        f"{f' --backfill-format {backfill_format}' if separate and size != 'L' else ''}`), run "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC. Tenant: "
        f"`bench/out/{landing.name}` (generator seed 1, activity {ACTIVITY:g}, growth "
        f"{GROWTH:g}, {days} daily snapshot(s) from "
        f"{snapshots[0]}); "
        f"measured snapshot {day1}."
        + (
            f" The backfill reads `bench/out/{back_landing.name}`: the same generator settings, "
            f"{backfill_days} snapshots written as Parquet (30 days of CSV at L need about 72 GB, "
            "more than this machine's free disk); its one-snapshot reference and warehouse "
            "sizes come from those files."
            if separate
            else ""
        ),
        "",
        "| measure | value | wall time | peak RSS | notes |",
        "|---|---:|---:|---:|---|",
    ]
    for name, count in rows.items():
        if name != "entra_users":
            lines.append(f"| rows: {name} | {count:,} | | | first snapshot |")
    if size == "L":
        progress = rows.get("Progress", 0)
        lines.append(
            f"| rows: Progress vs the issue's ≥ 10 M | {progress:,} | | | "
            f"{verdict(progress >= 10_000_000, 'at least 10 M Progress rows')} |"
        )
    lines.append(
        f"| floor: DuckDB `read_csv` of the 11 files | | {fmt_s(floor.wall_s)} | "
        f"{fmt_gb(floor.peak_gb)} | no Dagster, no checks; inside: {fmt_s(floor.data['work_s'])} |"
    )
    in_run = whole.data["steps"]
    for name, m in layers.items():
        note = (
            "Entra export raw + staged (not partitioned)"
            if name == "unpartitioned"
            else f"one child, group `{name}`; same layer inside the whole run: "
            f"{fmt_s(in_run.get(name))}"
        )
        lines.append(
            f"| layer: {name} | | {fmt_s(m.wall_s)} | {fmt_gb(m.peak_gb)} | {note}; "
            f"inside: {fmt_s(m.data['work_s'])} |"
        )
    lines.append(
        f"| **pipeline, one snapshot** | | {fmt_s(whole.wall_s)} | {fmt_gb(whole.peak_gb)} | "
        f"`materialize_snapshots` (all layers + exports); inside: {fmt_s(whole.data['work_s'])}; "
        f"CPU {fmt_s(whole.cpu_s)} |"
    )
    lines.append(
        f"| pipeline without exports | | {fmt_s(no_exports.wall_s)} | "
        f"{fmt_gb(no_exports.peak_gb)} | raw..reports, fresh warehouse; "
        f"CPU {fmt_s(no_exports.cpu_s)} |"
    )
    if second:
        lines.append(
            f"| pipeline, second snapshot ({snapshots[1]}) | | {fmt_s(second.wall_s)} | "
            f"{fmt_gb(second.peak_gb)} | into the warehouse holding the first; "
            f"CPU {fmt_s(second.cpu_s)} |"
        )
    else:
        lines.append("| pipeline, second snapshot | | n/a | n/a | not run at this size |")
    if naive_m:
        lines.append(
            f"| naive: pandas + pandera + DuckDB | | {fmt_s(naive_m.wall_s)} | "
            f"{fmt_gb(naive_m.peak_gb)} | 5 tenant datasets; Progress alone "
            f"{fmt_s(naive_m.data['seconds'].get('Progress'))}; rejected rows: "
            + ", ".join(f"{k} {v['rejected']:,}" for k, v in naive_m.data["rows"].items())
            + " |"
        )
    else:
        lines.append("| naive: pandas + pandera + DuckDB | | skipped | skipped | not run at L |")
    lines.append(
        f"| peer: one DuckDB SQL script, raw to staged | | {fmt_s(peer.wall_s)} | "
        f"{fmt_gb(peer.peak_gb)} | read, type, validate (the contracts' SQL), drop repeats, "
        f"write; no history or orchestration; inside: {fmt_s(peer.data['work_s'])}; staged rows "
        f"{'equal' if peer_equal else '**differ from**'} the pipeline's |"
    )
    if separate:
        lines.append(
            f"| pipeline, one snapshot, Parquet landing | | {fmt_s(back_one.wall_s)} | "
            f"{fmt_gb(back_one.peak_gb)} | {back_snapshots[0]} from `{back_landing.name}`, "
            "fresh warehouse; the backfill's reference |"
        )
    if back:
        first_rows, last_rows = back.data["progress"]
        lines.append(
            f"| rows: Progress, backfill's first and last snapshot | {first_rows:,} .. "
            f"{last_rows:,} | | | {back_snapshots[0]}, {back_snapshots[backfill_days - 1]} |"
        )
        lines.append(
            f"| backfill, {backfill_days} snapshots in one run | | {fmt_s(back.wall_s)} | "
            f"{fmt_gb(back.peak_gb)} | {back_snapshots[0]}..{back_snapshots[backfill_days - 1]}"
            f"{' (Parquet landing)' if separate else ''}; CPU {fmt_s(back.cpu_s)}; per layer "
            "inside the run: "
            + ", ".join(f"{k} {fmt_s(v)}" for k, v in back.data["steps"].items())
            + " |"
        )
    else:
        lines.append(
            f"| backfill, {BACKFILL_DAYS} snapshots | | skipped | | not run at size {size} |"
        )
    lines.append(f"| warehouse file after 1 snapshot | {fmt_mb(size_after_1)} | | | |")
    if separate:
        lines.append(
            f"| warehouse file after 1 snapshot, Parquet landing | {fmt_mb(back_size_after_1)} "
            "| | | the backfill's reference |"
        )
    if size_after_30:
        lines.append(
            f"| warehouse file after {backfill_days} snapshots | {fmt_mb(size_after_30)} | | | "
            f"{'Parquet landing' if separate else ''} |"
        )
    lines.append(
        f"| landing (= archive) per snapshot | {fmt_mb(landing_per_snapshot)} | | | "
        "11 CSV files, kept as delivered |"
    )
    page, book = exported["report.html"], exported["reports.xlsx"]
    lines.append(
        f"| report.html, one snapshot | {'n/a' if page is None else fmt_mb(page)} | | | "
        "charts embedded; at most LEARN_HTML_MAX_LEARNERS (5,000) learners in its search |"
    )
    lines.append(
        f"| reports.xlsx, one snapshot | {'n/a' if book is None else fmt_mb(book)} | | | "
        "Overview, About, a sheet per report of at most LEARN_XLSX_MAX_ROWS rows |"
    )
    if separate:
        lines.append(
            f"| landing (= archive) per snapshot, Parquet | "
            f"{fmt_mb(tree_size(back_landing / back_snapshots[0]))} | | | 11 Parquet files |"
        )
    if corrected:
        d = corrected.days
        lines += [
            f"| corrections landing: normal day ({d[3]}) | | {fmt_s(corrected.normal.wall_s)} | "
            f"{fmt_gb(corrected.normal.peak_gb)} | `--corrections` tenant, {d[0]}..{d[2]} "
            "loaded first |",
            f"| re-delivered day ({d[1]}, corrected) | | {fmt_s(corrected.redelivered.wall_s)} | "
            f"{fmt_gb(corrected.redelivered.peak_gb)} | core rebuilt whole; reports and exports "
            f"of {d[1]}..{d[3]} rebuilt |",
            f"| forgotten day (`forget {d[1]}`) | | {fmt_s(corrected.forgotten.wall_s)} | "
            f"{fmt_gb(corrected.forgotten.peak_gb)} | removed everywhere; {d[2]}..{d[3]} "
            "rebuilt |",
        ]

    # ------------------------------------------------------------ ratios and goals
    goals = [""]
    t_ratio = ratio(whole.wall_s, floor.wall_s)
    m_ratio = ratio(whole.peak_bytes, floor.peak_bytes)
    goals.append(
        f"- pipeline / floor: time {t_ratio:.1f}×, memory {m_ratio:.1f}× "
        f"(without exports: time {ratio(no_exports.wall_s, floor.wall_s):.1f}×, "
        f"memory {ratio(no_exports.peak_bytes, floor.peak_bytes):.1f}×)"
    )
    if size == "L":
        # The goal covers raw, staged with all checks, core and reports: the run without exports.
        nx = ratio(no_exports.wall_s, floor.wall_s)
        goals.append(
            "- "
            + verdict(
                nx <= 2.5 and no_exports.peak_gb < 2.5,
                f"L pipeline (raw..reports) ≤ 2.5 × floor and peak < 2.5 GB: {nx:.1f}× the "
                f"floor, peak {no_exports.peak_gb:.2f} GB (with exports: {t_ratio:.1f}×, "
                f"{whole.peak_gb:.2f} GB)",
            )
        )
    raw_staged = in_run.get("raw", 0.0) + in_run.get("staged", 0.0)
    goals.append(
        f"- pipeline / peer: raw + staged inside the whole run {raw_staged:.1f} s vs the peer's "
        f"script {peer.data['work_s']:.1f} s = {ratio(raw_staged, peer.data['work_s']):.1f}×; "
        f"whole pipeline vs the peer's process: {ratio(whole.wall_s, peer.wall_s):.1f}×"
    )
    if naive_m:
        nt = ratio(naive_m.wall_s, whole.wall_s)
        nm = ratio(naive_m.peak_bytes, whole.peak_bytes)
        nt_x = ratio(naive_m.wall_s, no_exports.wall_s)
        nm_x = ratio(naive_m.peak_bytes, no_exports.peak_bytes)
        text = (
            f"naive / pipeline: time {nt:.1f}×, memory {nm:.1f}× "
            f"(vs pipeline without exports: {nt_x:.1f}×, {nm_x:.1f}×)"
        )
        goals.append(
            "- " + (verdict(nt >= 5 and nm >= 5, f"M ≥ 5× faster and ≥ 5× less memory: {text}")
                    if size == "M" else text)
        )  # fmt: skip
    published = whole.data.get("steps", {}).get("publish")
    if published is not None:
        share = ratio(published, whole.data["work_s"] - published)
        goals.append(
            "- "
            + verdict(
                share <= 0.15,
                f"publishing (lake + reports database) adds ≤ 15% to the pipeline: "
                f"{published:.1f} s, {share:.0%} of the rest of the run",
            )
        )
    if second:
        f2 = ratio(second.wall_s, whole.wall_s)
        goals.append("- " + verdict(f2 <= 1.2, f"second snapshot ≤ 1.2 × first: {f2:.2f}×"))
    if back:
        budget = backfill_days * back_one.wall_s
        fb = ratio(back.wall_s, budget)
        goals.append(
            "- "
            + verdict(
                fb <= 1.0,
                f"{backfill_days}-snapshot backfill ≤ {backfill_days} × one snapshot: "
                f"{back.wall_s:,.1f} s vs {budget:,.1f} s = {fb:.2f}× "
                f"({back.wall_s / backfill_days:.1f} s per snapshot)",
            )
        )
    goals += issue_goals(size, floor, whole, second, back, backfill_days)
    if page is not None:
        goals.append("- " + verdict(page < HTML_LIMIT, f"report.html < 5 MB: {fmt_mb(page)}"))
    if size_after_30:
        fw = ratio(size_after_30, back_size_after_1)
        goals.append(
            "- "
            + verdict(
                fw <= 2,
                f"warehouse after {backfill_days} snapshots ≤ 2 × after 1: {fw:.2f}×",
            )
        )
    return "\n".join(lines + goals) + "\n"


HEADER = """# Benchmark results

Written by `make bench SIZE=S|M|L` (`bench/run.py`); each size's section is replaced when that
size is rerun. Wall time is a child process's whole life (interpreter start and imports included;
"inside" is the same work timed in the child); peak RSS is the child process tree's maximum
resident memory (`os.wait4`). Ratios use wall time and peak RSS. Repeated runs on a shared
2-core machine vary by up to about a third.

"""


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=SIZES, default="S")
    parser.add_argument(
        "--backfill",
        type=int,
        default=BACKFILL_DAYS,
        metavar="DAYS",
        help=f"snapshots in the range backfill (default {BACKFILL_DAYS}; 0 skips it)",
    )
    parser.add_argument(
        "--corrections",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="measure a normal day, a corrected re-delivery and a forgotten day on a 4-day "
        "--corrections landing (default: on at S and M, off at L)",
    )
    parser.add_argument(
        "--backfill-format",
        choices=("csv", "parquet"),
        help="landing format of the backfill (default: csv, parquet at L); parquet generates a "
        "landing of its own, since 30 days of CSV at L need about 72 GB",
    )
    args = parser.parse_args()
    backfill_format = args.backfill_format or ("parquet" if args.size == "L" else "csv")
    corrections = args.corrections if args.corrections is not None else args.size != "L"
    section = run_size(
        args.size,
        backfill_days=args.backfill,
        naive=True,
        backfill_format=backfill_format,
        corrections=corrections,
    )
    print()
    print(section)
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    RESULTS.write_text(replace_section(text, args.size, section))
    print(f"written to {RESULTS.relative_to(BENCH.parent)}")


if __name__ == "__main__":
    main()
