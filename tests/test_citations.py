"""Every rule, action and parameter of the default pack says where it comes from.

A source either cites a reference listed in the pack's header (``[seed-000]``,
``[mcewan-2009]``, a named instrument such as the Stalking Assessment Indices) or
says that it is a stalkrisk design decision, which docs/rules.md then explains.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import stalkrisk
from stalkrisk import vignettes

ROOT = Path(__file__).resolve().parents[1]
TEXT = (ROOT / "rules" / "default.yaml").read_text(encoding="utf-8")
PACK = stalkrisk.default_rule_pack()
LISTED = set(re.findall(r"^#\s+\[([a-z0-9-]+)\]", TEXT, flags=re.MULTILINE))
DESIGN = "stalkrisk design decision"
NAMED = ("Stalking Assessment Indices",)
# The seeds never mention weapons or property damage: those rules may not cite them.
SILENT_IN_SEEDS = ("element.threat.weapon", "urgent.weapon", "element.threat.escalation")

SOURCES = (
    [(f"rule {rule.id}", rule.source) for rule in PACK.rules]
    + [(f"action {action.id}", action.source) for action in PACK.actions]
    + [(f"parameter {p.name}", p.source) for p in PACK.parameters.values()]
)


def test_the_header_lists_the_references() -> None:
    assert {"seed-000", "seed-003", "purcell-2004", "mcewan-2009", "rosenfeld-2003"} <= LISTED


@pytest.mark.parametrize(("what", "source"), SOURCES, ids=[what for what, _ in SOURCES])
def test_every_source_cites_a_listed_reference_or_a_design_decision(what: str, source: str) -> None:
    cited = set(re.findall(r"\[([a-z0-9-]+)\]", source))

    assert source.strip(), f"{what} has no source"
    assert cited <= LISTED, f"{what} cites {sorted(cited - LISTED)}, not in the header"
    assert cited or DESIGN in source or any(name in source for name in NAMED), what


@pytest.mark.parametrize("rule_id", SILENT_IN_SEEDS)
def test_weapon_and_escalation_rules_do_not_cite_the_seeds(rule_id: str) -> None:
    source = PACK.rule(rule_id).source

    assert "seed-" not in source
    assert DESIGN in source


def test_every_action_in_the_output_carries_its_source() -> None:
    case = vignettes.load("followed_by_car_right_now").case

    assert all(action.source for action in stalkrisk.assess(case).actions)
