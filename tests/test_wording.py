"""One wording for every view: text report, HTML, FHIR narrative and plot say the same."""

from __future__ import annotations

import json
from html import escape

import stalkrisk
from stalkrisk import fhir, vignettes
from stalkrisk._wording import URGENT_BANNER, grade_line, picture_phrase

URGENT = stalkrisk.assess(vignettes.load("followed_by_car_right_now").case)


def test_the_text_report_html_and_fhir_give_the_same_urgent_banner() -> None:
    fhir_text = json.dumps(fhir.to_risk_assessment(URGENT, subject_reference="Patient/p1"))

    assert URGENT_BANNER in str(URGENT)
    assert escape(URGENT_BANNER) in URGENT._repr_html_()
    assert json.dumps(URGENT_BANNER)[1:-1] in fhir_text


def test_the_text_report_and_html_describe_the_picture_alike() -> None:
    phrase = picture_phrase(URGENT)

    assert f"The picture {phrase}." in str(URGENT)
    assert f"The picture {escape(phrase)}." in URGENT._repr_html_()


def test_the_grade_line_names_level_urgency_and_title() -> None:
    assert grade_line(URGENT) == f"police · URGENT — {URGENT.level_title}"
