"""Fail closed: an engine failure raises EngineError, returns nothing, and leaves nothing open."""

from __future__ import annotations

import json
from typing import Any

import pytest
from builders import assess, contact

import stalkrisk
from stalkrisk import _engine

THREAT = (contact("a", 0, "threat"),)


@pytest.fixture(autouse=True)
def _pack_loaded() -> None:
    """Faults are injected into assessments, not into the pack's load-time probes."""
    stalkrisk.default_rule_pack()


def _raise_on(kind: str) -> Any:
    original = _engine._NATIVE.assert_fact

    def failing(handle: int, text: str) -> object:
        if json.loads(text).get("kind") == kind:
            raise RuntimeError("injected engine fault")
        return original(handle, text)

    return failing


@pytest.mark.parametrize("kind", ["case", "grade"])
def test_an_engine_fault_raises_engine_error_naming_the_pack(
    monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    monkeypatch.setattr(_engine._NATIVE, "assert_fact", _raise_on(kind))

    with pytest.raises(stalkrisk.EngineError) as caught:
        assess(*THREAT)

    assert caught.value.rule_pack == "stalkrisk-default"
    assert "stalkrisk-default" in str(caught.value)
    assert isinstance(caught.value, stalkrisk.StalkriskError)


def test_an_engine_fault_leaves_no_session_open(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_engine._NATIVE, "assert_fact", _raise_on("grade"))

    with pytest.raises(stalkrisk.EngineError):
        assess(*THREAT)

    assert _engine.open_sessions() == 0


def test_the_next_call_after_a_fault_works_normally(monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(_engine._NATIVE, "assert_fact", _raise_on("grade"))
        with pytest.raises(stalkrisk.EngineError):
            assess(*THREAT)

    assert assess(*THREAT).level is stalkrisk.Level.POLICE


def test_a_fault_while_reading_actions_raises_engine_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    original = _engine._NATIVE.complete_and_start_action
    calls = [0]

    def failing(handle: int, state: int) -> object:
        calls[0] += 1
        if calls[0] > 1:
            raise RuntimeError("injected fault in the action loop")
        return original(handle, state)

    monkeypatch.setattr(_engine._NATIVE, "complete_and_start_action", failing)

    with pytest.raises(stalkrisk.EngineError, match="a rule action failed"):
        assess(*THREAT)
    assert _engine.open_sessions() == 0


def test_an_unreadable_action_result_raises_engine_error(monkeypatch: pytest.MonkeyPatch) -> None:
    original = _engine._NATIVE.complete_and_start_action

    def garbled(handle: int, state: int) -> object:
        result = original(handle, state)
        return "not json" if result else result

    monkeypatch.setattr(_engine._NATIVE, "complete_and_start_action", garbled)

    with pytest.raises(stalkrisk.EngineError):
        assess(*THREAT)


def test_a_recording_failure_raises_engine_error(monkeypatch: pytest.MonkeyPatch) -> None:
    original = _engine.Session.record
    reached = []

    def broken(self: _engine.Session, name: str, kind: str, index: int) -> None:
        if name != "sentinel":
            reached.append(name)
            raise ValueError("injected action fault")
        original(self, name, kind, index)

    monkeypatch.setattr(_engine.Session, "record", broken)

    with pytest.raises(stalkrisk.EngineError, match="a rule action failed"):
        assess(*THREAT)
    assert reached, "the injected fault was never reached"
    assert _engine.open_sessions() == 0


@pytest.mark.parametrize("code", [2, 3])
def test_a_duplicate_or_deferred_fact_fails_closed(
    monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    original = _engine._NATIVE.assert_fact

    def refusing(handle: int, text: str) -> object:
        if json.loads(text).get("kind") == "grade":
            return (code, 0)
        return original(handle, text)

    monkeypatch.setattr(_engine._NATIVE, "assert_fact", refusing)

    with pytest.raises(stalkrisk.EngineError, match=f"code {code}"):
        assess(*THREAT)


def test_a_failing_session_delete_raises_engine_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(handle: int, sid: str) -> None:
        raise RuntimeError("injected delete fault")

    monkeypatch.setattr(_engine._NATIVE, "delete_state", failing)

    with pytest.raises(stalkrisk.EngineError, match="could not delete"):
        assess(*THREAT)
    assert _engine.open_sessions() == 0


def test_a_sentinel_that_does_not_fire_is_an_engine_error(monkeypatch: pytest.MonkeyPatch) -> None:
    original = _engine._NATIVE.assert_fact

    def dropping(handle: int, text: str) -> object:
        if "$begin" in json.loads(text):
            return (1, 0)
        return original(handle, text)

    monkeypatch.setattr(_engine._NATIVE, "assert_fact", dropping)

    with pytest.raises(stalkrisk.EngineError, match="sentinel"):
        assess(*THREAT)
