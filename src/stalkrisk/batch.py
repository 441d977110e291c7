"""Assess many cases at once, in parallel processes, and summarise them as a table.

    >>> import stalkrisk
    >>> from stalkrisk import vignettes
    >>> cases = [vignettes.load(name).case for name in vignettes.names()]
    >>> results = stalkrisk.assess_many(cases, workers=2)
    >>> [r.level.value for r in results][:3]
    ['police', 'referral', 'consultation']

Each worker is a fresh process (the ``spawn`` start method), so nothing of the
caller's engine state is shared or forked.  Results come back in input order.
The first invalid case raises its :class:`CaseValidationError` in the caller.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ._api import assess
from ._assessment import Assessment
from ._case import Case
from ._rulepack import RulePack

if TYPE_CHECKING:
    import pandas

__all__ = ["assess_many", "summary"]

CaseInput = Case | Mapping[str, Any] | str | bytes


def _assess_chunk(chunk: list[CaseInput], pack: RulePack | None) -> list[Assessment]:
    return [assess(case, rule_pack=pack) for case in chunk]


def _chunks(items: Iterable[CaseInput], size: int) -> Iterator[list[CaseInput]]:
    chunk: list[CaseInput] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


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
    default about four chunks per worker).  ``progress=True`` shows a tqdm bar.
    """
    if workers is not None and workers < 1:
        raise ValueError(f"workers={workers!r} must be at least 1 (or None for every core)")
    if chunk_size is not None and chunk_size < 1:
        raise ValueError(f"chunk_size={chunk_size!r} must be at least 1")
    count = workers or os.cpu_count() or 1
    total = len(cases) if isinstance(cases, Sequence) else None
    size = chunk_size or (max(1, total // (count * 4)) if total else 64)

    if count == 1:
        flat: Iterator[Assessment] = (assess(case, rule_pack=rule_pack) for case in cases)
        return list(_progress(flat, total) if progress else flat)

    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    with ProcessPoolExecutor(max_workers=count, mp_context=get_context("spawn")) as pool:
        chunked = pool.map(_assess_chunk, _chunks(cases, size), _repeat(rule_pack))
        flat = (result for chunk in chunked for result in chunk)
        return list(_progress(flat, total) if progress else flat)


def _repeat(value: RulePack | None) -> Iterator[RulePack | None]:
    while True:
        yield value


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
