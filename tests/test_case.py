"""The input models: what validates, what is rejected, and how errors read."""

from __future__ import annotations

import json
from typing import Any

import pytest
from builders import at, case, contact
from hypothesis import given, settings
from pydantic import ValidationError

import stalkrisk
from stalkrisk import strategies
from stalkrisk._case import case_json

SECRET = "SENTINEL-PRIVATE-TEXT"


def problems(data: Any) -> list[stalkrisk.Problem]:
    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        stalkrisk.parse_case(data)
    return list(caught.value.problems)


def locs(data: Any) -> list[str]:
    return [p.loc for p in problems(data)]


def test_behaviour_codes_are_the_domain_vocabulary() -> None:
    assert {b.value for b in stalkrisk.Behaviour} == {
        "following", "surveillance", "unwanted_approach", "loitering",
        "unwanted_correspondence", "unwanted_calls", "threat", "offensive_material",
        "malicious_gossip", "false_identity", "gift", "out_of_session_contact",
        "social_media_contact", "third_party_contact", "property_damage", "physical_violence",
    }  # fmt: skip


def test_level_codes_are_ordered_lowest_first() -> None:
    assert [level.value for level in stalkrisk.Level] == [
        "none", "reflective", "boundaries", "consultation", "referral", "police",
    ]  # fmt: skip
    assert [level.rank for level in stalkrisk.Level] == list(range(6))


def test_a_valid_case_round_trips_through_json() -> None:
    parsed = stalkrisk.parse_case(case(contact("a", 0, "gift", note="x", witnesses=["w"])))

    assert stalkrisk.parse_case(parsed.model_dump_json()) == parsed


def test_mapping_and_json_text_validate_alike() -> None:
    data = case(contact("a", 0, "gift"))

    assert stalkrisk.parse_case(data) == stalkrisk.parse_case(json.dumps(data))


def test_models_are_immutable() -> None:
    parsed = stalkrisk.parse_case(case(contact("a", 0, "gift")))

    with pytest.raises(ValidationError):
        parsed.contacts[0].id = "b"  # type: ignore[misc]


def test_unknown_field_is_rejected_with_its_path() -> None:
    data = case(contact("a", 0, "gift"))
    data["contacts"][0]["colour"] = "red"

    assert locs(data) == ["contacts.0.colour"]


def test_naive_timestamp_is_rejected() -> None:
    data = case(contact("a", 0, "gift"))
    data["contacts"][0]["at"] = "2025-01-06T09:00:00"

    assert [(p.loc, p.type) for p in problems(data)] == [("contacts.0.at", "timezone_aware")]


def test_naive_assessed_at_is_rejected() -> None:
    data = case(contact("a", 0, "gift"))
    data["assessed_at"] = "2025-02-01T00:00:00"

    assert locs(data) == ["assessed_at"]


def test_contact_without_behaviours_is_rejected() -> None:
    assert locs(case(contact("a", 0))) == ["contacts.0.behaviours"]


def test_unknown_behaviour_code_is_rejected() -> None:
    assert locs(case(contact("a", 0, "stalking"))) == ["contacts.0.behaviours.0"]


def test_repeated_behaviour_in_one_contact_is_rejected() -> None:
    [problem] = problems(case(contact("a", 0, "gift", "gift")))

    assert (problem.loc, problem.type) == ("contacts.0.behaviours", "inconsistent")
    assert "the same code twice" in problem.msg


def test_duplicate_contact_ids_are_rejected_naming_both_positions() -> None:
    [problem] = problems(case(contact("a", 0, "gift"), contact("a", 1, "gift")))

    assert problem.loc == "contacts.1.id"
    assert "repeats the id of contacts.0" in problem.msg


def test_contact_after_assessed_at_is_rejected() -> None:
    [problem] = problems(case(contact("a", 5, "gift"), assessed_at=4))

    assert problem.loc == "contacts.0.at"
    assert "is after assessed_at" in problem.msg


def test_contact_at_assessed_at_is_accepted() -> None:
    assert stalkrisk.parse_case(case(contact("a", 5, "gift"), assessed_at=5))


def test_specific_threat_requires_a_threat() -> None:
    [problem] = problems(case(contact("a", 0, "unwanted_calls", specific_threat=True)))

    assert problem.loc == "contacts.0.specific_threat"
    assert "no 'threat'" in problem.msg


def test_therapy_end_before_start_is_rejected() -> None:
    data = case(history={"therapy_start": "2024-05-01", "therapy_end": "2024-04-01"})

    assert [(p.loc, p.msg) for p in problems(data)] == [
        ("client.therapy_end", "is before therapy_start; swap or correct them")
    ]


def test_warning_after_assessed_at_is_rejected() -> None:
    data = case(contact("a", 0, "gift"), boundaries={"warnings": [{"at": at(3).isoformat()}]})

    assert locs(data) == ["boundaries.warnings.0.at"]


def test_unknown_relationship_and_fear_level_are_rejected() -> None:
    data = case(contact("a", 0, "gift"), relationship="friend", fear="terrified")

    assert locs(data) == ["client.relationship", "fear.level"]


def test_contact_id_must_be_an_identifier() -> None:
    assert locs(case(contact("two words", 0, "gift"))) == ["contacts.0.id"]


def test_every_problem_is_reported_not_just_the_first() -> None:
    data = case(contact("a", 0), contact("b", 1, "nonsense"))

    assert locs(data) == ["contacts.0.behaviours", "contacts.1.behaviours.0"]


def test_invalid_json_text_is_a_case_validation_error() -> None:
    [problem] = problems("{not json")

    assert problem.type == "json_invalid"


def test_case_validation_error_is_a_value_error_and_a_stalkrisk_error() -> None:
    error = stalkrisk.CaseValidationError([])

    assert isinstance(error, ValueError)
    assert isinstance(error, stalkrisk.StalkriskError)


@pytest.mark.parametrize(
    "where",
    ["note", "location", "response", "witnesses", "evidence", "id", "at", "behaviours"],
)
def test_error_messages_never_quote_free_text(where: str) -> None:
    data = case(contact("a", 0, "gift", note=SECRET, location=SECRET, response=SECRET))
    bad = {"witnesses": [SECRET, 3], "evidence": ["", SECRET], "id": SECRET + " !",
           "at": SECRET, "behaviours": [SECRET], "note": 7, "location": [SECRET],
           "response": {"x": SECRET}}[where]  # fmt: skip
    data["contacts"][0][where] = bad

    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        stalkrisk.parse_case(data)

    assert SECRET not in str(caught.value)
    assert all(SECRET not in str(p) for p in caught.value.problems)


def test_every_cross_field_problem_is_reported_with_its_own_path() -> None:
    data = case(
        contact("a", 0, "gift"),
        contact("a", 9, "gift"),
        assessed_at=5,
        history={"protection_order_since": at(6).isoformat(), "therapy_start": "2030-01-01"},
        boundaries={"agreement_at": at(7).isoformat()},
    )

    assert locs(data) == [
        "contacts.1.id",
        "contacts.1.at",
        "boundaries.agreement_at",
        "client.protection_order_since",
        "client.therapy_start",
    ]


def test_errors_from_the_models_themselves_hide_the_input() -> None:
    with pytest.raises(ValidationError) as caught:
        stalkrisk.Contact(id="a", at=at(0), behaviours=(), note=SECRET)

    assert SECRET not in str(caught.value)


def test_a_number_is_not_read_as_a_timestamp() -> None:
    data = case(contact("a", 0, "gift"))
    data["contacts"][0]["at"] = 12345.5
    data["client"]["therapy_start"] = 0

    found = problems(data)

    assert {(p.loc, p.type) for p in found} == {
        ("contacts.0.at", "iso_datetime"),
        ("client.therapy_start", "iso_date"),
    }


@settings(max_examples=100)
@given(strategies.cases())
def test_the_json_a_case_travels_as_validates_back_to_the_same_case(
    generated: stalkrisk.Case,
) -> None:
    assert stalkrisk.parse_case(case_json(generated)) == generated


def test_a_problem_gives_its_location_as_parts_with_list_positions_as_ints() -> None:
    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        stalkrisk.parse_case(
            {
                "assessed_at": "2025-01-02T00:00:00Z",
                "client": {"relationship": "current"},
                "contacts": [
                    {"id": "a", "at": "2025-01-01T00:00:00Z", "behaviours": ["gift"]},
                    {"id": "b", "at": "yesterday", "behaviours": ["gift"]},
                ],
            }
        )

    [problem] = caught.value.problems
    assert problem.loc == "contacts.1.at"
    assert problem.path == ("contacts", 1, "at")
