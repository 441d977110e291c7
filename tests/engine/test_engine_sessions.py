"""At most one open engine session per call in flight; none afterwards; ids never repeat."""

from __future__ import annotations

import json
import threading

from builders import case, contact

import stalkrisk
from stalkrisk import _engine

THREADS = 64
CALLS = 10


def test_open_sessions_stay_within_the_thread_count_and_drop_to_zero() -> None:
    cases = [
        stalkrisk.parse_case(case(contact("a", 0, "following"), contact("b", n % 20, "threat")))
        for n in range(THREADS)
    ]
    stalkrisk.assess(cases[0])  # load the pack (and its safety probes) before counting
    peak = [0]
    sids: list[str] = []
    lock = threading.Lock()
    original = _engine._NATIVE.assert_fact

    def spy(handle: int, text: str) -> object:
        fact = json.loads(text)
        with lock:
            peak[0] = max(peak[0], _engine.open_sessions())
            if "$begin" in fact:
                sids.append(str(fact["sid"]))
        return original(handle, text)

    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            for _ in range(CALLS):
                stalkrisk.assess(cases[index])
        except BaseException as error:
            errors.append(error)

    _engine._NATIVE.assert_fact = spy
    try:
        threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        _engine._NATIVE.assert_fact = original

    assert errors == []
    assert peak[0] == 1  # the process-wide lock: never more than one, so at most THREADS
    assert _engine.open_sessions() == 0
    assert len(sids) == THREADS * CALLS
    assert len(set(sids)) == len(sids)
