"""The alert sensors against real failed runs in a real instance, delivering to a real HTTP
server (the Teams webhook) and a real SMTP server (aiosmtpd) on 127.0.0.1: one message per
event, a refused channel retried at the next tick (and only that channel), recovery messages,
nothing secret in what is sent; STARTTLS and login against a TLS-offering server; a setting
that cannot work fails the sensors' ticks naming the variable while the definitions load."""

import csv
import datetime as dt
import json

import dagster as dg
import pytest

from learn_assets.automation.alerts import (
    Alert,
    AlertConfigError,
    AlertState,
    alert_sensors,
    date_list,
    mail_settings,
    send_mail,
)
from learn_assets.automation.schedules import (
    FRESHNESS_DEADLINE,
    freshness_job,
    overdue_snapshots,
    snapshot_delivered_on_time,
)
from learn_assets.graph import ASSETS
from learn_assets.runs import materialize_snapshots
from learn_assets_tests.servers import self_signed, smtp_server, webhook_server

D1, D30 = dt.date(2026, 11, 1), dt.date(2026, 11, 30)
SIGNATURE = "s3cr3t-signature-0123"
OTHER_TENANT = "99999999-8888-7777-6666-555555555555"


class Sensors:
    """The real alert sensors, ticked with `build_sensor_context` on one instance, each keeping
    its cursor as the daemon would."""

    def __init__(self, env: dict[str, str], instance: dg.DagsterInstance):
        self.by_name = {s.name: s for s in alert_sensors(env)}
        self.instance = instance
        self.cursors: dict[str, str | None] = dict.fromkeys(self.by_name)

    def tick(self, name: str) -> str:
        context = dg.build_sensor_context(instance=self.instance, cursor=self.cursors[name])
        data = self.by_name[name].evaluate_tick(context)
        self.cursors[name] = data.cursor
        assert data.run_requests == []  # alerts never start runs
        return data.skip_message or ""

    def outbox(self, name: str) -> list[tuple[str, list[str]]]:
        state = AlertState.loads(self.cursors[name])
        return [(p.alert.title, p.channels) for p in state.outbox]


def card_facts(post: dict) -> dict[str, str]:
    card = post["body"]["attachments"][0]["content"]
    return {"title": card["body"][0]["text"]} | {
        f["title"]: f["value"] for f in card["body"][1]["facts"]
    }


def add_other_tenant_row(path) -> None:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header, first = reader.fieldnames, next(reader)
    with path.open("a", newline="", encoding="utf-8") as f:
        csv.DictWriter(f, fieldnames=header).writerow(first | {"tenantId": OTHER_TENANT})


@pytest.mark.slow
def test_alerts_for_real_runs_reach_teams_and_mail_once_with_retries_and_recoveries(
    landing_dir, write_snapshot, resources
):
    instance = dg.DagsterInstance.ephemeral()
    with webhook_server() as hook, smtp_server() as box:
        env = {
            "LEARN_TEAMS_WEBHOOK_URL": f"{hook.url}?sig={SIGNATURE}",
            "LEARN_SMTP_HOST": box.host,
            "LEARN_SMTP_PORT": str(box.port),
            "LEARN_ALERT_FROM": "learn@example.org",
            "LEARN_ALERT_TO": "ops@example.org, lead@example.org",
            "LEARN_UI_URL": "http://dagster.example:3000/",
        }
        sensors = Sensors(env, instance)
        for name in sensors.by_name:  # a new sensor starts from now: history is not announced
            assert sensors.tick(name).startswith("started after event")

        # A 30-day backfill whose files are all missing: one run, one message with every date.
        landing_dir.mkdir()
        (entra, ranged) = materialize_snapshots(
            D1, D30, resources, instance=instance, raise_on_error=False
        )
        assert entra.success and not ranged.success
        hook.answers = [500]  # Teams refuses this once
        sensors.tick("alert_on_run_failure")
        assert (len(box.mails), len(hook.posts), hook.refused) == (1, 0, 1)
        assert sensors.outbox("alert_on_run_failure") == [
            ("Run failed: snapshot_pipeline", ["teams"])
        ]
        mail = box.mails[0]
        assert mail["Subject"] == "[learn_assets] Run failed: snapshot_pipeline"
        assert box.envelopes == [("learn@example.org", ["ops@example.org", "lead@example.org"])]
        text = mail.get_body(("plain",)).get_content()
        assert "Snapshots:    2026-11-01..2026-11-30 (30 days)" in text
        assert f"Open in Dagster: http://dagster.example:3000/runs/{ranged.run_id}" in text
        assert "Failed steps: raw/" in text
        expected = landing_dir / D1.isoformat() / "Achievements.csv"
        assert (  # the innermost error of the first failed step, without its class
            f"Error:        missing landing file for Achievements on 2026-11-01: expected "
            f"{expected} (or .parquet)"
        ) in text

        sensors.tick("alert_on_run_failure")  # the next tick retries Teams only
        assert (len(box.mails), len(hook.posts)) == (1, 1)
        assert sensors.outbox("alert_on_run_failure") == []
        facts = card_facts(hook.posts[0])
        assert hook.posts[0]["content_type"] == "application/json"
        assert facts["title"] == "Run failed: snapshot\\_pipeline"
        assert facts["Snapshots"] == "2026-11-01..2026-11-30 (30 days)"
        assert facts["Run"] == ranged.run_id
        sensors.tick("alert_on_run_failure")
        assert (len(box.mails), len(hook.posts)) == (1, 1)  # nothing new, nothing again

        # A blocking check fails for D1: one message, naming asset, check, count and date.
        write_snapshot(D1)
        add_other_tenant_row(landing_dir / D1.isoformat() / "Progress.csv")
        materialize_snapshots(D1, D1, resources, instance=instance, raise_on_error=False)
        box.refuse = ["550 5.7.1 relaying denied"]  # the mail server refuses this once
        sensors.tick("alert_on_blocking_check_failure")
        assert (len(box.mails), len(hook.posts)) == (1, 2)
        assert card_facts(hook.posts[1]) == {
            "title": "Blocking check failed: staged/progress one\\_tenant",
            "Asset": "staged/progress",
            "Check": "one\\_tenant",
            "Failing": "1",
            "Snapshots": "2026-11-01",
            "Effect": "assets downstream of it were not built for these snapshots",
        }
        assert sensors.outbox("alert_on_blocking_check_failure") == [
            ("Blocking check failed: staged/progress one_tenant", ["mail"])
        ]
        sensors.tick("alert_on_blocking_check_failure")
        assert (len(box.mails), len(hook.posts)) == (2, 2)
        assert box.mails[1]["Subject"] == (
            "[learn_assets] Blocking check failed: staged/progress one_tenant"
        )

        # Fixed and run again: the run and the check recover, one message each.
        write_snapshot(D1)
        materialize_snapshots(D1, D1, resources, instance=instance)
        sensors.tick("alert_on_run_failure")  # D1 failed (check) then succeeded
        sensors.tick("alert_on_blocking_check_failure")
        titles = [card_facts(p)["title"] for p in hook.posts[2:]]
        assert titles == [
            "Run failed: snapshot\\_pipeline",  # the check's run failed with another error
            "Recovered: snapshot\\_pipeline",
            "Recovered: staged/progress one\\_tenant passes again",
        ]
        assert card_facts(hook.posts[3])["Snapshots"] == "2026-11-01"

        # The freshness check finds the last week undelivered: one message with its dates.
        defs = dg.Definitions(
            assets=ASSETS,
            asset_checks=[snapshot_delivered_on_time],
            jobs=[freshness_job],
            resources=resources,
        )
        defs.resolve_job_def("delivery_freshness").execute_in_process(instance=instance)
        missing = overdue_snapshots({D1}, dt.datetime.now(dt.UTC), FRESHNESS_DEADLINE, D1)
        assert missing  # today is past the sample's dates
        sensors.tick("alert_on_missed_delivery")
        last = card_facts(hook.posts[-1])
        assert last["title"] == "Snapshot missed its delivery deadline"
        assert last["Snapshots"] == date_list(d.isoformat() for d in missing)
        assert len(hook.posts) == 6 and len(box.mails) == 6

    sent = json.dumps([p["body"] for p in hook.posts]) + "".join(m.as_string() for m in box.mails)
    assert SIGNATURE not in sent


def test_mail_uses_starttls_when_offered_and_logs_in(tmp_path, monkeypatch):
    cert, key = self_signed(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the client trusts this server's certificate
    alert = Alert("run_failed", "Run failed: x", (("Error", "boom"),), "http://ui/runs/1")
    with smtp_server(tls=(cert, key), login=("bot", "pa55-word")) as box:
        mail = mail_settings(
            {
                "LEARN_SMTP_HOST": box.host,
                "LEARN_SMTP_PORT": str(box.port),
                "LEARN_SMTP_USER": "bot",
                "LEARN_SMTP_PASSWORD": "pa55-word",
                "LEARN_ALERT_TO": "ops@example.org",
            }
        )
        send_mail(mail, alert)
        assert (box.logins, box.tls) == (["bot"], [True])
        assert box.mails[0]["Subject"] == "[learn_assets] Run failed: x"


def test_a_setting_that_cannot_work_keeps_the_definitions_loading_and_fails_each_tick():
    env = {"LEARN_SMTP_HOST": "mail.example.org", "LEARN_SMTP_PORT": "twenty-five"}
    sensors = alert_sensors(env)
    assert [s.name for s in sensors] == [
        "alert_on_run_failure",
        "alert_on_blocking_check_failure",
        "alert_on_missed_delivery",
    ]
    expected = "LEARN_SMTP_PORT must be a port number 1-65535, got 'twenty-five'"
    assert sensors[0].description.startswith(f"CONFIGURATION ERROR: {expected}.")
    context = dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral())
    with pytest.raises(AlertConfigError, match=f"alerts are off until this is fixed: {expected}"):
        sensors[0].evaluate_tick(context)
