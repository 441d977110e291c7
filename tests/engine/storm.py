"""Interrupt storm: exceptions raised from a signal handler at random points of a call.

A ``SIGALRM`` timer fires between 1 µs and a little more than one call's
duration into each call and its handler raises
``KeyboardInterrupt``, as a Ctrl-C in a notebook loop or a request timeout
built on ``SIGALRM`` does.  The process must not crash, every call that returns
must return what an uninterrupted call returns, and no engine session may be
left behind.  Run it in a fresh interpreter (a crash is an exit code there)::

    .venv/bin/python tests/engine/storm.py --target assess --seed 1 --seconds 20

It prints one JSON line of figures and exits 0 only if everything held.
``tests/engine/test_engine_interrupts.py`` runs it briefly for three seeds per
target; the long form is for ``bench/``.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

import stalkrisk
from stalkrisk import _engine, batch, vignettes

ROOT = Path(__file__).resolve().parents[2]
TARGETS = (
    "assess",
    "assess_mapping",
    "assess_json",
    "assess_many",
    "assess_many_pool",
    "load_rule_pack",
    "case_variant",
)


class _Ledger:
    """Every engine session the adapter opened and deleted, seen from the engine's side."""

    def __init__(self) -> None:
        self.opened: set[str] = set()
        self.deleted: set[str] = set()
        native = _engine._NATIVE
        assert_fact, delete_state = native.assert_fact, native.delete_state

        def spy_assert(handle: int, text: str) -> Any:
            fact = json.loads(text)
            if "$begin" in fact:
                self.opened.add(str(fact["sid"]))
            return assert_fact(handle, text)

        def spy_delete(handle: int, sid: str) -> Any:
            result = delete_state(handle, sid)
            self.deleted.add(sid)
            return result

        native.assert_fact = spy_assert
        native.delete_state = spy_delete

    def left(self) -> int:
        return len(self.opened - self.deleted)


_FIRED = [0]


def _interrupt(signum: int, frame: FrameType | None) -> None:
    _FIRED[0] += 1
    raise KeyboardInterrupt


class _PackVariants:
    """A new copy of the bundled pack per call, so every load compiles and probes anew."""

    def __init__(self) -> None:
        self._text = (ROOT / "rules" / "default.yaml").read_text(encoding="utf-8")
        self._folder = Path(tempfile.mkdtemp(prefix="stalkrisk-storm-"))
        self._count = 0

    def next(self) -> Path:
        self._count += 1
        path = self._folder / f"pack{self._count}.yaml"
        name = f"name: storm-{self._count}"
        path.write_text(self._text.replace("name: stalkrisk-default", name, 1), encoding="utf-8")
        return path


def _targets() -> dict[str, tuple[Callable[[], Any], Callable[[Any], str]]]:
    """Each target's call, and how to turn its result into comparable text."""
    case = stalkrisk.example_case()
    first = vignettes.names()[0]
    cases = [case, case.with_fear("severe"), vignettes.load(first).case]
    packs = _PackVariants()

    def load() -> tuple[stalkrisk.RulePack, stalkrisk.Assessment]:
        pack = stalkrisk.load_rule_pack(packs.next())
        return pack, stalkrisk.assess(case, rule_pack=pack)

    def graded(loaded: tuple[stalkrisk.RulePack, stalkrisk.Assessment]) -> str:
        pack, result = loaded
        return json.dumps([[r.id for r in pack.rules], result.level.value, result.urgent])

    mapping = case.model_dump(mode="json")
    text = json.dumps(mapping)
    many: Callable[[Any], str] = lambda r: json.dumps([a.model_dump_json() for a in r])  # noqa: E731
    return {
        "assess": (lambda: stalkrisk.assess(case), lambda r: r.model_dump_json()),
        "assess_mapping": (lambda: stalkrisk.assess(mapping), lambda r: r.model_dump_json()),
        "assess_json": (lambda: stalkrisk.assess_json(text), str),
        "assess_many": (lambda: batch.assess_many(cases, workers=1), many),
        "assess_many_pool": (lambda: batch.assess_many(cases * 4, workers=2), many),
        "load_rule_pack": (load, graded),
        "case_variant": (
            lambda: case.with_fear("severe").with_client(prior_violence=True),
            lambda r: r.model_dump_json(),
        ),
    }


def storm(target: str, seed: int, seconds: float) -> dict[str, object]:
    call, encode = _targets()[target]
    ledger = _Ledger()
    expected = encode(call())  # warm: the pack is loaded, the engine thread runs
    started = time.perf_counter()
    call()
    # Timers up to a little past one whole call: most calls are cut somewhere
    # inside, and some finish.
    max_delay_us = max(50, round((time.perf_counter() - started) * 1.2e6))
    signal.signal(signal.SIGALRM, _interrupt)
    rng = random.Random(seed)
    calls = returned = interrupted = mismatches = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        calls += 1
        try:
            try:
                signal.setitimer(signal.ITIMER_REAL, rng.randint(1, max_delay_us) / 1e6)
                result = call()
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
            returned += 1
            mismatches += encode(result) != expected
        except KeyboardInterrupt:
            interrupted += 1
    signal.signal(signal.SIGALRM, signal.SIG_DFL)
    after = encode(call())  # the adapter still works once the storm is over
    return {
        "target": target,
        "seed": seed,
        "max_delay_us": max_delay_us,
        "calls": calls,
        "returned": returned,
        "interrupted": interrupted,
        "mismatches": mismatches + (after != expected),
        # An interrupt raised where Python ignores exceptions (a weakref
        # callback, a __del__) is lost: the caller's Ctrl-C did nothing.
        "swallowed": _FIRED[0] - interrupted,
        "sessions_left": ledger.left(),
        "open_sessions": _engine.open_sessions(),
        "undeleted_sessions": _engine.undeleted_sessions(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=TARGETS)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    figures = storm(args.target, args.seed, args.seconds)
    batch.stop_workers()
    print(json.dumps(figures))
    held = (
        figures["mismatches"] == 0
        and figures["sessions_left"] == 0
        and figures["open_sessions"] == 0
        and figures["undeleted_sessions"] == 0
        and figures["swallowed"] == 0
        and figures["interrupted"] != 0
    )
    return 0 if held else 1


if __name__ == "__main__":
    sys.exit(main())
