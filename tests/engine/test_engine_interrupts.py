"""Interrupts, forks and failed sessions never crash the host or leave a session behind.

Every scenario that could crash the interpreter runs in a fresh subprocess, so a
segfault fails one test instead of the run.  ``storm.py`` raises
``KeyboardInterrupt`` from a ``SIGALRM`` handler at random points of each call.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from builders import assess, contact
from storm import TARGETS
from subprocess_run import TESTS, describe, run_isolated

import stalkrisk
from stalkrisk import _engine

STORM = Path(__file__).with_name("storm.py")


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("target", TARGETS)
def test_an_interrupt_storm_neither_crashes_nor_changes_results_nor_leaves_sessions(
    target: str, seed: int
) -> None:
    done = subprocess.run(
        [sys.executable, str(STORM), "--target", target, "--seed", str(seed), "--seconds", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=TESTS,
    )

    assert done.returncode == 0, f"{describe(done)}\n{done.stdout}"
    figures = json.loads(done.stdout)
    assert figures["interrupted"] > 0, figures
    assert figures["returned"] > 0, figures


def test_forking_while_another_thread_assesses_gives_children_a_working_engine() -> None:
    done = run_isolated(
        """
        import os, threading, time
        import stalkrisk
        case = stalkrisk.example_case()
        expected = stalkrisk.assess(case).level
        stop = threading.Event()

        def busy():
            while not stop.is_set():
                stalkrisk.assess(case)

        threads = [threading.Thread(target=busy) for _ in range(2)]
        for t in threads: t.start()
        children = []
        for _ in range(40):
            pid = os.fork()
            if pid == 0:
                ok = stalkrisk.assess(case).level == expected
                os._exit(0 if ok else 3)
            children.append(pid)
            time.sleep(0.002)
        stop.set()
        for t in threads: t.join()
        deadline = time.monotonic() + 60
        codes = []
        for pid in children:
            while True:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    codes.append(os.waitstatus_to_exitcode(status))
                    break
                if time.monotonic() > deadline:
                    for child in children:
                        os.kill(child, 9)  # leave no hung child behind
                    raise AssertionError("a forked child hung")
                time.sleep(0.01)
        assert codes == [0] * 40, codes
        """,
        timeout=120,
    )

    assert done.returncode == 0, describe(done)


def test_a_session_whose_sentinel_never_started_an_action_is_swept_not_deleted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Deleting it at once could free uninitialised engine memory (hazard 2)."""
    ruleset = stalkrisk._registry.compiled(stalkrisk.default_rule_pack()).ruleset
    original = _engine._NATIVE.start_action_for_state
    deleted: list[str] = []
    delete = _engine._NATIVE.delete_state

    def interrupted(handle: int, state: int) -> object:
        raise RuntimeError("injected fault before any action started")

    def spy_delete(handle: int, sid: str) -> object:
        deleted.append(sid)
        return delete(handle, sid)

    monkeypatch.setattr(_engine._NATIVE, "delete_state", spy_delete)
    with monkeypatch.context() as patch:
        patch.setattr(_engine._NATIVE, "start_action_for_state", interrupted)
        with pytest.raises(stalkrisk.EngineError):
            assess(contact("a", 0, "threat"))
    assert _engine.undeleted_sessions() == 1
    assert deleted == []
    assert _engine._NATIVE.start_action_for_state is original

    assert assess(contact("a", 0, "threat")).level is stalkrisk.Level.POLICE
    assert _engine.undeleted_sessions() == 0
    assert len(deleted) == 2  # the swept session, then the new one
    assert not any(ruleset.session_exists(sid) for sid in deleted)


def test_sessions_that_cannot_be_deleted_stop_at_a_limit_with_an_engine_error() -> None:
    """The engine crashes past 1,024 sessions; the adapter stops well before."""
    done = run_isolated(
        """
        import stalkrisk
        from stalkrisk import _engine
        case = stalkrisk.example_case()
        stalkrisk.assess(case)

        def failing(handle, sid):
            raise RuntimeError("injected delete fault")

        _engine._NATIVE.delete_state = failing
        errors = set()
        for _ in range(1100):
            try:
                stalkrisk.assess(case)
            except stalkrisk.EngineError as error:
                errors.add(error.msg.split(" (")[0])
        assert _engine.undeleted_sessions() == _engine._MAX_UNDELETED, _engine.undeleted_sessions()
        assert any("could not be deleted safely" in e for e in errors), errors
        """
    )

    assert done.returncode == 0, describe(done)


def test_an_interrupt_stops_a_long_batch_early_and_the_next_batch_works() -> None:
    done = run_isolated(
        """
        import signal, time
        import stalkrisk
        from stalkrisk import batch
        cases = [stalkrisk.example_case()] * 6000
        batch.assess_many(cases[:8], workers=2)  # start the workers
        started = time.monotonic()
        batch.assess_many(cases, workers=2)
        whole = time.monotonic() - started

        def on_alarm(signum, frame):
            raise KeyboardInterrupt

        signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, whole / 5)
        started = time.monotonic()
        try:
            batch.assess_many(cases, workers=2)
        except KeyboardInterrupt:
            stopped = time.monotonic() - started
        else:
            raise AssertionError("the interrupt was lost")
        assert stopped < whole * 0.8, (stopped, whole)
        assert len(batch.assess_many(cases[:50], workers=2)) == 50
        batch.stop_workers()
        """,
        timeout=180,
    )

    assert done.returncode == 0, describe(done)
