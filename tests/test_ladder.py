"""Levels order as the ladder does, while staying their codes for equality and JSON."""

from __future__ import annotations

import json
import operator
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

import stalkrisk
from stalkrisk import FearLevel, Level, vignettes

LADDER = [Level.NONE, Level.REFLECTIVE, Level.BOUNDARIES, Level.CONSULTATION, Level.REFERRAL,
          Level.POLICE]  # fmt: skip


def test_police_is_above_referral() -> None:
    assert Level.POLICE > Level.REFERRAL
    assert not Level.POLICE < Level.REFERRAL


def test_max_of_levels_is_the_highest_on_the_ladder() -> None:
    assert max(Level.REFERRAL, Level.POLICE, Level.CONSULTATION) is Level.POLICE


def test_min_of_levels_is_the_lowest_on_the_ladder() -> None:
    assert min(Level.REFERRAL, Level.BOUNDARIES, Level.REFLECTIVE) is Level.REFLECTIVE


def test_sorted_levels_follow_the_ladder() -> None:
    assert sorted(reversed(LADDER)) == LADDER


@given(st.lists(st.sampled_from(LADDER)))
def test_sorting_by_level_equals_sorting_by_rank(levels: list[Level]) -> None:
    assert sorted(levels) == sorted(levels, key=lambda level: level.rank)


@given(st.sampled_from(LADDER), st.sampled_from(LADDER))
def test_every_comparison_agrees_with_rank(a: Level, b: Level) -> None:
    for compare in (operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne):
        assert compare(a, b) is compare(a.rank, b.rank)


def test_a_level_compares_with_a_ladder_code_given_as_text() -> None:
    assert Level.POLICE >= "consultation"
    assert operator.lt("referral", Level.POLICE)  # the text on the left, too
    assert not Level.NONE > "reflective"


def test_equality_hash_and_json_stay_those_of_the_code() -> None:
    assert Level.POLICE.value == "police"
    assert operator.eq(Level.POLICE, "police")
    assert {"police": 1}[Level.POLICE] == 1
    assert json.dumps([Level.POLICE]) == '["police"]'


@pytest.mark.parametrize(
    "compare", [operator.lt, operator.le, operator.gt, operator.ge], ids=["lt", "le", "gt", "ge"]
)
@pytest.mark.parametrize("other", ["Jane Doe", 3, None])
def test_comparing_with_anything_else_is_a_type_error_that_does_not_echo_it(
    compare: Callable[[object, object], bool], other: object
) -> None:
    with pytest.raises(TypeError) as caught:
        compare(Level.BOUNDARIES, other)

    assert "Jane" not in str(caught.value)
    assert "compares a Level with a Level or one of its codes" in str(caught.value)


def test_the_grades_of_assessments_sort_by_severity() -> None:
    cases = [vignettes.load(name).case for name in vignettes.names()]
    levels = [stalkrisk.assess(case).level for case in cases]

    assert max(levels) is max(levels, key=lambda level: level.rank)


def test_a_level_never_compares_with_a_fear_level_that_shares_its_code() -> None:
    with pytest.raises(TypeError):
        operator.le(Level.NONE, FearLevel.NONE)


def test_fear_levels_order_from_none_to_severe() -> None:
    assert sorted(reversed(FearLevel)) == [
        FearLevel.NONE, FearLevel.SOME, FearLevel.SIGNIFICANT, FearLevel.SEVERE,
    ]  # fmt: skip
    assert max(FearLevel.SEVERE, FearLevel.SIGNIFICANT) is FearLevel.SEVERE
    assert FearLevel.SOME >= "some"
    assert [level.rank for level in FearLevel] == [0, 1, 2, 3]
