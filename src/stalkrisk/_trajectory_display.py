"""The trajectory for people: a dated text report of the changes, and an HTML table.

Both show only what changed from one step to the next: the grade going up or
down, ``urgent`` starting or ending, the threshold crossing and the elements
appearing or going.  They name contacts by id and rules by title; a trajectory
holds no free text from the case, and neither does what is shown here.

Which rules set a raised grade, and the ladder's titles, come from the
trajectory itself (``rules`` and ``level_titles``, from the pack that decided).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

from ._html import _BOX, _TABLE, _badge, _ids, _row
from ._ladder import Level
from ._report import _ids as _text_ids
from ._wording import ELEMENTS, grade_phrase

if TYPE_CHECKING:
    from ._trajectory import GradeDrop, ThresholdCrossing, Trajectory, TrajectoryStep

__all__ = ["render_text", "trajectory_html"]

_REASONS = {
    "time_passed": "time passed",
    "later_information": "what was reported since",
    "new_contact": "the new contact",
}
"""Why a grade went down, in words (see :class:`stalkrisk.GradeDrop`)."""


@dataclass(frozen=True)
class _Rules:
    """What the display needs of the pack: each rule's level and urgency, the ladder's titles."""

    levels: dict[str, tuple[Level | None, bool]]
    level_titles: dict[Level, str]


@dataclass(frozen=True)
class _Change:
    """A step at which something changed, and what changed, as phrases without the date."""

    step: TrajectoryStep
    events: tuple[str, ...]


def _rules(t: Trajectory) -> _Rules:
    levels = {rule_id: (rule.level, rule.urgent) for rule_id, rule in t.rules.items()}
    return _Rules(levels, dict(t.level_titles))


def _day(step: TrajectoryStep) -> str:
    """The step's calendar day in its own offset, as an ISO date."""
    return step.at.date().isoformat()


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _who(step: TrajectoryStep) -> str:
    return _text_ids(step.added) if step.added else "without a new contact"


def _titles(t: Trajectory, rule_ids: list[str]) -> str:
    return "; ".join(t.rules[rule_id].title for rule_id in rule_ids)


def _raise(
    t: Trajectory, rules: _Rules, step: TrajectoryStep, *, rose: bool, urgent_now: bool
) -> str:
    """``c3 → consultation: <title>``: the rules that started and set the new grade."""
    setters = [
        rule_id
        for rule_id in step.started
        if rule_id in rules.levels
        and (
            (rose and rules.levels[rule_id][0] is step.level)
            or (urgent_now and rules.levels[rule_id][1])
        )
    ]
    grade = step.level.value + (", urgent" if urgent_now else "")
    text = f"{_who(step)} → {grade}"
    return f"{text}: {_titles(t, setters)}" if setters else text


def _crossing(crossing: ThresholdCrossing, step: TrajectoryStep, *, rose: bool) -> str:
    """``c7 completed a 14-day course of conduct with 2 behaviours → consultation``."""
    days = int(crossing.span_days)  # whole days, rounded down, as clinicians count them
    text = (
        f"{crossing.last_contact} completed a {days}-day course of conduct with "
        f"{_plural(crossing.distinct_behaviours, 'behaviour')}"
    )
    return f"{text} → {step.level.value}" if rose else text


def _drop(t: Trajectory, drop: GradeDrop, *, urgent_ended: bool) -> str:
    """``fell to boundaries from consultation: time passed, no longer: <titles>``."""
    reason = _REASONS[drop.reason]
    if drop.reason == "new_contact":
        step = t.steps[drop.step]
        reason = f"the new contact{'s' if len(step.added) > 1 else ''} {_text_ids(step.added)}"
    ended = " (no longer urgent)" if urgent_ended else ""
    text = f"fell to {drop.after.value} from {drop.before.value}{ended}: {reason}"
    return f"{text}, no longer: {_titles(t, list(drop.rules))}" if drop.rules else text


def _changes(t: Trajectory) -> list[_Change]:
    rules = _rules(t)
    drops = {drop.step: drop for drop in t.summary.drops}
    crossing = t.summary.threshold
    changes = []
    previous: TrajectoryStep | None = None
    for step in t.steps:
        before_rank = previous.level.rank if previous is not None else Level.NONE.rank
        was_urgent = previous is not None and previous.urgent
        rose = step.level.rank > before_rank
        urgent_now = step.urgent and not was_urgent
        urgent_ended = was_urgent and not step.urgent
        events = []
        crossed = crossing is not None and crossing.step == step.index
        if crossing is not None and crossed:
            events.append(_crossing(crossing, step, rose=rose and not urgent_now))
        if (rose and not (crossed and not urgent_now)) or (urgent_now and not rose):
            events.append(_raise(t, rules, step, rose=rose, urgent_now=urgent_now))
        if step.index in drops:
            events.append(_drop(t, drops[step.index], urgent_ended=urgent_ended))
        elif urgent_ended:
            stopped = [r for r in step.stopped if rules.levels.get(r, (None, False))[1]]
            ended = f", no longer: {_titles(t, stopped)}" if stopped else ""
            events.append(f"no longer urgent{ended}")
        had = {n: previous is not None and getattr(previous, n) for n in ELEMENTS}
        gained = [n for n in ELEMENTS if getattr(step, n) and not had[n]]
        if crossed and "pattern" in gained:
            gained.remove("pattern")  # the crossing line says it
        lost = [n for n in ELEMENTS if had[n] and not getattr(step, n)]
        if gained:
            events.append(f"{_and(gained)} {'is' if len(gained) == 1 else 'are'} now present")
        if lost:
            events.append(f"{_and(lost)} no longer present")
        if events:
            changes.append(_Change(step, tuple(events)))
        previous = step
    return changes


def _heading(t: Trajectory) -> str:
    first, last = t.steps[0], t.steps[-1]
    contacts = sum(len(step.added) for step in t.steps)
    span = _day(first) if _day(first) == _day(last) else f"{_day(first)} to {_day(last)}"
    return (
        f"Grade over time: {_plural(contacts, 'contact')} in {_plural(len(t.steps), 'step')}, "
        f"{span}, ending at {last.level.value} "
        f"(rule pack {t.rule_pack.name} {t.rule_pack.version})"
    )


def _final(t: Trajectory, rules: _Rules) -> str:
    last = t.steps[-1]
    return f"Final grade on {_day(last)}: " + grade_phrase(
        last.level, last.urgent, rules.level_titles.get(last.level)
    )


def render_text(t: Trajectory) -> str:
    """The changes, one dated line each, between a heading and the final grade."""
    lines = [_heading(t)]
    changes = _changes(t)
    for change in changes:
        lines.extend(f"{_day(change.step)}: {event}" for event in change.events)
    if not changes:
        lines.append("No change: the grade stayed none throughout.")
    lines.append(_final(t, _rules(t)))
    return "\n".join(lines)


def trajectory_html(t: Trajectory) -> str:
    """A compact table of the changes: date, contacts added, grade, urgent, what happened."""
    last = t.steps[-1]
    parts = [f'<div style="{_BOX}">', f"<p><b>{escape(_heading(t))}</b></p>"]
    changes = _changes(t)
    if changes:
        parts.append(f'<table style="{_TABLE}">')
        parts.append(
            _row("date", "contacts added", "grade", "urgent", "what happened", header=True)
        )
        for change in changes:
            step = change.step
            parts.append(
                _row(
                    escape(_day(step)),
                    _ids(step.added),
                    _badge(step.level),
                    '<b style="color:#c62828">URGENT</b>' if step.urgent else "",
                    "<br>".join(escape(event) for event in change.events),
                )
            )
        parts.append("</table>")
    else:
        parts.append("<p>No change: the grade stayed none throughout.</p>")
    title = _rules(t).level_titles.get(last.level)
    parts.append(
        f"<p>Final grade on {escape(_day(last))}: {_badge(last.level)}"
        + (' <b style="color:#c62828">URGENT</b>' if last.urgent else "")
        + (f" {escape(title)}" if title is not None else "")
        + "</p></div>"
    )
    return "".join(parts)
