"""No event can carry free text: every string in every event is constrained.

Names, addresses and descriptions are free text; an event schema whose every
string is an enumeration, a pattern without spaces, a UUID or a date cannot
hold them.
"""

import pytest

from buurtsignaal_contracts import all_events
from buurtsignaal_contracts.schemas import event_schema

ALLOWED_FORMATS = {"uuid", "date", "date-time"}


def unconstrained_strings(node, root, path):
    if "$ref" in node:
        target = root
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        yield from unconstrained_strings(target, root, path)
        return
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in node.get(key, []):
            yield from unconstrained_strings(branch, root, path)
    if node.get("type") == "string":
        constrained = (
            "enum" in node
            or "const" in node
            or node.get("format") in ALLOWED_FORMATS
            or (" " not in node.get("pattern", " ") and "\\s" not in node.get("pattern", ""))
        )
        if not constrained:
            yield path
    for name, child in node.get("properties", {}).items():
        yield from unconstrained_strings(child, root, f"{path}.{name}")
    if "items" in node:
        yield from unconstrained_strings(node["items"], root, f"{path}[]")


@pytest.mark.parametrize("model", all_events(), ids=lambda m: m.routing_key())
def test_every_string_in_the_event_is_constrained(model):
    schema = event_schema(model)
    assert list(unconstrained_strings(schema, schema, "$")) == []
