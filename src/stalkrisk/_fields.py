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
    """A field a rule condition may test.  Counting fields carry evidence."""

    name: str
    type: FieldType
    description: str
    values: tuple[str, ...] = ()
    evidence: bool = False


def _count(name: str, description: str) -> FieldSpec:
    return FieldSpec(name, "count", description, evidence=True)


def _flag(name: str, description: str) -> FieldSpec:
    return FieldSpec(name, "bool", description)


_EPISODE_FIELDS = (
    _count("contacts", "Stalking contacts in this episode."),
    FieldSpec(
        "distinct_behaviours", "count", "Distinct stalking behaviours in this episode.", (), True
    ),
    FieldSpec(
        "span_days", "number", "Days from the first to the last contact of this episode.", (), True
    ),
    FieldSpec(
        "age_days",
        "number",
        "Days from the last contact of this episode to the assessment.",
        (),
        True,
    ),
    _flag(
        "current",
        "The episode's last contact is at most history_after_days before the assessment "
        "(always true when the pack has no such parameter).",
    ),
)


def _case_fields() -> tuple[FieldSpec, ...]:
    specs = [_count("contacts", "All contacts in the case.")]
    specs += [_count(f"{b.value}_contacts", f"Contacts showing {b.value}.") for b in Behaviour]
    specs += [
        _count(f"{g}_contacts", f"Contacts showing a behaviour of the {g} group.") for g in GROUPS
    ]
    specs += [
        FieldSpec(
            "max_distinct_behaviours",
            "count",
            "Most distinct stalking behaviours within one episode.",
            evidence=True,
        ),
        FieldSpec(
            "max_span_days", "number", "Longest span of one episode, in days.", evidence=True
        ),
        _count("family_contacts", "Contacts aimed at the clinician's family."),
        _count("colleague_contacts", "Contacts aimed at the clinician's colleagues."),
        _count("other_target_contacts", "Contacts aimed at other people."),
        _count("in_person_contacts", "Contacts made in person (channel in_person)."),
        _count(
            "protection_order_breach_contacts",
            "Contacts while a protection order was in force (from its start, before its end).",
        ),
        _count("current_contacts", "Contacts within history_after_days before the assessment."),
        _count(
            "current_threat_contacts", "Threats within history_after_days before the assessment."
        ),
        _count("current_stalking_contacts", "Stalking contacts within history_after_days."),
        _count(
            "current_boundary_contacts", "Boundary-crossing contacts within history_after_days."
        ),
        _count(
            "current_third_party_target_contacts",
            "Contacts within history_after_days aimed at family, colleagues or others.",
        ),
        _count(
            "current_pursuit_contacts",
            "Contacts within history_after_days that show a pursuit behaviour (catalogue flag).",
        ),
        _count(
            "current_escalation_contacts",
            "Property damage or physical violence within history_after_days.",
        ),
        _count("current_weapon_contacts", "Contacts with a weapon within history_after_days."),
        _count(
            "current_protection_order_breach_contacts",
            "Protection-order breaches within history_after_days.",
        ),
        _count(
            "past_threat_contacts",
            "Threats, escalations, weapons or breaches older than history_after_days.",
        ),
        _count(
            "past_pattern_contacts",
            "Contacts of episodes that met the threshold parameters and ended more than "
            "history_after_days before the assessment.",
        ),
        _count(
            "recent_stalking_contacts", "Stalking contacts within recent_days (the latest window)."
        ),
        FieldSpec(
            "frequency_ratio",
            "number",
            "Stalking contacts in the latest recent_days window divided by those in the "
            "window before it (at least 1); 0 when no stalking contact came before the "
            "latest window.",
        ),
        FieldSpec(
            "max_contacts_24h",
            "count",
            "Most stalking contacts within any 24 hours, within history_after_days.",
            evidence=True,
        ),
        FieldSpec(
            "max_contacts_7d",
            "count",
            "Most stalking contacts within any 7 days, within history_after_days.",
            evidence=True,
        ),
        _count("contacts_after_agreement", "Contacts after the informed-consent agreement."),
        _count("contacts_after_warning", "Contacts after the first warning."),
        _count(
            "contacts_after_supervisor_warning",
            "Contacts after the first supervisor-backed warning.",
        ),
        _count(
            "ongoing_pursuit_contacts",
            "Contacts happening now (ongoing, within ongoing_max_days) that show a pursuit "
            "behaviour (catalogue flag).",
        ),
        _count(
            "ongoing_contacts",
            "Contacts happening now (ongoing, within ongoing_max_days) that show a stalking "
            "or escalation behaviour.",
        ),
        _count(
            "stale_ongoing_contacts",
            "Contacts marked ongoing but older than ongoing_max_days: not counted as now.",
        ),
        _count("weapon_contacts", "Contacts in which a weapon was shown or mentioned."),
        _count(
            "recent_armed_contacts",
            "Contacts within recent_days with a weapon that was present (in person, from a "
            "vehicle, or in a pursuit or violence) or named in a threat.",
        ),
        _count("recent_physical_violence_contacts", "Physical violence within recent_days."),
        _count("recent_weapon_contacts", "Contacts with a weapon within recent_days."),
        _count("recent_threat_contacts", "Threats within recent_days."),
        _count("recent_specific_threat_contacts", "Specific threats within recent_days."),
        FieldSpec(
            "relationship",
            "enum",
            "The client's relationship to the clinician.",
            tuple(r.value for r in Relationship),
        ),
        FieldSpec("fear_level", "count", "Reported fear: 0 none, 1 some, 2 significant, 3 severe."),
        _flag("family_afraid", "The clinician's family is afraid."),
        _flag("prior_violence", "History of violence."),
        _flag("prior_stalking", "History of stalking or harassment."),
        _flag("substance_misuse", "Drug or alcohol misuse."),
        _flag("weapon_access", "Access to weapons."),
        _flag("protection_order", "A protection order is in force at the assessment."),
        FieldSpec(
            "motive",
            "enum",
            "The perceived motive (SRP typology); none if not recorded.",
            ("none", *(m.value for m in Motive)),
        ),
        _flag("frail", "A clinical state such as dependency or suicidality is recorded."),
        FieldSpec(
            "therapy_months",
            "number",
            "Months of therapeutic relationship up to its end or the assessment; -1 if unknown.",
        ),
    ]
    return tuple(specs)


_CASE_FIELDS = _case_fields()
_GRADE_FIELDS = _CASE_FIELDS + tuple(
    _flag(element, f"The {element} element is present.") for element in ELEMENTS
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
