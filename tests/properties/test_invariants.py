"""The invariants of docs/invariants.md, as property tests over generated cases."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

import stalkrisk
from stalkrisk import Behaviour, Case, Contact, FearLevel, Level, Motive
from stalkrisk.strategies import (
    STALKING_BEHAVIOURS,
    assessment_times,
    cases,
    contacts,
    dated_cases,
)

PACK = stalkrisk.default_rule_pack()
RULES = {rule.id: rule for rule in PACK.rules}
RISK_FACTORS = ("prior_violence", "prior_stalking", "substance_misuse", "weapon_access")
THREATS = {Behaviour.THREAT, Behaviour.PHYSICAL_VIOLENCE, Behaviour.PROPERTY_DAMAGE}


def grade(case: Case) -> int:
    return stalkrisk.assess(case).level.rank


def without_assessed_at(case: Case) -> str:
    data = stalkrisk.assess(case).model_dump(mode="json")
    del data["assessed_at"]
    return repr(data)


def shifted(case: Case, delta: timedelta, *, days: int = 0) -> Case:
    """Every timestamp moved by ``delta``; therapy dates by ``days``."""
    client = case.client
    order = client.protection_order_since
    until = client.protection_order_until
    boundaries = case.boundaries
    return case.model_copy(
        update={
            "assessed_at": case.assessed_at + delta,
            "contacts": tuple(c.model_copy(update={"at": c.at + delta}) for c in case.contacts),
            "boundaries": boundaries.model_copy(
                update={
                    "agreement_at": boundaries.agreement_at + delta
                    if boundaries.agreement_at
                    else None,
                    "warnings": tuple(
                        w.model_copy(update={"at": w.at + delta}) for w in boundaries.warnings
                    ),
                }
            ),
            "client": client.model_copy(
                update={
                    "protection_order_since": order + delta if order else None,
                    "protection_order_until": until + delta if until else None,
                    "therapy_start": client.therapy_start + timedelta(days=days)
                    if client.therapy_start
                    else None,
                    "therapy_end": client.therapy_end + timedelta(days=days)
                    if client.therapy_end
                    else None,
                    "known_since": client.known_since.model_copy(
                        update={
                            name: known + delta
                            for name, known in client.known_since
                            if known is not None
                        }
                    ),
                }
            ),
            "fear": case.fear.model_copy(
                update={
                    "reports": tuple(
                        r.model_copy(update={"at": r.at + delta}) for r in case.fear.reports
                    )
                }
            ),
        }
    )


# --- determinism, order, time ------------------------------------------------------


@given(cases())
def test_the_same_case_gives_byte_identical_json(case: Case) -> None:
    assert stalkrisk.assess(case).model_dump_json() == stalkrisk.assess(case).model_dump_json()


@given(st.data(), cases(min_contacts=2))
def test_contact_order_does_not_matter(data: st.DataObject, case: Case) -> None:
    order = data.draw(st.permutations(case.contacts))
    shuffled = case.model_copy(update={"contacts": tuple(order)})

    assert stalkrisk.assess(shuffled).model_dump_json() == stalkrisk.assess(case).model_dump_json()


@given(dated_cases(), st.integers(min_value=-3_000, max_value=3_000))
def test_shifting_every_time_by_whole_days_does_not_matter(case: Case, days: int) -> None:
    moved = shifted(case, timedelta(days=days), days=days)

    assert without_assessed_at(moved) == without_assessed_at(case)


@given(
    dated_cases(),
    st.timedeltas(min_value=timedelta(days=-3_000), max_value=timedelta(days=3_000)),
)
def test_shifting_every_timestamp_by_any_amount_does_not_matter(
    case: Case, delta: timedelta
) -> None:
    # Therapy dates are calendar days; they only shift by whole days (see above).
    undated = case.model_copy(
        update={
            "client": case.client.model_copy(update={"therapy_start": None, "therapy_end": None})
        }
    )

    assert without_assessed_at(shifted(undated, delta)) == without_assessed_at(undated)


# --- monotonicity ---------------------------------------------------------------------


@given(st.data(), cases())
def test_adding_a_contact_never_lowers_the_grade(data: st.DataObject, case: Case) -> None:
    extra = data.draw(contacts(assessed_at=case.assessed_at, span_days=400, contact_id="extra"))
    more = case.model_copy(update={"contacts": (*case.contacts, extra)})

    assert grade(more) >= grade(case)


@given(st.data(), cases(min_contacts=1))
def test_adding_a_behaviour_to_a_contact_never_lowers_the_grade(
    data: st.DataObject, case: Case
) -> None:
    index = data.draw(st.integers(0, len(case.contacts) - 1))
    target = case.contacts[index]
    missing = [b for b in Behaviour if b not in target.behaviours]
    added = data.draw(st.sampled_from(missing))
    changed = target.model_copy(update={"behaviours": (*target.behaviours, added)})
    more = case.model_copy(
        update={"contacts": tuple(changed if c is target else c for c in case.contacts)}
    )

    assert grade(more) >= grade(case)


@given(st.data(), cases())
def test_raising_fear_never_lowers_the_grade(data: st.DataObject, case: Case) -> None:
    levels = list(FearLevel)
    higher = data.draw(st.sampled_from(levels[levels.index(case.fear.level) :]))
    afraid = data.draw(st.booleans()) or case.fear.family_afraid
    more = case.model_copy(
        update={"fear": case.fear.model_copy(update={"level": higher, "family_afraid": afraid})}
    )

    assert grade(more) >= grade(case)


@given(st.data(), cases(risk_factors=False))
def test_setting_a_risk_factor_never_lowers_the_grade(data: st.DataObject, case: Case) -> None:
    factor = data.draw(st.sampled_from(RISK_FACTORS))
    more = case.model_copy(update={"client": case.client.model_copy(update={factor: True})})

    assert grade(more) >= grade(case)


# Motives from least to most worrying (docs/rules.md, "Decisions in 1.1.0").
MOTIVES: list[Motive | None] = [
    None,
    Motive.UNKNOWN,
    Motive.INTIMACY_SEEKING,
    Motive.INCOMPETENT,
    Motive.REJECTED,
    Motive.RESENTFUL,
    Motive.PREDATORY,
]


@given(st.data(), cases(min_contacts=1))
def test_adding_an_earlier_intrusion_never_lowers_the_grade(
    data: st.DataObject, case: Case
) -> None:
    first = min(c.at for c in case.contacts)
    earlier = data.draw(
        contacts(
            assessed_at=first,
            span_days=800,
            behaviours=STALKING_BEHAVIOURS,
            contact_id="earlier",
        )
    )
    more = case.model_copy(update={"contacts": (earlier, *case.contacts)})

    assert grade(more) >= grade(case)


@given(st.data(), cases())
def test_a_worse_motive_never_lowers_the_grade(data: st.DataObject, case: Case) -> None:
    worse = data.draw(st.sampled_from(MOTIVES[MOTIVES.index(case.client.motive) :]))
    more = case.model_copy(update={"client": case.client.model_copy(update={"motive": worse})})

    assert grade(more) >= grade(case)


@given(cases(risk_factors=False))
def test_prior_violence_never_lowers_the_grade(case: Case) -> None:
    more = case.model_copy(
        update={"client": case.client.model_copy(update={"prior_violence": True})}
    )

    assert grade(more) >= grade(case)


@given(cases(span_days=800), st.integers(min_value=0, max_value=4_000), st.integers(0, 86_399))
def test_time_passing_without_contact_never_raises_the_grade(
    case: Case, days: int, seconds: int
) -> None:
    later = case.model_copy(
        update={"assessed_at": case.assessed_at + timedelta(days=days, seconds=seconds)}
    )
    result, after = stalkrisk.assess(case), stalkrisk.assess(later)

    assert after.level.rank <= result.level.rank
    assert after.urgent <= result.urgent


# --- safety floors ----------------------------------------------------------------------


def breaches(case: Case, contact: Contact) -> bool:
    since, until = case.client.protection_order_since, case.client.protection_order_until
    return since is not None and since <= contact.at and (until is None or contact.at < until)


@given(cases(min_contacts=1))
def test_threat_violence_damage_weapon_or_breach_gives_police(case: Case) -> None:
    # The generated contacts all lie within the last year (span_days=60): none is history.
    dangerous = any(
        THREATS.intersection(c.behaviours) or c.weapon or breaches(case, c) for c in case.contacts
    )
    result = stalkrisk.assess(case)

    assert result.level is Level.POLICE or not dangerous
    assert result.elements.threat.present == dangerous


@given(cases())
def test_reflective_never_appears_with_threat_fear_or_pattern(case: Case) -> None:
    result = stalkrisk.assess(case)
    elements = result.elements

    if result.level.rank <= Level.REFLECTIVE.rank:
        assert not elements.threat.present
        assert not elements.fear.present
        assert not elements.pattern.present


# --- threshold exactness ----------------------------------------------------------------

SPAN = timedelta(days=float(PACK.parameter("pattern_min_span_days")))
PAIRS = st.lists(st.sampled_from(STALKING_BEHAVIOURS), min_size=2, max_size=2, unique=True)


def _pair_case(start: datetime, first: Behaviour, second: Behaviour, span: timedelta) -> Case:
    return stalkrisk.parse_case(
        {
            "assessed_at": (start + SPAN + timedelta(days=1)).isoformat(),
            "client": {"relationship": "current"},
            "contacts": [
                {"id": "a", "at": start.isoformat(), "behaviours": [first.value]},
                {"id": "b", "at": (start + span).isoformat(), "behaviours": [second.value]},
            ],
        }
    )


@given(PAIRS, assessment_times())
def test_pattern_holds_at_exactly_the_configured_span(
    pair: list[Behaviour], start: datetime
) -> None:
    result = stalkrisk.assess(_pair_case(start, pair[0], pair[1], SPAN))

    assert result.elements.pattern.present
    assert result.threshold.span_days == SPAN / timedelta(days=1)


@given(PAIRS, assessment_times())
def test_pattern_fails_one_second_short_of_the_span(pair: list[Behaviour], start: datetime) -> None:
    result = stalkrisk.assess(_pair_case(start, pair[0], pair[1], SPAN - timedelta(seconds=1)))

    assert not result.elements.pattern.present


# --- explanation integrity --------------------------------------------------------------


@given(cases())
def test_every_cited_id_is_a_contact_id_of_the_case(case: Case) -> None:
    result = stalkrisk.assess(case)
    ids = {c.id for c in case.contacts}
    cited = set(result.threshold.course_of_conduct)
    cited.update(*(getattr(result.elements, e).evidence for e in ("pattern", "threat", "fear")))
    cited.update(*(rule.evidence for rule in result.rules_fired))

    assert cited <= ids


@given(cases())
def test_every_fired_rule_exists_in_the_pack(case: Case) -> None:
    assert {rule.id for rule in stalkrisk.assess(case).rules_fired} <= set(RULES)


@given(cases())
def test_grade_is_the_highest_level_set_by_a_fired_rule(case: Case) -> None:
    result = stalkrisk.assess(case)
    levels = [level for r in result.rules_fired if (level := RULES[r.id].level) is not None]

    assert result.level == max(levels, key=lambda lv: lv.rank, default=Level.NONE)
    assert result.urgent == any(RULES[r.id].urgent for r in result.rules_fired)


# --- JSON round trips -------------------------------------------------------------------


@given(cases())
def test_cases_round_trip_through_json(case: Case) -> None:
    assert stalkrisk.parse_case(case.model_dump_json()) == case


@given(cases())
def test_assessments_round_trip_through_json(case: Case) -> None:
    result = stalkrisk.assess(case)

    assert stalkrisk.Assessment.model_validate_json(result.model_dump_json()) == result


@given(st.from_type(Case))
def test_from_type_generates_valid_cases(case: Case) -> None:
    assert stalkrisk.parse_case(case.model_dump(mode="json")) == case
