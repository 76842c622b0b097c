"""The README's rule tables are the ones the contracts generate."""

from pathlib import Path

from learn_assets.staged.docs import END, START, replace_section, rules_markdown

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_rules_match_the_contracts():
    text = README.read_text()
    assert replace_section(text, rules_markdown()) == text, "run `make docs` to refresh README"


def test_every_rule_reason_appears_in_the_generated_tables():
    generated = rules_markdown()
    assert "not one of Unit, Module, LearningPath" in generated
    assert "certification_start_date after certification_end_date" in generated
    assert "`object_id` | `id`" in generated
    assert START not in generated and END not in generated
