"""The tenants file (`LEARN_TENANTS_FILE`): read whole and checked at load, every problem named
with its tenant and field in one error; a tenant's entry becomes its process's settings (its own
locations never inherited, its secrets read from the variables it names); without the file,
nothing changes."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml

from learn_assets.generator.tenants import tenant_plan, tenants_config
from learn_assets.parsing import PSEUDONYM_KEY
from learn_assets.settings import (
    SettingError,
    Settings,
    resolve,
    setting_parsers,
    tenant_settings_in,
    tenants_file,
)
from learn_assets.tenancy import ensure_pool
from learn_assets.tenants import TenantsFileError, load_tenants, parse_tenants
from learn_assets.workspace import SINGLE_LOCATION, workspace_config

CONTOSO_ID = "0b8c2b9e-6d7c-4e5a-9f10-1a2b3c4d5e6f"
FABRIKAM_ID = "7d1e9a34-52f0-4b8e-a6c1-0f9e8d7c6b5a"
FILE = Path("/srv/learn/tenants.yaml")


def valid() -> dict:
    return {
        "tenants": [
            {
                "name": "contoso",
                "tenant_id": CONTOSO_ID.upper(),  # any case: stored lower case
                "owner": "learning-data@contoso.com",
                "landing": "contoso/landing",
                "warehouse": "contoso/warehouse.duckdb",
                "exports": "contoso/exports",
                "lake": "az://lake/contoso",
                "pseudonymize": True,
                "pseudonym_key_env": "CONTOSO_PSEUDONYM_KEY",
                "alerts": {
                    "teams_webhook_env": "CONTOSO_TEAMS_WEBHOOK_URL",
                    "mail_to": ["ops@contoso.com", "hr@contoso.com"],
                },
                "settings": {"LEARN_START_DATE": "2026-10-01", "LEARN_QUIET_SECONDS": 120},
            },
            {
                "name": "fabrikam",
                "tenant_id": FABRIKAM_ID,
                "owner": "team:fabrikam-learning",
                "landing": "/data/fabrikam/landing",
                "warehouse": "fabrikam/warehouse.duckdb",
                "exports": "fabrikam/exports",
                "lake": "fabrikam/lake",
            },
        ],
        "consolidated": [
            {"name": "all_tenants", "members": ["contoso", "fabrikam"], "lake": "group/lake"}
        ],
    }


def parse(raw) -> object:
    return parse_tenants(raw, FILE, setting_parsers())


def problems(raw) -> list[str]:
    with pytest.raises(TenantsFileError) as error:
        parse(raw)
    first, *lines = str(error.value).splitlines()
    assert first.startswith(f"LEARN_TENANTS_FILE {FILE}: {len(lines)} problem")
    return [line.removeprefix("  - ") for line in lines]


def test_a_valid_file_describes_each_tenant_with_locations_relative_to_it():
    found = parse(valid())
    assert list(found.tenants) == ["contoso", "fabrikam"]
    assert found.locations() == ["contoso", "fabrikam", "all_tenants"]
    contoso = found.tenants["contoso"]
    assert contoso.tenant_id == CONTOSO_ID
    assert contoso.landing == "/srv/learn/contoso/landing"
    assert contoso.lake == "az://lake/contoso"  # a URL as it is
    # Not given: next to the warehouse, so two tenants never share them.
    assert contoso.serving_database == "/srv/learn/contoso/warehouse_serving.duckdb"
    assert contoso.cache == "/srv/learn/contoso/warehouse_cache"
    assert contoso.mail_to == ("ops@contoso.com", "hr@contoso.com")
    assert contoso.settings == {"LEARN_START_DATE": "2026-10-01", "LEARN_QUIET_SECONDS": "120"}
    assert found.tenants["fabrikam"].landing == "/data/fabrikam/landing"
    assert found.tenants["fabrikam"].pseudonymize is False
    group = found.groups["all_tenants"]
    assert group.members == ("contoso", "fabrikam")
    assert group.lake == "/srv/learn/group/lake"


def test_a_file_on_disk_is_read_through_the_settings_layer(tmp_path):
    path = tmp_path / "tenants.yaml"
    path.write_text(yaml.safe_dump(valid()))
    found = tenants_file({"LEARN_TENANTS_FILE": str(path)})
    assert found.path == path
    assert found.tenants["contoso"].warehouse == str(tmp_path / "contoso/warehouse.duckdb")
    assert tenants_file({}) is None and tenants_file({"LEARN_TENANTS_FILE": " "}) is None


def changed(edit) -> dict:
    raw = copy.deepcopy(valid())
    edit(raw)
    return raw


def contoso(**fields):
    def edit(raw):
        for name, value in fields.items():
            if value is None:
                del raw["tenants"][0][name]
            else:
                raw["tenants"][0][name] = value

    return edit


# (what is wrong, the edit, the problem named; the only one unless the edit breaks more)
SCENARIOS = [
    (
        "a missing required field",
        contoso(warehouse=None),
        "tenant 'contoso': field warehouse is missing",
    ),
    (
        "an unknown field (a typo)",
        contoso(landng="x"),
        "tenant 'contoso': unknown field 'landng' (fields: alerts, cache, datashare, "
        "entra_export, exports, lake, landing, name, owner, pseudonym_key_env, pseudonymize, "
        "serving_database, settings, tenant_id, warehouse)",
    ),
    (
        "a tenant id that is no GUID",
        contoso(tenant_id="contoso.onmicrosoft.com"),
        "tenant 'contoso': field tenant_id must be a tenant id (GUID) like "
        "72f988bf-86f1-41af-91ab-2d7cd011db47, got 'contoso.onmicrosoft.com'",
    ),
    (
        "a name that cannot be an asset key's first part",
        contoso(name="Contoso Ltd"),
        "tenant 'Contoso Ltd': field name must be a short name: a lower-case letter, then "
        "lower-case letters, digits or _ (30 at most), got 'Contoso Ltd'",
        2,  # and the group's member contoso is not a tenant any more
    ),
    (
        "a mistyped boolean is never off",
        contoso(pseudonymize="ture"),
        "tenant 'contoso': field pseudonymize must be true or false (or yes/no, on/off, 1/0), "
        "got 'ture': a mistyped value is an error, not off",
    ),
    (
        "privacy on without the key's variable",
        contoso(pseudonym_key_env=None),
        "tenant 'contoso': field pseudonym_key_env is missing: with pseudonymize: true it "
        "names the environment variable holding the pseudonym key",
    ),
    (
        "an owner that is neither an address nor a team",
        contoso(owner="Jane"),
        "tenant 'contoso': field owner must be an e-mail address or team:<name>, got 'Jane'",
    ),
    (
        "a location given as a list",
        contoso(exports=["a", "b"]),
        "tenant 'contoso': field exports must be text, got a list",
    ),
    (
        "a bad alert address",
        contoso(alerts={"mail_to": ["ops@contoso.com", "ops"]}),
        "tenant 'contoso': field alerts.mail_to must be an e-mail address like "
        "ops@example.org, got 'ops'",
    ),
    (
        "an unknown alert channel",
        contoso(alerts={"slack": "x"}),
        "tenant 'contoso': unknown field alerts.slack (fields: teams_webhook_env, mail_to)",
    ),
    (
        "a setting that does not exist",
        contoso(settings={"LEARN_QUIET": 5}),
        "tenant 'contoso': settings.LEARN_QUIET is not a setting of learn_assets",
    ),
    (
        "a setting's bad value, checked by the setting's own parser",
        contoso(settings={"LEARN_MAX_USER_DROP": 2}),
        "tenant 'contoso': settings.LEARN_MAX_USER_DROP must be a share between 0 and 1 (0.5 "
        "is 50%), got 2.0",
    ),
    (
        "a field's variable set again in settings",
        contoso(settings={"LEARN_WAREHOUSE": "/elsewhere.duckdb"}),
        "tenant 'contoso': settings.LEARN_WAREHOUSE is set by a field of the entry, not here",
    ),
    (
        "a secret in the file",
        contoso(settings={"LEARN_SMTP_PASSWORD": "hunter2"}),
        "tenant 'contoso': settings.LEARN_SMTP_PASSWORD is a secret: keep it in the "
        "environment (alerts.teams_webhook_env and pseudonym_key_env name the variables)",
    ),
    (
        "two tenants with one id",
        lambda raw: raw["tenants"][1].update(tenant_id=CONTOSO_ID),
        f"tenant 'fabrikam': tenant_id {CONTOSO_ID} is also tenant 'contoso''s",
    ),
    (
        "two tenants with one name",
        lambda raw: raw["tenants"][1].update(name="contoso"),
        "tenant 'contoso': name 'contoso' is given to two tenants",
        2,  # and the group's member fabrikam is gone
    ),
    (
        "two tenants writing one warehouse",
        lambda raw: raw["tenants"][1].update(warehouse="contoso/warehouse.duckdb"),
        "tenant 'fabrikam': warehouse /srv/learn/contoso/warehouse.duckdb is also tenant "
        "'contoso''s warehouse: a tenant's data must never reach another's",
        3,  # and the reports database and cache next to it
    ),
    (
        "one tenant's exports inside nothing but another's lake folder name",
        lambda raw: raw["tenants"][1].update(exports="az://lake/contoso"),
        "tenant 'fabrikam': exports az://lake/contoso is also tenant 'contoso''s lake: a "
        "tenant's data must never reach another's",
    ),
    (
        "a group naming a tenant the file lacks",
        lambda raw: raw["consolidated"][0].update(members=["contoso", "northwind"]),
        "consolidated group 'all_tenants': field members names 'northwind', which is not a "
        "tenant of the file",
    ),
    (
        "a group named like a tenant",
        lambda raw: raw["consolidated"][0].update(name="fabrikam"),
        "consolidated group 'fabrikam': name 'fabrikam' is already a tenant's or a group's",
    ),
    (
        "an unknown section",
        lambda raw: raw.update(tenant=[]),
        "the file: unknown section 'tenant' (sections: tenants, consolidated)",
    ),
    (
        "no tenant at all",
        lambda raw: raw.update(tenants=[]),
        "tenants: no tenant listed: list at least one (`- name: ...`)",
        3,  # and neither member of the group is a tenant
    ),
]


@pytest.mark.parametrize(
    ("edit", "problem", "count"),
    [(*s[1:3], s[3] if len(s) > 3 else 1) for s in SCENARIOS],
    ids=[s[0] for s in SCENARIOS],
)
def test_each_problem_is_named_with_its_tenant_and_field(edit, problem, count):
    found = problems(changed(edit))
    assert problem in found, "\n".join(found)
    assert len(found) == count, "\n".join(found)


def test_every_problem_of_the_file_is_named_at_once():
    def edit(raw):
        contoso(tenant_id="x", owner=None)(raw)
        raw["tenants"][1]["pseudonymize"] = "maybe"

    assert problems(changed(edit)) == [
        "tenant 'contoso': field tenant_id must be a tenant id (GUID) like "
        "72f988bf-86f1-41af-91ab-2d7cd011db47, got 'x'",
        "tenant 'contoso': field owner is missing",
        "tenant 'fabrikam': field pseudonymize must be true or false (or yes/no, on/off, 1/0), "
        "got 'maybe': a mistyped value is an error, not off",
    ]


def test_a_secret_put_where_a_variable_name_belongs_is_never_shown():
    secret = "https://contoso.webhook.office.com/webhookb2/abc@def/IncomingWebhook/s3cret"
    (problem,) = problems(changed(contoso(alerts={"teams_webhook_env": secret})))
    assert "s3cret" not in problem
    assert problem.startswith(
        "tenant 'contoso': field alerts.teams_webhook_env must be the name of an environment "
        "variable"
    )
    (problem,) = problems(changed(contoso(pseudonym_key_env="correct horse battery")))
    assert "horse" not in problem


def test_a_key_given_twice_and_a_broken_file_are_refused(tmp_path):
    path = tmp_path / "tenants.yaml"
    path.write_text("tenants:\n  - name: contoso\n    name: fabrikam\n")
    with pytest.raises(TenantsFileError, match=r"'name' is given twice in one entry"):
        load_tenants(path, setting_parsers())
    path.write_text("tenants: [\n")
    with pytest.raises(TenantsFileError, match=rf"LEARN_TENANTS_FILE {path}: not valid YAML"):
        load_tenants(path, setting_parsers())
    with pytest.raises(TenantsFileError, match=r"cannot be read"):
        load_tenants(tmp_path / "absent.yaml", setting_parsers())


# --- a tenant's process -----------------------------------------------------------------------

PROCESS = {
    "LEARN_WAREHOUSE": "/var/lib/learn/warehouse.duckdb",  # the single tenant's: never inherited
    "LEARN_EXPORTS_DIR": "/srv/exports",
    PSEUDONYM_KEY: "the-single-tenants-key",
    "LEARN_TEAMS_WEBHOOK_URL": "https://teams.example/single",
    "LEARN_ALERT_TO": "single@example.org",
    "LEARN_START_DATE": "2026-09-01",  # any other setting: the deployment's, unless overridden
    "LEARN_LOCK_TIMEOUT": "30",
    "CONTOSO_PSEUDONYM_KEY": "contoso-key",
    "CONTOSO_TEAMS_WEBHOOK_URL": "https://teams.example/contoso",
}


def test_a_tenant_process_has_its_entrys_settings_never_another_tenants():
    found = parse(valid())
    contoso = tenant_settings_in(found.tenants["contoso"], PROCESS)
    assert contoso.tenant == "contoso" and contoso.tenant_id == CONTOSO_ID
    assert contoso.warehouse == "/srv/learn/contoso/warehouse.duckdb"
    assert contoso.exports_dir == "/srv/learn/contoso/exports"
    assert contoso.start_date.isoformat() == "2026-10-01"  # its settings: override
    assert contoso.quiet_seconds == 120
    assert contoso.lock_timeout == 30.0  # the rest: the deployment's
    assert contoso.pseudonymize is True
    assert contoso.pseudonym_key_variable == "CONTOSO_PSEUDONYM_KEY"
    assert contoso.teams_webhook_url == "https://teams.example/contoso"
    assert contoso.alert_to == "ops@contoso.com,hr@contoso.com"
    environment = found.tenants["contoso"].environment(PROCESS)
    assert environment[PSEUDONYM_KEY] == "contoso-key"

    fabrikam = tenant_settings_in(found.tenants["fabrikam"], PROCESS)
    # Nothing of the process's single tenant: no alerts, no key, its own locations.
    assert fabrikam.teams_webhook_url == "" and fabrikam.alert_to == ""
    assert fabrikam.pseudonymize is False and fabrikam.pseudonym_key_variable == PSEUDONYM_KEY
    assert found.tenants["fabrikam"].environment(PROCESS)[PSEUDONYM_KEY] == ""
    assert fabrikam.warehouse == "/srv/learn/fabrikam/warehouse.duckdb"
    assert fabrikam.start_date.isoformat() == "2026-09-01"


def test_a_tenant_that_cannot_run_is_named():
    found = parse(valid())
    without_key = {k: v for k, v in PROCESS.items() if k != "CONTOSO_PSEUDONYM_KEY"}
    with pytest.raises(SettingError) as error:
        tenant_settings_in(found.tenants["contoso"], without_key, "tenants.yaml")
    assert str(error.value) == (
        "tenants.yaml: tenant 'contoso': pseudonymize is on but CONTOSO_PSEUDONYM_KEY (its "
        "pseudonym_key_env) is not set: privacy mode needs the secret key of the pseudonyms in "
        "that variable"
    )
    with pytest.raises(SettingError) as error:
        tenant_settings_in(found.tenants["fabrikam"], PROCESS | {"LEARN_LOCK_TIMEOUT": "soon"})
    assert str(error.value) == (
        "tenant 'fabrikam': LEARN_LOCK_TIMEOUT must be a number of seconds (0 or more), got 'soon'"
    )


def test_learn_tenant_selects_an_entry_of_the_file(tmp_path):
    path = tmp_path / "tenants.yaml"
    path.write_text(yaml.safe_dump(valid()))
    env = PROCESS | {"LEARN_TENANTS_FILE": str(path)}
    assert resolve(env | {"LEARN_TENANT": "fabrikam"}).tenant_id == FABRIKAM_ID
    with pytest.raises(SettingError) as error:
        resolve(env | {"LEARN_TENANT": "northwind"})
    assert str(error.value) == (
        f"LEARN_TENANT='northwind' is not a tenant of {path} (its tenants: contoso, fabrikam)"
    )
    with pytest.raises(SettingError, match="LEARN_TENANT='fabrikam' needs LEARN_TENANTS_FILE"):
        resolve(PROCESS | {"LEARN_TENANT": "fabrikam"})


def test_without_learn_tenant_the_variables_configure_the_one_tenant_as_before(tmp_path):
    path = tmp_path / "tenants.yaml"
    path.write_text(yaml.safe_dump(valid()))
    single = Settings.from_env(PROCESS)
    assert resolve(PROCESS) == single
    with_file = PROCESS | {"LEARN_TENANTS_FILE": str(path)}
    assert resolve(with_file) == Settings.from_env(with_file)  # the file alone selects nothing
    assert single.tenant == "" and single.tenant_id == ""
    assert single.owner == "team:learning-analytics"  # the default of LEARN_OWNER
    assert single.warehouse == "/var/lib/learn/warehouse.duckdb"
    assert single.pseudonym_key_variable == PSEUDONYM_KEY


# --- the workspace and the sample -------------------------------------------------------------


def test_the_workspace_has_one_code_location_per_tenant_and_group(tmp_path):
    assert workspace_config(None, tmp_path) == {
        "load_from": [
            {
                "python_module": {
                    "module_name": "learn_assets.definitions",
                    "working_directory": str(tmp_path),
                    "location_name": SINGLE_LOCATION,
                }
            }
        ]
    }
    locations = workspace_config(parse(valid()), tmp_path)["load_from"]
    assert [entry["python_module"] for entry in locations] == [
        {
            "module_name": "learn_assets.locations",
            "attribute": name,
            "working_directory": str(tmp_path),
            "location_name": name,
        }
        for name in ("contoso", "fabrikam", "all_tenants")
    ]


def test_the_sample_tenants_differ_and_their_file_is_valid(tmp_path):
    plan = tenant_plan(3, users=1000, seed=7)
    assert [(t.name, t.users, t.seed) for t in plan] == [
        ("contoso", 1000, 7),  # tenant 0 is `learn-assets sample` with the same options
        ("fabrikam", 600, 1007),
        ("northwind", 1500, 2007),
    ]
    with pytest.raises(ValueError, match="tenants must be between 1 and 99, got 0"):
        tenant_plan(0, 10, 1)

    class Summary:
        def __init__(self, tenant_id: str) -> None:
            self.tenant_id = tenant_id

    config = tenants_config({"contoso": Summary(CONTOSO_ID), "fabrikam": Summary(FABRIKAM_ID)})
    found = parse_tenants(config, tmp_path / "tenants.yaml", setting_parsers())
    assert found.locations() == ["contoso", "fabrikam", "all_tenants"]
    assert found.tenants["fabrikam"].lake == str(tmp_path / "fabrikam" / "lake")
    assert found.groups["all_tenants"].lake == str(tmp_path / "lake")
    one = tenants_config({"contoso": Summary(CONTOSO_ID)})
    assert "consolidated" not in one


# --- a tenant's code location -----------------------------------------------------------------

LOCATION = """
import json, os, sys
import dagster as dg
import learn_assets.locations as locations
from learn_assets.settings import SettingError
defs = getattr(locations, "contoso")
graph = defs.resolve_asset_graph()
nodes = [graph.get(k) for k in graph.get_all_asset_keys()]
try:
    getattr(locations, "fabrikam")
    refused = ""
except SettingError as e:
    refused = str(e)
print(json.dumps({
    "keys": sorted(k.to_user_string() for k in graph.get_all_asset_keys()),
    "groups": sorted({n.group_name for n in nodes}),
    "pools": sorted({p for n in nodes for p in (n.pools or ())}),
    "owners": sorted({o for n in nodes for o in n.owners}),
    "tags": sorted({n.tags.get("learn/tenant", "") for n in nodes}),
    "jobs": sorted(j.name for j in defs.resolve_all_job_defs()),
    "sensors": sorted(s.name for s in defs.sensors),
    "schedules": sorted(s.name for s in defs.schedules),
    "job_tags": dict(defs.resolve_job_def("contoso_snapshot_pipeline").run_tags),
    "refused": refused,
    "env": os.environ["LEARN_TENANT"],
}))
"""


@pytest.mark.slow
def test_a_tenants_code_location_shows_the_tenant_everywhere(tmp_path):
    """What the workspace loads for tenant contoso: keys, groups, names, tags, owner and pool
    are the tenant's; the same process refuses to become another tenant."""
    path = tmp_path / "tenants.yaml"
    path.write_text(yaml.safe_dump(valid()))
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEARN_")}
    env |= {"LEARN_TENANTS_FILE": str(path), "CONTOSO_PSEUDONYM_KEY": "k"}
    done = subprocess.run(
        [sys.executable, "-c", LOCATION], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["keys"] and all(k.startswith("contoso/") for k in found["keys"])
    assert "contoso/raw/progress" in found["keys"] and "contoso/publish/lake" in found["keys"]
    assert found["groups"] == sorted(
        f"contoso_{layer}" for layer in ("raw", "staged", "core", "reports", "exports", "publish")
    )
    assert found["pools"] == ["warehouse_contoso"]  # one writer at a time, per tenant
    assert found["owners"] == ["learning-data@contoso.com"]
    assert found["tags"] == ["contoso"]
    assert all(j.startswith("contoso_") or j.startswith("__") for j in found["jobs"])
    assert "contoso_snapshot_pipeline" in found["jobs"]
    assert "contoso_landing_sensor" in found["sensors"]
    assert all(s.startswith("contoso_") for s in found["sensors"] + found["schedules"])
    assert found["job_tags"]["learn/tenant"] == "contoso"
    assert found["refused"] == (
        "this process serves tenant 'contoso' (LEARN_TENANT): tenant 'fabrikam' needs a "
        "process (code location) of its own"
    )
    assert found["env"] == "contoso"  # and so do the runs it starts


def test_whose_run_it_is_decides_whose_alerts_report_it():
    """Tenants share the instance: each tenant's alert sensors report only its runs (by tag, else
    the code location Dagster tags launched runs with, else the keys); one tenant alone (no
    tenants file, as in this process) reports every run, as before."""
    import dagster as dg

    from learn_assets.tenancy import CODE_LOCATION_TAG, TENANT_TAG, is_ours, run_tenant

    assert run_tenant({TENANT_TAG: "contoso", CODE_LOCATION_TAG: "x"}) == "contoso"
    assert run_tenant({CODE_LOCATION_TAG: "fabrikam"}) == "fabrikam"
    assert run_tenant({}, [dg.AssetKey(["contoso", "raw", "users"])]) == "contoso"
    assert run_tenant({}, [dg.AssetKey(["raw", "users"])]) == ""
    assert is_ours({TENANT_TAG: "fabrikam"}) and is_ours({})


def test_a_tenants_pool_gets_its_limit_before_its_first_run_is_queued():
    # Dagster would create it only inside the queue pass that first meets it, too late for that
    # pass: two runs of the tenant would start at once (test_tenants_daemon.py shows the whole).
    pools = {"concurrency": {"pools": {"default_limit": 1, "granularity": "run"}}}
    with dg.instance_for_test(overrides=pools) as instance:
        assert "warehouse_contoso" not in instance.event_log_storage.get_concurrency_keys()
        ensure_pool(instance, "warehouse_contoso")
        ensure_pool(instance, "warehouse_contoso")  # again: unchanged
        info = instance.event_log_storage.get_concurrency_info("warehouse_contoso")
        assert info.slot_count == 1
        ensure_pool(instance, None)  # one tenant without a tenants file: no pool
        assert instance.event_log_storage.get_concurrency_keys() == {"warehouse_contoso"}
