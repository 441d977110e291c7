"""Every phrase the library shows people, in one place.

The text report, the HTML view, the FHIR narrative and the plot all take their
banners, headings, element names and number formats from here, so the same
thing is always said the same way.
"""

from __future__ import annotations

from collections.abc import Mapping

from ._assessment import Assessment, FiredRule, RulePackInfo, Threshold
from ._fields import ELEMENTS, FieldSpec, fields_for
from ._ladder import Level
from ._packmodel import AllOf, Condition, FieldTest, RulePack

__all__ = [
    "AGE_LABELS",
    "ELEMENTS",
    "OUTRANKED_NOTE",
    "URGENT_BANNER",
    "behaviour_labels",
    "describe_effect",
    "format_age",
    "format_span",
    "grade_line",
    "grade_phrase",
    "group_rules",
    "known_ages",
    "outranked",
    "picture_phrase",
    "plain_conditions",
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

OUTRANKED_NOTE = (
    "These rules fired on what is recorded, but a higher level sets the grade: their "
    "advice gives way to the grade's, so their reasons are not shown."
)
"""Said once over the outranked rules, instead of their rationales: an outranked rule
argues for its own, lower level, and a reflective rule's "explore it in therapy" must
not read as a reason when the case has a pattern, a threat or fear."""

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


def outranked(rule: FiredRule) -> bool:
    """A level rule that fired but does not set the grade."""
    return rule.effect == "level" and not rule.sets_grade


# --- conditions in plain words -------------------------------------------------------------


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _last(days: float) -> str:
    """``7`` → ``7 days``, ``1`` → ``day``: read after "the last"."""
    return "day" if days == 1 else f"{_number(days)} days"


def _either(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def _lower_first(label: str) -> str:
    # "Unwanted calls" → "unwanted calls", but an acronym such as "SMS" stays.
    return label if label[1:2].isupper() else label[:1].lower() + label[1:]


class _Labels(dict[str, str]):
    """Behaviour labels by code; a code the pack does not list reads as itself."""

    def __missing__(self, code: str) -> str:
        return code.replace("_", " ")


def behaviour_labels(pack: RulePack | RulePackInfo | None = None) -> Mapping[str, str]:
    """Each behaviour code's label in ``pack`` (or in the pack an assessment names).

    A pack this process does not know (an assessment read back from JSON, say)
    gives the bundled pack's labels; a code no pack lists reads as itself.
    """
    if isinstance(pack, RulePackInfo):
        from ._registry import known_pack

        pack = known_pack(pack.sha256)
    if pack is None:
        from ._registry import default_rule_pack

        pack = default_rule_pack()
    return _Labels((spec.code.value, _lower_first(spec.label)) for spec in pack.behaviours)


def _pack_phrases(pack: RulePack) -> dict[str, object]:
    """The pack's values that field phrases may name (see :class:`FieldSpec`)."""
    labels = behaviour_labels(pack)
    history = pack.parameters.get("history_after_days")
    ongoing = pack.parameters.get("ongoing_max_days")
    least = pack.parameters.get("pattern_min_contacts")
    threshold = (
        f"{_number(pack.parameter('pattern_min_distinct_behaviours'))} or more distinct "
        f"stalking behaviours over at least {_number(pack.parameter('pattern_min_span_days'))} "
        "days" + ("" if least is None else f", at least {_number(least.value)} contacts")
    )
    return {
        "label": labels,
        "escalation": _either(
            [labels[s.code.value] for s in pack.behaviours if s.group == "escalation"]
            or ["an escalation"]
        ),
        "pursuit": _either(
            [labels[s.code.value] for s in pack.behaviours if s.pursuit] or ["a pursuit behaviour"]
        ),
        "history": "" if history is None else f" in the last {_last(history.value)}",
        "past": "" if history is None else f" more than {_number(history.value)} days ago",
        "recent": _last(pack.parameter("recent_days")),
        "ongoing": "" if ongoing is None else f" (begun in the last {_last(ongoing.value)})",
        "pattern_threshold": threshold,
    }


_NUMBER_WORDS = {
    "eq": "exactly",
    "ne": "other than",
    "gte": "at least",
    "gt": "more than",
    "lte": "at most",
    "lt": "less than",
}
_NAMED_WORDS = {
    "eq": "",
    "ne": "not ",
    "gte": "at least ",
    "gt": "above ",
    "lte": "at most ",
    "lt": "below ",
}


def _count_words(test: FieldTest, noun: str, phrases: Mapping[str, object]) -> str:
    n = float(test.value)
    words = "fewer than" if test.op == "lt" else _NUMBER_WORDS[test.op]
    if (test.op == "eq" and n == 0) or (test.op == "lt" and n <= 1):
        return "no " + noun.format_map({**phrases, "s": "s"})
    if test.op == "ne" and n == 0:
        words, n = "at least", 1
    plural = "" if n == 1 and test.op in ("eq", "gte", "lte") else "s"
    return f"{words} {_number(n)} " + noun.format_map({**phrases, "s": plural})


def _test_words(test: FieldTest, spec: FieldSpec, phrases: Mapping[str, object]) -> str:
    named = dict(spec.value_phrases)
    if spec.type == "bool":
        holds = (test.value is True) == (test.op == "eq")
        return (spec.phrase if holds else spec.phrase_not).format_map(phrases)
    if spec.type == "enum":
        value = named.get(str(test.value), str(test.value).replace("_", " "))
        chosen = spec.phrase if test.op == "eq" else spec.phrase_not
        return chosen.format_map({**phrases, "value": value})
    if "{q}" not in spec.phrase:
        return _count_words(test, spec.phrase, phrases)
    number = float(test.value)
    if named:
        quantity = _NAMED_WORDS[test.op] + named.get(_number(number), _number(number))
    else:
        quantity = f"{_NUMBER_WORDS[test.op]} {_number(number)}"
    return spec.phrase.format_map({**phrases, "q": quantity})


def _condition_words(
    condition: Condition,
    specs: Mapping[str, FieldSpec],
    phrases: Mapping[str, object],
    nested: bool = False,
) -> str:
    if isinstance(condition, FieldTest):
        return _test_words(condition, specs[condition.field], phrases)
    parts = [_condition_words(item, specs, phrases, nested=True) for item in condition.items]
    if len(parts) == 1:
        return parts[0]
    if nested:
        return f"({'all' if isinstance(condition, AllOf) else 'one'} of: {'; '.join(parts)})"
    return (" and " if isinstance(condition, AllOf) else " or ").join(parts)


def plain_conditions(pack: RulePack) -> dict[str, str]:
    """Every rule's condition in plain words, by rule id, from the pack's labels and values.

    ``stalking_contacts ≥ repeated_contacts_min`` reads ``at least 3 stalking contacts``;
    engine field names never appear.
    """
    phrases = _pack_phrases(pack)
    return {
        rule.id: _condition_words(rule.when, fields_for(rule.on), phrases) for rule in pack.rules
    }
