"""Input hygiene: what a case's JSON or mapping may hold besides valid fields.

Times are ISO 8601 text and nothing else, offsets stay within ±14:00, keys are
unique, a byte-order mark is harmless, nesting is bounded, any mapping works,
unknown keys are named only when they look like identifiers, and no printed
form of a model shows free text.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from collections import UserDict
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from builders import at, case, contact
from pydantic import BaseModel, ValidationError

import stalkrisk
from stalkrisk._case import case_json
from stalkrisk._cli import main
from stalkrisk._problems import problems_from

SENTINEL = "Hortensia-Private-4417"


def problems(data: Any) -> list[tuple[str, str]]:
    """(loc, type) of every problem parse_case reports."""
    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        stalkrisk.parse_case(data)
    return [(p.loc, p.type) for p in caught.value.problems]


def python_problems(data: dict[str, Any]) -> list[tuple[str, str]]:
    """(loc, type) of every problem when pydantic validates the Python objects directly."""
    with pytest.raises(ValidationError) as caught:
        stalkrisk.Case.model_validate(data)
    return [(p.loc, p.type) for p in problems_from(caught.value)]


def with_time(value: Any, field: str = "at") -> dict[str, Any]:
    """A valid case whose first contact's ``field`` (or the top-level one) is ``value``."""
    data = case(contact("c1", 0, "gift"), assessed_at=datetime(2025, 6, 1, tzinfo=UTC))
    if field == "at":
        data["contacts"][0]["at"] = value
    else:
        data[field] = value
    return data


def with_day(value: Any) -> dict[str, Any]:
    """A valid case whose ``client.therapy_start`` is ``value``."""
    return case(
        contact("c1", 0, "gift"),
        assessed_at=datetime(2025, 6, 1, tzinfo=UTC),
        history={"therapy_start": value},
    )


# --- times are ISO 8601 text with a zone, nothing else -----------------------------------


@pytest.mark.parametrize(
    "text", ["2025", "20250316", "-1", "1742117400", "1742117400.5", "2025-03-16", "16/03/2025"]
)
def test_a_time_that_is_not_iso_8601_text_is_refused(text: str) -> None:
    assert problems(with_time(text)) == [("contacts.0.at", "iso_datetime")]


def test_a_year_alone_as_assessed_at_is_refused_with_an_example_of_the_format() -> None:
    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        stalkrisk.parse_case(with_time("2025", field="assessed_at"))

    [problem] = caught.value.problems
    assert (problem.loc, problem.type) == ("assessed_at", "iso_datetime")
    assert problem.msg == (
        "must be ISO 8601 text with a time zone, such as 2025-03-16T09:30:00+01:00"
    )


@pytest.mark.parametrize("value", [12345.5, 0, True])
def test_a_number_for_a_time_is_refused_as_not_iso_text(value: object) -> None:
    assert problems(with_time(value)) == [("contacts.0.at", "iso_datetime")]


@pytest.mark.parametrize(
    "text",
    [
        "2025-03-16T09:30:00+01:00",
        "2025-03-16T09:30:00Z",
        "2025-03-16T09:30+01:00",
        "2025-03-16 09:30:00.250-05:00",
        "2025-03-16T09:30:00+0100",
        "2025-03-16t09:30:00z",
    ],
)
def test_iso_8601_times_with_a_zone_are_accepted(text: str) -> None:
    parsed = stalkrisk.parse_case(with_time(text))

    assert parsed.contacts[0].at.utcoffset() is not None


def test_a_time_without_a_zone_is_still_reported_as_missing_its_zone() -> None:
    assert problems(with_time("2025-03-16T09:30:00")) == [("contacts.0.at", "timezone_aware")]


@pytest.mark.parametrize("text", ["86400", "20250316", "2025-03-16T00:00:00", "16.03.2025", 3])
def test_a_date_that_is_not_iso_8601_text_is_refused(text: object) -> None:
    assert problems(with_day(text)) == [("client.therapy_start", "iso_date")]


def test_an_iso_date_is_accepted() -> None:
    parsed = stalkrisk.parse_case(with_day("2025-03-16"))

    assert parsed.client.therapy_start == datetime(2025, 3, 16).date()


@pytest.mark.parametrize(
    "text", ["2025", "20250316", "2025-03-16", "2025-03-16T09:30:00+15:00", "2025-03-16T09:30:00"]
)
def test_json_text_and_python_objects_refuse_a_time_alike(text: str) -> None:
    data = with_time(text)

    assert python_problems(data) == problems(json.dumps(data))


@pytest.mark.parametrize("text", ["86400", "2025-03-16T00:00:00"])
def test_json_text_and_python_objects_refuse_a_date_alike(text: str) -> None:
    data = with_day(text)

    assert python_problems(data) == problems(json.dumps(data))


def test_an_aware_datetime_object_is_accepted_when_validating_python_objects() -> None:
    moment = datetime(2025, 3, 16, 9, 30, tzinfo=timezone(timedelta(hours=14)))

    parsed = stalkrisk.Case.model_validate(with_time(moment))

    assert parsed.contacts[0].at == moment


def test_a_date_object_for_a_time_is_refused_when_validating_python_objects() -> None:
    data = with_time(datetime(2025, 3, 16, tzinfo=UTC).date())

    assert python_problems(data) == [("contacts.0.at", "iso_datetime")]


# --- UTC offsets stay within ±14:00 ------------------------------------------------------


@pytest.mark.parametrize("offset", ["+15:00", "+14:01", "-14:30", "+2359", "-23:00"])
def test_an_offset_beyond_14_hours_is_refused(offset: str) -> None:
    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        stalkrisk.parse_case(with_time("2025-03-16T09:30:00" + offset))

    [problem] = caught.value.problems
    assert (problem.loc, problem.type) == ("contacts.0.at", "utc_offset")
    assert "±14:00" in problem.msg


@pytest.mark.parametrize("offset", ["+14:00", "-14:00", "-12:00", "+05:45", "+1400"])
def test_an_offset_within_14_hours_is_accepted(offset: str) -> None:
    parsed = stalkrisk.parse_case(with_time("2025-03-16T09:30:00" + offset))

    assert parsed.contacts[0].at.utcoffset() is not None


def test_a_datetime_object_with_an_offset_beyond_14_hours_is_refused() -> None:
    moment = datetime(2025, 3, 16, 9, 30, tzinfo=timezone(timedelta(hours=15)))

    assert python_problems(with_time(moment, field="assessed_at")) == [
        ("assessed_at", "utc_offset")
    ]


# --- repeated keys are refused, at the path of the key -----------------------------------

THREAT_THEN_NOTHING = (
    '{"assessed_at": "2025-03-24T09:00:00+01:00", "client": {"relationship": "current"},'
    ' "contacts": [{"id": "c1", "at": "2025-03-20T18:30:00+01:00", "behaviours": ["threat"]}],'
    ' "contacts": []}'
)


def test_a_repeated_top_level_key_is_refused_instead_of_the_last_one_winning() -> None:
    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        stalkrisk.assess(THREAT_THEN_NOTHING)

    [problem] = caught.value.problems
    assert (problem.loc, problem.type) == ("contacts", "duplicate_key")


def test_a_repeated_key_inside_fear_is_refused_at_its_path() -> None:
    text = json.dumps(case(fear="severe")).replace(
        '"level": "severe"', '"level": "severe", "level": "none"'
    )

    assert problems(text) == [("fear.level", "duplicate_key")]


def test_a_repeated_key_inside_a_contact_is_refused_at_its_path() -> None:
    text = json.dumps(case(contact("c1", 0, "threat"))).replace(
        '"behaviours": ["threat"]', '"behaviours": ["threat"], "behaviours": ["gift"]'
    )

    assert problems(text) == [("contacts.0.behaviours", "duplicate_key")]


@pytest.mark.parametrize("space", [" ", "  ", "\n", "\t", "\r\n "])
def test_a_repeated_key_with_whitespace_before_its_colon_is_refused(space: str) -> None:
    text = json.dumps(case(fear="none")).replace(
        '"level": "none"', f'"level": "severe", "level"{space}: "none"'
    )

    assert problems(text) == [("fear.level", "duplicate_key")]


def test_a_repeated_key_in_json_bytes_is_refused() -> None:
    text = json.dumps(case(contact("c1", 0, "threat"))).replace(
        '"id": "c1"', '"id": "c1", "id": "c2"'
    )

    assert problems(text.encode()) == [("contacts.0.id", "duplicate_key")]


def test_repeated_keys_are_reported_instead_of_the_problems_of_the_last_values() -> None:
    text = json.dumps(case(contact("c1", 0, "threat"))).replace(
        '"behaviours": ["threat"]', '"behaviours": ["threat"], "behaviours": ["waving"]'
    )

    assert problems(text) == [("contacts.0.behaviours", "duplicate_key")]


def test_a_repeated_key_that_is_not_an_identifier_is_reported_without_its_name() -> None:
    text = json.dumps(case(contact("c1", 0, "gift"))).replace(
        '"id": "c1"', f'"id": "c1", "{SENTINEL} x": 1, "{SENTINEL} x": 2'
    )

    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        stalkrisk.parse_case(text)

    assert [(p.loc, p.type) for p in caught.value.problems] == [("contacts.0", "duplicate_key")]
    assert SENTINEL not in str(caught.value)


def test_a_quoted_colon_in_free_text_is_not_taken_for_a_repeated_key() -> None:
    note = 'She wrote "level": and "id" : then "fear" :: twice \\" : '
    data = case(contact("c1", 0, "gift", note=note, location="Salle 2 : accueil"))

    parsed = stalkrisk.parse_case(json.dumps(data))

    assert parsed.contacts[0].note == note


# --- a byte-order mark is harmless --------------------------------------------------------


def test_json_text_with_a_byte_order_mark_is_accepted() -> None:
    text = json.dumps(case(contact("c1", 0, "gift")))

    assert stalkrisk.parse_case("\ufeff" + text) == stalkrisk.parse_case(text)


def test_json_bytes_with_a_byte_order_mark_are_accepted() -> None:
    text = json.dumps(case(contact("c1", 0, "gift")))

    assert stalkrisk.parse_case(b"\xef\xbb\xbf" + text.encode()) == stalkrisk.parse_case(text)


# --- nesting is bounded -------------------------------------------------------------------


def _nested_lists(depth: int) -> Any:
    value: Any = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_json_text_nested_100000_deep_is_refused_as_too_deep() -> None:
    text = json.dumps(case())[:-1] + ', "fear": {"level": ' + "[" * 100_000 + "]" * 100_000 + "}}"

    assert problems(text) == [("", "too_deep")]


def test_a_mapping_nested_100000_deep_is_refused_as_too_deep() -> None:
    data = case()
    data["fear"] = {"level": _nested_lists(100_000)}

    assert problems(data) == [("", "too_deep")]


def test_json_text_and_a_mapping_nested_alike_get_the_same_problems() -> None:
    data = {"contacts": _nested_lists(20)}

    assert problems(data) == problems(json.dumps(data))


def test_a_mapping_nested_deeper_than_json_text_may_be_gets_problems_at_its_fields() -> None:
    # A mapping is validated directly, so nesting the JSON parser refuses is not read.
    data = {"contacts": _nested_lists(250)}

    assert problems(json.dumps(data)) == [("", "too_deep")]
    assert problems(data) == [
        ("assessed_at", "missing"), ("client", "missing"), ("contacts.0", "model_type"),
    ]  # fmt: skip


def test_nesting_250_levels_deep_is_refused_as_too_deep() -> None:
    assert problems(json.dumps(_nested_lists(250))) == [("", "too_deep")]


def test_nesting_20_levels_deep_is_refused_for_its_type_not_its_depth() -> None:
    assert problems(json.dumps(_nested_lists(20))) == [("", "model_type")]


# --- any mapping ------------------------------------------------------------------------------


class _ReadOnly(Mapping[str, Any]):
    """A Mapping that is not a dict, as a database row or a settings object may be."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


def test_a_user_dict_is_accepted_as_a_case() -> None:
    data = case(contact("c1", 0, "gift"))

    assert stalkrisk.parse_case(UserDict(data)) == stalkrisk.parse_case(data)


def test_mappings_nested_inside_a_case_are_accepted() -> None:
    data = case(contact("c1", 0, "gift"))
    nested = dict(
        data,
        client=UserDict(data["client"]),
        contacts=[MappingProxyType(data["contacts"][0])],
        fear=_ReadOnly(data["fear"]),
    )

    assert stalkrisk.parse_case(_ReadOnly(nested)) == stalkrisk.parse_case(data)


# --- unknown keys are named only when they look like identifiers -------------------------


def test_an_unknown_key_that_is_not_an_identifier_is_reported_at_its_parent() -> None:
    data = case(contact("c1", 0, "gift"))
    data["contacts"][0]["SENTNOTE7731 Jane Doe"] = 1

    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        stalkrisk.parse_case(data)

    assert caught.value.problems == (
        stalkrisk.Problem(loc="contacts.0", type="extra_forbidden", msg="an unknown key"),
    )


def test_an_unknown_top_level_key_that_is_not_an_identifier_is_reported_at_the_root() -> None:
    data = case()
    data[f"{SENTINEL}: she said"] = "x"

    assert problems(data) == [("", "extra_forbidden")]


def test_an_unknown_identifier_key_is_named_in_the_path() -> None:
    data = case()
    data["fear"]["colour"] = "red"

    assert problems(data) == [("fear.colour", "extra_forbidden")]


def test_an_unknown_key_longer_than_64_characters_is_not_named() -> None:
    data = case()
    data["fear"]["k" * 65] = 1

    assert problems(data) == [("fear", "extra_forbidden")]


def test_a_key_that_is_not_text_is_not_named_when_validating_python_objects() -> None:
    data = case()
    data["fear"][(SENTINEL, "Jane Doe")] = 1

    assert python_problems(data) == [("fear", "invalid_key")]


# --- printing a model never shows free text ----------------------------------------------


def _public_models() -> set[type[BaseModel]]:
    exported = (getattr(stalkrisk, name) for name in stalkrisk.__all__)
    return {obj for obj in exported if isinstance(obj, type) and issubclass(obj, BaseModel)}


def _instances(root: object) -> list[BaseModel]:
    """``root`` and every model inside it."""
    found: list[BaseModel] = []
    todo = [root]
    while todo:
        node = todo.pop()
        if isinstance(node, BaseModel):
            found.append(node)
            todo.extend(getattr(node, name) for name in type(node).model_fields)
        elif isinstance(node, tuple):
            todo.extend(node)
        elif isinstance(node, dict):
            todo.extend(node.values())
    return found


def _everything_with_free_text() -> list[BaseModel]:
    free = {
        "note": SENTINEL,
        "location": SENTINEL,
        "response": SENTINEL,
        "witnesses": [SENTINEL],
        "evidence": [SENTINEL],
    }
    data = case(
        contact("c1", 0, "following", **free),
        contact("c2", 15, "threat", "surveillance", **free),
        contact("c3", 500, "gift", **free),
        boundaries={"warnings": [{"at": "2025-01-06T10:00:00Z", "supervisor": True}]},
        history={"prior_violence": True, "known_since": {"prior_violence": at(1).isoformat()}},
    )
    data["fear"] = {"reports": [{"at": at(16).isoformat(), "level": "severe"}]}
    parsed = stalkrisk.parse_case(data)
    comparison = stalkrisk.compare(
        stalkrisk.assess(parsed), stalkrisk.assess(parsed.with_fear("none"))
    )
    # Fear and threat at c2, both gone 485 days later: every summary part is filled.
    course = stalkrisk.trajectory(parsed, full=True)
    return _instances(parsed) + _instances(comparison) + _instances(course)


def test_every_public_model_is_covered_by_the_printing_check() -> None:
    assert {type(model) for model in _everything_with_free_text()} == _public_models()


@pytest.mark.parametrize(
    "show",
    [str, repr, format, lambda model: f"{model} {model!s} {model!r}"],
    ids=["str", "repr", "format", "f-string"],
)
def test_no_printed_form_of_a_public_model_shows_free_text(show: Any) -> None:
    for model in _everything_with_free_text():
        assert SENTINEL not in show(model), type(model).__name__


def test_pretty_printers_are_not_given_a_contacts_free_text() -> None:
    parsed = stalkrisk.parse_case(case(contact("c1", 0, "gift", note=SENTINEL)))

    assert SENTINEL not in repr(list(parsed.contacts[0].__repr_args__()))


# --- the what-if helpers echo nothing either ----------------------------------------------


def test_removing_a_contact_by_something_that_is_not_an_id_does_not_echo_it() -> None:
    parsed = stalkrisk.parse_case(case(contact("c1", 0, "gift")))

    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        parsed.without_contacts(f"{SENTINEL} Jane Doe")

    assert [(p.loc, p.type) for p in caught.value.problems] == [("contacts", "unknown_id")]
    assert SENTINEL not in str(caught.value)


def test_removing_an_unknown_contact_id_names_the_id() -> None:
    parsed = stalkrisk.parse_case(case(contact("c1", 0, "gift")))

    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        parsed.without_contacts("c9")

    assert "'c9'" in caught.value.problems[0].msg


def test_an_unknown_fear_level_for_a_variant_is_a_validation_problem_without_the_value() -> None:
    parsed = stalkrisk.parse_case(case(contact("c1", 0, "gift")))

    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        parsed.with_fear(SENTINEL)

    assert [(p.loc, p.type) for p in caught.value.problems] == [("fear.level", "enum")]
    assert SENTINEL not in str(caught.value)


# --- a Case that skipped validation is validated before use -----------------------------


def test_a_case_built_without_validation_is_validated_before_it_is_assessed() -> None:
    parts: dict[str, Any] = {"assessed_at": datetime(2025, 3, 1, tzinfo=UTC)}
    unchecked = stalkrisk.Case.model_construct(**parts)

    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        stalkrisk.assess(unchecked)

    assert [(p.loc, p.type) for p in caught.value.problems] == [("client", "missing")]


def test_a_copy_with_unvalidated_changes_is_validated_before_use() -> None:
    parsed = stalkrisk.parse_case(case(contact("c1", 3, "gift"), assessed_at=5))
    changed = parsed.model_copy(update={"assessed_at": datetime(2025, 1, 1, tzinfo=UTC)})

    assert problems(changed) == [("contacts.0.at", "inconsistent")]


def test_a_case_built_without_validation_from_valid_parts_is_accepted() -> None:
    parsed = stalkrisk.parse_case(case(contact("c1", 3, "gift", note=SENTINEL), fear="some"))

    rebuilt = stalkrisk.Case.model_construct(**dict(parsed))

    assert stalkrisk.parse_case(rebuilt) == parsed


def test_a_validated_case_is_used_as_it_is() -> None:
    parsed = stalkrisk.parse_case(case(contact("c1", 3, "gift")))

    assert stalkrisk.parse_case(parsed) is parsed


def test_the_json_of_a_case_built_without_validation_is_refused_like_the_case() -> None:
    parts: dict[str, Any] = {
        "assessed_at": datetime(2025, 3, 1, tzinfo=UTC),
        "contacts": [{"id": "c1", "note": SENTINEL}],
    }
    unchecked = stalkrisk.Case.model_construct(**parts)

    assert problems(case_json(unchecked)) == problems(unchecked)


# --- the command line: unusable streams, a byte-order mark, offsets with FHIR ------------


def _command(redirections: str, *argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """``python -m stalkrisk ARGV`` run by the shell with ``redirections`` applied."""
    words = " ".join(shlex.quote(word) for word in (sys.executable, "-m", "stalkrisk", *argv))
    return subprocess.run(
        f"{words} {redirections}",
        shell=True,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _case_file(tmp_path: Path, data: dict[str, Any]) -> str:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_a_closed_standard_input_exits_2_with_one_line() -> None:
    done = _command("<&-", "assess", "-")

    assert done.returncode == 2
    assert done.stderr == "stalkrisk: cannot read standard input (it is closed)\n"


def test_a_closed_standard_output_exits_2_with_one_line(tmp_path: Path) -> None:
    done = _command(">&-", "assess", _case_file(tmp_path, case(contact("c1", 0, "gift"))))

    assert done.returncode == 2
    assert done.stderr == "stalkrisk: cannot write to standard output (it is closed)\n"


def test_a_full_disk_on_standard_output_exits_2_with_one_line(tmp_path: Path) -> None:
    done = _command("> /dev/full", "assess", _case_file(tmp_path, case(contact("c1", 0, "gift"))))

    assert done.returncode == 2
    assert done.stderr == "stalkrisk: cannot write to standard output (No space left on device)\n"


def test_a_closed_standard_error_keeps_the_exit_code_of_an_invalid_case() -> None:
    done = _command("2>&-", "assess", "-", stdin='{"client": {}}')

    assert done.returncode == 2


def test_a_closed_standard_error_does_not_stop_an_assessment(tmp_path: Path) -> None:
    done = _command("2>&-", "assess", _case_file(tmp_path, case(contact("c1", 0, "gift"))))

    assert done.returncode == 0
    assert done.stdout.startswith("Recommendation: reflective")


def test_the_command_line_reads_a_case_file_with_a_byte_order_mark(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "case.json"
    path.write_text(json.dumps(case(contact("c1", 0, "gift"))), encoding="utf-8-sig")

    code = main(["assess", str(path)])

    assert code == 0
    assert capsys.readouterr().out.startswith("Recommendation: reflective")


def test_an_offset_beyond_14_hours_with_format_fhir_is_an_invalid_case(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = case(contact("c1", 0, "threat"))
    data["assessed_at"] = "2025-01-08T09:00:00+15:00"

    code = main(
        ["assess", _case_file(tmp_path, data), "--format", "fhir", "--subject", "Patient/1"]
    )

    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert err.splitlines() == [
        "stalkrisk: invalid case (1 problem)",
        "  assessed_at: has a UTC offset beyond ±14:00, which no time zone uses [utc_offset]",
    ]


def test_the_repr_of_a_case_made_without_validation_and_missing_parts_does_not_fail() -> None:
    parts: dict[str, Any] = {"contacts": ()}  # no assessed_at, no client
    unchecked = stalkrisk.Case.model_construct(**parts)

    assert repr(unchecked) == "<Case, not validated>"
    assert str(unchecked) == "<Case, not validated>"
