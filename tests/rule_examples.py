"""For every rule of the bundled pack: a case that fires it and one just below it.

A rule added to rules/default.yaml without an entry here fails
``test_every_rule_has_examples``.  Each pair differs in one place only (one
field, one contact, or one moment moved across an exact boundary by a day or a
microsecond), and that place is the condition the rule tests;
``test_just_below_differs_from_the_firing_example_in_one_place`` checks it.
Where a contact is added or removed, or a moment moves, the assessment time is
given explicitly so that it does not move with the last contact.

The boundaries are those of pack 1.1.0 (:data:`PARAMETERS`);
``test_examples_assume_the_pack_parameters`` fails when the pack moves one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from builders import at, case, contact

Case = dict[str, Any]


class Example(NamedTuple):
    fires: Case
    below: Case


def _pair(fires: Case, below: Case) -> Example:
    return Example(fires=fires, below=below)


PARAMETERS: dict[str, float] = {
    "pattern_min_distinct_behaviours": 2,
    "pattern_min_span_days": 14,
    "episode_max_gap_days": 90,
    "history_after_days": 365,
    "recent_days": 7,
    "ongoing_max_days": 1,
    "repeated_contacts_min": 3,
    "persistence_min_contacts": 5,
    "burst_day_min": 10,
    "burst_week_min": 20,
    "frequency_min_contacts": 3,
    "frequency_ratio_min": 2,
    "persists_after_warning_min": 2,
    "persistent_crossings_min": 4,
    "long_relationship_months": 6,
}
"""The pack parameters the examples sit on either side of."""

_YEAR = PARAMETERS["history_after_days"]
"""A contact this many days old is current; a microsecond older, history."""


def _year_after(days: float = 0) -> datetime:
    """Exactly ``history_after_days`` after day ``days``."""
    return at(days + _YEAR)


def _just_over_a_year_after(days: float = 0) -> datetime:
    """One microsecond more than ``history_after_days`` after day ``days``."""
    return at(days + _YEAR, microseconds=1)


def _calls(*days: float) -> list[Case]:
    """Unwanted calls, one on each of ``days``, named by their day."""
    return [contact(f"call-day-{day:g}", day, "unwanted_calls") for day in days]


# Every example gets its own contact mappings, so that no test changing one case changes another.


def _followed() -> Case:
    return contact("a", 0, "following")


def _pattern() -> tuple[Case, Case]:
    """Following on day 0, surveillance on day 14: the two-behaviour, two-week threshold exactly."""
    return _followed(), contact("b", 14, "surveillance")


def _burst(calls: int) -> list[Case]:
    """Calls every 2 h 40 min from day 0: the first and the tenth are exactly 24 hours apart."""
    return [contact(f"call-{n}", at(0, minutes=160 * n), "unwanted_calls") for n in range(calls)]


def _two_weeks_of_calls(latest: int) -> list[Case]:
    """Two calls in the week before the latest, then ``latest`` in the latest (assessed day 14)."""
    return _calls(1, 3, *(8, 10, 12, 13)[:latest])


def _supervisor_warning() -> Case:
    return {"warnings": [{"at": at(2).isoformat(), "supervisor": True}]}


EXAMPLES: dict[str, Example] = {
    # --- elements ------------------------------------------------------------
    "element.pattern": _pair(
        case(*_pattern(), assessed_at=15),
        case(_followed(), contact("b", at(14, microseconds=-1), "surveillance"), assessed_at=15),
    ),
    "element.threat.behaviour": _pair(
        case(contact("a", 0, "threat"), assessed_at=_year_after()),
        case(contact("a", 0, "threat"), assessed_at=_just_over_a_year_after()),
    ),
    "element.threat.escalation": _pair(
        case(contact("a", 0, "property_damage"), assessed_at=_year_after()),
        case(contact("a", 0, "property_damage"), assessed_at=_just_over_a_year_after()),
    ),
    "element.threat.weapon": _pair(
        case(
            contact("a", 0, "unwanted_correspondence", channel="letter", weapon=True),
            assessed_at=_year_after(),
        ),
        case(
            contact("a", 0, "unwanted_correspondence", channel="letter", weapon=True),
            assessed_at=_just_over_a_year_after(),
        ),
    ),
    "element.threat.protection_order_breach": _pair(
        case(
            contact("a", 5, "unwanted_correspondence"),
            history={"protection_order_since": at(5).isoformat()},
        ),
        case(
            contact("a", 5, "unwanted_correspondence"),
            history={"protection_order_since": at(5, microseconds=1).isoformat()},
        ),
    ),
    "element.fear.reported": _pair(
        case(contact("a", 0, "unwanted_approach"), fear="significant"),
        case(contact("a", 0, "unwanted_approach"), fear="some"),
    ),
    "element.fear.family": _pair(
        case(contact("a", 0, "unwanted_calls", targets=["family"]), family_afraid=True),
        case(contact("a", 0, "unwanted_calls", targets=["family"]), family_afraid=False),
    ),
    # --- grades --------------------------------------------------------------
    "grade.reflective.boundary_crossing": _pair(
        case(contact("a", 0, "gift"), relationship="current"),
        case(contact("a", 0, "gift"), relationship="former"),
    ),
    "grade.reflective.frail_client": _pair(
        case(contact("a", 0, "surveillance"), history={"clinical_state": ["suicidality"]}),
        case(contact("a", 0, "surveillance"), history={"clinical_state": []}),
    ),
    "grade.boundaries.outside_therapy": _pair(
        case(contact("a", 0, "gift"), relationship="former"),
        case(contact("a", 0, "gift"), relationship="current"),
    ),
    "grade.boundaries.stalking_contact": _pair(
        case(contact("a", 0, "unwanted_calls"), history={"clinical_state": []}),
        case(contact("a", 0, "unwanted_calls"), history={"clinical_state": ["dependency"]}),
    ),
    "grade.boundaries.third_party": _pair(
        case(contact("a", 0, "third_party_contact", channel="third_party")),
        case(contact("a", 0, "out_of_session_contact", channel="third_party")),
    ),
    "grade.boundaries.repeated_contact": _pair(
        case(*_calls(0, 1, 2), assessed_at=3),
        case(*_calls(0, 1), assessed_at=3),
    ),
    "grade.boundaries.emerging_pattern": _pair(
        # Exactly episode_max_gap_days between two behaviours keeps them in one episode.
        case(
            contact("a", 0, "unwanted_calls"),
            contact("b", 90, "unwanted_correspondence"),
            assessed_at=91,
        ),
        case(
            contact("a", 0, "unwanted_calls"),
            contact("b", at(90, microseconds=1), "unwanted_correspondence"),
            assessed_at=91,
        ),
    ),
    "grade.boundaries.agreement_crossed": _pair(
        case(contact("a", 2, "gift"), boundaries={"agreement_at": at(1).isoformat()}),
        case(contact("a", 2, "gift"), boundaries={"agreement_at": at(2).isoformat()}),
    ),
    "grade.boundaries.substance_misuse": _pair(
        case(contact("a", 0, "gift"), history={"substance_misuse": True}),
        case(contact("a", 0, "gift"), history={"substance_misuse": False}),
    ),
    "grade.boundaries.past_pattern": _pair(
        case(*_pattern(), assessed_at=_just_over_a_year_after(14)),
        case(*_pattern(), assessed_at=_year_after(14)),
    ),
    "grade.consultation.pattern": _pair(
        case(*_pattern(), assessed_at=15),
        case(_followed(), contact("b", 14, "following"), assessed_at=15),
    ),
    "grade.consultation.fear": _pair(
        case(contact("a", 0, "unwanted_calls"), fear="significant"),
        case(contact("a", 0, "unwanted_calls"), fear="some"),
    ),
    "grade.consultation.following_or_loitering": _pair(
        case(contact("a", 0, "loitering"), assessed_at=_year_after()),
        case(contact("a", 0, "loitering"), assessed_at=_just_over_a_year_after()),
    ),
    "grade.consultation.persistence": _pair(
        case(*_calls(0, 3.5, 7, 10.5, 14), assessed_at=15),
        case(*_calls(0, 3.5, 10.5, 14), assessed_at=15),
    ),
    "grade.consultation.burst": _pair(
        case(*_burst(10), assessed_at=2),
        case(*_burst(9), assessed_at=2),
    ),
    "grade.consultation.happening_now": _pair(
        # Watched from a car outside the home since exactly ongoing_max_days ago.
        case(contact("a", 0, "surveillance", ongoing=True), assessed_at=1),
        case(contact("a", 0, "surveillance", ongoing=True), assessed_at=at(1, microseconds=1)),
    ),
    "grade.consultation.third_parties_targeted": _pair(
        case(contact("a", 0, "unwanted_correspondence", targets=["family"])),
        case(contact("a", 0, "unwanted_correspondence", targets=["clinician"])),
    ),
    "grade.consultation.after_warning": _pair(
        case(contact("a", 3, "gift"), boundaries={"warnings": [{"at": at(2).isoformat()}]}),
        case(contact("a", 3, "gift"), boundaries={"warnings": [{"at": at(3).isoformat()}]}),
    ),
    "grade.consultation.persistent_crossings": _pair(
        case(*(contact(f"gift-{n}", n, "gift") for n in range(4)), assessed_at=4),
        case(*(contact(f"gift-{n}", n, "gift") for n in range(3)), assessed_at=4),
    ),
    "grade.consultation.risk_history": _pair(
        case(contact("a", 0, "gift"), history={"prior_stalking": True}),
        case(contact("a", 0, "gift"), history={"prior_stalking": False}),
    ),
    "grade.consultation.resentful_motive": _pair(
        case(contact("a", 0, "unwanted_correspondence"), history={"motive": "resentful"}),
        case(contact("a", 0, "unwanted_correspondence"), history={"motive": "rejected"}),
    ),
    "grade.consultation.recurrence": _pair(
        # A course of conduct over a year old, then a call after a silence of more than a year.
        case(*_pattern(), contact("c", 400, "unwanted_calls"), assessed_at=401),
        case(*_pattern(), assessed_at=401),
    ),
    "grade.consultation.past_threat": _pair(
        case(contact("a", 0, "physical_violence"), assessed_at=_just_over_a_year_after()),
        case(contact("a", 0, "physical_violence"), assessed_at=_year_after()),
    ),
    "grade.referral.pattern_and_fear": _pair(
        case(*_pattern(), fear="significant", assessed_at=15),
        case(*_pattern(), fear="some", assessed_at=15),
    ),
    "grade.referral.after_supervisor_warning": _pair(
        case(*_calls(3, 5), boundaries=_supervisor_warning(), assessed_at=6),
        case(*_calls(3), boundaries=_supervisor_warning(), assessed_at=6),
    ),
    "grade.referral.contact_after_past_threat": _pair(
        case(contact("a", 0, "threat"), contact("b", 400, "unwanted_calls"), assessed_at=401),
        case(contact("a", 0, "threat"), assessed_at=401),
    ),
    "grade.police.threat": _pair(
        case(contact("a", 0, "threat")),
        case(contact("a", 0, "offensive_material")),
    ),
    "grade.police.pattern_fear_risk_history": _pair(
        case(*_pattern(), fear="significant", history={"prior_violence": True}, assessed_at=15),
        case(*_pattern(), fear="significant", history={"prior_violence": False}, assessed_at=15),
    ),
    "grade.police.predatory_motive": _pair(
        case(contact("a", 0, "surveillance"), history={"motive": "predatory"}),
        case(contact("a", 0, "surveillance"), history={"motive": "unknown"}),
    ),
    "urgent.recent_violence": _pair(
        case(contact("a", 0, "physical_violence"), assessed_at=7),
        case(contact("a", 0, "physical_violence"), assessed_at=at(7, microseconds=1)),
    ),
    "urgent.weapon": _pair(
        # A weapon carried in person is present; one only mentioned in a letter is not.
        case(contact("a", 0, "unwanted_approach", weapon=True)),
        case(contact("a", 0, "unwanted_correspondence", weapon=True)),
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
        case(contact("a", 0, "following", ongoing=True), assessed_at=at(0, minutes=20)),
        case(contact("a", 0, "following", ongoing=False), assessed_at=at(0, minutes=20)),
    ),
    # --- notes ---------------------------------------------------------------
    "note.long_relationship": _pair(
        # Six months are 182.625 days: 183 days of therapy reach them, 182 do not.
        case(contact("a", 0, "gift"), history={"therapy_start": "2024-07-08"}, assessed_at=1),
        case(contact("a", 0, "gift"), history={"therapy_start": "2024-07-09"}, assessed_at=1),
    ),
    "note.regressive_contact": _pair(
        case(
            contact("a", 0, "unwanted_correspondence"),
            history={"clinical_state": ["suicidality"]},
        ),
        case(contact("a", 0, "offensive_material"), history={"clinical_state": ["suicidality"]}),
    ),
    "note.former_client": _pair(
        case(contact("a", 0, "gift"), relationship="former"),
        case(contact("a", 0, "gift"), relationship="prospective"),
    ),
    "note.resentful_motive": _pair(
        case(contact("a", 0, "unwanted_calls"), history={"motive": "resentful"}),
        case(contact("a", 0, "unwanted_calls"), history={"motive": "rejected"}),
    ),
    "note.escalating_frequency": _pair(
        # 4 calls in the latest week against 2 in the week before: exactly twice as many.
        case(*_two_weeks_of_calls(latest=4), assessed_at=14),
        case(*_two_weeks_of_calls(latest=3), assessed_at=14),
    ),
    "note.stale_ongoing": _pair(
        case(contact("a", 0, "surveillance", ongoing=True), assessed_at=at(1, microseconds=1)),
        case(contact("a", 0, "surveillance", ongoing=True), assessed_at=1),
    ),
}
