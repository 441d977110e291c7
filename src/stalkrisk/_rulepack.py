"""Loading and validating a rule pack (YAML or JSON data, never code).

Every problem is reported as a :class:`RulePackError` naming the file, the rule
id (where there is one) and the field path, for example
``rules/default.yaml, rule 'element.pattern', field rules[0].when.all[1].field``.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import math
import os
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, NoReturn, TypeAlias

from ._case import Behaviour, Relationship
from ._exceptions import RulePackError
from ._fields import ELEMENTS, GROUPS, FactKind, FieldSpec, fields_for
from ._ladder import Level

__all__ = [
    "LIMITS",
    "ActionSpec",
    "AllOf",
    "AnyOf",
    "BehaviourSpec",
    "Comparison",
    "Condition",
    "LevelSpec",
    "Parameter",
    "Rule",
    "RulePack",
    "parse_rule_pack",
]

OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte")
_OP_SYMBOLS = {"eq": "=", "ne": "≠", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤"}
REQUIRED_PARAMETERS = (
    "pattern_min_distinct_behaviours",
    "pattern_min_span_days",
    "episode_max_gap_days",
    "recent_days",
)
_REQUIREMENTS = (*ELEMENTS, "urgent", "family", "colleagues")
_PICTURES = ("clinical", "criminal")
_ID_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")

# --- limits -----------------------------------------------------------------------
# A pack beyond any of these is refused with a RulePackError of type "limit"
# before the engine sees it: past its own limits the rule engine (2.0.28) hangs with
# the GIL held, reads past its tables, or fails while assessing.  Each figure is
# measured with bench/pack_limits.py and explained in docs/rules.md ("Limits").

MAX_FILE_BYTES = 192 * 1024  # the densest YAML reads at about 2.5 ms per KiB
MAX_DOCUMENT_DEPTH = 64  # reading nests in Python; far below its recursion limit
MAX_RULES = 200  # the engine reads past a 256-entry table at 257 rules on one condition
MAX_COMPARISONS_PER_RULE = 128  # 512 after one condition hang the engine
MAX_COMPARISONS_PER_PACK = 2_000  # each is at most one engine node, up to 3.5 KB
MAX_CONDITION_DEPTH = 8
MAX_GROUPS_PER_RULE = 12  # the engine refuses more than 14 all/any groups in a rule
MAX_DNF_TERMS_PER_RULE = 64  # each term is one path the engine walks per fact
# Every comparison that follows a condition starts at least one term, so this also
# keeps them below the 512 at which the engine hangs.
MAX_DNF_TERMS_PER_PACK = 256
# The engine's evaluation stack holds 64 nodes.  Every any-group whose branch ends in
# a condition is pushed with it, so this also keeps those below the 128 past which
# the engine reads beyond its table.
MAX_SIMULTANEOUS_MATCHES = 64
MAX_NUMBER = 1_000_000  # every parameter and comparison value, in absolute value
MAX_DAYS = 36_500  # the day parameters: a century
MAX_PROBE_CONTACTS = 1_000  # contacts in the pattern safety probe

LIMITS: Mapping[str, int] = {
    "max_file_bytes": MAX_FILE_BYTES,
    "max_document_depth": MAX_DOCUMENT_DEPTH,
    "max_rules": MAX_RULES,
    "max_comparisons_per_rule": MAX_COMPARISONS_PER_RULE,
    "max_comparisons_per_pack": MAX_COMPARISONS_PER_PACK,
    "max_condition_depth": MAX_CONDITION_DEPTH,
    "max_groups_per_rule": MAX_GROUPS_PER_RULE,
    "max_dnf_terms_per_rule": MAX_DNF_TERMS_PER_RULE,
    "max_dnf_terms_per_pack": MAX_DNF_TERMS_PER_PACK,
    "max_simultaneous_matches": MAX_SIMULTANEOUS_MATCHES,
    "max_number": MAX_NUMBER,
    "max_days": MAX_DAYS,
    "max_probe_contacts": MAX_PROBE_CONTACTS,
}
"""Every limit by the name its error message gives (``[limit: max_rules]``)."""
_DAY_PARAMETERS = (
    "pattern_min_span_days",
    "episode_max_gap_days",
    "recent_days",
    "history_after_days",
    "ongoing_max_days",
)


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
class Comparison:
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


Condition: TypeAlias = Comparison | AllOf | AnyOf


def describe_condition(condition: Condition, specs: Mapping[str, FieldSpec]) -> str:
    """A readable one-line rendering, e.g. ``pattern = true and fear = true``."""
    if isinstance(condition, Comparison):
        return condition.describe(specs)
    joiner = " and " if isinstance(condition, AllOf) else " or "
    parts = []
    for item in condition.items:
        text = describe_condition(item, specs)
        parts.append(f"({text})" if isinstance(item, AllOf | AnyOf) else text)
    return joiner.join(parts)


def condition_fields(condition: Condition) -> tuple[str, ...]:
    """Every field a condition tests, in order, without repeats."""
    if isinstance(condition, Comparison):
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
        return sum(_shape(rule.when)[0] for rule in self.rules)

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


class _Reader:
    """Walks the raw document, raising errors that carry file, rule id and path."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.rule_id: str | None = None

    def fail(self, path: str, msg: str) -> NoReturn:
        raise RulePackError(msg, file=self.file, rule_id=self.rule_id, field=path or None)

    def over(self, path: str, msg: str, limit: str) -> NoReturn:
        """Refuse a pack past one of :data:`LIMITS`, naming the limit."""
        raise RulePackError(
            f"{msg} [limit: {limit}]",
            file=self.file,
            rule_id=self.rule_id,
            field=path or None,
            type="limit",
        )

    def mapping(
        self, value: Any, path: str, *, required: Sequence[str], optional: Sequence[str] = ()
    ) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, f"expected a mapping, got {_type_name(value)}")
        allowed = (*required, *optional)
        for key in value:
            if key not in allowed:
                self.fail(_join(path, str(key)), f"unknown key{_suggest(str(key), allowed)}")
        for key in required:
            if key not in value:
                self.fail(_join(path, key), "missing required key")
        return value

    def text(self, value: Any, path: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(path, f"expected non-empty text, got {_type_name(value)}")
        return value.strip()

    def sequence(self, value: Any, path: str, *, non_empty: bool = True) -> list[Any]:
        if not isinstance(value, list):
            self.fail(path, f"expected a list, got {_type_name(value)}")
        if non_empty and not value:
            self.fail(path, "must not be empty")
        return value

    def number(self, value: Any, path: str, *, limit: str = "max_number") -> int | float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(path, f"expected a number, got {_type_name(value)}")
        if not math.isfinite(value):
            self.fail(path, "expected a finite number")
        if abs(value) > LIMITS[limit]:
            self.over(
                path, f"{value:,} is out of range; at most {LIMITS[limit]:,} is allowed", limit
            )
        return value

    def choice(self, value: Any, path: str, choices: Sequence[str]) -> str:
        if not isinstance(value, str) or value not in choices:
            self.fail(
                path, f"{value!r} is not one of {', '.join(choices)}{_suggest(value, choices)}"
            )
        return value


def _type_name(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _suggest(name: Any, choices: Sequence[str]) -> str:
    if not isinstance(name, str):
        return ""
    close = difflib.get_close_matches(name, list(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _parameters(reader: _Reader, raw: Any) -> dict[str, Parameter]:
    if not isinstance(raw, dict):
        reader.fail("parameters", f"expected a mapping, got {_type_name(raw)}")
    items = reader.mapping(raw, "parameters", required=REQUIRED_PARAMETERS, optional=list(raw))
    parameters = {}
    for name, body in items.items():
        path = f"parameters.{name}"
        body = reader.mapping(body, path, required=("value",), optional=("description", "source"))
        limit = "max_days" if name in _DAY_PARAMETERS else "max_number"
        value = reader.number(body["value"], f"{path}.value", limit=limit)
        if value < 0:
            reader.fail(f"{path}.value", f"must not be negative, got {value}")
        parameters[name] = Parameter(
            name=name,
            value=value,
            description=str(body.get("description", "")).strip(),
            source=str(body.get("source", "")).strip(),
        )
    minimum = parameters["pattern_min_distinct_behaviours"]
    if minimum.value < 1 or minimum.value != int(minimum.value):
        reader.fail(
            "parameters.pattern_min_distinct_behaviours.value", "must be a whole number ≥ 1"
        )
    return parameters


def _behaviours(reader: _Reader, raw: Any) -> tuple[BehaviourSpec, ...]:
    codes = [b.value for b in Behaviour]
    specs: dict[Behaviour, BehaviourSpec] = {}
    for index, body in enumerate(reader.sequence(raw, "behaviours")):
        path = f"behaviours[{index}]"
        body = reader.mapping(
            body,
            path,
            required=("code", "label", "group", "description"),
            optional=("source", "pursuit"),
        )
        code = Behaviour(reader.choice(body["code"], f"{path}.code", codes))
        if code in specs:
            reader.fail(f"{path}.code", f"behaviour {code.value!r} is listed twice")
        pursuit = body.get("pursuit", False)
        if not isinstance(pursuit, bool):
            reader.fail(f"{path}.pursuit", f"expected true or false, got {_type_name(pursuit)}")
        specs[code] = BehaviourSpec(
            code=code,
            label=reader.text(body["label"], f"{path}.label"),
            group=reader.choice(body["group"], f"{path}.group", GROUPS),
            description=reader.text(body["description"], f"{path}.description"),
            source=str(body.get("source", "")).strip(),
            pursuit=pursuit,
        )
    missing = [code for code in codes if Behaviour(code) not in specs]
    if missing:
        reader.fail("behaviours", f"the catalogue lacks {', '.join(missing)}; list every code")
    return tuple(specs[b] for b in Behaviour)


def _levels(reader: _Reader, raw: Any) -> tuple[LevelSpec, ...]:
    codes = [level.value for level in Level]
    specs = []
    for index, body in enumerate(reader.sequence(raw, "levels")):
        path = f"levels[{index}]"
        body = reader.mapping(body, path, required=("code", "title", "picture", "description"))
        code = reader.choice(body["code"], f"{path}.code", codes)
        if index >= len(codes) or code != codes[index]:
            expected = codes[index] if index < len(codes) else "nothing"
            reader.fail(
                f"{path}.code", f"expected {expected!r} here: the ladder is {', '.join(codes)}"
            )
        specs.append(
            LevelSpec(
                code=Level(code),
                title=reader.text(body["title"], f"{path}.title"),
                picture=reader.choice(body["picture"], f"{path}.picture", _PICTURES),
                description=reader.text(body["description"], f"{path}.description"),
            )
        )
    if len(specs) != len(codes):
        reader.fail("levels", f"expected all of {', '.join(codes)} in that order")
    return tuple(specs)


def _condition(
    reader: _Reader,
    raw: Any,
    path: str,
    kind: FactKind,
    parameters: Mapping[str, Parameter],
    depth: int = 1,
) -> Condition:
    if isinstance(raw, dict) and len(raw) == 1 and next(iter(raw)) in ("all", "any"):
        if depth > MAX_CONDITION_DEPTH:
            reader.over(
                path,
                f"all/any groups nested {depth} levels deep; "
                f"at most {MAX_CONDITION_DEPTH} levels are allowed",
                "max_condition_depth",
            )
        key = next(iter(raw))
        items = tuple(
            _condition(reader, item, f"{path}.{key}[{i}]", kind, parameters, depth + 1)
            for i, item in enumerate(reader.sequence(raw[key], f"{path}.{key}"))
        )
        return AllOf(items) if key == "all" else AnyOf(items)
    if not isinstance(raw, dict) or "field" not in raw:
        reader.fail(path, "expected {field: …, <op>: …} or {all: [...]} or {any: [...]}")
    body = reader.mapping(raw, path, required=("field",), optional=OPERATORS)
    specs = fields_for(kind)
    name = body["field"]
    if not isinstance(name, str) or name not in specs:
        reader.fail(
            f"{path}.field",
            f"unknown field {name!r} for a rule on {kind!r}{_suggest(name, list(specs))}",
        )
    spec = specs[name]
    ops = [key for key in body if key != "field"]
    if len(ops) != 1:
        reader.fail(path, f"expected exactly one operator of {', '.join(OPERATORS)}")
    op = ops[0]
    value_path = f"{path}.{op}"
    value = body[op]
    param = None
    if isinstance(value, dict):
        value = reader.mapping(value, value_path, required=("param",))
        param = value["param"]
        if not isinstance(param, str) or param not in parameters:
            reader.fail(
                f"{value_path}.param",
                f"unknown parameter {param!r}{_suggest(param, list(parameters))}",
            )
        value = parameters[param].value
    if spec.type in ("count", "number"):
        value = reader.number(value, value_path)
    elif spec.type == "bool":
        if not isinstance(value, bool):
            reader.fail(value_path, f"{name} is true or false, got {_type_name(value)}")
    else:
        value = reader.choice(value, value_path, spec.values)
    if spec.type in ("bool", "enum") and op not in ("eq", "ne"):
        reader.fail(path, f"{name} can only be compared with eq or ne")
    return Comparison(field=name, op=op, value=value, param=param)


def _shape(condition: Condition) -> tuple[int, int, int]:
    """Comparisons, all/any groups and disjunctive-normal-form terms of a condition.

    The engine walks one path per DNF term (an ``any`` adds its branches' terms,
    an ``all`` multiplies them), so nested groups can multiply the work.
    """
    if isinstance(condition, Comparison):
        return 1, 0, 1
    comparisons, groups, terms = 0, 1, 1 if isinstance(condition, AllOf) else 0
    for item in condition.items:
        more, nested, paths = _shape(item)
        comparisons += more
        groups += nested
        terms = terms * paths if isinstance(condition, AllOf) else terms + paths
    return comparisons, groups, terms


class _Node:
    """A node of the engine's alpha network, built as the rule engine (2.0.28) builds it.

    In src/rules/rete.c, ``findAlpha`` reuses the child with the same field,
    operator, value type and value; an ``any`` group gets a fresh join node that
    each branch's last node lists (``createAlpha``, ``linkAlpha``).
    """

    __slots__ = ("children", "joins", "test")

    def __init__(self, test: Comparison | None) -> None:
        self.test = test
        self.children: dict[tuple[str, str, str, int | float | str], _Node] = {}
        self.joins: list[_Node] = []

    def place(self, condition: Condition) -> _Node:
        """Add ``condition`` below this node as the engine would; return its last node."""
        if isinstance(condition, Comparison):
            value = condition.value
            # Booleans travel as 1/0; the engine never shares an int and a float node.
            number = int(value) if isinstance(value, bool) else value
            key = (condition.field, condition.op, type(number).__name__, number)
            child = self.children.get(key)
            if child is None:
                child = self.children[key] = _Node(condition)
            return child
        if isinstance(condition, AllOf):
            node = self
            for item in condition.items:
                node = node.place(item)
            return node
        join = _Node(None)
        for item in condition.items:
            self.place(item).joins.append(join)
        return join

    def stack_peak(self, peaks: dict[int, int]) -> int:
        """The most nodes the engine's evaluation stack can hold below this node.

        ``handleAlpha`` (src/rules/events.c) pushes every join and every matching
        child before it walks the last one pushed.  ``peaks`` memoises shared nodes.
        """
        known = peaks.get(id(self))
        if known is None:
            pushed = len(self.joins) + _most_at_once(
                child.test for child in self.children.values() if child.test is not None
            )
            below = max(
                (node.stack_peak(peaks) for node in (*self.children.values(), *self.joins)),
                default=0,
            )
            known = peaks[id(self)] = max(pushed, pushed - 1 + below) if pushed else 0
        return known


def _most_at_once(tests: Iterable[Comparison]) -> int:
    """The most of ``tests`` one fact can satisfy together (fields are independent)."""
    by_field: dict[str, list[Comparison]] = {}
    for test in tests:
        by_field.setdefault(test.field, []).append(test)
    return sum(_most_on_one_field(group) for group in by_field.values())


def _most_on_one_field(tests: list[Comparison]) -> int:
    values: dict[str, list[Any]] = {op: [] for op in OPERATORS}
    for test in tests:
        values[test.op].append(test.value)
    equal, unequal = Counter(values["eq"]), Counter(values["ne"])
    others = len(values["ne"])
    if any(isinstance(test.value, str) for test in tests):
        # Enum fields allow only eq and ne; some value matches none of the tests.
        return max([others, *(equal[x] + others - unequal[x] for x in equal)])
    greater, at_least = sorted(values["gt"]), sorted(values["gte"])
    less, at_most = sorted(values["lt"]), sorted(values["lte"])
    points = sorted({float(test.value) for test in tests})
    # Counts change only at the test values: try each, each gap and both ends.
    candidates = [points[0] - 1, points[-1] + 1, *points]
    candidates += [(low + high) / 2 for low, high in itertools.pairwise(points)]
    return max(
        equal[x]
        + others
        - unequal[x]
        + bisect_left(greater, x)
        + bisect_right(at_least, x)
        + len(less)
        - bisect_right(less, x)
        + len(at_most)
        - bisect_left(at_most, x)
        for x in candidates
    )


def _stack_peak(kind: FactKind, rules: Iterable[Rule]) -> int:
    """The evaluation stack's peak for a fact of ``kind`` under ``rules`` (at most)."""
    start = _Node(None)
    for rule in rules:
        if rule.on == kind:
            start.place(rule.when)
    return max(1, start.stack_peak({}))


def _rules(reader: _Reader, raw: Any, parameters: Mapping[str, Parameter]) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    seen: set[str] = set()
    kinds: tuple[FactKind, ...] = ("episode", "case", "grade")
    bodies = reader.sequence(raw, "rules")
    if len(bodies) > MAX_RULES:
        reader.over(
            "rules", f"{len(bodies):,} rules; a pack may hold at most {MAX_RULES:,}", "max_rules"
        )
    starts = {kind: _Node(None) for kind in kinds}
    comparisons = terms = 0
    for index, body in enumerate(bodies):
        path = f"rules[{index}]"
        reader.rule_id = None
        if isinstance(body, dict) and isinstance(body.get("id"), str):
            reader.rule_id = body["id"]
        body = reader.mapping(
            body, path, required=("id", "title", "fact", "when", "then", "rationale", "source")
        )
        rule_id = reader.text(body["id"], f"{path}.id")
        if not set(rule_id) <= _ID_CHARS or not rule_id[0].isalpha():
            reader.fail(f"{path}.id", "use lower-case letters, digits, '.', '_' and '-'")
        if rule_id in seen:
            reader.fail(f"{path}.id", "duplicate rule id; every rule needs its own id")
        seen.add(rule_id)
        on = reader.choice(body["fact"], f"{path}.fact", kinds)
        kind: FactKind = "episode" if on == "episode" else "case" if on == "case" else "grade"
        when = body["when"]
        if not (isinstance(when, dict) and len(when) == 1 and next(iter(when)) in ("all", "any")):
            reader.fail(f"{path}.when", "expected {all: [...]} or {any: [...]}")
        condition = _condition(reader, when, f"{path}.when", kind, parameters)
        comparisons, terms = _check_shape(reader, condition, f"{path}.when", comparisons, terms)
        starts[kind].place(condition)
        then = reader.mapping(
            body["then"],
            f"{path}.then",
            required=(),
            optional=("element", "level", "urgent", "note"),
        )
        element = level = note = None
        urgent = then.get("urgent", False)
        if not isinstance(urgent, bool):
            reader.fail(f"{path}.then.urgent", f"expected true or false, got {_type_name(urgent)}")
        effects = [key for key in ("element", "level", "note") if key in then]
        if len(effects) != 1:
            reader.fail(f"{path}.then", "expected exactly one of element, level or note")
        if "element" in then:
            element = reader.choice(then["element"], f"{path}.then.element", ELEMENTS)
            if kind == "grade":
                reader.fail(f"{path}.fact", "an element rule must be on fact 'episode' or 'case'")
        elif "note" in then and kind != "grade":
            reader.fail(f"{path}.fact", "a note rule must be on fact 'grade'")
        elif kind == "case":
            # A case rule sees nothing a grade rule does not; episode rules can
            # grade one episode's contacts together, which no other fact can.
            reader.fail(f"{path}.fact", "a level rule must be on fact 'episode' or 'grade'")
        if "level" in then:
            level = Level(
                reader.choice(then["level"], f"{path}.then.level", [lv.value for lv in Level])
            )
        if "note" in then:
            note = reader.text(then["note"], f"{path}.then.note")
        if urgent and level is not Level.POLICE:
            reader.fail(f"{path}.then.urgent", "an urgent rule must also set level: police")
        rules.append(
            Rule(
                id=rule_id,
                title=reader.text(body["title"], f"{path}.title"),
                on=kind,
                when=condition,
                element=element,
                level=level,
                urgent=urgent,
                note=note,
                rationale=reader.text(body["rationale"], f"{path}.rationale"),
                source=reader.text(body["source"], f"{path}.source"),
                position=index,
            )
        )
    reader.rule_id = None
    for kind, start in starts.items():
        if start.stack_peak({}) > MAX_SIMULTANEOUS_MATCHES:
            _refuse_stack(reader, kind, rules)
    return tuple(rules)


def _check_shape(
    reader: _Reader, condition: Condition, path: str, comparisons: int, terms: int
) -> tuple[int, int]:
    """Check one rule's condition; return the pack's running comparison and term totals."""
    count, groups, paths = _shape(condition)
    if count > MAX_COMPARISONS_PER_RULE:
        reader.over(
            path,
            f"{count:,} comparisons; a rule may hold at most {MAX_COMPARISONS_PER_RULE:,}",
            "max_comparisons_per_rule",
        )
    if groups > MAX_GROUPS_PER_RULE:
        reader.over(
            path,
            f"{groups:,} all/any groups; a rule may hold at most {MAX_GROUPS_PER_RULE:,}",
            "max_groups_per_rule",
        )
    if paths > MAX_DNF_TERMS_PER_RULE:
        reader.over(
            path,
            f"{paths:,} terms when written as an any of alls; "
            f"a rule may have at most {MAX_DNF_TERMS_PER_RULE:,}",
            "max_dnf_terms_per_rule",
        )
    if comparisons + count > MAX_COMPARISONS_PER_PACK:
        reader.over(
            path,
            f"with this rule the pack holds {comparisons + count:,} comparisons; "
            f"at most {MAX_COMPARISONS_PER_PACK:,} are allowed",
            "max_comparisons_per_pack",
        )
    if terms + paths > MAX_DNF_TERMS_PER_PACK:
        reader.over(
            path,
            f"with this rule the pack's conditions have {terms + paths:,} terms when written "
            f"as an any of alls; at most {MAX_DNF_TERMS_PER_PACK:,} are allowed",
            "max_dnf_terms_per_pack",
        )
    return comparisons + count, terms + paths


def _refuse_stack(reader: _Reader, kind: FactKind, rules: Sequence[Rule]) -> NoReturn:
    """Name the first rule on ``kind`` with which one fact could overflow the stack."""
    on_kind = [rule for rule in rules if rule.on == kind]
    low, high = 0, len(on_kind) - 1  # the peak only grows as rules are added
    while low < high:
        middle = (low + high) // 2
        if _stack_peak(kind, on_kind[: middle + 1]) > MAX_SIMULTANEOUS_MATCHES:
            high = middle
        else:
            low = middle + 1
    culprit = on_kind[low]
    reader.rule_id = culprit.id
    reader.over(
        f"rules[{culprit.position}].when",
        f"with this rule the engine may have to hold {_stack_peak(kind, on_kind[: low + 1]):,} "
        f"conditions of one {kind} fact at once (many tests of one field, or many any-groups "
        f"sharing a branch, add up); it holds at most {MAX_SIMULTANEOUS_MATCHES:,}",
        "max_simultaneous_matches",
    )


def _actions(reader: _Reader, raw: Any) -> tuple[ActionSpec, ...]:
    levels = [level.value for level in Level]
    relationships = [r.value for r in Relationship]
    actions = []
    seen: set[str] = set()
    for index, body in enumerate(reader.sequence(raw, "actions")):
        path = f"actions[{index}]"
        body = reader.mapping(
            body,
            path,
            required=("id", "text", "min_level"),
            optional=("max_level", "relationships", "requires", "source"),
        )
        action_id = reader.text(body["id"], f"{path}.id")
        if action_id in seen:
            reader.fail(f"{path}.id", "duplicate action id")
        seen.add(action_id)
        low = Level(reader.choice(body["min_level"], f"{path}.min_level", levels))
        high = Level(reader.choice(body.get("max_level", "police"), f"{path}.max_level", levels))
        if high.rank < low.rank:
            reader.fail(f"{path}.max_level", "is below min_level")
        chosen = [
            reader.choice(r, f"{path}.relationships[{i}]", relationships)
            for i, r in enumerate(
                reader.sequence(body.get("relationships", relationships), f"{path}.relationships")
            )
        ]
        requires = [
            reader.choice(r, f"{path}.requires[{i}]", _REQUIREMENTS)
            for i, r in enumerate(
                reader.sequence(body.get("requires", []), f"{path}.requires", non_empty=False)
            )
        ]
        actions.append(
            ActionSpec(
                id=action_id,
                text=" ".join(reader.text(body["text"], f"{path}.text").split()),
                min_level=low,
                max_level=high,
                relationships=frozenset(Relationship(r) for r in chosen),
                requires=frozenset(requires),
                source=reader.text(body["source"], f"{path}.source") if "source" in body else "",
            )
        )
    return tuple(actions)


def _canonical_sha256(document: Any) -> str:
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class _DuplicateJsonKey(ValueError):
    pass


def _unique_json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise _DuplicateJsonKey(key)
        document[key] = value
    return document


def _depth(document: Any) -> int:
    """How deep values nest (a scalar at the top is level 1), without recursion."""
    deepest, pending = 0, [(document, 1)]
    while pending:
        value, depth = pending.pop()
        deepest = max(deepest, depth)
        if isinstance(value, dict):
            pending.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
    return deepest


def _read_text(path: Path, reader: _Reader) -> str:
    try:
        with path.open("rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            # Never more than the limit allows, whatever the file claims to hold.
            data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        reader.fail("", f"cannot read the file ({error.strerror})")
    if len(data) > MAX_FILE_BYTES:
        reader.over(
            "",
            f"the file holds {max(size, len(data)):,} bytes; "
            f"a pack may hold at most {MAX_FILE_BYTES:,}",
            "max_file_bytes",
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        reader.fail("", "the file is not UTF-8 text")


def _read_document(path: Path, reader: _Reader) -> Any:
    # YAML is imported here, not at module level: `import stalkrisk` stays fast.
    import yaml

    from ._yaml import TooDeep, load_yaml

    file = reader.file
    text = _read_text(path, reader)
    too_deep = f"values nest more than {MAX_DOCUMENT_DEPTH} levels deep"
    try:
        if path.suffix != ".json":
            return load_yaml(text, max_depth=MAX_DOCUMENT_DEPTH)
        document = json.loads(text, object_pairs_hook=_unique_json_object)
    except RecursionError:  # JSON nests deeper than the reader's C stack allows
        reader.over("", too_deep, "max_document_depth")
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        # libyaml stops at 1,000 levels itself, before the composer counts them.
        if isinstance(error, TooDeep) or "maximum nesting depth" in str(error.problem):
            line = f" (line {mark.line + 1})" if mark else ""
            reader.over("", too_deep + line, "max_document_depth")
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise RulePackError(
            f"not valid YAML data{where}: {error.problem} (only plain data is allowed)", file=file
        ) from None
    except yaml.YAMLError as error:
        raise RulePackError(f"not valid YAML data: {error}", file=file) from None
    except _DuplicateJsonKey as error:
        raise RulePackError(
            f"duplicate key {error.args[0]!r} in a JSON object", file=file
        ) from None
    except json.JSONDecodeError as error:
        raise RulePackError(
            f"not valid JSON at line {error.lineno}, column {error.colno}: {error.msg}", file=file
        ) from None
    except ValueError:
        # The only other reading error: Python reads integers of at most 4,300 digits.
        reader.fail("", "a number has too many digits to be read")
    if _depth(document) > MAX_DOCUMENT_DEPTH:
        reader.over("", too_deep, "max_document_depth")
    return document


def parse_rule_pack(path: Path, *, display_name: str | None = None) -> RulePack:
    """Read and validate a rule pack file; no engine is involved.

    Every problem is a :class:`RulePackError`, including a value or a size that
    Python itself cannot handle.
    """
    reader = _Reader(display_name or str(path))
    try:
        return _parse(path, reader)
    except RulePackError:
        raise
    except (RecursionError, ValueError, OverflowError, MemoryError) as error:
        # The checks above should leave nothing for these; if one slips through,
        # it is still the pack's fault, not an internal error.
        reader.fail("", f"the pack cannot be validated ({type(error).__name__})")


def _parse(path: Path, reader: _Reader) -> RulePack:
    file = reader.file
    document = _read_document(path, reader)
    if document is None:
        reader.fail("", "the rule pack is empty")
    top = reader.mapping(
        document,
        "",
        required=("name", "version", "parameters", "behaviours", "levels", "rules", "actions"),
        optional=("description",),
    )
    name = reader.text(top["name"], "name")
    if not set(name) <= _ID_CHARS:
        reader.fail("name", "use lower-case letters, digits, '.', '_' and '-'")
    if not isinstance(top["version"], str | int | float) or isinstance(top["version"], bool):
        reader.fail("version", "expected a version string such as '1.0.0'")
    parameters = _parameters(reader, top["parameters"])
    return RulePack(
        name=name,
        version=str(top["version"]),
        description=" ".join(str(top.get("description", "")).split()),
        sha256=_canonical_sha256(document),
        file=file,
        parameters=parameters,
        behaviours=_behaviours(reader, top["behaviours"]),
        levels=_levels(reader, top["levels"]),
        rules=_rules(reader, top["rules"], parameters),
        actions=_actions(reader, top["actions"]),
    )
