"""The plain-language text report of an assessment."""

from __future__ import annotations

import textwrap

from ._assessment import Ages, Assessment, ElementFinding, FiredRule
from ._ladder import Level, describe_effect

__all__ = ["AGE_LABELS", "URGENT_BANNER", "format_age", "format_span", "group_rules", "render_text"]

AGE_LABELS = {
    "last_contact": "last contact",
    "last_threat": "latest threat, escalation, weapon or breach",
    "first_warning": "first warning",
    "last_warning": "latest warning",
    "agreement": "informed-consent agreement",
    "protection_order_since": "protection order started",
    "protection_order_ends": "protection order ends",
}
"""What each field of :class:`Ages` is the age of, in words."""

_RULE_GROUPS = (
    ("set", "Set the grade"),
    ("element", "Found the elements"),
    ("outranked", "Fired, but outranked by a higher level"),
    ("note", "Added a note"),
)

_WIDTH = 78
URGENT_BANNER = (
    "imminent danger. Call emergency services now and say first where you are "
    "(if followed: location, direction, the other car's plate)."
)
"""The one urgent banner, shared by the text report, the HTML view and FHIR."""


def format_span(days: float) -> str:
    """``13.999988…`` → ``13 d 23 h 59 min 59 s``: exact enough to show a boundary miss."""
    seconds = round(days * 86_400)
    d, rest = divmod(seconds, 86_400)
    h, rest = divmod(rest, 3_600)
    m, s = divmod(rest, 60)
    parts = [f"{d} d"]
    if h or m or s:
        parts.append(f"{h} h")
    if m or s:
        parts.append(f"{m} min")
    if s:
        parts.append(f"{s} s")
    return " ".join(parts)


def format_age(days: float) -> str:
    """``2555.3`` → ``7.0 years ago``; a negative age is still to come."""
    ahead = days < 0
    days = abs(days)
    if days < 1:
        hours = days * 24
        text = f"{hours:.0f} h" if hours >= 1 else "less than an hour"
    elif days < 365.25:
        text = f"{days:,.0f} day{'s' if round(days) != 1 else ''}"
    else:
        text = f"{days / 365.25:.1f} years"
    return f"in {text}" if ahead else f"{text} ago"


def group_rules(rules: tuple[FiredRule, ...]) -> list[tuple[str, list[FiredRule]]]:
    """The fired rules under headings: grade-setting, elements, outranked, notes."""
    kind = {
        rule.id: "element"
        if rule.effect == "element"
        else "note"
        if rule.effect == "note"
        else "set"
        if rule.sets_grade
        else "outranked"
        for rule in rules
    }
    grouped = [(title, [r for r in rules if kind[r.id] == key]) for key, title in _RULE_GROUPS]
    return [(title, found) for title, found in grouped if found]


def _ages(ages: Ages) -> list[str]:
    known = [
        f"{AGE_LABELS[name]} {format_age(value)}"
        for name, value in ages.model_dump().items()
        if value is not None
    ]
    return _wrap("; ".join(known) + ".") if known else []


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
    picture = (
        "has the marks of criminal stalking"
        if a.picture == "criminal"
        else "is a clinical matter on what is recorded"
    )
    lines.append(f"  The picture {picture}.")
    lines.append("")
    lines.append("Elements of stalking")
    lines.append(_element("pattern", a.elements.pattern))
    lines.append(_element("threat", a.elements.threat))
    lines.append(_element("fear", a.elements.fear))
    lines.append("")
    t = a.threshold
    verdict = "met" if t.met else "not met"
    lines.append(
        f"Threshold ({t.min_distinct_behaviours:g} distinct behaviours over "
        f"{t.min_span_days:g} days): {verdict}"
    )
    if t.course_of_conduct:
        lines.append(
            f"  {t.distinct_behaviours} distinct ({', '.join(t.behaviours)}) over "
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
        for rule in rules:
            effect = describe_effect(rule.element, rule.level, rule.urgent)
            lines.append(f"  - {rule.title} [{rule.id} → {effect}]")
            lines.extend(_wrap(rule.rationale, indent="      "))
            lines.append(f"      Source: {rule.source}")
    ages = _ages(a.ages)
    if ages:
        lines.append("")
        lines.append("How long ago")
        lines.extend(ages)
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
