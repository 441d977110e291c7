"""Plain-Python feature extraction: a case becomes a few flat facts for the engine.

Everything that relates contacts to each other (sorting, episodes, spans,
counts, windows) is computed here in O(n log n), so that every engine rule is a
condition on one flat fact with constants and pack parameters only (no
cross-fact joins, see docs/engine.md).  Each counting field also records the ids
of the contacts it counts: that is the evidence a rule cites.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from ._case import Behaviour, Case, Contact, Relationship, Target

__all__ = [
    "GROUPS",
    "MICROSECONDS_PER_DAY",
    "CaseFeatures",
    "Episode",
    "FieldSpec",
    "extract",
    "fields_for",
    "widest_episode",
]

FactKind = Literal["episode", "case", "grade"]
FieldType = Literal["count", "number", "bool", "enum"]
GROUPS = ("stalking", "boundary", "escalation")
ELEMENTS = ("pattern", "threat", "fear")
MICROSECONDS_PER_DAY = 86_400 * 10**6
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MICROSECOND = timedelta(microseconds=1)
_DAYS_PER_MONTH = 365.25 / 12

Value = int | float | str


@dataclass(frozen=True)
class FieldSpec:
    """A field a rule condition may test.  Counting fields carry evidence."""

    name: str
    type: FieldType
    description: str
    values: tuple[str, ...] = ()
    evidence: bool = False


def _count(name: str, description: str) -> FieldSpec:
    return FieldSpec(name, "count", description, evidence=True)


def _flag(name: str, description: str) -> FieldSpec:
    return FieldSpec(name, "bool", description)


_EPISODE_FIELDS = (
    _count("contacts", "Stalking contacts in this episode."),
    FieldSpec(
        "distinct_behaviours", "count", "Distinct stalking behaviours in this episode.", (), True
    ),
    FieldSpec(
        "span_days", "number", "Days from the first to the last contact of this episode.", (), True
    ),
)


def _case_fields() -> tuple[FieldSpec, ...]:
    specs = [_count("contacts", "All contacts in the case.")]
    specs += [_count(f"{b.value}_contacts", f"Contacts showing {b.value}.") for b in Behaviour]
    specs += [
        _count(f"{g}_contacts", f"Contacts showing a behaviour of the {g} group.") for g in GROUPS
    ]
    specs += [
        FieldSpec(
            "max_distinct_behaviours",
            "count",
            "Most distinct stalking behaviours within one episode.",
            evidence=True,
        ),
        FieldSpec(
            "max_span_days", "number", "Longest span of one episode, in days.", evidence=True
        ),
        _count("family_contacts", "Contacts aimed at the clinician's family."),
        _count(
            "protection_order_breach_contacts",
            "Contacts at or after the start of a protection order in force.",
        ),
        _count("contacts_after_agreement", "Contacts after the informed-consent agreement."),
        _count("contacts_after_warning", "Contacts after the first warning."),
        _count(
            "contacts_after_supervisor_warning",
            "Contacts after the first supervisor-backed warning.",
        ),
        _count(
            "ongoing_pursuit_contacts",
            "Contacts happening now that show a pursuit behaviour (catalogue flag).",
        ),
        _count("weapon_contacts", "Contacts in which a weapon was shown or mentioned."),
        _count("recent_physical_violence_contacts", "Physical violence within recent_days."),
        _count("recent_weapon_contacts", "Contacts with a weapon within recent_days."),
        _count("recent_threat_contacts", "Threats within recent_days."),
        _count("recent_specific_threat_contacts", "Specific threats within recent_days."),
        FieldSpec(
            "relationship",
            "enum",
            "The client's relationship to the clinician.",
            tuple(r.value for r in Relationship),
        ),
        FieldSpec("fear_level", "count", "Reported fear: 0 none, 1 some, 2 significant, 3 severe."),
        _flag("family_afraid", "The clinician's family is afraid."),
        _flag("prior_violence", "History of violence."),
        _flag("prior_stalking", "History of stalking or harassment."),
        _flag("substance_misuse", "Drug or alcohol misuse."),
        _flag("weapon_access", "Access to weapons."),
        _flag("protection_order", "A protection order is in force."),
        _flag("frail", "A clinical state such as dependency or suicidality is recorded."),
        FieldSpec(
            "therapy_months",
            "number",
            "Months of therapeutic relationship up to its end or the assessment; -1 if unknown.",
        ),
    ]
    return tuple(specs)


_CASE_FIELDS = _case_fields()
_GRADE_FIELDS = _CASE_FIELDS + tuple(
    _flag(element, f"The {element} element is present.") for element in ELEMENTS
)
_BY_KIND: dict[FactKind, dict[str, FieldSpec]] = {
    "episode": {spec.name: spec for spec in _EPISODE_FIELDS},
    "case": {spec.name: spec for spec in _CASE_FIELDS},
    "grade": {spec.name: spec for spec in _GRADE_FIELDS},
}


def fields_for(kind: FactKind) -> Mapping[str, FieldSpec]:
    """The fields a rule ``on`` this fact kind may test."""
    return _BY_KIND[kind]


@dataclass(frozen=True)
class Episode:
    """A run of stalking contacts with no silence longer than the pack's gap."""

    index: int
    contact_ids: tuple[str, ...]
    behaviours: tuple[str, ...]
    start: datetime
    end: datetime
    span_microseconds: int

    @property
    def span_days(self) -> float:
        # Exact integers divided once: 14 days is 14.0, one microsecond less is below it.
        return self.span_microseconds / MICROSECONDS_PER_DAY

    def fact(self) -> dict[str, Value]:
        return {
            "index": self.index,
            "contacts": len(self.contact_ids),
            "distinct_behaviours": len(self.behaviours),
            "span_days": self.span_days,
        }


@dataclass(frozen=True)
class CaseFeatures:
    """The flat case fact, the evidence behind each counting field, and the episodes."""

    values: dict[str, Value]
    evidence: dict[str, tuple[str, ...]]
    episodes: tuple[Episode, ...]
    chronological_ids: tuple[str, ...]


def _microseconds(moment: datetime) -> int:
    """Exact microseconds since the epoch (floats would blur the two-week boundary)."""
    return (moment - _EPOCH) // _ONE_MICROSECOND


def _episodes(
    timeline: list[tuple[int, Contact]], stalking: frozenset[Behaviour], gap: int
) -> tuple[Episode, ...]:
    runs: list[list[tuple[int, Contact]]] = []
    for moment, contact in timeline:
        if stalking.isdisjoint(contact.behaviours):
            continue
        if runs and moment - runs[-1][-1][0] <= gap:
            runs[-1].append((moment, contact))
        else:
            runs.append([(moment, contact)])
    episodes = []
    for index, run in enumerate(runs):
        shown = {b.value for _, c in run for b in c.behaviours if b in stalking}
        episodes.append(
            Episode(
                index=index,
                contact_ids=tuple(c.id for _, c in run),
                behaviours=tuple(sorted(shown)),
                start=run[0][1].at,
                end=run[-1][1].at,
                span_microseconds=run[-1][0] - run[0][0],
            )
        )
    return tuple(episodes)


def _therapy_months(case: Case) -> float:
    start = case.client.therapy_start
    if start is None:
        return -1.0
    end = case.client.therapy_end or case.assessed_at.date()
    return max((end - start).days, 0) / _DAYS_PER_MONTH


def _first(moments: list[datetime]) -> int | None:
    return _microseconds(min(moments)) if moments else None


def extract(
    case: Case,
    *,
    groups: Mapping[Behaviour, str],
    pursuit: frozenset[Behaviour],
    episode_max_gap_days: float,
    recent_days: float,
) -> CaseFeatures:
    """Compute the case fact and the episode facts for ``case``.

    ``groups`` maps every behaviour to its catalogue group, ``pursuit`` holds
    the behaviours that make an ongoing contact urgent; the two numbers are
    pack parameters.  Runs in O(n log n) for n contacts.
    """
    timeline = sorted(
        ((_microseconds(c.at), c) for c in case.contacts), key=lambda p: (p[0], p[1].id)
    )
    stalking = frozenset(b for b, g in groups.items() if g == "stalking")
    gap = round(episode_max_gap_days * MICROSECONDS_PER_DAY)
    episodes = _episodes(timeline, stalking, gap)

    evidence: dict[str, list[str]] = {spec.name: [] for spec in _CASE_FIELDS if spec.evidence}
    by_behaviour = {b: evidence[f"{b.value}_contacts"] for b in Behaviour}
    group_field = {b: f"{groups[b]}_contacts" for b in Behaviour}
    recent_from = _microseconds(case.assessed_at) - round(recent_days * MICROSECONDS_PER_DAY)
    history = case.client
    warnings = case.boundaries.warnings
    first_warning = _first([w.at for w in warnings])
    first_supervisor = _first([w.at for w in warnings if w.supervisor])
    agreement = _first([case.boundaries.agreement_at] if case.boundaries.agreement_at else [])
    order_since = history.protection_order_since
    order_from = _microseconds(order_since) if order_since is not None else None

    for moment, contact in timeline:
        cid = contact.id
        shown = contact.behaviours
        evidence["contacts"].append(cid)
        for behaviour in shown:
            by_behaviour[behaviour].append(cid)
        for name in {group_field[b] for b in shown}:
            evidence[name].append(cid)
        if Target.FAMILY in contact.targets:
            evidence["family_contacts"].append(cid)
        if order_from is not None and moment >= order_from:
            evidence["protection_order_breach_contacts"].append(cid)
        if agreement is not None and moment > agreement:
            evidence["contacts_after_agreement"].append(cid)
        if first_warning is not None and moment > first_warning:
            evidence["contacts_after_warning"].append(cid)
        if first_supervisor is not None and moment > first_supervisor:
            evidence["contacts_after_supervisor_warning"].append(cid)
        if contact.weapon:
            evidence["weapon_contacts"].append(cid)
        if contact.ongoing and not pursuit.isdisjoint(shown):
            evidence["ongoing_pursuit_contacts"].append(cid)
        if moment >= recent_from:
            if Behaviour.PHYSICAL_VIOLENCE in shown:
                evidence["recent_physical_violence_contacts"].append(cid)
            if contact.weapon:
                evidence["recent_weapon_contacts"].append(cid)
            if Behaviour.THREAT in shown:
                evidence["recent_threat_contacts"].append(cid)
            if contact.specific_threat:
                evidence["recent_specific_threat_contacts"].append(cid)

    widest = widest_episode(episodes)
    longest = max(episodes, key=lambda e: (e.span_microseconds, e.index), default=None)
    evidence["max_distinct_behaviours"] = list(widest.contact_ids) if widest else []
    evidence["max_span_days"] = list(longest.contact_ids) if longest else []

    values: dict[str, Value] = {name: len(ids) for name, ids in evidence.items()}
    values["max_distinct_behaviours"] = len(widest.behaviours) if widest else 0
    values["max_span_days"] = longest.span_days if longest else 0.0
    values["relationship"] = history.relationship.value
    values["fear_level"] = case.fear.level.rank
    values["family_afraid"] = int(case.fear.family_afraid)
    values["prior_violence"] = int(history.prior_violence)
    values["prior_stalking"] = int(history.prior_stalking)
    values["substance_misuse"] = int(history.substance_misuse)
    values["weapon_access"] = int(history.weapon_access)
    values["protection_order"] = int(order_since is not None)
    values["frail"] = int(history.frail)
    values["therapy_months"] = _therapy_months(case)

    return CaseFeatures(
        values=values,
        evidence={name: tuple(ids) for name, ids in evidence.items()},
        episodes=episodes,
        chronological_ids=tuple(c.id for _, c in timeline),
    )


def widest_episode(episodes: tuple[Episode, ...]) -> Episode | None:
    """Most distinct behaviours, then longest, then latest: never depends on input order."""
    return max(
        episodes, key=lambda e: (len(e.behaviours), e.span_microseconds, e.index), default=None
    )
