"""The scale-out configuration (deploy/tenants: Docker; deploy/helm: Kubernetes), checked
offline: every file parses; the instance validates against Dagster's schema and its
DockerRunLauncher config against dagster-docker's; the example tenants file is valid; there is a
code location for each tenant and group of it, in the compose file, its workspace and the Helm
values alike; every variable handed to runs is one the deployment sets; a tenant's warehouse is on
its own volume where its runs write it; and the lakes are on ADLS."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from dagster._config import process_config
from dagster._core.instance.config import dagster_instance_config
from dagster_docker import DockerRunLauncher

from learn_assets.settings import setting_fields, setting_parsers
from learn_assets.tenants import load_tenants
from learn_assets_tests.cli import PROJECT

DEPLOY = PROJECT / "deploy"
TENANTS = DEPLOY / "tenants"
EXAMPLE = load_tenants(TENANTS / "tenants.example.yaml", setting_parsers())
LOCATIONS = EXAMPLE.locations()
POOLS = {"default_limit": 1, "granularity": "run"}


def read(path: Path):
    return yaml.safe_load(path.read_text())


def env_file(path: Path) -> set[str]:
    """The variables an env file (or its example) sets, commented-out ones included."""
    return set(re.findall(r"^#?([A-Z][A-Z0-9_]*)=", path.read_text(), re.MULTILINE))


def test_the_example_tenants_file_is_valid_and_puts_the_lakes_on_adls():
    assert LOCATIONS == ["contoso", "fabrikam", "all_tenants"]
    for tenant in EXAMPLE.tenants.values():
        assert tenant.lake.startswith("az://") and tenant.landing.startswith("az://")
        assert tenant.warehouse == f"/var/lib/learn-assets/data/{tenant.name}/warehouse.duckdb"
    assert EXAMPLE.groups["all_tenants"].lake.startswith("az://")


def test_the_docker_instance_validates_and_hands_runs_only_variables_the_deployment_sets():
    config = dagster_instance_config(str(TENANTS))[0]  # Dagster's own schema of dagster.yaml
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert config["concurrency"]["pools"] == POOLS
    assert read(PROJECT / "dagster.yaml")["concurrency"]["pools"] == POOLS
    assert read(DEPLOY / "dagster.yaml")["concurrency"]["pools"] == POOLS
    launcher = config["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_docker", "DockerRunLauncher")
    checked = process_config(DockerRunLauncher.config_type(), launcher["config"])
    assert checked.success, checked.errors
    compose = read(TENANTS / "docker-compose.yml")
    assert launcher["config"]["network"] == compose["networks"]["learn_assets"]["name"]
    data = compose["volumes"]["learn_assets_data"]["name"]
    assert f"{data}:/var/lib/learn-assets/data" in launcher["config"]["container_kwargs"]["volumes"]

    handed = set(launcher["config"]["env_vars"])
    set_by = env_file(DEPLOY / "learn-assets.env.example")
    set_by |= env_file(TENANTS / "tenants.env.example")
    assert handed - set_by == set(), "handed to runs but set nowhere"
    settings = {f.metadata["env"] for f in setting_fields()}
    assert {v for v in handed if v.startswith("LEARN_")} <= settings
    named = {t.pseudonym_key_env for t in EXAMPLE.tenants.values() if t.pseudonym_key_env}
    named |= {t.teams_webhook_env for t in EXAMPLE.tenants.values() if t.teams_webhook_env}
    assert named <= handed, "a tenant's secret variable never reaches its runs"


def test_every_tenant_and_group_is_a_code_location_of_the_compose_file_and_its_workspace():
    compose = read(TENANTS / "docker-compose.yml")
    services = compose["services"]
    assert set(services) == {"postgres", "webserver", "daemon", *LOCATIONS}
    image = services["webserver"]["image"]
    workspace = read(TENANTS / "workspace.yaml")["load_from"]
    assert [entry["grpc_server"]["location_name"] for entry in workspace] == LOCATIONS
    for entry in workspace:
        server = entry["grpc_server"]
        service = services[server["host"]]
        command = service["command"]
        assert command[:3] == ["dagster", "api", "grpc"]
        assert command[command.index("-p") + 1] == str(server["port"])
        pointer = command[command.index("-m") + 1 :]
        assert pointer == ["learn_assets.locations", "-a", server["host"]]
        assert service["image"] == service["environment"]["DAGSTER_CURRENT_IMAGE"] == image
        assert service["environment"]["LEARN_TENANTS_FILE"] == "/etc/learn-assets/tenants.yaml"
    daemon = services["daemon"]
    assert daemon["command"][:2] == ["dagster-daemon", "run"]
    assert "/var/run/docker.sock:/var/run/docker.sock" in daemon["volumes"]
    assert "docker,k8s" in (DEPLOY / "Dockerfile").read_text()


def test_the_helm_values_run_each_tenant_on_its_own_disk_with_the_k8s_run_launcher():
    values = read(DEPLOY / "helm" / "values.yaml")
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    assert values["postgresql"]["enabled"] is False and values["postgresql"]["postgresqlHost"]
    assert values["dagsterDaemon"]["runCoordinator"]["type"] == "QueuedRunCoordinator"
    assert values["concurrency"]["pools"] == {"defaultLimit": 1, "granularity": "run"}
    deployments = values["dagster-user-deployments"]["deployments"]
    attributes = [d["dagsterApiGrpcArgs"] for d in deployments]
    assert attributes == [["-m", "learn_assets.locations", "-a", name] for name in LOCATIONS]
    claims = {
        doc["metadata"]["name"]: doc
        for doc in yaml.safe_load_all((DEPLOY / "helm" / "warehouses.yaml").read_text())
    }
    for deployment, name in zip(deployments, LOCATIONS, strict=True):
        assert re.fullmatch(r"[a-z0-9-]+", deployment["name"]), "a Kubernetes name"
        assert deployment["includeConfigInLaunchedRuns"] == {"enabled": True}
        env = {e["name"]: e["value"] for e in deployment["env"]}
        assert env["LEARN_TENANTS_FILE"] == "/etc/learn-assets/tenants.yaml"
        mounts = {m["name"]: m["mountPath"] for m in deployment["volumeMounts"]}
        assert mounts["tenants"] == "/etc/learn-assets"
        if name not in EXAMPLE.tenants:
            assert "warehouse" not in mounts  # a group reads and writes lakes only
            continue
        tenant = EXAMPLE.tenants[name]
        assert tenant.warehouse.startswith(mounts["warehouse"] + "/")
        volume = next(v for v in deployment["volumes"] if v["name"] == "warehouse")
        claim = claims[volume["persistentVolumeClaim"]["claimName"]]
        assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
        assert deployment["nodeSelector"] == {"learn-assets/tenant": name}
        secrets = {s["name"] for s in deployment["envSecrets"]}
        assert "learn-assets-azure" in secrets
        if tenant.pseudonym_key_env:
            assert f"learn-assets-{name}" in secrets
            header = (DEPLOY / "helm" / "values.yaml").read_text()
            assert f"--from-literal={tenant.pseudonym_key_env}=" in header


@pytest.mark.parametrize("path", sorted(DEPLOY.rglob("*.y*ml")), ids=lambda p: p.name)
def test_every_deploy_file_parses(path):
    assert list(yaml.safe_load_all(path.read_text()))
