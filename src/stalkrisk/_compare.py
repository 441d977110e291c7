"""What-if: the difference between two assessments of a case and a variant of it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from ._assessment import Assessment
from ._wording import ELEMENTS

__all__ = ["Comparison", "compare"]


class Comparison(BaseModel):
    """Before and after, with what changed between them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    before: Assessment
    after: Assessment
    level_change: int
    elements_gained: tuple[str, ...]
    elements_lost: tuple[str, ...]
    rules_started: tuple[str, ...]
    rules_stopped: tuple[str, ...]
    actions_added: tuple[str, ...]
    actions_dropped: tuple[str, ...]

    @property
    def changed(self) -> bool:
        """True if the grade, urgency, elements or fired rules differ."""
        return bool(
            self.level_change
            or self.before.urgent != self.after.urgent
            or self.elements_gained
            or self.elements_lost
            or self.rules_started
            or self.rules_stopped
        )

    def changes(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """The labelled lists of what was gained, lost, started and stopped."""
        return (
            ("Elements gained", self.elements_gained),
            ("Elements lost", self.elements_lost),
            ("Rules started firing", self.rules_started),
            ("Rules stopped firing", self.rules_stopped),
            ("Actions added", self.actions_added),
            ("Actions dropped", self.actions_dropped),
        )

    def __str__(self) -> str:
        b, a = self.before, self.after
        lines = [f"Grade: {b.level.value} → {a.level.value} ({self.level_change:+d} steps)"]
        if b.urgent != a.urgent:
            lines.append(f"Urgent: {b.urgent} → {a.urgent}")
        for label, values in self.changes():
            if values:
                lines.append(f"{label}: {', '.join(values)}")
        if not self.changed:
            lines.append("Nothing else changed.")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Comparison {self.before.level.value} → {self.after.level.value}>"

    def _repr_html_(self) -> str:
        from ._html import comparison_html

        return comparison_html(self)


def _ordered_difference(first: list[str], second: list[str]) -> tuple[str, ...]:
    seen = set(second)
    return tuple(item for item in first if item not in seen)


def compare(before: Assessment, after: Assessment) -> Comparison:
    """What changed from ``before`` to ``after``: grade, elements, rules and actions."""
    present_before = [e for e in ELEMENTS if getattr(before.elements, e).present]
    present_after = [e for e in ELEMENTS if getattr(after.elements, e).present]
    rules_before = [r.id for r in before.rules_fired]
    rules_after = [r.id for r in after.rules_fired]
    actions_before = [x.id for x in before.actions]
    actions_after = [x.id for x in after.actions]
    return Comparison(
        before=before,
        after=after,
        level_change=after.level.rank - before.level.rank,
        elements_gained=_ordered_difference(present_after, present_before),
        elements_lost=_ordered_difference(present_before, present_after),
        rules_started=_ordered_difference(rules_after, rules_before),
        rules_stopped=_ordered_difference(rules_before, rules_after),
        actions_added=_ordered_difference(actions_after, actions_before),
        actions_dropped=_ordered_difference(actions_before, actions_after),
    )
