"""The safety floors of the domain design, checked against every pack at load.

Whatever a rule pack says, these must hold (docs/rules.md, "Safety floors"):

* a threat, physical violence, property damage or a protection-order breach is
  never graded below ``police``;
* fear or a pattern is never graded ``none`` or ``reflective``.

A pack is probed with small cases that exercise each floor; a pack that
grades any of them too low is rejected with a :class:`RulePackError`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from ._assessment import Assessment
from ._case import (
    Behaviour,
    Case,
    ClientHistory,
    Contact,
    Fear,
    FearLevel,
    Relationship,
)
from ._exceptions import RulePackError
from ._ladder import Level
from ._rulepack import RulePack

__all__ = ["check_floors"]

_AT = datetime(2024, 1, 1, tzinfo=UTC)


def _case(
    behaviours: list[list[Behaviour]],
    *,
    spacing_days: float = 1.0,
    fear: FearLevel = FearLevel.NONE,
    order_since: datetime | None = None,
) -> Case:
    contacts = [
        Contact(id=f"p{n}", at=_AT + timedelta(days=spacing_days * n), behaviours=tuple(shown))
        for n, shown in enumerate(behaviours)
    ]
    last = contacts[-1].at if contacts else _AT
    return Case(
        assessed_at=last + timedelta(days=1),
        client=ClientHistory(relationship=Relationship.CURRENT, protection_order_since=order_since),
        contacts=tuple(contacts),
        fear=Fear(level=fear),
    )


def _probes(pack: RulePack) -> list[tuple[str, Case, Callable[[Assessment], bool], str]]:
    span = float(pack.parameter("pattern_min_span_days"))
    distinct = int(pack.parameter("pattern_min_distinct_behaviours"))
    stalking = [spec.code for spec in pack.behaviours if spec.group == "stalking"]
    at_police: Callable[[Assessment], bool] = lambda a: a.level is Level.POLICE  # noqa: E731
    above_reflective: Callable[[Assessment], bool] = (  # noqa: E731
        lambda a: a.level.rank > Level.REFLECTIVE.rank
    )
    probes = [
        (f"a single '{code.value}' contact", _case([[code]]), at_police, "police")
        for code in (Behaviour.THREAT, Behaviour.PHYSICAL_VIOLENCE, Behaviour.PROPERTY_DAMAGE)
    ]
    probes.append(
        (
            "significant fear with no contact",
            _case([], fear=FearLevel.SIGNIFICANT),
            above_reflective,
            "above reflective",
        )
    )
    probes.append(
        (
            "a gift while a protection order is in force",
            _case([[Behaviour.GIFT]], order_since=_AT - timedelta(days=30)),
            at_police,
            "police",
        )
    )
    probes.append(
        (
            "a gift with significant fear",
            _case([[Behaviour.GIFT]], fear=FearLevel.SIGNIFICANT),
            above_reflective,
            "above reflective",
        )
    )
    if distinct <= len(stalking):
        spacing = min(1.0, float(pack.parameter("episode_max_gap_days")))
        count = max(math.ceil(span / spacing) + 1, distinct) if spacing > 0 else distinct
        cycle = [[stalking[n % distinct]] for n in range(count)]
        probes.append(
            (
                "a course of conduct at the threshold",
                _case(cycle, spacing_days=spacing),
                lambda a: a.elements.pattern.present and above_reflective(a),
                "pattern present and above reflective",
            )
        )
    return probes


def check_floors(pack: RulePack, assess: Callable[[Case], Assessment]) -> None:
    """Raise :class:`RulePackError` if ``pack`` breaks a safety floor."""
    for description, case, holds, expected in _probes(pack):
        result = assess(case)
        if not holds(result):
            raise RulePackError(
                f"breaks a safety floor: {description} is graded {result.level.value!r}, "
                f"expected {expected}; a pack may add rules but never lower these floors",
                file=pack.file,
                field="rules",
            )
