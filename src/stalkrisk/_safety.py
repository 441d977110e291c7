"""The safety floors of the domain design, checked against every pack at load.

Whatever a rule pack says, these must hold (docs/rules.md, "Safety floors"):

* a present threat, physical violence, property damage or protection-order
  breach (the probes are a day old) is never graded below ``police``; a pack
  may let older ones become history, as the default pack does after a year;
* fear or a pattern is never graded ``none`` or ``reflective``.

A pack is probed with small cases that exercise each floor; a pack that
grades any of them too low, or whose probes cannot be built, is rejected with
a :class:`RulePackError`.  No floor is ever skipped.
"""

from __future__ import annotations

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
from ._exceptions import EngineError, RulePackError
from ._features import MICROSECONDS_PER_DAY
from ._ladder import Level
from ._rulepack import MAX_PROBE_CONTACTS, RulePack

__all__ = ["check_floors"]

_AT = datetime(2024, 1, 1, tzinfo=UTC)


def _case(
    behaviours: list[list[Behaviour]],
    *,
    offsets: list[int] | None = None,
    fear: FearLevel = FearLevel.NONE,
    order_since: datetime | None = None,
) -> Case:
    """A probe case; contact ``n`` comes ``offsets[n]`` microseconds after the first."""
    contacts = [
        Contact(
            id=f"p{n}",
            at=_AT + timedelta(microseconds=offsets[n] if offsets else 0),
            behaviours=tuple(shown),
        )
        for n, shown in enumerate(behaviours)
    ]
    last = contacts[-1].at if contacts else _AT
    return Case(
        assessed_at=last + timedelta(days=1),
        client=ClientHistory(relationship=Relationship.CURRENT, protection_order_since=order_since),
        contacts=tuple(contacts),
        fear=Fear(level=fear),
    )


def _refuse(pack: RulePack, field: str, why: str, *, limit: str = "") -> RulePackError:
    return RulePackError(
        f"the pattern safety probe cannot be built: {why}; a pack may not switch off "
        f"the pattern floor{f' [limit: {limit}]' if limit else ''}",
        file=pack.file,
        field=field,
        type="limit" if limit else "safety_floor",
    )


def _course_of_conduct(pack: RulePack) -> Case:
    """A course of conduct exactly at the pattern threshold, of bounded size.

    Contacts cycle through the first ``pattern_min_distinct_behaviours``
    stalking codes and span the least whole number of microseconds that meets
    ``pattern_min_span_days``.  They come daily (as a pack may also count
    contacts, e.g. five intrusions in two weeks), more often if
    ``episode_max_gap_days`` is shorter, and further apart, up to that gap, only
    where daily contacts would pass :data:`MAX_PROBE_CONTACTS`.
    """
    distinct = int(pack.parameter("pattern_min_distinct_behaviours"))
    stalking = [spec.code for spec in pack.behaviours if spec.group == "stalking"]
    if not stalking:
        raise _refuse(pack, "behaviours", "no behaviour is in the 'stalking' group")
    if distinct > len(stalking):
        raise _refuse(
            pack,
            "parameters.pattern_min_distinct_behaviours",
            f"it asks for {distinct} distinct stalking behaviours, but only "
            f"{len(stalking)} behaviours are in the 'stalking' group",
        )
    span_days = pack.parameter("pattern_min_span_days")
    span = round(span_days * MICROSECONDS_PER_DAY)
    while span / MICROSECONDS_PER_DAY < span_days:  # the engine compares span_days
        span += 1
    gap = round(pack.parameter("episode_max_gap_days") * MICROSECONDS_PER_DAY)
    if span and not gap:
        raise _refuse(
            pack,
            "parameters.episode_max_gap_days",
            "with episode_max_gap_days 0 no episode lasts pattern_min_span_days",
        )
    fewest = max(distinct, -(-span // gap) + 1 if span else 1)
    if fewest > MAX_PROBE_CONTACTS:
        raise _refuse(
            pack,
            "parameters.pattern_min_span_days",
            f"spanning pattern_min_span_days with silences of at most episode_max_gap_days "
            f"takes {fewest:,} contacts, and the probe may use at most {MAX_PROBE_CONTACTS:,}",
            limit="max_probe_contacts",
        )
    daily = max(distinct, -(-span // min(gap, MICROSECONDS_PER_DAY)) + 1 if span else 1)
    count = min(daily, MAX_PROBE_CONTACTS)
    steps = max(count - 1, 1)
    return _case(
        [[stalking[n % distinct]] for n in range(count)],
        offsets=[n * span // steps for n in range(count)],
    )


def _probes(pack: RulePack) -> list[tuple[str, Case, Callable[[Assessment], bool], str]]:
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
    probes.append(
        (
            "a course of conduct at the threshold",
            _course_of_conduct(pack),
            lambda a: a.elements.pattern.present and above_reflective(a),
            "pattern present and above reflective",
        )
    )
    return probes


def check_floors(pack: RulePack, assess: Callable[[Case], Assessment]) -> None:
    """Raise :class:`RulePackError` if ``pack`` breaks a safety floor or cannot be probed."""
    for description, case, holds, expected in _probes(pack):
        try:
            result = assess(case)
        except EngineError as error:
            raise RulePackError(
                f"the engine failed on the safety probe {description!r} ({error.msg})",
                file=pack.file,
                field="rules",
                type="engine",
            ) from None
        if not holds(result):
            raise RulePackError(
                f"breaks a safety floor: {description} is graded {result.level.value!r}, "
                f"expected {expected}; a pack may add rules but never lower these floors",
                file=pack.file,
                field="rules",
                type="safety_floor",
            )
