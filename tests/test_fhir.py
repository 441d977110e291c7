"""FHIR output: every assessment becomes a RiskAssessment that fhir.resources accepts.

The real validation is the round trip: each resource is parsed back into the
``fhir.resources`` model class of its version (R4 and R4B with the R4B models, R5 with
the R5 models) without error.
"""

from __future__ import annotations

import io
import json
import sys
import types
from datetime import datetime
from pathlib import Path
from typing import Any, get_args
from xml.etree import ElementTree

import pytest
from builders import BUNDLED_VIGNETTES, BundledVignette, case, contact

import stalkrisk
import stalkrisk.fhir
from stalkrisk import _cli
from stalkrisk.fhir import (
    ASSESSMENT_CODE,
    ASSESSMENT_SYSTEM,
    ASSESSMENT_SYSTEM_VERSION,
    CASE_REF_SYSTEM,
    FIRED_RULE_EXTENSION,
    LEVEL_EXTENSION,
    LEVEL_SYSTEM,
    OUTCOME_CODE,
    OUTCOME_TEXT,
    RISK_PROBABILITY,
    RISK_PROBABILITY_SYSTEM,
    RULE_PACK_SYSTEM,
    URGENT_EXTENSION,
    FhirVersion,
    Reference,
    RiskAssessmentStatus,
    assessment_code_system,
    to_risk_assessment,
)

ROOT = Path(__file__).resolve().parents[1]
VIGNETTES = BUNDLED_VIGNETTES
VERSIONS: tuple[FhirVersion, ...] = ("R4", "R4B", "R5")
BASIS = ("Observation/contact-log-1", "DocumentReference/journal-7")
SENTINEL = "SENTINEL-SECRET-TEXT"
EXAMPLE = stalkrisk.assess(stalkrisk.example_case())
FHIR_MODULES = (
    "fhir",
    "fhir.resources",
    "fhir.resources.riskassessment",
    "fhir.resources.codesystem",
    "fhir.resources.R4B",
    "fhir.resources.R4B.riskassessment",
    "fhir.resources.R4B.codesystem",
    "fhir.resources.questionnaire",
    "fhir.resources.questionnaireresponse",
    "fhir.resources.R4B.questionnaire",
    "fhir.resources.R4B.questionnaireresponse",
)


def model_class(version: str) -> Any:
    """The fhir.resources RiskAssessment class that validates ``version``."""
    if version == "R5":
        from fhir.resources.riskassessment import RiskAssessment

        return RiskAssessment
    from fhir.resources.R4B.riskassessment import RiskAssessment as R4BRiskAssessment

    return R4BRiskAssessment


def assess_file(path: Path | BundledVignette) -> stalkrisk.Assessment:
    return stalkrisk.assess(path.read_text(encoding="utf-8"))


def extension(element: dict[str, Any], url: str) -> Any:
    """The value of the one extension ``url`` on ``element``."""
    [found] = [ext for ext in element.get("extension", []) if ext["url"] == url]
    [value] = [v for k, v in found.items() if k.startswith("value")]
    return value


def level_of(resource: dict[str, Any]) -> dict[str, Any]:
    """The ladder level, a CodeableConcept in an extension on the prediction."""
    value: dict[str, Any] = extension(resource["prediction"][0], LEVEL_EXTENSION)
    return value


def urgent_of(resource: dict[str, Any]) -> bool:
    value: bool = extension(resource["prediction"][0], URGENT_EXTENSION)
    return value


def fired_rules(resource: dict[str, Any]) -> list[tuple[str, str, str, list[str]]]:
    """(id, title, effect, evidence) of each fired-rule extension, in order."""
    rules = []
    for ext in resource.get("extension", []):
        assert ext["url"] == FIRED_RULE_EXTENSION
        parts = [
            (part["url"], next(v for k, v in part.items() if k != "url"))
            for part in ext["extension"]
        ]
        one = {name: value for name, value in parts if name != "evidence"}
        evidence = [value for name, value in parts if name == "evidence"]
        rules.append((one["id"], one["title"], one["effect"], evidence))
    return rules


def run(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *argv: str,
    stdin: str,
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = _cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- every vignette, every version ---------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path", VIGNETTES, ids=lambda p: p.stem)
def test_every_vignette_gives_a_valid_risk_assessment(path: Path, version: FhirVersion) -> None:
    assessment = assess_file(path)

    resource = to_risk_assessment(
        assessment, subject_reference="Patient/123", basis=BASIS, version=version
    )

    parsed = model_class(version).model_validate(resource)  # the real validation
    assert json.loads(parsed.model_dump_json(exclude_none=True)) == resource
    assert resource["resourceType"] == "RiskAssessment"
    assert resource["status"] == "preliminary"
    assert resource["text"]["status"] == "generated"
    assert resource["subject"] == {"reference": "Patient/123"}
    when = datetime.fromisoformat(resource["occurrenceDateTime"])
    assert when == assessment.assessed_at
    assert when.utcoffset() == assessment.assessed_at.utcoffset()
    assert [ref["reference"] for ref in resource["basis"]] == list(BASIS)
    assert "performer" not in resource
    assert not {"id", "contained", "reason", "reasonCode", "reasonReference"} & set(resource)
    assert not {"identifier"} & set(resource)  # the vignettes give no ref


@pytest.mark.parametrize("path", VIGNETTES, ids=lambda p: p.stem)
def test_each_level_rule_says_whether_it_set_the_grade_or_was_outranked(path: Path) -> None:
    assessment = assess_file(path)
    resource = to_risk_assessment(assessment, subject_reference="Group/g1")
    marked = {
        next(part["valueCode"] for part in ext["extension"] if part["url"] == "id"): [
            part["valueBoolean"] for part in ext["extension"] if part["url"] == "sets-grade"
        ]
        for ext in resource.get("extension", [])
    }

    assert marked == {
        rule.id: [rule.sets_grade] if rule.level is not None else []
        for rule in assessment.rules_fired
    }


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path", VIGNETTES, ids=lambda p: p.stem)
def test_every_vignette_carries_the_grade_actions_and_rules(
    path: Path, version: FhirVersion
) -> None:
    assessment = assess_file(path)
    resource = to_risk_assessment(assessment, subject_reference="Group/g1", version=version)
    titles = {spec.code: spec.title for spec in stalkrisk.default_rule_pack().levels}
    [prediction] = resource["prediction"]

    assert level_of(resource) == {
        "coding": [
            {
                "system": LEVEL_SYSTEM,
                "code": assessment.level.value,
                "display": titles[assessment.level],
            }
        ],
        "text": assessment.level_title,
    }
    assert urgent_of(resource) is assessment.urgent
    [probability] = prediction["qualitativeRisk"]["coding"]
    assert probability["system"] == RISK_PROBABILITY_SYSTEM
    assert probability["code"] == (
        "high" if assessment.urgent else RISK_PROBABILITY[assessment.level]
    )
    assert f"Grade: {assessment.level.value} " in prediction["rationale"]
    assert ("URGENT" in prediction["rationale"]) is assessment.urgent
    assert "Course-of-conduct threshold" in prediction["rationale"]
    for name in ("pattern", "threat", "fear"):
        if getattr(assessment.elements, name).present:
            assert f" {name} (" in prediction["rationale"]
    assert resource["mitigation"].split("\n") == [action.text for action in assessment.actions]
    assert [note["text"] for note in resource.get("note", [])] == list(assessment.notes)
    assert fired_rules(resource) == [
        (rule.id, rule.title, rule.effect, list(rule.evidence)) for rule in assessment.rules_fired
    ]
    pack = assessment.rule_pack
    [method] = resource["method"]["coding"]
    assert (method["system"], method["code"], method["version"]) == (
        RULE_PACK_SYSTEM,
        pack.name,
        pack.version,
    )
    assert pack.sha256 in resource["method"]["text"]


def test_the_vignettes_cover_every_level_and_urgent() -> None:
    seen = {(a.level.value, a.urgent) for a in map(assess_file, VIGNETTES)}

    assert {level for level, _ in seen} == {lv.value for lv in stalkrisk.Level}
    assert ("police", True) in seen
    assert ("police", False) in seen


# --- code, outcome and the code systems ------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_code_and_outcome_are_coded_in_the_versioned_assessment_system(
    version: FhirVersion,
) -> None:
    resource = to_risk_assessment(EXAMPLE, subject_reference="Patient/1", version=version)
    [prediction] = resource["prediction"]
    displays = {c["code"]: c["display"] for c in assessment_code_system()["concept"]}

    for concept, code in (
        (resource["code"], ASSESSMENT_CODE),
        (prediction["outcome"], OUTCOME_CODE),
    ):
        assert concept["coding"] == [
            {
                "system": ASSESSMENT_SYSTEM,
                "version": ASSESSMENT_SYSTEM_VERSION,
                "code": code,
                "display": displays[code],
            }
        ]
        assert concept["text"]
    assert prediction["outcome"]["text"] == OUTCOME_TEXT


@pytest.mark.parametrize("version", VERSIONS)
def test_the_assessment_code_system_validates_and_declares_its_version(
    version: FhirVersion,
) -> None:
    from fhir.resources.codesystem import CodeSystem
    from fhir.resources.R4B.codesystem import CodeSystem as R4BCodeSystem

    resource = assessment_code_system(version=version)

    (CodeSystem if version == "R5" else R4BCodeSystem).model_validate(resource)
    assert (resource["url"], resource["version"]) == (ASSESSMENT_SYSTEM, ASSESSMENT_SYSTEM_VERSION)
    assert [c["code"] for c in resource["concept"]] == [ASSESSMENT_CODE, OUTCOME_CODE]
    assert resource["url"].startswith("https://stalkrisk.example/fhir/CodeSystem/")


def test_the_extensions_live_under_the_project_structure_definitions() -> None:
    for url in (LEVEL_EXTENSION, URGENT_EXTENSION, FIRED_RULE_EXTENSION):
        assert url.startswith("https://stalkrisk.example/fhir/StructureDefinition/")


# --- the mapping to risk-probability ------------------------------------------------------


def test_the_risk_probability_mapping() -> None:
    assert {level.value: code for level, code in RISK_PROBABILITY.items()} == {
        "none": "negligible",
        "reflective": "low",
        "boundaries": "low",
        "consultation": "moderate",
        "referral": "high",
        "police": "high",
    }


def test_a_case_without_contacts_is_negligible_risk() -> None:
    assessment = stalkrisk.assess(case())
    assert assessment.level == "none"

    resource = to_risk_assessment(assessment, subject_reference="Patient/1")

    model_class("R4").model_validate(resource)
    assert level_of(resource)["coding"][0]["code"] == "none"
    assert resource["prediction"][0]["qualitativeRisk"] == {
        "coding": [
            {
                "system": RISK_PROBABILITY_SYSTEM,
                "code": "negligible",
                "display": "Negligible likelihood",
            }
        ],
        "text": "Negligible likelihood",
    }
    assert "No element of stalking is present" in resource["prediction"][0]["rationale"]
    assert "no stalking behaviours recorded" in resource["prediction"][0]["rationale"]


def test_urgent_is_high_risk_even_if_the_mapping_said_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    urgent = assess_file(BundledVignette("followed_by_car_right_now"))
    assert urgent.urgent
    lowered = {**RISK_PROBABILITY, stalkrisk.Level.POLICE: "low"}
    monkeypatch.setattr(stalkrisk.fhir, "RISK_PROBABILITY", lowered)

    resource = to_risk_assessment(urgent, subject_reference="Patient/1")

    assert resource["prediction"][0]["qualitativeRisk"]["coding"][0]["code"] == "high"
    assert urgent_of(resource) is True


# --- status, id, identifier ---------------------------------------------------------------


@pytest.mark.parametrize("status", get_args(RiskAssessmentStatus))
def test_every_observation_status_allowed_for_a_risk_assessment_is_accepted(
    status: RiskAssessmentStatus,
) -> None:
    resource = to_risk_assessment(EXAMPLE, subject_reference="Patient/1", status=status)

    assert resource["status"] == status


def test_status_defaults_to_preliminary_awaiting_sign_off() -> None:
    resource = to_risk_assessment(EXAMPLE, subject_reference="Patient/1")

    assert resource["status"] == "preliminary"
    assert "awaiting a clinician" in resource["text"]["div"]
    signed = to_risk_assessment(EXAMPLE, subject_reference="Patient/1", status="final")
    assert "awaiting" not in signed["text"]["div"]


@pytest.mark.parametrize("status", ["draft", "FINAL", "", "specimen-in-process"])
def test_a_status_outside_the_value_set_is_refused(status: str) -> None:
    with pytest.raises(ValueError, match=r"^status must be one of 'registered'"):
        to_risk_assessment(EXAMPLE, subject_reference="Patient/1", status=status)  # type: ignore[arg-type]


@pytest.mark.parametrize("rid", ["ra-1", "A.b-9", "x" * 64])
def test_an_id_is_set(rid: str) -> None:
    resource = to_risk_assessment(EXAMPLE, subject_reference="Patient/1", id=rid)

    assert resource["id"] == rid


@pytest.mark.parametrize("rid", ["", "a_b", "a b", "x" * 65, "é"])
def test_a_bad_id_is_refused_by_name(rid: str) -> None:
    with pytest.raises(ValueError, match=r"^id must be 1 to 64 letters, digits"):
        to_risk_assessment(EXAMPLE, subject_reference="Patient/1", id=rid)


def test_the_case_ref_becomes_the_identifier() -> None:
    with_ref = EXAMPLE.model_copy(update={"ref": "case-42"})

    default = to_risk_assessment(with_ref, subject_reference="Patient/1")
    own = to_risk_assessment(
        with_ref, subject_reference="Patient/1", identifier_system="https://clinic.example/ra"
    )

    assert default["identifier"] == [{"system": CASE_REF_SYSTEM, "value": "case-42"}]
    assert own["identifier"] == [{"system": "https://clinic.example/ra", "value": "case-42"}]
    assert "identifier" not in to_risk_assessment(EXAMPLE, subject_reference="Patient/1")


@pytest.mark.parametrize("system", ["", "clinic", "no scheme:x", "https://a b"])
def test_a_bad_identifier_system_is_refused(system: str) -> None:
    with pytest.raises(ValueError, match=r"^identifier_system must be an absolute URI"):
        to_risk_assessment(EXAMPLE, subject_reference="Patient/1", identifier_system=system)


# --- the narrative ---------------------------------------------------------------------------


def narrative_text(resource: dict[str, Any]) -> str:
    """The text of the narrative, after checking it is one XHTML div."""
    root = ElementTree.fromstring(resource["text"]["div"])
    assert root.tag == "{http://www.w3.org/1999/xhtml}div"
    return "".join(root.itertext())


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path", VIGNETTES, ids=lambda p: p.stem)
def test_the_narrative_summarises_grade_urgency_elements_threshold_and_actions(
    path: Path, version: FhirVersion
) -> None:
    assessment = assess_file(path)

    resource = to_risk_assessment(assessment, subject_reference="Patient/1", version=version)

    assert resource["text"]["status"] == "generated"
    text = narrative_text(resource)
    assert f"Grade: {assessment.level.value} ({assessment.level_title})" in text
    assert ("URGENT" in text) is assessment.urgent
    assert "Course-of-conduct threshold" in text
    assert ("Elements of stalking present" in text) or ("No element of stalking" in text)
    probability = resource["prediction"][0]["qualitativeRisk"]["text"]
    assert f"Risk of {OUTCOME_TEXT}: {probability}." in text
    for action in assessment.actions:
        assert action.text in text


def test_the_narrative_escapes_markup_in_the_pack_texts() -> None:
    hostile = "<script>alert('x')</script> & <b>bold</b>"
    assessment = EXAMPLE.model_copy(
        update={
            "actions": (stalkrisk.Action(id="a1", text=hostile),),
            "level_title": hostile,
        }
    )

    resource = to_risk_assessment(assessment, subject_reference="Patient/1")

    div = resource["text"]["div"]
    assert "<script>" not in div
    assert "<b>" not in div
    assert "&lt;script&gt;" in div
    assert "&amp;" in div
    assert hostile in narrative_text(resource)  # escaped, so the text survives intact


# --- references ----------------------------------------------------------------------------


PATIENT = {"resourceType": "Patient", "id": "p1", "active": True}


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Patient/123", {"reference": "Patient/123"}),
        ("Group/g-1.a", {"reference": "Group/g-1.a"}),
        (
            "https://fhir.example.org/r4/Patient/9",
            {"reference": "https://fhir.example.org/r4/Patient/9"},
        ),
        ("Patient/1/_history/2", {"reference": "Patient/1/_history/2"}),
        (
            "urn:uuid:0b5d3c1e-4c1d-4c8e-9a51-2d1f0b1f3a77",
            {"reference": "urn:uuid:0b5d3c1e-4c1d-4c8e-9a51-2d1f0b1f3a77"},
        ),
        (
            {"identifier": {"system": "https://clinic.example/mrn", "value": "0042"}},
            {"identifier": {"system": "https://clinic.example/mrn", "value": "0042"}},
        ),
        (
            {"identifier": {"value": "0042"}, "type": "Patient"},
            {"identifier": {"value": "0042"}, "type": "Patient"},
        ),
    ],
    ids=["relative", "group", "absolute", "history", "urn-uuid", "identifier", "typed-identifier"],
)
@pytest.mark.parametrize("version", VERSIONS)
def test_every_kind_of_subject_reference_is_accepted(
    subject: Reference, expected: dict[str, Any], version: FhirVersion
) -> None:
    resource = to_risk_assessment(EXAMPLE, subject_reference=subject, version=version)

    assert resource["subject"] == expected
    model_class(version).model_validate(resource)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_contained_subject_is_accepted_with_its_resource(version: FhirVersion) -> None:
    resource = to_risk_assessment(
        EXAMPLE, subject_reference="#p1", contained=[PATIENT], version=version
    )

    assert resource["subject"] == {"reference": "#p1"}
    assert resource["contained"] == [PATIENT]
    model_class(version).model_validate(resource)


def test_a_contained_resource_may_be_named_by_basis_or_performer() -> None:
    device = {"resourceType": "Device", "id": "stalkrisk"}
    journal = {
        "resourceType": "DocumentReference",
        "id": "j",
        "status": "current",
        "content": [{"attachment": {"contentType": "text/plain"}}],
    }

    resource = to_risk_assessment(
        EXAMPLE,
        subject_reference="Patient/1",
        performer_reference="#stalkrisk",
        basis=["#j"],
        contained=[device, journal],
    )

    assert resource["performer"] == {"reference": "#stalkrisk"}
    assert resource["basis"] == [{"reference": "#j"}]


@pytest.mark.parametrize(
    ("subject", "message"),
    [
        ("Practitioner/1", "not to a Practitioner"),
        ("Patient", "must be a reference to Patient or Group"),
        ("Patient/", "must be a reference to Patient or Group"),
        ("patient/1", "must be a reference to Patient or Group"),
        ("Patient/a b", "must be a reference to Patient or Group"),
        ("", "must be a reference to Patient or Group"),
        ("1", "must be a reference to Patient or Group"),
        ("urn:uuid:0B5D3C1E-4C1D-4C8E-9A51-2D1F0B1F3A77", "urn:uuid:UUID (lower case)"),
        ("urn:uuid:not-a-uuid", "urn:uuid:UUID"),
        ("#p1", "contained has no resource with that id"),
        (42, "got a int"),
        ({"reference": "Patient/1"}, "must have the key 'identifier'"),
        ({"identifier": {"value": "x"}, "display": "x"}, "unknown keys: display"),
        ({"identifier": "0042"}, "['identifier'] must be a mapping"),
        ({"identifier": {"value": ""}}, "['value'] must be a non-empty string"),
        ({"identifier": {"value": " 0042"}}, "['value'] must be a non-empty string"),
        ({"identifier": {"system": "mrn", "value": "1"}}, "['system'] must be an absolute URI"),
        ({"identifier": {"value": "1", "period": {}}}, "may have only 'system' and 'value'"),
        ({"identifier": {"value": "1"}, "type": "Practitioner"}, "must be Patient or Group"),
        ({"identifier": {"value": "1"}, "type": "patient"}, "must be a resource type"),
    ],
)
def test_a_bad_subject_is_refused_naming_the_argument_and_the_fix(
    subject: object, message: str
) -> None:
    with pytest.raises(ValueError, match=r"^subject_reference") as info:
        to_risk_assessment(EXAMPLE, subject_reference=subject)  # type: ignore[arg-type]

    assert message in str(info.value)


def test_a_contained_subject_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^subject_reference .*not to a Device"):
        to_risk_assessment(
            EXAMPLE,
            subject_reference="#d1",
            contained=[{"resourceType": "Device", "id": "d1"}],
        )


def test_reference_errors_never_quote_the_reference_or_identifier() -> None:
    for subject in (
        f"Practitioner/{SENTINEL}",
        SENTINEL,
        {"identifier": {"system": "mrn", "value": SENTINEL}},
        {"identifier": {"value": f" {SENTINEL}"}},
        {"identifier": {"value": SENTINEL}, "type": "Practitioner"},
    ):
        with pytest.raises(ValueError, match="subject_reference") as info:
            to_risk_assessment(EXAMPLE, subject_reference=subject)  # type: ignore[arg-type]
        assert SENTINEL not in str(info.value)


@pytest.mark.parametrize(
    ("contained", "message"),
    [
        ([PATIENT, {**PATIENT, "active": False}], r"^contained\[1\] has the same id"),
        ([{"resourceType": "Patient"}], r"^contained\[0\] needs an id"),
        ([{"id": "p1"}], r"^contained\[0\] needs a resourceType"),
        ([{**PATIENT, "contained": [PATIENT]}], r"^contained\[0\] must not itself contain"),
        ([PATIENT, {"resourceType": "Group", "id": "g"}], r"^contained\[1\] is not referenced"),
        (PATIENT, "^contained must be a sequence"),
    ],
)
def test_contained_resources_follow_the_fhir_rules(contained: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        to_risk_assessment(EXAMPLE, subject_reference="#p1", contained=contained)


@pytest.mark.parametrize("version", VERSIONS)
def test_performer_is_optional_and_passes_through(version: FhirVersion) -> None:
    without = to_risk_assessment(EXAMPLE, subject_reference="Patient/1", version=version)
    with_performer = to_risk_assessment(
        EXAMPLE,
        subject_reference="Patient/1",
        performer_reference="Practitioner/dr-7",
        version=version,
    )

    assert "performer" not in without
    assert with_performer["performer"] == {"reference": "Practitioner/dr-7"}
    model_class(version).model_validate(with_performer)
    assert {k: v for k, v in with_performer.items() if k != "performer"} == without


@pytest.mark.parametrize(
    "performer",
    [
        "Practitioner/dr-7",
        "urn:uuid:0b5d3c1e-4c1d-4c8e-9a51-2d1f0b1f3a77",
        {"identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"}},
        {"identifier": {"value": "dr-7"}, "type": "PractitionerRole"},
    ],
)
def test_a_performer_may_be_any_kind_of_reference(performer: Reference) -> None:
    resource = to_risk_assessment(
        EXAMPLE, subject_reference="Patient/1", performer_reference=performer
    )

    assert resource["performer"] == (
        {"reference": performer} if isinstance(performer, str) else performer
    )


def test_performer_types_follow_the_version() -> None:
    with pytest.raises(ValueError, match=r"^performer_reference .*not to a Patient"):
        to_risk_assessment(EXAMPLE, subject_reference="Patient/1", performer_reference="Patient/1")
    with pytest.raises(ValueError, match=r"^performer_reference\['type'\]"):
        to_risk_assessment(
            EXAMPLE,
            subject_reference="Patient/1",
            performer_reference={"identifier": {"value": "1"}, "type": "Patient"},
        )
    r5 = to_risk_assessment(
        EXAMPLE, subject_reference="Patient/1", performer_reference="Patient/1", version="R5"
    )
    assert r5["performer"] == {"reference": "Patient/1"}


def test_a_bad_basis_reference_names_its_index() -> None:
    with pytest.raises(ValueError, match=r"^basis\[1\]"):
        to_risk_assessment(EXAMPLE, subject_reference="Patient/1", basis=("Observation/1", "x"))
    with pytest.raises(ValueError, match=r"^basis"):
        to_risk_assessment(EXAMPLE, subject_reference="Patient/1", basis="Observation/1")


def test_basis_takes_every_kind_of_reference() -> None:
    logical: Reference = {"identifier": {"system": "https://clinic.example/docs", "value": "7"}}

    resource = to_risk_assessment(
        EXAMPLE,
        subject_reference="Patient/1",
        basis=["Observation/1", "urn:uuid:0b5d3c1e-4c1d-4c8e-9a51-2d1f0b1f3a77", logical],
    )

    assert resource["basis"][2] == logical


@pytest.mark.parametrize("version", VERSIONS)
def test_reasons_go_to_reason_code_and_reference_or_to_r5_reason(version: FhirVersion) -> None:
    concept = {"text": "Client stalks the clinician"}
    logical: Reference = {"identifier": {"value": "c2"}, "type": "Condition"}

    resource = to_risk_assessment(
        EXAMPLE,
        subject_reference="Patient/1",
        reasons=(concept, "Condition/c1", logical),
        version=version,
    )

    model_class(version).model_validate(resource)
    if version == "R5":
        assert resource["reason"] == [
            {"concept": concept},
            {"reference": {"reference": "Condition/c1"}},
            {"reference": logical},
        ]
        assert "reasonCode" not in resource
    else:
        assert resource["reasonCode"] == [concept]
        assert resource["reasonReference"] == [{"reference": "Condition/c1"}, logical]
        assert "reason" not in resource


def test_a_reason_reference_must_be_a_condition_observation_report_or_document() -> None:
    with pytest.raises(ValueError, match=r"^reasons\[0\]"):
        to_risk_assessment(EXAMPLE, subject_reference="Patient/1", reasons=("Patient/1",))
    with pytest.raises(ValueError, match=r"^reasons\[1\]"):
        to_risk_assessment(EXAMPLE, subject_reference="Patient/1", reasons=({"text": "x"}, 3))  # type: ignore[arg-type]


def test_an_unknown_version_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^version"):
        to_risk_assessment(EXAMPLE, subject_reference="Patient/1", version="STU3")  # type: ignore[arg-type]


def test_the_assessment_must_be_an_assessment() -> None:
    with pytest.raises(TypeError, match=r"^assessment must be a stalkrisk\.Assessment"):
        to_risk_assessment({}, subject_reference="Patient/1")  # type: ignore[arg-type]


def test_the_resource_is_deterministic_with_a_stable_key_order() -> None:
    first = to_risk_assessment(EXAMPLE, subject_reference="Patient/1", basis=BASIS)
    second = to_risk_assessment(EXAMPLE, subject_reference="Patient/1", basis=BASIS)

    assert json.dumps(first) == json.dumps(second)
    assert list(first)[:4] == ["resourceType", "text", "extension", "status"]
    assert type(first) is dict


def test_no_free_text_from_the_case_reaches_the_resource() -> None:
    data = case(
        contact("c1", 0, "unwanted_calls", note=SENTINEL, location=SENTINEL, response=SENTINEL),
        contact("c2", 15, "gift", note=SENTINEL, witnesses=[SENTINEL], evidence=[SENTINEL]),
        fear="severe",
    )

    for version in VERSIONS:
        resource = to_risk_assessment(
            stalkrisk.assess(data), subject_reference="Patient/1", version=version
        )
        assert SENTINEL not in json.dumps(resource)


# --- fhir.resources missing ------------------------------------------------------------------


def _hide_fhir_resources(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in FHIR_MODULES:
        monkeypatch.setitem(sys.modules, name, None)  # None in sys.modules: ImportError


def test_without_fhir_resources_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    assessment = stalkrisk.assess(stalkrisk.example_case())
    _hide_fhir_resources(monkeypatch)

    for version in VERSIONS:
        with pytest.raises(ImportError, match=r"pip install 'stalkrisk\[fhir\]'"):
            to_risk_assessment(assessment, subject_reference="Patient/1", version=version)
    with pytest.raises(ImportError, match=r"stalkrisk\[fhir\]"):
        stalkrisk.fhir.level_code_system()


def test_without_fhir_resources_the_command_exits_2_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _hide_fhir_resources(monkeypatch)

    code, out, err = run(
        monkeypatch,
        capsys,
        *("assess", "-", "--format", "fhir", "--subject", "Patient/1"),
        stdin=stalkrisk_example(),
    )

    assert code == 2
    assert out == ""
    assert "pip install 'stalkrisk[fhir]'" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "argv", [("fhir", "questionnaire"), ("assess", "--input", "fhir", "-", "--format", "json")]
)
def test_without_fhir_resources_the_intake_commands_exit_2_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    response = json.dumps(stalkrisk.fhir.response_from_case(stalkrisk.example_case()))
    _hide_fhir_resources(monkeypatch)

    code, out, err = run(monkeypatch, capsys, *argv, stdin=response)

    assert code == 2
    assert out == ""
    assert err.startswith("stalkrisk: ")
    assert "pip install 'stalkrisk[fhir]'" in err


# --- the command ----------------------------------------------------------------------------


def stalkrisk_example() -> str:
    return stalkrisk.example_case().model_dump_json()


def test_cli_format_fhir_prints_the_resource(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        monkeypatch,
        capsys,
        *("assess", "-", "--format", "fhir", "--subject", "Patient/1"),
        stdin=stalkrisk_example(),
    )

    assert code == 0
    assert err == ""
    assessment = stalkrisk.assess(stalkrisk.example_case())
    expected = to_risk_assessment(assessment, subject_reference="Patient/1")
    assert json.loads(out) == expected
    assert out.endswith("}\n")
    model_class("R4").model_validate_json(out)


def test_cli_format_fhir_takes_subject_performer_basis_and_version(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["assess", "-", "--format", "fhir", "--subject", "Patient/123"]
    argv += ["--performer", "PractitionerRole/r1", "--fhir-version", "R5"]
    argv += ["--basis", BASIS[0], "--basis", BASIS[1]]

    code, out, _ = run(monkeypatch, capsys, *argv, stdin=stalkrisk_example())

    assert code == 0
    resource = json.loads(out)
    model_class("R5").model_validate(resource)
    assert resource["subject"] == {"reference": "Patient/123"}
    assert resource["performer"] == {"reference": "PractitionerRole/r1"}
    assert [ref["reference"] for ref in resource["basis"]] == list(BASIS)


@pytest.mark.parametrize(
    ("option", "value"),
    [("--subject", "Practitioner/1"), ("--performer", "Group/1"), ("--basis", "nothing")],
)
def test_cli_bad_reference_exits_2_naming_the_option(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    option: str,
    value: str,
) -> None:
    code, out, err = run(
        monkeypatch,
        capsys,
        *("assess", "-", "--format", "fhir", "--subject", "Patient/1", option, value),
        stdin=stalkrisk_example(),
    )

    assert code == 2
    assert out == ""
    assert err.startswith(f"stalkrisk: {option} must be a reference to ")
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_cli_fhir_options_need_format_fhir(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    code, out, err = run(
        monkeypatch,
        capsys,
        *("assess", "-", "--format", fmt, "--subject", "Patient/1", "--fhir-version", "R5"),
        stdin=stalkrisk_example(),
    )

    assert code == 2
    assert out == ""
    assert err == (
        "stalkrisk: --subject: only with --format fhir; "
        "--fhir-version: only with --format fhir or --input fhir\n"
    )


# --- the code systems ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "builder"),
    [("level.json", "level_code_system"), ("assessment.json", "assessment_code_system")],
)
def test_the_committed_code_system_is_current(name: str, builder: str) -> None:
    committed = json.loads((ROOT / "docs" / "codes" / name).read_text(encoding="utf-8"))

    assert committed == getattr(stalkrisk.fhir, builder)(), (
        f"docs/codes/{name} is stale; regenerate it with "
        '`python -c "import json, stalkrisk.fhir as f; '
        f'print(json.dumps(f.{builder}(), indent=2))" > docs/codes/{name}`'
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_the_code_system_lists_the_ladder_with_the_pack_titles(version: FhirVersion) -> None:
    from fhir.resources.codesystem import CodeSystem
    from fhir.resources.R4B.codesystem import CodeSystem as R4BCodeSystem

    resource = stalkrisk.fhir.level_code_system(version=version)

    (CodeSystem if version == "R5" else R4BCodeSystem).model_validate(resource)
    assert resource["url"] == LEVEL_SYSTEM
    assert [(c["code"], c["display"], c["definition"]) for c in resource["concept"]] == [
        (spec.code.value, spec.title, spec.description)
        for spec in stalkrisk.default_rule_pack().levels
    ]


def test_docs_fhir_md_has_the_code_table_and_the_mapping() -> None:
    text = (ROOT / "docs" / "fhir.md").read_text(encoding="utf-8")

    assert LEVEL_SYSTEM in text
    assert RULE_PACK_SYSTEM in text
    for spec in stalkrisk.default_rule_pack().levels:
        code = spec.code
        row = f"| `{code.value}` | {spec.title} | {spec.description} | `{RISK_PROBABILITY[code]}` |"
        assert row in text, f"docs/fhir.md lacks the row for {code.value}: {row}"


# --- the public surface ----------------------------------------------------------------------


def test_fhir_all_names_only_what_the_module_has() -> None:
    assert [name for name in stalkrisk.fhir.__all__ if not hasattr(stalkrisk.fhir, name)] == []


def test_fhir_all_lists_every_function_of_the_module() -> None:
    functions = {
        name
        for name, value in vars(stalkrisk.fhir).items()
        if isinstance(value, types.FunctionType)
        and not name.startswith("_")
        and value.__module__ == "stalkrisk.fhir"
    }

    assert functions <= set(stalkrisk.fhir.__all__)


def test_the_intake_questionnaire_is_exported_from_stalkrisk_fhir() -> None:
    intake = {"QUESTIONNAIRE_URL", "case_from_response", "questionnaire", "response_from_case"}

    assert intake <= set(stalkrisk.fhir.__all__)
    assert stalkrisk.fhir.questionnaire.__module__ == "stalkrisk.fhir"
    assert stalkrisk.fhir.case_from_response.__module__ == "stalkrisk.fhir"
    assert stalkrisk.fhir.response_from_case.__module__ == "stalkrisk.fhir"


def test_the_threshold_in_the_rationale_uses_labels_and_the_packs_least_contacts() -> None:
    sai = next(p for p in stalkrisk.bundled_packs() if p.name == "stalkrisk-sai")
    result = stalkrisk.assess(stalkrisk.example_case(), rule_pack=sai)

    rationale = to_risk_assessment(result, subject_reference="Patient/1")["prediction"][0][
        "rationale"
    ]

    assert "at least 5 contacts" in rationale
    assert "unwanted calls" in rationale
    assert "unwanted_calls" not in rationale
