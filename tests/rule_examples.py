"""For every rule of the bundled pack: a case that fires it and one just below it.

A rule added to rules/default.yaml without an entry here fails
``test_every_rule_has_examples``.  Each pair differs in one thing only: the
condition the rule tests.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from builders import at, case, contact

Case = dict[str, Any]


class Example(NamedTuple):
    fires: Case
    below: Case


def _pair(fires: Case, below: Case) -> Example:
    return Example(fires=fires, below=below)


_TWO_WEEKS = case(contact("a", 0, "following"), contact("b", 14, "surveillance"))
_JUST_SHORT = case(contact("a", 0, "following"), contact("b", at(14, seconds=-1), "surveillance"))

EXAMPLES: dict[str, Example] = {
    "element.pattern": _pair(_TWO_WEEKS, _JUST_SHORT),
    "element.threat.behaviour": _pair(
        case(contact("a", 0, "threat")), case(contact("a", 0, "unwanted_calls"))
    ),
    "element.threat.escalation": _pair(
        case(contact("a", 0, "property_damage")), case(contact("a", 0, "loitering"))
    ),
    "element.threat.weapon": _pair(
        case(contact("a", 0, "gift", weapon=True), assessed_at=400),
        case(contact("a", 0, "gift", weapon=False), assessed_at=400),
    ),
    "element.threat.protection_order_breach": _pair(
        case(contact("a", 5, "gift"), history={"protection_order_since": at(5).isoformat()}),
        case(
            contact("a", 5, "gift"),
            history={"protection_order_since": at(5, seconds=1).isoformat()},
        ),
    ),
    "element.fear.reported": _pair(
        case(contact("a", 0, "gift"), fear="significant"),
        case(contact("a", 0, "gift"), fear="some"),
    ),
    "element.fear.family": _pair(
        case(contact("a", 0, "third_party_contact", targets=["family"])),
        case(contact("a", 0, "third_party_contact", targets=["colleagues"])),
    ),
    "grade.reflective.current_client": _pair(case(contact("a", 0, "gift")), case(assessed_at=0)),
    "grade.boundaries.outside_therapy": _pair(
        case(contact("a", 0, "gift"), relationship="former"),
        case(contact("a", 0, "gift"), relationship="current"),
    ),
    "grade.boundaries.repeated_contact": _pair(
        case(*(contact(f"c{n}", n, "unwanted_calls") for n in range(3))),
        case(*(contact(f"c{n}", n, "unwanted_calls") for n in range(2))),
    ),
    "grade.boundaries.emerging_pattern": _pair(
        case(contact("a", 0, "following"), contact("b", 3, "surveillance")),
        case(contact("a", 0, "following"), contact("b", 3, "following")),
    ),
    "grade.boundaries.agreement_crossed": _pair(
        case(contact("a", 2, "gift"), boundaries={"agreement_at": at(1).isoformat()}),
        case(contact("a", 2, "gift"), boundaries={"agreement_at": at(2).isoformat()}),
    ),
    "grade.boundaries.substance_misuse": _pair(
        case(contact("a", 0, "gift"), history={"substance_misuse": True}),
        case(contact("a", 0, "gift"), history={"substance_misuse": False}),
    ),
    "grade.consultation.pattern": _pair(_TWO_WEEKS, _JUST_SHORT),
    "grade.consultation.fear": _pair(
        case(contact("a", 0, "gift"), fear="severe"),
        case(contact("a", 0, "gift"), fear="some"),
    ),
    "grade.consultation.after_warning": _pair(
        case(contact("a", 3, "gift"), boundaries={"warnings": [{"at": at(2).isoformat()}]}),
        case(contact("a", 3, "gift"), boundaries={"warnings": [{"at": at(3).isoformat()}]}),
    ),
    "grade.consultation.persistent_crossings": _pair(
        case(*(contact(f"c{n}", n, "gift") for n in range(4))),
        case(*(contact(f"c{n}", n, "gift") for n in range(3))),
    ),
    "grade.consultation.risk_history": _pair(
        case(contact("a", 0, "gift"), history={"prior_stalking": True}),
        case(contact("a", 0, "gift"), history={"prior_stalking": False}),
    ),
    "grade.referral.pattern_and_fear": _pair(
        case(contact("a", 0, "following"), contact("b", 14, "surveillance"), fear="significant"),
        case(
            contact("a", 0, "following"),
            contact("b", at(14, seconds=-1), "surveillance"),
            fear="significant",
        ),
    ),
    "grade.referral.after_supervisor_warning": _pair(
        case(
            contact("a", 3, "gift"),
            boundaries={"warnings": [{"at": at(2).isoformat(), "supervisor": True}]},
        ),
        case(
            contact("a", 3, "gift"),
            boundaries={"warnings": [{"at": at(2).isoformat(), "supervisor": False}]},
        ),
    ),
    "grade.police.threat": _pair(
        case(contact("a", 0, "threat")), case(contact("a", 0, "offensive_material"))
    ),
    "urgent.recent_violence": _pair(
        case(contact("a", 0, "physical_violence"), assessed_at=7),
        case(contact("a", 0, "physical_violence"), assessed_at=at(7, seconds=1)),
    ),
    "urgent.weapon": _pair(
        case(contact("a", 0, "unwanted_approach", weapon=True)),
        case(contact("a", 0, "unwanted_approach", weapon=False)),
    ),
    "urgent.threat_with_weapon_access": _pair(
        case(contact("a", 0, "threat"), history={"weapon_access": True}),
        case(contact("a", 0, "threat"), history={"weapon_access": False}),
    ),
    "urgent.specific_threat": _pair(
        case(contact("a", 0, "threat", specific_threat=True)),
        case(contact("a", 0, "threat", specific_threat=False)),
    ),
    "urgent.ongoing_pursuit": _pair(
        case(contact("a", 0, "following", ongoing=True)),
        case(contact("a", 0, "unwanted_calls", ongoing=True)),
    ),
    "note.long_relationship": _pair(
        case(contact("a", 0, "gift"), history={"therapy_start": "2024-07-07"}),
        case(contact("a", 0, "gift"), history={"therapy_start": "2024-07-09"}),
    ),
    "note.regressive_contact": _pair(
        case(contact("a", 0, "surveillance"), history={"clinical_state": ["suicidality"]}),
        case(contact("a", 0, "surveillance"), history={"clinical_state": []}),
    ),
    "note.former_client": _pair(
        case(contact("a", 0, "gift"), relationship="former"),
        case(contact("a", 0, "gift"), relationship="prospective"),
    ),
}
