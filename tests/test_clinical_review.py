"""The clinical-safety review of the default pack (rule pack 1.1.0), observation by observation.

Each test is one case a clinical-safety officer graded by hand against the seeds and
the stalking-risk literature; docs/rules.md ("Decisions in 1.1.0") gives the reason
and the source of each grade.  The grade under pack 1.0.0 is in each docstring.
"""

from __future__ import annotations

from typing import Any

from builders import assess, at, contact, fired

from stalkrisk import Assessment, Level

FRAIL = {"clinical_state": ["suicidality"]}
RISK_HISTORY = {"prior_violence": True, "prior_stalking": True, "weapon_access": True}


def actions(result: Assessment) -> list[str]:
    return [action.id for action in result.actions]


def grade(result: Assessment) -> tuple[Level, bool]:
    return result.level, result.urgent


def slow_campaign(**kwargs: Any) -> Assessment:
    """Drive-bys and letters in turn, every 31 days for two years (24 contacts)."""
    contacts = [
        contact(f"s{n}", 31 * n, "surveillance" if n % 2 else "unwanted_correspondence")
        for n in range(24)
    ]
    return assess(*contacts, relationship="former", **kwargs)


# --- 1. high-risk pursuit without a spoken threat ---------------------------------


def test_high_risk_pursuit_without_a_threat_is_police() -> None:
    """1.0.0: referral, no police or protection-order action."""
    result = assess(
        contact("f1", 0, "following"),
        contact("f2", 5, "loitering"),
        contact("f3", 10, "surveillance"),
        contact("f4", 15, "following"),
        relationship="former",
        fear="severe",
        family_afraid=True,
        history=RISK_HISTORY,
    )

    assert grade(result) == (Level.POLICE, False)
    assert "grade.police.pattern_fear_risk_history" in fired(result)
    assert {"report_police", "protection_order"} <= set(actions(result))


def test_pattern_with_fear_offers_the_police_at_referral() -> None:
    """1.0.0: referral with no police option (vignette long_standing_client_starts_following)."""
    result = assess(
        contact("f1", 0, "following"),
        contact("f2", 16, "surveillance"),
        fear="significant",
    )

    assert result.level is Level.REFERRAL
    assert "consider_police" in actions(result)


# --- 2. a current client following or loitering ------------------------------------


def test_a_current_client_following_once_by_car_is_consultation() -> None:
    """1.0.0: reflective."""
    result = assess(contact("c1", 0, "following", channel="vehicle"))

    assert grade(result) == (Level.CONSULTATION, False)
    assert "involve_supervisor" in actions(result)


def test_a_current_client_loitering_in_the_garden_on_two_nights_is_consultation() -> None:
    """1.0.0: reflective."""
    result = assess(contact("c1", 0, "loitering"), contact("c2", 1, "loitering"))

    assert result.level is Level.CONSULTATION


def test_two_lots_of_offensive_material_from_a_current_client_is_boundaries() -> None:
    """1.0.0: reflective."""
    result = assess(contact("c1", 0, "offensive_material"), contact("c2", 3, "offensive_material"))

    assert result.level is Level.BOUNDARIES


# --- 3. slow stalking -------------------------------------------------------------


def test_slow_stalking_every_31_days_forms_a_pattern() -> None:
    """1.0.0: boundaries, 24 episodes and no pattern."""
    result = slow_campaign()

    assert result.elements.pattern.present
    assert result.threshold.episodes == 1
    assert result.level is Level.CONSULTATION


def test_slow_stalking_with_significant_fear_is_referral() -> None:
    """1.0.0: consultation."""
    assert slow_campaign(fear="significant").level is Level.REFERRAL


# --- 4. urgent advice ---------------------------------------------------------------


def test_urgent_advice_comes_first_and_asks_for_location_when_followed() -> None:
    """1.0.0: call_emergency and go_to_safety were items 14 and 15 of 15."""
    result = assess(contact("c1", at(0), "following", channel="vehicle", ongoing=True))

    assert result.urgent
    assert actions(result)[:2] == ["call_emergency", "go_to_safety"]
    assert "direction of travel" in result.actions[0].text
    assert "plate" in result.actions[0].text


# --- 5. one behaviour repeated, bursts ----------------------------------------------


def test_sixty_calls_over_sixty_days_is_consultation() -> None:
    """1.0.0: boundaries."""
    result = assess(
        *(contact(f"k{n}", n, "unwanted_calls") for n in range(60)), relationship="former"
    )

    assert result.level is Level.CONSULTATION
    assert "grade.consultation.persistence" in fired(result)


def test_four_calls_grade_as_high_as_four_gifts() -> None:
    """1.0.0: four gifts consultation, the same four contacts as calls boundaries."""
    gifts = assess(*(contact(f"g{n}", 3 * n, "gift") for n in range(4)))
    calls = assess(*(contact(f"g{n}", 3 * n, "unwanted_calls") for n in range(4)))

    assert gifts.level is calls.level is Level.CONSULTATION


def test_fifty_calls_in_a_day_is_a_burst() -> None:
    """1.0.0: boundaries."""
    result = assess(
        *(contact(f"k{n}", at(0, minutes=20 * n), "unwanted_calls") for n in range(50)),
        relationship="former",
    )

    assert result.level is Level.CONSULTATION
    assert "grade.consultation.burst" in fired(result)


def test_calls_coming_more_often_are_noted() -> None:
    """1.0.0: no finding."""
    result = assess(
        contact("a", 0, "unwanted_calls"),
        *(contact(f"b{n}", 8 + n, "unwanted_calls") for n in range(4)),
        relationship="former",
        assessed_at=13,
    )

    assert "note.escalating_frequency" in fired(result)


# --- 6. too strong ------------------------------------------------------------------


def test_a_single_gift_after_a_supervisor_warning_is_consultation() -> None:
    """1.0.0: referral."""
    result = assess(
        contact("g1", 2, "gift"),
        boundaries={"warnings": [{"at": at(0).isoformat(), "supervisor": True}]},
    )

    assert result.level is Level.CONSULTATION


def test_an_email_about_a_new_rifle_is_police_but_not_urgent() -> None:
    """1.0.0: urgent police."""
    result = assess(
        contact("e1", 0, "unwanted_correspondence", channel="email", weapon=True),
        relationship="former",
    )

    assert grade(result) == (Level.POLICE, False)


def test_a_weapon_shown_in_person_is_urgent() -> None:
    """1.0.0: urgent police (unchanged)."""
    result = assess(contact("a1", 0, "unwanted_approach", channel="in_person", weapon=True))

    assert grade(result) == (Level.POLICE, True)


def test_an_ongoing_contact_two_years_old_is_not_urgent_and_is_noted() -> None:
    """1.0.0: urgent police."""
    result = assess(
        contact("f1", 0, "following", ongoing=True), relationship="former", assessed_at=730
    )

    assert not result.urgent
    assert "note.stale_ongoing" in fired(result)


def test_an_ongoing_approach_in_a_clinic_corridor_is_consultation_not_urgent() -> None:
    """1.0.0: urgent police."""
    result = assess(contact("a1", 0, "unwanted_approach", channel="in_person", ongoing=True))

    assert grade(result) == (Level.CONSULTATION, False)


def test_a_frail_clients_ongoing_drive_by_is_not_urgent_and_keeps_its_note() -> None:
    """1.0.0: urgent police with the "may be regressive" note in the same output."""
    result = assess(
        contact("d1", 0, "surveillance", channel="vehicle", ongoing=True), history=FRAIL
    )

    assert grade(result) == (Level.REFLECTIVE, False)
    assert "note.regressive_contact" in fired(result)


# --- 7. fear is never inferred ------------------------------------------------------


def test_one_friendly_message_to_the_partner_is_not_fear() -> None:
    """1.0.0: referral via the fear element."""
    result = assess(contact("p1", 0, "third_party_contact", targets=["family"]))

    assert not result.elements.fear.present
    assert result.level is Level.CONSULTATION
    assert "protect_family" in actions(result)


# --- 8. motive, targets, channel ----------------------------------------------------


def test_a_predatory_motive_is_police() -> None:
    """1.0.0: boundaries (motive unread)."""
    result = assess(
        contact("s1", 0, "surveillance"), relationship="unknown", history={"motive": "predatory"}
    )

    assert result.level is Level.POLICE


def test_a_resentful_motive_is_consultation_with_a_note() -> None:
    """1.0.0: boundaries (motive unread)."""
    result = assess(
        contact("l1", 0, "unwanted_correspondence"),
        relationship="former",
        history={"motive": "resentful"},
    )

    assert result.level is Level.CONSULTATION
    assert "note.resentful_motive" in fired(result)


def test_colleagues_targeted_is_consultation_with_a_warning_to_them() -> None:
    """1.0.0: boundaries (targets unread)."""
    result = assess(
        contact("k1", 0, "unwanted_calls", targets=["colleagues"]), relationship="former"
    )

    assert result.level is Level.CONSULTATION
    assert "warn_colleagues" in actions(result)


# --- 9. time --------------------------------------------------------------------------


CAMPAIGN_2019 = (
    contact("a", 0, "following"),
    contact("b", 7, "unwanted_calls"),
    contact("c", 14, "surveillance"),
)


def test_a_two_week_campaign_six_years_ago_is_history() -> None:
    """1.0.0: consultation with the pattern present in 2025."""
    result = assess(*CAMPAIGN_2019, relationship="former", assessed_at=6 * 365)

    assert not result.elements.pattern.present
    assert result.level is Level.BOUNDARIES
    assert "grade.boundaries.past_pattern" in fired(result)


def test_contact_again_after_a_past_campaign_is_a_recurrence() -> None:
    """1.0.0: consultation through a pattern six years old."""
    result = assess(*CAMPAIGN_2019, contact("card", 6 * 365, "gift"), relationship="former")

    assert result.level is Level.CONSULTATION
    assert "grade.consultation.recurrence" in fired(result)


def test_a_2018_threat_and_a_late_card_is_referral() -> None:
    """1.0.0: police."""
    result = assess(
        contact("t", 0, "threat"),
        contact("card", 7 * 365, "unwanted_correspondence"),
        relationship="former",
    )

    assert result.level is Level.REFERRAL
    assert result.ages.last_threat is not None
    assert result.ages.last_threat > 7 * 365


def test_a_protection_order_that_has_ended_is_not_breached() -> None:
    """1.0.0: an order could not end."""
    result = assess(
        contact("l1", 30, "unwanted_correspondence"),
        relationship="former",
        history={
            "protection_order_since": at(0).isoformat(),
            "protection_order_until": at(20).isoformat(),
        },
    )

    assert not result.elements.threat.present
    assert result.ages.protection_order_ends == 11.0


# --- 10. advice ---------------------------------------------------------------------


def test_advice_from_the_seeds_is_reachable() -> None:
    """1.0.0: none of these could be reached."""
    consultation = assess(contact("f1", 0, "following"), relationship="former")
    police = assess(contact("t1", 0, "threat"), relationship="former")

    assert {"phone_measures", "build_connections", "travel_routines", "seek_support"} <= set(
        actions(consultation)
    )
    assert "police_escort" in actions(police)


def test_no_gifts_boundaries_are_not_restated_after_an_assault() -> None:
    """1.0.0: "restate boundaries… no gifts" showed after an assault."""
    result = assess(contact("v1", 0, "physical_violence"))

    assert "restate_boundaries" not in actions(result)


# --- 12. frailty ----------------------------------------------------------------------


def test_a_frail_clients_drive_by_is_reflective() -> None:
    result = assess(contact("d1", 0, "surveillance", channel="vehicle"), history=FRAIL)

    assert result.level is Level.REFLECTIVE


def test_frailty_does_not_lower_following() -> None:
    plain = assess(contact("f1", 0, "following"))
    frail = assess(contact("f1", 0, "following"), history=FRAIL)

    assert frail.level is plain.level is Level.CONSULTATION
    assert "note.regressive_contact" not in fired(frail)


# --- the explanation ------------------------------------------------------------------


def test_a_case_with_a_pattern_never_shows_a_rationale_that_assumes_none() -> None:
    """1.0.0: listed grade.reflective.current_client ("Without threat, fear or pattern…")."""
    result = assess(contact("a", 0, "following"), contact("b", 14, "gift", "surveillance"))

    assert result.elements.pattern.present
    assert not any("without threat" in rule.rationale.lower() for rule in result.rules_fired)


def test_the_explanation_separates_the_rules_that_set_the_grade() -> None:
    result = assess(contact("t1", 0, "threat"), contact("g1", 1, "gift"))
    setting = [rule.id for rule in result.rules_fired if rule.sets_grade]
    outranked = [
        rule.id for rule in result.rules_fired if rule.effect == "level" and not rule.sets_grade
    ]

    assert setting == ["grade.police.threat"]
    assert "grade.reflective.boundary_crossing" in outranked
    report = str(result)
    assert report.index("Set the grade:") < report.index("Fired, but outranked")
