"""Soak: many generated assessments on many threads, in a process of its own.

Every case is generated afresh from its index as the seed, so all are distinct
and the sequential re-check regenerates exactly the same case.

Run by hand for the full count (about 100,000 cases)::

    .venv/bin/python tests/engine/soak.py --cases 100000 --threads 8

``tests/engine/test_soak.py`` runs a 20,000-case version in a subprocess, so a
segfault shows as an exit code instead of a vanished test run.  Cases have 0 to
200 contacts, use every behaviour code, and include empty and boundary-only
cases.  Every thread assesses its share in its own order; a sample of at least
2,000 results is compared, as JSON, with a sequential run after the threads end.
Prints one JSON line of figures and exits 0 only if every compared result matched.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import stalkrisk

CODES = [b.value for b in stalkrisk.Behaviour]
BOUNDARY = ["gift", "out_of_session_contact", "social_media_contact", "third_party_contact"]
START = datetime(2024, 1, 1, tzinfo=UTC)


def rss_mb() -> float:
    """Resident memory of this process now, from /proc (Linux), in MB."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 1e6


def generate(seed: int, max_contacts: int = 200) -> stalkrisk.Case:
    """One valid case with up to ``max_contacts`` contacts; the seed decides everything."""
    rng = random.Random(seed)
    shape = rng.random()
    if shape < 0.05:
        count, codes = 0, CODES
    elif shape < 0.15:
        count, codes = rng.randint(1, min(30, max_contacts)), BOUNDARY
    else:
        count, codes = rng.randint(0, max_contacts), CODES
    horizon = rng.choice([3, 20, 60, 400])
    contacts = []
    for index in range(count):
        behaviours = rng.sample(codes, rng.choice([1, 1, 1, 2, 3]))
        threat = "threat" in behaviours
        contacts.append(
            {
                "id": f"c{index}",
                "at": START + timedelta(seconds=rng.randrange(horizon * 86_400)),
                "behaviours": behaviours,
                "targets": rng.choice([["clinician"], ["family"], ["clinician", "colleagues"]]),
                "ongoing": rng.random() < 0.01,
                "weapon": rng.random() < 0.01,
                "specific_threat": threat and rng.random() < 0.3,
            }
        )
    assessed = START + timedelta(days=horizon, seconds=rng.randrange(30 * 86_400))
    data: dict[str, Any] = {
        "assessed_at": assessed,
        "client": {
            "relationship": rng.choice(["current", "former", "prospective", "unknown"]),
            "prior_violence": rng.random() < 0.1,
            "weapon_access": rng.random() < 0.05,
            "clinical_state": rng.choice([[], ["suicidality"]]),
        },
        "contacts": contacts,
        "fear": {"level": rng.choice(["none", "some", "significant", "severe"])},
    }
    if rng.random() < 0.2:
        data["boundaries"] = {"warnings": [{"at": START + timedelta(days=rng.randrange(horizon)),
                                           "supervisor": rng.random() < 0.5}]}  # fmt: skip
    return stalkrisk.Case.model_validate(data)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--sample", type=int, default=2_000)
    args = parser.parse_args(argv)

    rng = random.Random(0)
    sampled = set(rng.sample(range(args.cases), min(args.sample, args.cases)))
    results: dict[int, str] = {}
    failures: list[str] = []
    lock = threading.Lock()
    rss_before = rss_mb()

    def work(indices: list[int]) -> None:
        try:
            for index in indices:
                result = stalkrisk.assess(generate(index))
                if index in sampled:
                    with lock:
                        results[index] = result.model_dump_json()
        except BaseException as error:
            with lock:
                failures.append(type(error).__name__)

    shares: list[list[int]] = [[] for _ in range(args.threads)]
    for index in range(args.cases):
        shares[index % args.threads].append(index)
    for share in shares:
        rng.shuffle(share)  # each thread in its own order, so sessions interleave arbitrarily
    threads = [threading.Thread(target=work, args=(share,)) for share in shares]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    rss_after = rss_mb()

    mismatches = sum(
        stalkrisk.assess(generate(index)).model_dump_json() != results.get(index)
        for index in sorted(sampled)
    )
    report = {
        "cases": args.cases,
        "threads": args.threads,
        "seconds": round(elapsed, 2),
        "cases_per_second": round(args.cases / elapsed, 1),
        "compared": len(sampled),
        "mismatches": mismatches,
        "failures": failures,
        "rss_mb_before": round(rss_before, 1),
        "rss_mb_after": round(rss_after, 1),
    }
    print(json.dumps(report))
    return 0 if not mismatches and not failures else 1


if __name__ == "__main__":
    sys.exit(main())
