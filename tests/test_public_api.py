"""The public surface is exactly what `__all__` lists, and it is typed."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis.errors import InvalidArgument

import stalkrisk
import stalkrisk.strategies


def _public_names(module: object) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not inspect.ismodule(value)
        and name not in {"annotations", "TYPE_CHECKING"}
    }


def test_stalkrisk_all_lists_exactly_the_public_names() -> None:
    assert set(stalkrisk.__all__) == _public_names(stalkrisk) | {"__version__"}


def test_strategies_all_lists_exactly_the_public_names() -> None:
    public = {
        name
        for name in _public_names(stalkrisk.strategies)
        if name == "STALKING_BEHAVIOURS"
        or getattr(getattr(stalkrisk.strategies, name), "__module__", None)
        == "stalkrisk.strategies"
    }

    assert set(stalkrisk.strategies.__all__) == public


def test_exported_names_show_the_public_module() -> None:
    assert stalkrisk.Case.__module__ == "stalkrisk"
    assert stalkrisk.assess.__module__ == "stalkrisk"
    assert stalkrisk.bundled_packs.__module__ == "stalkrisk"


def test_rule_packs_load_from_data_and_write_back_through_the_public_api() -> None:
    assert {"RulePack", "bundled_packs", "default_rule_pack", "load_rule_pack"} <= set(
        stalkrisk.__all__
    )
    for method in ("from_text", "with_parameters", "to_dict", "to_yaml"):
        assert callable(getattr(stalkrisk.RulePack, method))


def test_streaming_batch_and_its_error_record_are_public() -> None:
    assert {"assess_iter", "assess_many", "CaseError"} <= set(stalkrisk.__all__)
    assert stalkrisk.assess_iter.__module__ == "stalkrisk"
    assert stalkrisk.CaseError.__module__ == "stalkrisk"


def test_package_ships_the_typing_marker() -> None:
    assert (Path(stalkrisk.__file__).parent / "py.typed").is_file()


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: stalkrisk.strategies.cases(min_contacts=3, max_contacts=1), "min_contacts=3"),
        (lambda: stalkrisk.strategies.cases(span_days=-1), "span_days=-1"),
        (lambda: stalkrisk.strategies.cases(max_behaviours=0), "max_behaviours=0"),
        (lambda: stalkrisk.strategies.behaviours(behaviours=[]), "behaviours must not be empty"),
        (lambda: stalkrisk.strategies.contacts(span_days=-2), "span_days=-2"),
    ],
)
def test_strategy_arguments_are_checked_where_they_enter(call: object, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        call()  # type: ignore[operator]


def test_an_unknown_behaviour_code_in_a_strategy_is_rejected() -> None:
    with pytest.raises(InvalidArgument, match="stalked"):
        stalkrisk.strategies.cases(behaviours=["stalked"])


@settings(max_examples=50)
@given(stalkrisk.strategies.cases(relationship="former", fear="severe", max_contacts=4))
def test_case_strategy_honours_its_knobs(case: stalkrisk.Case) -> None:
    assert case.client.relationship is stalkrisk.Relationship.FORMER
    assert case.fear.level is stalkrisk.FearLevel.SEVERE
    assert len(case.contacts) <= 4


@settings(max_examples=50)
@given(stalkrisk.strategies.cases(behaviours=["gift", "threat"], span_days=3))
def test_case_strategy_keeps_behaviours_and_span(case: stalkrisk.Case) -> None:
    for contact in case.contacts:
        assert set(contact.behaviours) <= {stalkrisk.Behaviour.GIFT, stalkrisk.Behaviour.THREAT}
        assert (case.assessed_at - contact.at).total_seconds() <= 3 * 86_400
