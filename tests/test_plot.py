"""stalkrisk.plot: a case's timeline renders headless, shows the grade and never shows notes.

Never touches pyplot: figures are plain matplotlib Figures, saved with the Agg renderer.
"""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from builders import BUNDLED_VIGNETTES, BundledVignette, case, contact

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from matplotlib import dates as mdates  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.text import Text  # noqa: E402

import stalkrisk  # noqa: E402
from stalkrisk import journal, plot, vignettes  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
VIGNETTES = BUNDLED_VIGNETTES
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SECRET = "SENTINEL-5be1-free-text"
RED = "#C62828"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk."""
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def all_texts(ax: Axes) -> list[str]:
    """Every piece of text in the figure, after a draw (so ticks and legend are laid out)."""
    figure = ax.figure
    assert isinstance(figure, Figure)
    figure.savefig(io.BytesIO(), format="png")
    return [t.get_text() for t in figure.findobj(Text)]


def vignette(name: str) -> str:
    return BundledVignette(name).read_text()


def red_markers(ax: Axes) -> list[Line2D]:
    return [
        line
        for line in ax.get_lines()
        if line.get_marker() == "X" and line.get_markerfacecolor() == RED
    ]


def figure_of(ax: Axes) -> Figure:
    figure = ax.figure
    assert isinstance(figure, Figure)
    return figure


def date_to_num(moment: datetime) -> float:
    return float(mdates.date2num(moment))  # type: ignore[no-untyped-call]  # untyped


def num_to_date(number: float) -> datetime:
    moment: datetime = mdates.num2date(number)  # type: ignore[no-untyped-call]  # untyped
    return moment


# --- every vignette renders ----------------------------------------------------------------


@pytest.mark.parametrize("path", VIGNETTES, ids=lambda p: p.stem)
def test_every_vignette_renders_to_a_png(path: Path, tmp_path: Path) -> None:
    ax = plot.timeline(path.read_text(encoding="utf-8"))
    target = tmp_path / f"{path.stem}.png"

    figure_of(ax).savefig(target)

    data = target.read_bytes()
    width, height = png_size(data)
    assert width >= 600
    assert height >= 200
    assert len(data) > 10_000  # not a blank canvas


def test_every_bundled_vignette_is_rendered() -> None:
    assert len(VIGNETTES) == len(vignettes.names()) >= 12


# --- title and grade -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("long_standing_client_starts_following", "referral — End therapy and refer"),
        ("followed_by_car_right_now", "police · URGENT — Involve the police"),
        ("frail_client_drives_past_house", "reflective — Reflective handling in therapy"),
    ],
)
def test_the_title_gives_the_grade(name: str, title: str) -> None:
    ax = plot.timeline(vignette(name))

    assert ax.get_title(loc="left") == title


def test_a_given_assessment_is_shown_as_given() -> None:
    data = vignette("long_standing_client_starts_following")
    altered = stalkrisk.assess(data).model_copy(update={"urgent": True})

    ax = plot.timeline(data, altered)

    assert "URGENT" in ax.get_title(loc="left")


# --- the axes ------------------------------------------------------------------------------


def test_a_given_ax_is_drawn_on_and_returned() -> None:
    figure = Figure(figsize=(12, 8))
    left, right = figure.subplots(1, 2)

    returned = plot.timeline(vignette("threat_against_the_family"), ax=right)

    assert returned is right
    assert right.get_lines()
    assert right.get_title(loc="left").startswith("police")
    assert not left.get_lines()
    assert not left.get_title(loc="left")
    assert figure.axes == [left, right]


def test_without_an_ax_a_new_figure_is_made_and_nothing_is_shown() -> None:
    code = (
        "import sys, stalkrisk\n"
        "from stalkrisk import plot\n"
        "ax = plot.timeline(stalkrisk.example_case())\n"
        "ax.figure.savefig(__import__('io').BytesIO(), format='png')\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot was imported'\n"
        "print(type(ax.figure).__mro__[1].__name__)\n"
    )

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Figure"


def test_the_new_figure_shows_itself_in_a_notebook() -> None:
    ax = plot.timeline(stalkrisk.example_case())

    png = ax.figure._repr_png_()  # type: ignore[union-attr]

    assert png_size(png)[0] > 600


def test_rows_are_behaviour_codes_under_group_headers_in_group_order() -> None:
    data = case(
        contact("a", 0, "gift", "unwanted_calls"),
        contact("b", 3, "property_damage"),
        contact("c", 5, "following"),
    )

    ax = plot.timeline(data)

    labels = [label.get_text() for label in ax.get_yticklabels()]
    assert labels == [
        "STALKING", "following", "unwanted_calls",
        "BOUNDARY", "gift",
        "ESCALATION", "property_damage",
    ]  # fmt: skip


def test_one_marker_per_contact_and_behaviour_and_threats_in_red() -> None:
    data = case(
        contact("a", 0, "unwanted_calls", "threat"),
        contact("b", 2, "physical_violence"),
        contact("c", 4, "gift"),
    )

    ax = plot.timeline(data)

    markers = [line for line in ax.get_lines() if line.get_marker() in {"o", "s", "X"}]
    assert len(markers) == 4
    assert len(red_markers(ax)) == 2


def test_flags_are_shown_as_fixed_words() -> None:
    data = case(
        contact("a", 0, "threat", weapon=True, specific_threat=True, targets=["family"]),
        contact("b", 1, "following", ongoing=True),
    )

    texts = all_texts(plot.timeline(data))

    assert "weapon\nspecific threat\nfamily" in texts
    assert "ongoing" in texts


# --- the course of conduct -----------------------------------------------------------------


def test_the_course_of_conduct_is_shaded_and_its_span_annotated() -> None:
    ax = plot.timeline(vignette("long_standing_client_starts_following"))

    texts = all_texts(ax)

    assert "course of conduct: 16.0 days, 3 behaviours" in texts
    [span] = [p for p in ax.patches if p.get_alpha() is not None]
    xs = ax.transData.inverted().transform(span.get_verts())[:, 0]
    start, end = min(xs), max(xs)
    assert num_to_date(start).isoformat() == "2025-01-06T09:00:00+00:00"
    assert num_to_date(end).isoformat() == "2025-01-22T09:00:00+00:00"


def test_an_episode_below_the_threshold_is_labelled_as_such() -> None:
    texts = all_texts(plot.timeline(vignette("two_behaviours_in_ten_days")))

    assert "episode: 10.0 days, 2 behaviours, below the threshold" in texts
    assert not any(text.startswith("course of conduct:") for text in texts)


def test_a_span_just_short_of_the_threshold_is_not_rounded_up() -> None:
    data = case(
        contact("a", 0, "unwanted_calls"),
        contact("b", 14 - 1 / 86_400, "following"),
    )

    texts = all_texts(plot.timeline(data))

    assert "episode: 13 d 23 h 59 min 59 s, 2 behaviours, below the threshold" in texts


def test_no_span_is_drawn_for_a_single_contact() -> None:
    texts = all_texts(plot.timeline(vignette("protection_order_breached_by_letter")))

    assert not any(text.startswith(("course of conduct:", "episode:")) for text in texts)


# --- assessed_at, fear and boundary events -------------------------------------------------


def test_assessed_at_is_a_line_and_fear_is_shown() -> None:
    data = vignette("threat_against_the_family")
    ax = plot.timeline(data)
    assessed = date_to_num(stalkrisk.parse_case(data).assessed_at)

    vertical = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert [list(line.get_xdata()) for line in vertical] == [[assessed, assessed]]  # type: ignore[arg-type]
    texts = all_texts(ax)
    assert "fear: severe" in texts
    [box] = [text for text in texts if text.startswith("assessed 20")]
    assert "fear reported: severe" in box
    assert "family afraid: yes" in box
    assert "elements: threat, fear" in box


def test_warnings_are_labelled_and_an_old_protection_order_is_noted_at_the_edge() -> None:
    warnings = all_texts(plot.timeline(vignette("calls_continue_after_supervisor_warning")))
    order = all_texts(plot.timeline(vignette("protection_order_breached_by_letter")))

    assert {"warning", "supervisor warning"} <= set(warnings)
    assert "◀ protection order (2024-11-07)" in order


# --- empty case ----------------------------------------------------------------------------


def test_a_case_with_no_contacts_renders_with_title_and_assessed_at(tmp_path: Path) -> None:
    data: dict[str, Any] = {
        "assessed_at": "2025-06-01T12:00:00+02:00",
        "client": {"relationship": "current"},
    }

    ax = plot.timeline(data)
    figure_of(ax).savefig(tmp_path / "empty.png")

    assert ax.get_title(loc="left") == "none — No concern recorded"
    assert "no contacts recorded" in all_texts(ax)
    assessed = date_to_num(datetime.fromisoformat(data["assessed_at"]))
    lo, hi = ax.get_xlim()
    assert lo < assessed < hi
    assert ax.get_yticks().size == 0
    assert png_size((tmp_path / "empty.png").read_bytes())[0] > 0


# --- time zones ----------------------------------------------------------------------------


def test_times_are_shown_in_the_zone_of_assessed_at() -> None:
    plus_two = timezone(timedelta(hours=2))
    data = case(
        contact("late", datetime(2025, 6, 1, 23, 30, tzinfo=plus_two), "unwanted_calls"),
        assessed_at=datetime(2025, 6, 2, 8, 0, tzinfo=plus_two),
    )

    ax = plot.timeline(data)

    assert ax.get_xlabel() == "time (UTC+02:00)"
    all_texts(ax)  # lay out the ticks
    ticks = {label.get_text(): label.get_position()[0] for label in ax.get_xticklabels()}
    # The day changes at local midnight, 22:00 UTC; the tick labels follow the local day.
    assert ticks["Jun-02"] == date_to_num(datetime(2025, 6, 2, tzinfo=plus_two))
    x = date_to_num(datetime(2025, 6, 1, 23, 30, tzinfo=plus_two))
    marker = next(line for line in ax.get_lines() if line.get_marker() == "o")
    assert list(marker.get_xdata()) == [x]  # type: ignore[arg-type]


def test_an_iana_zone_is_named_on_the_axis() -> None:
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    contacts = journal.read_case(
        ROOT / "docs" / "examples" / "journal.csv",
        assessed_at=datetime(2025, 4, 10, 9, tzinfo=berlin),
        client="current",
    )

    ax = plot.timeline(contacts)

    assert ax.get_xlabel() == "time (Europe/Berlin)"


# --- free text is never drawn --------------------------------------------------------------


def test_free_text_is_never_drawn() -> None:
    free: dict[str, Any] = {
        "note": f"note {SECRET}",
        "location": f"location {SECRET}",
        "witnesses": [f"witness {SECRET}"],
        "evidence": [f"evidence {SECRET}"],
        "response": f"response {SECRET}",
    }
    data = case(
        contact("a", 0, "threat", weapon=True, **free),
        contact("b", 15, "following", "gift", ongoing=True, **free),
        fear="significant",
        boundaries={"warnings": [{"at": "2025-01-10T09:00:00+00:00"}]},
    )

    texts = all_texts(plot.timeline(data))

    assert texts  # the check below looks at something
    assert not [text for text in texts if SECRET in text]


# --- threads and the missing extra ---------------------------------------------------------


def test_timelines_can_be_drawn_in_threads() -> None:
    errors: list[BaseException] = []

    def draw(path: Path) -> None:
        try:
            buffer = io.BytesIO()
            figure_of(plot.timeline(path.read_text(encoding="utf-8"))).savefig(buffer, format="png")
            assert buffer.getvalue().startswith(PNG_SIGNATURE)
        except BaseException as error:  # pragma: no cover - only on failure
            errors.append(error)

    threads = [threading.Thread(target=draw, args=(path,)) for path in VIGNETTES[:4]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []


def test_without_matplotlib_the_import_error_says_what_to_install() -> None:
    code = (
        "import sys\n"
        "sys.modules['matplotlib'] = None\n"
        "try:\n"
        "    import stalkrisk.plot\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert "pip install 'stalkrisk[plot]'" in done.stdout


# --- the trajectory: the ladder over time above the timeline -------------------------------


def panels(ladder: Axes) -> tuple[Axes, Axes]:
    """The ladder and the timeline below it, the two Axes of the trajectory's figure."""
    first, second = figure_of(ladder).axes
    assert first is ladder
    return first, second


def grade_line_of(ladder: Axes) -> Line2D:
    [line] = [line for line in ladder.get_lines() if line.get_gid() == "grade"]
    return line


def test_the_trajectory_is_one_figure_with_the_ladder_above_the_timeline() -> None:
    ladder, rows = panels(plot.trajectory(stalkrisk.example_case()))
    all_texts(ladder)  # lay out

    assert ladder.get_position().y0 > rows.get_position().y1
    assert [label.get_text() for label in ladder.get_yticklabels()] == [
        level.value for level in stalkrisk.Level
    ]
    assert [label.get_text() for label in rows.get_yticklabels()] == [
        label.get_text() for label in plot.timeline(stalkrisk.example_case()).get_yticklabels()
    ]


def test_the_ladder_and_the_timeline_share_the_x_axis() -> None:
    ladder, rows = panels(plot.trajectory(stalkrisk.example_case()))

    assert ladder.get_shared_x_axes().joined(ladder, rows)
    assert ladder.get_xlim() == rows.get_xlim()


def test_the_grade_is_a_post_step_line_with_one_vertex_per_step() -> None:
    case_ = stalkrisk.example_case()
    steps = stalkrisk.trajectory(case_).steps

    line = grade_line_of(plot.trajectory(case_))

    assert line.get_drawstyle() == "steps-post"
    assert list(line.get_xdata()) == [date_to_num(step.at) for step in steps]  # type: ignore[arg-type]
    assert list(line.get_ydata()) == [step.level.rank for step in steps]  # type: ignore[arg-type]


def test_the_threshold_crossing_is_a_line_through_both_panels_with_a_label() -> None:
    case_ = vignettes.load("second_behaviour_on_day_fifteen").case
    crossing = stalkrisk.trajectory(case_).summary.threshold
    assert crossing is not None
    ladder, rows = panels(plot.trajectory(case_))

    for ax in (ladder, rows):
        [line] = [line for line in ax.get_lines() if line.get_gid() == "threshold_crossing"]
        assert list(line.get_xdata()) == [date_to_num(crossing.at)] * 2  # type: ignore[arg-type]
    [label] = [text for text in ladder.texts if text.get_gid() == "threshold_label"]
    assert label.get_text() == "threshold met at w3: 14.0 days, 2 behaviours"


def test_no_crossing_is_drawn_when_the_threshold_is_never_met() -> None:
    ladder, rows = panels(plot.trajectory(vignette("two_behaviours_in_ten_days")))

    gids = [artist.get_gid() for ax in (ladder, rows) for artist in (*ax.lines, *ax.texts)]
    assert "threshold_crossing" not in gids
    assert "threshold_label" not in gids


def test_urgent_steps_have_their_own_marker() -> None:
    data = case(
        contact("c1", 0, "unwanted_calls"),
        contact("c2", 2, "following", ongoing=True),
        contact("c3", 202, "unwanted_calls"),
        relationship="former",
    )
    urgent = [step for step in stalkrisk.trajectory(data).steps if step.urgent]

    ladder = plot.trajectory(data)

    [stars] = [line for line in ladder.get_lines() if line.get_gid() == "urgent"]
    assert stars.get_marker() == "*"
    assert stars.get_markerfacecolor() == RED
    assert list(stars.get_xdata()) == [date_to_num(step.at) for step in urgent]  # type: ignore[arg-type]


def test_the_trajectory_title_gives_the_final_grade_above_the_ladder() -> None:
    ladder, rows = panels(plot.trajectory(vignette("followed_by_car_right_now")))

    assert ladder.get_title(loc="left") == "police · URGENT — Involve the police"
    assert rows.get_title(loc="left") == ""


def test_nothing_of_the_trajectory_is_drawn_outside_the_figure() -> None:
    figure = figure_of(plot.trajectory(stalkrisk.example_case()))
    figure.savefig(io.BytesIO(), format="png")  # lay out, as when it is saved or shown
    width, height = figure.get_size_inches()

    box = figure.get_tightbbox()  # every artist's extent, in inches

    assert box is not None
    assert box.x0 >= 0
    assert box.y0 >= 0
    assert box.x1 <= width
    assert box.y1 <= height


def test_the_trajectory_draws_into_a_given_subfigure() -> None:
    figure = Figure(figsize=(20, 7), layout="constrained")
    grid = figure.add_gridspec(1, 2)
    left, right = figure.add_subfigure(grid[0]), figure.add_subfigure(grid[1])

    ladder = plot.trajectory(stalkrisk.example_case(), figure=right)

    assert right.axes[0] is ladder
    assert len(right.axes) == 2
    assert left.axes == []


def test_a_figure_that_already_has_axes_is_refused() -> None:
    figure = Figure()
    figure.add_subplot()

    with pytest.raises(ValueError, match="figure has 1 Axes already"):
        plot.trajectory(stalkrisk.example_case(), figure=figure)


@pytest.mark.parametrize("path", VIGNETTES, ids=lambda p: p.stem)
def test_every_vignette_renders_its_trajectory_to_a_png(path: Path) -> None:
    buffer = io.BytesIO()

    figure_of(plot.trajectory(path.read_text(encoding="utf-8"))).savefig(buffer, format="png")

    width, height = png_size(buffer.getvalue())
    assert width >= 600
    assert height >= 300


def test_the_trajectory_shows_itself_in_a_notebook_without_pyplot() -> None:
    code = (
        "import sys, stalkrisk\n"
        "from stalkrisk import plot\n"
        "ax = plot.trajectory(stalkrisk.example_case())\n"
        "png = ax.figure._repr_png_()\n"
        "assert png.startswith(b'\\x89PNG'), 'not a PNG'\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot was imported'\n"
    )

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)

    assert done.returncode == 0, done.stderr


def test_the_trajectory_never_draws_free_text() -> None:
    free: dict[str, Any] = {
        "note": f"note {SECRET}",
        "location": f"location {SECRET}",
        "witnesses": [f"witness {SECRET}"],
        "evidence": [f"evidence {SECRET}"],
        "response": f"response {SECRET}",
    }
    data = case(
        contact("a", 0, "threat", weapon=True, **free),
        contact("b", 15, "following", "gift", ongoing=True, **free),
        fear="significant",
    )

    texts = all_texts(plot.trajectory(data))

    assert texts
    assert not [text for text in texts if SECRET in text]
