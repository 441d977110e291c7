"""Every value reaches the engine in a form it parses, and no two facts share an identity.

The engine's JSON parser takes an exponent only after a fraction (``1e-05`` is a
parse error, ``1.0e-05`` is not) and it finds a stored fact by a 32-bit hash of
its id without comparing the ids, so two facts whose hashes collide are one.
"""

from __future__ import annotations

import itertools
import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from builders import pack_without_episode_ages
from hypothesis import given
from hypothesis import strategies as st

import stalkrisk
from stalkrisk import _engine
from stalkrisk._packmodel import FieldTest

DAY_US = 86_400_000_000
# Day counts from 1 µs to 10,000 days, where a span, a gap or an age can fall.
EDGES = [1 / DAY_US, 2 / DAY_US, 1e-5, 0.01, 0.5, 1.0, 7.0, 13.999999988425926, 14.0, 30.0]
EDGES += [365.25, 3652.5, 10_000.0, 1e16, 5e-324, 1e300]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1e-05, "1.0e-05"),
        (-1e-07, "-1.0e-07"),
        (1e16, "1.0e+16"),
        (1.5e-05, "1.5e-05"),
        (0.5, "0.5"),
        (14.0, "14.0"),
        (True, "1"),
        (2**63 - 1, "9223372036854775807"),
    ],
)
def test_numbers_are_written_with_a_fraction_before_any_exponent(value: float, text: str) -> None:
    assert _engine._number(value) == text


@pytest.mark.parametrize("value", [2**63, -(2**63), math.inf, math.nan])
def test_numbers_the_engine_would_misread_are_refused(value: float) -> None:
    with pytest.raises(ValueError, match=r"engine|finite"):
        _engine._number(value)


def _fires(threshold: float, value: float) -> bool:
    """Whether ``value >= threshold`` fires in the real engine."""
    rule = _engine.EngineRule("edge", "case", FieldTest(field="x", op="gte", value=threshold))
    name = f"stalkrisk_test_edge_{threshold!r}".replace(".", "_").replace("-", "m")
    ruleset = _engine.compile_ruleset(name.replace("+", "p"), "edges", [rule])

    def work() -> bool:
        with ruleset.session() as session:
            session.assert_fact("case", 0, {"x": value})
            return [f.rule_id for f in session.firings] == ["edge"]

    return _engine.run(work)


@pytest.mark.parametrize("edge", EDGES)
def test_the_engine_compares_every_edge_exactly_as_python_does(edge: float) -> None:
    below = math.nextafter(edge, -math.inf)
    above = math.nextafter(edge, math.inf)

    assert _fires(edge, edge)
    assert _fires(edge, above)
    assert not _fires(edge, below)


def test_calls_864_ms_apart_with_violence_are_graded_police_and_urgent() -> None:
    """The span is 1e-05 days, whose bare-exponent JSON the engine once refused."""
    at = datetime(2025, 3, 1, 12, tzinfo=UTC)
    case = {
        "assessed_at": (at + timedelta(days=2)).isoformat(),
        "client": {"relationship": "former"},
        "contacts": [
            {"id": "a", "at": at.isoformat(), "behaviours": ["unwanted_calls"]},
            {
                "id": "b",
                "at": (at + timedelta(milliseconds=864)).isoformat(),
                "behaviours": ["unwanted_calls"],
            },
            {
                "id": "c",
                "at": (at + timedelta(days=1)).isoformat(),
                "behaviours": ["physical_violence"],
            },
        ],
    }

    result = stalkrisk.assess(case)

    assert result.threshold.span_days == 1e-05
    assert result.level is stalkrisk.Level.POLICE
    assert result.urgent


def _engine_hash(text: str) -> int:
    # The engine's fnv1Hash32 (durable-rules src/rules/state.c): FNV-1a, 32 bits.
    value = 0x811C9DC5
    for byte in text.encode():
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def _colliding_ids() -> tuple[str, str]:
    seen: dict[int, str] = {}
    for n in itertools.count():
        candidate = f"c{n}"
        digest = _engine_hash(candidate)
        if digest in seen:
            return seen[digest], candidate
        seen[digest] = candidate
    raise AssertionError("unreachable")


def test_two_facts_whose_identities_collide_are_one_fact_to_the_engine() -> None:
    """The hazard, on the bare engine: the second fact is reported as seen (code 2).

    A fact's identity is its ``id``, or a hash of its content, and the engine
    finds it by a 32-bit hash of that identity without comparing identities.
    Two ids chosen to collide show it without waiting for content to collide.
    """
    first, second = _colliding_ids()
    rule = _engine.EngineRule("any", "case", FieldTest(field="x", op="gte", value=0))
    ruleset = _engine.compile_ruleset("stalkrisk_test_collision", "collision", [rule])

    def codes() -> list[int]:
        with ruleset.session() as session:
            handle = ruleset.handle
            texts = [
                _engine._json({"kind": "case", "x": n, "sid": session.sid, "id": fact_id})
                for n, fact_id in enumerate((first, second))
            ]
            results = [_engine._NATIVE.assert_fact(handle, text) for text in texts]
            for _, state in results:
                # Run the actions the facts started, so the session ends cleanly.
                if _engine._NATIVE.start_action_for_state(handle, state):
                    while _engine._NATIVE.complete_and_start_action(handle, state):
                        pass
            return [code for code, _ in results]

    assert _engine.run(codes) == [0, 2]


def test_a_fact_taken_for_another_is_asserted_again_with_a_salt_and_fires(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The guard: "seen" can only be a collision, since no fact is asserted twice."""
    stalkrisk.default_rule_pack()
    original = _engine._NATIVE.assert_fact
    salted: list[int] = []

    def colliding_once(handle: int, text: str) -> object:
        fact = json.loads(text)
        if fact.get("kind") == "grade" and "salt" not in fact:
            return (2, 0)  # what the engine answers for a hash collision
        if "salt" in fact:
            salted.append(fact["salt"])
        return original(handle, text)

    monkeypatch.setattr(_engine._NATIVE, "assert_fact", colliding_once)

    result = stalkrisk.assess(
        {
            "assessed_at": "2025-03-02T00:00:00+00:00",
            "client": {"relationship": "former"},
            "contacts": [{"id": "a", "at": "2025-03-01T00:00:00+00:00", "behaviours": ["threat"]}],
        }
    )

    assert salted == [1]
    assert result.level is stalkrisk.Level.POLICE


def test_a_fact_taken_for_another_at_every_salt_fails_closed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stalkrisk.default_rule_pack()
    original = _engine._NATIVE.assert_fact

    def always_seen(handle: int, text: str) -> object:
        if json.loads(text).get("kind") == "grade":
            return (2, 0)
        return original(handle, text)

    monkeypatch.setattr(_engine._NATIVE, "assert_fact", always_seen)

    with pytest.raises(stalkrisk.EngineError, match="code 2"):
        stalkrisk.assess(stalkrisk.example_case())
    assert _engine.open_sessions() == 0


@pytest.mark.slow
def test_fifty_thousand_episodes_that_each_fire_a_rule_are_assessed(tmp_path: Path) -> None:
    """Their facts stay stored, so their content hashes collide about 1 time in 4.

    The pack lets episodes of any age fire the pattern and keeps the 30-day gap, so
    that 50,000 episodes fit in the calendar.
    """
    start = datetime(1, 1, 1, tzinfo=UTC)
    contacts = []
    for n in range(50_000):
        first = start + timedelta(days=45 * n)
        last = first + timedelta(days=14, seconds=n % 86_400)
        contacts.append({"id": f"a{n}", "at": first.isoformat(), "behaviours": ["following"]})
        contacts.append({"id": f"b{n}", "at": last.isoformat(), "behaviours": ["loitering"]})
    case = {
        "assessed_at": (start + timedelta(days=45 * 50_000)).isoformat(),
        "client": {"relationship": "former"},
        "contacts": contacts,
    }

    result = stalkrisk.assess(
        case, rule_pack=pack_without_episode_ages(tmp_path, episode_max_gap_days=30)
    )

    assert result.threshold.episodes == 50_000
    assert result.elements.pattern.present
    assert result.level is stalkrisk.Level.CONSULTATION


def test_a_closed_ruleset_registers_itself_again_when_used() -> None:
    rule = _engine.EngineRule("any", "case", FieldTest(field="x", op="gte", value=0))
    ruleset = _engine.compile_ruleset("stalkrisk_test_reopen", "reopen", [rule])

    def fired() -> list[str]:
        with ruleset.session() as session:
            session.assert_fact("case", 0, {"x": 1})
            return [f.rule_id for f in session.firings]

    ruleset.close()
    ruleset.close()  # closing twice is harmless

    assert _engine.run(fired) == ["any"]


@given(
    st.dictionaries(
        st.text(min_size=1, max_size=8),
        st.integers(-(2**63) + 1, 2**63 - 1)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.booleans()
        | st.text(max_size=8),
        max_size=8,
    )
)
def test_the_flat_fact_encoder_writes_what_the_general_encoder_writes(
    fact: dict[str, int | float | str],
) -> None:
    assert _engine._fact_json(fact) == _engine._json(fact)
