"""Public strategies: they cover the ladder, build levels and boundaries, refuse bad arguments."""

from __future__ import annotations

import collections
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from pydantic import BaseModel

import stalkrisk
from stalkrisk import Case, Level, strategies

ROOT = Path(__file__).resolve().parents[1]
SAI = stalkrisk.load_rule_pack(ROOT / "rules" / "sai.yaml")
DEFAULT = stalkrisk.default_rule_pack()


def one(strategy: st.SearchStrategy[Any]) -> Any:
    """One value drawn from ``strategy`` (``example()`` is for interactive use only)."""
    found: list[Any] = []

    @settings(max_examples=1, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def take(value: Any) -> None:
        found.append(value)

    take()
    return found[0]


def spread(strategy: st.SearchStrategy[Case], count: int = 1_000) -> dict[Level, float]:
    """The share of each level among ``count`` cases drawn with a fixed seed."""
    levels: collections.Counter[Level] = collections.Counter()

    @settings(
        max_examples=count,
        database=None,
        derandomize=True,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def draw(case: Case) -> None:
        levels[stalkrisk.assess(case).level] += 1

    draw()
    total = sum(levels.values())
    return {level: levels[level] / total for level in Level}


@pytest.mark.parametrize(
    "strategy", [strategies.cases(), st.from_type(Case)], ids=["cases", "from_type"]
)
def test_default_cases_spread_over_the_whole_ladder(strategy: st.SearchStrategy[Case]) -> None:
    shares = spread(strategy)

    assert max(shares.values()) <= 0.35, shares
    assert min(shares.values()) >= 0.03, shares


@pytest.mark.parametrize("pack", [DEFAULT, SAI], ids=["default", "sai"])
@pytest.mark.parametrize("level", list(Level), ids=[level.value for level in Level])
def test_cases_at_a_level_grade_at_that_level(level: Level, pack: stalkrisk.RulePack) -> None:
    @settings(max_examples=30, deadline=None)
    @given(strategies.cases(level=level, rule_pack=pack))
    def check(case: Case) -> None:
        assert stalkrisk.assess(case, rule_pack=pack).level is level

    check()


def test_cases_at_a_level_are_built_without_rejections() -> None:
    # Built for the bundled packs: hypothesis would fail a strategy that rejects most draws.
    @settings(max_examples=100, deadline=None, suppress_health_check=[])
    @given(strategies.cases_at_level("referral"))
    def check(case: Case) -> None:
        assert case.fear.level in (stalkrisk.FearLevel.SIGNIFICANT, stalkrisk.FearLevel.SEVERE)

    check()


@pytest.mark.parametrize("pack", [DEFAULT, SAI], ids=["default", "sai"])
def test_near_threshold_cases_lie_within_a_day_of_the_span_threshold(
    pack: stalkrisk.RulePack,
) -> None:
    minimum = timedelta(days=pack.parameter("pattern_min_span_days"))

    @settings(max_examples=100, deadline=None)
    @given(strategies.near_threshold_cases(rule_pack=pack))
    def check(case: Case) -> None:
        times = sorted(c.at for c in case.contacts)
        span = times[-1] - times[0]
        assert abs(span - minimum) <= timedelta(days=1)
        result = stalkrisk.assess(case, rule_pack=pack)
        assert result.threshold.met == (span >= minimum)
        assert result.threshold.distinct_behaviours >= 2

    check()


def test_near_threshold_cases_include_the_exact_boundary() -> None:
    exact = st.one_of(strategies.near_threshold_cases())
    found = []

    @settings(max_examples=200, database=None, derandomize=True, deadline=None)
    @given(exact)
    def collect(case: Case) -> None:
        times = sorted(c.at for c in case.contacts)
        found.append(times[-1] - times[0] == timedelta(days=14))

    collect()
    assert any(found)


@given(strategies.contact_lists(min_size=2, max_size=20))
def test_contact_lists_have_unique_ids(contacts: tuple[stalkrisk.Contact, ...]) -> None:
    ids = [c.id for c in contacts]

    assert len(set(ids)) == len(ids) >= 2


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: strategies.cases(level="stalked"), "not a level"),
        (lambda: strategies.cases(level="police", fear="none"), "leave out fear"),
        (lambda: strategies.cases(rule_pack=DEFAULT), "goes with level="),
        (lambda: strategies.cases(fear="terrified"), "not a fear level"),
        (lambda: strategies.cases(relationship="friend"), "not a relationship"),
        (lambda: strategies.contacts(behaviours=["stalked"]), "not a behaviour code"),
        (lambda: strategies.contact_lists(min_size=3, max_size=2), "min_size=3"),
    ],
)
def test_bad_strategy_arguments_raise_invalid_argument(call: Any, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        call()


def test_every_strategy_takes_the_behaviour_knob_by_the_same_name() -> None:
    codes = ["gift"]

    for strategy in (
        strategies.behaviours(behaviours=codes),
        strategies.contacts(behaviours=codes),
        strategies.contact_lists(behaviours=codes),
        strategies.cases(behaviours=codes),
        strategies.dated_cases(behaviours=codes),
    ):
        assert one(strategy) is not None


PARTS = {
    "Assessment": ["Action", "Ages", "ElementFinding", "Elements", "FiredRule", "RaiseIf",
                   "RulePackInfo", "Threshold"],
    "Trajectory": ["ElementsReached", "GradeDrop", "Reached", "StepThreshold",
                   "ThresholdCrossing", "TrajectoryRule", "TrajectoryStep", "TrajectorySummary"],
}  # fmt: skip
OWNER = {part: owner for owner, parts in PARTS.items() for part in parts}


def _public_models() -> list[type[BaseModel]]:
    found = (getattr(stalkrisk, name) for name in stalkrisk.__all__)
    return [m for m in found if isinstance(m, type) and issubclass(m, BaseModel)]


@pytest.mark.parametrize(
    "model", [m for m in _public_models() if m.__name__ not in OWNER], ids=lambda m: m.__name__
)
def test_from_type_draws_every_public_input_and_output_model(model: type[BaseModel]) -> None:
    assert isinstance(one(st.from_type(model)), model)


@pytest.mark.parametrize("part", sorted(OWNER))
def test_from_type_of_a_part_of_an_output_says_where_to_get_it(part: str) -> None:
    with pytest.raises(InvalidArgument, match=f"part of stalkrisk.{OWNER[part]}"):
        one(st.from_type(getattr(stalkrisk, part)))
