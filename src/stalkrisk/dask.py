"""Assess cases on a Dask cluster into a Dask DataFrame of summary rows.

Needs the ``dask`` extra (``pip install "stalkrisk[dask]"``); ``import stalkrisk``
never imports Dask, only ``import stalkrisk.dask`` does.

* :func:`assess_summary` grades a Dask bag of case JSON texts, or a Dask
  DataFrame with a column of them, into one row per case: the columns of
  :func:`stalkrisk.batch.summary` (see :func:`summary_meta`).
* :func:`generate_and_assess` runs a sweep of seeded cases that are generated
  inside the workers, so that no case travels over the network, and writes one
  Parquet file per partition when given a ``path``.
* :func:`seeded_case` is the generator behind it: case ``number`` of ``seed``.

Each partition is assessed in its worker's process with :func:`stalkrisk.assess`.
The rule pack goes into the task graph once, as one key named by its sha256
that every task depends on, so it reaches each worker once: a
:class:`stalkrisk.RulePack` is plain frozen data and pickles whole (about 80 kB
for the bundled pack).  A worker compiles it on first use and keeps it (the
registry is keyed by the pack's sha256); no pack file is needed on the workers.
Without ``rule_pack`` the caller's bundled pack is sent, so every row comes from
the same pack even on workers with another stalkrisk installed; the
``rule_pack_sha256`` column says which pack graded each row.

The engine takes one lock per process, so a worker runs one assessment at a
time: start workers with one thread each and scale with processes (see
docs/dask.md).
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from importlib import import_module
from itertools import pairwise
from typing import TYPE_CHECKING, Any, overload

try:
    import dask.bag
    import dask.dataframe
    import pandas
    from dask.delayed import delayed

    import_module("pyarrow")  # the text columns and the Parquet files need it
except ImportError as error:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        f"stalkrisk.dask needs Dask, distributed, pyarrow and pandas ({error.name} is missing): "
        'pip install "stalkrisk[dask]"'
    ) from error

from ._api import assess
from ._case import Behaviour, FearLevel, Relationship
from ._collector import collector_paused
from ._packmodel import RulePack
from ._registry import default_rule_pack
from .batch import summary

if TYPE_CHECKING:
    from dask.bag import Bag
    from dask.dataframe import DataFrame
    from dask.delayed import Delayed

__all__ = ["assess_summary", "generate_and_assess", "seeded_case", "summary_meta"]

# The columns of batch.summary(), in its order, with two dtypes changed so that
# every partition has the same ones: assessed_at in UTC (summary() keeps each
# case's own offset, a dtype that differs between partitions, or `object` for
# mixed offsets), and text as Dask's own "string[pyarrow]" (Dask converts text
# columns to it anyway, by default; summary() has pandas' default string dtype).
_DTYPES: dict[str, str] = {
    "ref": "string[pyarrow]",
    "level": "string[pyarrow]",
    "level_rank": "int64",
    "urgent": "bool",
    "picture": "string[pyarrow]",
    "pattern": "bool",
    "threat": "bool",
    "fear": "bool",
    "threshold_met": "bool",
    "distinct_behaviours": "int64",
    "span_days": "float64",
    "rules_fired": "int64",
    "rule_ids": "string[pyarrow]",
    "assessed_at": "datetime64[us, UTC]",
    "rule_pack_sha256": "string[pyarrow]",
    "error": "string[pyarrow]",  # always empty: an invalid case raises on the worker
}


def summary_meta() -> pandas.DataFrame:
    """An empty frame with the columns and dtypes of every summary partition.

    The columns of :func:`stalkrisk.batch.summary`, in its order and with its
    dtypes except two, so that every partition has the same dtypes whatever the
    cases: ``assessed_at`` is converted to UTC (the same instant;
    ``datetime64[us, UTC]``), and the text columns are ``string[pyarrow]``,
    the dtype Dask gives text columns by default.  So
    ``batch.summary(...).astype(summary_meta().dtypes.to_dict())`` gives the
    rows a Dask result has.
    """
    return pandas.DataFrame({name: pandas.Series(dtype=dtype) for name, dtype in _DTYPES.items()})


def _rows(
    texts: Iterable[str | bytes], pack: RulePack, index: pandas.Index | None
) -> pandas.DataFrame:
    """One partition: every case assessed in this process, as summary rows.

    As in ``assess_many``, the cyclic collector is paused while the acyclic
    assessments are built: 40 % more cases per second on the 2-core machine.
    """
    with collector_paused():
        frame = summary([assess(text, rule_pack=pack) for text in texts])
    if frame.empty:
        frame = summary_meta()
    else:
        frame["assessed_at"] = pandas.to_datetime(frame["assessed_at"], utc=True)
        frame = frame.astype(_DTYPES)
    if index is not None:
        frame.index = index
    return frame


def _shared(pack: RulePack) -> Delayed:
    """The pack as one key of the task graph, named by its content hash.

    Every task depends on that key, so the pack (about 80 kB pickled for the
    bundled one) travels to each worker once, not once per task.  Not traversed:
    it is one opaque value, as it is to pickle.
    """
    shared: Delayed = delayed(pack, name=f"stalkrisk-rule-pack-{pack.sha256}", traverse=False)
    return shared


def _bag_partition(texts: Sequence[str | bytes], pack: RulePack) -> pandas.DataFrame:
    return _rows(texts, pack, None)


def _column_partition(texts: pandas.Series, pack: RulePack) -> pandas.DataFrame:
    return _rows(texts.tolist(), pack, texts.index)


def assess_summary(
    cases: Bag | DataFrame, *, column: str = "case", rule_pack: RulePack | None = None
) -> DataFrame:
    """Assess every case of ``cases`` on the cluster: one summary row per case.

    ``cases`` is a Dask bag of case JSON texts (``str`` or ``bytes``), or a Dask
    DataFrame whose ``column`` holds them.  The result is lazy (call
    ``.compute()``, ``.to_parquet(...)``, …) and has the columns of
    :func:`stalkrisk.batch.summary` (see :func:`summary_meta`) with one
    partition per input partition.  From a DataFrame the rows keep the input's
    index; from a bag each partition's index counts from 0, as
    ``batch.summary`` of that partition would.

    The first invalid case fails its partition's task with its
    :class:`stalkrisk.CaseValidationError`, which ``compute()`` raises.
    """
    pack = _shared(rule_pack or default_rule_pack())
    meta = summary_meta()
    if isinstance(cases, dask.bag.Bag):
        assess_part = delayed(_bag_partition, pure=True)
        parts = [assess_part(part, pack) for part in cases.to_delayed()]  # type: ignore[no-untyped-call]
        rows: DataFrame = dask.dataframe.from_delayed(parts, meta=meta, verify_meta=False)
        return rows
    if isinstance(cases, dask.dataframe.DataFrame):
        if column not in cases.columns:
            raise ValueError(f"column={column!r} is not a column of the DataFrame")
        mapped: DataFrame = cases[column].map_partitions(_column_partition, pack, meta=meta)
        return mapped
    raise TypeError(f"cases must be a dask Bag or a dask DataFrame, not {type(cases).__name__}")


# --- seeded sweeps ------------------------------------------------------------------

_ESCALATIONS = (Behaviour.THREAT, Behaviour.PROPERTY_DAMAGE, Behaviour.PHYSICAL_VIOLENCE)
_OTHERS = tuple(code for code in Behaviour if code not in _ESCALATIONS)
_FEAR_LEVELS = tuple(FearLevel)
_SEEDED_AT = datetime(2025, 6, 30, 12, 0, tzinfo=UTC)
_SECONDS_PER_DAY = 86_400
_ESCALATION_SHARE = 0.05


def seeded_case(seed: int, number: int) -> dict[str, Any]:
    """Case ``number`` of the sweep ``seed``, as a valid case JSON mapping.

    The case depends only on ``seed`` and ``number`` (not on partitions, workers
    or Python's hash seed): it is drawn from ``random.Random(f"stalkrisk:{seed}:{number}")``
    using ``random()`` alone, whose sequence Python keeps the same across
    versions.  It has:

    * a former or current client (one in two);
    * 1 to 30 contacts, mostly few (``1 + int(30 * u**2)`` for a uniform
      ``u``: half the cases have at most 8), the first and last 1 to 400 days
      apart (one contact has no span), the last 0 to 30 days before
      ``assessed_at``, which is 2025-06-30T12:00Z minus 0 to 364 days, all in UTC;
    * one or two behaviour codes per contact, drawn from every
      :class:`stalkrisk.Behaviour`; one draw in twenty is an escalation
      (``threat``, ``property_damage``, ``physical_violence``), the others are
      evenly spread over the other thirteen codes; a contact with ``threat``
      names a specific threat one time in three;
    * a fear report one time in two, its level drawn from every
      :class:`stalkrisk.FearLevel`, with the family afraid one time in four.

    With the bundled pack 1,000 such cases (seed 0) grade police 454,
    consultation 316, boundaries 129, referral 94 and reflective 7.
    """
    if number < 0:
        raise ValueError(f"number={number!r} must be at least 0")
    draw = random.Random(f"stalkrisk:{seed}:{number}").random

    def below(count: int) -> int:
        return int(draw() * count)

    def behaviour() -> Behaviour:
        codes = _ESCALATIONS if draw() < _ESCALATION_SHARE else _OTHERS
        return codes[below(len(codes))]

    assessed_at = _SEEDED_AT - timedelta(days=below(365))
    last = assessed_at - timedelta(seconds=below(30 * _SECONDS_PER_DAY + 1))
    count = 1 + int(30 * draw() ** 2)  # 1 to 30, mostly few
    span = (1 + below(400)) * _SECONDS_PER_DAY if count > 1 else 0
    # The first contact starts the span and the last ends it; the others fall between.
    offsets = sorted([0, span, *(below(span + 1) for _ in range(count - 2))][:count])
    contacts = []
    for position, offset in enumerate(offsets, start=1):
        first = behaviour()
        codes = [first]
        if draw() < 0.5:
            second = behaviour()
            if second is not first:
                codes.append(second)
        at = last - timedelta(seconds=span - offset)
        contact: dict[str, Any] = {
            "id": f"c{position}",
            "at": at.isoformat(),
            "behaviours": [code.value for code in codes],
        }
        if Behaviour.THREAT in codes and draw() < 1 / 3:
            contact["specific_threat"] = True
        contacts.append(contact)
    relationship = Relationship.FORMER if draw() < 0.5 else Relationship.CURRENT
    case: dict[str, Any] = {
        "assessed_at": assessed_at.isoformat(),
        "client": {"relationship": relationship.value},
        "contacts": contacts,
    }
    if draw() < 0.5:
        level = _FEAR_LEVELS[below(len(_FEAR_LEVELS))]
        case["fear"] = {"level": level.value, "family_afraid": draw() < 0.25}
    return case


def _seeded_partition(numbers: range, seed: int, pack: RulePack) -> pandas.DataFrame:
    """In a worker: generate cases ``numbers`` of ``seed`` and assess them."""
    texts = (json.dumps(seeded_case(seed, number)) for number in numbers)
    return _rows(texts, pack, pandas.RangeIndex(numbers.start, numbers.stop, name="case"))


@overload
def generate_and_assess(
    n_cases: int,
    *,
    seed: int,
    partitions: int,
    rule_pack: RulePack | None = None,
    path: None = None,
) -> DataFrame: ...


@overload
def generate_and_assess(
    n_cases: int,
    *,
    seed: int,
    partitions: int,
    rule_pack: RulePack | None = None,
    path: str | os.PathLike[str],
) -> None: ...


def generate_and_assess(
    n_cases: int,
    *,
    seed: int,
    partitions: int,
    rule_pack: RulePack | None = None,
    path: str | os.PathLike[str] | None = None,
) -> DataFrame | None:
    """Generate ``n_cases`` seeded cases in the workers and assess them there.

    Partition ``i`` generates and assesses a run of consecutive case numbers
    (:func:`seeded_case` of ``seed``), so only the seed, the range and the
    rule pack travel to the workers, and only summary rows come back.  The rows
    are indexed by case number (index name ``case``, divisions known), so the
    computed frame, in order, equals ``batch.summary`` of the same cases
    assessed one by one (with ``assessed_at`` in UTC, see :func:`summary_meta`).
    The same seed gives the same rows for any number of partitions.

    Without ``path`` this returns the lazy Dask DataFrame.  With ``path`` (a
    directory, local or any fsspec URL Dask can write) it writes one Parquet
    file per partition (``part.0.parquet``, …), with the index, computes on the
    current scheduler (a ``distributed.Client`` if one is active) and returns
    ``None``; read the result back with ``pandas.read_parquet(path)`` or
    ``dask.dataframe.read_parquet(path)``.
    """
    if n_cases < 1:
        raise ValueError(f"n_cases={n_cases!r} must be at least 1")
    if not 1 <= partitions <= n_cases:
        raise ValueError(f"partitions={partitions!r} must be from 1 to n_cases={n_cases!r}")
    pack = _shared(rule_pack or default_rule_pack())
    size, extra = divmod(n_cases, partitions)
    starts = [i * size + min(i, extra) for i in range(partitions + 1)]
    assess_part = delayed(_seeded_partition, pure=True)
    parts = [assess_part(range(a, b), seed, pack) for a, b in pairwise(starts)]
    frame: DataFrame = dask.dataframe.from_delayed(
        parts,
        meta=summary_meta().rename_axis("case"),
        divisions=(*starts[:-1], n_cases - 1),
        prefix="stalkrisk-seeded",
        verify_meta=False,
    )
    if path is None:
        return frame
    frame.to_parquet(path, write_index=True)  # type: ignore[no-untyped-call]
    return None
