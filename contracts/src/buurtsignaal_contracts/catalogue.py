"""The event catalogue: every event type this system publishes."""

from __future__ import annotations

import buurtsignaal_contracts.events  # noqa: F401  (registers every event model)
from buurtsignaal_contracts.envelope import EventData, registered_events


def all_events() -> list[type[EventData]]:
    """Every event model, ordered by producing service, then name, then version."""
    return sorted(
        registered_events().values(),
        key=lambda m: (m.service, m.event_name, m.version),
    )


def model_for_type(event_type: str) -> type[EventData]:
    """The model of a CloudEvents ``type``; ``KeyError`` when unknown."""
    return registered_events()[event_type]


def model_for_routing_key(routing_key: str) -> type[EventData]:
    for model in all_events():
        if model.routing_key() == routing_key:
            return model
    raise KeyError(routing_key)
