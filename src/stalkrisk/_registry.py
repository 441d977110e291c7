"""Rule packs in this process: the bundled default and custom packs, compiled once.

A pack is cached by its content hash, so loading the same pack twice reuses the
engine ruleset instead of registering a duplicate name.  The cache keeps the
bundled pack and the custom packs used most recently, at most
:data:`CACHE_SIZE` of them with at most :data:`CACHE_COMPARISONS` comparisons
in all; the engine ruleset of a pack that falls out is freed, and the pack is
compiled (and its safety floors checked) again if it is used later.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from ._assessment import Assessment
from ._case import Case
from ._compiled import CompiledPack, compile_pack
from ._engine import release_ruleset
from ._evaluate import evaluate
from ._exceptions import EngineError, RulePackError
from ._packmodel import RulePack
from ._rulepack import (
    MAPPING_SOURCE,
    TEXT_SOURCE,
    parse_rule_pack,
    parse_rule_pack_document,
    parse_rule_pack_text,
    parse_with_parameters,
)
from ._safety import check_floors

__all__ = [
    "CACHE_COMPARISONS",
    "CACHE_SIZE",
    "bundled_packs",
    "compiled",
    "default_rule_pack",
    "load_rule_pack",
    "load_rule_pack_text",
    "load_with_parameters",
]

CACHE_SIZE = 32
"""Custom packs kept compiled (the bundled one costs about 0.5 MB)."""
CACHE_COMPARISONS = 20_000
"""Comparisons in all cached custom packs: ten packs at the limit of 2,000, 10 MB each."""

_DEFAULT_FILE = "default.yaml"
_LOCK = threading.Lock()
# The bundled pack, never evicted, and the custom packs, least recently used first.
_PINNED: dict[str, CompiledPack] = {}
_RECENT: OrderedDict[str, CompiledPack] = OrderedDict()
_DEFAULT: list[RulePack] = []
_BUNDLED: list[tuple[RulePack, ...]] = []


def _default_path() -> tuple[Path, str]:
    # Inside an installed wheel the pack ships as stalkrisk/_rules/; in a source
    # checkout (editable install) it is the repository's rules/ folder.
    packaged = resources.files("stalkrisk").joinpath("_rules", _DEFAULT_FILE)
    if packaged.is_file():
        return Path(str(packaged)), f"stalkrisk/_rules/{_DEFAULT_FILE}"
    source = Path(__file__).resolve().parents[2] / "rules" / _DEFAULT_FILE
    if source.is_file():
        return source, f"rules/{_DEFAULT_FILE}"
    raise RulePackError(
        "the bundled rule pack is missing; reinstall stalkrisk",
        file=f"rules/{_DEFAULT_FILE}",
        type="not_found",
    )


def _compile(pack: RulePack) -> CompiledPack:
    """Compile ``pack`` and check its safety floors; every failure is a RulePackError."""
    try:
        compiled_pack = compile_pack(pack)
    except EngineError as error:
        # The pack's limits should leave the engine nothing to refuse.
        raise RulePackError(
            f"the engine refused the pack ({error.msg})",
            file=pack.file,
            field="rules",
            type="engine",
        ) from None

    def probe(case: Case) -> Assessment:
        return evaluate(case, compiled_pack)

    try:
        check_floors(pack, probe)
    except BaseException:
        release_ruleset(compiled_pack.ruleset.name)
        raise
    return compiled_pack


def _register(pack: RulePack, *, pin: bool = False) -> CompiledPack:
    # Every assessment comes here: the bundled pack is found without the lock.
    known = _PINNED.get(pack.sha256)
    if known is not None:
        return known
    with _LOCK:
        known = _PINNED.get(pack.sha256)
        if known is not None:
            return known
        known = _RECENT.get(pack.sha256)
        if known is not None and not pin:
            _RECENT.move_to_end(pack.sha256)  # now the most recently used
            return known
        if known is None:
            known = _compile(pack)
        if pin:
            _RECENT.pop(pack.sha256, None)
            _PINNED[pack.sha256] = known
            return known
        _RECENT[pack.sha256] = known
        # Only a pack just added can push the cache past a bound.
        while len(_RECENT) > CACHE_SIZE or (
            len(_RECENT) > 1
            and sum(c.pack.comparisons for c in _RECENT.values()) > CACHE_COMPARISONS
        ):
            _, evicted = _RECENT.popitem(last=False)
            release_ruleset(evicted.ruleset.name)
        return known


def load_rule_pack(source: str | os.PathLike[str] | Mapping[str, Any]) -> RulePack:
    """Load, validate and compile a rule pack from a file, from text or from data.

    ``source`` is one of:

    - a path (``str`` or ``pathlib.Path``) to a YAML or JSON file (JSON if the name
      ends in ``.json``);
    - a mapping: the parsed document, such as a ``dict`` from ``yaml.safe_load`` or
      from :meth:`RulePack.to_dict`; problems name it ``"<mapping>"``;
    - YAML or JSON text: a ``str`` that holds a line break or starts with ``{``
      (after blanks); problems name it ``"<text>"``.  Any other ``str`` is a path,
      so give one-line text to :meth:`RulePack.from_text`, which also takes a name.

    Every way is validated alike: one :class:`RulePackError` lists every problem
    found (its ``problems``, each with file, rule id, field, a stable ``type`` code
    and a ``suggestion``), including a pack past a limit (docs/rules.md, "Limits")
    and a broken safety floor; nothing else escapes.  Loading the same content
    twice returns the already compiled pack while it is cached (with the ``file``
    of the first load).
    """
    if isinstance(source, Mapping):
        return _register(parse_rule_pack_document(source, file=MAPPING_SOURCE)).pack
    if isinstance(source, str) and _is_text(source):
        return load_rule_pack_text(source)
    if isinstance(source, str | os.PathLike):
        return _register(parse_rule_pack(Path(source))).pack
    wrong = type(source).__name__
    raise TypeError(f"source must be a path, a mapping or YAML/JSON text, got {wrong}")


def _is_text(source: str) -> bool:
    """Whether a ``str`` given to :func:`load_rule_pack` is the pack's text, not a path."""
    return "\n" in source or source.lstrip().startswith("{")


def load_rule_pack_text(text: str, *, name_hint: str | None = None) -> RulePack:
    """:meth:`RulePack.from_text`: the pack in YAML or JSON ``text``, compiled."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    return _register(parse_rule_pack_text(text, name_hint=name_hint or TEXT_SOURCE)).pack


def load_with_parameters(pack: RulePack, values: Mapping[str, Any]) -> RulePack:
    """:meth:`RulePack.with_parameters`: ``pack`` with those parameters changed, compiled."""
    return _register(parse_with_parameters(pack, values)).pack


def default_rule_pack() -> RulePack:
    """The bundled rule pack (``rules/default.yaml``), loaded on first use.

    Its ``file`` is the absolute path of the file it was read from.
    """
    if not _DEFAULT:
        path, _ = _default_path()
        pack = _register(parse_rule_pack(path, display_name=str(path.resolve())), pin=True).pack
        with _LOCK:
            if not _DEFAULT:
                _DEFAULT.append(pack)
    return _DEFAULT[0]


def bundled_packs() -> tuple[RulePack, ...]:
    """Every rule pack shipped with stalkrisk: the default first, then by file name.

    These are the ``*.yaml`` files of the bundled rules folder (``rules/`` in a
    source checkout, ``stalkrisk/_rules/`` in an installed wheel), each loaded,
    validated and compiled once and kept compiled.  Each pack's ``file`` is the
    absolute path of its file.
    """
    if not _BUNDLED:
        default = default_rule_pack()
        folder = _default_path()[0].resolve().parent
        others = sorted(path for path in folder.glob("*.yaml") if path.name != _DEFAULT_FILE)
        packs = (
            default,
            *(_register(parse_rule_pack(path), pin=True).pack for path in others),
        )
        with _LOCK:
            if not _BUNDLED:
                _BUNDLED.append(packs)
    return _BUNDLED[0]


def compiled(pack: RulePack) -> CompiledPack:
    """The compiled form of ``pack`` (compiling and registering it again if new)."""
    return _register(pack)


def known_pack(sha256: str) -> RulePack | None:
    """The registered or bundled pack with this digest, if this process has it."""
    with _LOCK:
        found = _PINNED.get(sha256) or _RECENT.get(sha256)
    if found is not None:
        return found.pack
    return next((pack for pack in bundled_packs() if pack.sha256 == sha256), None)
