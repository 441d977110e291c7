"""Re-assessment over time: the grade at each contact as the journal grew."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, Field

from ._assessment import Assessment, RulePackInfo, _Out
from ._case import Case, parse_case
from ._compiled import CompiledPack
from ._evaluate import Findings, assessment, findings
from ._fields import ELEMENTS
from ._ladder import Level
from ._packmodel import RulePack
from ._registry import compiled, default_rule_pack
from ._version import __version__

__all__ = [
    "ElementsReached",
    "GradeDrop",
    "Reached",
    "StepThreshold",
    "ThresholdCrossing",
    "Trajectory",
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


class Trajectory(_Out):
    """The grade as the journal grew: one step per distinct contact time, then ``assessed_at``.

    Step *k* is ``assess(case.as_of(step.at))``: only what was known by then.
    ``str(trajectory)`` is a dated text report of the changes.
    """

    assessed_at: AwareDatetime
    steps: tuple[TrajectoryStep, ...]
    summary: TrajectorySummary
    titles: dict[str, str] = Field(
        description="The title of every rule named in the steps and the summary, by id."
    )
    rule_pack: RulePackInfo
    library_version: str

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
    case: Case | Mapping[str, Any] | str | bytes,
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
    times = sorted({c.at for c in valid.contacts})
    if not times or times[-1] != valid.assessed_at:
        times.append(valid.assessed_at)
    added: dict[datetime, list[str]] = {}
    for contact in sorted(valid.contacts, key=_chronological):
        added.setdefault(contact.at, []).append(contact.id)

    steps: list[TrajectoryStep] = []
    before: set[str] = set()
    for index, at in enumerate(times):
        found = findings(valid.as_of(at), pack)
        fired = {rule_id for rule_id, _ in found["rules_fired"]}
        level, urgent = _grade(pack, fired)
        threshold = found["threshold"]
        steps.append(
            TrajectoryStep(
                index=index,
                at=at,
                added=tuple(added.get(at, ())),
                level=level,
                urgent=urgent,
                pattern=found["elements"]["pattern"]["present"],
                threat=found["elements"]["threat"]["present"],
                fear=found["elements"]["fear"]["present"],
                threshold=StepThreshold(
                    met=threshold["met"],
                    distinct_behaviours=threshold["distinct_behaviours"],
                    span_days=threshold["span_days"],
                    episodes=threshold["episodes"],
                ),
                started=_in_pack_order(pack, fired - before),
                stopped=_in_pack_order(pack, before - fired),
                assessment=assessment(pack, found) if full else None,
            )
        )
        if threshold["met"] and not any(s.threshold.met for s in steps[:-1]):
            crossing = _crossing(index, at, found)
        before = fired
    summary = TrajectorySummary(
        levels={
            level: _first(steps, lambda s, rank=level.rank: s.level.rank >= rank)
            for level in Level
            if level is not Level.NONE
        },
        urgent=_first(steps, lambda s: s.urgent),
        threshold=crossing if any(s.threshold.met for s in steps) else None,
        elements=ElementsReached(
            **{name: _first(steps, lambda s, n=name: getattr(s, n)) for name in ELEMENTS}
        ),
        drops=tuple(_drops(valid, pack, steps)),
    )
    return Trajectory(
        assessed_at=valid.assessed_at,
        steps=tuple(steps),
        summary=summary,
        titles={
            rule_id: pack.pack.rule(rule_id).title
            for step in steps
            for rule_id in (*step.started, *step.stopped)
        },
        rule_pack=pack.info,
        library_version=__version__,
    )


def _chronological(contact: Any) -> tuple[datetime, str]:
    return contact.at, contact.id


def _grade(pack: CompiledPack, fired: set[str]) -> tuple[Level, bool]:
    rules = [pack.pack.rule(rule_id) for rule_id in fired]
    ranked = [r.level for r in rules if r.level is not None]
    level = max(ranked, key=_rank, default=Level.NONE)
    return level, any(r.urgent for r in rules)


def _rank(level: Level) -> int:
    return level.rank


def _in_pack_order(pack: CompiledPack, rule_ids: set[str]) -> tuple[str, ...]:
    return tuple(sorted(rule_ids, key=lambda rule_id: pack.pack.rule(rule_id).position))


def _crossing(index: int, at: datetime, found: Findings) -> ThresholdCrossing:
    threshold = found["threshold"]
    conduct = threshold["course_of_conduct"]
    return ThresholdCrossing(
        step=index,
        at=at,
        first_contact=conduct[0],
        last_contact=conduct[-1],
        distinct_behaviours=threshold["distinct_behaviours"],
        span_days=threshold["span_days"],
    )


def _first(steps: list[TrajectoryStep], holds: Any) -> Reached | None:
    for step in steps:
        if holds(step):
            return Reached(step=step.index, at=step.at, contacts=step.added)
    return None


def _drops(case: Case, pack: CompiledPack, steps: list[TrajectoryStep]) -> list[GradeDrop]:
    """The steps whose grade is lower than the step before, each with its reason.

    The reason is found by replaying the step in parts: first the clock alone
    (the previous step's case assessed at this step's time), then what was
    reported by this time, and only then this step's contacts.
    """
    drops = []
    for previous, step in itertools.pairwise(steps):
        if step.level.rank >= previous.level.rank:
            continue
        clock_only = case.as_of(previous.at).assessed_on(step.at)
        reported = case.as_of(step.at).without_contacts(*step.added)
        if _level(clock_only, pack).rank < previous.level.rank:
            reason: Literal["time_passed", "later_information", "new_contact"] = "time_passed"
        elif _level(reported, pack).rank < previous.level.rank:
            reason = "later_information"
        else:
            reason = "new_contact"
        stopped = tuple(r for r in step.stopped if pack.pack.rule(r).level is not None)
        drops.append(
            GradeDrop(
                step=step.index,
                at=step.at,
                before=previous.level,
                after=step.level,
                reason=reason,
                rules=stopped,
            )
        )
    return drops


def _level(case: Case, pack: CompiledPack) -> Level:
    found = findings(case, pack)
    return _grade(pack, {rule_id for rule_id, _ in found["rules_fired"]})[0]
