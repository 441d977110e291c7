"""A validated rule pack as data: its parameters, catalogue, ladder, rules and actions.

``_rulepack.py`` reads and checks a pack file and builds these; everything else
reads them.  They hold no engine state.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Literal, TypeAlias

from ._case import Behaviour, Relationship
from ._fields import FactKind, FieldSpec, fields_for
from ._ladder import Level

__all__ = [
    "OPERATORS",
    "ActionSpec",
    "AllOf",
    "AnyOf",
    "BehaviourSpec",
    "Condition",
    "FieldTest",
    "LevelSpec",
    "Parameter",
    "Rule",
    "RulePack",
    "condition_fields",
    "condition_shape",
    "condition_tests",
    "describe_condition",
]

OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte")
_OP_SYMBOLS = {"eq": "=", "ne": "≠", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤"}


@dataclass(frozen=True)
class Parameter:
    name: str
    value: int | float
    description: str
    source: str


@dataclass(frozen=True)
class BehaviourSpec:
    code: Behaviour
    label: str
    group: str
    description: str
    source: str
    pursuit: bool


@dataclass(frozen=True)
class LevelSpec:
    code: Level
    title: str
    picture: str
    description: str


@dataclass(frozen=True)
class FieldTest:
    """``field op value``; ``param`` names the pack parameter the value came from."""

    field: str
    op: str
    value: int | float | bool | str
    param: str | None = None

    def describe(self, specs: Mapping[str, FieldSpec]) -> str:
        value = f"{self.param} = {self.value}" if self.param else json.dumps(self.value)
        return f"{self.field} {_OP_SYMBOLS[self.op]} {value}"


@dataclass(frozen=True)
class AllOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[Condition, ...]


Condition: TypeAlias = FieldTest | AllOf | AnyOf


def describe_condition(condition: Condition, specs: Mapping[str, FieldSpec]) -> str:
    """A readable one-line rendering, e.g. ``pattern = true and fear = true``."""
    if isinstance(condition, FieldTest):
        return condition.describe(specs)
    joiner = " and " if isinstance(condition, AllOf) else " or "
    parts = []
    for item in condition.items:
        text = describe_condition(item, specs)
        parts.append(f"({text})" if isinstance(item, AllOf | AnyOf) else text)
    return joiner.join(parts)


def condition_tests(condition: Condition) -> tuple[FieldTest, ...]:
    """Every comparison in a condition, in order."""
    if isinstance(condition, FieldTest):
        return (condition,)
    return tuple(test for item in condition.items for test in condition_tests(item))


def condition_fields(condition: Condition) -> tuple[str, ...]:
    """Every field a condition tests, in order, without repeats."""
    if isinstance(condition, FieldTest):
        return (condition.field,)
    seen: dict[str, None] = {}
    for item in condition.items:
        seen.update(dict.fromkeys(condition_fields(item)))
    return tuple(seen)


@dataclass(frozen=True)
class Rule:
    """One rule: on a fact kind, when a condition holds, then an effect."""

    id: str
    title: str
    on: FactKind
    when: Condition
    element: str | None
    level: Level | None
    urgent: bool
    note: str | None
    rationale: str
    source: str
    position: int

    @property
    def effect(self) -> Literal["element", "level", "note"]:
        if self.element is not None:
            return "element"
        return "level" if self.level is not None else "note"

    @cached_property
    def fields(self) -> tuple[str, ...]:
        """Every field the condition tests, in order."""
        return condition_fields(self.when)

    @cached_property
    def when_text(self) -> str:
        """The condition as one readable line."""
        return describe_condition(self.when, fields_for(self.on))


@dataclass(frozen=True)
class ActionSpec:
    id: str
    text: str
    min_level: Level
    max_level: Level
    relationships: frozenset[Relationship]
    requires: frozenset[str]
    source: str = ""


@dataclass(frozen=True, eq=False)
class RulePack:
    """A validated rule pack.  Create one with :func:`stalkrisk.load_rule_pack`.

    Two packs are equal when their canonical content is (same ``sha256``).
    """

    name: str
    version: str
    description: str
    sha256: str
    file: str
    parameters: Mapping[str, Parameter]
    behaviours: tuple[BehaviourSpec, ...]
    levels: tuple[LevelSpec, ...]
    rules: tuple[Rule, ...]
    actions: tuple[ActionSpec, ...]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RulePack) and other.sha256 == self.sha256

    def __hash__(self) -> int:
        return hash(self.sha256)

    def parameter(self, name: str) -> int | float:
        return self.parameters[name].value

    @cached_property
    def comparisons(self) -> int:
        """Comparisons in all rules: what the engine's memory for the pack grows with."""
        return sum(condition_shape(rule.when)[0] for rule in self.rules)

    @cached_property
    def _rules_by_id(self) -> dict[str, Rule]:
        return {rule.id: rule for rule in self.rules}

    def rule(self, rule_id: str) -> Rule:
        """The rule with ``rule_id``; ``KeyError`` if there is none."""
        return self._rules_by_id[rule_id]

    def level(self, code: Level) -> LevelSpec:
        return next(spec for spec in self.levels if spec.code is code)

    def __repr__(self) -> str:
        return (
            f"RulePack(name={self.name!r}, version={self.version!r}, "
            f"rules={len(self.rules)}, sha256={self.sha256[:12]!r}…)"
        )


def condition_shape(condition: Condition) -> tuple[int, int, int]:
    """Comparisons, all/any groups and disjunctive-normal-form terms of a condition.

    The engine walks one path per DNF term (an ``any`` adds its branches' terms,
    an ``all`` multiplies them), so nested groups can multiply the work.
    """
    if isinstance(condition, FieldTest):
        return 1, 0, 1
    comparisons, groups, terms = 0, 1, 1 if isinstance(condition, AllOf) else 0
    for item in condition.items:
        more, nested, paths = condition_shape(item)
        comparisons += more
        groups += nested
        terms = terms * paths if isinstance(condition, AllOf) else terms + paths
    return comparisons, groups, terms
