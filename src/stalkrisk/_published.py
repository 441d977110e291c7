"""The JSON Schema documents the library publishes: their dialect and stable ``$id``s."""

from __future__ import annotations

from typing import Any, ClassVar, Final

__all__ = ["SCHEMA_DIALECT", "PublishedSchema", "schema_id"]

SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
_BASE: Final = "https://stalkrisk.example/schema/"


def schema_id(name: str) -> str:
    """The stable ``$id`` of the published schema ``name`` (``case``, ``rulepack``, …)."""
    return f"{_BASE}{name}.schema.json"


class PublishedSchema:
    """For a model whose JSON Schema is a published document (docs/schema/).

    Listed before the pydantic base, so that ``model_json_schema()`` gains the
    dialect and the ``$id`` at the top only: an ``$id`` on a model nested in
    another schema would change the base its ``$ref``s resolve against.
    """

    schema_name: ClassVar[str]

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        document: dict[str, Any] = super().model_json_schema(*args, **kwargs)  # type: ignore[misc]
        return {"$schema": SCHEMA_DIALECT, "$id": schema_id(cls.schema_name), **document}
