"""Notebook display: cases and assessments as self-contained HTML (``_repr_html_``).

Every piece of text that comes from a case or a rule pack is HTML-escaped.
Inline styles only, so the output renders the same in Jupyter, VS Code and
exported HTML.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from ._ladder import Level
from ._wording import (
    ELEMENTS,
    URGENT_BANNER,
    format_span,
    group_rules,
    known_ages,
    picture_phrase,
    threshold_definition,
)

if TYPE_CHECKING:
    from ._assessment import Assessment, ElementFinding
    from ._case import Case
    from ._compare import Comparison

__all__ = ["assessment_html", "case_html", "comparison_html"]

COLOURS = {
    Level.NONE: "#9e9e9e",
    Level.REFLECTIVE: "#2e7d32",
    Level.BOUNDARIES: "#9e9d24",
    Level.CONSULTATION: "#f9a825",
    Level.REFERRAL: "#ef6c00",
    Level.POLICE: "#c62828",
}
_BOX = "font-family:system-ui,sans-serif;font-size:13px;line-height:1.4;max-width:860px"
_TABLE = "border-collapse:collapse;margin:4px 0"
_CELL = "border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top"


def _badge(level: Level, *, active: bool = True) -> str:
    colour = COLOURS[level] if active else "#eeeeee"
    text = "#ffffff" if active else "#757575"
    return (
        f'<span style="display:inline-block;padding:2px 8px;margin:1px;border-radius:10px;'
        f'background:{colour};color:{text};font-weight:{"bold" if active else "normal"}">'
        f"{escape(level.value)}</span>"
    )


def _ladder(level: Level) -> str:
    return "".join(_badge(lv, active=lv is level) for lv in Level)


def _ids(ids: tuple[str, ...]) -> str:
    return escape(", ".join(ids)) if ids else "—"


def _row(*cells: str, header: bool = False) -> str:
    tag = "th" if header else "td"
    return "<tr>" + "".join(f'<{tag} style="{_CELL}">{c}</{tag}>' for c in cells) + "</tr>"


def _element(name: str, finding: ElementFinding) -> str:
    mark = "✔ present" if finding.present else "✘ absent"
    colour = "#c62828" if finding.present else "#757575"
    return _row(
        escape(name),
        f'<span style="color:{colour};font-weight:bold">{mark}</span>',
        _ids(finding.evidence),
        _ids(finding.rules),
    )


def assessment_html(a: Assessment) -> str:
    """The whole assessment: ladder badge, urgent banner, elements, threshold, rules, actions."""
    parts = [f'<div style="{_BOX}">']
    if a.urgent:
        parts.append(
            '<div style="background:#c62828;color:#fff;padding:6px 10px;font-weight:bold;'
            f'border-radius:4px;margin-bottom:6px">URGENT: {escape(URGENT_BANNER)}</div>'
        )
    parts.append(
        f'<div style="font-size:16px;margin-bottom:4px">Recommendation: '
        f"{_badge(a.level)} <b>{escape(a.level_title)}</b></div>"
    )
    parts.append(f"<div>{_ladder(a.level)}</div>")
    parts.append(f"<p>The picture {escape(picture_phrase(a))}.</p>")

    parts.append("<h4>Elements of stalking</h4>")
    parts.append(f'<table style="{_TABLE}">')
    parts.append(_row("element", "finding", "evidence (contacts)", "rules", header=True))
    for name in ELEMENTS:
        parts.append(_element(name, getattr(a.elements, name)))
    parts.append("</table>")

    t = a.threshold
    verdict = "met" if t.met else "not met"
    parts.append(f"<h4>Threshold: {escape(threshold_definition(t))} — {verdict}</h4>")
    if t.course_of_conduct:
        parts.append(
            f"<p>{t.distinct_behaviours} distinct ({escape(', '.join(t.behaviours))}) over "
            f"{escape(format_span(t.span_days))}; contacts {_ids(t.course_of_conduct)}; "
            f"{t.episodes} episode{'s' if t.episodes != 1 else ''} in all.</p>"
        )
    else:
        parts.append("<p>No stalking behaviours recorded.</p>")

    parts.append("<h4>Rules that fired</h4>")
    for heading, rules in group_rules(a.rules_fired):
        parts.append(f"<p><b>{escape(heading)}</b></p>")
        parts.append(f'<table style="{_TABLE}">')
        parts.append(_row("rule", "effect", "why", "source", "evidence", header=True))
        for rule in rules:
            if rule.effect == "element":
                effect = f"element {rule.element}"
            elif rule.level is not None:
                effect = _badge(rule.level) + (" urgent" if rule.urgent else "")
            else:
                effect = "note"
            parts.append(
                _row(
                    f"<b>{escape(rule.title)}</b><br><code>{escape(rule.id)}</code>",
                    effect if rule.level is not None else escape(effect),
                    escape(rule.rationale),
                    escape(rule.source),
                    _ids(rule.evidence),
                )
            )
        parts.append("</table>")
    if not a.rules_fired:
        parts.append("<p>No rule fired.</p>")
    known = known_ages(a)
    if known:
        parts.append(f"<h4>How long ago</h4><p>{escape('; '.join(known))}.</p>")

    parts.append("<h4>What to do</h4><ul style='list-style:none;padding-left:4px'>")
    parts.extend(f"<li>☐ {escape(action.text)}</li>" for action in a.actions)
    parts.append("</ul>")
    if a.notes:
        parts.append("<h4>Notes</h4><ul>")
        parts.extend(f"<li>{escape(note)}</li>" for note in a.notes)
        parts.append("</ul>")
    if a.raise_if:
        parts.append("<h4>Would be raised</h4><ul>")
        for item in a.raise_if:
            parts.append(
                f"<li>to {_badge(item.level)}{' urgent' if item.urgent else ''} if "
                f"{escape(item.title.lower())}: <code>{escape(item.condition)}</code></li>"
            )
        parts.append("</ul>")
    parts.append(
        f'<p style="color:#757575"><small>Assessed at {escape(a.assessed_at.isoformat())} with '
        f"rule pack {escape(a.rule_pack.name)} {escape(a.rule_pack.version)} "
        f"(sha256 {escape(a.rule_pack.sha256[:16])}…), stalkrisk "
        f"{escape(a.library_version)}.</small></p></div>"
    )
    return "".join(parts)


def case_html(case: Case) -> str:
    """The case as a summary and a table of contacts (free text escaped)."""
    c = case.client
    fear = case.fear.level.value + (", family afraid" if case.fear.family_afraid else "")
    parts = [
        f'<div style="{_BOX}">',
        f"<b>Case</b> assessed at {escape(case.assessed_at.isoformat())}: "
        f"{escape(c.relationship.value)} client, fear {escape(fear)}, "
        f"{len(case.contacts)} contact{'s' if len(case.contacts) != 1 else ''}.",
    ]
    factors = [
        name.replace("_", " ")
        for name in ("prior_violence", "prior_stalking", "substance_misuse", "weapon_access")
        if getattr(c, name)
    ]
    if factors:
        parts.append(f"<br>Risk factors: {escape(', '.join(factors))}.")
    if c.protection_order_since:
        until = c.protection_order_until
        ending = "" if until is None else f", until {escape(until.isoformat())}"
        parts.append(
            f"<br>Protection order since {escape(c.protection_order_since.isoformat())}{ending}."
        )
    if case.contacts:
        parts.append(f'<table style="{_TABLE}">')
        parts.append(_row("id", "when", "behaviours", "channel", "targets", "note", header=True))
        for contact in sorted(case.contacts, key=lambda x: (x.at, x.id)):
            flags = [f for f in ("ongoing", "weapon", "specific_threat") if getattr(contact, f)]
            parts.append(
                _row(
                    escape(contact.id),
                    escape(contact.at.isoformat()),
                    escape(", ".join(b.value for b in contact.behaviours))
                    + (f" <b>[{escape(', '.join(flags))}]</b>" if flags else ""),
                    escape(contact.channel.value if contact.channel else "—"),
                    escape(", ".join(t.value for t in contact.targets)),
                    escape(contact.note or ""),
                )
            )
        parts.append("</table>")
    parts.append("</div>")
    return "".join(parts)


def comparison_html(comparison: Comparison) -> str:
    """A what-if comparison: grade change and what started or stopped."""
    c = comparison
    arrow = "→"
    parts = [
        f'<div style="{_BOX}"><b>What if</b>: {_badge(c.before.level)} {arrow} '
        f"{_badge(c.after.level)}"
    ]
    if c.before.urgent != c.after.urgent:
        parts.append(f" (urgent {c.before.urgent} {arrow} {c.after.urgent})")
    parts.append(f'<table style="{_TABLE}">')
    for label, values in c.changes():
        parts.append(_row(escape(label), _ids(values)))
    parts.append("</table></div>")
    return "".join(parts)
