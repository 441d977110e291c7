"""Golden tests: whole vignettes drawn from the seed articles, graded end to end.

Each vignette of the bundled library (stalkrisk.vignettes, data files in
src/stalkrisk/_vignettes/) is a scenario from the articles (see docs/vignettes.md).
The expectations below were reasoned out from the domain design and then checked
against the engine; they pin rules and actions too, not only the grade.
"""

from __future__ import annotations

from typing import NamedTuple

import pytest

import stalkrisk
from stalkrisk import vignettes


class Golden(NamedTuple):
    level: str
    urgent: bool
    elements: tuple[str, ...]
    rules: tuple[str, ...]
    actions: tuple[str, ...]


GOLDEN = {
    "assault_in_the_office_yesterday": Golden(
        level="police",
        urgent=True,
        elements=("threat", "fear"),
        rules=(
            "element.threat.escalation",
            "element.fear.reported",
            "grade.consultation.fear",
            "grade.consultation.following_or_loitering",
            "grade.consultation.risk_history",
            "grade.police.threat",
            "urgent.recent_violence",
        ),
        actions=(
            "call_emergency",
            "go_to_safety",
            "document_contact",
            "incident_journal",
            "protect_online",
            "phone_measures",
            "build_connections",
            "involve_supervisor",
            "consult_risk_professional",
            "safety_plan",
            "travel_routines",
            "seek_support",
            "end_and_refer",
            "employer_security",
            "report_police",
            "hand_over_evidence",
            "protection_order",
            "police_escort",
            "confidentiality",
        ),
    ),
    "calls_continue_after_supervisor_warning": Golden(
        level="referral",
        urgent=False,
        elements=(),
        rules=(
            "grade.boundaries.stalking_contact",
            "grade.boundaries.repeated_contact",
            "grade.consultation.after_warning",
            "grade.consultation.persistent_crossings",
            "grade.referral.after_supervisor_warning",
            "note.escalating_frequency",
        ),
        actions=(
            "document_contact",
            "incident_journal",
            "protect_online",
            "phone_measures",
            "build_connections",
            "involve_supervisor",
            "consult_risk_professional",
            "safety_plan",
            "travel_routines",
            "seek_support",
            "end_and_refer",
            "employer_security",
            "consider_police",
        ),
    ),
    "exactly_two_weeks": Golden(
        level="consultation",
        urgent=False,
        elements=("pattern",),
        rules=(
            "element.pattern",
            "grade.boundaries.outside_therapy",
            "grade.boundaries.stalking_contact",
            "grade.boundaries.repeated_contact",
            "grade.boundaries.emerging_pattern",
            "grade.consultation.pattern",
            "note.former_client",
        ),
        actions=(
            "document_contact",
            "state_no_contact",
            "incident_journal",
            "protect_online",
            "phone_measures",
            "build_connections",
            "involve_supervisor",
            "consult_risk_professional",
            "safety_plan",
            "travel_routines",
            "seek_support",
        ),
    ),
    "followed_by_car_right_now": Golden(
        level="police",
        urgent=True,
        elements=("pattern", "fear"),
        rules=(
            "element.pattern",
            "element.fear.reported",
            "grade.boundaries.outside_therapy",
            "grade.boundaries.stalking_contact",
            "grade.boundaries.repeated_contact",
            "grade.boundaries.emerging_pattern",
            "grade.consultation.pattern",
            "grade.consultation.fear",
            "grade.consultation.following_or_loitering",
            "grade.consultation.happening_now",
            "grade.referral.pattern_and_fear",
            "urgent.ongoing_pursuit",
            "note.former_client",
        ),
        actions=(
            "call_emergency",
            "go_to_safety",
            "document_contact",
            "state_no_contact",
            "incident_journal",
            "protect_online",
            "phone_measures",
            "build_connections",
            "involve_supervisor",
            "consult_risk_professional",
            "safety_plan",
            "travel_routines",
            "seek_support",
            "no_new_therapy",
            "employer_security",
            "report_police",
            "hand_over_evidence",
            "protection_order",
            "police_escort",
            "confidentiality",
        ),
    ),
    "former_client_aliases_and_gossip": Golden(
        level="consultation",
        urgent=False,
        elements=("pattern",),
        rules=(
            "element.pattern",
            "grade.boundaries.outside_therapy",
            "grade.boundaries.stalking_contact",
            "grade.boundaries.repeated_contact",
            "grade.boundaries.emerging_pattern",
            "grade.consultation.pattern",
            "grade.consultation.third_parties_targeted",
            "grade.consultation.persistent_crossings",
            "grade.consultation.resentful_motive",
            "note.long_relationship",
            "note.former_client",
            "note.resentful_motive",
        ),
        actions=(
            "document_contact",
            "state_no_contact",
            "incident_journal",
            "protect_online",
            "phone_measures",
            "build_connections",
            "involve_supervisor",
            "consult_risk_professional",
            "safety_plan",
            "travel_routines",
            "seek_support",
            "warn_colleagues",
        ),
    ),
    "frail_client_drives_past_house": Golden(
        level="reflective",
        urgent=False,
        elements=(),
        rules=(
            "grade.reflective.frail_client",
            "note.regressive_contact",
        ),
        actions=(
            "explore_in_therapy",
            "document_contact",
        ),
    ),
    "gifts_after_informed_consent": Golden(
        level="consultation",
        urgent=False,
        elements=(),
        rules=(
            "grade.reflective.boundary_crossing",
            "grade.boundaries.agreement_crossed",
            "grade.consultation.persistent_crossings",
        ),
        actions=(
            "document_contact",
            "restate_boundaries",
            "session_limits",
            "incident_journal",
            "protect_online",
            "phone_measures",
            "build_connections",
            "involve_supervisor",
            "consult_risk_professional",
            "safety_plan",
            "travel_routines",
            "seek_support",
        ),
    ),
    "history_but_no_contact": Golden(
        level="none",
        urgent=False,
        elements=(),
        rules=(),
        actions=("keep_notes",),
    ),
    "long_standing_client_starts_following": Golden(
        level="referral",
        urgent=False,
        elements=("pattern", "fear"),
        rules=(
            "element.pattern",
            "element.fear.reported",
            "grade.boundaries.stalking_contact",
            "grade.boundaries.repeated_contact",
            "grade.boundaries.emerging_pattern",
            "grade.consultation.pattern",
            "grade.consultation.fear",
            "grade.consultation.following_or_loitering",
            "grade.consultation.persistent_crossings",
            "grade.referral.pattern_and_fear",
            "note.long_relationship",
        ),
        actions=(
            "document_contact",
            "incident_journal",
            "protect_online",
            "phone_measures",
            "build_connections",
            "involve_supervisor",
            "consult_risk_professional",
            "safety_plan",
            "travel_routines",
            "seek_support",
            "end_and_refer",
            "employer_security",
            "consider_police",
        ),
    ),
    "one_hour_short_of_two_weeks": Golden(
        level="boundaries",
        urgent=False,
        elements=(),
        rules=(
            "grade.boundaries.outside_therapy",
            "grade.boundaries.stalking_contact",
            "grade.boundaries.repeated_contact",
            "grade.boundaries.emerging_pattern",
            "note.former_client",
        ),
        actions=(
            "document_contact",
            "state_no_contact",
            "incident_journal",
            "protect_online",
            "phone_measures",
            "build_connections",
        ),
    ),
    "partner_contacted_on_social_media": Golden(
        level="consultation",
        urgent=False,
        elements=(),
        rules=(
            "grade.reflective.boundary_crossing",
            "grade.boundaries.third_party",
            "grade.consultation.third_parties_targeted",
        ),
        actions=(
            "document_contact",
            "restate_boundaries",
            "session_limits",
            "incident_journal",
            "protect_online",
            "phone_measures",
            "build_connections",
            "involve_supervisor",
            "consult_risk_professional",
            "safety_plan",
            "travel_routines",
            "seek_support",
            "protect_family",
        ),
    ),
    "protection_order_breached_by_letter": Golden(
        level="police",
        urgent=False,
        elements=("threat",),
        rules=(
            "element.threat.protection_order_breach",
            "grade.boundaries.outside_therapy",
            "grade.boundaries.stalking_contact",
            "grade.consultation.risk_history",
            "grade.police.threat",
            "note.former_client",
        ),
        actions=(
            "document_contact",
            "state_no_contact",
            "incident_journal",
            "protect_online",
            "phone_measures",
            "build_connections",
            "involve_supervisor",
            "consult_risk_professional",
            "safety_plan",
            "travel_routines",
            "seek_support",
            "no_new_therapy",
            "employer_security",
            "report_police",
            "hand_over_evidence",
            "protection_order",
            "police_escort",
            "confidentiality",
        ),
    ),
    "second_behaviour_on_day_fifteen": Golden(
        level="referral",
        urgent=False,
        elements=("pattern", "fear"),
        rules=(
            "element.pattern",
            "element.fear.reported",
            "grade.boundaries.outside_therapy",
            "grade.boundaries.stalking_contact",
            "grade.boundaries.repeated_contact",
            "grade.boundaries.emerging_pattern",
            "grade.consultation.pattern",
            "grade.consultation.fear",
            "grade.consultation.persistent_crossings",
            "grade.referral.pattern_and_fear",
            "note.former_client",
        ),
        actions=(
            "document_contact",
            "state_no_contact",
            "incident_journal",
            "protect_online",
            "phone_measures",
            "build_connections",
            "involve_supervisor",
            "consult_risk_professional",
            "safety_plan",
            "travel_routines",
            "seek_support",
            "no_new_therapy",
            "employer_security",
            "consider_police",
        ),
    ),
    "threat_against_the_family": Golden(
        level="police",
        urgent=False,
        elements=("threat", "fear"),
        rules=(
            "element.threat.behaviour",
            "element.fear.reported",
            "element.fear.family",
            "grade.boundaries.stalking_contact",
            "grade.boundaries.emerging_pattern",
            "grade.consultation.fear",
            "grade.consultation.third_parties_targeted",
            "grade.police.threat",
        ),
        actions=(
            "document_contact",
            "incident_journal",
            "protect_online",
            "phone_measures",
            "build_connections",
            "involve_supervisor",
            "consult_risk_professional",
            "safety_plan",
            "travel_routines",
            "seek_support",
            "end_and_refer",
            "employer_security",
            "protect_family",
            "report_police",
            "hand_over_evidence",
            "protection_order",
            "police_escort",
            "confidentiality",
        ),
    ),
    "tracked_down_after_years_out_of_treatment": Golden(
        level="boundaries",
        urgent=False,
        elements=(),
        rules=(
            "grade.boundaries.outside_therapy",
            "note.long_relationship",
            "note.former_client",
        ),
        actions=(
            "document_contact",
            "state_no_contact",
            "incident_journal",
            "protect_online",
            "phone_measures",
            "build_connections",
        ),
    ),
    "two_behaviours_in_ten_days": Golden(
        level="boundaries",
        urgent=False,
        elements=(),
        rules=(
            "grade.boundaries.outside_therapy",
            "grade.boundaries.stalking_contact",
            "grade.boundaries.repeated_contact",
            "grade.boundaries.emerging_pattern",
        ),
        actions=(
            "document_contact",
            "restate_boundaries",
            "incident_journal",
            "protect_online",
            "phone_measures",
            "build_connections",
        ),
    ),
}


def _assess(name: str) -> stalkrisk.Assessment:
    return stalkrisk.assess(vignettes.load(name).case)


def test_every_vignette_file_has_a_golden_expectation() -> None:
    assert set(vignettes.names()) == set(GOLDEN)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_vignette_grade(name: str) -> None:
    result = _assess(name)

    assert (result.level.value, result.urgent) == (GOLDEN[name].level, GOLDEN[name].urgent)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_vignette_elements(name: str) -> None:
    result = _assess(name)
    present = tuple(e for e in ("pattern", "threat", "fear") if getattr(result.elements, e).present)

    assert present == GOLDEN[name].elements


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_vignette_rules_fired_in_order(name: str) -> None:
    assert tuple(r.id for r in _assess(name).rules_fired) == GOLDEN[name].rules


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_vignette_actions(name: str) -> None:
    assert tuple(a.id for a in _assess(name).actions) == GOLDEN[name].actions


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_vignette_report_names_grade_and_every_fired_rule(name: str) -> None:
    result = _assess(name)
    report = str(result)

    assert f"Recommendation: {result.level.value}" in report
    assert all(f"[{rule.id} " in report for rule in result.rules_fired)
