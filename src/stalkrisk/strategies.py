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

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

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

__all__ = [
    "STALKING_BEHAVIOURS",
    "assessment_times",
    "behaviours",
    "boundaries",
    "cases",
    "client_histories",
    "contacts",
    "dated_cases",
    "fears",
]

STALKING_BEHAVIOURS: tuple[Behaviour, ...] = tuple(Behaviour)[:10]
"""The ten behaviours that count toward the pattern threshold (seed 000)."""

_EARLIEST = datetime(2000, 1, 1)
_LATEST = datetime(2040, 1, 1)
_SECONDS_PER_DAY = 86_400


def _check(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _codes(allowed: Iterable[Behaviour | str] | None) -> list[Behaviour]:
    if allowed is None:
        return list(Behaviour)
    codes = [Behaviour(code) for code in allowed]
    _check(bool(codes), "allowed behaviours must not be empty")
    # Enum order, so that shrinking moves toward the first listed code.
    return sorted(set(codes), key=list(Behaviour).index)


def behaviours(*, allowed: Iterable[Behaviour | str] | None = None) -> st.SearchStrategy[Behaviour]:
    """One behaviour code, from ``allowed`` (default: all sixteen)."""
    return st.sampled_from(_codes(allowed))


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
) -> Contact:
    shown = draw(st.lists(st.sampled_from(codes), min_size=1, max_size=max_behaviours, unique=True))
    ago = draw(st.integers(min_value=0, max_value=span_seconds))
    threat = Behaviour.THREAT in shown
    return Contact(
        id=contact_id,
        at=assessed_at - timedelta(seconds=ago),
        behaviours=tuple(shown),
        channel=draw(st.none() | st.sampled_from(Channel)),
        targets=tuple(draw(st.lists(st.sampled_from(Target), min_size=1, max_size=2, unique=True))),
        ongoing=flags and ago == 0 and draw(st.booleans()),
        weapon=flags and draw(st.booleans()),
        specific_threat=flags and threat and draw(st.booleans()),
    )


def contacts(
    *,
    assessed_at: datetime | None = None,
    span_days: float = 60,
    allowed_behaviours: Iterable[Behaviour | str] | None = None,
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
        codes=_codes(allowed_behaviours),
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
        motive=draw(st.none() | st.sampled_from(Motive)),
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
    codes: list[Behaviour],
    max_behaviours: int,
    relationship: Relationship | None,
    fear: FearLevel | None,
    assessed_at: datetime | None,
    risk_factors: bool | None,
    protection_order: bool | None,
    with_boundaries: bool,
    incident_flags: bool,
) -> Case:
    moment = assessed_at or draw(assessment_times())
    count = draw(st.integers(min_value=min_contacts, max_value=max_contacts))
    span_seconds = round(span_days * _SECONDS_PER_DAY)
    found = [
        draw(
            _contact(
                contact_id=f"c{index}",
                assessed_at=moment,
                span_seconds=span_seconds,
                codes=codes,
                max_behaviours=max_behaviours,
                flags=incident_flags,
            )
        )
        for index in range(count)
    ]
    return Case(
        assessed_at=moment,
        client=draw(
            _history(
                relationship=relationship,
                risk_factors=risk_factors,
                assessed_at=moment,
                protection_order=protection_order,
            )
        ),
        boundaries=(
            draw(_boundaries(assessed_at=moment, span_seconds=span_seconds))
            if with_boundaries
            else Boundaries()
        ),
        contacts=tuple(found),
        fear=draw(fears(level=fear)),
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
) -> st.SearchStrategy[Case]:
    """Whole valid cases.

    Contacts (between ``min_contacts`` and ``max_contacts``) fall within
    ``span_days`` before ``assessed_at`` (drawn from :func:`assessment_times`
    unless fixed), each showing one to ``max_behaviours`` codes from
    ``behaviours`` (default: all).  ``relationship`` and ``fear`` fix those;
    ``risk_factors`` fixes the four history risk factors; ``protection_order``
    fixes whether one is in force (None draws it); ``with_boundaries=False``
    leaves out agreements and warnings; ``incident_flags=False`` keeps every
    contact's ``ongoing``, ``weapon`` and ``specific_threat`` off.
    """
    _check(0 <= min_contacts <= max_contacts, f"need 0 <= {min_contacts=} <= {max_contacts=}")
    _check(span_days >= 0, f"span_days={span_days!r} must not be negative")
    _check(max_behaviours >= 1, f"max_behaviours={max_behaviours!r} must be at least 1")
    _check(
        assessed_at is None or assessed_at.tzinfo is not None, "assessed_at must be timezone-aware"
    )
    return _case(
        min_contacts=min_contacts,
        max_contacts=max_contacts,
        span_days=span_days,
        codes=_codes(behaviours),
        max_behaviours=max_behaviours,
        relationship=Relationship(relationship) if relationship else None,
        fear=FearLevel(fear) if fear else None,
        assessed_at=assessed_at,
        risk_factors=risk_factors,
        protection_order=protection_order,
        with_boundaries=with_boundaries,
        incident_flags=incident_flags,
    )


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


def _register() -> None:
    st.register_type_strategy(Case, cases())
    st.register_type_strategy(Contact, contacts())
    st.register_type_strategy(ClientHistory, client_histories())
    st.register_type_strategy(Fear, fears())
    st.register_type_strategy(Boundaries, boundaries())
    st.register_type_strategy(Behaviour, behaviours())


_register()
