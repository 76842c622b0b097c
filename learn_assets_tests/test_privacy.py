"""Privacy mode leaks nothing: a generated tenant with quarantined directory and Users rows runs
through the real `dagster` CLI with `LEARN_PSEUDONYMIZE=on` on an on-disk instance, then every
file of the instance (the SQLite event log holds check metadata, shown in the UI), the
warehouse's `reports` schema and every export file is searched for every display name, given
name, surname, mail, UPN and object id of the tenant: none is found. The samples are still
there, pseudonymized or redacted."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import re
import sqlite3
import zipfile
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow.parquet as pq
import pytest

from learn_assets.contracts.datasets import ENTRA
from learn_assets.generator import generate_sample
from learn_assets.metadata import markdown_table
from learn_assets.privacy import REDACTED, Privacy, pseudonym
from learn_assets.raw.load import load_entra_export
from learn_assets.staged.assets import check_result
from learn_assets.staged.checks import checks_for
from learn_assets.staged.stage import stage_entra
from learn_assets_tests.cli import cli_env, start_materialize

D1, D2 = dt.date(2026, 11, 1), dt.date(2026, 11, 2)
KEY = "correct horse battery staple"
PERSONAL = ("id", "displayName", "givenName", "surname", "mail", "userPrincipalName")
DATA_URI = re.compile(r"data:image/png;base64,[A-Za-z0-9+/=]+")


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        header, *rows = list(csv.reader(f))
    return header, rows


def append_row(path: Path, row: list[str]) -> None:
    """Append a CSV row with the file's own line ending."""
    data = path.read_bytes()
    ending = "\r\n" if b"\r\n" in data[:4096] else "\n"
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=ending).writerow(row)
    path.write_bytes(data + buffer.getvalue().encode("utf-8"))


def with_changes(header: list[str], row: list[str], **changes: str) -> list[str]:
    return [changes.get(column, value) for column, value in zip(header, row, strict=True)]


def needles(landing: Path) -> set[str]:
    """Every personal value of the tenant: directory names, mail, UPN, object ids (Entra and
    Users.AADObjectId), including the rows that end up quarantined."""
    header, rows = read_rows(landing / "entra_users.csv")
    found = {row[header.index(c)] for row in rows for c in PERSONAL}
    for users in landing.glob("*/Users.csv"):
        header, rows = read_rows(users)
        found |= {row[header.index("AADObjectId")] for row in rows}
    return {n for n in found if n.strip()}


def spellings(needle: str) -> set[str]:
    """How a value can appear in a file: as is, JSON-escaped (the event log), HTML/XML-escaped."""
    return {needle, json.dumps(needle)[1:-1], html.escape(needle), html.escape(needle, False)}


def hits(text: str, searched: set[str]) -> set[str]:
    """The needles found in `text` as whole words (a given name inside a longer word is not
    the person); embedded PNG charts are not text."""
    text = DATA_URI.sub("", text)
    return {
        n
        for n in searched
        if any(re.search(rf"(?<![\w@.-]){re.escape(s)}(?![\w@-])", text) for s in spellings(n))
    }


def sqlite_text(path: Path) -> str:
    """Every value of every table of an SQLite file, as text (a value can span pages)."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        parts = []
        for table in tables:
            for row in db.execute(f'SELECT * FROM "{table}"'):  # noqa: S608 - names from SQLite
                parts += [
                    v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in row
                ]
    return "\n".join(parts)


def texts(root: Path) -> Iterator[tuple[str, str]]:
    """(file, text) of every file under `root`: its bytes as UTF-8, and what a reader sees in
    it (SQLite rows, XLSX XML, Parquet values)."""
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        yield str(path), data.decode("utf-8", "replace")
        if data.startswith(b"SQLite format 3\x00"):
            yield f"{path} (rows)", sqlite_text(path)
        elif path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as archive:
                for name in archive.namelist():
                    yield f"{path}!{name}", archive.read(name).decode("utf-8")
        elif path.suffix == ".parquet":
            yield f"{path} (values)", "\n".join(map(str, pq.read_table(path).to_pylist()))


def reports_text(database: str) -> str:
    with duckdb.connect(database, read_only=True) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'reports'"
        ).fetchall()
        assert len(tables) >= 9
        return "\n".join(
            str(row)
            for (table,) in tables
            for row in conn.execute(f'SELECT * FROM reports."{table}"').fetchall()
        )


def check_samples(home: Path) -> dict[tuple[str, str, str | None], str]:
    """(asset, check, partition) -> the `sample` metadata of every check evaluation stored."""
    samples = {}
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for run in instance.get_runs():
            for entry in instance.all_logs(
                run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
            ):
                evaluation = entry.dagster_event.event_specific_data
                if "sample" in evaluation.metadata:
                    key = (
                        evaluation.asset_key.to_user_string(),
                        evaluation.check_name,
                        evaluation.partition,
                    )
                    samples[key] = evaluation.metadata["sample"].value
    return samples


@pytest.fixture(scope="module")
def private_run(tmp_path_factory):
    """Two snapshots and the Entra export, with a quarantined Entra row (a real person's row
    with a bad accountEnabled, another with a bad id), a quarantined Users row (bad CreatedOn)
    and a quarantined Progress row (bad XP), run by the CLI in privacy mode."""
    tmp = tmp_path_factory.mktemp("privacy")
    landing = tmp / "landing"
    generate_sample(landing, users=60, days=2, start=D1, seed=13)
    entra = landing / "entra_users.csv"
    header, rows = read_rows(entra)
    append_row(entra, with_changes(header, rows[0], accountEnabled="maybe"))
    append_row(entra, with_changes(header, rows[1], id="not-a-guid-" + rows[1][0]))
    users = landing / D2.isoformat() / "Users.csv"
    header, rows = read_rows(users)
    append_row(users, with_changes(header, rows[0], CreatedOn="yesterday"))
    progress = landing / D2.isoformat() / "Progress.csv"
    header, rows = read_rows(progress)
    bad_xp = with_changes(header, rows[0], XP="lots")
    append_row(progress, bad_xp)

    env = cli_env(tmp, landing) | {
        "LEARN_PSEUDONYMIZE": " On ",
        "LEARN_PSEUDONYM_KEY": KEY,
        "LEARN_CACHE_DIR": str(tmp / "cache"),
    }
    # One run per snapshot: a single snapshot's check results carry their samples.
    for select, *partitions in (
        ("not tag:partitioned=snapshot_date",),
        ("tag:partitioned=snapshot_date", "--partition", D1.isoformat()),
        ("tag:partitioned=snapshot_date", "--partition", D2.isoformat()),
    ):
        process = start_materialize(env, select, *partitions)
        output = process.communicate(timeout=600)[0]
        assert process.returncode == 0, output
    return {
        "landing": landing,
        "home": Path(env["DAGSTER_HOME"]),
        "warehouse": env["LEARN_WAREHOUSE"],
        "exports": Path(env["LEARN_EXPORTS_DIR"]),
        "bad_xp_user": bad_xp[header.index("userId")],
    }


def test_the_personal_data_was_there_to_leak(private_run):
    searched = needles(private_run["landing"])
    assert len(searched) > 250
    with duckdb.connect(private_run["warehouse"], read_only=True) as conn:
        quarantined = conn.execute(
            'SELECT reason, "displayName", mail FROM quarantine.entra_users ORDER BY reason'
        ).fetchall()
        assert conn.execute(
            "SELECT count(*) FROM quarantine.users WHERE snapshot_date = ?", [D2]
        ).fetchone() == (1,)
    assert [r[0] for r in quarantined] == [
        "account_enabled: not a boolean",
        "object_id: not a GUID",
    ]
    assert {r[1] for r in quarantined} <= searched and {r[2] for r in quarantined} <= searched


def test_no_name_mail_upn_or_object_id_in_the_instance_reports_or_exports(private_run):
    searched = needles(private_run["landing"])
    found: dict[str, set[str]] = {}
    for name, text in [
        *texts(private_run["home"]),
        *texts(private_run["exports"]),
        ("reports schema", reports_text(private_run["warehouse"])),
    ]:
        if leaked := hits(text, searched):
            found[name] = leaked
    assert found == {}
    assert (private_run["exports"] / D2.isoformat() / "report.html").is_file()


def test_samples_are_kept_pseudonymized_or_redacted(private_run):
    samples = check_samples(private_run["home"])
    entra = samples[("staged/entra_users", "rows_follow_contract", None)]
    redacted_columns = ("id", "displayName", "userPrincipalName", "givenName", "surname", "mail")
    header = [c.strip() for c in entra.splitlines()[0].strip("|").split("|")]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in entra.splitlines()[2:]]
    assert len(cells) == 2
    for column in redacted_columns:
        assert {row[header.index(column)] for row in cells} == {REDACTED}, column
    assert {row[header.index("accountEnabled")] for row in cells} == {"maybe", "True"}

    users = samples[("staged/users", "rows_follow_contract", D2.isoformat())]
    assert f"| {REDACTED} |" in users
    # A Learn user id becomes the pseudonym the reports show for that learner.
    progress = samples[("staged/progress", "rows_follow_contract", D2.isoformat())]
    assert pseudonym(KEY, private_run["bad_xp_user"]) in progress
    assert private_run["bad_xp_user"] not in progress


def test_the_sample_pseudonym_is_the_reports_pseudonym(private_run):
    with duckdb.connect(private_run["warehouse"], read_only=True) as conn:
        shown = conn.execute(
            "SELECT user_id, display_name, aad_object_id FROM reports.learner_summary"
        ).fetchall()
    assert len(shown) > 40
    assert all(name == pseudonym(KEY, user) and aad is None for user, name, aad in shown)
    assert pseudonym(KEY, " " + shown[0][0].upper()) == shown[0][1]  # delivered spelling


def test_keys_unique_samples_are_redacted(tmp_path):
    export = tmp_path / "entra_users.csv"
    export.write_text(
        "id,displayName,mail\n"
        "11111111-1111-4111-8111-111111111111,Ada Lovelace,ada@contoso.example\n"
        "11111111-1111-4111-8111-111111111111,Ada King,ada.king@contoso.example\n"
    )
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        load_entra_export(conn, export)
        result = stage_entra(conn)
        (keys,) = [c for c in checks_for(ENTRA) if c.name == "keys_unique"]
        outcome = keys.evaluate(conn, ENTRA, result)
    assert outcome.sample == (["object_id", "rows"], [("11111111-1111-4111-8111-111111111111", 2)])
    private = Privacy(True, KEY)
    shown = check_result(keys, {None: outcome}, private).metadata["sample"].value
    assert shown == markdown_table(["object_id", "rows"], [(REDACTED, 2)])
    assert check_result(keys, {None: outcome}).metadata["sample"].value == markdown_table(
        *outcome.sample
    )
    # the contract_types sample: the key, then the rules broken
    assert private.sample(["user_id", "rules broken"], [("AB-1 ", "x")]) == (
        ["user_id", "rules broken"],
        [(pseudonym(KEY, "ab-1"), "x")],
    )
    assert "correct horse" not in repr(private)
