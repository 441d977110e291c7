"""A validated rule pack as data: its parameters, catalogue, ladder, rules and actions.

``_rulepack.py`` reads and checks a pack file and builds these; everything else
reads them.  They hold no engine state.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, TypeAlias

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

    Two packs are equal when their canonical content is (same ``sha256``).  ``file``
    says where the pack came from: the file's path, ``"<text>"`` or a name hint for
    text, ``"<mapping>"`` for data, and for :meth:`with_parameters` the original's
    ``file`` followed by the changes.  :meth:`to_dict` and :meth:`to_yaml` give the
    pack back as the document it was read from.
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
    # The validated document as compact JSON, in its own key order: text cannot be
    # changed, so the pack stays the document its sha256 was computed from.
    _document: str = field(default="", repr=False)

    @classmethod
    def from_text(cls, text: str, *, name_hint: str | None = None) -> RulePack:
        """Load, validate and compile a rule pack given as YAML or JSON text.

        ``name_hint``, such as ``"my-pack.yaml"``, names the text in problems and
        becomes the pack's ``file`` (default ``"<text>"``).  The text is JSON if
        ``name_hint`` ends in ``.json``, YAML if it ends in ``.yaml`` or ``.yml``,
        and otherwise JSON exactly when it starts with ``{`` (after blanks).  The
        validation, limits and safety floors are those of a file; every problem is
        reported in one :class:`RulePackError`.
        """
        from ._registry import load_rule_pack_text

        return load_rule_pack_text(text, name_hint=name_hint)

    def with_parameters(self, **values: int | float) -> RulePack:
        """A new pack, validated and compiled, with these parameters' values changed.

        ``pack.with_parameters(pattern_min_span_days=21)`` changes the ``value``
        of ``parameters.pattern_min_span_days`` in the pack's document and loads
        that: rules citing the parameter (``{param: ...}``) and notes showing it
        (``{name}``) follow, the new values are checked as in a file (a day
        parameter at most 36,500, ...) and the pack gets its own ``sha256``, the
        one a file with the same content would have.  Its ``file`` is this pack's
        followed by the changes, such as ``"default.yaml with recent_days=14"``.
        A name that is not a parameter of the pack raises :class:`RulePackError`
        (type ``unknown_parameter``) with a "did you mean" suggestion.
        """
        if not values:
            return self
        from ._registry import load_with_parameters

        return load_with_parameters(self, values)

    def to_dict(self) -> dict[str, Any]:
        """The pack as the document it was read from: plain data, a new copy each call.

        Comments and layout are gone; keys keep their order.  Conditions keep
        their parameter references (``{param: NAME}``) and notes their
        placeholders (``{NAME}``).  ``load_rule_pack(pack.to_dict())`` gives an
        equal pack (same ``sha256``).
        """
        if not self._document:
            raise ValueError("this RulePack was not loaded by stalkrisk; it has no document")
        document: dict[str, Any] = json.loads(self._document)
        return document

    def to_yaml(self) -> str:
        """The pack as YAML text that :meth:`from_text` reads back to an equal pack.

        The document of :meth:`to_dict`, keys in their order, comparisons on one
        line each (``{field: span_days, gte: {param: pattern_min_span_days}}``).
        """
        return _dump_yaml(self.to_dict(), self.name)

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


def _dump_yaml(document: Mapping[str, Any], name: str) -> str:
    # YAML is imported here, not at module level: `import stalkrisk` stays fast.
    import yaml

    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True  # the loader refuses aliases (docs/rules.md, "Safe YAML")

    def mapping(dumper: yaml.SafeDumper, data: dict[str, Any]) -> yaml.MappingNode:
        return dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=_inline(data))

    Dumper.add_representer(dict, mapping)
    header = f"# Rule pack {name} (stalkrisk); the format is described in docs/rules.md.\n"
    body = yaml.dump(
        document, Dumper=Dumper, sort_keys=False, allow_unicode=True, width=88, indent=2
    )
    return header + body


def _inline(data: Mapping[str, Any]) -> bool:
    """Whether a mapping is a comparison or a parameter reference, written on one line."""
    if not ("field" in data or list(data) == ["param"]):
        return False
    return all(
        not isinstance(value, dict | list) or (isinstance(value, dict) and list(value) == ["param"])
        for value in data.values()
    )
