"""Validation problems: pydantic's errors as :class:`Problem` lists, one place for all inputs.

Cases (``_case.py``) and journals (``journal.py``) both report through here, so a
problem's location, type code and message are built the same way everywhere,
and a key that may be clinical text is never named.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from pydantic import ValidationError

from ._exceptions import Problem

__all__ = ["TOO_DEEP", "Retype", "nameable", "problems_from"]

TOO_DEEP = Problem(
    loc="",
    type="too_deep",
    msg="is nested too deeply (about 200 levels or more; a case needs at most 4)",
)


# Errors whose path ends in a key the input chose, not in a field name.
_KEY_ERRORS = frozenset({"extra_forbidden", "invalid_key"})
# A key shaped like an identifier is safe to name in a path; any other key may be
# clinical text pasted in the wrong place.
nameable = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}").fullmatch


Retype = Callable[[str, object], tuple[str, str] | None]
"""Given an error's type and input, a better (type, message) for it, or None."""


def problems_from(error: ValidationError, *, retype: Retype | None = None) -> list[Problem]:
    """``error`` as problems; ``retype`` may refine a type from the input (never shown)."""
    problems = []
    items = error.errors(include_url=False, include_input=retype is not None, include_context=True)
    for item in items:
        if retype is not None:
            better = retype(item["type"], item.get("input"))
            if better is not None:
                item["type"], item["msg"] = better
        parts, msg = item["loc"], item["msg"]
        if item["type"] in _KEY_ERRORS:
            key = parts[-1]
            if not (isinstance(key, str) and nameable(key)):
                # Such a key may be clinical text: say where it is, not what it is.
                parts = parts[:-1]
                msg = "an unknown key" if item["type"] == "extra_forbidden" else msg
        base = ".".join(str(part) for part in parts)
        if item["type"] == "json_invalid" and "recursion limit" in msg:
            problems.append(TOO_DEEP)
        elif item["type"] == "inconsistent":
            for loc, detail in item.get("ctx", {}).get("problems", ()):
                full = f"{base}.{loc}" if base else loc
                problems.append(Problem(loc=full, type="inconsistent", msg=detail))
        else:
            problems.append(Problem(loc=base, type=item["type"], msg=msg))
    # pydantic drops an invalid item and then also reports the list as too short;
    # the item's own error is the one that helps.
    return [
        p
        for p in problems
        if p.type != "too_short"
        or not any(q.loc.startswith(p.loc + ".") for q in problems if q is not p)
    ]
