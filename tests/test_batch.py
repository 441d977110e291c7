"""Batch assessment across processes: same answers, same order, clear errors."""

from __future__ import annotations

import gc
import pickle
import threading
from datetime import datetime

import pytest
from builders import case, contact

import stalkrisk
from stalkrisk import Behaviour, _evaluate, batch, vignettes
from stalkrisk._compiled import CompiledPack
from stalkrisk._evaluate import Findings

CASES = [vignettes.load(name).case for name in vignettes.names()]


@pytest.fixture(scope="module")
def sequential() -> list[str]:
    return [stalkrisk.assess(c).model_dump_json() for c in CASES]


def test_assess_many_in_processes_matches_sequential_in_order(sequential: list[str]) -> None:
    results = stalkrisk.assess_many(CASES * 3, workers=2, chunk_size=4)

    assert [r.model_dump_json() for r in results] == sequential * 3


def test_assess_many_in_process_matches_sequential(sequential: list[str]) -> None:
    results = stalkrisk.assess_many(iter(CASES), workers=1)

    assert [r.model_dump_json() for r in results] == sequential


def test_assess_many_accepts_json_and_mappings() -> None:
    inputs: list[stalkrisk.CaseInput] = [
        CASES[0].model_dump_json(),
        CASES[0].model_dump(mode="json"),
        CASES[0],
    ]

    levels = {r.level for r in stalkrisk.assess_many(inputs, workers=2)}

    assert len(levels) == 1


def test_an_invalid_case_raises_its_validation_error_from_a_worker() -> None:
    bad = case(contact("a", 0))

    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        stalkrisk.assess_many([CASES[0], bad], workers=2, chunk_size=1)

    assert caught.value.problems[0].loc == "contacts.0.behaviours"


def test_assess_many_uses_a_custom_pack_in_workers() -> None:
    pack = stalkrisk.default_rule_pack()

    results = stalkrisk.assess_many(CASES[:4], workers=2, rule_pack=pack)

    assert {r.rule_pack.sha256 for r in results} == {pack.sha256}


def test_workers_below_one_are_refused() -> None:
    with pytest.raises(ValueError, match="workers=0"):
        stalkrisk.assess_many(CASES, workers=0)


def test_progress_bar_runs_with_tqdm() -> None:
    results = stalkrisk.assess_many(CASES[:3], workers=1, progress=True)

    assert len(results) == 3


def test_summary_has_one_row_per_assessment_with_the_key_columns() -> None:
    results = [stalkrisk.assess(c) for c in CASES]

    frame = batch.summary(results)

    assert len(frame) == len(CASES)
    assert list(frame["level"]) == [r.level.value for r in results]
    for column in ("urgent", "pattern", "threat", "fear", "threshold_met", "span_days"):
        assert column in frame.columns


@pytest.mark.parametrize(
    "error",
    [
        stalkrisk.CaseValidationError([stalkrisk.Problem("contacts.0.at", "missing", "m")]),
        stalkrisk.RulePackError("bad", file="p.yaml", rule_id="r", field="when"),
        stalkrisk.EngineError("failed", rule_pack="p"),
    ],
)
def test_errors_survive_pickling(error: stalkrisk.StalkriskError) -> None:
    copy = pickle.loads(pickle.dumps(error))

    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert vars(copy) == vars(error)


def test_workers_are_kept_between_calls_and_stop_workers_ends_them() -> None:
    stalkrisk.assess_many(CASES[:4], workers=2)
    pool = batch._POOLS[2]

    stalkrisk.assess_many(CASES[:4], workers=2)
    assert batch._POOLS[2] is pool

    batch.stop_workers()
    assert batch._POOLS == {}
    assert len(stalkrisk.assess_many(CASES[:4], workers=2)) == 4


def test_a_dead_worker_raises_broken_pool_and_the_next_call_starts_fresh() -> None:
    from concurrent.futures.process import BrokenProcessPool

    stalkrisk.assess_many(CASES[:2], workers=2)
    for process in list(batch._POOLS[2]._processes.values()):
        process.kill()
        process.join()

    with pytest.raises(BrokenProcessPool):
        stalkrisk.assess_many(CASES, workers=2, chunk_size=1)

    assert 2 not in batch._POOLS
    assert len(stalkrisk.assess_many(CASES[:3], workers=2)) == 3


def test_a_mapping_without_json_raises_its_problems_at_their_fields_in_input_order() -> None:
    bad = {**case(contact("a", 0, "gift")), "assessed_at": object()}

    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        stalkrisk.assess_many([CASES[0], bad, case(contact("a", 0))], workers=2, chunk_size=1)

    assert caught.value.index == 1
    assert [(p.loc, p.type) for p in caught.value.problems] == [("assessed_at", "iso_datetime")]


def test_a_mapping_of_python_values_is_assessed_in_workers_as_directly() -> None:
    data = case(contact("a", 0, "gift"), contact("b", 20, "following"))
    native = {
        **data,
        "assessed_at": datetime.fromisoformat(data["assessed_at"]),
        "contacts": [
            {
                **c,
                "at": datetime.fromisoformat(c["at"]),
                "behaviours": {Behaviour(c["behaviours"][0])},
            }
            for c in data["contacts"]
        ],
    }

    results = stalkrisk.assess_many([native, native], workers=2, chunk_size=1)

    assert [r.model_dump() for r in results] == [stalkrisk.assess(data).model_dump()] * 2


def test_the_collector_is_paused_while_results_are_built_and_enabled_again_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[bool] = []
    build = _evaluate.assessment

    def spy(compiled: CompiledPack, found: Findings) -> stalkrisk.Assessment:
        seen.append(gc.isenabled())
        return build(compiled, found)

    monkeypatch.setattr(batch, "assessment", spy)
    stalkrisk.assess_many(CASES, workers=2, chunk_size=2)

    assert seen == [False] * len(CASES)
    assert gc.isenabled()


def test_a_collector_the_caller_disabled_stays_disabled() -> None:
    gc.disable()
    try:
        stalkrisk.assess_many(CASES[:4], workers=2)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_collector_is_enabled_again_after_an_invalid_case() -> None:
    with pytest.raises(stalkrisk.CaseValidationError):
        stalkrisk.assess_many([CASES[0], case(contact("a", 0))], workers=2, chunk_size=1)

    assert gc.isenabled()


def test_concurrent_calls_leave_the_collector_enabled() -> None:
    results: list[int] = []

    def work() -> None:
        results.append(len(stalkrisk.assess_many(CASES, workers=2, chunk_size=1)))

    threads = [threading.Thread(target=work) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results == [len(CASES)] * 3
    assert gc.isenabled()
