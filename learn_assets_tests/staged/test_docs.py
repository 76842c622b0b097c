"""The rule tables of docs/contracts.md are the ones the contracts generate."""

import pytest

from learn_assets.docs import GENERATED, ROOT, regenerated
from learn_assets.settings import configuration_table, setting_fields
from learn_assets.staged.docs import END, START, rules_markdown


@pytest.mark.parametrize("page", sorted({path for path, *_ in GENERATED}))
def test_the_generated_docs_match_the_code(page):
    """The contract rule tables (docs/contracts.md) and the configuration table (README.md)."""
    assert regenerated(page) == (ROOT / page).read_text(), f"run `make docs` to refresh {page}"


def test_every_setting_is_in_the_configuration_table():
    table = configuration_table()
    for f in setting_fields():
        assert f"| `{f.metadata['env']}` |" in table
    assert "| `LEARN_SCHEDULE_TIME` | `06:00` |" in table
    assert "| `LEARN_ACCEPT_ANOMALY` | (none) |" in table


def test_every_rule_reason_appears_in_the_generated_tables():
    generated = rules_markdown()
    assert "not one of Unit, Module, LearningPath" in generated
    assert "certification_start_date after certification_end_date" in generated
    assert "`object_id` | `id`" in generated
    # The contract's ranges show as rules.
    assert (
        "| `xp` | `XP` | BIGINT | missing (required); not an integer; below 0; above 1000000 |"
        in (generated)
    )
    assert "not a timestamp; before 1900-01-01; after 2999-12-31 |" in generated
    assert "not a YYYYMMDD date; before 1900-01-01; after 9999-12-31 |" in generated
    assert "| `duration_in_minutes` | `durationInMinutes` | BIGINT | not an integer; below 0; " in (
        generated
    )
    assert "| `url_absolute` | derived from `url` | VARCHAR | not starting with https:// |" in (
        generated
    )
    assert START not in generated and END not in generated
