"""A strict YAML reader for rule packs: plain data only."""

from __future__ import annotations

from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.resolver import Resolver

__all__ = ["LOADERS", "TooDeep", "load_yaml"]


class TooDeep(yaml.composer.ComposerError):
    """The document nests deeper than the reader allows."""


class _StrictComposer(Composer):
    """A composer that refuses aliases and deep nesting.

    A rule pack never needs aliases; refusing them also rules out recursive
    documents and exponential "billion laughs" expansion.  Composing is
    recursive, so the depth is checked before Python's recursion limit could
    be reached.
    """

    max_depth = 0
    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        mark: Any = self.peek_event().start_mark  # type: ignore[attr-defined]
        if self.check_event(yaml.events.AliasEvent):  # type: ignore[attr-defined]
            raise yaml.composer.ComposerError(
                None, None, "aliases (*name) are not allowed in a rule pack", mark
            )
        if self._depth >= self.max_depth:
            raise TooDeep(None, None, f"nested more than {self.max_depth} levels deep", mark)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _PythonLoader(_StrictComposer, yaml.SafeLoader):
    """PyYAML's own parser."""


# The readers available, fastest first.
LOADERS: list[type[_StrictComposer]] = [_PythonLoader]
try:
    from yaml._yaml import CParser
except ImportError:  # PyYAML built without libyaml: only its own, slower parser
    pass
else:

    class _LibyamlLoader(_StrictComposer, CParser, SafeConstructor, Resolver):
        """libyaml's parser, about four times faster; composing stays in Python, checked."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)
            _StrictComposer.__init__(self)

    LOADERS.insert(0, _LibyamlLoader)


def _construct_mapping(loader: Any, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node)
        if not isinstance(key, str):
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"key {key!r} is not text (YAML reads bare on/off/yes/no as true/false; quote it)",
                key_node.start_mark,
            )
        if key in mapping:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        mapping[key] = loader.construct_object(value_node)
    return mapping


for _loader in LOADERS:
    constructor: Any = _loader
    constructor.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    # Dates stay text: a source such as "2004-01-01" is a citation, not a datetime.
    constructor.add_constructor("tag:yaml.org,2002:timestamp", SafeConstructor.construct_yaml_str)


def load_yaml(text: str, *, max_depth: int, loader: type[_StrictComposer] | None = None) -> Any:
    """Parse ``text`` as plain YAML data: no tags, no aliases, no duplicate keys.

    Raises :class:`TooDeep` if values nest more than ``max_depth`` levels deep
    (the top-level value is level 1).  ``loader`` is one of :data:`LOADERS`,
    by default the first.
    """
    reader: Any = (loader or LOADERS[0])(text)  # type: ignore[call-arg]
    reader.max_depth = max_depth
    try:
        return reader.get_single_data()
    finally:
        reader.dispose()
