"""Contact times become exact microseconds since the epoch, in any zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo

from hypothesis import given
from hypothesis import strategies as st

import stalkrisk
from stalkrisk._features import _microseconds, microseconds_of

_ZONES = st.one_of(
    st.timezones(),  # zoneinfo zones, whose offsets change with the date
    st.builds(
        timezone,
        st.timedeltas(min_value=timedelta(hours=-14), max_value=timedelta(hours=14)).map(
            lambda d: timedelta(minutes=d // timedelta(minutes=1))
        ),
    ),
)


@given(
    st.lists(
        st.datetimes(
            min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=_ZONES
        ),
        max_size=8,
    )
)
def test_the_fast_count_equals_subtracting_the_epoch(moments: list[datetime]) -> None:
    assert microseconds_of(moments) == [_microseconds(at) for at in moments]


def test_times_read_from_json_in_several_offsets_count_exactly() -> None:
    case = stalkrisk.parse_case(
        {
            "assessed_at": "2025-03-01T00:00:00+05:30",
            "client": {"relationship": "former"},
            "contacts": [
                {"id": "a", "at": "2025-02-01T23:59:59.999999-03:00", "behaviours": ["gift"]},
                {"id": "b", "at": "2025-02-02T02:59:59.999999Z", "behaviours": ["gift"]},
            ],
        }
    )
    a, b = microseconds_of(c.at for c in case.contacts)

    assert a == b == _microseconds(datetime(2025, 2, 2, 2, 59, 59, 999_999, tzinfo=UTC))


@given(
    st.lists(
        st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
        max_size=8,
    ),
    _ZONES,
)
def test_times_in_one_zone_count_as_in_many(naive: list[datetime], zone: tzinfo) -> None:
    moments = [at.replace(tzinfo=zone) for at in naive]

    assert microseconds_of(moments) == [_microseconds(at) for at in moments]


def test_times_read_from_json_in_one_offset_count_exactly() -> None:
    case = stalkrisk.parse_case(
        {
            "assessed_at": "2025-03-01T00:00:00-03:00",
            "client": {"relationship": "former"},
            "contacts": [
                {"id": "a", "at": "2025-02-01T23:59:59.999999-03:00", "behaviours": ["gift"]},
                {"id": "b", "at": "1969-12-31T21:00:00-03:00", "behaviours": ["gift"]},
            ],
        }
    )
    a, b = microseconds_of(c.at for c in case.contacts)

    assert (a, b) == (_microseconds(datetime(2025, 2, 2, 2, 59, 59, 999_999, tzinfo=UTC)), 0)
