"""An independent, plain-Python reference evaluation of the rule-pack semantics.

Written from the specification only: docs/rules.md (facts, fields, episodes, the exact
boundaries, evidence), docs/input.md, docs/output.md (the threshold figures), README.md
and rules/default.yaml.  It deliberately does not use the library's feature code or its
engine: every feature is recomputed here in the plainest way (a predicate per field,
tested on every contact), conditions are evaluated by a small recursive function over the
parsed condition trees, and element results are chained into the grade fact by hand.

Only the parsed pack structures (:class:`stalkrisk.RulePack`, ``Rule``, ``FieldTest``,
``AllOf``, ``AnyOf`` and the parameter values) are taken from the library.

Where the specification leaves a value open, the reference does not guess one answer.
It evaluates every plausible reading and :attr:`Reference.outcomes` lists each distinct
result; an implementation agrees with the reference if it matches one of them.  The one
such gap is ``therapy_months``: docs/rules.md says "months of therapeutic relationship up
to its end or to the assessment" but not how a month is counted (calendar months, or days
divided by 30, by 365/12 or by 365.25/12).  Evidence the docs leave open (the episode that
"gave the maximum" when several tie) is reported as ``None``: not determined.

Pack 1.1.0 adds windows in time, all compared in exact microseconds: a contact is in the
*current window* if it is no more than ``history_after_days`` before ``assessed_at``
(older is history: past threats, past patterns), *recent* within ``recent_days`` and
*fresh* within ``ongoing_max_days`` (an ongoing contact that is not fresh is stale).  Both
of those parameters are optional; a pack without one treats it as infinite.  Episodes
carry ``age_days``; an episode rule may set a level.  Where the written specification
of a new field was amended while the library changed, the reference follows the field
descriptions the library publishes (``stalkrisk rules --fields``): bursts
(``max_contacts_24h``/``_7d``) count stalking contacts of the current window only, and
``frequency_ratio`` is 0 when no stalking contact came before the latest window.

The threshold figures follow docs/output.md: ``met`` means some current episode meets
the pack's threshold (``pattern_min_distinct_behaviours``, ``pattern_min_span_days`` and,
if the pack sets it, ``pattern_min_contacts``: the figures the same object reports as
``min_distinct_behaviours``, ``min_span_days`` and ``min_contacts``); the reported
episode is the latest current one that meets it, else the one with the most distinct
behaviours (ties to the longest, then the latest).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

from stalkrisk import Behaviour, Case, Channel, Contact, Level, RulePack, Target
from stalkrisk._packmodel import AllOf, AnyOf, FieldTest, Rule

__all__ = [
    "DAY_US",
    "Episode",
    "Outcome",
    "Reference",
    "condition_holds",
    "episodes_of",
    "instant_us",
    "reference_assess",
]

DAY_US = 86_400_000_000
"""Microseconds in a day: spans are "computed from whole microseconds"."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FEAR_RANK = {"none": 0, "some": 1, "significant": 2, "severe": 3}
_GROUPS = ("stalking", "boundary", "escalation")
_ELEMENTS = ("pattern", "threat", "fear")
_LADDER = tuple(Level)  # lowest first
_THIRD_PARTIES = frozenset({Target.FAMILY, Target.COLLEAGUES, Target.OTHERS})
"""Everyone a contact can be aimed at other than the clinician."""
_PRESENT_CHANNELS = frozenset({"in_person", "vehicle"})
"""Channels in which a weapon was there (urgent.weapon)."""
_ARMED_BEHAVIOURS = frozenset(
    {
        "following",
        "unwanted_approach",
        "loitering",
        "property_damage",
        "physical_violence",
        "threat",
    }
)
"""Behaviours with which a weapon is present or named in a threat (urgent.weapon)."""

Value = int | float | bool | str
Evidence = tuple[str, ...] | None  # None: the docs do not determine it


def instant_us(moment: datetime) -> int:
    """An aware datetime as whole microseconds since the epoch (an absolute instant)."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _days_us(days: float) -> Fraction:
    """A parameter in days as an exact number of microseconds."""
    return Fraction(days) * DAY_US


def _optional_days_us(pack: RulePack, name: str) -> Fraction | None:
    """An optional day parameter in microseconds; None (infinite) if the pack lacks it."""
    if name not in pack.parameters:
        return None
    return _days_us(pack.parameter(name))


# --- episodes ------------------------------------------------------------------------


@dataclass(frozen=True)
class Episode:
    """A run of stalking contacts, each no more than the maximum gap after the previous."""

    contacts: tuple[Contact, ...]  # time order (then id)
    behaviours: frozenset[str]  # distinct *stalking* behaviours of the episode
    span_us: int
    age_us: int  # from the episode's last contact to assessed_at
    current: bool  # age at most history_after_days (always, without that parameter)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.contacts)

    @property
    def span_days(self) -> float:
        # int / int in Python is correctly rounded: exactly 14 days is 14.0.
        return self.span_us / DAY_US

    @property
    def age_days(self) -> float:
        return self.age_us / DAY_US

    @property
    def fact(self) -> dict[str, Value]:
        return {
            "contacts": len(self.contacts),
            "distinct_behaviours": len(self.behaviours),
            "span_days": self.span_days,
            "age_days": self.age_days,
            "current": self.current,
        }


def _time_order(contacts: Iterable[Contact]) -> list[Contact]:
    """Sorted by absolute instant, then id (docs/rules.md, How evaluation works, 2)."""
    return sorted(contacts, key=lambda c: (instant_us(c.at), c.id))


def episodes_of(case: Case, pack: RulePack) -> tuple[Episode, ...]:
    """Split the stalking contacts into episodes (docs/rules.md, Episodes)."""
    group = {spec.code.value: spec.group for spec in pack.behaviours}
    max_gap = _days_us(pack.parameter("episode_max_gap_days"))
    history = _optional_days_us(pack, "history_after_days")
    runs: list[list[Contact]] = []
    previous: int | None = None
    for contact in _time_order(case.contacts):
        if not any(group[b.value] == "stalking" for b in contact.behaviours):
            continue  # neither joins an episode nor bridges a gap
        now = instant_us(contact.at)
        if previous is None or now - previous > max_gap:
            runs.append([])
        runs[-1].append(contact)
        previous = now
    return tuple(
        Episode(
            contacts=tuple(run),
            behaviours=frozenset(
                b.value for c in run for b in c.behaviours if group[b.value] == "stalking"
            ),
            span_us=instant_us(run[-1].at) - instant_us(run[0].at),
            age_us=instant_us(case.assessed_at) - instant_us(run[-1].at),
            current=history is None
            or instant_us(case.assessed_at) - instant_us(run[-1].at) <= history,
        )
        for run in runs
    )


# --- the case fact -------------------------------------------------------------------


def _calendar_months(start: date, end: date, *, clamp: bool) -> float:
    """Whole calendar months from ``start`` to ``end``.

    With ``clamp`` a month ending on a shorter month's last day counts as complete
    (31 January to 28 February is one month).
    """
    months = (end.year - start.year) * 12 + end.month - start.month
    needed = start.day
    if clamp:
        needed = min(needed, calendar.monthrange(end.year, end.month)[1])
    if end.day < needed:
        months -= 1
    return float(months)


def therapy_month_readings(case: Case) -> tuple[float, ...]:
    """Every plausible value of ``therapy_months``; −1 if the start is unknown.

    The end is ``therapy_end`` or else "the date of ``assessed_at``" (its own local
    date, as the validation of therapy dates also uses).  The first reading is the
    reference's primary one.
    """
    start = case.client.therapy_start
    if start is None:
        return (-1.0,)
    end = case.client.therapy_end or case.assessed_at.date()
    days = (end - start).days
    readings = [
        days / (365.25 / 12),
        days / (365 / 12),
        days / 30,
        _calendar_months(start, end, clamp=False),
        _calendar_months(start, end, clamp=True),
    ]
    return tuple(dict.fromkeys(readings))


@dataclass(frozen=True)
class CaseFact:
    values: dict[str, Value]
    counted: dict[str, Evidence]  # the contacts each field counts (its evidence)


def case_fact(case: Case, pack: RulePack, episodes: Sequence[Episode], months: float) -> CaseFact:
    """The case fact of docs/rules.md ("Case fact"), field by field."""
    group = {spec.code.value: spec.group for spec in pack.behaviours}
    pursuit = {spec.code.value for spec in pack.behaviours if spec.pursuit}
    ordered = _time_order(case.contacts)
    assessed = instant_us(case.assessed_at)
    recent_days = _days_us(pack.parameter("recent_days"))
    recent_from = assessed - recent_days  # at or after: recent
    history = _optional_days_us(pack, "history_after_days")  # None: nothing is history
    ongoing_max = _optional_days_us(pack, "ongoing_max_days")  # None: ongoing is always now
    client = case.client

    def at(contact: Contact) -> int:
        return instant_us(contact.at)

    def codes(contact: Contact) -> set[str]:
        return {b.value for b in contact.behaviours}

    def recent(contact: Contact) -> bool:
        return at(contact) >= recent_from

    def current(contact: Contact) -> bool:
        """In the current window: not older than history_after_days."""
        return history is None or at(contact) >= assessed - history

    def fresh(contact: Contact) -> bool:
        """Began no more than ongoing_max_days before the assessment."""
        return ongoing_max is None or at(contact) >= assessed - ongoing_max

    def shows(code: str) -> Callable[[Contact], bool]:
        return lambda c: code in codes(c)

    def in_group(name: str) -> Callable[[Contact], bool]:
        return lambda c: any(group[code] == name for code in codes(c))

    def strictly_after(moment: datetime | None) -> Callable[[Contact], bool]:
        return lambda c: moment is not None and at(c) > instant_us(moment)

    stalking = in_group("stalking")
    escalation = in_group("escalation")

    def pursues(contact: Contact) -> bool:
        return bool(codes(contact) & pursuit)

    def breach(contact: Contact) -> bool:
        """While a protection order is in force: since <= time < until."""
        since, until = client.protection_order_since, client.protection_order_until
        if since is None or at(contact) < instant_us(since):
            return False
        return until is None or at(contact) < instant_us(until)

    def threatening(contact: Contact) -> bool:
        """A threat, an escalation, a weapon or a breach (what becomes a past threat)."""
        return (
            "threat" in codes(contact) or escalation(contact) or contact.weapon or breach(contact)
        )

    def armed(contact: Contact) -> bool:
        """A weapon that was there, in a pursuit or an assault, or named in a threat."""
        present = contact.channel is not None and contact.channel.value in _PRESENT_CHANNELS
        return contact.weapon and (present or bool(codes(contact) & _ARMED_BEHAVIOURS))

    # The contacts of every episode that met the threshold and ended before the window.
    past_pattern = {
        c.id
        for e in episodes
        if _meets(e, pack) and history is not None and e.age_us > history
        for c in e.contacts
    }
    previous_window_from = assessed - 2 * recent_days  # the window before the recent one

    warnings = case.boundaries.warnings
    first_warning = min((w.at for w in warnings), key=instant_us, default=None)
    first_supervisor = min((w.at for w in warnings if w.supervisor), key=instant_us, default=None)

    counting: dict[str, Callable[[Contact], bool]] = {"contacts": lambda c: True}
    for behaviour in Behaviour:
        counting[f"{behaviour.value}_contacts"] = shows(behaviour.value)
    for name in _GROUPS:
        counting[f"{name}_contacts"] = in_group(name)
    counting.update(
        {
            "family_contacts": lambda c: Target.FAMILY in c.targets,
            "colleague_contacts": lambda c: Target.COLLEAGUES in c.targets,
            "other_target_contacts": lambda c: Target.OTHERS in c.targets,
            "in_person_contacts": lambda c: c.channel == Channel.IN_PERSON,
            "protection_order_breach_contacts": breach,
            "contacts_after_agreement": strictly_after(case.boundaries.agreement_at),
            "contacts_after_warning": strictly_after(first_warning),
            "contacts_after_supervisor_warning": strictly_after(first_supervisor),
            "weapon_contacts": lambda c: c.weapon,
            "recent_physical_violence_contacts": lambda c: (
                recent(c) and "physical_violence" in codes(c)
            ),
            "recent_weapon_contacts": lambda c: recent(c) and c.weapon,
            "recent_threat_contacts": lambda c: recent(c) and "threat" in codes(c),
            "recent_specific_threat_contacts": lambda c: recent(c) and c.specific_threat,
            "recent_stalking_contacts": lambda c: recent(c) and stalking(c),
            "recent_armed_contacts": lambda c: recent(c) and armed(c),
            "current_contacts": current,
            "current_threat_contacts": lambda c: current(c) and "threat" in codes(c),
            "current_stalking_contacts": lambda c: current(c) and stalking(c),
            "current_boundary_contacts": lambda c: current(c) and in_group("boundary")(c),
            "current_third_party_target_contacts": lambda c: (
                current(c) and bool(set(c.targets) & _THIRD_PARTIES)
            ),
            "current_pursuit_contacts": lambda c: current(c) and pursues(c),
            "current_escalation_contacts": lambda c: current(c) and escalation(c),
            "current_weapon_contacts": lambda c: current(c) and c.weapon,
            "current_protection_order_breach_contacts": lambda c: current(c) and breach(c),
            "past_threat_contacts": lambda c: not current(c) and threatening(c),
            "past_pattern_contacts": lambda c: c.id in past_pattern,
            "ongoing_pursuit_contacts": lambda c: c.ongoing and pursues(c) and fresh(c),
            "ongoing_contacts": lambda c: c.ongoing and (stalking(c) or escalation(c)) and fresh(c),
            "stale_ongoing_contacts": lambda c: c.ongoing and not fresh(c),
        }
    )

    values: dict[str, Value] = {}
    counted: dict[str, Evidence] = {}
    for name, test in counting.items():
        hits = tuple(c.id for c in ordered if test(c))
        values[name] = len(hits)
        counted[name] = hits

    # The most distinct behaviours / the longest span of one episode; evidence is the
    # episode that gave the maximum (undetermined if several different episodes tie).
    for name, measure in (
        ("max_distinct_behaviours", lambda e: len(e.behaviours)),
        ("max_span_days", lambda e: e.span_days),
    ):
        best = max((measure(e) for e in episodes), default=None)
        if best is None:
            values[name] = 0 if name == "max_distinct_behaviours" else 0.0
            counted[name] = ()
            continue
        values[name] = best
        givers = {e.ids for e in episodes if measure(e) == best}
        counted[name] = next(iter(givers)) if len(givers) == 1 else None

    # The most stalking contacts of the current window within 24 hours / 7 days of the
    # first of them; evidence is the earliest largest group.
    stalking_ordered = [c for c in ordered if stalking(c) and current(c)]
    for name, window in (("max_contacts_24h", DAY_US), ("max_contacts_7d", 7 * DAY_US)):
        largest: list[Contact] = []
        for i, first in enumerate(stalking_ordered):
            run = [c for c in stalking_ordered[i:] if at(c) - at(first) <= window]
            if len(run) > len(largest):
                largest = run
        values[name] = len(largest)
        counted[name] = tuple(c.id for c in largest)

    # Rising frequency: the latest recent_days window against the one before it (at
    # least 1); 0 if no stalking contact came before the latest window at all.
    before = sum(1 for c in ordered if stalking(c) and previous_window_from <= at(c) < recent_from)
    earlier = any(stalking(c) and at(c) < recent_from for c in ordered)
    ratio = int(values["recent_stalking_contacts"]) / max(1, before) if earlier else 0.0
    plain: dict[str, Value] = {
        "relationship": client.relationship.value,
        "fear_level": _FEAR_RANK[case.fear.level.value],
        "family_afraid": case.fear.family_afraid,
        "prior_violence": client.prior_violence,
        "prior_stalking": client.prior_stalking,
        "substance_misuse": client.substance_misuse,
        "weapon_access": client.weapon_access,
        "protection_order": _order_in_force(case),
        "frail": bool(client.clinical_state),
        "therapy_months": months,
        "motive": "none" if client.motive is None else client.motive.value,
        "frequency_ratio": ratio,
    }
    values.update(plain)
    counted.update(dict.fromkeys(plain, ()))  # fields that count nothing cite nothing
    return CaseFact(values=values, counted=counted)


def _order_in_force(case: Case) -> bool:
    """A protection order in force at the assessment: since <= assessed < until."""
    since, until = case.client.protection_order_since, case.client.protection_order_until
    assessed = instant_us(case.assessed_at)
    if since is None or instant_us(since) > assessed:
        return False
    return until is None or assessed < instant_us(until)


# --- conditions ----------------------------------------------------------------------


def condition_holds(condition: FieldTest | AllOf | AnyOf, fact: Mapping[str, Value]) -> bool:
    """Evaluate one parsed condition tree on one flat fact."""
    if isinstance(condition, AllOf):
        return all(condition_holds(item, fact) for item in condition.items)
    if isinstance(condition, AnyOf):
        return any(condition_holds(item, fact) for item in condition.items)
    left, right = fact[condition.field], condition.value
    if condition.op == "eq":
        return left == right
    if condition.op == "ne":
        return left != right
    assert not isinstance(left, str | bool), condition
    assert not isinstance(right, str | bool), condition
    if condition.op == "gt":
        return left > right
    if condition.op == "gte":
        return left >= right
    if condition.op == "lt":
        return left < right
    if condition.op == "lte":
        return left <= right
    raise AssertionError(f"unknown operator {condition.op!r}")


def condition_fields(condition: FieldTest | AllOf | AnyOf) -> list[str]:
    """Every field named anywhere in the condition, branches that did not hold included."""
    if isinstance(condition, FieldTest):
        return [condition.field]
    return [name for item in condition.items for name in condition_fields(item)]


# --- evaluation ----------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What the rules decide for one reading of the case."""

    level: Level
    urgent: bool
    elements: frozenset[str]
    element_rules: Mapping[str, tuple[str, ...]]  # element -> its rules, pack order
    element_evidence: Mapping[str, Evidence]  # element -> contact ids, time order
    rules_fired: frozenset[str]
    rule_evidence: Mapping[str, Evidence]  # fired rule id -> contact ids, time order
    notes: tuple[str, ...]


@dataclass(frozen=True)
class Reference:
    """The reference result: threshold figures plus one outcome per plausible reading."""

    outcomes: tuple[Outcome, ...]
    met: bool
    distinct_behaviours: int
    span_days: float
    behaviours: tuple[str, ...]
    course_of_conduct: tuple[str, ...]
    episodes: int
    therapy_months: tuple[float, ...] = field(default=())

    @property
    def primary(self) -> Outcome:
        return self.outcomes[0]

    @property
    def level(self) -> Level:
        return self.primary.level

    @property
    def urgent(self) -> bool:
        return self.primary.urgent

    @property
    def elements(self) -> frozenset[str]:
        return self.primary.elements

    @property
    def rules_fired(self) -> frozenset[str]:
        return self.primary.rules_fired


def _in_time_order(ids: Iterable[str], order: Mapping[str, int]) -> tuple[str, ...]:
    return tuple(sorted(set(ids), key=order.__getitem__))


def _cite(condition: FieldTest | AllOf | AnyOf, counted: Mapping[str, Evidence]) -> Evidence:
    """A case or grade rule cites, for each field its condition names, what that field counts."""
    parts = [counted[name] for name in condition_fields(condition)]
    if any(part is None for part in parts):
        return None
    return tuple(cid for part in parts if part is not None for cid in part)


def _outcome(case: Case, pack: RulePack, episodes: Sequence[Episode], months: float) -> Outcome:
    fact = case_fact(case, pack, episodes, months)
    order = {c.id: i for i, c in enumerate(_time_order(case.contacts))}
    rule_evidence: dict[str, Evidence] = {}

    # Step 3: episode and case facts; the element rules fire on them.
    element_rules: dict[str, list[str]] = {name: [] for name in _ELEMENTS}
    evidence: dict[str, list[str] | None] = {name: [] for name in _ELEMENTS}
    fired: list[Rule] = []
    for rule in pack.rules:
        cited: Evidence
        if rule.on == "episode":
            hits = [e for e in episodes if condition_holds(rule.when, e.fact)]
            if not hits:
                continue
            cited = tuple(cid for e in hits for cid in e.ids)
        elif rule.on == "case":
            if not condition_holds(rule.when, fact.values):
                continue
            cited = _cite(rule.when, fact.counted)
        else:
            continue
        fired.append(rule)
        rule_evidence[rule.id] = cited
        if rule.element is None:
            continue  # a level rule on episodes: its level counts in step 5
        element_rules[rule.element].append(rule.id)
        so_far = evidence[rule.element]
        evidence[rule.element] = None if so_far is None or cited is None else [*so_far, *cited]
    present = frozenset(name for name in _ELEMENTS if element_rules[name])
    found: dict[str, Evidence] = {
        name: None if ids is None else _in_time_order(ids, order) for name, ids in evidence.items()
    }

    # Step 4: the grade fact is the case fields plus the three elements; on it, the
    # fields pattern, threat and fear cite that element's evidence.
    grade = {**fact.values, **{name: name in present for name in _ELEMENTS}}
    grade_counted = {**fact.counted, **found}
    for rule in pack.rules:
        if rule.on == "grade" and condition_holds(rule.when, grade):
            fired.append(rule)
            rule_evidence[rule.id] = _cite(rule.when, grade_counted)

    # Step 5: the highest level of a fired level rule; urgent if an urgent rule fired.
    levels = [rule.level for rule in fired if rule.level is not None]
    level = max(levels, key=_LADDER.index, default=Level.NONE)
    return Outcome(
        level=level,
        urgent=any(rule.urgent for rule in fired),
        elements=present,
        element_rules={name: tuple(ids) for name, ids in element_rules.items()},
        element_evidence=found,
        rules_fired=frozenset(rule.id for rule in fired),
        rule_evidence={
            rule_id: None if ids is None else _in_time_order(ids, order)
            for rule_id, ids in rule_evidence.items()
        },
        notes=tuple(
            rule.note for rule in sorted(fired, key=lambda r: r.position) if rule.note is not None
        ),
    )


def _meets(episode: Episode, pack: RulePack) -> bool:
    contacts = pack.parameters.get("pattern_min_contacts")
    return (
        len(episode.behaviours) >= pack.parameter("pattern_min_distinct_behaviours")
        and episode.span_days >= pack.parameter("pattern_min_span_days")
        and (contacts is None or len(episode.contacts) >= contacts.value)
    )


def reference_assess(case: Case, pack: RulePack) -> Reference:
    """Evaluate ``case`` under ``pack`` from the specification alone."""
    episodes = episodes_of(case, pack)
    months = therapy_month_readings(case)
    outcomes: list[Outcome] = []
    for reading in months:
        outcome = _outcome(case, pack, episodes, reading)
        if outcome not in outcomes:
            outcomes.append(outcome)

    # docs/output.md, threshold: the latest current episode that meets the threshold;
    # else the one with the most distinct behaviours, ties to the longest, then the latest.
    meeting = [e for e in episodes if e.current and _meets(e, pack)]
    reported: Episode | None
    if meeting:
        reported = meeting[-1]
    elif episodes:
        positions = range(len(episodes))
        best = max(positions, key=lambda i: (len(episodes[i].behaviours), episodes[i].span_us, i))
        reported = episodes[best]
    else:
        reported = None
    return Reference(
        outcomes=tuple(outcomes),
        met=bool(meeting),
        distinct_behaviours=len(reported.behaviours) if reported else 0,
        span_days=reported.span_days if reported else 0.0,
        behaviours=tuple(sorted(reported.behaviours)) if reported else (),
        course_of_conduct=reported.ids if reported else (),
        episodes=len(episodes),
        therapy_months=months,
    )
