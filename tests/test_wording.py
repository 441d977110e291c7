"""One wording for every view: text report, HTML, FHIR narrative and plot say the same."""

from __future__ import annotations

import json
import re
from html import escape

import pytest
from builders import case, contact

import stalkrisk
from stalkrisk import fhir, vignettes
from stalkrisk._fields import fields_for
from stalkrisk._wording import (
    OUTRANKED_NOTE,
    URGENT_BANNER,
    grade_line,
    picture_phrase,
    plain_conditions,
)

URGENT = stalkrisk.assess(vignettes.load("followed_by_car_right_now").case)


def test_the_text_report_html_and_fhir_give_the_same_urgent_banner() -> None:
    fhir_text = json.dumps(fhir.to_risk_assessment(URGENT, subject_reference="Patient/p1"))

    assert URGENT_BANNER in str(URGENT)
    assert escape(URGENT_BANNER) in URGENT._repr_html_()
    assert json.dumps(URGENT_BANNER)[1:-1] in fhir_text


def test_the_text_report_and_html_describe_the_picture_alike() -> None:
    phrase = picture_phrase(URGENT)

    assert f"The picture {phrase}." in str(URGENT)
    assert f"The picture {escape(phrase)}." in URGENT._repr_html_()


def test_the_grade_line_names_level_urgency_and_title() -> None:
    assert grade_line(URGENT) == f"police · URGENT — {URGENT.level_title}"


# --- conditions in plain words --------------------------------------------------------------

_ENGINE_NAME = re.compile(r"\b[a-z]+_[a-z_]+\b")
"""What an engine field or parameter name looks like: snake_case, which prose never is."""


def _plain(pack: stalkrisk.RulePack, rule_id: str) -> str:
    return plain_conditions(pack)[rule_id]


@pytest.mark.parametrize("pack", stalkrisk.bundled_packs(), ids=lambda p: p.name)
def test_no_plain_condition_of_a_bundled_pack_names_an_engine_field(
    pack: stalkrisk.RulePack,
) -> None:
    named = {rule: _ENGINE_NAME.findall(text) for rule, text in plain_conditions(pack).items()}

    assert {rule: found for rule, found in named.items() if found} == {}


def test_every_field_has_a_phrase_and_every_flag_or_enum_its_negation() -> None:
    specs = [spec for kind in ("episode", "case", "grade") for spec in fields_for(kind).values()]

    assert [s.name for s in specs if not s.phrase] == []
    assert [s.name for s in specs if s.type in ("bool", "enum") and not s.phrase_not] == []


def test_a_plain_condition_gives_the_parameter_value() -> None:
    pack = stalkrisk.default_rule_pack()

    assert _plain(pack, "grade.boundaries.repeated_contact") == "at least 3 stalking contacts"


def test_a_plain_condition_follows_a_changed_parameter() -> None:
    pack = stalkrisk.default_rule_pack().with_parameters(repeated_contacts_min=5)

    assert _plain(pack, "grade.boundaries.repeated_contact") == "at least 5 stalking contacts"


def test_a_plain_condition_spells_out_the_pattern_threshold() -> None:
    assert _plain(stalkrisk.default_rule_pack(), "grade.consultation.pattern") == (
        "a course of conduct (2 or more distinct stalking behaviours over at least 14 days)"
    )


def test_a_plain_condition_names_behaviours_by_the_pack_labels() -> None:
    text = _plain(stalkrisk.default_rule_pack(), "grade.boundaries.third_party")

    assert text == "at least 1 contact showing contact through third parties"


def test_a_plain_condition_says_no_for_a_zero_count_and_names_fear_levels() -> None:
    pack = stalkrisk.default_rule_pack()

    assert "no contacts showing following" in _plain(pack, "grade.reflective.frail_client")
    assert _plain(pack, "element.fear.reported") == (
        "the clinician's reported fear is at least significant"
    )


GIFT = stalkrisk.assess(case(contact("a", 0, "gift")))


def test_raise_if_keeps_the_engine_form_as_its_expression() -> None:
    repeated = next(i for i in GIFT.raise_if if i.rule_id == "grade.boundaries.repeated_contact")

    assert repeated.condition == "at least 3 stalking contacts"
    assert repeated.expression == "stalking_contacts ≥ repeated_contacts_min = 3"


def test_the_text_report_states_raise_if_conditions_in_plain_words() -> None:
    report = " ".join(str(GIFT).split())

    assert all(item.condition in report for item in GIFT.raise_if)
    assert "stalking_contacts" not in report


# --- the rules that set the grade, and the outranked -----------------------------------------

PATTERN_AND_GIFT = stalkrisk.assess(
    case(contact("a", 0, "following"), contact("b", 14, "gift", "surveillance"))
)


def test_an_outranked_rule_is_listed_under_its_heading_without_its_rationale() -> None:
    crossing = next(
        r for r in PATTERN_AND_GIFT.rules_fired if r.id == "grade.reflective.boundary_crossing"
    )
    report = str(PATTERN_AND_GIFT)

    assert PATTERN_AND_GIFT.elements.pattern.present
    assert report.index("Fired, but outranked") < report.index(crossing.id)
    assert " ".join(crossing.rationale.split()[:6]) not in " ".join(report.split())


def test_the_outranked_note_is_said_once_in_the_text_report() -> None:
    assert " ".join(str(PATTERN_AND_GIFT).split()).count(OUTRANKED_NOTE) == 1


def test_the_rules_that_set_the_grade_keep_their_rationale() -> None:
    setting = [r for r in PATTERN_AND_GIFT.rules_fired if r.sets_grade]
    report = " ".join(str(PATTERN_AND_GIFT).split())

    assert setting
    assert all(" ".join(r.rationale.split()) in report for r in setting)
