"""Loading rule packs: one RulePackError lists every defect, naming file, rule and field.

Malformed packs are built from the bundled ``rules/default.yaml``: load it as
data, change one thing, write it to ``tmp_path`` and load that.  Where the
defect only exists in YAML text (tags, duplicate keys, bare ``on:``) the raw
text is edited instead.
"""

from __future__ import annotations

import copy
import json
import pickle
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from builders import case, contact

import stalkrisk
from stalkrisk import Level, RulePackError
from stalkrisk._exceptions import MAX_RULE_PACK_PROBLEMS, RULE_PACK_PROBLEM_TYPES

DEFAULT_PACK = Path(__file__).resolve().parents[1] / "rules" / "default.yaml"
DEFAULT_TEXT = DEFAULT_PACK.read_text(encoding="utf-8")
_DEFAULT_DOC = yaml.safe_load(DEFAULT_TEXT)


# --- helpers ---------------------------------------------------------------


def default_doc() -> dict[str, Any]:
    """A fresh, mutable copy of the bundled pack as plain data."""
    return copy.deepcopy(_DEFAULT_DOC)


def write_pack(tmp_path: Path, doc: Any, name: str = "pack.yaml") -> Path:
    """Write ``doc`` as YAML (or JSON when ``name`` ends in .json) and return the path."""
    path = tmp_path / name
    if name.endswith(".json"):
        path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    else:
        path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def write_text(tmp_path: Path, text: str, name: str = "pack.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def rule_at(doc: dict[str, Any], rule_id: str) -> tuple[int, dict[str, Any]]:
    """The position and body of the rule ``rule_id`` in ``doc``."""
    for index, rule in enumerate(doc["rules"]):
        if rule["id"] == rule_id:
            return index, rule
    raise KeyError(rule_id)


def behaviour_at(doc: dict[str, Any], code: str) -> int:
    return next(i for i, b in enumerate(doc["behaviours"]) if b["code"] == code)


def load_error(path: Path) -> RulePackError:
    """Load ``path`` and return the RulePackError it must raise."""
    with pytest.raises(RulePackError) as info:
        stalkrisk.load_rule_pack(path)
    return info.value


def line_of(text: str, needle: str) -> int:
    """1-based number of the first line of ``text`` that starts with ``needle``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(needle):
            return number
    raise ValueError(needle)


# --- the error itself --------------------------------------------------------


def test_error_message_names_file_rule_and_field(tmp_path: Path) -> None:
    doc = default_doc()
    index, rule = rule_at(doc, "element.fear.reported")
    del rule["rationale"]
    path = write_pack(tmp_path, doc)

    error = load_error(path)

    assert str(error) == (
        f"{path}, rule 'element.fear.reported', field rules[{index}].rationale: "
        "missing required key"
    )


def test_rule_pack_error_is_a_value_error_and_a_stalkrisk_error(tmp_path: Path) -> None:
    error = load_error(write_text(tmp_path, ""))

    assert isinstance(error, ValueError)
    assert isinstance(error, stalkrisk.StalkriskError)


# --- rules: keys ------------------------------------------------------------


def test_rule_missing_required_key_names_rule_and_key(tmp_path: Path) -> None:
    doc = default_doc()
    index, rule = rule_at(doc, "grade.consultation.fear")
    del rule["rationale"]

    error = load_error(write_pack(tmp_path, doc))

    assert error.file == str(tmp_path / "pack.yaml")
    assert error.rule_id == "grade.consultation.fear"
    assert error.field == f"rules[{index}].rationale"
    assert "missing required key" in error.msg
    assert error.type == "missing_key"


def test_rule_with_unknown_key_names_rule_and_key(tmp_path: Path) -> None:
    doc = default_doc()
    index, rule = rule_at(doc, "urgent.weapon")
    rule["priority"] = 1

    error = load_error(write_pack(tmp_path, doc))

    assert error.rule_id == "urgent.weapon"
    assert error.field == f"rules[{index}].priority"
    assert "unknown key" in error.msg
    assert error.type == "unknown_key"


def test_misspelt_rule_key_suggests_the_known_key(tmp_path: Path) -> None:
    doc = default_doc()
    index, rule = rule_at(doc, "urgent.weapon")
    rule["rationle"] = rule.pop("rationale")

    error = load_error(write_pack(tmp_path, doc))

    assert error.field == f"rules[{index}].rationle"
    assert "did you mean 'rationale'?" in error.msg


def test_duplicate_rule_id_names_the_second_rule(tmp_path: Path) -> None:
    doc = default_doc()
    first, _ = rule_at(doc, "grade.consultation.pattern")
    second, rule = rule_at(doc, "grade.consultation.fear")
    rule["id"] = "grade.consultation.pattern"
    assert second > first

    error = load_error(write_pack(tmp_path, doc))

    assert error.rule_id == "grade.consultation.pattern"
    assert error.field == f"rules[{second}].id"
    assert "duplicate rule id" in error.msg
    assert error.type == "duplicate"


# --- the behaviour catalogue -------------------------------------------------


def test_unknown_behaviour_code_in_catalogue_names_entry_and_choices(tmp_path: Path) -> None:
    doc = default_doc()
    index = behaviour_at(doc, "loitering")
    doc["behaviours"][index]["code"] = "drone_surveillance"

    error = load_error(write_pack(tmp_path, doc))

    assert error.rule_id is None
    assert error.field == f"behaviours[{index}].code"
    assert "'drone_surveillance' is not one of" in error.msg
    assert "loitering" in error.msg
    assert error.type == "not_allowed"


def test_catalogue_missing_a_behaviour_names_the_missing_code(tmp_path: Path) -> None:
    doc = default_doc()
    del doc["behaviours"][behaviour_at(doc, "gift")]

    error = load_error(write_pack(tmp_path, doc))

    assert error.rule_id is None
    assert error.field == "behaviours"
    assert "gift" in error.msg
    assert "lacks" in error.msg
    assert error.type == "bad_value"


def test_behaviour_in_unknown_group_names_entry_and_suggests_group(tmp_path: Path) -> None:
    doc = default_doc()
    index = behaviour_at(doc, "following")
    doc["behaviours"][index]["group"] = "stalkng"

    error = load_error(write_pack(tmp_path, doc))

    assert error.rule_id is None
    assert error.field == f"behaviours[{index}].group"
    assert "'stalkng' is not one of stalking, boundary, escalation" in error.msg
    assert "did you mean 'stalking'?" in error.msg
    assert error.suggestion == "did you mean 'stalking'?"


# --- levels ----------------------------------------------------------------------


def test_unknown_level_in_rule_then_names_rule_and_ladder(tmp_path: Path) -> None:
    doc = default_doc()
    index, rule = rule_at(doc, "grade.consultation.fear")
    rule["then"] = {"level": "emergency"}

    error = load_error(write_pack(tmp_path, doc))

    assert error.rule_id == "grade.consultation.fear"
    assert error.field == f"rules[{index}].then.level"
    assert "'emergency' is not one of none, reflective, boundaries" in error.msg


def test_levels_out_of_ladder_order_names_first_misplaced_level(tmp_path: Path) -> None:
    doc = default_doc()
    levels = doc["levels"]
    levels[2], levels[3] = levels[3], levels[2]

    error = load_error(write_pack(tmp_path, doc))

    assert error.rule_id is None
    assert error.field == "levels[2].code"
    assert "expected 'boundaries' here" in error.msg
    assert error.type == "bad_value"
    assert "none, reflective, boundaries, consultation, referral, police" in error.msg


def test_ladder_missing_a_level_is_refused(tmp_path: Path) -> None:
    doc = default_doc()
    doc["levels"].pop()

    error = load_error(write_pack(tmp_path, doc))

    assert error.rule_id is None
    assert error.field == "levels"
    assert "in that order" in error.msg


# --- conditions ------------------------------------------------------------------


def test_unknown_condition_field_names_file_rule_and_field(tmp_path: Path) -> None:
    doc = default_doc()
    index, rule = rule_at(doc, "element.threat.behaviour")
    rule["when"]["all"][0]["field"] = "threat_contact"
    path = write_pack(tmp_path, doc)

    error = load_error(path)

    assert error.file == str(path)
    assert error.rule_id == "element.threat.behaviour"
    assert error.field == f"rules[{index}].when.all[0].field"
    assert "unknown field 'threat_contact'" in error.msg
    assert "did you mean 'threat_contacts'?" in error.msg
    assert error.type == "unknown_field"


def test_condition_on_a_field_of_another_fact_is_refused(tmp_path: Path) -> None:
    doc = default_doc()
    index, rule = rule_at(doc, "element.pattern")
    rule["when"]["all"][1]["field"] = "max_span_days"

    error = load_error(write_pack(tmp_path, doc))

    assert error.rule_id == "element.pattern"
    assert error.field == f"rules[{index}].when.all[1].field"
    assert "for a rule on 'episode'" in error.msg


def test_bool_field_compared_with_gte_is_refused(tmp_path: Path) -> None:
    doc = default_doc()
    index, rule = rule_at(doc, "element.fear.family")
    rule["when"]["all"][0] = {"field": "family_afraid", "gte": True}

    error = load_error(write_pack(tmp_path, doc))

    assert error.rule_id == "element.fear.family"
    assert error.field == f"rules[{index}].when.all[0]"
    assert "family_afraid can only be compared with eq or ne" in error.msg
    assert error.type == "bad_operator"


def test_bool_field_compared_with_a_number_is_refused(tmp_path: Path) -> None:
    doc = default_doc()
    index, rule = rule_at(doc, "element.fear.family")
    rule["when"]["all"][0] = {"field": "family_afraid", "eq": 1}

    error = load_error(write_pack(tmp_path, doc))

    assert error.field == f"rules[{index}].when.all[0].eq"
    assert "family_afraid is true or false, got int" in error.msg
    assert error.type == "wrong_type"


def test_condition_with_two_operators_is_refused(tmp_path: Path) -> None:
    doc = default_doc()
    index, rule = rule_at(doc, "element.threat.behaviour")
    rule["when"]["all"][0] = {"field": "threat_contacts", "gte": 1, "lte": 3}

    error = load_error(write_pack(tmp_path, doc))

    assert error.field == f"rules[{index}].when.all[0]"
    assert "exactly one operator" in error.msg
    assert error.type == "bad_operator"


# --- parameters --------------------------------------------------------------------


def test_negative_parameter_names_the_parameter(tmp_path: Path) -> None:
    doc = default_doc()
    doc["parameters"]["recent_days"]["value"] = -1

    error = load_error(write_pack(tmp_path, doc))

    assert error.rule_id is None
    assert error.field == "parameters.recent_days.value"
    assert "must not be negative" in error.msg
    assert error.type == "bad_value"


@pytest.mark.parametrize(
    ("value", "type_name"),
    [("14", "str"), (True, "bool"), (None, "nothing"), ([14], "list")],
)
def test_parameter_that_is_not_a_number_names_the_parameter_and_type(
    tmp_path: Path, value: Any, type_name: str
) -> None:
    doc = default_doc()
    doc["parameters"]["pattern_min_span_days"]["value"] = value

    error = load_error(write_pack(tmp_path, doc))

    assert error.rule_id is None
    assert error.field == "parameters.pattern_min_span_days.value"
    assert error.msg == f"expected a number, got {type_name}"
    assert error.type == "wrong_type"


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_parameter_that_is_not_finite_is_refused(tmp_path: Path, value: float) -> None:
    doc = default_doc()
    doc["parameters"]["recent_days"]["value"] = value

    error = load_error(write_pack(tmp_path, doc))

    assert error.field == "parameters.recent_days.value"
    assert "finite" in error.msg


def test_fractional_minimum_of_distinct_behaviours_is_refused(tmp_path: Path) -> None:
    doc = default_doc()
    doc["parameters"]["pattern_min_distinct_behaviours"]["value"] = 1.5

    error = load_error(write_pack(tmp_path, doc))

    assert error.field == "parameters.pattern_min_distinct_behaviours.value"
    assert "whole number" in error.msg


def test_condition_referencing_unknown_parameter_suggests_close_match(tmp_path: Path) -> None:
    doc = default_doc()
    index, rule = rule_at(doc, "element.pattern")
    rule["when"]["all"][1]["gte"] = {"param": "pattern_min_span_day"}

    error = load_error(write_pack(tmp_path, doc))

    assert error.rule_id == "element.pattern"
    assert error.field == f"rules[{index}].when.all[1].gte.param"
    assert "unknown parameter 'pattern_min_span_day'" in error.msg
    assert "did you mean 'pattern_min_span_days'?" in error.msg
    assert error.type == "unknown_parameter"


def test_parameter_reference_that_is_not_a_name_is_a_rule_pack_error(tmp_path: Path) -> None:
    # A list where a parameter name belongs is a data mistake; it must not escape as TypeError.
    doc = default_doc()
    index, rule = rule_at(doc, "element.pattern")
    rule["when"]["all"][1]["gte"] = {"param": ["pattern_min_span_days"]}

    error = load_error(write_pack(tmp_path, doc))

    assert error.rule_id == "element.pattern"
    assert error.field == f"rules[{index}].when.all[1].gte.param"


@pytest.mark.parametrize("name", ["recent_days", "pattern_min_span_days"])
def test_missing_required_parameter_names_it(tmp_path: Path, name: str) -> None:
    doc = default_doc()
    del doc["parameters"][name]

    error = load_error(write_pack(tmp_path, doc))

    assert error.rule_id is None
    assert error.field == f"parameters.{name}"
    assert "missing required key" in error.msg


# --- effects -----------------------------------------------------------------------


def test_urgent_rule_that_does_not_set_police_is_refused(tmp_path: Path) -> None:
    doc = default_doc()
    index, rule = rule_at(doc, "urgent.weapon")
    rule["then"] = {"level": "referral", "urgent": True}

    error = load_error(write_pack(tmp_path, doc))

    assert error.rule_id == "urgent.weapon"
    assert error.field == f"rules[{index}].then.urgent"
    assert "must also set level: police" in error.msg
    assert error.type == "bad_effect"


def test_element_effect_on_a_grade_fact_is_refused(tmp_path: Path) -> None:
    doc = default_doc()
    index, rule = rule_at(doc, "element.threat.behaviour")
    rule["fact"] = "grade"

    error = load_error(write_pack(tmp_path, doc))

    assert error.rule_id == "element.threat.behaviour"
    assert error.field == f"rules[{index}].fact"
    assert "an element rule must be on fact 'episode' or 'case'" in error.msg
    assert error.type == "bad_effect"


def test_level_effect_on_a_case_fact_is_refused(tmp_path: Path) -> None:
    doc = default_doc()
    index, rule = rule_at(doc, "grade.boundaries.repeated_contact")
    rule["fact"] = "case"

    error = load_error(write_pack(tmp_path, doc))

    assert error.rule_id == "grade.boundaries.repeated_contact"
    assert error.field == f"rules[{index}].fact"
    assert "a level rule must be on fact 'episode' or 'grade'" in error.msg


def test_level_effect_on_an_episode_fact_is_accepted(tmp_path: Path) -> None:
    doc = default_doc()
    _, rule = rule_at(doc, "grade.consultation.persistence")

    pack = stalkrisk.load_rule_pack(write_pack(tmp_path, doc))

    assert rule["fact"] == "episode"
    assert pack.rule("grade.consultation.persistence").on == "episode"


def test_note_effect_on_an_episode_fact_is_refused(tmp_path: Path) -> None:
    doc = default_doc()
    index, rule = rule_at(doc, "note.stale_ongoing")
    rule["fact"] = "episode"
    rule["when"] = {"all": [{"field": "contacts", "gte": 1}]}

    error = load_error(write_pack(tmp_path, doc))

    assert error.rule_id == "note.stale_ongoing"
    assert error.field == f"rules[{index}].fact"
    assert "a note rule must be on fact 'grade'" in error.msg


def test_rule_with_two_effects_is_refused(tmp_path: Path) -> None:
    doc = default_doc()
    index, rule = rule_at(doc, "grade.police.threat")
    rule["then"] = {"level": "police", "note": "Call them."}

    error = load_error(write_pack(tmp_path, doc))

    assert error.field == f"rules[{index}].then"
    assert "exactly one of element, level or note" in error.msg
    assert error.type == "bad_effect"


# --- YAML and the file itself ------------------------------------------------------


@pytest.mark.parametrize(
    "tag", ["!!python/object/apply:os.system", "!!python/object/new:os.system"]
)
def test_python_tag_is_refused_and_never_run(tmp_path: Path, tag: str) -> None:
    pwned = tmp_path / "pwned"
    path = write_text(tmp_path, f'{tag} ["touch {pwned}"]\n')

    error = load_error(path)

    assert not pwned.exists()
    assert error.file == str(path)
    assert error.rule_id is None
    assert error.field is None
    assert "not valid YAML data" in error.msg
    assert "only plain data is allowed" in error.msg
    assert error.type == "yaml"


def test_python_tag_inside_a_rule_is_refused_and_never_run(tmp_path: Path) -> None:
    pwned = tmp_path / "pwned"
    needle = "    rationale: Violence within the last days is imminent danger.\n"
    assert needle in DEFAULT_TEXT
    text = DEFAULT_TEXT.replace(
        needle, f'    rationale: !!python/object/apply:os.system ["touch {pwned}"]\n'
    )

    error = load_error(write_text(tmp_path, text))

    assert not pwned.exists()
    assert error.field is None
    assert "python/object/apply" in error.msg


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_empty_file_is_refused(tmp_path: Path, text: str) -> None:
    path = write_text(tmp_path, text)

    error = load_error(path)

    assert error.file == str(path)
    assert error.rule_id is None
    assert error.field is None
    assert error.msg == "the rule pack is empty"
    assert error.type == "wrong_type"


@pytest.mark.parametrize(
    ("text", "type_name"), [("- a\n- b\n", "list"), ("just text\n", "str"), ("42\n", "int")]
)
def test_file_that_is_not_a_mapping_is_refused(tmp_path: Path, text: str, type_name: str) -> None:
    error = load_error(write_text(tmp_path, text))

    assert error.rule_id is None
    assert error.field is None
    assert error.msg == f"expected a mapping, got {type_name}"


def test_duplicate_yaml_key_is_refused_with_its_line(tmp_path: Path) -> None:
    needle = "    title: A weapon present or named in a threat, recently\n"
    assert needle in DEFAULT_TEXT
    text = DEFAULT_TEXT.replace(needle, needle + "    title: A second title\n")
    duplicate_line = line_of(text, "    title: A second title")

    error = load_error(write_text(tmp_path, text))

    assert error.rule_id is None
    assert error.field is None
    assert "duplicate key 'title'" in error.msg
    assert f"line {duplicate_line}," in error.msg


def test_duplicate_top_level_yaml_key_is_refused(tmp_path: Path) -> None:
    text = DEFAULT_TEXT + "\nname: shadow-pack\n"

    error = load_error(write_text(tmp_path, text))

    assert "duplicate key 'name'" in error.msg


@pytest.mark.parametrize("word", ["on", "yes", "off"])
def test_bare_boolean_word_as_key_is_refused_with_a_hint(tmp_path: Path, word: str) -> None:
    # `on: episode` reads as {True: "episode"} in YAML 1.1.
    needle = "    fact: episode\n"
    assert needle in DEFAULT_TEXT
    text = DEFAULT_TEXT.replace(needle, f"    {word}: episode\n", 1)
    key_line = line_of(text, f"    {word}: episode")

    error = load_error(write_text(tmp_path, text))

    assert error.rule_id is None
    assert error.field is None
    assert "is not text" in error.msg
    assert "quote it" in error.msg
    assert f"line {key_line}," in error.msg


def test_quoted_on_key_is_an_ordinary_unknown_key(tmp_path: Path) -> None:
    doc = default_doc()
    index, rule = rule_at(doc, "element.pattern")
    rule["on"] = rule.pop("fact")

    error = load_error(write_pack(tmp_path, doc))

    assert error.rule_id == "element.pattern"
    assert error.field == f"rules[{index}].on"
    assert "unknown key" in error.msg


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    error = load_error(write_text(tmp_path, "name: [unclosed\nversion: 1\n"))

    assert error.field is None
    assert "not valid YAML data at line" in error.msg


def test_recursive_yaml_alias_is_a_rule_pack_error(tmp_path: Path) -> None:
    # Anchors may build a self-referencing value; that must be refused, not crash the hashing.
    doc_start = DEFAULT_TEXT.index("description: >-\n")
    doc_end = DEFAULT_TEXT.index("\nparameters:")
    text = DEFAULT_TEXT[:doc_start] + "description: &loop [*loop]\n" + DEFAULT_TEXT[doc_end:]

    error = load_error(write_text(tmp_path, text))

    assert error.file == str(tmp_path / "pack.yaml")


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"

    error = load_error(path)

    assert error.file == str(path)
    assert "cannot read the file" in error.msg
    assert error.type == "not_found"


def test_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pack.yaml"
    path.write_bytes(b"name: \xff\xfe\n")

    error = load_error(path)

    assert error.msg == "the file is not UTF-8 text"
    assert error.type == "unreadable"


# --- JSON packs ----------------------------------------------------------------------


def test_default_pack_dumped_as_json_loads_as_the_same_pack(tmp_path: Path) -> None:
    path = write_pack(tmp_path, default_doc(), name="default.json")

    pack = stalkrisk.load_rule_pack(path)

    default = stalkrisk.default_rule_pack()
    assert pack.sha256 == default.sha256
    assert [rule.id for rule in pack.rules] == [rule.id for rule in default.rules]


def test_changed_json_pack_loads_and_assesses(tmp_path: Path) -> None:
    doc = default_doc()
    doc["version"] = "1.0.0-json"
    path = write_pack(tmp_path, doc, name="custom.json")

    pack = stalkrisk.load_rule_pack(path)
    result = stalkrisk.assess(case(contact("c1", 0, "threat")), rule_pack=pack)

    assert pack.file == str(path)
    assert pack.version == "1.0.0-json"
    assert result.level is Level.POLICE
    assert result.rule_pack.version == "1.0.0-json"


def test_json_pack_error_names_the_json_file_and_field(tmp_path: Path) -> None:
    doc = default_doc()
    index, rule = rule_at(doc, "grade.police.threat")
    rule["then"] = {"level": "polce"}
    path = write_pack(tmp_path, doc, name="custom.json")

    error = load_error(path)

    assert error.file == str(path)
    assert error.rule_id == "grade.police.threat"
    assert error.field == f"rules[{index}].then.level"
    assert "did you mean 'police'?" in error.msg


def test_json_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = write_text(tmp_path, '{\n  "name": "x",\n  "version": \n}\n', name="broken.json")

    error = load_error(path)

    assert error.file == str(path)
    assert error.field is None
    assert "not valid JSON at line 4, column 1" in error.msg
    assert error.type == "json"


def test_duplicate_json_key_is_refused(tmp_path: Path) -> None:
    # The YAML loader refuses duplicate keys; JSON must not silently keep the last one.
    text = json.dumps(default_doc(), indent=2).replace(
        '"name": "stalkrisk-default"', '"name": "shadow-pack",\n  "name": "stalkrisk-default"', 1
    )
    assert text.count('"name": "stalkrisk-default"') == 1

    error = load_error(write_text(tmp_path, text, name="dup.json"))

    assert "duplicate key 'name'" in error.msg


# --- safety floors ---------------------------------------------------------------------


def test_pack_without_police_threat_rule_breaks_a_safety_floor(tmp_path: Path) -> None:
    doc = default_doc()
    index, _ = rule_at(doc, "grade.police.threat")
    del doc["rules"][index]
    path = write_pack(tmp_path, doc)

    error = load_error(path)

    assert error.file == str(path)
    assert error.rule_id is None
    assert error.field == "rules"
    assert "breaks a safety floor" in error.msg
    assert "'threat'" in error.msg
    assert "expected police" in error.msg
    assert error.type == "safety_floor"


def test_pack_that_lowers_the_threat_rule_breaks_a_safety_floor(tmp_path: Path) -> None:
    doc = default_doc()
    _, rule = rule_at(doc, "grade.police.threat")
    rule["then"] = {"level": "consultation"}

    error = load_error(write_pack(tmp_path, doc))

    assert error.field == "rules"
    assert "graded 'consultation', expected police" in error.msg


def test_floor_breaking_pack_fails_the_same_way_when_loaded_again(tmp_path: Path) -> None:
    doc = default_doc()
    del doc["rules"][rule_at(doc, "grade.police.threat")[0]]
    path = write_pack(tmp_path, doc)

    first = load_error(path)
    second = load_error(path)

    assert str(second) == str(first)


def test_pack_that_adds_a_rule_raising_a_grade_is_accepted(tmp_path: Path) -> None:
    doc = default_doc()
    doc["rules"].append(
        {
            "id": "grade.consultation.many_gifts",
            "title": "Gifts keep coming",
            "fact": "grade",
            "when": {"all": [{"field": "gift_contacts", "gte": 3}]},
            "then": {"level": "consultation"},
            "rationale": "Three gifts despite boundaries need a supervisor.",
            "source": "test",
        }
    )
    gifts = case(contact("g1", 0, "gift"), contact("g2", 2, "gift"), contact("g3", 4, "gift"))

    pack = stalkrisk.load_rule_pack(write_pack(tmp_path, doc))

    assert pack.rule("grade.consultation.many_gifts").level is Level.CONSULTATION
    assert stalkrisk.assess(gifts, rule_pack=pack).level is Level.CONSULTATION
    assert stalkrisk.assess(gifts).level is Level.REFLECTIVE


# --- identity: loading twice and the content hash ------------------------------------------


def test_loading_the_same_pack_file_twice_returns_an_equal_pack(tmp_path: Path) -> None:
    doc = default_doc()
    doc["version"] = "9.9.9"
    path = write_pack(tmp_path, doc)

    first = stalkrisk.load_rule_pack(path)
    second = stalkrisk.load_rule_pack(path)

    assert second == first
    assert second.sha256 == first.sha256
    assert stalkrisk.assess(case(contact("c1", 0, "gift")), rule_pack=second).level is (
        Level.REFLECTIVE
    )


def test_loading_the_bundled_file_equals_the_default_pack() -> None:
    loaded = stalkrisk.load_rule_pack(DEFAULT_PACK)

    assert loaded.sha256 == stalkrisk.default_rule_pack().sha256
    assert loaded == stalkrisk.default_rule_pack()


def _set_rule_title(doc: dict[str, Any]) -> None:
    rule_at(doc, "grade.consultation.fear")[1]["title"] = "The clinician is afraid"


def _set_rule_rationale(doc: dict[str, Any]) -> None:
    rule_at(doc, "urgent.weapon")[1]["rationale"] = "A weapon means imminent danger."


def _set_rule_source(doc: dict[str, Any]) -> None:
    rule_at(doc, "note.former_client")[1]["source"] = "[seed-000], p. 2"


def _set_rule_note(doc: dict[str, Any]) -> None:
    rule_at(doc, "note.former_client")[1]["then"]["note"] = "There is no therapy to end."


def _set_condition_value(doc: dict[str, Any]) -> None:
    rule_at(doc, "element.fear.reported")[1]["when"]["all"][0]["gte"] = 1


def _set_rule_level(doc: dict[str, Any]) -> None:
    rule_at(doc, "grade.consultation.after_warning")[1]["then"]["level"] = "referral"


@pytest.mark.parametrize(
    "change",
    [
        _set_rule_title,
        _set_rule_rationale,
        _set_rule_source,
        _set_rule_note,
        _set_condition_value,
        _set_rule_level,
    ],
)
def test_sha256_changes_when_a_rule_changes(tmp_path: Path, change: Any) -> None:
    doc = default_doc()
    change(doc)

    pack = stalkrisk.load_rule_pack(write_pack(tmp_path, doc))

    assert pack.sha256 != stalkrisk.default_rule_pack().sha256


def test_sha256_ignores_yaml_comments_and_blank_lines(tmp_path: Path) -> None:
    text = "# a new comment at the top\n\n" + DEFAULT_TEXT.replace(
        "rules:\n", "rules:\n  # a comment between rules\n\n", 1
    )
    assert text != DEFAULT_TEXT

    pack = stalkrisk.load_rule_pack(write_text(tmp_path, text))

    assert pack.sha256 == stalkrisk.default_rule_pack().sha256


def _reversed_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _reversed_keys(value[key]) for key in reversed(list(value))}
    if isinstance(value, list):
        return [_reversed_keys(item) for item in value]
    return value


def test_sha256_ignores_key_order(tmp_path: Path) -> None:
    reordered = _reversed_keys(default_doc())
    assert list(reordered) != list(_DEFAULT_DOC)
    path = tmp_path / "reordered.yaml"
    path.write_text(yaml.safe_dump(reordered, sort_keys=False), encoding="utf-8")

    pack = stalkrisk.load_rule_pack(path)

    assert pack.sha256 == stalkrisk.default_rule_pack().sha256


def test_sha256_is_a_hex_digest() -> None:
    sha = stalkrisk.default_rule_pack().sha256

    assert len(sha) == 64
    assert set(sha) <= set("0123456789abcdef")


# --- custom packs in the same process -------------------------------------------------------


def _ten_day_two_behaviour_case() -> dict[str, Any]:
    return case(
        contact("c1", 0, "unwanted_calls"),
        contact("c2", 10, "unwanted_correspondence"),
    )


def test_custom_span_parameter_meets_pattern_the_default_does_not(tmp_path: Path) -> None:
    doc = default_doc()
    doc["parameters"]["pattern_min_span_days"]["value"] = 7
    custom = stalkrisk.load_rule_pack(write_pack(tmp_path, doc))
    default = stalkrisk.default_rule_pack()

    before = stalkrisk.assess(_ten_day_two_behaviour_case())
    with_custom = stalkrisk.assess(_ten_day_two_behaviour_case(), rule_pack=custom)
    after = stalkrisk.assess(_ten_day_two_behaviour_case())

    assert with_custom.elements.pattern.present
    assert with_custom.threshold.met
    assert with_custom.threshold.min_span_days == 7
    assert with_custom.rule_pack.sha256 == custom.sha256
    for result in (before, after):
        assert not result.elements.pattern.present
        assert not result.threshold.met
        assert result.rule_pack.sha256 == default.sha256
    assert custom.sha256 != default.sha256


def test_fractional_pattern_span_parameter_is_accepted(tmp_path: Path) -> None:
    # 10.5 days is a valid, non-negative threshold; the safety probe must reach it.
    doc = default_doc()
    doc["parameters"]["pattern_min_span_days"]["value"] = 10.5

    custom = stalkrisk.load_rule_pack(write_pack(tmp_path, doc))

    result = stalkrisk.assess(
        case(contact("c1", 0, "unwanted_calls"), contact("c2", 11, "loitering")),
        rule_pack=custom,
    )
    assert result.threshold.met


def test_a_pack_grading_fear_at_none_breaks_a_safety_floor(tmp_path: Path) -> None:
    doc = default_doc()
    doc["rules"] = [r for r in doc["rules"] if r["id"] != "grade.consultation.fear"]
    for rule in doc["rules"]:
        if rule["id"] == "grade.reflective.boundary_crossing":
            rule["when"]["all"].append({"field": "fear", "eq": False})

    error = load_error(write_pack(tmp_path, doc))

    assert error.field == "rules"
    assert "fear" in error.msg


def test_a_yaml_date_in_a_source_is_read_as_text(tmp_path: Path) -> None:
    cited = '    source: "[seed-000]; [purcell-2004]; history: stalkrisk design decision"'
    text = DEFAULT_TEXT.replace(cited, "    source: 2004-01-01", 1)
    assert text != DEFAULT_TEXT

    pack = stalkrisk.load_rule_pack(write_text(tmp_path, text))

    assert pack.rule("element.pattern").source == "2004-01-01"


# --- every problem in one error ---------------------------------------------------------------


def _three_independent_problems(doc: dict[str, Any]) -> tuple[int, int]:
    """A negative parameter, a misspelt fact in one rule, a bad level in another."""
    doc["parameters"]["recent_days"]["value"] = -1
    weapon, rule = rule_at(doc, "urgent.weapon")
    rule["fact"] = "grad"
    threat, rule = rule_at(doc, "grade.police.threat")
    rule["then"] = {"level": "emergency"}
    return weapon, threat


def test_a_pack_with_three_independent_problems_reports_all_three(tmp_path: Path) -> None:
    doc = default_doc()
    weapon, threat = _three_independent_problems(doc)
    path = write_pack(tmp_path, doc)

    error = load_error(path)

    assert threat < weapon
    assert [(p.file, p.rule_id, p.field, p.type) for p in error.problems] == [
        (str(path), None, "parameters.recent_days.value", "bad_value"),
        (str(path), "grade.police.threat", f"rules[{threat}].then.level", "not_allowed"),
        (str(path), "urgent.weapon", f"rules[{weapon}].fact", "not_allowed"),
    ]
    assert [p.suggestion for p in error.problems] == [None, None, "did you mean 'grade'?"]


def test_the_errors_own_attributes_are_those_of_the_first_problem(tmp_path: Path) -> None:
    doc = default_doc()
    _three_independent_problems(doc)

    error = load_error(write_pack(tmp_path, doc))

    first = error.problems[0]
    assert (error.file, error.rule_id, error.field, error.msg, error.type, error.suggestion) == (
        first.file,
        first.rule_id,
        first.field,
        first.msg,
        first.type,
        first.suggestion,
    )


def test_the_message_names_every_problem_on_a_line_after_the_count(tmp_path: Path) -> None:
    doc = default_doc()
    weapon, threat = _three_independent_problems(doc)
    path = write_pack(tmp_path, doc)

    error = load_error(path)

    assert str(error).splitlines() == [
        f"{path}: 3 problems",
        "  field parameters.recent_days.value: must not be negative, got -1 [bad_value]",
        f"  rule 'grade.police.threat', field rules[{threat}].then.level: 'emergency' is not one "
        "of none, reflective, boundaries, consultation, referral, police [not_allowed]",
        f"  rule 'urgent.weapon', field rules[{weapon}].fact: 'grad' is not one of episode, "
        "case, grade; did you mean 'grade'? [not_allowed]",
    ]


def test_pickling_keeps_every_problem(tmp_path: Path) -> None:
    doc = default_doc()
    _three_independent_problems(doc)
    error = load_error(write_pack(tmp_path, doc))

    copy_ = pickle.loads(pickle.dumps(error))

    assert type(copy_) is RulePackError
    assert copy_.problems == error.problems
    assert str(copy_) == str(error)
    assert vars(copy_) == vars(error)


def test_a_bad_parameter_is_reported_once_not_at_each_use(tmp_path: Path) -> None:
    # long_relationship_months is used by a condition and by a note's {placeholder}.
    doc = default_doc()
    doc["parameters"]["long_relationship_months"]["value"] = "six"

    error = load_error(write_pack(tmp_path, doc))

    assert [(p.field, p.type) for p in error.problems] == [
        ("parameters.long_relationship_months.value", "wrong_type")
    ]


def test_a_misspelt_key_is_reported_once_not_also_as_missing(tmp_path: Path) -> None:
    doc = default_doc()
    index, rule = rule_at(doc, "urgent.weapon")
    rule["rationle"] = rule.pop("rationale")

    error = load_error(write_pack(tmp_path, doc))

    assert [(p.field, p.type) for p in error.problems] == [
        (f"rules[{index}].rationle", "unknown_key")
    ]


def test_a_file_that_cannot_be_read_as_data_stops_at_that_problem(tmp_path: Path) -> None:
    error = load_error(write_text(tmp_path, "name: [unclosed\nrules: 3\n"))

    assert [p.type for p in error.problems] == ["yaml"]


def test_loading_stops_at_the_most_problems_an_error_lists(tmp_path: Path) -> None:
    doc = default_doc()
    for rule in doc["rules"]:
        rule["title"] = rule["rationale"] = ""

    error = load_error(write_pack(tmp_path, doc))

    assert len(error.problems) == MAX_RULE_PACK_PROBLEMS < 2 * len(doc["rules"])
    assert (
        str(error)
        .splitlines()[0]
        .endswith(
            f"{MAX_RULE_PACK_PROBLEMS} problems (at most {MAX_RULE_PACK_PROBLEMS} are listed; "
            "fix these and load it again)"
        )
    )


# --- stable type codes -----------------------------------------------------------------------


def _broken(doc: dict[str, Any], change: Any) -> dict[str, Any]:
    change(doc)
    return doc


def _pack_with(change: Any) -> Any:
    return lambda tmp_path: write_pack(tmp_path, _broken(default_doc(), change))


def _set(path: tuple[Any, ...], value: Any) -> Any:
    """A change that sets ``doc[path[0]]...[path[-1]] = value`` (a rule is found by id)."""

    def change(doc: dict[str, Any]) -> None:
        target: Any = doc
        for key in path[:-1]:
            target = rule_at(doc, key[5:])[1] if str(key).startswith("rule:") else target[key]
        target[path[-1]] = value

    return change


def _not_utf8(tmp_path: Path) -> Path:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"name: \xff\n")
    return path


def _engine_refuses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    def refuse(*args: Any) -> Any:
        raise stalkrisk.EngineError("the engine refused the ruleset", rule_pack="codes")

    monkeypatch.setattr("stalkrisk._registry.compile_pack", refuse)
    return write_pack(tmp_path, _broken(default_doc(), _set(("name",), "engine-refuses")))


BROKEN_PACKS: dict[str, Any] = {
    "not_found": lambda tmp_path: tmp_path / "absent.yaml",
    "unreadable": lambda tmp_path: _not_utf8(tmp_path),
    "yaml": lambda tmp_path: write_text(tmp_path, "name: !!python/name:os.system x\n"),
    "json": lambda tmp_path: write_text(tmp_path, '{"name": }', name="broken.json"),
    "wrong_type": _pack_with(_set(("parameters", "recent_days", "value"), "7")),
    "missing_key": _pack_with(lambda doc: doc["actions"][0].pop("text")),
    "unknown_key": _pack_with(_set(("rule:urgent.weapon", "priority"), 1)),
    "not_allowed": _pack_with(_set(("rule:grade.police.threat", "then"), {"level": "high"})),
    "bad_value": _pack_with(_set(("rule:urgent.weapon", "id"), "Urgent Weapon")),
    "duplicate": _pack_with(_set(("actions", 1, "id"), "call_emergency")),
    "unknown_field": _pack_with(
        _set(("rule:note.former_client", "when", "all", 0, "field"), "relation")
    ),
    "unknown_parameter": _pack_with(
        _set(("rule:element.pattern", "when", "all", 1, "gte"), {"param": "span"})
    ),
    "bad_operator": _pack_with(
        _set(("rule:note.former_client", "when", "all", 0), {"field": "relationship", "gt": 1})
    ),
    "bad_effect": _pack_with(_set(("rule:note.former_client", "then", "urgent"), True)),
    "bad_placeholder": _pack_with(
        _set(("rule:note.former_client", "then", "note"), "Say {it} with a single } brace.")
    ),
    "limit": _pack_with(_set(("parameters", "recent_days", "value"), 1e300)),
    "safety_floor": _pack_with(_set(("rule:grade.police.threat", "then"), {"level": "referral"})),
}


def test_every_type_code_has_a_pack_that_shows_it() -> None:
    assert sorted([*BROKEN_PACKS, "engine"]) == sorted(RULE_PACK_PROBLEM_TYPES)


@pytest.mark.parametrize("code", sorted(RULE_PACK_PROBLEM_TYPES))
def test_each_type_code_appears(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: str) -> None:
    if code == "engine":
        path = _engine_refuses(tmp_path, monkeypatch)
    else:
        path = BROKEN_PACKS[code](tmp_path)

    error = load_error(path)

    assert code in [problem.type for problem in error.problems], str(error)


def test_every_type_code_is_documented_in_the_table() -> None:
    rules_md = (DEFAULT_PACK.parents[1] / "docs" / "rules.md").read_text(encoding="utf-8")
    section = rules_md[rules_md.index("## Errors in a pack") : rules_md.index("## Limits")]

    documented = re.findall(r"^\| `([a-z_]+)` \| ", section, flags=re.MULTILINE)

    attributes = ["file", "rule_id", "field", "msg", "type", "suggestion"]
    assert documented == attributes + list(RULE_PACK_PROBLEM_TYPES)


# --- suggestions -------------------------------------------------------------------------------


def test_a_misspelt_field_has_the_known_field_as_its_suggestion(tmp_path: Path) -> None:
    doc = default_doc()
    rule_at(doc, "element.pattern")[1]["when"]["all"][1]["field"] = "span_day"

    error = load_error(write_pack(tmp_path, doc))

    assert error.suggestion == "did you mean 'span_days'?"


def test_a_misspelt_parameter_has_the_known_parameter_as_its_suggestion(tmp_path: Path) -> None:
    doc = default_doc()
    rule_at(doc, "element.pattern")[1]["when"]["all"][1]["gte"] = {"param": "pattern_min_span"}

    error = load_error(write_pack(tmp_path, doc))

    assert error.suggestion == "did you mean 'pattern_min_span_days'?"


def test_a_misspelt_key_has_the_known_key_as_its_suggestion(tmp_path: Path) -> None:
    doc = default_doc()
    doc["descriptoin"] = doc.pop("description")

    error = load_error(write_pack(tmp_path, doc))

    assert (error.field, error.suggestion) == ("descriptoin", "did you mean 'description'?")


def test_a_misspelt_operator_has_the_known_operator_as_its_suggestion(tmp_path: Path) -> None:
    doc = default_doc()
    index, rule = rule_at(doc, "element.pattern")
    rule["when"]["all"][1] = {"field": "span_days", "gtee": 14}

    error = load_error(write_pack(tmp_path, doc))

    assert (error.field, error.type) == (f"rules[{index}].when.all[1].gtee", "bad_operator")
    assert error.suggestion == "did you mean 'gte'?"


def test_a_missing_required_parameter_suggests_renaming_a_close_one(tmp_path: Path) -> None:
    doc = default_doc()
    doc["parameters"]["recent_day"] = doc["parameters"].pop("recent_days")

    error = load_error(write_pack(tmp_path, doc))

    assert (error.field, error.type) == ("parameters.recent_days", "missing_key")
    assert error.suggestion == "rename 'recent_day' to 'recent_days'"


# --- notes with {parameter} placeholders --------------------------------------------------------


def _with_note(tmp_path: Path, note: str, **values: float) -> Path:
    doc = default_doc()
    for name, value in values.items():
        doc["parameters"].setdefault(name, {})["value"] = value
    rule_at(doc, "note.former_client")[1]["then"]["note"] = note
    return write_pack(tmp_path, doc)


@pytest.mark.parametrize(
    ("value", "shown"), [(7, "7"), (7.0, "7"), (10.5, "10.5"), (0.25, "0.25"), (1e-05, "1e-05")]
)
def test_a_placeholder_shows_the_parameter_value(tmp_path: Path, value: float, shown: str) -> None:
    path = _with_note(tmp_path, "Within {recent_days} days.", recent_days=value)

    pack = stalkrisk.load_rule_pack(path)

    assert pack.rule("note.former_client").note == f"Within {shown} days."


def test_a_placeholder_may_name_any_parameter_of_the_pack(tmp_path: Path) -> None:
    path = _with_note(tmp_path, "{extra} and {recent_days}.", extra=3)

    pack = stalkrisk.load_rule_pack(path)

    assert pack.rule("note.former_client").note == "3 and 7."


def test_double_braces_are_literal_braces(tmp_path: Path) -> None:
    path = _with_note(tmp_path, "{{recent_days}} is {{{recent_days}}}; }} {{")

    pack = stalkrisk.load_rule_pack(path)

    assert pack.rule("note.former_client").note == "{recent_days} is {7}; } {"


def test_an_unknown_placeholder_is_refused_with_a_suggestion(tmp_path: Path) -> None:
    doc = default_doc()
    index, rule = rule_at(doc, "note.former_client")
    rule["then"]["note"] = "Within {recent_day} days."

    error = load_error(write_pack(tmp_path, doc))

    assert (error.rule_id, error.field) == ("note.former_client", f"rules[{index}].then.note")
    assert error.type == "unknown_parameter"
    assert error.suggestion == "did you mean 'recent_days'?"
    assert error.msg == (
        "placeholder '{recent_day}' names no parameter of the pack; did you mean 'recent_days'?"
    )


def test_an_unknown_placeholder_with_no_close_name_suggests_an_escape(tmp_path: Path) -> None:
    error = load_error(_with_note(tmp_path, "A set: {x}."))

    assert error.type == "unknown_parameter"
    assert error.suggestion == (
        "name a parameter of the pack, or write '{{' and '}}' for literal braces"
    )


@pytest.mark.parametrize(
    ("note", "suggestion"),
    [
        ("Within {recent_days:.1f} days.", "write '{recent_days}'"),
        ("Within {recent_days!r} days.", "write '{recent_days}'"),
        ("Within {} days.", "write '{{' and '}}' for literal braces"),
        ("Within { recent_days days.", "write '{{' for a literal '{'"),
        ("Within recent_days} days.", "write '}}' for a literal '}'"),
    ],
)
def test_malformed_braces_are_refused_with_a_fix(
    tmp_path: Path, note: str, suggestion: str
) -> None:
    error = load_error(_with_note(tmp_path, note))

    assert error.field is not None
    assert error.field.endswith(".then.note")
    assert (error.type, error.suggestion) == ("bad_placeholder", suggestion)


def test_every_bad_placeholder_of_a_note_is_reported(tmp_path: Path) -> None:
    error = load_error(_with_note(tmp_path, "{recent_day} and {history_after_day}"))

    assert [p.suggestion for p in error.problems] == [
        "did you mean 'recent_days'?",
        "did you mean 'history_after_days'?",
    ]


def test_the_default_notes_state_the_pack_values(tmp_path: Path) -> None:
    doc = default_doc()
    doc["parameters"]["long_relationship_months"]["value"] = 12
    doc["parameters"]["recent_days"]["value"] = 14
    doc["parameters"]["frequency_ratio_min"]["value"] = 1.5
    doc["parameters"]["ongoing_max_days"]["value"] = 2

    pack = stalkrisk.load_rule_pack(write_pack(tmp_path, doc))

    assert "for 12 months or more." in (pack.rule("note.long_relationship").note or "")
    assert "the latest 14-day window holds at least 1.5 times as many as the 14-day window" in (
        pack.rule("note.escalating_frequency").note or ""
    )
    assert "older than the 2-day limit for ongoing contacts" in (
        pack.rule("note.stale_ongoing").note or ""
    )


def test_the_default_notes_read_with_the_default_values() -> None:
    pack = stalkrisk.default_rule_pack()

    notes = {rule.id: rule.note or "" for rule in pack.rules if rule.effect == "note"}

    assert not any("{" in note or "}" in note for note in notes.values())
    assert "with the clinician for 6 months or more." in notes["note.long_relationship"]
    assert "known their worker for at least six months" in notes["note.long_relationship"]
    assert (
        "the latest 7-day window holds at least 2 times as many as the 7-day window before it"
        in notes["note.escalating_frequency"]
    )
    assert "older than the 1-day limit for ongoing contacts" in notes["note.stale_ongoing"]
