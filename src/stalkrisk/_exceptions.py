"""The exceptions stalkrisk raises.

    StalkriskError                 root; catch this to catch everything below
    ├── CaseValidationError        the case is invalid (also a ValueError)
    ├── RulePackError              a rule pack file is invalid (also a ValueError);
    │                              .problems lists each RulePackProblem
    └── EngineError                the engine failed, no assessment made (also a RuntimeError)

Messages name the place (a JSON path, a file and rule id) and never quote
free text from a case: case content is sensitive clinical data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

__all__ = [
    "MAX_RULE_PACK_PROBLEMS",
    "RULE_PACK_PROBLEM_TYPES",
    "CaseValidationError",
    "EngineError",
    "Problem",
    "RulePackError",
    "RulePackProblem",
    "StalkriskError",
]


class StalkriskError(Exception):
    """Root of every error raised by stalkrisk."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where (``loc``), a stable ``type`` code, and ``msg``."""

    loc: str
    type: str
    msg: str

    def __str__(self) -> str:
        return f"{self.loc or '(root)'}: {self.msg} [{self.type}]"

    @property
    def path(self) -> tuple[str | int, ...]:
        """The parts of a case location, list positions as ints: ``contacts.3.at`` →
        ``("contacts", 3, "at")``.  Named keys are identifiers, so they hold no dots."""
        if not self.loc:
            return ()
        return tuple(int(part) if part.isdigit() else part for part in self.loc.split("."))


class CaseValidationError(StalkriskError, ValueError):
    """The case does not validate; ``problems`` lists each one with its JSON path.

    ``index`` is the case's position in the input of a batch (``assess_many``,
    ``assess_iter``), or None for a single case.
    """

    def __init__(self, problems: Sequence[Problem], *, index: int | None = None) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.index = index
        count = len(self.problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        where = "" if index is None else f" at index {index} of the input"
        super().__init__(
            f"invalid case{where}: {count} problem{'s' if count != 1 else ''}\n{lines}"
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # Survives pickling, so batch workers can hand it back to the caller.
        return (_case_validation_error, (self.problems, self.index))


def _case_validation_error(problems: tuple[Problem, ...], index: int | None) -> CaseValidationError:
    return CaseValidationError(problems, index=index)


RULE_PACK_PROBLEM_TYPES: Mapping[str, str] = MappingProxyType(
    {
        "not_found": "the file does not exist",
        "unreadable": "the file cannot be read, or is not UTF-8 text",
        "yaml": "the file is not plain YAML data",
        "json": "the file is not valid JSON",
        "wrong_type": "a value has the wrong type, e.g. text where a list belongs",
        "missing_key": "a required key is missing",
        "unknown_key": "a key the format does not know",
        "not_allowed": "a value is not one of the allowed choices",
        "bad_value": "a value of the right type that breaks a rule of the format",
        "duplicate": "an id or code is given twice",
        "unknown_field": "a condition tests a field the fact does not have",
        "unknown_parameter": "a condition or a note names a parameter the pack lacks",
        "bad_operator": "a condition has no operator, several, or one its field does not allow",
        "bad_effect": "a rule's then, or its fact, does not fit its effect",
        "bad_placeholder": "a note's braces are not a {parameter} placeholder or an escape",
        "limit": "the pack passes a limit (docs/rules.md, Limits)",
        "safety_floor": "the pack breaks or switches off a safety floor",
        "engine": "the rule engine refused the pack although the limits held (a bug)",
    }
)
"""Every ``RulePackProblem.type`` code with its meaning (docs/rules.md, "Errors in a pack")."""

MAX_RULE_PACK_PROBLEMS = 50
"""Loading stops at this many problems; the error lists no more."""


@dataclass(frozen=True)
class RulePackProblem:
    """One thing wrong with a rule pack.

    ``file``, ``rule_id`` (inside a rule) and ``field`` (a path such as
    ``rules[3].when.all[1].field``) say where; ``type`` is a stable code from
    :data:`RULE_PACK_PROBLEM_TYPES`; ``suggestion`` is a close known name or a
    short fix (``"did you mean 'span_days'?"``), or ``None``.
    """

    file: str
    rule_id: str | None
    field: str | None
    msg: str
    type: str
    suggestion: str | None = None

    @property
    def place(self) -> str:
        """Where in the file: ``rule 'x', field rules[0].id``, or ``the file`` as a whole."""
        parts = []
        if self.rule_id is not None:
            parts.append(f"rule {self.rule_id!r}")
        if self.field is not None:
            parts.append(f"field {self.field}")
        return ", ".join(parts) or "the file"

    def __str__(self) -> str:
        where = self.file if self.place == "the file" else f"{self.file}, {self.place}"
        return f"{where}: {self.msg}"


class RulePackError(StalkriskError, ValueError):
    """A rule pack is invalid; ``problems`` lists every problem found, in the order found.

    Each :class:`RulePackProblem` has ``file``, ``rule_id``, ``field``, ``msg``,
    a stable ``type`` code (:data:`RULE_PACK_PROBLEM_TYPES`; ``limit``,
    ``safety_floor`` and ``engine`` among them) and a ``suggestion``.  The
    error's own attributes of those names are the first problem's.
    """

    problems: tuple[RulePackProblem, ...]
    file: str
    rule_id: str | None
    field: str | None
    msg: str
    type: str
    suggestion: str | None

    def __init__(
        self,
        msg: str,
        *,
        file: str,
        rule_id: str | None = None,
        field: str | None = None,
        type: str = "bad_value",
        suggestion: str | None = None,
    ) -> None:
        self._set((RulePackProblem(file, rule_id, field, msg, type, suggestion),))

    @classmethod
    def from_problems(cls, problems: Sequence[RulePackProblem]) -> RulePackError:
        """One error for ``problems`` (at least one)."""
        if not problems:
            raise ValueError("a RulePackError needs at least one problem")
        error = cls.__new__(cls)
        error._set(tuple(problems))
        return error

    def _set(self, problems: tuple[RulePackProblem, ...]) -> None:
        self.problems = problems
        first = problems[0]
        self.file = first.file
        self.rule_id = first.rule_id
        self.field = first.field
        self.msg = first.msg
        self.type = first.type
        self.suggestion = first.suggestion
        if len(problems) == 1:
            text = str(first)
        else:
            stopped = (
                f" (at most {MAX_RULE_PACK_PROBLEMS} are listed; fix these and load it again)"
                if len(problems) >= MAX_RULE_PACK_PROBLEMS
                else ""
            )
            lines = [f"{first.file}: {len(problems)} problems{stopped}"]
            lines += [f"  {p.place}: {p.msg}{_code(p)}" for p in problems]
            text = "\n".join(lines)
        super().__init__(text)

    def __reduce__(self) -> tuple[Any, ...]:
        # Survives pickling, so batch workers can hand it back to the caller.
        return (_rebuild_rule_pack_error, (self.problems,))


def _code(problem: RulePackProblem) -> str:
    """`` [type]`` after a listed problem, unless its message ends with ``[limit: …]``."""
    return "" if problem.msg.endswith("]") and problem.type == "limit" else f" [{problem.type}]"


class EngineError(StalkriskError, RuntimeError):
    """The rule engine failed while assessing; no assessment is returned (fail closed)."""

    def __init__(self, msg: str, *, rule_pack: str) -> None:
        self.rule_pack = rule_pack
        self.msg = msg
        super().__init__(f"rule pack {rule_pack!r}: {msg}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_engine_error, (self.msg, self.rule_pack))


def _rebuild_rule_pack_error(problems: tuple[RulePackProblem, ...]) -> RulePackError:
    return RulePackError.from_problems(problems)


def _rebuild_engine_error(msg: str, rule_pack: str) -> EngineError:
    return EngineError(msg, rule_pack=rule_pack)
