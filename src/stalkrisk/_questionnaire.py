"""Case intake as an HL7 FHIR ``Questionnaire``, and its ``QuestionnaireResponse`` read back.

    >>> import stalkrisk, stalkrisk.fhir
    >>> case = stalkrisk.example_case()
    >>> stalkrisk.fhir.case_from_response(stalkrisk.fhir.response_from_case(case)) == case
    True

:func:`questionnaire` is the intake form: one item for every field of a
:class:`~stalkrisk.Case`, its ``linkId`` the field's path (``client.relationship``,
``contacts.at``).  :func:`case_from_response` turns a filled-in form back into a
Case; :func:`response_from_case` fills in the form from a Case.  Every resource is
validated with the ``fhir.resources`` package (8.x), R4 with its R4B models.
:mod:`stalkrisk.fhir` exports these functions and :data:`QUESTIONNAIRE_URL`.

A problem in a response is reported at its item: the ``linkId`` with the
position (0-based) of each repeated group or answer, such as ``contacts[2].at``
or ``contacts[0].behaviours[1]``.  Its ``type`` is one of ``json_invalid``,
``input_type``, ``too_deep``, ``duplicate_key``, ``resource_type``, ``status``,
``questionnaire``, ``fhir`` (``fhir.resources`` refused the resource),
``unknown_link_id``, ``repeated_item``, ``nested``, ``missing``,
``too_many_answers``, ``answer_type``, ``unknown_code``, ``iso_datetime``,
``timezone_aware``, ``iso_date``, or a code of the Case's own validation.  No
message quotes an answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final, Literal

from pydantic import ValidationError

from ._case import (
    Behaviour,
    Case,
    Channel,
    ClinicalState,
    FearLevel,
    Motive,
    Relationship,
    Target,
    parse_case,
)
from ._exceptions import CaseValidationError, Problem
from ._fhirmodels import FhirVersion, check_version, model_class, validated
from ._problems import TOO_DEEP
from ._registry import default_rule_pack
from ._suggest import did_you_mean
from ._version import __version__

__all__ = [
    "QUESTIONNAIRE_URL",
    "case_from_response",
    "questionnaire",
    "response_from_case",
]

QUESTIONNAIRE_URL: Final = "https://stalkrisk.example/fhir/Questionnaire/case"
"""The canonical URL of the intake form; its ``version`` is the library's."""

_CODE_SYSTEM: Final = "https://stalkrisk.example/fhir/CodeSystem/"
_BEHAVIOUR_VALUE_SET: Final = "behaviour"
_REGEX_EXTENSION: Final = "http://hl7.org/fhir/StructureDefinition/regex"
_FINISHED: Final = ("completed", "amended")

_Kind = Literal["group", "string", "text", "boolean", "date", "dateTime", "choice"]


@dataclass(frozen=True)
class _Codes:
    """The codes of a choice item: an enum, its code system and the displays."""

    enum: type[StrEnum]
    system: str
    # None: the rule pack's behaviour labels.
    displays: Mapping[str, str] | None

    def display(self, code: str) -> str:
        if self.displays is None:
            return {spec.code.value: spec.label for spec in default_rule_pack().behaviours}[code]
        return self.displays[code]


@dataclass(frozen=True)
class _When:
    """An ``enableWhen``: the item is shown when ``question`` is answered (``exists``), is
    true (``=`` with no ``code``), or holds ``code`` (one of ``codes``)."""

    question: str
    operator: Literal["exists", "="]
    codes: _Codes | None = None
    code: str | None = None


@dataclass(frozen=True)
class _Spec:
    """One item of the form; its ``linkId`` is the path of the Case field it fills in."""

    link_id: str
    kind: _Kind
    text: str
    required: bool = False
    repeats: bool = False
    codes: _Codes | None = None
    # The default: a boolean's initial answer, or the code selected initially.
    initial: bool | str | None = None
    max_length: int | None = None
    pattern: str | None = None
    when: _When | None = None
    items: tuple[_Spec, ...] = ()

    @property
    def name(self) -> str:
        """The field of the Case model this item fills in."""
        return self.link_id.rpartition(".")[2]


def _codes(enum: type[StrEnum], name: str, displays: Mapping[str, str] | None) -> _Codes:
    return _Codes(enum=enum, system=_CODE_SYSTEM + name, displays=displays)


_RELATIONSHIP = _codes(Relationship, "relationship", {
    "current": "Current client", "former": "Former client",
    "prospective": "Prospective client", "unknown": "Unknown"})  # fmt: skip
_MOTIVE = _codes(Motive, "motive", {
    "rejected": "Rejected", "intimacy_seeking": "Intimacy seeking",
    "incompetent": "Incompetent suitor", "resentful": "Resentful", "predatory": "Predatory",
    "unknown": "Unknown"})  # fmt: skip
_CLINICAL_STATE = _codes(ClinicalState, "clinical-state", {
    "dependency": "Dependency", "suicidality": "Suicidality",
    "decompensation": "Decompensation"})  # fmt: skip
_FEAR_LEVEL = _codes(FearLevel, "fear-level", {
    "none": "None", "some": "Some", "significant": "Significant", "severe": "Severe"})  # fmt: skip
_BEHAVIOUR = _codes(Behaviour, "behaviour", None)
_CHANNEL = _codes(Channel, "channel", {
    "in_person": "In person", "phone": "Phone", "email": "Email", "letter": "Letter",
    "text": "Text message", "social_media": "Social media",
    "third_party": "Through a third party", "vehicle": "From a vehicle",
    "other": "Other"})  # fmt: skip
_TARGET = _codes(Target, "target", {
    "clinician": "The clinician", "family": "The clinician's family",
    "colleagues": "Colleagues", "others": "Others"})  # fmt: skip

_ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
_FACTORS: Final = (
    ("prior_violence", "A history of violence"),
    ("prior_stalking", "A history of stalking or harassment"),
    ("substance_misuse", "Drug or alcohol misuse"),
    ("weapon_access", "Can get hold of weapons"),
)


def _yes_no(link_id: str, text: str, *, when: _When | None = None) -> _Spec:
    return _Spec(link_id, "boolean", text, initial=False, when=when)


def _moment(link_id: str, text: str, *, required: bool = False, when: _When | None = None) -> _Spec:
    return _Spec(link_id, "dateTime", f"{text} (with time zone)", required=required, when=when)


_CLIENT = _Spec("client", "group", "Client history", required=True, items=(
    _Spec("client.relationship", "choice", "The client's relationship to the clinician",
          required=True, codes=_RELATIONSHIP),
    _Spec("client.therapy_start", "date", "First therapy session"),
    _Spec("client.therapy_end", "date", "Last therapy session",
          when=_When("client.therapy_start", "exists")),
    *(_yes_no(f"client.{name}", text) for name, text in _FACTORS),
    _moment("client.protection_order_since", "A protection order is in force since"),
    _moment("client.protection_order_until", "The protection order ends at",
            when=_When("client.protection_order_since", "exists")),
    _Spec("client.motive", "choice", "Perceived motive (SRP typology)", codes=_MOTIVE),
    _Spec("client.clinical_state", "choice", "Clinically relevant states", repeats=True,
          codes=_CLINICAL_STATE),
    _Spec("client.known_since", "group", "When each risk factor became known", items=(
        *(_moment(f"client.known_since.{name}", f"{text}: known since",
                  when=_When(f"client.{name}", "=")) for name, text in _FACTORS),
        _moment("client.known_since.motive", "The motive: known since",
                when=_When("client.motive", "exists")),
        _moment("client.known_since.clinical_state", "The clinical states: known since",
                when=_When("client.clinical_state", "exists")),
    )),
))  # fmt: skip

_BOUNDARIES = _Spec("boundaries", "group", "Boundaries set with the client", items=(
    _moment("boundaries.agreement_at", "An informed-consent agreement set the boundaries at"),
    _Spec("boundaries.warnings", "group", "A warning given to the client", repeats=True, items=(
        _moment("boundaries.warnings.at", "Given at", required=True),
        _yes_no("boundaries.warnings.supervisor",
                "A supervisor confronted the client or backed the warning"),
    )),
))  # fmt: skip

_CONTACTS = _Spec("contacts", "group", "A contact: one dated incident", repeats=True, items=(
    _Spec("contacts.id", "string", "Contact id: unique within the case, never a name",
          required=True, max_length=64, pattern=_ID_PATTERN),
    _moment("contacts.at", "When it happened", required=True),
    _Spec("contacts.behaviours", "choice", "What the client did", required=True, repeats=True,
          codes=_BEHAVIOUR),
    _Spec("contacts.channel", "choice", "How the contact reached the clinician", codes=_CHANNEL),
    _Spec("contacts.targets", "choice", "Who the contact was aimed at", repeats=True,
          codes=_TARGET, initial="clinician"),
    _Spec("contacts.location", "text", "Where (free text)", max_length=20_000),
    _Spec("contacts.note", "text", "What was said or done (free text)", max_length=20_000),
    _Spec("contacts.witnesses", "string", "A witness (a reference, such as a record key)",
          repeats=True, max_length=2_000),
    _Spec("contacts.evidence", "string", "Evidence: a recording, a call trace, …", repeats=True,
          max_length=2_000),
    _Spec("contacts.response", "text", "What the clinician did (free text)", max_length=20_000),
    _yes_no("contacts.ongoing", "Still happening at the time of assessment"),
    _yes_no("contacts.weapon", "A weapon was shown or mentioned"),
    _yes_no("contacts.specific_threat", "The threat names a time, place or means",
            when=_When("contacts.behaviours", "=", _BEHAVIOUR, "threat")),
))  # fmt: skip

_FEAR = _Spec("fear", "group", "The clinician's own report of fear", items=(
    _Spec("fear.level", "choice", "Your fear as of the assessment", codes=_FEAR_LEVEL,
          initial="none"),
    _yes_no("fear.family_afraid", "Your family is afraid"),
    _Spec("fear.reports", "group", "A dated report of fear (the latest is the fear as of the "
          "assessment)", repeats=True, items=(
        _moment("fear.reports.at", "Reported at", required=True),
        _Spec("fear.reports.level", "choice", "Your fear then", required=True,
              codes=_FEAR_LEVEL),
        _yes_no("fear.reports.family_afraid", "Your family was afraid"),
    )),
))  # fmt: skip

_ITEMS: Final = (
    _Spec(
        "ref",
        "string",
        "Your own reference for the case: a record key, never a name",
        max_length=64,
        pattern=_ID_PATTERN,
    ),
    _moment("assessed_at", "Assessed at: the reference time of the assessment", required=True),
    _CLIENT,
    _BOUNDARIES,
    _CONTACTS,
    _FEAR,
)


def _all_specs(specs: tuple[_Spec, ...]) -> list[_Spec]:
    found = []
    for spec in specs:
        found.append(spec)
        found += _all_specs(spec.items)
    return found


_BY_LINK_ID: Final = {spec.link_id: spec for spec in _all_specs(_ITEMS)}


def _coding(codes: _Codes, code: str) -> dict[str, str]:
    return {"system": codes.system, "code": code, "display": codes.display(code)}


def _enable_when(when: _When) -> dict[str, Any]:
    condition: dict[str, Any] = {"question": when.question, "operator": when.operator}
    if when.codes is not None and when.code is not None:
        condition["answerCoding"] = _coding(when.codes, when.code)
    else:
        condition["answerBoolean"] = True
    return condition


def _item(spec: _Spec, version: str) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": spec.link_id, "text": spec.text}
    if spec.pattern is not None:
        item["extension"] = [{"url": _REGEX_EXTENSION, "valueString": spec.pattern}]
    # R5 renamed the type of a coded question and says how strictly it holds to its options.
    item["type"] = "coding" if spec.kind == "choice" and version == "R5" else spec.kind
    if spec.when is not None:
        item["enableWhen"] = [_enable_when(spec.when)]
    if spec.required:
        item["required"] = True
    if spec.repeats:
        item["repeats"] = True
    if spec.max_length is not None:
        item["maxLength"] = spec.max_length
    if spec.codes is not None:
        if version == "R5":
            item["answerConstraint"] = "optionsOnly"
        if spec.codes is _BEHAVIOUR:
            item["answerValueSet"] = f"#{_BEHAVIOUR_VALUE_SET}"
        else:
            item["answerOption"] = [
                {"valueCoding": _coding(spec.codes, code.value)}
                | ({"initialSelected": True} if code.value == spec.initial else {})
                for code in spec.codes.enum
            ]
    elif isinstance(spec.initial, bool):
        item["initial"] = [{"valueBoolean": spec.initial}]
    if spec.items:
        item["item"] = [_item(child, version) for child in spec.items]
    return item


def _behaviour_value_set() -> dict[str, Any]:
    return {
        "resourceType": "ValueSet",
        "id": _BEHAVIOUR_VALUE_SET,
        "status": "active",
        "description": "The behaviour codes, labelled as in the bundled rule pack.",
        "compose": {
            "include": [
                {
                    "system": _BEHAVIOUR.system,
                    "concept": [
                        {"code": code.value, "display": _BEHAVIOUR.display(code.value)}
                        for code in Behaviour
                    ],
                }
            ]
        },
    }


def questionnaire(*, version: FhirVersion = "R4") -> dict[str, Any]:
    """The case intake form as a validated FHIR ``Questionnaire``, a JSON-ready ``dict``.

    One item for every field of a :class:`~stalkrisk.Case`; each ``linkId`` is the
    field's path, such as ``client.relationship`` or ``contacts.at``.  Contacts,
    boundary warnings and dated fear reports are repeating groups.  Coded answers
    are ``answerOption`` codings, and behaviours a contained ``ValueSet`` labelled
    as in the bundled rule pack.  ``version`` is ``"R4"`` (validated with the R4B
    models), ``"R4B"`` or ``"R5"``, where coded items have type ``coding`` and
    ``answerConstraint`` ``optionsOnly`` instead of type ``choice``.
    """
    check_version(version)
    document: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "contained": [_behaviour_value_set()],
        "url": QUESTIONNAIRE_URL,
        "version": __version__,
        "name": "StalkriskCase",
        "title": "stalkrisk case intake",
        "status": "active",
        "experimental": False,
        "subjectType": ["Patient"],
        "publisher": "stalkrisk contributors",
        "description": (
            "A client who stalks or harasses a clinician, as of one moment: the client "
            "history, boundaries, dated contacts and the clinician's fear. A completed "
            "response reads back as a stalkrisk case (linkIds are the case's field paths). "
            "Every time needs a time zone."
        ),
        "item": [_item(spec, version) for spec in _ITEMS],
    }
    return validated(version, "questionnaire", "Questionnaire", document)


# A linkId the questionnaire lacks is named only when shaped like one of its own (identifiers
# joined by dots), as the case's own errors name only identifier-shaped keys: anything
# else may be clinical text typed in the wrong place.
_nameable_link_id = re.compile(r"(?=.{1,64}$)[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*", re.ASCII).fullmatch
_nameable_key = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}").fullmatch
_DAY = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_TIME = r"T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
_day = re.compile(_DAY).fullmatch
_aware = re.compile(_DAY + _TIME + r"(?:Z|[+-][0-9]{2}:[0-9]{2})").fullmatch
_naive = re.compile(_DAY + _TIME).fullmatch
_VALUE_KEYS: Final[Mapping[str, str]] = {
    "string": "valueString",
    "text": "valueString",
    "boolean": "valueBoolean",
    "date": "valueDate",
    "dateTime": "valueDateTime",
    "choice": "valueCoding",
}


def _answers(spec: _Spec, value: Any) -> list[dict[str, Any]]:
    """The answers of question ``spec`` for the Case's ``value``; none for no value."""
    key = _VALUE_KEYS[spec.kind]
    answers: list[dict[str, Any]] = []
    for one in value if spec.repeats else (value,):
        if one is None or one == "":
            # FHIR has no empty string: empty free text reads back as absent.
            continue
        if spec.codes is not None:
            answers.append({key: _coding(spec.codes, one.value)})
        elif spec.kind in ("date", "dateTime"):
            answers.append({key: one.isoformat()})
        else:
            answers.append({key: one})
    return answers


def _asked(spec: _Spec, model: Any) -> bool:
    """Whether a response to ``model`` answers ``spec`` at all."""
    if spec.link_id in ("fear.level", "fear.family_afraid"):
        # With dated reports these are the latest report's, so not asked twice.
        return not model.reports
    # A disabled item has no answer: a specific threat is asked only about a threat.
    when = spec.when
    return when is None or when.code is None or when.code in model.behaviours


def _response_items(specs: tuple[_Spec, ...], model: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for spec in specs:
        value = getattr(model, spec.name)
        if spec.kind == "group":
            for part in value if spec.repeats else (value,):
                children = _response_items(spec.items, part)
                if children:
                    items.append({"linkId": spec.link_id, "item": children})
        elif _asked(spec, model):
            answers = _answers(spec, value)
            if answers:
                items.append({"linkId": spec.link_id, "answer": answers})
    return items


def response_from_case(
    case: Case | str | bytes | Mapping[str, Any], *, version: FhirVersion = "R4"
) -> dict[str, Any]:
    """``case`` as a completed, validated ``QuestionnaireResponse`` to :func:`questionnaire`.

    ``case`` is anything :func:`stalkrisk.parse_case` accepts.  Every yes/no
    question is answered; a field with no value has no answer, and empty free
    text (which FHIR cannot hold) has none either.  With dated fear reports,
    ``fear.level`` and ``fear.family_afraid`` are left to the latest report.
    :func:`case_from_response` reads the result back as an equal Case.

    Raises :class:`~stalkrisk.CaseValidationError` for an invalid case, or for
    free text that FHIR refuses (such as a form feed), at the item's place.
    """
    check_version(version)
    document = {
        "resourceType": "QuestionnaireResponse",
        "questionnaire": f"{QUESTIONNAIRE_URL}|{__version__}",
        "status": "completed",
        "item": _response_items(_ITEMS, parse_case(case)),
    }
    try:
        return validated(version, "questionnaireresponse", "QuestionnaireResponse", document)
    except ValidationError as error:
        reader = _Reader()
        reader.group(document["item"], _ITEMS, "", "")  # for the places of its items
        raise CaseValidationError(
            _refused(error, document, version, reader.places, set())
        ) from None


class _Reader:
    """One reading of a response: the case data found and the problems, by item place."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        # The place of each item and answer object of the response, by identity,
        # so that an error of fhir.resources, located by JSON path, names it too.
        self.places: dict[int, str] = {}

    def problem(self, loc: str, type: str, msg: str) -> None:
        self.problems.append(Problem(loc=loc, type=type, msg=msg))

    def group(
        self, items: object, specs: tuple[_Spec, ...], owner: str, place: str
    ) -> dict[str, Any]:
        """The case data of one group instance (``owner`` its linkId, ``place`` its place)."""
        data: dict[str, Any] = {}
        by_link_id = {spec.link_id: spec for spec in specs}
        seen: dict[str, int] = {}
        for item in items if isinstance(items, list) else ():
            link_id = item.get("linkId") if isinstance(item, dict) else None
            if not isinstance(link_id, str):
                continue  # not an item at all: fhir.resources reports it
            spec = by_link_id.get(link_id)
            if spec is None:
                self.unknown(item, link_id, by_link_id, owner, place)
                continue
            where = place + link_id[len(owner) :] if owner else link_id
            count = seen.get(link_id, 0)
            seen[link_id] = count + 1
            if spec.repeats and spec.kind == "group":
                where = f"{where}[{count}]"
            elif count:
                self.places[id(item)] = where
                msg = "is given more than once; give it once, with all its answers"
                self.problem(where, "repeated_item", msg)
                continue
            self.places[id(item)] = where
            if spec.kind == "group":
                self.read_group(item, spec, where, data)
            else:
                self.read_question(item, spec, where, data)
        for spec in specs:
            if spec.required and spec.link_id not in seen:
                where = place + spec.link_id[len(owner) :] if owner else spec.link_id
                if spec.kind == "group":
                    data[spec.name] = self.group([], spec.items, spec.link_id, where)
                else:
                    self.problem(where, "missing", "is required; answer it")
        return data

    def unknown(
        self,
        item: dict[str, Any],
        link_id: str,
        here: Mapping[str, _Spec],
        owner: str,
        place: str,
    ) -> None:
        if not _nameable_link_id(link_id):
            self.places[id(item)] = place
            self.problem(place, "unknown_link_id",
                         "an item has a linkId this questionnaire does not have (not shown: "
                         "it is not shaped like a linkId)")  # fmt: skip
            return
        inside = owner and link_id.startswith(owner + ".")
        where = place + link_id[len(owner) :] if inside else link_id
        self.places[id(item)] = where
        group = f"group {owner}" if owner else "the top level"
        known = _BY_LINK_ID.get(link_id)
        if known is not None:
            parent = known.link_id.rpartition(".")[0]
            belongs = f"group {parent}" if parent else "the top level"
            msg = f"is not an item of {group}; it belongs in {belongs}"
        else:
            hint = did_you_mean(link_id, here)
            tail = f"; {hint}" if hint else ""
            msg = f"is not a linkId of {group} in this questionnaire{tail}"
        self.problem(where, "unknown_link_id", msg)

    def read_group(
        self, item: dict[str, Any], spec: _Spec, where: str, data: dict[str, Any]
    ) -> None:
        if item.get("answer"):
            self.problem(where, "nested", "is a group: its answers go in its items")
        part = self.group(item.get("item"), spec.items, spec.link_id, where)
        if spec.repeats:
            # Every instance is kept, invalid or not, so positions match the case's lists.
            data.setdefault(spec.name, []).append(part)
        else:
            data[spec.name] = part

    def read_question(
        self, item: dict[str, Any], spec: _Spec, where: str, data: dict[str, Any]
    ) -> None:
        if item.get("item"):
            self.problem(where, "nested", "is a question: it has no items of its own")
        given = item.get("answer")
        answers = given if isinstance(given, list) else []
        if len(answers) > 1 and not spec.repeats:
            self.problem(where, "too_many_answers", "has more than one answer; give one")
            return
        if not answers and spec.required:
            self.problem(where, "missing", "is required; answer it")
        values = []
        for index, answer in enumerate(answers):
            if not isinstance(answer, dict):
                continue  # fhir.resources reports it
            at = f"{where}[{index}]" if spec.repeats else where
            self.places[id(answer)] = at
            if answer.get("item"):
                self.problem(at, "nested", "has items under its answer; this form has none there")
            found, value = self.value(answer, spec, at)
            if found:
                values.append(value)
        if values:
            data[spec.name] = values if spec.repeats else values[0]

    def value(self, answer: dict[str, Any], spec: _Spec, at: str) -> tuple[bool, Any]:
        """Whether ``answer`` holds a good value for ``spec``, and the value."""
        key = _VALUE_KEYS[spec.kind]
        if key not in answer:
            other = [k for k in answer if k.startswith("value") and _nameable_key(k)]
            but = f", not {other[0]}" if other else ""
            self.problem(at, "answer_type", f"needs a {key} answer{but}")
            return False, None
        value = answer[key]
        if spec.codes is not None:
            return self.code(value, spec.codes, at)
        if spec.kind == "boolean":
            if isinstance(value, bool):
                return True, value
            self.problem(at, "answer_type", "needs true or false")
        elif not isinstance(value, str):
            self.problem(at, "answer_type", "needs text")
        elif spec.kind == "date" and not _day(value):
            self.problem(at, "iso_date", "needs a whole date, YYYY-MM-DD, such as 2025-03-16")
        elif spec.kind == "dateTime" and not _aware(value):
            if _naive(value):
                msg = "has no UTC offset: give the time zone, such as +01:00 or Z"
                self.problem(at, "timezone_aware", msg)
            else:
                msg = "needs a date, a time with seconds and a UTC offset: 2025-03-16T09:30:00Z"
                self.problem(at, "iso_datetime", msg)
        else:
            return True, value
        return False, None

    def code(self, coding: object, codes: _Codes, at: str) -> tuple[bool, Any]:
        if not isinstance(coding, dict):
            self.problem(at, "answer_type", "needs a coding")
            return False, None
        code = coding.get("code")
        allowed = [member.value for member in codes.enum]
        # A form may leave out the system of its own options; another system is refused.
        if coding.get("system", codes.system) != codes.system:
            self.problem(at, "unknown_code", f"needs a code of {codes.system}")
        elif code not in allowed:
            hint = did_you_mean(code, allowed)
            tail = f"; {hint}" if hint else ""
            self.problem(at, "unknown_code", f"is not one of this question's codes{tail}")
        else:
            return True, code
        return False, None


def _place_of(
    document: object, path: tuple[int | str, ...], type: str, places: Mapping[int, str]
) -> str:
    """The place of the part of ``document`` at the JSON ``path`` of a ``type`` error."""
    node: Any = document
    place: str | None = None
    steps: list[int | str] = []
    for part in path:
        in_object = isinstance(node, dict) and isinstance(part, str) and part in node
        in_array = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if not (in_object or in_array):
            break
        node = node[part]
        steps.append(part)
        place = places.get(id(node), place)
    if place is not None:
        return place
    if type == "extra_forbidden":
        steps = steps[:-1]  # the key the input chose, which may be clinical text
    return ".".join(str(s) for s in steps if isinstance(s, int) or _nameable_key(s))


def _fhir_msg(detail: Mapping[str, Any]) -> str:
    if detail["type"] == "string_pattern_mismatch":
        # FHIR's pattern, quoted as it is, holds raw line breaks.
        return "its text is empty or holds only whitespace FHIR does not allow"
    # include_input=False leaves the input out of the error, not out of its message.
    msg = str(detail["msg"])
    given = detail.get("input")
    return "the value does not fit" if isinstance(given, str) and given in msg else msg


def _refused(
    error: ValidationError,
    document: dict[str, Any],
    version: str,
    places: Mapping[int, str],
    reported: set[str],
) -> list[Problem]:
    """The errors of ``fhir.resources`` as problems, at places not in ``reported``."""
    found: list[Problem] = []
    seen = set(reported)
    for detail in error.errors(include_url=False):
        place = _place_of(document, detail["loc"], detail["type"], places)
        if place not in seen:
            seen.add(place)
            found.append(
                Problem(place, "fhir", f"is not valid FHIR {version}: {_fhir_msg(detail)}")
            )
    return found


def _fhir_problems(
    document: dict[str, Any], version: str, places: Mapping[int, str], reported: set[str]
) -> list[Problem]:
    """What ``fhir.resources`` refuses in ``document``, at places not in ``reported``."""
    model = model_class(version, "questionnaireresponse", "QuestionnaireResponse")
    try:
        model.model_validate(document)
    except RecursionError:
        return [TOO_DEEP]
    except ValidationError as error:
        return _refused(error, document, version, places, reported)
    return []


class _Object(dict[str, Any]):
    """A JSON object that gave a key more than once (the last value is kept)."""


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found = dict(pairs)
    return _Object(found) if len(found) < len(pairs) else found


def _document(response: object) -> tuple[dict[str, Any] | None, list[Problem]]:
    if isinstance(response, str | bytes | bytearray):
        if isinstance(response, str):
            # Editors on Windows start UTF-8 files with a byte-order mark; json refuses it in text.
            response = response.removeprefix("\ufeff")
        try:
            # A key given twice is kept apart: json.loads would silently keep the last.
            response = json.loads(response, object_pairs_hook=_object)
        except RecursionError:
            return None, [TOO_DEEP]
        except ValueError:
            return None, [Problem("", "json_invalid", "is not valid JSON")]
    if not isinstance(response, Mapping):
        return None, [Problem("", "input_type", "expected a QuestionnaireResponse JSON object")]
    document = dict(response)
    problems = []
    if document.get("resourceType") != "QuestionnaireResponse":
        return None, [Problem("resourceType", "resource_type", "must be QuestionnaireResponse")]
    if document.get("status") not in _FINISHED:
        msg = "must be completed or amended: an unfinished form is not read"
        problems.append(Problem("status", "status", msg))
    canonical = document.get("questionnaire")
    if not isinstance(canonical, str) or canonical.partition("|")[0] != QUESTIONNAIRE_URL:
        msg = f"must be {QUESTIONNAIRE_URL}, optionally with |version"
        problems.append(Problem("questionnaire", "questionnaire", msg))
    if isinstance(response, _Object):
        problems.append(_repeated_key(""))
    return document, problems


def _repeated_key(place: str) -> Problem:
    return Problem(place, "duplicate_key", "a JSON object here gives a key more than once")


def _repeated_keys(node: object, places: Mapping[int, str], place: str = "") -> list[Problem]:
    """A problem at the nearest item or answer of each JSON object below ``node`` that
    gave a key twice."""
    found = []
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        here = places.get(id(child), place)
        if isinstance(child, _Object):
            found.append(_repeated_key(here))
        found += _repeated_keys(child, places, here)
    return found


def _place(loc: str) -> str:
    """A Case location (``contacts.3.at``) as an item place (``contacts[3].at``)."""
    place = ""
    for part in loc.split(".") if loc else ():
        place += f"[{part}]" if part.isdigit() else f".{part}" if place else part
    return place


def _related(place: str, reported: set[str], type: str) -> bool:
    """Whether a problem of the case's validation at ``place`` repeats one already reported:
    at the same place or around it, or, for a cross-field one, in the same group."""
    group = place.rpartition(".")[0]
    for loc in reported:
        if (
            place == loc
            or place.startswith((loc + ".", loc + "["))
            or loc.startswith((place + ".", place + "["))
        ):
            return True
        if type == "inconsistent" and group and loc.startswith(group + "."):
            return True
    return False


def case_from_response(
    response: Mapping[str, Any] | str | bytes, *, version: FhirVersion = "R4"
) -> Case:
    """The :class:`~stalkrisk.Case` in a completed ``QuestionnaireResponse`` to the intake form.

    ``response`` is a mapping or JSON text (``str`` or ``bytes``).  Its ``status``
    must be ``completed`` or ``amended``, its ``questionnaire`` :data:`QUESTIONNAIRE_URL`
    (optionally ``|version``); the resource is validated with ``fhir.resources``
    for ``version`` (R4 with the R4B models).  Unanswered questions take the Case's
    defaults.

    Raises :class:`~stalkrisk.CaseValidationError` listing every problem at its
    item: the ``linkId`` with the 0-based position of each repeated group or
    answer (``contacts[2].at``, ``contacts[0].behaviours[1]``).  Unknown or
    misplaced linkIds, answers of the wrong type, unknown codes, missing required
    answers, a time without a UTC offset and the Case's own checks are all
    reported; no message quotes an answer.
    """
    check_version(version)
    document, problems = _document(response)
    if document is None:
        raise CaseValidationError(problems)
    reader = _Reader()
    data = reader.group(document.get("item"), _ITEMS, "", "")
    problems += reader.problems
    problems += _repeated_keys(document, reader.places)
    problems += _fhir_problems(document, version, reader.places, {p.loc for p in problems})
    try:
        case = parse_case(data)
    except CaseValidationError as error:
        reported = {p.loc for p in problems}
        problems += [
            Problem(_place(p.loc), p.type, p.msg)
            for p in error.problems
            if not _related(_place(p.loc), reported, p.type)
        ]
        raise CaseValidationError(problems) from None
    if problems:
        raise CaseValidationError(problems)
    return case
