"""The durable-rules adapter: the only module that imports the engine.

durable-rules 2.0.28 crashes or silently drops actions when used as its README
shows (see docs/engine.md and ../shared/DURABLE_RULES.md).  This module keeps
every guard in one place:

* an own host whose background dispatch threads never start (hazard 1);
* one process-wide lock, so at most one engine session is open at any time and
  sessions can never be deleted out of order;
* a sentinel fact asserted first in every session, whose no-op rule makes sure
  an action has run before the session is deleted (hazard 2);
* rules are single-fact conditions on constants; no joins (hazard 3);
* facts are asserted one by one, never in batches (hazard 5), carry no ``id``
  property (hazard 4), and hold only numbers and strings (hazard 6);
* session ids come from a process-wide counter and never repeat (hazard 8);
* action callbacks never raise into the engine (which would swallow the error);
  a failure is recorded and re-raised as :class:`EngineError` (fail closed).
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from durable import engine as _durable  # type: ignore[import-untyped]

from ._exceptions import EngineError
from ._rulepack import AllOf, AnyOf, Comparison, Condition

__all__ = ["CompiledRuleset", "EngineRule", "Firing", "Session", "compile_ruleset", "open_sessions"]

_SENTINEL_RULE = "sentinel"
_SENTINEL_FACT: dict[str, Any] = {"$begin": 1}
_OPERATORS = {"ne": "$neq", "gt": "$gt", "gte": "$gte", "lt": "$lt", "lte": "$lte"}


class _Host(_durable.Host):  # type: ignore[misc]
    """A durable-rules host that never starts its background dispatch threads."""

    def _run(self) -> None:
        return None


_HOST = _Host()
_LOCK = threading.RLock()
_SESSION_IDS = itertools.count(1)
_REGISTRY: dict[str, CompiledRuleset] = {}
_open_sessions = 0


def open_sessions() -> int:
    """How many engine sessions are open right now (0 or 1)."""
    return _open_sessions


@dataclass(frozen=True)
class EngineRule:
    """A rule as the adapter needs it: an id, the fact kind it reads, its condition."""

    rule_id: str
    kind: str
    when: Condition


@dataclass(frozen=True)
class Firing:
    """A rule fired on the fact of ``kind`` with ``index``."""

    rule_id: str
    kind: str
    index: int


def _engine_value(value: int | float | bool | str) -> int | float | str:
    # Booleans travel as 1/0: the engine compares mixed types as strings.
    return int(value) if isinstance(value, bool) else value


def _compile_condition(condition: Condition) -> dict[str, Any]:
    if isinstance(condition, AllOf):
        return {"$and": [_compile_condition(item) for item in condition.items]}
    if isinstance(condition, AnyOf):
        return {"$or": [_compile_condition(item) for item in condition.items]}
    assert isinstance(condition, Comparison)
    value = _engine_value(condition.value)
    if condition.op == "eq":
        return {condition.field: value}
    return {_OPERATORS[condition.op]: {condition.field: value}}


class Session:
    """One open engine session; facts are asserted one at a time."""

    def __init__(self, ruleset: CompiledRuleset, sid: str) -> None:
        self._ruleset = ruleset
        self.sid = sid
        self.firings: list[Firing] = []
        self._seen: set[Firing] = set()
        self.failure: BaseException | None = None

    def record(self, firing: Firing) -> None:
        # A `$or` condition fires once per true branch; one firing is enough.
        if firing not in self._seen:
            self._seen.add(firing)
            self.firings.append(firing)

    def assert_fact(self, fact: Mapping[str, int | float | str]) -> None:
        """Assert one flat fact and run the actions it triggers, synchronously."""
        if "id" in fact or "sid" in fact:
            raise EngineError("a fact must not carry 'id' or 'sid'", rule_pack=self._ruleset.pack)
        message = dict(fact)
        message["sid"] = self.sid
        try:
            _HOST.assert_fact(self._ruleset.name, message)
        except _durable.MessageNotHandledException:
            pass  # no rule matched this single fact; nothing was lost
        except Exception as error:
            raise EngineError(
                f"the engine failed ({type(error).__name__})", rule_pack=self._ruleset.pack
            ) from None
        if self.failure is not None:
            raise EngineError(
                f"a rule action failed ({type(self.failure).__name__})",
                rule_pack=self._ruleset.pack,
            ) from None


class CompiledRuleset:
    """A rule pack registered with the engine under a name unique to its content."""

    def __init__(self, name: str, pack: str, rules: Sequence[EngineRule]) -> None:
        self.name = name
        self.pack = pack
        self.rule_ids = tuple(rule.rule_id for rule in rules)
        self._current: Session | None = None
        definition: dict[str, Any] = {
            _SENTINEL_RULE: {"all": [{"m": _SENTINEL_FACT}], "run": self._on_sentinel}
        }
        for position, rule in enumerate(rules):
            condition = {"$and": [{"kind": rule.kind}, _compile_condition(rule.when)]}
            definition[f"r{position}"] = {
                "all": [{"m": condition}],
                "run": self._action(rule.rule_id),
            }
        try:
            _HOST.register_rulesets({name: definition})
        except Exception as error:
            raise EngineError(
                f"the engine refused the ruleset ({type(error).__name__})", rule_pack=pack
            ) from None

    def _on_sentinel(self, closure: Any) -> None:
        session = self._current
        if session is not None:
            session.record(Firing(_SENTINEL_RULE, "sentinel", 0))

    def _action(self, rule_id: str) -> Any:
        def action(closure: Any) -> None:
            session = self._current
            if session is None:
                return
            try:
                fact = closure.m
                session.record(Firing(rule_id, str(fact["kind"]), int(fact["index"])))
            except BaseException as error:
                session.failure = error

        return action

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Open a session, assert the sentinel, and always delete the session."""
        global _open_sessions
        with _LOCK:
            session = Session(self, f"stalkrisk-{next(_SESSION_IDS)}")
            self._current = session
            _open_sessions += 1
            try:
                session.assert_fact(_SENTINEL_FACT)
                if not session.firings or session.firings[0].rule_id != _SENTINEL_RULE:
                    raise EngineError("the sentinel rule did not fire", rule_pack=self.pack)
                del session.firings[0]
                yield session
            except BaseException:
                # The first error is the one to report; deleting is best effort now.
                self._delete(session.sid, quiet=True)
                raise
            else:
                self._delete(session.sid, quiet=False)
            finally:
                self._current = None
                _open_sessions -= 1

    def _delete(self, sid: str, *, quiet: bool) -> None:
        try:
            _HOST.delete_state(self.name, sid)
        except Exception as error:
            if not quiet:
                raise EngineError(
                    f"the engine could not delete a session ({type(error).__name__})",
                    rule_pack=self.pack,
                ) from None


def compile_ruleset(name: str, pack: str, rules: Sequence[EngineRule]) -> CompiledRuleset:
    """Register ``rules`` under ``name`` once; later calls with the same name reuse it."""
    with _LOCK:
        compiled = _REGISTRY.get(name)
        if compiled is None:
            compiled = CompiledRuleset(name, pack, rules)
            _REGISTRY[name] = compiled
        return compiled
