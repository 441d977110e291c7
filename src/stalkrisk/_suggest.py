""" "Did you mean …?" for a name that is not one of the known names.

The rule-pack loader, the vignette library and the journal importer all use
:func:`closest`; each words its own message around the name it returns.  Only a
known name is ever returned, never the caller's input, so a message built from
it cannot echo free text.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["closest", "did_you_mean"]


def closest(name: object, choices: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """The known name in ``choices`` most like ``name``, or ``None``.

    ``cutoff`` (0 to 1) is how alike they must be, as :func:`difflib.get_close_matches`
    measures it.  Anything that is not text has no close match.
    """
    if not isinstance(name, str):
        return None
    match = difflib.get_close_matches(name, list(choices), n=1, cutoff=cutoff)
    return match[0] if match else None


def did_you_mean(name: object, choices: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """``"did you mean 'x'?"`` for the closest known name ``x``, or ``None``."""
    match = closest(name, choices, cutoff=cutoff)
    return None if match is None else f"did you mean {match!r}?"
