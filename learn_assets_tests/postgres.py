"""A real PostgreSQL server for a test: `initdb` in a temporary folder, `pg_ctl` on a free port
of 127.0.0.1, password authentication. As root (CI), the server runs as the unprivileged user
`nobody` (PostgreSQL refuses to run as root), through `runuser`.

Binaries are found on PATH or in Debian's /usr/lib/postgresql/<version>/bin (the `postgresql`
package, which .ci/run installs). Without them the test is skipped locally, naming the package,
and fails under CI=true."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from learn_assets_tests.servers import free_port

PASSWORD = "pg-test-pa55"  # a throwaway server's, not a secret


def postgres_bin() -> Path | None:
    """The folder holding initdb and pg_ctl, if PostgreSQL is installed."""
    found = shutil.which("initdb"), shutil.which("pg_ctl")
    if all(found):
        return Path(os.path.realpath(found[0])).parent
    debian = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(debian[-1]).parent if debian else None


@dataclass(frozen=True)
class Postgres:
    host: str
    port: int
    user: str
    password: str
    db: str

    def env(self) -> dict[str, str]:
        """The variables deploy/dagster.yaml reads."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USER": self.user,
            "DAGSTER_PG_PASSWORD": self.password,
            "DAGSTER_PG_DB": self.db,
        }

    def query(self, sql: str) -> list[tuple]:
        import psycopg2

        with (
            psycopg2.connect(
                host=self.host,
                port=self.port,
                user=self.user,
                password=self.password,
                dbname=self.db,
            ) as conn,
            conn.cursor() as cursor,
        ):
            cursor.execute(sql)
            return cursor.fetchall()


def _as_server_user(command: list[str]) -> list[str]:
    return ["runuser", "-u", "nobody", "--", *command] if os.geteuid() == 0 else command


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}): {done.stdout}{done.stderr}")


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    binaries = postgres_bin()
    if binaries is None:
        reason = "PostgreSQL is not installed (initdb/pg_ctl): apt-get install postgresql"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (.ci/run installs it)")
        pytest.skip(reason)
    # Not under pytest's tmp_path: as root that folder is closed to the server's user.
    folder = Path(tempfile.mkdtemp(prefix="learn-pg-"))
    folder.chmod(0o755)
    data, pwfile, log = folder / "data", folder / "pwfile", folder / "server.log"
    pwfile.write_text(PASSWORD + "\n")
    if os.geteuid() == 0:
        shutil.chown(folder, "nobody")
        shutil.chown(pwfile, "nobody")
    port = free_port()
    server = Postgres("127.0.0.1", port, "dagster", PASSWORD, "dagster")
    pg_ctl = str(binaries / "pg_ctl")
    try:
        _run(
            _as_server_user(
                [
                    str(binaries / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    server.user,
                    f"--pwfile={pwfile}",
                    "--auth=scram-sha-256",
                    "--no-locale",
                    "--encoding=UTF8",
                ]
            ),
            "initdb",
        )
        _run(
            _as_server_user(
                [pg_ctl, "-D", str(data), "-l", str(log), "-w", "-t", "60"]
                + ["-o", f"-h 127.0.0.1 -p {port} -k {folder}", "start"]
            ),
            "pg_ctl start",
        )
        with_postgres_db = Postgres(server.host, port, server.user, PASSWORD, "postgres")
        _create_database(with_postgres_db, server.db)
        yield server
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                _as_server_user([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"]),
                capture_output=True,
                timeout=120,
            )
        shutil.rmtree(folder, ignore_errors=True)


def _create_database(server: Postgres, name: str) -> None:
    import psycopg2

    conn = psycopg2.connect(
        host=server.host,
        port=server.port,
        user=server.user,
        password=server.password,
        dbname=server.db,
    )
    try:
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()
