"""The JSON form: the pydantic model's own dump, versioned by ``schema_version``."""

from __future__ import annotations

from pydantic import BaseModel


def render(report: BaseModel) -> str:
    return report.model_dump_json(indent=2, exclude_none=False) + "\n"


def schema(model: type[BaseModel]) -> str:
    import json

    return json.dumps(model.model_json_schema(mode="serialization"), indent=2) + "\n"
