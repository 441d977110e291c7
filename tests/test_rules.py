"""Every rule of the bundled pack fires on its example and not on the case just below it."""

from __future__ import annotations

import copy

import pytest
from builders import fired
from rule_examples import EXAMPLES, PARAMETERS, Case

import stalkrisk

PACK = stalkrisk.default_rule_pack()
RULES = {rule.id: rule for rule in PACK.rules}
RULE_IDS = [rule.id for rule in PACK.rules]


def _places(example: Case) -> dict[str, object]:
    """Every value of a case by its path; a contact is one place, found by its id."""
    places: dict[str, object] = {}

    def walk(value: object, path: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list) and any(isinstance(item, dict) for item in value):
            for index, item in enumerate(value):
                walk(item, f"{path}.{index}")
        else:
            places[path] = value

    walk({key: value for key, value in example.items() if key != "contacts"}, "")
    for found in example.get("contacts", []):
        places[f"contacts[{found['id']}]"] = found
    return places


def _differences(fires: Case, below: Case) -> list[str]:
    """Where two cases differ: a value, a field of one contact, or a contact only one has."""
    a, b = _places(fires), _places(below)
    found = []
    for path in sorted(a.keys() | b.keys()):
        if path not in a or path not in b:
            found.append(path)
        elif path.startswith("contacts[") and a[path] != b[path]:
            first, second = a[path], b[path]
            assert isinstance(first, dict)
            assert isinstance(second, dict)
            fields = first.keys() | second.keys()
            found += [f"{path}.{f}" for f in sorted(fields) if first.get(f) != second.get(f)]
        elif a[path] != b[path]:
            found.append(path)
    return found


def test_every_rule_has_examples() -> None:
    assert sorted(set(RULES) - set(EXAMPLES)) == []


def test_every_example_names_a_rule_of_the_pack() -> None:
    assert sorted(set(EXAMPLES) - set(RULES)) == []


def test_examples_assume_the_pack_parameters() -> None:
    assert {name: PACK.parameter(name) for name in PARAMETERS} == PARAMETERS


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_fires_on_its_example(rule_id: str) -> None:
    result = stalkrisk.assess(EXAMPLES[rule_id].fires)

    assert rule_id in fired(result)


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_does_not_fire_just_below_its_condition(rule_id: str) -> None:
    result = stalkrisk.assess(EXAMPLES[rule_id].below)

    assert rule_id not in fired(result)


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_just_below_differs_from_the_firing_example_in_one_place(rule_id: str) -> None:
    example = EXAMPLES[rule_id]

    assert len(_differences(example.fires, example.below)) == 1


@pytest.mark.parametrize("rule_id", [r.id for r in PACK.rules if r.level is not None])
def test_grade_is_at_least_the_level_a_fired_rule_sets(rule_id: str) -> None:
    result = stalkrisk.assess(EXAMPLES[rule_id].fires)
    rule = RULES[rule_id]

    assert rule.level is not None
    assert result.level.rank >= rule.level.rank


@pytest.mark.parametrize("rule_id", [r.id for r in PACK.rules if r.urgent])
def test_urgent_rule_makes_the_assessment_urgent(rule_id: str) -> None:
    result = stalkrisk.assess(EXAMPLES[rule_id].fires)

    assert result.urgent


@pytest.mark.parametrize("rule_id", [r.id for r in PACK.rules if r.element is not None])
def test_element_rule_makes_its_element_present(rule_id: str) -> None:
    result = stalkrisk.assess(EXAMPLES[rule_id].fires)
    element = RULES[rule_id].element
    assert element is not None

    finding = getattr(result.elements, element)

    assert finding.present
    assert rule_id in finding.rules


@pytest.mark.parametrize("rule_id", [r.id for r in PACK.rules if r.note is not None])
def test_note_rule_adds_its_note(rule_id: str) -> None:
    result = stalkrisk.assess(EXAMPLES[rule_id].fires)

    assert RULES[rule_id].note in result.notes


def test_rules_fired_follow_pack_order_elements_first() -> None:
    result = stalkrisk.assess(EXAMPLES["grade.referral.pattern_and_fear"].fires)
    positions = [RULES[rule_id].position for rule_id in fired(result)]

    assert positions == sorted(positions)


def test_or_condition_fires_its_rule_once() -> None:
    both = copy.deepcopy(EXAMPLES["element.threat.escalation"].fires)
    both["contacts"][0]["behaviours"] = ["property_damage", "physical_violence"]

    assert fired(stalkrisk.assess(both)).count("element.threat.escalation") == 1
