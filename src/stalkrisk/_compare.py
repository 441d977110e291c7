"""What-if: the difference between two assessments of a case and a variant of it."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict

from ._api import assess
from ._assessment import Assessment, FiredRule
from ._case import Case, CaseInput
from ._packmodel import RulePack
from ._wording import ELEMENTS, grade_phrase, outranked

__all__ = ["Comparison", "compare"]

# What stalkrisk.assess takes as a case (CaseInput, with bytearray as case_json reads it).
_ACCEPTED = (Assessment, Case, Mapping, str, bytes, bytearray, os.PathLike)
_EXPECTED = "an Assessment, or a case (Case, mapping, JSON text or bytes, or a pathlib.Path)"


class Comparison(BaseModel):
    """Before and after, with what changed between them.

    The ``…_gained``, ``…_started``, ``…_added`` fields hold codes and ids, for
    programs; :meth:`changes`, ``str()`` and the notebook view say the same in
    words: rule titles and action texts from the pack.
    """

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

    def grade_change(self) -> str:
        """``reflective — Reflective handling in therapy → consultation — …, 2 steps up``."""
        b, a = self.before, self.after
        steps = abs(self.level_change)
        way = "up" if self.level_change > 0 else "down"
        moved = f"{steps} step{'s' if steps != 1 else ''} {way}" if steps else "unchanged"
        return (
            f"{grade_phrase(b.level, b.urgent, b.level_title)} → "
            f"{grade_phrase(a.level, a.urgent, a.level_title)} ({moved})"
        )

    def grade_set_by(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """The titles of the rules that set each grade, before and after."""
        return (
            ("Grade set before by", _setting(self.before)),
            ("Grade set after by", _setting(self.after)),
        )

    def changes(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        """What was gained, lost, started and stopped, in words, under labels.

        Rules are named by their titles (marked when they were outranked, so did
        not set the grade) and actions by their texts.
        """
        return (
            ("Elements gained", self.elements_gained),
            ("Elements lost", self.elements_lost),
            ("Rules started firing", _titles(self.rules_started, self.after)),
            ("Rules stopped firing", _titles(self.rules_stopped, self.before)),
            ("Actions added", _texts(self.actions_added, self.after)),
            ("Actions dropped", _texts(self.actions_dropped, self.before)),
        )

    def __str__(self) -> str:
        lines = [f"Grade: {self.grade_change()}"]
        if self.before.urgent != self.after.urgent:
            lines.append(f"Urgent: {_yes(self.before.urgent)} → {_yes(self.after.urgent)}")
        if self.level_change or self.before.urgent != self.after.urgent:
            for label, titles in self.grade_set_by():
                lines.append(f"{label}: {'; '.join(titles) or 'no rule (nothing of concern)'}")
        for label, values in self.changes():
            if values:
                lines.append(f"{label}:")
                lines.extend(f"  - {value}" for value in values)
        if not self.changed:
            lines.append("Nothing else changed.")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<Comparison {self.before.level.value} → {self.after.level.value}>"

    def _repr_html_(self) -> str:
        from ._html import comparison_html

        return comparison_html(self)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _setting(assessment: Assessment) -> tuple[str, ...]:
    return tuple(rule.title for rule in assessment.rules_fired if rule.sets_grade)


def _title(rule: FiredRule) -> str:
    return f"{rule.title} (outranked)" if outranked(rule) else rule.title


def _titles(ids: tuple[str, ...], source: Assessment) -> tuple[str, ...]:
    by_id = {rule.id: rule for rule in source.rules_fired}
    return tuple(_title(by_id[i]) if i in by_id else i for i in ids)


def _texts(ids: tuple[str, ...], source: Assessment) -> tuple[str, ...]:
    by_id = {action.id: action.text for action in source.actions}
    return tuple(by_id.get(i, i) for i in ids)


def _ordered_difference(first: list[str], second: list[str]) -> tuple[str, ...]:
    seen = set(second)
    return tuple(item for item in first if item not in seen)


def _between(before: Assessment, after: Assessment) -> Comparison:
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


def compare(
    before: Assessment | CaseInput,
    after: Assessment | CaseInput,
    *,
    rule_pack: RulePack | None = None,
) -> Comparison:
    """What changed from ``before`` to ``after``: grade, elements, rules and actions.

    Give two :class:`Assessment` objects, or two cases in any form
    :func:`stalkrisk.assess` takes (a :class:`Case`, a mapping, JSON text or
    bytes, a ``pathlib.Path``): cases are assessed with ``rule_pack`` (the
    bundled pack by default).  One of each is refused, as is ``rule_pack`` with
    two assessments: an assessment was already graded by its own pack.

    Raises ``TypeError`` for any other argument, naming it and its type, and
    :class:`CaseValidationError` for an invalid case.
    """
    for name, value in (("before", before), ("after", after)):
        if not isinstance(value, _ACCEPTED):
            raise TypeError(f"compare: {name} must be {_EXPECTED}, not {type(value).__name__}")
    if isinstance(before, Assessment) and isinstance(after, Assessment):
        if rule_pack is not None:
            raise TypeError(
                "compare: rule_pack applies to cases only; before and after are Assessments, "
                "already graded by the pack named in their rule_pack"
            )
        return _between(before, after)
    if isinstance(before, Assessment) or isinstance(after, Assessment):
        raise TypeError(
            "compare takes two Assessments or two cases, not one of each: before is "
            f"{type(before).__name__} and after is {type(after).__name__}; assess the case "
            "first, or pass both cases"
        )
    return _between(assess(before, rule_pack=rule_pack), assess(after, rule_pack=rule_pack))
