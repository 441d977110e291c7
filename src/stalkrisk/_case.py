"""The input models: behaviours, contacts, client history, boundaries, fear, the case."""

from __future__ import annotations

import codecs
import json
import operator
import os
import pathlib
import re
import weakref
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from enum import StrEnum
from itertools import chain, pairwise
from typing import Annotated, Any, ClassVar, Self, TypeAlias

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetPydanticSchema,
    StrictBool,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from ._exceptions import CaseValidationError, Problem
from ._ladder import RankedStrEnum, ranked
from ._problems import TOO_DEEP, nameable, problems_from
from ._published import PublishedSchema

__all__ = [
    "Behaviour",
    "Boundaries",
    "BoundaryWarning",
    "Case",
    "CaseInput",
    "Channel",
    "ClientHistory",
    "ClinicalState",
    "Contact",
    "Fear",
    "FearLevel",
    "FearReport",
    "KnownSince",
    "Motive",
    "Relationship",
    "Target",
    "case_json",
    "parse_case",
]


class Behaviour(StrEnum):
    """What a client did in a contact.  The codes are part of the public contract.

    The ten stalking behaviours (the only ones that count toward the pattern
    threshold), four boundary crossings and two escalations.  Which code is in
    which group is declared by the rule pack's behaviour catalogue.
    """

    FOLLOWING = "following"
    SURVEILLANCE = "surveillance"
    UNWANTED_APPROACH = "unwanted_approach"
    LOITERING = "loitering"
    UNWANTED_CORRESPONDENCE = "unwanted_correspondence"
    UNWANTED_CALLS = "unwanted_calls"
    THREAT = "threat"
    OFFENSIVE_MATERIAL = "offensive_material"
    MALICIOUS_GOSSIP = "malicious_gossip"
    FALSE_IDENTITY = "false_identity"
    GIFT = "gift"
    OUT_OF_SESSION_CONTACT = "out_of_session_contact"
    SOCIAL_MEDIA_CONTACT = "social_media_contact"
    THIRD_PARTY_CONTACT = "third_party_contact"
    PROPERTY_DAMAGE = "property_damage"
    PHYSICAL_VIOLENCE = "physical_violence"


class Channel(StrEnum):
    """How the contact reached the clinician."""

    IN_PERSON = "in_person"
    PHONE = "phone"
    EMAIL = "email"
    LETTER = "letter"
    TEXT = "text"
    SOCIAL_MEDIA = "social_media"
    THIRD_PARTY = "third_party"
    VEHICLE = "vehicle"
    OTHER = "other"


class Target(StrEnum):
    """Who the contact was aimed at."""

    CLINICIAN = "clinician"
    FAMILY = "family"
    COLLEAGUES = "colleagues"
    OTHERS = "others"


class Relationship(StrEnum):
    """The client's relationship to the clinician."""

    CURRENT = "current"
    FORMER = "former"
    PROSPECTIVE = "prospective"
    UNKNOWN = "unknown"


@ranked
class FearLevel(RankedStrEnum):
    """The clinician's own report of fear, lowest first.

    Levels compare and sort in that order; :attr:`rank` is 0 for ``none`` up
    to 3 for ``severe``.
    """

    NONE = "none"
    SOME = "some"
    SIGNIFICANT = "significant"
    SEVERE = "severe"


class Motive(StrEnum):
    """The perceived motive, after the SRP typology (Mullen et al. 1999)."""

    REJECTED = "rejected"
    INTIMACY_SEEKING = "intimacy_seeking"
    INCOMPETENT = "incompetent"
    RESENTFUL = "resentful"
    PREDATORY = "predatory"
    UNKNOWN = "unknown"


class ClinicalState(StrEnum):
    """Clinically relevant states that make a client frail (seed 003's regressive contact)."""

    DEPENDENCY = "dependency"
    SUICIDALITY = "suicidality"
    DECOMPENSATION = "decompensation"


# pydantic alone reads a number, or text of digits such as "2025", as a Unix timestamp:
# in a clinical record that is a mistake, so times and dates are ISO 8601 text only
# (or date and datetime objects when Python objects are validated).  The shape is
# checked by pattern before pydantic parses the text; the zone itself is left to
# pydantic (`timezone_aware`).
_MOMENT_SHAPE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?"
_ANY_OFFSET = r"(?:[Zz]|[+-][0-9]{2}:?[0-9]{2})?"
# No time zone lies beyond ±14:00; FHIR and most stores refuse such offsets later.
_OFFSET = r"(?:[Zz]|[+-](?:(?:0[0-9]|1[0-3]):?[0-5][0-9]|14:?00))"
_NEAR_OFFSET = _OFFSET + "?"
_MAX_OFFSET = timedelta(hours=14)
_UNIQUE: dict[str, Any] = {"uniqueItems": True}
_DAY_SHAPE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"

_ISO_DATETIME = (
    "iso_datetime",
    "must be ISO 8601 text with a time zone, such as 2025-03-16T09:30:00+01:00",
)
_UTC_OFFSET = ("utc_offset", "has a UTC offset beyond ±14:00, which no time zone uses")
_ISO_DATE = ("iso_date", "must be an ISO 8601 date, YYYY-MM-DD, such as 2025-03-16")

_moment_shape = re.compile(_MOMENT_SHAPE + _ANY_OFFSET).fullmatch
_moment_text = re.compile(_MOMENT_SHAPE + _NEAR_OFFSET).fullmatch
_day_text = re.compile(_DAY_SHAPE).fullmatch


def _text_step(pattern: str, error: tuple[str, str]) -> CoreSchema:
    """Text matching ``pattern`` in full, or the one problem ``error``."""
    return core_schema.custom_error_schema(
        core_schema.str_schema(pattern=f"^{pattern}$"),
        custom_error_type=error[0],
        custom_error_message=error[1],
    )


def _moment_object(value: Any) -> Any:
    if isinstance(value, str):
        if _moment_text(value) is None:
            raise PydanticCustomError(*(_UTC_OFFSET if _moment_shape(value) else _ISO_DATETIME))
    elif isinstance(value, datetime):
        offset = value.utcoffset()
        if offset is not None and abs(offset) > _MAX_OFFSET:
            raise PydanticCustomError(*_UTC_OFFSET)
    else:
        raise PydanticCustomError(*_ISO_DATETIME)
    return value


def _moment_retype(kind: str, value: object) -> tuple[str, str] | None:
    # Text that has the shape of a time with an offset failed only for the offset.
    if kind == _ISO_DATETIME[0] and isinstance(value, str) and _moment_shape(value):
        return _UTC_OFFSET
    return None


def _day_object(value: Any) -> Any:
    # A datetime is a date too, but a moment is not a day.
    if isinstance(value, str) and _day_text(value) is not None:
        return value
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raise PydanticCustomError(*_ISO_DATE)


def _moment_schema(_source: Any, _handler: GetCoreSchemaHandler) -> CoreSchema:
    # JSON text takes a pure-Rust chain (no Python call per time, the hot path);
    # Python objects take the same checks in Python.
    aware = core_schema.datetime_schema(tz_constraint="aware")
    return core_schema.json_or_python_schema(
        json_schema=core_schema.chain_schema(
            # One pattern for both problems (the hot path); _moment_retype tells
            # a far offset from a malformed time afterwards.
            [_text_step(_MOMENT_SHAPE + _NEAR_OFFSET, _ISO_DATETIME), aware]
        ),
        python_schema=core_schema.no_info_before_validator_function(_moment_object, aware),
    )


def _day_schema(_source: Any, _handler: GetCoreSchemaHandler) -> CoreSchema:
    day = core_schema.date_schema()
    return core_schema.json_or_python_schema(
        json_schema=core_schema.chain_schema([_text_step(_DAY_SHAPE, _ISO_DATE), day]),
        python_schema=core_schema.no_info_before_validator_function(_day_object, day),
    )


# The published JSON Schema gives the string formats, and a pattern as well, since
# a validator checks formats only when asked to: a time without its offset fails it.
_Moment = Annotated[
    datetime,
    GetPydanticSchema(_moment_schema),
    WithJsonSchema(
        {"type": "string", "format": "date-time", "pattern": f"^{_MOMENT_SHAPE}{_OFFSET}$"}
    ),
]
_Day = Annotated[
    date,
    GetPydanticSchema(_day_schema),
    WithJsonSchema({"type": "string", "format": "date", "pattern": f"^{_DAY_SHAPE}$"}),
]
_Id = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
]
_id_shaped = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}").fullmatch
_Text = Annotated[str, StringConstraints(max_length=20_000)]
_Ref = Annotated[str, StringConstraints(min_length=1, max_length=2_000)]


class _Model(BaseModel):
    # Inputs are clinical data: pydantic's own messages must not repeat them.
    # Flags are StrictBool: "yes" or 1 is refused, not silently read as true.
    # No string cache: a case's strings (ids, mostly) seldom recur between cases,
    # so the cache only costs lookups, and fresh strings lie together in memory.
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        hide_input_in_errors=True,
        revalidate_instances="always",
        cache_strings=False,
    )

    def __str__(self) -> str:
        # pydantic's str() lists every field; print and f-strings get the guarded repr.
        return repr(self)


_FREE = frozenset({"location", "note", "witnesses", "evidence", "response"})


class Contact(_Model):
    """One dated incident, with the fields of an incident journal.

    ``note``, ``location``, ``witnesses``, ``evidence`` and ``response`` are free
    text: they are carried through but never read by the rules and never quoted
    in an error message.
    """

    id: _Id = Field(description="Unique within the case; appears as evidence. Not a name.")
    at: _Moment = Field(description="When it happened, with a timezone.")
    behaviours: tuple[Behaviour, ...] = Field(
        min_length=1, description="At least one code, each once.", json_schema_extra=_UNIQUE
    )
    channel: Channel | None = None
    targets: tuple[Target, ...] = Field(
        default=(Target.CLINICIAN,), min_length=1, json_schema_extra=_UNIQUE
    )
    location: _Text | None = None
    note: _Text | None = Field(default=None, description="What was said or done (sensitive).")
    witnesses: tuple[_Ref, ...] = ()
    evidence: tuple[_Ref, ...] = Field(default=(), description="Recordings, call traces, …")
    response: _Text | None = Field(default=None, description="What the clinician did.")
    ongoing: StrictBool = Field(
        default=False, description="Still happening at the time of assessment."
    )
    weapon: StrictBool = Field(default=False, description="A weapon was shown or mentioned.")
    specific_threat: StrictBool = Field(
        default=False, description="The threat names a time, place or means; needs `threat`."
    )

    def __repr_args__(self) -> Iterable[tuple[str | None, Any]]:
        # What pretty printers (rich, devtools) list: never the free text.
        return [(name, value) for name, value in super().__repr_args__() if name not in _FREE]

    def __repr__(self) -> str:
        # Never the free text: reprs end up in logs and tracebacks.
        flags = [f for f in ("ongoing", "weapon", "specific_threat") if getattr(self, f)]
        shown = ",".join(b.value for b in self.behaviours)
        extra = f" [{','.join(flags)}]" if flags else ""
        return f"<Contact {self.id} {self.at.isoformat()} {shown}{extra}>"

    @model_validator(mode="after")
    def _check(self) -> Self:
        # Runs once per contact of every case: most have one or two behaviours, one
        # target and no specific threat, which one test settles.
        fields = self.__dict__
        behaviours, targets = fields["behaviours"], fields["targets"]
        if len(targets) == 1 and not fields["specific_threat"]:
            count = len(behaviours)
            if count == 1 or (count == 2 and behaviours[0] != behaviours[1]):
                return self
        repeats_behaviour = _repeats(behaviours)
        repeats_target = _repeats(targets)
        threat_missing = fields["specific_threat"] and Behaviour.THREAT not in behaviours
        if repeats_behaviour or repeats_target or threat_missing:
            found = []
            if repeats_behaviour:
                found.append(("behaviours", "lists the same code twice; list each code once"))
            if repeats_target:
                found.append(("targets", "lists the same target twice; list each target once"))
            if threat_missing:
                found.append(("specific_threat", "is true but behaviours has no 'threat'; add it"))
            _raise_inconsistent(found)
        return self


def _repeats(codes: tuple[StrEnum, ...]) -> bool:
    # Two codes are compared directly: building a set costs more than one comparison.
    if len(codes) == 2:
        return codes[0] == codes[1]
    return len(codes) > 2 and len(set(codes)) != len(codes)


_RISK_FACTORS = (
    "prior_violence",
    "prior_stalking",
    "substance_misuse",
    "weapon_access",
    "motive",
    "clinical_state",
)


class KnownSince(_Model):
    """When each risk factor of the client history became known to the clinician.

    A factor with no date counts as known all along.  A re-assessment as of an
    earlier time (:meth:`Case.as_of`, :func:`stalkrisk.trajectory`) leaves out
    the factors not yet known then.
    """

    prior_violence: _Moment | None = None
    prior_stalking: _Moment | None = None
    substance_misuse: _Moment | None = None
    weapon_access: _Moment | None = None
    motive: _Moment | None = None
    clinical_state: _Moment | None = None


class ClientHistory(_Model):
    """What is known about the client before and beside the contacts."""

    relationship: Relationship
    therapy_start: _Day | None = None
    therapy_end: _Day | None = None
    prior_violence: StrictBool = False
    prior_stalking: StrictBool = False
    substance_misuse: StrictBool = False
    weapon_access: StrictBool = False
    protection_order_since: _Moment | None = Field(
        default=None, description="A protection order is in force since this time."
    )
    protection_order_until: _Moment | None = Field(
        default=None,
        description="When the protection order ends (it is in force before this time); "
        "needs protection_order_since.",
    )
    motive: Motive | None = None
    clinical_state: tuple[ClinicalState, ...] = Field(default=(), json_schema_extra=_UNIQUE)
    known_since: KnownSince = Field(
        default=KnownSince(), description="When each risk factor became known, if it matters."
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        found = []
        for name in _RISK_FACTORS:
            if getattr(self.known_since, name) is not None and not getattr(self, name):
                found.append((f"known_since.{name}", f"is set but {name} is not; remove it"))
        if self.therapy_start and self.therapy_end and self.therapy_end < self.therapy_start:
            found.append(("therapy_end", "is before therapy_start; swap or correct them"))
        since, until = self.protection_order_since, self.protection_order_until
        if until is not None and since is None:
            found.append(("protection_order_until", "is set without protection_order_since"))
        elif until is not None and since is not None and until <= since:
            found.append(
                ("protection_order_until", "is not after protection_order_since; correct them")
            )
        if len(set(self.clinical_state)) != len(self.clinical_state):
            found.append(("clinical_state", "lists the same state twice; list each once"))
        _raise_inconsistent(found)
        return self

    @property
    def frail(self) -> bool:
        """True when any clinical state is recorded."""
        return bool(self.clinical_state)


class BoundaryWarning(_Model):
    """A warning given to the client, by the clinician or backed by a supervisor."""

    at: _Moment
    supervisor: StrictBool = Field(default=False, description="A supervisor confronted the client.")


class Boundaries(_Model):
    """Boundaries set with the client."""

    agreement_at: _Moment | None = Field(
        default=None, description="When an informed-consent agreement set the boundaries."
    )
    warnings: tuple[BoundaryWarning, ...] = ()


class FearReport(_Model):
    """One dated report of the clinician's fear."""

    at: _Moment
    level: FearLevel
    family_afraid: StrictBool = False


class Fear(_Model):
    """The clinician's own report of fear; never inferred from free text.

    Either one report as of ``assessed_at`` (``level`` and ``family_afraid``), or
    dated ``reports``: then ``level`` and ``family_afraid`` are filled from the
    latest report (given as well, they must match it).  Only dated reports tell a
    re-assessment as of an earlier time what was reported by then.
    """

    level: FearLevel = FearLevel.NONE
    family_afraid: StrictBool = False
    reports: tuple[FearReport, ...] = Field(
        default=(),
        description="Dated reports; the latest one is the fear as of assessed_at.",
        json_schema_extra=_UNIQUE,  # two reports at one time are refused, so equal ones are
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        if not self.reports:
            return self
        found = []
        times = sorted(r.at for r in self.reports)
        if any(a == b for a, b in pairwise(times)):
            found.append(("reports", "has two reports at the same time; keep the later one"))
        latest = max(self.reports, key=_report_time)
        given = self.model_fields_set
        if "level" in given and self.level is not latest.level:
            found.append(("level", "differs from the latest report's; leave it out or match it"))
        if "family_afraid" in given and self.family_afraid is not latest.family_afraid:
            found.append(
                ("family_afraid", "differs from the latest report's; leave it out or match it")
            )
        _raise_inconsistent(found)
        # Frozen: filled once, here, before anyone can read the model.
        object.__setattr__(self, "level", latest.level)
        object.__setattr__(self, "family_afraid", latest.family_afraid)
        return self


def _report_time(report: FearReport) -> datetime:
    return report.at


class Case(PublishedSchema, _Model):
    """One client and one clinician, as of ``assessed_at``.

    Cases are immutable; the ``with_…`` methods return a validated variant for
    what-if questions and leave the original untouched.
    """

    schema_name: ClassVar[str] = "case"

    assessed_at: _Moment = Field(description="The reference time; never the wall clock.")
    client: ClientHistory
    boundaries: Boundaries = Boundaries()
    # Equal contacts share an id, which is refused.
    contacts: tuple[Contact, ...] = Field(default=(), json_schema_extra=_UNIQUE)
    fear: Fear = Fear()
    ref: _Id | None = Field(
        default=None,
        description="The caller's own opaque reference for the case (a record key, never a "
        "name): carried into the assessment, batch summary rows and the FHIR identifier.",
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        contacts = self.contacts
        found: list[tuple[str, str]] = []
        # Usually every id is unique and nothing lies ahead: two quick passes
        # decide that, and the walk naming each problem runs only otherwise.
        if contacts and (
            len(set(map(_contact_id, contacts))) != len(contacts)
            or max(map(_contact_at, contacts)) > self.assessed_at
        ):
            found += _contact_problems(contacts, self.assessed_at)
        for index, warning in enumerate(self.boundaries.warnings):
            if warning.at > self.assessed_at:
                found.append((f"boundaries.warnings.{index}.at", "is after assessed_at"))
        if self.boundaries.agreement_at and self.boundaries.agreement_at > self.assessed_at:
            found.append(("boundaries.agreement_at", "is after assessed_at"))
        order = self.client.protection_order_since
        if order is not None and order > self.assessed_at:
            found.append(("client.protection_order_since", "is after assessed_at"))
        for name in _RISK_FACTORS:
            known = getattr(self.client.known_since, name)
            if known is not None and known > self.assessed_at:
                found.append((f"client.known_since.{name}", "is after assessed_at"))
        for index, report in enumerate(self.fear.reports):
            if report.at > self.assessed_at:
                found.append((f"fear.reports.{index}.at", "is after assessed_at"))
        day = self.assessed_at.date()
        for name in ("therapy_start", "therapy_end"):
            value = getattr(self.client, name)
            if value is not None and value > day:
                found.append((f"client.{name}", "is after the day of assessed_at"))
        _raise_inconsistent(found)
        _remember(self)
        return self

    def __repr__(self) -> str:
        try:
            return (
                f"<Case {self.client.relationship.value} client, {len(self.contacts)} contacts, "
                f"fear {self.fear.level.value}, assessed at {self.assessed_at.isoformat()}>"
            )
        except AttributeError:
            # Made with model_construct and missing parts: a repr must not fail.
            return "<Case, not validated>"

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_html(self, *, show_text: bool = False) -> str:
        """The case as self-contained HTML: client history, boundaries, fear, contacts.

        This is what a notebook shows.  The contacts' free text (location, note,
        witnesses, evidence, response) is left out unless ``show_text=True``, so
        a case can be put on a screen before a group; shown, it is escaped.
        """
        from ._html import case_html

        return case_html(self, show_text=show_text)

    def _variant(self, **changes: Any) -> Case:
        data = self.model_dump(mode="json")
        data.update(changes)
        return parse_case(data)

    def with_contacts(self, *contacts: Contact | Mapping[str, Any]) -> Case:
        """A copy with ``contacts`` added (models or mappings); ids must stay unique."""
        added = []
        for index, given in enumerate(contacts, start=len(self.contacts)):
            if isinstance(given, Contact):
                added.append(given.model_dump(mode="json"))
            elif isinstance(given, Mapping):
                added.append(dict(given))
            else:
                raise CaseValidationError(
                    [Problem(loc=f"contacts.{index}", type="model_type",
                             msg=f"must be a Contact or a mapping, not {type(given).__name__}")]
                )  # fmt: skip
        return self._variant(contacts=[*self.model_dump(mode="json")["contacts"], *added])

    def _refuse_unknown_ids(self, ids: Iterable[object]) -> None:
        known = {c.id for c in self.contacts}
        found = set()
        for given in ids:
            if isinstance(given, str) and given in known:
                continue
            # Only what has the shape of an id is echoed: anything else may be a name.
            if isinstance(given, str) and _id_shaped(given):
                found.add(f"no contact with id {given!r}")
            else:
                found.add("no contact with that id (not shown: it is not shaped like an id)")
        if found:
            raise CaseValidationError(
                [Problem(loc="contacts", type="unknown_id", msg=msg) for msg in sorted(found)]
            )

    def without_contacts(self, *ids: str) -> Case:
        """A copy without the contacts whose ids are given; unknown ids are an error."""
        self._refuse_unknown_ids(ids)
        kept = [c.model_dump(mode="json") for c in self.contacts if c.id not in ids]
        return self._variant(contacts=kept)

    def with_contact(self, contact_id: str, /, **changes: Any) -> Case:
        """A copy with one contact's fields changed, e.g. ``with_contact("c3", weapon=True)``.

        The changes are validated with the case as in a new contact (``at`` needs
        a time zone, ``behaviours`` known codes); ``id=`` renames the contact.
        An unknown ``contact_id`` raises :class:`CaseValidationError` at
        ``contacts``, as :meth:`without_contacts` does.
        """
        self._refuse_unknown_ids((contact_id,))
        contacts = [c.model_dump(mode="json") for c in self.contacts]
        for data in contacts:
            if data["id"] == contact_id:
                data.update(changes)
        return self._variant(contacts=contacts)

    def with_fear(
        self, level: FearLevel | str | None = None, *, family_afraid: bool | None = None
    ) -> Case:
        """A copy with the fear report changed (only what is given changes).

        With dated reports, the change is a report at ``assessed_at`` (replacing
        one already there); earlier reports stay as they are.
        """
        fear = self.fear.model_dump(mode="json")
        if level is not None:
            fear["level"] = level  # validated with the variant, so a bad level is not echoed
        if family_afraid is not None:
            fear["family_afraid"] = family_afraid
        if self.fear.reports:
            now = {"at": self.assessed_at.isoformat(), "level": fear.pop("level"),
                   "family_afraid": fear.pop("family_afraid")}  # fmt: skip
            earlier = [r.model_dump(mode="json") for r in self.fear.reports
                       if r.at != self.assessed_at]  # fmt: skip
            fear["reports"] = [*earlier, now]
        return self._variant(fear=fear)

    def with_client(self, **changes: Any) -> Case:
        """A copy with client-history fields changed, e.g. ``with_client(prior_violence=True)``."""
        # Validated with the variant: dates, times and enum members may be given as objects.
        return self._variant(client={**self.client.model_dump(mode="json"), **changes})

    def as_of(self, at: datetime) -> Case:
        """The case as the clinician knew it at ``at``, assessed at ``at``.

        Only what is dated at or before ``at`` is kept: contacts, warnings, fear
        reports, the agreement, the protection order and the risk factors by
        their ``known_since`` dates.  ``assess(case.as_of(t))`` is the grade
        :func:`stalkrisk.trajectory` gives for time ``t``.
        """
        from ._known import as_of

        if not isinstance(at, datetime):
            raise CaseValidationError(
                [Problem(loc="at", type="datetime_type",
                         msg=f"must be a datetime with a time zone, not {type(at).__name__}")]
            )  # fmt: skip
        return as_of(self, at)

    def assessed_on(self, assessed_at: datetime) -> Case:
        """A copy assessed at another time (for example a week later), timezone-aware."""
        return self._variant(assessed_at=assessed_at)


# The Cases that passed validation, by id, held weakly.  parse_case uses these as
# they are; a Case made any other way (model_construct, model_copy(update=...),
# copy, unpickling) is not here and is validated again before use.  The weak
# references carry no callback: Python code run while an object dies would
# swallow an interrupt raised there ("Exception ignored"), so dead entries are
# dropped in bulk instead, whenever the registry has doubled since the last time.
_VALIDATED: dict[int, weakref.ref[Case]] = {}
_PRUNE_AT = [1024]


def _remember(case: Case) -> None:
    global _VALIDATED
    _VALIDATED[id(case)] = weakref.ref(case)
    if len(_VALIDATED) >= _PRUNE_AT[0]:
        # A copy first: other threads may add entries meanwhile (they are only
        # validated again if lost).
        live = {key: ref for key, ref in list(_VALIDATED.items()) if ref() is not None}
        _VALIDATED = live
        _PRUNE_AT[0] = max(1024, 2 * len(live))


def _is_validated(case: Case) -> bool:
    # A dead reference under a reused id is not this Case.
    seen = _VALIDATED.get(id(case))
    return seen is not None and seen() is case


def _contact_problems(
    contacts: tuple[Contact, ...], assessed_at: datetime
) -> list[tuple[str, str]]:
    found = []
    seen: dict[str, int] = {}
    for index, contact in enumerate(contacts):
        if contact.id in seen:
            found.append(
                (
                    f"contacts.{index}.id",
                    f"repeats the id of contacts.{seen[contact.id]}; give every contact its own id",
                )
            )
        seen.setdefault(contact.id, index)
        if contact.at > assessed_at:
            found.append(
                (f"contacts.{index}.at", "is after assessed_at; a case holds only past contacts")
            )
    return found


def _raise_inconsistent(found: list[tuple[str, str]]) -> None:
    """Raise one pydantic error carrying every cross-field problem with its own path."""
    if found:
        raise PydanticCustomError(
            "inconsistent",
            "{detail}",
            {"detail": "; ".join(f"{loc} {msg}" for loc, msg in found), "problems": found},
        )


def _part_as_json(value: object) -> object:
    # Python values a mapping, or a Case that skipped validation, may hold, read as
    # their JSON would hold them (enum members are str and encode as their codes).
    # pydantic's own serializer warns about unvalidated parts, quoting their values.
    if isinstance(value, BaseModel):
        return value.__dict__
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        # The json module encodes only dicts: any other Mapping reads as the dict it holds.
        return dict(value)
    raise TypeError(type(value).__name__)


_PARTS_ENCODER = json.JSONEncoder(default=_part_as_json)


def _encode(data: object, what: str) -> str:
    try:
        return _PARTS_ENCODER.encode(data)
    except RecursionError:
        raise CaseValidationError([TOO_DEEP]) from None
    except (TypeError, ValueError):
        raise CaseValidationError(
            [Problem(loc="", type="not_json", msg=f"the {what} cannot be encoded as JSON")]
        ) from None


CaseInput: TypeAlias = "Case | Mapping[str, Any] | str | bytes | os.PathLike[str]"
"""What every entry point accepts as a case: a :class:`Case`, a mapping of its JSON or
of Python values, JSON text or bytes, or the path of a JSON file."""


def case_json(data: CaseInput) -> str | bytes:
    """The JSON text of any accepted case input, not yet validated.

    A mapping's dates, times and nested models are written as their JSON would
    hold them; a Case that skipped validation (``model_construct``) is read
    from its attributes; a path is read as a file.  Raises
    :class:`CaseValidationError` for a mapping that has no JSON or an input of
    another type.
    """
    if isinstance(data, Case):
        if not _is_validated(data):
            return _encode(data, "case")
        # Defaults left out validate back to themselves, and skipping them
        # halves the cost of validating the text again.
        return data.model_dump_json(exclude_defaults=True)
    if isinstance(data, str | bytes):
        return data
    if isinstance(data, bytearray):
        return bytes(data)
    if isinstance(data, os.PathLike):
        return pathlib.Path(data).read_bytes()
    if isinstance(data, Mapping):
        return _encode(data, "mapping")
    raise CaseValidationError(
        [Problem(loc="", type="input_type",
                 msg="expected JSON text, bytes, a mapping, a Case or a pathlib.Path")]
    )  # fmt: skip


def parse_case(data: CaseInput) -> Case:
    """Validate a case from JSON text or bytes, a JSON file's path, or a mapping.

    A validated :class:`Case` is returned as it is; one that skipped validation
    (``model_construct``, ``model_copy(update=...)``) is validated from its
    attributes.  A mapping may hold Python values (``datetime``, ``date``, enum
    members) and is validated directly; a ``pathlib.Path`` is read as a JSON
    file (a missing file raises ``FileNotFoundError``).  Raises
    :class:`CaseValidationError` listing every problem with its JSON path;
    messages never quote the input.
    """
    if isinstance(data, Case) and _is_validated(data):
        return data
    if isinstance(data, str | bytes | bytearray | os.PathLike):
        text = _without_bom(case_json(data))
        return _validate(text, keys_may_repeat=True, path_hint=isinstance(data, str))
    if isinstance(data, Mapping):
        return _validate_mapping(data)
    # A Case that skipped validation, or an input of another type.
    return _validate(case_json(data), keys_may_repeat=False)


def _validate_mapping(data: Mapping[str, Any]) -> Case:
    try:
        case = Case.model_validate(data)
    except ValidationError as error:
        raise CaseValidationError(problems_from(error)) from None
    except RecursionError:
        raise CaseValidationError([TOO_DEEP]) from None
    return case


def _without_bom(text: str | bytes) -> str | bytes:
    # Editors on Windows start UTF-8 files with a byte-order mark; JSON parsers refuse it.
    if isinstance(text, str):
        return text[1:] if text.startswith("\ufeff") else text
    return text[len(codecs.BOM_UTF8) :] if text.startswith(codecs.BOM_UTF8) else text


# What a file name given where JSON text was expected looks like.
_PATH_LIKE = re.compile(r"[^\n\r{}\[\]\"]{1,4096}")
LOOKS_LIKE_PATH = Problem(
    loc="",
    type="looks_like_path",
    msg="is not JSON but looks like a path: pass a pathlib.Path, or the file's text",
)


def _looks_like_path(text: str) -> bool:
    candidate = text.strip()
    if not _PATH_LIKE.fullmatch(candidate):
        return False
    if candidate.lower().endswith(".json"):
        return True
    try:
        return os.path.isfile(candidate)
    except (OSError, ValueError):
        return False


def _validate(text: str | bytes, *, keys_may_repeat: bool, path_hint: bool = False) -> Case:
    try:
        case = Case.model_validate_json(text)
    except ValidationError as error:
        problems = problems_from(error, retype=_moment_retype)
        invalid = any(p.type == "json_invalid" for p in problems)
        if invalid and path_hint and isinstance(text, str) and _looks_like_path(text):
            raise CaseValidationError([LOOKS_LIKE_PATH]) from None
        if keys_may_repeat and not any(p.type in ("json_invalid", "too_deep") for p in problems):
            # With a key given twice the other problems may be about the ignored value.
            problems = _repeated_keys(text) or problems
        raise CaseValidationError(problems) from None
    if keys_may_repeat:
        _refuse_repeated_keys(text, case)
    return case


# Every JSON key ends with a quote, optional whitespace and a colon.
_KEY_END = re.compile(r'"[ \t\n\r]*:')
# A colon right after whitespace; the regex scans for the colon first, which is fast.
_SPACED_COLON = re.compile(r":(?<=[ \t\n\r]:)")
_fields_set = operator.attrgetter("__pydantic_fields_set__")
_contact_id = operator.attrgetter("id")
_contact_at = operator.attrgetter("at")


def _refuse_repeated_keys(json_text: str | bytes, case: Case) -> None:
    """Refuse a valid case whose JSON gave a key twice (pydantic silently keeps the last)."""
    text = json_text.decode(errors="replace") if isinstance(json_text, bytes) else json_text
    # Each key the case used set one field, so the fields set count the keys when
    # none repeats.  Key ends counted in the text bound the keys from above (a
    # quote and colon inside free text counts too): equal counts prove that no key
    # repeats, and only unequal ones need the exact, slower walk.  Counting '":' is
    # the fastest bound, and exact when no whitespace can sit before a colon.
    ends = len(_KEY_END.findall(text)) if _SPACED_COLON.search(text) else text.count('":')
    boundaries = case.boundaries
    models = chain((case, case.client, boundaries, case.fear), boundaries.warnings, case.contacts)
    if ends != sum(map(len, map(_fields_set, models))):
        repeated = _repeated_keys(text)
        if repeated:
            raise CaseValidationError(repeated)


class _Members(list[tuple[str, Any]]):
    """A JSON object's members in their order, with any repeated key kept."""


_REPEATED = "duplicate_key"


def _repeated_keys(text: str | bytes) -> list[Problem]:
    """A problem for every key given twice in one JSON object, in document order."""
    try:
        document = json.loads(text, object_pairs_hook=_Members)
    except (ValueError, RecursionError):
        return []  # pydantic's own problem already says the text is not usable JSON
    found = []
    todo: list[tuple[str, Any]] = [("", document)]
    while todo:
        path, node = todo.pop()
        children: list[tuple[str, Any]] = []
        if isinstance(node, _Members):
            seen: set[str] = set()
            reported: set[str] = set()
            for key, value in node:
                named = nameable(key) is not None
                where = f"{path}.{key}" if path else key
                if key in seen and key not in reported:
                    reported.add(key)
                    found.append(
                        Problem(where, _REPEATED, "is given more than once; keep one")
                        if named
                        else Problem(path, _REPEATED, "an unknown key is given more than once")
                    )
                seen.add(key)
                if named:  # an unknown key that may be clinical text is never put in a path
                    children.append((where, value))
        elif isinstance(node, list):
            children = [(f"{path}.{i}" if path else str(i), v) for i, v in enumerate(node)]
        todo.extend(reversed(children))
    return found
