"""The caller's own reference (``Case.ref``) travels with the case's results."""

from __future__ import annotations

from typing import Any

import pytest
from builders import case, contact

import stalkrisk
from stalkrisk import batch


def _with_ref(ref: object) -> dict[str, Any]:
    return {**case(contact("c1", 0, "unwanted_calls")), "ref": ref}


def test_a_case_without_ref_gives_an_assessment_without_one() -> None:
    assert stalkrisk.assess(case(contact("c1", 0, "unwanted_calls"))).ref is None


def test_the_ref_is_carried_into_the_assessment_and_its_json() -> None:
    result = stalkrisk.assess(_with_ref("rec-4711"))

    assert result.ref == "rec-4711"
    assert result.model_dump(mode="json")["ref"] == "rec-4711"


def test_the_ref_is_carried_into_the_trajectory() -> None:
    assert stalkrisk.trajectory(_with_ref("rec:42")).ref == "rec:42"


def test_the_ref_survives_as_of() -> None:
    valid = stalkrisk.parse_case(_with_ref("rec.7"))

    assert valid.as_of(valid.assessed_at).ref == "rec.7"


def test_batch_summary_rows_carry_the_ref_first() -> None:
    results = stalkrisk.assess_many([_with_ref("a1"), _with_ref("b2")], workers=1)

    table = batch.summary(results)

    assert table.columns[0] == "ref"
    assert list(table["ref"]) == ["a1", "b2"]


def test_batch_workers_carry_the_ref_back() -> None:
    results = stalkrisk.assess_many([_with_ref(f"r{n}") for n in range(6)], workers=2)

    assert [r.ref for r in results] == [f"r{n}" for n in range(6)]


@pytest.mark.parametrize("ref", ["", "has space", "Jane Doe", "x" * 65, "-leading-dash", 42])
def test_a_ref_that_is_not_an_opaque_identifier_is_refused_at_its_field(ref: object) -> None:
    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        stalkrisk.parse_case(_with_ref(ref))

    assert [p.loc for p in caught.value.problems] == ["ref"]
    assert "Jane" not in str(caught.value)
