"""The bundled pack for the Stalking Assessment Indices definition (rules/sai.yaml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from builders import case, contact
from hypothesis import given

import stalkrisk
from stalkrisk import Level
from stalkrisk.strategies import cases

ROOT = Path(__file__).resolve().parents[1]
SAI = stalkrisk.load_rule_pack(ROOT / "rules" / "sai.yaml")
DEFAULT = stalkrisk.default_rule_pack()


def calls(count: int, every_days: float, **options: Any) -> dict[str, Any]:
    """``count`` calls ``every_days`` apart from a former client."""
    found = [contact(f"c{n}", n * every_days, "unwanted_calls") for n in range(count)]
    return case(*found, relationship="former", **options)


def test_five_intrusions_of_one_kind_over_two_weeks_are_a_pattern() -> None:
    result = stalkrisk.assess(calls(5, 3.5), rule_pack=SAI)

    assert result.elements.pattern.present
    assert result.threshold.met
    assert result.threshold.course_of_conduct == ("c0", "c1", "c2", "c3", "c4")


def test_the_same_five_calls_are_no_pattern_under_the_default_pack() -> None:
    result = stalkrisk.assess(calls(5, 3.5), rule_pack=DEFAULT)

    assert not result.elements.pattern.present
    assert not result.threshold.met


def test_four_intrusions_are_not_enough_even_of_two_kinds() -> None:
    data = case(
        contact("c1", 0, "following"),
        contact("c2", 5, "unwanted_calls"),
        contact("c3", 10, "following"),
        contact("c4", 15, "unwanted_calls"),
        relationship="former",
    )

    assert not stalkrisk.assess(data, rule_pack=SAI).elements.pattern.present
    assert stalkrisk.assess(data, rule_pack=DEFAULT).elements.pattern.present


def test_five_intrusions_within_two_weeks_are_not_enough() -> None:
    result = stalkrisk.assess(calls(5, 3.0), rule_pack=SAI)  # 12 days

    assert not result.elements.pattern.present


def test_a_pattern_with_fear_is_referral_and_without_fear_consultation() -> None:
    assert stalkrisk.assess(calls(5, 3.5), rule_pack=SAI).level is Level.CONSULTATION
    with_fear = calls(5, 3.5, fear="significant")
    assert stalkrisk.assess(with_fear, rule_pack=SAI).level is Level.REFERRAL


def test_the_threshold_reports_the_packs_own_definition() -> None:
    sai = stalkrisk.assess(calls(5, 3.5), rule_pack=SAI).threshold
    default = stalkrisk.assess(calls(5, 3.5), rule_pack=DEFAULT).threshold

    assert (sai.min_contacts, sai.min_distinct_behaviours, sai.min_span_days) == (5, 1, 14)
    assert (default.min_contacts, default.min_distinct_behaviours) == (None, 2)


def test_the_text_report_states_the_packs_threshold() -> None:
    text = str(stalkrisk.assess(calls(5, 3.5), rule_pack=SAI))

    assert "Threshold (1 distinct behaviour over 14 days, at least 5 contacts): met" in text


def test_the_pack_cites_its_source_for_the_definition() -> None:
    pattern = SAI.rule("element.pattern")

    assert "[sai]" in pattern.source
    assert SAI.parameters["pattern_min_contacts"].source == "[sai]"


def test_a_past_course_of_conduct_does_not_meet_the_threshold_now() -> None:
    # Five calls two years ago: history, under either definition.
    result = stalkrisk.assess(calls(5, 3.5, assessed_at=730), rule_pack=SAI)

    assert not result.threshold.met
    assert not result.elements.pattern.present


@given(cases(max_contacts=14, span_days=1500, max_behaviours=2))
def test_the_threshold_agrees_with_the_pattern_element_under_both_bundled_packs(
    case: stalkrisk.Case,
) -> None:
    for pack in (DEFAULT, SAI):
        result = stalkrisk.assess(case, rule_pack=pack)
        assert result.threshold.met == result.elements.pattern.present, pack.name


def test_a_second_intrusion_is_an_emerging_pattern_under_the_sai_pack() -> None:
    letters = case(
        contact("c1", 0, "unwanted_correspondence"),
        contact("c2", 2, "unwanted_correspondence"),
        relationship="current",
    )
    one_letter = case(contact("c1", 0, "unwanted_correspondence"), relationship="current")

    sai = stalkrisk.assess(letters, rule_pack=SAI)

    assert "grade.boundaries.emerging_pattern" in [r.id for r in sai.rules_fired]
    assert sai.level is Level.BOUNDARIES
    fired_once = [r.id for r in stalkrisk.assess(one_letter, rule_pack=SAI).rules_fired]
    assert "grade.boundaries.emerging_pattern" not in fired_once
