"""trajectory(): one step per contact time, what changed at each, and the summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import at, case, contact

import stalkrisk
from stalkrisk import Level, _registry

ROOT = Path(__file__).resolve().parents[1]


def course(data: dict[str, Any], **options: Any) -> stalkrisk.Trajectory:
    return stalkrisk.trajectory(data, **options)


# Following on day 0, a gift on day 5, following and a letter on day 15: the
# threshold (two behaviours over fourteen days) is crossed on day 15.
CROSSING = case(
    contact("c1", 0, "following"),
    contact("c2", 5, "gift"),
    contact("c3", 15, "following"),
    contact("c4", 15, "unwanted_correspondence"),
    relationship="former",
    assessed_at=20,
)


def test_contacts_at_the_same_instant_form_one_step() -> None:
    steps = course(CROSSING).steps

    assert [step.added for step in steps] == [("c1",), ("c2",), ("c3", "c4"), ()]
    assert [step.index for step in steps] == [0, 1, 2, 3]


def test_the_last_step_is_at_assessed_at_without_contacts() -> None:
    last = course(CROSSING).steps[-1]

    assert (last.at, last.added) == (at(20), ())


def test_a_contact_at_assessed_at_is_the_last_step() -> None:
    data = case(contact("c1", 0, "gift"), contact("c2", 3, "gift"), assessed_at=3)

    steps = course(data).steps

    assert [(step.at, step.added) for step in steps] == [(at(0), ("c1",)), (at(3), ("c2",))]


def test_a_case_without_contacts_has_one_step_at_assessed_at() -> None:
    steps = course(case(assessed_at=3)).steps

    assert [(step.at, step.added, step.level) for step in steps] == [(at(3), (), Level.NONE)]


def test_a_step_names_the_rules_that_started_and_stopped_firing() -> None:
    steps = course(CROSSING).steps

    assert "element.pattern" in steps[2].started
    assert "element.pattern" not in steps[1].started + steps[3].started
    assert steps[0].stopped == ()


def test_the_threshold_crossing_names_the_contacts_that_opened_and_completed_it() -> None:
    crossing = course(CROSSING).summary.threshold

    assert crossing is not None
    assert (crossing.step, crossing.first_contact, crossing.last_contact) == (2, "c1", "c4")
    assert (crossing.distinct_behaviours, crossing.span_days) == (2, 15.0)


def test_a_level_counts_as_reached_when_the_grade_is_at_it_or_higher() -> None:
    # A threat on day 3 jumps from consultation to police: referral is reached then too.
    data = case(contact("c1", 0, "following"), contact("c2", 3, "threat"), relationship="former")

    levels = course(data).summary.levels

    consultation, referral, police = (levels[level] for level in list(Level)[3:])
    assert consultation is not None
    assert consultation.step == 0
    assert referral is not None
    assert referral.contacts == ("c2",)
    assert police is not None
    assert police.step == 1


def test_levels_never_reached_are_none() -> None:
    levels = course(case(contact("c1", 0, "gift"))).summary.levels

    assert levels[Level.POLICE] is None
    assert set(levels) == set(Level) - {Level.NONE}


def test_elements_and_urgent_record_their_first_step() -> None:
    data = case(
        contact("c1", 0, "following"),
        contact("c2", 15, "loitering", weapon=True, ongoing=True),
        assessed_at=15,
    )

    summary = course(data).summary

    assert summary.elements.pattern is not None
    assert summary.elements.pattern.step == 1
    assert summary.elements.fear is None
    assert summary.urgent is not None
    assert summary.urgent.contacts == ("c2",)


def test_fear_reported_later_is_not_applied_to_earlier_steps() -> None:
    data = {**CROSSING, "fear": {"reports": [{"at": at(18).isoformat(), "level": "severe"}]}}

    steps = course(data).steps

    assert [step.fear for step in steps] == [False, False, False, True]
    assert steps[2].level is Level.CONSULTATION
    assert steps[3].level is Level.REFERRAL


def test_a_grade_that_falls_as_windows_expire_is_a_drop_because_time_passed() -> None:
    # Ten calls in one day are a burst; a gift a year later finds it long past.
    burst = [contact(f"b{n}", n / 24, "unwanted_calls") for n in range(10)]
    data = case(*burst, contact("g1", 400, "gift"), relationship="former")

    drops = course(data).summary.drops

    assert [(d.before, d.after, d.reason) for d in drops] == [
        (Level.CONSULTATION, Level.BOUNDARIES, "time_passed")
    ]
    assert "grade.consultation.burst" in drops[0].rules


def test_a_grade_lowered_by_a_later_fear_report_is_a_drop_from_later_information() -> None:
    data = {
        **case(contact("c1", 0, "gift"), contact("c2", 10, "gift"), relationship="former"),
        "fear": {
            "reports": [
                {"at": at(0).isoformat(), "level": "severe"},
                {"at": at(5).isoformat(), "level": "none"},
            ]
        },
    }

    drops = course(data).summary.drops

    assert [(d.step, d.reason) for d in drops] == [(1, "later_information")]


def test_a_grade_lowered_by_the_new_contact_itself_is_a_drop_from_a_new_contact(
    tmp_path: Path,
) -> None:
    # A pack that sends a frail client's quiet contact to referral: following ends that.
    text = (ROOT / "rules" / "default.yaml").read_text(encoding="utf-8")
    start = text.index("  - id: grade.reflective.frail_client")
    end = text.index("then: { level: reflective }", start)
    variant = text[:end] + "then: { level: referral }" + text[end + 27 :]
    path = tmp_path / "frail.yaml"
    path.write_text(variant, encoding="utf-8")
    pack = stalkrisk.load_rule_pack(path)
    data = case(
        contact("c1", 0, "gift"),
        contact("c2", 1, "following"),
        history={"clinical_state": ["dependency"]},
    )

    drops = stalkrisk.trajectory(data, rule_pack=pack).summary.drops

    assert [(d.before, d.after, d.reason) for d in drops] == [
        (Level.REFERRAL, Level.CONSULTATION, "new_contact")
    ]


def test_the_trajectory_round_trips_through_json() -> None:
    result = course(CROSSING, full=True)

    assert stalkrisk.Trajectory.model_validate_json(result.model_dump_json()) == result


def test_steps_carry_no_assessment_unless_asked() -> None:
    assert all(step.assessment is None for step in course(CROSSING).steps)


def test_the_trajectory_describes_every_rule_the_steps_name() -> None:
    result = course(CROSSING)

    named = {rule for step in result.steps for rule in step.started + step.stopped}
    assert set(result.rules) == named
    pattern = result.rules["grade.consultation.pattern"]
    assert (pattern.level, pattern.urgent, pattern.element) == (Level.CONSULTATION, False, None)


def test_the_trajectory_carries_the_packs_level_titles() -> None:
    titles = course(CROSSING).level_titles

    pack = stalkrisk.default_rule_pack()
    assert titles == {spec.code: spec.title for spec in pack.levels}


def test_the_trajectory_records_the_pack_that_decided() -> None:
    pack = stalkrisk.default_rule_pack()

    info = course(CROSSING).rule_pack

    assert (info.name, info.version, info.sha256) == (pack.name, pack.version, pack.sha256)


def test_an_invalid_case_is_refused_as_assess_refuses_it() -> None:
    with pytest.raises(stalkrisk.CaseValidationError):
        stalkrisk.trajectory({"client": {"relationship": "former"}})


def test_the_engine_is_asked_only_about_contents_it_has_not_seen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 300 calls a day apart: counts grow at every step, but once past the pack's
    # numbers they meet the same comparisons, and the engine is not asked again.
    data = case(*(contact(f"c{n}", n, "unwanted_calls") for n in range(300)), relationship="former")
    ruleset = _registry.compiled(stalkrisk.default_rule_pack()).ruleset
    sessions = 0
    original = type(ruleset).session

    def counting(self: Any) -> Any:
        nonlocal sessions
        sessions += 1
        return original(self)

    monkeypatch.setattr(type(ruleset), "session", counting)
    steps = stalkrisk.trajectory(data).steps

    assert len(steps) == 301
    assert 0 < sessions <= 25
