"""Intake through FHIR: a case, filled into the Questionnaire and read back, is the same case."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stalkrisk import Case, CaseValidationError, Contact
from stalkrisk.fhir import FhirVersion, case_from_response, questionnaire, response_from_case
from stalkrisk.strategies import cases, dated_cases

VERSIONS: tuple[FhirVersion, ...] = ("R4", "R4B", "R5")

# Free text FHIR can hold: anything but surrogates and control or separator characters
# other than the space, tab and line breaks, which a FHIR string may not consist of.
free_text = st.text(
    alphabet=st.characters(
        exclude_categories=("Cs", "Cc", "Zl", "Zp", "Zs"), include_characters=" \t\r\n"
    ),
    min_size=1,
    max_size=30,
)
references = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,20}", fullmatch=True)


@st.composite
def journal_contact(draw: st.DrawFn, contact: Contact) -> Contact:
    """``contact`` with the free-text fields of an incident journal filled in, or not."""
    texts = {name: draw(st.none() | free_text) for name in ("location", "note", "response")}
    lists = {
        name: tuple(draw(st.lists(free_text, max_size=2))) for name in ("witnesses", "evidence")
    }
    return Contact(**{**dict(contact), **texts, **lists})


@st.composite
def intake_cases(draw: st.DrawFn) -> Case:
    """Cases of both strategies, with free text and a reference as a clinician would give."""
    case = draw(st.one_of(cases(max_contacts=6), dated_cases(max_contacts=6)))
    contacts = tuple(draw(journal_contact(contact)) for contact in case.contacts)
    ref = draw(st.none() | references)
    return Case.model_validate({**dict(case), "contacts": contacts, "ref": ref})


@settings(max_examples=100)
@given(intake_cases(), st.sampled_from(VERSIONS))
def test_a_case_reads_back_from_its_response(case: Case, version: FhirVersion) -> None:
    document = response_from_case(case, version=version)

    back = case_from_response(json.dumps(document), version=version)

    assert back == case
    assert back.model_dump_json() == case.model_dump_json()


def repeating_groups() -> set[str]:
    found = set()
    todo = list(questionnaire()["item"])
    while todo:
        item = todo.pop()
        if item["type"] == "group" and item.get("repeats"):
            found.add(item["linkId"])
        todo += item.get("item", [])
    return found


REPEATING = repeating_groups()


def times(tree: list[dict[str, Any]], parent: str = "", place: str = "") -> Iterator[
    tuple[str, dict[str, Any]]
]:  # fmt: skip
    """Each dateTime answer of a response item tree, with its place (``contacts[2].at``)."""
    counts: dict[str, int] = {}
    for item in tree:
        link_id = item["linkId"]
        here = place + link_id[len(parent) :] if parent else link_id
        if link_id in REPEATING:
            here += f"[{counts.setdefault(link_id, 0)}]"
            counts[link_id] += 1
        for answer in item.get("answer", []):
            if "valueDateTime" in answer:
                yield here, answer
        yield from times(item.get("item", []), link_id, here)


@settings(max_examples=100)
@given(dated_cases(max_contacts=6), st.sampled_from(VERSIONS), st.data())
def test_a_time_without_a_utc_offset_is_a_problem_at_its_place(
    case: Case, version: FhirVersion, data: st.DataObject
) -> None:
    document = response_from_case(case, version=version)
    place, answer = data.draw(st.sampled_from(list(times(document["item"]))))
    answer["valueDateTime"] = re.sub(r"(Z|[+-][0-9]{2}:[0-9]{2})$", "", answer["valueDateTime"])

    with pytest.raises(CaseValidationError) as caught:
        case_from_response(document, version=version)

    assert [(p.loc, p.type) for p in caught.value.problems] == [(place, "timezone_aware")]
