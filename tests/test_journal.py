"""stalkrisk.journal: an incident journal in CSV becomes contacts, and bad rows say where."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import stalkrisk
from stalkrisk import journal

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "docs" / "examples" / "journal.csv"
SECRET = "SENTINEL-7f3a-do-not-echo"
"""Planted in free-text cells; it must never reach an error message."""

HEADER = "when,behaviours"
WHEN = "2025-03-01T21:40+01:00"


def read(text: str, **kwargs: object) -> tuple[stalkrisk.Contact, ...]:
    return journal.read_contacts(io.StringIO(text), **kwargs)  # type: ignore[arg-type]


def problems_of(text: str, **kwargs: object) -> list[tuple[str, str]]:
    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        read(text, **kwargs)
    return [(p.loc, p.type) for p in caught.value.problems]


# --- the sample ----------------------------------------------------------------------------


def test_the_sample_journal_reads_every_row() -> None:
    contacts = journal.read_contacts(SAMPLE)

    assert [c.id for c in contacts] == [f"c0{n}" for n in range(1, 9)]
    assert all(c.at.utcoffset() in {timedelta(hours=1), timedelta(hours=2)} for c in contacts)
    assert contacts[2].behaviours == (
        stalkrisk.Behaviour.UNWANTED_CORRESPONDENCE,
        stalkrisk.Behaviour.SOCIAL_MEDIA_CONTACT,
    )
    assert contacts[6].specific_threat
    assert contacts[7].witnesses == ("neighbour", "shop assistant")


def test_the_sample_uses_every_column() -> None:
    header = SAMPLE.read_text(encoding="utf-8").splitlines()[0].split(",")

    assert sorted(header) == sorted(journal.COLUMNS)


def test_a_path_a_string_path_and_an_open_file_read_alike(tmp_path: Path) -> None:
    by_path = journal.read_contacts(SAMPLE)
    by_str = journal.read_contacts(str(SAMPLE))
    with SAMPLE.open(encoding="utf-8", newline="") as stream:
        by_stream = journal.read_contacts(stream)

    assert by_path == by_str == by_stream


def test_docs_show_the_sample_file_and_the_real_error_text() -> None:
    page = (ROOT / "docs" / "journal.md").read_text(encoding="utf-8")
    blocks = dict(re.findall(r"```(csv|text)\n(.*?)```", page, re.S))
    bad = io.StringIO(
        "When,Behaviours,What happened,Weapon\n"
        "2025-03-01T21:40+01:00,unwanted calls,Rang twice and hung up.,no\n"
        "2025-03-02 21:40,unwanted_cals;threat,Said something I will not write here.,perhaps\n"
        "2025-03-04T08:00+01:00,,Note without a code.,\n"
    )
    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        journal.read_contacts(bad)

    assert blocks["csv"] == SAMPLE.read_text(encoding="utf-8")
    assert blocks["text"] == str(caught.value) + "\n"


# --- columns -------------------------------------------------------------------------------


def test_every_column_maps_to_its_contact_field() -> None:
    text = (
        "id,when,behaviours,channel,targets,location,what_happened,witnesses,evidence,"
        "response,ongoing,weapon,specific_threat\n"
        "x-1,2025-03-01T21:40+01:00,threat;following,vehicle,clinician;family,Lane,"
        "Said a thing,A;B,Dashcam;Photo,Drove on,yes,true,1\n"
    )

    [contact] = read(text)

    assert contact == stalkrisk.Contact(
        id="x-1",
        at=datetime(2025, 3, 1, 21, 40, tzinfo=timezone(timedelta(hours=1))),
        behaviours=(stalkrisk.Behaviour.THREAT, stalkrisk.Behaviour.FOLLOWING),
        channel=stalkrisk.Channel.VEHICLE,
        targets=(stalkrisk.Target.CLINICIAN, stalkrisk.Target.FAMILY),
        location="Lane",
        note="Said a thing",
        witnesses=("A", "B"),
        evidence=("Dashcam", "Photo"),
        response="Drove on",
        ongoing=True,
        weapon=True,
        specific_threat=True,
    )


def test_optional_columns_take_the_contact_defaults() -> None:
    [contact] = read(f"{HEADER}\n{WHEN},gift\n")

    assert contact.id == "j2"
    assert contact.targets == (stalkrisk.Target.CLINICIAN,)
    assert (contact.channel, contact.note, contact.location, contact.response) == (None,) * 4
    assert (contact.witnesses, contact.evidence) == ((), ())
    assert (contact.ongoing, contact.weapon, contact.specific_threat) == (False, False, False)


def test_empty_cells_take_the_defaults_too() -> None:
    text = f"when,behaviours,channel,targets,what_happened,witnesses,ongoing\n{WHEN},gift,,,,,\n"

    [contact] = read(text)

    assert contact.channel is None
    assert contact.note is None
    assert contact.witnesses == ()
    assert contact.targets == (stalkrisk.Target.CLINICIAN,)
    assert not contact.ongoing


@pytest.mark.parametrize(
    "cell",
    ["unwanted_calls;threat", "unwanted_calls|threat", "unwanted_calls ; threat ;",
     " Unwanted Calls|THREAT"],
)  # fmt: skip
def test_behaviours_split_on_semicolon_or_bar_and_ignore_case(cell: str) -> None:
    [contact] = read(f'{HEADER}\n{WHEN},"{cell}"\n')

    assert contact.behaviours == (stalkrisk.Behaviour.UNWANTED_CALLS, stalkrisk.Behaviour.THREAT)


def test_targets_split_like_behaviours_and_free_text_lists_split_on_semicolons_only() -> None:
    [contact] = read(
        "when,behaviours,targets,witnesses,evidence\n"
        f"{WHEN},gift,family|colleagues,Ann; Bo ;,call trace | page 2;photo\n"
    )

    assert contact.targets == (stalkrisk.Target.FAMILY, stalkrisk.Target.COLLEAGUES)
    assert contact.witnesses == ("Ann", "Bo")
    assert contact.evidence == ("call trace | page 2", "photo")


def test_header_names_ignore_case_spaces_and_hyphens() -> None:
    [contact] = read(
        f"WHEN , Behaviours,What Happened,Specific-Threat,ID\n{WHEN},threat,Shouted,Yes,a1\n"
    )

    assert contact.id == "a1"
    assert contact.note == "Shouted"
    assert contact.specific_threat


@pytest.mark.parametrize(
    ("cell", "value"),
    [("true", True), ("YES", True), ("1", True), ("False", False), ("no", False),
     ("0", False), ("", False), ("  yes ", True)],
)  # fmt: skip
def test_booleans(cell: str, value: bool) -> None:
    [contact] = read(f"when,behaviours,ongoing\n{WHEN},following,{cell}\n")

    assert contact.ongoing is value


# --- times ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2025-03-01T21:40+01:00", datetime(2025, 3, 1, 20, 40, tzinfo=UTC)),
        ("2025-03-01 21:40:30-05:00", datetime(2025, 3, 2, 2, 40, 30, tzinfo=UTC)),
        ("2025-03-01T21:40Z", datetime(2025, 3, 1, 21, 40, tzinfo=UTC)),
    ],
)
def test_times_keep_their_offset(cell: str, expected: datetime) -> None:
    [contact] = read(f"{HEADER}\n{cell},gift\n")

    assert contact.at == expected


def test_default_timezone_reads_naive_times_as_local_time_with_summer_time() -> None:
    text = f"{HEADER}\n2025-03-01T21:40,gift\n2025-07-01T21:40,gift\n{WHEN},gift\n"

    winter, summer, given = read(text, default_timezone="Europe/Berlin")

    assert winter.at.utcoffset() == timedelta(hours=1)
    assert summer.at.utcoffset() == timedelta(hours=2)
    assert given.at.isoformat() == "2025-03-01T21:40:00+01:00"
    [other] = read(f"{HEADER}\n2025-03-01T21:40,gift\n", default_timezone=ZoneInfo("Asia/Tokyo"))
    assert other.at.utcoffset() == timedelta(hours=9)


def test_an_unknown_timezone_name_is_an_argument_error() -> None:
    with pytest.raises(ValueError, match="IANA"):
        read(f"{HEADER}\n{WHEN},gift\n", default_timezone="Mars/Olympus")


# --- ids and rows --------------------------------------------------------------------------


def test_default_ids_are_the_spreadsheet_row_numbers_counting_blank_and_multiline_rows() -> None:
    text = f'when,behaviours,what_happened\n{WHEN},gift,"two\nlines"\n\n,,\n{WHEN},following,\n'

    contacts = read(text)

    assert [c.id for c in contacts] == ["j2", "j5"]
    assert contacts[0].note == "two\nlines"


def test_id_prefix_and_given_ids() -> None:
    text = f"id,{HEADER}\nown,{WHEN},gift\n,{WHEN},gift\n"

    assert [c.id for c in read(text, id_prefix="desk.")] == ["own", "desk.3"]


@pytest.mark.parametrize("prefix", ["my journal", "-x", "ü"])
def test_an_id_prefix_that_makes_bad_ids_is_an_argument_error(prefix: str) -> None:
    with pytest.raises(ValueError, match="id_prefix"):
        read(f"{HEADER}\n{WHEN},gift\n", id_prefix=prefix)


def test_a_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(f"\ufeff{HEADER}\r\n{WHEN},gift\r\n".encode())

    [from_file] = journal.read_contacts(path)
    [from_stream] = read(f"\ufeff{HEADER}\n{WHEN},gift\n")

    assert from_file.id == from_stream.id == "j2"


# --- bad rows ------------------------------------------------------------------------------

BAD_ROWS = {
    "bad time": ("when,behaviours,what_happened,location,witnesses",
                 f"yesterday {SECRET},gift,{SECRET},{SECRET},{SECRET}",
                 "row 2, column when", "csv_bad_time"),
    "date without time": ("when,behaviours,what_happened",
                          f"2025-03-01,gift,{SECRET}", "row 2, column when", "csv_bad_time"),
    "empty time": ("when,behaviours,what_happened",
                   f",gift,{SECRET}", "row 2, column when", "csv_missing_time"),
    "naive time": ("when,behaviours,what_happened,location,witnesses",
                   f"2025-03-01T21:40,gift,{SECRET},{SECRET},{SECRET}",
                   "row 2, column when", "csv_naive_time"),
    "unknown behaviour": ("when,behaviours,what_happened,location,witnesses",
                          f"{WHEN},gift;{SECRET},{SECRET},{SECRET},{SECRET}",
                          "row 2, column behaviours", "csv_unknown_behaviour"),
    "empty behaviours": ("when,behaviours,what_happened,location,witnesses",
                         f"{WHEN}, ; ,{SECRET},{SECRET},{SECRET}",
                         "row 2, column behaviours", "csv_empty_behaviours"),
    "bad boolean": ("when,behaviours,weapon,what_happened,location,witnesses",
                    f"{WHEN},threat,{SECRET},{SECRET},{SECRET},{SECRET}",
                    "row 2, column weapon", "csv_bad_boolean"),
    "unknown channel": ("when,behaviours,channel,what_happened",
                        f"{WHEN},gift,{SECRET},{SECRET}",
                        "row 2, column channel", "csv_unknown_channel"),
    "two channels": ("when,behaviours,channel,what_happened",
                     f"{WHEN},gift,phone;text,{SECRET}",
                     "row 2, column channel", "csv_several_codes"),
    "unknown target": ("when,behaviours,targets,what_happened",
                       f"{WHEN},gift,{SECRET},{SECRET}",
                       "row 2, column targets", "csv_unknown_target"),
    "bad id": ("id,when,behaviours,what_happened",
               f"has space {SECRET},{WHEN},gift,{SECRET}",
               "row 2, column id", "string_pattern_mismatch"),
    "behaviour twice": ("when,behaviours,what_happened",
                        f"{WHEN},gift;Gift,{SECRET}", "row 2, column behaviours", "inconsistent"),
    "specific threat without threat": ("when,behaviours,specific_threat,what_happened",
                                       f"{WHEN},gift,yes,{SECRET}",
                                       "row 2, column specific_threat", "inconsistent"),
    "note too long": ("when,behaviours,what_happened",
                      f"{WHEN},gift,{SECRET * 1000}",
                      "row 2, column what_happened", "string_too_long"),
    "witness too long": ("when,behaviours,witnesses",
                         f"{WHEN},gift,ok;{SECRET * 100}",
                         "row 2, column witnesses", "string_too_long"),
    "extra cells": ("when,behaviours",
                    f"{WHEN},gift,{SECRET}", "row 2", "csv_extra_cells"),
    "unnamed column with a value": ("when,behaviours,",
                                    f"{WHEN},gift,{SECRET}", "row 2, column 3",
                                    "csv_unnamed_column"),
}  # fmt: skip


@pytest.mark.parametrize(("header", "row", "loc", "kind"), BAD_ROWS.values(), ids=BAD_ROWS)
def test_each_bad_row_names_row_and_column_and_never_echoes_the_cell(
    header: str, row: str, loc: str, kind: str
) -> None:
    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        read(f"{header}\n{row}\n")

    assert [(p.loc, p.type) for p in caught.value.problems] == [(loc, kind)]
    assert SECRET not in str(caught.value)
    assert not any(SECRET in p.msg or SECRET in p.loc for p in caught.value.problems)
    assert caught.value.problems[0].msg  # says how to fix it


def test_messages_say_how_to_fix() -> None:
    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        read(f"{HEADER}\n2025-03-01T21:40,unwanted_cals\n")

    naive, unknown = caught.value.problems
    assert "2025-03-01T21:40+01:00" in naive.msg
    assert "default_timezone" in naive.msg
    assert "did you mean 'unwanted_calls'?" in unknown.msg
    assert "following, surveillance" in unknown.msg


def test_an_unknown_column_is_named_in_row_one() -> None:
    problems = problems_of(f"when,behaviours,Notes,what_hapened\n{WHEN},gift,x,y\n")

    assert problems == [
        ("row 1, column notes", "csv_unknown_column"),
        ("row 1, column what_hapened", "csv_unknown_column"),
    ]
    with pytest.raises(stalkrisk.CaseValidationError, match="did you mean 'what_happened'"):
        read(f"when,behaviours,what_hapened\n{WHEN},gift,y\n")


def test_a_very_long_unknown_column_name_is_cut_short() -> None:
    name = "x" * 500

    [(loc, kind)] = problems_of(f"when,behaviours,{name}\n{WHEN},gift,\n")

    assert kind == "csv_unknown_column"
    assert len(loc) < 80


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("when,what_happened", [("row 1, column behaviours", "csv_missing_column")]),
        ("behaviours", [("row 1, column when", "csv_missing_column")]),
        ("when,behaviours,When", [("row 1, column when", "csv_duplicate_column")]),
    ],
)
def test_header_problems(header: str, expected: list[tuple[str, str]]) -> None:
    assert problems_of(f"{header}\n{WHEN},gift,x\n")[: len(expected)] == expected


@pytest.mark.parametrize("text", ["", "\n", " , \n2025-03-01T21:40+01:00,gift\n"])
def test_a_file_without_a_header(text: str) -> None:
    assert problems_of(text) == [("row 1", "csv_no_header")]


def test_a_duplicate_id_names_the_later_row_and_the_earlier_one() -> None:
    text = f"id,{HEADER},what_happened\na,{WHEN},gift,x\nb,{WHEN},gift,x\na,{WHEN},gift,{SECRET}\n"

    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        read(text)

    [problem] = caught.value.problems
    assert (problem.loc, problem.type) == ("row 4, column id", "csv_duplicate_id")
    assert "row 2" in problem.msg
    assert SECRET not in str(caught.value)


def test_a_given_id_that_clashes_with_a_default_id_is_reported() -> None:
    text = f"id,{HEADER}\nj3,{WHEN},gift\n,{WHEN},gift\n"

    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        read(text)

    [problem] = caught.value.problems
    assert (problem.loc, problem.type) == ("row 3, column id", "csv_duplicate_id")
    assert "default id" in problem.msg


def test_several_bad_rows_are_all_reported_in_row_order() -> None:
    text = (
        "when,behaviours,weapon,what_happened\n"
        f"{WHEN},gift,no,fine\n"
        f"not a time,gift,no,{SECRET}\n"
        f"{WHEN},stalked,maybe,{SECRET}\n"
        f"{WHEN},gift,no,fine\n"
        f"2025-03-01T21:40,,no,{SECRET}\n"
    )

    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        read(text)

    assert [(p.loc, p.type) for p in caught.value.problems] == [
        ("row 3, column when", "csv_bad_time"),
        ("row 4, column behaviours", "csv_unknown_behaviour"),
        ("row 4, column weapon", "csv_bad_boolean"),
        ("row 6, column when", "csv_naive_time"),
        ("row 6, column behaviours", "csv_empty_behaviours"),
    ]
    assert "5 problems" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    path.write_bytes(f"{HEADER},what_happened\n{WHEN},gift,caf\xe9 {SECRET}\n".encode("latin-1"))

    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        journal.read_contacts(path)

    assert [p.type for p in caught.value.problems] == ["csv_encoding"]
    assert SECRET not in str(caught.value)


def test_a_binary_stream_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="text mode"):
        journal.read_contacts(io.BytesIO(b"when,behaviours\n"))  # type: ignore[arg-type]


# --- read_case -----------------------------------------------------------------------------


def test_read_case_builds_a_case_that_assesses() -> None:
    case = journal.read_case(
        SAMPLE,
        assessed_at="2025-04-10T09:00:00+02:00",
        client="current",
        fear="significant",
        boundaries={"warnings": [{"at": "2025-04-01T15:00:00+02:00", "supervisor": True}]},
    )
    result = stalkrisk.assess(case)

    assert isinstance(case, stalkrisk.Case)
    assert len(case.contacts) == 8
    assert case.fear.level is stalkrisk.FearLevel.SIGNIFICANT
    assert result.level == "police"
    assert result.urgent
    assert result.threshold.met
    assert result.elements.threat.evidence == ("c07",)


def test_read_case_takes_models_too() -> None:
    case = journal.read_case(
        io.StringIO(f"{HEADER}\n{WHEN},gift\n"),
        assessed_at=datetime(2025, 3, 3, 9, tzinfo=UTC),
        client=stalkrisk.ClientHistory(relationship=stalkrisk.Relationship.FORMER),
        fear=stalkrisk.Fear(family_afraid=True),
        boundaries=stalkrisk.Boundaries(),
    )

    assert case.client.relationship is stalkrisk.Relationship.FORMER
    assert case.fear.family_afraid
    assert stalkrisk.assess(case).level == "consultation"


def test_read_case_reports_a_late_entry_at_its_row_and_other_problems_by_path() -> None:
    text = f"{HEADER}\n{WHEN},gift\n\n2025-05-01T10:00+02:00,following\n"

    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        journal.read_case(
            io.StringIO(text),
            assessed_at="2025-04-30T09:00+02:00",
            client={"relationship": "current", "therapy_start": "2026-01-01"},
        )

    assert [(p.loc, p.type) for p in caught.value.problems] == [
        ("row 4, column when", "inconsistent"),
        ("client.therapy_start", "inconsistent"),
    ]
    assert caught.value.problems[0].msg.startswith("when is after assessed_at")


def test_read_case_passes_journal_problems_through() -> None:
    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        journal.read_case(
            io.StringIO(f"{HEADER}\n2025-03-01T21:40,gift\n"),
            assessed_at="2025-04-30T09:00+02:00",
            client="current",
        )
    assert [p.loc for p in caught.value.problems] == ["row 2, column when"]

    case = journal.read_case(
        io.StringIO(f"{HEADER}\n2025-03-01T21:40,gift\n"),
        assessed_at="2025-04-30T09:00+02:00",
        client="current",
        default_timezone="Europe/Berlin",
        id_prefix="k",
    )
    assert case.contacts[0].id == "k2"


def _journal_message(code: str) -> str:
    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        journal.read_contacts(io.StringIO(f"when,behaviours\n2025-03-01T21:40Z,{code}\n"))
    [problem] = caught.value.problems
    return problem.msg


def test_the_journal_suggests_only_a_close_code() -> None:
    # The journal asks for more likeness (0.75) than the other callers (0.6).
    assert _journal_message("unwanted_cals").startswith(
        "the value is not a behaviour code (did you mean 'unwanted_calls'?); use one of: "
    )
    assert _journal_message("phone_calls").startswith(
        "the value is not a behaviour code; use one of: "
    )
