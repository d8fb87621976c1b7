"""The AsyncAPI document is generated from the code and committed; it must be current."""

from __future__ import annotations

import yaml

from buurtsignaal_contracts import all_events
from buurtsignaal_contracts.published import CONTRACTS_DIR
from servicekit.asyncapi import build_asyncapi, render_asyncapi, service_definitions


def test_the_committed_document_is_what_the_code_generates():
    committed = (CONTRACTS_DIR / "asyncapi.yaml").read_text()
    assert committed == render_asyncapi(build_asyncapi(service_definitions())), (
        "run ./dev contracts"
    )


def test_every_event_has_a_channel_a_producer_and_its_schema_file():
    document = yaml.safe_load((CONTRACTS_DIR / "asyncapi.yaml").read_text())
    for model in all_events():
        key = model.routing_key()
        assert key in document["channels"]
        sender = document["operations"][f"{model.service}.send.{model.event_name}.v{model.version}"]
        assert sender["action"] == "send"
        payload = document["components"]["messages"][key]["payload"]["$ref"]
        assert (CONTRACTS_DIR / payload).exists()


def test_consumers_are_the_handlers_the_services_register():
    document = yaml.safe_load((CONTRACTS_DIR / "asyncapi.yaml").read_text())
    receivers = {k for k, op in document["operations"].items() if op["action"] == "receive"}
    assert "cases.receive.signal-received.v1" in receivers
    assert "notifications.receive.case-opened.v1" in receivers
    assert {"reporting.receive.signal-received.v1", "reporting.receive.case-opened.v1"} <= receivers
