"""The one "did you mean" helper shared by rule packs, vignettes and journals."""

from __future__ import annotations

from stalkrisk._suggest import closest, did_you_mean


def test_closest_gives_a_known_name_or_none() -> None:
    assert closest("span_day", ["span_days", "contacts"]) == "span_days"
    assert closest("zzz", ["span_days", "contacts"]) is None
    assert closest(["span_days"], ["span_days"]) is None
    assert closest("phone_calls", ["unwanted_calls"]) == "unwanted_calls"
    assert closest("phone_calls", ["unwanted_calls"], cutoff=0.75) is None


def test_did_you_mean_words_the_closest_name_or_gives_none() -> None:
    assert did_you_mean("span_day", ["span_days"]) == "did you mean 'span_days'?"
    assert did_you_mean("zzz", ["span_days"]) is None
