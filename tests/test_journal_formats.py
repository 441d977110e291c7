"""stalkrisk.journal reads journals as people keep them: any common delimiter, day-first
dates when asked, and the DataFrame pandas reads."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import stalkrisk
from stalkrisk import journal

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "docs" / "examples" / "journal.csv"
SECRET = "SENTINEL-0b9e-do-not-echo"
"""Planted in free-text cells; it must never reach an error message."""

WHEN = "2025-03-01T21:40+01:00"
CET = timezone(timedelta(hours=1))


def read(text: str, **kwargs: object) -> tuple[stalkrisk.Contact, ...]:
    return journal.read_contacts(io.StringIO(text), **kwargs)  # type: ignore[arg-type]


def problems_of(source: object, **kwargs: object) -> list[tuple[str, str, str]]:
    if isinstance(source, str):
        source = io.StringIO(source)
    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        journal.read_contacts(source, **kwargs)  # type: ignore[arg-type]
    assert SECRET not in str(caught.value)
    return [(p.loc, p.type, p.msg) for p in caught.value.problems]


def sample_with(delimiter: str) -> str:
    """The sample journal, written with ``delimiter`` the way a spreadsheet saves it."""
    stream = io.StringIO()
    journal.write_csv(journal.read_contacts(SAMPLE), stream, delimiter=delimiter)
    return stream.getvalue()


# --- delimiters ----------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
def test_the_delimiter_is_detected_from_the_header(delimiter: str) -> None:
    assert read(sample_with(delimiter)) == journal.read_contacts(SAMPLE)


@pytest.mark.parametrize("delimiter", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
def test_a_given_delimiter_is_used(delimiter: str) -> None:
    assert read(sample_with(delimiter), delimiter=delimiter) == journal.read_contacts(SAMPLE)


def test_a_semicolon_journal_as_a_european_spreadsheet_saves_it(tmp_path: Path) -> None:
    path = tmp_path / "journal.csv"
    path.write_bytes(
        "\ufeffWhen;Behaviours;What happened;Weapon\r\n"
        '2025-03-01T21:40+01:00;"unwanted_calls;threat";Rang, twice;no\r\n'.encode()
    )

    [contact] = journal.read_contacts(path)

    assert contact.behaviours == (stalkrisk.Behaviour.UNWANTED_CALLS, stalkrisk.Behaviour.THREAT)
    assert contact.note == "Rang, twice"
    assert not contact.weapon


@pytest.mark.parametrize(
    ("text", "given", "hint"),
    [
        (f"when;behaviours;what_happened\n{WHEN};gift;{SECRET}\n", ",", "delimiter=';'"),
        (f"when,behaviours,what_happened\n{WHEN},gift,{SECRET}\n", ";", "delimiter=','"),
        (f"when\tbehaviours\twhat_happened\n{WHEN}\tgift\t{SECRET}\n", ",", "delimiter='\\t'"),
    ],
    ids=["semicolon file", "comma file", "tab file"],
)
def test_a_given_delimiter_the_header_contradicts_is_one_hint(
    text: str, given: str, hint: str
) -> None:
    [(loc, kind, msg)] = problems_of(text, delimiter=given)

    assert (loc, kind) == ("row 1", "csv_wrong_delimiter")
    assert hint in msg
    assert "leave delimiter out" in msg


def test_a_header_that_names_no_column_with_any_delimiter_is_read_with_commas() -> None:
    assert [(loc, kind) for loc, kind, _ in problems_of("date;what\n1;2\n")][:3] == [
        ("row 1, column date;what", "csv_unknown_column"),
        ("row 1, column when", "csv_missing_column"),
        ("row 1, column behaviours", "csv_missing_column"),
    ]


def test_a_given_delimiter_is_second_guessed_only_when_another_finds_more_columns() -> None:
    # Split at ';' as at ',' the header names two columns: no hint, the usual problem.
    text = f"when,behaviours,note;location;witnesses\n{WHEN},gift,\n"

    assert [(loc, kind) for loc, kind, _ in problems_of(text, delimiter=",")] == [
        ("row 1, column note;location;witnesses", "csv_unknown_column")
    ]


@pytest.mark.parametrize("delimiter", ["", ",,", '"', "\n", "\r"])
def test_a_delimiter_that_cannot_be_one_is_an_argument_error(delimiter: str) -> None:
    with pytest.raises(ValueError, match="delimiter must be one character"):
        read(f"when,behaviours\n{WHEN},gift\n", delimiter=delimiter)


def test_read_case_takes_the_delimiter_and_dayfirst() -> None:
    case = journal.read_case(
        io.StringIO("when;behaviours\n01.03.2025 21:40;gift\n"),
        assessed_at="2025-03-03T09:00+01:00",
        client="current",
        delimiter=";",
        dayfirst=True,
        default_timezone="Europe/Berlin",
    )

    assert case.contacts[0].at == datetime(2025, 3, 1, 21, 40, tzinfo=CET)


# --- day-first dates -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("31/12/2025 14:30", datetime(2025, 12, 31, 14, 30, tzinfo=CET)),
        ("31.12.2025 14:30", datetime(2025, 12, 31, 14, 30, tzinfo=CET)),
        ("31-12-2025T14:30:15", datetime(2025, 12, 31, 14, 30, 15, tzinfo=CET)),
        ("1.2.2025 9:05", datetime(2025, 2, 1, 9, 5, tzinfo=CET)),
        ("01.07.2025 09:05", datetime(2025, 7, 1, 9, 5, tzinfo=timezone(timedelta(hours=2)))),
        ("01.02.2025 09:05Z", datetime(2025, 2, 1, 9, 5, tzinfo=UTC)),
        (
            "01.02.2025 09:05 -0330",
            datetime(2025, 2, 1, 9, 5, tzinfo=timezone(-timedelta(hours=3.5))),
        ),
        ("2025-02-01T09:05+01:00", datetime(2025, 2, 1, 9, 5, tzinfo=CET)),
    ],
)
def test_dayfirst_reads_day_first_dates(cell: str, expected: datetime) -> None:
    [contact] = read(
        f"when,behaviours\n{cell},gift\n", dayfirst=True, default_timezone="Europe/Berlin"
    )

    assert contact.at == expected
    assert contact.at.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize("cell", ["31/12/2025 14:30", "01.02.2025 09:05+01:00", "31.12.2025"])
def test_without_dayfirst_a_day_first_date_is_a_problem_that_suggests_it(cell: str) -> None:
    [(loc, kind, msg)] = problems_of(
        f"when,behaviours,what_happened\n{cell},gift,{SECRET}\n", default_timezone="UTC"
    )

    assert (loc, kind) == ("row 2, column when", "csv_bad_time")
    assert "pass dayfirst=True" in msg


def test_without_dayfirst_a_date_that_is_not_day_first_does_not_suggest_it() -> None:
    [(_, kind, msg)] = problems_of("when,behaviours\n12/31/2025 14:30,gift\n")

    assert kind == "csv_bad_time"
    assert "dayfirst" not in msg


@pytest.mark.parametrize(
    ("cell", "kind", "words"),
    [
        ("31.02.2025 10:00", "csv_bad_time", "not a valid day-first date"),
        ("12/31/2025 14:30", "csv_bad_time", "not a valid day-first date"),
        ("01.02.2025 25:00", "csv_bad_time", "not a valid day-first date"),
        ("01.02.2025 10:00+24:00", "csv_bad_time", "not a valid day-first date"),
        ("31.12.2025", "csv_bad_time", "without a time of day"),
        ("yesterday", "csv_bad_time", "or, day first, like 31.12.2025 14:30"),
        ("31.12.2025 14:30", "csv_naive_time", "default_timezone="),
    ],
)
def test_dayfirst_problems(cell: str, kind: str, words: str) -> None:
    [(loc, found, msg)] = problems_of(f"when,behaviours\n{cell},gift\n", dayfirst=True)

    assert (loc, found) == ("row 2, column when", kind)
    assert words in msg


# --- DataFrames ----------------------------------------------------------------------------


def test_the_dataframe_pandas_reads_gives_the_same_contacts() -> None:
    assert journal.read_contacts(pd.read_csv(SAMPLE)) == journal.read_contacts(SAMPLE)


def test_a_semicolon_file_read_by_pandas_gives_the_same_contacts() -> None:
    frame = pd.read_csv(io.StringIO(sample_with(";")), sep=";")

    assert journal.read_contacts(frame) == journal.read_contacts(SAMPLE)


def test_read_case_takes_a_dataframe() -> None:
    case = journal.read_case(
        pd.read_csv(SAMPLE), assessed_at="2025-04-10T09:00:00+02:00", client="current"
    )

    assert len(case.contacts) == 8


def test_a_dataframe_may_hold_timestamps_datetimes_numbers_booleans_and_nan() -> None:
    frame = pd.DataFrame(
        {
            "ID": [7, np.nan, 9.0],
            "When": [
                pd.Timestamp("2025-03-01 21:40", tz="Europe/Berlin"),
                datetime(2025, 7, 1, 21, 40),
                pd.Timestamp("2025-03-02 08:00:00.000000001+01:00"),
            ],
            "behaviours": ["gift", "unwanted_calls", "threat"],
            "channel": [None, "phone", np.nan],
            "ongoing": [True, np.False_, np.nan],
            "weapon": [1, 0, 0],
            "what_happened": [np.nan, "Rang", pd.NA],
        },
        dtype=object,
    )

    first, second, third = journal.read_contacts(frame, default_timezone="Europe/Berlin")

    assert [c.id for c in (first, second, third)] == ["7", "j3", "9"]
    assert first.at == datetime(2025, 3, 1, 21, 40, tzinfo=CET)
    assert second.at.isoformat() == "2025-07-01T21:40:00+02:00"
    assert third.at.isoformat() == "2025-03-02T08:00:00+01:00"
    assert (first.channel, second.channel, third.channel) == (None, stalkrisk.Channel.PHONE, None)
    assert (first.ongoing, second.ongoing, third.ongoing) == (True, False, False)
    assert (first.weapon, second.weapon) == (True, False)
    assert (first.note, second.note, third.note) == (None, "Rang", None)


def test_a_datetime64_column_reads_with_its_timezone() -> None:
    frame = pd.DataFrame(
        {
            "when": pd.to_datetime(["2025-03-01 21:40", "2025-07-01 21:40"]).tz_localize(
                "Europe/Berlin"
            ),
            "behaviours": ["gift", "gift"],
        }
    )

    winter, summer = journal.read_contacts(frame)

    assert (winter.at.utcoffset(), summer.at.utcoffset()) == (
        timedelta(hours=1),
        timedelta(hours=2),
    )


def test_dataframe_problems_name_the_row_as_in_the_csv_and_never_echo_a_cell() -> None:
    frame = pd.DataFrame(
        {
            "when": [WHEN, SECRET, date(2025, 3, 1), None],
            "behaviours": ["gift", "gift", "gift", SECRET],
            "what_happened": [SECRET] * 4,
        }
    )

    assert [(loc, kind) for loc, kind, _ in problems_of(frame)] == [
        ("row 3, column when", "csv_bad_time"),
        ("row 4, column when", "csv_bad_time"),
        ("row 5, column when", "csv_missing_time"),
        ("row 5, column behaviours", "csv_unknown_behaviour"),
    ]


def test_an_empty_row_of_a_dataframe_is_skipped_but_counted() -> None:
    frame = pd.DataFrame({"when": [WHEN, None, WHEN], "behaviours": ["gift", np.nan, "threat"]})

    assert [c.id for c in journal.read_contacts(frame)] == ["j2", "j4"]


def test_a_one_column_dataframe_read_with_the_wrong_separator_gets_a_hint() -> None:
    frame = pd.read_csv(io.StringIO(sample_with(";")))

    [(loc, kind, msg)] = problems_of(frame)

    assert (loc, kind) == ("row 1", "csv_wrong_delimiter")
    assert "sep=';'" in msg


def test_a_dataframe_with_an_unknown_column_is_told_like_a_file() -> None:
    frame = pd.DataFrame({"when": [WHEN], "behaviours": ["gift"], "mood": [SECRET]})

    assert [(loc, kind) for loc, kind, _ in problems_of(frame)] == [
        ("row 1, column mood", "csv_unknown_column")
    ]


def test_an_empty_dataframe_with_the_columns_reads_no_contacts() -> None:
    assert journal.read_contacts(pd.DataFrame(columns=["when", "behaviours"])) == ()


def test_a_stream_that_gives_bytes_is_a_type_error() -> None:
    class ByteLines:
        def readline(self) -> bytes:
            return b"when,behaviours\n"

    with pytest.raises(TypeError, match="text mode"):
        journal.read_contacts(ByteLines())  # type: ignore[arg-type]
