"""str(trajectory) and its HTML: the dated changes only, in plain words, escaped, no case text."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from builders import case, contact, pack_without_episode_ages

import stalkrisk
from stalkrisk import vignettes
from stalkrisk._html import _badge
from stalkrisk._trajectory_display import render_text, trajectory_html

HOSTILE = '<script>alert("x")</script>'

# Calls, then following "right now" (urgent), then one call 200 days later: by then
# the following is long over and the grade has fallen.
BURST_THEN_SILENCE = case(
    contact("c1", 0, "unwanted_calls"),
    contact("c2", 1, "unwanted_calls"),
    contact("c3", 2, "following", ongoing=True),
    contact("c4", 202, "unwanted_calls"),
    relationship="former",
)


def lines(data: Any) -> list[str]:
    return render_text(stalkrisk.trajectory(data)).splitlines()


def table_rows(html: str) -> list[str]:
    """The data rows of the first table (the header row left out)."""
    return re.findall(r"<tr><td.*?</tr>", html)


def test_the_example_reads_as_a_dated_list_of_changes() -> None:
    assert lines(stalkrisk.example_case()) == [
        "Grade over time: 5 contacts in 6 steps, 2025-03-01 to 2025-03-24, ending at referral "
        "(rule pack stalkrisk-default 1.1.0)",
        "2025-03-01: c1 → boundaries: Contact by someone who is not in therapy; "
        "A stalking behaviour; Contact after an informed-consent agreement",
        "2025-03-11: c3 → consultation: Family, colleagues or others targeted",
        "2025-03-22: c5 completed a 20-day course of conduct with 4 behaviours",
        "2025-03-24: without a new contact → referral: Course of conduct with fear",
        "2025-03-24: fear is now present",
        "Final grade on 2025-03-24: referral — End therapy and refer",
    ]


def test_a_crossing_that_raises_the_grade_says_so_on_its_line() -> None:
    text = lines(vignettes.load("second_behaviour_on_day_fifteen").case)

    # 14 days 1 hour: counted as 14 whole days.
    assert (
        "2025-03-17: w3 completed a 14-day course of conduct with 2 behaviours → consultation"
        in (text)
    )


def test_steps_without_a_change_are_left_out() -> None:
    t = stalkrisk.trajectory(stalkrisk.example_case())

    text = str(t)

    assert len(t.steps) == 6
    assert "2025-03-05" not in text  # c2 changed nothing anyone sees
    assert "2025-03-17" not in text  # nor did c4


def test_an_urgent_step_names_the_rules_that_made_it_urgent() -> None:
    assert (
        "2025-01-08: c3 → police, urgent: Being followed or someone at the property right now"
        in lines(BURST_THEN_SILENCE)
    )


def test_a_drop_gives_its_reason_and_the_rules_that_stopped() -> None:
    assert lines(BURST_THEN_SILENCE)[-2:] == [
        "2025-07-27: fell to consultation from police (no longer urgent): time passed, "
        "no longer: A stalking contact happening now; "
        "Being followed or someone at the property right now",
        "Final grade on 2025-07-28: consultation — Consult and plan for safety",
    ]


def test_a_drop_on_later_information_says_what_was_reported_since() -> None:
    data = case(
        contact("c1", 0, "unwanted_calls"),
        contact("c2", 7, "unwanted_calls"),
        relationship="former",
        assessed_at=10,
    )
    data["fear"] = {
        "reports": [
            {"at": "2025-01-05T09:00:00+00:00", "level": "significant"},
            {"at": "2025-01-12T09:00:00+00:00", "level": "some"},
        ]
    }

    [drop] = [line for line in lines(data) if "fell to" in line]

    assert drop.startswith(
        "2025-01-13: fell to boundaries from consultation: what was reported since, no longer: "
    )


def test_the_final_grade_line_marks_an_urgent_grade() -> None:
    text = lines(vignettes.load("followed_by_car_right_now").case)

    assert text[-1] == "Final grade on 2025-01-06: police · URGENT — Involve the police"


def test_a_case_without_contacts_reports_no_change() -> None:
    assert lines(case(assessed_at=3)) == [
        "Grade over time: 0 contacts in 1 step, 2025-01-09, ending at none "
        "(rule pack stalkrisk-default 1.1.0)",
        "No change: the grade stayed none throughout.",
        "Final grade on 2025-01-09: none — No concern recorded",
    ]


def test_dates_are_the_steps_own_calendar_days() -> None:
    # 00:30 at +02:00 is 22:30 UTC the day before: the date is the one in the step's offset.
    data = {
        "assessed_at": "2025-06-03T08:00:00+02:00",
        "client": {"relationship": "former"},
        "contacts": [{"id": "n1", "at": "2025-06-02T00:30:00+02:00", "behaviours": ["following"]}],
    }

    assert lines(data)[1].startswith("2025-06-02: n1 → consultation")


def test_the_text_never_shows_free_text_or_engine_names() -> None:
    data = case(
        contact("c1", 0, "following", note=HOSTILE, location=HOSTILE),
        contact("c2", 15, "threat", note=HOSTILE, evidence=[HOSTILE]),
    )

    text = str(stalkrisk.trajectory(data))

    assert HOSTILE not in text
    assert not re.search(r"\b(grade|element|urgent|note)\.[a-z_.]+", text)  # no rule ids
    assert "time_passed" not in text
    assert "span_days" not in text


def test_a_custom_pack_names_the_rules_that_set_each_raise(tmp_path: Path) -> None:
    pack = pack_without_episode_ages(tmp_path)
    t = stalkrisk.trajectory(stalkrisk.example_case(), rule_pack=pack)

    text = str(t)

    assert "2025-03-11: c3 → consultation: Family, colleagues or others targeted" in text
    assert text.endswith("Final grade on 2025-03-24: referral — End therapy and refer")


def test_str_of_a_trajectory_is_the_text_report() -> None:
    t = stalkrisk.trajectory(stalkrisk.example_case())

    assert str(t) == render_text(t)


# --- HTML ----------------------------------------------------------------------------------


def test_repr_html_of_a_trajectory_is_the_html_table() -> None:
    t = stalkrisk.trajectory(stalkrisk.example_case())

    assert t._repr_html_() == trajectory_html(t)


def test_the_html_has_one_row_per_step_that_changed() -> None:
    html = trajectory_html(stalkrisk.trajectory(stalkrisk.example_case()))

    rows = table_rows(html)

    assert [re.search(r"\d{4}-\d\d-\d\d", row)[0] for row in rows] == [  # type: ignore[index]
        "2025-03-01", "2025-03-11", "2025-03-22", "2025-03-24",
    ]  # fmt: skip
    assert "<th" in html
    assert "what happened" in html


def test_an_html_row_gives_contacts_grade_badge_and_what_happened() -> None:
    html = trajectory_html(stalkrisk.trajectory(stalkrisk.example_case()))

    row = table_rows(html)[1]

    assert ">c3</td>" in row
    assert _badge(stalkrisk.Level.CONSULTATION) in row
    assert "c3 → consultation: Family, colleagues or others targeted" in row


def test_an_urgent_row_is_marked_urgent() -> None:
    html = trajectory_html(stalkrisk.trajectory(BURST_THEN_SILENCE))

    urgent, fallen = table_rows(html)[1:]

    assert "URGENT" in urgent
    assert "URGENT" not in fallen


def test_the_html_escapes_what_it_shows() -> None:
    t = stalkrisk.trajectory(stalkrisk.example_case())
    hostile = t.model_copy(
        update={
            "rules": {
                rule_id: rule.model_copy(update={"title": HOSTILE})
                for rule_id, rule in t.rules.items()
            }
        },
    )

    html = trajectory_html(hostile)

    assert HOSTILE not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_the_html_never_shows_free_text_from_the_case() -> None:
    data = case(
        contact("c1", 0, "following", note=HOSTILE),
        contact("c2", 15, "threat", location=HOSTILE, witnesses=[HOSTILE]),
    )

    html = stalkrisk.trajectory(data)._repr_html_()

    assert HOSTILE not in html
    assert "&lt;script" not in html


def test_the_html_ends_with_the_final_grade() -> None:
    html = trajectory_html(stalkrisk.trajectory(stalkrisk.example_case()))

    assert html.endswith(
        f"<p>Final grade on 2025-03-24: {_badge(stalkrisk.Level.REFERRAL)} "
        "End therapy and refer</p></div>"
    )
