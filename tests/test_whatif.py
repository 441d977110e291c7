"""What-if: derive a variant of a case without touching it, and compare the two assessments."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from builders import at, case, contact

import stalkrisk
from stalkrisk import vignettes

FRAIL = vignettes.load("frail_client_drives_past_house").case
NOT_AN_ID = "Zebediah Quux's mother"


def test_with_contacts_adds_and_leaves_the_original_alone() -> None:
    more = FRAIL.with_contacts(contact("x", at(3), "following"))

    assert len(more.contacts) == len(FRAIL.contacts) + 1
    assert "x" not in {c.id for c in FRAIL.contacts}


def test_with_contacts_revalidates_ids() -> None:
    with pytest.raises(stalkrisk.CaseValidationError, match="repeats the id"):
        FRAIL.with_contacts(contact("v1", at(3), "following"))


def test_with_contacts_accepts_models() -> None:
    model = stalkrisk.Contact.model_validate(contact("x", at(3), "gift"))

    assert FRAIL.with_contacts(model).contacts[-1] == model


def test_without_contacts_removes_by_id() -> None:
    assert [c.id for c in FRAIL.without_contacts("v1").contacts] == ["v2"]


def test_without_an_unknown_contact_is_an_error() -> None:
    with pytest.raises(stalkrisk.CaseValidationError, match="no contact with id"):
        FRAIL.without_contacts("nope")


def test_with_fear_changes_only_what_is_given() -> None:
    afraid = FRAIL.with_fear("severe")

    assert afraid.fear.level is stalkrisk.FearLevel.SEVERE
    assert afraid.fear.family_afraid == FRAIL.fear.family_afraid
    assert FRAIL.fear.level is stalkrisk.FearLevel.SOME


def test_with_client_sets_history_fields() -> None:
    assert FRAIL.with_client(prior_violence=True).client.prior_violence


def test_assessed_on_moves_the_reference_time() -> None:
    later = FRAIL.assessed_on(at(30))

    assert later.assessed_at == at(30)


def test_compare_reports_grade_change_elements_and_rules() -> None:
    before = stalkrisk.assess(FRAIL)
    after = stalkrisk.assess(FRAIL.with_fear("significant"))

    comparison = stalkrisk.compare(before, after)

    assert comparison.level_change == after.level.rank - before.level.rank > 0
    assert comparison.elements_gained == ("fear",)
    assert comparison.elements_lost == ()
    assert "element.fear.reported" in comparison.rules_started
    assert "note.regressive_contact" in comparison.rules_stopped
    assert "explore_in_therapy" in comparison.actions_dropped
    assert comparison.changed


def test_compare_of_an_assessment_with_itself_shows_no_change() -> None:
    result = stalkrisk.assess(FRAIL)

    comparison = stalkrisk.compare(result, result)

    assert not comparison.changed
    assert "Nothing else changed." in str(comparison)


def test_comparison_text_and_html_name_both_grades() -> None:
    comparison = stalkrisk.compare(
        stalkrisk.assess(FRAIL), stalkrisk.assess(FRAIL.with_fear("severe"))
    )

    assert str(comparison).startswith(
        "Grade: reflective — Reflective handling in therapy → consultation — Consult and plan "
        "for safety (2 steps up)"
    )
    assert ">reflective</span>" in comparison._repr_html_()
    assert ">consultation</span>" in comparison._repr_html_()


# --- compare takes cases as well as assessments ------------------------------------------


def test_compare_assesses_two_cases() -> None:
    comparison = stalkrisk.compare(FRAIL, FRAIL.with_fear("severe"))

    assert comparison == stalkrisk.compare(
        stalkrisk.assess(FRAIL), stalkrisk.assess(FRAIL.with_fear("severe"))
    )


def test_compare_takes_any_case_input(tmp_path: Path) -> None:
    path = tmp_path / "after.json"
    path.write_text(FRAIL.with_fear("severe").model_dump_json(), encoding="utf-8")

    comparison = stalkrisk.compare(json.loads(FRAIL.model_dump_json()), path)

    assert comparison.elements_gained == ("fear",)


def test_compare_assesses_cases_with_the_given_pack() -> None:
    pack = stalkrisk.default_rule_pack().with_parameters(pattern_min_span_days=21)
    short = case(contact("a", 0, "following"), contact("b", 14, "surveillance"))

    comparison = stalkrisk.compare(short, short, rule_pack=pack)

    assert comparison.before.rule_pack.sha256 == comparison.after.rule_pack.sha256 == pack.sha256
    assert not comparison.after.elements.pattern.present


def test_compare_refuses_an_assessment_and_a_case_naming_both_types() -> None:
    expected = r"two Assessments or two cases.*before is Assessment and after is Case"

    with pytest.raises(TypeError, match=expected):
        stalkrisk.compare(stalkrisk.assess(FRAIL), FRAIL)


@pytest.mark.parametrize(
    ("before", "after", "named"),
    [(1, FRAIL, r"before must be .*, not int"), (FRAIL, None, r"after must be .*, not NoneType")],
)
def test_compare_refuses_what_is_not_a_case_naming_the_argument_and_its_type(
    before: object, after: object, named: str
) -> None:
    with pytest.raises(TypeError, match=named):
        stalkrisk.compare(before, after)  # type: ignore[arg-type]


def test_compare_refuses_a_rule_pack_with_two_assessments() -> None:
    result = stalkrisk.assess(FRAIL)

    with pytest.raises(TypeError, match="rule_pack applies to cases only"):
        stalkrisk.compare(result, result, rule_pack=stalkrisk.default_rule_pack())


# --- with_contact ---------------------------------------------------------------------------


def test_with_contact_changes_only_that_contact() -> None:
    armed = FRAIL.with_contact("v1", weapon=True)

    assert [c.weapon for c in armed.contacts] == [True, False]
    assert not FRAIL.contacts[0].weapon


def test_with_contact_can_rename_the_contact() -> None:
    assert [c.id for c in FRAIL.with_contact("v1", id="v0").contacts] == ["v0", "v2"]


def test_with_contact_of_an_unknown_id_is_an_error_at_contacts() -> None:
    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        FRAIL.with_contact("nope", weapon=True)

    assert [(p.loc, p.type) for p in caught.value.problems] == [("contacts", "unknown_id")]
    assert "'nope'" in str(caught.value)


def test_with_contact_never_echoes_an_unknown_id_not_shaped_like_one() -> None:
    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        FRAIL.with_contact(NOT_AN_ID, weapon=True)

    assert "Zebediah" not in str(caught.value)


def test_with_contact_validates_the_changes() -> None:
    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        FRAIL.with_contact("v2", at=datetime(2025, 1, 8))

    assert [p.loc for p in caught.value.problems] == ["contacts.1.at"]


# --- every with_* helper raises only CaseValidationError for bad input --------------------

BAD_INPUT: dict[str, Callable[[stalkrisk.Case], object]] = {
    "with_contacts(an int)": lambda c: c.with_contacts(5),  # type: ignore[arg-type]
    "with_contacts(text)": lambda c: c.with_contacts("v3"),  # type: ignore[arg-type]
    "with_contacts(a bad contact)": lambda c: c.with_contacts({"id": "x"}),
    "without_contacts(an int)": lambda c: c.without_contacts(5),  # type: ignore[arg-type]
    "without_contacts(a list)": lambda c: c.without_contacts(["v1"]),  # type: ignore[arg-type]
    "with_contact(an unknown id)": lambda c: c.with_contact("nope"),
    "with_contact(an int)": lambda c: c.with_contact(5),  # type: ignore[arg-type]
    "with_contact(at=naive)": lambda c: c.with_contact("v1", at=datetime(2025, 1, 1)),
    "with_contact(unknown=1)": lambda c: c.with_contact("v1", unknown=1),
    "with_contact(behaviours=bogus)": lambda c: c.with_contact("v1", behaviours=["bogus"]),
    "with_fear(bogus)": lambda c: c.with_fear("bogus"),
    "with_fear(3)": lambda c: c.with_fear(3),  # type: ignore[arg-type]
    "with_fear(family_afraid=yes)": lambda c: c.with_fear(family_afraid="yes"),  # type: ignore[arg-type]
    "with_client(unknown_field=1)": lambda c: c.with_client(unknown_field=1),
    "with_client(relationship=bogus)": lambda c: c.with_client(relationship="bogus"),
    "with_client(therapy_start=text)": lambda c: c.with_client(therapy_start="soon"),
    "with_client(known_since=object)": lambda c: c.with_client(known_since=object()),
    "assessed_on(naive)": lambda c: c.assessed_on(datetime(2025, 2, 1)),
    "assessed_on(text)": lambda c: c.assessed_on("next week"),  # type: ignore[arg-type]
    "assessed_on(None)": lambda c: c.assessed_on(None),  # type: ignore[arg-type]
    "as_of(naive)": lambda c: c.as_of(datetime(2025, 1, 8)),
    "as_of(text)": lambda c: c.as_of("2025-01-08"),  # type: ignore[arg-type]
    "as_of(None)": lambda c: c.as_of(None),  # type: ignore[arg-type]
    "as_of(later)": lambda c: c.as_of(at(365)),
}


@pytest.mark.parametrize("call", BAD_INPUT.values(), ids=BAD_INPUT.keys())
def test_a_with_helper_given_bad_input_raises_case_validation_error(
    call: Callable[[stalkrisk.Case], object],
) -> None:
    with pytest.raises(stalkrisk.CaseValidationError):
        call(FRAIL)


# --- the comparison in words ----------------------------------------------------------------


def _frail_to_afraid() -> stalkrisk.Comparison:
    return stalkrisk.compare(FRAIL, FRAIL.with_fear("severe"))


def test_comparison_text_names_actions_by_their_text() -> None:
    comparison = _frail_to_afraid()
    texts = {a.id: a.text for a in (*comparison.before.actions, *comparison.after.actions)}

    assert texts["explore_in_therapy"] in str(comparison)
    assert "explore_in_therapy" not in str(comparison)


def test_comparison_text_names_rules_by_their_titles() -> None:
    text = str(_frail_to_afraid())

    assert "The clinician reports significant fear" in text
    assert "element.fear.reported" not in text


def test_comparison_says_which_rules_set_each_grade() -> None:
    text = str(_frail_to_afraid())

    assert "Grade set before by: A frail client's contact with no threat" in text
    assert "Grade set after by: The clinician or family is afraid" in text


def test_comparison_marks_rules_that_started_but_were_outranked() -> None:
    threat = FRAIL.with_contacts(contact("t", at(5), "threat"))

    started = dict(stalkrisk.compare(FRAIL, threat).changes())["Rules started firing"]

    assert "Threat, violence, damage or protection-order breach" in started
    assert "Course of conduct met (outranked)" not in started
    assert any(title.endswith("(outranked)") for title in started)


def test_comparison_html_shows_action_texts_and_rule_titles_not_ids() -> None:
    comparison = _frail_to_afraid()
    html = comparison._repr_html_()

    assert "Involve a supervisor; let them confront the client" in html
    assert "The clinician reports significant fear" in html
    assert not {*comparison.actions_added, *comparison.rules_started} & set(
        html.replace("<", " ").replace(">", " ").split()
    )
