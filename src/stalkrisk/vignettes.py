"""Training vignettes: whole cases drawn from the source articles, with teaching notes.

    >>> import stalkrisk
    >>> from stalkrisk import vignettes
    >>> vignettes.names()[:2]
    ('assault_in_the_office_yesterday', 'calls_continue_after_supervisor_warning')
    >>> v = vignettes.load("frail_client_drives_past_house")
    >>> stalkrisk.assess(v.case).level == v.expected_level
    True

Each vignette is a JSON data file shipped inside the package.  Together they
cover every grade on the ladder, the exact threshold boundary, a former client,
a frail client's regressive contact, a protection-order breach and urgent cases.

A trainer's own vignette is a JSON file of the same form (:func:`schema`,
published as docs/schema/vignette.schema.json); ``load`` reads it when given a
:class:`pathlib.Path` or a ``str`` ending in ``.json``.
"""

from __future__ import annotations

import codecs
import html
import os
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Final

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from ._case import Case, _moment_retype, _repeated_keys
from ._exceptions import CaseValidationError
from ._ladder import Level
from ._problems import problems_from
from ._published import PublishedSchema
from ._suggest import did_you_mean

__all__ = ["Vignette", "load", "names", "schema"]

_FOLDER = "_vignettes"
_SUFFIX: Final = ".json"
_ENDS_A_SENTENCE: Final = (".", "!", "?")


class Vignette(BaseModel):
    """A training case with its source, teaching note and expected grade."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    title: str
    source: str
    teaching_note: str
    expected_level: Level
    expected_urgent: bool
    case: Case

    def __repr__(self) -> str:
        return f"<Vignette {self.name}: expected {self.expected_level.value}>"

    def _repr_html_(self) -> str:
        urgent = ", urgent" if self.expected_urgent else ""
        return (
            f"<div><h4>{html.escape(self.title)}</h4>"
            f"<p>{html.escape(self.teaching_note)}</p>"
            f"<p><small>Source: {html.escape(_sentence(self.source))} Expected: "
            f"<b>{self.expected_level.value}</b>{urgent}; "
            f"{len(self.case.contacts)} contacts.</small></p></div>"
        )


def _sentence(text: str) -> str:
    """``text`` ending in a full stop, without doubling one it already has."""
    return text if text.endswith(_ENDS_A_SENTENCE) else f"{text}."


class ExpectedGrade(BaseModel):
    """The grade a vignette expects from the default rule pack."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    level: Level = Field(description="The grade the default rule pack should give.")
    urgent: StrictBool = Field(description="Whether that grade should be urgent.")


class _VignetteFile(PublishedSchema, BaseModel):
    """A training vignette: a whole case, where it comes from, a teaching note and the
    grade it is expected to get."""

    model_config = ConfigDict(
        frozen=True, extra="forbid", hide_input_in_errors=True, title="Vignette"
    )
    schema_name: ClassVar[str] = "vignette"

    title: str = Field(min_length=1, max_length=200, description="A short headline.")
    source: str = Field(
        min_length=1, max_length=2_000, description="Where the scenario comes from."
    )
    teaching_note: str = Field(
        min_length=1, max_length=20_000, description="What to discuss with the group."
    )
    expected: ExpectedGrade
    case: Case


def schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of a vignette file, as docs/schema/vignette.schema.json."""
    return _VignetteFile.model_json_schema()


def _files() -> dict[str, str]:
    folder = resources.files("stalkrisk").joinpath(_FOLDER)
    return {
        entry.name.removesuffix(_SUFFIX): entry.name
        for entry in folder.iterdir()
        if entry.name.endswith(_SUFFIX)
    }


@cache
def names() -> tuple[str, ...]:
    """The names of all bundled vignettes, sorted."""
    return tuple(sorted(_files()))


def load(name_or_path: str | os.PathLike[str]) -> Vignette:
    """A bundled vignette by name (see :func:`names`), or a vignette file of your own.

    A :class:`pathlib.Path` (any path-like object), or a ``str`` that ends in
    ``.json``, is read as a vignette file; its ``name`` is the file's stem.  Any
    other ``str`` is the name of a bundled vignette, and ``KeyError`` says when
    there is none.  A missing file raises :class:`FileNotFoundError`.

    A file is validated against :func:`schema`.  Raises
    :class:`stalkrisk.CaseValidationError` listing every problem with its JSON
    path (``expected.level``, ``case.contacts.0.at``); messages never quote the
    file's text.
    """
    if isinstance(name_or_path, os.PathLike) or name_or_path.lower().endswith(_SUFFIX):
        path = Path(name_or_path)
        return _vignette(path.stem, path.read_bytes())
    return _bundled(name_or_path)


@cache
def _bundled(name: str) -> Vignette:
    files = _files()
    if name not in files:
        hint = did_you_mean(name, files) or (
            "names() lists them; to load a file, pass a pathlib.Path or a path ending in .json"
        )
        raise KeyError(f"no vignette named {name!r}; {hint}")
    data = resources.files("stalkrisk").joinpath(_FOLDER, files[name]).read_bytes()
    return _vignette(name, data)


def _vignette(name: str, data: bytes) -> Vignette:
    # Editors on Windows start UTF-8 files with a byte-order mark; JSON parsers refuse it.
    text = data.removeprefix(codecs.BOM_UTF8)
    try:
        document = _VignetteFile.model_validate_json(text)
    except ValidationError as error:
        problems = problems_from(error, retype=_moment_retype)
        if not any(p.type in ("json_invalid", "too_deep") for p in problems):
            # With a key given twice the other problems may be about the ignored value.
            problems = _repeated_keys(text) or problems
        raise CaseValidationError(problems) from None
    # pydantic keeps the last of a key given twice; a trainer's typo must not pass.
    repeated = _repeated_keys(text)
    if repeated:
        raise CaseValidationError(repeated)
    return Vignette(
        name=name,
        title=document.title,
        source=document.source,
        teaching_note=document.teaching_note,
        expected_level=document.expected.level,
        expected_urgent=document.expected.urgent,
        case=document.case,
    )
