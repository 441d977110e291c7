"""The public entry points: assess a case, from models or from JSON."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sized
from contextlib import nullcontext

from ._assessment import Assessment
from ._case import Case, CaseInput, parse_case
from ._collector import collector_paused
from ._evaluate import evaluate
from ._packmodel import RulePack
from ._registry import compiled, default_rule_pack
from ._shield import shielded

__all__ = ["assess", "assess_json"]

# From about this size a case allocates enough objects that the cyclic collector
# runs full collections during the call, re-scanning everything built so far:
# 100,000 contacts took 2.2 times ten 10,000-contact calls with it running.
_LARGE_CONTACTS = 2_000
_LARGE_TEXT = 200 * 1024  # about 2,000 contacts of JSON text


def _large(case: object) -> bool:
    if isinstance(case, str | bytes):
        return len(case) > _LARGE_TEXT
    if isinstance(case, os.PathLike):
        try:
            return os.stat(case).st_size > _LARGE_TEXT
        except OSError:
            return False  # reading it will raise the error
    contacts = case.contacts if isinstance(case, Case) else None
    if isinstance(case, Mapping):
        contacts = case.get("contacts")
    return isinstance(contacts, Sized) and len(contacts) > _LARGE_CONTACTS


def assess(case: CaseInput, *, rule_pack: RulePack | None = None) -> Assessment:
    """Grade and explain one case.

    ``case`` is a :class:`Case`, its JSON (text or bytes), a mapping of its JSON
    or of Python values (``datetime``, ``date``, enum members), or the
    ``pathlib.Path`` of a JSON file.  The
    bundled rule pack is used unless ``rule_pack`` (from
    :func:`load_rule_pack`) is given.  Deterministic: the result depends only
    on the case and the pack, never on the clock.

    Raises :class:`CaseValidationError` for an invalid case and
    :class:`EngineError` if the engine fails (no assessment is returned then).
    """
    # A large case pauses the cyclic collector: what is built is acyclic.
    with collector_paused() if _large(case) else nullcontext():
        valid = parse_case(case)
        result = evaluate(valid, compiled(rule_pack or default_rule_pack()))
        # Freed while the collector is paused: otherwise its first collection
        # on resuming would traverse every contact model built from the text.
        del valid
    return result


def assess_json(
    data: str | bytes, *, rule_pack: RulePack | None = None, indent: int | None = 2
) -> str:
    """Assess a case given as JSON text and return the assessment as JSON text."""
    result = assess(data, rule_pack=rule_pack)
    # pydantic would turn an interrupt raised while it serialises (it calls the
    # enums' Python code) into its own error; shielded, it arrives unchanged.
    return shielded(lambda: result.model_dump_json(indent=indent))
