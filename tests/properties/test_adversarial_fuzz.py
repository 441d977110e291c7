"""Adversarial differential fuzz: ``stalkrisk.assess`` against tests/reference.py on the edges.

Each case is generated directly as case JSON (a ``dict``) by a seeded ``random.Random``, then
assessed by the library and by the plain-Python reference, and compared exactly as
test_differential.py compares (its :func:`differences`: level, ``urgent``, elements,
rules fired and their evidence, notes, and the threshold figures with exact float
equality).  An ``EngineError`` is a failure just like a disagreement: the reference always
has an answer, and the library must give the same one.

The generator aims at the places where an off-by-one or an encoding slip would show:

(a) **edges**: one case is built around one chosen edge and one jitter from
    ``JITTERS`` (−1 µs, 0, +1 µs, ±1 ms, ±864 ms, ±1 s).  Every parameter of the bundled
    pack is an edge (its value is read from ``default_rule_pack().parameters``, never
    written here): a span of ``pattern_min_span_days`` + jitter, a silence of
    ``episode_max_gap_days`` + jitter, a contact ``recent_days`` + jitter before
    ``assessed_at``, one contact or behaviour fewer or more than each count parameter,
    a therapy just under or over ``long_relationship_months`` with ``assessed_at`` on
    either side of local midnight, a threat, escalation, weapon, breach, pursuit or
    course of conduct ``history_after_days`` before ``assessed_at`` (present or history,
    with or without a recurrence), a contact marked ongoing ``ongoing_max_days`` before
    it, bursts whose first and last contacts are 24 hours or 7 days apart, rising
    frequency across the two latest ``recent_days`` windows, and contacts after a
    supervisor-backed warning.  So is every time the rules compare with: the start of a
    protection order ("at or after") and its end ("before"), the agreement, the first
    warning and the first supervisor-backed warning ("strictly after"), ``assessed_at``
    itself, and contacts at the same instant (ties broken by id).  864 ms is a span of
    1e-05 days.
(b) **random cases** in fixed offsets (+14:00, −12:00, +05:45, ...) and named zones,
    with every relationship, fear level, motive and channel, warnings, agreements,
    protection orders that may have ended, and client history flags, time steps drawn
    from the parameters plus jitter.
(c) **extreme spans** from 1 µs to 10,000 days: two contacts, one long episode held
    together by many contacts, many episodes, or hundreds of contacts packed into the
    span.

CI runs a fixed seed and about 2,500 cases; ``bench/fuzz_differential.py`` runs 50,000.
A failure message gives the counts, the first failing case and, for each kind of
failure, its smallest case, shrunk by removing contacts, behaviours and fields while the
failure stays the same; every case is printed as the JSON that was assessed.
"""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from reference import DAY_US, episodes_of, reference_assess
from test_differential import NAMED_ZONES, differences, in_zone

import stalkrisk
from stalkrisk import Case

PACK = stalkrisk.default_rule_pack()

US = timedelta(microseconds=1)
MS = timedelta(milliseconds=1)
JITTERS: tuple[timedelta, ...] = (
    -US,
    timedelta(0),
    US,
    -MS,
    MS,
    -864 * MS,  # 864 ms is 1e-05 days
    864 * MS,
    -timedelta(seconds=1),
    timedelta(seconds=1),
)

STALKING = tuple(b.code.value for b in PACK.behaviours if b.group == "stalking")
BOUNDARY = tuple(b.code.value for b in PACK.behaviours if b.group == "boundary")
ESCALATION = tuple(b.code.value for b in PACK.behaviours if b.group == "escalation")
PURSUIT = tuple(b.code.value for b in PACK.behaviours if b.pursuit)
ALL_CODES = STALKING + BOUNDARY + ESCALATION

OFFSETS = ("Z", "+00:00", "+14:00", "-12:00", "+13:45", "+05:45", "+09:30", "-03:30", "-05:00")
ZONES = (*OFFSETS, *NAMED_ZONES, "Pacific/Kiritimati", "Etc/GMT+12")
ID_PREFIXES = ("c", "e", "x.", "k-", "Z:", "0", "a_", "C")
CHANNELS = ("in_person", "vehicle", "phone", "email", "letter", "text", "social_media", "other")
MOTIVES = ("rejected", "intimacy_seeking", "incompetent", "resentful", "predatory", "unknown")


def days(parameter: str) -> timedelta:
    """A parameter of the bundled pack, in days, as a duration."""
    return timedelta(days=PACK.parameter(parameter))


def count(parameter: str) -> int:
    """A parameter of the bundled pack that counts contacts or behaviours."""
    value = PACK.parameter(parameter)
    assert float(value).is_integer(), (parameter, value)
    return int(value)


def zone_of(name: str) -> tzinfo:
    if name == "Z":
        return UTC
    if name[0] in "+-":
        sign = -1 if name[0] == "-" else 1
        return timezone(sign * timedelta(hours=int(name[1:3]), minutes=int(name[4:6])))
    return ZoneInfo(name)


def stamp(moment: datetime, zone: str) -> str:
    """``moment`` written in ``zone`` (an offset, ``Z`` or a named zone's offset then)."""
    text = moment.astimezone(zone_of(zone)).isoformat()
    return text.replace("+00:00", "Z") if zone == "Z" else text


# --- drafting one case ---------------------------------------------------------------


@dataclass
class Draft:
    """A case under construction, in absolute (UTC) instants; :meth:`data` writes the JSON."""

    rng: random.Random
    contacts: list[tuple[datetime, list[str], dict[str, Any]]] = field(default_factory=list)
    client: dict[str, Any] = field(default_factory=dict)
    fear: dict[str, Any] = field(default_factory=dict)
    agreement_at: datetime | None = None
    warnings: list[tuple[datetime, bool]] = field(default_factory=list)
    protection_order_since: datetime | None = None
    protection_order_until: datetime | None = None  # after since; may be after assessed_at
    assessed_at: datetime | None = None  # None: the latest time of the case plus a tail
    assessed_zone: str | None = None  # None: a random zone
    therapy_days: int | None = None  # therapy_start this many days before its end
    therapy_end_back: int | None = None  # therapy_end this many days before therapy_from
    therapy_from: date | None = None  # None: the local date of assessed_at

    def add(self, at: datetime, behaviours: Sequence[str], **flags: Any) -> None:
        self.contacts.append((at, list(dict.fromkeys(behaviours)), flags))

    def times(self) -> list[datetime]:
        found = [at for at, _, _ in self.contacts] + [at for at, _ in self.warnings]
        for moment in (self.agreement_at, self.protection_order_since):
            if moment is not None:
                found.append(moment)
        return found

    def data(self) -> dict[str, Any]:
        rng = self.rng
        latest = max(self.times(), default=None)
        assessed = self.assessed_at
        if assessed is None:
            assessed = (latest or datetime(2020, 1, 1, tzinfo=UTC)) + tail(rng)
        assert all(at <= assessed for at, _, _ in self.contacts), "a contact after assessed_at"

        def when(moment: datetime) -> str:
            return stamp(min(moment, assessed), rng.choice(ZONES))

        assessed_at = stamp(assessed, self.assessed_zone or rng.choice(ZONES))
        client: dict[str, Any] = {
            "relationship": rng.choice(["current", "former", "prospective", "unknown"])
        }
        client.update(self.client)
        if self.protection_order_since is not None:
            client["protection_order_since"] = when(self.protection_order_since)
            if self.protection_order_until is not None:
                client["protection_order_until"] = stamp(
                    self.protection_order_until, rng.choice(ZONES)
                )
        if self.therapy_days is not None:
            local = self.therapy_from or datetime.fromisoformat(assessed_at).date()
            end = local - timedelta(days=self.therapy_end_back or 0)
            client["therapy_start"] = (end - timedelta(days=self.therapy_days)).isoformat()
            if self.therapy_end_back is not None:
                client["therapy_end"] = end.isoformat()
        boundaries: dict[str, Any] = {}
        if self.agreement_at is not None:
            boundaries["agreement_at"] = when(self.agreement_at)
        if self.warnings:
            boundaries["warnings"] = [
                {"at": when(at), "supervisor": supervisor} for at, supervisor in self.warnings
            ]
        ids = unique_ids(rng, len(self.contacts))
        contacts = []
        for cid, (at, behaviours, flags) in zip(ids, self.contacts, strict=True):
            contact: dict[str, Any] = {"id": cid, "at": when(at), "behaviours": behaviours}
            contact.update(flags)
            contacts.append(contact)
        rng.shuffle(contacts)  # the input order must not matter
        data: dict[str, Any] = {"assessed_at": assessed_at, "client": client}
        if boundaries:
            data["boundaries"] = boundaries
        if contacts:
            data["contacts"] = contacts
        if self.fear:
            data["fear"] = dict(self.fear)
        return data


def unique_ids(rng: random.Random, n: int) -> list[str]:
    numbers = rng.sample(range(10 * n + 10), n)
    return [f"{rng.choice(ID_PREFIXES)}{number}" for number in numbers]


def tail(rng: random.Random) -> timedelta:
    """How long after the latest time of a case it is assessed."""
    return rng.choice(
        [
            timedelta(0),
            abs(rng.choice(JITTERS)),
            days("recent_days") + rng.choice(JITTERS),
            timedelta(seconds=rng.randrange(0, 90 * 86_400), microseconds=rng.randrange(10**6)),
        ]
    )


def anchor(rng: random.Random) -> datetime:
    """A start time in 2001–2010, to whole microseconds (10,000 days later is before 2040)."""
    return datetime(2001, 1, 1, tzinfo=UTC) + timedelta(
        seconds=rng.randrange(0, 10 * 365 * 86_400), microseconds=rng.randrange(10**6)
    )


def stalking_set(rng: random.Random, n: int) -> list[str]:
    return rng.sample(STALKING, max(1, min(n, len(STALKING))))


def some_behaviours(rng: random.Random) -> list[str]:
    """One to three codes, mostly stalking ones."""
    chosen = []
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
        pool = STALKING if rng.random() < 0.7 else rng.choice([BOUNDARY, ESCALATION])
        chosen.append(rng.choice(pool))
    return list(dict.fromkeys(chosen))


def contact_flags(rng: random.Random, behaviours: Sequence[str], *, often: bool) -> dict[str, Any]:
    chance = 0.15 if often else 0.04
    flags: dict[str, Any] = {}
    if rng.random() < chance:
        flags["targets"] = rng.sample(["clinician", "family", "colleagues", "others"], 2)
    if rng.random() < chance:
        flags["ongoing"] = True
    if rng.random() < chance:
        flags["weapon"] = True
    if "threat" in behaviours and rng.random() < 0.5:
        flags["specific_threat"] = True
    if rng.random() < 2 * chance:
        flags["channel"] = rng.choice(CHANNELS)
    return flags


def episode(
    draft: Draft, start: datetime, span: timedelta, behaviours: Sequence[str], *, fill: int = 0
) -> None:
    """Stalking contacts from ``start`` to ``start + span``, no silence longer than the gap.

    The first and last contacts carry the first two behaviours; contacts in between bridge
    every gap, ``fill`` more fall anywhere in the span, and every behaviour of the set
    appears somewhere.
    """
    rng = draft.rng
    gap = days("episode_max_gap_days")
    end = start + span
    moments = [start]
    while end - moments[-1] > gap:
        moments.append(moments[-1] + gap * rng.uniform(0.5, 1.0))
    moments.append(end)
    moments.extend(start + span * rng.random() for _ in range(fill))
    moments.sort()
    codes = list(behaviours)
    first = len(draft.contacts)
    for position, at in enumerate(moments):
        if position == 0:
            chosen = codes[:1]
        elif position == len(moments) - 1:
            chosen = codes[1:2] or codes[:1]
        else:
            chosen = [rng.choice(codes)]
        draft.add(at, chosen, **contact_flags(rng, chosen, often=False))
    for extra in codes[2:]:
        chosen = rng.choice(draft.contacts[first:])[1]
        if extra not in chosen:
            chosen.append(extra)


def decorate(draft: Draft, *, heavy: bool) -> None:
    """Random fear, client history, protection order, agreement and warnings."""
    rng = draft.rng
    chance = 0.2 if heavy else 0.05
    if heavy or rng.random() < 0.3:
        draft.fear["level"] = rng.choice(["none", "none", "some", "significant", "severe"])
    if rng.random() < chance / 2:
        draft.fear["family_afraid"] = True
    for flag in ("prior_violence", "prior_stalking", "substance_misuse", "weapon_access"):
        if rng.random() < chance / 2:
            draft.client[flag] = True
    if rng.random() < chance:
        draft.client["clinical_state"] = rng.sample(
            ["dependency", "suicidality", "decompensation"], rng.choice([1, 2])
        )
    if rng.random() < chance / 2:
        draft.client["motive"] = rng.choice(MOTIVES)
    moments = [at for at, _, _ in draft.contacts]
    if not moments:
        return

    def near() -> datetime:
        return rng.choice(moments) + rng.choice(JITTERS)

    # An edge's own order, agreement, warnings or therapy are kept.
    if draft.protection_order_since is None and rng.random() < chance:
        draft.protection_order_since = near()
    since = draft.protection_order_since
    if since is not None and draft.protection_order_until is None and rng.random() < 0.4:
        ends = [at for at in (near(), near(), since + abs(rng.choice(JITTERS))) if at > since]
        if ends:
            draft.protection_order_until = rng.choice(ends)
    if draft.agreement_at is None and rng.random() < chance:
        draft.agreement_at = near()
    if not draft.warnings and rng.random() < chance * 1.5:
        draft.warnings = [(near(), rng.random() < 0.4) for _ in range(rng.choice([1, 2, 3]))]
    if draft.therapy_days is None and rng.random() < chance * 1.5:
        draft.therapy_days = rng.choice([0, 30, rng.randrange(178, 188), rng.randrange(0, 3_000)])
        if rng.random() < 0.3:
            draft.therapy_end_back = rng.randrange(0, 40)


# --- (a) one case around one edge ------------------------------------------------------

Edge = Callable[[Draft, timedelta], None]


def edge_min_span(draft: Draft, jitter: timedelta) -> None:
    """An episode whose span is the pattern's minimum span plus the jitter."""
    rng = draft.rng
    distinct = count("pattern_min_distinct_behaviours") + rng.choice([0, 0, 1])
    span = days("pattern_min_span_days") + jitter
    episode(draft, anchor(rng), span, stalking_set(rng, distinct), fill=rng.choice([0, 1, 3]))


def edge_max_gap(draft: Draft, jitter: timedelta) -> None:
    """Two stalking contacts a silence of the episode gap plus the jitter apart."""
    rng = draft.rng
    start = anchor(rng)
    first, second = stalking_set(rng, 2) if len(STALKING) > 1 else (STALKING[0], STALKING[0])
    if rng.random() < 0.5:  # an earlier contact, so the span is over the minimum either way
        draft.add(start - days("pattern_min_span_days") + rng.choice(JITTERS), [first])
    draft.add(start, [first])
    later = start + days("episode_max_gap_days") + jitter
    if rng.random() < 0.5:  # a non-stalking contact in the silence does not bridge it
        draft.add(start + (later - start) / 2, [rng.choice(BOUNDARY + ESCALATION)])
    draft.add(later, [second], **contact_flags(rng, [second], often=True))
    if rng.random() < 0.3:  # and a second silence on the edge
        draft.add(later + days("episode_max_gap_days") + rng.choice(JITTERS), [first])


def edge_recent(draft: Draft, jitter: timedelta) -> None:
    """A dangerous contact ``recent_days`` plus the jitter before ``assessed_at``."""
    rng = draft.rng
    assessed = anchor(rng) + days("pattern_min_span_days") * 3
    draft.assessed_at = assessed
    at = assessed - days("recent_days") + jitter
    kind = rng.choice(["violence", "weapon", "threat", "specific", "threat_weapon_access"])
    if kind == "violence":
        draft.add(at, ["physical_violence", *rng.sample(STALKING, rng.choice([0, 1]))])
    elif kind == "weapon":  # present (in person, from a vehicle) or only mentioned
        channel = rng.choice([{}, {"channel": rng.choice(CHANNELS)}])
        draft.add(at, some_behaviours(rng), weapon=True, **channel)
    elif kind == "specific":
        draft.add(at, ["threat"], specific_threat=True)
    else:
        draft.add(at, ["threat"])
        draft.client["weapon_access"] = kind == "threat_weapon_access" or rng.random() < 0.3
    for _ in range(rng.choice([0, 0, 1, 2])):  # others on or near the same edge
        draft.add(min(at + rng.choice(JITTERS), assessed), some_behaviours(rng))


def edge_distinct_behaviours(draft: Draft, jitter: timedelta) -> None:
    """One behaviour fewer, as many as, or one more than the pattern needs, on the span edge."""
    rng = draft.rng
    distinct = count("pattern_min_distinct_behaviours") + rng.choice([-1, 0, 1])
    span = days("pattern_min_span_days") + jitter
    episode(draft, anchor(rng), span, stalking_set(rng, distinct), fill=rng.choice([0, 2]))


def edge_repeated_contacts(draft: Draft, jitter: timedelta) -> None:
    """One stalking contact fewer, as many as, or one more than repeated contact needs.

    The contacts are the jitter apart, so their episode spans microseconds to seconds.
    """
    rng = draft.rng
    n = max(1, count("repeated_contacts_min") + rng.choice([-1, 0, 1]))
    start = anchor(rng)
    step = abs(jitter) if rng.random() < 0.7 else timedelta(days=rng.randrange(0, 10))
    codes = stalking_set(rng, rng.choice([1, 2]))
    for i in range(n):
        chosen = [rng.choice(codes)]
        draft.add(start + i * step, chosen, **contact_flags(rng, chosen, often=False))


def edge_crossings(draft: Draft, jitter: timedelta) -> None:
    """One boundary crossing fewer, as many as, or one more than persistence needs."""
    rng = draft.rng
    n = max(1, count("persistent_crossings_min") + rng.choice([-1, 0, 1]))
    start = anchor(rng)
    for i in range(n):
        draft.add(start + i * abs(jitter), [rng.choice(BOUNDARY)])
    if rng.random() < 0.3:
        draft.add(start + rng.choice(JITTERS), [rng.choice(STALKING)])


def _months_before(day: date, months: int) -> date:
    month = day.month - 1 - months
    year, month = day.year + month // 12, month % 12 + 1
    last = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    return date(year, month, min(day.day, last))


def edge_long_relationship(draft: Draft, jitter: timedelta) -> None:
    """Therapy a day under, at or over ``long_relationship_months``, assessed near midnight.

    Each plausible way of counting months has its own edge (days over 365.25/12, 365/12
    or 30, or calendar months); ``assessed_at`` falls the jitter away from local midnight,
    in a far-east or far-west offset or a named zone, so its local date is the day before
    or the day itself.
    """
    rng = draft.rng
    months = PACK.parameter("long_relationship_months")
    local_day = anchor(rng).date() + timedelta(days=4_000)
    edges = {math.ceil(months * per) for per in (365.25 / 12, 365 / 12, 30)}
    if float(months).is_integer():
        edges.add((local_day - _months_before(local_day, int(months))).days)
    zone = rng.choice(["+14:00", "-12:00", "+13:45", "Z", *NAMED_ZONES])
    midnight = datetime(local_day.year, local_day.month, local_day.day, tzinfo=zone_of(zone))
    assessed = midnight.astimezone(UTC) + jitter
    draft.assessed_at, draft.assessed_zone, draft.therapy_from = assessed, zone, local_day
    draft.therapy_days = rng.choice(sorted(edges)) + rng.choice([-1, 0, 1])
    if rng.random() < 0.3:
        draft.therapy_end_back = rng.choice([1, 2, 30])
    for _ in range(rng.choice([1, 1, 2, 3])):
        draft.add(
            assessed - rng.choice([abs(rng.choice(JITTERS)), timedelta(days=3)]),
            some_behaviours(rng),
        )


def edge_protection_order(draft: Draft, jitter: timedelta) -> None:
    """A contact the jitter away from the start of a protection order ("at or after")."""
    rng = draft.rng
    since = anchor(rng)
    draft.protection_order_since = since
    draft.add(since + jitter, [rng.choice(ALL_CODES)])
    if rng.random() < 0.4:
        draft.add(since - timedelta(days=rng.randrange(1, 20)), some_behaviours(rng))


def edge_agreement(draft: Draft, jitter: timedelta) -> None:
    """A contact the jitter away from the informed-consent agreement ("strictly after")."""
    rng = draft.rng
    agreed = anchor(rng)
    draft.agreement_at = agreed
    draft.add(agreed + jitter, [rng.choice(BOUNDARY + STALKING)])
    if rng.random() < 0.4:
        draft.add(agreed + rng.choice(JITTERS), some_behaviours(rng))


def edge_first_warning(draft: Draft, jitter: timedelta) -> None:
    """A contact the jitter away from the first of several warnings ("strictly after")."""
    rng = draft.rng
    first = anchor(rng)
    later = [(first + abs(j) + US, rng.random() < 0.5) for j in rng.sample(JITTERS, 2)]
    draft.warnings = [(first, rng.random() < 0.3), *later[: rng.choice([0, 1, 2])]]
    rng.shuffle(draft.warnings)  # the first warning is the earliest, not the first listed
    draft.add(first + jitter, some_behaviours(rng))


def edge_supervisor_warning(draft: Draft, jitter: timedelta) -> None:
    """A contact the jitter away from the first supervisor-backed warning."""
    rng = draft.rng
    backed = anchor(rng)
    draft.warnings = [
        (backed - timedelta(days=rng.randrange(0, 5)) - US, False),
        (backed, True),
        (backed + rng.choice([US, MS, timedelta(days=2)]), True),
    ]
    rng.shuffle(draft.warnings)
    draft.add(backed + jitter, some_behaviours(rng))


def edge_assessed_at(draft: Draft, jitter: timedelta) -> None:
    """Contacts at ``assessed_at`` or the jitter before it: ongoing, violent, threatening."""
    rng = draft.rng
    assessed = anchor(rng)
    draft.assessed_at = assessed
    codes = [rng.choice(PURSUIT), *rng.sample(STALKING, rng.choice([0, 1]))]
    draft.add(assessed - abs(jitter), codes, ongoing=rng.random() < 0.6)
    if rng.random() < 0.5:
        draft.add(assessed, ["threat"], specific_threat=rng.random() < 0.5)


def edge_same_instant(draft: Draft, jitter: timedelta) -> None:
    """Contacts at one instant, or the jitter apart, written in different offsets.

    Ties are ordered by id; the span is zero or the jitter (1 µs is 1.1574e-11 days).
    """
    rng = draft.rng
    start = anchor(rng)
    codes = stalking_set(rng, rng.choice([1, 2, 3]))
    for i in range(rng.choice([2, 2, 3, 4])):
        moment = start + (jitter * rng.choice([0, 1]) if i else timedelta(0))
        draft.add(moment, [codes[i % len(codes)]])
    if rng.random() < 0.5:
        draft.add(start + abs(jitter), [rng.choice(ESCALATION)])


def edge_history(draft: Draft, jitter: timedelta) -> None:
    """Something ``history_after_days`` plus the jitter before ``assessed_at``.

    A threat, an escalation, a weapon, a breach, a pursuit, or the last contact of a
    course of conduct or of persistent intrusions: present on one side of the edge,
    history on the other.  Often a recurrence follows, more than an episode gap later.
    """
    rng = draft.rng
    history = days("history_after_days")
    assessed = anchor(rng) + 2 * history
    draft.assessed_at = assessed
    edge = assessed - history + jitter
    kind = rng.choice(
        ["threat", "escalation", "weapon", "breach", "pursuit", "pattern", "persistence"]
    )
    if kind == "threat":
        draft.add(edge, ["threat"], specific_threat=rng.random() < 0.3)
    elif kind == "escalation":
        draft.add(edge, [rng.choice(ESCALATION)])
    elif kind == "weapon":
        draft.add(edge, some_behaviours(rng), weapon=True)
    elif kind == "breach":
        draft.protection_order_since = edge - rng.choice([timedelta(0), timedelta(days=20)])
        draft.add(edge, [rng.choice(ALL_CODES)])
    elif kind == "pursuit":
        draft.add(edge, [rng.choice(PURSUIT)])
    elif kind == "pattern":
        span = days("pattern_min_span_days") + rng.choice([timedelta(0), timedelta(days=3)])
        distinct = count("pattern_min_distinct_behaviours") + rng.choice([0, 1])
        episode(draft, edge - span, span, stalking_set(rng, distinct), fill=rng.choice([0, 2]))
    else:
        span = days("pattern_min_span_days")
        fill = max(0, count("persistence_min_contacts") - 2)
        episode(draft, edge - span, span, [rng.choice(STALKING)], fill=fill)
    quiet = days("episode_max_gap_days") + timedelta(days=1)  # a recurrence, not the episode
    if rng.random() < 0.6 and history > quiet:
        later = edge + quiet + (history - quiet) * rng.random()
        draft.add(min(later, assessed), some_behaviours(rng))


def edge_ongoing(draft: Draft, jitter: timedelta) -> None:
    """A contact marked ongoing that began ``ongoing_max_days`` plus the jitter ago."""
    rng = draft.rng
    assessed = anchor(rng) + days("recent_days")
    draft.assessed_at = assessed
    group = rng.choice([PURSUIT, STALKING, ESCALATION, BOUNDARY])
    at = min(assessed - days("ongoing_max_days") + jitter, assessed)
    draft.add(at, [rng.choice(group)], ongoing=True)
    if rng.random() < 0.3:  # and one happening now
        draft.add(assessed - abs(jitter), [rng.choice(group)], ongoing=True)


def edge_persistence(draft: Draft, jitter: timedelta) -> None:
    """Intrusions of one kind, one fewer, as many as or one more than persistence needs.

    Their episode spans the pattern's minimum span plus the jitter.
    """
    rng = draft.rng
    n = max(2, count("persistence_min_contacts") + rng.choice([-1, 0, 1]))
    span = days("pattern_min_span_days") + jitter
    episode(draft, anchor(rng), span, [rng.choice(STALKING)], fill=n - 2)


def _burst(draft: Draft, jitter: timedelta, window: timedelta, parameter: str) -> None:
    """One stalking contact fewer, as many as or one more than ``parameter`` in a window.

    The first and the last are the window plus the jitter apart; the rest fall between,
    evenly or at random; a boundary crossing among them does not count.
    """
    rng = draft.rng
    n = max(2, count(parameter) + rng.choice([-1, 0, 1]))
    start = anchor(rng)
    codes = stalking_set(rng, rng.choice([1, 2]))
    evenly = rng.random() < 0.5
    for i in range(n):
        if i == n - 1:
            at = start + window + jitter
        elif evenly:
            at = start + window * i / (n - 1)
        else:
            at = start + window * rng.random()
        draft.add(at, [rng.choice(codes)])
    if rng.random() < 0.4:
        draft.add(start + window / 2, [rng.choice(BOUNDARY)])
    if rng.random() < 0.3:  # a second, smaller group later
        later = start + window * 3
        for _ in range(rng.randrange(1, n)):
            draft.add(later + window * rng.random(), [rng.choice(codes)])


def edge_burst_day(draft: Draft, jitter: timedelta) -> None:
    """A burst whose first and last contacts are 24 hours plus the jitter apart."""
    _burst(draft, jitter, timedelta(days=1), "burst_day_min")


def edge_burst_week(draft: Draft, jitter: timedelta) -> None:
    """A burst whose first and last contacts are 7 days plus the jitter apart."""
    _burst(draft, jitter, timedelta(days=7), "burst_week_min")


def _frequency(draft: Draft, jitter: timedelta, latest: int, before: int) -> None:
    """``latest`` stalking contacts in the recent window, ``before`` in the one before.

    The earliest of each lies on its window's start plus the jitter.
    """
    rng = draft.rng
    recent = days("recent_days")
    assessed = anchor(rng) + 4 * recent
    draft.assessed_at = assessed
    for window_start, n in ((assessed - recent, latest), (assessed - 2 * recent, before)):
        for i in range(n):
            at = window_start + (jitter if i == 0 else recent * rng.random())
            draft.add(min(at, assessed), [rng.choice(STALKING)])
    if rng.random() < 0.3:  # a boundary crossing in the latest window does not count
        draft.add(assessed - recent / 2, [rng.choice(BOUNDARY)])


def edge_frequency_contacts(draft: Draft, jitter: timedelta) -> None:
    """One fewer, as many as or one more stalking contact in the latest window than needed."""
    rng = draft.rng
    latest = max(1, count("frequency_min_contacts") + rng.choice([-1, 0, 1]))
    ratio = PACK.parameter("frequency_ratio_min")
    _frequency(draft, jitter, latest, rng.choice([0, 1, math.floor(latest / ratio)]))


def edge_frequency_ratio(draft: Draft, jitter: timedelta) -> None:
    """The latest window holds just under, exactly or just over the ratio times the one before."""
    rng = draft.rng
    before = rng.choice([1, 2, 3, 4])
    latest = math.ceil(PACK.parameter("frequency_ratio_min") * before) + rng.choice([-1, 0, 1])
    _frequency(draft, jitter, max(0, latest), before)


def edge_persists_after_warning(draft: Draft, jitter: timedelta) -> None:
    """One contact fewer, as many as or one more than persistence after a warning needs.

    The first lies the jitter away from the supervisor-backed warning.
    """
    rng = draft.rng
    backed = anchor(rng)
    draft.warnings = [(backed, True)]
    if rng.random() < 0.5:
        draft.warnings.append((backed - timedelta(days=rng.randrange(1, 10)), False))
    n = max(1, count("persists_after_warning_min") + rng.choice([-1, 0, 1]))
    draft.add(backed + jitter, some_behaviours(rng))
    for _ in range(n - 1):
        draft.add(backed + timedelta(days=rng.randrange(1, 30)), some_behaviours(rng))


def edge_protection_order_until(draft: Draft, jitter: timedelta) -> None:
    """A contact the jitter away from the end of a protection order ("before").

    ``assessed_at`` is sometimes near the end too: the order in force, or no longer.
    """
    rng = draft.rng
    since = anchor(rng)
    until = since + timedelta(days=rng.choice([1, 30, 365]))
    draft.protection_order_since, draft.protection_order_until = since, until
    draft.add(until + jitter, [rng.choice(ALL_CODES)])
    if rng.random() < 0.5:
        draft.add(since + abs(rng.choice(JITTERS)), some_behaviours(rng))
    if rng.random() < 0.5:
        latest = max(at for at, _, _ in draft.contacts)
        draft.assessed_at = max(until + rng.choice(JITTERS), latest)


PARAMETER_EDGES: dict[str, Edge] = {
    "pattern_min_span_days": edge_min_span,
    "episode_max_gap_days": edge_max_gap,
    "recent_days": edge_recent,
    "pattern_min_distinct_behaviours": edge_distinct_behaviours,
    "repeated_contacts_min": edge_repeated_contacts,
    "persistent_crossings_min": edge_crossings,
    "long_relationship_months": edge_long_relationship,
    "history_after_days": edge_history,
    "ongoing_max_days": edge_ongoing,
    "persistence_min_contacts": edge_persistence,
    "burst_day_min": edge_burst_day,
    "burst_week_min": edge_burst_week,
    "frequency_min_contacts": edge_frequency_contacts,
    "frequency_ratio_min": edge_frequency_ratio,
    "persists_after_warning_min": edge_persists_after_warning,
}
TIME_EDGES: dict[str, Edge] = {
    "protection_order_since": edge_protection_order,
    "protection_order_until": edge_protection_order_until,
    "agreement_at": edge_agreement,
    "first_warning": edge_first_warning,
    "supervisor_warning": edge_supervisor_warning,
    "assessed_at": edge_assessed_at,
    "same_instant": edge_same_instant,
}
EDGES: dict[str, Edge] = {**PARAMETER_EDGES, **TIME_EDGES}
EDGE_NAMES = tuple(EDGES)


def edge_case(rng: random.Random, index: int) -> tuple[dict[str, Any], str | None]:
    """Case ``index`` of family (a): the edges and jitters are taken in turn."""
    name = EDGE_NAMES[index % len(EDGE_NAMES)]
    jitter = JITTERS[(index // len(EDGE_NAMES)) % len(JITTERS)]
    draft = Draft(rng)
    EDGES[name](draft, jitter)
    decorate(draft, heavy=rng.random() < 0.3)
    return draft.data(), None


# --- (b) random cases -------------------------------------------------------------------


def random_case(rng: random.Random, index: int) -> tuple[dict[str, Any], str | None]:
    """A case with random contacts whose time steps are parameters plus jitter, or anything."""
    draft = Draft(rng)
    moment = anchor(rng)
    steps = [
        lambda: abs(rng.choice(JITTERS)),
        lambda: days("pattern_min_span_days") + rng.choice(JITTERS),
        lambda: days("episode_max_gap_days") + rng.choice(JITTERS),
        lambda: days("recent_days") + rng.choice(JITTERS),
        lambda: timedelta(seconds=rng.randrange(0, 40 * 86_400), microseconds=rng.randrange(10**6)),
    ]
    for _ in range(rng.choice([0, 1, 2, 2, 3, 3, 4, 5, 6, 8, 10, 12, 16, 24, 40])):
        moment += rng.choice(steps)()
        behaviours = some_behaviours(rng)
        draft.add(moment, behaviours, **contact_flags(rng, behaviours, often=True))
    decorate(draft, heavy=True)
    zone = rng.choice(NAMED_ZONES) if rng.random() < 0.2 else None
    return draft.data(), zone


# --- (c) extreme spans ----------------------------------------------------------------------


def bare_exponent_spans() -> list[timedelta]:
    """Whole-microsecond spans whose days JSON writes as a bare exponent (``1e-05``, ``3e-07``).

    864 ms is 1e-05 days, 86.4 ms 1e-06, ... 864 µs 1e-08 days.
    """
    found = []
    for exponent in range(5, 12):
        for digit in range(1, 10):
            micros = digit * DAY_US / 10**exponent
            text = json.dumps(micros / DAY_US) if micros.is_integer() else ""
            if "e" in text and "." not in text:
                found.append(timedelta(microseconds=int(micros)))
    return found


def span_marks() -> list[timedelta]:
    exponent_edge = timedelta(seconds=8.64)  # 1e-04 days: repr() switches to exponents below
    return [
        US,
        2 * US,
        MS,
        864 * MS,
        timedelta(seconds=1),
        exponent_edge - US,
        exponent_edge,
        exponent_edge + US,
        timedelta(seconds=86.4),
        timedelta(days=1),
        days("recent_days"),
        days("pattern_min_span_days"),
        days("episode_max_gap_days"),
        timedelta(days=365),
        timedelta(days=1_000),
        timedelta(days=10_000),
    ]


def extreme_span(rng: random.Random) -> timedelta:
    """A mark (1 µs … 10,000 days) plus jitter, a bare-exponent span, or log-uniform."""
    draw = rng.random()
    if draw < 0.15:
        return rng.choice(BARE_EXPONENT_SPANS)
    if draw < 0.55:
        span = rng.choice(SPAN_MARKS) + rng.choice(JITTERS)
    else:  # log-uniform from 1 µs to 10,000 days
        span = timedelta(microseconds=round(math.exp(rng.uniform(0, math.log(8.64e17)))))
    return min(max(span, US), timedelta(days=10_000))


BARE_EXPONENT_SPANS = bare_exponent_spans()
SPAN_MARKS = span_marks()


def extreme_case(rng: random.Random, index: int) -> tuple[dict[str, Any], str | None]:
    """Stalking over an extreme span, in one of four shapes."""
    draft = Draft(rng)
    span = extreme_span(rng)
    start = anchor(rng)
    gap = days("episode_max_gap_days")
    shape = rng.choice(["pair", "one_episode", "many_episodes", "dense"])
    codes = stalking_set(rng, rng.choice([1, 2, 2, 3]))
    if rng.random() < 0.3:  # violence on top: the threat element and, if recent, urgency
        codes.append(rng.choice(ESCALATION))
    if shape == "pair":
        draft.add(start, codes[:1])
        draft.add(start + span, codes[1:] or codes[:1])
    elif shape == "one_episode":
        episode(draft, start, span, codes, fill=rng.choice([0, 1, 5]))
    elif shape == "many_episodes":
        moment = start
        while moment <= start + span and len(draft.contacts) < 400:
            draft.add(moment, [rng.choice(codes)])
            moment += gap + abs(rng.choice(JITTERS)) + timedelta(days=rng.choice([0, 0, 1, 5]))
    else:
        for _ in range(rng.choice([50, 100, 200])):
            draft.add(start + span * rng.random(), [rng.choice(codes)])
        draft.add(start, codes[:1])
        draft.add(start + span, codes[-1:])
    decorate(draft, heavy=False)
    return draft.data(), None


FAMILIES: dict[str, Callable[[random.Random, int], tuple[dict[str, Any], str | None]]] = {
    "edges": edge_case,
    "random": random_case,
    "extreme_spans": extreme_case,
}


# --- comparing and reporting -------------------------------------------------------------


def assessed_case(data: dict[str, Any], zone: str | None) -> Case:
    case = stalkrisk.parse_case(data)  # every generated case is valid
    return in_zone(case, zone) if zone else case


def problems(data: dict[str, Any], zone: str | None) -> list[str]:
    """Everything the library does differently from the reference; [] when they agree."""
    case = assessed_case(data, zone)
    try:
        return differences(case, PACK)
    except stalkrisk.EngineError as error:
        ref = reference_assess(case, PACK)
        spans = [json.dumps(e.span_days) for e in episodes_of(case, PACK)]
        bare = any("e" in text and "." not in text for text in spans)
        return [
            f"EngineError: {error}"
            + (" (an episode's span_days is a bare exponent in JSON)" if bare else ""),
            f"reference: level {ref.level.value}, urgent {ref.urgent}",
            f"episode span_days: {', '.join(spans) or 'no episodes'}",
        ]


def kind_of(found: Sequence[str]) -> str:
    if found[0].startswith("EngineError"):
        return found[0]
    return ", ".join(sorted({line.split(":")[0] for line in found}))


@dataclass
class Failure:
    family: str
    index: int
    data: dict[str, Any]
    zone: str | None
    found: list[str]

    @property
    def kind(self) -> str:
        return kind_of(self.found)

    @property
    def engine_error(self) -> bool:
        return self.found[0].startswith("EngineError")

    def text(self) -> str:
        where = f" (every time then rewritten in {self.zone})" if self.zone else ""
        return "\n    ".join(
            [
                f"{self.family} case #{self.index}:",
                *self.found,
                f"case{where}: {json.dumps(self.data)}",
            ]
        )


def shrink(failure: Failure, *, budget: float = 20.0) -> Failure:
    """A smaller case that fails the same way: contacts, behaviours and fields removed."""
    deadline = time.monotonic() + budget
    best = failure

    def attempt(data: dict[str, Any]) -> bool:
        nonlocal best
        try:
            found = problems(data, best.zone)
        except stalkrisk.CaseValidationError:
            return False
        if found and kind_of(found) == best.kind:
            best = Failure(best.family, best.index, data, best.zone, found)
            return True
        return False

    def candidates(data: dict[str, Any]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        contacts = data.get("contacts", [])
        size = len(contacts) // 2
        while size >= 1:  # drop runs of contacts, halving the run
            for start in range(0, len(contacts), size):
                found.append({**data, "contacts": contacts[:start] + contacts[start + size :]})
            size //= 2
        for i, contact in enumerate(contacts):
            for key in [k for k in contact if k not in ("id", "at", "behaviours")]:
                smaller = {k: v for k, v in contact.items() if k != key}
                found.append({**data, "contacts": [*contacts[:i], smaller, *contacts[i + 1 :]]})
            for code in contact["behaviours"] if len(contact["behaviours"]) > 1 else []:
                smaller = {**contact, "behaviours": [b for b in contact["behaviours"] if b != code]}
                found.append({**data, "contacts": [*contacts[:i], smaller, *contacts[i + 1 :]]})
        found.extend(
            {k: v for k, v in data.items() if k != part} for part in ("boundaries", "fear")
        )
        for part in ("client", "boundaries", "fear"):
            for key in [k for k in data.get(part, {}) if k != "relationship"]:
                smaller = {k: v for k, v in data[part].items() if k != key}
                found.append({**data, part: smaller})
        return found

    progress = True
    while progress and time.monotonic() < deadline:
        progress = False
        for candidate in candidates(best.data):
            if time.monotonic() >= deadline:
                break
            if candidate != best.data and attempt(candidate):
                progress = True
                break
    return best


@dataclass
class Report:
    family: str
    seed: int
    cases: int = 0
    seconds: float = 0.0
    failures: list[Failure] = field(default_factory=list)

    @property
    def engine_errors(self) -> int:
        return sum(f.engine_error for f in self.failures)

    @property
    def mismatches(self) -> int:
        return len(self.failures) - self.engine_errors

    def counts(self) -> str:
        return (
            f"{self.family} (seed {self.seed}): {self.cases} cases, {self.mismatches} "
            f"mismatches, {self.engine_errors} engine errors, {self.seconds:.1f} s"
        )

    def details(self, *, shrink_budget: float = 20.0) -> str:
        if not self.failures:
            return self.counts()
        kinds: dict[str, list[Failure]] = {}
        for failure in self.failures:
            kinds.setdefault(failure.kind, []).append(failure)
        lines = [self.counts(), f"  first failure: {self.failures[0].text()}"]
        for kind, items in sorted(kinds.items()):
            smallest = min(items, key=lambda f: len(json.dumps(f.data)))
            small = shrink(smallest, budget=shrink_budget) if shrink_budget > 0 else smallest
            lines.append(f"  {len(items)} case(s) fail with {kind}; smallest, shrunk:")
            lines.append(f"    {small.text()}")
        return "\n".join(lines)


def run(family: str, *, seed: int, cases: int) -> Report:
    """Generate ``cases`` cases of ``family`` from ``random.Random(seed)`` and compare each."""
    rng = random.Random(seed)
    build = FAMILIES[family]
    report = Report(family, seed)
    began = time.perf_counter()
    for index in range(cases):
        data, zone = build(rng, index)
        found = problems(data, zone)
        if found:
            report.failures.append(Failure(family, index, data, zone, found))
        report.cases += 1
    report.seconds = time.perf_counter() - began
    return report


# --- the tests ----------------------------------------------------------------------------


def test_every_parameter_of_the_bundled_pack_has_an_edge() -> None:
    """A parameter added to rules/default.yaml needs an edge here before the fuzz covers it."""
    assert set(PACK.parameters) <= set(PARAMETER_EDGES), sorted(
        set(PACK.parameters) - set(PARAMETER_EDGES)
    )


def test_two_contacts_864_ms_apart_with_violence_are_police_and_urgent() -> None:
    """A span of 864 ms is 1e-05 days; the engine must still grade violence as urgent."""
    case = {
        "assessed_at": "2025-01-01T00:00:01Z",
        "client": {"relationship": "current"},
        "contacts": [
            {"id": "a", "at": "2025-01-01T00:00:00Z", "behaviours": ["unwanted_calls"]},
            {
                "id": "b",
                "at": "2025-01-01T00:00:00.864Z",
                "behaviours": ["loitering", "physical_violence"],
            },
        ],
    }
    result = stalkrisk.assess(case)
    assert (result.level, result.urgent) == ("police", True)
    assert not problems(case, None)


def check(family: str, *, seed: int, cases: int) -> None:
    report = run(family, seed=seed, cases=cases)
    assert not report.failures, report.details()


def test_every_parameter_and_time_edge_with_microsecond_jitter_agrees_with_the_reference() -> None:
    """(a) Each edge with each jitter (−1 µs … +1 s), seven or so times over."""
    check("edges", seed=20_250_112, cases=1_400)


def test_random_cases_in_mixed_offsets_and_named_zones_agree_with_the_reference() -> None:
    """(b) Random relationships, fear, warnings, agreements, orders and history flags."""
    check("random", seed=12_005, cases=700)


def test_spans_from_one_microsecond_to_ten_thousand_days_agree_with_the_reference() -> None:
    """(c) Pairs, long episodes of many contacts, many episodes, dense bursts."""
    check("extreme_spans", seed=864, cases=400)
