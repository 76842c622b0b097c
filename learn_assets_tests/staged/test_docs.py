"""The rule tables of docs/contracts.md are the ones the contracts generate."""

from pathlib import Path

from learn_assets.staged.docs import END, START, replace_section, rules_markdown

CONTRACTS_PAGE = Path(__file__).resolve().parents[2] / "docs" / "contracts.md"


def test_the_documented_rules_match_the_contracts():
    text = CONTRACTS_PAGE.read_text()
    assert replace_section(text, rules_markdown()) == text, "run `make docs` to refresh it"


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
