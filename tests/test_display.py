"""Notebook display: short reprs, escaped HTML with the ladder, banner, elements and actions."""

from __future__ import annotations

from html import escape

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


def test_case_html_escapes_free_text_when_shown() -> None:
    html = _hostile_case().to_html(show_text=True)

    assert HOSTILE not in html
    assert "&lt;script&gt;" in html


def _full_case() -> stalkrisk.Case:
    return stalkrisk.parse_case(
        case(
            contact("a", 0, "following"),
            contact("b", 14, "surveillance"),
            relationship="former",
            history={
                "therapy_start": "2023-02-01",
                "therapy_end": "2024-06-30",
                "prior_violence": True,
                "motive": "intimacy_seeking",
                "clinical_state": ["dependency"],
                "protection_order_since": "2025-01-10T00:00:00+00:00",
                "protection_order_until": "2026-01-10T00:00:00+00:00",
            },
            boundaries={
                "agreement_at": "2024-12-01T10:00:00+00:00",
                "warnings": [{"at": "2025-01-08T10:00:00+00:00", "supervisor": True}],
            },
        )
        | {
            "fear": {
                "reports": [
                    {"at": "2025-01-07T10:00:00+00:00", "level": "some"},
                    {"at": "2025-01-15T10:00:00+00:00", "level": "severe", "family_afraid": True},
                ]
            }
        }
    )


def test_case_html_shows_the_client_history() -> None:
    html = _full_case().to_html()

    for shown in ("former client", "therapy from 2023-02-01", "to 2024-06-30", "prior violence",
                  "motive: intimacy seeking", "clinical state: dependency",
                  "protection order since 2025-01-10T00:00:00+00:00",
                  "until 2026-01-10T00:00:00+00:00"):  # fmt: skip
        assert shown in html


def test_case_html_shows_the_agreement_and_warnings_with_the_supervisor_flag() -> None:
    html = _full_case().to_html()

    assert "informed-consent agreement 2024-12-01T10:00:00+00:00" in html
    assert "2025-01-08T10:00:00+00:00 (supervisor-backed)" in html


def test_case_html_shows_the_fear_level_family_and_dated_reports() -> None:
    html = _full_case().to_html()

    assert "severe; family afraid" in html
    assert "2025-01-07T10:00:00+00:00 some" in html
    assert "2025-01-15T10:00:00+00:00 severe, family afraid" in html


def test_case_repr_html_is_the_default_to_html() -> None:
    full = _full_case()

    assert full._repr_html_() == full.to_html()


def test_assessment_html_shows_outranked_rules_without_their_reasons() -> None:
    result = stalkrisk.assess(
        case(contact("a", 0, "following"), contact("b", 14, "gift", "surveillance"))
    )
    crossing = next(r for r in result.rules_fired if r.id == "grade.reflective.boundary_crossing")
    html = result._repr_html_()

    assert not crossing.sets_grade
    assert crossing.id in html
    assert crossing.rationale not in html
    assert (
        html.index("Set the grade") < html.index("Fired, but outranked") < html.index(crossing.id)
    )


def test_assessment_html_states_raise_if_conditions_in_plain_words() -> None:
    result = stalkrisk.assess(case(contact("a", 0, "gift")))
    html = result._repr_html_()

    assert result.raise_if
    assert all(escape(item.condition) in html for item in result.raise_if)
    assert not any(item.expression in html for item in result.raise_if)


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


def test_the_threshold_names_its_behaviours_by_the_packs_labels_in_text_and_html() -> None:
    result = stalkrisk.assess(stalkrisk.example_case())
    labels = {s.code.value: s.label.lower() for s in stalkrisk.default_rule_pack().behaviours}

    for shown in (str(result), result._repr_html_()):
        assert all(labels[code] in shown.lower() for code in result.threshold.behaviours)
        assert "unwanted_calls" not in shown


def test_the_case_html_names_behaviours_by_the_packs_labels() -> None:
    shown = stalkrisk.example_case()._repr_html_()

    assert "unwanted calls" in shown.lower()
    assert "unwanted_calls" not in shown
