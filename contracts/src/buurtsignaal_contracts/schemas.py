"""Generate the JSON Schemas of all events into ``contracts/schemas/``.

One file per event type and version, describing the whole CloudEvent with its
``data``; partners validate against these files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from buurtsignaal_contracts.catalogue import all_events
from buurtsignaal_contracts.envelope import CloudEvent, EventData

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema_file_name(model: type[EventData]) -> str:
    return f"{model.routing_key()}.json"


def event_schema(model: type[EventData]) -> dict[str, Any]:
    """The JSON Schema of a complete CloudEvent carrying ``model``."""
    schema = CloudEvent[model].model_json_schema(ref_template="#/$defs/{model}")  # type: ignore[valid-type]
    properties = schema["properties"]
    properties["type"] = {"const": model.event_type(), "title": "Type", "type": "string"}
    properties["source"] = {"const": model.source(), "title": "Source", "type": "string"}
    properties["dataschema"] = {
        "const": model.schema_uri(),
        "title": "Dataschema",
        "type": "string",
    }
    schema["title"] = model.event_type()
    schema["description"] = _first_paragraph(model.__doc__) or model.event_type()
    return {"$schema": SCHEMA_DIALECT, "$id": model.schema_uri(), **schema}


def render(schema: dict[str, Any]) -> str:
    """Stable text form, so a regenerated file differs only when the schema does."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def generated_schemas() -> dict[str, str]:
    """File name -> file text for every event model."""
    return {schema_file_name(m): render(event_schema(m)) for m in all_events()}


def write_schemas(directory: Path) -> list[str]:
    """Write every schema; remove none (a published version stays published)."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in generated_schemas().items():
        path = directory / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            written.append(name)
    return written


def _first_paragraph(doc: str | None) -> str:
    if not doc:
        return ""
    return " ".join(doc.strip().split("\n\n")[0].split())
