"""The checker that guards published event versions."""

import copy

import pytest

from buurtsignaal_contracts.compatibility import breaking_changes
from buurtsignaal_contracts.events import CaseOpened
from buurtsignaal_contracts.schemas import event_schema

BASE = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "status": {"$ref": "#/$defs/Status"},
        "count": {"type": "integer", "minimum": 0},
        "note": {"anyOf": [{"type": "string", "pattern": "^[a-z]+$"}, {"type": "null"}]},
        "items": {"type": "array", "items": {"type": "string", "maxLength": 10}},
    },
    "required": ["id", "status"],
    "$defs": {"Status": {"type": "string", "enum": ["open", "closed"]}},
}


def changed(edit):
    schema = copy.deepcopy(BASE)
    edit(schema)
    return schema


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda s: s["properties"].pop("count"), "$.count: field removed"),
        (lambda s: s["required"].append("count"), "$.count: new required field"),
        (lambda s: s["properties"].update(count={"type": "string"}), "integer no longer accepted"),
        (lambda s: s["$defs"]["Status"]["enum"].remove("closed"), "enumeration narrowed"),
        (lambda s: s["properties"].update(note={"type": "string"}), "null no longer accepted"),
        (lambda s: s["properties"]["count"].update(minimum=1), "minimum raised"),
        (lambda s: s["properties"]["items"]["items"].update(maxLength=5), "maxLength lowered"),
        (lambda s: s["properties"]["id"].update(format="date"), "format narrowed"),
        (
            lambda s: s["properties"]["note"]["anyOf"][0].update(pattern="^[a-c]+$"),
            "pattern narrowed",
        ),
    ],
)
def test_breaking_changes_are_found(edit, expected):
    problems = breaking_changes(BASE, changed(edit))
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    "edit",
    [
        lambda s: s["properties"].update(extra={"type": "string"}),
        lambda s: s["$defs"]["Status"]["enum"].append("on-hold"),
        lambda s: s["properties"].update(count={"type": "number", "minimum": 0}),
        lambda s: s["properties"]["count"].pop("minimum"),
        lambda s: s["required"].remove("status"),
        lambda s: s["properties"]["items"]["items"].update(maxLength=20),
        lambda s: s["properties"].update(
            id={"anyOf": [{"type": "string", "format": "uuid"}, {"type": "null"}]}
        ),
    ],
)
def test_compatible_changes_pass(edit):
    assert breaking_changes(BASE, changed(edit)) == []


def test_a_real_event_schema_is_compatible_with_itself_and_not_with_a_removed_field():
    schema = event_schema(CaseOpened)
    assert breaking_changes(schema, schema) == []
    broken = copy.deepcopy(schema)
    del broken["$defs"]["CaseOpened"]["properties"]["team"]
    assert "$.data.team: field removed" in breaking_changes(schema, broken)
