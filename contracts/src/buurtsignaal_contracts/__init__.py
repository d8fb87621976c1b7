"""Event contracts of buurtsignaal: the CloudEvents envelope and the v1 events."""

from buurtsignaal_contracts.catalogue import all_events, model_for_routing_key, model_for_type
from buurtsignaal_contracts.envelope import (
    CLOUDEVENTS_CONTENT_TYPE,
    CloudEvent,
    ContractModel,
    EventData,
    new_event,
)

__all__ = [
    "CLOUDEVENTS_CONTENT_TYPE",
    "CloudEvent",
    "ContractModel",
    "EventData",
    "all_events",
    "model_for_routing_key",
    "model_for_type",
    "new_event",
]
