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
raises its :class:`CaseValidationError` in the caller.

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
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ._api import assess
from ._assessment import Assessment
from ._case import Case, case_json, parse_case
from ._collector import collector_paused
from ._compiled import CompiledPack
from ._engine import run
from ._evaluate import Findings, assessment, findings
from ._exceptions import CaseValidationError
from ._packmodel import RulePack
from ._registry import compiled, default_rule_pack
from ._shield import shielded

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    import pandas

__all__ = ["assess_many", "stop_workers", "summary"]

CaseInput = Case | Mapping[str, Any] | str | bytes
_MAX_CHUNK = 1_000

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


def _assess_chunk(chunk: list[str | bytes | CaseValidationError], pack: RulePack) -> str:
    """In a worker: the JSON array of the findings for every case of the chunk."""
    # The worker process runs nothing but this, and a chunk makes no reference
    # cycles worth collecting: pausing the cyclic collector spares it from
    # re-scanning the chunk's objects on every allocation burst.
    gc.disable()
    try:
        # The caller's pack object: a worker registers it (engine ruleset and safety
        # floors) once, and never parses the pack file itself.
        compiled_pack = compiled(pack)

        def chunk_findings() -> list[Findings]:
            results = []
            for case in chunk:
                if isinstance(case, CaseValidationError):
                    raise case
                results.append(findings(parse_case(case), compiled_pack))
            return results

        # One hand-over to the engine thread for the whole chunk, not one per case:
        # a Ctrl-C reaches the worker too, and must not stop a session half-way.
        return json.dumps(run(chunk_findings), default=_isoformat)
    finally:
        gc.enable()


def _isoformat(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot send a {type(value).__name__} to the caller")


def _sendable(case: CaseInput) -> str | bytes | CaseValidationError:
    # An input that has no JSON travels as its error, so that errors still
    # surface in input order, from the worker, like every other invalid case.
    try:
        return case_json(case)
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


def _progress(results: Iterator[Assessment], total: int | None) -> Iterator[Assessment]:
    try:
        from tqdm.auto import tqdm
    except ImportError:
        raise ImportError("progress=True needs tqdm: pip install 'stalkrisk[batch]'") from None
    return iter(tqdm(results, total=total, unit="case"))


def assess_many(
    cases: Iterable[CaseInput],
    *,
    workers: int | None = None,
    rule_pack: RulePack | None = None,
    chunk_size: int | None = None,
    progress: bool = False,
) -> list[Assessment]:
    """Assess every case, in order, across ``workers`` processes.

    ``workers=None`` uses every core; ``workers=1`` assesses in this process
    without a pool.  ``chunk_size`` cases travel to a worker together (by
    default about four chunks per worker, at most 1,000 cases).
    ``progress=True`` shows a tqdm bar.  If a worker process dies, the call
    raises ``BrokenProcessPool`` and the next call starts fresh workers.

    With a pool, this process's cyclic garbage collector is paused while the
    results are built and restored to its previous state afterwards.
    """
    if workers is not None and workers < 1:
        raise ValueError(f"workers={workers!r} must be at least 1 (or None for every core)")
    if chunk_size is not None and chunk_size < 1:
        raise ValueError(f"chunk_size={chunk_size!r} must be at least 1")
    count = workers or os.cpu_count() or 1
    total = len(cases) if isinstance(cases, Sequence) else None
    size = chunk_size or (min(_MAX_CHUNK, max(1, total // (count * 4))) if total else 64)

    if count == 1:
        flat: Iterator[Assessment] = (assess(case, rule_pack=rule_pack) for case in cases)
        return list(_progress(flat, total) if progress else flat)

    compiled_pack = compiled(rule_pack or default_rule_pack())
    with collector_paused():
        return _in_pool(count, _batches(cases, size), compiled_pack, total, progress)


def _in_pool(
    count: int,
    batches: Iterator[list[CaseInput]],
    compiled_pack: CompiledPack,
    total: int | None,
    progress: bool,
) -> list[Assessment]:
    """Send each chunk to the pool as it is read, then wait for the results.

    The caller's iterable is read in the caller's thread.  Everything else runs
    on the engine thread (``shielded``): encoding ``Case`` models, where pydantic
    would turn an interrupt into its own error, and every call into the pool,
    whose locks an interrupt landing just after an acquire would leave held,
    sticking the kept pool for good.  An interrupt cancels the chunks not yet
    started and is then raised unchanged.  (The engine thread is free for this:
    its only other client, the main thread, is busy here; other threads run
    engine work in place.)
    """
    from concurrent.futures import Future
    from concurrent.futures.process import BrokenProcessPool

    pool = shielded(lambda: _pool(count))
    futures: list[Future[str]] = []
    cancelled = [False]

    def submitter(batch: list[CaseInput]) -> Callable[[], None]:
        def submit() -> None:
            chunk = [_sendable(item) for item in batch]
            futures.append(pool.submit(_assess_chunk, chunk, compiled_pack.pack))

        return submit

    def collect() -> list[Assessment]:
        def texts() -> Iterator[str]:
            for future in futures:
                # A short wait, so that a cancelled call stops within 0.1 s.
                while not cancelled[0]:
                    with contextlib.suppress(TimeoutError):
                        yield future.result(timeout=0.1)
                        break
                if cancelled[0]:
                    return

        flat = (assessment(compiled_pack, found) for text in texts() for found in json.loads(text))
        return list(_progress(flat, total) if progress else flat)

    def cancel() -> None:
        cancelled[0] = True  # a plain flag: the main thread takes no lock here

    def cancel_rest() -> None:
        for future in futures:
            future.cancel()

    try:
        for batch in batches:
            shielded(submitter(batch))
        return shielded(collect, on_interrupt=cancel)
    except BrokenProcessPool:
        shielded(lambda: _discard(count, pool))
        raise
    finally:
        # Leaving early (an invalid case, an interrupt) cancels the chunks not yet started.
        shielded(cancel_rest)


def summary(assessments: Iterable[Assessment]) -> pandas.DataFrame:
    """One row per assessment: grade, urgency, elements, threshold figures, rule count.

    Needs pandas (``pip install 'stalkrisk[batch]'``).
    """
    try:
        import pandas
    except ImportError:
        raise ImportError("summary() needs pandas: pip install 'stalkrisk[batch]'") from None
    rows = [
        {
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
        }
        for a in assessments
    ]
    return pandas.DataFrame(rows)
