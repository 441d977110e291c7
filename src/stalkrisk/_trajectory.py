"""Re-assessment over time: the grade at each contact as the journal grew."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import AwareDatetime, Field

from ._assessment import Assessment, CaseRef, RulePackInfo, _Out
from ._case import Case, CaseInput, parse_case
from ._compiled import CompiledPack
from ._evaluate import evaluate, grade
from ._fields import ELEMENTS
from ._known import known_parts
from ._ladder import Level
from ._packmodel import RulePack
from ._published import PublishedSchema
from ._registry import compiled, default_rule_pack
from ._stepwise import Stepper
from ._version import __version__

__all__ = [
    "ElementsReached",
    "GradeDrop",
    "Reached",
    "StepThreshold",
    "ThresholdCrossing",
    "Trajectory",
    "TrajectoryRule",
    "TrajectoryStep",
    "TrajectorySummary",
    "trajectory",
]


class StepThreshold(_Out):
    """The pack's threshold figures at one step (see :class:`stalkrisk.Threshold`)."""

    met: bool
    distinct_behaviours: int
    span_days: float
    episodes: int


class TrajectoryStep(_Out):
    """The case as known at one time: its grade, elements, threshold and rule changes."""

    index: int = Field(description="0 for the first contact's time.")
    at: AwareDatetime
    added: tuple[str, ...] = Field(
        description="Ids of the contacts at this time (none for a final step without contact)."
    )
    level: Level
    urgent: bool
    pattern: bool
    threat: bool
    fear: bool
    threshold: StepThreshold
    started: tuple[str, ...] = Field(description="Rules that fire now and did not before.")
    stopped: tuple[str, ...] = Field(description="Rules that fired before and no longer do.")
    assessment: Assessment | None = Field(
        default=None, description="The whole assessment at this step, with trajectory(full=True)."
    )


class Reached(_Out):
    """The first step at which something held."""

    step: int
    at: AwareDatetime
    contacts: tuple[str, ...] = Field(description="The contacts added at that step.")


class ElementsReached(_Out):
    """When each element of stalking first appeared (None: never)."""

    pattern: Reached | None
    threat: Reached | None
    fear: Reached | None


class ThresholdCrossing(_Out):
    """When the threshold was first met, and the course of conduct that met it."""

    step: int
    at: AwareDatetime
    first_contact: str = Field(description="The contact that opened the course of conduct.")
    last_contact: str = Field(description="The contact that completed it.")
    distinct_behaviours: int
    span_days: float


class GradeDrop(_Out):
    """A step at which the grade went down, and why.

    ``time_passed``: the grade had already fallen before this step's contacts,
    as windows expired (recent contacts, current episodes, ongoing contacts) or
    a protection order ended.  ``later_information``: what was reported by then
    lowered it (a later fear report).  ``new_contact``: this step's contacts
    lowered it (under a pack whose rules read, say, the latest episode).
    """

    step: int
    at: AwareDatetime
    before: Level
    after: Level
    reason: Literal["time_passed", "later_information", "new_contact"]
    rules: tuple[str, ...] = Field(description="The level rules that stopped firing.")


class TrajectorySummary(_Out):
    """What the trajectory shows at a glance."""

    levels: dict[Level, Reached | None] = Field(
        description="For each level above none, the first step graded at that level or higher."
    )
    urgent: Reached | None
    threshold: ThresholdCrossing | None
    elements: ElementsReached
    drops: tuple[GradeDrop, ...]


class TrajectoryRule(_Out):
    """A rule named in a trajectory, as its pack describes it."""

    title: str
    level: Level | None = Field(description="The level it sets, if it is a level rule.")
    urgent: bool
    element: str | None = Field(description="The element it finds, if it is an element rule.")


class Trajectory(PublishedSchema, _Out):
    """The grade as the journal grew: one step per distinct contact time, then ``assessed_at``.

    Step *k* is ``assess(case.as_of(step.at))``: only what was known by then.
    ``str(trajectory)`` is a dated text report of the changes.
    """

    schema_name: ClassVar[str] = "trajectory"

    assessed_at: AwareDatetime
    steps: tuple[TrajectoryStep, ...]
    summary: TrajectorySummary
    rules: dict[str, TrajectoryRule] = Field(
        description="Every rule named in the steps and the summary, by id."
    )
    level_titles: dict[Level, str] = Field(description="The pack's title for each level.")
    rule_pack: RulePackInfo
    library_version: str
    ref: CaseRef = None

    def __str__(self) -> str:
        from ._trajectory_display import render_text

        return render_text(self)

    def _repr_html_(self) -> str:
        from ._trajectory_display import trajectory_html

        return trajectory_html(self)

    def __repr__(self) -> str:
        last = self.steps[-1].level.value if self.steps else "none"
        return f"<Trajectory {len(self.steps)} steps, {last} at the end>"


def trajectory(
    case: CaseInput,
    *,
    rule_pack: RulePack | None = None,
    full: bool = False,
) -> Trajectory:
    """Re-assess ``case`` at every contact: how the grade grew as the journal did.

    One step per distinct contact time, oldest first (contacts at the same
    instant form one step), and a final step at ``assessed_at`` unless a contact
    is dated exactly then.  Each step uses only what was known by its time (see
    :meth:`Case.as_of`).  ``full=True`` adds each step's whole
    :class:`Assessment`.

    Raises :class:`CaseValidationError` and :class:`EngineError` as
    :func:`assess` does.
    """
    valid = parse_case(case)
    pack = compiled(rule_pack or default_rule_pack())
    stepper = Stepper(pack, valid)
    ids = stepper.chronological_ids
    # The steps: each distinct contact time (contacts in chronological order,
    # so those at one instant are neighbours), then assessed_at.
    moments: list[tuple[datetime, int]] = []
    for position, moment in enumerate(stepper.chronological_times):
        if moments and moments[-1][0] == moment:
            moments[-1] = (moments[-1][0], position + 1)
        else:
            moments.append((moment, position + 1))
    if not moments or moments[-1][0] != valid.assessed_at:
        moments.append((valid.assessed_at, len(ids)))

    steps: list[TrajectoryStep] = []
    before: frozenset[str] = frozenset()
    crossing = None
    added_from = 0
    for index, (at, upto) in enumerate(moments):
        found = stepper.step(upto, at)
        level, urgent = _grade(pack, found.fired)
        steps.append(
            TrajectoryStep(
                index=index,
                at=at,
                added=tuple(ids[added_from:upto]),
                level=level,
                urgent=urgent,
                pattern="pattern" in found.present,
                threat="threat" in found.present,
                fear="fear" in found.present,
                threshold=StepThreshold(
                    met=found.met,
                    distinct_behaviours=found.distinct_behaviours,
                    span_days=found.span_days,
                    episodes=found.episodes,
                ),
                started=_in_pack_order(pack, found.fired - before),
                stopped=_in_pack_order(pack, before - found.fired),
                assessment=evaluate(valid.as_of(at), pack) if full else None,
            )
        )
        if found.met and crossing is None and found.course is not None:
            first, last = found.course
            crossing = ThresholdCrossing(
                step=index,
                at=at,
                first_contact=ids[first],
                last_contact=ids[last],
                distinct_behaviours=found.distinct_behaviours,
                span_days=found.span_days,
            )
        before = found.fired
        added_from = upto
    summary = TrajectorySummary(
        levels={
            level: _first(steps, lambda s, rank=level.rank: s.level.rank >= rank)
            for level in Level
            if level is not Level.NONE
        },
        urgent=_first(steps, lambda s: s.urgent),
        threshold=crossing,
        elements=ElementsReached(
            **{name: _first(steps, lambda s, n=name: getattr(s, n)) for name in ELEMENTS}
        ),
        drops=tuple(_drops(valid, pack, stepper, moments, steps)),
    )
    return Trajectory(
        assessed_at=valid.assessed_at,
        steps=tuple(steps),
        summary=summary,
        rules={
            rule_id: _described(pack, rule_id)
            for step in steps
            for rule_id in (*step.started, *step.stopped)
        },
        level_titles={spec.code: spec.title for spec in pack.pack.levels},
        rule_pack=pack.info,
        library_version=__version__,
        ref=valid.ref,
    )


def _described(pack: CompiledPack, rule_id: str) -> TrajectoryRule:
    rule = pack.pack.rule(rule_id)
    return TrajectoryRule(
        title=rule.title, level=rule.level, urgent=rule.urgent, element=rule.element
    )


def _grade(pack: CompiledPack, fired: frozenset[str]) -> tuple[Level, bool]:
    return grade(pack.pack.rule(rule_id) for rule_id in fired)


def _in_pack_order(pack: CompiledPack, rule_ids: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted(rule_ids, key=lambda rule_id: pack.pack.rule(rule_id).position))


def _first(steps: list[TrajectoryStep], holds: Any) -> Reached | None:
    for step in steps:
        if holds(step):
            return Reached(step=step.index, at=step.at, contacts=step.added)
    return None


def _drops(
    case: Case,
    pack: CompiledPack,
    stepper: Stepper,
    moments: list[tuple[datetime, int]],
    steps: list[TrajectoryStep],
) -> list[GradeDrop]:
    """The steps whose grade is lower than the step before, each with its reason.

    The reason is found by replaying the step in parts: first the clock alone
    (the previous step's contacts and knowledge, assessed at this step's time),
    then what was known by this time, and only then this step's contacts.
    """
    drops = []
    for number in range(1, len(steps)):
        previous, step = steps[number - 1], steps[number]
        if step.level.rank >= previous.level.rank:
            continue
        earlier = moments[number - 1][1]
        clock_only = stepper.step(earlier, step.at, known_parts(case, previous.at))
        reported = stepper.step(earlier, step.at)
        reason: Literal["time_passed", "later_information", "new_contact"] = "new_contact"
        if _grade(pack, clock_only.fired)[0].rank < previous.level.rank:
            reason = "time_passed"
        elif _grade(pack, reported.fired)[0].rank < previous.level.rank:
            reason = "later_information"
        drops.append(
            GradeDrop(
                step=step.index,
                at=step.at,
                before=previous.level,
                after=step.level,
                reason=reason,
                rules=tuple(r for r in step.stopped if pack.pack.rule(r).level is not None),
            )
        )
    return drops
