"""A report definition that could make a build from the changed learners differ from a whole
build is refused when it is made."""

from __future__ import annotations

import dataclasses

import pytest

from learn_assets.reports.build import MODULE_PROGRESS, REPORT_TABLES


def test_every_report_definition_is_accepted():
    assert {r.name for r in REPORT_TABLES if r.per_learner} >= {MODULE_PROGRESS.name}


def test_a_per_learner_dep_the_report_does_not_read_is_refused():
    with pytest.raises(ValueError, match=r"module_progress: per_learner \['core/certifications'\]"):
        dataclasses.replace(
            MODULE_PROGRESS, per_learner=(*MODULE_PROGRESS.per_learner, "core/certifications")
        )


def test_a_per_learner_report_that_narrows_no_source_is_refused():
    whole = MODULE_PROGRESS.select.replace("TRUE /* every learner */", "TRUE")
    with pytest.raises(ValueError, match="reads no source through _per_learner"):
        dataclasses.replace(MODULE_PROGRESS, select=whole)
    # Not per learner, the same SELECT is fine.
    assert dataclasses.replace(MODULE_PROGRESS, select=whole, per_learner=()).select == whole
