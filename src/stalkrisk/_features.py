"""Plain-Python feature extraction: a case becomes a few flat facts for the engine.

Everything that relates contacts to each other (sorting, episodes, spans,
counts, windows) is computed here in O(n log n), so that every engine rule is a
condition on one flat fact with constants and pack parameters only (no
cross-fact joins, see docs/engine.md).  Each counting field also records the ids
of the contacts it counts: that is the evidence a rule cites.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from ._case import Behaviour, Case, Relationship, Target

__all__ = [
    "GROUPS",
    "MICROSECONDS_PER_DAY",
    "CaseFeatures",
    "Episode",
    "Extractor",
    "FieldSpec",
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
    """A run of stalking contacts with no silence longer than the pack's gap.

    ``positions`` are the contacts' places in the case's chronological order
    (see :attr:`CaseFeatures.chronological_ids`).
    """

    index: int
    positions: tuple[int, ...]
    behaviours: tuple[str, ...]
    span_microseconds: int

    @property
    def span_days(self) -> float:
        # Exact integers divided once: 14 days is 14.0, one microsecond less is below it.
        return self.span_microseconds / MICROSECONDS_PER_DAY

    def values(self) -> dict[str, Value]:
        """The fields an episode rule may test (see ``fields_for("episode")``)."""
        return {
            "contacts": len(self.positions),
            "distinct_behaviours": len(self.behaviours),
            "span_days": self.span_days,
        }


@dataclass(frozen=True)
class CaseFeatures:
    """The flat case fact, the evidence behind each counting field, and the episodes.

    Evidence is held as ascending chronological positions; ``chronological_ids``
    turns a position into a contact id.
    """

    values: dict[str, Value]
    evidence: dict[str, Sequence[int]]
    episodes: tuple[Episode, ...]
    chronological_ids: tuple[str, ...]


# Evidence lists filled contact by contact; the time-window fields are suffixes of
# the chronological order and are cut with bisect instead.  "specific_threat" is
# internal: it only feeds recent_specific_threat_contacts.
_BEHAVIOUR_SLOTS = tuple(f"{b.value}_contacts" for b in Behaviour)
_GROUP_SLOTS = tuple(f"{g}_contacts" for g in GROUPS)
_SLOTS = (
    *_BEHAVIOUR_SLOTS,
    *_GROUP_SLOTS,
    "family_contacts",
    "weapon_contacts",
    "ongoing_pursuit_contacts",
    "specific_threat",
)
_SLOT = {name: index for index, name in enumerate(_SLOTS)}
_EVIDENCE_FIELDS = tuple(spec.name for spec in _CASE_FIELDS if spec.evidence)
# What decides where a contact's id goes: its behaviours, targets and flags.
_Signature = tuple[tuple[Behaviour, ...], tuple[Target, ...], bool, bool, bool]
_SIGNATURE_CACHE_SIZE = 4096


def _first(moments: list[datetime]) -> int | None:
    return _microseconds(min(moments)) if moments else None


def _microseconds(moment: datetime) -> int:
    """Exact microseconds since the epoch (floats would blur the two-week boundary)."""
    return (moment - _EPOCH) // _ONE_MICROSECOND


def _therapy_months(case: Case) -> float:
    start = case.client.therapy_start
    if start is None:
        return -1.0
    end = case.client.therapy_end or case.assessed_at.date()
    return max((end - start).days, 0) / _DAYS_PER_MONTH


def _after(times: list[int], moment: int | None, *, inclusive: bool) -> range:
    """Chronological positions at (``inclusive``) or after ``moment``; none if unset."""
    if moment is None:
        return range(0)
    cut = bisect_left(times, moment) if inclusive else bisect_right(times, moment)
    return range(cut, len(times))


def _from(positions: list[int], first: int) -> list[int]:
    """The ascending ``positions`` at or after ``first``."""
    return positions[bisect_left(positions, first) :]


class Extractor:
    """Feature extraction for one rule pack's catalogue and parameters.

    ``groups`` maps every behaviour to its catalogue group, ``pursuit`` holds
    the behaviours that make an ongoing contact urgent; the two numbers are
    pack parameters.  :meth:`extract` runs in O(n log n) for n contacts: one
    pass reads each contact once into flat columns, one sort orders them, and
    every later step works on positions and integers only.
    """

    def __init__(
        self,
        *,
        groups: Mapping[Behaviour, str],
        pursuit: frozenset[Behaviour],
        episode_max_gap_days: float,
        recent_days: float,
    ) -> None:
        self._group_slot = {b: _SLOT[f"{groups[b]}_contacts"] for b in Behaviour}
        self._pursuit = pursuit
        # Bit i stands for the i-th stalking code in sorted order, so a mask
        # decodes straight into the sorted tuple an episode reports.
        self._stalking_codes = tuple(sorted(b.value for b in Behaviour if groups[b] == "stalking"))
        self._bit = {Behaviour(code): 1 << i for i, code in enumerate(self._stalking_codes)}
        self._gap = round(episode_max_gap_days * MICROSECONDS_PER_DAY)
        self._recent = round(recent_days * MICROSECONDS_PER_DAY)
        self._signatures: dict[_Signature, tuple[tuple[int, ...], int]] = {}
        self._decoded: dict[int, tuple[str, ...]] = {}

    def _place(self, signature: _Signature) -> tuple[tuple[int, ...], int]:
        """Work out and remember the evidence slots and stalking bitmask of ``signature``."""
        shown, targets, weapon, ongoing, specific = signature
        slots = [_SLOT[f"{b.value}_contacts"] for b in shown]
        slots += sorted({self._group_slot[b] for b in shown})
        if Target.FAMILY in targets:
            slots.append(_SLOT["family_contacts"])
        if weapon:
            slots.append(_SLOT["weapon_contacts"])
        if ongoing and not self._pursuit.isdisjoint(shown):
            slots.append(_SLOT["ongoing_pursuit_contacts"])
        if specific:
            slots.append(_SLOT["specific_threat"])
        mask = 0
        for behaviour in shown:
            mask |= self._bit.get(behaviour, 0)
        found = (tuple(slots), mask)
        if len(self._signatures) >= _SIGNATURE_CACHE_SIZE:
            self._signatures.clear()  # a bound, not an eviction policy: entries are cheap
        self._signatures[signature] = found
        return found

    def _decode(self, mask: int) -> tuple[str, ...]:
        codes = self._decoded.get(mask)
        if codes is None:
            codes = tuple(c for i, c in enumerate(self._stalking_codes) if mask >> i & 1)
            self._decoded[mask] = codes  # at most 2**len(stalking codes) entries
        return codes

    def _episodes(
        self, times: list[int], stalking: list[int], masks: list[int]
    ) -> tuple[Episode, ...]:
        episodes: list[Episode] = []
        start = 0
        for end in range(1, len(stalking) + 1):
            if end < len(stalking) and times[stalking[end]] - times[stalking[end - 1]] <= self._gap:
                continue
            mask = 0
            for bits in masks[start:end]:
                mask |= bits
            episodes.append(
                Episode(
                    index=len(episodes),
                    positions=tuple(stalking[start:end]),
                    behaviours=self._decode(mask),
                    span_microseconds=times[stalking[end - 1]] - times[stalking[start]],
                )
            )
            start = end
        return tuple(episodes)

    def extract(self, case: Case) -> CaseFeatures:
        """Compute the case fact and the episode facts for ``case``."""
        # Each contact is read once, in input (memory) order, into flat columns;
        # everything after the sort touches only those columns.
        contacts = case.contacts
        known, place = self._signatures.get, self._place
        ids = [c.id for c in contacts]
        moments = [(c.at - _EPOCH) // _ONE_MICROSECOND for c in contacts]  # _microseconds, inlined
        signatures = [
            (c.behaviours, c.targets, c.weapon, c.ongoing, c.specific_threat) for c in contacts
        ]
        placed = [known(signature) or place(signature) for signature in signatures]
        # Two stable sorts of plain keys: by time, ties by id (ids are unique).
        order = sorted(range(len(contacts)), key=ids.__getitem__)
        order.sort(key=moments.__getitem__)
        times = [moments[i] for i in order]

        columns: list[list[int]] = [[] for _ in _SLOTS]
        stalking: list[int] = []
        masks: list[int] = []
        for position, i in enumerate(order):
            slots, mask = placed[i]
            for slot in slots:
                columns[slot].append(position)
            if mask:
                stalking.append(position)
                masks.append(mask)
        episodes = self._episodes(times, stalking, masks)

        history = case.client
        warnings = case.boundaries.warnings
        agreement_at = case.boundaries.agreement_at
        order_since = history.protection_order_since
        recent = bisect_left(times, _microseconds(case.assessed_at) - self._recent)
        evidence: dict[str, Sequence[int]] = dict(zip(_SLOTS, columns, strict=True))
        del evidence["specific_threat"]
        evidence["contacts"] = range(len(order))
        evidence["protection_order_breach_contacts"] = _after(
            times, None if order_since is None else _microseconds(order_since), inclusive=True
        )
        evidence["contacts_after_agreement"] = _after(
            times, None if agreement_at is None else _microseconds(agreement_at), inclusive=False
        )
        evidence["contacts_after_warning"] = _after(
            times, _first([w.at for w in warnings]), inclusive=False
        )
        evidence["contacts_after_supervisor_warning"] = _after(
            times, _first([w.at for w in warnings if w.supervisor]), inclusive=False
        )
        evidence["recent_physical_violence_contacts"] = _from(
            columns[_SLOT["physical_violence_contacts"]], recent
        )
        evidence["recent_weapon_contacts"] = _from(columns[_SLOT["weapon_contacts"]], recent)
        evidence["recent_threat_contacts"] = _from(columns[_SLOT["threat_contacts"]], recent)
        evidence["recent_specific_threat_contacts"] = _from(
            columns[_SLOT["specific_threat"]], recent
        )
        widest = widest_episode(episodes)
        longest = max(episodes, key=lambda e: (e.span_microseconds, e.index), default=None)
        evidence["max_distinct_behaviours"] = widest.positions if widest else ()
        evidence["max_span_days"] = longest.positions if longest else ()
        evidence = {name: evidence[name] for name in _EVIDENCE_FIELDS}

        values: dict[str, Value] = {name: len(positions) for name, positions in evidence.items()}
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
            evidence=evidence,
            episodes=episodes,
            chronological_ids=tuple([ids[i] for i in order]),
        )


def widest_episode(episodes: tuple[Episode, ...]) -> Episode | None:
    """Most distinct behaviours, then longest, then latest: never depends on input order."""
    return max(
        episodes, key=lambda e: (len(e.behaviours), e.span_microseconds, e.index), default=None
    )
