"""The durable-rules adapter: the only module that touches the engine.

durable-rules 2.0.28 crashes or silently drops actions when used as its README
shows (see docs/engine.md and ../shared/DURABLE_RULES.md).  This module drives
the engine's compiled core, ``durable_rules_engine``, directly, and keeps every
guard in one place:

* no ``Host`` at all, so no background dispatch threads and no timers; the
  actions a fact triggers are read back synchronously right after it is
  asserted (hazards 1 and 9);
* one process-wide lock, so at most one engine session is open at any time and
  sessions are always deleted in the reverse order of creation;
* a sentinel fact asserted first in every session, whose rule must fire, so an
  action has started before the session is deleted (hazard 2); a session in
  which it never started is not deleted but swept later (deferred deletion);
* engine work asked for by the main thread runs on the adapter's own engine
  thread (``_shield.py``), where no signal handler can raise: a Ctrl-C or a
  ``SIGALRM`` timeout interrupts the caller's wait, never a session half-way
  (hazard 10);
* the lock is taken around ``fork()`` and rebuilt in the child (hazard 11);
* rules are single-fact conditions on constants; no joins (hazard 3);
* facts are asserted one by one, never in batches (hazard 5), carry no ``id``
  property, and a fact the engine takes for another one (its 32-bit content
  hash collided) is asserted again with a salt (hazard 4); facts hold only
  numbers and strings, written in a form the engine's parser reads (hazards 6
  and 12);
* the adapter owns the whole fact dialect: callers hand it Python values by
  field name, and it keeps only the fields the kind's rules test (failing
  closed if one is missing, since a missing field makes a rule silently false),
  sends booleans as 1/0 and an unknown number (``None``) as -1, adds the
  ``kind``/``index`` envelope, and asserts a content it has already asserted in
  the session only once (rules read one fact, so equal facts fire the same
  rules), which bounds engine work by distinct contents;
* a duplicate or deferred fact, or any engine error, is an :class:`EngineError`
  (fail closed); session ids come from a process-wide counter, and a ruleset
  never holds more sessions than the engine allows (hazard 8).
"""

from __future__ import annotations

import itertools
import json
import math
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, TypeVar

import durable_rules_engine as _core  # type: ignore[import-not-found]

from ._exceptions import EngineError
from ._packmodel import AllOf, AnyOf, Condition, FieldTest, condition_fields
from ._shield import shielded

__all__ = [
    "CompiledRuleset",
    "EngineRule",
    "FieldValue",
    "Firing",
    "Session",
    "compile_ruleset",
    "engine_value",
    "open_sessions",
    "release_ruleset",
    "run",
    "undeleted_sessions",
]

T = TypeVar("T")
FieldValue = int | float | str | bool | None
"""What a caller may give for a fact field; ``None`` is an unknown number."""
# How an unknown number travels: below every count and number a rule tests.
_UNKNOWN = -1

_SENTINEL_RULE = "sentinel"
_SENTINEL_FACT: dict[str, Any] = {"$begin": 1}
# A session whose sentinel never started is swept with this fact, whose no-op
# rule starts an action and so makes deleting the session safe.
_SWEEP_RULE = "sweep"
_SWEEP_FACT: dict[str, Any] = {"$sweep": 1}
_OPERATORS = {"ne": "$neq", "gt": "$gt", "gte": "$gte", "lt": "$lt", "lte": "$lte"}
# Result codes of the engine's assert_fact (durable-rules src/rules/rules.h).
_OK, _NOT_HANDLED, _OBSERVED, _DEFERRED = 0, 1, 2, 3
# The engine allows 1,024 sessions per ruleset and crashes past that; the
# adapter opens one at a time, so this bounds the ones it could not delete.
_MAX_UNDELETED = 512
# A fact the engine takes for another (a hash collision) is asserted again with
# this property; no rule reads it.  Each salt is a fresh 1-in-2**32 draw.
_SALT = "salt"
_MAX_SALTS = 8
# The engine reads integers with atoll: anything wider than 64 bits overflows.
_INT_BOUND = 2**63


class _Native:
    """The engine functions this adapter calls, in one place (tests replace them)."""

    create_ruleset = staticmethod(_core.create_ruleset)
    delete_ruleset = staticmethod(_core.delete_ruleset)
    assert_fact = staticmethod(_core.assert_fact)
    start_action_for_state = staticmethod(_core.start_action_for_state)
    complete_and_start_action = staticmethod(_core.complete_and_start_action)
    delete_state = staticmethod(_core.delete_state)
    get_state = staticmethod(_core.get_state)


_NATIVE = _Native()
_SESSION_IDS = itertools.count(1)
_REGISTRY: dict[str, CompiledRuleset] = {}


class _State:
    """What a fork must rebuild: the engine lock and the open-session count."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.open_sessions = 0


_STATE = _State()


def open_sessions() -> int:
    """How many engine sessions are open right now (0 or 1)."""
    return _STATE.open_sessions


def undeleted_sessions() -> int:
    """Sessions left in the engine because deleting them was not yet safe (normally 0)."""
    with _STATE.lock:
        return sum(len(r._undeleted) for r in _REGISTRY.values())


def _before_fork() -> None:
    # Fork only between sessions, so the child's copy of the engine is consistent.
    _STATE.lock.acquire()


def _after_fork_in_parent() -> None:
    _STATE.lock.release()


def _after_fork_in_child() -> None:
    # The child has only the forking thread, and the lock is held by the parent's.
    global _STATE
    _STATE = _State()


os.register_at_fork(
    before=_before_fork,
    after_in_parent=_after_fork_in_parent,
    after_in_child=_after_fork_in_child,
)


def run(work: Callable[[], T]) -> T:
    """Run ``work`` under the engine lock, where no signal handler can interrupt it.

    An exception raised by a signal handler in the middle of a session would
    leave the engine in a state that crashes it (hazard 10), so engine work
    from the main thread runs on the engine thread (see ``_shield.py``).
    """

    def locked() -> T:
        with _STATE.lock:
            return work()

    return shielded(locked)


# --- encoding -----------------------------------------------------------------------


def _number(value: int | float) -> str:
    """``value`` as the engine's JSON parser reads it.

    The parser takes an exponent only after a fraction (``1.0e-05``, never
    ``1e-05``) and reads integers with ``atoll``, so bare exponents get a
    fraction and out-of-range values are refused rather than misread.
    """
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        if not -_INT_BOUND < value < _INT_BOUND:
            raise ValueError("integer out of the engine's 64-bit range")
        return int.__repr__(value)
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    text = float.__repr__(value)
    mantissa, exponent, power = text.partition("e")
    if exponent and "." not in mantissa:
        return f"{mantissa}.0e{power}"
    return text


_STRINGS: dict[str, str] = {}


def _string(value: str) -> str:
    # Keys and enum values recur in every fact: encode each once.
    encoded = _STRINGS.get(value)
    if encoded is None:
        encoded = json.dumps(value)
        if len(_STRINGS) < 4096:
            _STRINGS[value] = encoded
    return encoded


def _json(value: Any) -> str:
    """Compact JSON with every number in the engine's form (facts and rulesets)."""
    kind = type(value)
    if kind is str:
        return _string(value)
    if kind is float:
        text = float.__repr__(value)
        # The common case needs no check beyond this: no exponent, finite.
        return text if "e" not in text and "n" not in text else _number(value)
    if kind is int or isinstance(value, bool | int | float):
        return _number(value)
    if isinstance(value, Mapping):
        return "{" + ",".join([f"{_string(k)}:{_json(v)}" for k, v in value.items()]) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join([_json(item) for item in value]) + "]"
    if isinstance(value, str):
        return _string(str(value))
    raise TypeError(f"cannot send {type(value).__name__} to the engine")


_KEYS: dict[str, str] = {}


def _fact_json(fact: Mapping[str, int | float | str]) -> str:
    """A flat fact as :func:`_json` writes it, without the recursion (the hot path)."""
    parts = []
    for key, value in fact.items():
        prefix = _KEYS.get(key)
        if prefix is None:
            prefix = _string(key) + ":"
            if len(_KEYS) < 4096:
                _KEYS[key] = prefix
        if type(value) is int and -_INT_BOUND < value < _INT_BOUND:
            parts.append(prefix + int.__repr__(value))
        elif type(value) is float:
            text = float.__repr__(value)
            if "e" in text or "n" in text:
                text = _number(value)
            parts.append(prefix + text)
        else:
            parts.append(prefix + _json(value))
    return "{" + ",".join(parts) + "}"


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


def engine_value(value: FieldValue) -> int | float | str:
    """A field value as the engine holds it: booleans as 1/0, unknown (None) as -1."""
    # Booleans travel as 1/0: the engine compares mixed types as strings.
    if value is None:
        return _UNKNOWN
    return int(value) if isinstance(value, bool) else value


def _compile_condition(condition: Condition) -> dict[str, Any]:
    if isinstance(condition, AllOf):
        return {"$and": [_compile_condition(item) for item in condition.items]}
    if isinstance(condition, AnyOf):
        return {"$or": [_compile_condition(item) for item in condition.items]}
    if not isinstance(condition, FieldTest):
        raise TypeError(f"not a condition: {type(condition).__name__}")
    value = engine_value(condition.value)
    if condition.op == "eq":
        return {condition.field: value}
    return {_OPERATORS[condition.op]: {condition.field: value}}


def _single(position: int) -> Callable[[Sequence[FieldValue]], tuple[FieldValue, ...]]:
    # itemgetter with one position returns the item, not a tuple.
    return lambda row: (row[position],)


class Session:
    """One open engine session; facts are asserted one at a time."""

    def __init__(self, ruleset: CompiledRuleset, handle: int, sid: str) -> None:
        self._ruleset = ruleset
        self._handle = handle
        self.sid = sid
        self.firings: list[Firing] = []
        self._seen: set[tuple[str, str, int]] = set()
        # Each distinct content asserted, by kind, with the index it was asserted
        # under; and the firings recorded for each fact.
        self._asserted: dict[tuple[str, tuple[int | float | str, ...]], int] = {}
        self._fired_on: dict[tuple[str, int], list[str]] = {}
        # True once an action has started in this session: only then is
        # deleting it safe (hazard 2).
        self.started = False

    def record(self, name: str, kind: str, index: int) -> None:
        """Keep the firing of engine rule ``name`` on the fact ``kind``/``index``, once.

        A `$or` condition fires once per true branch; one firing is enough.
        """
        key = (name, kind, index)
        if key not in self._seen:
            self._seen.add(key)
            firing = self._ruleset.firing(name, kind, index)
            self.firings.append(firing)
            self._fired_on.setdefault((kind, index), []).append(name)

    def _fail(self, what: str) -> EngineError:
        return EngineError(what, rule_pack=self._ruleset.pack)

    def _store(self, handle: int, fact: Mapping[str, int | float | str]) -> tuple[int, int]:
        """Assert ``fact``, salting it while the engine takes it for another fact.

        The engine knows a fact by a 32-bit hash of its content and never
        compares the contents, so a new fact whose hash matches a stored one is
        reported as already seen and dropped (about 1 chance in 4 among 50,000
        stored facts).  The adapter never asserts the same fact twice in a
        session, so "seen" can only mean such a collision: a salt changes the
        hash and the fact is asserted again, with nothing lost.
        """
        code, state = _NATIVE.assert_fact(handle, _fact_json({**fact, "sid": self.sid}))
        salt = 0
        while code == _OBSERVED and salt < _MAX_SALTS:
            salt += 1
            salted = {**fact, "sid": self.sid, _SALT: salt}
            code, state = _NATIVE.assert_fact(handle, _json(salted))
        return int(code), int(state)

    def assert_fact(self, kind: str, index: int, values: Mapping[str, FieldValue]) -> None:
        """Assert the fact ``kind``/``index`` with ``values`` and read back what it fires.

        Only the fields some rule on ``kind`` tests are sent; a fact no rule reads
        is not sent at all, and a content already asserted in this session is not
        sent again: its firings are copied to ``index``.
        """
        read = self._ruleset.reads.get(kind)
        if not read:
            return
        try:
            raw = [values[name] for name in read]
        except KeyError as error:
            raise self._lacks(kind, error) from None
        self._send(kind, index, read, raw)

    def assert_rows(
        self,
        kind: str,
        names: Sequence[str],
        rows: Iterable[tuple[int, Sequence[FieldValue]]],
    ) -> None:
        """:meth:`assert_fact` for many facts of one kind, each a row of ``names``' values.

        For the many episodes of a long case: the fields are looked up once.
        """
        read = self._ruleset.reads.get(kind)
        if not read:
            return
        where = {name: position for position, name in enumerate(names)}
        try:
            positions = [where[name] for name in read]
        except KeyError as error:
            raise self._lacks(kind, error) from None
        pick = itemgetter(*positions) if len(positions) > 1 else _single(positions[0])
        send, copy = self._send, self._copy_firings
        # Rows with equal values send equal contents: the second and later only
        # copy the firings of the first, before any encoding.
        sent: dict[tuple[FieldValue, ...], int] = {}
        for index, row in rows:
            values = pick(row)
            first = sent.get(values)
            if first is None:
                sent[values] = index
                send(kind, index, read, values)
            else:
                copy(kind, first, index)

    def _copy_firings(self, kind: str, first: int, index: int) -> None:
        """Record for fact ``index`` what fact ``first``, of equal content, fired."""
        for name in self._fired_on.get((kind, first), ()):
            self.record(name, kind, index)

    def _lacks(self, kind: str, error: KeyError) -> EngineError:
        return self._fail(f"a {kind} fact lacks the field {error.args[0]!r} a rule tests")

    def _send(self, kind: str, index: int, read: Sequence[str], raw: Sequence[FieldValue]) -> None:
        """Encode, wrap and assert one fact, unless its content was asserted already."""
        # engine_value, inlined: this runs once per episode.
        content = tuple(
            [v if v.__class__ is not bool and v is not None else engine_value(v) for v in raw]
        )
        first = self._asserted.get((kind, content))
        if first is not None:
            self._copy_firings(kind, first, index)
            return
        self._asserted[(kind, content)] = index
        fact: dict[str, int | float | str] = {"kind": kind, "index": index}
        fact.update(zip(read, content, strict=True))
        self._assert(fact)

    def _assert(self, fact: Mapping[str, int | float | str]) -> None:
        """Assert one flat fact as it is and read back every rule it fires, synchronously."""
        if "id" in fact or "sid" in fact or _SALT in fact:
            raise self._fail(f"a fact must not carry 'id', 'sid' or '{_SALT}'")
        handle = self._handle
        try:
            code, state = self._store(handle, fact)
        except (TypeError, ValueError) as error:
            raise self._fail(f"a fact cannot be sent to the engine ({error})") from None
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
            self.started = self.started or bool(started)
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
    """A rule pack registered with the engine under a name unique to its content.

    Every method that touches the engine expects the engine lock to be held:
    call it through :func:`run`.
    """

    def __init__(self, name: str, pack: str, rules: Sequence[EngineRule]) -> None:
        self.name = name
        self.pack = pack
        self._by_name = {f"r{position}": rule.rule_id for position, rule in enumerate(rules)}
        fields: dict[str, set[str]] = {}
        for rule in rules:
            fields.setdefault(rule.kind, set()).update(condition_fields(rule.when))
        # For each fact kind, the fields its rules test: all a fact of that kind carries.
        self.reads: dict[str, tuple[str, ...]] = {
            kind: tuple(sorted(names)) for kind, names in fields.items()
        }
        definition: dict[str, Any] = {
            _SENTINEL_RULE: {"all": [{"m": _SENTINEL_FACT}]},
            _SWEEP_RULE: {"all": [{"m": _SWEEP_FACT}]},
        }
        for position, rule in enumerate(rules):
            condition = {"$and": [{"kind": rule.kind}, _compile_condition(rule.when)]}
            definition[f"r{position}"] = {"all": [{"m": condition}]}
        try:
            self._definition = _json(definition)
        except (TypeError, ValueError) as error:
            raise EngineError(
                f"a rule cannot be sent to the engine ({error})", rule_pack=pack
            ) from None
        self._handle: int | None = None
        # Sessions not deleted yet, swept before the next one opens; True once an
        # action has started in it, so that deleting it is safe.
        self._undeleted: dict[str, bool] = {}
        self._open()

    def _open(self) -> int:
        if self._handle is None:
            try:
                self._handle = int(_NATIVE.create_ruleset(self.name, self._definition))
            except Exception as error:
                raise EngineError(
                    f"the engine refused the ruleset ({type(error).__name__})", rule_pack=self.pack
                ) from None
        return self._handle

    @property
    def handle(self) -> int:
        """The engine's handle, registering the ruleset again if it was closed."""
        return self._open()

    def close(self) -> None:
        """Free the engine's ruleset; the next session registers it again."""
        run(self._close)

    def _close(self) -> None:
        if self._handle is not None:
            handle, self._handle = self._handle, None
            self._undeleted.clear()  # their memory goes with the ruleset's pools
            try:
                _NATIVE.delete_ruleset(handle)
            except Exception as error:
                raise EngineError(
                    f"the engine could not free the ruleset ({type(error).__name__})",
                    rule_pack=self.pack,
                ) from None

    def firing(self, name: str, kind: str, index: int) -> Firing:
        """The firing an engine action result stands for; unknown names fail closed."""
        if name in (_SENTINEL_RULE, _SWEEP_RULE):
            return Firing(name, name, 0)
        rule_id = self._by_name.get(name)
        if rule_id is None:
            raise EngineError(f"the engine reported an unknown rule {name!r}", rule_pack=self.pack)
        return Firing(rule_id, kind, index)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Open a session, assert the sentinel, and always end the session safely."""
        with _STATE.lock:
            handle = self.handle
            self._sweep(handle)
            if len(self._undeleted) >= _MAX_UNDELETED:
                raise EngineError(
                    f"{len(self._undeleted)} engine sessions could not be deleted safely; "
                    "restart the process",
                    rule_pack=self.pack,
                )
            session = Session(self, handle, f"stalkrisk-{next(_SESSION_IDS)}")
            _STATE.open_sessions += 1
            try:
                session._assert(_SENTINEL_FACT)
                if [f.rule_id for f in session.firings] != [_SENTINEL_RULE]:
                    raise EngineError("the sentinel rule did not fire", rule_pack=self.pack)
                session.firings.clear()
                yield session
            except BaseException:
                # The first error is the one to report; ending is best effort now.
                self._end(session, quiet=True)
                raise
            else:
                self._end(session, quiet=False)
            finally:
                _STATE.open_sessions -= 1

    def _end(self, session: Session, *, quiet: bool) -> None:
        if not session.started:
            # No action ever started: deleting now could free uninitialised memory.
            self._undeleted[session.sid] = False
            if quiet:
                return
            raise EngineError("a session could not be deleted safely", rule_pack=self.pack)
        try:
            _NATIVE.delete_state(session._handle, session.sid)
        except Exception as error:
            self._undeleted[session.sid] = True
            if not quiet:
                raise EngineError(
                    f"the engine could not delete a session ({type(error).__name__})",
                    rule_pack=self.pack,
                ) from None

    def _sweep(self, handle: int) -> None:
        """Delete the sessions left undeleted, first starting an action where none ran."""
        for sid, started in list(self._undeleted.items()):
            try:
                if not started:
                    # A fresh salt: the sweep fact of an earlier attempt may be stored.
                    fact = {**_SWEEP_FACT, "sid": sid, _SALT: next(_SESSION_IDS)}
                    code, state = _NATIVE.assert_fact(handle, _json(fact))
                    if code != _OK or not _NATIVE.start_action_for_state(handle, state):
                        continue
                    self._undeleted[sid] = True
                _NATIVE.delete_state(handle, sid)
            except Exception:
                continue
            del self._undeleted[sid]

    def session_exists(self, sid: str) -> bool:
        """Whether the engine still holds state for ``sid`` (for tests and diagnostics)."""
        try:
            _NATIVE.get_state(self.handle, sid)
        except Exception:
            return False
        return True


def compile_ruleset(name: str, pack: str, rules: Sequence[EngineRule]) -> CompiledRuleset:
    """Register ``rules`` under ``name`` once; later calls with the same name reuse it."""

    def register() -> CompiledRuleset:
        compiled = _REGISTRY.get(name)
        if compiled is None:
            compiled = CompiledRuleset(name, pack, rules)
            _REGISTRY[name] = compiled
        return compiled

    return run(register)


def release_ruleset(name: str) -> None:
    """Forget and free the ruleset registered under ``name`` (no-op if there is none)."""

    def release() -> None:
        compiled = _REGISTRY.pop(name, None)
        if compiled is not None:
            compiled._close()

    run(release)
