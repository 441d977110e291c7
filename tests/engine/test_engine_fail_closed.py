"""Fail closed: an engine failure raises EngineError, returns nothing, and leaves nothing open."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from builders import assess, contact

import stalkrisk
from stalkrisk import _engine

THREAT = (contact("a", 0, "threat"),)


@pytest.fixture
def restore_host() -> Iterator[None]:
    saved = {name: getattr(_engine._HOST, name) for name in ("assert_fact", "delete_state")}
    yield
    for name, value in saved.items():
        setattr(_engine._HOST, name, value)


def _raise_on(kind: str) -> Any:
    original = _engine._HOST.assert_fact

    def failing(name: str, fact: dict[str, Any], complete: object = None) -> object:
        if fact.get("kind") == kind:
            raise RuntimeError("injected engine fault")
        return original(name, fact, complete)

    return failing


@pytest.mark.parametrize("kind", ["case", "grade"])
def test_an_engine_fault_raises_engine_error_naming_the_pack(restore_host: None, kind: str) -> None:
    _engine._HOST.assert_fact = _raise_on(kind)

    with pytest.raises(stalkrisk.EngineError) as caught:
        assess(*THREAT)

    assert caught.value.rule_pack == "stalkrisk-default"
    assert "stalkrisk-default" in str(caught.value)
    assert isinstance(caught.value, stalkrisk.StalkriskError)


def test_an_engine_fault_leaves_no_session_open(restore_host: None) -> None:
    _engine._HOST.assert_fact = _raise_on("grade")

    with pytest.raises(stalkrisk.EngineError):
        assess(*THREAT)

    assert _engine.open_sessions() == 0


def test_the_next_call_after_a_fault_works_normally(restore_host: None) -> None:
    _engine._HOST.assert_fact = _raise_on("grade")
    with pytest.raises(stalkrisk.EngineError):
        assess(*THREAT)
    _engine._HOST.assert_fact = type(_engine._HOST).assert_fact.__get__(_engine._HOST)

    assert assess(*THREAT).level is stalkrisk.Level.POLICE


def test_a_failing_rule_action_raises_instead_of_being_swallowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(self: _engine.Session, firing: _engine.Firing) -> None:
        if firing.rule_id != "sentinel":
            raise ValueError("injected action fault")
        self.firings.append(firing)

    monkeypatch.setattr(_engine.Session, "record", broken)

    with pytest.raises(stalkrisk.EngineError, match="a rule action failed"):
        assess(*THREAT)
    assert _engine.open_sessions() == 0


def test_a_failing_session_delete_raises_engine_error(restore_host: None) -> None:
    def failing(name: str, sid: str | None = None) -> None:
        raise RuntimeError("injected delete fault")

    _engine._HOST.delete_state = failing

    with pytest.raises(stalkrisk.EngineError, match="could not delete"):
        assess(*THREAT)
    assert _engine.open_sessions() == 0


def test_a_sentinel_that_does_not_fire_is_an_engine_error(restore_host: None) -> None:
    original = _engine._HOST.assert_fact

    def dropping(name: str, fact: dict[str, Any], complete: object = None) -> object:
        if "$begin" in fact:
            return None
        return original(name, fact, complete)

    _engine._HOST.assert_fact = dropping

    with pytest.raises(stalkrisk.EngineError, match="sentinel"):
        assess(*THREAT)
