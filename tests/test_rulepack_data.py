"""Packs from data: a mapping or text loads as a file does, packs change and write back.

``load_rule_pack`` takes a path, a mapping or YAML/JSON text and
``RulePack.from_text`` takes text; all are validated alike (every problem in one
RulePackError, the same limits and safety floors).  ``with_parameters`` makes a
changed pack, ``to_dict``/``to_yaml`` give a pack back as a document that loads to
an equal pack, and ``bundled_packs`` lists every pack shipped with the library.
"""

from __future__ import annotations

import copy
import enum
import json
import tomllib
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from builders import case, contact

import stalkrisk
from stalkrisk import Level, RulePack, RulePackError
from stalkrisk._packmodel import FieldTest, condition_tests

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PACK = ROOT / "rules" / "default.yaml"
DEFAULT_TEXT = DEFAULT_PACK.read_text(encoding="utf-8")
_DEFAULT_DOC = yaml.safe_load(DEFAULT_TEXT)
DEFAULT = stalkrisk.default_rule_pack()


def default_doc(name: str = "from-data") -> dict[str, Any]:
    """A fresh copy of the bundled pack as data, renamed so that it is not the cached pack."""
    doc: dict[str, Any] = copy.deepcopy(_DEFAULT_DOC)
    doc["name"] = name
    return doc


def rule_index(doc: dict[str, Any], rule_id: str) -> int:
    return next(i for i, rule in enumerate(doc["rules"]) if rule["id"] == rule_id)


def load_error(source: Any) -> RulePackError:
    with pytest.raises(RulePackError) as info:
        stalkrisk.load_rule_pack(source)
    return info.value


def text_error(text: str, name_hint: str | None = None) -> RulePackError:
    with pytest.raises(RulePackError) as info:
        RulePack.from_text(text, name_hint=name_hint)
    return info.value


def span_test(pack: RulePack) -> FieldTest:
    """The comparison of the span in the pattern rule."""
    when = pack.rule("element.pattern").when
    return next(test for test in condition_tests(when) if test.field == "span_days")


def pattern_over_16_days() -> dict[str, Any]:
    """Two behaviours 16 days apart from a former client: a pattern under the default pack."""
    return case(
        contact("c1", 0, "following"), contact("c2", 16, "surveillance"), relationship="former"
    )


# --- the same pack from a path, a mapping or text ----------------------------------------------


def test_a_mapping_loads_to_the_pack_of_its_file() -> None:
    pack = stalkrisk.load_rule_pack(copy.deepcopy(_DEFAULT_DOC))

    assert pack == DEFAULT
    assert pack.sha256 == DEFAULT.sha256


def test_yaml_text_loads_to_the_pack_of_its_file() -> None:
    assert RulePack.from_text(DEFAULT_TEXT).sha256 == DEFAULT.sha256


def test_json_text_loads_to_the_pack_of_its_file() -> None:
    assert RulePack.from_text(json.dumps(_DEFAULT_DOC, indent=2)).sha256 == DEFAULT.sha256


def test_load_rule_pack_reads_a_str_with_a_line_break_as_yaml_text() -> None:
    assert stalkrisk.load_rule_pack(DEFAULT_TEXT) == DEFAULT


def test_load_rule_pack_reads_a_str_starting_with_a_brace_as_json_text() -> None:
    assert stalkrisk.load_rule_pack("  " + json.dumps(_DEFAULT_DOC)) == DEFAULT


def test_load_rule_pack_reads_any_other_str_as_a_path() -> None:
    error = load_error("name: one-line-yaml")

    assert error.type == "not_found"
    assert error.file == "name: one-line-yaml"


def test_load_rule_pack_takes_a_str_path_and_a_path_object() -> None:
    assert stalkrisk.load_rule_pack(str(DEFAULT_PACK)) == DEFAULT
    assert stalkrisk.load_rule_pack(DEFAULT_PACK) == DEFAULT


def test_load_rule_pack_refuses_a_source_of_another_type() -> None:
    with pytest.raises(TypeError, match="got int"):
        stalkrisk.load_rule_pack(42)  # type: ignore[arg-type]


def test_a_pack_loaded_from_a_mapping_has_mapping_as_its_file() -> None:
    pack = stalkrisk.load_rule_pack(default_doc("named-by-mapping"))

    assert pack.file == "<mapping>"
    assert pack.name == "named-by-mapping"


def test_a_pack_loaded_from_text_has_text_as_its_file() -> None:
    pack = stalkrisk.load_rule_pack(yaml.safe_dump(default_doc("named-by-text")))

    assert pack.file == "<text>"


def test_from_text_uses_the_name_hint_as_the_file() -> None:
    text = yaml.safe_dump(default_doc("named-by-hint"))

    assert RulePack.from_text(text, name_hint="mine.yaml").file == "mine.yaml"


# --- the same validation -----------------------------------------------------------------------


def test_every_problem_in_a_mapping_is_reported_naming_the_mapping_rule_and_field() -> None:
    doc = default_doc()
    index = rule_index(doc, "element.pattern")
    doc["rules"][index]["when"]["all"][1]["field"] = "span_day"
    doc["parameters"]["episode_max_gap_days"]["value"] = -90

    error = load_error(doc)

    assert [(p.file, p.rule_id, p.field, p.type) for p in error.problems] == [
        ("<mapping>", None, "parameters.episode_max_gap_days.value", "bad_value"),
        ("<mapping>", "element.pattern", f"rules[{index}].when.all[1].field", "unknown_field"),
    ]
    assert error.problems[1].suggestion == "did you mean 'span_days'?"
    assert str(error).startswith("<mapping>: 2 problems")


def test_a_problem_in_text_names_the_name_hint() -> None:
    text = DEFAULT_TEXT.replace("    min_level: police\n", "    min_level: polices\n", 1)

    error = text_error(text, name_hint="typo.yaml")

    assert (error.file, error.field, error.type) == (
        "typo.yaml",
        "actions[0].min_level",
        "not_allowed",
    )
    assert error.suggestion == "did you mean 'police'?"


def test_a_problem_in_text_without_a_name_hint_names_text() -> None:
    error = load_error(DEFAULT_TEXT.replace("name: stalkrisk-default", "name: Bad Name", 1))

    assert (error.file, error.field, error.type) == ("<text>", "name", "bad_value")


def test_text_that_is_not_yaml_data_is_a_yaml_problem() -> None:
    error = text_error("name: !!python/name:os.system x\nversion: 1\n")

    assert (error.file, error.type) == ("<text>", "yaml")


def test_text_starting_with_a_brace_is_read_as_json() -> None:
    error = text_error('{"name": "x",\n "name": "y"}')

    assert error.type == "json"
    assert "duplicate key 'name'" in error.msg


def test_the_name_hint_suffix_chooses_json_or_yaml() -> None:
    flow_yaml = "{name: x, version: 1}"  # YAML, not JSON

    assert text_error(flow_yaml, name_hint="flow.yaml").type == "missing_key"
    assert text_error(flow_yaml, name_hint="flow.json").type == "json"
    assert text_error(flow_yaml).type == "json"


def test_a_mapping_breaking_a_safety_floor_is_refused_as_a_file_is() -> None:
    doc = default_doc()
    del doc["rules"][rule_index(doc, "grade.police.threat")]

    error = load_error(doc)

    assert (error.file, error.field, error.type) == ("<mapping>", "rules", "safety_floor")


def test_a_mapping_past_a_limit_is_refused_as_a_file_is() -> None:
    doc = default_doc()
    doc["parameters"]["recent_days"]["value"] = 40_000

    error = load_error(doc)

    assert error.type == "limit"
    assert error.field == "parameters.recent_days.value"
    assert error.msg.endswith("[limit: max_days]")


def test_a_mapping_too_large_is_refused_at_the_file_size_limit() -> None:
    doc = default_doc()
    doc["description"] = "x" * 200_000

    error = load_error(doc)

    assert (error.file, error.type) == ("<mapping>", "limit")
    assert error.msg.endswith("[limit: max_file_bytes]")


def test_text_too_large_is_refused_at_the_file_size_limit() -> None:
    error = text_error(DEFAULT_TEXT + "#" * 200_000 + "\n")

    assert error.type == "limit"
    assert error.msg.endswith("[limit: max_file_bytes]")


def test_a_mapping_nested_too_deep_is_refused_at_the_depth_limit() -> None:
    doc = default_doc()
    deep: dict[str, Any] = {}
    doc["parameters"]["deep"] = deep
    for _ in range(70):
        deep["value"] = {}
        deep = deep["value"]

    error = load_error(doc)

    assert error.type == "limit"
    assert error.msg.endswith("[limit: max_document_depth]")


def test_a_mapping_that_contains_itself_is_refused_at_the_depth_limit() -> None:
    doc = default_doc()
    doc["parameters"]["loop"] = doc["parameters"]

    assert load_error(doc).msg.endswith("[limit: max_document_depth]")


def test_a_mapping_sharing_one_list_widely_is_refused_at_the_file_size_limit() -> None:
    doc = default_doc()
    shared: list[Any] = ["x" * 100]
    for _ in range(40):  # 2**40 entries if written out
        shared = [shared, shared]
    doc["parameters"]["shared"] = {"value": 1, "description": shared}

    assert load_error(doc).msg.endswith("[limit: max_file_bytes]")


def test_a_mapping_key_that_is_not_text_is_refused_with_its_path() -> None:
    doc = default_doc()
    doc["parameters"]["recent_days"][1] = "one"

    error = load_error(doc)

    assert (error.field, error.type) == ("parameters.recent_days", "wrong_type")
    assert error.msg == "key 1 is not text"


def test_a_mapping_value_that_is_not_plain_data_is_refused_with_its_path() -> None:
    doc = default_doc()
    doc["parameters"]["recent_days"]["source"] = date(2025, 1, 1)

    error = load_error(doc)

    assert (error.field, error.type) == ("parameters.recent_days.source", "wrong_type")
    assert "got date" in error.msg


def test_enum_members_and_tuples_in_a_mapping_load_as_their_plain_values() -> None:
    doc = default_doc("plain-values")
    doc["actions"][0]["min_level"] = Level.POLICE
    doc["actions"][0]["relationships"] = tuple(doc["actions"][0].get("relationships", ["former"]))

    class Days(enum.IntEnum):
        WEEK = 7

    doc["parameters"]["recent_days"]["value"] = Days.WEEK

    pack = stalkrisk.load_rule_pack(doc)

    written = pack.to_dict()
    assert type(written["actions"][0]["min_level"]) is str
    assert type(written["parameters"]["recent_days"]["value"]) is int
    assert isinstance(written["actions"][0]["relationships"], list)
    assert pack.sha256 == stalkrisk.load_rule_pack(json.loads(json.dumps(doc))).sha256


def test_changing_the_mapping_after_loading_does_not_change_the_pack() -> None:
    doc = default_doc("kept-apart")
    pack = stalkrisk.load_rule_pack(doc)

    doc["parameters"]["recent_days"]["value"] = 3

    assert pack.to_dict()["parameters"]["recent_days"]["value"] == 7
    assert pack.parameter("recent_days") == 7


# --- with_parameters ---------------------------------------------------------------------------


def test_with_parameters_changes_the_value_and_the_conditions_citing_it() -> None:
    pack = DEFAULT.with_parameters(pattern_min_span_days=21)

    span = span_test(pack)
    assert pack.parameter("pattern_min_span_days") == 21
    assert (span.field, span.param, span.value) == ("span_days", "pattern_min_span_days", 21)


def test_with_parameters_changes_the_notes_that_show_the_parameter() -> None:
    pack = DEFAULT.with_parameters(long_relationship_months=12)

    assert "12 months or more" in str(pack.rule("note.long_relationship").note)


def test_with_parameters_changes_the_assessment() -> None:
    stricter = DEFAULT.with_parameters(pattern_min_span_days=21)

    assert stalkrisk.assess(pattern_over_16_days()).elements.pattern.present
    assert not stalkrisk.assess(pattern_over_16_days(), rule_pack=stricter).elements.pattern.present


def test_with_parameters_leaves_the_original_pack_unchanged() -> None:
    DEFAULT.with_parameters(pattern_min_span_days=21)

    assert DEFAULT.parameter("pattern_min_span_days") == 14
    assert DEFAULT.to_dict() == _DEFAULT_DOC


def test_with_parameters_has_its_own_sha256_equal_to_that_of_an_equivalent_file(
    tmp_path: Path,
) -> None:
    doc = copy.deepcopy(_DEFAULT_DOC)
    doc["parameters"]["recent_days"]["value"] = 10
    path = tmp_path / "ten.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")

    changed = DEFAULT.with_parameters(recent_days=10)

    assert changed.sha256 != DEFAULT.sha256
    assert changed.sha256 == stalkrisk.load_rule_pack(path).sha256


def test_with_parameters_names_the_original_file_and_the_changes() -> None:
    pack = stalkrisk.load_rule_pack(default_doc("provenance"))

    changed = pack.with_parameters(recent_days=10, burst_day_min=12)

    assert changed.file == "<mapping> with recent_days=10, burst_day_min=12"


def test_with_parameters_of_unchanged_values_gives_an_equal_pack() -> None:
    assert DEFAULT.with_parameters(recent_days=7) == DEFAULT
    assert DEFAULT.with_parameters() is DEFAULT


def test_with_parameters_refuses_an_unknown_name_with_a_suggestion() -> None:
    with pytest.raises(RulePackError) as info:
        DEFAULT.with_parameters(recent_day=10, nothing_like_it=1)

    error = info.value
    assert [(p.field, p.type, p.suggestion) for p in error.problems] == [
        ("parameters.recent_day", "unknown_parameter", "did you mean 'recent_days'?"),
        ("parameters.nothing_like_it", "unknown_parameter", None),
    ]
    assert error.file == DEFAULT.file


def test_with_parameters_validates_the_new_values_as_loading_does() -> None:
    with pytest.raises(RulePackError) as info:
        DEFAULT.with_parameters(recent_days=40_000, burst_day_min=-1)

    problems = {(p.field, p.type) for p in info.value.problems}
    assert problems == {("parameters.burst_day_min.value", "bad_value")}  # structure first
    assert info.value.file.endswith("default.yaml with recent_days=40000, burst_day_min=-1")


def test_with_parameters_checks_the_day_limit() -> None:
    with pytest.raises(RulePackError) as info:
        DEFAULT.with_parameters(recent_days=40_000)

    assert info.value.field == "parameters.recent_days.value"
    assert info.value.msg.endswith("[limit: max_days]")


def test_with_parameters_refuses_a_value_that_is_not_a_number() -> None:
    with pytest.raises(RulePackError) as info:
        DEFAULT.with_parameters(recent_days="seven")  # type: ignore[arg-type]

    assert (info.value.field, info.value.type) == ("parameters.recent_days.value", "wrong_type")


# --- to_dict and to_yaml -----------------------------------------------------------------------


@pytest.mark.parametrize("pack", stalkrisk.bundled_packs(), ids=lambda pack: pack.name)
def test_a_bundled_pack_reads_back_from_to_dict_to_an_equal_pack(pack: RulePack) -> None:
    assert stalkrisk.load_rule_pack(pack.to_dict()).sha256 == pack.sha256


@pytest.mark.parametrize("pack", stalkrisk.bundled_packs(), ids=lambda pack: pack.name)
def test_a_bundled_pack_reads_back_from_to_yaml_to_an_equal_pack(pack: RulePack) -> None:
    assert RulePack.from_text(pack.to_yaml()).sha256 == pack.sha256


@pytest.mark.parametrize("pack", stalkrisk.bundled_packs(), ids=lambda pack: pack.name)
def test_to_dict_is_the_data_of_the_bundled_file(pack: RulePack) -> None:
    assert pack.to_dict() == yaml.safe_load(Path(pack.file).read_text(encoding="utf-8"))


def test_a_with_parameters_pack_reads_back_from_to_dict_and_to_yaml() -> None:
    changed = DEFAULT.with_parameters(pattern_min_span_days=21, recent_days=5)

    assert stalkrisk.load_rule_pack(changed.to_dict()).sha256 == changed.sha256
    assert RulePack.from_text(changed.to_yaml()).sha256 == changed.sha256


def test_parameter_references_survive_the_round_trip() -> None:
    changed = DEFAULT.with_parameters(pattern_min_span_days=21)
    index = rule_index(changed.to_dict(), "element.pattern")

    again = stalkrisk.load_rule_pack(yaml.safe_load(changed.to_yaml()))

    condition = again.to_dict()["rules"][index]["when"]["all"][1]
    assert condition == {"field": "span_days", "gte": {"param": "pattern_min_span_days"}}
    span = span_test(again)
    assert (span.param, span.value) == ("pattern_min_span_days", 21)


def test_note_placeholders_survive_the_round_trip() -> None:
    written = DEFAULT.to_dict()

    note = written["rules"][rule_index(written, "note.long_relationship")]["then"]["note"]
    assert "{long_relationship_months} months" in note


def test_to_dict_gives_a_new_copy_each_call() -> None:
    first = DEFAULT.to_dict()
    first["name"] = "changed"

    assert DEFAULT.to_dict()["name"] == "stalkrisk-default"


def test_to_dict_keeps_the_order_of_the_keys() -> None:
    assert list(DEFAULT.to_dict()) == list(_DEFAULT_DOC)


def test_to_yaml_writes_each_comparison_on_one_line() -> None:
    text = DEFAULT.to_yaml()

    assert "- {field: span_days, gte: {param: pattern_min_span_days}}" in text


# --- the bundled packs -------------------------------------------------------------------------


def test_the_default_pack_file_is_an_absolute_path_that_exists() -> None:
    path = Path(DEFAULT.file)

    assert path.is_absolute()
    assert path.is_file()
    assert path.name == "default.yaml"


def test_bundled_packs_start_with_the_default_pack() -> None:
    assert stalkrisk.bundled_packs()[0] is DEFAULT


def test_bundled_packs_hold_every_yaml_file_of_the_rules_folder() -> None:
    shipped = {path.name for path in (ROOT / "rules").glob("*.yaml")}

    assert {Path(pack.file).name for pack in stalkrisk.bundled_packs()} == shipped


def test_every_bundled_pack_file_is_an_absolute_path_that_exists() -> None:
    for pack in stalkrisk.bundled_packs():
        assert Path(pack.file).is_absolute()
        assert Path(pack.file).is_file()


def test_bundled_packs_are_loaded_once() -> None:
    assert stalkrisk.bundled_packs() is stalkrisk.bundled_packs()


def test_the_wheel_ships_the_whole_rules_folder() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))

    force_include = config["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert force_include["rules"] == "stalkrisk/_rules"
