"""The command line for running things: --version, progress while working, the demo's dates and
.env, named jobs, and the preflight before `make ui` (port taken, a daemon already running)."""

import datetime as dt
import io
import os
import socket
import subprocess
import time
from importlib.metadata import version
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from learn_assets.cli import demo_days, load_env_file, main, set_env_file
from learn_assets.jobs import snapshot_asset_keys
from learn_assets.preflight import daemon_problem, listening_inodes, port_holder, port_problem
from learn_assets.progress import Progress, render_bar, render_line
from learn_assets.runs import materialize_snapshots
from learn_assets_tests.cli import LEARN, PROJECT, cli_env, run_learn

D1, D2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)


def test_version_comes_from_the_package_metadata(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out == f"learn-assets {version('learn_assets')}\n"


# --- progress ---------------------------------------------------------------------------------


def test_progress_is_a_redrawn_bar_on_a_terminal_and_plain_lines_elsewhere():
    assert render_bar(5, 10, "x", width=10) == "[#####.....]  5/10 x"
    assert render_line(5, 10, "x") == "   5/10 x"
    tty, plain = io.StringIO(), io.StringIO()
    for out, is_tty in ((tty, True), (plain, False)):
        shown = Progress(2, out, tty=is_tty)
        shown.show("building a")
        shown.count("built a")
        shown.advance("building b")
        shown.close()
    assert plain.getvalue() == "  0/2 building a\n  2/2 building b\n  2/2 done\n"
    bar = "[" + "#" * 12 + "." * 12 + "]"
    assert tty.getvalue().split("\r")[1:] == [
        f"[{'.' * 24}] 0/2 building a",
        f"{bar} 1/2 built a   ",
        f"[{'#' * 24}] 2/2 building b\n",
    ]


@pytest.mark.slow
def test_a_run_shows_each_asset_as_it_is_built(landing_dir, write_snapshot, resources):
    write_snapshot(D1)
    out = io.StringIO()
    said: list[str] = []
    (run,) = materialize_snapshots(
        D1, D1, resources, progress=said.append, show_progress=out, unpartitioned=False
    )
    lines = out.getvalue().splitlines()
    built = {e.asset_key.to_user_string() for e in run.get_asset_materialization_events()}
    total = len(built)
    assert said == [f"  run snapshot_pipeline: {total} assets, snapshot {D1}"]
    assert lines[0] == f"   0/{total} building raw/achievements"
    assert lines[-1] == f"  {total}/{total} done"
    started = [line.split(" building ")[1] for line in lines[:-1]]
    assert sorted(started) == sorted(built)  # every asset once, as its step starts
    counts = [int(line.split("/")[0]) for line in lines]
    assert counts == sorted(counts)
    assert run.dagster_run.job_name == "snapshot_pipeline"
    assert run.dagster_run.tags["dagster/partition"] == D1.isoformat()


# --- the demo's dates and .env ----------------------------------------------------------------


def test_demo_days_end_today_and_a_fault_day_is_the_last_of_them():
    today = dt.date(2026, 12, 1)
    assert demo_days(today, 7, faults=False) == (dt.date(2026, 11, 25), 7)
    assert demo_days(today, 7, faults=True) == (dt.date(2026, 11, 25), 6)


def test_the_env_file_keeps_other_lines_and_the_environment_wins(tmp_path):
    path = tmp_path / ".env"
    path.write_text("LEARN_QUIET_SECONDS=5\nLEARN_START_DATE=2020-01-01\n")
    set_env_file(path, "LEARN_START_DATE", "2026-11-25")
    set_env_file(path, "LEARN_START_DATE", "2026-11-26")
    assert path.read_text() == (
        "LEARN_QUIET_SECONDS=5\n"
        "# LEARN_START_DATE: written by `learn-assets demo` (its first snapshot); delete to reset\n"
        "LEARN_START_DATE=2026-11-26\n"
    )
    env = {"LEARN_QUIET_SECONDS": "60"}
    assert load_env_file(path, env) == ["LEARN_START_DATE"]
    assert env == {"LEARN_QUIET_SECONDS": "60", "LEARN_START_DATE": "2026-11-26"}
    assert load_env_file(tmp_path / "absent", env) == []


@pytest.mark.slow
def test_demo_with_faults_ends_today_runs_named_jobs_and_shows_the_failed_check(tmp_path):
    env = cli_env(tmp_path, tmp_path / "landing")
    env.pop("LEARN_START_DATE")
    today = dt.datetime.now(dt.UTC).date()
    done = run_learn(env, tmp_path, "demo", "--faults", "--users", "80", "--days", "3")
    first = today - dt.timedelta(days=2)
    assert (tmp_path / ".env").read_text().endswith(f"\nLEARN_START_DATE={first}\n")
    landing = sorted(p.name for p in (tmp_path / "landing").iterdir() if p.is_dir())
    assert landing == [(first + dt.timedelta(days=n)).isoformat() for n in range(3)]
    out = done.stdout
    assets, last = len(snapshot_asset_keys()), today - dt.timedelta(1)
    assert f"run snapshot_pipeline: {assets} assets, snapshots {first}..{last}" in out
    assert "building staged/progress" in out and f"  {assets}/{assets} done" in out
    (fault_line,) = [line for line in out.splitlines() if line.startswith(f"    {today}: rows")]
    assert fault_line.startswith(
        f"    {today}: rows quarantined; blocking check(s) failed as intended: "
    )
    assert "staged/applied_skills one_tenant" in fault_line  # a row of another tenant
    assert "    all delivered on time" in out
    assert "Traceback" not in done.stderr and "Stack Trace" not in out + done.stderr
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        jobs = sorted(r.job_name for r in instance.get_runs())
    assert jobs == ["delivery_freshness", "entra_export", "snapshot_pipeline", "snapshot_pipeline"]
    with duckdb.connect(env["LEARN_WAREHOUSE"], read_only=True) as conn:
        quarantined = conn.execute(
            "SELECT count(*) FROM quarantine.progress WHERE snapshot_date = ?", [today]
        ).fetchone()[0]
    assert quarantined > 0


@pytest.mark.slow
def test_backfill_command_runs_the_named_jobs_with_progress(tmp_path, landing_dir, write_snapshot):
    for day in (D1, D2):
        write_snapshot(day)
    env = cli_env(tmp_path, landing_dir)
    done = run_learn(env, tmp_path, "backfill", "--from", D1.isoformat(), "--to", D2.isoformat())
    assert (
        f"  run snapshot_pipeline: {len(snapshot_asset_keys())} assets, snapshots {D1}..{D2}"
        in done.stdout
    )
    assets = len(snapshot_asset_keys())
    assert f"  {assets}/{assets} done" in done.stdout
    with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
        runs = {r.job_name: r for r in instance.get_runs()}
    assert sorted(runs) == ["entra_export", "snapshot_pipeline"]
    assert runs["snapshot_pipeline"].tags["dagster/asset_partition_range_end"] == D2.isoformat()


# --- preflight --------------------------------------------------------------------------------


def test_a_taken_port_names_the_process_holding_it():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert port_holder(port) == os.getpid()
        assert port_problem(port) == (
            f"port {port} is in use (PID {os.getpid()}): set PORT= to a free port, "
            f"e.g. PORT={port + 1} make ui"
        )
    assert port_problem(port) is None


def test_listening_sockets_are_read_from_proc_net_tcp():
    lines = [
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
        "timeout inode",
        "   0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0 "
        "       0 4242 1 0000000000000000 100 0 0 10 0",
        "   1: 0100007F:0BB8 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0 "
        "       0 4343 1 0000000000000000 20 4 30 10 -1",
    ]
    assert listening_inodes(lines, 3000) == {"4242"}  # the established one is not listening
    assert listening_inodes(lines, 3001) == set()


def test_preflight_command_stops_on_a_taken_port_and_prints_the_url_otherwise(tmp_path):
    env = os.environ | {"DAGSTER_HOME": str(tmp_path)}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        taken = subprocess.run(
            [LEARN, "preflight", "--port", str(port), "--daemon"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert taken.returncode == 1
    assert taken.stderr == (
        f"learn-assets preflight: cannot start:\n  port {port} is in use (PID {os.getpid()}): "
        f"set PORT= to a free port, e.g. PORT={port + 1} make ui\n"
    )
    free = subprocess.run(
        [LEARN, "preflight", "--port", str(port)], env=env, capture_output=True, text=True
    )
    assert (free.returncode, free.stdout) == (0, f"Dagster UI: http://127.0.0.1:{port}\n")
    bad = subprocess.run(
        [LEARN, "preflight", "--port", str(port)],
        env=env | {"LEARN_TEAMS_WEBHOOK_URL": "http://example.org/hook"},
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1
    assert "alerts: LEARN_TEAMS_WEBHOOK_URL must be an https:// URL" in bad.stderr


def instance_home(tmp_path: Path) -> str:
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text((PROJECT / "dagster.yaml").read_text())
    return str(home)


def beat(home: str, at: float) -> None:
    from dagster._daemon.types import DaemonHeartbeat

    with dg.DagsterInstance.from_config(home) as instance:
        instance.add_daemon_heartbeat(DaemonHeartbeat(at, "SENSOR", "daemon-1", errors=[]))


@pytest.mark.slow
def test_a_heartbeat_left_by_a_stopped_daemon_does_not_block(tmp_path):
    home = instance_home(tmp_path)
    assert daemon_problem(home) is None  # never a daemon
    beat(home, time.time() - 300)
    assert daemon_problem(home) is None  # long stopped: decided at once
    beat(home, time.time())  # just stopped: watched for one (here 2 s) interval, then fine
    said: list[str] = []
    started = time.monotonic()
    assert daemon_problem(home, interval=2, say=said.append) is None
    assert 2 <= time.monotonic() - started < 20
    assert said[0].startswith(f"a daemon heartbeat from 0 s ago is in {home}: watching up to 12 s")
