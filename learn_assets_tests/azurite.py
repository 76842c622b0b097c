"""A real Azurite blob service for the Azure tests (pytest plugin, loaded by the root conftest).

Installed by `.ci/install-azurite` (npm registry, pinned) into `.ci/node`. Without it the Azure
tests are skipped locally with the install command as the reason, and fail under CI (`CI` set),
where it must be there.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from learn_assets_tests.waiting import stop

REPO = Path(__file__).resolve().parents[1]
LOCAL_BIN = REPO / ".ci" / "node" / "node_modules" / ".bin" / "azurite-blob"
INSTALL = "bash .ci/install-azurite"
# Azurite's well-known development account; public, documented, not a secret of ours.
ACCOUNT = "devstoreaccount1"
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
START_TIMEOUT = 30.0


def azurite_binary() -> str | None:
    if LOCAL_BIN.exists():
        return str(LOCAL_BIN)
    return shutil.which("azurite-blob")


def connection_string(port: int, key: str = KEY) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={key};"
        f"BlobEndpoint=http://127.0.0.1:{port}/{ACCOUNT};"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(port: int) -> bool:
    """Any HTTP answer (an unauthenticated request gets 403) means the service is up."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", f"/{ACCOUNT}?comp=list")
        return conn.getresponse().status > 0
    except OSError:
        return False
    finally:
        conn.close()


@pytest.fixture(scope="session")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Start Azurite's blob service on a free loopback port; yield its connection string."""
    binary = azurite_binary()
    if binary is None:
        reason = f"Azurite is not installed: run `{INSTALL}`"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    port = free_port()
    folder = tmp_path_factory.mktemp("azurite")
    args = ["--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", str(folder)]
    flags = ["--silent", "--skipApiVersionCheck", "--loose"]
    log = (folder / "azurite.log").open("wb")
    process = subprocess.Popen([binary, *args, *flags], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Azurite did not start: {(folder / 'azurite.log').read_text()}")
            time.sleep(0.1)
        yield connection_string(port)
    finally:
        stop(process, 10)
        log.close()


@pytest.fixture
def azure_env(azurite: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Credentials for Azurite in the environment, as a deployment would set them."""
    for name in ("AZURE_STORAGE_ACCOUNT_NAME", "AZURE_STORAGE_ACCOUNT_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite)
    return azurite


@pytest.fixture
def container(azure_env: str) -> str:
    """A new, empty container for one test: `az://<container>` URLs start here."""
    from azure.storage.blob import BlobServiceClient

    name = f"t{uuid.uuid4().hex[:20]}"
    BlobServiceClient.from_connection_string(azure_env).create_container(name)
    return name
