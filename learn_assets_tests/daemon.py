"""The real Dagster daemon (`dagster-daemon run`) on a throwaway instance, in the background."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from learn_assets_tests.waiting import stop

DAEMON = str(Path(sys.executable).parent / "dagster-daemon")


def write_workspace(folder: Path) -> Path:
    """A workspace.yaml loading the project's code location (the installed package)."""
    path = folder / "workspace.yaml"
    path.write_text(
        "load_from:\n"
        "  - python_module:\n"
        "      module_name: learn_assets.definitions\n"
        f"      working_directory: {folder}\n"
        "      location_name: learn_assets\n"
    )
    return path


@contextmanager
def running_daemon(
    env: dict[str, str], folder: Path, workspace: Path | None = None
) -> Iterator[Path]:
    """`dagster-daemon run` with `env` until the block ends (on `workspace`, else the project's
    one code location); yields its log file (read it when a wait gives up)."""
    log = folder / "daemon.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [DAEMON, "run", "-w", str(workspace or write_workspace(folder))],
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            yield log
        finally:
            stop(process, 60)


def log_tail(log: Path, chars: int = 4000) -> str:
    return log.read_text(errors="replace")[-chars:] if log.exists() else "(no daemon log)"


def sensor_ticks(instance: dg.DagsterInstance, name: str) -> list:
    """The ticks of the sensor `name` so far, newest first."""
    for state in instance.all_instigator_state():
        if state.instigator_name == name:
            return list(instance.get_ticks(state.instigator_origin_id, state.selector_id))
    return []
