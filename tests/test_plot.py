"""stalkrisk.plot: a case's timeline renders headless, shows the grade and never shows notes.

Figures are plain matplotlib Figures saved with the Agg renderer, except in the layout
tests, which use pyplot (Agg backend) as users do and close every figure they make.
"""

from __future__ import annotations

import dataclasses
import io
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from builders import BUNDLED_VIGNETTES, BundledVignette, case, contact

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from matplotlib import dates as mdates  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
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


def legend_texts(ax: Axes, *, title: bool = False) -> list[str]:
    """The entries of the key of ``ax`` (and its title, the case in brief, when asked)."""
    legend = ax.get_legend()
    assert legend is not None
    texts = [text.get_text() for text in legend.get_texts()]
    return [legend.get_title().get_text(), *texts] if title else texts


def events_row(ax: Axes) -> float:
    """The y of the EVENTS row, on the time axis."""
    [y] = [
        tick
        for tick, label in zip(ax.get_yticks(), ax.get_yticklabels(), strict=True)
        if label.get_text() == "EVENTS"
    ]
    return float(y)


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


def test_rows_are_the_packs_behaviour_labels_under_group_headers_in_group_order() -> None:
    data = case(
        contact("a", 0, "gift", "unwanted_calls"),
        contact("b", 3, "property_damage"),
        contact("c", 5, "following"),
    )

    ax = plot.timeline(data)

    labels = [label.get_text() for label in ax.get_yticklabels()]
    assert labels == [
        "STALKING", "Following", "Unwanted calls",
        "BOUNDARY", "Gift",
        "ESCALATION", "Property damage",
    ]  # fmt: skip


def test_rows_take_their_labels_from_the_given_pack() -> None:
    pack = stalkrisk.default_rule_pack()
    [gift] = [spec for spec in pack.behaviours if spec.code is stalkrisk.Behaviour.GIFT]
    relabelled = dataclasses.replace(
        pack,
        behaviours=tuple(
            dataclasses.replace(spec, label="Present") if spec is gift else spec
            for spec in pack.behaviours
        ),
    )

    ax = plot.timeline(case(contact("a", 0, "gift")), rule_pack=relabelled)

    assert [label.get_text() for label in ax.get_yticklabels()] == ["BOUNDARY", "Present"]


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

    assert (
        "course of conduct:\n16.0 days, 3 behaviours\n(needs ≥ 14 days,\n≥ 2 behaviours)" in texts
    )
    [arrow] = [text for text in ax.texts if text.get_gid() == "episode_span"]
    assert arrow.get_visible()
    [span] = [p for p in ax.patches if p.get_alpha() is not None]
    xs = ax.transData.inverted().transform(span.get_verts())[:, 0]
    start, end = min(xs), max(xs)
    assert num_to_date(start).isoformat() == "2025-01-06T09:00:00+00:00"
    assert num_to_date(end).isoformat() == "2025-01-22T09:00:00+00:00"


def test_an_episode_below_the_threshold_is_labelled_as_such() -> None:
    texts = all_texts(plot.timeline(vignette("two_behaviours_in_ten_days")))

    assert any(
        text.startswith("episode below the threshold:\n10.0 days, 2 behaviours") for text in texts
    )
    assert not any(text.startswith("course of conduct:") for text in texts)


def test_a_span_just_short_of_the_threshold_is_not_rounded_up() -> None:
    data = case(
        contact("a", 0, "unwanted_calls"),
        contact("b", 14 - 1 / 86_400, "following"),
    )

    texts = all_texts(plot.timeline(data))

    assert any(
        text.startswith("episode below the threshold:\n13 d 23 h 59 min 59 s,") for text in texts
    )


def test_no_span_is_drawn_for_a_single_contact() -> None:
    texts = all_texts(plot.timeline(vignette("protection_order_breached_by_letter")))

    assert not any(text.startswith(("course of conduct:", "episode")) for text in texts)


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


def test_warnings_are_marked_on_the_events_row_and_explained_in_the_key() -> None:
    data = vignette("calls_continue_after_supervisor_warning")
    warnings = stalkrisk.parse_case(data).boundaries.warnings
    ax = plot.timeline(data)

    [plain] = [line for line in ax.get_lines() if line.get_gid() == "warning"]
    [supervisor] = [line for line in ax.get_lines() if line.get_gid() == "supervisor_warning"]
    assert [list(plain.get_xdata()), list(supervisor.get_xdata())] == [  # type: ignore[arg-type]
        [date_to_num(warning.at)] for warning in warnings
    ]
    assert plain.get_markerfacecolor() == "white"
    assert supervisor.get_markerfacecolor() != "white"
    assert list(plain.get_ydata()) == list(supervisor.get_ydata()) == [events_row(ax)]  # type: ignore[arg-type]
    assert {"warning", "supervisor warning"} <= set(legend_texts(ax))


def test_the_agreement_is_marked_on_the_events_row() -> None:
    data = vignette("gifts_after_informed_consent")
    agreed = stalkrisk.parse_case(data).boundaries.agreement_at
    assert agreed is not None

    ax = plot.timeline(data)

    [mark] = [line for line in ax.get_lines() if line.get_gid() == "agreement"]
    assert list(mark.get_xdata()) == [date_to_num(agreed)]  # type: ignore[arg-type]
    assert list(mark.get_ydata()) == [events_row(ax)]  # type: ignore[arg-type]
    assert "agreement" in legend_texts(ax)


def test_breaches_of_a_protection_order_are_marked_and_flagged() -> None:
    data = case(
        contact("before", 0, "unwanted_calls"),
        contact("during", 5, "following"),
        contact("after", 12, "unwanted_calls"),
        history={
            "protection_order_since": "2025-01-09T09:00:00+00:00",
            "protection_order_until": "2025-01-15T09:00:00+00:00",
        },
    )

    ax = plot.timeline(data)

    [breach] = [line for line in ax.get_lines() if line.get_gid() == "order_breach"]
    assert list(breach.get_xdata()) == [date_to_num(datetime(2025, 1, 11, 9, tzinfo=UTC))]  # type: ignore[arg-type]
    assert list(breach.get_ydata()) == [events_row(ax)]  # type: ignore[arg-type]
    assert breach.get_color() == RED
    assert "order breach" in [text.get_text() for text in ax.texts]
    [order] = [line for line in ax.get_lines() if line.get_gid() == "protection_order"]
    assert list(order.get_xdata()) == [  # type: ignore[arg-type]
        date_to_num(datetime(2025, 1, day, 9, tzinfo=UTC)) for day in (9, 15)
    ]
    assert {"protection order in force", "order breach"} <= set(legend_texts(ax))


def test_an_old_protection_order_is_listed_in_the_key() -> None:
    ax = plot.timeline(vignette("protection_order_breached_by_letter"))

    [box] = [text for text in legend_texts(ax, title=True) if text.startswith("assessed 20")]
    assert "◀ protection order (2024-11-07)" in box.splitlines()
    assert "order breach" in [text.get_text() for text in ax.texts]


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

    assert ax.get_xlabel() == "time (UTC+02:00), Jun 2025"
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

    assert ax.get_xlabel() == "time (Europe/Berlin), 2025"


# --- free text is never drawn --------------------------------------------------------------


def _free_text() -> dict[str, Any]:
    """Every free-text field of a contact, each carrying the secret."""
    return {
        "note": f"note {SECRET}",
        "location": f"location {SECRET}",
        "witnesses": [f"witness {SECRET}"],
        "evidence": [f"evidence {SECRET}"],
        "response": f"response {SECRET}",
    }


def test_free_text_is_never_drawn() -> None:
    free = _free_text()
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
    [label] = [
        text
        for text in legend_texts(ladder)
        if text == "threshold first met at w3:\n14.0 days, 2 behaviours"
    ]
    legend = ladder.get_legend()
    assert legend is not None
    assert [text.get_gid() for text in legend.get_texts() if text.get_text() == label] == [
        "threshold_label"
    ]


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
    free = _free_text()
    data = case(
        contact("a", 0, "threat", weapon=True, **free),
        contact("b", 15, "following", "gift", ongoing=True, **free),
        fear="significant",
    )

    texts = all_texts(plot.trajectory(data))

    assert texts
    assert not [text for text in texts if SECRET in text]


# --- any figure: plain pyplot, grids, constrained layout -----------------------------------

SIZES = [(5, 3), (6, 3), (8, 4), (10, 5), (14, 6)]
GRID_SIZES = [(10, 4), (12, 5), (14, 6)]
LAYOUTS = [None, "constrained"]
LAYOUT_CASES = [
    "long_standing_client_starts_following",
    "protection_order_breached_by_letter",
    "calls_continue_after_supervisor_warning",
]


@pytest.fixture
def pyplot() -> Iterator[Any]:
    """pyplot, as users drive it; every figure made is closed afterwards."""
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def all_axes(figure: Figure) -> list[Axes]:
    """The Axes of ``figure`` and of its subfigures."""
    return [artist for artist in figure.findobj(Axes) if isinstance(artist, Axes)]


def drawn_texts(figure: Figure) -> list[Text]:
    """Every text a draw of ``figure`` puts on the canvas: titles, axis and tick labels,
    labels in the Axes, the key and the case box; only those drawn and not blank."""
    texts: list[Text] = []
    for ax in all_axes(figure):
        texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label]  # type: ignore[attr-defined]
        texts += [ax.xaxis.get_offset_text(), ax.yaxis.get_offset_text()]
        lo, hi = sorted(ax.get_xlim())
        texts += [t for t in ax.get_xticklabels() if lo <= t.get_position()[0] <= hi]
        bottom, top = sorted(ax.get_ylim())
        texts += [t for t in ax.get_yticklabels() if bottom <= t.get_position()[1] <= top]
        texts += ax.texts
        legend = ax.get_legend()
        if legend is not None:
            texts += [legend.get_title(), *legend.get_texts()]
    return [text for text in texts if text.get_visible() and text.get_text().strip()]


def layout_problems(figure: Figure) -> list[str]:
    """What is drawn outside the figure, over another Axes, or over another label."""
    # backend_agg is not annotated
    canvas: Any = figure.canvas if isinstance(figure.canvas, FigureCanvasAgg) else None
    canvas = canvas or FigureCanvasAgg(figure)
    canvas.draw()
    renderer = canvas.get_renderer()
    page = figure.bbox.padded(1)  # a pixel of slack for rounding
    problems: list[str] = []
    every_axes = all_axes(figure)
    for ax in every_axes:
        legend = ax.get_legend()
        parts = [("all of it", ax.get_tightbbox(renderer))]
        if legend is not None:
            parts.append(("key", legend.get_window_extent(renderer)))
        for name, box in parts:
            assert box is not None
            if not page.contains(box.x0, box.y0) or not page.contains(box.x1, box.y1):
                problems.append(f"{name} of {ax.get_title(loc='left')!r} leaves the figure")
            problems += [
                f"{name} of {ax.get_title(loc='left')!r} is over another Axes"
                for other in every_axes
                if other is not ax and box.overlaps(other.bbox)
            ]
    boxes = [(text, text.get_window_extent(renderer)) for text in drawn_texts(figure)]
    for index, (text, box) in enumerate(boxes):
        if not page.contains(box.x0, box.y0) or not page.contains(box.x1, box.y1):
            problems.append(f"{text.get_text()!r} leaves the figure")
        for other, other_box in boxes[index + 1 :]:
            if box.overlaps(other_box):
                problems.append(f"{text.get_text()!r} overlaps {other.get_text()!r}")
    return problems


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
@pytest.mark.parametrize("name", LAYOUT_CASES)
def test_a_timeline_fits_a_pyplot_figure_of_any_size(
    pyplot: Any, name: str, size: tuple[int, int], layout: str | None
) -> None:
    figure, ax = pyplot.subplots(figsize=size, layout=layout)

    plot.timeline(vignette(name), ax=ax)

    assert layout_problems(figure) == []


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("size", GRID_SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_two_timelines_side_by_side_keep_to_their_halves(
    pyplot: Any, size: tuple[int, int], layout: str | None
) -> None:
    figure, (left, right) = pyplot.subplots(1, 2, figsize=size, layout=layout)

    plot.timeline(vignette(LAYOUT_CASES[0]), ax=left)
    plot.timeline(vignette(LAYOUT_CASES[1]), ax=right)

    assert layout_problems(figure) == []
    first, second = left.get_tightbbox(), right.get_tightbbox()
    assert first is not None
    assert second is not None
    assert first.x1 < second.x0


def test_a_timeline_on_an_axes_placed_by_hand_keeps_to_its_rectangle() -> None:
    figure = Figure(figsize=(10, 5))
    ax = figure.add_axes((0.05, 0.05, 0.6, 0.9))
    figure.add_axes((0.7, 0.05, 0.25, 0.9))

    plot.timeline(vignette(LAYOUT_CASES[0]), ax=ax)

    assert layout_problems(figure) == []
    box = ax.get_tightbbox()
    assert box is not None
    assert box.x1 <= 0.65 * figure.bbox.width + 1


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("size", [(6, 5), (10, 7)], ids=lambda size: f"{size[0]}x{size[1]}")
def test_a_trajectory_fits_a_pyplot_figure(
    pyplot: Any, size: tuple[int, int], layout: str | None
) -> None:
    figure = pyplot.figure(figsize=size, layout=layout)

    plot.trajectory(vignette("second_behaviour_on_day_fifteen"), figure=figure)

    assert layout_problems(figure) == []


def test_two_trajectories_in_subfigures_keep_to_their_halves() -> None:
    figure = Figure(figsize=(16, 6))
    grid = figure.add_gridspec(1, 2)
    left, right = figure.add_subfigure(grid[0]), figure.add_subfigure(grid[1])

    plot.trajectory(vignette(LAYOUT_CASES[0]), figure=left)
    plot.trajectory(vignette(LAYOUT_CASES[1]), figure=right)

    assert layout_problems(figure) == []


@pytest.mark.parametrize("name", [path.stem for path in VIGNETTES])
def test_no_labels_overlap_in_the_figures_made_here(name: str) -> None:
    timeline = figure_of(plot.timeline(vignette(name)))
    trajectory = figure_of(plot.trajectory(vignette(name)))

    assert layout_problems(timeline) == []
    assert layout_problems(trajectory) == []


def test_crowded_contact_ids_are_left_out_rather_than_overprinted() -> None:
    crowded = case(*[contact(f"c{index}", index / 24, "unwanted_calls") for index in range(12)])
    figure = Figure(figsize=(5, 3))

    ax = plot.timeline(crowded, ax=figure.add_subplot())

    assert layout_problems(figure) == []
    shown = [text for text in ax.texts if text.get_visible() and text.get_text().startswith("c")]
    assert 0 < len(shown) < 12


def test_a_title_too_wide_for_its_panel_is_broken_after_the_grade() -> None:
    figure = Figure(figsize=(8, 4))
    ax, _ = figure.subplots(1, 2)

    plot.timeline(vignette("followed_by_car_right_now"), ax=ax)

    assert ax.get_title(loc="left") == "police · URGENT\nInvolve the police"
    assert layout_problems(figure) == []


def test_nothing_of_a_small_grid_carries_free_text(pyplot: Any) -> None:
    free = _free_text()
    data = case(
        contact("a", 0, "threat", weapon=True, **free),
        contact("b", 15, "following", "gift", ongoing=True, **free),
        fear="significant",
        history={"protection_order_since": "2025-01-01T09:00:00+00:00"},
        boundaries={
            "agreement_at": "2024-06-01T09:00:00+00:00",
            "warnings": [{"at": "2025-01-10T09:00:00+00:00", "supervisor": True}],
        },
    )
    _, (left, right) = pyplot.subplots(1, 2, figsize=(10, 4))

    plot.timeline(data, ax=left)
    plot.timeline(data, ax=right)

    texts = all_texts(left)
    assert "order breach" in texts
    assert not [text for text in texts if SECRET in text]
