"""Progress of long work (a pipeline run, generating a tenant) on the console.

On a terminal: one line redrawn in place, a bar with `done/total` and the current item. Anywhere
else (a log file, CI, a pipe): one plain line per item, so nothing is redrawn or lost.

`RunProgress` follows a Dagster run through the instance's event listener
(`DagsterInstance.add_event_listener`), which the in-process executor calls for every event as
it happens: a step starting names the current asset, an asset's first materialization counts it
as done.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import TextIO

import dagster as dg

BAR_WIDTH = 24


def render_bar(done: int, total: int, current: str, width: int = BAR_WIDTH) -> str:
    """`[#####.....]  5/10 current` (pure, for terminals)."""
    total = max(total, 1)
    filled = min(width, round(width * done / total))
    return f"[{'#' * filled}{'.' * (width - filled)}] {done:>{len(str(total))}}/{total} {current}"


def render_line(done: int, total: int, current: str) -> str:
    """`  5/10 current` (pure, for logs)."""
    return f"  {done:>{len(str(total))}}/{total} {current}"


class Progress:
    """Counts items towards a total and shows each step: a redrawn bar on a terminal, plain
    lines otherwise."""

    def __init__(self, total: int, out: TextIO | None = None, tty: bool | None = None):
        self.out = out or sys.stdout
        self.tty = self.out.isatty() if tty is None else tty
        self.total, self.done, self._width = total, 0, 0

    def show(self, current: str) -> None:
        if self.tty:
            text = render_bar(self.done, self.total, current)
            self.out.write("\r" + text.ljust(self._width))
            self._width = len(text)
        else:
            self.out.write(render_line(self.done, self.total, current) + "\n")
        self.out.flush()

    def advance(self, current: str) -> None:
        self.done += 1
        self.show(current)

    def count(self, current: str) -> None:
        """One more done: redrawn on a terminal; in plain lines the next step's line says it."""
        self.done += 1
        if self.tty:
            self.show(current)

    def close(self, last: str = "done") -> None:
        """End the display: the bar's line is ended; plain output gets a last line."""
        if self.tty and self._width:
            self.out.write("\n")
        elif not self.tty:
            self.out.write(render_line(self.done, self.total, last) + "\n")
        self.out.flush()
        self._width = 0


def step_label(step_key: str) -> str:
    """An asset step's key (`staged__progress`) as its asset key (`staged/progress`)."""
    return step_key.replace("__", "/")


class RunProgress:
    """Listens to one run's events: `building staged/progress` when its step starts, done when
    the asset is first materialized (a range run materializes each partition; counted once)."""

    def __init__(self, keys: Iterable[dg.AssetKey], progress: Progress):
        self.expected = {k.to_user_string() for k in keys}
        self.progress = progress
        self.seen: set[str] = set()

    def __call__(self, entry: dg.EventLogEntry) -> None:
        event = entry.dagster_event
        if event is None:
            return
        if event.event_type == dg.DagsterEventType.STEP_START and event.step_key:
            self.progress.show(f"building {step_label(event.step_key)}")
        elif event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION:
            key = event.asset_key.to_user_string() if event.asset_key else ""
            if key in self.expected and key not in self.seen:
                self.seen.add(key)
                self.progress.count(f"built {key}")


def follow_run(
    instance: dg.DagsterInstance,
    run_id: str,
    keys: Iterable[dg.AssetKey],
    out: TextIO | None = None,
) -> Callable[[], None]:
    """Show the progress of run `run_id` (before it starts); returns the function that ends the
    display."""
    keys = list(keys)
    progress = Progress(len(keys), out)
    instance.add_event_listener(run_id, RunProgress(keys, progress))
    return progress.close
