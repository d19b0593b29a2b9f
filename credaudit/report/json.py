"""The JSON form: the report models' own dump through pydantic, versioned by ``schema_version``.

The models are plain dataclasses (``credaudit.model`` says why); pydantic is imported here, only
for the formats that need it, and a ``TypeAdapter`` per model type gives both the dump and the
JSON Schema, so the two cannot disagree.
"""

from __future__ import annotations

import json
from typing import Any

_ADAPTERS: dict[type[Any], Any] = {}


def _adapter(model: type[Any]) -> Any:
    """One ``TypeAdapter`` per model type: building one costs far more than a dump."""
    adapter = _ADAPTERS.get(model)
    if adapter is None:
        from pydantic import TypeAdapter

        adapter = _ADAPTERS[model] = TypeAdapter(model)
    return adapter


def to_json(obj: Any, *, indent: int | None = None) -> str:
    """Any report model (dataclass or pydantic model) as JSON text."""
    dumped: bytes = _adapter(type(obj)).dump_json(obj, indent=indent)
    return dumped.decode()


def to_jsonable(obj: Any) -> Any:
    """Any report model as plain JSON-ready Python data (for embedding in a larger document)."""
    return _adapter(type(obj)).dump_python(obj, mode="json")


def render(report: Any) -> str:
    return to_json(report, indent=2) + "\n"


def schema(model: type[Any]) -> str:
    return json.dumps(_adapter(model).json_schema(mode="serialization"), indent=2) + "\n"
