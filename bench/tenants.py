"""Several tenants on one machine: N tenants of one size processed one after the other, then all at
once, and the extrapolation to N tenants on N machines (docs/tenants.md).

    make bench SIZE=M TENANTS=2     (.venv/bin/python bench/tenants.py --size M --tenants 2)

Generates N tenants of the same size into bench/out/tenants-<N>x<users>/ (reused when present):
one snapshot each, the bench's tenant shape (activity 6, growth 0.003), seeds 1, 1001, 2001, ...
so their ids, learners and habits differ, and a tenants file with the consolidated group. Each
tenant's build is `learn-assets --tenant NAME backfill` of that snapshot, a process of its own
(interpreter start and imports included, as a run launcher's process would be), into fresh
outputs; then the group's consolidation (`dagster job execute` of its location). Writes
bench/RESULTS-tenants.md (one section per N x size, replaced on a rerun).

Extrapolation: on N machines each tenant runs alone, as in the sequential measure, so the N
tenants take as long as the slowest tenant alone; what they share is the instance (PostgreSQL in
production; its writes are small) and the group's consolidation, which runs after the members.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"
RESULTS = BENCH / "RESULTS-tenants.md"
SIZES = {"S": 2_000, "M": 20_000, "L": 100_000}
DAY = dt.date(2026, 10, 1)
ACTIVITY, GROWTH = 6.0, 0.003
BIN = Path(sys.executable).parent
HEADER = """# Benchmark results: several tenants

Written by `make bench SIZE=... TENANTS=N` (`bench/tenants.py`); each N x size section is replaced
when rerun. Wall times of whole processes (interpreter start and imports included), on a shared
2-core machine: other work on it shows in the figures, and repeated runs vary.

"""


# ---------------------------------------------------------------- pure helpers (tested)


@dataclass(frozen=True)
class Timing:
    sequential: dict[str, float]  # each tenant alone, one after the other
    parallel: dict[str, float]  # each tenant's process, all started at once
    parallel_wall: float  # first start to last end
    consolidation: float  # the group's location, after the members


def extrapolate(timing: Timing) -> dict[str, float]:
    """One machine, sequential and parallel; N machines: the slowest tenant alone (each on its
    own machine), then the consolidation they share."""
    sequential = sum(timing.sequential.values())
    return {
        "sequential": sequential,
        "parallel": timing.parallel_wall,
        "speedup": sequential / timing.parallel_wall if timing.parallel_wall else float("inf"),
        "n_machines": max(timing.sequential.values()) + timing.consolidation,
    }


def replace_section(text: str, key: str, section: str) -> str:
    """One `## N x size` section per key, in the order first written."""
    parts = re.split(r"(?m)^(?=## )", text)
    head, sections = parts[0], {p.split("\n", 1)[0][3:].split(":")[0]: p for p in parts[1:]}
    sections[key] = section.rstrip() + "\n\n"
    return head + "".join(sections.values())


def section(
    key: str,
    users: int,
    names: list[str],
    timing: Timing,
    command: str,
    started: dt.datetime,
    load: tuple[float, float],
) -> str:
    """The results; `load`: the 1-minute load average when the run started and ended (other
    work on the machine shows in the figures)."""
    shown = extrapolate(timing)
    lines = [
        f"## {key}: {len(names)} tenants of {users:,} learners",
        "",
        f"Command: `{command}`, started {started:%Y-%m-%d %H:%M} UTC; `nproc` {os.cpu_count()}, "
        f"1-minute load average {load[0]:.1f} at the start and {load[1]:.1f} at the end. One "
        f"snapshot ({DAY}) per tenant, the whole pipeline (all layers, exports, lake, reports "
        "database).",
        "",
        "| measure | wall time | notes |",
        "|---|---:|---|",
    ]
    for name in names:
        lines.append(f"| {name} alone | {timing.sequential[name]:.1f} s | sequential |")
    lines.append(f"| **one after the other** | {shown['sequential']:.1f} s | sum |")
    for name in names:
        lines.append(f"| {name}, all at once | {timing.parallel[name]:.1f} s | its process |")
    lines += [
        f"| **all at once** | {shown['parallel']:.1f} s | first start to last end; "
        f"{shown['speedup']:.2f}x the sequential time |",
        f"| consolidation of the group | {timing.consolidation:.1f} s | after the members |",
        f"| N tenants on N machines (extrapolated) | {shown['n_machines']:.1f} s | the slowest "
        "tenant alone, then the consolidation |",
    ]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- measuring


def generate(out: Path, n: int, users: int) -> list[str]:
    """N tenants of `users` learners (one snapshot each) and their tenants file, once."""
    from learn_assets.generator import generate_sample
    from learn_assets.generator.tenants import TENANTS_FILE, tenant_plan, tenants_config

    plan = tenant_plan(n, users, seed=1)
    if not (out / TENANTS_FILE).exists():
        summaries = {}
        for tenant in plan:
            started = time.perf_counter()
            summaries[tenant.name] = generate_sample(
                out / tenant.name / "landing",
                users,  # the same size for every tenant (not the sample's mixed sizes)
                1,
                DAY,
                tenant.seed,
                activity=ACTIVITY,
                growth=GROWTH,
            )
            print(f"generated {tenant.name} in {time.perf_counter() - started:.1f} s", flush=True)
        import yaml

        (out / TENANTS_FILE).write_text(yaml.safe_dump(tenants_config(summaries), sort_keys=False))
    return [t.name for t in plan]


def clean(out: Path, names: list[str]) -> None:
    """Fresh outputs for every tenant and the group (the landings stay)."""
    for name in names:
        for path in (out / name).iterdir():
            if path.name != "landing":
                shutil.rmtree(path) if path.is_dir() else path.unlink()
    shutil.rmtree(out / "lake", ignore_errors=True)


def start(env: dict[str, str], name: str) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "learn-assets"), "--tenant", name, "backfill", "--from", str(DAY)]
        + ["--to", str(DAY)],
        env=env,
        cwd=OUT,
        stdout=subprocess.DEVNULL,
    )


def wait(process: subprocess.Popen, what: str) -> float:
    if process.wait() != 0:
        raise SystemExit(f"{what} failed ({process.returncode})")
    return time.perf_counter()


def run(n: int, size: str) -> tuple[Timing, list[str], int]:
    users = SIZES[size]
    out = OUT / f"tenants-{n}x{users}"
    names = generate(out, n, users)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEARN_")}
    env.pop("DAGSTER_HOME", None)  # ephemeral instances, as the bench's children
    env |= {"LEARN_TENANTS_FILE": str(out / "tenants.yaml"), "LEARN_START_DATE": str(DAY)}

    clean(out, names)
    sequential = {}
    for name in names:
        began = time.perf_counter()
        sequential[name] = wait(start(env, name), name) - began
        print(f"  {name} alone: {sequential[name]:.1f} s", flush=True)

    clean(out, names)
    began = time.perf_counter()
    processes = {name: start(env, name) for name in names}
    parallel = {name: wait(p, name) - began for name, p in processes.items()}
    wall = max(parallel.values())
    print(f"  all at once: {wall:.1f} s ({parallel})", flush=True)

    began = time.perf_counter()
    group = subprocess.run(
        [str(BIN / "dagster"), "job", "execute", "-m", "learn_assets.locations"]
        + ["-a", "all_tenants", "-j", "all_tenants_consolidate"],
        env=env,
        cwd=OUT,
        capture_output=True,
        text=True,
    )
    if group.returncode:
        raise SystemExit(f"consolidation failed: {group.stderr[-2000:]}")
    consolidation = time.perf_counter() - began
    print(f"  consolidation: {consolidation:.1f} s", flush=True)
    return Timing(sequential, parallel, wall, consolidation), names, users


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=SIZES, default="M")
    parser.add_argument("--tenants", type=int, default=2)
    args = parser.parse_args()
    if args.tenants < 2:
        raise SystemExit("--tenants: at least 2")
    started, before = dt.datetime.now(dt.UTC), os.getloadavg()[0]
    timing, names, users = run(args.tenants, args.size)
    load = (before, os.getloadavg()[0])
    key = f"{args.tenants} x {args.size}"
    command = (
        f"make bench SIZE={args.size} TENANTS={args.tenants} (.venv/bin/python bench/tenants.py "
        f"--size {args.size} --tenants {args.tenants})"
    )
    text = RESULTS.read_text() if RESULTS.exists() else HEADER
    written = section(key, users, names, timing, command, started, load)
    print("\n" + written)
    RESULTS.write_text(replace_section(text, key, written))
    print(f"written to {RESULTS.relative_to(BENCH.parent)}")


if __name__ == "__main__":
    main()
