"""stalkrisk.fhir.bundle: RiskAssessments in one transaction Bundle that R4B and R5 accept."""

from __future__ import annotations

import re
from typing import Any

import pytest
from builders import BUNDLED_VIGNETTES

import stalkrisk
from stalkrisk.fhir import FhirVersion, LogicalReference, bundle, to_risk_assessment

VERSIONS: tuple[FhirVersion, ...] = ("R4", "R4B", "R5")
ASSESSMENTS = [stalkrisk.assess(path.read_text(encoding="utf-8")) for path in BUNDLED_VIGNETTES]
UUID_URN = re.compile(r"urn:uuid:[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}")


def bundle_class(version: FhirVersion) -> Any:
    if version == "R5":
        from fhir.resources.bundle import Bundle

        return Bundle
    from fhir.resources.R4B.bundle import Bundle as R4BBundle

    return R4BBundle


@pytest.mark.parametrize("version", VERSIONS)
def test_a_transaction_bundle_validates_and_posts_each_risk_assessment(
    version: FhirVersion,
) -> None:
    built = bundle(ASSESSMENTS, subject_reference="Patient/1", version=version)

    bundle_class(version).model_validate(built)
    assert built["resourceType"] == "Bundle"
    assert built["type"] == "transaction"
    assert len(built["entry"]) == len(ASSESSMENTS)
    for entry, assessment in zip(built["entry"], ASSESSMENTS, strict=True):
        assert entry["request"] == {"method": "POST", "url": "RiskAssessment"}
        assert entry["resource"] == to_risk_assessment(
            assessment, subject_reference="Patient/1", version=version
        )


@pytest.mark.parametrize("version", VERSIONS)
def test_bdl_7_and_bdl_8_full_urls_are_unique_urn_uuids(version: FhirVersion) -> None:
    twice = [*ASSESSMENTS, *ASSESSMENTS]  # identical resources still get their own uuid

    urls = [
        e["fullUrl"] for e in bundle(twice, subject_reference="Group/g", version=version)["entry"]
    ]

    assert all(UUID_URN.fullmatch(url) for url in urls)
    assert len(set(urls)) == len(urls)


def test_the_uuids_are_deterministic_and_depend_on_the_content() -> None:
    first = bundle(ASSESSMENTS, subject_reference="Patient/1")
    again = bundle(ASSESSMENTS, subject_reference="Patient/1")
    other = bundle(ASSESSMENTS, subject_reference="Patient/2")

    assert first == again
    urls = {e["fullUrl"] for e in first["entry"]}
    assert urls.isdisjoint(e["fullUrl"] for e in other["entry"])


def test_a_resource_keeps_its_uuid_wherever_it_stands_in_the_bundle() -> None:
    forward = bundle(ASSESSMENTS[:3], subject_reference="Patient/1")["entry"]
    backward = bundle(ASSESSMENTS[2::-1], subject_reference="Patient/1")["entry"]

    assert [e["fullUrl"] for e in forward] == [e["fullUrl"] for e in reversed(backward)]


def test_each_assessment_may_have_its_own_subject() -> None:
    refs = [a.model_copy(update={"ref": f"case-{i}"}) for i, a in enumerate(ASSESSMENTS[:3])]

    def client(assessment: stalkrisk.Assessment) -> LogicalReference:
        return {
            "identifier": {"system": "https://clinic.example/mrn", "value": str(assessment.ref)},
            "type": "Patient",
        }

    built = bundle(refs, subject_reference=client, identifier_system="https://clinic.example/ra")

    subjects = [e["resource"]["subject"]["identifier"]["value"] for e in built["entry"]]
    assert subjects == ["case-0", "case-1", "case-2"]
    identifiers = [e["resource"]["identifier"] for e in built["entry"]]
    assert identifiers[0] == [{"system": "https://clinic.example/ra", "value": "case-0"}]


def test_a_bad_subject_names_the_assessment_and_the_argument() -> None:
    subjects = iter(["Patient/1", "Practitioner/2"])

    with pytest.raises(
        ValueError, match=r"^assessments\[1\]: subject_reference\(assessments\[1\]\)"
    ):
        bundle(ASSESSMENTS[:2], subject_reference=lambda _: next(subjects))


def test_a_contained_reference_is_refused_in_a_bundle() -> None:
    with pytest.raises(ValueError, match=r"^assessments\[0\]: subject_reference .*contained"):
        bundle(ASSESSMENTS[:1], subject_reference="#p1")


@pytest.mark.parametrize("kind", ["batch", "collection"])
@pytest.mark.parametrize("version", VERSIONS)
def test_batch_bundles_post_and_bdl_3_collections_have_no_requests(
    kind: Any, version: FhirVersion
) -> None:
    built = bundle(ASSESSMENTS[:2], subject_reference="Patient/1", type=kind, version=version)

    bundle_class(version).model_validate(built)
    assert built["type"] == kind
    assert all(("request" in e) is (kind == "batch") for e in built["entry"])


def test_the_options_reach_every_resource() -> None:
    built = bundle(
        ASSESSMENTS[:2],
        subject_reference="Patient/1",
        performer_reference="Practitioner/dr-7",
        status="final",
        version="R5",
    )

    for entry in built["entry"]:
        assert entry["resource"]["status"] == "final"
        assert entry["resource"]["performer"] == {"reference": "Practitioner/dr-7"}


def test_an_empty_bundle_has_no_entries() -> None:
    assert bundle([], subject_reference="Patient/1") == {
        "resourceType": "Bundle",
        "type": "transaction",
    }


def test_a_bad_type_or_a_single_assessment_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^type must be one of 'transaction'"):
        bundle(ASSESSMENTS, subject_reference="Patient/1", type="document")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^assessments must be an iterable"):
        bundle(ASSESSMENTS[0], subject_reference="Patient/1")  # type: ignore[arg-type]
