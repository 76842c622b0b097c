"""What the alert sensors say, as scenario tables over the pure decisions (events and the
previous state in, messages and the new state out), the settings' errors, and the rendering
(escaping, secrets, privacy)."""

import pytest

from learn_assets.automation.alerts import (
    Alert,
    AlertConfigError,
    AlertSettings,
    AlertState,
    CheckOutcome,
    FreshnessOutcome,
    Pending,
    RunOutcome,
    adaptive_card,
    alert_settings,
    date_list,
    decide_checks,
    decide_deliveries,
    decide_runs,
    escape_markdown,
    mail_message,
    mail_settings,
    queue,
    run_dates,
    scrub,
)

SETTINGS = AlertSettings(ui_url="http://ui:3000")
DAYS = [f"2026-11-{d:02d}" for d in range(1, 31)]
RAW_ERROR = "raw/progress: missing file landing/2026-11-01/Progress.csv"


def failed(run: str, dates, job="snapshot_pipeline", steps=("raw/progress",), error=RAW_ERROR):
    return RunOutcome(run, job, False, tuple(dates), tuple(steps), error)


def ok(run: str, dates, job="snapshot_pipeline"):
    return RunOutcome(run, job, True, tuple(dates))


def titles_and_dates(alerts: list[Alert]) -> list[tuple[str, str]]:
    return [(a.title, dict(a.facts).get("Snapshots", "")) for a in alerts]


# (name, ticks: [(outcomes, expected [(title, snapshots)])]) on one state, in order.
RUN_SCENARIOS = [
    (
        "a backfill of 30 failing days is one message listing the dates",
        [
            (
                [failed("r1", DAYS)],
                [("Run failed: snapshot_pipeline", "2026-11-01..2026-11-30 (30 days)")],
            )
        ],
    ),
    (
        "30 failing runs of one day each, same error, one tick: one message",
        [
            (
                [failed(f"r{i}", [d]) for i, d in enumerate(DAYS)],
                [("Run failed: snapshot_pipeline", "2026-11-01..2026-11-30 (30 days)")],
            )
        ],
    ),
    (
        "the same failure again is not announced again; the next success recovers it",
        [
            (
                [failed("r1", DAYS[:2])],
                [("Run failed: snapshot_pipeline", "2026-11-01, 2026-11-02")],
            ),
            ([failed("r2", DAYS[:2])], []),
            ([ok("r3", DAYS[:1])], [("Recovered: snapshot_pipeline", "2026-11-01")]),
            ([ok("r4", DAYS[:3])], [("Recovered: snapshot_pipeline", "2026-11-02")]),
            ([ok("r5", DAYS[:3])], []),
        ],
    ),
    (
        "a different error on a failing snapshot is a new message",
        [
            ([failed("r1", DAYS[:1])], [("Run failed: snapshot_pipeline", "2026-11-01")]),
            (
                [failed("r2", DAYS[:1], steps=("staged/users",), error="lock timeout")],
                [("Run failed: snapshot_pipeline", "2026-11-01")],
            ),
        ],
    ),
    (
        "two errors in one tick are two messages; unrelated successes say nothing",
        [
            (
                [
                    ok("r0", DAYS[5:6]),
                    failed("r1", DAYS[:1]),
                    failed("r2", DAYS[1:2], error="other"),
                ],
                [
                    ("Run failed: snapshot_pipeline", "2026-11-01"),
                    ("Run failed: snapshot_pipeline", "2026-11-02"),
                ],
            ),
        ],
    ),
    (
        "a run that is not per snapshot fails and recovers by job",
        [
            (
                [failed("r1", [], job="forget", steps=("forget_snapshot",), error="no such day")],
                [("Run failed: forget", "none (not per snapshot)")],
            ),
            ([ok("r2", DAYS[:1])], []),
            ([ok("r3", [], job="forget")], [("Recovered: forget", "none (not per snapshot)")]),
        ],
    ),
]


@pytest.mark.parametrize("name, ticks", RUN_SCENARIOS, ids=[s[0] for s in RUN_SCENARIOS])
def test_run_failure_scenarios(name, ticks):
    state: dict[str, str] = {}
    for outcomes, expected in ticks:
        alerts, state = decide_runs(outcomes, state, SETTINGS)
        assert titles_and_dates(alerts) == expected


def test_a_run_failure_message_names_steps_error_run_and_link():
    outcomes = [
        failed("r1", DAYS[:3], steps=("raw/progress", "raw/users")),
        failed("r2", DAYS[3:4]),
    ]
    outcomes[1] = failed("r2", DAYS[3:4], steps=("raw/progress", "raw/users"))
    (alert,), _ = decide_runs(outcomes, {}, SETTINGS)
    assert alert.facts == (
        ("Snapshots", "2026-11-01..2026-11-04 (4 days)"),
        ("Failed steps", "raw/progress, raw/users"),
        ("Error", RAW_ERROR),
        ("Run", "r1 (and 1 more runs)"),
    )
    assert alert.link == "http://ui:3000/runs/r1"


def check(run, dates, passed, asset="staged/progress", name="one_tenant", failing=1, blocking=True):
    return CheckOutcome(run, asset, name, passed, blocking, tuple(dates), failing)


CHECK_SCENARIOS = [
    (
        "a failing blocking check in a 30-day range: one message, the count, the dates",
        [
            (
                [check("r1", DAYS, False, failing=42)],
                [
                    (
                        "Blocking check failed: staged/progress one_tenant",
                        "2026-11-01..2026-11-30 (30 days)",
                    )
                ],
            )
        ],
    ),
    (
        "warning checks never alert",
        [([check("r1", DAYS[:1], False, name="rows_follow_contract", blocking=False)], [])],
    ),
    (
        "failing again is quiet; passing again recovers; two checks are two messages",
        [
            (
                [check("r1", DAYS[:1], False), check("r1", DAYS[:1], False, name="keys_unique")],
                [
                    ("Blocking check failed: staged/progress one_tenant", "2026-11-01"),
                    ("Blocking check failed: staged/progress keys_unique", "2026-11-01"),
                ],
            ),
            ([check("r2", DAYS[:1], False)], []),
            (
                [check("r3", DAYS[:1], True), check("r3", DAYS[:1], True, name="keys_unique")],
                [
                    ("Recovered: staged/progress one_tenant passes again", "2026-11-01"),
                    ("Recovered: staged/progress keys_unique passes again", "2026-11-01"),
                ],
            ),
            ([check("r4", DAYS[:1], True)], []),
        ],
    ),
]


@pytest.mark.parametrize("name, ticks", CHECK_SCENARIOS, ids=[s[0] for s in CHECK_SCENARIOS])
def test_blocking_check_scenarios(name, ticks):
    state: dict[str, str] = {}
    for outcomes, expected in ticks:
        alerts, state = decide_checks(outcomes, state, SETTINGS)
        assert titles_and_dates(alerts) == expected


def test_a_check_message_names_asset_check_count_and_dates():
    (alert,), _ = decide_checks([check("r1", DAYS[:2], False, failing=3)], {}, SETTINGS)
    assert alert.facts == (
        ("Asset", "staged/progress"),
        ("Check", "one_tenant"),
        ("Failing", "3"),
        ("Snapshots", "2026-11-01, 2026-11-02"),
        ("Effect", "assets downstream of it were not built for these snapshots"),
    )


def fresh(run, day, missing):
    return FreshnessOutcome(run, day, tuple(missing), "09:00:00")


MISSED = "Snapshot missed its delivery deadline"
LATE = "Recovered: late snapshot delivered"
DELIVERY_SCENARIOS = [
    (
        "missing dates: one message; still missing the next day: only the new date",
        [
            (
                [fresh("f1", "2026-11-10", ["2026-11-09", "2026-11-10"])],
                [],
                [(MISSED, "2026-11-09, 2026-11-10")],
            ),
            (
                [fresh("f2", "2026-11-11", ["2026-11-09", "2026-11-10", "2026-11-11"])],
                [],
                [(MISSED, "2026-11-11")],
            ),
        ],
    ),
    (
        "a run for a missing date succeeds: recovered; a later evaluation agrees quietly",
        [
            ([fresh("f1", "2026-11-10", ["2026-11-10"])], [], [(MISSED, "2026-11-10")]),
            ([], [ok("r1", ["2026-11-10"])], [(LATE, "2026-11-10")]),
            ([fresh("f2", "2026-11-11", [])], [], []),
        ],
    ),
    (
        "the next evaluation no longer lists a date of its week: recovered; one out of it: dropped",
        [
            (
                [fresh("f1", "2026-11-10", ["2026-11-01", "2026-11-09"])],
                [],
                [(MISSED, "2026-11-01, 2026-11-09")],
            ),
            ([fresh("f2", "2026-11-11", [])], [], [(LATE, "2026-11-09")]),
        ],
    ),
]


@pytest.mark.parametrize("name, ticks", DELIVERY_SCENARIOS, ids=[s[0] for s in DELIVERY_SCENARIOS])
def test_missed_delivery_scenarios(name, ticks):
    state: dict[str, str] = {}
    for evaluations, successes, expected in ticks:
        alerts, state = decide_deliveries(evaluations, successes, state, SETTINGS)
        assert titles_and_dates(alerts) == expected


def test_run_dates_from_partition_and_range_tags():
    assert run_dates({"dagster/partition": "2026-11-03"}) == ("2026-11-03",)
    assert run_dates(
        {
            "dagster/asset_partition_range_start": "2026-11-29",
            "dagster/asset_partition_range_end": "2026-12-02",
        }
    ) == ("2026-11-29", "2026-11-30", "2026-12-01", "2026-12-02")
    assert run_dates({}) == ()


def test_date_list_compresses_runs_of_days_and_caps_the_list():
    assert date_list(["2026-11-03", "2026-11-01", "2026-11-02", "2026-11-05"]) == (
        "2026-11-01..2026-11-03 (3 days), 2026-11-05"
    )
    scattered = [f"2026-{m:02d}-01" for m in range(1, 13)] + [
        f"2025-{m:02d}-01" for m in range(1, 13)
    ]
    assert date_list(scattered).endswith(", 2026-08-01 and 4 more")


# --- settings ---------------------------------------------------------------------------------

MAIL = {"LEARN_SMTP_HOST": "smtp.example.org", "LEARN_ALERT_TO": "ops@example.org"}
BAD_SETTINGS = [
    ({"LEARN_TEAMS_WEBHOOK_URL": "not a url"}, "LEARN_TEAMS_WEBHOOK_URL must be an http(s) URL"),
    (
        {"LEARN_TEAMS_WEBHOOK_URL": "http://contoso.webhook.office.com/x"},
        "LEARN_TEAMS_WEBHOOK_URL must be an https:// URL (plain http:// only to 127.0.0.1 or "
        "localhost), got a http:// URL to contoso.webhook.office.com",
    ),
    ({"LEARN_TEAMS_WEBHOOK_URL": "ftp://host/x"}, "LEARN_TEAMS_WEBHOOK_URL must be an http(s) URL"),
    (
        MAIL | {"LEARN_SMTP_PORT": "smtp"},
        "LEARN_SMTP_PORT must be a port number 1-65535, got 'smtp'",
    ),
    (MAIL | {"LEARN_SMTP_PORT": "70000"}, "LEARN_SMTP_PORT must be a port number 1-65535"),
    (
        MAIL | {"LEARN_SMTP_HOST": "smtp://mail.example.org"},
        "LEARN_SMTP_HOST must be a host name or address (no scheme, no port)",
    ),
    (
        {"LEARN_SMTP_HOST": "smtp.example.org"},
        "LEARN_ALERT_TO (comma-separated addresses) is required",
    ),
    (MAIL | {"LEARN_ALERT_TO": "ops@example.org, bob"}, "LEARN_ALERT_TO must be an e-mail address"),
    (MAIL | {"LEARN_ALERT_FROM": "a\nb@x"}, "LEARN_ALERT_FROM must be an e-mail address"),
    (
        MAIL | {"LEARN_SMTP_USER": "bot"},
        "LEARN_SMTP_USER and LEARN_SMTP_PASSWORD must be set together",
    ),
    ({"LEARN_UI_URL": "127.0.0.1:3000"}, "LEARN_UI_URL must be an http(s) URL"),
]


@pytest.mark.parametrize("env, message", BAD_SETTINGS)
def test_a_setting_that_cannot_work_is_an_error_naming_the_variable(env, message):
    with pytest.raises(AlertConfigError) as e:
        alert_settings(env)
    assert str(e.value).startswith(message)
    assert "LEARN_" in str(e.value)


def test_unset_variables_mean_the_channel_is_off():
    assert alert_settings({}).channels == ()
    assert alert_settings({"LEARN_TEAMS_WEBHOOK_URL": "https://h/x"}).channels == ("teams",)
    assert alert_settings(MAIL).channels == ("mail",)
    mail = mail_settings(MAIL | {"LEARN_ALERT_TO": "a@x.org, b@y.org"})
    assert (mail.port, mail.sender, mail.recipients) == (
        25,
        "learn-assets@smtp.example.org",
        ("a@x.org", "b@y.org"),
    )
    assert alert_settings({}).ui_url == "http://127.0.0.1:3000"


def test_settings_never_show_secrets_in_their_repr():
    env = MAIL | {
        "LEARN_SMTP_USER": "bot",
        "LEARN_SMTP_PASSWORD": "pa55word-xyz",
        "LEARN_TEAMS_WEBHOOK_URL": "https://h/x?sig=s3cr3t",
    }
    text = repr(alert_settings(env))
    assert "pa55word-xyz" not in text and "s3cr3t" not in text


# --- rendering --------------------------------------------------------------------------------


def test_secrets_and_in_privacy_mode_quoted_values_and_addresses_never_reach_a_message():
    settings = alert_settings(
        {"LEARN_PSEUDONYM_KEY": "k3y-very-secret", "LEARN_PSEUDONYMIZE": "true"}
    )
    text = "key k3y-very-secret; user 'Ada Lovelace' <ada@contoso.com> failed \"Grace\""
    assert scrub(text, settings) == ("key [secret]; user '[value]' <[address]> failed '[value]'")
    plain = alert_settings({"LEARN_PSEUDONYM_KEY": "k3y-very-secret"})
    assert scrub(text, plain) == (
        "key [secret]; user 'Ada Lovelace' <ada@contoso.com> failed \"Grace\""
    )
    assert scrub("a\x1b[31mb\x00", plain) == "a [31mb"
    for word, on in (("on", True), ("YES", True), ("off", False), ("0", False), ("", False)):
        assert alert_settings({"LEARN_PSEUDONYMIZE": word}).privacy is on


def test_the_card_escapes_markdown_and_the_mail_escapes_html():
    alert = Alert(
        "run_failed",
        "Run failed: *job*",
        (("Error", "<b>x</b> [link](http://e)"),),
        "http://ui/runs/1",
    )
    card = adaptive_card(alert)["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    body = card["content"]["body"]
    assert body[0]["text"] == r"Run failed: \*job\*"
    assert body[1]["facts"] == [{"title": "Error", "value": r"<b>x</b> \[link\](http://e)"}]
    assert card["content"]["actions"][0]["url"] == "http://ui/runs/1"
    assert escape_markdown("a_b`c~d\\e") == r"a\_b\`c\~d\\e"
    assert escape_markdown("- one\n 2. two\n3 three") == "\\- one\n 2\\. two\n3 three"
    mail = mail_settings(MAIL)
    message = mail_message(alert, mail)
    html_part = message.get_body(("html",)).get_content()
    assert "&lt;b&gt;x&lt;/b&gt;" in html_part and "<b>x</b>" not in html_part
    assert "Error: <b>x</b> [link](http://e)" in message.get_body(("plain",)).get_content()
    injected = Alert("run_failed", "a\r\nBcc: evil@x.org", (), "http://ui")
    assert mail_message(injected, mail)["Subject"] == "[learn_assets] a Bcc: evil@x.org"
    assert mail_message(injected, mail)["Bcc"] is None


def test_the_cursor_keeps_undelivered_messages_and_caps_them():
    alert = Alert("run_failed", "t", (("a", "b"),), "http://ui/runs/1")
    state = AlertState(7, {"job:2026-11-01": "x"}, [Pending(alert, ["teams"], 2)])
    assert AlertState.loads(state.dumps()) == state
    outbox, dropped = queue([], [alert] * 60, ["teams", "mail"])
    assert (len(outbox), dropped, outbox[0].channels) == (50, 10, ["teams", "mail"])
    assert queue([], [alert], []) == ([], 0)  # no channel: nothing to keep
