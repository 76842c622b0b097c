"""The headline numbers of a snapshot (from reports.org_overview) and their change since the
previous snapshot: the cards of report.html and the Overview sheet of reports.xlsx."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Measure:
    column: str  # of org_overview
    label: str
    rate: bool = False  # a share (0..1): shown as a percentage, its change in points


MEASURES = (
    Measure("learners", "Learners"),
    Measure("directory_users", "Directory users"),
    Measure("adoption_rate", "Adoption", rate=True),
    Measure("modules_started", "Modules started"),
    Measure("modules_completed", "Modules completed"),
    Measure("module_completion_rate", "Module completion rate", rate=True),
    Measure("learning_paths_completed", "Learning paths completed"),
    Measure("total_xp", "Total XP"),
    Measure("active_certifications", "Active certifications"),
    Measure("expiring_certifications", "Expiring soon"),
    Measure("applied_skills", "Applied skills"),
)


@dataclass(frozen=True)
class Headline:
    measure: Measure
    value: int | float | None
    previous: int | float | None  # None: no previous snapshot (or no value then)

    @property
    def change(self) -> int | float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    def value_text(self) -> str:
        if self.value is None:
            return "–"
        return f"{self.value:.1%}" if self.measure.rate else f"{self.value:,}"

    def change_text(self) -> str:
        """`+12`, `-3`, `+2.5 pts` (a rate's change in percentage points), `no change`, or ''
        when there is nothing to compare with."""
        change = self.change
        if change is None:
            return ""
        text = f"{change * 100:+.1f} pts" if self.measure.rate else f"{change:+,}"
        return "no change" if text in ("+0", "+0.0 pts", "-0.0 pts") else text


def headlines(
    overview: Mapping[str, Any] | None, previous: Mapping[str, Any] | None = None
) -> list[Headline]:
    """One Headline per measure; empty without an overview row."""
    if overview is None:
        return []
    return [
        Headline(m, overview.get(m.column), None if previous is None else previous.get(m.column))
        for m in MEASURES
    ]
