"""The JSON Schema of a rule-pack document, built from the loader's own lists.

``stalkrisk schema --rulepack`` prints it and docs/schema/rulepack.schema.json
holds it (a test keeps the two equal).  It says what a well-formed pack looks
like, so that an editor can complete and check a pack as it is written: every
key, every field a condition may test on each fact, every code, the limits on
numbers and on the number of rules.  The loader checks more (a rule id used twice,
a parameter a condition names but the pack lacks, the other limits, the safety
floors), so a pack that fits the schema can still be refused.
"""

from __future__ import annotations

from typing import Any

from ._case import Behaviour, Relationship
from ._fields import ELEMENTS, GROUPS, FactKind, FieldSpec, fields_for
from ._ladder import Level
from ._limits import MAX_DAYS, MAX_NUMBER, MAX_RULES
from ._packmodel import OPERATORS
from ._published import SCHEMA_DIALECT, schema_id
from ._rulepack import _DAY_PARAMETERS, _KINDS, _PICTURES, _REQUIREMENTS, REQUIRED_PARAMETERS

__all__ = ["rulepack_schema"]

_TEXT = {"type": "string", "pattern": "\\S", "description": "Text that is not blank."}
_LEVEL = {"enum": [level.value for level in Level]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/$defs/{name}"}


def _closed(properties: dict[str, Any], required: list[str], **more: Any) -> dict[str, Any]:
    """An object with exactly these keys allowed (the loader refuses unknown keys)."""
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
        **more,
    }


def _parameter(maximum: int, description: str) -> dict[str, Any]:
    value = {"type": "number", "minimum": 0, "maximum": maximum}
    return _closed(
        {"value": value, "description": {"type": "string"}, "source": {"type": "string"}},
        ["value"],
        description=description,
    )


def _parameters() -> dict[str, Any]:
    properties: dict[str, Any] = {name: _ref("DayParameter") for name in _DAY_PARAMETERS}
    properties["pattern_min_distinct_behaviours"] = _closed(
        {
            "value": {"type": "integer", "minimum": 1, "maximum": MAX_NUMBER},
            "description": {"type": "string"},
            "source": {"type": "string"},
        },
        ["value"],
        description="Distinct stalking behaviours needed within one episode (whole, ≥ 1).",
    )
    return {
        "type": "object",
        "description": "Named numbers used by the rules (`{param: NAME}`) and by the library.",
        "properties": properties,
        "required": list(REQUIRED_PARAMETERS),
        "additionalProperties": _ref("Parameter"),
    }


def _behaviours() -> dict[str, Any]:
    entry = _closed(
        {
            "code": {"enum": [b.value for b in Behaviour]},
            "label": _TEXT,
            "group": {"enum": list(GROUPS)},
            "description": _TEXT,
            "source": {"type": "string"},
            "pursuit": {"type": "boolean"},
        },
        ["code", "label", "group", "description"],
    )
    return {
        "type": "array",
        "description": "The behaviour catalogue: every behaviour code once.",
        "items": entry,
        "minItems": len(Behaviour),
        "maxItems": len(Behaviour),
        "allOf": [
            {"contains": {"properties": {"code": {"const": b.value}}, "required": ["code"]}}
            for b in Behaviour
        ],
    }


def _levels() -> dict[str, Any]:
    return {
        "type": "array",
        "description": "Title, picture and description of each ladder level, in ladder order.",
        "prefixItems": [
            _closed(
                {
                    "code": {"const": level.value},
                    "title": _TEXT,
                    "picture": {"enum": list(_PICTURES)},
                    "description": _TEXT,
                },
                ["code", "title", "picture", "description"],
            )
            for level in Level
        ],
        "items": False,
        "minItems": len(Level),
    }


def _comparisons(specs: dict[str, FieldSpec]) -> list[dict[str, Any]]:
    """One shape per kind of field: numbers, booleans, then each enumerated field."""
    numbers = sorted(name for name, spec in specs.items() if spec.type in ("count", "number"))
    flags = sorted(name for name, spec in specs.items() if spec.type == "bool")
    shapes = []

    def shape(field: dict[str, Any], ops: tuple[str, ...], value: dict[str, Any]) -> None:
        properties = {"field": field, **dict.fromkeys(ops, value)}
        shapes.append(_closed(properties, ["field"], minProperties=2, maxProperties=2))

    if numbers:
        shape({"enum": numbers}, OPERATORS, _ref("NumberOrParameter"))
    if flags:
        shape({"enum": flags}, ("eq", "ne"), {"type": "boolean"})
    for name, spec in sorted(specs.items()):
        if spec.type == "enum":
            shape({"const": name}, ("eq", "ne"), {"enum": list(spec.values)})
    return shapes


def _conditions(kind: FactKind) -> dict[str, dict[str, Any]]:
    """``{all: [...]}`` / ``{any: [...]}`` and the conditions in them, for a rule on ``kind``."""
    title = kind.capitalize()
    group = {
        "description": f"All or any of these conditions on the {kind} fact.",
        "oneOf": [
            _closed(
                {key: {"type": "array", "minItems": 1, "items": _ref(f"{title}Condition")}},
                [key],
            )
            for key in ("all", "any")
        ],
    }
    condition = {
        "anyOf": [_ref(f"{title}Group"), *_comparisons(dict(fields_for(kind)))],
        "description": "A comparison {field: NAME, OPERATOR: VALUE}, or a nested all/any group.",
    }
    return {f"{title}Group": group, f"{title}Condition": condition}


_EFFECTS: dict[FactKind, tuple[str, ...]] = {
    "episode": ("element", "level"),
    "case": ("element",),
    "grade": ("level", "note"),
}


def _rule() -> dict[str, Any]:
    then = _closed(
        {
            "element": {"enum": list(ELEMENTS)},
            "level": _LEVEL,
            "urgent": {"type": "boolean"},
            "note": _TEXT,
        },
        [],
        description="Exactly one effect: element, level (urgent only with police) or note.",
        oneOf=[{"required": [effect]} for effect in ("element", "level", "note")],
        allOf=[
            {
                "if": {"properties": {"urgent": {"const": True}}, "required": ["urgent"]},
                "then": {"properties": {"level": {"const": "police"}}, "required": ["level"]},
            }
        ],
    )
    by_fact = [
        {
            "if": {"properties": {"fact": {"const": kind}}, "required": ["fact"]},
            "then": {
                "properties": {
                    "when": _ref(f"{kind.capitalize()}Group"),
                    "then": {"anyOf": [{"required": [e]} for e in _EFFECTS[kind]]},
                }
            },
        }
        for kind in _KINDS
    ]
    return _closed(
        {
            "id": {"type": "string", "pattern": "^[a-z][a-z0-9._-]*$"},
            "title": _TEXT,
            "fact": {"enum": list(_KINDS)},
            "when": {"description": "An {all: [...]} or {any: [...]} group of conditions."},
            "then": then,
            "rationale": _TEXT,
            "source": _TEXT,
        },
        ["id", "title", "fact", "when", "then", "rationale", "source"],
        allOf=by_fact,
    )


def _action() -> dict[str, Any]:
    return _closed(
        {
            "id": _TEXT,
            "text": _TEXT,
            "min_level": _LEVEL,
            "max_level": _LEVEL,
            "relationships": {
                "type": "array",
                "minItems": 1,
                "items": {"enum": [r.value for r in Relationship]},
            },
            "requires": {"type": "array", "items": {"enum": list(_REQUIREMENTS)}},
            "source": _TEXT,
        },
        ["id", "text", "min_level"],
    )


def rulepack_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a rule-pack document (docs/rules.md)."""
    defs: dict[str, Any] = {
        "Parameter": _parameter(MAX_NUMBER, "A named number: not negative, at most 1,000,000."),
        "DayParameter": _parameter(MAX_DAYS, "A number of days: not negative, at most 36,500."),
        "NumberOrParameter": {
            "anyOf": [
                {"type": "number", "minimum": -MAX_NUMBER, "maximum": MAX_NUMBER},
                _closed({"param": {"type": "string"}}, ["param"]),
            ]
        },
        "Rule": _rule(),
        "Action": _action(),
    }
    for kind in _KINDS:
        defs.update(_conditions(kind))
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": schema_id("rulepack"),
        "title": "stalkrisk rule pack",
        "description": (
            "A stalkrisk rule pack (YAML or JSON), as docs/rules.md describes it. "
            "Generated by `stalkrisk schema --rulepack`. The loader checks more than "
            "this schema can: load the pack to be sure."
        ),
        "type": "object",
        "properties": {
            "name": {"type": "string", "pattern": "^[a-z0-9._-]+$"},
            "version": {"type": ["string", "number"]},
            "description": {"type": "string"},
            "parameters": _parameters(),
            "behaviours": _behaviours(),
            "levels": _levels(),
            "rules": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_RULES,
                "items": _ref("Rule"),
            },
            "actions": {"type": "array", "minItems": 1, "items": _ref("Action")},
        },
        "required": ["name", "version", "parameters", "behaviours", "levels", "rules", "actions"],
        "additionalProperties": False,
        "$defs": defs,
    }
