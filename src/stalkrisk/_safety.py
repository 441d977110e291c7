"""The safety floors of the domain design, checked against every pack at load.

Whatever a rule pack says, these must hold (docs/rules.md, "Safety floors"):

* a present threat, physical violence, property damage or protection-order
  breach (the probes are a day old) is never graded below ``police``; a pack
  may let older ones become history, as the default pack does after a year;
* fear or a pattern is never graded ``none`` or ``reflective``.

A pack is probed with small cases that exercise each floor; a pack that
grades any of them too low, or whose probes cannot be built, is rejected with
one :class:`RulePackError` that lists every floor it breaks.  No floor is ever
skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial

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
from ._exceptions import EngineError, RulePackError, RulePackProblem
from ._features import MICROSECONDS_PER_DAY
from ._ladder import Level
from ._limits import MAX_PROBE_CONTACTS
from ._packmodel import RulePack

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


class _CannotProbe(Exception):
    """The pattern probe cannot be built for this pack; ``problem`` says why."""

    def __init__(self, problem: RulePackProblem) -> None:
        super().__init__(problem.msg)
        self.problem = problem


def _refuse(pack: RulePack, field: str, why: str, *, limit: str = "") -> _CannotProbe:
    return _CannotProbe(
        RulePackProblem(
            file=pack.file,
            rule_id=None,
            field=field,
            msg=f"the pattern safety probe cannot be built: {why}; a pack may not switch off "
            f"the pattern floor{f' [limit: {limit}]' if limit else ''}",
            type="limit" if limit else "safety_floor",
        )
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


_Probe = tuple[str, Callable[[], Case], Callable[[Assessment], bool], str]


def _probes(pack: RulePack) -> Iterator[_Probe]:
    """Each floor's probe: what it is, how to build its case, the test and what is expected."""
    at_police: Callable[[Assessment], bool] = lambda a: a.level is Level.POLICE  # noqa: E731
    above_reflective: Callable[[Assessment], bool] = (  # noqa: E731
        lambda a: a.level.rank > Level.REFLECTIVE.rank
    )
    for code in (Behaviour.THREAT, Behaviour.PHYSICAL_VIOLENCE, Behaviour.PROPERTY_DAMAGE):
        yield (
            f"a single '{code.value}' contact",
            partial(_case, [[code]]),
            at_police,
            "police",
        )
    yield (
        "significant fear with no contact",
        lambda: _case([], fear=FearLevel.SIGNIFICANT),
        above_reflective,
        "above reflective",
    )
    yield (
        "a gift while a protection order is in force",
        lambda: _case([[Behaviour.GIFT]], order_since=_AT - timedelta(days=30)),
        at_police,
        "police",
    )
    yield (
        "a gift with significant fear",
        lambda: _case([[Behaviour.GIFT]], fear=FearLevel.SIGNIFICANT),
        above_reflective,
        "above reflective",
    )
    yield (
        "a course of conduct at the threshold",
        lambda: _course_of_conduct(pack),
        lambda a: a.elements.pattern.present and above_reflective(a),
        "pattern present and above reflective",
    )


def check_floors(pack: RulePack, assess: Callable[[Case], Assessment]) -> None:
    """Raise one :class:`RulePackError` for every floor ``pack`` breaks or cannot be probed for.

    An engine failure stops the probing: it is a bug, and the next probes would
    only report it again.
    """
    problems: list[RulePackProblem] = []

    def problem(msg: str, type: str) -> RulePackProblem:
        return RulePackProblem(file=pack.file, rule_id=None, field="rules", msg=msg, type=type)

    for description, build, holds, expected in _probes(pack):
        try:
            case = build()
        except _CannotProbe as refusal:
            problems.append(refusal.problem)
            continue
        try:
            result = assess(case)
        except EngineError as error:
            problems.append(
                problem(
                    f"the engine failed on the safety probe {description!r} ({error.msg})",
                    "engine",
                )
            )
            break
        if not holds(result):
            problems.append(
                problem(
                    f"breaks a safety floor: {description} is graded {result.level.value!r}, "
                    f"expected {expected}; a pack may add rules but never lower these floors",
                    "safety_floor",
                )
            )
    if problems:
        raise RulePackError.from_problems(problems)
