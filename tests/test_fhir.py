"""FHIR output: every assessment becomes a RiskAssessment that fhir.resources accepts.

The real validation is the round trip: each resource is parsed back into the
``fhir.resources`` model class of its version (R4 and R4B with the R4B models, R5 with
the R5 models) without error.
"""

from __future__ import annotations

import io
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from builders import BUNDLED_VIGNETTES, BundledVignette, case, contact

import stalkrisk
import stalkrisk.fhir
from stalkrisk import _cli
from stalkrisk.fhir import (
    LEVEL_SYSTEM,
    OUTCOME_TEXT,
    RISK_PROBABILITY,
    RISK_PROBABILITY_SYSTEM,
    RULE_PACK_SYSTEM,
    FhirVersion,
    to_risk_assessment,
)

ROOT = Path(__file__).resolve().parents[1]
VIGNETTES = BUNDLED_VIGNETTES
VERSIONS: tuple[FhirVersion, ...] = ("R4", "R4B", "R5")
BASIS = ("Observation/contact-log-1", "DocumentReference/journal-7")
SENTINEL = "SENTINEL-SECRET-TEXT"
FHIR_MODULES = (
    "fhir",
    "fhir.resources",
    "fhir.resources.riskassessment",
    "fhir.resources.codesystem",
    "fhir.resources.R4B",
    "fhir.resources.R4B.riskassessment",
    "fhir.resources.R4B.codesystem",
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


def codings(resource: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The qualitativeRisk codings by system."""
    [prediction] = resource["prediction"]
    return {coding["system"]: coding for coding in prediction["qualitativeRisk"]["coding"]}


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
    assert resource["status"] == "final"
    assert resource["subject"] == {"reference": "Patient/123"}
    when = datetime.fromisoformat(resource["occurrenceDateTime"])
    assert when == assessment.assessed_at
    assert when.utcoffset() == assessment.assessed_at.utcoffset()
    assert [ref["reference"] for ref in resource["basis"]] == list(BASIS)
    assert "performer" not in resource
    assert not {"reason", "reasonCode", "reasonReference", "identifier"} & set(resource)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("path", VIGNETTES, ids=lambda p: p.stem)
def test_every_vignette_carries_the_grade_actions_and_rules(
    path: Path, version: FhirVersion
) -> None:
    assessment = assess_file(path)
    resource = to_risk_assessment(assessment, subject_reference="Group/g1", version=version)
    titles = {spec.code: spec.title for spec in stalkrisk.default_rule_pack().levels}

    ladder = codings(resource)[LEVEL_SYSTEM]
    assert ladder == {
        "system": LEVEL_SYSTEM,
        "code": assessment.level.value,
        "display": titles[assessment.level],
    }
    probability = codings(resource)[RISK_PROBABILITY_SYSTEM]["code"]
    assert probability == ("high" if assessment.urgent else RISK_PROBABILITY[assessment.level])
    [prediction] = resource["prediction"]
    assert prediction["outcome"] == {"text": OUTCOME_TEXT}
    assert f"Grade: {assessment.level.value} " in prediction["rationale"]
    assert ("URGENT" in prediction["rationale"]) is assessment.urgent
    for name in ("pattern", "threat", "fear"):
        if getattr(assessment.elements, name).present:
            assert f" {name} (" in prediction["rationale"]
    assert resource["mitigation"].split("\n") == [action.text for action in assessment.actions]
    notes = [note["text"] for note in resource["note"]]
    assert "Course-of-conduct threshold" in notes[0]
    assert notes[1 : 1 + len(assessment.notes)] == list(assessment.notes)
    assert notes[1 + len(assessment.notes) :] == [
        f"Rule fired: {rule.id} — {rule.title}" for rule in assessment.rules_fired
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
    assert codings(resource)[LEVEL_SYSTEM]["code"] == "none"
    assert codings(resource)[RISK_PROBABILITY_SYSTEM] == {
        "system": RISK_PROBABILITY_SYSTEM,
        "code": "negligible",
        "display": "Negligible likelihood",
    }
    assert "No element of stalking is present" in resource["prediction"][0]["rationale"]
    assert "no stalking behaviours recorded" in resource["note"][0]["text"]


def test_urgent_is_high_risk_even_if_the_mapping_said_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    urgent = assess_file(BundledVignette("followed_by_car_right_now"))
    assert urgent.urgent
    lowered = {**RISK_PROBABILITY, stalkrisk.Level.POLICE: "low"}
    monkeypatch.setattr(stalkrisk.fhir, "RISK_PROBABILITY", lowered)

    resource = to_risk_assessment(urgent, subject_reference="Patient/1")

    assert codings(resource)[RISK_PROBABILITY_SYSTEM]["code"] == "high"
    assert resource["prediction"][0]["qualitativeRisk"]["text"].endswith("(urgent)")


# --- references and optional elements ---------------------------------------------------


@pytest.mark.parametrize(
    "subject",
    ["Practitioner/1", "Patient", "Patient/", "patient/1", "Patient/a b", "", "1", "#p1"],
)
def test_a_subject_that_is_not_a_patient_or_group_is_refused(subject: str) -> None:
    assessment = stalkrisk.assess(stalkrisk.example_case())

    with pytest.raises(ValueError, match="subject_reference") as info:
        to_risk_assessment(assessment, subject_reference=subject)

    assert "Patient/" in str(info.value)


@pytest.mark.parametrize(
    "subject",
    ["Patient/123", "Group/g-1.a", "https://fhir.example.org/r4/Patient/9", "Patient/1/_history/2"],
)
def test_literal_patient_and_group_references_are_accepted(subject: str) -> None:
    assessment = stalkrisk.assess(stalkrisk.example_case())

    resource = to_risk_assessment(assessment, subject_reference=subject)

    assert resource["subject"] == {"reference": subject}


@pytest.mark.parametrize("version", VERSIONS)
def test_performer_is_optional_and_passes_through(version: FhirVersion) -> None:
    assessment = stalkrisk.assess(stalkrisk.example_case())

    without = to_risk_assessment(assessment, subject_reference="Patient/1", version=version)
    with_performer = to_risk_assessment(
        assessment,
        subject_reference="Patient/1",
        performer_reference="Practitioner/dr-7",
        version=version,
    )

    assert "performer" not in without
    assert with_performer["performer"] == {"reference": "Practitioner/dr-7"}
    model_class(version).model_validate(with_performer)
    assert {k: v for k, v in with_performer.items() if k != "performer"} == without


def test_performer_types_follow_the_version() -> None:
    assessment = stalkrisk.assess(stalkrisk.example_case())

    with pytest.raises(ValueError, match="performer_reference"):
        to_risk_assessment(
            assessment, subject_reference="Patient/1", performer_reference="Patient/1"
        )
    r5 = to_risk_assessment(
        assessment, subject_reference="Patient/1", performer_reference="Patient/1", version="R5"
    )
    assert r5["performer"] == {"reference": "Patient/1"}


def test_a_bad_basis_reference_names_its_index() -> None:
    assessment = stalkrisk.assess(stalkrisk.example_case())

    with pytest.raises(ValueError, match=r"basis\[1\]"):
        to_risk_assessment(assessment, subject_reference="Patient/1", basis=("Observation/1", "x"))
    with pytest.raises(ValueError, match="basis"):
        to_risk_assessment(assessment, subject_reference="Patient/1", basis="Observation/1")


@pytest.mark.parametrize("version", VERSIONS)
def test_reasons_go_to_reason_code_and_reference_or_to_r5_reason(version: FhirVersion) -> None:
    assessment = stalkrisk.assess(stalkrisk.example_case())
    concept = {"text": "Client stalks the clinician"}

    resource = to_risk_assessment(
        assessment,
        subject_reference="Patient/1",
        reasons=(concept, "Condition/c1"),
        version=version,
    )

    model_class(version).model_validate(resource)
    if version == "R5":
        assert resource["reason"] == [
            {"concept": concept},
            {"reference": {"reference": "Condition/c1"}},
        ]
        assert "reasonCode" not in resource
    else:
        assert resource["reasonCode"] == [concept]
        assert resource["reasonReference"] == [{"reference": "Condition/c1"}]
        assert "reason" not in resource


def test_a_reason_reference_must_be_a_condition_observation_report_or_document() -> None:
    assessment = stalkrisk.assess(stalkrisk.example_case())

    with pytest.raises(ValueError, match=r"reasons\[0\]"):
        to_risk_assessment(assessment, subject_reference="Patient/1", reasons=("Patient/1",))


def test_an_identifier_passes_through() -> None:
    assessment = stalkrisk.assess(stalkrisk.example_case())
    identifier = {"system": "https://clinic.example/risk-assessments", "value": "ra-2025-001"}

    resource = to_risk_assessment(assessment, subject_reference="Patient/1", identifier=identifier)

    assert resource["identifier"] == [identifier]


def test_an_unknown_version_is_refused() -> None:
    assessment = stalkrisk.assess(stalkrisk.example_case())

    with pytest.raises(ValueError, match="version"):
        to_risk_assessment(assessment, subject_reference="Patient/1", version="STU3")  # type: ignore[arg-type]


def test_the_resource_is_deterministic_with_a_stable_key_order() -> None:
    assessment = stalkrisk.assess(stalkrisk.example_case())

    first = to_risk_assessment(assessment, subject_reference="Patient/1", basis=BASIS)
    second = to_risk_assessment(assessment, subject_reference="Patient/1", basis=BASIS)

    assert json.dumps(first) == json.dumps(second)
    assert list(first)[:3] == ["resourceType", "status", "method"]
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
        monkeypatch, capsys, "assess", "-", "--format", "fhir", stdin=stalkrisk_example()
    )

    assert code == 2
    assert out == ""
    assert "pip install 'stalkrisk[fhir]'" in err
    assert "Traceback" not in err


# --- the command ----------------------------------------------------------------------------


def stalkrisk_example() -> str:
    return stalkrisk.example_case().model_dump_json()


def test_cli_format_fhir_prints_the_resource(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(
        monkeypatch, capsys, "assess", "-", "--format", "fhir", stdin=stalkrisk_example()
    )

    assert code == 0
    assert err == ""
    assessment = stalkrisk.assess(stalkrisk.example_case())
    expected = to_risk_assessment(assessment, subject_reference="Patient/unknown")
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
        *("assess", "-", "--format", "fhir", option, value),
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
    assert err == "stalkrisk: --subject, --fhir-version: only with --format fhir\n"


# --- the ladder code system -------------------------------------------------------------------


def test_the_committed_code_system_is_current() -> None:
    committed = json.loads((ROOT / "docs" / "codes" / "level.json").read_text(encoding="utf-8"))

    assert committed == stalkrisk.fhir.level_code_system(), (
        "docs/codes/level.json is stale; regenerate it with "
        '`python -c "import json, stalkrisk.fhir as f; '
        'print(json.dumps(f.level_code_system(), indent=2))" > docs/codes/level.json`'
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
