"""A long case's contacts are read a block at a time, with the same result."""

from __future__ import annotations

import copy
import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

import stalkrisk
from stalkrisk import _features, _registry
from stalkrisk._features import CaseFeatures

_CODES = ["following", "surveillance", "unwanted_calls", "gift", "threat", "out_of_session_contact"]


def _long_case(count: int) -> stalkrisk.Case:
    rng = random.Random(7)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    zones = [UTC, timezone(timedelta(hours=1)), timezone(timedelta(hours=-5, minutes=-30))]
    contacts = []
    for n in range(count):
        at = start + timedelta(seconds=rng.randrange(0, 200 * 86_400))
        contacts.append(
            {
                "id": f"c{n}",
                "at": at.astimezone(rng.choice(zones)).isoformat(),
                "behaviours": rng.sample(_CODES, rng.randint(1, 2)),
                "ongoing": rng.random() < 0.1,
            }
        )
    return stalkrisk.parse_case(
        {
            "assessed_at": "2024-07-20T00:00:00+00:00",
            "client": {"relationship": "former"},
            "contacts": contacts,
        }
    )


def _extract(case: stalkrisk.Case) -> tuple[object, ...]:
    # No signature placed yet, so that the blocks also place signatures.
    extractor = copy.copy(_registry.compiled(stalkrisk.default_rule_pack()).extractor)
    extractor._signatures = {}
    found: CaseFeatures = extractor.extract(case)
    episodes = [
        (e.index, e.positions, e.behaviours, e.span_microseconds, e.age_microseconds, e.current)
        for e in found.episodes
    ]
    evidence = {name: list(positions) for name, positions in found.evidence.items()}
    return found.values, evidence, episodes, found.chronological_ids, list(found.times)


def test_reading_in_blocks_gives_the_features_of_one_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = _long_case(2_500)
    in_blocks = _extract(case)
    monkeypatch.setattr(_features, "_BLOCK", 10_000)

    assert len(case.contacts) < _features._BLOCK
    assert _extract(case) == in_blocks
