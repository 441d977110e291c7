"""Rule packs in this process: the bundled default and custom packs, compiled once.

A pack is cached by its content hash, so loading the same pack twice reuses the
engine ruleset instead of registering a duplicate name.
"""

from __future__ import annotations

import threading
from importlib import resources
from pathlib import Path

from ._assessment import Assessment
from ._case import Case
from ._engine import CompiledRuleset
from ._evaluate import compile_pack, evaluate
from ._exceptions import RulePackError
from ._rulepack import RulePack, parse_rule_pack
from ._safety import check_floors

__all__ = ["compiled", "default_rule_pack", "load_rule_pack"]

_DEFAULT_FILE = "default.yaml"
_LOCK = threading.Lock()
_PACKS: dict[str, tuple[RulePack, CompiledRuleset]] = {}
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
        "the bundled rule pack is missing; reinstall stalkrisk", file=f"rules/{_DEFAULT_FILE}"
    )


def _register(pack: RulePack) -> RulePack:
    with _LOCK:
        known = _PACKS.get(pack.sha256)
        if known is not None:
            return known[0]
        ruleset = compile_pack(pack)

        def probe(case: Case) -> Assessment:
            return evaluate(case, pack, ruleset)

        check_floors(pack, probe)
        _PACKS[pack.sha256] = (pack, ruleset)
        return pack


def load_rule_pack(path: str | Path) -> RulePack:
    """Load, validate and compile a rule pack from a YAML or JSON file.

    Raises :class:`RulePackError` naming the file, rule id and field of the
    first problem, including a broken safety floor.  Loading the same content
    twice returns the already compiled pack.
    """
    return _register(parse_rule_pack(Path(path)))


def default_rule_pack() -> RulePack:
    """The bundled rule pack (``rules/default.yaml``), loaded on first use."""
    if not _DEFAULT:
        path, display = _default_path()
        pack = _register(parse_rule_pack(path, display_name=display))
        with _LOCK:
            if not _DEFAULT:
                _DEFAULT.append(pack)
    return _DEFAULT[0]


def compiled(pack: RulePack) -> tuple[RulePack, CompiledRuleset]:
    """The registered pack and engine ruleset for ``pack`` (registering it if new)."""
    known = _PACKS.get(pack.sha256)
    if known is None:
        _register(pack)
        known = _PACKS[pack.sha256]
    return known
