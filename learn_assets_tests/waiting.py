"""Waiting in tests: every wait names what it waits for and gives up with a message."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    what: str,
    probe: Callable[[], tuple[T | None, str]],
    timeout: float,
    interval: float = 1.0,
) -> T:
    """Call `probe` until it returns a value (not None) and return it; after `timeout` seconds
    fail with `what` and the probe's last explanation of what is still missing."""
    deadline = time.monotonic() + timeout
    while True:
        value, why = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout:.0f}s waiting for {what}: {why}")
        time.sleep(interval)


def stop(process: subprocess.Popen, grace: float) -> None:
    """End a server the test started: asked to stop, killed if it has not within `grace` s."""
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)
