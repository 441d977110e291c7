"""The course-of-conduct threshold: two distinct behaviours over at least fourteen days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from builders import assess, at, contact


def test_exactly_fourteen_days_meets_the_threshold() -> None:
    result = assess(contact("a", 0, "following"), contact("b", 14, "surveillance"))

    assert result.threshold.met
    assert result.elements.pattern.present
    assert result.threshold.span_days == 14.0


def test_fourteen_days_minus_one_second_does_not() -> None:
    result = assess(contact("a", 0, "following"), contact("b", at(14, seconds=-1), "surveillance"))

    assert not result.threshold.met
    assert not result.elements.pattern.present
    assert result.threshold.span_days < 14.0


def test_fourteen_days_minus_one_microsecond_does_not() -> None:
    result = assess(
        contact("a", 0, "following"), contact("b", at(14, microseconds=-1), "surveillance")
    )

    assert not result.threshold.met


def test_one_behaviour_for_thirty_days_does_not() -> None:
    result = assess(*(contact(f"c{d}", d, "unwanted_calls") for d in range(0, 31, 3)))

    assert not result.threshold.met
    assert result.threshold.distinct_behaviours == 1
    assert result.threshold.span_days == 30.0


def test_two_behaviours_in_ten_days_do_not() -> None:
    result = assess(contact("a", 0, "following"), contact("b", 10, "surveillance"))

    assert not result.threshold.met
    assert result.threshold.distinct_behaviours == 2


def test_two_behaviours_in_one_contact_persisting_fourteen_days_meet_it() -> None:
    result = assess(contact("a", 0, "following", "surveillance"), contact("b", 14, "following"))

    assert result.threshold.met


def test_boundary_crossings_do_not_count_toward_the_pattern() -> None:
    result = assess(contact("a", 0, "gift"), contact("b", 20, "following"))

    assert not result.threshold.met
    assert result.threshold.distinct_behaviours == 1


def test_escalations_do_not_count_toward_the_pattern() -> None:
    result = assess(contact("a", 0, "property_damage"), contact("b", 20, "following"))

    assert not result.elements.pattern.present


def test_span_is_measured_across_timezones_in_absolute_time() -> None:
    plus_two = timezone(timedelta(hours=2))
    start = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    end = (start + timedelta(days=14)).astimezone(plus_two)

    result = assess(contact("a", start, "following"), contact("b", end, "surveillance"))

    assert result.threshold.met
    assert result.threshold.span_days == 14.0


def test_a_silence_longer_than_the_gap_starts_a_new_episode() -> None:
    result = assess(contact("a", 0, "following"), contact("b", at(90, seconds=1), "surveillance"))

    assert not result.threshold.met
    assert result.threshold.episodes == 2


def test_a_silence_of_exactly_the_gap_stays_in_one_episode() -> None:
    result = assess(contact("a", 0, "following"), contact("b", 90, "surveillance"))

    assert result.threshold.met
    assert result.threshold.episodes == 1


def test_an_isolated_contact_long_before_a_campaign_does_not_make_a_pattern() -> None:
    result = assess(
        contact("old", -700, "unwanted_calls"),
        contact("a", 0, "following"),
        contact("b", 10, "surveillance"),
    )

    assert not result.threshold.met
    assert result.threshold.course_of_conduct == ("a", "b")


def test_a_later_episode_can_meet_the_threshold_alone() -> None:
    result = assess(
        contact("old", -100, "unwanted_calls"),
        contact("a", 0, "following"),
        contact("b", 14, "surveillance"),
    )

    assert result.threshold.met
    assert result.threshold.course_of_conduct == ("a", "b")
    assert result.elements.pattern.evidence == ("a", "b")


def test_threshold_reports_behaviours_span_and_contacts_of_the_course_of_conduct() -> None:
    result = assess(
        contact("a", 0, "following"),
        contact("b", 7, "unwanted_calls", "gift"),
        contact("c", 16.5, "surveillance"),
    )

    threshold = result.threshold
    assert threshold.behaviours == ("following", "surveillance", "unwanted_calls")
    assert threshold.distinct_behaviours == 3
    assert threshold.span_days == 16.5
    assert threshold.course_of_conduct == ("a", "b", "c")
    assert threshold.min_distinct_behaviours == 2
    assert threshold.min_span_days == 14


@pytest.mark.parametrize("days", [14, 15, 30])
def test_threshold_holds_at_and_beyond_fourteen_days(days: int) -> None:
    assert assess(
        contact("a", 0, "loitering"), contact("b", days, "malicious_gossip")
    ).threshold.met
