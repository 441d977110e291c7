"""An assessment as an HL7 FHIR ``RiskAssessment`` resource (needs ``stalkrisk[fhir]``).

    >>> import stalkrisk, stalkrisk.fhir
    >>> result = stalkrisk.assess(stalkrisk.example_case())
    >>> resource = stalkrisk.fhir.to_risk_assessment(result, subject_reference="Patient/123")
    >>> resource["status"], resource["prediction"][0]["qualitativeRisk"]["coding"][0]["code"]
    ('preliminary', 'high')

The client is the ``subject`` (FHIR allows only a Patient or a Group there) and the
predicted outcome is harm to the clinician.  ``qualitativeRisk`` holds HL7's
risk-probability code alone; the ladder level, the urgency and the fired rules are
extensions (docs/fhir.md says why).  Every resource is validated with the
``fhir.resources`` package before it is returned.  That package (8.x) has R5 and R4B
models but no separate R4 one; ``version="R4"`` output is validated as R4B, whose
``RiskAssessment`` and ``Bundle`` have the same elements as R4.

The case itself can come in through FHIR too: :func:`questionnaire` is the intake
form, :func:`case_from_response` reads a completed ``QuestionnaireResponse`` back as
a :class:`~stalkrisk.Case`, and :func:`response_from_case` fills in the form.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Final, Literal, NotRequired, TypeAlias, TypedDict, get_args
from xml.sax.saxutils import escape

from ._assessment import Assessment, ElementFinding
from ._fhirmodels import FhirVersion, check_choice, check_version, validated
from ._ladder import Level
from ._questionnaire import (
    QUESTIONNAIRE_URL,
    case_from_response,
    questionnaire,
    response_from_case,
)
from ._registry import default_rule_pack
from ._wording import (
    ELEMENTS,
    URGENT_BANNER,
    behaviour_labels,
    format_span,
    threshold_definition,
)

__all__ = [
    "ASSESSMENT_CODE",
    "ASSESSMENT_SYSTEM",
    "ASSESSMENT_SYSTEM_VERSION",
    "CASE_REF_SYSTEM",
    "FIRED_RULE_EXTENSION",
    "LEVEL_EXTENSION",
    "LEVEL_SYSTEM",
    "OUTCOME_CODE",
    "OUTCOME_TEXT",
    "QUESTIONNAIRE_URL",
    "RISK_PROBABILITY",
    "RISK_PROBABILITY_DISPLAY",
    "RISK_PROBABILITY_SYSTEM",
    "RULE_PACK_SYSTEM",
    "URGENT_EXTENSION",
    "BundleType",
    "FhirVersion",
    "Identifier",
    "LogicalReference",
    "Reference",
    "RiskAssessmentStatus",
    "assessment_code_system",
    "bundle",
    "case_from_response",
    "level_code_system",
    "questionnaire",
    "response_from_case",
    "to_risk_assessment",
]

# So that help() and reprs name the module to import them from.
for _function in (questionnaire, case_from_response, response_from_case):
    _function.__module__ = __name__

RiskAssessmentStatus = Literal[
    "registered",
    "preliminary",
    "final",
    "amended",
    "corrected",
    "cancelled",
    "entered-in-error",
    "unknown",
]
"""``RiskAssessment.status``: the ObservationStatus codes FHIR allows there."""

BundleType = Literal["transaction", "batch", "collection"]
"""The ``Bundle.type`` values :func:`bundle` builds."""


class Identifier(TypedDict):
    """A FHIR Identifier: ``value`` within the namespace ``system`` (an absolute URI)."""

    system: NotRequired[str]
    value: str


class LogicalReference(TypedDict):
    """A reference by business identifier, for a resource whose server id is unknown.

    ``type`` (such as ``"Patient"``) says what kind of resource the identifier names.
    """

    identifier: Identifier
    type: NotRequired[str]


Reference: TypeAlias = "str | LogicalReference"
"""``Type/id`` (relative or absolute), ``urn:uuid:…``, ``#id`` of a contained resource,
or a :class:`LogicalReference`."""

LEVEL_SYSTEM: Final = "https://stalkrisk.example/fhir/CodeSystem/level"
"""The code system of the ladder codes ``none`` … ``police`` (docs/fhir.md)."""

ASSESSMENT_SYSTEM: Final = "https://stalkrisk.example/fhir/CodeSystem/assessment"
"""The code system of ``code`` and ``prediction.outcome`` (:func:`assessment_code_system`)."""

ASSESSMENT_SYSTEM_VERSION: Final = "1.0.0"
"""The version of ``ASSESSMENT_SYSTEM``; it changes only when its concepts do."""

ASSESSMENT_CODE: Final = "stalking-risk-assessment"
"""``RiskAssessment.code``: what kind of assessment this is."""

OUTCOME_CODE: Final = "harm-to-clinician"
"""``prediction[0].outcome``: the outcome whose risk is graded."""

RULE_PACK_SYSTEM: Final = "https://stalkrisk.example/fhir/CodeSystem/rule-pack"
"""The code system naming rule packs in ``method``; the code is the pack's name."""

CASE_REF_SYSTEM: Final = "https://stalkrisk.example/fhir/NamingSystem/case-ref"
"""The default ``identifier.system`` of ``Assessment.ref``; pass your own namespace."""

_STRUCTURE: Final = "https://stalkrisk.example/fhir/StructureDefinition/"
LEVEL_EXTENSION: Final = _STRUCTURE + "response-level"
"""Extension on ``prediction``: the ladder level, a CodeableConcept in ``LEVEL_SYSTEM``."""

URGENT_EXTENSION: Final = _STRUCTURE + "urgent"
"""Extension on ``prediction``: a boolean, true when the client is in imminent danger."""

FIRED_RULE_EXTENSION: Final = _STRUCTURE + "fired-rule"
"""Extension on the resource, once per fired rule, in firing order: sub-extensions ``id``,
``title``, ``effect``, ``element`` (element rules), ``level`` and ``sets-grade`` (level
rules), ``urgent`` (only when true) and ``evidence`` (a contact id; repeated)."""

RISK_PROBABILITY_SYSTEM: Final = "http://terminology.hl7.org/CodeSystem/risk-probability"
"""HL7's qualitative risk code system, the binding of ``qualitativeRisk``."""

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

_CODE_TEXT: Final = "Response to stalking or harassment of a clinician by a client"
_CONCEPTS: Final[Mapping[str, tuple[str, str]]] = {
    ASSESSMENT_CODE: (
        "Assessment of stalking of a clinician by a client",
        "A graded assessment of how a clinician should respond to a client, or former "
        "client, who stalks or harasses them.",
    ),
    OUTCOME_CODE: (
        "Harm to the clinician by stalking or harassment",
        "Physical, psychological or material harm to the clinician, or to people around "
        "them, from the client's stalking or harassment.",
    ),
}

_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
# A literal reference: ``Type/id`` (optionally ``/_history/vid``), relative or absolute.
_LITERAL = re.compile(
    r"(?:https?://[^\s/]+(?:/[^\s/]+)*/)?"
    r"(?P<type>[A-Z][A-Za-z]+)/[A-Za-z0-9\-.]{1,64}(?:/_history/[A-Za-z0-9\-.]{1,64})?"
)
# FHIR writes uuids in lower case.
_UUID = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_CONTAINED = re.compile(r"#(?P<id>[A-Za-z0-9\-.]{1,64})")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:\S+")
_RESOURCE_TYPE = re.compile(r"[A-Z][A-Za-z]+")
_FORMS: Final = (
    "Type/ID (relative or absolute), urn:uuid:UUID (lower case), #ID of a resource in "
    "contained, or a mapping {'identifier': {'system': URI, 'value': ...}, 'type': Type}"
)

_SUBJECT_TYPES: Final = ("Patient", "Group")
_PERFORMER_TYPES: Final[Mapping[str, tuple[str, ...]]] = {
    "R4": ("Practitioner", "PractitionerRole", "Device"),
    "R4B": ("Practitioner", "PractitionerRole", "Device"),
    "R5": ("Practitioner", "PractitionerRole", "Device", "Patient", "RelatedPerson"),
}
_REASON_TYPES: Final = ("Condition", "Observation", "DiagnosticReport", "DocumentReference")

# Derived from stalkrisk's own namespace so the same resource always gets the same uuid.
_UUID_NAMESPACE: Final = uuid.uuid5(uuid.NAMESPACE_URL, _STRUCTURE + "bundle-entry")


# --- references ---------------------------------------------------------------------------


def _wanted(types: Sequence[str]) -> str:
    return " or ".join(types) if types else "any resource"


def _reference(
    value: object,
    argument: str,
    types: Sequence[str] = (),
    contained: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """``value`` as a FHIR Reference after checking its form and, where known, its type.

    ``contained`` maps the ids of the contained resources to their types.  Messages
    name ``argument`` and the accepted forms but never quote the value: an identifier
    such as a record number is personal data.
    """
    if isinstance(value, str):
        return _string_reference(value, argument, types, contained or {})
    if isinstance(value, Mapping):
        return _logical_reference(value, argument, types)
    raise ValueError(
        f"{argument} must be a reference to {_wanted(types)}: {_FORMS}; "
        f"got a {type(value).__name__}"
    )


def _string_reference(
    value: str, argument: str, types: Sequence[str], contained: Mapping[str, str]
) -> dict[str, Any]:
    target: str | None = None  # the referenced type, where the reference tells it
    if literal := _LITERAL.fullmatch(value):
        target = literal["type"]
    elif local := _CONTAINED.fullmatch(value):
        if local["id"] not in contained:
            raise ValueError(
                f"{argument} is a reference to a contained resource, but contained has no "
                "resource with that id; add the resource to contained or refer to it "
                f"another way ({_FORMS})"
            )
        target = contained[local["id"]]
    elif not _UUID.fullmatch(value):
        raise ValueError(f"{argument} must be a reference to {_wanted(types)}: {_FORMS}")
    if types and target is not None and target not in types:
        raise ValueError(f"{argument} must be a reference to {_wanted(types)}, not to a {target}")
    return {"reference": value}


def _logical_reference(
    value: Mapping[Any, Any], argument: str, types: Sequence[str]
) -> dict[str, Any]:
    unknown = sorted(str(key) for key in value if key not in ("identifier", "type"))
    if unknown or "identifier" not in value:
        raise ValueError(
            f"{argument} as a mapping must have the key 'identifier' and may have 'type'"
            + (f"; unknown keys: {', '.join(unknown)}" if unknown else "")
        )
    reference: dict[str, Any] = {"identifier": _identifier(value["identifier"], argument)}
    if "type" in value:
        kind = value["type"]
        if not isinstance(kind, str) or not _RESOURCE_TYPE.fullmatch(kind):
            raise ValueError(f"{argument}['type'] must be a resource type such as 'Patient'")
        if types and kind not in types:
            raise ValueError(f"{argument}['type'] must be {_wanted(types)}, not {kind}")
        reference["type"] = kind
    return reference


def _identifier(value: object, argument: str) -> dict[str, str]:
    where = f"{argument}['identifier']"
    if not isinstance(value, Mapping):
        raise ValueError(f"{where} must be a mapping {{'system': URI, 'value': ...}}")
    unknown = sorted(str(key) for key in value if key not in ("system", "value"))
    if unknown:
        raise ValueError(f"{where} may have only 'system' and 'value'; unknown: {unknown}")
    identifier: dict[str, str] = {}
    if "system" in value:
        identifier["system"] = _uri(value["system"], f"{where}['system']")
    text = value.get("value")
    if not isinstance(text, str) or not text.strip() or text != text.strip():
        raise ValueError(f"{where}['value'] must be a non-empty string without surrounding spaces")
    identifier["value"] = text
    return identifier


def _uri(value: object, argument: str) -> str:
    if not isinstance(value, str) or not _URI.fullmatch(value):
        raise ValueError(f"{argument} must be an absolute URI such as https://clinic.example/ids")
    return value


def _contained(resources: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """The ids of ``resources`` mapped to their types, after FHIR's rules for contained."""
    if isinstance(resources, str | Mapping):
        raise ValueError("contained must be a sequence of resource mappings")
    found: dict[str, str] = {}
    for index, resource in enumerate(resources):
        where = f"contained[{index}]"
        if not isinstance(resource, Mapping):
            raise ValueError(f"{where} must be a resource mapping")
        kind, rid = resource.get("resourceType"), resource.get("id")
        if not isinstance(kind, str) or not _RESOURCE_TYPE.fullmatch(kind):
            raise ValueError(f"{where} needs a resourceType such as 'Patient'")
        if not isinstance(rid, str) or not _ID.fullmatch(rid):
            raise ValueError(f"{where} needs an id of 1 to 64 letters, digits, '-' or '.'")
        if rid in found:
            raise ValueError(f"{where} has the same id as an earlier contained resource")
        if "contained" in resource:  # dom-2
            raise ValueError(f"{where} must not itself contain resources")
        found[rid] = kind
    return found


# --- texts --------------------------------------------------------------------------------


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
    rule = threshold_definition(t)
    if not t.course_of_conduct:
        return f"Course-of-conduct threshold ({rule}) not met: no stalking behaviours recorded."
    verdict = "met" if t.met else "not met"
    plural = "s" if t.episodes != 1 else ""
    labels = behaviour_labels(assessment.rule_pack)
    return (
        f"Course-of-conduct threshold ({rule}) {verdict}: {t.distinct_behaviours} distinct "
        f"({', '.join(labels[code] for code in t.behaviours)}) over "
        f"{format_span(t.span_days)} in contacts "
        f"{', '.join(t.course_of_conduct)}; {t.episodes} episode{plural} of stalking contacts."
    )


def _grade_text(assessment: Assessment) -> str:
    text = f"Grade: {assessment.level.value} ({assessment.level_title})"
    if assessment.urgent:
        return f"{text}; URGENT: {URGENT_BANNER}"
    return text + "."


def _probability(assessment: Assessment) -> str:
    return "high" if assessment.urgent else RISK_PROBABILITY[assessment.level]


def _narrative(assessment: Assessment, status: str) -> dict[str, str]:
    """The generated XHTML summary; every text is escaped, none comes from the case."""
    probability = RISK_PROBABILITY_DISPLAY[_probability(assessment)]
    paragraphs = [
        _grade_text(assessment),
        f"Risk of {OUTCOME_TEXT}: {probability}.",
        _elements_text(assessment),
        _threshold_text(assessment),
    ]
    if status == "preliminary":
        paragraphs.append("Preliminary: decision support awaiting a clinician's sign-off.")
    body = "".join(f"<p>{escape(text)}</p>" for text in paragraphs)
    if assessment.actions:
        items = "".join(f"<li>{escape(action.text)}</li>" for action in assessment.actions)
        body += f"<p>Actions:</p><ul>{items}</ul>"
    else:
        body += "<p>Actions: none.</p>"
    return {
        "status": "generated",
        "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{body}</div>',
    }


# --- coded elements -----------------------------------------------------------------------


def _concept(code: str, text: str) -> dict[str, Any]:
    display, _ = _CONCEPTS[code]
    coding = {
        "system": ASSESSMENT_SYSTEM,
        "version": ASSESSMENT_SYSTEM_VERSION,
        "code": code,
        "display": display,
    }
    return {"coding": [coding], "text": text}


def _qualitative_risk(assessment: Assessment) -> dict[str, Any]:
    code = _probability(assessment)
    display = RISK_PROBABILITY_DISPLAY[code]
    return {
        "coding": [{"system": RISK_PROBABILITY_SYSTEM, "code": code, "display": display}],
        "text": display,
    }


def _prediction_extensions(assessment: Assessment) -> list[dict[str, Any]]:
    # The display is the bundled pack's title, the code system's own; the deciding
    # pack's title (which a custom pack may change) is the text.
    titles = {spec.code: spec.title for spec in default_rule_pack().levels}
    level = assessment.level
    coding = {"system": LEVEL_SYSTEM, "code": level.value, "display": titles[level]}
    return [
        {
            "url": LEVEL_EXTENSION,
            "valueCodeableConcept": {"coding": [coding], "text": assessment.level_title},
        },
        {"url": URGENT_EXTENSION, "valueBoolean": assessment.urgent},
    ]


def _fired_rules(assessment: Assessment) -> list[dict[str, Any]]:
    rules = []
    for rule in assessment.rules_fired:
        parts: list[dict[str, Any]] = [
            {"url": "id", "valueCode": rule.id},
            {"url": "title", "valueString": rule.title},
            {"url": "effect", "valueCode": rule.effect},
        ]
        if rule.element is not None:
            parts.append({"url": "element", "valueCode": rule.element})
        if rule.level is not None:
            parts.append({"url": "level", "valueCode": rule.level.value})
            # A level rule that fired but was outranked must not read as the reason.
            parts.append({"url": "sets-grade", "valueBoolean": rule.sets_grade})
        if rule.urgent:
            parts.append({"url": "urgent", "valueBoolean": True})
        parts.extend({"url": "evidence", "valueString": cid} for cid in rule.evidence)
        rules.append({"url": FIRED_RULE_EXTENSION, "extension": parts})
    return rules


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


def _reasons(
    reasons: Sequence[Reference | Mapping[str, Any]],
    version: str,
    contained: Mapping[str, str],
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The reason fields of ``version``, and the references among them."""
    if isinstance(reasons, str):
        raise ValueError("reasons must be a sequence, not one string")
    concepts: list[dict[str, Any]] = []
    references: list[dict[str, Any]] = []
    for index, item in enumerate(reasons):
        where = f"reasons[{index}]"
        if isinstance(item, str) or (isinstance(item, Mapping) and "identifier" in item):
            references.append(_reference(item, where, _REASON_TYPES, contained))
        elif isinstance(item, Mapping):
            concepts.append(dict(item))
        else:
            raise ValueError(f"{where} must be a reference or a CodeableConcept mapping")
    if version == "R5":
        reason = [{"concept": c} for c in concepts] + [{"reference": r} for r in references]
        return ({"reason": reason} if reason else {}), references
    fields: dict[str, Any] = {}
    if concepts:
        fields["reasonCode"] = concepts
    if references:
        fields["reasonReference"] = references
    return fields, references


# --- the resources ------------------------------------------------------------------------


def to_risk_assessment(
    assessment: Assessment,
    *,
    subject_reference: Reference,
    performer_reference: Reference | None = None,
    basis: Sequence[Reference] = (),
    reasons: Sequence[Reference | Mapping[str, Any]] = (),
    contained: Sequence[Mapping[str, Any]] = (),
    status: RiskAssessmentStatus = "preliminary",
    id: str | None = None,
    identifier_system: str = CASE_REF_SYSTEM,
    version: FhirVersion = "R4",
) -> dict[str, Any]:
    """``assessment`` as a validated FHIR ``RiskAssessment``, as a JSON-ready ``dict``.

    Every reference argument takes ``Type/id`` (relative or absolute, optionally with
    ``/_history/vid``), ``urn:uuid:<uuid>``, ``#id`` of a resource in ``contained``, or
    a :class:`LogicalReference` ``{"identifier": {"system": …, "value": …}, "type": …}``.

    ``subject_reference`` (required) is the client: a Patient or a Group.
    ``performer_reference`` is who assessed, usually the clinician (Practitioner,
    PractitionerRole or Device; R5 also allows Patient and RelatedPerson).  ``basis``
    lists the records the assessment rests on.  ``reasons`` are references to a
    Condition, Observation, DiagnosticReport or DocumentReference, or CodeableConcept
    mappings; they go to ``reasonReference``/``reasonCode`` in R4 and R4B and to
    ``reason`` in R5.  ``contained`` holds resources that ``#id`` references name; each
    must be referenced.  ``status`` defaults to ``"preliminary"``: decision support
    awaiting a clinician's sign-off.  ``id`` is the resource id.  ``Assessment.ref``,
    when set, becomes the identifier in ``identifier_system``.  ``version`` is ``"R4"``
    (validated with the R4B models), ``"R4B"`` or ``"R5"``.

    Raises ValueError naming the bad argument (a reference, the status, the id, the
    version; the message never quotes a reference or an identifier), a
    ``fhir.resources`` ValidationError (also a ValueError) for a contained resource or
    reason concept it refuses, and ImportError when ``fhir.resources`` is missing
    (install ``stalkrisk[fhir]``).  The resource holds no free text from the case: only
    codes, contact ids and the rule pack's own texts.
    """
    if not isinstance(assessment, Assessment):
        raise TypeError(f"assessment must be a stalkrisk.Assessment, not {type(assessment)!r}")
    check_version(version)
    check_choice(status, "status", get_args(RiskAssessmentStatus))
    if id is not None and not (isinstance(id, str) and _ID.fullmatch(id)):
        raise ValueError("id must be 1 to 64 letters, digits, '-' or '.'")
    system = _uri(identifier_system, "identifier_system")
    local = _contained(contained)
    subject = _reference(subject_reference, "subject_reference", _SUBJECT_TYPES, local)
    performer = (
        _reference(performer_reference, "performer_reference", _PERFORMER_TYPES[version], local)
        if performer_reference is not None
        else None
    )
    if isinstance(basis, str):
        raise ValueError("basis must be a sequence of references, not one string")
    basis_refs = [_reference(ref, f"basis[{i}]", (), local) for i, ref in enumerate(basis)]
    reason_fields, reason_refs = _reasons(reasons, version, local)
    named = {ref.get("reference") for ref in [subject, performer or {}, *basis_refs, *reason_refs]}
    for index, rid in enumerate(local):
        if f"#{rid}" not in named:  # dom-3
            raise ValueError(
                f"contained[{index}] is not referenced; FHIR allows a contained resource only "
                "when a reference argument names it by #id"
            )

    document: dict[str, Any] = {"resourceType": "RiskAssessment"}
    if id is not None:
        document["id"] = id
    document["text"] = _narrative(assessment, status)
    if contained:
        document["contained"] = [dict(resource) for resource in contained]
    if assessment.rules_fired:
        document["extension"] = _fired_rules(assessment)
    if assessment.ref is not None:
        document["identifier"] = [{"system": system, "value": assessment.ref}]
    document["status"] = status
    document["method"] = _method(assessment)
    document["code"] = _concept(ASSESSMENT_CODE, _CODE_TEXT)
    document["subject"] = subject
    document["occurrenceDateTime"] = assessment.assessed_at.isoformat()
    if performer is not None:
        document["performer"] = performer
    document.update(reason_fields)
    if basis_refs:
        document["basis"] = basis_refs
    document["prediction"] = [
        {
            "extension": _prediction_extensions(assessment),
            "outcome": _concept(OUTCOME_CODE, OUTCOME_TEXT),
            "qualitativeRisk": _qualitative_risk(assessment),
            "rationale": " ".join(
                (_grade_text(assessment), _elements_text(assessment), _threshold_text(assessment))
            ),
        }
    ]
    if assessment.actions:
        document["mitigation"] = "\n".join(action.text for action in assessment.actions)
    if assessment.notes:
        document["note"] = [{"text": note} for note in assessment.notes]
    return validated(version, "riskassessment", "RiskAssessment", document)


def bundle(
    assessments: Iterable[Assessment],
    *,
    subject_reference: Reference | Callable[[Assessment], Reference],
    performer_reference: Reference | None = None,
    status: RiskAssessmentStatus = "preliminary",
    identifier_system: str = CASE_REF_SYSTEM,
    type: BundleType = "transaction",
    version: FhirVersion = "R4",
) -> dict[str, Any]:
    """The ``assessments`` as RiskAssessments in one validated FHIR ``Bundle``.

    ``subject_reference`` is one client for all (the assessments of one client's
    journal over time) or a function from an assessment to its client, for example
    ``lambda a: {"identifier": {"system": MRN, "value": a.ref}, "type": "Patient"}``.
    The other options are those of :func:`to_risk_assessment`; a bundle has nowhere to
    put contained resources, so ``#id`` references are refused.

    Each entry's ``fullUrl`` is ``urn:uuid:`` and a uuid5 of the resource, so the same
    assessments give the same bundle; an identical resource repeated gets a new uuid
    each time.  In a ``"transaction"`` (the default) or ``"batch"`` bundle each entry is
    ``POST RiskAssessment``; a ``"collection"`` has no requests.
    """
    check_choice(type, "type", get_args(BundleType))
    if isinstance(assessments, Assessment):
        raise ValueError("assessments must be an iterable of assessments, not one assessment")
    entries: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for index, assessment in enumerate(assessments):
        if callable(subject_reference):
            subject = subject_reference(assessment)
            argument = f"subject_reference(assessments[{index}])"
        else:
            subject, argument = subject_reference, "subject_reference"
        try:
            resource = to_risk_assessment(
                assessment,
                subject_reference=subject,
                performer_reference=performer_reference,
                status=status,
                identifier_system=identifier_system,
                version=version,
            )
        except ValueError as error:
            message = str(error).replace("subject_reference", argument, 1)
            raise ValueError(f"assessments[{index}]: {message}") from None
        content = json.dumps(resource, sort_keys=True, separators=(",", ":"))
        repeat = seen[content] = seen.get(content, 0) + 1
        name = content if repeat == 1 else f"{content}#{repeat}"
        entry: dict[str, Any] = {
            "fullUrl": f"urn:uuid:{uuid.uuid5(_UUID_NAMESPACE, name)}",
            "resource": resource,
        }
        if type != "collection":
            entry["request"] = {"method": "POST", "url": "RiskAssessment"}
        entries.append(entry)
    document: dict[str, Any] = {"resourceType": "Bundle", "type": type}
    if entries:
        document["entry"] = entries
    return validated(version, "bundle", "Bundle", document)


# --- code systems ---------------------------------------------------------------------


def level_code_system(*, version: FhirVersion = "R4") -> dict[str, Any]:
    """The ladder code system (``LEVEL_SYSTEM``) as a validated FHIR ``CodeSystem``.

    Codes, displays and definitions come from the bundled rule pack's levels, lowest
    first; each concept also carries its ``rank`` (0 for ``none`` up to 5 for ``police``).
    docs/codes/level.json is this resource.
    """
    check_version(version)
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
    return validated(version, "codesystem", "CodeSystem", document)


def assessment_code_system(*, version: FhirVersion = "R4") -> dict[str, Any]:
    """``ASSESSMENT_SYSTEM`` as a validated FHIR ``CodeSystem``: the concepts of
    ``RiskAssessment.code`` (``ASSESSMENT_CODE``) and ``prediction.outcome``
    (``OUTCOME_CODE``), at ``ASSESSMENT_SYSTEM_VERSION``.

    docs/codes/assessment.json is this resource.
    """
    check_version(version)
    document: dict[str, Any] = {
        "resourceType": "CodeSystem",
        "url": ASSESSMENT_SYSTEM,
        "version": ASSESSMENT_SYSTEM_VERSION,
        "name": "StalkriskAssessment",
        "title": "stalkrisk assessment concepts",
        "status": "active",
        "experimental": False,
        "publisher": "stalkrisk contributors",
        "description": (
            "What a stalkrisk RiskAssessment is (its code) and the outcome whose risk it "
            "grades (its prediction outcome)."
        ),
        "caseSensitive": True,
        "content": "complete",
        "count": len(_CONCEPTS),
        "concept": [
            {"code": code, "display": display, "definition": definition}
            for code, (display, definition) in _CONCEPTS.items()
        ],
    }
    return validated(version, "codesystem", "CodeSystem", document)
