"""Every rule of the bundled pack fires on its example and not on the case just below it."""

from __future__ import annotations

import pytest
from builders import fired
from rule_examples import EXAMPLES

import stalkrisk

PACK = stalkrisk.default_rule_pack()
RULES = {rule.id: rule for rule in PACK.rules}


def test_every_rule_has_examples() -> None:
    assert set(EXAMPLES) == set(RULES)


@pytest.mark.parametrize("rule_id", sorted(EXAMPLES))
def test_rule_fires_on_its_example(rule_id: str) -> None:
    result = stalkrisk.assess(EXAMPLES[rule_id].fires)

    assert rule_id in fired(result)


@pytest.mark.parametrize("rule_id", sorted(EXAMPLES))
def test_rule_does_not_fire_just_below_its_condition(rule_id: str) -> None:
    result = stalkrisk.assess(EXAMPLES[rule_id].below)

    assert rule_id not in fired(result)


@pytest.mark.parametrize("rule_id", sorted(r.id for r in PACK.rules if r.level is not None))
def test_grade_is_at_least_the_level_a_fired_rule_sets(rule_id: str) -> None:
    result = stalkrisk.assess(EXAMPLES[rule_id].fires)
    rule = RULES[rule_id]

    assert rule.level is not None
    assert result.level.rank >= rule.level.rank
    assert result.urgent or not rule.urgent


@pytest.mark.parametrize("rule_id", sorted(r.id for r in PACK.rules if r.element is not None))
def test_element_rule_makes_its_element_present(rule_id: str) -> None:
    result = stalkrisk.assess(EXAMPLES[rule_id].fires)
    element = RULES[rule_id].element
    assert element is not None

    finding = getattr(result.elements, element)

    assert finding.present
    assert rule_id in finding.rules


@pytest.mark.parametrize("rule_id", sorted(r.id for r in PACK.rules if r.note is not None))
def test_note_rule_adds_its_note(rule_id: str) -> None:
    result = stalkrisk.assess(EXAMPLES[rule_id].fires)

    assert RULES[rule_id].note in result.notes


def test_rules_fired_follow_pack_order_elements_first() -> None:
    result = stalkrisk.assess(EXAMPLES["grade.referral.pattern_and_fear"].fires)
    positions = [RULES[rule_id].position for rule_id in fired(result)]

    assert positions == sorted(positions)


def test_or_condition_fires_its_rule_once() -> None:
    both = EXAMPLES["element.threat.escalation"].fires
    both["contacts"][0]["behaviours"] = ["property_damage", "physical_violence"]

    assert fired(stalkrisk.assess(both)).count("element.threat.escalation") == 1
