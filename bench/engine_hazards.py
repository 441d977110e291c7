"""Re-measure the durable-rules hazards listed in ../shared/DURABLE_RULES.md.

Run by hand when judging a new durable-rules release or fork:

    .venv/bin/python bench/engine_hazards.py [--quick] [--only NAME ...]

Every scenario drives the *bare* engine, never stalkrisk and its guards, in its
own child process, started as ``python bench/engine_hazards.py --scenario NAME``,
so that a segfault shows as a negative return code (the signal) instead of
killing this script.  There are two kinds of scenario:

* the Host-based scenarios go through durable-rules' Python API
  (``durable.engine``).  stalkrisk no longer uses that API; they stay because they
  document its hazards (background threads, swallowed errors, batches, ...);
* the ``core_*`` scenarios replay the path stalkrisk's adapter
  (``src/stalkrisk/_engine.py``) actually uses: the compiled core module
  ``durable_rules_engine`` called directly (``create_ruleset``, ``assert_fact``,
  ``start_action_for_state``, ``complete_and_start_action``, ``delete_state``),
  with no Host and no ``dispatch``/``start_action``/``assert_timers`` calls, each
  with one of the adapter's guards taken away.

Each child prints ``PROGRESS`` lines while it works and one ``RESULT`` line
(JSON) at the end; the parent prints one line per hazard (name, what was tried,
outcome, seconds) and a summary table.  An outcome is one of

* ``REPRODUCES: ...``  — the hazard still exists (crash signal N, action lost,
  raises X, ...);
* ``does not reproduce: ...`` — the release behaves safely in this scenario;
* ``control ok`` / ``CONTROL FAILED`` — the workaround still holds.  The adapter
  relies on no Host at all: the core API from the calling thread, one session
  open at a time (a process-wide lock), the sentinel rule asserted and drained
  first in every session, single-fact rules on constants, and facts asserted one
  by one, each drained of its actions before the next.  The Host-based controls
  (a host without background threads, an all-matching batch) document the
  workarounds of the Python API;
* ``ERROR: ...`` — the scenario itself failed (a Python exception or a timeout),
  for example because a fork changed the API.

The two memory hazards (deleting a session in which no action ran, cross-fact
comparisons) use engine memory that is never initialised, so whether they crash
depends on what the heap held before.  A fresh interpreter often hands out
zeroed memory and hides them; a long-running process does not (importing
``durable.engine`` alone is enough to change the outcome).  Those scenarios, and
the ``core_*`` session churns, therefore run twice in one child: on the fresh
heap, then after :func:`dirty_heap` has left freed chunks full of ``0x41``
behind.  The PROGRESS line in a crash report says which pass crashed.

Inputs come from fixed seeds; thread scheduling in ``background_threads`` is the
only source of run-to-run variation.  ``--quick`` uses smaller counts.  The
script only reports: it exits 0 whatever it finds (2 on bad arguments).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from typing import Any, NoReturn

import durable_rules_engine as core  # type: ignore[import-not-found]
from durable import engine  # type: ignore[import-untyped]

REPRODUCES = "REPRODUCES"
NOT_REPRODUCED = "does not reproduce"
CONTROL_OK = "control ok"
CONTROL_FAILED = "CONTROL FAILED"
ERROR = "ERROR"
VERDICTS = (REPRODUCES, NOT_REPRODUCED, CONTROL_OK, CONTROL_FAILED, ERROR)
SUMMARY_DETAIL_WIDTH = 96

Fact = dict[str, Any]
Action = Callable[[Any], None]


@dataclass(frozen=True)
class Sizes:
    """The counts a run uses; ``--quick`` picks the smaller set."""

    threads: int
    sessions_per_thread: int
    thread_repetitions: int
    facts_per_session: int
    churn_sessions: int
    churn_open: int
    join_sessions: int
    join_facts: int
    session_limit_tries: int


FULL = Sizes(
    threads=4,
    sessions_per_thread=200,
    thread_repetitions=5,
    facts_per_session=3,
    churn_sessions=5_000,
    churn_open=20,
    join_sessions=3_000,
    join_facts=6,
    session_limit_tries=1_100,
)
QUICK = Sizes(
    threads=4,
    sessions_per_thread=100,
    thread_repetitions=2,
    facts_per_session=3,
    churn_sessions=500,
    churn_open=20,
    join_sessions=300,
    join_facts=6,
    session_limit_tries=1_100,
)


@dataclass(frozen=True)
class Check:
    """One measured behaviour: ``label`` is empty for the scenario's main check."""

    label: str
    verdict: str
    detail: str

    @property
    def outcome(self) -> str:
        return f"{self.verdict}: {self.detail}"


def hazard(label: str, reproduced: bool, detail: str) -> Check:
    """A check of a hazard: REPRODUCES when ``reproduced``."""
    return Check(label, REPRODUCES if reproduced else NOT_REPRODUCED, detail)


def control(label: str, ok: bool, detail: str) -> Check:
    """A check of a workaround that must keep working."""
    return Check(label, CONTROL_OK if ok else CONTROL_FAILED, detail)


def progress(text: str) -> None:
    """Tell the parent how far the child got (shown if the child then crashes)."""
    print(f"PROGRESS {text}", flush=True)


# --------------------------------------------------------------------------- engine helpers


class OwnHost(engine.Host):  # type: ignore[misc]
    """A host whose background dispatch and timer threads never start."""

    def _run(self) -> None:
        return None


def noop(closure: Any) -> None:
    """A sync action that does nothing."""


def recorder(log: list[str], tag: str) -> Action:
    """A sync action appending ``tag`` to ``log`` (list.append is atomic under the GIL)."""

    def action(closure: Any) -> None:
        log.append(tag)

    return action


def rule(pattern: Fact, run: Action) -> Fact:
    """A one-fact rule."""
    return {"all": [{"m": pattern}], "run": run}


def raised_text(error: BaseException) -> str:
    """The exception's class name, with the engine's error code when it has one."""
    text = type(error).__name__
    if "error code" in str(error):
        text += f" ({error})"
    return text


def try_assert(host: Any, ruleset: str, fact: Fact) -> str | None:
    """Assert ``fact``; describe the exception it raised, if any."""
    try:
        host.assert_fact(ruleset, fact)
    except Exception as error:
        return raised_text(error)
    return None


def matches(pattern: Fact, fact: Fact) -> tuple[bool, str | None]:
    """Whether a one-rule ruleset on ``pattern`` fires for ``fact`` (and what was raised)."""
    host = OwnHost()
    log: list[str] = []
    host.register_rulesets({"probe": {"probe": rule(pattern, recorder(log, "fired"))}})
    raised = try_assert(host, "probe", {"sid": "1", **fact})
    return bool(log), raised


def registration_error(definition: Fact) -> str | None:
    """Register a one-rule ruleset on a fresh own host; the error text, if refused."""
    try:
        OwnHost().register_rulesets({"probe": {"probe": definition}})
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return None


# --------------------------------------------------------------------------- scenarios


DISPATCH_PAUSE = 0.3


def thread_storm(host: Any, sizes: Sizes) -> tuple[int, int, list[str]]:
    """Threads open sessions, assert facts, delete the sessions in shuffled order.

    Each thread pauses once, half-way through its deletes, for longer than the stock
    host's dispatch period (0.2 s), as time passes between calls in a real program.
    """
    fired: list[str] = []
    errors: list[str] = []
    host.register_rulesets({"storm": {"hit": rule({"kind": "x"}, recorder(fired, "hit"))}})

    def worker(index: int, repetition: int) -> None:
        rng = random.Random(1_000 * repetition + index)
        sids = [f"t{index}-r{repetition}-s{i}" for i in range(sizes.sessions_per_thread)]
        try:
            for sid in sids:
                for k in range(sizes.facts_per_session):
                    host.assert_fact("storm", {"sid": sid, "kind": "x", "k": k})
            rng.shuffle(sids)
            for position, sid in enumerate(sids):
                if position == len(sids) // 2:
                    time.sleep(DISPATCH_PAUSE)
                host.delete_state("storm", sid)
        except Exception as error:
            errors.append(f"{type(error).__name__}: {error}")

    for repetition in range(sizes.thread_repetitions):
        threads = [
            threading.Thread(target=worker, args=(index, repetition))
            for index in range(sizes.threads)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        progress(f"repetition {repetition + 1}/{sizes.thread_repetitions} finished")
    expected = (
        sizes.thread_repetitions
        * sizes.threads
        * sizes.sessions_per_thread
        * sizes.facts_per_session
    )
    return len(fired), expected, errors


def storm_summary(sizes: Sizes, actions: int, expected: int, errors: list[str]) -> str:
    text = f"no crash in {sizes.thread_repetitions} repetitions, {actions}/{expected} actions"
    if errors:
        text += f", {len(errors)} thread errors (first: {errors[0]})"
    return text


def scenario_background_threads(sizes: Sizes) -> list[Check]:
    actions, expected, errors = thread_storm(engine.Host(), sizes)
    return [hazard("", False, storm_summary(sizes, actions, expected, errors))]


def scenario_background_threads_control(sizes: Sizes) -> list[Check]:
    actions, expected, errors = thread_storm(OwnHost(), sizes)
    ok = actions == expected and not errors
    return [control("", ok, "own host: " + storm_summary(sizes, actions, expected, errors))]


def dispatch_after_deletes(lifo: bool) -> str | None:
    """Delete half of 200 sessions, then call what the stock host's timer threads call.

    No threads: ``Ruleset.dispatch`` (``start_action``) and ``dispatch_timers``
    (``assert_timers``) are called directly.  Both walk the ruleset's creation-order
    list of sessions (``reverseStateIndex`` in state.c), which ``delete_state`` never
    updates, so after out-of-order deletes they read freed sessions.  Deletes are
    either in reverse creation order (``lifo``) or random.  Returns the error the
    timer pass raised, if any.
    """
    host = OwnHost()
    host.register_rulesets({"dispatch": {"hit": rule({"kind": "x"}, noop)}})
    sids = [f"s{i}" for i in range(200)]
    for sid in sids:
        host.assert_fact("dispatch", {"sid": sid, "kind": "x"})
    victims = sids[::-1][:100] if lifo else random.Random(5).sample(sids, 100)
    for sid in victims:
        host.delete_state("dispatch", sid)
    progress("100 of 200 sessions deleted; calling dispatch()")
    ruleset = host.get_ruleset("dispatch")
    ruleset.dispatch()
    progress("dispatch() returned; calling dispatch_timers()")
    try:
        ruleset.dispatch_timers()
    except Exception as error:
        return raised_text(error)
    return None


def scenario_dispatch_after_unordered_delete(sizes: Sizes) -> list[Check]:
    error = dispatch_after_deletes(lifo=False)
    if error:
        return [hazard("", True, f"dispatch() survived; dispatch_timers() raises {error}")]
    return [hazard("", False, "dispatch() and dispatch_timers() ok")]


def scenario_dispatch_after_unordered_delete_control(sizes: Sizes) -> list[Check]:
    error = dispatch_after_deletes(lifo=True)
    detail = f"LIFO deletes: dispatch() ok, dispatch_timers() {error or 'ok'}"
    return [control("", error is None, detail)]


HEAPS = ("clean heap", "dirty heap")
_PINNED: list[bytearray] = []


def dirty_heap(chunks: int = 300, size: int = 60_000) -> None:
    """Leave freed heap chunks full of 0x41 behind, as a long-running process has.

    The engine uses fields of its session pool that it never initialises; in a fresh
    process that memory often comes zeroed from the OS and the bug stays hidden.  The
    small pinned buffers keep the freed chunks from being merged and given back.
    """
    junk = []
    for _ in range(chunks):
        junk.append(b"\x41" * size)
        _PINNED.append(bytearray(1_024))
    junk.clear()


def on_both_heaps(run: Callable[[str], int]) -> int:
    """``run(ruleset_name)`` on the fresh heap, then again after :func:`dirty_heap`."""
    total = 0
    for heap in HEAPS:
        if heap == "dirty heap":
            dirty_heap()
        progress(f"{heap}: start")
        total += run(heap.replace(" ", "_"))
        progress(f"{heap}: done")
    return total


def delete_churn(sizes: Sizes, sentinel: bool) -> int:
    """Sessions each holding one half-joined fact, deleted in random order; returns actions."""
    host = OwnHost()
    fired: list[str] = []

    def run(name: str) -> int:
        rules: Fact = {"join": {"all": [{"a": {"t": "x"}}, {"b": {"t": "y"}}], "run": noop}}
        if sentinel:
            rules["sentinel"] = rule({"$begin": 1}, recorder(fired, "sentinel"))
        host.register_rulesets({name: rules})
        rng = random.Random(2)
        open_sids: list[str] = []
        for i in range(sizes.churn_sessions):
            sid = f"s{i}"
            if sentinel:
                host.assert_fact(name, {"sid": sid, "$begin": 1})
            host.assert_fact(name, {"sid": sid, "t": "x", "n": i})
            open_sids.append(sid)
            if len(open_sids) >= sizes.churn_open:
                host.delete_state(name, open_sids.pop(rng.randrange(len(open_sids))))
            if (i + 1) % 500 == 0:
                progress(f"{name}: {i + 1} sessions")
        rng.shuffle(open_sids)
        for sid in open_sids:
            host.delete_state(name, sid)
        return sizes.churn_sessions

    on_both_heaps(run)
    return len(fired)


def scenario_delete_without_action(sizes: Sizes) -> list[Check]:
    delete_churn(sizes, sentinel=False)
    detail = f"no crash in {sizes.churn_sessions} sessions on a clean and on a dirty heap"
    return [hazard("", False, detail)]


def scenario_delete_without_action_control(sizes: Sizes) -> list[Check]:
    actions = delete_churn(sizes, sentinel=True)
    expected = len(HEAPS) * sizes.churn_sessions
    detail = f"sentinel: no crash on clean and dirty heap, {actions}/{expected} sentinel actions"
    return [control("", actions == expected, detail)]


CROSS_REFERENCE: Fact = {"first": "n"}


def register_join(host: Any, name: str, fired: list[str], other: Any) -> None:
    """A two-fact join whose second fact must have ``n`` unequal to ``other``, plus a sentinel.

    ``other`` is :data:`CROSS_REFERENCE` (the first fact's ``n``) or a constant.
    """
    second = {"$and": [{"kind": "n"}, {"$neq": {"n": other}}]}
    pair = {"all": [{"first": {"kind": "n"}}, {"second": second}], "run": recorder(fired, "p")}
    host.register_rulesets({name: {"sentinel": rule({"$begin": 1}, noop), "pair": pair}})


def scenario_cross_fact_missing_field(sizes: Sizes) -> list[Check]:
    """A first fact without the compared field, then facts that have it."""
    host = OwnHost()
    fired: list[str] = []
    register_join(host, "missing", fired, CROSS_REFERENCE)
    host.assert_fact("missing", {"sid": "1", "$begin": 1})
    first = try_assert(host, "missing", {"sid": "1", "kind": "n", "i": 0})
    later = [try_assert(host, "missing", {"sid": "1", "kind": "n", "n": n}) for n in (1, 2)]
    poisoned = any(later) or not fired
    detail = f"fact without n: {first or 'accepted'}; then n=1, n=2: "
    detail += ", ".join(raised or "accepted" for raised in later)
    detail += f"; {len(fired)} join actions (2 without the first fact)"
    return [hazard("", poisoned, detail)]


def join_search(sizes: Sizes, other: Any) -> tuple[int, int]:
    """Random small-integer facts through the join, fresh then dirty heap: (sessions, actions)."""
    host = OwnHost()
    fired: list[str] = []

    def run(name: str) -> int:
        register_join(host, name, fired, other)
        rng = random.Random(3)
        for session in range(sizes.join_sessions):
            progress(f"{name}: session {session} (seed 3)")
            sid = f"s{session}"
            host.assert_fact(name, {"sid": sid, "$begin": 1})
            for i in range(rng.randint(1, sizes.join_facts)):
                host.assert_fact(name, {"sid": sid, "kind": "n", "n": rng.randint(0, 3), "i": i})
            host.delete_state(name, sid)
        return sizes.join_sessions

    return on_both_heaps(run), len(fired)


def scenario_cross_fact_join(sizes: Sizes) -> list[Check]:
    tries, actions = join_search(sizes, CROSS_REFERENCE)
    detail = f"not reproduced in {tries} sessions, clean and dirty heap ({actions} join actions)"
    return [hazard("", False, detail)]


def scenario_cross_fact_join_control(sizes: Sizes) -> list[Check]:
    tries, actions = join_search(sizes, 99)
    detail = f"constant $neq: no crash in {tries} sessions, clean and dirty heap"
    return [control("", actions > 0, f"{detail} ({actions} join actions)")]


def scenario_duplicate_id(sizes: Sizes) -> list[Check]:
    host = OwnHost()
    fired: list[str] = []
    host.register_rulesets(
        {
            "dup": {
                "on_a": rule({"kind": "a"}, recorder(fired, "a")),
                "on_b": rule({"kind": "b"}, recorder(fired, "b")),
            }
        }
    )
    first = try_assert(host, "dup", {"sid": "1", "id": "c1", "kind": "a"})
    second = try_assert(host, "dup", {"sid": "1", "id": "c1", "kind": "b"})
    lost = "b" not in fired
    parts = [f"first fact: {'fired' if 'a' in fired else 'NOT fired'}"]
    parts.append(f"second fact: {'rule never fired' if lost else 'fired'}")
    for name, raised in (("first", first), ("second", second)):
        if raised:
            parts.append(f"{name} raises {raised}")
    return [hazard("", lost or second is not None, "; ".join(parts))]


def scenario_unmatched_fact(sizes: Sizes) -> list[Check]:
    host = OwnHost()
    host.register_rulesets({"unmatched": {"on_a": rule({"kind": "a"}, noop)}})
    host.assert_fact("unmatched", {"sid": "1", "kind": "a"})
    raised = try_assert(host, "unmatched", {"sid": "1", "kind": "zzz"})
    stored = any(f.get("kind") == "zzz" for f in host.get_facts("unmatched", "1"))
    detail = f"raises {raised}" if raised else "returns normally"
    detail += "; fact stored" if stored else "; fact dropped"
    return [hazard("", raised is not None, detail)]


def batch_run(facts: list[Fact]) -> tuple[list[str], str | None, str]:
    """Assert ``facts`` as one batch on an own host: actions run, error raised, facts stored."""
    host = OwnHost()
    fired: list[str] = []
    host.register_rulesets({"batch": {"threat": rule({"kind": "threat"}, recorder(fired, "t"))}})
    try:
        host.assert_facts("batch", facts)
        raised = None
    except Exception as error:
        raised = raised_text(error)
    try:
        kinds = [str(fact.get("kind")) for fact in host.get_facts("batch", "1")]
        stored = ", ".join(kinds) or "none"
    except Exception as error:
        stored = f"unknown ({type(error).__name__})"
    return fired, raised, stored


def scenario_batch_loss(sizes: Sizes) -> list[Check]:
    mixed: list[Fact] = [{"sid": "1", "kind": "threat", "n": 1}, {"sid": "1", "kind": "zzz"}]
    fired, raised, stored = batch_run(mixed)
    detail = "threat action never ran" if not fired else f"threat action ran {len(fired)}x"
    detail += f"; raises {raised}" if raised else "; no exception"
    detail += f"; facts stored: {stored}"
    checks = [hazard("", not fired, detail)]
    matching: list[Fact] = [{"sid": "1", "kind": "threat", "n": n} for n in range(3)]
    fired, raised, _ = batch_run(matching)
    ok = len(fired) == len(matching) and raised is None
    detail = f"all-matching batch: {len(fired)}/{len(matching)} actions"
    detail += f", raises {raised}" if raised else ""
    checks.append(control("all_matching", ok, detail))
    return checks


def describe_match(fired: bool, raised: str | None) -> str:
    return "fires" if fired else f"no match ({raised or 'no exception'})"


def scenario_types(sizes: Sizes) -> list[Check]:
    big, big_raised = matches({"$gt": {"v": 500}}, {"v": "1000"})
    small, small_raised = matches({"$gt": {"v": 500}}, {"v": "60"})
    detail = (
        f'"1000" $gt 500: {describe_match(big, big_raised)}; '
        f'"60" $gt 500: {describe_match(small, small_raised)}'
    )
    checks = [hazard("string_vs_number", not big or small, detail)]
    null_lt, null_lt_raised = matches({"$lt": {"v": 500}}, {"v": None})
    null_gt, null_gt_raised = matches({"$gt": {"v": -500}}, {"v": None})
    detail = (
        f"null $lt 500: {describe_match(null_lt, null_lt_raised)}; "
        f"null $gt -500: {describe_match(null_gt, null_gt_raised)}"
    )
    checks.append(hazard("null_numeric", not (null_lt or null_gt), detail))
    neq = {"$and": [{"kind": "q"}, {"$neq": {"x": 1}}]}
    missing, missing_raised = matches(neq, {"kind": "q"})
    detail = f"$neq x 1 on a fact without x: {describe_match(missing, missing_raised)}"
    checks.append(hazard("neq_missing_field", not missing, detail))
    return checks


def scenario_operators(sizes: Sizes) -> list[Check]:
    backslash, raised = matches({"$mt": {"h": "a\\.b"}}, {"h": "a.b"})
    lua, _ = matches({"$mt": {"h": "a%.b"}}, {"h": "a.b"})
    detail = f'"a.b" $mt "a\\.b": {describe_match(backslash, raised)}'
    detail += f'; Lua-style "a%.b": {"fires" if lua else "no match"}'
    checks = [hazard("mt_backslash_dot", not backslash, detail)]
    refused = registration_error(rule({"$in": {"x": [1, 2]}}, noop))
    if refused:
        checks.append(hazard("in_rejected", True, f"$in rejected at registration ({refused})"))
    else:
        works, raised = matches({"$in": {"x": [1, 2]}}, {"x": 2})
        detail = f"$in accepted; x=2 in [1, 2]: {describe_match(works, raised)}"
        checks.append(hazard("in_rejected", not works, detail))
    plain = registration_error(rule({"$iany": {"tags": "x"}}, noop))
    item, item_raised = matches({"$iany": {"tags": {"$i": "x"}}}, {"tags": ["y", "x"]})
    detail = f"$iany without $i: {'rejected (' + plain + ')' if plain else 'accepted'}"
    detail += f"; with $i: {describe_match(item, item_raised)}"
    checks.append(hazard("iany_needs_item", plain is not None, detail))
    return checks


def scenario_session_limit(sizes: Sizes) -> list[Check]:
    host = OwnHost()
    host.register_rulesets({"limit": {"hit": rule({"kind": "x"}, noop)}})
    for count in range(1, sizes.session_limit_tries + 1):
        try:
            host.assert_fact("limit", {"sid": f"s{count}", "kind": "x"})
        except Exception as error:
            detail = f"raises {raised_text(error)} opening session {count}"
            return [hazard("", True, detail)]
        if count % 256 == 0:
            progress(f"{count} sessions open")
    detail = f"{sizes.session_limit_tries} sessions open without error"
    return [hazard("", False, detail)]


def register_named(host: Any, name: str, fired: list[str]) -> str | None:
    """Register a one-rule ruleset called ``name``; the error text, if refused."""
    try:
        host.register_rulesets({name: {"r": rule({"kind": "x"}, recorder(fired, name))}})
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return None


def scenario_duplicate_ruleset_name(sizes: Sizes) -> list[Check]:
    host = OwnHost()
    fired: list[str] = []
    register_named(host, "twice", fired)
    refused = register_named(host, "twice", fired)
    detail = f"raises {refused}" if refused else "second registration on the same host accepted"
    checks = [hazard("", refused is not None, detail)]
    other = OwnHost()
    refused = register_named(other, "twice", fired)
    if refused:
        checks.append(hazard("other_host", True, f"second host raises {refused}"))
        return checks
    fired.clear()
    raised = try_assert(other, "twice", {"sid": "1", "kind": "x"})
    works = raised is None and bool(fired)
    detail = "same name accepted on a second host (the limit is per host)"
    detail += ", and its rule fires" if works else f", but its rule does not fire ({raised})"
    checks.append(hazard("other_host", not works, detail))
    return checks


def scenario_swallowed_action_error(sizes: Sizes) -> list[Check]:
    host = OwnHost()

    def explode(closure: Any) -> None:
        raise RuntimeError("boom")

    fired: list[str] = []
    host.register_rulesets(
        {
            "swallow": {
                "explode": rule({"kind": "boom"}, explode),
                "after": rule({"kind": "after"}, recorder(fired, "after")),
            }
        }
    )
    raised = try_assert(host, "swallow", {"sid": "1", "kind": "boom"})
    state = host.get_state("swallow", "1")
    later = try_assert(host, "swallow", {"sid": "1", "kind": "after"})
    if raised:
        detail = f"reaches the caller as {raised}"
    else:
        where = "state['exception']" if "exception" in state else "nowhere visible"
        detail = f"assert_fact returns normally; error recorded in {where}"
    detail += "; next fact's action " + ("ran" if fired else f"did not run ({later})")
    return [hazard("", raised is None, detail)]


# --------------------------------------------------------------------------- core-level scenarios
#
# stalkrisk's adapter uses no Host: it calls the compiled core module directly, from the
# calling thread, and reads the actions back itself.  These scenarios make the same calls
# with one of its guards taken away, so a new release can be judged for that path.

CORE_OK, CORE_NOT_HANDLED, CORE_OBSERVED, CORE_DEFERRED = 0, 1, 2, 3
CORE_CODES = {0: "ok", 1: "not handled", 2: "observed", 3: "deferred"}
CORE_SENTINEL: Fact = {"$begin": 1}


def core_rule(pattern: Fact) -> Fact:
    """A one-fact rule as the core takes it (no ``run``: the caller reads the actions)."""
    return {"all": [{"m": pattern}]}


def core_ruleset(name: str, rules: dict[str, Fact]) -> int:
    """Register ``rules`` with the core under ``name``; the ruleset handle."""
    return int(core.create_ruleset(name, json.dumps(rules)))


def core_assert(handle: int, fact: Fact) -> tuple[int, list[str]]:
    """Assert one fact and drain the actions it started, as the adapter does: (code, actions).

    Like the adapter, nothing is read back unless the code is 0 (1: no rule matched).
    """
    code, state = core.assert_fact(handle, json.dumps(fact))
    actions: list[str] = []
    if code == CORE_OK:
        started = core.start_action_for_state(handle, state)
        result = started[1] if started else None
        while result:
            actions.append(result)
            result = core.complete_and_start_action(handle, state)
    return int(code), actions


def core_action(result: str) -> tuple[str, Fact]:
    """The rule name and the fact of an action result ``{"<rule>":{"m":{<fact>}}}``."""
    ((name, body),) = json.loads(result).items()
    return name, body["m"]


def code_text(codes: dict[int, int]) -> str:
    """``{0: 5, 1: 2}`` as ``"5x ok, 2x not handled"``."""
    parts = [f"{n}x {CORE_CODES.get(code, str(code))}" for code, n in sorted(codes.items())]
    return ", ".join(parts) or "none"


@dataclass
class CoreTally:
    """What a core session churn saw, over both heaps."""

    sessions: int = 0
    asserts: int = 0
    actions: int = 0
    wrong: int = 0
    sentinel_actions: int = 0
    codes: dict[int, int] = field(default_factory=dict)

    def count(self, code: int) -> None:
        self.asserts += 1
        self.codes[code] = self.codes.get(code, 0) + 1


def core_action_churn(sizes: Sizes, open_limit: int) -> CoreTally:
    """Sessions in which every fact fires a single-fact rule, <= ``open_limit`` open.

    Each new session gets ``facts_per_session`` facts (``k`` = 0, 1, ...; rule ``hit<k>``
    fires on each), then one more fact goes into a random open session, one created
    before some out-of-order deletes.  A random open session is deleted whenever
    ``open_limit`` are open; the rest are deleted in random order at the end.  No
    sentinel: every session ran actions.  Every action must name its fact's rule and
    session.
    """
    tally = CoreTally()
    rules = {
        f"hit{k}": core_rule({"$and": [{"kind": "x"}, {"k": k}]})
        for k in range(sizes.facts_per_session)
    }

    def fire(handle: int, sid: str, k: int, extra: int) -> None:
        code, actions = core_assert(handle, {"sid": sid, "kind": "x", "k": k, "e": extra})
        tally.count(code)
        tally.actions += len(actions)
        for result in actions:
            name, fact = core_action(result)
            tally.wrong += name != f"hit{k}" or fact.get("sid") != sid or fact.get("e") != extra

    def run(name: str) -> int:
        handle = core_ruleset(f"core_{name}", rules)
        rng = random.Random(7)
        open_sids: list[str] = []
        for i in range(sizes.churn_sessions):
            sid = f"s{i}"
            for k in range(sizes.facts_per_session):
                fire(handle, sid, k, 0)
            open_sids.append(sid)
            fire(handle, rng.choice(open_sids), 0, i + 1)
            if len(open_sids) >= open_limit:
                core.delete_state(handle, open_sids.pop(rng.randrange(len(open_sids))))
            if (i + 1) % 500 == 0:
                progress(f"{name}: {i + 1} sessions")
        rng.shuffle(open_sids)
        for sid in open_sids:
            core.delete_state(handle, sid)
        return sizes.churn_sessions

    tally.sessions = on_both_heaps(run)
    return tally


def action_churn_summary(tally: CoreTally, open_limit: int) -> tuple[bool, str]:
    """(every action arrived and was right, the detail text) for :func:`core_action_churn`."""
    ok = tally.actions == tally.asserts and not tally.wrong and tally.codes == {0: tally.asserts}
    how = "random delete order" if open_limit > 1 else "each deleted before the next opens"
    detail = (
        f"no crash, {tally.sessions // len(HEAPS)} sessions (<= {open_limit} open, {how}) on "
        f"clean and on dirty heap; {tally.actions}/{tally.asserts} actions, {tally.wrong} wrong"
    )
    if tally.codes != {0: tally.asserts}:
        detail += f"; codes {code_text(tally.codes)}"
    return ok, detail


def scenario_core_unordered_delete(sizes: Sizes) -> list[Check]:
    ok, detail = action_churn_summary(core_action_churn(sizes, sizes.churn_open), sizes.churn_open)
    return [hazard("", not ok, detail)]


def scenario_core_unordered_delete_control(sizes: Sizes) -> list[Check]:
    ok, detail = action_churn_summary(core_action_churn(sizes, 1), 1)
    return [control("", ok, detail)]


JOIN_RULES: dict[str, Fact] = {"join": {"all": [{"a": {"t": "x"}}, {"b": {"t": "y"}}]}}
SINGLE_FACT_RULES: dict[str, Fact] = {"hit": core_rule({"kind": "x"})}


def core_silent_churn(sizes: Sizes, join: bool, sentinel: bool, open_limit: int) -> CoreTally:
    """Sessions in which no action ran (unless ``sentinel``), deleted in random order.

    ``join``: each session holds one half-joined fact of :data:`JOIN_RULES` (code 0, no
    action).  Otherwise each holds one fact that no rule of :data:`SINGLE_FACT_RULES`
    matches (code 1), as in a stalkrisk case where no rule fires.  With ``sentinel``
    the sentinel fact is asserted and its action drained first, as the adapter does.
    """
    tally = CoreTally()
    rules = dict(JOIN_RULES if join else SINGLE_FACT_RULES)
    if sentinel:
        rules["sentinel"] = core_rule(CORE_SENTINEL)

    def run(name: str) -> int:
        handle = core_ruleset(f"core_{name}", rules)
        rng = random.Random(2)
        open_sids: list[str] = []
        for i in range(sizes.churn_sessions):
            sid = f"s{i}"
            if sentinel:
                code, actions = core_assert(handle, {"sid": sid, **CORE_SENTINEL})
                tally.sentinel_actions += sum(core_action(a)[0] == "sentinel" for a in actions)
                tally.wrong += sum(core_action(a)[0] != "sentinel" for a in actions)
            fact = {"sid": sid, "t": "x", "n": i} if join else {"sid": sid, "kind": "q", "n": i}
            code, actions = core_assert(handle, fact)
            tally.count(code)
            tally.actions += len(actions)
            open_sids.append(sid)
            if len(open_sids) >= open_limit:
                core.delete_state(handle, open_sids.pop(rng.randrange(len(open_sids))))
            if (i + 1) % 500 == 0:
                progress(f"{name}: {i + 1} sessions")
        rng.shuffle(open_sids)
        for sid in open_sids:
            core.delete_state(handle, sid)
        return sizes.churn_sessions

    tally.sessions = on_both_heaps(run)
    return tally


def silent_churn_detail(tally: CoreTally, open_limit: int) -> str:
    how = "random delete order" if open_limit > 1 else "each deleted before the next opens"
    return (
        f"no crash, {tally.sessions // len(HEAPS)} sessions (<= {open_limit} open, {how}) on "
        f"clean and on dirty heap; fact codes {code_text(tally.codes)}; "
        f"{tally.actions} other actions"
    )


def scenario_core_delete_without_action(sizes: Sizes) -> list[Check]:
    tally = core_silent_churn(sizes, join=True, sentinel=False, open_limit=sizes.churn_open)
    return [hazard("", False, silent_churn_detail(tally, sizes.churn_open))]


def scenario_core_delete_without_action_control(sizes: Sizes) -> list[Check]:
    tally = core_silent_churn(sizes, join=True, sentinel=True, open_limit=sizes.churn_open)
    ok = tally.sentinel_actions == tally.sessions and not tally.wrong and not tally.actions
    detail = f"sentinel drained first: {tally.sentinel_actions}/{tally.sessions} sentinel actions; "
    return [control("", ok, detail + silent_churn_detail(tally, sizes.churn_open))]


def scenario_core_delete_without_action_single_fact(sizes: Sizes) -> list[Check]:
    tally = core_silent_churn(sizes, join=False, sentinel=False, open_limit=1)
    return [hazard("", False, silent_churn_detail(tally, 1))]


def describe_action(result: str | None) -> str:
    """An action result as ``"hit on n=2"``, or ``"none"``."""
    if not result:
        return "none"
    name, fact = core_action(result)
    return f"{name} on n={fact.get('n')}"


def scenario_core_deferred(sizes: Sizes) -> list[Check]:
    """Assert a fact while an action of its session is started and not completed."""
    handle = core_ruleset("deferred", {"hit": core_rule({"kind": "x"})})
    code, state = core.assert_fact(handle, json.dumps({"sid": "1", "kind": "x", "n": 1}))
    started = core.start_action_for_state(handle, state)
    first = describe_action(started[1] if started else None)
    code, during = core.assert_fact(handle, json.dumps({"sid": "1", "kind": "x", "n": 2}))
    direct = core.start_action_for_state(handle, during)
    direct_text = describe_action(direct[1] if direct else None)
    later: list[str] = []
    result = core.complete_and_start_action(handle, state)
    while result and len(later) < 5:
        later.append(describe_action(result))
        result = core.complete_and_start_action(handle, state)
    detail = (
        f"first fact's action started ({first}); second fact asserted meanwhile: code {code} "
        f"({CORE_CODES.get(code, '?')}); start_action_for_state for it: {direct_text}; "
        f"completing the first action returns: {', '.join(later) or 'none'}"
    )
    checks = [hazard("", code != CORE_DEFERRED and not direct, detail)]
    _, before = core_assert(handle, {"sid": "2", "kind": "x", "n": 1})
    code, actions = core_assert(handle, {"sid": "2", "kind": "x", "n": 2})
    drained = [describe_action(result) for result in before]
    got = [describe_action(result) for result in actions]
    ok = code == CORE_OK and drained == ["hit on n=1"] and got == ["hit on n=2"]
    detail = (
        f"first fact's actions drained ({', '.join(drained) or 'none'}), then second fact: "
        f"code {code}; its actions: {', '.join(got) or 'none'}"
    )
    checks.append(control("after_drain", ok, detail))
    return checks


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class Scenario:
    """A scenario: what it tries (formatted with the sizes) and the function that runs it."""

    tried: str
    run: Callable[[Sizes], list[Check]]
    control: bool = False
    timeout: float = 60.0


SCENARIOS: dict[str, Scenario] = {
    "background_threads": Scenario(
        "stock Host, {s.threads} threads x {s.sessions_per_thread} sessions x "
        "{s.facts_per_session} facts, shuffled deletes, {s.thread_repetitions} repetitions",
        scenario_background_threads,
    ),
    "background_threads_control": Scenario(
        "same with a Host whose _run does nothing (own host)",
        scenario_background_threads_control,
        control=True,
    ),
    "dispatch_after_unordered_delete": Scenario(
        "no threads: 200 sessions, 100 deleted in random order, then Ruleset.dispatch() and "
        "dispatch_timers() called once (what the stock host's timers call)",
        scenario_dispatch_after_unordered_delete,
    ),
    "dispatch_after_unordered_delete_control": Scenario(
        "same with the 100 deletes in reverse creation order (LIFO)",
        scenario_dispatch_after_unordered_delete_control,
        control=True,
    ),
    "delete_without_action": Scenario(
        "join ruleset, {s.churn_sessions} sessions each with one half-joined fact, "
        "<= {s.churn_open} open, random delete order; fresh heap, then dirty heap",
        scenario_delete_without_action,
    ),
    "delete_without_action_control": Scenario(
        "same with a no-op sentinel rule on $begin asserted first in each session",
        scenario_delete_without_action_control,
        control=True,
    ),
    "cross_fact_join": Scenario(
        "$neq against another fact's field, {s.join_sessions} sessions x 1-{s.join_facts} "
        "random facts n in 0..3 (sentinel first), fresh then dirty heap",
        scenario_cross_fact_join,
    ),
    "cross_fact_join_control": Scenario(
        "same join and facts with a constant ($neq n 99) instead of the other fact's field",
        scenario_cross_fact_join_control,
        control=True,
    ),
    "cross_fact_missing_field": Scenario(
        "same cross-fact join; a fact without n, then facts n=1 and n=2 in one session",
        scenario_cross_fact_missing_field,
    ),
    "duplicate_id": Scenario(
        "two different facts with the same id in one session",
        scenario_duplicate_id,
    ),
    "unmatched_fact": Scenario(
        "assert_fact of a fact no rule matches",
        scenario_unmatched_fact,
    ),
    "batch_loss": Scenario(
        "own host, assert_facts([threat, unmatched]); control: a batch of 3 threats",
        scenario_batch_loss,
    ),
    "types": Scenario(
        'string "1000"/"60" vs $gt 500; null vs $lt/$gt; $neq on a missing field',
        scenario_types,
    ),
    "operators": Scenario(
        "$mt with \\.; $in; $iany without $i",
        scenario_operators,
    ),
    "session_limit": Scenario(
        "open up to {s.session_limit_tries} sessions on one ruleset, none deleted",
        scenario_session_limit,
    ),
    "duplicate_ruleset_name": Scenario(
        "register one ruleset name twice on a host, then on a second host",
        scenario_duplicate_ruleset_name,
    ),
    "swallowed_action_error": Scenario(
        "a sync action raising RuntimeError inside assert_fact",
        scenario_swallowed_action_error,
    ),
    "core_unordered_delete": Scenario(
        "core API, no Host: {s.churn_sessions} sessions, <= {s.churn_open} open, each "
        "{s.facts_per_session} facts + 1 more into a random open session, every fact firing a "
        "single-fact rule, actions drained after each assert; random delete order; fresh heap, "
        "then dirty heap",
        scenario_core_unordered_delete,
    ),
    "core_unordered_delete_control": Scenario(
        "same with one session open at a time (what the adapter's lock guarantees)",
        scenario_core_unordered_delete_control,
        control=True,
    ),
    "core_delete_without_action": Scenario(
        "core API, join ruleset, {s.churn_sessions} sessions each with one half-joined fact "
        "(no action ran), <= {s.churn_open} open, random delete order; fresh heap, then dirty heap",
        scenario_core_delete_without_action,
    ),
    "core_delete_without_action_control": Scenario(
        "same with the $begin sentinel asserted and its action drained first (as the adapter does)",
        scenario_core_delete_without_action_control,
        control=True,
    ),
    "core_delete_without_action_single_fact": Scenario(
        "core API, single-fact rules, {s.churn_sessions} sessions each with one fact no rule "
        "matches, one open at a time, no sentinel (the adapter minus its sentinel); fresh heap, "
        "then dirty heap",
        scenario_core_delete_without_action_single_fact,
    ),
    "core_deferred": Scenario(
        "core API: assert a fact while an action of its session is started, not completed; "
        "reproduces if the engine takes it silently (code not 3) and withholds its action from "
        "start_action_for_state; control: drain first, as the adapter does",
        scenario_core_deferred,
    ),
}


# --------------------------------------------------------------------------- child side


def run_child(name: str, sizes: Sizes) -> NoReturn:
    """Run one scenario in this (child) process and print its RESULT line."""
    checks = SCENARIOS[name].run(sizes)
    print("RESULT " + json.dumps([asdict(check) for check in checks]), flush=True)
    sys.stderr.flush()
    # Skip interpreter teardown: the stock host's daemon timer threads may still be
    # inside the engine, and a crash there would hide the result just printed.
    os._exit(0)


# --------------------------------------------------------------------------- parent side


@dataclass(frozen=True)
class Report:
    """What the parent saw of one child: checks, the tried text and the time."""

    name: str
    tried: str
    checks: list[Check]
    seconds: float


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return "unknown"


def lines_with(prefix: str, text: str) -> list[str]:
    return [line[len(prefix) :] for line in text.splitlines() if line.startswith(prefix)]


def crash_check(scenario: Scenario, signum: int, last_progress: str | None) -> Check:
    where = f" after '{last_progress}'" if last_progress else " before any progress"
    detail = f"crash signal {signum} ({signal_name(signum)}){where}"
    if scenario.control:
        return Check("", CONTROL_FAILED, detail)
    return Check("", REPRODUCES, detail)


def interpret(scenario: Scenario, completed: subprocess.CompletedProcess[str]) -> list[Check]:
    """Turn a finished child into checks: a result, a crash, or an error."""
    steps = lines_with("PROGRESS ", completed.stdout)
    last = steps[-1] if steps else None
    if completed.returncode < 0:
        return [crash_check(scenario, -completed.returncode, last)]
    results = lines_with("RESULT ", completed.stdout)
    if completed.returncode == 0 and results:
        return [Check(**item) for item in json.loads(results[-1])]
    tail = (completed.stderr.strip().splitlines() or ["no output"])[-1]
    return [Check("", ERROR, f"child exited {completed.returncode}: {tail}")]


def run_parent(name: str, sizes: Sizes, quick: bool) -> Report:
    """Run one scenario in a child process and interpret how it ended."""
    scenario = SCENARIOS[name]
    command = [sys.executable, os.path.abspath(__file__), "--scenario", name]
    if quick:
        command.append("--quick")
    started = time.perf_counter()
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=scenario.timeout, check=False
        )
        checks = interpret(scenario, completed)
    except subprocess.TimeoutExpired:
        checks = [Check("", ERROR, f"timeout after {scenario.timeout:.0f}s (hang?)")]
    seconds = time.perf_counter() - started
    return Report(name, scenario.tried.format(s=sizes), checks, seconds)


def label(report: Report, check: Check) -> str:
    return f"{report.name}.{check.label}" if check.label else report.name


def print_report(report: Report) -> None:
    for check in report.checks:
        print(
            f"{label(report, check)} | tried: {report.tried} | {check.outcome}"
            f" | {report.seconds:.1f}s",
            flush=True,
        )


def shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def print_summary(reports: list[Report], wall: float, quick: bool) -> None:
    rows = [
        (
            label(report, check),
            check.verdict,
            shorten(check.detail, SUMMARY_DETAIL_WIDTH),
            f"{report.seconds:.1f}",
        )
        for report in reports
        for check in report.checks
    ]
    header = ("hazard", "verdict", "detail", "s")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]
    print()
    print(f"Summary ({'quick' if quick else 'full'} run, durable-rules {durable_version()}):")
    for row in [header, *rows]:
        cells = [row[i].ljust(widths[i]) for i in range(3)]
        print("  " + "  ".join([*cells, row[3].rjust(5)]))
    counts = {verdict: sum(1 for row in rows if row[1] == verdict) for verdict in VERDICTS}
    tally = ", ".join(f"{count} {verdict}" for verdict, count in counts.items() if count)
    print(f"\n{tally}; wall time {wall:.1f}s")


def durable_version() -> str:
    try:
        return metadata.version("durable-rules")
    except metadata.PackageNotFoundError:
        return "unknown"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts")
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(SCENARIOS),
        metavar="NAME",
        help="run only this scenario (repeatable)",
    )
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    sizes = QUICK if args.quick else FULL
    if args.scenario:
        run_child(args.scenario, sizes)
    started = time.perf_counter()
    reports = []
    for name in args.only or list(SCENARIOS):
        report = run_parent(name, sizes, args.quick)
        print_report(report)
        reports.append(report)
    print_summary(reports, time.perf_counter() - started, args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
