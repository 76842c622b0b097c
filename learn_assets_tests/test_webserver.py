"""The real Dagster webserver serves the asset graph: every asset, check and lineage edge."""

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from learn_assets.definitions import defs
from learn_assets_tests.cli import PROJECT, cli_env

pytestmark = pytest.mark.slow  # real CLI runs, servers or browsers: `make test-fast` leaves it out

WEBSERVER = str(Path(sys.executable).parent / "dagster-webserver")
QUERY = """{ assetNodes { assetKey { path } dependencyKeys { path }
  assetChecksOrError { ... on AssetChecks { checks { name } } } } }"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def webserver(tmp_path, landing_dir):
    port = free_port()
    process = subprocess.Popen(
        [WEBSERVER, "-m", "learn_assets.definitions", "-h", "127.0.0.1", "-p", str(port)],
        cwd=PROJECT,
        env=cli_env(tmp_path, landing_dir),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{url}/server_info", timeout=2)
                break
            except OSError:
                if process.poll() is not None:
                    pytest.fail(f"webserver exited with {process.returncode}")
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def graphql(url: str, query: str) -> dict:
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["data"]


def test_webserver_serves_every_asset_check_and_edge(webserver):
    nodes = graphql(webserver, QUERY)["assetNodes"]
    served = {"/".join(n["assetKey"]["path"]): n for n in nodes}
    graph = defs.resolve_asset_graph()
    expected = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert set(served) == expected
    for key in graph.get_all_asset_keys():
        node = served[key.to_user_string()]
        deps = {"/".join(d["path"]) for d in node["dependencyKeys"]}
        assert deps == {d.to_user_string() for d in graph.get(key).parent_keys}, key
    served_checks = {
        (key, c["name"]) for key, n in served.items() for c in n["assetChecksOrError"]["checks"]
    }
    expected_checks = {(c.asset_key.to_user_string(), c.name) for c in graph.asset_check_keys}
    assert served_checks == expected_checks
    assert ("staged/progress", "rows_conserved") in served_checks
