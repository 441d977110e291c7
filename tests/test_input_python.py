"""Python-native input: mappings of Python values, paths of JSON files, and path mistakes."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from builders import case, contact

import stalkrisk
from stalkrisk import Behaviour, FearLevel, Relationship


def problems(data: Any) -> list[tuple[str, str]]:
    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        stalkrisk.parse_case(data)
    return [(p.loc, p.type) for p in caught.value.problems]


def _native() -> dict[str, Any]:
    """A case as a database layer would hand it over: datetimes, dates and enum members."""
    return {
        "assessed_at": datetime(2025, 3, 20, 9, tzinfo=UTC),
        "client": {"relationship": Relationship.FORMER, "therapy_end": date(2024, 12, 1)},
        "contacts": [
            {
                "id": "c1",
                "at": datetime(2025, 3, 1, tzinfo=UTC),
                "behaviours": [Behaviour.UNWANTED_CALLS],
            },
            {
                "id": "c2",
                "at": datetime(2025, 3, 16, tzinfo=UTC),
                "behaviours": (Behaviour.FOLLOWING,),
            },
        ],
        "fear": {"level": FearLevel.SIGNIFICANT},
    }


def _as_json(data: dict[str, Any]) -> str:
    return json.dumps(data, default=lambda value: value.isoformat())


def test_a_mapping_of_python_values_is_assessed() -> None:
    result = stalkrisk.assess(_native())

    assert result.assessed_at == datetime(2025, 3, 20, 9, tzinfo=UTC)
    assert result.threshold.course_of_conduct == ("c1", "c2")


def test_a_mapping_of_python_values_gives_the_case_its_json_gives() -> None:
    assert stalkrisk.parse_case(_native()) == stalkrisk.parse_case(_as_json(_native()))


def test_the_trajectory_takes_a_mapping_of_python_values() -> None:
    assert stalkrisk.trajectory(_native()).steps[-1].level == stalkrisk.assess(_native()).level


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2025, 3, 20), "timezone_aware"),
        (date(2025, 3, 20), "iso_datetime"),
        (datetime(2025, 3, 20, tzinfo=timezone(timedelta(hours=15))), "utc_offset"),
        (1742461200, "iso_datetime"),
    ],
    ids=["naive", "a-date", "offset-beyond-14h", "a-number"],
)
def test_a_bad_time_in_a_mapping_gets_the_problem_its_json_gets(
    value: object, expected: str
) -> None:
    data = {**_native(), "assessed_at": value}

    assert problems(data) == [("assessed_at", expected)]
    if not isinstance(value, int):
        assert problems(_as_json(data)) == [("assessed_at", expected)]


def test_a_moment_where_a_day_is_expected_is_refused_at_its_field() -> None:
    data = _native()
    data["client"] = {**data["client"], "therapy_end": datetime(2024, 12, 1, tzinfo=UTC)}

    assert problems(data) == [("client.therapy_end", "iso_date")]
    assert problems(_as_json(data)) == [("client.therapy_end", "iso_date")]


def test_a_bad_enum_value_in_a_mapping_is_refused_at_its_field() -> None:
    data = _native()
    data["contacts"][1]["behaviours"] = [Behaviour.FOLLOWING, "waving"]

    assert problems(data) == [("contacts.1.behaviours.1", "enum")]


def test_a_mapping_problem_never_quotes_the_value() -> None:
    data = _native()
    data["contacts"][0]["note"] = 12345.678

    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        stalkrisk.parse_case(data)

    assert [p.loc for p in caught.value.problems] == ["contacts.0.note"]
    assert "12345" not in str(caught.value)


def test_a_path_is_read_as_a_json_file(tmp_path: Path) -> None:
    file = tmp_path / "case.json"
    file.write_text(_as_json(_native()), encoding="utf-8")

    assert stalkrisk.assess(file) == stalkrisk.assess(_native())


def test_a_path_to_a_file_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    file = tmp_path / "case.json"
    file.write_bytes(b"\xef\xbb\xbf" + _as_json(_native()).encode())

    assert stalkrisk.parse_case(file) == stalkrisk.parse_case(_native())


def test_a_path_to_a_missing_file_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        stalkrisk.assess(tmp_path / "missing.json")


def test_a_path_to_invalid_json_reports_the_json_problem(tmp_path: Path) -> None:
    file = tmp_path / "case.json"
    file.write_text("{not json", encoding="utf-8")

    assert problems(file) == [("", "json_invalid")]


def test_text_ending_in_json_is_reported_as_a_path() -> None:
    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        stalkrisk.assess("clients/jane-doe.json")

    assert [(p.loc, p.type) for p in caught.value.problems] == [("", "looks_like_path")]
    assert "pass a pathlib.Path, or the file's text" in str(caught.value)
    assert "jane" not in str(caught.value)


def test_the_text_of_an_existing_file_path_is_reported_as_a_path(tmp_path: Path) -> None:
    file = tmp_path / "case.txt"
    file.write_text(_as_json(_native()), encoding="utf-8")

    assert problems(str(file)) == [("", "looks_like_path")]


def test_invalid_json_that_is_not_path_shaped_stays_invalid_json() -> None:
    assert problems('{"assessed_at": ') == [("", "json_invalid")]
    assert problems("no such thing") == [("", "json_invalid")]


def test_valid_json_is_never_taken_for_a_path() -> None:
    assert stalkrisk.parse_case(json.dumps(case(contact("c1", 0, "gift")))).contacts[0].id == "c1"


def test_batch_reads_paths_and_python_mappings(tmp_path: Path) -> None:
    file = tmp_path / "case.json"
    file.write_text(_as_json(_native()), encoding="utf-8")

    results = stalkrisk.assess_many([file, _native()], workers=1)

    assert results[0] == results[1] == stalkrisk.assess(_native())


def test_a_mapping_may_hold_validated_models_of_the_case_parts() -> None:
    data = _native()
    data["contacts"] = [stalkrisk.Contact.model_validate(c) for c in data["contacts"]]
    data["fear"] = stalkrisk.Fear(level=FearLevel.SIGNIFICANT)

    assert stalkrisk.parse_case(data) == stalkrisk.parse_case(_native())


def test_a_part_built_without_validation_is_validated_inside_a_mapping() -> None:
    data = _native()
    unchecked: dict[str, Any] = {"id": "c1", "at": "not a time", "behaviours": ("gift",)}
    data["contacts"] = [stalkrisk.Contact.model_construct(**unchecked)]

    assert problems(data) == [("contacts.0.at", "iso_datetime")]
