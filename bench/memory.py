"""Resident memory over many consecutive assessments (engine sessions really deleted).

Run by hand:  .venv/bin/python bench/memory.py [--count 100000]
Prints resident memory every tenth of the run and the growth after warm-up;
the target is less than 20 MB over 100,000 assessments.
"""

from __future__ import annotations

import argparse
import gc
import resource

import stalkrisk
from stalkrisk import vignettes


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args()
    cases = [vignettes.load(name).case for name in vignettes.names()]
    for case in cases * 20:
        stalkrisk.assess(case)
    gc.collect()
    start = rss_mb()
    print(f"after warm-up: {start:.1f} MB")
    step = max(args.count // 10, 1)
    for index in range(args.count):
        stalkrisk.assess(cases[index % len(cases)])
        if (index + 1) % step == 0:
            print(f"{index + 1:>8,} assessments: {rss_mb():.1f} MB")
    gc.collect()
    print(f"growth over {args.count:,} assessments: {rss_mb() - start:+.1f} MB (target < 20 MB)")


if __name__ == "__main__":
    main()
