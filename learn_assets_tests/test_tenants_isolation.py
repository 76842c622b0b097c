"""Isolation of tenants: a tenant's rows never reach another's warehouse, reports database,
exports or lake. Two sample tenants with different data (`learn-assets sample --tenants 2`) are
built at once by the real CLI, each in its own process; a delivered file of the other tenant is
refused naming both ids; then every output of each is read in its own format and scanned for the
other tenant's identifiers (tenant id, learners', directory users'). The consolidated group has
both, each row under its own tenant."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from types import SimpleNamespace

import duckdb
import pytest
from deltalake import DeltaTable

from learn_assets.contracts.datasets import DATASETS_BY_NAME
from learn_assets.raw.load import OtherTenantError, load_snapshot
from learn_assets.resources.reporting import SanityGates
from learn_assets.staged.checks import checks_for, one_tenant
from learn_assets_tests.cli import DAGSTER, cli_env
from learn_assets_tests.helpers import TENANT, run_snapshots, tiny_rows, write_csv
from learn_assets_tests.tenants import (
    finished,
    guids,
    landing_ids,
    learn,
    output_ids,
    sample_tenants,
    start_tenant_build,
)

D1, D2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)
OTHER = "99999999-8888-7777-6666-555555555555"
PROGRESS = DATASETS_BY_NAME["Progress"]


def raw_rows(conn, table: str, day: dt.date) -> list[tuple]:
    return conn.execute(
        f"SELECT * FROM raw.{table} WHERE snapshot_date = ? ORDER BY ALL", [day]
    ).fetchall()


def test_a_delivered_file_of_another_tenant_is_refused_naming_both(tmp_path):
    path = write_csv(tmp_path / "Progress.csv", PROGRESS.column_names, tiny_rows(PROGRESS, D1, 3))
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        load_snapshot(conn, PROGRESS, D1, path, TENANT.upper())  # the configured id, any case
        kept = raw_rows(conn, "progress", D1)
        assert len(kept) == 3
        rows = tiny_rows(PROGRESS, D1, 4)
        rows[3]["tenantId"] = OTHER  # one row of another tenant is enough
        write_csv(path, PROGRESS.column_names, rows)
        with pytest.raises(OtherTenantError) as error:
            load_snapshot(conn, PROGRESS, D1, path, TENANT)
        assert str(error.value) == (
            f"{path}: delivered for tenant {OTHER} (1 rows), but this is tenant {TENANT} "
            f"(LEARN_TENANT_ID, or the tenants file's tenant_id): snapshot {D1} is refused; "
            "raw.progress keeps what it held for it"
        )
        assert raw_rows(conn, "progress", D1) == kept  # nothing of the refused file stays
        # Without a configured id (one tenant, as before): any one tenant is loaded.
        assert load_snapshot(conn, PROGRESS, D2, path).rows == 4
        # A malformed id is no tenant: the contract quarantines it in staged.
        rows[3]["tenantId"] = "not-a-guid"
        write_csv(path, PROGRESS.column_names, rows)
        assert load_snapshot(conn, PROGRESS, D1, path, TENANT).rows == 4
        # A dataset without a tenant column (Learn's catalog) has nothing to compare.
        modules = DATASETS_BY_NAME["HierarchyModule"]
        catalog = write_csv(tmp_path / "M.csv", modules.column_names, tiny_rows(modules, D1))
        assert load_snapshot(conn, modules, D1, catalog, TENANT).rows == 2


def test_the_staged_check_compares_the_snapshot_with_the_configured_tenant(
    tmp_path, landing_dir, write_snapshot
):
    """The second line of defence, after raw: the blocking check `one_tenant` of every staged
    table with a tenant column, given the configured id, refuses a snapshot of another tenant."""
    write_snapshot(D1)
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        run_snapshots(conn, landing_dir, [D1])
        staged = SimpleNamespace(snapshot_date=D1)
        assert one_tenant(conn, PROGRESS, staged).passed  # no configured id: any one tenant
        assert one_tenant(conn, PROGRESS, staged, TENANT.upper()).passed
        checks = checks_for(PROGRESS, SanityGates(tenant_id=OTHER))
        check = next(c for c in checks if c.name == "one_tenant")
        assert check.blocking
        outcome = check.evaluate(conn, PROGRESS, staged)
        assert not outcome.passed
        assert outcome.message == (
            f"tenant id {TENANT} in the snapshot and its Users is not this tenant's ({OTHER}, "
            "LEARN_TENANT_ID or the tenants file): the snapshot is refused"
        )


def run_group(env: dict[str, str], group: str, cwd) -> None:
    """The group's code location, loaded as the workspace loads it, runs its job."""
    done = subprocess.run(
        [DAGSTER, "job", "execute", "-m", "learn_assets.locations", "-a", group]
        + ["-j", f"{group}_consolidate"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


@pytest.mark.slow
def test_two_tenants_built_at_once_never_share_a_row(tmp_path):
    out = tmp_path / "tenants"
    out.mkdir()
    base = {k: v for k, v in cli_env(tmp_path, out).items() if not k.startswith("LEARN_")}
    env = base | {"LEARN_TENANTS_FILE": str(out / "tenants.yaml"), "LEARN_START_DATE": str(D1)}
    config = sample_tenants(out, env, tenants=2, users=40, days=2, start=D1)
    names = [t["name"] for t in config["tenants"]]
    assert names == ["contoso", "fabrikam"]
    tenant_id = {t["name"]: t["tenant_id"] for t in config["tenants"]}
    own = {name: landing_ids(out / name / "landing") for name in names}
    assert not own["contoso"] & own["fabrikam"], "the sample tenants must not share an id"
    assert {tenant_id[n] for n in names} <= own["contoso"] | own["fabrikam"]

    # Both tenants at once, each in its own process (one DuckDB writer per tenant).
    builds = [start_tenant_build(env, name, D1, D2, tmp_path) for name in names]
    for build in builds:
        finished(build)

    # A file of contoso's delivered to fabrikam: refused, naming both, nothing of it kept.
    progress = out / "fabrikam" / "landing" / D2.isoformat() / "Progress.csv"
    shutil.copy(progress, tmp_path / "Progress.csv")
    shutil.copy(out / "contoso" / "landing" / D2.isoformat() / "Progress.csv", progress)
    refused = learn(
        env, "--tenant", "fabrikam", "backfill", "--from", str(D2), "--to", str(D2),
        cwd=tmp_path, check=False,
    )  # fmt: skip
    said = refused.stdout + refused.stderr
    assert refused.returncode != 0, said[-3000:]
    assert f"{progress}: delivered for tenant {tenant_id['contoso']} (" in said, said[-3000:]
    assert f"but this is tenant {tenant_id['fabrikam']} (LEARN_TENANT_ID" in said
    shutil.copy(tmp_path / "Progress.csv", progress)

    run_group(env, "all_tenants", tmp_path)

    # Every output of each tenant, read in its format: none of the other tenant's ids.
    for tenant, other in (("contoso", "fabrikam"), ("fabrikam", "contoso")):
        root = out / tenant
        outputs = {
            "warehouse": root / "warehouse.duckdb",
            "reports database": root / "warehouse_serving.duckdb",
            "exports": root / "exports",
            "lake": root / "lake",
        }
        for kind, where in outputs.items():
            found = output_ids(where)
            assert found, f"{tenant}'s {kind} has no file at {where}"
            leaked = {str(p): sorted(i & own[other]) for p, i in found.items() if i & own[other]}
            assert leaked == {}, f"{other}'s identifiers in {tenant}'s {kind}"
            # The scan reads each kind: it does find the tenant's own identifiers there.
            assert set().union(*found.values()) & own[tenant], f"no id read in {tenant}'s {kind}"
        assert tenant_id[tenant] in set().union(*output_ids(outputs["warehouse"]).values())

    # The consolidated group: both tenants, every row's identifiers its own tenant's.
    reports = out / "lake" / "all_tenants" / "reports"
    tables = sorted(p for p in reports.iterdir() if p.is_dir())
    assert "learner_summary" in {p.name for p in tables}
    for table in tables:
        rows = DeltaTable(str(table)).to_pyarrow_table().to_pylist()
        assert {r["tenant"] for r in rows} <= set(names), table.name
        foreign = [r for r in rows if guids(repr(r)) - own[r["tenant"]]]
        assert foreign == [], f"{table.name}: rows under a tenant that is not theirs"
        if table.name in ("learner_summary", "org_overview"):
            assert {r["tenant"] for r in rows} == set(names), table.name
    page = (out / "lake" / "all_tenants" / "report.html").read_text()
    assert "<td>contoso</td>" in page and "<td>fabrikam</td>" in page
