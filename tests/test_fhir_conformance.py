"""FHIR's own rules hold for every resource stalkrisk writes.

The invariants are HL7's: ras-1 and ras-2 of RiskAssessment, ext-1 and ele-1 of every
element, dom-2, dom-3 and dom-6 of a DomainResource, ref-1 of a Reference.
``fhir.resources`` checks structure and types but not these, so they are checked here
on the outputs of every bundled vignette in every version, plus one resource that uses
every option.  The project's own rule: each CodeableConcept holds one concept, that is
exactly one coding.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from builders import BUNDLED_VIGNETTES

import stalkrisk
from stalkrisk.fhir import FhirVersion, to_risk_assessment

VERSIONS: tuple[FhirVersion, ...] = ("R4", "R4B", "R5")
UCUM = "http://unitsofmeasure.org"
CODEABLE_CONCEPTS = (
    "code",
    "method",
    "prediction.outcome",
    "prediction.qualitativeRisk",
    "prediction.extension.valueCodeableConcept",
)


def every_option(version: FhirVersion) -> dict[str, Any]:
    """A resource using contained, a logical performer, reasons, basis, id and the ref."""
    assessment = stalkrisk.assess(stalkrisk.example_case()).model_copy(update={"ref": "c-1"})
    return to_risk_assessment(
        assessment,
        subject_reference="#p1",
        contained=[{"resourceType": "Patient", "id": "p1", "active": True}],
        performer_reference={"identifier": {"value": "dr-7"}, "type": "Practitioner"},
        basis=["Observation/o1", "urn:uuid:0b5d3c1e-4c1d-4c8e-9a51-2d1f0b1f3a77"],
        reasons=["Condition/c1"],
        id="ra-1",
        status="final",
        version=version,
    )


RESOURCES = [
    pytest.param(
        lambda version, path=path: to_risk_assessment(
            stalkrisk.assess(path.read_text(encoding="utf-8")),
            subject_reference="Patient/1",
            version=version,
        ),
        id=path.stem,
    )
    for path in BUNDLED_VIGNETTES
] + [pytest.param(every_option, id="every-option")]


def walk(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every (dotted path without list indices, value) in ``node``, depth first."""
    yield path, node
    if isinstance(node, dict):
        for key, value in node.items():
            yield from walk(value, f"{path}.{key}" if path else key)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item, path)


@pytest.fixture(params=VERSIONS)
def version(request: pytest.FixtureRequest) -> FhirVersion:
    chosen: FhirVersion = request.param
    return chosen


@pytest.mark.parametrize("build", RESOURCES)
def test_ras_1_a_probability_decimal_is_at_most_100(build: Any, version: FhirVersion) -> None:
    for prediction in build(version)["prediction"]:
        assert prediction.get("probabilityDecimal", 0) <= 100


@pytest.mark.parametrize("build", RESOURCES)
def test_ras_2_a_probability_range_is_in_percent(build: Any, version: FhirVersion) -> None:
    for prediction in build(version)["prediction"]:
        for bound in ("low", "high"):
            quantity = prediction.get("probabilityRange", {}).get(bound)
            if quantity is not None:
                assert (quantity.get("code"), quantity.get("system")) == ("%", UCUM)


@pytest.mark.parametrize("build", RESOURCES)
def test_every_codeable_concept_holds_exactly_one_coding(build: Any, version: FhirVersion) -> None:
    resource = build(version)
    concepts = [(path, node) for path, node in walk(resource) if isinstance(node, dict)]
    coded = [(path, node) for path, node in concepts if "coding" in node]

    assert {path for path, _ in coded} >= set(CODEABLE_CONCEPTS)
    for path, concept in coded:
        assert len(concept["coding"]) == 1, path
        [coding] = concept["coding"]
        assert {"system", "code", "display"} <= set(coding), path
        assert concept["text"], path


@pytest.mark.parametrize("build", RESOURCES)
def test_ext_1_every_extension_has_a_value_or_extensions_not_both(
    build: Any, version: FhirVersion
) -> None:
    for path, node in walk(build(version)):
        if path.endswith("extension") and isinstance(node, dict):
            values = [key for key in node if key.startswith("value")]
            assert node["url"], path
            assert len(values) + ("extension" in node) == 1, path


@pytest.mark.parametrize("build", RESOURCES)
def test_ele_1_no_element_is_empty(build: Any, version: FhirVersion) -> None:
    for path, node in walk(build(version)):
        assert node not in ("", [], {}), path
        if isinstance(node, str):
            assert node == node.strip() or path == "mitigation", path


@pytest.mark.parametrize("build", RESOURCES)
def test_dom_6_there_is_a_narrative(build: Any, version: FhirVersion) -> None:
    text = build(version)["text"]

    assert text["status"] == "generated"
    assert text["div"].startswith('<div xmlns="http://www.w3.org/1999/xhtml">')


@pytest.mark.parametrize("build", RESOURCES)
def test_dom_2_dom_3_and_ref_1_contained_resources_and_local_references_match(
    build: Any, version: FhirVersion
) -> None:
    resource = build(version)
    contained = {r["id"]: r for r in resource.get("contained", [])}
    local = {
        node[1:]
        for path, node in walk(resource)
        if path.endswith(".reference") or path == "subject.reference"
        if isinstance(node, str) and node.startswith("#")
    }

    assert local == set(contained)  # dom-3 and ref-1
    assert not any("contained" in r for r in contained.values())  # dom-2


@pytest.mark.parametrize("build", RESOURCES)
def test_every_id_and_uuid_has_fhir_syntax(build: Any, version: FhirVersion) -> None:
    for path, node in walk(build(version)):
        if path.endswith("id") and path.split(".")[-1] == "id" and "extension" not in path:
            assert re.fullmatch(r"[A-Za-z0-9\-.]{1,64}", node), path
        if isinstance(node, str) and node.startswith("urn:uuid:"):
            assert re.fullmatch(r"urn:uuid:[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}", node)
