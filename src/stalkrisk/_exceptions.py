"""The exceptions stalkrisk raises.

    StalkriskError                 root; catch this to catch everything below
    ├── CaseValidationError        the case is invalid (also a ValueError)
    ├── RulePackError              a rule pack file is invalid (also a ValueError)
    └── EngineError                the engine failed, no assessment made (also a RuntimeError)

Messages name the place (a JSON path, a file and rule id) and never quote
free text from a case: case content is sensitive clinical data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "CaseValidationError",
    "EngineError",
    "Problem",
    "RulePackError",
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


class CaseValidationError(StalkriskError, ValueError):
    """The case does not validate; ``problems`` lists each one with its JSON path."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        count = len(self.problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"invalid case: {count} problem{'s' if count != 1 else ''}\n{lines}")

    def __reduce__(self) -> tuple[type[CaseValidationError], tuple[tuple[Problem, ...]]]:
        # Survives pickling, so batch workers can hand it back to the caller.
        return (type(self), (self.problems,))


class RulePackError(StalkriskError, ValueError):
    """A rule pack is invalid.  ``file``, ``rule_id`` and ``field`` say where.

    ``type`` is a stable code: ``invalid`` (the pack breaks the format),
    ``limit`` (it passes a size limit, docs/rules.md "Limits"), ``safety_floor``
    (it breaks a safety floor) or ``engine`` (the rule engine refused it).
    """

    def __init__(
        self,
        msg: str,
        *,
        file: str,
        rule_id: str | None = None,
        field: str | None = None,
        type: str = "invalid",
    ) -> None:
        self.file = file
        self.rule_id = rule_id
        self.field = field
        self.msg = msg
        self.type = type
        where = file
        if rule_id is not None:
            where += f", rule {rule_id!r}"
        if field is not None:
            where += f", field {field}"
        super().__init__(f"{where}: {msg}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            _rebuild_rule_pack_error,
            (self.msg, self.file, self.rule_id, self.field, self.type),
        )


class EngineError(StalkriskError, RuntimeError):
    """The rule engine failed while assessing; no assessment is returned (fail closed)."""

    def __init__(self, msg: str, *, rule_pack: str) -> None:
        self.rule_pack = rule_pack
        self.msg = msg
        super().__init__(f"rule pack {rule_pack!r}: {msg}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_engine_error, (self.msg, self.rule_pack))


def _rebuild_rule_pack_error(
    msg: str, file: str, rule_id: str | None, field: str | None, type: str
) -> RulePackError:
    return RulePackError(msg, file=file, rule_id=rule_id, field=field, type=type)


def _rebuild_engine_error(msg: str, rule_pack: str) -> EngineError:
    return EngineError(msg, rule_pack=rule_pack)
