"""What-if: derive a variant of a case without touching it, and compare the two assessments."""

from __future__ import annotations

import pytest
from builders import at, contact

import stalkrisk
from stalkrisk import vignettes

FRAIL = vignettes.load("frail_client_drives_past_house").case


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

    assert str(comparison).startswith("Grade: reflective → consultation")
    assert ">reflective</span>" in comparison._repr_html_()
    assert ">consultation</span>" in comparison._repr_html_()
