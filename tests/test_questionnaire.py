"""Intake as a FHIR Questionnaire: the form, a filled-in response, and the Case read back.

Every Questionnaire and QuestionnaireResponse is parsed again with the ``fhir.resources``
model of its version (R4 and R4B with the R4B models, R5 with the R5 models).
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterator
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import pytest
from builders import BUNDLED_VIGNETTES, case, contact
from pydantic import BaseModel

import stalkrisk
from stalkrisk import Behaviour, Case, CaseValidationError, Channel, FearLevel, Relationship
from stalkrisk.fhir import (
    QUESTIONNAIRE_URL,
    FhirVersion,
    case_from_response,
    questionnaire,
    response_from_case,
)

VERSIONS: tuple[FhirVersion, ...] = ("R4", "R4B", "R5")
SYSTEM = "https://stalkrisk.example/fhir/CodeSystem/"
SENTINEL = "SENTINEL-SECRET-TEXT"


def model_class(version: str, resource: str) -> Any:
    """The fhir.resources class of ``resource`` that validates ``version``."""
    if version == "R5":
        from fhir.resources import get_fhir_model_class

        return get_fhir_model_class(resource)
    from fhir.resources.R4B import get_fhir_model_class as get_r4b_class

    return get_r4b_class(resource)


def items(tree: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every item of a Questionnaire's item tree, depth first."""
    for item in tree:
        yield item
        yield from items(item.get("item", []))


def form_items(version: FhirVersion = "R4") -> dict[str, dict[str, Any]]:
    return {item["linkId"]: item for item in items(questionnaire(version=version)["item"])}


# --- building responses by hand ---------------------------------------------------------


def q(link_id: str, *answers: dict[str, Any]) -> dict[str, Any]:
    """A question item with ``answers``."""
    return {"linkId": link_id, "answer": list(answers)}


def g(link_id: str, *children: dict[str, Any]) -> dict[str, Any]:
    """A group item holding ``children``."""
    return {"linkId": link_id, "item": list(children)}


def moment(text: str) -> dict[str, str]:
    return {"valueDateTime": text}


def code(name: str, value: str) -> dict[str, Any]:
    return {"valueCoding": {"system": SYSTEM + name, "code": value}}


def text(value: str) -> dict[str, str]:
    return {"valueString": value}


def yes(value: bool = True) -> dict[str, bool]:
    return {"valueBoolean": value}


def a_contact(cid: str, at: str, *extra: dict[str, Any]) -> dict[str, Any]:
    return g(
        "contacts",
        q("contacts.id", text(cid)),
        q("contacts.at", moment(at)),
        q("contacts.behaviours", code("behaviour", "gift")),
        *extra,
    )


ASSESSED = q("assessed_at", moment("2025-03-24T09:00:00+01:00"))
CLIENT = g("client", q("client.relationship", code("relationship", "current")))


def response(*item_list: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A completed response to the intake form; ``fields`` replace its top-level elements."""
    document = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": QUESTIONNAIRE_URL,
        "status": "completed",
        "item": list(item_list),
    }
    return document | fields


def problems(document: Any, version: FhirVersion = "R4") -> list[tuple[str, str]]:
    """The (loc, type) of each problem reading ``document``."""
    with pytest.raises(CaseValidationError) as caught:
        case_from_response(document, version=version)
    return [(p.loc, p.type) for p in caught.value.problems]


# --- the form -----------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_questionnaire_validates_with_fhir_resources(version: FhirVersion) -> None:
    form = questionnaire(version=version)

    parsed = model_class(version, "Questionnaire").model_validate(form)

    assert json.loads(parsed.model_dump_json(exclude_none=True)) == form
    assert (form["url"], form["version"]) == (QUESTIONNAIRE_URL, stalkrisk.__version__)
    assert form["status"] == "active"


@pytest.mark.parametrize("version", VERSIONS)
def test_each_link_id_is_unique(version: FhirVersion) -> None:
    link_ids = [item["linkId"] for item in items(questionnaire(version=version)["item"])]

    assert len(link_ids) == len(set(link_ids))


def model_fields(model: type[BaseModel], prefix: str = "") -> dict[str, Any]:
    """Every field path of ``model`` with its type, nested models and their fields too."""
    found: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        found[path] = field.annotation
        inner = plain(field.annotation)
        if typing.get_origin(inner) is tuple:
            inner = plain(typing.get_args(inner)[0])
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            found |= model_fields(inner, f"{path}.")
    return found


def plain(annotation: Any) -> Any:
    """``annotation`` without ``Annotated`` metadata and ``None`` choices."""
    if typing.get_origin(annotation) is typing.Annotated:
        return plain(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        [only] = [a for a in typing.get_args(annotation) if a is not type(None)]
        return plain(only)
    return annotation


def expected_item(annotation: Any) -> tuple[str, bool]:
    """The item type and ``repeats`` a field of type ``annotation`` needs."""
    annotation = plain(annotation)
    repeats = typing.get_origin(annotation) is tuple
    if repeats:
        annotation = plain(typing.get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "group", repeats
    if isinstance(annotation, type) and issubclass(annotation, StrEnum):
        return "choice", repeats
    kinds = {datetime: "dateTime", date: "date", bool: "boolean", str: "string"}
    return kinds[annotation], repeats


def test_every_case_field_has_an_item_of_its_type() -> None:
    fields = model_fields(Case)
    form = form_items()

    assert set(form) == set(fields)
    for path, annotation in fields.items():
        kind, repeats = expected_item(annotation)
        item = form[path]
        # Free text longer than a line is a "text" item, a string too.
        actual = "string" if item["type"] == "text" else item["type"]
        assert (path, actual, item.get("repeats", False)) == (path, kind, repeats)


def test_required_items_are_the_required_fields() -> None:
    form = form_items()

    required = {link_id for link_id, item in form.items() if item.get("required")}

    assert required == {
        "assessed_at",
        "client",
        "client.relationship",
        "boundaries.warnings.at",
        "contacts.id",
        "contacts.at",
        "contacts.behaviours",
        "fear.reports.at",
        "fear.reports.level",
    }


def test_r4_asks_coded_questions_as_choice_items() -> None:
    relationship = form_items("R4")["client.relationship"]

    assert relationship["type"] == "choice"
    assert "answerConstraint" not in relationship
    assert [o["valueCoding"]["code"] for o in relationship["answerOption"]] == list(Relationship)


def test_r5_asks_coded_questions_as_coding_items_limited_to_their_options() -> None:
    form = form_items("R5")

    coded = {link_id for link_id, item in form.items() if item["type"] == "coding"}

    assert "choice" not in {item["type"] for item in form.values()}
    assert coded == {link_id for link_id, item in form_items("R4").items()
                     if item["type"] == "choice"}  # fmt: skip
    assert {form[link_id]["answerConstraint"] for link_id in coded} == {"optionsOnly"}


def test_behaviours_come_from_a_contained_value_set_with_the_rule_pack_labels() -> None:
    form = questionnaire()
    [value_set] = form["contained"]
    behaviours = form_items()["contacts.behaviours"]

    labels = {spec.code.value: spec.label for spec in stalkrisk.default_rule_pack().behaviours}
    [include] = value_set["compose"]["include"]

    assert behaviours["answerValueSet"] == f"#{value_set['id']}"
    assert include["system"] == SYSTEM + "behaviour"
    assert {c["code"]: c["display"] for c in include["concept"]} == labels
    assert [c["code"] for c in include["concept"]] == list(Behaviour)


def test_each_coded_question_offers_every_code_of_its_enum_with_a_display() -> None:
    form = form_items()
    enums = {"client.relationship": Relationship, "contacts.channel": Channel,
             "fear.level": FearLevel, "fear.reports.level": FearLevel}  # fmt: skip

    for link_id, enum in enums.items():
        options = [option["valueCoding"] for option in form[link_id]["answerOption"]]
        assert [o["code"] for o in options] == list(enum)
        assert all(o["display"] for o in options)


def test_defaults_are_the_initial_answers() -> None:
    form = form_items()

    [selected] = [o for o in form["contacts.targets"]["answerOption"] if o.get("initialSelected")]

    assert selected["valueCoding"]["code"] == "clinician"
    assert form["client.prior_violence"]["initial"] == [{"valueBoolean": False}]


def test_a_specific_threat_is_asked_only_about_a_threat() -> None:
    [when] = form_items()["contacts.specific_threat"]["enableWhen"]

    assert (when["question"], when["operator"]) == ("contacts.behaviours", "=")
    assert when["answerCoding"]["code"] == "threat"


def test_an_unknown_version_is_refused() -> None:
    with pytest.raises(ValueError, match="version must be one of"):
        questionnaire(version="R3")  # type: ignore[arg-type]


# --- case to response and back ------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("vignette", BUNDLED_VIGNETTES, ids=lambda v: v.stem)
def test_every_vignette_reads_back_from_its_response(vignette: Any, version: FhirVersion) -> None:
    original = stalkrisk.parse_case(vignette.read_text())

    document = response_from_case(original, version=version)

    model_class(version, "QuestionnaireResponse").model_validate(document)
    assert document["status"] == "completed"
    assert document["questionnaire"] == f"{QUESTIONNAIRE_URL}|{stalkrisk.__version__}"
    back = case_from_response(document, version=version)
    assert back == original
    assert back.model_dump_json() == original.model_dump_json()


def test_json_text_reads_as_the_mapping_does() -> None:
    document = response_from_case(stalkrisk.example_case())

    assert case_from_response(json.dumps(document)) == case_from_response(document)
    assert case_from_response(json.dumps(document).encode()) == stalkrisk.example_case()


def test_unanswered_questions_take_the_case_defaults() -> None:
    back = case_from_response(response(ASSESSED, CLIENT, a_contact("c1", "2025-03-20T10:00:00Z")))

    assert back == stalkrisk.parse_case(
        case(contact("c1", datetime.fromisoformat("2025-03-20T10:00:00Z"), "gift"),
             assessed_at=datetime.fromisoformat("2025-03-24T09:00:00+01:00"))
    )  # fmt: skip


def test_a_coding_may_leave_out_the_system_of_its_option() -> None:
    client = g("client", q("client.relationship", {"valueCoding": {"code": "former"}}))

    back = case_from_response(response(ASSESSED, client))

    assert back.client.relationship is Relationship.FORMER


def test_empty_free_text_reads_back_as_absent() -> None:
    original = stalkrisk.example_case().with_contacts(
        {"id": "x", "at": "2025-03-01T00:00:00Z", "behaviours": ["gift"], "note": ""}
    )

    back = case_from_response(response_from_case(original))

    assert back.contacts[-1].note is None


def test_text_fhir_cannot_hold_is_refused_at_its_item_without_quoting_it() -> None:
    original = stalkrisk.example_case().with_contacts(
        {"id": "x", "at": "2025-03-01T00:00:00Z", "behaviours": ["gift"], "location": "\x0c"}
    )

    with pytest.raises(CaseValidationError) as caught:
        response_from_case(original)

    last = len(original.contacts) - 1
    assert [(p.loc, p.type) for p in caught.value.problems] == [
        (f"contacts[{last}].location", "fhir")
    ]
    assert "\x0c" not in str(caught.value)


# --- problems, each at its linkId ---------------------------------------------------------


def test_a_time_without_a_utc_offset_is_a_problem_at_its_link_id() -> None:
    first = a_contact("c1", "2025-03-20T10:00:00Z")
    second = a_contact("c2", "2025-03-21T10:00:00")

    assert problems(response(ASSESSED, CLIENT, first, second)) == [
        ("contacts[1].at", "timezone_aware")
    ]


@pytest.mark.parametrize(
    ("replaced", "expected"),
    [
        pytest.param(q("assessed_at", moment("2025-03")), ("assessed_at", "iso_datetime"),
                     id="partial-datetime"),
        pytest.param(q("assessed_at", moment("2025-03-24T09:00+01:00")),
                     ("assessed_at", "iso_datetime"), id="datetime-without-seconds"),
        pytest.param(q("assessed_at", {"valueDate": "2025-03-24"}),
                     ("assessed_at", "answer_type"), id="date-for-datetime"),
        pytest.param(q("assessed_at", moment("2025-03-24T09:00:00+01:00"),
                       moment("2025-03-24T10:00:00+01:00")),
                     ("assessed_at", "too_many_answers"), id="two-answers"),
        pytest.param(q("assessed_at"), ("assessed_at", "missing"), id="no-answer"),
        pytest.param(g("client", q("client.relationship", code("relationship", "ex"))),
                     ("client.relationship", "unknown_code"), id="unknown-code"),
        pytest.param(g("client", q("client.relationship", code("motive", "former"))),
                     ("client.relationship", "unknown_code"), id="other-system"),
        pytest.param(g("client", q("client.relationship", text("former"))),
                     ("client.relationship", "answer_type"), id="text-for-coding"),
        pytest.param(g("client", q("client.relationship", code("relationship", "former")),
                       q("client.prior_violence", text("true"))),
                     ("client.prior_violence", "answer_type"), id="text-for-boolean"),
        pytest.param(g("client", q("client.relationship", code("relationship", "former")),
                       q("client.therapy_start", {"valueDate": "2024-06"})),
                     ("client.therapy_start", "iso_date"), id="partial-date"),
        pytest.param(g("client"), ("client.relationship", "missing"), id="missing-relationship"),
        pytest.param(g("client", q("client.relationship", code("relationship", "former")),
                       q("client.colour", text("red"))),
                     ("client.colour", "unknown_link_id"), id="unknown-link-id"),
        pytest.param(g("client", q("client.relationship", code("relationship", "former")),
                       q("contacts.note", text("a"))),
                     ("contacts.note", "unknown_link_id"), id="misplaced-link-id"),
        pytest.param(g("client", q("client.relationship", code("relationship", "former")),
                       q("client.relationship", code("relationship", "former"))),
                     ("client.relationship", "repeated_item"), id="item-twice"),
        pytest.param({"linkId": "client", "answer": [text("a")],
                      "item": [q("client.relationship", code("relationship", "former"))]},
                     ("client", "nested"), id="group-with-answer"),
    ],
)  # fmt: skip
def test_a_bad_answer_is_a_problem_at_its_link_id(
    replaced: dict[str, Any], expected: tuple[str, str]
) -> None:
    kept = [item for item in (ASSESSED, CLIENT) if item["linkId"] != replaced["linkId"]]

    assert problems(response(*kept, replaced)) == [expected]


def test_answers_of_a_repeated_question_are_placed_by_their_position() -> None:
    behaviours = q("contacts.behaviours", code("behaviour", "gift"), code("behaviour", "folowing"))
    contact_item = g(
        "contacts",
        q("contacts.id", text("c1")),
        q("contacts.at", moment("2025-03-20T10:00:00Z")),
        behaviours,
    )

    with pytest.raises(CaseValidationError) as caught:
        case_from_response(response(ASSESSED, CLIENT, contact_item))

    [problem] = caught.value.problems
    assert (problem.loc, problem.type) == ("contacts[0].behaviours[1]", "unknown_code")
    assert "did you mean 'following'?" in problem.msg


def test_a_missing_answer_in_a_repeated_group_names_the_group_position() -> None:
    incomplete = g("contacts", q("contacts.id", text("c2")),
                   q("contacts.behaviours", code("behaviour", "gift")))  # fmt: skip

    assert problems(
        response(ASSESSED, CLIENT, a_contact("c1", "2025-03-20T10:00:00Z"), incomplete)
    ) == [("contacts[1].at", "missing")]


def test_every_problem_is_reported_not_only_the_first() -> None:
    document = response(
        q("assessed_at", moment("2025-03-24T09:00:00")),
        g("client", q("client.relationship", code("relationship", "ex"))),
        a_contact("c1", "2025-03-20", q("contacts.weapon", text("yes"))),
        g("fear", q("fear.level", code("fear-level", "terrified"))),
        q("mood", text("calm")),
        status="in-progress",
    )

    assert problems(document) == [
        ("status", "status"),
        ("assessed_at", "timezone_aware"),
        ("client.relationship", "unknown_code"),
        ("contacts[0].at", "iso_datetime"),
        ("contacts[0].weapon", "answer_type"),
        ("fear.level", "unknown_code"),
        ("mood", "unknown_link_id"),
    ]


def test_the_case_own_checks_are_placed_at_link_ids() -> None:
    client = g("client", q("client.relationship", code("relationship", "former")),
               q("client.therapy_start", {"valueDate": "2024-06-01"}),
               q("client.therapy_end", {"valueDate": "2024-01-01"}))  # fmt: skip

    assert problems(response(ASSESSED, client)) == [("client.therapy_end", "inconsistent")]


def test_contacts_are_checked_against_each_other_at_their_positions() -> None:
    document = response(
        ASSESSED,
        CLIENT,
        a_contact("c1", "2025-03-20T10:00:00Z"),
        a_contact("c1", "2025-03-21T10:00:00Z"),
        a_contact("c3", "2025-04-01T10:00:00Z"),
    )

    assert problems(document) == [
        ("contacts[1].id", "inconsistent"),
        ("contacts[2].at", "inconsistent"),
    ]


def test_a_specific_threat_without_a_threat_is_a_problem_at_its_item() -> None:
    threat = a_contact("c1", "2025-03-20T10:00:00Z", q("contacts.specific_threat", yes()))

    assert problems(response(ASSESSED, CLIENT, threat)) == [
        ("contacts[0].specific_threat", "inconsistent")
    ]


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        pytest.param("{", [("", "json_invalid")], id="not-json"),
        pytest.param([], [("", "input_type")], id="not-an-object"),
        pytest.param(response(ASSESSED, CLIENT, resourceType="Questionnaire"),
                     [("resourceType", "resource_type")], id="other-resource"),
        pytest.param(response(ASSESSED, CLIENT, status="in-progress"), [("status", "status")],
                     id="unfinished"),
        pytest.param(response(ASSESSED, CLIENT, questionnaire="https://other.example/Q"),
                     [("questionnaire", "questionnaire")], id="other-form"),
        pytest.param(response(ASSESSED, CLIENT, authored="yesterday"), [("authored", "fhir")],
                     id="invalid-fhir"),
    ],
)  # fmt: skip
def test_a_response_that_is_not_a_finished_intake_form_is_refused(
    document: object, expected: list[tuple[str, str]]
) -> None:
    assert problems(document) == expected


def test_a_versioned_canonical_is_accepted() -> None:
    document = response(ASSESSED, CLIENT, questionnaire=f"{QUESTIONNAIRE_URL}|0.0.9")

    assert case_from_response(document).client.relationship is Relationship.CURRENT


@pytest.mark.parametrize("version", VERSIONS)
def test_no_message_quotes_an_answer(version: FhirVersion) -> None:
    document = response(
        q("assessed_at", text(SENTINEL)),
        g("client", q("client.relationship", code("relationship", SENTINEL)),
          q(SENTINEL, text(SENTINEL)), q(f"client {SENTINEL}", text(SENTINEL))),
        a_contact("c1", SENTINEL, q("contacts.note", text(SENTINEL), text(SENTINEL))),
        a_contact(SENTINEL, "2025-03-20T10:00:00Z", q("contacts.weapon", text(SENTINEL))),
        g("fear", q("fear.level", {"valueCoding": {"system": SENTINEL, "code": SENTINEL}})),
        **{SENTINEL: SENTINEL},
    )  # fmt: skip

    with pytest.raises(CaseValidationError) as caught:
        case_from_response(document, version=version)

    assert len(caught.value.problems) >= 8
    assert SENTINEL not in str(caught.value)
    assert SENTINEL not in repr(caught.value.problems)


def test_a_key_given_twice_in_json_text_is_a_problem_at_its_item() -> None:
    text = json.dumps(response(ASSESSED, CLIENT)).replace(
        '"linkId": "client.relationship"',
        '"linkId": "client.relationship", "answer": [{"valueCoding": {"code": "former"}}]',
    )

    assert problems(text) == [("client.relationship", "duplicate_key")]


def test_json_text_may_start_with_a_byte_order_mark() -> None:
    text = "\ufeff" + json.dumps(response(ASSESSED, CLIENT))

    assert case_from_response(text).client.relationship is Relationship.CURRENT


def test_a_top_level_item_inside_a_group_is_misplaced() -> None:
    client = g("client", q("client.relationship", code("relationship", "former")), ASSESSED)

    with pytest.raises(CaseValidationError) as caught:
        case_from_response(response(client))

    assert [(p.loc, p.type, p.msg) for p in caught.value.problems] == [
        ("assessed_at", "unknown_link_id", "is not an item of group client; it belongs in the "
         "top level"),
        ("assessed_at", "missing", "is required; answer it"),
    ]  # fmt: skip
