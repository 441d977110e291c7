"""Draw a case as a timeline, for teaching: what happened when, and how it was graded.

    >>> import stalkrisk
    >>> from stalkrisk import plot
    >>> ax = plot.timeline(stalkrisk.example_case())
    >>> ax.get_title(loc="left")
    'referral — End therapy and refer'

One row per behaviour that occurs, labelled as the rule pack labels it and grouped
as the pack groups them (stalking, boundary, escalation); one marker per contact
and behaviour, with threats and escalations in red.  A bottom row on the time axis
marks warnings, the informed-consent agreement, a protection order and each contact
that breached it.  The course of conduct the assessment measured is shaded and
spanned by an arrow above the rows; a dashed line marks ``assessed_at``, topped by
the fear the clinician reported.  The title gives the grade; the key at the right
explains the marks and summarises the case.

Every drawing fits the space it is given: a figure of its own, one panel of a grid
made with ``plt.subplots`` (with or without ``layout="constrained"``), or a
SubFigure.  Without a layout engine the Axes is shrunk inside its grid cell until
its labels, key and title fit; with one, every artist stays in the layout so the
engine makes room.  Contact ids and flags that would overprint another label or
leave the Axes are left out when the figure is drawn.

Free text (notes, locations, witnesses, evidence, responses) is never drawn:
the plot shows only times, codes and their labels, flags and contact ids.

:func:`trajectory` draws the same timeline with the grade over time above it:
the ladder as a step line, one point per step of :func:`stalkrisk.trajectory`.

Requires matplotlib (``pip install 'stalkrisk[plot]'``).  The module never
touches pyplot's global state, so it is safe in threads and on servers without
a display; in a notebook, show the figure with ``ax.figure`` as the last line
of a cell.
"""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any, Final

try:
    from matplotlib import dates as mdates
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.backend_bases import RendererBase
    from matplotlib.figure import Figure, SubFigure
    from matplotlib.legend import Legend
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.text import Annotation
    from matplotlib.ticker import Formatter, Locator
    from matplotlib.transforms import Bbox, ScaledTranslation, Transform, blended_transform_factory
except ImportError as error:  # pragma: no cover - exercised in a test by hiding matplotlib
    raise ImportError(
        "stalkrisk.plot needs matplotlib, an optional extra: pip install 'stalkrisk[plot]'"
    ) from error

from ._api import assess
from ._assessment import Assessment
from ._case import Behaviour, Case, CaseInput, Contact, FearLevel, Target, parse_case
from ._html import COLOURS
from ._ladder import Level
from ._packmodel import RulePack
from ._registry import default_rule_pack
from ._trajectory import Trajectory
from ._trajectory import trajectory as _trajectory
from ._wording import format_span, grade_line

__all__ = ["timeline", "trajectory"]

# matplotlib.dates is not annotated; these typed names keep mypy --strict honest.
_date2num: Callable[[datetime], Any] = mdates.date2num
_num2date: Callable[[float], datetime] = mdates.num2date
_AutoDateLocator: Callable[..., Locator] = mdates.AutoDateLocator
_ConciseDateFormatter: Callable[..., Formatter] = mdates.ConciseDateFormatter

_GROUP_ORDER: Final = ("stalking", "boundary", "escalation")
"""The order of the row groups, top to bottom."""

_STYLE: Final[Mapping[str, tuple[str, str]]] = {
    # group → (marker, colour); colours from the Okabe–Ito palette, safe for colour blindness.
    "stalking": ("o", "#0072B2"),
    "boundary": ("s", "#E69F00"),
    "harm": ("X", "#C62828"),
}
_STYLE_LABELS: Final[Mapping[str, str]] = {
    "stalking": "stalking behaviour",
    "boundary": "boundary crossing",
    "harm": "threat or escalation",
}
_HARM_COLOUR: Final = _STYLE["harm"][1]
_SHORT_EPISODE_COLOUR: Final = "#C8C8C8"
_TOP: Final = -0.7
"""The y of the rows' top edge: room above the first behaviour row for contact ids."""
_EVENTS_ROW: Final = "EVENTS"
"""The label of the bottom row, on the time axis, that marks boundary events."""
_FEAR_COLOUR: Final[Mapping[FearLevel, str]] = {
    FearLevel.NONE: "#FFFFFF",
    FearLevel.SOME: "#F0E442",
    FearLevel.SIGNIFICANT: "#E69F00",
    FearLevel.SEVERE: _HARM_COLOUR,
}
_EVENT_COLOUR: Final = "#6A1B9A"
_EVENT_MARKS: Final[Mapping[str, Mapping[str, Any]]] = {
    # Boundary event → how its mark on the events row looks.
    "warning": {"marker": "v", "markerfacecolor": "white", "markeredgecolor": _EVENT_COLOUR},
    "supervisor warning": {
        "marker": "v",
        "markerfacecolor": _EVENT_COLOUR,
        "markeredgecolor": _EVENT_COLOUR,
    },
    "agreement": {
        "marker": "d",
        "markerfacecolor": _EVENT_COLOUR,
        "markeredgecolor": _EVENT_COLOUR,
    },
}
_BREACH_MARK: Final[Mapping[str, Any]] = {
    "marker": "|", "markersize": 13, "markeredgewidth": 2.6, "color": _HARM_COLOUR,
}  # fmt: skip
_ORDER_BAR: Final[Mapping[str, Any]] = {
    "color": _EVENT_COLOUR, "alpha": 0.3, "lw": 6, "solid_capstyle": "butt",
}  # fmt: skip
_MAX_LABELLED_CONTACTS: Final = 40
_EMPTY_DAYS: Final = 7
_NOTEBOOK_DPI: Final = 100
_EVENT_REACH: Final = 0.5
"""Boundary events this far before the first contact (as a share of the contacts' range,
at least a week) widen the plot; older ones are listed in the key."""
_LADDER_HEIGHT: Final = 2.2
"""The height in inches of the ladder panel of :func:`trajectory`."""
_CROSSING_COLOUR: Final = "#0072B2"
_FEAR_MARK_PT: Final = 15.0
"""How far above the rows the fear diamond sits, in points."""
_SPAN_ARROW_PT: Final = 5.0
"""How far above the rows the arrow over the measured episode runs, in points."""
_TITLE_PAD_PT: Final = 26.0
"""The title's distance from the rows: above the fear diamond."""
_KEY_SIZE: Final = 7.5
_SLOT_PAD: Final = 0.06
"""Inches left free around a fitted Axes inside its slot."""
_TICK_SPACING: Final = 0.7
"""The least room in inches for a date tick label, which ``Jan-07`` or ``12:00`` fills."""
_LONGEST_STEPS: Final[Mapping[int, int]] = {
    mdates.MONTHLY: 12,
    mdates.DAILY: 30,
    mdates.HOURLY: 24,
    mdates.MINUTELY: 60,
    mdates.SECONDLY: 60,
}


def timeline(
    case: CaseInput,
    assessment: Assessment | None = None,
    ax: Axes | None = None,
    *,
    rule_pack: RulePack | None = None,
) -> Axes:
    """Draw the contacts of ``case`` over time, with its grade, and return the Axes.

    ``case`` is a :class:`stalkrisk.Case` or its JSON (text, bytes or a
    mapping), as for :func:`stalkrisk.assess`.  ``assessment`` is the result
    to show; when it is ``None`` the case is assessed here with ``rule_pack``
    (the bundled pack by default).  The pack also names the rows (its
    behaviour labels) and decides which group each belongs to.

    ``ax`` is the matplotlib Axes to draw on, for example one panel of
    ``fig, axes = plt.subplots(1, 2)``.  Without a layout engine the Axes is
    shrunk inside its grid cell so that its labels, key and title fit in the
    cell; with ``layout="constrained"`` the engine makes room.  When ``ax``
    is ``None`` a new :class:`matplotlib.figure.Figure` is made (sized to the
    number of rows); reach it as ``ax.figure`` to show or save it::

        ax = timeline(case)
        ax.figure.savefig("timeline.png", dpi=150)

    What is drawn:

    - one row per behaviour that occurs, labelled as in the pack, under bold
      group headers; a marker per contact and behaviour (circles for
      stalking, squares for boundary crossings, red crosses for ``threat``
      and escalations), the markers of one contact joined by a line and
      labelled with its id;
    - the contact flags ``weapon``, ``specific threat``, ``ongoing``,
      ``family`` (the family was targeted) and ``order breach`` in red under
      the contact;
    - a bottom row ``EVENTS`` on the time axis: warnings (hollow triangles),
      supervisor warnings (filled triangles), the informed-consent agreement
      (a diamond), a protection order (a bar while it is in force) and a red
      stroke at each contact that breached it; dotted lines carry the events
      up through the rows;
    - the episode the threshold was measured on, shaded from its first to
      its last contact, with an arrow over it (blue when it is a course of
      conduct, hatched grey when it falls short);
    - ``assessed_at`` as a dashed line, topped by a diamond coloured by the
      fear the clinician reported;
    - the grade in the title (``police · URGENT — Involve the police``);
    - at the right, a key: the time of assessment, the fear, whether the
      family is afraid and which elements are present; the span of the
      episode; events before the plotted range; what each mark means.

    Times are shown in the timezone of ``assessed_at``.  Free text from the
    case is never drawn.  Nothing is shown on screen: no ``plt.show()``.
    """
    valid = parse_case(case)
    pack = rule_pack or default_rule_pack()
    result = assessment if assessment is not None else assess(valid, rule_pack=pack)
    rows = _pack_rows(valid, pack)
    if ax is None:
        ax = _NotebookFigure(figsize=(10, _rows_height(rows)), layout="constrained").add_subplot()
    slot = _slot(ax)
    _draw_timeline(ax, valid, result, pack, rows, _inches(ax, slot))
    _fit([ax], [1.0], slot)
    return ax


def _pack_rows(case: Case, pack: RulePack) -> list[str | Behaviour]:
    groups = {spec.code: spec.group for spec in pack.behaviours}
    return _rows(case.contacts, groups, [spec.code for spec in pack.behaviours])


def _rows_height(rows: Sequence[str | Behaviour]) -> float:
    """The height in inches of a timeline with these rows (and the events row)."""
    return 2.9 + 0.34 * len(rows)


def _draw_timeline(
    ax: Axes,
    case: Case,
    assessment: Assessment,
    pack: RulePack,
    rows: Sequence[str | Behaviour],
    room: tuple[float, float],
) -> tuple[float, float]:
    """Draw the whole timeline of ``case`` on ``ax``; returns its x limits.

    ``room`` is the width and height in inches that the Axes and its decorations may
    take; the title and the key are arranged to fit it.
    """
    groups = {spec.code: spec.group for spec in pack.behaviours}
    labels = {spec.code: spec.label for spec in pack.behaviours}
    start, end = _x_range(case)
    y_of: dict[str | Behaviour, float] = {row: index for index, row in enumerate(rows)}
    if _boundary_events(case):
        y_of[_EVENTS_ROW] = len(rows) + (0.5 if _flagged_at_bottom(case, rows) else 0)
    limits = _x_limits(start, end)
    breaches = _breaches(case)
    managed = _draw_contacts(ax, case.contacts, y_of, groups, breaches)
    _draw_episode(ax, case, assessment)
    _draw_events(ax, case, y_of.get(_EVENTS_ROW), start, limits, breaches)
    managed.insert(0, _draw_assessed(ax, case))
    ax.add_artist(_Declutter(ax, managed))
    _frame(ax, case, assessment, y_of, labels, limits, room)
    _legend(ax, case, assessment, groups, start, room)
    return limits


def trajectory(
    case: CaseInput,
    *,
    rule_pack: RulePack | None = None,
    figure: Figure | SubFigure | None = None,
) -> Axes:
    """Draw the grade of ``case`` over time above its timeline, and return the ladder's Axes.

    ``case`` and ``rule_pack`` are as for :func:`timeline`.  The case is
    re-assessed at every contact with :func:`stalkrisk.trajectory`, and drawn
    in one figure with two Axes that share the x axis (time):

    - above, the **ladder**: one row per level (``none`` at the bottom,
      ``police`` at the top), and the grade as a step line with one point per
      step, each point coloured by its level (the grade holds from a step until
      the next one); a red star marks each urgent step, and a vertical line
      the step at which the threshold was first met (it runs through the
      timeline below too); the ladder's key names that step, its span and
      its behaviours (``threshold first met at c5: …``);
    - below, the case's **timeline**, drawn exactly as :func:`timeline` draws
      it (its rows, markers, events row, episode and ``assessed_at``).

    The title, above the ladder, gives the grade at ``assessed_at``.

    ``figure`` is an empty :class:`matplotlib.figure.Figure` or
    :class:`matplotlib.figure.SubFigure` to draw into, with or without a
    layout engine: without one, the two Axes are placed so that everything
    fits inside it.  When it is ``None`` a new Figure is made.  The return
    value is the ladder's :class:`matplotlib.axes.Axes`; the timeline is the
    other Axes of the figure::

        ladder = trajectory(case)
        ladder, rows = ladder.figure.axes
        ladder.figure.savefig("trajectory.png", dpi=150)

    As with :func:`timeline`, no free text from the case is drawn, and
    nothing is shown on screen.
    """
    valid = parse_case(case)
    pack = rule_pack or default_rule_pack()
    result = assess(valid, rule_pack=pack)
    steps = _trajectory(valid, rule_pack=pack)
    rows = _pack_rows(valid, pack)
    rows_height = _rows_height(rows)
    if figure is None:
        figure = _NotebookFigure(figsize=(10, _LADDER_HEIGHT + rows_height), layout="constrained")
    elif figure.axes:
        raise ValueError(
            f"figure has {len(figure.axes)} Axes already; pass an empty Figure or SubFigure"
        )
    ratios = [_LADDER_HEIGHT, rows_height]
    grid = figure.add_gridspec(2, 1, height_ratios=ratios)
    ladder = figure.add_subplot(grid[0])
    below = figure.add_subplot(grid[1], sharex=ladder)
    width, height = _inches(below, Bbox.unit())
    room = (width, height * rows_height / sum(ratios))
    limits = _draw_timeline(below, valid, result, pack, rows, room)
    below.set_title("", loc="left")  # the title goes above the ladder
    _draw_ladder(ladder, steps, limits)
    _draw_crossing(ladder, below, steps)
    ladder.set_title(
        _title_to_fit(ladder, grade_line(result), width),
        loc="left",
        fontweight="bold",
        color=_HARM_COLOUR if result.urgent else "#212121",
    )
    _ladder_legend(ladder, steps, result)
    _fit([ladder, below], ratios, Bbox.unit())
    return ladder


def _draw_ladder(ax: Axes, steps: Trajectory, limits: tuple[float, float]) -> None:
    """The grade as a step line over the ladder's rows, urgent steps starred."""
    xs = [_x(step.at) for step in steps.steps]
    ranks = [step.level.rank for step in steps.steps]
    ax.step(xs, ranks, where="post", color="#424242", lw=1.8, zorder=3, gid="grade")
    ax.scatter(
        xs,
        ranks,
        s=36,
        c=[COLOURS[step.level] for step in steps.steps],
        edgecolors="#424242",
        linewidths=0.8,
        zorder=4,
    )
    urgent = [step for step in steps.steps if step.urgent]
    if urgent:
        ax.plot(
            [_x(step.at) for step in urgent],
            [step.level.rank for step in urgent],
            linestyle="none",
            marker="*",
            markersize=15,
            markerfacecolor=_HARM_COLOUR,
            markeredgecolor="white",
            zorder=5,
            gid="urgent",
        )
    ax.axvline(_x(steps.assessed_at), color="#212121", ls="--", lw=1.2, zorder=1)
    ax.set_xlim(*limits)
    ax.set_ylim(-0.5, len(Level) - 0.5)
    ax.set_yticks(range(len(Level)))
    labels = ax.set_yticklabels([level.value for level in Level])
    for label in labels:
        label.set_fontfamily("monospace")
        label.set_fontsize(8.5)
    ax.set_ylabel("grade", fontsize=9)
    ax.grid(axis="y", color="#EEEEEE", zorder=0)
    ax.grid(axis="x", color="#EEEEEE", zorder=0)
    ax.tick_params(axis="y", length=0)
    ax.tick_params(axis="x", labelbottom=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _draw_crossing(ladder: Axes, below: Axes, steps: Trajectory) -> None:
    """A vertical line through both panels at the step that first met the threshold."""
    crossing = steps.summary.threshold
    if crossing is None:
        return
    x = _x(crossing.at)
    for ax in (ladder, below):
        ax.axvline(x, color=_CROSSING_COLOUR, ls="-.", lw=1.3, zorder=2, gid="threshold_crossing")


def _ladder_legend(ax: Axes, steps: Trajectory, assessment: Assessment) -> None:
    """The ladder's key; the threshold's crossing is named here, where no line can hide it."""
    handles: list[Any] = [
        Line2D([], [], color="#424242", lw=1.8, marker="o", markersize=5, label="grade at a step")
    ]
    if any(step.urgent for step in steps.steps):
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker="*",
                markersize=12,
                markerfacecolor=_HARM_COLOUR,
                markeredgecolor="white",
                label="urgent",
            )
        )
    crossing = steps.summary.threshold
    if crossing is not None:
        span = _span_text(crossing.span_days, assessment.threshold.min_span_days)
        text = (
            f"threshold first met at {crossing.last_contact}:\n"
            f"{span}, {_plural(crossing.distinct_behaviours, 'behaviour')}"
        )
        handles.append(Line2D([], [], color=_CROSSING_COLOUR, ls="-.", lw=1.3, label=text))
    legend = _key(ax, handles)
    for label in legend.get_texts():
        if label.get_text().startswith("threshold first met"):
            label.set_gid("threshold_label")


class _NotebookFigure(Figure):
    """A plain Figure that Jupyter shows as a PNG even when pyplot was never imported."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=_NOTEBOOK_DPI)
        return buffer.getvalue()


# --- fitting the space given ---------------------------------------------------------------


class _Declutter(Artist):
    """Keeps labels inside their Axes and hides those that would overprint an earlier one.

    It decides when the figure is drawn, after any layout engine has placed the Axes,
    so it judges the picture as it will look; its low zorder draws it before the
    labels it manages.  The labels come in order of importance, each with whether it
    belongs inside the Axes (a contact's id or flags, slid sideways to stay in) or
    above it (the fear, left out when it would reach beyond the Axes' width).
    """

    def __init__(self, ax: Axes, labels: Sequence[tuple[Annotation, bool]]) -> None:
        super().__init__()
        self._ax = ax
        self._labels = [(label, inside, label.xyann) for label, inside in labels]
        self.set_zorder(-1_000)
        self.set_in_layout(False)
        for label, _ in labels:
            label.set_in_layout(False)  # never drawn beyond the Axes, so no room is made for it

    def draw(self, renderer: RendererBase) -> None:
        frame = self._ax.bbox
        kept: list[Bbox] = []
        for label, inside, offset in self._labels:
            label.set_visible(True)
            label.xyann = offset
            box = label.get_window_extent(renderer)
            shift = max(frame.x0 - box.x0, 0.0) + min(frame.x1 - box.x1, 0.0)
            if inside and shift:
                label.xyann = (offset[0] + shift / renderer.points_to_pixels(1.0), offset[1])
                box = label.get_window_extent(renderer)
            within = frame.x0 - 1 <= box.x0 and box.x1 <= frame.x1 + 1
            if inside:
                within = within and frame.y0 - 1 <= box.y0 and box.y1 <= frame.y1 + 1
            if within and not any(box.overlaps(other) for other in kept):
                kept.append(box)
            else:
                label.set_visible(False)


class _DateTicks(Locator):
    """Date ticks about an inch apart or more, however wide the Axes ends up."""

    def __init__(self, zone: tzinfo | None) -> None:
        self._dates = _AutoDateLocator(tz=zone, minticks=2, maxticks=10)
        # Longer steps, so that three ticks can span any range (else a warning and a guess).
        intervals: dict[int, list[int]] = self._dates.intervald  # type: ignore[attr-defined]
        for frequency, step in _LONGEST_STEPS.items():
            if step not in intervals[frequency]:
                intervals[frequency].append(step)

    def set_axis(self, axis: Any) -> None:
        super().set_axis(axis)
        self._dates.set_axis(axis)

    def __call__(self) -> Sequence[float]:
        axes = getattr(self.axis, "axes", None)
        if isinstance(axes, Axes):
            inches = axes.bbox.width / axes.get_figure(root=True).dpi  # type: ignore[union-attr]
            room = max(3, int(inches / _TICK_SPACING))
            self._dates.maxticks = dict.fromkeys(self._dates.maxticks, room)  # type: ignore[attr-defined]
        return self._dates()

    def tick_values(self, vmin: float, vmax: float) -> Sequence[float]:
        return self._dates.tick_values(vmin, vmax)

    def nonsingular(self, v0: float, v1: float) -> tuple[float, float]:
        return self._dates.nonsingular(v0, v1)


def _slot(ax: Axes) -> Bbox:
    """The part of its (sub)figure that ``ax`` may fill, as fractions of it.

    A grid cell reaches halfway into the gaps to its neighbours and out to the edges of
    the figure; an Axes placed by hand has the rectangle it was given.
    """
    spec = ax.get_subplotspec()
    if spec is None:
        return ax.get_position()
    grid = spec.get_gridspec()
    rows, columns = grid.get_geometry()
    bottoms, tops, lefts, rights = grid.get_grid_positions(ax.figure)  # type: ignore[arg-type]
    first_row, last_row = spec.rowspan.start, spec.rowspan.stop - 1
    first_column, last_column = spec.colspan.start, spec.colspan.stop - 1
    left = 0.0 if first_column == 0 else (rights[first_column - 1] + lefts[first_column]) / 2
    right = (
        1.0 if last_column == columns - 1 else (rights[last_column] + lefts[last_column + 1]) / 2
    )
    top = 1.0 if first_row == 0 else (bottoms[first_row - 1] + tops[first_row]) / 2
    bottom = 0.0 if last_row == rows - 1 else (bottoms[last_row] + tops[last_row + 1]) / 2
    return Bbox.from_extents(left, bottom, right, top)


def _inches(ax: Axes, slot: Bbox) -> tuple[float, float]:
    """The width and height in inches of ``slot``, a part of the (sub)figure of ``ax``."""
    container = ax.figure
    assert container is not None
    dpi = ax.get_figure(root=True).dpi  # type: ignore[union-attr]
    box = container.bbox
    return slot.width * box.width / dpi, slot.height * box.height / dpi


def _margins(ax: Axes, extra: bool = True) -> tuple[float, float, float, float]:
    """How far, in pixels, what is drawn for ``ax`` reaches beyond it: left, bottom, right, top.

    With ``extra`` false, only the axes' own decorations count (tick labels, axis labels
    and the title), not its legend and other artists.
    """
    frame = ax.get_window_extent()
    tight = ax.get_tightbbox(bbox_extra_artists=None if extra else [])
    assert tight is not None
    return (
        max(frame.x0 - tight.x0, 0.0),
        max(frame.y0 - tight.y0, 0.0),
        max(tight.x1 - frame.x1, 0.0),
        max(tight.y1 - frame.y1, 0.0),
    )


def _fit(stack: Sequence[Axes], ratios: Sequence[float], slot: Bbox) -> None:
    """Place the Axes of ``stack``, top to bottom, so that all they draw fits in ``slot``.

    Only without a layout engine: constrained or tight layout make room themselves, from
    the same artists.  Each pass measures what reaches beyond the Axes with the
    renderer; the tick labels change with the width, so it takes a few passes.
    """
    container = stack[0].figure
    assert container is not None
    if container.get_layout_engine() is not None:
        return
    box = container.bbox
    dpi = stack[0].get_figure(root=True).dpi  # type: ignore[union-attr]
    pad_x, pad_y = _SLOT_PAD * dpi / box.width, _SLOT_PAD * dpi / box.height
    for _ in range(3):
        margins = [_margins(ax) for ax in stack]
        left = slot.x0 + max(m[0] for m in margins) / box.width + pad_x
        right = slot.x1 - max(m[2] for m in margins) / box.width - pad_x
        gaps = [
            (upper[1] + lower[3]) / box.height + pad_y
            for upper, lower in itertools.pairwise(margins)
        ]
        top = slot.y1 - margins[0][3] / box.height - pad_y
        bottom = slot.y0 + margins[-1][1] / box.height + pad_y
        height = max(top - bottom - sum(gaps), 0.05 * slot.height)
        width = max(right - left, 0.05 * slot.width)
        for ax, ratio, gap in zip(stack, ratios, [*gaps, 0.0], strict=True):
            share = height * ratio / sum(ratios)
            ax.set_position(Bbox.from_bounds(left, top - share, width, share))
            top -= share + gap


def _title_to_fit(ax: Axes, title: str, width: float) -> str:
    """The title, broken before its description when one line is wider than ``width`` inches."""
    if " — " not in title:
        return title
    dpi = ax.get_figure(root=True).dpi  # type: ignore[union-attr]
    probe = ax.set_title(title, loc="left", fontweight="bold")
    left = _margins(ax, extra=False)[0] / dpi
    if probe.get_window_extent().width / dpi <= width - left - 2 * _SLOT_PAD:
        return title
    return title.replace(" — ", "\n", 1)


def _key(ax: Axes, handles: Sequence[Any], title: str | None = None) -> Legend:
    """The key at the upper right, outside the Axes; the layout engines account for it."""
    legend = ax.legend(
        handles=handles,
        title=title,
        alignment="left",
        title_fontsize=_KEY_SIZE,
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        fontsize=_KEY_SIZE,
        frameon=title is not None,
        facecolor="#FAFAFA",
        edgecolor="#BDBDBD",
        framealpha=1.0,
        borderaxespad=0.8,
    )
    if title is not None:
        legend.get_title().set_linespacing(1.4)
        legend.get_title().set_gid("case_box")
    return legend


# --- rows ----------------------------------------------------------------------------------


def _rows(
    contacts: Sequence[Contact], groups: Mapping[Behaviour, str], catalogue: Sequence[Behaviour]
) -> list[str | Behaviour]:
    """Group headers (plain strings) and behaviour codes, top to bottom."""
    present = {code for contact in contacts for code in contact.behaviours}
    rows: list[str | Behaviour] = []
    for group in (*_GROUP_ORDER, *sorted(set(groups.values()) - set(_GROUP_ORDER))):
        codes = [code for code in catalogue if code in present and groups[code] == group]
        if codes:
            rows.append(group)
            rows.extend(codes)
    return rows


def _style(code: Behaviour, groups: Mapping[Behaviour, str]) -> tuple[str, str]:
    group = groups.get(code, "stalking")
    if code is Behaviour.THREAT or group == "escalation":
        return _STYLE["harm"]
    return _STYLE.get(group, _STYLE["stalking"])


# --- drawing -------------------------------------------------------------------------------


def _x_range(case: Case) -> tuple[datetime, datetime]:
    """The first and last moment to show: contacts, nearby boundary events, assessed_at."""
    end = case.assessed_at
    moments = [contact.at for contact in case.contacts]
    first = min(moments, default=end - timedelta(days=_EMPTY_DAYS))
    reach = max((end - first) * _EVENT_REACH, timedelta(days=_EMPTY_DAYS))
    nearby = [moment for moment, _ in _boundary_events(case) if moment >= first - reach]
    return min([first, *nearby]), end


def _x_limits(start: datetime, end: datetime) -> tuple[float, float]:
    """The x limits: the range to show with a margin (at least a day wide)."""
    width = max(end - start, timedelta(days=1))
    return _x(start - width * 0.05), _x(end + width * 0.03)


def _x(moment: datetime) -> float:
    return float(_date2num(moment))


def _label_box() -> dict[str, Any]:
    """A white ground behind a label, so that lines running through it do not hide it."""
    return {"boxstyle": "square,pad=0.08", "facecolor": "white", "edgecolor": "none", "alpha": 0.85}


def _draw_contacts(
    ax: Axes,
    contacts: Sequence[Contact],
    y_of: Mapping[str | Behaviour, float],
    groups: Mapping[Behaviour, str],
    breaches: set[str],
) -> list[tuple[Annotation, bool]]:
    """Markers, ids and flags; returns the labels, flags before ids, for :class:`_Declutter`."""
    label_ids = len(contacts) <= _MAX_LABELLED_CONTACTS
    ids: list[tuple[Annotation, bool]] = []
    flagged: list[tuple[Annotation, bool]] = []
    for contact in contacts:
        x = _x(contact.at)
        ys = sorted(y_of[code] for code in contact.behaviours)
        if len(ys) > 1:
            ax.plot([x, x], [ys[0], ys[-1]], color="#9E9E9E", lw=1, zorder=2)
        for code in contact.behaviours:
            marker, colour = _style(code, groups)
            ax.plot(
                [x],
                [y_of[code]],
                linestyle="none",
                marker=marker,
                markersize=9,
                markerfacecolor=colour,
                markeredgecolor="white" if marker != "X" else colour,
                zorder=3,
            )
        if label_ids:
            label = ax.annotate(
                contact.id,
                (x, ys[0]),
                xytext=(0, 7),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=7,
                color="#616161",
                bbox=_label_box(),
                zorder=4,
            )
            ids.append((label, True))
        flags = _flags(contact, contact.id in breaches)
        if flags:
            label = ax.annotate(
                "\n".join(flags),
                (x, ys[-1]),
                xytext=(0, -8),
                textcoords="offset points",
                ha="center",
                va="top",
                fontsize=7,
                fontweight="bold",
                color=_HARM_COLOUR,
                bbox=_label_box(),
                zorder=4,
            )
            flagged.append((label, True))
    return [*flagged, *ids]


def _flags(contact: Contact, breach: bool) -> list[str]:
    """The contact's flags as short fixed labels (never its free text)."""
    flags = []
    if contact.weapon:
        flags.append("weapon")
    if contact.specific_threat:
        flags.append("specific threat")
    if contact.ongoing:
        flags.append("ongoing")
    if Target.FAMILY in contact.targets:
        flags.append("family")
    if breach:
        flags.append("order breach")
    return flags


def _flagged_at_bottom(case: Case, rows: Sequence[str | Behaviour]) -> bool:
    """Whether a contact on the bottom behaviour row has flags, which hang below it."""
    breaches = _breaches(case)
    return any(
        rows[-1] in contact.behaviours and _flags(contact, contact.id in breaches)
        for contact in case.contacts
    )


def _breaches(case: Case) -> set[str]:
    """Ids of the contacts made while a protection order was in force."""
    since, until = case.client.protection_order_since, case.client.protection_order_until
    if since is None:
        return set()
    return {
        contact.id
        for contact in case.contacts
        if since <= contact.at and (until is None or contact.at < until)
    }


def _above(ax: Axes, points: float) -> Transform:
    """x in data, y in axes fractions, shifted up by ``points``: for marks above the rows."""
    root = ax.get_figure(root=True)
    assert root is not None
    shift = ScaledTranslation(0, points / 72, root.dpi_scale_trans)
    return blended_transform_factory(ax.transData, ax.transAxes) + shift


def _draw_episode(ax: Axes, case: Case, assessment: Assessment) -> None:
    """Shade the measured episode and span it with an arrow above the rows."""
    window = _episode_window(case, assessment)
    if window is None:
        return
    start, end = _x(window[0]), _x(window[1])
    if assessment.threshold.met:
        ax.axvspan(start, end, color="#0072B2", alpha=0.12, lw=0, zorder=0)
        colour = "#0072B2"
    else:
        ax.axvspan(
            start,
            end,
            facecolor="none",
            edgecolor=_SHORT_EPISODE_COLOUR,
            hatch="///",
            lw=0,
            zorder=0,
        )
        colour = "#616161"
    band = _above(ax, _SPAN_ARROW_PT)
    ax.annotate(
        "",
        xy=(start, 1),
        xycoords=band,
        xytext=(end, 1),
        textcoords=band,
        arrowprops={"arrowstyle": "<->", "color": colour, "lw": 1.2, "shrinkA": 0, "shrinkB": 0},
        annotation_clip=False,
        gid="episode_span",
        zorder=4,
    )


def _episode_text(case: Case, assessment: Assessment) -> str | None:
    """The key's line for the measured episode, or None when none is drawn."""
    if _episode_window(case, assessment) is None:
        return None
    threshold = assessment.threshold
    span = _span_text(threshold.span_days, threshold.min_span_days)
    behaviours = _plural(threshold.distinct_behaviours, "behaviour")
    needs = (
        f"(needs ≥ {threshold.min_span_days:g} days,\n"
        f"≥ {_plural(threshold.min_distinct_behaviours, 'behaviour')})"
    )
    name = "course of conduct" if threshold.met else "episode below the threshold"
    return f"{name}:\n{span}, {behaviours}\n{needs}"


def _episode_window(case: Case, assessment: Assessment) -> tuple[datetime, datetime] | None:
    """First and last time of the measured episode, or None when it is a single moment."""
    ids = set(assessment.threshold.course_of_conduct)
    times = [contact.at for contact in case.contacts if contact.id in ids]
    if len(times) < 2 or max(times) == min(times):
        return None
    return min(times), max(times)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _span_text(days: float, minimum: float) -> str:
    """``16.0 days``; exact (``13 d 23 h 59 min 59 s``) when rounding would hide a miss."""
    rounded = round(days, 1)
    if (rounded >= minimum) != (days >= minimum):
        return format_span(days)
    return f"{rounded:.1f} days"


def _boundary_events(case: Case) -> list[tuple[datetime, str]]:
    """Warnings, the informed-consent agreement and a protection order, with fixed labels."""
    events: list[tuple[datetime, str]] = []
    if case.boundaries.agreement_at is not None:
        events.append((case.boundaries.agreement_at, "agreement"))
    for warning in case.boundaries.warnings:
        events.append((warning.at, "supervisor warning" if warning.supervisor else "warning"))
    if case.client.protection_order_since is not None:
        events.append((case.client.protection_order_since, "protection order"))
    ends = case.client.protection_order_until
    if ends is not None and ends <= case.assessed_at:  # an end still to come is off the plot
        events.append((ends, "protection order ended"))
    return events


def _draw_events(
    ax: Axes,
    case: Case,
    y: float | None,
    start: datetime,
    limits: tuple[float, float],
    breaches: set[str],
) -> None:
    """Boundary events on the events row, and as dotted lines up through the rows.

    Events before ``start`` (outside the plot) are listed in the key instead.
    """
    if y is None:
        return
    since, until = case.client.protection_order_since, case.client.protection_order_until
    if since is not None:
        left = max(_x(since), limits[0])
        right = limits[1] if until is None else min(_x(until), limits[1])
        ax.plot([left, right], [y, y], zorder=2, gid="protection_order", **_ORDER_BAR)
    for moment, label in _boundary_events(case):
        if moment < start:
            continue
        x = _x(moment)
        ax.axvline(x, color=_EVENT_COLOUR, ls=":", lw=1.2, zorder=1)
        if label in _EVENT_MARKS:
            ax.plot(
                [x], [y], linestyle="none", markersize=9, zorder=4, gid=label.replace(" ", "_"),
                **_EVENT_MARKS[label],
            )  # fmt: skip
    for contact in case.contacts:
        if contact.id in breaches:
            ax.plot(
                [_x(contact.at)], [y], linestyle="none", zorder=5, gid="order_breach",
                **_BREACH_MARK,
            )  # fmt: skip


def _draw_assessed(ax: Axes, case: Case) -> tuple[Annotation, bool]:
    """``assessed_at`` as a dashed line, topped by a diamond coloured by the reported fear.

    Returns the fear's label, for :class:`_Declutter`.
    """
    x = _x(case.assessed_at)
    ax.axvline(x, color="#212121", ls="--", lw=1.2, zorder=1)
    band = _above(ax, _FEAR_MARK_PT)
    ax.plot(
        [x],
        [1],
        transform=band,
        clip_on=False,
        linestyle="none",
        marker="D",
        markersize=9,
        markerfacecolor=_FEAR_COLOUR[case.fear.level],
        markeredgecolor="#212121",
        zorder=5,
    )
    label = ax.annotate(
        f"fear: {case.fear.level.value}",
        (x, 1),
        xycoords=band,
        xytext=(-8, 0),
        textcoords="offset points",
        ha="right",
        va="center",
        fontsize=8,
        fontweight="bold",
        annotation_clip=False,
        zorder=5,
    )
    return label, False


def _frame(
    ax: Axes,
    case: Case,
    assessment: Assessment,
    y_of: Mapping[str | Behaviour, float],
    labels: Mapping[Behaviour, str],
    limits: tuple[float, float],
    room: tuple[float, float],
) -> None:
    """Title, axes limits, date ticks in the zone of ``assessed_at``, row labels."""
    zone = case.assessed_at.tzinfo
    ax.set_xlim(*limits)
    locator = _DateTicks(zone)
    ax.xaxis.set_major_locator(locator)
    # The label names the year instead of an offset text, which would collide with it.
    ax.xaxis.set_major_formatter(_ConciseDateFormatter(locator, tz=zone, show_offset=False))
    ax.tick_params(axis="x", labelsize=8)
    ax.set_xlabel(
        f"time ({_zone_name(case.assessed_at)}), {_dates_shown(limits, case.assessed_at)}",
        fontsize=9,
    )
    ax.grid(axis="x", color="#EEEEEE", zorder=0)

    rows = list(y_of)
    ax.set_ylim(max(y_of.values(), default=0) + 0.6, _TOP)
    ax.set_yticks([y_of[row] for row in rows])
    texts = [labels.get(row, row) if isinstance(row, Behaviour) else row.upper() for row in rows]
    tick_labels = ax.set_yticklabels(texts)
    for row, label in zip(rows, tick_labels, strict=True):
        label.set_fontsize(8.5)
        if not isinstance(row, Behaviour):
            label.set_fontweight("bold")
            label.set_fontsize(7.5)
            label.set_color(_EVENT_COLOUR if row == _EVENTS_ROW else "#616161")
    for index, row in enumerate(rows):
        if not isinstance(row, Behaviour) and index > 0:
            ax.axhline(y_of[row] - 0.5, color="#BDBDBD", lw=0.8, zorder=1)
    ax.tick_params(axis="y", length=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)

    ax.set_title(
        _title_to_fit(ax, grade_line(assessment), room[0]),
        loc="left",
        fontweight="bold",
        color=_HARM_COLOUR if assessment.urgent else "#212121",
        pad=_TITLE_PAD_PT,
    )

    if not case.contacts:
        ax.text(
            0.5,
            0.4,
            "no contacts recorded",
            transform=ax.transAxes,
            ha="center",
            va="center",
            color="#757575",
            fontsize=10,
        )


def _dates_shown(limits: tuple[float, float], assessed_at: datetime) -> str:
    """What the date ticks leave out: ``2025-06-01``, ``Jun 2025``, ``2025`` or ``2024–2025``."""
    first, last = (_num2date(x).astimezone(assessed_at.tzinfo) for x in limits)
    if first.date() == last.date():
        return f"{first:%Y-%m-%d}"
    if (first.year, first.month) == (last.year, last.month):
        return f"{first:%b %Y}"
    return str(first.year) if first.year == last.year else f"{first.year}–{last.year}"


def _zone_name(moment: datetime) -> str:
    """``Europe/Berlin``, ``UTC`` or ``UTC+01:00``: the zone the axis is drawn in."""
    key = getattr(moment.tzinfo, "key", None)  # a zoneinfo.ZoneInfo knows its IANA name
    name = key if isinstance(key, str) else moment.tzname() or "local time"
    return f"UTC{name}" if name[:1] in "+-" else name


def _legend(
    ax: Axes,
    case: Case,
    assessment: Assessment,
    groups: Mapping[Behaviour, str],
    start: datetime,
    room: tuple[float, float],
) -> None:
    """The key at the right: the case in brief above what each mark means.

    Its columns are chosen so that it is no taller than the rows will be in ``room``.
    """
    handles = _handles(case, assessment, groups)
    summary = _summary(case, assessment, start)
    legend = _key(ax, handles, summary)
    dpi = ax.get_figure(root=True).dpi  # type: ignore[union-attr]
    _, bottom, _, top = _margins(ax, extra=False)
    rows_height = room[1] - (bottom + top) / dpi - 2 * _SLOT_PAD
    height = legend.get_window_extent().height / dpi
    columns = min(math.ceil(height / max(rows_height, 0.1)), len(handles), 3)
    if columns > 1:
        legend.remove()
        _key(ax, handles, summary).set_ncols(columns)


def _handles(case: Case, assessment: Assessment, groups: Mapping[Behaviour, str]) -> list[Any]:
    """One key entry per kind of mark drawn."""
    styles = {_style(code, groups) for contact in case.contacts for code in contact.behaviours}
    handles: list[Any] = []
    for name, (marker, colour) in _STYLE.items():
        if (marker, colour) in styles:
            handles.append(
                Line2D(
                    [],
                    [],
                    linestyle="none",
                    marker=marker,
                    markersize=7,
                    markerfacecolor=colour,
                    markeredgecolor="white" if marker != "X" else colour,
                    label=_STYLE_LABELS[name],
                )
            )
    episode = _episode_text(case, assessment)
    if episode is not None:
        if assessment.threshold.met:
            handles.append(Patch(color="#0072B2", alpha=0.12, label=episode))
        else:
            handles.append(
                Patch(facecolor="none", edgecolor=_SHORT_EPISODE_COLOUR, hatch="///", label=episode)
            )
    kinds = {label for _, label in _boundary_events(case)}
    for kind, mark in _EVENT_MARKS.items():
        if kind in kinds:
            handles.append(Line2D([], [], linestyle="none", markersize=7, label=kind, **mark))
    if "protection order" in kinds:
        handles.append(Line2D([], [], label="protection order in force", **_ORDER_BAR))
    if _breaches(case):
        handles.append(Line2D([], [], linestyle="none", label="order breach", **_BREACH_MARK))
    handles.append(Line2D([], [], color="#212121", ls="--", lw=1.2, label="assessed at"))
    return handles


def _summary(case: Case, assessment: Assessment, start: datetime) -> str:
    """The key's title: when the case was assessed, the fear, the elements, earlier events."""
    fear = case.fear
    elements = assessment.elements
    present = [
        name
        for name, finding in (
            ("pattern", elements.pattern),
            ("threat", elements.threat),
            ("fear", elements.fear),
        )
        if finding.present
    ]
    lines = [
        f"assessed {case.assessed_at:%Y-%m-%d %H:%M}",
        f"fear reported: {fear.level.value}",
        f"family afraid: {'yes' if fear.family_afraid else 'no'}",
        f"elements: {', '.join(present) or 'none'}",
    ]
    zone = case.assessed_at.tzinfo
    for moment, label in sorted(_boundary_events(case)):
        if moment < start:
            lines.append(f"◀ {label} ({moment.astimezone(zone):%Y-%m-%d})")
    return "\n".join(lines)
