"""Fuzzing the JSON entry points: only a valid assessment or a clear validation error.

Arbitrary JSON, and valid cases with exactly one field broken, go to
`stalkrisk.assess_json` and to the command line.  Nothing else may come out:
no other exception, no internal-error exit, and a broken field is never
silently accepted (which could lower a grade).
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import stalkrisk
from stalkrisk._cli import main
from stalkrisk.strategies import cases

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
CASE_KEYS = ["assessed_at", "client", "boundaries", "contacts", "fear"]
CASEISH = st.fixed_dictionaries({}, optional={key: JSON for key in CASE_KEYS})


def _outcome(text: str) -> str:
    problems: tuple[stalkrisk.Problem, ...] | None = None
    try:
        result = stalkrisk.assess_json(text)
    except stalkrisk.CaseValidationError as error:
        problems = error.problems
    if problems is not None:
        assert problems, "a validation error must name at least one problem"
        assert all(p.msg for p in problems)
        return "invalid"
    assert stalkrisk.Assessment.model_validate_json(result).level in stalkrisk.Level
    return "valid"


@given(JSON)
def test_arbitrary_json_gives_an_assessment_or_a_validation_error(value: Any) -> None:
    _outcome(json.dumps(value))


@given(CASEISH)
def test_arbitrary_case_shaped_json_gives_an_assessment_or_a_validation_error(
    value: dict[str, Any],
) -> None:
    _outcome(json.dumps(value))


@given(st.text(max_size=200))
def test_arbitrary_text_gives_a_validation_error(text: str) -> None:
    try:
        json.loads(text)
    except ValueError:
        assert _outcome(text) == "invalid"


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


def _set(node: Any, path: tuple[Any, ...], value: Any) -> None:
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value


# Values no field of a case accepts in place of anything else: the wrong JSON type.
def _wrong_type(original: Any) -> list[Any]:
    if isinstance(original, bool):
        return ["yes", 2, [True]]
    if isinstance(original, str):
        return [{"not": "a string"}, [original], 12345.5]
    if isinstance(original, list):
        return ["a string", {"x": 1}, 7]
    if isinstance(original, dict):
        return [["a list"], "a string", 3]
    if original is None:
        return [{"x": 1}, [[1]]]
    return [{"x": 1}, ["list"], "not a number"]


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(cases(max_contacts=4), st.data())
def test_a_case_with_one_field_of_the_wrong_type_is_refused(
    case: stalkrisk.Case, data: st.DataObject
) -> None:
    document = case.model_dump(mode="json")
    path = data.draw(st.sampled_from(_paths(document)))
    node = document
    for step in path:
        node = node[step]
    _set(document, path, data.draw(st.sampled_from(_wrong_type(node))))

    assert _outcome(json.dumps(document)) == "invalid"


@given(cases(max_contacts=4), st.data())
def test_a_case_with_one_required_field_removed_or_an_unknown_key_added_is_refused(
    case: stalkrisk.Case, data: st.DataObject
) -> None:
    document = case.model_dump(mode="json")
    if data.draw(st.booleans()):
        del document[data.draw(st.sampled_from(["assessed_at", "client"]))]
    else:
        dicts = [p for p in _paths(document) if isinstance(_get(document, p), dict)] + [()]
        target = _get(document, data.draw(st.sampled_from(dicts)))
        target["surprise_field"] = 1

    assert _outcome(json.dumps(document)) == "invalid"


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        node = node[step]
    return node


@settings(max_examples=100)
@given(JSON)
def test_the_command_line_exits_0_or_2_never_1(value: Any) -> None:
    stdin, stdout, stderr = io.StringIO(json.dumps(value)), io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stdin", stdin)
        patch.setattr("sys.stdout", stdout)
        patch.setattr("sys.stderr", stderr)
        code = main(["assess", "-", "--format", "json"])

    assert code in (0, 2)
    assert "Traceback" not in stderr.getvalue()
    if code == 2:
        # Under --format json the problems are JSON too, one line naming the input.
        report = json.loads(stderr.getvalue())
        assert report["input"] == "-"
        assert report["problems"]
        assert all({"loc", "type", "msg"} <= set(problem) for problem in report["problems"])
