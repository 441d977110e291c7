"""Loading and validating a rule pack (YAML or JSON data, never code).

Loading collects every problem it can find and raises one :class:`RulePackError`
listing them; each names the file, the rule id (where there is one), the field
path, for example ``rules/default.yaml, rule 'element.pattern', field
rules[0].when.all[1].field``, and carries a stable ``type`` code.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn, TypeAlias, TypeVar, TypeVarTuple

from ._case import Behaviour, Relationship
from ._exceptions import MAX_RULE_PACK_PROBLEMS, RulePackError, RulePackProblem
from ._fields import ELEMENTS, GROUPS, FactKind, fields_for
from ._ladder import Level
from ._limits import (
    LIMITS,
    MAX_COMPARISONS_PER_PACK,
    MAX_COMPARISONS_PER_RULE,
    MAX_CONDITION_DEPTH,
    MAX_DNF_TERMS_PER_PACK,
    MAX_DNF_TERMS_PER_RULE,
    MAX_DOCUMENT_DEPTH,
    MAX_FILE_BYTES,
    MAX_GROUPS_PER_RULE,
    MAX_RULES,
    MAX_SIMULTANEOUS_MATCHES,
    stack_peak,
)
from ._packmodel import (
    OPERATORS,
    ActionSpec,
    AllOf,
    AnyOf,
    BehaviourSpec,
    Condition,
    FieldTest,
    LevelSpec,
    Parameter,
    Rule,
    RulePack,
    condition_shape,
)
from ._suggest import closest, did_you_mean

__all__ = [
    "MAPPING_SOURCE",
    "TEXT_SOURCE",
    "parse_rule_pack",
    "parse_rule_pack_document",
    "parse_rule_pack_text",
    "parse_with_parameters",
]

TEXT_SOURCE = "<text>"
"""The ``file`` of a pack given as text without a ``name_hint``."""
MAPPING_SOURCE = "<mapping>"
"""The ``file`` of a pack given as a mapping."""

REQUIRED_PARAMETERS = (
    "pattern_min_distinct_behaviours",
    "pattern_min_span_days",
    "episode_max_gap_days",
    "recent_days",
)
_REQUIREMENTS = (*ELEMENTS, "urgent", "family", "colleagues")
_PICTURES = ("clinical", "criminal")
_ID_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")
_LADDER = ", ".join(level.value for level in Level)
_TOP_KEYS = ("name", "version", "parameters", "behaviours", "levels", "rules", "actions")

_DAY_PARAMETERS = (
    "pattern_min_span_days",
    "episode_max_gap_days",
    "recent_days",
    "history_after_days",
    "ongoing_max_days",
)


_T = TypeVar("_T")
_Args = TypeVarTuple("_Args")


class _Skip(Exception):
    """This part of the pack is invalid and its problem is recorded; loading goes on."""


class _Stop(Exception):
    """Nothing more can be checked (or enough was found): raise what was recorded."""


class _Reader:
    """Walks the raw document, recording problems that carry file, rule id and path.

    A part found invalid raises :class:`_Skip`, which the part above it catches,
    so that its siblings are still checked; the parts that needed it are left
    out without a second problem.  Problems past a limit are kept apart in
    ``limits``: they are reported only when the structure is valid.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.rule_id: str | None = None
        self.problems: list[RulePackProblem] = []
        self.limits: list[RulePackProblem] = []
        # Parameters that are named but invalid or missing: what refers to them is
        # left out silently, as their own problem is already recorded.
        self.unusable: set[str] = set()
        self.parameters_unusable = False

    def problem(
        self, path: str, msg: str, type: str, suggestion: str | None = None
    ) -> RulePackProblem:
        return RulePackProblem(self.file, self.rule_id, path or None, msg, type, suggestion)

    def note(self, path: str, msg: str, type: str, *, suggestion: str | None = None) -> None:
        """Record a problem and go on."""
        self.problems.append(self.problem(path, msg, type, suggestion))
        if len(self.problems) >= MAX_RULE_PACK_PROBLEMS:
            raise _Stop

    def fail(self, path: str, msg: str, type: str, *, suggestion: str | None = None) -> NoReturn:
        """Record a problem and leave the part being read."""
        self.note(path, msg, type, suggestion=suggestion)
        raise _Skip

    def stop(self, path: str, msg: str, type: str) -> NoReturn:
        """Record a problem after which nothing else can be checked."""
        self.problems.append(self.problem(path, msg, type))
        raise _Stop

    def limit(self, path: str, msg: str, limit: str) -> RulePackProblem:
        """A problem for a pack past one of :data:`LIMITS`, naming the limit."""
        return self.problem(path, f"{msg} [limit: {limit}]", "limit")

    def over(self, path: str, msg: str, limit: str) -> NoReturn:
        """Record a pack past a limit, to report if the structure is valid; leave the part."""
        if len(self.limits) < MAX_RULE_PACK_PROBLEMS:
            self.limits.append(self.limit(path, msg, limit))
        raise _Skip

    def attempt(self, parse: Callable[[*_Args], _T], *args: *_Args) -> _T | None:
        """``parse(*args)``, or ``None`` if that part is invalid (its problem is recorded)."""
        try:
            return parse(*args)
        except _Skip:
            return None

    def part(
        self, body: Mapping[str, Any], key: str, path: str, parse: Callable[[Any, str], _T]
    ) -> _T | None:
        """``body[key]`` read by ``parse``; ``None`` if it is missing or invalid."""
        if key not in body:
            return None  # a required key's absence is recorded by mapping()
        return self.attempt(parse, body[key], _join(path, key))

    def mapping(
        self, value: Any, path: str, *, required: Sequence[str], optional: Sequence[str] = ()
    ) -> dict[str, Any]:
        """``value`` as a mapping; unknown and missing keys are recorded, not fatal."""
        if not isinstance(value, dict):
            self.fail(path, f"expected a mapping, got {_type_name(value)}", "wrong_type")
        allowed = (*required, *optional)
        suggested = set()
        for key in value:
            if key not in allowed:
                match = closest(key, allowed)
                hint = None if match is None else f"did you mean {match!r}?"
                suggested.add(match)
                self.note(
                    _join(path, str(key)),
                    _with("unknown key", hint),
                    "unknown_key",
                    suggestion=hint,
                )
        for key in required:
            # A misspelt key is reported once, as unknown, with the right name.
            if key not in value and key not in suggested:
                self.note(_join(path, key), "missing required key", "missing_key")
        return value

    def text(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            self.fail(path, f"expected non-empty text, got {_type_name(value)}", "wrong_type")
        if not value.strip():
            self.fail(path, "expected non-empty text, got empty text", "bad_value")
        return value.strip()

    def flag(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            self.fail(path, f"expected true or false, got {_type_name(value)}", "wrong_type")
        return value

    def sequence(self, value: Any, path: str, *, non_empty: bool = True) -> list[Any]:
        if not isinstance(value, list):
            self.fail(path, f"expected a list, got {_type_name(value)}", "wrong_type")
        if non_empty and not value:
            self.fail(path, "must not be empty", "bad_value")
        return value

    def number(self, value: Any, path: str, *, limit: str = "max_number") -> int | float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(path, f"expected a number, got {_type_name(value)}", "wrong_type")
        if not math.isfinite(value):
            self.fail(path, "expected a finite number", "bad_value")
        if abs(value) > LIMITS[limit]:
            self.over(
                path, f"{value:,} is out of range; at most {LIMITS[limit]:,} is allowed", limit
            )
        return value

    def choice(self, value: Any, path: str, choices: Sequence[str]) -> str:
        if not isinstance(value, str):
            self.fail(
                path, f"expected one of {', '.join(choices)}, got {_type_name(value)}", "wrong_type"
            )
        if value not in choices:
            hint = did_you_mean(value, choices)
            self.fail(
                path,
                _with(f"{value!r} is not one of {', '.join(choices)}", hint),
                "not_allowed",
                suggestion=hint,
            )
        return value

    def each(self, items: Sequence[Any], path: str, parse: Callable[[Any, str], _T]) -> list[_T]:
        """Every item read by ``parse``; if one is invalid, the others are still checked."""
        parsed = [self.attempt(parse, item, f"{path}[{i}]") for i, item in enumerate(items)]
        if any(item is None for item in parsed):
            raise _Skip
        return [item for item in parsed if item is not None]


def _type_name(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _with(msg: str, hint: str | None) -> str:
    """``msg`` with ``; hint`` after it, if there is a hint."""
    return msg if hint is None else f"{msg}; {hint}"


def _parameters(reader: _Reader, raw: Any) -> dict[str, Parameter]:
    if not isinstance(raw, dict):
        reader.parameters_unusable = True
        reader.fail("parameters", f"expected a mapping, got {_type_name(raw)}", "wrong_type")
    for name in REQUIRED_PARAMETERS:
        if name not in raw:
            reader.unusable.add(name)
            match = closest(name, [key for key in raw if key not in REQUIRED_PARAMETERS])
            fix = None if match is None else f"rename {match!r} to {name!r}"
            reader.note(
                f"parameters.{name}",
                _with("missing required key", fix),
                "missing_key",
                suggestion=fix,
            )
    parameters = {}
    for name, body in raw.items():
        parameter = reader.attempt(_parameter, reader, name, body)
        if parameter is None:
            reader.unusable.add(name)
        else:
            parameters[name] = parameter
    minimum = parameters.get("pattern_min_distinct_behaviours")
    if minimum is not None and (minimum.value < 1 or minimum.value != int(minimum.value)):
        reader.note(
            "parameters.pattern_min_distinct_behaviours.value",
            "must be a whole number ≥ 1",
            "bad_value",
        )
    return parameters


def _parameter(reader: _Reader, name: str, raw: Any) -> Parameter:
    path = f"parameters.{name}"
    body = reader.mapping(raw, path, required=("value",), optional=("description", "source"))
    if "value" not in body:
        raise _Skip
    limit = "max_days" if name in _DAY_PARAMETERS else "max_number"
    value = reader.number(body["value"], f"{path}.value", limit=limit)
    if value < 0:
        reader.fail(f"{path}.value", f"must not be negative, got {value}", "bad_value")
    return Parameter(
        name=name,
        value=value,
        description=str(body.get("description", "")).strip(),
        source=str(body.get("source", "")).strip(),
    )


def _behaviours(reader: _Reader, raw: Any) -> tuple[BehaviourSpec, ...]:
    specs: dict[Behaviour, BehaviourSpec] = {}
    complete = True  # every entry's code was read, so a code not seen is missing
    for index, body in enumerate(reader.sequence(raw, "behaviours")):
        code, spec = _behaviour(reader, body, f"behaviours[{index}]", specs)
        complete = complete and code is not None
        if spec is not None:
            specs[spec.code] = spec
    missing = [b.value for b in Behaviour if b not in specs]
    if missing and complete:
        reader.fail(
            "behaviours",
            f"the catalogue lacks {', '.join(missing)}; list every code",
            "bad_value",
            suggestion=f"add {', '.join(missing)}",
        )
    if missing:
        raise _Skip
    return tuple(specs[b] for b in Behaviour)


def _behaviour(
    reader: _Reader, raw: Any, path: str, specs: Mapping[Behaviour, BehaviourSpec]
) -> tuple[Behaviour | None, BehaviourSpec | None]:
    """The entry's code (``None`` if unreadable) and the entry (``None`` if invalid)."""
    codes = [b.value for b in Behaviour]
    body = reader.attempt(
        lambda: reader.mapping(
            raw,
            path,
            required=("code", "label", "group", "description"),
            optional=("source", "pursuit"),
        )
    )
    if body is None:
        return None, None
    code = reader.part(body, "code", path, lambda v, p: Behaviour(reader.choice(v, p, codes)))
    if code is not None and code in specs:
        reader.note(f"{path}.code", f"behaviour {code.value!r} is listed twice", "duplicate")
        return code, None
    label = reader.part(body, "label", path, reader.text)
    group = reader.part(body, "group", path, lambda v, p: reader.choice(v, p, GROUPS))
    description = reader.part(body, "description", path, reader.text)
    pursuit = reader.part(body, "pursuit", path, reader.flag) if "pursuit" in body else False
    if code is None or label is None or group is None or description is None or pursuit is None:
        return code, None
    spec = BehaviourSpec(
        code=code,
        label=label,
        group=group,
        description=description,
        source=str(body.get("source", "")).strip(),
        pursuit=pursuit,
    )
    return code, spec


def _levels(reader: _Reader, raw: Any) -> tuple[LevelSpec, ...]:
    specs = [
        reader.attempt(_level, reader, body, index)
        for index, body in enumerate(reader.sequence(raw, "levels"))
    ]
    if any(spec is None for spec in specs):
        raise _Skip
    if len(specs) != len(Level):
        reader.fail("levels", f"expected all of {_LADDER} in that order", "bad_value")
    return tuple(spec for spec in specs if spec is not None)


def _level(reader: _Reader, raw: Any, index: int) -> LevelSpec:
    codes = [level.value for level in Level]
    path = f"levels[{index}]"
    body = reader.mapping(raw, path, required=("code", "title", "picture", "description"))
    code = reader.part(body, "code", path, lambda v, p: reader.choice(v, p, codes))
    if code is not None and (index >= len(codes) or code != codes[index]):
        expected = codes[index] if index < len(codes) else "nothing"
        reader.note(
            f"{path}.code", f"expected {expected!r} here: the ladder is {_LADDER}", "bad_value"
        )
        code = None
    title = reader.part(body, "title", path, reader.text)
    picture = reader.part(body, "picture", path, lambda v, p: reader.choice(v, p, _PICTURES))
    description = reader.part(body, "description", path, reader.text)
    if code is None or title is None or picture is None or description is None:
        raise _Skip
    return LevelSpec(code=Level(code), title=title, picture=picture, description=description)


def _when(
    reader: _Reader, raw: Any, path: str, kind: FactKind, parameters: Mapping[str, Parameter]
) -> Condition:
    if _is_group(raw):
        return _condition(reader, raw, path, kind, parameters)
    if isinstance(raw, dict) and len(raw) == 1:
        key = next(iter(raw))
        hint = did_you_mean(key, ("all", "any"))
        if hint is not None:
            reader.fail(
                _join(path, str(key)), f"unknown key; {hint}", "unknown_key", suggestion=hint
            )
    reader.fail(path, "expected {all: [...]} or {any: [...]}", "wrong_type")


def _is_group(raw: Any) -> bool:
    return isinstance(raw, dict) and len(raw) == 1 and next(iter(raw)) in ("all", "any")


def _condition(
    reader: _Reader,
    raw: Any,
    path: str,
    kind: FactKind,
    parameters: Mapping[str, Parameter],
    depth: int = 1,
) -> Condition:
    if _is_group(raw):
        if depth > MAX_CONDITION_DEPTH:
            reader.over(
                path,
                f"all/any groups nested {depth} levels deep; "
                f"at most {MAX_CONDITION_DEPTH} levels are allowed",
                "max_condition_depth",
            )
        key = next(iter(raw))
        items = reader.each(
            reader.sequence(raw[key], f"{path}.{key}"),
            f"{path}.{key}",
            lambda item, at: _condition(reader, item, at, kind, parameters, depth + 1),
        )
        return AllOf(tuple(items)) if key == "all" else AnyOf(tuple(items))
    if isinstance(raw, dict) and "field" in raw:
        return _comparison(reader, raw, path, kind, parameters)
    if isinstance(raw, dict):
        known = ("field", "all", "any", *OPERATORS)
        unknown = [key for key in raw if key not in known]
        for key in unknown:
            hint = did_you_mean(key, known)
            reader.note(
                _join(path, str(key)), _with("unknown key", hint), "unknown_key", suggestion=hint
            )
        if unknown:
            raise _Skip
    reader.fail(path, "expected {field: …, <op>: …} or {all: [...]} or {any: [...]}", "wrong_type")


def _comparison(
    reader: _Reader,
    raw: dict[str, Any],
    path: str,
    kind: FactKind,
    parameters: Mapping[str, Parameter],
) -> FieldTest:
    choices = ", ".join(OPERATORS)
    unknown = [key for key in raw if key != "field" and key not in OPERATORS]
    for key in unknown:
        hint = did_you_mean(key, OPERATORS)
        reader.note(
            _join(path, str(key)),
            _with(f"not an operator: use one of {choices}", hint),
            "bad_operator",
            suggestion=hint,
        )
    ops = [key for key in raw if key in OPERATORS]
    if len(ops) != 1 and not unknown:
        reader.note(path, f"expected exactly one operator of {choices}", "bad_operator")
    specs = fields_for(kind)
    name = raw["field"]
    spec = specs.get(name) if isinstance(name, str) else None
    if spec is None:
        hint = did_you_mean(name, specs)
        reader.note(
            f"{path}.field",
            _with(f"unknown field {name!r} for a rule on {kind!r}", hint),
            "unknown_field",
            suggestion=hint,
        )
    if len(ops) != 1 or unknown:
        raise _Skip
    op = ops[0]
    value_path = f"{path}.{op}"
    value = raw[op]
    param = None
    if isinstance(value, dict):
        reference = reader.mapping(value, value_path, required=("param",))
        if "param" not in reference:
            raise _Skip
        param = reference["param"]
        value = _parameter_value(reader, param, f"{value_path}.param", parameters)
    if spec is None:
        raise _Skip
    if spec.type in ("bool", "enum") and op not in ("eq", "ne"):
        reader.fail(path, f"{name} can only be compared with eq or ne", "bad_operator")
    if spec.type in ("count", "number"):
        value = reader.number(value, value_path)
    elif spec.type == "bool":
        if not isinstance(value, bool):
            reader.fail(
                value_path, f"{name} is true or false, got {_type_name(value)}", "wrong_type"
            )
    else:
        value = reader.choice(value, value_path, spec.values)
    return FieldTest(field=name, op=op, value=value, param=param)


def _parameter_value(
    reader: _Reader, name: Any, path: str, parameters: Mapping[str, Parameter]
) -> int | float:
    if not isinstance(name, str):
        reader.fail(path, f"expected a parameter name, got {_type_name(name)}", "wrong_type")
    if name in parameters:
        return parameters[name].value
    if name in reader.unusable or reader.parameters_unusable:
        raise _Skip  # the parameter's own problem is recorded
    hint = did_you_mean(name, parameters)
    reader.fail(
        path, _with(f"unknown parameter {name!r}", hint), "unknown_parameter", suggestion=hint
    )


# --- notes -------------------------------------------------------------------------
# A note may show parameter values: "{recent_days}" becomes "7".  "{{" and "}}" are
# literal braces; nothing else of Python's format syntax is allowed.
_BRACES = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_SHOWN_PLACEHOLDER = 40
_ESCAPE_FIX = "write '{{' and '}}' for literal braces"


def _number_text(value: int | float) -> str:
    """``7`` for 7 and 7.0, ``1.5`` for 1.5: how a parameter's value reads in a note."""
    if isinstance(value, int) or value.is_integer():
        return str(int(value))
    return f"{value:g}"


def _note(reader: _Reader, raw: Any, path: str, parameters: Mapping[str, Parameter]) -> str:
    """The note text with each ``{parameter}`` replaced by the pack's value."""
    text = reader.text(raw, path)
    parts: list[str] = []
    at = 0
    valid = True
    for match in _BRACES.finditer(text):
        parts.append(text[at : match.start()])
        at = match.end()
        token, name = match.group(), match.group(1)
        if token in ("{{", "}}"):
            parts.append(token[0])
        elif name in parameters:
            parts.append(_number_text(parameters[name].value))
        else:
            valid = False
            _placeholder_problem(reader, path, token, name, parameters)
    if not valid:
        raise _Skip
    parts.append(text[at:])
    return "".join(parts)


def _placeholder_problem(
    reader: _Reader,
    path: str,
    token: str,
    name: str | None,
    parameters: Mapping[str, Parameter],
) -> None:
    shown = token if len(token) <= _SHOWN_PLACEHOLDER else token[: _SHOWN_PLACEHOLDER - 2] + "…}"
    if name is None:  # a single brace
        fix = f"write {token * 2!r} for a literal {token!r}"
        reader.note(
            path,
            f"a single {token!r} is neither a placeholder nor an escaped brace; {fix}",
            "bad_placeholder",
            suggestion=fix,
        )
        return
    if name in reader.unusable or reader.parameters_unusable:
        return  # the parameter's own problem is recorded
    base = re.split(r"[:!.\[]", name, maxsplit=1)[0].strip()
    if not name.strip() or (base != name and base in parameters):
        fix = f"write '{{{base}}}'" if base in parameters else _ESCAPE_FIX
        reader.note(
            path,
            f"placeholder {shown!r} is not '{{name}}' with a parameter's name; {fix}",
            "bad_placeholder",
            suggestion=fix,
        )
        return
    hint = did_you_mean(name, parameters)
    fix = hint or f"name a parameter of the pack, or {_ESCAPE_FIX}"
    reader.note(
        path,
        f"placeholder {shown!r} names no parameter of the pack; {fix}",
        "unknown_parameter",
        suggestion=fix,
    )


_KINDS: tuple[FactKind, ...] = ("episode", "case", "grade")
_RULE_KEYS = ("id", "title", "fact", "when", "then", "rationale", "source")


def _rules(
    reader: _Reader, raw: Any, parameters: Mapping[str, Parameter]
) -> tuple[tuple[Rule, ...], int]:
    """The valid rules and how many the pack lists (all of them, if none is invalid)."""
    bodies = reader.sequence(raw, "rules")
    rules: list[Rule] = []
    seen: set[str] = set()
    for index, body in enumerate(bodies):
        reader.rule_id = None
        if isinstance(body, dict) and isinstance(body.get("id"), str):
            reader.rule_id = body["id"]
        try:
            rule = reader.attempt(_rule, reader, body, index, parameters, seen)
        finally:
            reader.rule_id = None
        if rule is not None:
            rules.append(rule)
    return tuple(rules), len(bodies)


def _rule(
    reader: _Reader, raw: Any, index: int, parameters: Mapping[str, Parameter], seen: set[str]
) -> Rule:
    path = f"rules[{index}]"
    body = reader.mapping(raw, path, required=_RULE_KEYS)
    rule_id = reader.part(body, "id", path, lambda v, p: _rule_id(reader, v, p, seen))
    title = reader.part(body, "title", path, reader.text)
    on = reader.part(body, "fact", path, lambda v, p: reader.choice(v, p, _KINDS))
    kind: FactKind | None = next((k for k in _KINDS if k == on), None)
    # Without a valid fact, which fields a condition may test is unknown.
    when = None
    if kind is not None:
        when = reader.part(body, "when", path, lambda v, p: _when(reader, v, p, kind, parameters))
    then = reader.part(body, "then", path, lambda v, p: _then(reader, v, p, kind, parameters))
    rationale = reader.part(body, "rationale", path, reader.text)
    source = reader.part(body, "source", path, reader.text)
    if (
        rule_id is None
        or title is None
        or kind is None
        or when is None
        or then is None
        or rationale is None
        or source is None
    ):
        raise _Skip
    element, level, urgent, note = then
    return Rule(
        id=rule_id,
        title=title,
        on=kind,
        when=when,
        element=element,
        level=level,
        urgent=urgent,
        note=note,
        rationale=rationale,
        source=source,
        position=index,
    )


def _rule_id(reader: _Reader, raw: Any, path: str, seen: set[str]) -> str:
    rule_id = reader.text(raw, path)
    if not set(rule_id) <= _ID_CHARS or not rule_id[0].isalpha():
        reader.fail(path, "use lower-case letters, digits, '.', '_' and '-'", "bad_value")
    if rule_id in seen:
        reader.fail(path, "duplicate rule id; every rule needs its own id", "duplicate")
    seen.add(rule_id)
    return rule_id


_Effect: TypeAlias = tuple[str | None, Level | None, bool, str | None]


def _then(
    reader: _Reader,
    raw: Any,
    path: str,
    kind: FactKind | None,
    parameters: Mapping[str, Parameter],
) -> _Effect:
    """``(element, level, urgent, note)``; ``kind`` is ``None`` if the fact is invalid."""
    fact_path = path.removesuffix(".then") + ".fact"
    known = ("element", "level", "urgent", "note")
    then = reader.mapping(raw, path, required=(), optional=known)
    valid = len(then) == len([key for key in then if key in known])
    urgent = reader.part(then, "urgent", path, reader.flag) if "urgent" in then else False
    effects = [key for key in ("element", "level", "note") if key in then]
    if len(effects) != 1:
        if not effects and not valid:
            raise _Skip  # a misspelt effect, reported as an unknown key
        reader.fail(path, "expected exactly one of element, level or note", "bad_effect")
    element = level = note = None
    if "element" in then:
        element = reader.part(then, "element", path, lambda v, p: reader.choice(v, p, ELEMENTS))
        valid = valid and element is not None
        if kind == "grade":
            reader.note(
                fact_path, "an element rule must be on fact 'episode' or 'case'", "bad_effect"
            )
            valid = False
    elif "note" in then:
        note = reader.part(then, "note", path, lambda v, p: _note(reader, v, p, parameters))
        valid = valid and note is not None
        if kind is not None and kind != "grade":
            reader.note(fact_path, "a note rule must be on fact 'grade'", "bad_effect")
            valid = False
    else:
        levels = [lv.value for lv in Level]
        chosen = reader.part(then, "level", path, lambda v, p: reader.choice(v, p, levels))
        level = None if chosen is None else Level(chosen)
        valid = valid and level is not None
        if kind == "case":
            # A case rule sees nothing a grade rule does not; episode rules can
            # grade one episode's contacts together, which no other fact can.
            reader.note(
                fact_path, "a level rule must be on fact 'episode' or 'grade'", "bad_effect"
            )
            valid = False
    if urgent and level is not Level.POLICE and (level is not None or "level" not in then):
        reader.note(f"{path}.urgent", "an urgent rule must also set level: police", "bad_effect")
        valid = False
    if not valid or urgent is None:
        raise _Skip
    return element, level, urgent, note


def _check_limits(reader: _Reader, rules: Sequence[Rule], listed: int) -> list[RulePackProblem]:
    """Every limit a structurally valid pack passes: the rule count first, then in file order."""
    found: list[RulePackProblem] = []
    if listed > MAX_RULES:
        found.append(
            reader.limit(
                "rules", f"{listed:,} rules; a pack may hold at most {MAX_RULES:,}", "max_rules"
            )
        )
    found += reader.limits
    comparisons = terms = 0
    for rule in rules:
        reader.rule_id = rule.id
        path = f"rules[{rule.position}].when"
        count, groups, paths = condition_shape(rule.when)
        if count > MAX_COMPARISONS_PER_RULE:
            found.append(
                reader.limit(
                    path,
                    f"{count:,} comparisons; a rule may hold at most {MAX_COMPARISONS_PER_RULE:,}",
                    "max_comparisons_per_rule",
                )
            )
        if groups > MAX_GROUPS_PER_RULE:
            found.append(
                reader.limit(
                    path,
                    f"{groups:,} all/any groups; a rule may hold at most {MAX_GROUPS_PER_RULE:,}",
                    "max_groups_per_rule",
                )
            )
        if paths > MAX_DNF_TERMS_PER_RULE:
            found.append(
                reader.limit(
                    path,
                    f"{paths:,} terms when written as an any of alls; "
                    f"a rule may have at most {MAX_DNF_TERMS_PER_RULE:,}",
                    "max_dnf_terms_per_rule",
                )
            )
        # Each pack-wide total is reported once, at the rule that passes it.
        if comparisons <= MAX_COMPARISONS_PER_PACK < comparisons + count:
            found.append(
                reader.limit(
                    path,
                    f"with this rule the pack holds {comparisons + count:,} comparisons; "
                    f"at most {MAX_COMPARISONS_PER_PACK:,} are allowed",
                    "max_comparisons_per_pack",
                )
            )
        if terms <= MAX_DNF_TERMS_PER_PACK < terms + paths:
            found.append(
                reader.limit(
                    path,
                    f"with this rule the pack's conditions have {terms + paths:,} terms when "
                    f"written as an any of alls; at most {MAX_DNF_TERMS_PER_PACK:,} are allowed",
                    "max_dnf_terms_per_pack",
                )
            )
        comparisons, terms = comparisons + count, terms + paths
    reader.rule_id = None
    if not found:
        # Building the engine's network is only meaningful within the other limits.
        for kind in _KINDS:
            if stack_peak(kind, rules) > MAX_SIMULTANEOUS_MATCHES:
                found.append(_refuse_stack(reader, kind, rules))
                break
    return found[:MAX_RULE_PACK_PROBLEMS]


def _refuse_stack(reader: _Reader, kind: FactKind, rules: Sequence[Rule]) -> RulePackProblem:
    """Name the first rule on ``kind`` with which one fact could overflow the stack."""
    on_kind = [rule for rule in rules if rule.on == kind]
    low, high = 0, len(on_kind) - 1  # the peak only grows as rules are added
    while low < high:
        middle = (low + high) // 2
        if stack_peak(kind, on_kind[: middle + 1]) > MAX_SIMULTANEOUS_MATCHES:
            high = middle
        else:
            low = middle + 1
    culprit = on_kind[low]
    reader.rule_id = culprit.id
    try:
        return reader.limit(
            f"rules[{culprit.position}].when",
            f"with this rule the engine may have to hold "
            f"{stack_peak(kind, on_kind[: low + 1]):,} conditions of one {kind} fact at once "
            f"(many tests of one field, or many any-groups sharing a branch, add up); "
            f"it holds at most {MAX_SIMULTANEOUS_MATCHES:,}",
            "max_simultaneous_matches",
        )
    finally:
        reader.rule_id = None


def _actions(reader: _Reader, raw: Any) -> tuple[ActionSpec, ...]:
    seen: set[str] = set()
    actions = reader.each(
        reader.sequence(raw, "actions"), "actions", lambda body, at: _action(reader, body, at, seen)
    )
    return tuple(actions)


def _action(reader: _Reader, raw: Any, path: str, seen: set[str]) -> ActionSpec:
    levels = [level.value for level in Level]
    relationships = [r.value for r in Relationship]
    body = reader.mapping(
        raw,
        path,
        required=("id", "text", "min_level"),
        optional=("max_level", "relationships", "requires", "source"),
    )
    action_id = reader.part(body, "id", path, lambda v, p: _action_id(reader, v, p, seen))
    text = reader.part(body, "text", path, reader.text)
    low = reader.part(body, "min_level", path, lambda v, p: Level(reader.choice(v, p, levels)))
    high = (
        reader.part(body, "max_level", path, lambda v, p: Level(reader.choice(v, p, levels)))
        if "max_level" in body
        else Level.POLICE
    )
    valid = True
    if low is not None and high is not None and high.rank < low.rank:
        reader.note(f"{path}.max_level", "is below min_level", "bad_value")
        valid = False
    chosen = reader.attempt(
        lambda: reader.each(
            reader.sequence(body.get("relationships", relationships), f"{path}.relationships"),
            f"{path}.relationships",
            lambda v, p: Relationship(reader.choice(v, p, relationships)),
        )
    )
    requires = reader.attempt(
        lambda: reader.each(
            reader.sequence(body.get("requires", []), f"{path}.requires", non_empty=False),
            f"{path}.requires",
            lambda v, p: reader.choice(v, p, _REQUIREMENTS),
        )
    )
    source = reader.part(body, "source", path, reader.text) if "source" in body else ""
    if (
        not valid
        or action_id is None
        or text is None
        or low is None
        or high is None
        or chosen is None
        or requires is None
        or source is None
    ):
        raise _Skip
    return ActionSpec(
        id=action_id,
        text=" ".join(text.split()),
        min_level=low,
        max_level=high,
        relationships=frozenset(chosen),
        requires=frozenset(requires),
        source=source,
    )


def _action_id(reader: _Reader, raw: Any, path: str, seen: set[str]) -> str:
    action_id = reader.text(raw, path)
    if action_id in seen:
        reader.fail(path, "duplicate action id", "duplicate")
    seen.add(action_id)
    return action_id


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


def _read_file(path: Path, reader: _Reader) -> str:
    try:
        with path.open("rb") as stream:
            size = os.fstat(stream.fileno()).st_size
            # Never more than the limit allows, whatever the file claims to hold.
            data = stream.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError as error:
        reader.stop("", f"cannot read the file ({error.strerror})", "not_found")
    except OSError as error:
        reader.stop("", f"cannot read the file ({error.strerror})", "unreadable")
    if len(data) > MAX_FILE_BYTES:
        reader.limits.append(
            reader.limit(
                "",
                f"the file holds {max(size, len(data)):,} bytes; "
                f"a pack may hold at most {MAX_FILE_BYTES:,}",
                "max_file_bytes",
            )
        )
        raise _Stop
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        reader.stop("", "the file is not UTF-8 text", "unreadable")


def _check_text(text: str, reader: _Reader) -> None:
    """Text given directly keeps the file size limit, counted in UTF-8 bytes."""
    if not isinstance(text, str):
        reader.stop("", f"expected YAML or JSON text, got {_type_name(text)}", "wrong_type")
    if len(text) > MAX_FILE_BYTES:  # each character is a byte or more: it is never encoded
        _over_text_size(reader, f"{len(text):,} bytes or more")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        reader.stop("", "the text is not valid Unicode (it holds a lone surrogate)", "unreadable")
    if size > MAX_FILE_BYTES:
        _over_text_size(reader, f"{size:,} bytes")


def _over_text_size(reader: _Reader, size: str) -> NoReturn:
    reader.limits.append(
        reader.limit(
            "",
            f"the text holds {size}; a pack may hold at most {MAX_FILE_BYTES:,}",
            "max_file_bytes",
        )
    )
    raise _Stop


def _decode(text: str, reader: _Reader, *, as_json: bool) -> Any:
    """The data in ``text``; a problem here stops loading, as nothing else can be checked."""
    # YAML is imported here, not at module level: `import stalkrisk` stays fast.
    import yaml

    from ._yaml import TooDeep, load_yaml

    too_deep = f"values nest more than {MAX_DOCUMENT_DEPTH} levels deep"
    try:
        if not as_json:
            return load_yaml(text, max_depth=MAX_DOCUMENT_DEPTH)  # it counts the depth itself
        document = json.loads(text, object_pairs_hook=_unique_json_object)
    except RecursionError:  # JSON nests deeper than the reader's C stack allows
        reader.limits.append(reader.limit("", too_deep, "max_document_depth"))
        raise _Stop from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        # libyaml stops at 1,000 levels itself, before the composer counts them.
        if isinstance(error, TooDeep) or "maximum nesting depth" in str(error.problem):
            line = f" (line {mark.line + 1})" if mark else ""
            reader.limits.append(reader.limit("", too_deep + line, "max_document_depth"))
            raise _Stop from None
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reader.stop(
            "", f"not valid YAML data{where}: {error.problem} (only plain data is allowed)", "yaml"
        )
    except yaml.YAMLError as error:
        reader.stop("", f"not valid YAML data: {error}", "yaml")
    except _DuplicateJsonKey as error:
        reader.stop("", f"duplicate key {error.args[0]!r} in a JSON object", "json")
    except json.JSONDecodeError as error:
        reader.stop(
            "", f"not valid JSON at line {error.lineno}, column {error.colno}: {error.msg}", "json"
        )
    except ValueError:
        # The only other reading error: Python reads integers of at most 4,300 digits.
        reader.stop("", "a number has too many digits to be read", "bad_value")
    if _depth(document) > MAX_DOCUMENT_DEPTH:
        reader.limits.append(reader.limit("", too_deep, "max_document_depth"))
        raise _Stop
    return document


def _plain_copy(document: Any, reader: _Reader) -> dict[str, Any]:
    """A copy of ``document`` as plain data, checked as a file's data is when it is read.

    Any mapping becomes a dict, a tuple a list, and text, numbers and booleans of a
    subclass (an enum member) their plain value.  A key that is not text and a value
    that YAML or JSON data cannot hold (a date, a set, an object) are recorded, and
    loading stops after the walk, as at a file that is not plain data.  The walk does
    not recurse and stops past the depth and size limits, so a deep, self-referencing
    or widely shared document exhausts neither the stack nor the memory.
    """
    if not isinstance(document, Mapping):
        reader.stop("", f"expected a mapping, got {_type_name(document)}", "wrong_type")
    top: dict[str, Any] = {}
    pending: list[_Pending] = [(document, top, "", 1)]
    size = 2  # a lower bound of the bytes as compact JSON, so that the walk ends early
    while pending and size <= MAX_FILE_BYTES:
        raw, copy, path, depth = pending.pop()
        size += len(raw)  # every entry takes a byte or more
        if size > MAX_FILE_BYTES:
            break
        entries = _entries(raw, copy, path, reader)
        if entries and depth >= MAX_DOCUMENT_DEPTH:
            too_deep = f"values nest more than {MAX_DOCUMENT_DEPTH} levels deep"
            reader.limits.append(reader.limit(path, too_deep, "max_document_depth"))
            raise _Stop
        for key, value, at in entries:
            valid, item, weight = _plain_item(value, at, reader)
            if not valid:
                continue
            size += weight
            if isinstance(item, dict | list):
                pending.append((value, item, at, depth + 1))
            if isinstance(copy, dict):
                copy[str(key)] = item
                size += len(str(key)) + 3
            else:
                copy.append(item)
    if size > MAX_FILE_BYTES:
        _over_size(reader, f"more than {MAX_FILE_BYTES:,}")
    if reader.problems:
        raise _Stop
    size = len(_compact_json(top).encode("utf-8"))
    if size > MAX_FILE_BYTES:
        _over_size(reader, f"{size:,}")
    return top


_Pending: TypeAlias = tuple[Any, "dict[str, Any] | list[Any]", str, int]
_PLAIN = "a mapping, a list, text, a number, true, false or null"


def _entries(
    raw: Any, copy: dict[str, Any] | list[Any], path: str, reader: _Reader
) -> list[tuple[str | None, Any, str]]:
    """``(key, value, path)`` of each entry of a mapping (keys that are not text recorded)."""
    if isinstance(copy, list):
        return [(None, value, f"{path}[{index}]") for index, value in enumerate(raw)]
    entries: list[tuple[str | None, Any, str]] = []
    for key, value in raw.items():
        if isinstance(key, str) and _is_unicode(key):
            entries.append((str.__str__(key), value, _join(path, key)))
        else:
            shown = repr(key) if len(repr(key)) <= 40 else f"of type {_type_name(key)}"
            reader.note(path, f"key {shown} is not text", "wrong_type")
    return entries


def _plain_item(value: Any, path: str, reader: _Reader) -> tuple[bool, Any, int]:
    """Whether ``value`` is plain data (if not, it is recorded), its plain form and bytes.

    A mapping or a list becomes an empty dict or list for the caller to fill; the
    bytes are a lower bound of its size as compact JSON.
    """
    if value is None or isinstance(value, bool):
        return True, value, 1
    if isinstance(value, float):
        return True, float(value), 1
    if isinstance(value, int):
        try:
            digits = len(repr(int(value)))
        except ValueError:  # Python writes integers of at most 4,300 digits
            reader.note(path, "a number has too many digits to be read", "bad_value")
            return False, None, 0
        return True, int(value), digits
    if isinstance(value, str):
        if not _is_unicode(value):
            reader.note(path, "not valid Unicode text (it holds a lone surrogate)", "bad_value")
            return False, None, 0
        return True, str.__str__(value), len(value) + 2
    if isinstance(value, Mapping):
        return True, {}, 2
    if isinstance(value, list | tuple):
        return True, [], 2
    reader.note(path, f"expected plain data ({_PLAIN}), got {_type_name(value)}", "wrong_type")
    return False, None, 0


def _over_size(reader: _Reader, size: str) -> NoReturn:
    reader.limits.append(
        reader.limit(
            "",
            f"the document holds {size} bytes as compact JSON; "
            f"a pack may hold at most {MAX_FILE_BYTES:,}",
            "max_file_bytes",
        )
    )
    raise _Stop


def _is_unicode(text: str) -> bool:
    """Whether ``text`` can be written as UTF-8 (it holds no lone surrogate)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _compact_json(document: Any) -> str:
    """The document as JSON in its own key order, as a pack keeps it for ``to_dict``."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def _load(reader: _Reader, read: Callable[[], Any]) -> RulePack:
    """The pack in the document ``read`` returns, or one RulePackError with every problem."""
    try:
        return _parse(read(), reader)
    except (_Skip, _Stop):
        pass
    except (RecursionError, ValueError, OverflowError, MemoryError) as error:
        # The checks above should leave nothing for these; if one slips through,
        # it is still the pack's fault, not an internal error.
        reader.problems.append(
            reader.problem(
                "", f"the pack cannot be validated ({type(error).__name__})", "bad_value"
            )
        )
    problems = reader.problems or reader.limits
    if not problems:  # every skipped part records its problem; this is a safeguard
        problems = [reader.problem("", "the pack cannot be validated", "bad_value")]
    raise RulePackError.from_problems(problems[:MAX_RULE_PACK_PROBLEMS]) from None


def parse_rule_pack(path: Path, *, display_name: str | None = None) -> RulePack:
    """Read and validate a rule pack file (JSON if it ends in ``.json``, else YAML).

    No engine is involved.  Raises one :class:`RulePackError` listing every problem
    found, including a value or a size that Python itself cannot handle.  Problems in
    the pack's structure come first; the limits are checked only once the structure
    is valid, and a file that cannot be read as data stops at that.
    """
    reader = _Reader(display_name or str(path))
    return _load(reader, lambda: _decode(_read_file(path, reader), reader, as_json=_is_json(path)))


def _is_json(path: Path) -> bool:
    return path.suffix == ".json"


def parse_rule_pack_text(text: str, *, name_hint: str | None = None) -> RulePack:
    """Validate a rule pack given as YAML or JSON text, as :func:`parse_rule_pack` does.

    ``name_hint`` (default ``"<text>"``) names the text in problems and is the pack's
    ``file``.  The text is JSON if ``name_hint`` ends in ``.json``, YAML if it ends in
    ``.yaml`` or ``.yml``, and otherwise JSON exactly when its first character that is
    not blank is ``{``.  It keeps the file size limit, counted in UTF-8 bytes.
    """
    reader = _Reader(name_hint or TEXT_SOURCE)

    def read() -> Any:
        _check_text(text, reader)
        suffix = Path(name_hint).suffix if name_hint else ""
        if suffix in (".json", ".yaml", ".yml"):
            as_json = suffix == ".json"
        else:
            as_json = text.lstrip().startswith("{")
        return _decode(text, reader, as_json=as_json)

    return _load(reader, read)


def parse_rule_pack_document(
    document: Mapping[str, Any], *, file: str = MAPPING_SOURCE
) -> RulePack:
    """Validate a rule pack given as data (a parsed YAML or JSON document).

    ``file`` (default ``"<mapping>"``) names the document in problems and is the
    pack's ``file``.  The document is copied first (see :func:`_plain_copy`), so
    changing it later does not change the pack.  It keeps the depth limit, and the
    file size limit counted on the document written as compact JSON.
    """
    reader = _Reader(file)
    return _load(reader, lambda: _plain_copy(document, reader))


def parse_with_parameters(pack: RulePack, values: Mapping[str, Any]) -> RulePack:
    """``pack`` with the ``value`` of the named parameters changed, validated again.

    Its ``file`` is the original's followed by the changes, such as
    ``rules/default.yaml with recent_days=14``; problems name it.  A name that is
    not a parameter of the pack is refused with a "did you mean" suggestion.
    """
    unknown = [name for name in values if name not in pack.parameters]
    if unknown:
        problems = []
        for name in unknown:
            hint = did_you_mean(name, pack.parameters)
            problems.append(
                RulePackProblem(
                    pack.file,
                    None,
                    f"parameters.{name}",
                    _with(f"the pack has no parameter {name!r}", hint),
                    "unknown_parameter",
                    hint,
                )
            )
        raise RulePackError.from_problems(problems[:MAX_RULE_PACK_PROBLEMS])
    document = pack.to_dict()
    for name, value in values.items():
        document["parameters"][name]["value"] = value
    changes = ", ".join(f"{name}={_shown_value(value)}" for name, value in values.items())
    return parse_rule_pack_document(document, file=f"{pack.file} with {changes}")


def _shown_value(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 40 else f"<{_type_name(value)}>"


def _parse(document: Any, reader: _Reader) -> RulePack:
    if document is None:
        reader.stop("", "the rule pack is empty", "wrong_type")
    if not isinstance(document, dict):
        reader.stop("", f"expected a mapping, got {_type_name(document)}", "wrong_type")
    top = reader.mapping(document, "", required=_TOP_KEYS, optional=("description",))
    name = reader.part(top, "name", "", lambda v, p: _pack_name(reader, v, p))
    version = reader.part(top, "version", "", lambda v, p: _version(reader, v, p))
    parameters = reader.part(top, "parameters", "", lambda v, p: _parameters(reader, v))
    if parameters is None:
        reader.parameters_unusable = True
    behaviours = reader.part(top, "behaviours", "", lambda v, p: _behaviours(reader, v))
    levels = reader.part(top, "levels", "", lambda v, p: _levels(reader, v))
    found = reader.part(top, "rules", "", lambda v, p: _rules(reader, v, parameters or {}))
    actions = reader.part(top, "actions", "", lambda v, p: _actions(reader, v))
    if reader.problems:
        raise _Stop
    rules, listed = found or ((), 0)
    reader.limits = _check_limits(reader, rules, listed)
    if (
        reader.limits
        or name is None
        or version is None
        or parameters is None
        or behaviours is None
        or levels is None
        or found is None
        or actions is None
    ):
        raise _Stop
    return RulePack(
        name=name,
        version=version,
        description=" ".join(str(top.get("description", "")).split()),
        sha256=_canonical_sha256(document),
        file=reader.file,
        parameters=parameters,
        behaviours=behaviours,
        levels=levels,
        rules=rules,
        actions=actions,
        _document=_compact_json(document),
    )


def _pack_name(reader: _Reader, raw: Any, path: str) -> str:
    name = reader.text(raw, path)
    if not set(name) <= _ID_CHARS:
        reader.fail(path, "use lower-case letters, digits, '.', '_' and '-'", "bad_value")
    return name


def _version(reader: _Reader, raw: Any, path: str) -> str:
    if not isinstance(raw, str | int | float) or isinstance(raw, bool):
        reader.fail(path, "expected a version string such as '1.0.0'", "wrong_type")
    return str(raw)
