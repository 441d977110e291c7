"""Assess many cases at once, in parallel processes, and summarise them as a table.

    >>> import stalkrisk
    >>> from stalkrisk import vignettes
    >>> cases = [vignettes.load(name).case for name in vignettes.names()]
    >>> results = stalkrisk.assess_many(cases, workers=2)
    >>> [r.level.value for r in results][:3]
    ['police', 'referral', 'consultation']

Each worker is a fresh process (the ``spawn`` start method), so nothing of the
caller's engine state is shared or forked.  The workers start on the first call
and are kept for later calls with the same number of workers (starting one
costs about half a second); :func:`stop_workers` ends them, and they end with
the interpreter anyway.  Results come back in input order
and equal what :func:`stalkrisk.assess` returns (times with a named zone come
back with its fixed UTC offset: the same instant).  The first invalid case
raises its :class:`CaseValidationError` in the caller, naming the case's
position in the input.

:func:`assess_iter` is the same, streamed: it reads the input lazily, keeps a
bounded number of chunks in flight and yields each result in input order, so
an input far larger than memory can be assessed and summarised chunk by chunk.
With ``errors="collect"`` an invalid case comes back in place as a
:class:`CaseError` instead of stopping the run.  :func:`assess_many` is
``list(assess_iter(...))``.  Scripts that start workers need the
``if __name__ == "__main__":`` guard of docs/batch.md (``spawn`` re-imports the
main module in every worker).

Cases travel to the workers as JSON text.  What comes back is, for each case,
only what the engine found (fired rules, evidence, elements, threshold) as one
JSON array per chunk; this process adds what the rule pack says about it
(titles, actions, grade), exactly as :func:`stalkrisk.assess` does.  That is
several times cheaper than pickling whole assessments.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

from ._api import assess
from ._assessment import Assessment
from ._case import CaseInput, case_json, parse_case
from ._collector import collector_paused
from ._compiled import CompiledPack
from ._engine import run
from ._evaluate import Findings, assessment, findings
from ._exceptions import CaseValidationError, Problem
from ._packmodel import RulePack
from ._registry import compiled, default_rule_pack
from ._shield import shielded

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    import pandas

__all__ = ["CaseError", "assess_iter", "assess_many", "stop_workers", "summary"]

T = TypeVar("T")
_MAX_CHUNK = 1_000
_STREAM_CHUNK = 64
Errors = Literal["raise", "collect"]


@dataclass(frozen=True)
class CaseError:
    """An invalid case in the results of ``assess_iter(..., errors="collect")``.

    ``index`` is the case's position in the input; ``problems`` are those
    :class:`CaseValidationError` lists (paths, type codes and messages, never
    the case's text).
    """

    index: int
    problems: tuple[Problem, ...]


def _located(error: CaseValidationError, index: int) -> CaseValidationError:
    """``error`` again, saying which case of the input it is about."""
    located = CaseValidationError(error.problems, index=index)
    located.__cause__ = error.__cause__
    return located


_POOLS: dict[int, ProcessPoolExecutor] = {}
_POOLS_LOCK = threading.Lock()


def _pool(workers: int) -> ProcessPoolExecutor:
    # Imported here: process pools are a batch-only cost, kept out of `import stalkrisk`.
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    with _POOLS_LOCK:
        pool = _POOLS.get(workers)
        if pool is None:
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))
            _POOLS[workers] = pool
        return pool


def _discard(workers: int, pool: ProcessPoolExecutor) -> None:
    with _POOLS_LOCK:
        if _POOLS.get(workers) is pool:
            del _POOLS[workers]
    pool.shutdown(wait=False, cancel_futures=True)


def stop_workers() -> None:
    """End the worker processes kept by :func:`assess_many` (the next call starts new ones)."""
    with _POOLS_LOCK:
        pools = list(_POOLS.values())
        _POOLS.clear()
    for pool in pools:
        pool.shutdown(wait=True, cancel_futures=True)


# Ended while the interpreter is still whole: a pool left to module teardown
# makes concurrent.futures print an ignored error at exit.
atexit.register(stop_workers)


_Found = list[Findings | dict[str, Any]]


def _assess_chunk(
    chunk: list[str | bytes | CaseValidationError], pack: RulePack, collect: bool = False
) -> _Found:
    """In a worker: the findings for every case of the chunk.

    They travel back as the pool pickles them: a third of the bytes of their JSON,
    written and read in a third of the time, with tuples and times kept as they are.

    With ``collect``, an invalid case is its list of problems (``{"problems": [...]}``)
    in place; otherwise the first one is raised with its position in the chunk.
    """
    # The worker process runs nothing but this, and a chunk makes no reference
    # cycles worth collecting: pausing the cyclic collector spares it from
    # re-scanning the chunk's objects on every allocation burst.
    gc.disable()
    try:
        # The caller's pack object: a worker registers it (engine ruleset and safety
        # floors) once, and never parses the pack file itself.
        compiled_pack = compiled(pack)

        def chunk_findings() -> _Found:
            results: _Found = []
            for position, case in enumerate(chunk):
                try:
                    if isinstance(case, CaseValidationError):
                        raise case
                    results.append(findings(parse_case(case), compiled_pack))
                except CaseValidationError as error:
                    if not collect:
                        raise _located(error, position) from None
                    results.append({"problems": [vars(p) for p in error.problems]})
            return results

        # One hand-over to the engine thread for the whole chunk, not one per case:
        # a Ctrl-C reaches the worker too, and must not stop a session half-way.
        return run(chunk_findings)
    finally:
        gc.enable()


def _sendable(case: CaseInput) -> str | bytes | CaseValidationError:
    # An input that has no JSON travels as its error, so that errors still
    # surface in input order, from the worker, like every other invalid case.
    try:
        return case_json(case)
    except CaseValidationError as error:
        if not isinstance(case, Mapping):
            return error
    # A mapping holding values JSON has no form for (a set, say) is validated here,
    # so that it gets what assess() gives it: a case, or problems at their fields.
    try:
        return case_json(parse_case(case))
    except CaseValidationError as error:
        return error


def _batches(items: Iterable[CaseInput], size: int) -> Iterator[list[CaseInput]]:
    batch: list[CaseInput] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _progress(results: Iterator[T], total: int | None) -> Iterator[T]:
    try:
        from tqdm.auto import tqdm
    except ImportError:
        raise ImportError("progress=True needs tqdm: pip install 'stalkrisk[batch]'") from None
    return iter(tqdm(results, total=total, unit="case"))


def _check_options(workers: int | None, chunk_size: int | None, errors: str) -> None:
    if workers is not None and workers < 1:
        raise ValueError(f"workers={workers!r} must be at least 1 (or None for every core)")
    if chunk_size is not None and chunk_size < 1:
        raise ValueError(f"chunk_size={chunk_size!r} must be at least 1")
    if errors not in ("raise", "collect"):
        raise ValueError(f"errors={errors!r} must be 'raise' or 'collect'")


@overload
def assess_iter(
    cases: Iterable[CaseInput],
    *,
    workers: int | None = ...,
    rule_pack: RulePack | None = ...,
    chunk_size: int | None = ...,
    in_flight: int | None = ...,
    errors: Literal["raise"] = ...,
) -> Iterator[Assessment]: ...


@overload
def assess_iter(
    cases: Iterable[CaseInput],
    *,
    workers: int | None = ...,
    rule_pack: RulePack | None = ...,
    chunk_size: int | None = ...,
    in_flight: int | None = ...,
    errors: Literal["collect"],
) -> Iterator[Assessment | CaseError]: ...


def assess_iter(
    cases: Iterable[CaseInput],
    *,
    workers: int | None = None,
    rule_pack: RulePack | None = None,
    chunk_size: int | None = None,
    in_flight: int | None = None,
    errors: Errors = "raise",
) -> Iterator[Assessment] | Iterator[Assessment | CaseError]:
    """Assess every case, lazily and in order, across ``workers`` processes.

    The input is read as results are taken: at most ``in_flight`` chunks of
    ``chunk_size`` cases (default 64) are read ahead of the result being
    yielded (default: two per worker), so memory stays bounded however long
    the input.  ``workers=None`` uses every core; ``workers=1`` assesses in
    this process, one case at a time.

    ``errors="raise"`` (the default) raises the first invalid case's
    :class:`CaseValidationError`, whose ``index`` (and message) gives the
    case's position in the input; ``errors="collect"`` yields a
    :class:`CaseError` in its place and goes on.  Options are checked when the
    iterator is made, before any case is read.
    """
    _check_options(workers, chunk_size, errors)
    if in_flight is not None and in_flight < 1:
        raise ValueError(f"in_flight={in_flight!r} must be at least 1")
    count = workers or os.cpu_count() or 1
    collect = errors == "collect"
    if count == 1:
        return _in_process(cases, rule_pack, collect)
    size = chunk_size or _STREAM_CHUNK
    return _streamed(count, _batches(cases, size), rule_pack, in_flight or 2 * count, collect)


def _in_process(
    cases: Iterable[CaseInput], rule_pack: RulePack | None, collect: bool
) -> Iterator[Assessment | CaseError]:
    for index, case in enumerate(cases):
        try:
            yield assess(case, rule_pack=rule_pack)
        except CaseValidationError as error:
            if not collect:
                raise _located(error, index) from None
            yield CaseError(index=index, problems=error.problems)


def _streamed(
    count: int,
    batches: Iterator[list[CaseInput]],
    rule_pack: RulePack | None,
    in_flight: int,
    collect: bool,
) -> Iterator[Assessment | CaseError]:
    compiled_pack = compiled(rule_pack or default_rule_pack())
    # Paused only while this process builds a chunk's results (see assess_many):
    # never across a yield, where the caller's own code runs.
    for start, found in _in_pool(count, batches, compiled_pack, in_flight, collect):

        def build(start: int = start, found: list[Any] = found) -> list[Assessment | CaseError]:
            return [
                CaseError(index=start + position,
                          problems=tuple(Problem(**p) for p in item["problems"]))
                if "problems" in item
                else assessment(compiled_pack, item)
                for position, item in enumerate(found)
            ]  # fmt: skip

        # Shielded: pydantic would turn an interrupt raised while it validates
        # (it calls the enums' Python code) into its own error.
        with collector_paused():
            results = shielded(build)
        yield from results


@overload
def assess_many(
    cases: Iterable[CaseInput],
    *,
    workers: int | None = ...,
    rule_pack: RulePack | None = ...,
    chunk_size: int | None = ...,
    progress: bool = ...,
    errors: Literal["raise"] = ...,
) -> list[Assessment]: ...


@overload
def assess_many(
    cases: Iterable[CaseInput],
    *,
    workers: int | None = ...,
    rule_pack: RulePack | None = ...,
    chunk_size: int | None = ...,
    progress: bool = ...,
    errors: Literal["collect"],
) -> list[Assessment | CaseError]: ...


def assess_many(
    cases: Iterable[CaseInput],
    *,
    workers: int | None = None,
    rule_pack: RulePack | None = None,
    chunk_size: int | None = None,
    progress: bool = False,
    errors: Errors = "raise",
) -> list[Assessment] | list[Assessment | CaseError]:
    """Assess every case, in order, across ``workers`` processes: ``list(assess_iter(...))``.

    ``workers=None`` uses every core; ``workers=1`` assesses in this process
    without a pool.  ``chunk_size`` cases travel to a worker together (by
    default about four chunks per worker, at most 1,000 cases, for an input of
    known length).  ``progress=True`` shows a tqdm bar.  ``errors`` is as in
    :func:`assess_iter`.  If a worker process dies, the call raises
    ``BrokenProcessPool`` and the next call starts fresh workers.

    With a pool, this process's cyclic garbage collector is paused while the
    results are built and restored to its previous state afterwards.
    """
    _check_options(workers, chunk_size, errors)
    count = workers or os.cpu_count() or 1
    total = len(cases) if isinstance(cases, Sequence) else None
    size = chunk_size or (min(_MAX_CHUNK, max(1, total // (count * 4))) if total else 64)
    # Every chunk may be in flight at once: the whole result is kept anyway.
    flat = assess_iter(
        cases,
        workers=workers,
        rule_pack=rule_pack,
        chunk_size=size,
        in_flight=None if total is None else max(1, -(-total // size)),
        errors=errors,
    )
    with collector_paused() if count > 1 else contextlib.nullcontext():
        return list(_progress(flat, total) if progress else flat)


def _in_pool(
    count: int,
    batches: Iterator[list[CaseInput]],
    compiled_pack: CompiledPack,
    in_flight: int,
    collect: bool,
) -> Iterator[tuple[int, list[Any]]]:
    """Each chunk's findings with the input position of its first case, in order.

    At most ``in_flight`` chunks are submitted and not yet taken.  The caller's
    iterable is read in the caller's thread.  Everything else runs on the engine
    thread (``shielded``): encoding ``Case`` models, where pydantic would turn an
    interrupt into its own error, and every call into the pool, whose locks an
    interrupt landing just after an acquire would leave held, sticking the kept
    pool for good.  An interrupt while waiting is raised unchanged once the wait
    stops (within 0.1 s); leaving early in any way cancels the chunks not yet
    started.  (The engine thread is free for this: its only other client, the
    main thread, is busy here; other threads run engine work in place.)
    """
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    pool = shielded(lambda: _pool(count))
    pending: deque[tuple[int, Future[_Found]]] = deque()
    cancelled = [False]

    def submitter(batch: list[CaseInput]) -> Callable[[], Future[_Found]]:
        def submit() -> Future[_Found]:
            chunk = [_sendable(item) for item in batch]
            return pool.submit(_assess_chunk, chunk, compiled_pack.pack, collect)

        return submit

    def waiter(future: Future[_Found]) -> Callable[[], _Found | None]:
        def wait() -> _Found | None:
            # A short wait, so that an interrupted call stops within 0.1 s.
            while not cancelled[0]:
                with contextlib.suppress(TimeoutError):
                    return future.result(timeout=0.1)
            return None

        return wait

    def cancel() -> None:
        cancelled[0] = True  # a plain flag: the main thread takes no lock here

    def cancel_rest() -> None:
        for _, future in pending:
            future.cancel()

    read = 0
    try:
        exhausted = False
        while True:
            while not exhausted and len(pending) < in_flight:
                batch = next(batches, None)
                if batch is None:
                    exhausted = True
                else:
                    pending.append((read, shielded(submitter(batch))))
                    read += len(batch)
            if not pending:
                return
            start, future = pending[0]
            try:
                found = shielded(waiter(future), on_interrupt=cancel)
            except CaseValidationError as error:
                raise _located(error, start + (error.index or 0)) from None
            pending.popleft()
            if found is None:
                return
            yield start, found
    except BrokenProcessPool:
        shielded(lambda: _discard(count, pool))
        raise
    finally:
        # Leaving early (an invalid case, an interrupt, the caller stopping) cancels
        # the chunks not yet started.
        shielded(cancel_rest)


def summary(assessments: Iterable[Assessment | CaseError]) -> pandas.DataFrame:
    """One row per assessment: grade, urgency, elements, threshold figures, rule count.

    A :class:`CaseError` (from ``errors="collect"``) is a row too, in its place,
    with ``error`` giving its index in the input and each problem's path and
    type code (``"index 7: assessed_at [missing]"``) and every other column
    empty; a valid case's ``error`` is empty.  Needs pandas
    (``pip install 'stalkrisk[batch]'``).
    """
    try:
        import pandas
    except ImportError:
        raise ImportError("summary() needs pandas: pip install 'stalkrisk[batch]'") from None
    rows = [_row(a) if isinstance(a, Assessment) else _error_row(a) for a in assessments]
    return pandas.DataFrame(rows, columns=_COLUMNS)


_COLUMNS = (
    "ref", "level", "level_rank", "urgent", "picture", "pattern", "threat", "fear",
    "threshold_met", "distinct_behaviours", "span_days", "rules_fired", "rule_ids", "assessed_at",
    "rule_pack_sha256", "error",
)  # fmt: skip


def _row(a: Assessment) -> dict[str, Any]:
    return {
        "ref": a.ref,
        "level": a.level.value,
        "level_rank": a.level.rank,
        "urgent": a.urgent,
        "picture": a.picture,
        "pattern": a.elements.pattern.present,
        "threat": a.elements.threat.present,
        "fear": a.elements.fear.present,
        "threshold_met": a.threshold.met,
        "distinct_behaviours": a.threshold.distinct_behaviours,
        "span_days": a.threshold.span_days,
        "rules_fired": len(a.rules_fired),
        "rule_ids": " ".join(r.id for r in a.rules_fired),
        "assessed_at": a.assessed_at,
        "rule_pack_sha256": a.rule_pack.sha256,
        "error": None,
    }


def _error_row(error: CaseError) -> dict[str, Any]:
    # The index, paths and type codes only: a problem's location never holds case text.
    problems = "; ".join(f"{p.loc or '(root)'} [{p.type}]" for p in error.problems)
    return {"error": f"index {error.index}: {problems}"}
