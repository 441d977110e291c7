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
from stalkrisk._compiled import CompiledPack
from stalkrisk._evaluate import evaluate

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


def _case_with(count: int) -> dict[str, object]:
    contacts = [
        {
            "id": f"c{n}",
            "at": f"2024-01-01T00:{n // 60 % 60:02d}:{n % 60:02d}Z",
            "behaviours": ["gift"],
        }
        for n in range(count)
    ]
    return {
        "assessed_at": "2024-02-01T00:00:00Z",
        "client": {"relationship": "current"},
        "contacts": contacts,
    }


@pytest.mark.parametrize(("count", "paused"), [(2_001, True), (20, False)])
def test_a_large_case_is_assessed_with_the_cyclic_collector_paused_and_it_resumes(
    monkeypatch: pytest.MonkeyPatch, count: int, paused: bool
) -> None:
    from stalkrisk import _api

    seen: list[bool] = []

    def spy(case: stalkrisk.Case, compiled: CompiledPack) -> stalkrisk.Assessment:
        seen.append(gc.isenabled())
        return evaluate(case, compiled)

    monkeypatch.setattr(_api, "evaluate", spy)
    assert gc.isenabled()
    stalkrisk.assess(_case_with(count))

    assert seen == [not paused]
    assert gc.isenabled()


def test_a_large_case_is_freed_before_the_collector_resumes() -> None:
    # Left alive until the pause ended, the contact models made the first
    # collection after it traverse every one of them: a sixth of the time of a
    # 100,000-contact call.  Only the assessment may be young by then.
    text = json.dumps(_case_with(20_000))
    stalkrisk.assess(text)
    young: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == 0:
            young.append(len(gc.get_objects(generation=0)))

    gc.collect()
    gc.callbacks.append(count)
    try:
        stalkrisk.assess(text)
    finally:
        gc.callbacks.remove(count)

    assert max(young, default=0) < 1_000
