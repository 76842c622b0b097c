"""`learn-assets` command line: generate a sample tenant, run the demo, summarize the warehouse."""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from learn_assets.generator import SampleSummary

DEMO_USERS = 1000
DEMO_DAYS = 7
DEMO_START = dt.date(2026, 11, 1)
DEMO_SEED = 7


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


def _add_sample_args(p: argparse.ArgumentParser, users: int, days: int) -> None:
    p.add_argument("--users", type=_positive, default=users, help=f"learners (default {users})")
    p.add_argument("--days", type=_positive, default=days, help=f"snapshots (default {days})")
    p.add_argument(
        "--start", type=_date, default=DEMO_START, help=f"first snapshot date ({DEMO_START})"
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
    sub = root.add_subparsers(dest="command", required=True)
    sample = sub.add_parser("sample", help="write a sample tenant's daily snapshots to a folder")
    sample.add_argument("--out", type=Path, required=True, help="landing folder to write")
    _add_sample_args(sample, users=1000, days=7)
    sample.add_argument(
        "--faults",
        action="store_true",
        help="also write a row-fault and a file-fault snapshot after the clean days, described "
        "in OUT/faults.json (CSV only)",
    )
    demo = sub.add_parser(
        "demo", help="generate the sample tenant into LEARN_LANDING_DIR and build every asset"
    )
    _add_sample_args(demo, users=DEMO_USERS, days=DEMO_DAYS)
    sub.add_parser("summary", help="print what the warehouse (LEARN_WAREHOUSE) holds")
    forget = sub.add_parser(
        "forget",
        help="remove one snapshot date from every layer and the exports, and rebuild the later "
        "snapshots that depended on it",
    )
    forget.add_argument("snapshot", type=_date, help="the snapshot date, YYYY-MM-DD")
    return root


def _generate(args: argparse.Namespace, out: Path, faults: bool = False) -> SampleSummary:
    """The sample tenant of the shared sample options (`_add_sample_args`) into `out`."""
    from learn_assets.generator import generate_sample

    return generate_sample(
        out,
        args.users,
        args.days,
        args.start,
        args.seed,
        args.fmt,
        faults=faults,
        activity=args.activity,
        growth=args.growth,
        corrections=args.corrections,
    )


def cmd_sample(args: argparse.Namespace) -> None:
    started = time.perf_counter()
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


def cmd_demo(args: argparse.Namespace) -> None:
    from learn_assets.resources import resources_from_env
    from learn_assets.runs import materialize_snapshots
    from learn_assets.summary import warehouse_summary

    resources = resources_from_env()
    landing = resources["landing"].root  # type: ignore[attr-defined]
    print(
        f"1/3 generating the sample tenant ({args.users} learners, {args.days} days) in {landing}"
    )
    summary = _generate(args, landing)
    first, last = summary.snapshots[0], summary.snapshots[-1]
    print(f"2/3 materializing every asset for snapshots {first}..{last}")
    materialize_snapshots(first, last, resources, progress=print)
    if summary.corrections:
        day = summary.corrections.redelivered_day
        redelivery = Path(landing) / "corrections" / day.isoformat()
        print(f"    re-delivering {day} with corrections (from {redelivery}) and running it again")
        for file in redelivery.iterdir():
            shutil.copyfile(file, Path(landing) / day.isoformat() / file.name)
        materialize_snapshots(day, day, resources, progress=print)
    print("3/3 done\n")
    print(warehouse_summary(resources))


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
    print(f"forgot {day}: removed from every layer and the exports")
    print(f"rebuilt the later snapshots that depended on it: {', '.join(rebuilt) or 'none'}")
    print(
        "the landing folder still holds it: delete or fix it there, or a backfill over "
        "that date loads it again"
    )


COMMANDS = {
    "sample": cmd_sample,
    "demo": cmd_demo,
    "summary": cmd_summary,
    "forget": cmd_forget,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        COMMANDS[args.command](args)
    except (ValueError, OSError) as e:
        print(f"learn-assets {args.command}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
