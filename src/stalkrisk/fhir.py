"""An assessment as an HL7 FHIR ``RiskAssessment`` resource (needs ``stalkrisk[fhir]``).

    >>> import stalkrisk, stalkrisk.fhir
    >>> result = stalkrisk.assess(stalkrisk.example_case())
    >>> resource = stalkrisk.fhir.to_risk_assessment(result, subject_reference="Patient/123")
    >>> resource["resourceType"], resource["prediction"][0]["qualitativeRisk"]["coding"][0]["code"]
    ('RiskAssessment', 'referral')

The client is the ``subject`` (FHIR allows only a Patient or a Group there) and the
predicted outcome is harm to the clinician.  Every resource is validated with the
``fhir.resources`` package before it is returned.  That package (8.x) has R5 and R4B
models but no separate R4 one; ``version="R4"`` output is validated as R4B, whose
``RiskAssessment`` has the same elements as R4.  See docs/fhir.md.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal, get_args

from ._assessment import Assessment, ElementFinding
from ._ladder import Level
from ._registry import default_rule_pack
from ._wording import ELEMENTS, URGENT_BANNER, format_span

__all__ = [
    "LEVEL_SYSTEM",
    "OUTCOME_TEXT",
    "RISK_PROBABILITY",
    "RISK_PROBABILITY_DISPLAY",
    "RISK_PROBABILITY_SYSTEM",
    "RULE_PACK_SYSTEM",
    "FhirVersion",
    "level_code_system",
    "to_risk_assessment",
]

FhirVersion = Literal["R4", "R4B", "R5"]
"""The FHIR versions supported; ``"R4"`` is validated with the R4B models."""

LEVEL_SYSTEM: Final = "https://stalkrisk.example/fhir/CodeSystem/level"
"""The code system of the ladder codes ``none`` … ``police`` (docs/fhir.md)."""

RULE_PACK_SYSTEM: Final = "https://stalkrisk.example/fhir/CodeSystem/rule-pack"
"""The code system naming rule packs in ``method``; the code is the pack's name."""

RISK_PROBABILITY_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/risk-probability"
"""HL7's qualitative risk code system, the usual binding of ``qualitativeRisk``."""

RISK_PROBABILITY: Final[Mapping[Level, str]] = {
    Level.NONE: "negligible",
    Level.REFLECTIVE: "low",
    Level.BOUNDARIES: "low",
    Level.CONSULTATION: "moderate",
    Level.REFERRAL: "high",
    Level.POLICE: "high",
}
"""Each ladder level's risk-probability code; an urgent assessment is always ``high``."""

RISK_PROBABILITY_DISPLAY: Final[Mapping[str, str]] = {
    "negligible": "Negligible likelihood",
    "low": "Low likelihood",
    "moderate": "Moderate likelihood",
    "high": "High likelihood",
    "certain": "Certain",
}
"""The displays of HL7's risk-probability codes."""

OUTCOME_TEXT: Final = "harm to the clinician by stalking or harassment"
"""``prediction[0].outcome.text``: what the assessment is about."""

_MODULES: Final[Mapping[str, str]] = {
    "R4": "fhir.resources.R4B",
    "R4B": "fhir.resources.R4B",
    "R5": "fhir.resources",
}
_INSTALL_HINT: Final = (
    "FHIR output needs the fhir.resources package; install it with pip install 'stalkrisk[fhir]'"
)

# A literal reference: ``Type/id`` (optionally ``/_history/vid``), relative or absolute.
_REFERENCE = re.compile(
    r"(?:https?://[^\s/]+(?:/[^\s/]+)*/)?"
    r"(?P<type>[A-Z][A-Za-z]+)/[A-Za-z0-9\-.]{1,64}(?:/_history/[A-Za-z0-9\-.]{1,64})?"
)
_SUBJECT_TYPES: Final = ("Patient", "Group")
_PERFORMER_TYPES: Final[Mapping[str, tuple[str, ...]]] = {
    "R4": ("Practitioner", "PractitionerRole", "Device"),
    "R4B": ("Practitioner", "PractitionerRole", "Device"),
    "R5": ("Practitioner", "PractitionerRole", "Device", "Patient", "RelatedPerson"),
}
_REASON_TYPES: Final = ("Condition", "Observation", "DiagnosticReport", "DocumentReference")


def _model_class(version: str, module: str, name: str) -> Any:
    """The ``fhir.resources`` class ``name`` for ``version``, imported on first use."""
    try:
        found = importlib.import_module(f"{_MODULES[version]}.{module}")
    except ImportError as error:
        raise ImportError(_INSTALL_HINT) from error
    return getattr(found, name)


def _check_version(version: str) -> None:
    if version not in get_args(FhirVersion):
        choices = ", ".join(repr(v) for v in get_args(FhirVersion))
        raise ValueError(f"version must be one of {choices}, not {version!r}")


def _reference(value: object, argument: str, types: Sequence[str] = ()) -> dict[str, str]:
    """``{"reference": value}`` after checking it is a literal reference of an allowed type."""
    match = _REFERENCE.fullmatch(value) if isinstance(value, str) else None
    if match is None or (types and match["type"] not in types):
        wanted = " or ".join(f"{t}/…" for t in types) if types else "ResourceType/id"
        raise ValueError(f"{argument} must be a reference to {wanted}, not {value!r}")
    return {"reference": match.group(0)}


def _elements_text(assessment: Assessment) -> str:
    present: list[str] = []
    absent: list[str] = []
    for name in ELEMENTS:
        finding: ElementFinding = getattr(assessment.elements, name)
        if not finding.present:
            absent.append(name)
        elif finding.evidence:
            plural = "s" if len(finding.evidence) > 1 else ""
            present.append(f"{name} (contact{plural} {', '.join(finding.evidence)})")
        else:
            present.append(f"{name} (reported)")
    if not present:
        return "No element of stalking is present: pattern, threat and fear are absent."
    text = f"Elements of stalking present: {', '.join(present)}"
    return text + (f"; absent: {', '.join(absent)}." if absent else ".")


def _threshold_text(assessment: Assessment) -> str:
    t = assessment.threshold
    rule = (
        f"{t.min_distinct_behaviours} distinct stalking behaviours over at least "
        f"{t.min_span_days:g} days"
    )
    if not t.course_of_conduct:
        return f"Course-of-conduct threshold ({rule}) not met: no stalking behaviours recorded."
    verdict = "met" if t.met else "not met"
    plural = "s" if t.episodes != 1 else ""
    return (
        f"Course-of-conduct threshold ({rule}) {verdict}: {t.distinct_behaviours} distinct "
        f"({', '.join(t.behaviours)}) over {format_span(t.span_days)} in contacts "
        f"{', '.join(t.course_of_conduct)}; {t.episodes} episode{plural} of stalking contacts."
    )


def _grade_text(assessment: Assessment) -> str:
    text = f"Grade: {assessment.level.value} ({assessment.level_title})"
    if assessment.urgent:
        return f"{text}; URGENT: {URGENT_BANNER}"
    return text + "."


def _qualitative_risk(assessment: Assessment) -> dict[str, Any]:
    level = assessment.level
    titles = {spec.code: spec.title for spec in default_rule_pack().levels}
    probability = "high" if assessment.urgent else RISK_PROBABILITY[level]
    text = f"{level.value}: {assessment.level_title}" + (" (urgent)" if assessment.urgent else "")
    return {
        "coding": [
            {"system": LEVEL_SYSTEM, "code": level.value, "display": titles[level]},
            {
                "system": RISK_PROBABILITY_SYSTEM,
                "code": probability,
                "display": RISK_PROBABILITY_DISPLAY[probability],
            },
        ],
        "text": text,
    }


def _method(assessment: Assessment) -> dict[str, Any]:
    pack = assessment.rule_pack
    return {
        "coding": [
            {
                "system": RULE_PACK_SYSTEM,
                "version": pack.version,
                "code": pack.name,
                "display": f"stalkrisk rule pack {pack.name} {pack.version}",
            }
        ],
        "text": (
            f"stalkrisk {assessment.library_version} with rule pack {pack.name} "
            f"{pack.version} (sha256 {pack.sha256})"
        ),
    }


def _notes(assessment: Assessment) -> list[dict[str, str]]:
    summary = " ".join(
        (_grade_text(assessment), _elements_text(assessment), _threshold_text(assessment))
    )
    notes = [{"text": summary}]
    notes.extend({"text": note} for note in assessment.notes)
    notes.extend(
        {"text": f"Rule fired: {rule.id} — {rule.title}"} for rule in assessment.rules_fired
    )
    return notes


def _reasons(reasons: Sequence[str | Mapping[str, Any]], version: str) -> dict[str, Any]:
    concepts: list[dict[str, Any]] = []
    references: list[dict[str, str]] = []
    for index, item in enumerate(reasons):
        if isinstance(item, str):
            references.append(_reference(item, f"reasons[{index}]", _REASON_TYPES))
        elif isinstance(item, Mapping):
            concepts.append(dict(item))
        else:
            raise ValueError(
                f"reasons[{index}] must be a reference string or a CodeableConcept mapping"
            )
    if version == "R5":
        reason = [{"concept": c} for c in concepts] + [{"reference": r} for r in references]
        return {"reason": reason} if reason else {}
    fields: dict[str, Any] = {}
    if concepts:
        fields["reasonCode"] = concepts
    if references:
        fields["reasonReference"] = references
    return fields


def to_risk_assessment(
    assessment: Assessment,
    *,
    subject_reference: str,
    performer_reference: str | None = None,
    basis: Sequence[str] = (),
    reasons: Sequence[str | Mapping[str, Any]] = (),
    identifier: Mapping[str, Any] | None = None,
    version: FhirVersion = "R4",
) -> dict[str, Any]:
    """``assessment`` as a validated FHIR ``RiskAssessment``, as a JSON-ready ``dict``.

    ``subject_reference`` is the client: ``Patient/…`` or ``Group/…`` (relative or
    absolute).  ``performer_reference`` is who assessed, usually the clinician
    (``Practitioner/…``, ``PractitionerRole/…`` or ``Device/…``; R5 also allows
    ``Patient/…`` and ``RelatedPerson/…``).  ``basis`` lists references to the records
    the assessment rests on, such as ``DocumentReference/…`` or ``Observation/…``.
    ``reasons`` are optional: a string is a reference to a Condition, Observation,
    DiagnosticReport or DocumentReference and a mapping is a CodeableConcept; they go to
    ``reasonReference``/``reasonCode`` in R4 and R4B and to ``reason`` in R5.
    ``identifier`` is an optional FHIR Identifier mapping.  ``version`` is ``"R4"``
    (validated with the R4B models), ``"R4B"`` or ``"R5"``.

    Raises ValueError for a bad reference or version (naming the argument) and
    ImportError when ``fhir.resources`` is missing (install ``stalkrisk[fhir]``).  The
    resource holds no free text from the case: only codes, contact ids and the rule
    pack's own texts.
    """
    if not isinstance(assessment, Assessment):
        raise TypeError(f"assessment must be a stalkrisk.Assessment, not {type(assessment)!r}")
    _check_version(version)
    subject = _reference(subject_reference, "subject_reference", _SUBJECT_TYPES)
    performer = (
        _reference(performer_reference, "performer_reference", _PERFORMER_TYPES[version])
        if performer_reference is not None
        else None
    )
    if isinstance(basis, str):
        raise ValueError("basis must be a sequence of references, not one string")
    basis_refs = [_reference(ref, f"basis[{i}]") for i, ref in enumerate(basis)]
    if isinstance(reasons, str):
        raise ValueError("reasons must be a sequence, not one string")
    model = _model_class(version, "riskassessment", "RiskAssessment")

    document: dict[str, Any] = {"resourceType": "RiskAssessment"}
    if identifier is not None:
        document["identifier"] = [dict(identifier)]
    document["status"] = "final"
    document["method"] = _method(assessment)
    document["code"] = {"text": "Response to stalking or harassment of a clinician by a client"}
    document["subject"] = subject
    document["occurrenceDateTime"] = assessment.assessed_at.isoformat()
    if performer is not None:
        document["performer"] = performer
    document.update(_reasons(reasons, version))
    if basis_refs:
        document["basis"] = basis_refs
    document["prediction"] = [
        {
            "outcome": {"text": OUTCOME_TEXT},
            "qualitativeRisk": _qualitative_risk(assessment),
            "rationale": f"{_grade_text(assessment)} {_elements_text(assessment)}",
        }
    ]
    if assessment.actions:
        document["mitigation"] = "\n".join(action.text for action in assessment.actions)
    document["note"] = _notes(assessment)

    resource = model.model_validate(document)
    validated: dict[str, Any] = json.loads(resource.model_dump_json(exclude_none=True))
    return validated


def level_code_system(*, version: FhirVersion = "R4") -> dict[str, Any]:
    """The ladder code system (``LEVEL_SYSTEM``) as a validated FHIR ``CodeSystem``.

    Codes, displays and definitions come from the bundled rule pack's levels, lowest
    first; each concept also carries its ``rank`` (0 for ``none`` up to 5 for ``police``).
    docs/codes/level.json is this resource.
    """
    _check_version(version)
    model = _model_class(version, "codesystem", "CodeSystem")
    document: dict[str, Any] = {
        "resourceType": "CodeSystem",
        "url": LEVEL_SYSTEM,
        "name": "StalkriskLevel",
        "title": "stalkrisk recommendation ladder",
        "status": "active",
        "experimental": False,
        "publisher": "stalkrisk contributors",
        "description": (
            "How a clinician should respond to a client, or former client, who stalks or "
            "harasses them, from lowest to highest. The codes are a stable contract of "
            "stalkrisk; displays and definitions are those of the bundled rule pack."
        ),
        "caseSensitive": True,
        "content": "complete",
        "count": len(Level),
        "property": [
            {
                "code": "rank",
                "description": "Position on the ladder: 0 for none up to 5 for police.",
                "type": "integer",
            }
        ],
        "concept": [
            {
                "code": spec.code.value,
                "display": spec.title,
                "definition": spec.description,
                "property": [{"code": "rank", "valueInteger": spec.code.rank}],
            }
            for spec in default_rule_pack().levels
        ],
    }
    resource = model.model_validate(document)
    validated: dict[str, Any] = json.loads(resource.model_dump_json(exclude_none=True))
    return validated
