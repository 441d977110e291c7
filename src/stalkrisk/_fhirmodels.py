"""The ``fhir.resources`` models behind :mod:`stalkrisk.fhir`, shared by its modules.

``fhir.resources`` (8.x) has R5 models at ``fhir.resources`` and R4B models at
``fhir.resources.R4B``, but no separate R4 ones; ``"R4"`` is validated with the R4B
models.  They are imported on first use, so ``import stalkrisk.fhir`` works without
the ``stalkrisk[fhir]`` extra.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from typing import Any, Final, Literal, get_args

__all__ = ["FhirVersion", "check_choice", "check_version", "model_class", "validated"]

FhirVersion = Literal["R4", "R4B", "R5"]
"""The FHIR versions supported; ``"R4"`` is validated with the R4B models."""

_MODULES: Final[Mapping[str, str]] = {
    "R4": "fhir.resources.R4B",
    "R4B": "fhir.resources.R4B",
    "R5": "fhir.resources",
}
_INSTALL_HINT: Final = (
    "stalkrisk.fhir needs the fhir.resources package; install it with pip install 'stalkrisk[fhir]'"
)


def model_class(version: str, module: str, name: str) -> Any:
    """The ``fhir.resources`` class ``name`` for ``version``, imported on first use."""
    try:
        found = importlib.import_module(f"{_MODULES[version]}.{module}")
    except ImportError as error:
        raise ImportError(_INSTALL_HINT) from error
    return getattr(found, name)


def validated(version: str, module: str, name: str, document: dict[str, Any]) -> dict[str, Any]:
    """``document`` after ``fhir.resources`` accepts it, in FHIR's element order."""
    resource = model_class(version, module, name).model_validate(document)
    result: dict[str, Any] = json.loads(resource.model_dump_json(exclude_none=True))
    return result


def check_choice(value: object, argument: str, choices: tuple[str, ...]) -> None:
    """Raise ValueError naming ``argument`` unless ``value`` is one of ``choices``."""
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{argument} must be one of {listed}, not {value!r}")


def check_version(version: str) -> None:
    check_choice(version, "version", get_args(FhirVersion))
