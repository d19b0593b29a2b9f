"""The JSON form: the report models' own dump through pydantic, versioned by ``schema_version``.

The models are plain dataclasses (``credaudit.model`` says why); pydantic is imported here, only
for the formats that need it, and a ``TypeAdapter`` per model type gives both the dump and the
JSON Schema, so the two cannot disagree.
"""

from __future__ import annotations

import json
import re
from typing import Any

_ADAPTERS: dict[type[Any], Any] = {}
# A surrogate code point on its own: what a JSON string's "\ud800" escape decodes to (a JWT
# claim is attacker-controlled JSON) and what no UTF-8 output can hold.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def escape_surrogates(text: str) -> str:
    """``text`` with each lone surrogate written as its ``\\uXXXX`` escape, so it can be
    written as UTF-8: inside a JSON string that is the JSON escape the value came from (it
    reads back as the same string); in any other format it is shown, not dropped."""
    return _SURROGATE.sub(_escape, text)


def _adapter(model: type[Any]) -> Any:
    """One ``TypeAdapter`` per model type: building one costs far more than a dump."""
    adapter = _ADAPTERS.get(model)
    if adapter is None:
        from pydantic import TypeAdapter

        adapter = _ADAPTERS[model] = TypeAdapter(model)
    return adapter


def to_json(obj: Any, *, indent: int | None = None) -> str:
    """Any report model (dataclass or pydantic model) as JSON text.

    pydantic writes UTF-8 and refuses a lone surrogate; a report holding one (a token's
    claim) is written by ``json`` instead, with that surrogate as its JSON escape."""
    from pydantic_core import PydanticSerializationError

    adapter = _adapter(type(obj))
    try:
        dumped: bytes = adapter.dump_json(obj, indent=indent)
    except PydanticSerializationError:
        data = adapter.dump_python(obj, mode="json")
        return escape_surrogates(json.dumps(data, indent=indent, ensure_ascii=False))
    return dumped.decode()


def to_jsonable(obj: Any) -> Any:
    """Any report model as plain JSON-ready Python data (for embedding in a larger document)."""
    return _adapter(type(obj)).dump_python(obj, mode="json")


def render(report: Any) -> str:
    return to_json(report, indent=2) + "\n"


def schema(model: type[Any]) -> str:
    return json.dumps(_adapter(model).json_schema(mode="serialization"), indent=2) + "\n"
