"""Notebook display: short reprs, escaped HTML with the ladder, banner, elements and actions."""

from __future__ import annotations

from builders import case, contact

import stalkrisk
from stalkrisk import vignettes

HOSTILE = '<script>alert("x")</script>'


def _hostile_case() -> stalkrisk.Case:
    return stalkrisk.parse_case(
        case(
            contact("a", 0, "following", note=HOSTILE, ongoing=False),
            contact("b", 14, "surveillance", "threat", note=HOSTILE, location=HOSTILE),
            fear="severe",
        )
    )


def test_assessment_repr_is_short() -> None:
    result = stalkrisk.assess(_hostile_case())

    assert repr(result) == f"<Assessment police: {len(result.rules_fired)} rules fired>"


def test_case_and_contact_reprs_never_show_free_text() -> None:
    hostile = _hostile_case()

    assert HOSTILE not in repr(hostile)
    assert HOSTILE not in repr(hostile.contacts[0])
    assert len(repr(hostile)) < 120


def test_case_html_escapes_free_text() -> None:
    html = _hostile_case()._repr_html_()

    assert HOSTILE not in html
    assert "&lt;script&gt;" in html


def test_assessment_html_shows_ladder_elements_threshold_rules_and_checklist() -> None:
    result = stalkrisk.assess(_hostile_case())
    html = result._repr_html_()

    for level in stalkrisk.Level:
        assert f">{level.value}</span>" in html
    assert "#c62828" in html  # the police badge colour
    for heading in ("Elements of stalking", "Threshold", "Rules that fired", "What to do"):
        assert heading in html
    assert all(rule.id in html for rule in result.rules_fired)
    assert html.count("☐") == len(result.actions)


def test_urgent_assessment_html_opens_with_the_banner() -> None:
    result = stalkrisk.assess(vignettes.load("followed_by_car_right_now").case)

    assert result._repr_html_().index("URGENT") < result._repr_html_().index("Recommendation")


def test_non_urgent_assessment_html_has_no_banner() -> None:
    result = stalkrisk.assess(vignettes.load("gifts_after_informed_consent").case)

    assert "URGENT" not in result._repr_html_()


def test_assessment_html_never_contains_raw_angle_brackets_from_data() -> None:
    result = stalkrisk.assess(_hostile_case())

    assert "<script" not in result._repr_html_()
