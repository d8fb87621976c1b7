"""The committed schemas are current, and no published version was broken."""

import json

from buurtsignaal_contracts.__main__ import incompatibilities, stale_files
from buurtsignaal_contracts.published import SCHEMAS_DIR
from buurtsignaal_contracts.schemas import generated_schemas


def test_every_event_has_a_committed_schema_and_none_is_stale():
    assert stale_files(SCHEMAS_DIR) == [], "run ./dev contracts and commit the result"


def test_no_schema_file_is_left_without_a_model():
    """A published version is never dropped silently: its model must stay."""
    on_disk = {p.name for p in SCHEMAS_DIR.glob("*.json")}
    assert on_disk <= set(generated_schemas())


def test_no_published_version_is_broken():
    assert incompatibilities(SCHEMAS_DIR) == []


def test_schemas_validate_their_own_example_shape():
    schema = json.loads((SCHEMAS_DIR / "signals.signal-received.v1.json").read_text())
    assert schema["properties"]["type"]["const"] == "nl.buurtsignaal.signals.signal-received.v1"
    assert set(schema["required"]) >= {"id", "source", "type", "subject", "time", "data"}
