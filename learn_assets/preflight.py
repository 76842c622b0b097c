"""Checks before starting the Dagster webserver and daemon (`make ui`): the port is free, no
daemon is already running on this DAGSTER_HOME, the alert settings can work. Each problem is
one sentence saying what to do; `learn-assets preflight` prints them and exits 1.

Who holds a port is read from /proc (Linux): the listening socket's inode in /proc/net/tcp[6],
then the process with that socket among its open files. A daemon is running when its heartbeat
in the instance moves: a heartbeat is left behind when a daemon stops, so a recent one is
watched for one heartbeat interval (Dagster's daemons beat every 30 s) before it counts.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterable
from pathlib import Path

HEARTBEAT_INTERVAL = 30.0  # dagster._daemon.controller.DEFAULT_HEARTBEAT_INTERVAL_SECONDS
LISTEN = "0A"  # TCP state in /proc/net/tcp


def listening_inodes(lines: Iterable[str], port: int) -> set[str]:
    """Socket inodes listening on `port`, from the lines of /proc/net/tcp or tcp6 (pure)."""
    inodes = set()
    for line in lines:
        fields = line.split()
        if len(fields) < 10 or ":" not in fields[1]:
            continue  # the header
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        if local_port == port and fields[3] == LISTEN:
            inodes.add(fields[9])
    return inodes


def port_holder(port: int, proc: Path = Path("/proc")) -> int | None:
    """The PID of the process listening on `port`, when this user may see it."""
    inodes: set[str] = set()
    for table in ("tcp", "tcp6"):
        try:
            inodes |= listening_inodes((proc / "net" / table).read_text().splitlines(), port)
        except OSError:
            continue
    targets = {f"socket:[{inode}]" for inode in inodes}
    if not targets:
        return None
    for pid_dir in proc.iterdir():
        if not pid_dir.name.isdigit():
            continue
        try:
            for fd in (pid_dir / "fd").iterdir():
                if os.readlink(fd) in targets:
                    return int(pid_dir.name)
        except OSError:
            continue  # gone, or not ours to look at
    return None


def port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def port_problem(port: int, host: str = "127.0.0.1") -> str | None:
    if not port_in_use(host, port):
        return None
    pid = port_holder(port)
    holder = f"PID {pid}" if pid else "PID unknown"
    return (
        f"port {port} is in use ({holder}): set PORT= to a free port, e.g. PORT={port + 1} make ui"
    )


def latest_heartbeat(home: str) -> float | None:
    """The newest daemon heartbeat (epoch seconds) in the instance at `home`, if any."""
    import dagster as dg

    with dg.DagsterInstance.from_config(home) as instance:
        beats = instance.get_daemon_heartbeats()
    return max((b.timestamp for b in beats.values()), default=None)


def daemon_problem(
    home: str,
    interval: float = HEARTBEAT_INTERVAL,
    say: Callable[[str], None] = print,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    heartbeat: Callable[[str], float | None] = latest_heartbeat,
) -> str | None:
    """Whether a daemon is running on DAGSTER_HOME `home`: a heartbeat newer than two intervals
    is watched until one interval after it (plus 10 s); a newer heartbeat means yes."""
    if not (Path(home) / "dagster.yaml").exists():
        return None  # no instance yet: nothing can run on it
    last = heartbeat(home)
    if last is None or clock() - last > 2 * interval:
        return None
    deadline = last + interval + 10
    say(
        f"a daemon heartbeat from {clock() - last:.0f} s ago is in {home}: watching up to "
        f"{max(deadline - clock(), 0):.0f} s whether that daemon is still running"
    )
    while clock() < deadline:
        sleep(1)
        newest = heartbeat(home)
        if newest is not None and newest > last:
            return (
                f"a Dagster daemon is already running on DAGSTER_HOME={home} (it sent a "
                "heartbeat just now): stop it (its `make ui` or `dagster-daemon run`) first, "
                "or use another DAGSTER_HOME"
            )
    return None


def alert_problem() -> str | None:
    from learn_assets.automation.alerts import AlertConfigError, alert_settings

    try:
        alert_settings()
    except AlertConfigError as e:
        return f"alerts: {e}"
    return None


def preflight(
    port: int, home: str | None, daemon: bool, say: Callable[[str], None] = print
) -> list[str]:
    """Every problem found (empty: go ahead)."""
    problems = [p for p in (port_problem(port), alert_problem()) if p]
    if daemon and home:
        problems += [p for p in (daemon_problem(home, say=say),) if p]
    return problems
