"""The CloudEvents 1.0 envelope (NL GOV profile) that wraps every event.

Structured content mode: the whole envelope is the JSON body of the AMQP
message. Attribute names follow CloudEvents (lower case, no separators), so
``correlationid`` and ``causationid`` are extension attributes.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, ClassVar, Generic, Literal, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

SPEC_VERSION = "1.0"
DATA_CONTENT_TYPE = "application/json"
# The content type of a structured-mode CloudEvent on the wire.
CLOUDEVENTS_CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"

ServiceName = Literal["signals", "cases", "notifications", "reporting"]

SubjectId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
TraceId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]


class ContractModel(BaseModel):
    """Base of every model in an event: immutable, tolerant of unknown fields.

    Unknown fields are ignored when reading (tolerant reader), so a producer
    may add optional fields without breaking older consumers.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")


class EventData(ContractModel):
    """Base of every event's ``data``.

    A subclass is made an event by the :func:`event` decorator, which gives it
    its service, name, version and the field that is the CloudEvent subject.
    """

    service: ClassVar[ServiceName]
    event_name: ClassVar[str]
    version: ClassVar[int]
    subject_field: ClassVar[str]

    @classmethod
    def event_type(cls) -> str:
        """CloudEvents ``type``: ``nl.buurtsignaal.<service>.<event-name>.v<N>``."""
        return f"nl.buurtsignaal.{cls.service}.{cls.event_name}.v{cls.version}"

    @classmethod
    def routing_key(cls) -> str:
        """AMQP routing key: ``<service>.<event-name>.v<N>``."""
        return f"{cls.service}.{cls.event_name}.v{cls.version}"

    @classmethod
    def source(cls) -> str:
        return f"urn:buurtsignaal:{cls.service}"

    @classmethod
    def schema_uri(cls) -> str:
        return f"urn:buurtsignaal:schema:{cls.routing_key()}"

    def subject(self) -> str:
        return str(getattr(self, self.subject_field))


DataT = TypeVar("DataT", bound=EventData)


class CloudEvent(BaseModel, Generic[DataT]):
    """A CloudEvents 1.0 envelope carrying one event's data."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    specversion: Literal["1.0"] = SPEC_VERSION
    id: uuid.UUID = Field(description="Unique per event; also the AMQP message_id.")
    source: Annotated[str, StringConstraints(pattern=r"^urn:buurtsignaal:[a-z]+$")]
    type: Annotated[str, StringConstraints(pattern=r"^nl\.buurtsignaal\.[a-z]+\.[a-z-]+\.v[0-9]+$")]
    subject: SubjectId = Field(description="The aggregate id; never personal data.")
    time: AwareDatetime
    datacontenttype: Literal["application/json"] = DATA_CONTENT_TYPE
    dataschema: Annotated[str, StringConstraints(pattern=r"^urn:buurtsignaal:schema:[a-z0-9.-]+$")]
    correlationid: TraceId = Field(description="Shared by all events of one business flow.")
    causationid: TraceId | None = Field(
        default=None, description="The id of the event or request that caused this one."
    )
    data: DataT

    def to_json_bytes(self) -> bytes:
        return self.model_dump_json().encode()


_REGISTRY: dict[str, type[EventData]] = {}


EventClassT = TypeVar("EventClassT", bound=type[EventData])


def event(
    service: ServiceName, name: str, version: int, *, subject: str
) -> Callable[[EventClassT], EventClassT]:
    """Class decorator that makes an :class:`EventData` subclass an event."""

    def register(cls: EventClassT) -> EventClassT:
        cls.service = service
        cls.event_name = name
        cls.version = version
        cls.subject_field = subject
        if subject not in cls.model_fields:
            raise TypeError(f"{cls.__name__}: subject field {subject!r} does not exist")
        key = cls.event_type()
        if key in _REGISTRY:
            raise TypeError(f"event type {key} registered twice")
        _REGISTRY[key] = cls
        return cls

    return register


def registered_events() -> dict[str, type[EventData]]:
    """All registered event models by CloudEvents type, in registration order."""
    return dict(_REGISTRY)


def new_event(
    data: DataT,
    *,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    time: datetime | None = None,
    event_id: uuid.UUID | None = None,
) -> CloudEvent[DataT]:
    """Wrap ``data`` in an envelope with a fresh id.

    A flow that starts here (no correlation id given) is correlated by the
    event's own id.
    """
    event_id = event_id or uuid.uuid4()
    return CloudEvent[type(data)](  # type: ignore[misc]
        id=event_id,
        source=data.source(),
        type=data.event_type(),
        subject=data.subject(),
        time=(time or datetime.now(UTC)).astimezone(UTC),
        dataschema=data.schema_uri(),
        correlationid=correlation_id or str(event_id),
        causationid=causation_id,
        data=data,
    )
