"""The plain-language text report of an assessment."""

from __future__ import annotations

import textwrap

from ._assessment import Assessment, ElementFinding
from ._ladder import Level
from ._wording import (
    ELEMENTS,
    OUTRANKED_NOTE,
    URGENT_BANNER,
    behaviour_labels,
    describe_effect,
    format_span,
    group_rules,
    known_ages,
    outranked,
    picture_phrase,
    threshold_definition,
)

__all__ = ["render_text"]

_WIDTH = 78


def _wrap(text: str, indent: str = "  ", first: str | None = None) -> list[str]:
    return textwrap.wrap(
        text,
        width=_WIDTH,
        initial_indent=first if first is not None else indent,
        subsequent_indent=indent,
    )


def _ids(ids: tuple[str, ...], limit: int = 8) -> str:
    if len(ids) <= limit:
        return ", ".join(ids)
    return ", ".join(ids[:limit]) + f", … ({len(ids)} in all)"


def _element(name: str, finding: ElementFinding) -> str:
    if not finding.present:
        return f"  {name:<8} absent"
    return f"  {name:<8} present — contacts {_ids(finding.evidence) or '(none: reported)'}"


def _ladder(level: Level) -> str:
    return " < ".join(f"[{lv.value.upper()}]" if lv is level else lv.value for lv in Level)


def render_text(assessment: Assessment) -> str:
    """A short report a clinician can act on: grade, why, what to do, what would raise it."""
    a = assessment
    lines = []
    if a.urgent:
        lines.append(f"!! URGENT: {URGENT_BANNER} !!")
        lines.append("")
    lines.append(f"Recommendation: {a.level.value} — {a.level_title}")
    lines.append(f"  {_ladder(a.level)}")
    lines.append(f"  The picture {picture_phrase(a)}.")
    lines.append("")
    lines.append("Elements of stalking")
    lines.extend(_element(name, getattr(a.elements, name)) for name in ELEMENTS)
    lines.append("")
    t = a.threshold
    verdict = "met" if t.met else "not met"
    lines.append(f"Threshold ({threshold_definition(t)}): {verdict}")
    if t.course_of_conduct:
        labels = behaviour_labels(a.rule_pack)
        shown = ", ".join(labels[code] for code in t.behaviours)
        lines.append(
            f"  {t.distinct_behaviours} distinct ({shown}) over "
            f"{format_span(t.span_days)}; contacts {_ids(t.course_of_conduct)}"
        )
    else:
        lines.append("  no stalking behaviours recorded")
    lines.append("")
    lines.append("Why")
    if not a.rules_fired:
        lines.append("  No rule fired.")
    for heading, rules in group_rules(a.rules_fired):
        lines.append(f"  {heading}:")
        if outranked(rules[0]):
            lines.extend(_wrap(OUTRANKED_NOTE, indent="    "))
        for rule in rules:
            effect = describe_effect(rule.element, rule.level, rule.urgent)
            lines.append(f"  - {rule.title} [{rule.id} → {effect}]")
            if not outranked(rule):
                lines.extend(_wrap(rule.rationale, indent="      "))
                lines.append(f"      Source: {rule.source}")
    ages = known_ages(a)
    if ages:
        lines.append("")
        lines.append("How long ago")
        lines.extend(_wrap("; ".join(ages) + "."))
    lines.append("")
    lines.append("What to do")
    for action in a.actions:
        lines.extend(_wrap(action.text, indent="      ", first="  [ ] "))
    if a.notes:
        lines.append("")
        lines.append("Notes")
        for note in a.notes:
            lines.extend(_wrap(note, indent="    ", first="  * "))
    if a.raise_if:
        lines.append("")
        lines.append("Would be raised")
        for item in a.raise_if:
            target = item.level.value + (", urgent" if item.urgent else "")
            lines.extend(
                _wrap(
                    f"to {target} if {item.title.lower()}: {item.condition} [{item.rule_id}]",
                    indent="      ",
                    first="  - ",
                )
            )
    lines.append("")
    lines.append(
        f"Assessed at {a.assessed_at.isoformat()} with rule pack {a.rule_pack.name} "
        f"{a.rule_pack.version} (sha256 {a.rule_pack.sha256[:16]}…), stalkrisk {a.library_version}."
    )
    return "\n".join(lines)
