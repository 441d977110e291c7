"""The vignette second_behaviour_on_day_fifteen, re-assessed over time with stalkrisk.trajectory.

Its point is the moment the threshold is crossed, and that fear reported after that
moment is not read back into the earlier days.
"""

from __future__ import annotations

import stalkrisk
from stalkrisk import vignettes

NAME = "second_behaviour_on_day_fifteen"


def _trajectory() -> stalkrisk.Trajectory:
    return stalkrisk.trajectory(vignettes.load(NAME).case)


def test_the_grade_rises_step_by_step_to_referral() -> None:
    steps = _trajectory().steps

    assert [(s.added, s.level.value) for s in steps] == [
        (("w1",), "boundaries"),
        (("w2",), "boundaries"),
        (("w3",), "consultation"),
        (("w4",), "referral"),
        ((), "referral"),
    ]


def test_the_threshold_is_crossed_by_the_first_call_just_past_fourteen_days() -> None:
    crossing = _trajectory().summary.threshold

    assert crossing is not None
    assert (crossing.step, crossing.first_contact, crossing.last_contact) == (2, "w1", "w3")
    assert crossing.distinct_behaviours == 2
    assert 14 < crossing.span_days < 14.1


def test_one_behaviour_before_the_crossing_does_not_meet_the_threshold() -> None:
    before = _trajectory().steps[:2]

    assert [s.threshold.distinct_behaviours for s in before] == [1, 1]
    assert not any(s.threshold.met or s.pattern for s in before)


def test_the_crossing_is_what_raises_the_grade() -> None:
    step = _trajectory().steps[2]

    assert "element.pattern" in step.started
    assert "grade.consultation.pattern" in step.started


def test_fear_reported_after_the_crossing_is_not_read_into_earlier_steps() -> None:
    result = _trajectory()
    fear = result.summary.elements.fear

    assert [s.fear for s in result.steps] == [False, False, False, True, True]
    assert fear is not None
    assert fear.contacts == ("w4",)
    assert stalkrisk.assess(vignettes.load(NAME).case).elements.fear.present


def test_the_final_step_is_the_assessment_of_the_whole_case() -> None:
    case = vignettes.load(NAME).case
    last = stalkrisk.trajectory(case, full=True).steps[-1]

    assert last.assessment == stalkrisk.assess(case)
    assert last.at == case.assessed_at
