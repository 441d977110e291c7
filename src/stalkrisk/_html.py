"""Notebook display: cases and assessments as self-contained HTML (``_repr_html_``).

Every piece of text that comes from a case or a rule pack is HTML-escaped.
Inline styles only, so the output renders the same in Jupyter, VS Code and
exported HTML.
"""

from __future__ import annotations

from datetime import date
from html import escape
from typing import TYPE_CHECKING

from ._ladder import Level
from ._wording import (
    ELEMENTS,
    OUTRANKED_NOTE,
    URGENT_BANNER,
    behaviour_labels,
    describe_effect,
    format_span,
    group_rules,
    known_ages,
    outranked,
    picture_phrase,
    threshold_definition,
)

if TYPE_CHECKING:
    from ._assessment import Assessment, ElementFinding, FiredRule
    from ._case import Case, Contact
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
_RISK_FLAGS = ("prior_violence", "prior_stalking", "substance_misuse", "weapon_access")


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


def _effect(rule: FiredRule) -> str:
    if rule.level is not None:
        return _badge(rule.level) + (" urgent" if rule.urgent else "")
    return escape(describe_effect(rule.element, rule.level, rule.urgent))


def _rules_table(rules: list[FiredRule], *, reasons: bool) -> str:
    """Fired rules with their reasons and sources, or, when ``reasons`` is false, without."""
    rows = [
        _row("rule", "effect", *(("why", "source") if reasons else ()), "evidence", header=True)
    ]
    for rule in rules:
        why = (escape(rule.rationale), escape(rule.source)) if reasons else ()
        rows.append(
            _row(
                f"<b>{escape(rule.title)}</b><br><code>{escape(rule.id)}</code>",
                _effect(rule),
                *why,
                _ids(rule.evidence),
            )
        )
    return f'<table style="{_TABLE}">' + "".join(rows) + "</table>"


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
        labels = behaviour_labels(a.rule_pack)
        parts.append(
            f"<p>{t.distinct_behaviours} distinct "
            f"({escape(', '.join(labels[code] for code in t.behaviours))}) over "
            f"{escape(format_span(t.span_days))}; contacts {_ids(t.course_of_conduct)}; "
            f"{t.episodes} episode{'s' if t.episodes != 1 else ''} in all.</p>"
        )
    else:
        parts.append("<p>No stalking behaviours recorded.</p>")

    parts.append("<h4>Rules that fired</h4>")
    for heading, rules in group_rules(a.rules_fired):
        parts.append(f"<p><b>{escape(heading)}</b></p>")
        if outranked(rules[0]):
            parts.append(f"<p>{escape(OUTRANKED_NOTE)}</p>")
        parts.append(_rules_table(rules, reasons=not outranked(rules[0])))
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
                f"{escape(item.title.lower())}: {escape(item.condition)} "
                f'<small style="color:#757575">({escape(item.rule_id)})</small></li>'
            )
        parts.append("</ul>")
    parts.append(
        f'<p style="color:#757575"><small>Assessed at {escape(a.assessed_at.isoformat())} with '
        f"rule pack {escape(a.rule_pack.name)} {escape(a.rule_pack.version)} "
        f"(sha256 {escape(a.rule_pack.sha256[:16])}…), stalkrisk "
        f"{escape(a.library_version)}.</small></p></div>"
    )
    return "".join(parts)


def _list(items: tuple[str, ...]) -> str:
    if not items:
        return "—"
    return (
        '<ul style="margin:0;padding-left:16px">'
        + "".join(f"<li>{escape(item)}</li>" for item in items)
        + "</ul>"
    )


def _dates(*pairs: tuple[str, object]) -> list[str]:
    return [
        f"{label} {escape(value.isoformat())}" for label, value in pairs if isinstance(value, date)
    ]


def _client(case: Case) -> str:
    c = case.client
    facts = [f"{escape(c.relationship.value)} client"]
    therapy = _dates(("therapy from", c.therapy_start), ("to", c.therapy_end))
    if therapy:
        facts.append(" ".join(therapy))
    factors = [name.replace("_", " ") for name in _RISK_FLAGS if getattr(c, name)]
    facts.append("risk factors: " + (escape(", ".join(factors)) if factors else "none recorded"))
    if c.motive is not None:
        facts.append(f"motive: {escape(c.motive.value.replace('_', ' '))}")
    if c.clinical_state:
        facts.append("clinical state: " + escape(", ".join(s.value for s in c.clinical_state)))
    if c.protection_order_since is not None:
        order = _dates(("since", c.protection_order_since), ("until", c.protection_order_until))
        facts.append("protection order " + " ".join(order))
    known = [
        f"{name.replace('_', ' ')} {escape(value.isoformat())}"
        for name, value in c.known_since.model_dump().items()
        if value is not None
    ]
    if known:
        facts.append("known since: " + "; ".join(known))
    return "; ".join(facts)


def _boundaries(case: Case) -> str:
    b = case.boundaries
    facts = _dates(("informed-consent agreement", b.agreement_at)) or ["no agreement recorded"]
    warnings = [
        escape(w.at.isoformat()) + (" (supervisor-backed)" if w.supervisor else "")
        for w in b.warnings
    ]
    facts.append("warnings: " + (", ".join(warnings) if warnings else "none"))
    return "; ".join(facts)


def _fear(case: Case) -> str:
    f = case.fear
    text = escape(f.level.value) + ("; family afraid" if f.family_afraid else "")
    reports = [
        f"{escape(r.at.isoformat())} {escape(r.level.value)}"
        + (", family afraid" if r.family_afraid else "")
        for r in sorted(f.reports, key=lambda r: r.at)
    ]
    return text + ("; reports: " + "; ".join(reports) if reports else "")


def _free_text(contact: Contact) -> tuple[str, ...]:
    return (
        escape(contact.location or ""),
        escape(contact.note or ""),
        escape("; ".join(contact.witnesses)),
        escape("; ".join(contact.evidence)),
        escape(contact.response or ""),
    )


def case_html(case: Case, *, show_text: bool = False) -> str:
    """The case: client history, boundaries, fear and a table of contacts.

    The contacts' free text (location, note, witnesses, evidence, response) is
    left out unless ``show_text`` is true, so that a case can be shown to a group;
    when shown it is escaped.
    """
    count = len(case.contacts)
    parts = [
        f'<div style="{_BOX}">',
        f"<b>Case</b>{' ' + escape(case.ref) if case.ref else ''} assessed at "
        f"{escape(case.assessed_at.isoformat())}: {count} contact{'s' if count != 1 else ''}.",
        f'<table style="{_TABLE}">',
        _row("client", _client(case)),
        _row("boundaries", _boundaries(case)),
        _row("fear", _fear(case)),
        "</table>",
    ]
    if case.contacts:
        free = ("location", "note", "witnesses", "evidence", "response") if show_text else ()
        parts.append(f'<table style="{_TABLE}">')
        parts.append(_row("id", "when", "behaviours", "channel", "targets", *free, header=True))
        labels = behaviour_labels()
        for contact in sorted(case.contacts, key=lambda x: (x.at, x.id)):
            flags = [f for f in ("ongoing", "weapon", "specific_threat") if getattr(contact, f)]
            parts.append(
                _row(
                    escape(contact.id),
                    escape(contact.at.isoformat()),
                    escape(", ".join(labels[b] for b in contact.behaviours))
                    + (f" <b>[{escape(', '.join(flags))}]</b>" if flags else ""),
                    escape(contact.channel.value if contact.channel else "—"),
                    escape(", ".join(t.value for t in contact.targets)),
                    *(_free_text(contact) if show_text else ()),
                )
            )
        parts.append("</table>")
        if not show_text:
            parts.append(
                '<p style="color:#757575"><small>Free text (location, note, witnesses, '
                "evidence, response) is hidden; <code>case.to_html(show_text=True)</code> "
                "shows it.</small></p>"
            )
    parts.append("</div>")
    return "".join(parts)


def comparison_html(comparison: Comparison) -> str:
    """A what-if comparison: the grades, the rules that set them, and what changed, in words."""
    c = comparison
    parts = [
        f'<div style="{_BOX}"><b>What if</b>: {_badge(c.before.level)} → {_badge(c.after.level)} '
        f"{escape(c.grade_change())}"
    ]
    if c.before.urgent != c.after.urgent:
        parts.append(f"<br>Urgent: {_yes(c.before.urgent)} → {_yes(c.after.urgent)}")
    parts.append(f'<table style="{_TABLE}">')
    for label, titles in (*c.grade_set_by(), *c.changes()):
        parts.append(_row(escape(label), _list(titles)))
    parts.append("</table></div>")
    return "".join(parts)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"
