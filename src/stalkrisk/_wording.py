"""Every phrase the library shows people, in one place.

The text report, the HTML view, the FHIR narrative and the plot all take their
banners, headings, element names and number formats from here, so the same
thing is always said the same way.
"""

from __future__ import annotations

from ._assessment import Assessment, FiredRule, Threshold
from ._fields import ELEMENTS
from ._ladder import Level

__all__ = [
    "AGE_LABELS",
    "ELEMENTS",
    "URGENT_BANNER",
    "describe_effect",
    "format_age",
    "format_span",
    "grade_line",
    "grade_phrase",
    "group_rules",
    "known_ages",
    "picture_phrase",
    "threshold_definition",
]

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


def describe_effect(element: str | None, level: Level | None, urgent: bool) -> str:
    """A rule's effect in words: ``element pattern``, ``at least police, urgent`` or ``note``."""
    if element is not None:
        return f"element {element}"
    if level is not None:
        return f"at least {level.value}" + (", urgent" if urgent else "")
    return "note"


def picture_phrase(assessment: Assessment) -> str:
    """How the picture reads: criminal stalking or a clinical matter."""
    if assessment.picture == "criminal":
        return "has the marks of criminal stalking"
    return "is a clinical matter on what is recorded"


def grade_line(assessment: Assessment) -> str:
    """``police · URGENT — Involve the police``: the grade in one line."""
    return grade_phrase(assessment.level, assessment.urgent, assessment.level_title)


def grade_phrase(level: Level, urgent: bool, title: str | None = None) -> str:
    """``police · URGENT — Involve the police``, or ``police · URGENT`` without a title."""
    text = level.value + (" · URGENT" if urgent else "")
    return text if title is None else f"{text} — {title}"


def known_ages(assessment: Assessment) -> list[str]:
    """Each recorded age in words, e.g. ``last contact 3 days ago``."""
    return [
        f"{AGE_LABELS[name]} {format_age(value)}"
        for name, value in assessment.ages.model_dump().items()
        if value is not None
    ]


def threshold_definition(threshold: Threshold) -> str:
    """The pack's threshold in words: ``2 distinct behaviours over 14 days``."""
    count = threshold.min_distinct_behaviours
    text = (
        f"{count:g} distinct behaviour{'' if count == 1 else 's'} over "
        f"{threshold.min_span_days:g} days"
    )
    if threshold.min_contacts is not None:
        text += f", at least {threshold.min_contacts} contacts"
    return text
