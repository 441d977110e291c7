"""Hypothesis strategies that generate valid stalkrisk inputs, for property-based tests.

Every strategy here produces values that validate; none is filtered, so they
stay fast and shrink well: fewer contacts, fewer behaviours, earlier codes,
lower fear, no risk factors, times closer together.

    >>> from hypothesis import given
    >>> from stalkrisk.strategies import cases
    >>> @given(cases(max_contacts=5))
    ... def test_grade_is_on_the_ladder(case):
    ...     assert stalkrisk.assess(case).level in stalkrisk.Level

With hypothesis installed, ``st.from_type(stalkrisk.Case)`` (and the other
models) uses these strategies: stalkrisk registers them through hypothesis'
``hypothesis`` entry point, and importing this module registers them too.
Requires the ``hypothesis`` package (``pip install stalkrisk[hypothesis]``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

from ._api import assess
from ._assessment import (
    Action,
    Ages,
    Assessment,
    ElementFinding,
    Elements,
    FiredRule,
    RaiseIf,
    RulePackInfo,
    Threshold,
)
from ._case import (
    Behaviour,
    Boundaries,
    BoundaryWarning,
    Case,
    Channel,
    ClientHistory,
    ClinicalState,
    Contact,
    Fear,
    FearLevel,
    FearReport,
    KnownSince,
    Motive,
    Relationship,
    Target,
)
from ._compare import Comparison, compare
from ._ladder import Level
from ._packmodel import RulePack
from ._registry import default_rule_pack
from ._trajectory import (
    ElementsReached,
    GradeDrop,
    Reached,
    StepThreshold,
    ThresholdCrossing,
    Trajectory,
    TrajectoryRule,
    TrajectoryStep,
    TrajectorySummary,
    trajectory,
)

__all__ = [
    "STALKING_BEHAVIOURS",
    "assessment_times",
    "behaviours",
    "boundaries",
    "cases",
    "cases_at_level",
    "client_histories",
    "contact_lists",
    "contacts",
    "dated_cases",
    "fears",
    "near_threshold_cases",
]

STALKING_BEHAVIOURS: tuple[Behaviour, ...] = tuple(Behaviour)[:10]
"""The ten behaviours that count toward the pattern threshold (seed 000)."""

_EARLIEST = datetime(2000, 1, 1)
_LATEST = datetime(2040, 1, 1)
_SECONDS_PER_DAY = 86_400


def _check(condition: bool, message: str) -> None:
    # Hypothesis' own error for a bad strategy argument, as its strategies raise.
    if not condition:
        raise InvalidArgument(message)


def _codes(allowed: Iterable[Behaviour | str] | None) -> list[Behaviour]:
    if allowed is None:
        return list(Behaviour)
    codes = []
    for code in allowed:
        _check(code in _CODE_VALUES, f"behaviours: {code!r} is not a behaviour code")
        codes.append(Behaviour(code))
    _check(bool(codes), "behaviours must not be empty")
    # Enum order, so that shrinking moves toward the first listed code.
    return sorted(set(codes), key=list(Behaviour).index)


_CODE_VALUES = {*Behaviour, *(b.value for b in Behaviour)}

# How severe a drawn case may be, when no knob fixes it.  Each profile is drawn
# equally often, so generated cases spread over the whole ladder instead of
# piling up at the top (every contact could carry a threat or a weapon), and
# shrinking moves toward the quiet end.
_QUIET, _BOUNDARY, _STALKING, _FEARED, _ANYTHING = range(5)
_PROFILES = (_QUIET, _BOUNDARY, _STALKING, _FEARED, _ANYTHING)
_BOUNDARY_CODES = [Behaviour.GIFT, Behaviour.OUT_OF_SESSION_CONTACT,
                   Behaviour.SOCIAL_MEDIA_CONTACT, Behaviour.THIRD_PARTY_CONTACT]  # fmt: skip
_QUIET_STALKING = [b for b in Behaviour if b.value in {
    "following", "surveillance", "unwanted_approach", "loitering", "unwanted_correspondence",
    "unwanted_calls", "offensive_material", "malicious_gossip", "false_identity"}]  # fmt: skip
# Stalking codes that neither pursue (following, loitering) nor threaten.
_PLAIN_STALKING = [b for b in _QUIET_STALKING if b.value not in {"following", "loitering"}]
_PROFILE_CODES = {
    _QUIET: _BOUNDARY_CODES[:3],  # a current client's crossings, not third parties
    _BOUNDARY: [*_PLAIN_STALKING, *_BOUNDARY_CODES],
    _STALKING: _QUIET_STALKING,
    _FEARED: _QUIET_STALKING,
    _ANYTHING: list(Behaviour),
}


def behaviours(
    *, behaviours: Iterable[Behaviour | str] | None = None
) -> st.SearchStrategy[Behaviour]:
    """One behaviour code, from ``behaviours`` (default: all sixteen)."""
    return st.sampled_from(_codes(behaviours))


def assessment_times() -> st.SearchStrategy[datetime]:
    """Timezone-aware times between 2000 and 2040, in UTC or a whole-quarter-hour offset."""
    offsets = st.integers(min_value=-12 * 4, max_value=14 * 4).map(
        lambda quarters: timezone(timedelta(minutes=15 * quarters))
    )
    return st.datetimes(min_value=_EARLIEST, max_value=_LATEST, timezones=st.just(UTC)) | (
        st.datetimes(min_value=_EARLIEST, max_value=_LATEST, timezones=offsets)
    )


@st.composite
def _contact(
    draw: st.DrawFn,
    *,
    contact_id: str,
    assessed_at: datetime,
    span_seconds: int,
    codes: list[Behaviour],
    max_behaviours: int,
    flags: bool,
    third_parties: bool = True,
) -> Contact:
    most = min(max_behaviours, len(codes))
    shown = draw(st.lists(st.sampled_from(codes), min_size=1, max_size=most, unique=True))
    ago = draw(st.integers(min_value=0, max_value=span_seconds))
    threat = Behaviour.THREAT in shown
    return Contact(
        id=contact_id,
        at=assessed_at - timedelta(seconds=ago),
        behaviours=tuple(shown),
        channel=draw(st.none() | st.sampled_from(Channel)),
        targets=(
            tuple(draw(st.lists(st.sampled_from(Target), min_size=1, max_size=2, unique=True)))
            if third_parties
            else (Target.CLINICIAN,)
        ),
        ongoing=flags and ago == 0 and draw(st.booleans()),
        weapon=flags and draw(st.booleans()),
        specific_threat=flags and threat and draw(st.booleans()),
    )


def contacts(
    *,
    assessed_at: datetime | None = None,
    span_days: float = 60,
    behaviours: Iterable[Behaviour | str] | None = None,
    max_behaviours: int = 3,
    contact_id: str = "c0",
    incident_flags: bool = True,
) -> st.SearchStrategy[Contact]:
    """One contact at most ``span_days`` before ``assessed_at`` (default 2025-01-01 UTC).

    ``incident_flags=False`` keeps ``ongoing``, ``weapon`` and ``specific_threat`` off.
    """
    _check(span_days >= 0, f"span_days={span_days!r} must not be negative")
    _check(max_behaviours >= 1, f"max_behaviours={max_behaviours!r} must be at least 1")
    moment = assessed_at or datetime(2025, 1, 1, tzinfo=UTC)
    _check(moment.tzinfo is not None, "assessed_at must be timezone-aware")
    return _contact(
        contact_id=contact_id,
        assessed_at=moment,
        span_seconds=round(span_days * _SECONDS_PER_DAY),
        codes=_codes(behaviours),
        max_behaviours=max_behaviours,
        flags=incident_flags,
    )


@st.composite
def _contact_list(
    draw: st.DrawFn,
    *,
    min_size: int,
    max_size: int,
    assessed_at: datetime,
    span_seconds: int,
    codes: list[Behaviour],
    max_behaviours: int,
    flags: bool,
) -> tuple[Contact, ...]:
    count = draw(st.integers(min_value=min_size, max_value=max_size))
    return tuple(
        draw(
            _contact(contact_id=f"c{index}", assessed_at=assessed_at, span_seconds=span_seconds,
                     codes=codes, max_behaviours=max_behaviours, flags=flags)
        )
        for index in range(count)
    )  # fmt: skip


def contact_lists(
    *,
    min_size: int = 0,
    max_size: int = 12,
    assessed_at: datetime | None = None,
    span_days: float = 60,
    behaviours: Iterable[Behaviour | str] | None = None,
    max_behaviours: int = 3,
    incident_flags: bool = True,
) -> st.SearchStrategy[tuple[Contact, ...]]:
    """Tuples of contacts with unique ids (``c0``, ``c1``, …), ready for a case.

    The other arguments are those of :func:`contacts`; ``assessed_at`` defaults
    to 2025-01-01 UTC, and every contact falls within ``span_days`` before it.
    """
    _check(0 <= min_size <= max_size, f"need 0 <= {min_size=} <= {max_size=}")
    _check(span_days >= 0, f"span_days={span_days!r} must not be negative")
    _check(max_behaviours >= 1, f"max_behaviours={max_behaviours!r} must be at least 1")
    moment = assessed_at or datetime(2025, 1, 1, tzinfo=UTC)
    _check(moment.tzinfo is not None, "assessed_at must be timezone-aware")
    return _contact_list(
        min_size=min_size,
        max_size=max_size,
        assessed_at=moment,
        span_seconds=round(span_days * _SECONDS_PER_DAY),
        codes=_codes(behaviours),
        max_behaviours=max_behaviours,
        flags=incident_flags,
    )


@st.composite
def _history(
    draw: st.DrawFn,
    *,
    relationship: Relationship | None,
    risk_factors: bool | None,
    assessed_at: datetime,
    protection_order: bool | None,
    motive: bool = True,
) -> ClientHistory:
    relation = relationship or draw(st.sampled_from(Relationship))
    factors: dict[str, Any] = {}
    for name in ("prior_violence", "prior_stalking", "substance_misuse", "weapon_access"):
        factors[name] = draw(st.booleans()) if risk_factors is None else risk_factors
    start = end = None
    if relation in (Relationship.CURRENT, Relationship.FORMER) and draw(st.booleans()):
        start = assessed_at.date() - timedelta(days=draw(st.integers(0, 3_650)))
        if relation is Relationship.FORMER:
            end = start + timedelta(days=draw(st.integers(0, (assessed_at.date() - start).days)))
    order = until = None
    has_order = draw(st.booleans()) if protection_order is None else protection_order
    if has_order:
        order = assessed_at - timedelta(seconds=draw(st.integers(0, 400 * _SECONDS_PER_DAY)))
        if draw(st.booleans()):  # an order with an end, which may have passed
            until = order + timedelta(seconds=draw(st.integers(1, 800 * _SECONDS_PER_DAY)))
    return ClientHistory(
        relationship=relation,
        therapy_start=start,
        therapy_end=end,
        protection_order_since=order,
        protection_order_until=until,
        motive=draw(st.none() | st.sampled_from(Motive)) if motive else None,
        clinical_state=tuple(
            draw(st.lists(st.sampled_from(ClinicalState), max_size=2, unique=True))
        ),
        **factors,
    )


def client_histories(
    *,
    relationship: Relationship | str | None = None,
    risk_factors: bool | None = None,
    protection_order: bool | None = False,
    assessed_at: datetime | None = None,
) -> st.SearchStrategy[ClientHistory]:
    """A client history.

    ``risk_factors`` fixes all four risk factors (prior violence, prior stalking,
    substance misuse, weapon access) to True or False; None draws each.
    ``protection_order`` None draws whether one is in force (default: none).
    """
    moment = assessed_at or datetime(2025, 1, 1, tzinfo=UTC)
    return _history(
        relationship=Relationship(relationship) if relationship else None,
        risk_factors=risk_factors,
        assessed_at=moment,
        protection_order=protection_order,
    )


def fears(*, level: FearLevel | str | None = None) -> st.SearchStrategy[Fear]:
    """A fear report; ``level`` fixes the level."""
    levels = st.just(FearLevel(level)) if level else st.sampled_from(FearLevel)
    return st.builds(Fear, level=levels, family_afraid=st.booleans())


@st.composite
def _boundaries(draw: st.DrawFn, *, assessed_at: datetime, span_seconds: int) -> Boundaries:
    def before() -> datetime:
        return assessed_at - timedelta(seconds=draw(st.integers(0, span_seconds)))

    agreement = before() if draw(st.booleans()) else None
    warnings = tuple(
        BoundaryWarning(at=before(), supervisor=draw(st.booleans()))
        for _ in range(draw(st.integers(0, 2)))
    )
    return Boundaries(agreement_at=agreement, warnings=warnings)


def boundaries(
    *, assessed_at: datetime | None = None, span_days: float = 60
) -> st.SearchStrategy[Boundaries]:
    """Boundaries with an optional agreement and up to two warnings, all before ``assessed_at``."""
    moment = assessed_at or datetime(2025, 1, 1, tzinfo=UTC)
    return _boundaries(assessed_at=moment, span_seconds=round(span_days * _SECONDS_PER_DAY))


@st.composite
def _case(
    draw: st.DrawFn,
    *,
    min_contacts: int,
    max_contacts: int,
    span_days: float,
    codes: list[Behaviour] | None,
    max_behaviours: int,
    relationship: Relationship | None,
    fear: FearLevel | None,
    assessed_at: datetime | None,
    risk_factors: bool | None,
    protection_order: bool | None,
    with_boundaries: bool,
    incident_flags: bool,
) -> Case:
    # The profile decides only what no argument fixes (see _PROFILES).
    profile = draw(st.sampled_from(_PROFILES))
    moment = assessed_at or draw(assessment_times())
    # The quiet profiles keep to a few contacts (a long run is a pattern).
    cap = {_QUIET: 2, _BOUNDARY: 3}.get(profile, max_contacts)
    most = min(max_contacts, max(min_contacts, cap))
    # A crossing needs a contact; fear with a course of conduct (the picture of
    # referral) needs several.
    least = {_QUIET: 1, _FEARED: 4}.get(profile, min_contacts)
    least = min(max(min_contacts, least), most)
    count = draw(st.integers(min_value=least, max_value=most))
    span_seconds = round(span_days * _SECONDS_PER_DAY)
    wild = profile == _ANYTHING
    pool = _PROFILE_CODES[profile] if codes is None else codes
    if codes is None and profile == _STALKING and draw(st.booleans()):
        # A campaign of one behaviour: where definitions of the pattern differ most.
        pool = [draw(st.sampled_from(_QUIET_STALKING))]
    found = [
        draw(
            _contact(
                contact_id=f"c{index}",
                assessed_at=moment,
                span_seconds=span_seconds,
                codes=pool,
                max_behaviours=max_behaviours,
                flags=incident_flags and wild,
                third_parties=wild,
            )
        )
        for index in range(count)
    ]
    if relationship is None and profile == _QUIET:
        relationship = Relationship.CURRENT
    if fear is None and profile < _FEARED:
        fear = FearLevel.NONE
    elif fear is None and profile == _FEARED:
        fear = draw(st.sampled_from([FearLevel.SIGNIFICANT, FearLevel.SEVERE]))
    return Case(
        assessed_at=moment,
        client=draw(
            _history(
                relationship=relationship,
                risk_factors=False if risk_factors is None and not wild else risk_factors,
                assessed_at=moment,
                protection_order=(
                    False if protection_order is None and not wild else protection_order
                ),
                motive=wild,
            )
        ),
        boundaries=(
            draw(_boundaries(assessed_at=moment, span_seconds=span_seconds))
            if with_boundaries and profile not in (_QUIET, _BOUNDARY)
            else Boundaries()
        ),
        contacts=tuple(found),
        fear=draw(fears(level=fear)) if profile >= _FEARED else Fear(level=fear or FearLevel.NONE),
    )


def cases(
    *,
    min_contacts: int = 0,
    max_contacts: int = 12,
    span_days: float = 60,
    behaviours: Iterable[Behaviour | str] | None = None,
    max_behaviours: int = 3,
    relationship: Relationship | str | None = None,
    fear: FearLevel | str | None = None,
    assessed_at: datetime | None = None,
    risk_factors: bool | None = None,
    protection_order: bool | None = None,
    with_boundaries: bool = True,
    incident_flags: bool = True,
    level: Level | str | None = None,
    rule_pack: RulePack | None = None,
) -> st.SearchStrategy[Case]:
    """Whole valid cases.

    Contacts (between ``min_contacts`` and ``max_contacts``) fall within
    ``span_days`` before ``assessed_at`` (drawn from :func:`assessment_times`
    unless fixed), each showing one to ``max_behaviours`` codes from
    ``behaviours``.  ``relationship`` and ``fear`` fix those; ``risk_factors``
    fixes the four history risk factors; ``protection_order`` fixes whether one
    is in force (None draws it); ``with_boundaries=False`` leaves out agreements
    and warnings; ``incident_flags=False`` keeps every contact's ``ongoing``,
    ``weapon`` and ``specific_threat`` off.

    What no argument fixes is drawn from one of five profiles, equally often: a
    current client's boundary crossings; boundary crossings and quiet stalking;
    quiet stalking (half the time a campaign of one behaviour); quiet stalking
    with significant or severe fear; anything (every code, incident flags,
    protection orders, motives, risk factors).  So the grades spread over the
    whole ladder (docs/research.md gives the measured spread), and failing
    examples shrink toward the quiet end.

    ``level`` instead builds cases that grade at that level under ``rule_pack``
    (default: the bundled pack); see :func:`cases_at_level`.
    """
    if level is not None:
        fixed = {
            "behaviours": behaviours, "relationship": relationship, "fear": fear,
            "risk_factors": risk_factors, "protection_order": protection_order,
        }  # fmt: skip
        given = sorted(name for name, value in fixed.items() if value is not None)
        _check(not given, f"level= builds the case itself; leave out {', '.join(given)}")
        return cases_at_level(level, rule_pack=rule_pack, assessed_at=assessed_at)
    _check(rule_pack is None, "rule_pack= goes with level=; without it no pack is used")
    _check(0 <= min_contacts <= max_contacts, f"need 0 <= {min_contacts=} <= {max_contacts=}")
    _check(span_days >= 0, f"span_days={span_days!r} must not be negative")
    _check(max_behaviours >= 1, f"max_behaviours={max_behaviours!r} must be at least 1")
    _check(
        assessed_at is None or assessed_at.tzinfo is not None, "assessed_at must be timezone-aware"
    )
    _check(relationship is None or relationship in _RELATIONSHIPS,
           f"relationship={relationship!r} is not a relationship code")  # fmt: skip
    _check(fear is None or fear in _FEARS, f"fear={fear!r} is not a fear level")
    return _case(
        min_contacts=min_contacts,
        max_contacts=max_contacts,
        span_days=span_days,
        codes=None if behaviours is None else _codes(behaviours),
        max_behaviours=max_behaviours,
        relationship=Relationship(relationship) if relationship else None,
        fear=FearLevel(fear) if fear else None,
        assessed_at=assessed_at,
        risk_factors=risk_factors,
        protection_order=protection_order,
        with_boundaries=with_boundaries,
        incident_flags=incident_flags,
    )


_RELATIONSHIPS = {*Relationship, *(r.value for r in Relationship)}
_FEARS = {*FearLevel, *(f.value for f in FearLevel)}


def _pack_numbers(pack: RulePack) -> tuple[int, float, int, float]:
    """Distinct behaviours, span days, contacts and gap days of ``pack``'s threshold."""
    contacts = pack.parameters.get("pattern_min_contacts")
    return (
        max(int(pack.parameter("pattern_min_distinct_behaviours")), 1),
        pack.parameter("pattern_min_span_days"),
        0 if contacts is None else int(contacts.value),
        pack.parameter("episode_max_gap_days"),
    )


@st.composite
def _episode(
    draw: st.DrawFn, *, pack: RulePack, end: datetime, span_seconds: int, distinct: int
) -> list[Contact]:
    """One episode of plain stalking contacts ending at ``end`` and lasting ``span_seconds``.

    ``distinct`` codes, at least the pack's number of contacts, no gap longer
    than the pack's, so the episode is one course of conduct by construction.
    """
    _, _, least, gap_days = _pack_numbers(pack)
    codes = draw(st.permutations(_PLAIN_STALKING))[:distinct]
    count = max(least, distinct, 2) + draw(st.integers(0, 3))
    start = end - timedelta(seconds=span_seconds)
    # Evenly spread, so no gap is longer than the span over the count (and the pack's gap).
    step = span_seconds / (count - 1)
    _check(step <= gap_days * _SECONDS_PER_DAY, "the pack's episode gap is too short")
    found = []
    for index in range(count):
        at = start + timedelta(seconds=round(step * index)) if index < count - 1 else end
        found.append(Contact(id=f"c{index}", at=at, behaviours=(codes[index % distinct],)))
    return found


@st.composite
def _at_level(
    draw: st.DrawFn, *, level: Level, pack: RulePack, assessed_at: datetime | None
) -> Case:
    moment = assessed_at or draw(assessment_times())
    distinct, span_days, _, _ = _pack_numbers(pack)
    relationship = Relationship.FORMER
    fear = FearLevel.NONE
    found: list[Contact] = []
    last = moment - timedelta(seconds=draw(st.integers(0, 3 * _SECONDS_PER_DAY)))
    if level is Level.REFLECTIVE:
        relationship = Relationship.CURRENT
        code = draw(st.sampled_from(_BOUNDARY_CODES[:3]))
        found = [Contact(id="c0", at=last, behaviours=(code,))]
    elif level is Level.BOUNDARIES:
        found = [Contact(id="c0", at=last, behaviours=(draw(st.sampled_from(_PLAIN_STALKING)),))]
    elif level is not Level.NONE:
        extra = draw(st.integers(0, 30 * _SECONDS_PER_DAY))
        span = round(span_days * _SECONDS_PER_DAY) + extra
        found = draw(_episode(pack=pack, end=last, span_seconds=span, distinct=distinct))
        if level is Level.REFERRAL:
            fear = draw(st.sampled_from([FearLevel.SIGNIFICANT, FearLevel.SEVERE]))
        if level is Level.POLICE:
            found.append(Contact(id="threat", at=last, behaviours=(Behaviour.THREAT,)))
    case = Case(
        assessed_at=moment,
        client=ClientHistory(relationship=relationship),
        contacts=tuple(found),
        fear=Fear(level=fear),
    )
    # Built for the bundled packs' rules; a custom pack may grade a build elsewhere.
    assume(assess(case, rule_pack=pack).level is level)
    return case


def cases_at_level(
    level: Level | str, *, rule_pack: RulePack | None = None, assessed_at: datetime | None = None
) -> st.SearchStrategy[Case]:
    """Cases that grade at ``level`` under ``rule_pack`` (default: the bundled pack).

    Built, not filtered: ``none`` has no contact; ``reflective`` is a current
    client's single gift, out-of-session or social-media contact;
    ``boundaries`` a former client's single stalking contact; ``consultation``
    a former client's course of conduct that just meets the pack's threshold
    (its distinct behaviours, contacts and span, up to 30 days longer);
    ``referral`` the same with significant or severe fear; ``police`` the same
    with a threat.  The builds follow the bundled packs' rules: under a custom
    pack, a build that grades elsewhere is rejected, and if most are, hypothesis
    reports the strategy as unsatisfiable.  Also reached as ``cases(level=...)``.
    """
    _check(level in _LEVELS, f"level={level!r} is not a level code")
    _check(assessed_at is None or assessed_at.tzinfo is not None,
           "assessed_at must be timezone-aware")  # fmt: skip
    return _at_level(
        level=Level(level), pack=rule_pack or default_rule_pack(), assessed_at=assessed_at
    )


@st.composite
def _near_threshold(draw: st.DrawFn, *, pack: RulePack, assessed_at: datetime | None) -> Case:
    moment = assessed_at or draw(assessment_times())
    distinct, span_days, _, _ = _pack_numbers(pack)
    # Within one day of the span threshold, exactly on it a quarter of the time.
    offset = draw(st.just(0) | st.integers(-_SECONDS_PER_DAY * 10**6, _SECONDS_PER_DAY * 10**6))
    span = timedelta(days=span_days) + timedelta(microseconds=offset)
    last = moment - timedelta(seconds=draw(st.integers(0, _SECONDS_PER_DAY)))
    found = draw(_episode(pack=pack, end=last, span_seconds=0, distinct=max(distinct, 2)))
    start = last - span
    count = len(found)
    moved = [
        c.model_copy(update={"at": start + (span * index) / (count - 1)}) if index < count - 1
        else c
        for index, c in enumerate(found)
    ]  # fmt: skip
    return Case(
        assessed_at=moment,
        client=ClientHistory(relationship=draw(st.sampled_from([Relationship.FORMER,
                                                               Relationship.CURRENT]))),
        contacts=tuple(moved),
        fear=draw(fears()),
    )  # fmt: skip


def near_threshold_cases(
    *, rule_pack: RulePack | None = None, assessed_at: datetime | None = None
) -> st.SearchStrategy[Case]:
    """Two-behaviour courses of conduct whose span lies within a day of the pack's threshold.

    The span is the pack's ``pattern_min_span_days`` plus or minus up to one day,
    to the microsecond, and exactly on it a quarter of the time; the episode has
    at least the pack's distinct behaviours (two or more) and contacts, with no
    gap longer than the pack's.  Plain stalking only (no threat, pursuit or
    third party), so the threshold decides the pattern.
    """
    _check(assessed_at is None or assessed_at.tzinfo is not None,
           "assessed_at must be timezone-aware")  # fmt: skip
    return _near_threshold(pack=rule_pack or default_rule_pack(), assessed_at=assessed_at)


_LEVELS = {*Level, *(level.value for level in Level)}


@st.composite
def _dated(draw: st.DrawFn, base: st.SearchStrategy[Case]) -> Case:
    case = draw(base)
    start = min((c.at for c in case.contacts), default=case.assessed_at)
    seconds = max((case.assessed_at - start) // timedelta(seconds=1), 0)
    times = [c.at for c in case.contacts]

    def moment() -> datetime:
        # Often exactly a contact's time: there "known by then" is decided.
        on_a_contact = draw(st.booleans())
        if times and on_a_contact:
            return draw(st.sampled_from(times))
        return start + timedelta(seconds=draw(st.integers(0, seconds)))

    moments = sorted({moment() for _ in range(draw(st.integers(0, 3)))})
    reports = tuple(
        FearReport(at=at, level=draw(st.sampled_from(FearLevel)), family_afraid=draw(st.booleans()))
        for at in moments
    )
    client = case.client
    known = {
        name: moment()
        for name in ("prior_violence", "prior_stalking", "substance_misuse", "weapon_access",
                     "motive", "clinical_state")
        if getattr(client, name) and draw(st.booleans())
    }  # fmt: skip
    return Case.model_validate(
        {
            **dict(case),
            "client": client.model_copy(update={"known_since": KnownSince(**known)}),
            "fear": Fear(reports=reports) if reports else case.fear,
        }
    )


def dated_cases(**options: Any) -> st.SearchStrategy[Case]:
    """Cases whose fear is reported over time and whose risk factors became known later.

    Takes the keywords of :func:`cases`.  Up to three dated fear reports (the
    latest is the fear as of ``assessed_at``; with none, the case's own undated
    fear stays) and ``known_since`` dates for some of the client's risk factors,
    often exactly at a contact's time.  For properties of
    :func:`stalkrisk.trajectory` and :meth:`Case.as_of`.
    """
    return _dated(cases(**options))


def _assessments() -> st.SearchStrategy[Assessment]:
    return cases().map(assess)


def _trajectories() -> st.SearchStrategy[Trajectory]:
    return cases(max_contacts=6).map(trajectory)


def _comparisons() -> st.SearchStrategy[Comparison]:
    return st.tuples(_assessments(), _assessments()).map(lambda pair: compare(*pair))


def _part_of(owner: str) -> Callable[[type], st.SearchStrategy[Any]]:
    def refuse(part: type) -> st.SearchStrategy[Any]:
        raise InvalidArgument(
            f"stalkrisk.{part.__name__} is part of stalkrisk.{owner} and is not drawn on its own: "
            f"draw st.from_type(stalkrisk.{owner}) and take the part from it"
        )

    return refuse


def _register() -> None:
    st.register_type_strategy(Case, cases())
    st.register_type_strategy(Contact, contacts())
    st.register_type_strategy(ClientHistory, client_histories())
    st.register_type_strategy(Fear, fears())
    st.register_type_strategy(Boundaries, boundaries())
    st.register_type_strategy(Behaviour, behaviours())
    st.register_type_strategy(
        BoundaryWarning, st.builds(BoundaryWarning, at=assessment_times(), supervisor=st.booleans())
    )
    st.register_type_strategy(
        FearReport,
        st.builds(FearReport, at=assessment_times(), level=st.sampled_from(FearLevel),
                  family_afraid=st.booleans()),
    )  # fmt: skip
    st.register_type_strategy(KnownSince, dated_cases().map(lambda case: case.client.known_since))
    # Outputs are what the library makes of a case: drawn by assessing one.
    st.register_type_strategy(Assessment, _assessments())
    st.register_type_strategy(Trajectory, _trajectories())
    st.register_type_strategy(Comparison, _comparisons())
    parts: dict[str, tuple[type, ...]] = {
        "Assessment": (Action, Ages, ElementFinding, Elements, FiredRule, RaiseIf, RulePackInfo,
                       Threshold),
        "Trajectory": (ElementsReached, GradeDrop, Reached, StepThreshold, ThresholdCrossing,
                       TrajectoryRule, TrajectoryStep, TrajectorySummary),
    }  # fmt: skip
    for owner, models in parts.items():
        for part in models:
            st.register_type_strategy(part, _part_of(owner))


_register()
