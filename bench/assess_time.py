"""Time per ``assess()`` call: the bundled example and a 1,000-contact case.

Run by hand:  .venv/bin/python bench/assess_time.py [--repeat N]
Prints the median and quartiles of repeated calls, split into feature
extraction (plain Python) and the rest (engine session and explanation).
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

from performance import make_case

import stalkrisk
from stalkrisk import _engine, _registry
from stalkrisk._features import Episode


def measure(label: str, case: stalkrisk.Case, repeat: int) -> None:
    compiled = _registry.compiled(stalkrisk.default_rule_pack())
    stalkrisk.assess(case)  # warm up
    totals, features = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        compiled.extractor.extract(case)
        t1 = time.perf_counter()
        stalkrisk.assess(case)
        t2 = time.perf_counter()
        features.append(t1 - t0)
        totals.append(t2 - t1)
    q = statistics.quantiles(totals, n=4)
    f = statistics.median(features)
    t = statistics.median(totals)
    print(
        f"{label:<28} contacts={len(case.contacts):>5}  median={t * 1e3:8.3f} ms  "
        f"q1={q[0] * 1e3:.3f}  q3={q[2] * 1e3:.3f}  features={f * 1e3:.3f} ms "
        f"({f / t:.0%} of a call)"
    )


# An episode of one contact and one behaviour: every field a rule may test, none fires.
_ONE_CONTACT = Episode(0, (0,), ("gift",), 0)


def engine_costs(repeat: int) -> None:
    """The adapter's own cost: an empty session (sentinel + delete) and one more fact."""
    ruleset = _registry.compiled(stalkrisk.default_rule_pack()).ruleset
    empty, unmatched = [], []
    # Sessions straight from this thread, as the engine thread opens them.
    for _ in range(repeat):
        t0 = time.perf_counter()
        with ruleset.session():
            pass
        t1 = time.perf_counter()
        with ruleset.session() as session:
            session.assert_fact("episode", 0, _ONE_CONTACT.values())
        t2 = time.perf_counter()
        empty.append(t1 - t0)
        unmatched.append(t2 - t1 - (t1 - t0))
    for label, samples in (
        ("engine session (sentinel + delete)", empty),
        ("one more fact that fires no rule", unmatched),
    ):
        print(f"{label:<40} median={statistics.median(samples) * 1e6:7.1f} µs")


def handoff(repeat: int) -> None:
    """What running the main thread's sessions on the engine thread costs.

    The same calls from the main thread (handed over) and from another thread
    (run in place), in one run, and the bare hand-over of an empty job.
    """
    case = stalkrisk.example_case()
    stalkrisk.assess(case)

    def median_call() -> float:
        samples = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            stalkrisk.assess(case)
            samples.append(time.perf_counter() - t0)
        return statistics.median(samples)

    main = median_call()
    other: list[float] = []
    thread = threading.Thread(target=lambda: other.append(median_call()))
    thread.start()
    thread.join()
    empty = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        _engine.run(lambda: None)
        empty.append(time.perf_counter() - t0)
    print(
        f"{'example from the main thread':<40} median={main * 1e6:7.1f} µs\n"
        f"{'example from another thread':<40} median={other[0] * 1e6:7.1f} µs "
        f"(main/other = {main / other[0]:.2f})\n"
        f"{'empty hand-over to the engine thread':<40} "
        f"median={statistics.median(empty) * 1e6:7.1f} µs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    measure("bundled example", stalkrisk.example_case(), args.repeat)
    measure("1,000-contact case", make_case(1_000), max(args.repeat // 10, 10))
    engine_costs(args.repeat * 5)
    handoff(args.repeat * 5)


if __name__ == "__main__":
    main()
