"""Read an incident journal kept as a spreadsheet (CSV) into contacts or a whole case.

Seed 003 advises keeping an incident journal: when, where, how, who was
targeted, what happened, witnesses, evidence and what you did.  Many people
keep it in a spreadsheet.  Export it as CSV (UTF-8) with a header row, and
this module turns each row into a :class:`stalkrisk.Contact`::

    >>> import io
    >>> from stalkrisk import journal
    >>> csv_text = (
    ...     "when,behaviours,channel\\n"
    ...     "2025-03-01T21:40+01:00,unwanted_calls,phone\\n"
    ... )
    >>> [contact] = journal.read_contacts(io.StringIO(csv_text))
    >>> contact.id, contact.behaviours[0].value, contact.at.isoformat()
    ('j2', 'unwanted_calls', '2025-03-01T21:40:00+01:00')

The contact id is ``j2`` because the row is row 2 of the spreadsheet (the
header is row 1).  The format is documented in docs/journal.md.

The delimiter (comma, semicolon or tab) is detected from the header; dates
written day first (``31.12.2025 14:30``) are read with ``dayfirst=True``; a
:class:`pandas.DataFrame` with the same columns is read too.  :func:`write_csv`
and :func:`to_dataframe` export contacts in the same format, so that they read
back equal.

Every problem in the file is collected and reported at once, as a
:class:`stalkrisk.CaseValidationError` whose problems name the row and the
column (``row 3, column behaviours``) and say how to fix it.  The messages
never repeat what a cell says: a journal is sensitive clinical data.
"""

from __future__ import annotations

import csv
import io
import numbers
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from enum import StrEnum
from itertools import chain
from types import MappingProxyType
from typing import IO, TYPE_CHECKING, Any, Final, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from ._case import (
    Behaviour,
    Boundaries,
    Case,
    Channel,
    ClientHistory,
    Contact,
    Fear,
    Target,
)
from ._exceptions import CaseValidationError, Problem
from ._problems import problems_from
from ._suggest import did_you_mean

if TYPE_CHECKING:
    import pandas
    from typing_extensions import TypeIs

__all__ = ["COLUMNS", "REQUIRED_COLUMNS", "read_case", "read_contacts", "to_dataframe", "write_csv"]

COLUMNS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "id": "id",
        "when": "at",
        "behaviours": "behaviours",
        "channel": "channel",
        "targets": "targets",
        "location": "location",
        "what_happened": "note",
        "witnesses": "witnesses",
        "evidence": "evidence",
        "response": "response",
        "ongoing": "ongoing",
        "weapon": "weapon",
        "specific_threat": "specific_threat",
    }
)
"""Every journal column, mapped to the :class:`stalkrisk.Contact` field it fills."""

REQUIRED_COLUMNS: Final[tuple[str, ...]] = ("when", "behaviours")
"""The columns a journal must have; every other column is optional."""

_FIELD_TO_COLUMN: Final = {field: column for column, field in COLUMNS.items()}
_TRUE: Final = frozenset({"true", "yes", "1"})
_FALSE: Final = frozenset({"false", "no", "0", ""})
_CODE_SEPARATORS: Final = re.compile(r"[;|]")
_DATE_ONLY: Final = re.compile(r"\d{4}-?\d{2}-?\d{2}")
# Day, month, four-digit year (31.12.2025, 31/12/2025, 31-12-2025), then maybe a time and
# an offset.  Read only with dayfirst=True: 01.02.2025 is 1 February there, 2 January
# elsewhere, so it is never guessed.
_DAY_FIRST: Final = re.compile(
    r"(?P<day>\d{1,2})(?P<sep>[./-])(?P<month>\d{1,2})(?P=sep)(?P<year>\d{4})"
    r"(?:[ T]+(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?)?"
    r" ?(?P<offset>Z|[+-]\d{2}:?\d{2})?"
)
_EXAMPLE: Final = "2025-03-01T21:40+01:00"
_DAY_FIRST_EXAMPLE: Final = "31.12.2025 14:30"
_DELIMITERS: Final[Mapping[str, str]] = MappingProxyType(
    {",": "comma", ";": "semicolon", "\t": "tab"}
)
"""The delimiters detected from the header, first the one taken when the header is unclear."""
_ID_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")
_SHOWN_NAME_MAX: Final = 40
_BINARY: Final = (
    "the journal stream gives bytes; open the file in text mode "
    "(open(path, encoding='utf-8', newline='')) or pass its path"
)

_E = TypeVar("_E", bound=StrEnum)

_Source = str | os.PathLike[str] | IO[str]
"""A path to a CSV file, or a text stream (an open file, :class:`io.StringIO`)."""
_Destination = str | os.PathLike[str] | IO[str]
"""A path to write a CSV file to, or a text stream."""


@dataclass(frozen=True)
class _Options:
    """How to read a journal, as the caller asked."""

    id_prefix: str
    zone: tzinfo | None
    delimiter: str | None
    dayfirst: bool


@dataclass
class _Row:
    """One data row: its spreadsheet number and its cells by (normalised) column name."""

    number: int
    cells: dict[str, str]


class _Problems:
    """Collects problems, each tied to a row and (usually) a column."""

    def __init__(self) -> None:
        self.found: list[Problem] = []

    def add(self, row: int, column: str | None, type_: str, msg: str) -> None:
        loc = f"row {row}" if column is None else f"row {row}, column {column}"
        self.found.append(Problem(loc=loc, type=type_, msg=msg))


def read_contacts(
    source: _Source | pandas.DataFrame,
    *,
    id_prefix: str = "j",
    default_timezone: tzinfo | str | None = None,
    delimiter: str | None = None,
    dayfirst: bool = False,
) -> tuple[Contact, ...]:
    """Read an incident journal in CSV form and return one contact per row, in file order.

    ``source`` is a path (``str`` or :class:`pathlib.Path`) to a UTF-8 CSV
    file, a text stream such as an open file or :class:`io.StringIO`, or a
    :class:`pandas.DataFrame`.  A ``str`` is always taken as a path; wrap CSV
    text in ``io.StringIO``.

    The first row names the columns (see :data:`COLUMNS`; names ignore case,
    and spaces or hyphens count as underscores, so ``What happened`` is
    ``what_happened``).  ``when`` and ``behaviours`` are required.  Rows whose
    cells are all empty are skipped.

    The cells are separated by ``delimiter``; by default it is detected from
    the header: a comma, a semicolon (as spreadsheets save CSV where the comma
    is the decimal mark) or a tab.  A header that clearly uses another
    delimiter than the one given is one problem that says which.

    A DataFrame's column labels are the header and each of its rows is one
    entry, numbered as if the frame were the CSV file (its first row is row 2).
    Cells may hold what pandas reads: ``NaN`` or ``None`` for an empty cell,
    numbers, booleans, and ``datetime`` or :class:`pandas.Timestamp` values in
    ``when``.

    Each contact's id is the ``id`` cell, or ``f"{id_prefix}{row}"`` when
    there is no ``id`` column or the cell is empty, where ``row`` is the row
    number a spreadsheet shows (the header is row 1, so the first entry is
    ``j2``).  Use a different ``id_prefix`` for each journal you combine.

    Times are ISO 8601 (``2025-03-01T21:40+01:00``).  With ``dayfirst=True``,
    times written day first are read too (``31.12.2025 14:30``,
    ``31/12/2025 14:30``); without it they are a problem, never guessed.
    Times must carry a timezone offset.  Give ``default_timezone`` (a
    :class:`datetime.tzinfo` or an IANA name such as ``"Europe/Berlin"``) to
    accept times without one: they are read as local times in that zone.
    Times with an offset keep it.

    Raises :class:`stalkrisk.CaseValidationError` listing every problem in the
    file at once.  Each problem's ``loc`` is ``row N, column NAME``; its
    ``type`` is a stable code (``csv_bad_time``, ``csv_unknown_behaviour``, …,
    or the pydantic code when the :class:`stalkrisk.Contact` model rejects a
    value); its ``msg`` says how to fix it and never repeats the cell.
    Raises :class:`ValueError` for a bad ``id_prefix``, ``default_timezone``
    or ``delimiter``, and :class:`TypeError` for a stream opened in binary mode.
    """
    options = _options(id_prefix, default_timezone, delimiter, dayfirst)
    return tuple(contact for contact, _ in _load(source, options))


def read_case(
    source: _Source | pandas.DataFrame,
    *,
    assessed_at: datetime | str,
    client: ClientHistory | Mapping[str, Any] | str,
    fear: Fear | Mapping[str, Any] | str | None = None,
    boundaries: Boundaries | Mapping[str, Any] | None = None,
    id_prefix: str = "j",
    default_timezone: tzinfo | str | None = None,
    delimiter: str | None = None,
    dayfirst: bool = False,
) -> Case:
    """Read a journal with :func:`read_contacts` and build the :class:`stalkrisk.Case` around it.

    The journal holds only the contacts.  What else a case needs you give here:

    - ``assessed_at``: the reference time (an aware ``datetime`` or ISO text);
      every journal entry must be at or before it.
    - ``client``: a :class:`stalkrisk.ClientHistory`, its mapping, or just the
      relationship code (``"current"``, ``"former"``, …).
    - ``fear``: a :class:`stalkrisk.Fear`, its mapping, or just the level code
      (``"significant"``); none reported by default.
    - ``boundaries``: a :class:`stalkrisk.Boundaries` or its mapping.

    ``id_prefix``, ``default_timezone``, ``delimiter`` and ``dayfirst`` are
    passed to :func:`read_contacts`.

    Raises :class:`stalkrisk.CaseValidationError`.  Problems in the journal
    name the row and column; a journal entry after ``assessed_at`` is reported
    at its row, column ``when``; problems in the other arguments keep their
    JSON path (``client.relationship``).

        >>> import io
        >>> import stalkrisk
        >>> from stalkrisk import journal
        >>> case = journal.read_case(
        ...     io.StringIO("when,behaviours\\n2025-03-01T21:40+01:00,gift\\n"),
        ...     assessed_at="2025-03-03T09:00+01:00",
        ...     client="current",
        ... )
        >>> stalkrisk.assess(case).level.value
        'reflective'
    """
    loaded = _load(source, _options(id_prefix, default_timezone, delimiter, dayfirst))
    contacts = tuple(contact for contact, _ in loaded)
    data: dict[str, Any] = {
        "assessed_at": assessed_at,
        "client": {"relationship": client} if isinstance(client, str) else client,
        "contacts": contacts,
    }
    if fear is not None:
        data["fear"] = {"level": fear} if isinstance(fear, str) else fear
    if boundaries is not None:
        data["boundaries"] = boundaries
    try:
        return Case.model_validate(data)
    except ValidationError as error:
        rows = [row for _, row in loaded]
        raise CaseValidationError(_case_problems(error, rows)) from None


def write_csv(
    contacts: Case | Iterable[Contact],
    destination: _Destination,
    *,
    delimiter: str = ",",
) -> None:
    """Write the contacts of a case (or the contacts given) as a journal in CSV form.

    ``destination`` is a path (``str`` or :class:`pathlib.Path`), written as
    UTF-8, or a text stream; open a file with ``newline=""`` so that line breaks
    inside a cell stay as they are.  Every column of :data:`COLUMNS` is written,
    in that order, one row per contact.  Times keep their offset; flags are
    ``yes`` or ``no``; codes and the items of ``witnesses`` and ``evidence`` are
    separated by ``;``.  Cells holding the delimiter, a quote or a line break
    are quoted.

    :func:`read_contacts` reads the file back into equal contacts, with the
    same ``delimiter`` or none.  What the format cannot hold raises
    :class:`ValueError` (naming the contact by id, never quoting its text): a
    ``witnesses`` or ``evidence`` item that holds ``;``.  Spaces around free
    text are not kept, and an empty text reads back as none.
    """
    _check_delimiter(delimiter)
    entries = _entries(contacts)
    if isinstance(destination, str | os.PathLike):
        with open(destination, "w", encoding="utf-8", newline="") as stream:
            _write(stream, entries, delimiter)
        return
    if isinstance(destination, io.RawIOBase | io.BufferedIOBase) or "b" in getattr(
        destination, "mode", ""
    ):
        raise TypeError(
            "the destination takes bytes; open the file in text mode "
            "(open(path, 'w', encoding='utf-8', newline='')) or pass its path"
        )
    _write(destination, entries, delimiter)


def to_dataframe(contacts: Case | Iterable[Contact]) -> pandas.DataFrame:
    """The contacts of a case (or the contacts given) as a DataFrame with the journal's columns.

    One row per contact and the columns of :data:`COLUMNS`, in that order, with
    the cells :func:`write_csv` writes, except that ``when`` holds aware
    datetimes that keep their offsets (a ``datetime64`` column when all share
    one offset), the flags are booleans and an empty cell is ``None``.
    :func:`read_contacts` reads the frame back into equal contacts.  Raises
    :class:`ValueError` as :func:`write_csv` does.  Needs pandas
    (``pip install 'stalkrisk[batch]'``).
    """
    try:
        import pandas
    except ImportError:
        raise ImportError("to_dataframe() needs pandas: pip install 'stalkrisk[batch]'") from None
    return pandas.DataFrame(_entries(contacts), columns=list(COLUMNS))


# --- writing -------------------------------------------------------------------------------


def _entries(contacts: Case | Iterable[Contact]) -> list[dict[str, Any]]:
    """Each contact as its journal row: a cell for every column, ``None`` when empty."""
    return [
        _entry(contact)
        for contact in (contacts.contacts if isinstance(contacts, Case) else contacts)
    ]


def _entry(contact: Contact) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    for column, field in COLUMNS.items():
        value = getattr(contact, field)
        if column in ("witnesses", "evidence"):
            if any(";" in item for item in value):
                raise ValueError(
                    f"contact {contact.id}: an item of {column} holds ';', which separates "
                    "items in a journal, so it would read back as two; write it without ';'"
                )
            value = ";".join(value) or None
        elif column in ("behaviours", "targets"):
            value = ";".join(code.value for code in value)
        elif isinstance(value, StrEnum):
            value = value.value
        entry[column] = value
    return entry


def _write(stream: IO[str], entries: Sequence[Mapping[str, Any]], delimiter: str) -> None:
    writer = csv.writer(stream, delimiter=delimiter)
    writer.writerow(COLUMNS)
    writer.writerows([_csv_cell(entry[column]) for column in COLUMNS] for entry in entries)


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


# --- reading -------------------------------------------------------------------------------


def _options(
    id_prefix: str, default_timezone: tzinfo | str | None, delimiter: str | None, dayfirst: bool
) -> _Options:
    """The arguments, checked where they enter."""
    if id_prefix and not _ID_PATTERN.fullmatch(f"{id_prefix}2"):
        raise ValueError(
            "id_prefix must start with a letter or digit and use only letters, digits, "
            "'.', '_', ':' and '-'"
        )
    if delimiter is not None:
        _check_delimiter(delimiter)
    return _Options(id_prefix, _zone(default_timezone), delimiter, dayfirst)


def _check_delimiter(delimiter: str) -> None:
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in '"\r\n':
        raise ValueError(
            "delimiter must be one character other than a quote or a line break, "
            "such as ',', ';' or '\\t'"
        )


def _zone(default_timezone: tzinfo | str | None) -> tzinfo | None:
    if not isinstance(default_timezone, str):
        return default_timezone
    try:
        return ZoneInfo(default_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            "default_timezone is not a known IANA timezone name; use a name such as "
            "'Europe/Berlin' or 'America/New_York', or pass a datetime.tzinfo"
        ) from None


def _load(source: _Source | pandas.DataFrame, options: _Options) -> list[tuple[Contact, int]]:
    """Each contact with its spreadsheet row number, or CaseValidationError."""
    if _is_frame(source):
        return _read_frame(source, options)
    if isinstance(source, str | os.PathLike):
        with open(source, encoding="utf-8-sig", newline="") as stream:
            return _read(stream, options)
    if isinstance(source, io.RawIOBase | io.BufferedIOBase) or "b" in getattr(source, "mode", ""):
        raise TypeError(_BINARY)
    return _read(source, options)


def _is_frame(source: object) -> TypeIs[pandas.DataFrame]:
    # Only who made a DataFrame has imported pandas: stalkrisk never needs to.
    pandas_module = sys.modules.get("pandas")
    return pandas_module is not None and isinstance(source, pandas_module.DataFrame)


def _read(stream: IO[str], options: _Options) -> list[tuple[Contact, int]]:
    problems = _Problems()
    try:
        first = stream.readline()
        if not isinstance(first, str):
            raise TypeError(_BINARY)
        first = first.removeprefix("\ufeff")
        delimiter = options.delimiter or _detect(first)
        other = None if options.delimiter is None else _clearer_delimiter(first, delimiter)
        if other is not None:
            # One hint instead of a problem for every column the wrong split makes.
            problems.add(
                1,
                None,
                "csv_wrong_delimiter",
                f"the header separates its columns with a {_DELIMITERS[other]} ({other!r}), "
                f"not with the delimiter given ({delimiter!r}); pass delimiter={other!r}, "
                "or leave delimiter out to detect it",
            )
            raise CaseValidationError(problems.found)
        return _contacts(_records(chain([first], stream), delimiter, problems), options, problems)
    except UnicodeDecodeError:
        raise CaseValidationError(
            [
                Problem(
                    loc="",
                    type="csv_encoding",
                    msg="the file is not UTF-8 text; save it from the spreadsheet as "
                    "'CSV UTF-8' and read it again",
                )
            ]
        ) from None


def _read_frame(frame: pandas.DataFrame, options: _Options) -> list[tuple[Contact, int]]:
    problems = _Problems()
    labels = [str(label) for label in frame.columns]
    if len(labels) == 1:
        # pandas.read_csv reads a semicolon-separated file as one column.
        other = _clearer_delimiter(labels[0], None)
        if other is not None:
            problems.add(
                1,
                None,
                "csv_wrong_delimiter",
                f"the frame has one column, whose name joins journal columns with a "
                f"{_DELIMITERS[other]}; read the file with pandas.read_csv(path, sep={other!r}), "
                "or pass its path to stalkrisk, which detects the delimiter",
            )
            raise CaseValidationError(problems.found)
    columns = [
        [_frame_cell(value) for value in frame.iloc[:, position].tolist()]
        for position in range(len(labels))
    ]
    records = chain(
        [(1, labels)], enumerate((list(cells) for cells in zip(*columns, strict=True)), start=2)
    )
    return _contacts(records, options, problems)


def _frame_cell(value: object) -> str:
    """A DataFrame cell as the text a CSV file would hold."""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        # datetime's own isoformat: a Timestamp's nanoseconds would not read back.
        return datetime.isoformat(value)
    if isinstance(value, date):
        return value.isoformat()
    pandas_module = sys.modules["pandas"]
    if value is None or (pandas_module.api.types.is_scalar(value) and pandas_module.isna(value)):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real) and float(value).is_integer():
        # A column of ids or 0/1 flags with an empty cell becomes float: 7.0 is 7.
        return str(int(float(value)))
    return str(value)


def _contacts(
    records: Iterator[tuple[int, list[str]]], options: _Options, problems: _Problems
) -> list[tuple[Contact, int]]:
    header, rows = _rows(records, problems)
    if header is None:
        raise CaseValidationError(problems.found)
    contacts = [_contact(row, options, problems) for row in rows]
    _check_ids(contacts, problems)
    if problems.found:
        raise CaseValidationError(problems.found)
    return [(contact, row.number) for contact, row in contacts if contact is not None]


def _known_columns(line: str, delimiter: str) -> int:
    """How many journal column names ``line`` holds when split at ``delimiter``."""
    try:
        cells = next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error:
        return 0
    return sum(_normalise(cell) in COLUMNS for cell in cells)


def _detect(header: str) -> str:
    """The delimiter that finds the most column names in the header; a comma on a tie."""
    return max(_DELIMITERS, key=lambda delimiter: _known_columns(header, delimiter))


def _clearer_delimiter(header: str, given: str | None) -> str | None:
    """A delimiter that finds two or more column names in the header, and more than
    ``given`` finds (None: the header is one cell)."""
    found = int(_normalise(header) in COLUMNS) if given is None else _known_columns(header, given)
    best = _detect(header)
    return best if _known_columns(header, best) >= max(2, found + 1) else None


def _records(
    lines: Iterable[str], delimiter: str, problems: _Problems
) -> Iterator[tuple[int, list[str]]]:
    """Each CSV record with its spreadsheet row number (a quoted cell may span lines)."""
    reader = csv.reader(lines, delimiter=delimiter)
    number = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            # csv's messages are fixed texts that never quote the data.
            problems.add(
                number + 1,
                None,
                "csv_malformed",
                f"the CSV cannot be read from this row on ({error}); check for an unclosed "
                "quote, then export the spreadsheet as CSV again",
            )
            return
        number += 1
        yield number, record


def _rows(
    records: Iterator[tuple[int, list[str]]], problems: _Problems
) -> tuple[list[str] | None, list[_Row]]:
    """The normalised header and the non-empty data rows; header problems are added."""
    first = next(records, None)
    if first is None or not any(cell.strip() for cell in first[1]):
        if not problems.found:
            problems.add(
                1,
                None,
                "csv_no_header",
                "the first row must name the columns, for example: when,behaviours,channel",
            )
        return None, []
    header = [_normalise(cell) for cell in first[1]]
    _check_header(header, problems)
    rows = []
    for number, record in records:
        if not any(cell.strip() for cell in record):
            continue
        cells: dict[str, str] = {}
        for position, value in enumerate(record):
            if position >= len(header):
                if value.strip():
                    problems.add(
                        number,
                        None,
                        "csv_extra_cells",
                        f"has {len(record)} cells but the header names {len(header)} columns; "
                        "put quotes around cells that contain a comma, or name the column",
                    )
                    break
                continue
            name = header[position]
            if name == "":
                if value.strip():
                    problems.add(
                        number,
                        str(position + 1),
                        "csv_unnamed_column",
                        f"column {position + 1} has a value but no name in row 1; "
                        "name the column or clear the cell",
                    )
                continue
            if name in COLUMNS:
                cells[name] = value
        rows.append(_Row(number, cells))
    return header, rows


def _normalise(name: str) -> str:
    return re.sub(r"[\s-]+", "_", name.strip().lower())


def _check_header(header: Sequence[str], problems: _Problems) -> None:
    seen: set[str] = set()
    for name in header:
        if name == "":
            continue
        if name not in COLUMNS:
            problems.add(
                1,
                _shown(name),
                "csv_unknown_column",
                "is not a journal column"
                + _suggest(name, COLUMNS)
                + "; the columns are "
                + ", ".join(COLUMNS)
                + " (names ignore case)",
            )
        elif name in seen:
            problems.add(
                1,
                name,
                "csv_duplicate_column",
                "is named twice; keep one column of each name",
            )
        seen.add(name)
    for name in REQUIRED_COLUMNS:
        if name not in seen:
            problems.add(
                1,
                name,
                "csv_missing_column",
                f"is missing; the header must name the required columns "
                f"{' and '.join(REQUIRED_COLUMNS)}",
            )


def _shown(name: str) -> str:
    """A header name as shown in a message: cut short, so a stray cell cannot fill it."""
    if len(name) <= _SHOWN_NAME_MAX:
        return name
    return name[: _SHOWN_NAME_MAX - 1] + "…"


def _suggest(value: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for a close known name, else nothing; never echoes ``value``."""
    hint = did_you_mean(value, choices, cutoff=0.75)
    return f" ({hint})" if hint else ""


# --- one row -------------------------------------------------------------------------------


def _contact(row: _Row, options: _Options, problems: _Problems) -> tuple[Contact | None, _Row]:
    """Validate one row through the Contact model; on failure add its problems."""
    before = len(problems.found)
    cell = row.cells.get
    data: dict[str, Any] = {"id": cell("id", "").strip() or f"{options.id_prefix}{row.number}"}
    data["at"] = _when(cell("when", ""), options, row.number, problems)
    behaviours = cell("behaviours", "")
    data["behaviours"] = _codes(Behaviour, "behaviours", behaviours, row, problems)
    if not _CODE_SEPARATORS.sub("", behaviours).strip():
        problems.add(
            row.number,
            "behaviours",
            "csv_empty_behaviours",
            "is empty; give at least one behaviour code, for example unwanted_calls "
            "(separate several with ';' or '|')",
        )
    channel = _codes(Channel, "channel", cell("channel", ""), row, problems, single=True)
    data["channel"] = channel[0] if channel else None
    targets = _codes(Target, "targets", cell("targets", ""), row, problems)
    if targets:
        data["targets"] = targets
    for column in ("location", "what_happened", "response"):
        text = cell(column, "").strip()
        data[COLUMNS[column]] = text or None
    for column in ("witnesses", "evidence"):
        data[column] = [item.strip() for item in cell(column, "").split(";") if item.strip()]
    for column in ("ongoing", "weapon", "specific_threat"):
        data[column] = _flag(column, cell(column, ""), row.number, problems)
    if len(problems.found) > before:
        return None, row
    try:
        return Contact.model_validate(data), row
    except ValidationError as error:
        for problem in problems_from(error):
            field, _, rest = problem.loc.partition(".")
            column = _FIELD_TO_COLUMN.get(field, field)
            msg = problem.msg
            if problem.type == "inconsistent":
                msg = f"{column} {msg}"
            elif rest.isdigit():
                msg = f"item {int(rest) + 1}: {msg}"
            problems.add(row.number, column, problem.type, msg)
        return None, row


def _when(text: str, options: _Options, row: int, problems: _Problems) -> datetime | None:
    value = text.strip()
    if not value:
        problems.add(row, "when", "csv_missing_time", f"is empty; give the time, like {_EXAMPLE}")
        return None
    day_first = _DAY_FIRST.fullmatch(value)
    if day_first is not None:
        moment, problem = _day_first_time(day_first, options.dayfirst)
    else:
        moment, problem = _iso_time(value, options.dayfirst)
    if moment is None:
        problems.add(row, "when", "csv_bad_time", problem)
        return None
    if moment.tzinfo is None or moment.utcoffset() is None:
        if options.zone is None:
            problems.add(
                row,
                "when",
                "csv_naive_time",
                f"has no timezone offset; add one, like {_EXAMPLE} (or Z for UTC), "
                "or pass default_timezone= to read such times in one zone",
            )
            return None
        moment = moment.replace(tzinfo=options.zone)
    return moment


def _iso_time(value: str, dayfirst: bool) -> tuple[datetime | None, str]:
    """The ISO 8601 time in ``value``, or None and what to write instead."""
    if _DATE_ONLY.fullmatch(value):
        return None, f"gives a date without a time of day; add the time and offset, like {_EXAMPLE}"
    try:
        return datetime.fromisoformat(value), ""
    except ValueError:
        also = f" or, day first, like {_DAY_FIRST_EXAMPLE}" if dayfirst else ""
        return None, f"is not an ISO 8601 date and time; write it like {_EXAMPLE}{also}"


def _day_first_time(match: re.Match[str], dayfirst: bool) -> tuple[datetime | None, str]:
    """The day-first time ``match`` holds, if ``dayfirst`` allows it; else what to write."""
    moment = _day_first_moment(match)
    date_only = match["hour"] is None
    if not dayfirst:
        if moment is None:
            return None, f"is not an ISO 8601 date and time; write it like {_EXAMPLE}"
        # Never guessed: 01.02.2025 may be 1 February or 2 January.
        fix = "add the time and " if date_only else ""
        return None, (
            f"is not an ISO 8601 date and time, but reads as a day-first date; {fix}pass "
            f"dayfirst=True if the journal writes the day first (like {_DAY_FIRST_EXAMPLE}), "
            f"or write it like {_EXAMPLE}"
        )
    if moment is None:
        return None, (
            f"is not a valid day-first date and time; write the day, the month, the "
            f"four-digit year and the time, like {_DAY_FIRST_EXAMPLE}"
        )
    if date_only:
        return None, f"gives a date without a time of day; add the time, like {_DAY_FIRST_EXAMPLE}"
    return moment, ""


def _day_first_moment(match: re.Match[str]) -> datetime | None:
    """The time a day-first match names, or None when there is no such day or time."""
    offset = match["offset"]
    zone: tzinfo | None = None
    if offset == "Z":
        zone = UTC
    elif offset is not None:
        hours, minutes = int(offset[1:3]), int(offset[-2:])
        if hours > 23 or minutes > 59:
            return None
        sign = -1 if offset[0] == "-" else 1
        zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        return datetime(
            int(match["year"]),
            int(match["month"]),
            int(match["day"]),
            int(match["hour"] or 0),
            int(match["minute"] or 0),
            int(match["second"] or 0),
            tzinfo=zone,
        )
    except ValueError:
        return None


def _codes(
    kind: type[_E],
    column: str,
    text: str,
    row: _Row,
    problems: _Problems,
    *,
    single: bool = False,
) -> list[_E]:
    """The codes in a cell, separated by ';' or '|'; unknown ones become problems."""
    known = [member.value for member in kind]
    found = []
    items = [item for item in _CODE_SEPARATORS.split(text) if item.strip()]
    if single and len(items) > 1:
        problems.add(
            row.number,
            column,
            "csv_several_codes",
            f"holds {len(items)} codes; give one of: {', '.join(known)}",
        )
        return []
    noun = column.removesuffix("s")
    for position, item in enumerate(items, start=1):
        code = _normalise(item)
        if code in known:
            found.append(kind(code))
            continue
        which = f"item {position}" if len(items) > 1 else "the value"
        problems.add(
            row.number,
            column,
            f"csv_unknown_{noun}",
            f"{which} is not a {noun} code{_suggest(code, known)}; use one of: " + ", ".join(known),
        )
    return found


def _flag(column: str, text: str, row: int, problems: _Problems) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    problems.add(
        row,
        column,
        "csv_bad_boolean",
        "is not a yes/no value; write true, false, yes, no, 1 or 0 (empty means false)",
    )
    return False


def _check_ids(contacts: Sequence[tuple[Contact | None, _Row]], problems: _Problems) -> None:
    first_row: dict[str, int] = {}
    for contact, row in contacts:
        if contact is None:
            continue
        if contact.id in first_row:
            given = row.cells.get("id", "").strip()
            problems.add(
                row.number,
                "id",
                "csv_duplicate_id",
                f"repeats the id of row {first_row[contact.id]}; give every row its own id"
                if given
                else f"is empty, and the default id for this row is already the id of row "
                f"{first_row[contact.id]}; give this row an id",
            )
        else:
            first_row[contact.id] = row.number
    problems.found.sort(key=_row_order)


def _row_order(problem: Problem) -> int:
    match = re.match(r"row (\d+)", problem.loc)
    return int(match[1]) if match else 0


def _case_problems(error: ValidationError, rows: Sequence[int]) -> list[Problem]:
    """The case's problems, with ``contacts.N.field`` turned into the journal row and column."""

    def row_of(match: re.Match[str]) -> str:
        return f"row {rows[int(match[1])]}"

    found = []
    for problem in problems_from(error):
        path = problem.path
        if len(path) < 3 or path[0] != "contacts" or not isinstance(path[1], int):
            found.append(problem)
            continue
        field = str(path[2])
        column = _FIELD_TO_COLUMN.get(field, field)
        # A message may name another contact ("repeats the id of contacts.4"): its row.
        msg = re.sub(r"contacts\.(\d+)", row_of, problem.msg)
        if problem.type == "inconsistent":
            msg = f"{column} {msg}"
        found.append(Problem(f"row {rows[path[1]]}, column {column}", problem.type, msg))
    return found
