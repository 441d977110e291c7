"""An independent, plain-Python reference evaluation of the rule-pack semantics.

Written from the specification only: docs/rules.md (facts, fields, episodes, the exact
boundaries, evidence), docs/input.md, docs/output.md (the threshold figures), README.md
and rules/default.yaml.  It deliberately does not use the library's feature code or its
engine: every feature is recomputed here in the plainest way (a predicate per field,
tested on every contact), conditions are evaluated by a small recursive function over the
parsed condition trees, and element results are chained into the grade fact by hand.

Only the parsed pack structures (:class:`stalkrisk.RulePack`, ``Rule``, ``Comparison``,
``AllOf``, ``AnyOf`` and the parameter values) are taken from the library.

Where the specification leaves a value open, the reference does not guess one answer.
It evaluates every plausible reading and :attr:`Reference.outcomes` lists each distinct
result; an implementation agrees with the reference if it matches one of them.  The one
such gap is ``therapy_months``: docs/rules.md says "months of therapeutic relationship up
to its end or to the assessment" but not how a month is counted (calendar months, or days
divided by 30, by 365/12 or by 365.25/12).  Evidence the docs leave open (the episode that
"gave the maximum" when several tie) is reported as ``None``: not determined.

The threshold figures follow docs/output.md: ``met`` means some episode meets the pack's
threshold (``pattern_min_distinct_behaviours`` and ``pattern_min_span_days``, the figures
the same object reports as ``min_distinct_behaviours`` and ``min_span_days``); the
reported episode is the latest that meets it, else the one with the most distinct
behaviours (ties to the longest, then the latest).
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

from stalkrisk import Behaviour, Case, Contact, Level, RulePack, Target
from stalkrisk._rulepack import AllOf, AnyOf, Comparison, Rule

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

Value = int | float | bool | str
Evidence = tuple[str, ...] | None  # None: the docs do not determine it


def instant_us(moment: datetime) -> int:
    """An aware datetime as whole microseconds since the epoch (an absolute instant)."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _days_us(days: float) -> Fraction:
    """A parameter in days as an exact number of microseconds."""
    return Fraction(days) * DAY_US


# --- episodes ------------------------------------------------------------------------


@dataclass(frozen=True)
class Episode:
    """A run of stalking contacts, each no more than the maximum gap after the previous."""

    contacts: tuple[Contact, ...]  # time order (then id)
    behaviours: frozenset[str]  # distinct *stalking* behaviours of the episode
    span_us: int

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.contacts)

    @property
    def span_days(self) -> float:
        # int / int in Python is correctly rounded: exactly 14 days is 14.0.
        return self.span_us / DAY_US

    @property
    def fact(self) -> dict[str, Value]:
        return {
            "contacts": len(self.contacts),
            "distinct_behaviours": len(self.behaviours),
            "span_days": self.span_days,
        }


def _time_order(contacts: Iterable[Contact]) -> list[Contact]:
    """Sorted by absolute instant, then id (docs/rules.md, How evaluation works, 2)."""
    return sorted(contacts, key=lambda c: (instant_us(c.at), c.id))


def episodes_of(case: Case, pack: RulePack) -> tuple[Episode, ...]:
    """Split the stalking contacts into episodes (docs/rules.md, Episodes)."""
    group = {spec.code.value: spec.group for spec in pack.behaviours}
    max_gap = _days_us(pack.parameter("episode_max_gap_days"))
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
    recent_from = assessed - _days_us(pack.parameter("recent_days"))  # at or after: recent

    def codes(contact: Contact) -> set[str]:
        return {b.value for b in contact.behaviours}

    def recent(contact: Contact) -> bool:
        return instant_us(contact.at) >= recent_from

    def shows(code: str) -> Callable[[Contact], bool]:
        return lambda c: code in codes(c)

    def in_group(name: str) -> Callable[[Contact], bool]:
        return lambda c: any(group[code] == name for code in codes(c))

    def at_or_after(moment: datetime | None) -> Callable[[Contact], bool]:
        return lambda c: moment is not None and instant_us(c.at) >= instant_us(moment)

    def strictly_after(moment: datetime | None) -> Callable[[Contact], bool]:
        return lambda c: moment is not None and instant_us(c.at) > instant_us(moment)

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
            "protection_order_breach_contacts": at_or_after(case.client.protection_order_since),
            "contacts_after_agreement": strictly_after(case.boundaries.agreement_at),
            "contacts_after_warning": strictly_after(first_warning),
            "contacts_after_supervisor_warning": strictly_after(first_supervisor),
            "ongoing_pursuit_contacts": lambda c: c.ongoing and bool(codes(c) & pursuit),
            "weapon_contacts": lambda c: c.weapon,
            "recent_physical_violence_contacts": lambda c: (
                recent(c) and "physical_violence" in codes(c)
            ),
            "recent_weapon_contacts": lambda c: recent(c) and c.weapon,
            "recent_threat_contacts": lambda c: recent(c) and "threat" in codes(c),
            "recent_specific_threat_contacts": lambda c: recent(c) and c.specific_threat,
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

    client = case.client
    plain: dict[str, Value] = {
        "relationship": client.relationship.value,
        "fear_level": _FEAR_RANK[case.fear.level.value],
        "family_afraid": case.fear.family_afraid,
        "prior_violence": client.prior_violence,
        "prior_stalking": client.prior_stalking,
        "substance_misuse": client.substance_misuse,
        "weapon_access": client.weapon_access,
        "protection_order": client.protection_order_since is not None,
        "frail": bool(client.clinical_state),
        "therapy_months": months,
    }
    values.update(plain)
    counted.update(dict.fromkeys(plain, ()))  # fields that count nothing cite nothing
    return CaseFact(values=values, counted=counted)


# --- conditions ----------------------------------------------------------------------


def condition_holds(condition: Comparison | AllOf | AnyOf, fact: Mapping[str, Value]) -> bool:
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


def condition_fields(condition: Comparison | AllOf | AnyOf) -> list[str]:
    """Every field named anywhere in the condition, branches that did not hold included."""
    if isinstance(condition, Comparison):
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


def _cite(condition: Comparison | AllOf | AnyOf, counted: Mapping[str, Evidence]) -> Evidence:
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
        assert rule.element is not None, rule.id  # the loader allows only element rules here
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
    return len(episode.behaviours) >= pack.parameter(
        "pattern_min_distinct_behaviours"
    ) and episode.span_days >= pack.parameter("pattern_min_span_days")


def reference_assess(case: Case, pack: RulePack) -> Reference:
    """Evaluate ``case`` under ``pack`` from the specification alone."""
    episodes = episodes_of(case, pack)
    months = therapy_month_readings(case)
    outcomes: list[Outcome] = []
    for reading in months:
        outcome = _outcome(case, pack, episodes, reading)
        if outcome not in outcomes:
            outcomes.append(outcome)

    # docs/output.md, threshold: the latest episode that meets the threshold; else the
    # one with the most distinct behaviours, ties to the longest, then the latest.
    meeting = [e for e in episodes if _meets(e, pack)]
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
