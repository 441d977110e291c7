"""The bundled training vignettes: each loads, has a teaching note and gets its expected grade."""

from __future__ import annotations

import pytest

import stalkrisk
from stalkrisk import Level, vignettes

NAMES = vignettes.names()


def test_there_are_at_least_twelve_vignettes() -> None:
    assert len(NAMES) >= 12


@pytest.mark.parametrize("name", NAMES)
def test_vignette_gets_its_expected_grade(name: str) -> None:
    vignette = vignettes.load(name)
    result = stalkrisk.assess(vignette.case)

    assert (result.level, result.urgent) == (vignette.expected_level, vignette.expected_urgent)


@pytest.mark.parametrize("name", NAMES)
def test_vignette_has_title_source_and_teaching_note(name: str) -> None:
    vignette = vignettes.load(name)

    assert vignette.title
    assert vignette.source
    assert len(vignette.teaching_note) > 80


def test_vignettes_cover_every_grade_on_the_ladder() -> None:
    assert {vignettes.load(n).expected_level for n in NAMES} == set(Level)


def test_vignettes_cover_urgent_former_frail_breach_and_the_threshold_boundary() -> None:
    loaded = [vignettes.load(n) for n in NAMES]
    results = {v.name: stalkrisk.assess(v.case) for v in loaded}

    assert any(v.expected_urgent for v in loaded)
    assert any(v.case.client.relationship is stalkrisk.Relationship.FORMER for v in loaded)
    assert any(
        "note.regressive_contact" in [r.id for r in results[v.name].rules_fired] for v in loaded
    )
    assert any(
        "element.threat.protection_order_breach" in results[v.name].elements.threat.rules
        for v in loaded
    )
    assert results["exactly_two_weeks"].threshold.met
    assert not results["one_hour_short_of_two_weeks"].threshold.met


def test_an_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(KeyError, match="exactly_two_weeks"):
        vignettes.load("exact_two_weeks")


def test_vignette_html_escapes_its_text() -> None:
    html = vignettes.load("threat_against_the_family")._repr_html_()

    assert "<h4>" in html
    assert "<script" not in html


def test_the_vignette_library_suggests_the_closest_name_or_points_to_names() -> None:
    with pytest.raises(KeyError) as near:
        vignettes.load("exact_two_weeks")
    with pytest.raises(KeyError) as far:
        vignettes.load("zzz")

    assert near.value.args[0] == (
        "no vignette named 'exact_two_weeks'; did you mean 'exactly_two_weeks'?"
    )
    assert far.value.args[0] == "no vignette named 'zzz'; names() lists them"
