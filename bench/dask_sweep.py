"""Throughput of a seeded sweep on a local Dask cluster: cases generated and assessed per second.

Run by hand:  .venv/bin/python bench/dask_sweep.py [--cases 200000] [--workers 2] [--partitions 40]

Starts a ``distributed.LocalCluster`` of ``--workers`` processes with one thread
each, warms every worker up (imports, compiling the rule pack), then times
``stalkrisk.dask.generate_and_assess`` writing one Parquet file per partition
to a temporary directory, the 10-million-case recipe of docs/dask.md at a
smaller size.  For scale it first times the same work in this one process
(Dask's synchronous scheduler, no cluster).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import dask
import pandas
from distributed import Client, LocalCluster

import stalkrisk
from stalkrisk.dask import generate_and_assess


def in_process(count: int, seed: int) -> float:
    """Cases per second for the same code in this one process (Dask's synchronous scheduler)."""
    generate_and_assess(100, seed=seed + 1, partitions=1).compute(scheduler="sync")  # type: ignore[no-untyped-call]  # untyped
    start = time.perf_counter()
    generate_and_assess(count, seed=seed, partitions=1).compute(scheduler="sync")  # type: ignore[no-untyped-call]  # untyped
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--partitions", type=int, default=40)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--serial", type=int, default=5_000, help="cases for the 1-process figure")
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}  stalkrisk {stalkrisk.__version__}")

    serial = in_process(args.serial, args.seed)
    print(f"one process: {serial:,.0f} cases/s ({args.serial:,} cases, no cluster)")

    # distributed starts workers with MALLOC_TRIM_THRESHOLD_=65536, which makes glibc
    # return memory at once and costs a third of the throughput here; None unsets it.
    trim = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
    with (
        dask.config.set({trim: None}),
        LocalCluster(  # type: ignore[no-untyped-call]  # untyped
            n_workers=args.workers, processes=True, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        Client(cluster),  # type: ignore[no-untyped-call]  # untyped
        tempfile.TemporaryDirectory() as folder,
    ):
        start = time.perf_counter()
        generate_and_assess(
            100 * args.workers, seed=args.seed + 1, partitions=args.workers, path=Path(folder) / "w"
        )
        print(f"warm-up: {time.perf_counter() - start:.1f} s")

        path = Path(folder) / "sweep"
        start = time.perf_counter()
        generate_and_assess(args.cases, seed=args.seed, partitions=args.partitions, path=path)
        elapsed = time.perf_counter() - start
        files = sorted(path.glob("*.parquet"))
        rows = len(pandas.read_parquet(path, columns=["level"]))
        assert rows == args.cases, (rows, args.cases)
        size = sum(f.stat().st_size for f in files)
        print(
            f"dask, {args.workers} worker processes: {args.cases:,} cases in {elapsed:.1f} s = "
            f"{args.cases / elapsed:,.0f} cases/s "
            f"({len(files)} Parquet files, {size / 1e6:.1f} MB; "
            f"{args.cases / elapsed / serial:.2f}× one process)"
        )


if __name__ == "__main__":
    main()
