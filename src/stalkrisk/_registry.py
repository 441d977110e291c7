"""Rule packs in this process: the bundled default and custom packs, compiled once.

A pack is cached by its content hash, so loading the same pack twice reuses the
engine ruleset instead of registering a duplicate name.  The cache keeps the
bundled pack and the custom packs used most recently, at most
:data:`CACHE_SIZE` of them with at most :data:`CACHE_COMPARISONS` comparisons
in all; the engine ruleset of a pack that falls out is freed, and the pack is
compiled (and its safety floors checked) again if it is used later.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from importlib import resources
from pathlib import Path

from ._assessment import Assessment
from ._case import Case
from ._compiled import CompiledPack, compile_pack
from ._engine import release_ruleset
from ._evaluate import evaluate
from ._exceptions import EngineError, RulePackError
from ._packmodel import RulePack
from ._rulepack import parse_rule_pack
from ._safety import check_floors

__all__ = ["CACHE_COMPARISONS", "CACHE_SIZE", "compiled", "default_rule_pack", "load_rule_pack"]

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


def load_rule_pack(path: str | Path) -> RulePack:
    """Load, validate and compile a rule pack from a YAML or JSON file.

    Raises one :class:`RulePackError` listing every problem found (its
    ``problems``, each with file, rule id, field, a stable ``type`` code and a
    ``suggestion``), including a pack past a limit (docs/rules.md, "Limits") and
    a broken safety floor; nothing else escapes.  Loading the same content
    twice returns the already compiled pack while it is cached.
    """
    return _register(parse_rule_pack(Path(path))).pack


def default_rule_pack() -> RulePack:
    """The bundled rule pack (``rules/default.yaml``), loaded on first use."""
    if not _DEFAULT:
        path, display = _default_path()
        pack = _register(parse_rule_pack(path, display_name=display), pin=True).pack
        with _LOCK:
            if not _DEFAULT:
                _DEFAULT.append(pack)
    return _DEFAULT[0]


def compiled(pack: RulePack) -> CompiledPack:
    """The compiled form of ``pack`` (compiling and registering it again if new)."""
    return _register(pack)
