"""assess_iter: a lazy, bounded stream of results in input order, with errors raised or kept."""

from __future__ import annotations

import itertools
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

import stalkrisk
from stalkrisk import CaseError, CaseValidationError, batch, vignettes

CASES = [vignettes.load(name).case for name in vignettes.names()]
TEXTS = [c.model_dump_json() for c in CASES]
BROKEN = '{"client": {"relationship": "former"}}'  # no assessed_at


@pytest.fixture(scope="module")
def sequential() -> list[str]:
    return [stalkrisk.assess(c).model_dump_json() for c in CASES]


class Counting:
    """An input that counts how many cases were taken from it."""

    def __init__(self, source: Iterator[str]) -> None:
        self.source = source
        self.taken = 0

    def __iter__(self) -> Iterator[str]:
        for item in self.source:
            self.taken += 1
            yield item


@pytest.mark.parametrize("workers", [1, 2])
def test_results_stream_in_input_order(workers: int, sequential: list[str]) -> None:
    results = stalkrisk.assess_iter(TEXTS * 3, workers=workers, chunk_size=5)

    assert [r.model_dump_json() for r in results] == sequential * 3


@pytest.mark.parametrize("workers", [1, 2])
def test_a_long_input_is_read_only_a_bounded_way_ahead(workers: int) -> None:
    source = Counting(itertools.islice(itertools.cycle(TEXTS), 2_000))
    stream = stalkrisk.assess_iter(source, workers=workers, chunk_size=10, in_flight=3)

    first = list(itertools.islice(stream, 25))

    assert len(first) == 25
    # In a pool: the chunks in flight plus the one being yielded; in process: one case.
    assert source.taken <= 25 + (3 * 10 if workers > 1 else 0)


def test_nothing_is_read_before_the_first_result_is_asked_for() -> None:
    source = Counting(iter(TEXTS))

    stream = stalkrisk.assess_iter(source, workers=1)

    assert source.taken == 0
    next(stream)
    assert source.taken == 1


@pytest.mark.parametrize("workers", [1, 2])
def test_an_invalid_case_raises_with_its_index_in_the_input(workers: int) -> None:
    inputs = [*TEXTS[:7], BROKEN, *TEXTS[:3]]

    with pytest.raises(CaseValidationError) as caught:
        list(stalkrisk.assess_iter(inputs, workers=workers, chunk_size=3))

    assert caught.value.index == 7
    assert "at index 7 of the input" in str(caught.value)
    assert [p.type for p in caught.value.problems] == ["missing"]


@pytest.mark.parametrize("workers", [1, 2])
def test_collected_errors_come_back_in_place(workers: int, sequential: list[str]) -> None:
    inputs = [TEXTS[0], BROKEN, TEXTS[1], "not json", TEXTS[2]]

    results = list(stalkrisk.assess_iter(inputs, workers=workers, chunk_size=2, errors="collect"))

    assert [type(r).__name__ for r in results] == [
        "Assessment", "CaseError", "Assessment", "CaseError", "Assessment",
    ]  # fmt: skip
    errors = [r for r in results if isinstance(r, CaseError)]
    assert [e.index for e in errors] == [1, 3]
    assert [p.type for p in errors[0].problems] == ["missing"]
    valid = [r.model_dump_json() for r in results if isinstance(r, stalkrisk.Assessment)]
    assert valid == sequential[:3]


def test_a_collected_error_echoes_no_case_text() -> None:
    secret = '{"assessed_at": "Jane Doe lives at 5 Elm Street", "client": {}}'

    [error] = stalkrisk.assess_iter([secret], workers=1, errors="collect")

    assert isinstance(error, CaseError)
    assert "Jane" not in repr(error)


def test_summary_keeps_a_row_for_each_collected_error_in_place() -> None:
    results = stalkrisk.assess_many([TEXTS[0], BROKEN], workers=1, errors="collect")

    frame = batch.summary(results)

    assert list(frame["level"].isna()) == [False, True]
    assert frame["error"].iloc[1] == "index 1: assessed_at [missing]"
    assert frame["error"].isna().iloc[0]


def test_assess_many_raises_the_index_of_the_first_invalid_case() -> None:
    with pytest.raises(CaseValidationError) as caught:
        stalkrisk.assess_many([TEXTS[0], TEXTS[1], BROKEN], workers=2, chunk_size=1)

    assert caught.value.index == 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"errors": "ignore"}, "errors='ignore'"),
        ({"in_flight": 0}, "in_flight=0"),
        ({"workers": 0}, "workers=0"),
        ({"chunk_size": 0}, "chunk_size=0"),
    ],
)
def test_bad_options_are_refused_before_any_case_is_read(
    options: dict[str, object], message: str
) -> None:
    source = Counting(iter(TEXTS))

    with pytest.raises(ValueError, match=message):
        stalkrisk.assess_iter(source, **options)  # type: ignore[call-overload]

    assert source.taken == 0


def test_a_located_error_survives_pickling() -> None:
    import pickle

    error = CaseValidationError([], index=4)

    assert pickle.loads(pickle.dumps(error)).index == 4


def test_a_stream_left_open_at_exit_does_not_hang_the_interpreter(tmp_path: Path) -> None:
    # Closing it at shutdown cancels its chunks; the engine thread is frozen by then.
    script = tmp_path / "open_stream.py"
    script.write_text(
        textwrap.dedent(
            """
            import itertools
            import stalkrisk
            from stalkrisk import vignettes

            if __name__ == "__main__":
                texts = [vignettes.load(n).case.model_dump_json() for n in vignettes.names()]
                source = itertools.islice(itertools.cycle(texts), 2_000)
                stream = stalkrisk.assess_iter(source, workers=2, chunk_size=10, in_flight=50)
                print(len(list(itertools.islice(stream, 25))))
            """
        ),
        encoding="utf-8",
    )

    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False
    )

    assert (done.returncode, done.stdout.strip()) == (0, "25")
