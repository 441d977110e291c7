"""The fact-field catalogue: every field a rule condition may test, per fact kind.

The engine sees three kinds of flat fact (docs/rules.md, "Facts"): one per
episode of stalking contacts, one for the case, and the grade fact, which is
the case fact plus the three elements.  This module is the one list of their
fields, with types and descriptions; the loader checks rule conditions against
it, ``stalkrisk rules --fields`` prints it, and a test checks that the feature
extraction produces exactly these fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from ._case import Behaviour, Motive, Relationship

__all__ = [
    "ELEMENTS",
    "GROUPS",
    "FactKind",
    "FieldSpec",
    "FieldType",
    "evidence_fields",
    "fields_for",
]

FactKind = Literal["episode", "case", "grade"]
FieldType = Literal["count", "number", "bool", "enum"]
GROUPS = ("stalking", "boundary", "escalation")
ELEMENTS = ("pattern", "threat", "fear")


@dataclass(frozen=True)
class FieldSpec:
    """A field a rule condition may test.  Counting fields carry evidence.

    ``phrase`` says the field in plain words for people (``_wording.plain_conditions``
    fills it from the pack): for a count, the thing counted with ``{s}`` where a
    plural takes an s (``stalking contact{s}``); for a number, the words around
    ``{q}``, the quantity (``an episode spanning {q} days``); for a flag, what
    true means, and ``phrase_not`` what false means; for an enum, both around
    ``{value}``, with ``value_phrases`` for values that need other words.
    Phrases may name pack values: ``{label[code]}``, ``{history}``, ``{recent}``
    and the others ``_wording`` lists.
    """

    name: str
    type: FieldType
    description: str
    values: tuple[str, ...] = ()
    evidence: bool = False
    phrase: str = ""
    phrase_not: str = ""
    value_phrases: tuple[tuple[str, str], ...] = ()


def _count(name: str, description: str, phrase: str) -> FieldSpec:
    return FieldSpec(name, "count", description, evidence=True, phrase=phrase)


def _flag(name: str, description: str, phrase: str, phrase_not: str) -> FieldSpec:
    return FieldSpec(name, "bool", description, phrase=phrase, phrase_not=phrase_not)


_EPISODE_FIELDS = (
    _count("contacts", "Stalking contacts in this episode.", "stalking contact{s} in one episode"),
    FieldSpec(
        "distinct_behaviours",
        "count",
        "Distinct stalking behaviours in this episode.",
        evidence=True,
        phrase="distinct stalking behaviour{s} in one episode",
    ),
    FieldSpec(
        "span_days",
        "number",
        "Days from the first to the last contact of this episode.",
        evidence=True,
        phrase="the episode spanning {q} days",
    ),
    FieldSpec(
        "age_days",
        "number",
        "Days from the last contact of this episode to the assessment.",
        evidence=True,
        phrase="the episode's last contact {q} days ago",
    ),
    _flag(
        "current",
        "The episode's last contact is at most history_after_days before the assessment "
        "(always true when the pack has no such parameter).",
        "the episode has a contact{history}",
        "the episode has no contact{history}",
    ),
)

# Wording of the three behaviour groups; which behaviour is in which is the pack's.
_GROUP_PHRASES = {
    "stalking": "stalking contact{s}",
    "boundary": "boundary-crossing contact{s}",
    "escalation": "contact{s} showing {escalation}",
}
_RELATIONSHIP_PHRASES = (
    ("current", "a current client"),
    ("former", "a former client"),
    ("prospective", "a prospective client"),
    ("unknown", "of unknown relationship to the clinician"),
)
_FEAR_PHRASES = (("0", "none"), ("1", "some"), ("2", "significant"), ("3", "severe"))


def _case_fields() -> tuple[FieldSpec, ...]:
    specs = [_count("contacts", "All contacts in the case.", "contact{s}")]
    specs += [
        _count(
            f"{b.value}_contacts",
            f"Contacts showing {b.value}.",
            f"contact{{s}} showing {{label[{b.value}]}}",
        )
        for b in Behaviour
    ]
    specs += [
        _count(
            f"{g}_contacts", f"Contacts showing a behaviour of the {g} group.", _GROUP_PHRASES[g]
        )
        for g in GROUPS
    ]
    specs += [
        FieldSpec(
            "max_distinct_behaviours",
            "count",
            "Most distinct stalking behaviours within one episode.",
            evidence=True,
            phrase="distinct stalking behaviour{s} within one episode",
        ),
        FieldSpec(
            "max_span_days",
            "number",
            "Longest span of one episode, in days.",
            evidence=True,
            phrase="an episode spanning {q} days",
        ),
        _count(
            "family_contacts",
            "Contacts aimed at the clinician's family.",
            "contact{s} aimed at the clinician's family",
        ),
        _count(
            "colleague_contacts",
            "Contacts aimed at the clinician's colleagues.",
            "contact{s} aimed at the clinician's colleagues",
        ),
        _count(
            "other_target_contacts",
            "Contacts aimed at other people.",
            "contact{s} aimed at other people",
        ),
        _count(
            "in_person_contacts",
            "Contacts made in person (channel in_person).",
            "contact{s} in person",
        ),
        _count(
            "protection_order_breach_contacts",
            "Contacts while a protection order was in force (from its start, before its end).",
            "contact{s} while a protection order was in force",
        ),
        _count(
            "current_contacts",
            "Contacts within history_after_days before the assessment.",
            "contact{s}{history}",
        ),
        _count(
            "current_threat_contacts",
            "Threats within history_after_days before the assessment.",
            "contact{s} showing {label[threat]}{history}",
        ),
        _count(
            "current_stalking_contacts",
            "Stalking contacts within history_after_days.",
            "stalking contact{s}{history}",
        ),
        _count(
            "current_boundary_contacts",
            "Boundary-crossing contacts within history_after_days.",
            "boundary-crossing contact{s}{history}",
        ),
        _count(
            "current_third_party_target_contacts",
            "Contacts within history_after_days aimed at family, colleagues or others.",
            "contact{s} aimed at family, colleagues or others{history}",
        ),
        _count(
            "current_pursuit_contacts",
            "Contacts within history_after_days that show a pursuit behaviour (catalogue flag).",
            "contact{s} showing {pursuit}{history}",
        ),
        _count(
            "current_escalation_contacts",
            "Property damage or physical violence within history_after_days.",
            "contact{s} showing {escalation}{history}",
        ),
        _count(
            "current_weapon_contacts",
            "Contacts with a weapon within history_after_days.",
            "contact{s} with a weapon shown or mentioned{history}",
        ),
        _count(
            "current_protection_order_breach_contacts",
            "Protection-order breaches within history_after_days.",
            "contact{s} breaching a protection order{history}",
        ),
        _count(
            "past_threat_contacts",
            "Threats, escalations, weapons or breaches older than history_after_days.",
            "contact{s} with a threat, escalation, weapon or protection-order breach{past}",
        ),
        _count(
            "past_pattern_contacts",
            "Contacts of episodes that met the threshold parameters and ended more than "
            "history_after_days before the assessment.",
            "contact{s} of a course of conduct that ended{past}",
        ),
        _count(
            "recent_stalking_contacts",
            "Stalking contacts within recent_days (the latest window).",
            "stalking contact{s} in the last {recent}",
        ),
        FieldSpec(
            "frequency_ratio",
            "number",
            "Stalking contacts in the latest recent_days window divided by those in the "
            "window before it (at least 1); 0 when no stalking contact came before the "
            "latest window.",
            phrase="{q} times as many stalking contacts in the last {recent} as in the "
            "{recent} before",
        ),
        FieldSpec(
            "max_contacts_24h",
            "count",
            "Most stalking contacts within any 24 hours, within history_after_days.",
            evidence=True,
            phrase="stalking contact{s} within 24 hours{history}",
        ),
        FieldSpec(
            "max_contacts_7d",
            "count",
            "Most stalking contacts within any 7 days, within history_after_days.",
            evidence=True,
            phrase="stalking contact{s} within 7 days{history}",
        ),
        _count(
            "contacts_after_agreement",
            "Contacts after the informed-consent agreement.",
            "contact{s} after the informed-consent agreement",
        ),
        _count(
            "contacts_after_warning",
            "Contacts after the first warning.",
            "contact{s} after a warning",
        ),
        _count(
            "contacts_after_supervisor_warning",
            "Contacts after the first supervisor-backed warning.",
            "contact{s} after a supervisor-backed warning",
        ),
        _count(
            "ongoing_pursuit_contacts",
            "Contacts happening now (ongoing, within ongoing_max_days) that show a pursuit "
            "behaviour (catalogue flag).",
            "contact{s} happening now{ongoing} showing {pursuit}",
        ),
        _count(
            "ongoing_contacts",
            "Contacts happening now (ongoing, within ongoing_max_days) that show a stalking "
            "or escalation behaviour.",
            "stalking or escalation contact{s} happening now{ongoing}",
        ),
        _count(
            "stale_ongoing_contacts",
            "Contacts marked ongoing but older than ongoing_max_days: not counted as now.",
            "contact{s} marked ongoing but too old to be happening now",
        ),
        _count(
            "weapon_contacts",
            "Contacts in which a weapon was shown or mentioned.",
            "contact{s} with a weapon shown or mentioned",
        ),
        _count(
            "recent_armed_contacts",
            "Contacts within recent_days with a weapon that was present (in person, from a "
            "vehicle, or in a pursuit or violence) or named in a threat.",
            "contact{s} in the last {recent} with a weapon present or named in a threat",
        ),
        _count(
            "recent_physical_violence_contacts",
            "Physical violence within recent_days.",
            "contact{s} showing {label[physical_violence]} in the last {recent}",
        ),
        _count(
            "recent_weapon_contacts",
            "Contacts with a weapon within recent_days.",
            "contact{s} with a weapon in the last {recent}",
        ),
        _count(
            "recent_threat_contacts",
            "Threats within recent_days.",
            "contact{s} showing {label[threat]} in the last {recent}",
        ),
        _count(
            "recent_specific_threat_contacts",
            "Specific threats within recent_days.",
            "specific threat{s} (naming a time, place or means) in the last {recent}",
        ),
        FieldSpec(
            "relationship",
            "enum",
            "The client's relationship to the clinician.",
            tuple(r.value for r in Relationship),
            phrase="the client is {value}",
            phrase_not="the client is not {value}",
            value_phrases=_RELATIONSHIP_PHRASES,
        ),
        FieldSpec(
            "fear_level",
            "count",
            "Reported fear: 0 none, 1 some, 2 significant, 3 severe.",
            phrase="the clinician's reported fear is {q}",
            value_phrases=_FEAR_PHRASES,
        ),
        _flag(
            "family_afraid",
            "The clinician's family is afraid.",
            "the family is afraid",
            "the family is not afraid",
        ),
        _flag(
            "prior_violence",
            "History of violence.",
            "a history of violence",
            "no history of violence",
        ),
        _flag(
            "prior_stalking",
            "History of stalking or harassment.",
            "a history of stalking or harassment",
            "no history of stalking or harassment",
        ),
        _flag(
            "substance_misuse",
            "Drug or alcohol misuse.",
            "drug or alcohol misuse",
            "no drug or alcohol misuse",
        ),
        _flag("weapon_access", "Access to weapons.", "access to weapons", "no access to weapons"),
        _flag(
            "protection_order",
            "A protection order is in force at the assessment.",
            "a protection order in force",
            "no protection order in force",
        ),
        FieldSpec(
            "motive",
            "enum",
            "The perceived motive (SRP typology); none if not recorded.",
            ("none", *(m.value for m in Motive)),
            phrase="the perceived motive is {value}",
            phrase_not="the perceived motive is not {value}",
            value_phrases=(("none", "recorded"), ("intimacy_seeking", "intimacy seeking")),
        ),
        _flag(
            "frail",
            "A clinical state such as dependency or suicidality is recorded.",
            "the client is recorded as frail (for example dependent or suicidal)",
            "the client is not recorded as frail",
        ),
        FieldSpec(
            "therapy_months",
            "number",
            "Months of therapeutic relationship up to its end or the assessment; -1 if unknown.",
            phrase="{q} months of therapeutic relationship",
        ),
    ]
    return tuple(specs)


_CASE_FIELDS = _case_fields()
_ELEMENT_PHRASES = {
    "pattern": ("a course of conduct ({pattern_threshold})", "no course of conduct"),
    "threat": ("the threat element is present", "no threat element"),
    "fear": ("the fear element is present", "no fear element"),
}
_GRADE_FIELDS = _CASE_FIELDS + tuple(
    _flag(element, f"The {element} element is present.", *_ELEMENT_PHRASES[element])
    for element in ELEMENTS
)
_BY_KIND: dict[FactKind, dict[str, FieldSpec]] = {
    "episode": {spec.name: spec for spec in _EPISODE_FIELDS},
    "case": {spec.name: spec for spec in _CASE_FIELDS},
    "grade": {spec.name: spec for spec in _GRADE_FIELDS},
}


def fields_for(kind: FactKind) -> Mapping[str, FieldSpec]:
    """The fields a rule ``on`` this fact kind may test."""
    return _BY_KIND[kind]


def evidence_fields(kind: FactKind) -> tuple[str, ...]:
    """The counting fields of ``kind`` that also record the contacts they count."""
    return tuple(name for name, spec in _BY_KIND[kind].items() if spec.evidence)
