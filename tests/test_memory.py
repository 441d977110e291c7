"""Engine sessions are really deleted: state is gone after each call and memory stays flat.

The full check (100,000 assessments, less than 20 MB of growth) is
`bench/memory.py`; this test runs a smaller count in CI.
"""

from __future__ import annotations

import gc
import json
import resource

import pytest

import stalkrisk
from stalkrisk import _engine, _registry, vignettes

CASES = [vignettes.load(name).case for name in vignettes.names()]


def _rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 1e6


def test_engine_state_is_empty_after_each_call(monkeypatch: pytest.MonkeyPatch) -> None:
    ruleset = _registry.compiled(stalkrisk.default_rule_pack()).ruleset
    sids: list[str] = []
    original = _engine._NATIVE.assert_fact

    def spy(handle: int, text: str) -> object:
        fact = json.loads(text)
        if "$begin" in fact:
            sids.append(fact["sid"])
        return original(handle, text)

    monkeypatch.setattr(_engine._NATIVE, "assert_fact", spy)
    for index in range(300):
        stalkrisk.assess(CASES[index % len(CASES)])
        assert not ruleset.session_exists(sids[-1])
        assert _engine.open_sessions() == 0

    assert len(set(sids)) == 300


def test_five_thousand_assessments_do_not_grow_resident_memory() -> None:
    for case in CASES * 20:  # warm up caches and the allocator
        stalkrisk.assess(case)
    gc.collect()
    before = _rss_mb()

    for index in range(5_000):
        stalkrisk.assess(CASES[index % len(CASES)])
    gc.collect()

    assert _rss_mb() - before < 5.0
