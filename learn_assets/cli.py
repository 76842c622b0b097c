"""`learn-assets` command line: generate a sample tenant, run the demo, summarize the warehouse."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from learn_assets.generator import SampleSummary

DEMO_USERS = 1000
DEMO_DAYS = 7
DEMO_START = dt.date(2026, 11, 1)  # `learn-assets sample`'s default first day
DEMO_SEED = 7
ENV_FILE = Path(".env")  # read by `dagster dev` / the dagster CLI too, from the same folder
START_SETTING = "LEARN_START_DATE"


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from e


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return number


def _add_sample_args(
    p: argparse.ArgumentParser, users: int, days: int, start: dt.date | None = DEMO_START
) -> None:
    p.add_argument("--users", type=_positive, default=users, help=f"learners (default {users})")
    p.add_argument("--days", type=_positive, default=days, help=f"snapshots (default {days})")
    p.add_argument(
        "--start",
        type=_date,
        default=start,
        help=f"first snapshot date (default {start or 'the days ending today, UTC'})",
    )
    p.add_argument("--seed", type=int, default=DEMO_SEED, help=f"random seed ({DEMO_SEED})")
    p.add_argument("--format", choices=("csv", "parquet"), default="csv", dest="fmt")
    p.add_argument(
        "--activity",
        type=float,
        default=1.0,
        help="how much each learner studies; 5 gives ~100 Progress rows per learner (default 1)",
    )
    p.add_argument(
        "--growth",
        type=float,
        default=None,
        help="new learners per day as a share of the first day's, e.g. 0.005 (default: 30%% of "
        "the learners join spread over the days)",
    )
    p.add_argument(
        "--corrections",
        action="store_true",
        help="values change in later deliveries (corrected XP, renewed certifications) and a "
        "corrected re-delivery of an earlier day is written to OUT/corrections/ (see "
        "OUT/corrections.json); the demo then re-delivers that day and runs it again",
    )


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="learn-assets", description="Microsoft Learn Organizational Reporting warehouse"
    )
    root.add_argument("--version", action="version", version=f"%(prog)s {version('learn_assets')}")
    root.add_argument(
        "--tenant",
        default=None,
        help="run the command for this tenant of LEARN_TENANTS_FILE (its warehouse, landing, "
        "exports, lake and asset keys); docs/tenants.md",
    )
    sub = root.add_subparsers(dest="command", required=True)
    sample = sub.add_parser("sample", help="write a sample tenant's daily snapshots to a folder")
    sample.add_argument("--out", type=Path, required=True, help="landing folder to write")
    _add_sample_args(sample, users=1000, days=7)
    sample.add_argument(
        "--tenants",
        type=_positive,
        default=None,
        help="write N different tenants (ids, sizes, study habits; Learn's catalog) under OUT, "
        "each in OUT/<name>/landing, and OUT/tenants.yaml for them (docs/tenants.md)",
    )
    sample.add_argument(
        "--faults",
        action="store_true",
        help="also write a row-fault and a file-fault snapshot after the clean days, described "
        "in OUT/faults.json (CSV only)",
    )
    demo = sub.add_parser(
        "demo",
        help="generate the sample tenant's last days up to today into LEARN_LANDING_DIR, make "
        "its first day the first partition (in .env), and build every asset",
    )
    _add_sample_args(demo, users=DEMO_USERS, days=DEMO_DAYS, start=None)
    demo.add_argument(
        "--faults",
        action="store_true",
        help="the last day (today) is a day with faulty rows: quarantined rows and a failed "
        "blocking check to look at in the UI",
    )
    backfill = sub.add_parser(
        "backfill",
        help="build every asset for a range of snapshots in one run (job snapshot_pipeline)",
    )
    backfill.add_argument("--from", dest="first", type=_date, required=True, help="YYYY-MM-DD")
    backfill.add_argument("--to", dest="last", type=_date, required=True, help="YYYY-MM-DD")
    preflight = sub.add_parser(
        "preflight",
        help="before starting the Dagster webserver/daemon: the port is free, no daemon runs on "
        "DAGSTER_HOME, the alert settings work; prints the URL",
    )
    preflight.add_argument("--port", type=int, default=3000)
    preflight.add_argument("--host", default="127.0.0.1")
    preflight.add_argument(
        "--daemon", action="store_true", help="a daemon will start: check none runs already"
    )
    sub.add_parser("summary", help="print what the warehouse (LEARN_WAREHOUSE) holds")
    forget = sub.add_parser(
        "forget",
        help="remove one snapshot date from every layer and the exports, and rebuild the later "
        "snapshots that depended on it",
    )
    forget.add_argument("snapshot", type=_date, help="the snapshot date, YYYY-MM-DD")
    workspace = sub.add_parser(
        "workspace",
        help="write the Dagster workspace for LEARN_TENANTS_FILE: one code location per tenant "
        "and per consolidated group (without the file: the one location of today)",
    )
    workspace.add_argument(
        "--out", type=Path, default=Path("workspace.tenants.yaml"), help="file to write"
    )
    return root


def _generate(
    args: argparse.Namespace, out: Path, faults: bool = False, days: int | None = None
) -> SampleSummary:
    """The sample tenant of the shared sample options (`_add_sample_args`) into `out`, showing
    each day as it is written."""
    from learn_assets.generator import generate_sample
    from learn_assets.progress import Progress

    days = days or args.days
    shown = Progress(days + (2 if faults else 0) + 1)
    shown.show("building the learners and their history")
    try:
        return generate_sample(
            out,
            args.users,
            days,
            args.start,
            args.seed,
            args.fmt,
            faults=faults,
            activity=args.activity,
            growth=args.growth,
            corrections=args.corrections,
            progress=shown.advance,
        )
    finally:
        shown.close()


def cmd_sample(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    if args.tenants is not None:
        _sample_tenants(args, started)
        return
    summary = _generate(args, args.out, faults=args.faults)
    faults = ""
    if summary.fault_snapshots:
        row_day, file_day = summary.fault_snapshots
        faults = f", fault snapshots {row_day} (rows) and {file_day} (files) with faults.json"
    if summary.corrections:
        fixed = summary.corrections
        faults += (
            f", corrections from {fixed.correction_day} and a re-delivery of "
            f"{fixed.redelivered_day} in corrections/ (corrections.json)"
        )
    print(
        f"wrote {len(summary.snapshots)} snapshot(s) "
        f"{summary.snapshots[0]}..{summary.snapshots[-1]}{faults}"
        f" and an Entra export of {summary.entra_users} users to {summary.out}"
        f" in {time.perf_counter() - started:.1f}s"
    )


def _sample_tenants(args: argparse.Namespace, started: float) -> None:
    from learn_assets.generator.tenants import generate_tenants

    written = generate_tenants(
        args.out,
        args.tenants,
        args.users,
        args.days,
        args.start,
        args.seed,
        args.fmt,
        activity=args.activity,
        growth=args.growth,
        corrections=args.corrections,
        faults=args.faults,
    )
    for name, summary in written.tenants.items():
        print(
            f"{name}: tenant {summary.tenant_id}, {summary.learners} learners, "
            f"{len(summary.snapshots)} snapshot(s) {summary.snapshots[0]}..{summary.snapshots[-1]} "
            f"in {summary.out}"
        )
    print(
        f"wrote {len(written.tenants)} tenants and their tenants file {written.tenants_file} in "
        f"{time.perf_counter() - started:.1f}s; next: export LEARN_TENANTS_FILE="
        f"{written.tenants_file.resolve()} and `learn-assets workspace`"
    )


def cmd_workspace(args: argparse.Namespace) -> None:
    from learn_assets.settings import tenants_file
    from learn_assets.workspace import workspace_yaml

    found = tenants_file(os.environ)
    args.out.write_text(workspace_yaml(found, Path.cwd()))
    locations = ", ".join(found.locations()) if found else "learn_assets (one tenant)"
    print(f"wrote {args.out}: code locations {locations}")
    print(f"start them: dagster dev -w {args.out} (with LEARN_TENANTS_FILE in the environment)")


def demo_days(today: dt.date, days: int, faults: bool) -> tuple[dt.date, int]:
    """The demo's first day and clean days: `days` days ending today (UTC); with faults the
    last of them is the row-fault day the generator writes after the clean ones."""
    start = today - dt.timedelta(days=days - 1)
    return start, (days - 1 if faults else days)


def set_env_file(path: Path, name: str, value: str) -> None:
    """Set `name=value` in a .env file, keeping its other lines."""
    lines = path.read_text().splitlines() if path.exists() else []
    kept = [line for line in lines if not line.strip().startswith(f"{name}=")]
    note = f"# {name}: written by `learn-assets demo` (its first snapshot); delete to reset"
    kept = [line for line in kept if line != note]
    path.write_text("\n".join([*kept, note, f"{name}={value}"]) + "\n")


def load_env_file(path: Path = ENV_FILE, env: dict[str, str] | None = None) -> list[str]:
    """Variables of a .env file that the environment lacks, added to it (the environment wins);
    returns their names. `dagster dev` and the dagster CLI read the same file."""
    if not path.exists():
        return []
    from dotenv import dotenv_values

    env = os.environ if env is None else env  # type: ignore[assignment]
    added = []
    for name, value in dotenv_values(path).items():
        if value is not None and name not in env:
            env[name] = value
            added.append(name)
    return added


def cmd_demo(args: argparse.Namespace) -> None:
    today = dt.datetime.now(dt.UTC).date()
    if args.start is None:
        args.start, clean_days = demo_days(today, args.days, args.faults)
    else:
        clean_days = args.days - 1 if args.faults else args.days
    # The partitions start at the demo's first day (read when learn_assets.partitions is first
    # imported, below); .env keeps it for `make ui` and `make backfill`.
    os.environ[START_SETTING] = args.start.isoformat()
    set_env_file(ENV_FILE, START_SETTING, args.start.isoformat())

    from learn_assets.resources import resources_from_env
    from learn_assets.runs import materialize_snapshots
    from learn_assets.summary import warehouse_summary

    resources = resources_from_env()
    landing = resources["landing"].root  # type: ignore[attr-defined]
    print(
        f"1/4 generating the sample tenant ({args.users} learners, {args.days} days from "
        f"{args.start}) in {landing}; {START_SETTING}={args.start} in {ENV_FILE.resolve()}"
    )
    summary = _generate(args, landing, faults=args.faults, days=clean_days)
    first, last = summary.snapshots[0], summary.snapshots[-1]
    print(f"2/4 materializing every asset for snapshots {first}..{last}")
    materialize_snapshots(first, last, resources, progress=print, show_progress=sys.stdout)
    if summary.corrections:
        day = summary.corrections.redelivered_day
        redelivery = Path(landing) / "corrections" / day.isoformat()
        print(f"    re-delivering {day} with corrections (from {redelivery}) and running it again")
        for file in redelivery.iterdir():
            shutil.copyfile(file, Path(landing) / day.isoformat() / file.name)
        materialize_snapshots(day, day, resources, progress=print, show_progress=sys.stdout)
    if summary.fault_snapshots:
        _demo_fault_day(summary.fault_snapshots, Path(landing), resources)
    print("3/4 checking that every snapshot of the last week was delivered on time")
    print(f"    {_check_freshness(resources)}")
    print("4/4 done\n")
    print(warehouse_summary(resources))


def _demo_fault_day(days: Sequence[dt.date], landing: Path, resources: Mapping) -> None:
    """Run the row-fault day on its own (its blocking check fails, as intended); the file-fault
    day after it (tomorrow) is not part of the demo."""
    from learn_assets.runs import failure_messages, materialize_snapshots

    row_day, file_day = days
    shutil.rmtree(landing / file_day.isoformat(), ignore_errors=True)
    print(f"    {row_day}: a day with faulty rows, in a run of its own")
    (run,) = materialize_snapshots(
        row_day,
        row_day,
        resources,
        progress=print,
        show_progress=sys.stdout,
        raise_on_error=False,
        unpartitioned=False,
        log_level="CRITICAL",  # the failure is the point: no stack traces on the console
    )
    failed = [
        f"{e.asset_check_key.asset_key.to_user_string()} {e.asset_check_key.name}"
        for e in run.get_asset_check_evaluations()
        if not e.passed and e.severity.value == "ERROR"
    ]
    print(
        f"    {row_day}: rows quarantined; blocking check(s) failed as intended: "
        f"{', '.join(failed) or 'none'}; what is downstream of them was not built "
        f"(README: 'Asset checks, and reading them in the UI')"
    )
    if not failed:
        print("    " + "; ".join(failure_messages(run)))


def _check_freshness(resources: Mapping) -> str:
    """Run the freshness check (job delivery_freshness) and say what it found."""
    import dagster as dg

    from learn_assets.automation.schedules import freshness_job, snapshot_delivered_on_time
    from learn_assets.graph import ASSETS
    from learn_assets.runs import QUIET, default_instance

    defs = dg.Definitions(
        assets=ASSETS,
        asset_checks=[snapshot_delivered_on_time],
        jobs=[freshness_job],
        resources=dict(resources),
    )
    with default_instance() as instance:
        result = defs.resolve_job_def(freshness_job.name).execute_in_process(
            instance=instance, run_config=QUIET
        )
    (evaluation,) = result.get_asset_check_evaluations()
    missing = evaluation.metadata["missing"].value
    return f"no delivery for {', '.join(missing)}" if missing else "all delivered on time"


def cmd_backfill(args: argparse.Namespace) -> None:
    from learn_assets.resources import resources_from_env
    from learn_assets.runs import materialize_snapshots

    if args.last < args.first:
        raise ValueError(f"--to {args.last} is before --from {args.first}")
    started = time.perf_counter()
    runs = materialize_snapshots(
        args.first, args.last, resources_from_env(), progress=print, show_progress=sys.stdout
    )
    print(
        f"built snapshots {args.first}..{args.last} in {time.perf_counter() - started:.1f}s "
        f"(runs {', '.join(r.run_id for r in runs)})"
    )


def cmd_preflight(args: argparse.Namespace) -> None:
    from learn_assets.preflight import preflight

    problems = preflight(args.port, os.environ.get("DAGSTER_HOME"), args.daemon)
    if problems:
        raise ValueError("\n  ".join(["cannot start:", *problems]))
    print(f"Dagster UI: http://{args.host}:{args.port}")


def cmd_summary(args: argparse.Namespace) -> None:
    from learn_assets.resources import resources_from_env
    from learn_assets.summary import warehouse_summary

    print(warehouse_summary(resources_from_env()))


def cmd_forget(args: argparse.Namespace) -> None:
    """Run the `forget` job in the Dagster instance ($DAGSTER_HOME), so the UI shows the run
    and the date's partitions as missing again."""
    from learn_assets.jobs import forget_job
    from learn_assets.resources import resources_from_env
    from learn_assets.runs import QUIET, default_instance, failure_messages

    day = args.snapshot.isoformat()
    config = {"ops": {"forget_snapshot": {"config": {"snapshot": day}}}} | QUIET
    with default_instance() as instance:
        result = forget_job.execute_in_process(
            run_config=config,
            instance=instance,
            resources=resources_from_env(),
            raise_on_error=False,
        )
    if not result.success:
        raise ValueError("; ".join(failure_messages(result)))
    rebuilt = sorted(
        {
            e.partition
            for e in result.get_asset_materialization_events()
            if e.partition and "rebuilt_because" in e.materialization.metadata
        }
    )
    print(f"forgot {day}: removed from every layer, the exports, the lake and the reports database")
    print(f"rebuilt the later snapshots that depended on it: {', '.join(rebuilt) or 'none'}")
    print(
        "the landing folder still holds it: delete or fix it there, or a backfill over "
        "that date loads it again"
    )


COMMANDS = {
    "sample": cmd_sample,
    "demo": cmd_demo,
    "backfill": cmd_backfill,
    "preflight": cmd_preflight,
    "summary": cmd_summary,
    "forget": cmd_forget,
    "workspace": cmd_workspace,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    load_env_file()  # e.g. the demo's LEARN_START_DATE, as `dagster dev` reads it
    if args.tenant is not None:
        # Before anything reads the settings: the tenant's entry in LEARN_TENANTS_FILE then
        # configures this process (learn_assets.tenancy), as it does the tenant's code location.
        os.environ["LEARN_TENANT"] = args.tenant
    try:
        COMMANDS[args.command](args)
    except (ValueError, OSError) as e:
        print(f"learn-assets {args.command}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
