"""The bundled example case (a former client, three weeks of calls, aliases and gossip)."""

from __future__ import annotations

from importlib import resources

from ._case import Case, parse_case

__all__ = ["example_case", "example_json"]


def example_json() -> str:
    """The bundled example case as JSON text."""
    return (
        resources.files("stalkrisk")
        .joinpath("examples", "former_client.json")
        .read_text(encoding="utf-8")
    )


def example_case() -> Case:
    """The bundled example case, validated."""
    return parse_case(example_json())
