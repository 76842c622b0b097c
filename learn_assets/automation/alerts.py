"""Alerts: tell people, in Microsoft Teams and by e-mail, when a run fails, a blocking check
fails or a snapshot misses its delivery deadline, and again when it recovers.

Three sensors read the instance (never the warehouse) and send nothing but messages:
- `alert_on_run_failure`: a run failed (job, failed steps, the innermost error, the snapshot
  dates); "recovered" when the next run for those snapshots succeeds.
- `alert_on_blocking_check_failure`: a blocking asset check failed (asset, check, failing count,
  snapshots); "recovered" when it passes again for them.
- `alert_on_missed_delivery`: the `snapshot_delivered_on_time` check found dates with no
  delivery; "recovered" when that date is delivered and processed.

**One message per event, never a storm.** Everything a tick finds is grouped: the failures of
one job with the same failed step and error are one message listing every snapshot date (a
backfill of 30 failing days is one message), the same failure of an already failing snapshot is
not announced again, and recoveries are one message per job (or check).

**Delivery.** Each channel is on when its variables are set (`LEARN_TEAMS_WEBHOOK_URL`;
`LEARN_SMTP_HOST` and `LEARN_ALERT_TO`). A message a channel could not take (HTTP 500, SMTP
refused, a timeout) stays in the sensor's cursor and is retried at the next tick, for that
channel only; the failure is logged without secrets. Sending never touches a run: an alert
that cannot be sent never fails the pipeline.

**What a message never holds.** Secrets (the values of `SECRET_VARIABLES` are replaced), the
webhook URL, samples of rows; in privacy mode (`LEARN_PSEUDONYMIZE`) quoted values and e-mail
addresses in error text are replaced too, so a name in an error message does not travel. Text
from the data or an error is escaped for the card (Markdown) and the mail (HTML part).

The decisions are pure functions (`decide_runs`, `decide_checks`, `decide_deliveries`: events
and the previous state in, messages and the new state out); the sensors feed them from the
instance and deliver what they return.
"""

from __future__ import annotations

import datetime as dt
import html
import ipaddress
import json
import logging
import os
import re
import smtplib
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from typing import Any

import dagster as dg

from learn_assets.progress import step_label
from learn_assets.settings import DEFAULTS, FALSE_WORDS, PSEUDONYM_KEY, as_env, current
from learn_assets.tenancy import is_ours, named

log = logging.getLogger("learn_assets.alerts")

DEFAULT_UI_URL = DEFAULTS.ui_url
SECRET_VARIABLES = (
    "LEARN_PSEUDONYM_KEY",
    "LEARN_SMTP_PASSWORD",
    "LEARN_TEAMS_WEBHOOK_URL",
    "AZURE_STORAGE_CONNECTION_STRING",
    "AZURE_STORAGE_ACCOUNT_KEY",
    "AZURE_CLIENT_SECRET",
)
FRESHNESS_CHECK = "snapshot_delivered_on_time"
FRESHNESS_LOOKBACK_DAYS = 7  # the freshness check looks at the last week (schedules.py)
MAX_OUTBOX = 50  # undelivered messages kept for retry; older ones are dropped, with a log line
MAX_ERROR_CHARS = 600
MAX_DATES_LISTED = 20
TIMEOUT_SECONDS = 15
EVENTS_PER_TICK = 200
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"
NO_SNAPSHOT = "-"  # the "date" of a run or check that is not per snapshot


# --- settings ------------------------------------------------------------------------------------


class AlertConfigError(ValueError):
    """An alert setting that cannot work, naming the variable."""


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    sender: str
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class AlertSettings:
    teams_url: str = field(default="", repr=False)  # the URL carries the webhook's signature
    mail: MailSettings | None = None
    ui_url: str = DEFAULT_UI_URL
    privacy: bool = False
    secrets: tuple[str, ...] = field(default=(), repr=False)

    @property
    def channels(self) -> tuple[str, ...]:
        return (*(("teams",) if self.teams_url else ()), *(("mail",) if self.mail else ()))


_ADDRESS = re.compile(r"^[^@\s<>,;\"']+@[^@\s<>,;\"']+$")
_HOST = re.compile(r"^[A-Za-z0-9.\-:\[\]]+$")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _http_url(name: str, value: str, https_only: bool) -> str:
    parsed = urllib.parse.urlsplit(value)
    if (
        any(c.isspace() for c in value)
        or not parsed.hostname
        or parsed.scheme
        not in (
            "http",
            "https",
        )
    ):
        raise AlertConfigError(f"{name} must be an http(s) URL such as https://host/path")
    if https_only and parsed.scheme != "https" and not _is_loopback(parsed.hostname):
        raise AlertConfigError(
            f"{name} must be an https:// URL (plain http:// only to 127.0.0.1 or localhost), "
            f"got a {parsed.scheme}:// URL to {parsed.hostname}"
        )
    return value


def _address(name: str, value: str) -> str:
    if not _ADDRESS.match(value):
        raise AlertConfigError(f"{name} must be an e-mail address like ops@example.org")
    return value


def mail_settings(env: Mapping[str, str]) -> MailSettings | None:
    host = env.get("LEARN_SMTP_HOST", "").strip()
    if not host:
        return None
    if not _HOST.match(host):
        raise AlertConfigError(
            f"LEARN_SMTP_HOST must be a host name or address (no scheme, no port), got {host!r}"
        )
    port_text = env.get("LEARN_SMTP_PORT", "").strip() or "25"
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise AlertConfigError(f"LEARN_SMTP_PORT must be a port number 1-65535, got {port_text!r}")
    user, password = env.get("LEARN_SMTP_USER", ""), env.get("LEARN_SMTP_PASSWORD", "")
    if bool(user) != bool(password):
        raise AlertConfigError(
            "LEARN_SMTP_USER and LEARN_SMTP_PASSWORD must be set together (or neither)"
        )
    to = tuple(a.strip() for a in env.get("LEARN_ALERT_TO", "").split(",") if a.strip())
    if not to:
        raise AlertConfigError("LEARN_ALERT_TO (comma-separated addresses) is required with SMTP")
    for address in to:
        _address("LEARN_ALERT_TO", address)
    sender = _address(
        "LEARN_ALERT_FROM", env.get("LEARN_ALERT_FROM", "").strip() or f"learn-assets@{host}"
    )
    return MailSettings(host, int(port_text), user, password, sender, to)


def _privacy(env: Mapping[str, str]) -> bool:
    """Privacy mode unless LEARN_PSEUDONYMIZE says off (a value that is neither is on here; the
    code location refuses it anyway)."""
    word = env.get("LEARN_PSEUDONYMIZE", "").strip().lower()
    return bool(word) and word not in FALSE_WORDS


def alert_settings(env: Mapping[str, str] | None = None) -> AlertSettings:
    """The alert channels from the project's settings (or the variables `env`); raises
    AlertConfigError naming the variable. The pseudonym key, a secret kept out of the settings,
    comes from the environment, to be kept out of every message."""
    if env is None:
        key = os.environ.get(current().pseudonym_key_variable, "")  # a tenant names its own
        env = as_env(current()) | {PSEUDONYM_KEY: key}
    teams = env.get("LEARN_TEAMS_WEBHOOK_URL", "").strip()
    ui = env.get("LEARN_UI_URL", "").strip() or DEFAULT_UI_URL
    return AlertSettings(
        teams_url=_http_url("LEARN_TEAMS_WEBHOOK_URL", teams, https_only=True) if teams else "",
        mail=mail_settings(env),
        ui_url=_http_url("LEARN_UI_URL", ui, https_only=False).rstrip("/"),
        privacy=_privacy(env),
        secrets=tuple(v for n in SECRET_VARIABLES if len(v := env.get(n, "")) >= 4),
    )


# --- messages ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Alert:
    """One message: a title, facts (label, text) and a link to the UI."""

    kind: str  # run_failed, run_recovered, check_failed, check_recovered, delivery_missed, ...
    title: str
    facts: tuple[tuple[str, str], ...]
    link: str

    @property
    def failing(self) -> bool:
        return not self.kind.endswith("recovered")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Alert:
        return cls(raw["kind"], raw["title"], tuple(tuple(f) for f in raw["facts"]), raw["link"])


_EMAIL = re.compile(r"[^\s@<>'\"]+@[^\s@<>'\"]+")
_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"")


def scrub(text: str, settings: AlertSettings) -> str:
    """Text fit for a message: secrets replaced; in privacy mode quoted values and e-mail
    addresses too (they may be names); control characters gone; at most MAX_ERROR_CHARS."""
    for secret in sorted(settings.secrets, key=len, reverse=True):
        text = text.replace(secret, "[secret]")
    if settings.privacy:
        text = _EMAIL.sub("[address]", _QUOTED.sub("'[value]'", text))
    text = "".join(c if c.isprintable() or c == "\n" else " " for c in text).strip()
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"


def date_list(dates: Iterable[str]) -> str:
    """`2026-11-01..2026-11-30 (30 days)` for runs of consecutive days, listed otherwise."""
    days = sorted(set(dates))
    if not days or days == [NO_SNAPSHOT]:
        return "none (not per snapshot)"
    parsed = [dt.date.fromisoformat(d) for d in days if d != NO_SNAPSHOT]
    spans: list[list[dt.date]] = []
    for day in parsed:
        if spans and day - spans[-1][-1] == dt.timedelta(days=1):
            spans[-1].append(day)
        else:
            spans.append([day])
    parts = [
        f"{s[0]}..{s[-1]} ({len(s)} days)" if len(s) > 2 else ", ".join(map(str, s)) for s in spans
    ]
    shown = parts[:MAX_DATES_LISTED]
    more = f" and {len(parts) - len(shown)} more" if len(parts) > len(shown) else ""
    return ", ".join(shown) + more


def run_link(settings: AlertSettings, run_id: str) -> str:
    return f"{settings.ui_url}/runs/{run_id}"


# --- pure decisions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunOutcome:
    """A finished run: its job, whether it succeeded, its snapshot dates (`-` when none), and
    for a failure the failed steps and the innermost error of the first."""

    run_id: str
    job: str
    succeeded: bool
    dates: tuple[str, ...]
    steps: tuple[str, ...] = ()
    error: str = ""


def _incident_keys(job: str, dates: Sequence[str]) -> list[str]:
    return [f"{job}:{d}" for d in (dates or (NO_SNAPSHOT,))]


def decide_runs(
    outcomes: Sequence[RunOutcome], open_: Mapping[str, str], settings: AlertSettings
) -> tuple[list[Alert], dict[str, str]]:
    """Failures grouped by (job, steps, error) into one message listing their dates; the same
    failure of a snapshot already failing is not announced again; a success of a job for a
    failing snapshot is a "recovered" message (one per job). `open_`: `job:date` -> failure."""
    state = dict(open_)
    failed: dict[tuple[str, tuple[str, ...], str], list[RunOutcome]] = {}
    failed_dates: dict[tuple[str, tuple[str, ...], str], list[str]] = {}
    recovered: dict[str, tuple[RunOutcome, list[str]]] = {}
    for run in outcomes:
        keys = _incident_keys(run.job, run.dates)
        if run.succeeded:
            healed = [k.split(":", 1)[1] for k in keys if state.pop(k, None) is not None]
            if healed:
                recovered.setdefault(run.job, (run, []))[1].extend(healed)
            continue
        signature = json.dumps([list(run.steps), run.error])
        new = [k.split(":", 1)[1] for k in keys if state.get(k) != signature]
        state.update(dict.fromkeys(keys, signature))
        if new:
            group = (run.job, run.steps, run.error)
            failed.setdefault(group, []).append(run)
            failed_dates.setdefault(group, []).extend(new)
    alerts = []
    for (job, steps, error), runs in failed.items():
        more = f" (and {len(runs) - 1} more runs)" if len(runs) > 1 else ""
        alerts.append(
            Alert(
                "run_failed",
                f"Run failed: {job}",
                (
                    ("Snapshots", date_list(failed_dates[(job, steps, error)])),
                    ("Failed steps", ", ".join(steps) or "(the run itself)"),
                    ("Error", scrub(error, settings) or "(no message)"),
                    ("Run", runs[0].run_id + more),
                ),
                run_link(settings, runs[0].run_id),
            )
        )
    for job, (run, dates) in recovered.items():
        alerts.append(
            Alert(
                "run_recovered",
                f"Recovered: {job}",
                (("Snapshots", date_list(dates)), ("Run", run.run_id)),
                run_link(settings, run.run_id),
            )
        )
    return alerts, state


@dataclass(frozen=True)
class CheckOutcome:
    """An asset check's evaluation in a run (one per check and run; a range run's evaluation
    covers its dates)."""

    run_id: str
    asset: str
    check: str
    passed: bool
    blocking: bool
    dates: tuple[str, ...]
    failing: int | None = None


def decide_checks(
    outcomes: Sequence[CheckOutcome], open_: Mapping[str, str], settings: AlertSettings
) -> tuple[list[Alert], dict[str, str]]:
    """Blocking checks only: a failure for snapshots not already failing it is one message per
    (asset, check) listing the dates and the failing count; passing again is "recovered".
    `open_`: `asset|check|date` -> run id."""
    state = dict(open_)
    failed: dict[tuple[str, str], tuple[list[CheckOutcome], list[str]]] = {}
    recovered: dict[tuple[str, str], tuple[CheckOutcome, list[str]]] = {}
    for c in outcomes:
        if not c.blocking:
            continue
        keys = [f"{c.asset}|{c.check}|{d}" for d in (c.dates or (NO_SNAPSHOT,))]
        if c.passed:
            healed = [k.rsplit("|", 1)[1] for k in keys if state.pop(k, None) is not None]
            if healed:
                recovered.setdefault((c.asset, c.check), (c, []))[1].extend(healed)
            continue
        new = [k.rsplit("|", 1)[1] for k in keys if k not in state]
        state.update(dict.fromkeys(keys, c.run_id))
        if new:
            runs, dates = failed.setdefault((c.asset, c.check), ([], []))
            runs.append(c)
            dates.extend(new)
    alerts = []
    for (asset, check), (runs, dates) in failed.items():
        counts = [r.failing for r in runs if r.failing is not None]
        alerts.append(
            Alert(
                "check_failed",
                f"Blocking check failed: {asset} {check}",
                (
                    ("Asset", asset),
                    ("Check", check),
                    ("Failing", str(sum(counts)) if counts else "unknown"),
                    ("Snapshots", date_list(dates)),
                    ("Effect", "assets downstream of it were not built for these snapshots"),
                ),
                run_link(settings, runs[0].run_id),
            )
        )
    for (asset, check), (c, dates) in recovered.items():
        alerts.append(
            Alert(
                "check_recovered",
                f"Recovered: {asset} {check} passes again",
                (("Asset", asset), ("Check", check), ("Snapshots", date_list(dates))),
                run_link(settings, c.run_id),
            )
        )
    return alerts, state


@dataclass(frozen=True)
class FreshnessOutcome:
    """An evaluation of `snapshot_delivered_on_time`: the dates it found missing, on `day`."""

    run_id: str
    day: str  # the UTC date it was evaluated
    missing: tuple[str, ...]
    deadline: str = ""


def decide_deliveries(
    evaluations: Sequence[FreshnessOutcome],
    successes: Sequence[RunOutcome],
    open_: Mapping[str, str],
    settings: AlertSettings,
) -> tuple[list[Alert], dict[str, str]]:
    """Dates newly found missing: one message listing them. A missing date is recovered when a
    run for it succeeds, or when a later evaluation whose week covers it no longer lists it
    (dates that fall out of the week are dropped silently). `open_`: date -> run id."""
    state = dict(open_)
    alerts = []
    for e in evaluations:
        new = [d for d in e.missing if d not in state]
        window_start = dt.date.fromisoformat(e.day) - dt.timedelta(days=FRESHNESS_LOOKBACK_DAYS)
        healed = []
        for day in sorted(state):
            if day not in e.missing:
                if dt.date.fromisoformat(day) > window_start:
                    healed.append(day)
                state.pop(day)
        state.update(dict.fromkeys(e.missing, e.run_id))
        if healed:
            alerts.append(_delivered(healed, e.run_id, settings))
        if new:
            alerts.append(
                Alert(
                    "delivery_missed",
                    "Snapshot missed its delivery deadline",
                    (
                        ("Snapshots", date_list(new)),
                        ("Deadline", f"{e.deadline} UTC" if e.deadline else "(unknown)"),
                        ("Check", f"raw/users {FRESHNESS_CHECK}"),
                    ),
                    run_link(settings, e.run_id),
                )
            )
    for run in successes:
        healed = [d for d in run.dates if state.pop(d, None) is not None]
        if healed:
            alerts.append(_delivered(healed, run.run_id, settings))
    return alerts, state


def _delivered(dates: Sequence[str], run_id: str, settings: AlertSettings) -> Alert:
    return Alert(
        "delivery_recovered",
        "Recovered: late snapshot delivered",
        (("Snapshots", date_list(dates)),),
        run_link(settings, run_id),
    )


# --- rendering -----------------------------------------------------------------------------------

_MARKDOWN = re.compile(r"([\\`*_\[\]~])")
_LIST_START = re.compile(r"^(\s*)([-+]|\d+)(\.?\s)", re.MULTILINE)


def escape_markdown(text: str) -> str:
    """Text shown literally in an Adaptive Card TextBlock, which reads a Markdown subset (bold,
    italic, links, lists): its markup characters, and a list marker starting a line, escaped."""

    def unlist(m: re.Match) -> str:
        lead, marker, rest = m.groups()
        if marker.isdigit():
            return f"{lead}{marker}\\{rest}" if rest.startswith(".") else m.group(0)
        return f"{lead}\\{marker}{rest}"

    return _LIST_START.sub(unlist, _MARKDOWN.sub(r"\\\1", text))


def adaptive_card(alert: Alert) -> dict[str, Any]:
    """The Teams message: an Adaptive Card (1.4) in the envelope incoming webhooks and
    Workflows accept."""
    card = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": "1.4",
        "body": [
            {
                "type": "TextBlock",
                "text": escape_markdown(alert.title),
                "weight": "Bolder",
                "size": "Medium",
                "wrap": True,
                "color": "Attention" if alert.failing else "Good",
            },
            {
                "type": "FactSet",
                "facts": [
                    {"title": escape_markdown(k), "value": escape_markdown(v)}
                    for k, v in alert.facts
                ],
            },
        ],
        "actions": [{"type": "Action.OpenUrl", "title": "Open in Dagster", "url": alert.link}],
    }
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def mail_message(alert: Alert, mail: MailSettings) -> EmailMessage:
    """A plain-text mail with an HTML alternative (data text escaped)."""
    message = EmailMessage()
    message["Subject"] = "[learn_assets] " + " ".join(alert.title.split())
    message["From"] = mail.sender
    message["To"] = ", ".join(mail.recipients)
    width = max(len(k) for k, _ in alert.facts) if alert.facts else 0
    text = [alert.title, ""] + [f"{k + ':':<{width + 1}} {v}" for k, v in alert.facts]
    message.set_content("\n".join([*text, "", f"Open in Dagster: {alert.link}", ""]))
    rows = "".join(
        f"<tr><th align='left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
        for k, v in alert.facts
    )
    message.add_alternative(
        f"<p><b>{html.escape(alert.title)}</b></p><table>{rows}</table>"
        f"<p><a href='{html.escape(alert.link, quote=True)}'>Open in Dagster</a></p>",
        subtype="html",
    )
    return message


# --- delivery ------------------------------------------------------------------------------------


class DeliveryError(Exception):
    """A channel did not take a message (its text names no secret)."""


def post_teams(url: str, alert: Alert) -> None:
    request = urllib.request.Request(
        url,
        data=json.dumps(adaptive_card(alert)).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    where = urllib.parse.urlsplit(url).hostname
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
    except urllib.error.HTTPError as e:
        raise DeliveryError(f"Teams webhook at {where} answered HTTP {e.code}") from None
    except (OSError, ValueError) as e:
        raise DeliveryError(f"Teams webhook at {where} unreachable: {type(e).__name__}") from None
    if not 200 <= status < 300:
        raise DeliveryError(f"Teams webhook at {where} answered HTTP {status}")


def send_mail(mail: MailSettings, alert: Alert) -> None:
    """Over SMTP; STARTTLS when the server offers it (port 465: TLS from the start); login when
    a user is set."""
    where = f"{mail.host}:{mail.port}"
    try:
        context = ssl.create_default_context()
        if mail.port == 465:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                mail.host, mail.port, timeout=TIMEOUT_SECONDS, context=context
            )
        else:
            client = smtplib.SMTP(mail.host, mail.port, timeout=TIMEOUT_SECONDS)
        with client:
            client.ehlo()
            if mail.port != 465 and client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            if mail.user:
                client.login(mail.user, mail.password)
            client.send_message(mail_message(alert, mail))
    except smtplib.SMTPResponseException as e:
        raise DeliveryError(f"SMTP server {where} refused: {e.smtp_code}") from None
    except (smtplib.SMTPException, OSError) as e:
        raise DeliveryError(f"SMTP server {where}: {type(e).__name__}") from None


def send(channel: str, alert: Alert, settings: AlertSettings) -> None:
    if channel == "teams":
        post_teams(settings.teams_url, alert)
    elif channel == "mail" and settings.mail:
        send_mail(settings.mail, alert)
    else:
        raise DeliveryError(f"channel {channel} is not configured")


@dataclass
class Pending:
    """A message and the channels that have not taken it yet."""

    alert: Alert
    channels: list[str]
    tries: int = 0


def deliver(
    outbox: Sequence[Pending],
    settings: AlertSettings,
    sender: Callable[[str, Alert, AlertSettings], None] = send,
) -> tuple[list[Pending], list[str], list[str]]:
    """Try every pending message on its pending channels. Returns what is still pending, what
    was sent and what failed (log lines)."""
    still, sent, failed = [], [], []
    for item in outbox:
        left = []
        for channel in item.channels:
            if channel not in settings.channels:
                continue  # the channel was switched off since
            try:
                sender(channel, item.alert, settings)
                sent.append(f"{channel}: {item.alert.title}")
            except DeliveryError as e:
                left.append(channel)
                failed.append(
                    f"{channel}: {item.alert.title!r} not sent ({scrub(str(e), settings)})"
                )
        if left:
            still.append(Pending(item.alert, left, item.tries + 1))
    return still, sent, failed


# --- cursor --------------------------------------------------------------------------------------


@dataclass
class AlertState:
    """A sensor's cursor: the last event storage id read (None: not started), the open
    incidents, and messages not yet delivered."""

    after: int | None = None
    open: dict[str, str] = field(default_factory=dict)
    outbox: list[Pending] = field(default_factory=list)

    def dumps(self) -> str:
        return json.dumps(
            {
                "after": self.after,
                "open": self.open,
                "outbox": [
                    {"alert": p.alert.to_json(), "channels": p.channels, "tries": p.tries}
                    for p in self.outbox
                ],
            },
            sort_keys=True,
        )

    @classmethod
    def loads(cls, text: str | None) -> AlertState:
        if not text:
            return cls()
        raw = json.loads(text)
        return cls(
            raw.get("after"),
            dict(raw.get("open", {})),
            [
                Pending(Alert.from_json(p["alert"]), list(p["channels"]), int(p.get("tries", 0)))
                for p in raw.get("outbox", [])
            ],
        )


def queue(
    outbox: Sequence[Pending], alerts: Sequence[Alert], channels: Sequence[str]
) -> tuple[list[Pending], int]:
    """The outbox with `alerts` added for every channel, capped at MAX_OUTBOX (oldest dropped);
    returns it and how many were dropped."""
    items = [*outbox, *(Pending(a, list(channels)) for a in alerts)] if channels else list(outbox)
    dropped = max(len(items) - MAX_OUTBOX, 0)
    return items[dropped:], dropped


# --- reading the instance ------------------------------------------------------------------------


def innermost_error(error: Any) -> str:
    """The user's exception of a serialized error chain, without its class path."""
    while error is not None and error.cause is not None:
        error = error.cause
    if error is None:
        return ""
    message = error.message.strip()
    if error.cls_name and message.split(": ", 1)[0].endswith(error.cls_name):
        message = message.split(": ", 1)[1] if ": " in message else message
    return message


def run_dates(tags: Mapping[str, str]) -> tuple[str, ...]:
    """The snapshot dates a run covers, from its partition tags (a range is every day in it)."""
    if PARTITION_TAG in tags:
        return (tags[PARTITION_TAG],)
    start, end = tags.get(RANGE_START), tags.get(RANGE_END)
    if not start or not end:
        return ()
    try:
        first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    except ValueError:
        return (start, end)
    return tuple((first + dt.timedelta(days=n)).isoformat() for n in range((last - first).days + 1))


def finished_runs(
    instance: dg.DagsterInstance, after: int
) -> tuple[list[tuple[int, str, bool]], int]:
    """(storage id, run id, succeeded) of the runs that finished after event `after`, oldest
    first, and the new position."""
    found = []
    for event_type, succeeded in (
        (dg.DagsterEventType.RUN_SUCCESS, True),
        (dg.DagsterEventType.RUN_FAILURE, False),
    ):
        records = instance.fetch_run_status_changes(
            dg.RunStatusChangeRecordsFilter(event_type, after_storage_id=after),
            limit=EVENTS_PER_TICK,
            ascending=True,
        ).records
        found += [(r.storage_id, r.event_log_entry.run_id, succeeded) for r in records]
    found.sort()
    if len(found) > EVENTS_PER_TICK:
        found = found[:EVENTS_PER_TICK]  # the rest next tick, in order
    return found, (found[-1][0] if found else after)


def latest_run_event(instance: dg.DagsterInstance) -> int:
    """The storage id of the newest run success or failure (where a new sensor starts)."""
    ids = [0]
    for event_type in (dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.RUN_FAILURE):
        records = instance.fetch_run_status_changes(event_type, limit=1).records
        ids += [r.storage_id for r in records]
    return max(ids)


def run_outcome(instance: dg.DagsterInstance, run_id: str, succeeded: bool) -> RunOutcome | None:
    run = instance.get_run_by_id(run_id)
    if run is None:
        return None
    dates = run_dates(run.tags)
    if succeeded:
        return RunOutcome(run_id, run.job_name, True, dates)
    failures = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.STEP_FAILURE
    ).records
    steps, error = [], ""
    for record in failures:
        event = record.event_log_entry.dagster_event
        steps.append(step_label(event.step_key or "?"))
        if not error:
            error = innermost_error(event.step_failure_data.error)
    if not failures:
        for record in instance.get_records_for_run(
            run_id, of_type=dg.DagsterEventType.RUN_FAILURE
        ).records:
            entry = record.event_log_entry
            data = entry.dagster_event.event_specific_data if entry.dagster_event else None
            error = innermost_error(getattr(data, "error", None)) or entry.message or ""
    return RunOutcome(run_id, run.job_name, False, dates, tuple(dict.fromkeys(steps)), error)


def check_outcomes(instance: dg.DagsterInstance, run_id: str) -> list[CheckOutcome]:
    run = instance.get_run_by_id(run_id)
    dates = run_dates(run.tags) if run else ()
    outcomes = []
    for record in instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records:
        evaluation = record.event_log_entry.dagster_event.asset_check_evaluation_data
        failing = evaluation.metadata.get("failing")
        blocking = bool(evaluation.blocking) and (
            evaluation.severity == dg.AssetCheckSeverity.ERROR
        )
        outcomes.append(
            CheckOutcome(
                run_id,
                evaluation.asset_key.to_user_string(),
                evaluation.check_name,
                evaluation.passed,
                blocking,
                (evaluation.partition,) if evaluation.partition else dates,
                int(failing.value) if failing is not None else None,
            )
        )
    return outcomes


def freshness_outcomes(instance: dg.DagsterInstance, run_id: str) -> list[FreshnessOutcome]:
    found = []
    for record in instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ).records:
        evaluation = record.event_log_entry.dagster_event.asset_check_evaluation_data
        if evaluation.check_name != FRESHNESS_CHECK:
            continue
        missing = evaluation.metadata.get("missing")
        deadline = evaluation.metadata.get("deadline_utc")
        day = dt.datetime.fromtimestamp(record.event_log_entry.timestamp, dt.UTC).date()
        found.append(
            FreshnessOutcome(
                run_id,
                day.isoformat(),
                tuple(missing.value) if missing is not None else (),
                str(deadline.value) if deadline is not None else "",
            )
        )
    return found


# --- the sensors ---------------------------------------------------------------------------------

Decide = Callable[
    [dg.DagsterInstance, list[tuple[int, str, bool]], Mapping[str, str], AlertSettings],
    tuple[list[Alert], dict[str, str]],
]


def _decide_runs(instance, finished, open_, settings):
    outcomes = [o for _, run_id, ok in finished if (o := run_outcome(instance, run_id, ok))]
    return decide_runs(outcomes, open_, settings)


def _decide_checks(instance, finished, open_, settings):
    outcomes = [c for _, run_id, _ in finished for c in check_outcomes(instance, run_id)]
    return decide_checks(outcomes, open_, settings)


def _decide_deliveries(instance, finished, open_, settings):
    evaluations = [e for _, run_id, _ in finished for e in freshness_outcomes(instance, run_id)]
    successes = [o for _, run_id, ok in finished if ok and (o := run_outcome(instance, run_id, ok))]
    return decide_deliveries(evaluations, successes, open_, settings)


def _ours(instance: dg.DagsterInstance, run_id: str) -> bool:
    """A run of this tenant's (tenants share the instance; each tells its own people)."""
    run = instance.get_run_by_id(run_id)
    return run is not None and is_ours(run.tags, sorted(run.asset_selection or ()))


def alert_tick(
    context: dg.SensorEvaluationContext,
    decide: Decide,
    settings: AlertSettings,
    sender: Callable[[str, Alert, AlertSettings], None] = send,
) -> dg.SkipReason:
    """One tick of an alert sensor: read the runs finished since the cursor, decide, deliver
    (this tick's messages and those a channel refused before), keep the rest in the cursor."""
    state = AlertState.loads(context.cursor)
    if state.after is None:  # a new sensor starts from now, not from all history
        state.after = latest_run_event(context.instance)
        context.update_cursor(state.dumps())
        return dg.SkipReason(f"started after event {state.after}; alerts from now on")
    finished, state.after = finished_runs(context.instance, state.after)
    finished = [f for f in finished if _ours(context.instance, f[1])]
    alerts, state.open = decide(context.instance, finished, state.open, settings)
    outbox, dropped = queue(state.outbox, alerts, settings.channels)
    if dropped:
        context.log.warning(f"{dropped} undelivered alert(s) dropped: more than {MAX_OUTBOX}")
    state.outbox, sent, failed = deliver(outbox, settings, sender)
    context.update_cursor(state.dumps())
    for line in sent:
        context.log.info(f"alert sent to {line}")
    for line in failed:
        context.log.warning(f"alert {line}; retried next tick")
    channels = ", ".join(settings.channels) or "no channel configured"
    told = "; ".join(a.title for a in alerts) or "nothing new"
    waiting = f"; {len(state.outbox)} waiting for retry" if state.outbox else ""
    return dg.SkipReason(f"{len(finished)} finished run(s): {told} ({channels}){waiting}")


SENSORS = (
    (
        "alert_on_run_failure",
        "Tells Teams / e-mail when a run fails (step, error, snapshots) and when the next run "
        "for those snapshots succeeds.",
        _decide_runs,
    ),
    (
        "alert_on_blocking_check_failure",
        "Tells Teams / e-mail when a blocking asset check fails (asset, check, failing count, "
        "snapshots) and when it passes again.",
        _decide_checks,
    ),
    (
        "alert_on_missed_delivery",
        "Tells Teams / e-mail when a snapshot misses its delivery deadline (check "
        "snapshot_delivered_on_time) and when it is delivered and processed.",
        _decide_deliveries,
    ),
)


def alert_sensors(
    env: Mapping[str, str] | None = None,
    sender: Callable[[str, Alert, AlertSettings], None] = send,
) -> list[dg.SensorDefinition]:
    """The three alert sensors, running by default. A setting that cannot work does not stop
    the code location from loading: it is logged now, named in the sensors' descriptions, and
    every tick fails with it, in the UI, until it is fixed."""
    try:
        settings: AlertSettings | AlertConfigError = alert_settings(env)
    except AlertConfigError as e:
        log.error(f"alerts are not configured correctly: {e}")
        settings = e
    sensors = []
    for name, description, decide in SENSORS:
        if isinstance(settings, AlertConfigError):
            description = f"CONFIGURATION ERROR: {settings}. {description}"
        sensors.append(_sensor(named(name), description, decide, settings, sender))
    return sensors


def _sensor(
    name: str,
    description: str,
    decide: Decide,
    settings: AlertSettings | AlertConfigError,
    sender: Callable[[str, Alert, AlertSettings], None],
) -> dg.SensorDefinition:
    @dg.sensor(
        name=name,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=description,
    )
    def alert_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
        if isinstance(settings, AlertConfigError):
            raise AlertConfigError(f"alerts are off until this is fixed: {settings}")
        return alert_tick(context, decide, settings, sender)

    return alert_sensor
