import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from buurtsignaal_contracts import CloudEvent, all_events, model_for_type, new_event
from buurtsignaal_contracts.codes import AgeBand, Category, SourceType
from buurtsignaal_contracts.events import SignalReceived

REQUIRED_EVENTS = {
    "signal-received",
    "signal-matched",
    "signal-withdrawn",
    "signal-expired",
    "case-opened",
    "case-assigned",
    "case-status-changed",
    "screening-completed",
    "contact-recorded",
    "mayor-letter-requested",
    "mayor-letter-sent",
    "deadline-breached",
    "case-closed",
    "case-reopened",
    "notification-sent",
    "subject-erased",
}


def a_signal() -> SignalReceived:
    return SignalReceived(
        signal_id=uuid.uuid4(),
        person="ps-" + "ab" * 16,
        source_type=SourceType.SCHOOL,
        reporting_org="obs-de-singel",
        category=Category.BEHAVIOUR_AGGRESSION,
        district="oost",
        age_band=AgeBand.AGE_5_TO_11,
        occurred_on=date(2026, 3, 2),
        received_at=datetime(2026, 3, 3, 9, 0, tzinfo=UTC),
    )


def test_catalogue_has_every_required_event_in_version_1():
    names = {m.event_name for m in all_events() if m.version == 1}
    assert names >= REQUIRED_EVENTS


def test_type_routing_key_and_source_follow_the_naming_rules():
    assert SignalReceived.event_type() == "nl.buurtsignaal.signals.signal-received.v1"
    assert SignalReceived.routing_key() == "signals.signal-received.v1"
    assert SignalReceived.source() == "urn:buurtsignaal:signals"
    assert model_for_type("nl.buurtsignaal.signals.signal-received.v1") is SignalReceived


def test_new_event_fills_the_envelope_and_round_trips_through_json():
    data = a_signal()
    local = datetime(2026, 3, 3, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    event = new_event(data, causation_id="req-1", time=local)
    assert event.specversion == "1.0"
    assert event.subject == str(data.signal_id)
    assert event.correlationid == str(event.id), "a new flow is correlated by its first event"
    assert event.time == local and event.time.utcoffset() == timedelta(0)
    parsed = CloudEvent[SignalReceived].model_validate_json(event.to_json_bytes())
    assert parsed == event


def test_unknown_extension_attributes_and_data_fields_are_tolerated():
    data = a_signal()
    body = new_event(data).model_dump(mode="json")
    body["traceparent"] = "00-abc"
    body["data"]["some_future_field"] = 3
    assert CloudEvent[SignalReceived].model_validate(body).data == data


def test_naive_time_and_malformed_type_are_rejected():
    body = new_event(a_signal()).model_dump(mode="json")
    with pytest.raises(ValidationError):
        CloudEvent[SignalReceived].model_validate({**body, "time": "2026-03-03T09:00:00"})
    with pytest.raises(ValidationError):
        CloudEvent[SignalReceived].model_validate({**body, "type": "signal received"})


def test_a_name_cannot_be_put_where_a_pseudonym_or_code_belongs():
    with pytest.raises(ValidationError):
        a_signal().model_validate({**a_signal().model_dump(), "person": "Jan de Vries"})
    with pytest.raises(ValidationError):
        a_signal().model_validate({**a_signal().model_dump(), "district": "Jan de Vries"})
