"""The training exercise: answer a vignette, reveal the grade, ask what if.

Most tests drive the widget-free :class:`stalkrisk.Exercise`; the last ones
build the ipywidgets view headless and drive it as a trainee would, by setting
values and clicking buttons.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from html import escape
from pathlib import Path
from typing import Any

import pytest
from builders import case, contact

import stalkrisk
from stalkrisk import Exercise, Level, vignettes

BUNDLED = Path(stalkrisk.__file__).parent / "_vignettes"

FRAIL = "frail_client_drives_past_house"  # reflective, no element present
FOLLOWING = "long_standing_client_starts_following"  # referral, pattern and fear
THREAT = "threat_against_the_family"  # police, threat and fear; contacts 3 and 1 days old
FREE_FIELDS = ("note", "location", "response", "witnesses", "evidence")
SENTINEL = "Zebediah-Quux-7731"


def _revealed(name: str = FRAIL) -> Exercise:
    exercise = Exercise(name)
    exercise.answer("reflective")
    exercise.reveal()
    return exercise


def _free_text(vignette: vignettes.Vignette) -> list[str]:
    found = []
    for item in vignette.case.contacts:
        for field in FREE_FIELDS:
            value = getattr(item, field)
            found += list(value) if isinstance(value, tuple) else [value] if value else []
    return found


# The model


def test_the_ladder_lists_every_level_with_its_title_in_the_rule_pack() -> None:
    pack = stalkrisk.default_rule_pack()

    ladder = Exercise(FRAIL).ladder

    assert ladder == tuple((spec.code, spec.title) for spec in pack.levels)
    assert [code for code, _ in ladder] == list(Level)


def test_a_vignette_or_its_name_starts_the_same_exercise() -> None:
    by_name = Exercise(FRAIL)
    by_vignette = Exercise(vignettes.load(FRAIL))

    assert by_name.vignette == by_vignette.vignette
    assert by_name.case == by_vignette.case


def test_a_vignette_file_of_ones_own_is_exercised_by_its_path(tmp_path: Path) -> None:
    own = tmp_path / "my_vignette.json"
    shutil.copyfile(BUNDLED / f"{FRAIL}.json", own)

    exercise = Exercise(own)

    assert exercise.vignette.name == "my_vignette"
    assert exercise.case == vignettes.load(FRAIL).case


def test_an_unknown_vignette_name_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="no vignette named"):
        Exercise("no_such_vignette")


def test_something_other_than_a_vignette_is_refused() -> None:
    with pytest.raises(TypeError, match="the path of a vignette file, not dict"):
        Exercise({"name": FRAIL})  # type: ignore[arg-type]


def test_the_reveal_needs_an_answer() -> None:
    with pytest.raises(RuntimeError, match="answer first"):
        Exercise(FRAIL).reveal()


def test_an_answer_off_the_ladder_is_refused() -> None:
    with pytest.raises(ValueError, match="level must be one of none, reflective"):
        Exercise(FRAIL).answer("worried")


def test_an_unknown_element_is_refused() -> None:
    with pytest.raises(ValueError, match="not menace"):
        Exercise(FRAIL).answer("none", ["pattern", "menace"])


def test_a_right_answer_is_correct() -> None:
    exercise = Exercise(FOLLOWING)
    exercise.answer(Level.REFERRAL, ["pattern", "fear"])

    feedback = exercise.reveal()

    assert feedback.correct
    assert feedback.verdicts() == ("Level: right.", "Elements: all right.")


def test_a_level_too_high_says_by_how_many_rungs() -> None:
    exercise = Exercise(FRAIL)
    exercise.answer("consultation")

    feedback = exercise.reveal()

    assert feedback.level_difference == 2
    assert feedback.verdicts()[0] == "Level: 2 rungs too high."


def test_a_level_too_low_and_elements_missed() -> None:
    exercise = Exercise(FOLLOWING)
    exercise.answer("consultation", ["pattern"])

    feedback = exercise.reveal()

    assert feedback.level_difference == -1
    assert feedback.missed == ("fear",)
    assert feedback.verdicts() == ("Level: 1 rung too low.", "Elements: missed fear.")


def test_an_element_seen_that_is_not_present() -> None:
    exercise = Exercise(FRAIL)
    exercise.answer("reflective", ["threat"])

    feedback = exercise.reveal()

    assert feedback.wrongly_seen == ("threat",)
    assert not feedback.correct
    assert feedback.verdicts()[1] == "Elements: saw threat, which is not present."


def test_the_reveal_shows_grade_explanation_and_teaching_note() -> None:
    exercise = Exercise(FRAIL)
    exercise.answer("boundaries")

    feedback = exercise.reveal()

    assert exercise.revealed
    assert feedback.assessment == stalkrisk.assess(exercise.vignette.case)
    for shown in (str(feedback), feedback._repr_html_()):
        assert "Reflective handling in therapy" in shown
        assert "1 rung too high" in shown
        assert "explore it in therapy" in shown  # the teaching note
    assert str(feedback.assessment) in str(feedback)
    assert feedback.assessment._repr_html_() in feedback._repr_html_()


def test_a_new_answer_can_be_revealed_again() -> None:
    exercise = _revealed()
    exercise.answer("police")

    assert exercise.reveal().level_difference == 4


@pytest.mark.parametrize(
    "change",
    [
        lambda e: e.set_fear("severe"),
        lambda e: e.toggle_contact("v1"),
        lambda e: e.add_contact("gift", 1),
        lambda e: e.move_assessed_at(3),
    ],
)
def test_what_if_waits_for_the_reveal(change: Any) -> None:
    exercise = Exercise(FRAIL)
    exercise.answer("none")

    with pytest.raises(RuntimeError, match="reveal the grade first"):
        change(exercise)


def test_fear_reported_regrades_and_says_what_changed() -> None:
    exercise = _revealed()

    what = exercise.set_fear("significant")

    assert what.change == "fear set to significant"
    assert what.assessment.level is Level.CONSULTATION
    assert what.step.elements_gained == ("fear",)
    assert exercise.case.fear.level is stalkrisk.FearLevel.SIGNIFICANT
    assert "now consultation" in str(what)
    assert "now <b>consultation" in what._repr_html_()


def test_a_contact_removed_and_restored_gives_back_the_vignette() -> None:
    exercise = _revealed()

    removed = exercise.toggle_contact("v1")
    restored = exercise.toggle_contact("v1")

    assert [c.id for c in removed.case.contacts] == ["v2"]
    assert exercise.is_included("v1")
    assert restored.case == exercise.vignette.case
    assert not restored.overall.changed


def test_an_unknown_contact_id_is_a_key_error_that_does_not_echo_it() -> None:
    exercise = _revealed()

    with pytest.raises(KeyError, match="no contact with that id") as caught:
        exercise.toggle_contact("Jane Doe")

    assert "Jane" not in str(caught.value)


def test_a_contact_added_is_dated_before_assessed_at_and_graded() -> None:
    exercise = _revealed()

    what = exercise.add_contact("following", 1)

    added = what.case.contacts[-1]
    assert (added.id, added.behaviours) == ("w1", (stalkrisk.Behaviour.FOLLOWING,))
    assert (what.case.assessed_at - added.at).days == 1
    assert what.change == "contact w1 added: following, 1 day before assessed_at"
    assert what.step.level_change == 2


def test_contacts_added_get_their_own_ids_and_can_be_removed() -> None:
    exercise = _revealed()
    exercise.add_contact("gift", 2)
    exercise.add_contact("gift", 1.5)

    what = exercise.toggle_contact("w1")

    assert [c.id for c in exercise.contacts] == ["v1", "w1", "w2", "v2"]  # oldest first
    assert [c.id for c in what.case.contacts] == ["v1", "v2", "w2"]


@pytest.mark.parametrize("days", [-1, float("nan"), float("inf")])
def test_a_contact_must_be_dated_zero_or_more_days_back(days: float) -> None:
    with pytest.raises(ValueError, match="must be a number of days, 0 or more"):
        _revealed().add_contact("gift", days)


def test_an_unknown_behaviour_is_refused() -> None:
    with pytest.raises(ValueError, match="not a valid Behaviour"):
        _revealed().add_contact("stalked", 1)


def test_moving_assessed_at_a_year_later_lets_a_threat_lapse() -> None:
    exercise = _revealed(THREAT)

    assert exercise.move_assessed_at(100).assessment.level is Level.POLICE
    what = exercise.move_assessed_at(366)

    assert what.assessment.level < Level.POLICE
    assert what.change == "assessed_at moved 366 days later"


def test_moving_assessed_at_earlier_is_the_case_as_known_then() -> None:
    exercise = _revealed()

    what = exercise.move_assessed_at(-3)

    assert [c.id for c in what.case.contacts] == ["v1"]
    # An undated fear report moves with assessed_at rather than being dropped.
    assert what.case.fear == exercise.vignette.case.fear
    assert not exercise.is_included("v2")


def test_moving_assessed_at_back_to_zero_restores_the_vignette() -> None:
    exercise = _revealed()
    exercise.move_assessed_at(-3)

    what = exercise.move_assessed_at(0)

    assert what.case == exercise.vignette.case
    assert what.change == "assessed_at back to the vignette's"


def test_moving_assessed_at_takes_whole_days() -> None:
    with pytest.raises(TypeError, match="whole number of days"):
        _revealed().move_assessed_at(1.5)  # type: ignore[arg-type]


def test_a_contact_added_after_a_moved_assessed_at_drops_out_when_it_moves_back() -> None:
    exercise = _revealed()
    exercise.add_contact("following", 1)

    what = exercise.move_assessed_at(-2)

    assert "w1" not in {c.id for c in what.case.contacts}


def test_each_change_is_compared_with_the_last_one_and_with_the_vignette() -> None:
    exercise = _revealed()
    exercise.set_fear("significant")

    what = exercise.add_contact("following", 1)

    assert (what.step.before.level, what.step.after.level) == (Level.CONSULTATION,) * 2
    assert (what.overall.before.level, what.overall.level_change) == (Level.REFLECTIVE, 2)
    assert "Against the vignette as written: reflective → consultation (+2 rungs)." in str(what)


def test_the_case_is_shown_without_its_grade_teaching_note_or_source() -> None:
    for name in vignettes.names():
        exercise = Exercise(name)
        vignette = exercise.vignette
        title = dict(exercise.ladder)[vignette.expected_level]
        for shown in (str(exercise), exercise._repr_html_()):
            assert escape(vignette.title) in shown or vignette.title in shown
            assert title not in shown
            for hidden in (vignette.teaching_note[:40], vignette.source[:40]):
                assert hidden not in shown
                assert escape(hidden) not in shown


def test_the_case_shows_its_contacts_from_coded_fields() -> None:
    text = str(Exercise(FRAIL))

    assert "v1: 2025-01-06 23:24, 5.4 d before, surveillance" in text
    assert "Known about the client: suicidality, dependency" in text
    assert "Fear reported: some" in text


def test_no_free_text_of_a_bundled_vignette_is_ever_shown() -> None:
    for name in vignettes.names():
        exercise = Exercise(name)
        exercise.answer("none")
        shown = [str(exercise), exercise._repr_html_()]
        feedback = exercise.reveal()
        shown += [str(feedback), feedback._repr_html_()]
        for what in (exercise.set_fear("severe"), exercise.move_assessed_at(2)):
            shown += [str(what), what._repr_html_(), repr(what)]
        for text in _free_text(exercise.vignette):
            assert not [s for s in shown if text in s], (name, text)


def test_free_text_of_any_case_is_never_shown() -> None:
    free = {
        "note": f"{SENTINEL} said something",
        "location": f"outside {SENTINEL}'s house",
        "response": f"called {SENTINEL}",
        "witnesses": [f"{SENTINEL} Smith"],
        "evidence": [f"recording of {SENTINEL}"],
    }
    data = case(contact("a", 0, "following", **free), contact("b", 15, "threat", **free))
    vignette = vignettes.Vignette(
        name="private",
        title="A private case",
        source="a test",
        teaching_note="none",
        expected_level=Level.POLICE,
        expected_urgent=False,
        case=stalkrisk.parse_case(data),
    )
    exercise = Exercise(vignette)
    exercise.answer("police", ["threat"])
    shown = [str(exercise), exercise._repr_html_(), repr(exercise)]
    feedback = exercise.reveal()
    shown += [str(feedback), feedback._repr_html_(), repr(feedback)]
    for what in (exercise.toggle_contact("a"), exercise.add_contact("gift", 0)):
        shown += [str(what), what._repr_html_(), repr(what), str(exercise)]
    view = stalkrisk.exercise(vignette)
    _reveal(view, Level.POLICE, "threat")
    view.contacts["b"].value = False
    shown += [*map(str, view._repr_mimebundle_().values()), view.case.value, view.feedback.value]
    shown += [view.what_if.value, *(box.description for box in view.contacts.values())]

    assert not [s for s in shown if SENTINEL in s]


def test_another_rule_pack_grades_and_titles_the_ladder() -> None:
    pack = stalkrisk.bundled_packs()[1]

    exercise = Exercise(FRAIL, rule_pack=pack)
    exercise.answer("none")

    assert exercise.rule_pack is pack
    assert exercise.reveal().assessment.rule_pack.name == pack.name


def test_the_answer_is_kept_as_given() -> None:
    answer = Exercise(FRAIL).answer("boundaries", ["fear", "pattern"])

    assert answer == stalkrisk.ExerciseAnswer(Level.BOUNDARIES, frozenset({"pattern", "fear"}))


# The ipywidgets view, headless


def test_importing_stalkrisk_leaves_ipywidgets_alone() -> None:
    code = "import sys, stalkrisk; print('ipywidgets' in sys.modules)"

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert done.stdout.strip() == "False"


def _view(name: str = FRAIL) -> stalkrisk.ExerciseView:
    return stalkrisk.exercise(name)


def _reveal(view: stalkrisk.ExerciseView, level: Level, *elements: str) -> None:
    view.level.value = level
    for element in elements:
        view.elements[element].value = True
    view.reveal_button.click()


def test_the_view_shows_the_case_and_hides_the_what_if() -> None:
    view = _view()

    assert view.case.value == view.exercise._repr_html_()
    assert view.level.value is None
    assert [label for label, _ in view.level.options][
        1
    ] == "reflective — Reflective handling in therapy"
    assert list(view.elements) == ["pattern", "threat", "fear"]
    assert view.feedback.value == ""
    assert view.what_if_panel.layout.display == "none"


def test_reveal_without_a_level_asks_for_one() -> None:
    view = _view()

    view.reveal_button.click()

    assert view.feedback.value == "<p>Choose a level first.</p>"
    assert not view.exercise.revealed


def test_reveal_shows_the_feedback_and_opens_the_what_if() -> None:
    view = _view()

    _reveal(view, Level.BOUNDARIES, "pattern")

    assert "1 rung too high" in view.feedback.value
    assert "saw pattern, which is not present" in view.feedback.value
    assert view.what_if_panel.layout.display == ""


def test_the_fear_dropdown_regrades_at_once() -> None:
    view = _view()
    _reveal(view, Level.REFLECTIVE)

    view.fear.value = "significant"

    assert "fear set to significant</b>: now <b>consultation" in view.what_if.value
    assert "Fear reported</th><td" in view.case.value
    assert ">significant<" in view.case.value


def test_unticking_a_contact_removes_it() -> None:
    view = _view()
    _reveal(view, Level.REFLECTIVE)

    view.contacts["v1"].value = False

    assert "contact v1 removed" in view.what_if.value
    assert not view.exercise.is_included("v1")


def test_adding_a_contact_adds_its_checkbox() -> None:
    view = _view()
    _reveal(view, Level.REFLECTIVE)
    view.new_behaviour.value = "following"
    view.new_days.value = 1.0

    view.add_button.click()

    assert list(view.contacts) == ["v1", "v2", "w1"]
    assert view.contacts["w1"] in view.contact_list.children
    assert "contact w1 added: following" in view.what_if.value
    assert "now <b>consultation" in view.what_if.value


def test_the_slider_moves_assessed_at_and_marks_contacts_not_yet_made() -> None:
    view = _view()
    _reveal(view, Level.REFLECTIVE)

    view.assessed_at.value = -3

    assert "assessed_at moved 3 days earlier" in view.what_if.value
    assert view.contacts["v2"].description.endswith("(after assessed_at)")
    assert not view.contacts["v1"].description.endswith("(after assessed_at)")
    view.assessed_at.value = 0
    assert not view.contacts["v2"].description.endswith("(after assessed_at)")


def test_the_slider_reaches_back_before_the_first_contact() -> None:
    view = _view()

    assert view.assessed_at.min == -6  # the first contact is 5.4 days old
    assert view.assessed_at.max == 400


def test_without_a_frontend_the_view_shows_the_case_without_its_grade() -> None:
    view = _view()

    bundle = view._repr_mimebundle_()

    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == str(view.exercise)
    assert bundle["text/html"].startswith(view.exercise._repr_html_())
    assert "Reflective handling" not in bundle["text/html"]


def test_without_ipywidgets_the_error_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # None in sys.modules: ImportError

    with pytest.raises(ImportError, match=r"pip install 'stalkrisk\[notebook\]'"):
        stalkrisk.exercise(FRAIL)


def test_contacts_are_shown_with_the_packs_behaviour_labels_not_codes() -> None:
    exercise = Exercise("calls_continue_after_supervisor_warning")
    shown = str(exercise) + exercise._repr_html_()

    assert "unwanted calls" in shown
    assert "unwanted_calls" not in shown
