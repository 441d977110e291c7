"""What was known when: dated fear reports, dated risk factors and ``Case.as_of``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from builders import at, case, contact

import stalkrisk
from stalkrisk import FearLevel, Relationship


def reports(*entries: tuple[float, str]) -> dict[str, Any]:
    return {"reports": [{"at": at(day).isoformat(), "level": level} for day, level in entries]}


def with_fear(data: dict[str, Any], fear: dict[str, Any]) -> stalkrisk.Case:
    return stalkrisk.parse_case({**data, "fear": fear})


def problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        stalkrisk.parse_case(data)
    return [(p.loc, p.type) for p in caught.value.problems]


BASE = case(contact("c1", 0, "gift"), contact("c2", 10, "following"), assessed_at=20)


# --- dated fear reports ----------------------------------------------------------------------


def test_the_latest_fear_report_is_the_fear_as_of_assessed_at() -> None:
    parsed = with_fear(BASE, reports((12, "severe"), (5, "some")))

    assert parsed.fear.level is FearLevel.SEVERE


def test_a_level_given_beside_reports_must_match_the_latest_report() -> None:
    data = {**BASE, "fear": {"level": "none", **reports((5, "some"))}}

    assert problems(data) == [("fear.level", "inconsistent")]


def test_two_fear_reports_at_the_same_time_are_refused() -> None:
    data = {**BASE, "fear": reports((5, "some"), (5, "severe"))}

    assert problems(data) == [("fear.reports", "inconsistent")]


def test_a_fear_report_after_assessed_at_is_refused_with_its_path() -> None:
    data = {**BASE, "fear": reports((5, "some"), (25, "severe"))}

    assert problems(data) == [("fear.reports.1.at", "inconsistent")]


def test_a_case_with_fear_reports_round_trips_through_json() -> None:
    parsed = with_fear(BASE, reports((5, "some"), (12, "severe")))

    assert stalkrisk.parse_case(parsed.model_dump_json()) == parsed


def test_with_fear_on_dated_reports_adds_a_report_at_assessed_at() -> None:
    parsed = with_fear(BASE, reports((5, "some")))

    changed = parsed.with_fear("severe")

    assert [(r.at, r.level) for r in changed.fear.reports] == [
        (at(5), FearLevel.SOME),
        (at(20), FearLevel.SEVERE),
    ]
    assert changed.fear.level is FearLevel.SEVERE


# --- dated risk factors ----------------------------------------------------------------------


def test_a_known_since_date_for_a_factor_that_is_not_set_is_refused() -> None:
    data = case(
        contact("c1", 0, "gift"), history={"known_since": {"weapon_access": at(0).isoformat()}}
    )

    assert problems(data) == [("client.known_since.weapon_access", "inconsistent")]


def test_a_known_since_date_after_assessed_at_is_refused() -> None:
    data = case(
        contact("c1", 0, "gift"),
        history={"weapon_access": True, "known_since": {"weapon_access": at(30).isoformat()}},
    )

    assert problems(data) == [("client.known_since.weapon_access", "inconsistent")]


# --- as_of ------------------------------------------------------------------------------------


def test_as_of_assessed_at_is_the_case_itself() -> None:
    parsed = with_fear(BASE, reports((5, "some")))

    assert parsed.as_of(parsed.assessed_at) == parsed


def test_as_of_keeps_only_the_contacts_up_to_and_including_that_time() -> None:
    parsed = stalkrisk.parse_case(BASE)

    assert [c.id for c in parsed.as_of(at(10)).contacts] == ["c1", "c2"]
    assert [c.id for c in parsed.as_of(at(9)).contacts] == ["c1"]
    assert parsed.as_of(at(9)).assessed_at == at(9)


def test_as_of_uses_the_fear_reported_by_then() -> None:
    parsed = with_fear(BASE, reports((5, "some"), (12, "severe")))

    assert parsed.as_of(at(4)).fear.level is FearLevel.NONE
    assert parsed.as_of(at(5)).fear.level is FearLevel.SOME
    assert parsed.as_of(at(15)).fear.level is FearLevel.SEVERE


def test_an_undated_fear_counts_only_at_assessed_at() -> None:
    parsed = stalkrisk.parse_case({**BASE, "fear": {"level": "severe"}})

    assert parsed.as_of(at(19)).fear.level is FearLevel.NONE
    assert parsed.as_of(at(20)).fear.level is FearLevel.SEVERE


def test_as_of_leaves_out_risk_factors_not_yet_known() -> None:
    data = case(
        contact("c1", 0, "gift"),
        assessed_at=20,
        history={"weapon_access": True, "prior_violence": True,
                 "known_since": {"weapon_access": at(10).isoformat()}},
    )  # fmt: skip
    parsed = stalkrisk.parse_case(data)

    before, after = parsed.as_of(at(9)).client, parsed.as_of(at(10)).client
    assert (before.weapon_access, before.known_since.weapon_access) == (False, None)
    assert before.prior_violence  # no date: known all along
    assert (after.weapon_access, after.known_since.weapon_access) == (True, at(10))


def test_as_of_leaves_out_later_warnings_agreement_and_protection_order() -> None:
    data = case(
        contact("c1", 0, "gift"),
        assessed_at=20,
        boundaries={
            "agreement_at": at(6).isoformat(),
            "warnings": [{"at": at(3).isoformat()}, {"at": at(8).isoformat()}],
        },
        history={"protection_order_since": at(7).isoformat()},
    )
    parsed = stalkrisk.parse_case(data)

    early = parsed.as_of(at(5))
    assert [w.at for w in early.boundaries.warnings] == [at(3)]
    assert early.boundaries.agreement_at is None
    assert early.client.protection_order_since is None
    assert parsed.as_of(at(7)).client.protection_order_since == at(7)


def test_a_former_client_was_a_current_client_before_therapy_ended() -> None:
    data = case(
        contact("c1", 0, "gift"),
        assessed_at=20,
        relationship="former",
        history={"therapy_start": "2024-01-10", "therapy_end": at(10).date().isoformat()},
    )
    parsed = stalkrisk.parse_case(data)

    during, after = parsed.as_of(at(5)).client, parsed.as_of(at(11)).client
    assert (during.relationship, during.therapy_end) == (Relationship.CURRENT, None)
    assert (after.relationship, after.therapy_end) == (Relationship.FORMER, at(10).date())


def test_a_client_was_prospective_before_therapy_started() -> None:
    data = case(
        contact("c1", 0, "gift"),
        assessed_at=20,
        history={"therapy_start": at(10).date().isoformat()},
    )

    client = stalkrisk.parse_case(data).as_of(at(5)).client

    assert (client.relationship, client.therapy_start) == (Relationship.PROSPECTIVE, None)


def test_as_of_a_time_after_assessed_at_is_refused() -> None:
    parsed = stalkrisk.parse_case(BASE)

    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        parsed.as_of(at(21))

    assert [(p.loc, p.type) for p in caught.value.problems] == [("at", "after_assessed_at")]


def test_as_of_a_time_without_a_zone_is_refused() -> None:
    parsed = stalkrisk.parse_case(BASE)

    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        parsed.as_of(datetime(2025, 1, 10))

    assert [(p.loc, p.type) for p in caught.value.problems] == [("at", "timezone_aware")]
