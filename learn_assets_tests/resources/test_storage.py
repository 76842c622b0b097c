"""Storage locations, credentials and a dated landing on a real Azurite: listing, cached
downloads, fingerprints, a raw load equal to the local one, and no secret in any error."""

from __future__ import annotations

import datetime as dt
import traceback
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from learn_assets.automation.sensors import landing_sensor
from learn_assets.contracts.datasets import DATASETS
from learn_assets.generator import generate_sample
from learn_assets.graph import ASSETS
from learn_assets.raw.load import load_snapshot
from learn_assets.resources import LandingFileError, LandingResource, Storage, StorageError
from learn_assets.resources.storage import Location, azure_options, parse_location, redact
from learn_assets_tests.azurite import KEY, connection_string, free_port

D1, D2, D3 = dt.date(2026, 11, 1), dt.date(2026, 11, 2), dt.date(2026, 11, 3)
USERS = next(d for d in DATASETS if d.name == "Users")


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated tenant: two daily snapshots and the Entra export (read-only here)."""
    out = tmp_path_factory.mktemp("sample") / "landing"
    generate_sample(out, users=20, days=2, start=D1, seed=7)
    return out


@pytest.fixture
def remote(sample: Path, container: str, tmp_path: Path) -> LandingResource:
    """The sample uploaded to Azurite, as a remote landing with its own cache."""
    url = f"az://{container}/landing"
    Storage(url).fs.put(str(sample), f"{container}/landing", recursive=True)
    return LandingResource(landing_dir=url, cache_dir=str(tmp_path / "cache"))


@pytest.mark.parametrize(
    "url, expected",
    [
        ("data/landing", Location("file", "data/landing")),
        ("file:///srv/landing", Location("file", "/srv/landing")),
        ("az://learn/landing/", Location("az", "learn/landing")),
        ("az://learn", Location("az", "learn")),
        (
            "abfs://learn@contoso.dfs.core.windows.net/org/landing",
            Location("az", "learn/org/landing", "contoso"),
        ),
        ("abfss://learn@contoso.blob.core.windows.net", Location("az", "learn", "contoso")),
    ],
)
def test_locations_parse(url: str, expected: Location) -> None:
    assert parse_location(url) == expected


@pytest.mark.parametrize(
    "url", ["s3://bucket/x", "az://learn/x?sv=2022&sig=abc", "abfs://learn@bad/x", "az:///x"]
)
def test_unsupported_locations_fail_clearly(url: str) -> None:
    with pytest.raises(StorageError) as e:
        parse_location(url)
    assert "sig=abc" not in str(e.value)


def test_abfs_url_displays_as_given() -> None:
    url = "abfs://learn@contoso.dfs.core.windows.net/org/landing"
    assert parse_location(url).url == url


def test_credentials_come_from_the_environment_in_order() -> None:
    conn = connection_string(1)
    key_env = {"AZURE_STORAGE_ACCOUNT_NAME": "contoso", "AZURE_STORAGE_ACCOUNT_KEY": "k"}
    assert azure_options({"AZURE_STORAGE_CONNECTION_STRING": conn, **key_env}, None) == {
        "connection_string": conn
    }
    assert azure_options(key_env, None) == {"account_name": "contoso", "account_key": "k"}
    assert azure_options(key_env, "fabrikam")["account_name"] == "fabrikam"  # the URL's account
    default = azure_options({"AZURE_STORAGE_ACCOUNT_NAME": "contoso"}, None)
    assert default == {"account_name": "contoso", "anon": False}  # DefaultAzureCredential
    with pytest.raises(StorageError, match="no Azure storage account"):
        azure_options({}, None)


def test_redaction_removes_known_and_embedded_secrets() -> None:
    text = f"failed: AccountKey={KEY};x https://a/b?sv=1&sig=s3cr3t%2B&se=2 key {KEY}"
    redacted = redact(text, (KEY,))
    assert KEY not in redacted and "s3cr3t" not in redacted
    assert "AccountKey=***" in redacted and "sig=***" in redacted


def test_local_landing_keeps_its_paths(sample: Path) -> None:
    landing = LandingResource(landing_dir=str(sample))
    assert not landing.remote
    assert landing.snapshot_file(D1, USERS) == sample / "2026-11-01" / "Users.csv"
    assert landing.entra_export_path() == sample / "entra_users.csv"


def test_remote_landing_lists_like_the_local_folder(sample: Path, remote: LandingResource):
    local = LandingResource(landing_dir=str(sample))
    assert remote.remote and remote.snapshot_dates() == local.snapshot_dates() == [D1, D2]
    listed, expected = remote.snapshot_listing(), local.snapshot_listing()
    assert list(listed) == [D1, D2]
    for day in (D1, D2):
        assert [(f.name, f.size) for f in listed[day]] == [(f.name, f.size) for f in expected[day]]
        assert all(abs(f.modified - dt.datetime.now(dt.UTC).timestamp()) < 600 for f in listed[day])
    assert not Path(remote.cache_dir).exists()  # listing reads no file

    # A new delivery is seen at once (fsspec's listing cache is off).
    remote.storage().write_bytes("2026-11-03/Users.csv", b"tenantId\n")
    assert remote.snapshot_dates() == [D1, D2, D3]
    assert [f.name for f in remote.snapshot_listing()[D3]] == ["Users.csv"]


def test_remote_landing_skips_and_reports_folders_that_cannot_be_snapshots(
    remote: LandingResource,
) -> None:
    storage = remote.storage()
    storage.write_bytes("2026-13-01/Users.csv", b"tenantId\n")
    storage.write_bytes("2026-11-02/Progress.parquet", b"PAR1")
    scan = remote.scan()
    assert scan.problems == {"2026-13-01": "not a date (month must be in 1..12)"}
    assert list(scan.folders) == remote.snapshot_dates() == [D1, D2]

    settled = LandingResource(
        landing_dir=remote.landing_dir, cache_dir=remote.cache_dir, quiet_seconds=0
    )
    with dg.build_sensor_context(resources={"landing": settled}) as context:
        requests = landing_sensor(context)
    assert [r.partition_key for r in requests] == [D1.isoformat()]


def test_snapshot_file_downloads_once_and_again_when_the_file_changes(
    sample: Path, remote: LandingResource
) -> None:
    path = remote.snapshot_file(D1, USERS)
    assert path == Path(remote.cache_dir) / "2026-11-01" / "Users.csv"
    assert path.read_bytes() == (sample / "2026-11-01" / "Users.csv").read_bytes()
    first = path.stat()
    assert remote.snapshot_file(D1, USERS).stat().st_ino == first.st_ino  # cache hit

    remote.storage().write_bytes("2026-11-01/Users.csv", b"changed\n")
    assert remote.snapshot_file(D1, USERS).read_bytes() == b"changed\n"


def test_fingerprint_and_entra_export_match_the_local_landing(sample, remote) -> None:
    local = LandingResource(landing_dir=str(sample))
    assert remote.content_fingerprint(D1) == local.content_fingerprint(D1)
    assert remote.content_fingerprint(D1) != remote.content_fingerprint(D2)
    export = remote.entra_export_path()
    assert export.read_bytes() == (sample / "entra_users.csv").read_bytes()

    remote.storage().remove("entra_users.csv")
    assert not remote.entra_export_path().exists()  # absent export: no stale copy


def test_missing_remote_file_names_the_url(remote: LandingResource, container: str) -> None:
    remote.storage().remove("2026-11-01/Users.csv")
    with pytest.raises(LandingFileError, match=f"az://{container}/landing/2026-11-01/Users.csv"):
        remote.snapshot_file(D1, USERS)


def test_raw_load_from_azure_equals_the_local_load(sample, remote, resources, tmp_path) -> None:
    """The Dagster raw assets on the Azure landing hold the rows a local load gives."""
    result = dg.materialize(
        ASSETS,
        selection=[dg.AssetKey(["raw", d.table]) for d in DATASETS],
        partition_key=D1.isoformat(),
        resources={**resources, "landing": remote},
    )
    assert result.success
    with (
        duckdb.connect(resources["warehouse"].database) as azure,
        duckdb.connect(str(tmp_path / "local.duckdb")) as local,
    ):
        for d in DATASETS:
            loaded = load_snapshot(local, d, D1, sample / "2026-11-01" / f"{d.name}.csv")
            query = f"SELECT * FROM raw.{d.table} ORDER BY ALL"
            rows = azure.execute(query).fetchall()
            assert rows == local.execute(query).fetchall() and len(rows) == loaded.rows
            assert azure.execute(
                "SELECT sha256 FROM raw._load_log WHERE dataset = ?", [d.table]
            ).fetchall() == [(loaded.sha256,)]


def assert_no_secret(error: BaseException, secret: str) -> None:
    shown = "".join(traceback.format_exception(error))
    assert secret not in shown and secret not in repr(error)
    assert error.__cause__ is None and error.__context__ is None  # nothing chained to leak


def test_a_wrong_key_fails_without_showing_it(azurite, container, monkeypatch, tmp_path):
    wrong = KEY[:-8] + "AAAAAAA="
    port = int(azurite.rsplit(":", 1)[1].split("/")[0])
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", connection_string(port, wrong))
    landing = LandingResource(landing_dir=f"az://{container}/landing", cache_dir=str(tmp_path))
    with pytest.raises(StorageError, match=f"cannot list az://{container}/landing") as e:
        landing.snapshot_dates()
    assert_no_secret(e.value, wrong)


def test_a_dead_endpoint_fails_without_showing_the_key() -> None:
    env = {"AZURE_STORAGE_CONNECTION_STRING": connection_string(free_port())}
    with pytest.raises(StorageError, match="cannot read az://learn/landing/x.csv") as e:
        Storage("az://learn/landing", env=env, retries=0).read_bytes("x.csv")
    assert_no_secret(e.value, KEY)
