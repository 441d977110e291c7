"""Each trajectory step is the assessment of what was known at its time (docs/trajectory.md)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

import stalkrisk
from stalkrisk import Case, strategies

ROOT = Path(__file__).resolve().parents[2]


def dated_cases() -> st.SearchStrategy[Case]:
    # From a burst within two days to years with gaps that part episodes and
    # let old ones fall out of the current history.
    return st.sampled_from([2, 30, 120, 500, 1500]).flatmap(
        lambda span_days: strategies.dated_cases(max_contacts=14, span_days=span_days)
    )


def fired(assessment: stalkrisk.Assessment) -> set[str]:
    return {rule.id for rule in assessment.rules_fired}


@given(dated_cases())
def test_every_step_is_the_assessment_of_the_case_as_known_at_its_time(case: Case) -> None:
    course = stalkrisk.trajectory(case)
    before: set[str] = set()

    for step in course.steps:
        expected = stalkrisk.assess(case.as_of(step.at))
        now = fired(expected)
        assert (step.level, step.urgent) == (expected.level, expected.urgent)
        assert (step.pattern, step.threat, step.fear) == (
            expected.elements.pattern.present,
            expected.elements.threat.present,
            expected.elements.fear.present,
        )
        threshold = expected.threshold
        assert (step.threshold.met, step.threshold.distinct_behaviours) == (
            threshold.met,
            threshold.distinct_behaviours,
        )
        assert (step.threshold.span_days, step.threshold.episodes) == (
            threshold.span_days,
            threshold.episodes,
        )
        assert (set(step.started), set(step.stopped)) == (now - before, before - now)
        before = now


@given(dated_cases())
def test_the_final_step_is_the_assessment_of_the_whole_case(case: Case) -> None:
    final = stalkrisk.trajectory(case, full=True).steps[-1]

    assert final.at == case.assessed_at
    assert final.assessment == stalkrisk.assess(case)


@given(dated_cases())
def test_a_full_trajectory_carries_each_steps_assessment(case: Case) -> None:
    course = stalkrisk.trajectory(case, full=True)

    for step in course.steps:
        assert step.assessment == stalkrisk.assess(case.as_of(step.at))


@given(dated_cases())
def test_steps_are_the_distinct_contact_times_then_assessed_at(case: Case) -> None:
    course = stalkrisk.trajectory(case)

    times = sorted({c.at for c in case.contacts} | {case.assessed_at})
    assert [step.at for step in course.steps] == times
    assert sorted(i for step in course.steps for i in step.added) == sorted(
        c.id for c in case.contacts
    )


def _pack_with_episode_ages() -> stalkrisk.RulePack:
    # The bundled pack with its episode rules testing the age (age_days) instead
    # of the current flag: every episode then differs at every step.
    text = (ROOT / "rules" / "default.yaml").read_text(encoding="utf-8")
    variant = text.replace("{ field: current, eq: true }", "{ field: age_days, lte: 365 }")
    assert variant != text
    folder = Path(tempfile.mkdtemp())
    (folder / "ages.yaml").write_text(variant, encoding="utf-8")
    return stalkrisk.load_rule_pack(folder / "ages.yaml")


AGES = _pack_with_episode_ages()


@settings(max_examples=60)
@given(dated_cases())
def test_steps_match_assessments_under_a_pack_that_tests_episode_ages(case: Case) -> None:
    course = stalkrisk.trajectory(case, rule_pack=AGES)

    for step in course.steps:
        expected = stalkrisk.assess(case.as_of(step.at), rule_pack=AGES)
        assert (step.level, step.urgent) == (expected.level, expected.urgent)
