"""Privacy: free text and names never reach a log record, an exception or the CLI's output.

Every free-text field of a contact carries a sentinel; valid and invalid cases
go through the library and the command line, and the sentinel must not appear.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from builders import case, contact

import stalkrisk
from stalkrisk._cli import main

SENTINEL = "Zebediah-Quux-7731"
FREE_TEXT = {
    "note": f"{SENTINEL} said something private",
    "location": f"outside {SENTINEL}'s house",
    "response": f"called {SENTINEL}",
    "witnesses": [f"{SENTINEL} Smith"],
    "evidence": [f"recording of {SENTINEL}"],
}


def _valid() -> dict[str, Any]:
    return case(
        contact("a", 0, "following", **FREE_TEXT),
        contact("b", 14, "surveillance", "threat", **FREE_TEXT),
        fear="severe",
    )


def _invalid_variants() -> list[dict[str, Any]]:
    variants = []
    for field, value in [
        ("at", SENTINEL),
        ("behaviours", [SENTINEL]),
        ("id", f"{SENTINEL} !"),
        ("channel", SENTINEL),
        ("targets", [SENTINEL]),
        ("note", {"x": SENTINEL}),
        ("witnesses", SENTINEL),
        (SENTINEL, 1),
    ]:
        data = _valid()
        data["contacts"][0][field] = value
        variants.append(data)
    data = _valid()
    data["contacts"][1]["id"] = "a"  # a cross-field problem beside free text
    variants.append(data)
    data = _valid()
    data["client"]["relationship"] = SENTINEL
    variants.append(data)
    return variants


@pytest.fixture(autouse=True)
def _log_everything(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)


def _no_sentinel_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        assert SENTINEL not in record.getMessage()
        assert SENTINEL not in str(record.args)


def test_a_valid_case_leaks_nothing_into_the_assessment_or_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    result = stalkrisk.assess(_valid())

    assert SENTINEL not in result.model_dump_json()
    assert SENTINEL not in str(result)
    assert SENTINEL not in repr(result)
    assert SENTINEL not in result._repr_html_()
    _no_sentinel_in_logs(caplog)


@pytest.mark.parametrize("index", range(len(_invalid_variants())))
def test_an_invalid_case_error_never_contains_free_text(
    index: int, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(stalkrisk.CaseValidationError) as caught:
        stalkrisk.assess(_invalid_variants()[index])

    assert SENTINEL not in str(caught.value)
    _no_sentinel_in_logs(caplog)


def test_case_html_hides_every_free_text_field_by_default() -> None:
    assert SENTINEL not in stalkrisk.parse_case(_valid()).to_html()


def test_case_notebook_view_hides_free_text() -> None:
    assert SENTINEL not in stalkrisk.parse_case(_valid())._repr_html_()


@pytest.mark.parametrize("field", FREE_TEXT)
def test_case_html_shows_each_free_text_field_when_asked(field: str) -> None:
    only = case(contact("a", 0, "following", **{field: FREE_TEXT[field]}))

    assert SENTINEL in stalkrisk.parse_case(only).to_html(show_text=True)


def test_comparison_of_cases_with_free_text_leaks_none_of_it() -> None:
    parsed = stalkrisk.parse_case(_valid())

    comparison = stalkrisk.compare(parsed, parsed.with_fear("none"))

    assert SENTINEL not in str(comparison)
    assert SENTINEL not in comparison._repr_html_()


def test_repr_of_case_and_contacts_hides_free_text() -> None:
    parsed = stalkrisk.parse_case(_valid())

    assert SENTINEL not in repr(parsed)
    assert all(SENTINEL not in repr(c) for c in parsed.contacts)


def test_model_errors_hide_their_input() -> None:
    with pytest.raises(ValueError) as caught:  # noqa: PT011 - pydantic's ValidationError
        stalkrisk.Contact(id="a", at=SENTINEL, behaviours=("gift",), note=SENTINEL)

    assert SENTINEL not in str(caught.value)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_cli_output_for_a_valid_case_has_no_free_text(
    fmt: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr("sys.stdin", _Stdin(json.dumps(_valid())))

    code = main(["assess", "-", "--format", fmt])

    out, err = capsys.readouterr()
    assert code == 0
    assert SENTINEL not in out + err
    _no_sentinel_in_logs(caplog)


@pytest.mark.parametrize("index", range(len(_invalid_variants())))
def test_cli_errors_never_contain_free_text(
    index: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", _Stdin(json.dumps(_invalid_variants()[index])))

    code = main(["assess", "-"])

    out, err = capsys.readouterr()
    assert code == 2
    assert SENTINEL not in out
    assert SENTINEL not in err


class _Stdin:
    def __init__(self, text: str) -> None:
        self._text = text

    def read(self) -> str:
        return self._text
