"""The bundled training vignettes: each loads, has a teaching note and gets its expected grade."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

import stalkrisk
from stalkrisk import Level, vignettes

NAMES = vignettes.names()


def test_there_are_at_least_twelve_vignettes() -> None:
    assert len(NAMES) >= 12


@pytest.mark.parametrize("name", NAMES)
def test_vignette_gets_its_expected_grade(name: str) -> None:
    vignette = vignettes.load(name)
    result = stalkrisk.assess(vignette.case)

    assert (result.level, result.urgent) == (vignette.expected_level, vignette.expected_urgent)


@pytest.mark.parametrize("name", NAMES)
def test_vignette_has_title_source_and_teaching_note(name: str) -> None:
    vignette = vignettes.load(name)

    assert vignette.title
    assert vignette.source
    assert len(vignette.teaching_note) > 80


def test_vignettes_cover_every_grade_on_the_ladder() -> None:
    assert {vignettes.load(n).expected_level for n in NAMES} == set(Level)


def test_vignettes_cover_urgent_former_frail_breach_and_the_threshold_boundary() -> None:
    loaded = [vignettes.load(n) for n in NAMES]
    results = {v.name: stalkrisk.assess(v.case) for v in loaded}

    assert any(v.expected_urgent for v in loaded)
    assert any(v.case.client.relationship is stalkrisk.Relationship.FORMER for v in loaded)
    assert any(
        "note.regressive_contact" in [r.id for r in results[v.name].rules_fired] for v in loaded
    )
    assert any(
        "element.threat.protection_order_breach" in results[v.name].elements.threat.rules
        for v in loaded
    )
    assert results["exactly_two_weeks"].threshold.met
    assert not results["one_hour_short_of_two_weeks"].threshold.met


def test_an_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(KeyError, match="exactly_two_weeks"):
        vignettes.load("exact_two_weeks")


def test_vignette_html_escapes_its_text() -> None:
    html = vignettes.load("threat_against_the_family")._repr_html_()

    assert "<h4>" in html
    assert "<script" not in html


def test_the_vignette_library_suggests_the_closest_name_or_points_to_names() -> None:
    with pytest.raises(KeyError) as near:
        vignettes.load("exact_two_weeks")
    with pytest.raises(KeyError) as far:
        vignettes.load("zzz")

    assert near.value.args[0] == (
        "no vignette named 'exact_two_weeks'; did you mean 'exactly_two_weeks'?"
    )
    assert far.value.args[0] == (
        "no vignette named 'zzz'; names() lists them; to load a file, pass a pathlib.Path "
        "or a path ending in .json"
    )


@pytest.mark.parametrize("name", NAMES)
def test_vignette_html_has_no_doubled_full_stop(name: str) -> None:
    assert ".." not in vignettes.load(name)._repr_html_()


def test_vignette_html_ends_a_source_without_a_full_stop_with_one() -> None:
    vignette = vignettes.load("exactly_two_weeks").model_copy(update={"source": "Seed 000"})

    assert "Source: Seed 000. Expected:" in vignette._repr_html_()


# --- a trainer's own vignette file ---------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "src" / "stalkrisk" / "_vignettes"
SCHEMA_FILE = ROOT / "docs" / "schema" / "vignette.schema.json"
SECRET = "SENTINEL-51c2-do-not-echo"
"""Planted in free text; it must never reach an error message."""


def own_vignette(**changes: Any) -> dict[str, Any]:
    """A valid vignette document (a bundled one) with top-level ``changes``."""
    document: dict[str, Any] = json.loads(
        (BUNDLED / "exactly_two_weeks.json").read_text(encoding="utf-8")
    )
    return {**document, **changes}


def write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def test_the_committed_vignette_schema_is_the_models() -> None:
    expected = json.dumps(vignettes.schema(), indent=2, sort_keys=True) + "\n"

    assert SCHEMA_FILE.read_text(encoding="utf-8") == expected, (
        "docs/schema/vignette.schema.json is stale; regenerate it from the repository root "
        'with `python -c "import json; from stalkrisk import vignettes; '
        'print(json.dumps(vignettes.schema(), indent=2, sort_keys=True))" '
        "> docs/schema/vignette.schema.json`"
    )


def test_the_vignette_schema_names_its_dialect_and_a_stable_id() -> None:
    schema = vignettes.schema()

    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "https://stalkrisk.example/schema/vignette.schema.json"
    assert "$id" not in json.dumps(schema["$defs"])


@pytest.mark.parametrize("path", sorted(BUNDLED.glob("*.json")), ids=lambda p: p.stem)
def test_every_bundled_vignette_file_fits_the_committed_schema(
    validator: Draft202012Validator, path: Path
) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))

    assert [e.message for e in validator.iter_errors(document)] == []


def test_the_schema_refuses_what_load_refuses(
    validator: Draft202012Validator, tmp_path: Path
) -> None:
    document = own_vignette(expected={"level": "severe", "urgent": False}, extra=1)
    document["case"]["contacts"][0]["at"] = "2025-03-01T09:00:00"

    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        vignettes.load(write(tmp_path / "bad.json", document))

    found = {".".join(map(str, e.absolute_path)) for e in validator.iter_errors(document)}
    # The schema reports an unknown key at its object, the loader at the key.
    assert found == {"", "expected.level", "case.contacts.0.at"}
    assert {p.loc for p in caught.value.problems} == {
        "extra",
        "expected.level",
        "case.contacts.0.at",
    }


def test_load_reads_a_trainers_file_from_a_path_or_a_str_ending_in_json(tmp_path: Path) -> None:
    path = write(tmp_path / "Mine.JSON", own_vignette(title="My own vignette"))

    by_path = vignettes.load(path)
    by_str = vignettes.load(str(path))

    assert by_path == by_str
    assert by_path.name == "Mine"
    assert by_path.title == "My own vignette"
    assert by_path.case == vignettes.load("exactly_two_weeks").case
    assert stalkrisk.assess(by_path.case).level == by_path.expected_level


def test_a_vignette_file_is_read_afresh_each_time(tmp_path: Path) -> None:
    path = write(tmp_path / "mine.json", own_vignette(title="First"))
    first = vignettes.load(path)
    write(path, own_vignette(title="Second"))

    assert (first.title, vignettes.load(path).title) == ("First", "Second")


def test_a_vignette_file_may_start_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "excel.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(own_vignette()).encode())

    assert vignettes.load(path).title == "Exactly two weeks"


def test_a_missing_vignette_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        vignettes.load(tmp_path / "absent.json")
    with pytest.raises(FileNotFoundError):
        vignettes.load(str(tmp_path / "absent.json"))


def test_a_str_without_json_is_a_bundled_name_even_if_such_a_file_exists(tmp_path: Path) -> None:
    path = write(tmp_path / "exactly_two_weeks", own_vignette(title="Mine"))

    assert vignettes.load("exactly_two_weeks").title == "Exactly two weeks"
    with pytest.raises(KeyError, match=r"pathlib\.Path"):
        vignettes.load(str(path))


def test_a_bad_vignette_file_lists_every_problem_by_path_and_never_quotes_it(
    tmp_path: Path,
) -> None:
    document = own_vignette(title="", teaching_note=SECRET, expected={"level": SECRET})
    document["case"]["contacts"][1]["at"] = SECRET
    document["case"]["contacts"][0]["note"] = SECRET
    document[SECRET] = SECRET

    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        vignettes.load(write(tmp_path / "bad.json", document))

    assert [(p.loc, p.type) for p in caught.value.problems] == [
        ("title", "string_too_short"),
        ("expected.level", "enum"),
        ("expected.urgent", "missing"),
        ("case.contacts.1.at", "iso_datetime"),
        ("", "extra_forbidden"),
    ]
    assert SECRET not in str(caught.value)


def test_a_vignette_file_that_is_not_json_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"title": "' + SECRET, encoding="utf-8")

    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        vignettes.load(path)

    assert [p.type for p in caught.value.problems] == ["json_invalid"]
    assert SECRET not in str(caught.value)


def test_a_key_given_twice_in_a_vignette_file_is_refused(tmp_path: Path) -> None:
    text = json.dumps(own_vignette())
    path = tmp_path / "twice.json"
    path.write_text(text.replace('"title":', '"title": "Old", "title":', 1), encoding="utf-8")

    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        vignettes.load(path)

    assert [(p.loc, p.type) for p in caught.value.problems] == [("title", "duplicate_key")]
