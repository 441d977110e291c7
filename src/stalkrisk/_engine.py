"""The durable-rules adapter: the only module that touches the engine.

durable-rules 2.0.28 crashes or silently drops actions when used as its README
shows (see docs/engine.md and ../shared/DURABLE_RULES.md).  This module drives
the engine's compiled core, ``durable_rules_engine``, directly, and keeps every
guard in one place:

* no ``Host`` at all, so no background dispatch threads and no timers; the
  actions a fact triggers are read back synchronously, in the calling thread,
  right after it is asserted (hazards 1 and 9);
* one process-wide lock, so at most one engine session is open at any time and
  sessions are always deleted in the reverse order of creation;
* a sentinel fact asserted first in every session, whose rule must fire, so an
  action has run before the session is deleted (hazard 2);
* rules are single-fact conditions on constants; no joins (hazard 3);
* facts are asserted one by one, never in batches (hazard 5), carry no ``id``
  property (hazard 4), and hold only numbers and strings (hazard 6);
* a duplicate or deferred fact, or any engine error, is an :class:`EngineError`
  (fail closed); session ids come from a process-wide counter (hazard 8).
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import durable_rules_engine as _core  # type: ignore[import-not-found]

from ._exceptions import EngineError
from ._rulepack import AllOf, AnyOf, Comparison, Condition

__all__ = ["CompiledRuleset", "EngineRule", "Firing", "Session", "compile_ruleset", "open_sessions"]

_SENTINEL_RULE = "sentinel"
_SENTINEL_FACT: dict[str, Any] = {"$begin": 1}
_OPERATORS = {"ne": "$neq", "gt": "$gt", "gte": "$gte", "lt": "$lt", "lte": "$lte"}
# Result codes of the engine's assert_fact (durable-rules src/rules/rules.h).
_OK, _NOT_HANDLED, _OBSERVED, _DEFERRED = 0, 1, 2, 3
# Compact and without the circular-reference walk: facts are flat by construction.
_ENCODER = json.JSONEncoder(check_circular=False, separators=(",", ":"))


class _Native:
    """The engine functions this adapter calls, in one place (tests replace them)."""

    create_ruleset = staticmethod(_core.create_ruleset)
    assert_fact = staticmethod(_core.assert_fact)
    start_action_for_state = staticmethod(_core.start_action_for_state)
    complete_and_start_action = staticmethod(_core.complete_and_start_action)
    delete_state = staticmethod(_core.delete_state)
    get_state = staticmethod(_core.get_state)


_NATIVE = _Native()
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


@dataclass(frozen=True, slots=True)
class Firing:
    """A rule fired on the fact of ``kind`` with ``index``."""

    rule_id: str
    kind: str
    index: int


def _action_name(actions: str) -> str:
    # An action result reads `{"<rule name>":{"m":{...}}}`.
    end = actions.find('":', 2)
    name = actions[2:end]
    if not actions.startswith('{"') or end < 0 or not name.replace("_", "").isalnum():
        raise ValueError("unreadable action result")
    return name


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
        self._seen: set[tuple[str, str, int]] = set()

    def record(self, name: str, kind: str, index: int) -> None:
        """Keep the firing of engine rule ``name`` on the fact ``kind``/``index``, once.

        A `$or` condition fires once per true branch; one firing is enough.
        """
        key = (name, kind, index)
        if key not in self._seen:
            self._seen.add(key)
            self.firings.append(self._ruleset.firing(name, kind, index))

    def _fail(self, what: str) -> EngineError:
        return EngineError(what, rule_pack=self._ruleset.pack)

    def assert_fact(self, fact: Mapping[str, int | float | str]) -> None:
        """Assert one flat fact and read back every rule it fires, synchronously."""
        if "id" in fact or "sid" in fact:
            raise self._fail("a fact must not carry 'id' or 'sid'")
        handle = self._ruleset.handle
        try:
            code, state = _NATIVE.assert_fact(handle, _ENCODER.encode({**fact, "sid": self.sid}))
        except Exception as error:
            raise self._fail(f"the engine failed ({type(error).__name__})") from None
        if code == _NOT_HANDLED:
            return  # no rule matched this single fact; nothing was lost
        if code != _OK:
            # A duplicate fact would not fire again; a deferred one would wait for a
            # dispatcher that never runs.  Either way a rule could be lost.
            raise self._fail(f"the engine did not take a fact (code {code})")
        kind, index = str(fact.get("kind", "sentinel")), int(fact.get("index", 0))
        try:
            started = _NATIVE.start_action_for_state(handle, state)
            actions = started[1] if started else None
            while actions:
                # One action per result, `{"<rule name>":{"m":{<this fact>}}}`; every
                # rule reads a single fact, so the fact is the one just asserted.
                self.record(_action_name(actions), kind, index)
                actions = _NATIVE.complete_and_start_action(handle, state)
        except EngineError:
            raise
        except Exception as error:
            raise self._fail(f"a rule action failed ({type(error).__name__})") from None


class CompiledRuleset:
    """A rule pack registered with the engine under a name unique to its content."""

    def __init__(self, name: str, pack: str, rules: Sequence[EngineRule]) -> None:
        self.name = name
        self.pack = pack
        self._by_name = {f"r{position}": rule.rule_id for position, rule in enumerate(rules)}
        definition: dict[str, Any] = {_SENTINEL_RULE: {"all": [{"m": _SENTINEL_FACT}]}}
        for position, rule in enumerate(rules):
            condition = {"$and": [{"kind": rule.kind}, _compile_condition(rule.when)]}
            definition[f"r{position}"] = {"all": [{"m": condition}]}
        try:
            self.handle: int = _NATIVE.create_ruleset(name, json.dumps(definition))
        except Exception as error:
            raise EngineError(
                f"the engine refused the ruleset ({type(error).__name__})", rule_pack=pack
            ) from None

    def firing(self, name: str, kind: str, index: int) -> Firing:
        """The firing an engine action result stands for; unknown names fail closed."""
        if name == _SENTINEL_RULE:
            return Firing(_SENTINEL_RULE, "sentinel", 0)
        rule_id = self._by_name.get(name)
        if rule_id is None:
            raise EngineError(f"the engine reported an unknown rule {name!r}", rule_pack=self.pack)
        return Firing(rule_id, kind, index)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Open a session, assert the sentinel, and always delete the session."""
        global _open_sessions
        with _LOCK:
            session = Session(self, f"stalkrisk-{next(_SESSION_IDS)}")
            _open_sessions += 1
            try:
                session.assert_fact(_SENTINEL_FACT)
                if [f.rule_id for f in session.firings] != [_SENTINEL_RULE]:
                    raise EngineError("the sentinel rule did not fire", rule_pack=self.pack)
                session.firings.clear()
                yield session
            except BaseException:
                # The first error is the one to report; deleting is best effort now.
                self._delete(session.sid, quiet=True)
                raise
            else:
                self._delete(session.sid, quiet=False)
            finally:
                _open_sessions -= 1

    def _delete(self, sid: str, *, quiet: bool) -> None:
        try:
            _NATIVE.delete_state(self.handle, sid)
        except Exception as error:
            if not quiet:
                raise EngineError(
                    f"the engine could not delete a session ({type(error).__name__})",
                    rule_pack=self.pack,
                ) from None

    def session_exists(self, sid: str) -> bool:
        """Whether the engine still holds state for ``sid`` (for tests and diagnostics)."""
        try:
            _NATIVE.get_state(self.handle, sid)
        except Exception:
            return False
        return True


def compile_ruleset(name: str, pack: str, rules: Sequence[EngineRule]) -> CompiledRuleset:
    """Register ``rules`` under ``name`` once; later calls with the same name reuse it."""
    with _LOCK:
        compiled = _REGISTRY.get(name)
        if compiled is None:
            compiled = CompiledRuleset(name, pack, rules)
            _REGISTRY[name] = compiled
        return compiled
