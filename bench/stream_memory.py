"""Streaming a million cases into summary rows in bounded memory (issue #16).

Run by hand (not a test):  .venv/bin/python bench/stream_memory.py [--cases N] [--workers W]

Generates 20-contact former-client cases lazily (each JSON text made when the
stream asks for it), assesses them with ``stalkrisk.assess_iter`` on ``W``
worker processes, and appends their summary rows to a CSV file 1,000 at a
time.  Prints the throughput and this process's peak resident memory (the
workers' peaks too), which must stay under 500 MB for 1,000,000 cases.
"""

from __future__ import annotations

import argparse
import itertools
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from full_path import case_text

import stalkrisk
from stalkrisk import batch


def texts(count: int) -> Iterator[str]:
    for number in range(count):
        yield case_text(20, seed=number)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    folder = tempfile.TemporaryDirectory()
    out = Path(folder.name) / "summary.csv"
    started = time.perf_counter()
    stream = stalkrisk.assess_iter(texts(args.cases), workers=args.workers)
    rows = 0
    while chunk := list(itertools.islice(stream, 1_000)):
        frame = batch.summary(chunk)
        frame.to_csv(out, mode="a", header=rows == 0, index=False)
        rows += len(frame)
    seconds = time.perf_counter() - started
    batch.stop_workers()  # a worker's peak is counted once it has ended
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    batch.stop_workers()  # a child's peak is counted once it has ended
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"stalkrisk {stalkrisk.__version__}, Python {sys.version.split()[0]}")
    print(f"{rows:,} rows in {seconds:,.0f} s: {rows / seconds:,.0f} cases/s, "
          f"CSV {out.stat().st_size / 1e6:,.0f} MB")  # fmt: skip
    print(f"peak RSS: this process {own:,.0f} MB, largest worker {workers:,.0f} MB")
    folder.cleanup()


if __name__ == "__main__":
    main()
