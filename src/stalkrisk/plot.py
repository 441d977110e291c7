"""Draw a case as a timeline, for teaching: what happened when, and how it was graded.

    >>> import stalkrisk
    >>> from stalkrisk import plot
    >>> ax = plot.timeline(stalkrisk.example_case())
    >>> ax.get_title(loc="left")
    'referral — End therapy and refer'

One row per behaviour that occurs, grouped as the rule pack groups them
(stalking, boundary, escalation); one marker per contact and behaviour, with
threats and escalations in red.  The course of conduct the assessment measured
is shaded and labelled with its span; a dashed line marks ``assessed_at``, with
the fear the clinician reported.  The title gives the grade.

Free text (notes, locations, witnesses, evidence, responses) is never drawn:
the plot shows only times, codes, flags and contact ids.

:func:`trajectory` draws the same timeline with the grade over time above it:
the ladder as a step line, one point per step of :func:`stalkrisk.trajectory`.

Requires matplotlib (``pip install 'stalkrisk[plot]'``).  The module never
touches pyplot's global state, so it is safe in threads and on servers without
a display; in a notebook, show the figure with ``ax.figure`` as the last line
of a cell.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

try:
    from matplotlib import dates as mdates
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure, SubFigure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import Formatter, Locator
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
_TOP_BAND: Final = -2.0
"""The y of the plot's top edge: room above the first row for the episode's span."""
_FEAR_COLOUR: Final[Mapping[FearLevel, str]] = {
    FearLevel.NONE: "#FFFFFF",
    FearLevel.SOME: "#F0E442",
    FearLevel.SIGNIFICANT: "#E69F00",
    FearLevel.SEVERE: _HARM_COLOUR,
}
_EVENT_COLOUR: Final = "#6A1B9A"
_MAX_LABELLED_CONTACTS: Final = 40
_EMPTY_DAYS: Final = 7
_NOTEBOOK_DPI: Final = 100
_EVENT_REACH: Final = 0.5
_LADDER_HEIGHT: Final = 2.2
"""The height in inches of the ladder panel of :func:`trajectory`."""
_CROSSING_COLOUR: Final = "#0072B2"
"""Boundary events this far before the first contact (as a share of the contacts' range,
at least a week) widen the plot; older ones are noted at its left edge."""


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
    (the bundled pack by default).  The pack also decides which group each
    behaviour row belongs to.

    ``ax`` is the matplotlib Axes to draw on, for example one panel of a
    figure that compares two cases.  When it is ``None`` a new
    :class:`matplotlib.figure.Figure` is made (sized to the number of rows);
    reach it as ``ax.figure`` to show or save it::

        ax = timeline(case)
        ax.figure.savefig("timeline.png", dpi=150)

    What is drawn:

    - one row per behaviour code that occurs, under bold group headers;
      a marker per contact and behaviour (circles for stalking, squares for
      boundary crossings, red crosses for ``threat`` and escalations), the
      markers of one contact joined by a line and labelled with its id;
    - the contact flags ``weapon``, ``specific threat``, ``ongoing`` and
      ``family`` (the family was targeted) in red under the contact;
    - the episode the threshold was measured on, shaded from its first to
      its last contact and labelled with its span (blue when it is a course
      of conduct, hatched grey when it falls short);
    - boundary warnings, the informed-consent agreement and a protection
      order as dotted lines;
    - ``assessed_at`` as a dashed line, with the fear the clinician reported
      (a marker coloured by level and a text box);
    - the grade in the title (``police · URGENT — Involve the police``).

    Times are shown in the timezone of ``assessed_at``.  Free text from the
    case is never drawn.  Nothing is shown on screen: no ``plt.show()``.
    """
    valid = parse_case(case)
    pack = rule_pack or default_rule_pack()
    result = assessment if assessment is not None else assess(valid, rule_pack=pack)
    rows = _pack_rows(valid, pack)
    if ax is None:
        ax = _NotebookFigure(figsize=(10, _rows_height(rows)), layout="constrained").add_subplot()
    _draw_timeline(ax, valid, result, pack, rows)
    return ax


def _pack_rows(case: Case, pack: RulePack) -> list[str | Behaviour]:
    groups = {spec.code: spec.group for spec in pack.behaviours}
    return _rows(case.contacts, groups, [spec.code for spec in pack.behaviours])


def _rows_height(rows: Sequence[str | Behaviour]) -> float:
    """The height in inches of a timeline with these rows."""
    return 2.6 + 0.34 * len(rows)


def _draw_timeline(
    ax: Axes,
    case: Case,
    assessment: Assessment,
    pack: RulePack,
    rows: Sequence[str | Behaviour],
) -> tuple[float, float]:
    """Draw the whole timeline of ``case`` on ``ax``; returns its x limits."""
    groups = {spec.code: spec.group for spec in pack.behaviours}
    start, end = _x_range(case)
    y_of = {row: index for index, row in enumerate(rows)}
    _draw_contacts(ax, case.contacts, y_of, groups)
    limits = _x_limits(start, end)
    _draw_episode(ax, case, assessment, limits)
    _draw_boundary_events(ax, case, start, limits)
    _draw_assessed(ax, case)
    _frame(ax, case, assessment, rows, limits)
    _legend(ax, case, assessment, groups)
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
      labelled ``threshold met: …`` the step at which the threshold was first
      met (it runs through the timeline below too);
    - below, the case's **timeline**, drawn exactly as :func:`timeline` draws
      it (its rows, markers, episode, boundary events and ``assessed_at``).

    The title, above the ladder, gives the grade at ``assessed_at``.

    ``figure`` is an empty :class:`matplotlib.figure.Figure` or
    :class:`matplotlib.figure.SubFigure` to draw into (make it with
    ``layout="constrained"`` to leave room for the keys at the right).  When it
    is ``None`` a new Figure is made.  The return value is the ladder's
    :class:`matplotlib.axes.Axes`; the timeline is the other Axes of the
    figure::

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
    grid = figure.add_gridspec(2, 1, height_ratios=[_LADDER_HEIGHT, rows_height])
    ladder = figure.add_subplot(grid[0])
    below = figure.add_subplot(grid[1], sharex=ladder)
    limits = _draw_timeline(below, valid, result, pack, rows)
    below.set_title("", loc="left")  # the title goes above the ladder
    _draw_ladder(ladder, steps, limits)
    _draw_crossing(ladder, below, steps, result, limits)
    ladder.set_title(
        grade_line(result),
        loc="left",
        fontweight="bold",
        color=_HARM_COLOUR if result.urgent else "#212121",
    )
    _ladder_legend(ladder, steps)
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
    ax.set_ylim(-0.5, len(Level) - 0.2)
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


def _draw_crossing(
    ladder: Axes,
    below: Axes,
    steps: Trajectory,
    assessment: Assessment,
    limits: tuple[float, float],
) -> None:
    """A vertical line through both panels at the step that first met the threshold."""
    crossing = steps.summary.threshold
    if crossing is None:
        return
    x = _x(crossing.at)
    for ax in (ladder, below):
        ax.axvline(x, color=_CROSSING_COLOUR, ls="-.", lw=1.3, zorder=2, gid="threshold_crossing")
    span = _span_text(crossing.span_days, assessment.threshold.min_span_days)
    text = (
        f"threshold met at {crossing.last_contact}: {span}, "
        f"{_plural(crossing.distinct_behaviours, 'behaviour')}"
    )
    _label_beside(
        ladder, text, (x, len(Level) - 0.5), limits,
        gap=4, size=8, colour=_CROSSING_COLOUR, pad=0.15, zorder=6, gid="threshold_label",
    )  # fmt: skip


def _ladder_legend(ax: Axes, steps: Trajectory) -> None:
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
    if steps.summary.threshold is not None:
        handles.append(
            Line2D([], [], color=_CROSSING_COLOUR, ls="-.", lw=1.3, label="threshold first met")
        )
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=8,
        frameon=False,
        borderaxespad=0,
    )


class _NotebookFigure(Figure):
    """A plain Figure that Jupyter shows as a PNG even when pyplot was never imported."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=_NOTEBOOK_DPI)
        return buffer.getvalue()


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


def _draw_contacts(
    ax: Axes,
    contacts: Sequence[Contact],
    y_of: Mapping[str | Behaviour, int],
    groups: Mapping[Behaviour, str],
) -> None:
    label_ids = len(contacts) <= _MAX_LABELLED_CONTACTS
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
            ax.annotate(
                contact.id,
                (x, ys[0]),
                xytext=(0, 8),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=7,
                color="#616161",
                zorder=4,
            )
        flags = _flags(contact)
        if flags:
            ax.annotate(
                "\n".join(flags),
                (x, ys[-1]),
                xytext=(0, -9),
                textcoords="offset points",
                ha="center",
                va="top",
                fontsize=7,
                fontweight="bold",
                color=_HARM_COLOUR,
                zorder=4,
            )


def _flags(contact: Contact) -> list[str]:
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
    return flags


def _draw_episode(
    ax: Axes, case: Case, assessment: Assessment, limits: tuple[float, float]
) -> None:
    """Shade the measured episode and label its span (above the top row)."""
    threshold = assessment.threshold
    window = _episode_window(case, assessment)
    if window is None:
        return
    start, end = _x(window[0]), _x(window[1])
    span = _span_text(threshold.span_days, threshold.min_span_days)
    behaviours = _plural(threshold.distinct_behaviours, "behaviour")
    if threshold.met:
        ax.axvspan(start, end, color="#0072B2", alpha=0.12, lw=0, zorder=0)
        text = f"course of conduct: {span}, {behaviours}"
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
        text = f"episode: {span}, {behaviours}, below the threshold"
        colour = "#616161"
    y = _TOP_BAND + 1.15
    ax.annotate(
        "",
        xy=(start, y),
        xytext=(end, y),
        arrowprops={"arrowstyle": "<->", "color": colour, "lw": 1.2, "shrinkA": 0, "shrinkB": 0},
        zorder=4,
    )
    # Keep the label inside the plot: start it at the span's end farther from the edge.
    middle = ((start + end) / 2 - limits[0]) / (limits[1] - limits[0])
    x, align = (start, "left") if middle <= 0.5 else (end, "right")
    ax.text(
        x,
        y - 0.12,
        text,
        ha=align,
        va="bottom",
        bbox={"boxstyle": "square,pad=0.15", "facecolor": "white", "edgecolor": "none"},
        fontsize=8.5,
        color=colour,
        gid="course_of_conduct",
        zorder=4,
    )


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


def _draw_boundary_events(
    ax: Axes, case: Case, start: datetime, limits: tuple[float, float]
) -> None:
    """Boundary events as dotted lines, labelled in the free band just above the rows.

    Events before ``start`` (outside the plot) are listed at its left edge instead.
    """
    # Two label heights, alternating, so that events close in time do not overprint.
    heights = (-0.42, -0.12) if case.contacts else (-0.7, -1.0)
    earlier = []
    shown = 0
    for moment, label in sorted(_boundary_events(case)):
        if moment < start:
            day = moment.astimezone(case.assessed_at.tzinfo)
            earlier.append(f"◀ {label} ({day:%Y-%m-%d})")
            continue
        x = _x(moment)
        ax.axvline(x, color=_EVENT_COLOUR, ls=":", lw=1.4, zorder=1)
        _label_beside(
            ax, label, (x, heights[shown % 2]), limits,
            gap=3, size=7.5, colour=_EVENT_COLOUR, pad=0.1, zorder=4,
        )  # fmt: skip
        shown += 1
    if earlier:
        ax.text(
            _x_at_left(limits),
            heights[0] if not shown else heights[1],
            "   ".join(earlier),
            ha="left",
            va="center",
            fontsize=7.5,
            color=_EVENT_COLOUR,
            zorder=4,
        )


def _label_beside(
    ax: Axes,
    text: str,
    at: tuple[float, float],
    limits: tuple[float, float],
    *,
    gap: float,
    size: float,
    colour: str,
    pad: float,
    zorder: float,
    gid: str | None = None,
) -> None:
    """``text`` beside a vertical line at ``at``, on the side facing the middle of the axis.

    A label right of the middle goes to the line's left, so none runs off the figure.
    """
    right_half = (at[0] - limits[0]) / (limits[1] - limits[0]) > 0.5
    ax.annotate(
        text,
        at,
        xytext=(-gap if right_half else gap, 0),
        textcoords="offset points",
        ha="right" if right_half else "left",
        va="center",
        fontsize=size,
        color=colour,
        bbox={"boxstyle": f"square,pad={pad}", "facecolor": "white", "edgecolor": "none"},
        zorder=zorder,
        gid=gid,
    )


def _x_at_left(limits: tuple[float, float]) -> float:
    return limits[0] + (limits[1] - limits[0]) * 0.005


def _draw_assessed(ax: Axes, case: Case) -> None:
    """``assessed_at`` as a dashed line, topped by a diamond coloured by the reported fear."""
    x = _x(case.assessed_at)
    ax.axvline(x, color="#212121", ls="--", lw=1.2, zorder=1)
    y = _TOP_BAND + 0.4
    ax.plot(
        [x],
        [y],
        linestyle="none",
        marker="D",
        markersize=10,
        markerfacecolor=_FEAR_COLOUR[case.fear.level],
        markeredgecolor="#212121",
        zorder=5,
    )
    ax.annotate(
        f"fear: {case.fear.level.value}",
        (x, y),
        xytext=(-9, 0),
        textcoords="offset points",
        ha="right",
        va="center",
        fontsize=8,
        fontweight="bold",
        zorder=5,
    )


def _frame(
    ax: Axes,
    case: Case,
    assessment: Assessment,
    rows: Sequence[str | Behaviour],
    limits: tuple[float, float],
) -> None:
    """Title, axes limits, date ticks in the zone of ``assessed_at``, row labels."""
    ax.set_title(
        grade_line(assessment),
        loc="left",
        fontweight="bold",
        color=_HARM_COLOUR if assessment.urgent else "#212121",
    )

    zone = case.assessed_at.tzinfo
    ax.set_xlim(*limits)
    locator = _AutoDateLocator(tz=zone, minticks=4, maxticks=12)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(_ConciseDateFormatter(locator, tz=zone))
    ax.set_xlabel(f"time ({_zone_name(case.assessed_at)})", fontsize=9)
    ax.grid(axis="x", color="#EEEEEE", zorder=0)

    ax.set_ylim(len(rows) - 0.4, _TOP_BAND)
    ax.set_yticks(range(len(rows)))
    texts = [row.value if isinstance(row, Behaviour) else row.upper() for row in rows]
    labels = ax.set_yticklabels(texts)
    for row, label in zip(rows, labels, strict=True):
        if isinstance(row, Behaviour):
            label.set_fontfamily("monospace")
            label.set_fontsize(8.5)
        else:
            label.set_fontweight("bold")
            label.set_fontsize(8)
            label.set_color("#616161")
    for index, row in enumerate(rows):
        if not isinstance(row, Behaviour) and index > 0:
            ax.axhline(index - 0.5, color="#BDBDBD", lw=0.8, zorder=1)
    ax.tick_params(axis="y", length=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)

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


def _zone_name(moment: datetime) -> str:
    """``Europe/Berlin``, ``UTC`` or ``UTC+01:00``: the zone the axis is drawn in."""
    key = getattr(moment.tzinfo, "key", None)  # a zoneinfo.ZoneInfo knows its IANA name
    name = key if isinstance(key, str) else moment.tzname() or "local time"
    return f"UTC{name}" if name[:1] in "+-" else name


def _legend(ax: Axes, case: Case, assessment: Assessment, groups: Mapping[Behaviour, str]) -> None:
    """A key to the right of the plot, then the case's fear report and assessment time."""
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
                    markersize=8,
                    markerfacecolor=colour,
                    markeredgecolor="white" if marker != "X" else colour,
                    label=_STYLE_LABELS[name],
                )
            )
    threshold = assessment.threshold
    needs = (
        f"≥ {threshold.min_span_days:g} days, "
        f"≥ {_plural(threshold.min_distinct_behaviours, 'behaviour')}"
    )
    if _episode_window(case, assessment) is not None:
        if threshold.met:
            handles.append(
                Patch(color="#0072B2", alpha=0.12, label=f"course of conduct\n({needs})")
            )
        else:
            handles.append(
                Patch(
                    facecolor="none",
                    edgecolor=_SHORT_EPISODE_COLOUR,
                    hatch="///",
                    label=f"episode below the threshold\n({needs})",
                )
            )
    if _boundary_events(case):
        handles.append(Line2D([], [], color=_EVENT_COLOUR, ls=":", lw=1.4, label="boundary event"))
    handles.append(Line2D([], [], color="#212121", ls="--", lw=1.2, label="assessed at"))
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=8,
        frameon=False,
        borderaxespad=0,
    )
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
    ax.text(
        1.01,
        0.0,
        f"assessed {case.assessed_at:%Y-%m-%d %H:%M}\n"
        f"fear reported: {fear.level.value}\n"
        f"family afraid: {'yes' if fear.family_afraid else 'no'}\n"
        f"elements: {', '.join(present) or 'none'}",
        transform=ax.transAxes,
        ha="left",
        va="bottom",
        fontsize=8,
        linespacing=1.5,
        gid="case_box",
        bbox={"boxstyle": "round,pad=0.5", "facecolor": "#FAFAFA", "edgecolor": "#BDBDBD"},
    )
