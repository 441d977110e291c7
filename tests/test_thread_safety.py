"""Thread safety: many threads, distinct cases, every result equal to the sequential one."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

import stalkrisk
from stalkrisk import _engine

sys.path.insert(0, str(Path(__file__).parent / "engine"))
from soak import generate

THREADS = 8
PER_THREAD = 500


@pytest.mark.slow
def test_eight_threads_of_five_hundred_distinct_cases_match_sequential_results() -> None:
    cases = [generate(seed, max_contacts=30) for seed in range(THREADS * PER_THREAD)]
    expected = [stalkrisk.assess(c).model_dump_json() for c in cases]
    got: dict[int, str] = {}
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for index in range(worker, len(cases), THREADS):
                got[index] = stalkrisk.assess(cases[index]).model_dump_json()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(got) == THREADS * PER_THREAD
    assert all(got[i] == expected[i] for i in range(len(cases)))
    assert _engine.open_sessions() == 0


def test_a_failing_rule_action_leaves_no_engine_state_and_later_calls_work(
    tmp_path: Path,
) -> None:
    """A deliberately broken pack: its action fails; nothing is left open."""
    from stalkrisk import _evaluate, _registry

    pack = stalkrisk.default_rule_pack()
    compiled_pack = _registry.compiled(pack)
    ruleset = compiled_pack.ruleset
    broken = _engine.Session.record

    reached = []

    def failing(self: _engine.Session, name: str, kind: str, index: int) -> None:
        if ruleset.firing(name, kind, index).rule_id == "grade.police.threat":
            reached.append(name)
            raise RuntimeError("broken rule action")
        broken(self, name, kind, index)

    threat = stalkrisk.parse_case(
        {"assessed_at": "2025-01-02T00:00:00Z", "client": {"relationship": "current"},
         "contacts": [{"id": "a", "at": "2025-01-01T00:00:00Z", "behaviours": ["threat"]}]}
    )  # fmt: skip
    _engine.Session.record = failing  # type: ignore[method-assign]
    try:
        with pytest.raises(stalkrisk.EngineError, match="stalkrisk-default"):
            _evaluate.evaluate(threat, compiled_pack)
    finally:
        _engine.Session.record = broken  # type: ignore[method-assign]

    assert reached, "the injected fault was never reached"
    assert _engine.open_sessions() == 0
    assert stalkrisk.assess(threat).level is stalkrisk.Level.POLICE
