"""stalkrisk.journal exports contacts as a journal (CSV or DataFrame) that reads back equal."""

from __future__ import annotations

import csv
import io
from datetime import timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import stalkrisk
from stalkrisk import journal
from stalkrisk.strategies import cases

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "docs" / "examples" / "journal.csv"
SECRET = "SENTINEL-2d41-do-not-echo"
"""Planted in free text; it must never reach an error message."""

DELIMITERS = st.sampled_from([",", ";", "\t"])

# Free text as clinicians write it, and worse: delimiters, quotes, line breaks, any
# character UTF-8 can hold.  The journal strips surrounding spaces and reads empty
# text as none, so the texts drawn have neither.
_TEXT = (
    st.text(st.sampled_from(",;\t\"'\n\r\r\n |=") | st.characters(codec="utf-8"), max_size=30)
    .map(str.strip)
    .filter(bool)
)
# Items of witnesses and evidence are separated by ';', so an item holds none.
_ITEM = _TEXT.map(lambda text: text.replace(";", ",").strip()).filter(bool)
_OFFSETS = st.integers(min_value=-12 * 4, max_value=14 * 4).map(
    lambda quarters: timezone(timedelta(minutes=15 * quarters))
)


@st.composite
def journal_contacts(draw: st.DrawFn) -> tuple[stalkrisk.Contact, ...]:
    """The contacts of a drawn case, each with free text and its own UTC offset."""
    contacts = []
    for contact in draw(cases(max_contacts=6)).contacts:
        data = contact.model_dump()
        data["at"] = contact.at.astimezone(draw(_OFFSETS))
        for field in ("location", "note", "response"):
            data[field] = draw(st.none() | _TEXT)
        for field in ("witnesses", "evidence"):
            data[field] = draw(st.lists(_ITEM, max_size=3))
        contacts.append(stalkrisk.Contact.model_validate(data))
    return tuple(contacts)


def written(contacts: Any, **kwargs: Any) -> str:
    stream = io.StringIO()
    journal.write_csv(contacts, stream, **kwargs)
    return stream.getvalue()


def same_times(left: tuple[stalkrisk.Contact, ...], right: tuple[stalkrisk.Contact, ...]) -> bool:
    """Equal contacts compare times as instants; a journal keeps each offset too."""
    return [c.at.isoformat() for c in left] == [c.at.isoformat() for c in right]


# --- round trips ---------------------------------------------------------------------------


@given(contacts=journal_contacts(), delimiter=DELIMITERS)
def test_contacts_written_as_csv_read_back_equal(
    contacts: tuple[stalkrisk.Contact, ...], delimiter: str
) -> None:
    text = written(contacts, delimiter=delimiter)

    detected = journal.read_contacts(io.StringIO(text, newline=""))
    given_delimiter = journal.read_contacts(io.StringIO(text, newline=""), delimiter=delimiter)

    assert detected == given_delimiter == contacts
    assert same_times(detected, contacts)


@given(contacts=journal_contacts())
def test_contacts_as_a_dataframe_read_back_equal(contacts: tuple[stalkrisk.Contact, ...]) -> None:
    back = journal.read_contacts(journal.to_dataframe(contacts))

    assert back == contacts
    assert same_times(back, contacts)


def test_a_case_written_to_a_file_reads_back_as_its_contacts(tmp_path: Path) -> None:
    case = journal.read_case(
        SAMPLE, assessed_at="2025-04-10T09:00:00+02:00", client="current", fear="significant"
    )
    path = tmp_path / "export.csv"

    journal.write_csv(case, path, delimiter=";")

    assert journal.read_contacts(path) == case.contacts
    assert path.read_text(encoding="utf-8").startswith("id;when;behaviours;")


def test_an_open_file_written_with_newline_empty_keeps_line_breaks_in_cells(
    tmp_path: Path,
) -> None:
    contacts = journal.read_contacts(
        io.StringIO('when,behaviours,what_happened\n2025-03-01T21:40Z,gift,"one\r\ntwo\nthree"\n')
    )
    path = tmp_path / "export.csv"
    with path.open("w", encoding="utf-8", newline="") as stream:
        journal.write_csv(contacts, stream)

    assert journal.read_contacts(path)[0].note == "one\r\ntwo\nthree"


# --- the written form ----------------------------------------------------------------------


def test_write_csv_writes_every_column_in_order_and_quotes_what_needs_it() -> None:
    contacts = journal.read_contacts(SAMPLE)

    rows = list(csv.reader(io.StringIO(written(contacts[6:7]))))

    assert rows[0] == list(journal.COLUMNS)
    assert dict(zip(rows[0], rows[1], strict=True)) == {
        "id": "c07",
        "when": "2025-04-06T20:15:00+02:00",
        "behaviours": "unwanted_calls;threat",
        "channel": "phone",
        "targets": "clinician",
        "location": "Mobile phone",
        "what_happened": contacts[6].note,
        "witnesses": "",
        "evidence": "voicemail kept;call trace requested from the carrier",
        "response": "Told my supervisor; started a safety plan.",
        "ongoing": "no",
        "weapon": "no",
        "specific_threat": "yes",
    }


def test_write_csv_of_no_contacts_writes_the_header() -> None:
    assert written(()) == ",".join(journal.COLUMNS) + "\r\n"


def test_a_witness_holding_a_semicolon_cannot_be_written_and_is_not_quoted() -> None:
    contact = stalkrisk.Contact(
        id="k9", at="2025-03-01T21:40Z", behaviours=("gift",), witnesses=(f"A; {SECRET}",)
    )

    with pytest.raises(ValueError, match="contact k9: an item of witnesses holds ';'") as caught:
        written([contact])
    with pytest.raises(ValueError, match="contact k9"):
        journal.to_dataframe([contact])
    assert SECRET not in str(caught.value)


def test_write_csv_refuses_a_binary_stream_and_a_bad_delimiter() -> None:
    contacts = journal.read_contacts(SAMPLE)

    with pytest.raises(TypeError, match="text mode"):
        journal.write_csv(contacts, io.BytesIO())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="delimiter"):
        written(contacts, delimiter="\n")


def test_to_dataframe_has_the_journal_columns_booleans_and_aware_times() -> None:
    frame = journal.to_dataframe(journal.read_contacts(SAMPLE))

    assert list(frame.columns) == list(journal.COLUMNS)
    assert frame["weapon"].dtype == bool
    assert frame["specific_threat"].tolist()[6] is True
    times = [moment.isoformat() for moment in frame["when"].tolist()]
    assert (times[0], times[7]) == ("2025-03-03T18:45:00+01:00", "2025-04-09T19:05:00+02:00")
    assert frame["behaviours"].tolist()[6] == "unwanted_calls;threat"
    assert frame["witnesses"].isna().tolist()[0]


def test_to_dataframe_of_a_case_with_one_offset_has_a_datetime_column() -> None:
    case = stalkrisk.example_case()

    frame = journal.to_dataframe(case)

    assert isinstance(frame["when"].dtype, pd.DatetimeTZDtype)
    assert journal.read_contacts(frame) == case.contacts
