"""Settings from the environment: one boolean parser for every boolean setting, shares and dates
checked, and a value the project cannot use refused by name when the code location loads."""

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import learn_assets
from learn_assets.resources import resources_from_env
from learn_assets.resources.reporting import SanityGates
from learn_assets.settings import (
    DEFAULTS,
    FALSE_WORDS,
    TRUE_WORDS,
    SettingError,
    Settings,
    parse_bool,
)
from learn_assets_tests.cli import PROJECT

KEY = {"LEARN_PSEUDONYM_KEY": "s3cret"}


def report_settings(**env: str):
    return resources_from_env(env)["report_settings"]


@pytest.mark.parametrize("word", ["true", "1", "yes", "on", "TRUE", "On", " yes ", "\ton\n"])
def test_true_words_turn_privacy_on(word):
    settings = report_settings(LEARN_PSEUDONYMIZE=word, **KEY)
    assert settings.pseudonymize is True
    assert settings.privacy().on is True


@pytest.mark.parametrize("word", ["false", "0", "no", "off", "OFF", " False ", "", "  "])
def test_false_words_and_blank_leave_privacy_off(word):
    assert report_settings(LEARN_PSEUDONYMIZE=word).pseudonymize is False


def test_the_words_are_exactly_these():
    assert TRUE_WORDS == ("true", "1", "yes", "on")
    assert FALSE_WORDS == ("false", "0", "no", "off")
    assert parse_bool("X", "ON") is True and parse_bool("X", "0") is False


@pytest.mark.parametrize("word", ["maybe", "enabled", "2", "y", "t", "on;"])
def test_anything_else_is_an_error_naming_the_variable(word):
    with pytest.raises(SettingError) as error:
        report_settings(LEARN_PSEUDONYMIZE=word, **KEY)
    assert str(error.value) == (
        "LEARN_PSEUDONYMIZE must be one of true/false, 1/0, yes/no, on/off (any case), "
        f"got {word!r}"
    )


def test_privacy_on_without_a_key_is_refused_at_load():
    with pytest.raises(SettingError) as error:
        report_settings(LEARN_PSEUDONYMIZE="on")
    assert str(error.value) == (
        "LEARN_PSEUDONYMIZE is on but LEARN_PSEUDONYM_KEY is not set: privacy mode needs a "
        "secret key for the pseudonyms"
    )


def load_code_location(**env: str) -> subprocess.CompletedProcess:
    """Import the code location in a fresh process, as `dagster` and `make ui` do."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LEARN_")}
    return subprocess.run(
        [sys.executable, "-c", "import learn_assets.definitions"],
        cwd=PROJECT,
        env=clean | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_the_code_location_does_not_load_with_a_bad_boolean():
    loaded = load_code_location(LEARN_PSEUDONYMIZE="maybe", **KEY)
    assert loaded.returncode == 1
    assert loaded.stderr.strip().splitlines()[-1] == (
        "learn_assets.parsing.SettingError: LEARN_PSEUDONYMIZE must be one of "
        "true/false, 1/0, yes/no, on/off (any case), got 'maybe'"
    )
    assert load_code_location(LEARN_PSEUDONYMIZE="on", **KEY).returncode == 0


def test_sanity_gates_come_from_the_environment():
    assert report_settings().gates() == SanityGates(0.5, 0.05, frozenset())
    settings = report_settings(
        LEARN_MAX_USER_DROP="0.2",
        LEARN_MAX_QUARANTINE_SHARE="0",
        LEARN_ACCEPT_ANOMALY=" 2026-11-02,2026-11-05 ,",
    )
    assert settings.gates() == SanityGates(
        0.2, 0.0, frozenset({dt.date(2026, 11, 2), dt.date(2026, 11, 5)})
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "LEARN_MAX_USER_DROP",
            "50%",
            "LEARN_MAX_USER_DROP must be a share between 0 and 1 (0.5 is 50%), got '50%'",
        ),
        (
            "LEARN_MAX_QUARANTINE_SHARE",
            "1.5",
            "LEARN_MAX_QUARANTINE_SHARE must be a share between 0 and 1 (0.5 is 50%), got 1.5",
        ),
        (
            "LEARN_MAX_USER_DROP",
            "nan",
            "LEARN_MAX_USER_DROP must be a share between 0 and 1 (0.5 is 50%), got nan",
        ),
        (
            "LEARN_ACCEPT_ANOMALY",
            "2026-11-02,2026-11-31",
            "LEARN_ACCEPT_ANOMALY must be snapshot dates YYYY-MM-DD separated by commas, "
            "got '2026-11-31'",
        ),
    ],
)
def test_a_bad_limit_or_date_is_refused_by_name(name, value, message):
    with pytest.raises(SettingError) as error:
        report_settings(**{name: value})
    assert str(error.value) == message


def test_every_bad_value_is_named_in_one_error():
    with pytest.raises(SettingError) as error:
        Settings.from_env(
            {
                "LEARN_XLSX_MAX_ROWS": "many",
                "LEARN_START_DATE": "yesterday",
                "LEARN_DUCKDB_MEMORY_LIMIT": "lots",
                "LEARN_QUIET_SECONDS": "-5",
            }
        )
    message = str(error.value)
    assert "LEARN_XLSX_MAX_ROWS must be a whole number of at least 1, got 'many'" in message
    assert "LEARN_START_DATE must be a date YYYY-MM-DD, got 'yesterday'" in message
    assert "LEARN_DUCKDB_MEMORY_LIMIT must be an amount like 2GB or 512MB, got 'lots'" in message
    assert "LEARN_QUIET_SECONDS must be a whole number (0 or more), got '-5'" in message


def test_unset_or_blank_means_the_default_and_the_resources_follow_the_settings():
    assert Settings.from_env({}) == DEFAULTS == Settings.from_env({"LEARN_WAREHOUSE": "  "})
    resources = resources_from_env({"LEARN_QUIET_SECONDS": "5", "LEARN_EXPORTS_DIR": "/x"})
    assert resources["landing"].quiet_seconds == 5
    assert resources["exports"].exports_dir == "/x"
    assert resources["warehouse"].memory_limit == DEFAULTS.memory_limit == "1.5GB"


def test_nothing_but_the_settings_module_reads_the_environment():
    """One settings layer: no module of the package reads os.environ or os.getenv, except the
    settings, the secrets (the storage layer's credentials, the pseudonym key the alerts keep
    out of their messages), Dagster's own DAGSTER_HOME, and the command line and the tenants'
    code locations, which prepare the environment (.env, the demo's start date, LEARN_TENANT)
    before anything reads it."""
    allowed = {
        "settings.py",
        "resources/settings.py",
        "resources/storage.py",
        "automation/alerts.py",
        "runs.py",
        "cli.py",
        "locations.py",
    }
    root = Path(learn_assets.__file__).parent
    readers = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if re.search(r"os\.environ\.get|os\.getenv|os\.environ\[", path.read_text())
        and str(path.relative_to(root)) not in allowed
    )
    assert readers == []
