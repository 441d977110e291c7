"""The adversarial differential fuzz at full size: library against reference, 50,000 cases.

    .venv/bin/python bench/fuzz_differential.py [--cases 50000] [--seed N] [--no-shrink]

The generator and the comparison are those of tests/properties/test_adversarial_fuzz.py
(which CI runs at about 2,000 cases): (a) cases built around one edge of the bundled
pack or one compared time, with jitter of −1 µs … +1 s; (b) random cases in mixed
offsets and named zones; (c) stalking spans from 1 µs to 10,000 days.  The cases are
shared out 45 % / 35 % / 20 %, each family from ``random.Random`` seeded with ``--seed``
plus its position.

Prints one line per family and a total (cases, mismatches, engine errors, seconds), then
the first failure and the smallest case of each kind of failure, shrunk (with
``--no-shrink``, as generated).  Exits 1 on any mismatch or engine error, 0 otherwise.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

TESTS = pathlib.Path(__file__).resolve().parents[1] / "tests"
sys.path[:0] = [str(TESTS), str(TESTS / "properties")]

from test_adversarial_fuzz import FAMILIES, Report, run  # noqa: E402

SHARES = {"edges": 0.45, "random": 0.35, "extreme_spans": 0.20}


def split(cases: int) -> dict[str, int]:
    """``cases`` shared out between the families; the last takes the rounding."""
    counts = {name: int(cases * share) for name, share in SHARES.items()}
    last = list(SHARES)[-1]
    counts[last] += cases - sum(counts.values())
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=50_000, help="cases in all (default 50,000)")
    parser.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    parser.add_argument("--no-shrink", action="store_true", help="print failing cases as generated")
    args = parser.parse_args(argv)
    if args.cases < 0:
        parser.error("--cases must not be negative")
    assert set(SHARES) == set(FAMILIES), "every family needs a share"

    reports: list[Report] = []
    for position, (family, cases) in enumerate(split(args.cases).items()):
        report = run(family, seed=args.seed + position, cases=cases)
        reports.append(report)
        print(report.counts(), flush=True)

    cases = sum(r.cases for r in reports)
    mismatches = sum(r.mismatches for r in reports)
    errors = sum(r.engine_errors for r in reports)
    seconds = sum(r.seconds for r in reports)
    print(
        f"total: {cases} cases, {mismatches} mismatches, {errors} engine errors, "
        f"{seconds:.1f} s ({1000 * seconds / max(cases, 1):.2f} ms a case)"
    )
    budget = 0.0 if args.no_shrink else 20.0
    for report in reports:
        if report.failures:
            print()
            print(report.details(shrink_budget=budget))
    return 1 if mismatches or errors else 0


if __name__ == "__main__":
    sys.exit(main())
