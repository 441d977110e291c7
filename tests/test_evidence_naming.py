"""Evidence positions become contact ids, oldest first, whatever holds them."""

from __future__ import annotations

from collections.abc import Sequence

from stalkrisk._evaluate import _Evidence
from stalkrisk._features import CaseFeatures

_IDS = ("a", "b", "c", "d", "e")


def _evidence() -> _Evidence:
    return _Evidence(CaseFeatures(values={}, evidence={}, episodes=(), chronological_ids=_IDS))


def test_one_source_is_named_in_its_order() -> None:
    assert _evidence().ids([[0, 2, 4]]) == ("a", "c", "e")


def test_sources_alike_in_length_and_ends_are_named_by_their_content() -> None:
    evidence = _evidence()

    assert evidence.ids([[0, 1, 4]]) == ("a", "b", "e")
    assert evidence.ids([[0, 3, 4]]) == ("a", "d", "e")


def test_the_same_positions_in_another_container_name_the_same_ids() -> None:
    evidence = _evidence()
    positions: list[int] = [0, 1, 4]

    assert evidence.ids([positions]) == evidence.ids([tuple(positions)]) == ("a", "b", "e")


def test_a_range_is_named_as_a_slice() -> None:
    assert _evidence().ids([range(1, 4)]) == ("b", "c", "d")


def test_several_sources_are_named_as_their_sorted_union() -> None:
    assert _evidence().ids([[1, 4], range(0, 2), (3,)]) == ("a", "b", "d", "e")


def test_empty_sources_name_nothing() -> None:
    nothing: list[Sequence[int]] = [[], (), range(0)]

    assert _evidence().ids(nothing) == ()
    assert _evidence().ids([[], [2]]) == ("c",)
