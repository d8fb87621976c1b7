"""Synthetic events for tests, and publishing them to the real broker as a producer would."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import aio_pika
from aio_pika.abc import AbstractRobustConnection

from buurtsignaal_contracts import CLOUDEVENTS_CONTENT_TYPE, CloudEvent
from buurtsignaal_contracts.codes import AgeBand, Category, Programme, SourceType
from buurtsignaal_contracts.events import CaseOpened, SignalReceived
from servicekit.topology import declare_shared

MOMENT = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)


def a_pseudonym() -> str:
    return "ps-" + uuid.uuid4().hex


def signal_received(**overrides: Any) -> SignalReceived:
    fields: dict[str, Any] = {
        "signal_id": uuid.uuid4(),
        "person": a_pseudonym(),
        "source_type": SourceType.SCHOOL,
        "reporting_org": "obs-de-singel",
        "category": Category.BEHAVIOUR_AGGRESSION,
        "district": "west",
        "age_band": AgeBand.AGE_5_TO_11,
        "occurred_on": date(2026, 11, 2),
        "received_at": MOMENT,
    }
    return SignalReceived(**{**fields, **overrides})


def case_opened(**overrides: Any) -> CaseOpened:
    fields: dict[str, Any] = {
        "case_id": uuid.uuid4(),
        "team": "wot-west",
        "programme": Programme.EARLY_SIGNALLING,
        "district": "west",
        "person": a_pseudonym(),
        "signal_id": uuid.uuid4(),
        "source_type": SourceType.SCHOOL,
        "opened_at": MOMENT,
        "first_signal_at": MOMENT,
    }
    return CaseOpened(**{**fields, **overrides})


async def publish(connection: AbstractRobustConnection, *events: CloudEvent[Any]) -> None:
    """Publish events to the exchange exactly as the outbox relay does (confirmed)."""
    channel = await connection.channel(publisher_confirms=True)
    try:
        exchange = await declare_shared(channel)
        for event in events:
            await exchange.publish(
                aio_pika.Message(
                    event.to_json_bytes(),
                    message_id=str(event.id),
                    type=event.type,
                    content_type=CLOUDEVENTS_CONTENT_TYPE,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=event.data.routing_key(),
            )
    finally:
        await channel.close()
