"""Plain-Python feature extraction: a case becomes a few flat facts for the engine.

Everything that relates contacts to each other (sorting, episodes, spans,
counts, windows) is computed here in O(n log n), so that every engine rule is a
condition on one flat fact with constants and pack parameters only (no
cross-fact joins, see docs/engine.md).  Each counting field also records the ids
of the contacts it counts: that is the evidence a rule cites.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from itertools import compress, repeat
from operator import add, attrgetter, floordiv, gt, itemgetter, sub
from typing import cast

from pydantic_core import TzInfo

from ._case import Behaviour, Case, Channel, ClientHistory, Fear, Target
from ._fields import GROUPS, evidence_fields

__all__ = [
    "EPISODE_FIELDS",
    "MICROSECONDS_PER_DAY",
    "CaseFeatures",
    "Episode",
    "Extractor",
    "Windows",
    "history_values",
]

MICROSECONDS_PER_DAY = 86_400 * 10**6
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MICROSECOND = timedelta(microseconds=1)
_DAYS_PER_MONTH = 365.25 / 12

Value = int | float | str | bool | None
EPISODE_FIELDS = ("contacts", "distinct_behaviours", "span_days", "age_days", "current")
"""The names of an episode's fields, in the order of :meth:`Episode.row`."""

# Behaviours that need the client's bodily presence: a weapon in such a contact was
# there in person, not only named in a letter.
_IN_PERSON = frozenset(
    {
        Behaviour.FOLLOWING,
        Behaviour.UNWANTED_APPROACH,
        Behaviour.LOITERING,
        Behaviour.PROPERTY_DAMAGE,
        Behaviour.PHYSICAL_VIOLENCE,
    }
)
_PRESENT_CHANNELS = frozenset({Channel.IN_PERSON, Channel.VEHICLE})
_HOUR_US = 3_600 * 10**6


class Episode:
    """A run of stalking contacts with no silence longer than the pack's gap.

    ``positions`` are the contacts' places in the case's chronological order
    (see :attr:`CaseFeatures.chronological_ids`).
    """

    # Slots and a plain __init__: a case can hold thousands of episodes.
    __slots__ = (
        "age_microseconds",
        "behaviours",
        "current",
        "index",
        "positions",
        "span_microseconds",
    )

    def __init__(
        self,
        index: int,
        positions: tuple[int, ...],
        behaviours: tuple[str, ...],
        span_microseconds: int,
        age_microseconds: int = 0,
        current: bool = True,
    ) -> None:
        self.index = index
        self.positions = positions
        self.behaviours = behaviours
        self.span_microseconds = span_microseconds
        self.age_microseconds = age_microseconds
        self.current = current

    def __repr__(self) -> str:
        return (
            f"<Episode {self.index}: {len(self.positions)} contacts, "
            f"{len(self.behaviours)} behaviours, {self.span_days:g} days>"
        )

    @property
    def span_days(self) -> float:
        # Exact integers divided once: 14 days is 14.0, one microsecond less is below it.
        return self.span_microseconds / MICROSECONDS_PER_DAY

    @property
    def age_days(self) -> float:
        return self.age_microseconds / MICROSECONDS_PER_DAY

    def values(self) -> dict[str, Value]:
        """The fields an episode rule may test (see ``fields_for("episode")``)."""
        return dict(zip(EPISODE_FIELDS, self.row(), strict=True))

    def row(self) -> tuple[Value, ...]:
        """:meth:`values` without the names, in the order of :data:`EPISODE_FIELDS`."""
        return (
            len(self.positions),
            len(self.behaviours),
            self.span_microseconds / MICROSECONDS_PER_DAY,
            self.age_microseconds / MICROSECONDS_PER_DAY,
            self.current,
        )


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
    # The episode with the most distinct behaviours, then the longest, then the latest.
    widest: Episode | None = None
    # Each contact's time and the assessment's, in microseconds since the epoch.
    times: Sequence[int] = ()
    assessed_microseconds: int = 0


# Evidence lists filled contact by contact; the time-window fields are suffixes of
# the chronological order and are cut with bisect instead.  The names that do not
# end in "_contacts" are internal: they only feed the windowed fields.
_BEHAVIOUR_SLOTS = tuple(f"{b.value}_contacts" for b in Behaviour)
_GROUP_SLOTS = tuple(f"{g}_contacts" for g in GROUPS)
_SLOTS = (
    *_BEHAVIOUR_SLOTS,
    *_GROUP_SLOTS,
    "family_contacts",
    "colleague_contacts",
    "other_target_contacts",
    "in_person_contacts",
    "weapon_contacts",
    "specific_threat",
    "armed",
    "threatening",
    "ongoing",
    "ongoing_stalking",
    "ongoing_pursuit",
    "pursuit",
)
_SLOT = {name: index for index, name in enumerate(_SLOTS)}
_TARGET_SLOTS = {
    Target.FAMILY: "family_contacts",
    Target.COLLEAGUES: "colleague_contacts",
    Target.OTHERS: "other_target_contacts",
}
_EVIDENCE_FIELDS = evidence_fields("case")
# What decides where a contact's id goes: its behaviours, targets, channel and flags.
_Signature = tuple[tuple[Behaviour, ...], tuple[Target, ...], Channel | None, bool, bool, bool]
_SIGNATURE_CACHE_SIZE = 4096
_BLOCK = 1024  # contacts whose models fit in the processor's cache at once
# Read from a model's __dict__: an item is found faster than an attribute.
_FIELDS = attrgetter("__dict__")
_SIGNATURE = itemgetter("behaviours", "targets", "channel", "weapon", "ongoing", "specific_threat")
_ID = itemgetter("id")
_AT = itemgetter("at")


def _first(moments: list[datetime]) -> int | None:
    return _microseconds(min(moments)) if moments else None


def _microseconds(moment: datetime) -> int:
    """Exact microseconds since the epoch (floats would blur the two-week boundary)."""
    return (moment - _EPOCH) // _ONE_MICROSECOND


# Zones whose offset is one constant: the offset of one of their times serves all.
# pydantic gives every time it reads from JSON text such a zone.
_FIXED_ZONES = (timezone, TzInfo)
_EPOCH_DAY = date(1970, 1, 1).toordinal()
_ZONE = attrgetter("tzinfo")


def microseconds_of(moments: Iterable[datetime]) -> list[int]:
    """``_microseconds`` of each of ``moments``, in a third of its time or less.

    Subtracting aware datetimes asks both zones for their offsets; here the wall
    time is counted field by field and each fixed zone's offset is asked once.
    """
    moments = list(moments)
    zones = list(map(_ZONE, moments))
    zone = zones[0] if zones else None
    if type(zone) in _FIXED_ZONES and zones.count(zone) == len(zones):
        # One fixed zone, as JSON text in one offset gives: subtracting the epoch
        # told in that zone asks no zone for its offset, in C loops.
        epoch = _EPOCH.astimezone(zone)
        return list(map(floordiv, map(sub, moments, repeat(epoch)), repeat(_ONE_MICROSECOND)))
    offsets: dict[tzinfo | None, int] = {}
    found = []
    for at in moments:
        zone = at.tzinfo
        offset = offsets.get(zone)
        if offset is None:
            delta = cast(timedelta, at.utcoffset())  # aware: the models take no other
            offset = (delta.days * 86_400 + delta.seconds) * 10**6 + delta.microseconds
            if type(zone) in _FIXED_ZONES:
                offsets[zone] = offset
        day = at.toordinal() - _EPOCH_DAY
        seconds = day * 86_400 + at.hour * 3_600 + at.minute * 60 + at.second
        found.append(seconds * 10**6 + at.microsecond - offset)
    return found


def _therapy_months(client: ClientHistory, assessed_at: datetime) -> float | None:
    start = client.therapy_start
    if start is None:
        return None
    end = client.therapy_end or assessed_at.date()
    return max((end - start).days, 0) / _DAYS_PER_MONTH


def history_values(client: ClientHistory, fear: Fear, assessed_at: datetime) -> dict[str, Value]:
    """The case fields that come from the client history and the fear, not the contacts."""
    since, until = client.protection_order_since, client.protection_order_until
    in_force = since is not None and since <= assessed_at
    return {
        "relationship": client.relationship.value,
        "fear_level": fear.level.rank,
        "family_afraid": fear.family_afraid,
        "prior_violence": client.prior_violence,
        "prior_stalking": client.prior_stalking,
        "substance_misuse": client.substance_misuse,
        "weapon_access": client.weapon_access,
        "protection_order": in_force and (until is None or assessed_at < until),
        "motive": "none" if client.motive is None else client.motive.value,
        "frail": client.frail,
        "therapy_months": _therapy_months(client, assessed_at),
    }


def _after(times: list[int], moment: int | None, *, inclusive: bool) -> range:
    """Chronological positions at (``inclusive``) or after ``moment``; none if unset."""
    if moment is None:
        return range(0)
    cut = bisect_left(times, moment) if inclusive else bisect_right(times, moment)
    return range(cut, len(times))


def _from(positions: Sequence[int], first: int) -> list[int]:
    """The ascending ``positions`` at or after ``first``."""
    return list(positions[bisect_left(positions, first) :])


def _before(positions: Sequence[int], first: int) -> list[int]:
    """The ascending ``positions`` before ``first``."""
    return list(positions[: bisect_left(positions, first)])


def _densest(at: list[int], stalking: Sequence[int], widths: Sequence[int]) -> list[list[int]]:
    """For each width, the earliest run of ``stalking`` positions with the most within it.

    ``at`` holds their times.  One C-level bisect per contact and width
    (O(n log n)); the run starting at each contact ends at the first contact
    more than the width after it.
    """
    if not at:
        return [[] for _ in widths]
    runs = []
    for width in widths:
        ends = list(map(bisect_right, repeat(at), map(add, at, repeat(width))))
        counts = list(map(sub, ends, range(len(at))))
        best = counts.index(max(counts))
        runs.append(list(stalking[best : ends[best]]))
    return runs


@dataclass(frozen=True)
class Windows:
    """A pack's time windows in microseconds (None: the pack does not set it)."""

    gap: int
    recent: int
    history: int | None
    ongoing: int | None
    min_distinct: float
    min_span: int
    min_contacts: float


class Extractor:
    """Feature extraction for one rule pack's catalogue and parameters.

    ``groups`` maps every behaviour to its catalogue group, ``pursuit`` holds
    the behaviours that make an ongoing contact urgent; the numbers are pack
    parameters (``None`` where a pack does not set an optional one: nothing
    becomes history, and an ongoing contact is ongoing however old).
    :meth:`extract` runs in O(n log n) for n contacts: one pass reads each
    contact once into flat columns, one sort orders them, and every later step
    works on positions and integers only.
    """

    def __init__(
        self,
        *,
        groups: Mapping[Behaviour, str],
        pursuit: frozenset[Behaviour],
        episode_max_gap_days: float,
        recent_days: float,
        pattern_min_distinct_behaviours: float = 2,
        pattern_min_span_days: float = 14,
        pattern_min_contacts: float = 0,
        history_after_days: float | None = None,
        ongoing_max_days: float | None = None,
    ) -> None:
        self._group_slot = {b: _SLOT[f"{groups[b]}_contacts"] for b in Behaviour}
        self._pursuit = pursuit
        self._escalation = frozenset(b for b in Behaviour if groups[b] == "escalation")
        self._stalking_or_escalation = frozenset(
            b for b in Behaviour if groups[b] in ("stalking", "escalation")
        )
        # Bit i stands for the i-th stalking code in sorted order, so a mask
        # decodes straight into the sorted tuple an episode reports.
        self._stalking_codes = tuple(sorted(b.value for b in Behaviour if groups[b] == "stalking"))
        self._bit = {Behaviour(code): 1 << i for i, code in enumerate(self._stalking_codes)}
        self._gap = round(episode_max_gap_days * MICROSECONDS_PER_DAY)
        self._recent = round(recent_days * MICROSECONDS_PER_DAY)
        self._min_distinct = pattern_min_distinct_behaviours
        self._min_span = round(pattern_min_span_days * MICROSECONDS_PER_DAY)
        self._min_contacts = pattern_min_contacts
        self._history = (
            None if history_after_days is None else round(history_after_days * MICROSECONDS_PER_DAY)
        )
        self._ongoing = (
            None if ongoing_max_days is None else round(ongoing_max_days * MICROSECONDS_PER_DAY)
        )
        self._signatures: dict[_Signature, tuple[tuple[int, ...], int]] = {}
        self._decoded: dict[int, tuple[str, ...]] = {}

    def _place(self, signature: _Signature) -> tuple[tuple[int, ...], int]:
        """Work out and remember the evidence slots and stalking bitmask of ``signature``."""
        shown, targets, channel, weapon, ongoing, specific = signature
        slots = [_SLOT[f"{b.value}_contacts"] for b in shown]
        slots += sorted({self._group_slot[b] for b in shown})
        slots += [_SLOT[_TARGET_SLOTS[t]] for t in targets if t in _TARGET_SLOTS]
        if channel is Channel.IN_PERSON:
            slots.append(_SLOT["in_person_contacts"])
        if weapon:
            slots.append(_SLOT["weapon_contacts"])
            present = channel in _PRESENT_CHANNELS or not _IN_PERSON.isdisjoint(shown)
            if present or Behaviour.THREAT in shown:
                slots.append(_SLOT["armed"])
        if weapon or Behaviour.THREAT in shown or not self._escalation.isdisjoint(shown):
            slots.append(_SLOT["threatening"])
        if not self._pursuit.isdisjoint(shown):
            slots.append(_SLOT["pursuit"])
        if ongoing:
            slots.append(_SLOT["ongoing"])
            if not self._stalking_or_escalation.isdisjoint(shown):
                slots.append(_SLOT["ongoing_stalking"])
            if not self._pursuit.isdisjoint(shown):
                slots.append(_SLOT["ongoing_pursuit"])
        if specific:
            slots.append(_SLOT["specific_threat"])
        mask = 0
        for behaviour in shown:
            mask |= self._bit.get(behaviour, 0)
        found = (tuple(sorted(set(slots))), mask)
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
        self, at: list[int], stalking: list[int], masks: list[int], assessed: int
    ) -> tuple[Episode, ...]:
        """The episodes of the ``stalking`` positions, whose times are ``at``."""
        gap, history = self._gap, self._history
        if not at:
            return ()
        # Where the gap to the previous contact is longer than the pack's, in C loops.
        cuts = list(compress(range(1, len(at)), map(gt, map(sub, at[1:], at), repeat(gap))))
        starts, ends = [0, *cuts], [*cuts, len(at)]
        decoded, decode = self._decoded, self._decode
        episodes = []
        for index, (start, end) in enumerate(zip(starts, ends, strict=True)):
            mask = masks[start]
            for bits in masks[start + 1 : end]:
                mask |= bits
            last = at[end - 1]
            age = assessed - last
            episodes.append(
                Episode(
                    index,
                    tuple(stalking[start:end]),
                    decoded.get(mask) or decode(mask),
                    last - at[start],
                    age,
                    history is None or age <= history,
                )
            )
        return tuple(episodes)

    @property
    def windows(self) -> Windows:
        """The pack's time windows and threshold, in microseconds."""
        return Windows(
            gap=self._gap,
            recent=self._recent,
            history=self._history,
            ongoing=self._ongoing,
            min_distinct=self._min_distinct,
            min_span=self._min_span,
            min_contacts=self._min_contacts,
        )

    def decode(self, mask: int) -> tuple[str, ...]:
        """The sorted stalking codes of a behaviour bitmask (see :meth:`columns`)."""
        return self._decoded.get(mask) or self._decode(mask)

    def meets_threshold(self, episode: Episode) -> bool:
        """Whether ``episode`` has the pack's threshold figures (behaviours, span, contacts)."""
        return (
            len(episode.behaviours) >= self._min_distinct
            and episode.span_microseconds >= self._min_span
            and len(episode.positions) >= self._min_contacts
        )

    def extract(self, case: Case) -> CaseFeatures:
        """Compute the case fact and the episode facts for ``case``."""
        ids, order, times, columns, stalking, masks = self.columns(case)
        return self._features(case, ids, order, times, columns, stalking, masks)

    def columns(
        self, case: Case
    ) -> tuple[list[str], list[int], list[int], list[list[int]], list[int], list[int]]:
        """The contacts as flat columns, in chronological order.

        Returns the ids in input order, the input index of each chronological
        position, each position's time in microseconds, for each slot of
        :data:`_SLOTS` the positions in it, and the stalking positions with
        their behaviour bitmasks.
        """
        # Each contact is read once, in input (memory) order, into flat columns;
        # everything after the sort touches only those columns.  The models are
        # read a block at a time, so that each block is still in the processor's
        # cache for the later reads (100,000 contacts: 51 ms, against 82 ms when
        # each read went over all of them).
        contacts = case.contacts
        known = self._signatures.get
        ids: list[str] = []
        moments: list[int] = []
        signatures: list[_Signature] = []
        looked_up: list[tuple[tuple[int, ...], int] | None] = []
        for start in range(0, len(contacts), _BLOCK):
            fields = list(map(_FIELDS, contacts[start : start + _BLOCK]))
            ids += map(_ID, fields)
            moments += microseconds_of(map(_AT, fields))
            block = list(map(_SIGNATURE, fields))
            signatures += block
            # C-level lookups; the loop below only where a signature is new.
            looked_up += map(known, block)
        placed = cast(list[tuple[tuple[int, ...], int]], looked_up)
        if None in looked_up:
            place = self._place
            placed = [found or place(s) for found, s in zip(looked_up, signatures, strict=True)]
        # By time, ties by id (ids are unique); the id sort only when two times tie.
        order = sorted(range(len(contacts)), key=moments.__getitem__)
        times = [moments[i] for i in order]
        if len(set(times)) < len(times):
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
        return ids, order, times, columns, stalking, masks

    def _features(
        self,
        case: Case,
        ids: list[str],
        order: list[int],
        times: list[int],
        columns: list[list[int]],
        stalking: list[int],
        masks: list[int],
    ) -> CaseFeatures:
        assessed = _microseconds(case.assessed_at)
        # The stalking contacts' times, read once for the episodes and the densest runs.
        stalking_at = list(map(times.__getitem__, stalking))
        episodes = self._episodes(stalking_at, stalking, masks, assessed)

        history = case.client
        warnings = case.boundaries.warnings
        agreement_at = case.boundaries.agreement_at
        order_since = history.protection_order_since
        order_until = history.protection_order_until
        recent = bisect_left(times, assessed - self._recent)
        current = 0 if self._history is None else bisect_left(times, assessed - self._history)
        fresh = 0 if self._ongoing is None else bisect_left(times, assessed - self._ongoing)
        column = {name: columns[_SLOT[name]] for name in _SLOTS}

        evidence: dict[str, Sequence[int]] = dict(column)
        evidence["contacts"] = range(len(order))
        breach = _after(
            times, None if order_since is None else _microseconds(order_since), inclusive=True
        )
        if order_until is not None:
            breach = range(
                breach.start, min(breach.stop, bisect_left(times, _microseconds(order_until)))
            )
        evidence["protection_order_breach_contacts"] = breach
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
            column["physical_violence_contacts"], recent
        )
        evidence["recent_weapon_contacts"] = _from(column["weapon_contacts"], recent)
        evidence["recent_armed_contacts"] = _from(column["armed"], recent)
        evidence["recent_threat_contacts"] = _from(column["threat_contacts"], recent)
        evidence["recent_specific_threat_contacts"] = _from(column["specific_threat"], recent)
        recent_stalking = _from(stalking, recent)
        evidence["recent_stalking_contacts"] = recent_stalking
        evidence["ongoing_pursuit_contacts"] = _from(column["ongoing_pursuit"], fresh)
        evidence["ongoing_contacts"] = _from(column["ongoing_stalking"], fresh)
        evidence["stale_ongoing_contacts"] = _before(column["ongoing"], fresh)

        evidence["current_contacts"] = range(current, len(order))
        evidence["current_threat_contacts"] = _from(column["threat_contacts"], current)
        evidence["current_pursuit_contacts"] = _from(column["pursuit"], current)
        evidence["current_escalation_contacts"] = _from(column["escalation_contacts"], current)
        evidence["current_weapon_contacts"] = _from(column["weapon_contacts"], current)
        evidence["current_protection_order_breach_contacts"] = range(
            max(breach.start, current), breach.stop
        )
        evidence["past_threat_contacts"] = sorted(
            {
                *_before(column["threatening"], current),
                *range(breach.start, min(breach.stop, current)),
            }
        )
        evidence["past_pattern_contacts"] = sorted(
            p for e in episodes if not e.current and self.meets_threshold(e) for p in e.positions
        )
        first_current = bisect_left(stalking, current)
        current_stalking = stalking[first_current:]
        evidence["current_stalking_contacts"] = current_stalking
        evidence["current_boundary_contacts"] = _from(column["boundary_contacts"], current)
        evidence["current_third_party_target_contacts"] = sorted(
            {
                p
                for name in ("family_contacts", "colleague_contacts", "other_target_contacts")
                for p in _from(column[name], current)
            }
        )
        evidence["max_contacts_24h"], evidence["max_contacts_7d"] = _densest(
            stalking_at[first_current:], current_stalking, (24 * _HOUR_US, 7 * 24 * _HOUR_US)
        )

        widest, longest = _widest_and_longest(episodes)
        evidence["max_distinct_behaviours"] = widest.positions if widest else ()
        evidence["max_span_days"] = longest.positions if longest else ()
        evidence = {name: evidence[name] for name in _EVIDENCE_FIELDS}

        values: dict[str, Value] = dict(zip(evidence, map(len, evidence.values()), strict=True))
        values["max_distinct_behaviours"] = len(widest.behaviours) if widest else 0
        values["max_span_days"] = longest.span_days if longest else 0.0
        before = bisect_left(times, assessed - 2 * self._recent)
        earlier = len(stalking[bisect_left(stalking, before) :]) - len(recent_stalking)
        # A first week of contact is a start, not a rise: the ratio needs some earlier contact.
        before_latest = len(stalking) - len(recent_stalking)
        values["frequency_ratio"] = len(recent_stalking) / max(earlier, 1) if before_latest else 0.0
        values.update(history_values(history, case.fear, case.assessed_at))

        return CaseFeatures(
            values=values,
            evidence=evidence,
            episodes=episodes,
            chronological_ids=_in_order(ids, order),
            widest=widest,
            times=times,
            assessed_microseconds=assessed,
        )


def _in_order(ids: list[str], order: list[int]) -> tuple[str, ...]:
    """The ids in chronological ``order``, as copies made together.

    Evidence and the assessment read the ids over and over.  A long case's ids
    lie spread among its contact models, a cache miss each; copies made in one
    go lie closer (100,000 contacts, timed in turns: 535 ms a call with the
    copies, 553 ms without).  The copies are made in input order, the order the
    models were built in.  Ids hold no newline, so one join and split copies them.
    """
    if not order:
        return ()
    packed = "\n".join(ids).split("\n")
    return tuple(map(packed.__getitem__, order))


def _widest_and_longest(episodes: tuple[Episode, ...]) -> tuple[Episode | None, Episode | None]:
    """The widest episode and the longest, in one pass; neither depends on input order.

    Widest: most distinct behaviours, then longest, then latest.  Longest: longest,
    then latest.
    """
    widest = longest = None
    for episode in episodes:  # in index order, so ">=" keeps the latest of equals
        if longest is None or episode.span_microseconds >= longest.span_microseconds:
            longest = episode
        if widest is None or (len(episode.behaviours), episode.span_microseconds) >= (
            len(widest.behaviours),
            widest.span_microseconds,
        ):
            widest = episode
    return widest, longest
