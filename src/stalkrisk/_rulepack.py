"""Loading and validating a rule pack (YAML or JSON data, never code).

Every problem is reported as a :class:`RulePackError` naming the file, the rule
id (where there is one) and the field path, for example
``rules/default.yaml, rule 'element.pattern', field rules[0].when.all[1].field``.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, NoReturn, TypeAlias

from ._case import Behaviour, Relationship
from ._exceptions import RulePackError
from ._features import ELEMENTS, GROUPS, FactKind, FieldSpec, fields_for
from ._ladder import Level

__all__ = [
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
_REQUIREMENTS = (*ELEMENTS, "urgent", "family")
_PICTURES = ("clinical", "criminal")
_ID_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")


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

    def number(self, value: Any, path: str) -> int | float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(path, f"expected a number, got {_type_name(value)}")
        if not math.isfinite(value):
            self.fail(path, "expected a finite number")
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
        value = reader.number(body["value"], f"{path}.value")
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
) -> Condition:
    if isinstance(raw, dict) and len(raw) == 1 and next(iter(raw)) in ("all", "any"):
        key = next(iter(raw))
        items = tuple(
            _condition(reader, item, f"{path}.{key}[{i}]", kind, parameters)
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


def _rules(reader: _Reader, raw: Any, parameters: Mapping[str, Parameter]) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    seen: set[str] = set()
    kinds: tuple[FactKind, ...] = ("episode", "case", "grade")
    for index, body in enumerate(reader.sequence(raw, "rules")):
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
        elif kind != "grade":
            reader.fail(f"{path}.fact", "a level or note rule must be on fact 'grade'")
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
    return tuple(rules)


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
            optional=("max_level", "relationships", "requires"),
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


def _read_document(path: Path, file: str) -> Any:
    # YAML is imported here, not at module level: `import stalkrisk` stays fast.
    import yaml

    from ._yaml import load_yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RulePackError(f"cannot read the file ({error.strerror})", file=file) from None
    except UnicodeDecodeError:
        raise RulePackError("the file is not UTF-8 text", file=file) from None
    try:
        if path.suffix == ".json":
            return json.loads(text, object_pairs_hook=_unique_json_object)
        return load_yaml(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
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


def parse_rule_pack(path: Path, *, display_name: str | None = None) -> RulePack:
    """Read and validate a rule pack file; no engine is involved."""
    file = display_name or str(path)
    document = _read_document(path, file)
    reader = _Reader(file)
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
